/*
 * cmdline: word splitting and option parsing for command lines that
 * arrive over the network (cmdline.h).  Both functions are total: any
 * byte string or argv gets either a result or a short English error,
 * never a crash.  Only cmdline_split allocates (the words and their
 * array); cmdline_parse reorders argv in place instead.  No shell
 * ever sees these words, so ; | $ and the like are ordinary characters;
 * quoting exists only so that a label can hold spaces.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"

enum split_state {
	SPLIT_PLAIN,	/* outside quotes */
	SPLIT_SINGLE,	/* inside '...' */
	SPLIT_DOUBLE,	/* inside "..." */
};

struct split {
	char	**argv;
	int	  argc;
	char	 *word;		/* the word being built, len + 1 bytes */
	size_t	  wlen;
	int	  in_word;	/* a word has started, even if empty ("") */
};

void
cmdline_free(char **argv, int argc)
{
	int	 i;

	if (argv == NULL)
		return;
	for (i = 0; i < argc && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

static const char *
split_check(const char *line, size_t len)
{
	size_t	 i;

	if (len > CMDLINE_MAX_LEN)
		return "command line too long";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == '\0')
			return "NUL byte in command line";
		if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
			return "control character in command line";
	}
	return NULL;
}

static const char *
split_end_word(struct split *s)
{
	char	*w;

	if (!s->in_word)
		return NULL;
	if (s->argc == CMDLINE_MAX_ARGS)
		return "too many words in command line";
	if ((w = malloc(s->wlen + 1)) == NULL)
		return "out of memory";
	memcpy(w, s->word, s->wlen);
	w[s->wlen] = '\0';
	s->argv[s->argc++] = w;
	s->wlen = 0;
	s->in_word = 0;
	return NULL;
}

static int
split_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* Inside double quotes a backslash escapes only these, as in sh(1). */
static int
split_dquote_escapable(char c)
{
	return c == '"' || c == '\\' || c == '$' || c == '`';
}

/* Walk the line once; every word is at most len bytes long. */
static const char *
split_words(struct split *s, const char *line, size_t len)
{
	enum split_state	 state = SPLIT_PLAIN;
	const char		*e;
	size_t			 i;
	char			 c;

	for (i = 0; i < len; i++) {
		c = line[i];
		if (state == SPLIT_SINGLE) {
			if (c == '\'')
				state = SPLIT_PLAIN;
			else
				s->word[s->wlen++] = c;
		} else if (state == SPLIT_DOUBLE) {
			if (c == '"')
				state = SPLIT_PLAIN;
			else if (c == '\\' && i + 1 < len &&
			    split_dquote_escapable(line[i + 1]))
				s->word[s->wlen++] = line[++i];
			else
				s->word[s->wlen++] = c;
		} else if (split_is_space(c)) {
			if ((e = split_end_word(s)) != NULL)
				return e;
		} else {
			s->in_word = 1;
			if (c == '\'')
				state = SPLIT_SINGLE;
			else if (c == '"')
				state = SPLIT_DOUBLE;
			else if (c != '\\')
				s->word[s->wlen++] = c;
			else if (i + 1 == len)
				return "trailing backslash in command line";
			else
				s->word[s->wlen++] = line[++i];
		}
	}
	if (state != SPLIT_PLAIN)
		return "unterminated quote in command line";
	if ((e = split_end_word(s)) != NULL)
		return e;
	if (s->argc == 0)
		return "empty command line";
	return NULL;
}

int
cmdline_split(const char *line, size_t len, char ***argvp, int *argcp,
    const char **errmsg)
{
	struct split	 s;
	const char	*e;

	*argvp = NULL;
	*argcp = 0;
	memset(&s, 0, sizeof s);
	if (line == NULL) {
		line = "";
		len = 0;
	}
	if ((e = split_check(line, len)) != NULL)
		goto fail;
	s.argv = calloc(CMDLINE_MAX_ARGS + 1, sizeof *s.argv);
	s.word = malloc(len + 1);
	if (s.argv == NULL || s.word == NULL) {
		e = "out of memory";
		goto fail;
	}
	if ((e = split_words(&s, line, len)) != NULL)
		goto fail;
	free(s.word);
	*argvp = s.argv;
	*argcp = s.argc;
	return 0;

fail:
	free(s.word);
	cmdline_free(s.argv, s.argc);
	if (errmsg != NULL)
		*errmsg = e;
	return -1;
}

static void
parse_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
parse_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * An option as the user spelled it, for an error message: at most len
 * bytes of it, control characters shown as '?' so that the message is
 * safe to print and log, long ones cut short.
 */
static const char *
parse_quote(const char *s, size_t len, char *out, size_t outlen)
{
	size_t	 i, max = outlen - 4;

	for (i = 0; i < len && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i == max) {
			memcpy(out + i, "...", 3);
			i += 3;
			break;
		}
		out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[i] = '\0';
	return out;
}

struct parse {
	int				 argc;
	char				**argv;
	const struct cmdline_opt	*opts;
	size_t				 nopts;
	struct cmdline_parsed		*out;
	char				*err;
	size_t				 errlen;
	int				 i;	/* current argv index */
};

/*
 * Record option n, spelled as the first len bytes of spell.  value is
 * the attached value ("--x=v", "-xv") or NULL, in which case an option
 * that needs one takes the next argument.
 */
