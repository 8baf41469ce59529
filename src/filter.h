/*
 * filter: what a read_write viewer types is passed to the PTY only after
 * the replies its terminal sends on its own are taken out.
 *
 * A viewer's terminal answers queries (cursor position, device
 * attributes, colours, window size) just as the owner's does.  Those
 * answers must never reach the program: it asked once and the owner's
 * terminal answered; a second answer turns into stray text such as
 * "11;rgb:1e1e/1e1e/1e1e" typed into the owner's shell, a bug class
 * known from other sharing tools.  Keystrokes, pastes and mouse reports
 * go through unchanged.
 *
 * The filter is a pure state machine so that a reply split across two
 * reads is still recognised, and unit tests can drive it directly.
 */
#ifndef TANDEM_FILTER_H
#define TANDEM_FILTER_H

#include <stddef.h>

#include "buf.h"

#define FILTER_PENDING_MAX	512

struct input_filter {
	char	 pending[FILTER_PENDING_MAX];
	size_t	 npending;
	size_t	 dropped;	/* replies removed so far */
};

void	 input_filter_init(struct input_filter *);
int	 input_filter_run(struct input_filter *, const char *, size_t,
	    struct buf *);

#endif
