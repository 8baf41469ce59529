/*
 * vtscan: reading a program's terminal output without a terminal model.
 *
 * Two jobs that must cost far less than libvterm, which manages a few
 * MB/s on scrolling text where a PTY delivers tens:
 *
 * - Track where the stream is (between characters and sequences, or in
 *   the middle of one), so that tandem's own bytes (the owner's window
 *   title) can go into the owner's raw stream at a boundary.
 *
 * - Feed a backlog to the screen model while skipping what cannot change
 *   the screen it ends up with: in a run of plain text (printable
 *   characters, CR, LF, TAB, BS, BEL and SGR colour sequences), every
 *   row written before the last 2 * rows + 2 newlines of the run has
 *   scrolled away by its end.  The skipped part's SGR sequences are fed
 *   (they set the pen the rest is drawn with); its lines never reach the
 *   scrollback.  No skip may happen while a partial scroll region is
 *   set (the sink says): a cursor below such a region writes over the
 *   same row without scrolling, and there what came before shows.
 */
#ifndef TANDEM_VTSCAN_H
#define TANDEM_VTSCAN_H

#include <stddef.h>
#include <stdint.h>

#define VTSCAN_SKIP_MIN	4096	/* smaller skips are not worth a piece */

struct vtscan {
	uint8_t		 state;		/* ground, escape, CSI, string... */
	uint8_t		 utf8;		/* continuation bytes still due */
};

/* Where vtscan_feed_skipping sends the bytes to feed.  may_skip is
 * asked before each skip, with everything before it fed: 0 keeps the
 * run whole (a partial scroll region is set by then). */
struct vtscan_sink {
	void	 (*feed)(void *, const char *, size_t);
	int	 (*may_skip)(void *);
	void	*ctx;
};

void	 vtscan_init(struct vtscan *);
void	 vtscan_run(struct vtscan *, const char *, size_t);
int	 vtscan_at_boundary(const struct vtscan *);
size_t	 vtscan_feed_skipping(const struct vtscan *, const char *, size_t,
	    int, const struct vtscan_sink *);

#endif