static int
parse_store(struct parse *p, size_t n, const char *spell, size_t len,
    const char *value, int attached)
{
	char	 q[80];

	parse_quote(spell, len, q, sizeof q);
	if (p->out->present[n]) {
		parse_error(p->err, p->errlen, "option '%s' given twice", q);
		return -1;
	}
	if (!p->opts[n].takes_value && attached) {
		parse_error(p->err, p->errlen, "option '%s' takes no value", q);
		return -1;
	}
	if (p->opts[n].takes_value && !attached) {
		if (p->i + 1 >= p->argc || p->argv[p->i + 1] == NULL) {
			parse_error(p->err, p->errlen,
			    "option '%s' needs a value", q);
			return -1;
		}
		value = p->argv[++p->i];
	}
	p->out->present[n] = 1;
	p->out->value[n] = value;
	return 0;
}

/* "--name", "--name=value" or "--name value"; arg starts with "--". */
static int
parse_long(struct parse *p, const char *arg)
{
	const char	*name = arg + 2, *eq;
	size_t		 n, len;
	char		 q[80];

	eq = strchr(name, '=');
	len = eq ? (size_t)(eq - name) : strlen(name);
	for (n = 0; len > 0 && n < p->nopts; n++) {
		if (p->opts[n].name != NULL &&
		    strlen(p->opts[n].name) == len &&
		    strncmp(p->opts[n].name, name, len) == 0)
			return parse_store(p, n, arg, len + 2,
			    eq ? eq + 1 : NULL, eq != NULL);
	}
	/* "--=x" names nothing; show all of it rather than a bare "--". */
	parse_quote(arg, len == 0 ? strlen(arg) : len + 2, q, sizeof q);
	parse_error(p->err, p->errlen, "unknown option '%s'", q);
	return -1;
}

static int
parse_unknown_short(struct parse *p, const char *arg, char c)
{
	char	 q[80];

	/* A byte of a UTF-8 character means nothing alone: show the word. */
	if ((unsigned char)c >= 0x80)
		parse_quote(arg, strlen(arg), q, sizeof q);
	else
		snprintf(q, sizeof q, "-%c", (c < 0x20 || c == 0x7f) ? '?' : c);
	parse_error(p->err, p->errlen, "unknown option '%s'", q);
	return -1;
}

/* "-a", "-ab" (flags), "-x value" or "-xvalue"; arg starts with '-'. */
static int
parse_short(struct parse *p, const char *arg)
{
	const char	*c;
	char		 spell[3];
	size_t		 n;

	for (c = arg + 1; *c != '\0'; c++) {
		for (n = 0; n < p->nopts; n++) {
			if (p->opts[n].short_name != 0 &&
			    p->opts[n].short_name == *c)
				break;
		}
		if (n == p->nopts)
			return parse_unknown_short(p, arg, *c);
		spell[0] = '-';
		spell[1] = *c;
		spell[2] = '\0';
		if (p->opts[n].takes_value)
			return parse_store(p, n, spell, 2,
			    c[1] != '\0' ? c + 1 : NULL, c[1] != '\0');
		if (parse_store(p, n, spell, 2, NULL, 0) != 0)
			return -1;
	}
	return 0;
}

/*
 * Move argv[i] down to argv[w], shifting the option words between them
 * up by one: a permutation, so the caller can still free every word.
 */
static void
parse_move(char **argv, int w, int i)
{
	char	*word = argv[i];

	memmove(argv + w + 1, argv + w, (size_t)(i - w) * sizeof *argv);
	argv[w] = word;
}

/*
 * GNU-style parsing: options may follow positional words.  To hand back
 * the positional words without allocating, argv[1..] is reordered so
 * that they come first, in their original order; parsed->pos is
 * argv + 1.  Option values point at the words themselves, which do not
 * move.
 */
int
cmdline_parse(int argc, char **argv, const struct cmdline_opt *opts,
    size_t nopts, struct cmdline_parsed *parsed, char *err, size_t errlen)
{
	struct parse	 p;
	const char	*arg;
	int		 w = 1, only_pos = 0;

	memset(parsed, 0, sizeof *parsed);
	if (argc < 1 || argv == NULL) {
		parse_error(err, errlen, "empty command line");
		return -1;
	}
	if (nopts > CMDLINE_MAX_OPTS) {
		parse_error(err, errlen, "too many options (at most %d)",
		    CMDLINE_MAX_OPTS);
		return -1;
	}
	if (opts == NULL)
		nopts = 0;
	memset(&p, 0, sizeof p);
	p.argc = argc;
	p.argv = argv;
	p.opts = opts;
	p.nopts = nopts;
	p.out = parsed;
	p.err = err;
	p.errlen = errlen;

	for (p.i = 1; p.i < argc; p.i++) {
		if ((arg = argv[p.i]) == NULL)
			break;
		if (only_pos || arg[0] != '-' || arg[1] == '\0')
			parse_move(argv, w++, p.i);
		else if (strcmp(arg, "--") == 0)
			only_pos = 1;
		else if (arg[1] == '-' && parse_long(&p, arg) != 0)
			return -1;
		else if (arg[1] != '-' && parse_short(&p, arg) != 0)
			return -1;
	}
	parsed->pos = argv + 1;
	parsed->npos = w - 1;
	return 0;
}
