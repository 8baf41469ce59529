/*
 * cmdline: pure parsers for command lines that arrive over the network
 * (an SSH exec request) or from the tandem client.  cmdline_split turns
 * one string into words with shell-like quoting; cmdline_parse matches
 * words against a command's option table.  Neither touches the daemon,
 * so unit tests and fuzzers call them directly.
 */
#ifndef TANDEM_CMDLINE_H
#define TANDEM_CMDLINE_H

#include <stddef.h>

#define CMDLINE_MAX_LEN		4096	/* bytes in one exec request */
#define CMDLINE_MAX_ARGS	64
#define CMDLINE_MAX_OPTS	16

struct cmdline_opt {
	const char	*name;		/* long name without "--": "json" */
	char		 short_name;	/* 'j', or 0 */
	int		 takes_value;
};

struct cmdline_parsed {
	int		 present[CMDLINE_MAX_OPTS];	/* indexed like the table */
	const char	*value[CMDLINE_MAX_OPTS];	/* points into argv */
	char		**pos;				/* positional words */
	int		 npos;
};

/*
 * cmdline_split(line, len, &argv, &argc, &errmsg): 0 with a malloc'd,
 * NULL-terminated argv for cmdline_free(), or -1 with argv NULL and a
 * static message.  cmdline_parse(argc, argv, ...): argv[0] is skipped;
 * on success the positional words are moved, in order, to the front of
 * argv[1..] (options may come after them, GNU style): parsed->pos is
 * argv + 1 and parsed->npos counts them.  argv is only reordered, so
 * cmdline_free() still frees every word.  Returns -1 with a message in
 * err for an unknown, repeated or malformed option.
 */
int	 cmdline_split(const char *, size_t, char ***, int *, const char **);
void	 cmdline_free(char **, int);
int	 cmdline_parse(int, char **, const struct cmdline_opt *, size_t,
	    struct cmdline_parsed *, char *, size_t);

#endif
