/*
 * prompt: reading one line typed at a prompt the daemon shows itself,
 * as "passwd" does over ssh.  tandemd is the terminal's only reader
 * there (the client's tty is raw under ssh -t), so it does the line
 * editing a tty would: erase, kill line, interrupt, end of file.
 * Nothing is echoed.  Piped input (ssh without -t) ends lines with
 * "\n"; a terminal sends "\r".  Pure logic, no I/O.
 */
#ifndef TANDEM_PROMPT_H
#define TANDEM_PROMPT_H

#include <stddef.h>

#define PROMPT_MAX	256	/* bytes of one line */

enum prompt_event {
	PROMPT_MORE,		/* all bytes taken, no line yet */
	PROMPT_LINE,		/* a line is in p->line */
	PROMPT_ABORT,		/* ^C, or ^D on an empty line */
};

struct prompt {
	char	 line[PROMPT_MAX + 1];
	size_t	 len;
	int	 too_long;	/* bytes past PROMPT_MAX were dropped */
	int	 after_cr;	/* a "\n" right after "\r" ends nothing */
};

void			 prompt_init(struct prompt *);
enum prompt_event	 prompt_feed(struct prompt *, const char *, size_t,
			    size_t *);
void			 prompt_clear(struct prompt *);

#endif
