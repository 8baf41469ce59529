/*
 * screen: the server's model of one terminal, kept by libvterm.
 *
 * Every byte a session's PTY produces is fed here, so that tandem always
 * knows what the terminal shows: text, colours, cursor, alternate screen,
 * title and the input modes the program has set.  From that model it
 * renders escape-sequence streams: a full repaint that makes any terminal
 * show the current screen (used on attach, resize and resync), and diff
 * frames against what a given client last received.
 *
 * libvterm pitfalls handled here (notes/libraries.md): input goes in
 * pieces of at most 64 KiB, and an incomplete trailing UTF-8 sequence is
 * held back until the next feed, as is an unterminated OSC/DCS string of
 * up to 4 KiB (libvterm 0.1.4 drops one that is split between writes).
 */
#ifndef TANDEM_SCREEN_H
#define TANDEM_SCREEN_H

#include <stddef.h>

#include "buf.h"

#define SCREEN_MAX_COLS	1000
#define SCREEN_MAX_ROWS	400
#define SCREEN_MAX_SCROLLBACK	100000	/* lines; larger requests are clamped */

struct screen;
struct screen_frame;

struct screen	*screen_new(int rows, int cols, size_t scrollback);
void		 screen_free(struct screen *);
void		 screen_feed(struct screen *, const char *, size_t);
int		 screen_resize(struct screen *, int rows, int cols);
void		 screen_size(const struct screen *, int *rows, int *cols);
void		 screen_cursor(const struct screen *, int *row, int *col,
		    int *visible);
const char	*screen_title(const struct screen *);
int		 screen_altscreen(const struct screen *);
int		 screen_row_text(const struct screen *, int, struct buf *);
int		 screen_region_partial(const struct screen *);

int		 screen_render_full(struct screen *, struct buf *, int);
int		 screen_render_modes(const struct screen *, struct buf *);
int		 screen_render_reset(struct buf *);

struct screen_frame *screen_frame_new(void);
void		 screen_frame_free(struct screen_frame *);
int		 screen_render_frame(struct screen *, struct screen_frame *,
		    struct buf *);

#endif
