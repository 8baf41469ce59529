/*
 * screen: the libvterm model of one session's terminal and the renderer
 * that turns it into escape sequences for clients, see screen.h.
 *
 * libvterm 0.1.4 does not expose the input modes a program sets (cursor
 * keys, keypad, bracketed paste, mouse), so a small parser that mirrors
 * libvterm's own runs over the same bytes and tracks them.  Rendering
 * never replays raw bytes: it reads cells back from libvterm into our own
 * compact array once per pass and paints from that, so a client always
 * ends on the visible screen whatever state its terminal was in.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vterm.h>

#include "buf.h"
#include "screen.h"

#define FEED_MAX	65536		/* libvterm stack grows with a write */
#define CELL_CONT	((uint32_t)-1)	/* right half of a wide glyph */
#define CSI_NPARAM	16
#define TITLE_MAX	1024		/* bytes of title sent to clients */
#define HOLD_MAX	4096		/* longest OSC/DCS kept whole */

#define COLOR_INDEXED	0x01000000u
#define COLOR_RGB	0x02000000u

#define ATTR_BOLD	0x0001
#define ATTR_UL_SHIFT	1		/* 2 bits: off, single, double, curly */
#define ATTR_UL_MASK	0x0006
#define ATTR_ITALIC	0x0008
#define ATTR_BLINK	0x0010
#define ATTR_REVERSE	0x0020
#define ATTR_STRIKE	0x0040
#define ATTR_FONT_SHIFT	7		/* four bits: font 0-9 */
#define ATTR_FONT_MASK	0x0780

#define LINE_DWL	0x01
#define LINE_DHL_SHIFT	1		/* two bits: 1 top, 2 bottom */

/*
 * One cell as rendered.  Unused chars are zero and there is no padding,
 * so two cells are equal exactly when memcmp says so.
 */
struct cell {
	uint32_t	ch[VTERM_MAX_CHARS_PER_CELL];
	uint32_t	fg;		/* 0 default, COLOR_* | value */
	uint32_t	bg;
	uint16_t	attr;		/* ATTR_*, reverse without DECSCNM */
	uint8_t		width;
	uint8_t		line;		/* LINE_* of the row */
};

struct pen {
	uint32_t	fg;
	uint32_t	bg;
	uint16_t	attr;
};

enum mouse_mode { MOUSE_OFF, MOUSE_X10, MOUSE_CLICK, MOUSE_DRAG, MOUSE_MOVE };
enum mouse_enc { MENC_X10, MENC_UTF8, MENC_SGR, MENC_URXVT };

struct modes {
	uint8_t		ckm;		/* ?1 application cursor keys */
	uint8_t		keypad;		/* ESC = application keypad */
	uint8_t		paste;		/* ?2004 bracketed paste */
	uint8_t		mouse;		/* enum mouse_mode */
	uint8_t		menc;		/* enum mouse_enc */
	uint8_t		autowrap;	/* ?7 */
	uint8_t		insert;		/* 4 IRM */
};

enum scan_state {
	SCAN_GROUND,
	SCAN_ESC,
	SCAN_CSI_LEADER,
	SCAN_CSI_PARAM,
	SCAN_CSI_INTER,
	SCAN_STR,
	SCAN_STR_ESC,
};

/*
 * The mode scanner keeps its whole state here so that a sequence split
 * across feeds (or read one byte at a time) is seen exactly once.
 */
struct scanner {
	uint8_t		state;		/* enum scan_state */
	uint8_t		leader;		/* CSI private marker, 0xff: several */
	uint8_t		inter;		/* first intermediate, 0 if none */
	uint8_t		ninter;
	uint8_t		nparam;
	uint16_t	subbits;	/* bit per param: follows a ':' */
	int		param[CSI_NPARAM];	/* -1 missing */
};

struct sbline {
	size_t		cap;		/* cells allocated */
	size_t		n;		/* cells used, blank tail cut */
	struct cell	cells[];
};

struct screen {
	VTerm		*vt;
	VTermScreen	*vs;
	VTermState	*state;
	int		 rows;
	int		 cols;

	/* Properties libvterm reports through settermprop. */
	int		 cursor_visible;
	int		 cursor_blink;
	int		 cursor_shape;
	int		 altscreen;
	int		 reverse;
	char		*title;

	struct modes	 modes;
	struct scanner	 scan;
	int		 region_partial;	/* DECSTBM short of the screen */

	/* Input not yet given to libvterm, and room to join it to more. */
	char		 hold[2 * HOLD_MAX];
	size_t		 nhold;

	struct sbline	**sb;		/* ring, oldest at sbfirst */
	size_t		 sbmax;
	size_t		 sbfirst;
	size_t		 sbcount;

	/* Cells read back from libvterm, valid until the next feed. */
	struct cell	*snap;
	int		 snapvalid;
};

struct screen_frame {
	int		 rows;		/* 0: nothing sent yet */
	int		 cols;
	struct cell	*cells;
	size_t		 cap;
	int		 crow;
	int		 ccol;
	int		 cvisible;
	int		 cshape;	/* DECSCUSR value */
	int		 reverse;
	char		*title;
	struct modes	 modes;
	struct pen	 pen;		/* the client's SGR state */
};

/*
 * Output goes through a small staging area so that the hot path appends
 * bytes with plain stores; allocation failure is latched in err.
 */
struct render {
	struct buf	*out;
	size_t		 used0;
	int		 err;
	int		 row;		/* client cursor, -1 unknown */
	int		 col;
	int		 penknown;
	struct pen	 pen;
	size_t		 n;
	char		 tmp[4096];
};

static const struct modes default_modes = {
	0, 0, 0, MOUSE_OFF, MENC_X10, 1, 0
};

/* --- output helpers ------------------------------------------------- */

static void
render_init(struct render *r, struct buf *out)
{
	r->out = out;
	r->used0 = buf_used(out);
	r->err = 0;
	r->row = -1;
	r->col = -1;
	r->penknown = 0;
	memset(&r->pen, 0, sizeof r->pen);
	r->n = 0;
}

static void
render_flush(struct render *r)
{
	if (r->n > 0 && !r->err && buf_append(r->out, r->tmp, r->n) != 0)
		r->err = 1;
	r->n = 0;
}

/* Flush; on failure drop everything this render appended. */
static int
render_done(struct render *r)
{
	render_flush(r);
	if (r->err) {
		r->out->len = r->out->off + r->used0;
		return -1;
	}
	return 0;
}

static void
put(struct render *r, const void *p, size_t len)
{
	if (r->n + len > sizeof r->tmp) {
		render_flush(r);
		if (len > sizeof r->tmp) {
			if (!r->err && buf_append(r->out, p, len) != 0)
				r->err = 1;
			return;
		}
	}
	memcpy(r->tmp + r->n, p, len);
	r->n += len;
}

static void
puts_(struct render *r, const char *s)
{
	put(r, s, strlen(s));
}

#define PUTLIT(r, lit)	put((r), (lit), sizeof(lit) - 1)

static void
putc_(struct render *r, char c)
{
	if (r->n == sizeof r->tmp)
		render_flush(r);
	r->tmp[r->n++] = c;
}

/* Numbers in sequences are mostly small: colours, rows, columns. */
static void
putnum(struct render *r, unsigned int v)
{
	char	 b[12];
	int	 i = sizeof b;

	if (r->n + sizeof b > sizeof r->tmp)
		render_flush(r);
	if (v < 10) {
		r->tmp[r->n++] = (char)('0' + v);
		return;
	}
	if (v < 100) {
		r->tmp[r->n++] = (char)('0' + v / 10);
		r->tmp[r->n++] = (char)('0' + v % 10);
		return;
	}
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(r, b + i, sizeof b - (size_t)i);
}

/*
 * Control characters in a cell would be interpreted by the client's
 * terminal (a UTF-8 encoded U+009B is a CSI to some), so draw U+FFFD.
 */
static size_t
utf8_encode(uint32_t c, char *p)
{
	if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c > 0x10ffff ||
	    (c >= 0xd800 && c < 0xe000))
		c = 0xfffd;
	if (c < 0x80) {
		p[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		p[0] = (char)(0xc0 | (c >> 6));
		p[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		p[0] = (char)(0xe0 | (c >> 12));
		p[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		p[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	p[0] = (char)(0xf0 | (c >> 18));
	p[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	p[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	p[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

static void
put_chars(struct render *r, const uint32_t *ch)
{
	char	 b[4 * VTERM_MAX_CHARS_PER_CELL];
	size_t	 n = 0;
	int	 i;

	if (ch[0] >= 0x20 && ch[0] < 0x7f && ch[1] == 0) {
		putc_(r, (char)ch[0]);
		return;
	}
	for (i = 0; i < VTERM_MAX_CHARS_PER_CELL && ch[i] != 0; i++)
		n += utf8_encode(ch[i], b + n);
	put(r, b, n);
}

/* --- cells ------------------------------------------------------------ */

static uint32_t
color_pack(const VTermColor *c)
{
	if (c->type & VTERM_COLOR_DEFAULT_MASK)
		return 0;
	if (VTERM_COLOR_IS_INDEXED(c))
		return COLOR_INDEXED | c->indexed.idx;
	return COLOR_RGB | ((uint32_t)c->rgb.red << 16) |
	    ((uint32_t)c->rgb.green << 8) | c->rgb.blue;
}

static uint16_t
attr_pack(int bold, int ul, int italic, int blink, int reverse, int strike,
    int font)
{
	uint16_t	a = 0;

	if (bold)
		a |= ATTR_BOLD;
	a |= (uint16_t)((ul & 3) << ATTR_UL_SHIFT);
	if (italic)
		a |= ATTR_ITALIC;
	if (blink)
		a |= ATTR_BLINK;
	if (reverse)
		a |= ATTR_REVERSE;
	if (strike)
		a |= ATTR_STRIKE;
	a |= (uint16_t)((font & 15) << ATTR_FONT_SHIFT);
	return a;
}

/*
 * get_cell leaves stale values after the first zero char, and the right
 * half of a wide glyph keeps whatever pen it had; normalise both so that
 * comparing cells compares only what a terminal would show.  get_cell
 * XORs DECSCNM into reverse; undo it, the mode is sent separately.
 */
static void
cell_from_vterm(struct cell *c, const VTermScreenCell *vc, uint8_t line,
    int screenrev)
{
	const VTermScreenCellAttrs	*a = &vc->attrs;
	int				 i = 0;

	c->line = line;
	c->width = 1;
	if (vc->chars[0] == CELL_CONT) {
		c->ch[i++] = CELL_CONT;
		c->fg = c->bg = 0;
		c->attr = 0;
	} else {
		for (; i < VTERM_MAX_CHARS_PER_CELL && vc->chars[i] != 0; i++)
			c->ch[i] = vc->chars[i];
		if (vc->width == 2)
			c->width = 2;
		c->fg = color_pack(&vc->fg);
		c->bg = color_pack(&vc->bg);
		/* attr_pack() inlined: this runs for every cell */
		c->attr = (uint16_t)(a->bold * ATTR_BOLD |
		    a->underline << ATTR_UL_SHIFT | a->italic * ATTR_ITALIC |
		    a->blink * ATTR_BLINK |
		    (a->reverse ^ (screenrev != 0)) * ATTR_REVERSE |
		    a->strike * ATTR_STRIKE | a->font << ATTR_FONT_SHIFT);
	}
	for (; i < VTERM_MAX_CHARS_PER_CELL; i++)
		c->ch[i] = 0;
}

static int
cell_eq(const struct cell *a, const struct cell *b)
{
	return memcmp(a, b, sizeof *a) == 0;
}

static int
cell_pen_eq(const struct cell *a, const struct cell *b)
{
	return a->fg == b->fg && a->bg == b->bg && a->attr == b->attr;
}

static int
cell_blank_default(const struct cell *c)
{
	return c->ch[0] == 0 && c->fg == 0 && c->bg == 0 && c->attr == 0;
}

/*
 * A row's size comes from its cells, not vterm_state_get_lineinfo():
 * libvterm 0.1.4 keeps one lineinfo array for both buffers, so after an
 * alternate screen switch it can call a row double width that shows
 * single-width cells.  The cells are what the screen shows.
 */
static uint8_t
line_pack(const VTermScreenCellAttrs *a)
{
	return (uint8_t)((a->dwl ? LINE_DWL : 0) | (a->dhl << LINE_DHL_SHIFT));
}

/* Columns a client can address on a row: half on DECDWL/DECDHL lines. */
static int
row_width(const struct cell *row, int cols)
{
	return row[0].line != 0 ? cols / 2 : cols;
}

/*
 * The cursor as a client can have it: libvterm leaves it past the half
 * width of a line made double width under it, and a terminal clamps.
 */
static void
cursor_pos(const struct screen *s, int *row, int *col)
{
	VTermScreenCell	vc;
	VTermPos	pos;
	int		width = s->cols;

	vterm_state_get_cursorpos(s->state, &pos);
	if (pos.row < 0)
		pos.row = 0;
	if (pos.row >= s->rows)
		pos.row = s->rows - 1;
	memset(&vc, 0, sizeof vc);
	vterm_screen_get_cell(s->vs, (VTermPos){ pos.row, 0 }, &vc);
	if (vc.attrs.dwl)
		width = s->cols / 2;
	if (pos.col >= width)
		pos.col = width - 1;
	if (pos.col < 0)
		pos.col = 0;
	*row = pos.row;
	*col = pos.col;
}

/* East Asian Wide ranges that every libvterm release draws 2 columns. */
static int
glyph_wide(uint32_t u)
{
	return u >= 0x1100 && (u <= 0x115f || u == 0x2329 || u == 0x232a ||
	    (u >= 0x2e80 && u <= 0xa4cf && u != 0x303f) ||
	    (u >= 0xac00 && u <= 0xd7a3) || (u >= 0xf900 && u <= 0xfaff) ||
	    (u >= 0xfe10 && u <= 0xfe19) || (u >= 0xfe30 && u <= 0xfe6f) ||
	    (u >= 0xff00 && u <= 0xff60) || (u >= 0xffe0 && u <= 0xffe6) ||
	    (u >= 0x20000 && u <= 0x2fffd) || (u >= 0x30000 && u <= 0x3fffd));
}

/* Glyphs (and blanks) no terminal draws 2 columns wide. */
static int
glyph_narrow(uint32_t u)
{
	return u < 0x1100 || (u >= 0x2500 && u < 0x25a0);
}

static void
cell_blank(struct cell *c)
{
	uint8_t	line = c->line;

	memset(c, 0, sizeof *c);
	c->width = 1;
	c->line = line;
}

/*
 * libvterm leaves half-glyph states no byte stream can recreate: a
 * narrow glyph written over a wide one's left half keeps the stale
 * right half (and is reported 2 wide), a wide glyph whose right half
 * was overwritten or cut off by a resize is reported 1 wide, and ICH,
 * DCH or resizes leave right halves with no left.  A terminal shows a
 * blank in each of those places, so do the same.
 */
static void
normalize_row(struct cell *row, int cols)
{
	struct cell	*c;
	int		 x;

	for (x = 0; x < cols; x++) {
		c = &row[x];
		if (c->ch[0] == CELL_CONT) {
			if (x == 0 || row[x - 1].width != 2)
				cell_blank(c);
		} else if (c->width == 2 && glyph_narrow(c->ch[0]))
			c->width = 1;
		else if (c->width == 1 && glyph_wide(c->ch[0]))
			memset(c->ch, 0, sizeof c->ch);	/* keeps its pen */
	}
}

/*
 * How far a client's cursor moves after drawing this cell, or -1 when
 * terminals may disagree (emoji and symbols that newer Unicode tables
 * made wide but libvterm 0.1.4 measures narrow): then the next cell gets
 * an absolute move, so one odd glyph never shifts the rest of the row.
 */
static int
cell_advance(const struct cell *c)
{
	uint32_t	u = c->ch[0];
	int		i;

	for (i = 1; i < VTERM_MAX_CHARS_PER_CELL && c->ch[i] != 0; i++)
		if (c->ch[i] == 0xfe0f || c->ch[i] == 0x200d)
			return -1;
	if (c->width == 2)
		return glyph_wide(u) ? 2 : -1;
	if (glyph_narrow(u) || (u >= 0x2000 && u < 0x2300))
		return 1;
	return -1;
}

/* Read every visible cell once; the renderers work from this copy. */
static void
capture(struct screen *s)
{
	VTermScreenCell	 vc;
	VTermPos	 pos;
	struct cell	*row;
	uint8_t		 line = 0;

	if (s->snapvalid)
		return;
	memset(&vc, 0, sizeof vc);
	for (pos.row = 0; pos.row < s->rows; pos.row++) {
		row = s->snap + (size_t)pos.row * (size_t)s->cols;
		for (pos.col = 0; pos.col < s->cols; pos.col++) {
			vterm_screen_get_cell(s->vs, pos, &vc);
			if (pos.col == 0)
				line = line_pack(&vc.attrs);
			cell_from_vterm(&row[pos.col], &vc, line, s->reverse);
		}
		normalize_row(row, s->cols);
	}
	s->snapvalid = 1;
}

/* --- SGR and cursor movement ------------------------------------------ */

static void
sgr_color(struct render *r, uint32_t c, int base)
{
	uint32_t	v = c & 0xffffff;

	if (c == 0) {
		putnum(r, (unsigned int)base + 9);
	} else if (c & COLOR_INDEXED) {
		if (v < 8)
			putnum(r, (unsigned int)base + v);
		else if (v < 16)
			putnum(r, (unsigned int)base + 60 + v - 8);
		else {
			putnum(r, (unsigned int)base + 8);
			PUTLIT(r, ";5;");
			putnum(r, v);
		}
	} else {
		putnum(r, (unsigned int)base + 8);
		PUTLIT(r, ";2;");
		putnum(r, v >> 16);
		putc_(r, ';');
		putnum(r, (v >> 8) & 0xff);
		putc_(r, ';');
		putnum(r, v & 0xff);
	}
}

static void
sgr_sep(struct render *r, int *first)
{
	if (!*first)
		putc_(r, ';');
	*first = 0;
}

static void
sgr_underline(struct render *r, unsigned int ul)
{
	static const char *const code[] = { "24", "4", "4:2", "4:3" };

	puts_(r, code[ul & 3]);
}

/*
 * Move the client's pen to p with as few parameters as practical: from
 * an unknown pen, reset and set what is on; otherwise change only the
 * attributes that differ.
 */
static void
set_pen(struct render *r, const struct pen *p)
{
	uint16_t	 on, diff;
	int		 first = 1;

	if (r->penknown && r->pen.fg == p->fg && r->pen.bg == p->bg &&
	    r->pen.attr == p->attr)
		return;
	PUTLIT(r, "\033[");
	if (!r->penknown || (p->fg == 0 && p->bg == 0 && p->attr == 0)) {
		putc_(r, '0');
		first = 0;
		r->pen.fg = r->pen.bg = 0;
		r->pen.attr = 0;
	}
	diff = r->pen.attr ^ p->attr;
	on = diff & p->attr;
	if (diff & ATTR_BOLD) {
		sgr_sep(r, &first);
		puts_(r, (on & ATTR_BOLD) ? "1" : "22");
	}
	if (diff & ATTR_ITALIC) {
		sgr_sep(r, &first);
		puts_(r, (on & ATTR_ITALIC) ? "3" : "23");
	}
	if (diff & ATTR_UL_MASK) {
		sgr_sep(r, &first);
		sgr_underline(r, (p->attr & ATTR_UL_MASK) >> ATTR_UL_SHIFT);
	}
	if (diff & ATTR_BLINK) {
		sgr_sep(r, &first);
		puts_(r, (on & ATTR_BLINK) ? "5" : "25");
	}
	if (diff & ATTR_REVERSE) {
		sgr_sep(r, &first);
		puts_(r, (on & ATTR_REVERSE) ? "7" : "27");
	}
	if (diff & ATTR_STRIKE) {
		sgr_sep(r, &first);
		puts_(r, (on & ATTR_STRIKE) ? "9" : "29");
	}
	if (diff & ATTR_FONT_MASK) {
		sgr_sep(r, &first);
		putnum(r, 10u +
		    ((p->attr & ATTR_FONT_MASK) >> ATTR_FONT_SHIFT));
	}
	if (p->fg != r->pen.fg) {
		sgr_sep(r, &first);
		sgr_color(r, p->fg, 30);
	}
	if (p->bg != r->pen.bg) {
		sgr_sep(r, &first);
		sgr_color(r, p->bg, 40);
	}
	putc_(r, 'm');
	r->pen = *p;
	r->penknown = 1;
}

static void
set_pen_cell(struct render *r, const struct cell *c)
{
	struct pen	p;

	p.fg = c->fg;
	p.bg = c->bg;
	p.attr = c->attr;
	set_pen(r, &p);
}

static void
cup(struct render *r, int row, int col)
{
	PUTLIT(r, "\033[");
	putnum(r, (unsigned int)row + 1);
	if (col > 0) {
		putc_(r, ';');
		putnum(r, (unsigned int)col + 1);
	}
	putc_(r, 'H');
	r->row = row;
	r->col = col;
}

/*
 * Relative moves are only used when the client's cursor is known for
 * certain; LF is safe because the scroll region is always the whole
 * screen on a client and the target row is never past the bottom.
 */
static void
move_to(struct render *r, int row, int col)
{
	if (r->row == row && r->col == col)
		return;
	if (r->row < 0) {
		cup(r, row, col);
		return;
	}
	if (r->row == row && col > r->col) {
		PUTLIT(r, "\033[");
		if (col - r->col > 1)
			putnum(r, (unsigned int)(col - r->col));
		putc_(r, 'C');
	} else if (col == 0 && row == r->row)
		putc_(r, '\r');
	else if (col == 0 && row == r->row + 1)
		PUTLIT(r, "\r\n");
	else {
		cup(r, row, col);
		return;
	}
	r->row = row;
	r->col = col;
}

/* --- painting --------------------------------------------------------- */

static void
paint_glyph(struct render *r, const struct cell *c, int y, int x, int width)
{
	int	adv;

	move_to(r, y, x);
	set_pen_cell(r, c);
	put_chars(r, c->ch);
	adv = cell_advance(c);
	if (adv < 0 || x + adv >= width)
		r->row = -1;	/* pending wrap or unsure: next move is CUP */
	else
		r->col = x + adv;
}

/*
 * Blank cells are erased rather than drawn as spaces: libvterm keeps
 * "never written" (char 0) apart from a space, and an erase with the
 * cell's pen is what put a coloured blank there in the first place.
 */
static int
paint_blanks(struct render *r, const struct cell *row, int y, int x,
    int end, int width)
{
	const struct cell	*c = &row[x];
	int			 n = 1;

	while (x + n < end && row[x + n].ch[0] == 0 &&
	    cell_pen_eq(&row[x + n], c))
		n++;
	move_to(r, y, x);
	set_pen_cell(r, c);
	if (x + n == width)
		PUTLIT(r, "\033[K");
	else {
		PUTLIT(r, "\033[");
		if (n > 1)
			putnum(r, (unsigned int)n);
		putc_(r, 'X');
	}
	return n;
}

/*
 * libvterm (0.1.4) loses the combining marks of an ASCII glyph printed
 * in the last column: the mark arrives in a second text run and its
 * pending-wrap cursor no longer matches the glyph.  Such a cell, which
 * a resize or ICH can leave behind, is printed one column to the left
 * and shifted into place with ICH; the caller repaints from force on.
 */
static int
paint_last_combining(struct render *r, const struct cell *row, int y,
    int width)
{
	static const struct pen	 none;
	int			 force = width - 2;

	move_to(r, y, width - 2);
	set_pen_cell(r, &row[width - 1]);
	put_chars(r, row[width - 1].ch);
	r->row = -1;
	move_to(r, y, width - 2);
	set_pen(r, &none);	/* ICH fills with the pen; default is blank */
	PUTLIT(r, "\033[@");
	if (force > 0 && row[force].ch[0] == CELL_CONT)
		force--;
	return force;
}

static int
cell_needs_ich(const struct cell *row, int width)
{
	const struct cell	*c = &row[width - 1];

	return width >= 2 && c->ch[0] != 0 &&
	    c->ch[0] < 0x80 && c->ch[1] != 0;
}

/*
 * Paint the cells of row y that differ from old, or, without old, that
 * differ from the blank screen a full repaint starts from.
 */
static void
paint_row(struct render *r, const struct cell *row, const struct cell *old,
    int y, int cols)
{
	int			 width = row_width(row, cols), x = 0;
	int			 end = width, force = width;
	const struct cell	*c;

	if (cell_needs_ich(row, width) && (old == NULL ||
	    !cell_eq(&row[width - 1], &old[width - 1]))) {
		force = paint_last_combining(r, row, y, width);
		end--;
	}
	while (x < end) {
		c = &row[x];
		if (c->ch[0] == CELL_CONT || (x >= force ?
		    cell_blank_default(c) : old != NULL ? cell_eq(c, &old[x]) :
		    cell_blank_default(c))) {
			x++;
			continue;
		}
		if (c->ch[0] == 0) {
			x += paint_blanks(r, row, y, x, end, width);
			continue;
		}
		paint_glyph(r, c, y, x, width);
		x += c->width;
	}
}

static void
paint_lineattr(struct render *r, int y, uint8_t line)
{
	move_to(r, y, 0);
	if (!(line & LINE_DWL))
		PUTLIT(r, "\033#5");
	else if ((line >> LINE_DHL_SHIFT) == 1)
		PUTLIT(r, "\033#3");
	else if ((line >> LINE_DHL_SHIFT) == 2)
		PUTLIT(r, "\033#4");
	else
		PUTLIT(r, "\033#6");
}

static void
paint_screen(struct render *r, const struct screen *s)
{
	const struct cell	*row;
	int			 y;

	for (y = 0; y < s->rows; y++) {
		row = s->snap + (size_t)y * (size_t)s->cols;
		if (row[0].line != 0)
			paint_lineattr(r, y, row[0].line);
		paint_row(r, row, NULL, y, s->cols);
	}
}

/*
 * A row whose line size changed is repainted whole: the half libvterm
 * erased when the line went double width was erased with a pen we
 * cannot know, so the client's copy of it cannot be trusted.
 */
static void
paint_row_relined(struct render *r, const struct cell *row, int y, int cols)
{
	static const struct pen	 none;

	paint_lineattr(r, y, row[0].line);
	set_pen(r, &none);
	PUTLIT(r, "\033[2K");
	paint_row(r, row, NULL, y, cols);
}

static void
paint_sbline(struct render *r, const struct sbline *l)
{
	static const struct pen	 none;
	const struct cell	*c;
	size_t			 i;

	for (i = 0; i < l->n; i++) {
		c = &l->cells[i];
		if (c->ch[0] == CELL_CONT)
			continue;
		set_pen_cell(r, c);
		if (c->ch[0] == 0)
			putc_(r, ' ');
		else
			put_chars(r, c->ch);
	}
	set_pen(r, &none);	/* no coloured fill when the line scrolls */
	PUTLIT(r, "\r\n");
}

/*
 * Scrollback goes out as ordinary lines printed at the bottom of the
 * client's screen, so its terminal scrolls them into its own history;
 * rows - 1 more line feeds push the last of them off the screen before
 * the repaint clears it.
 */
static void
paint_scrollback(struct render *r, const struct screen *s)
{
	size_t	 i;
	int	 y;

	if (s->sbcount == 0)
		return;
	cup(r, s->rows - 1, 0);
	for (i = 0; i < s->sbcount; i++)
		paint_sbline(r, s->sb[(s->sbfirst + i) % s->sbmax]);
	for (y = 1; y < s->rows; y++)
		putc_(r, '\n');
	r->row = -1;
}

/* --- modes and properties --------------------------------------------- */

static int
cursor_style(const struct screen *s)
{
	int	blink = s->cursor_blink != 0;

	switch (s->cursor_shape) {
	case VTERM_PROP_CURSORSHAPE_UNDERLINE:
		return blink ? 3 : 4;
	case VTERM_PROP_CURSORSHAPE_BAR_LEFT:
		return blink ? 5 : 6;
	default:
		/* libvterm's reset state: leave the client's own default. */
		return blink ? 0 : 2;
	}
}

static void
put_decset(struct render *r, int mode, int on)
{
	PUTLIT(r, "\033[?");
	putnum(r, (unsigned int)mode);
	putc_(r, on ? 'h' : 'l');
}

static void
put_mouse(struct render *r, const struct modes *m)
{
	static const int	 mode[] = { 0, 9, 1000, 1002, 1003 };
	static const int	 enc[] = { 0, 1005, 1006, 1015 };
	unsigned int		 i;

	/* Off first, then on: terminals that keep one flag per mode agree. */
	for (i = 1; i < sizeof mode / sizeof mode[0]; i++)
		if (i != m->mouse)
			put_decset(r, mode[i], 0);
	if (m->mouse != MOUSE_OFF)
		put_decset(r, mode[m->mouse], 1);
	for (i = 1; i < sizeof enc / sizeof enc[0]; i++)
		if (i != m->menc)
			put_decset(r, enc[i], 0);
	if (m->menc != MENC_X10)
		put_decset(r, enc[m->menc], 1);
}

/* Emit the input modes in m, all of them or those that differ from old. */
static void
put_modes(struct render *r, const struct modes *m, const struct modes *old)
{
	if (old == NULL || old->ckm != m->ckm)
		put_decset(r, 1, m->ckm);
	if (old == NULL || old->keypad != m->keypad)
		puts_(r, m->keypad ? "\033=" : "\033>");
	if (old == NULL || old->paste != m->paste)
		put_decset(r, 2004, m->paste);
	if (old == NULL || old->mouse != m->mouse || old->menc != m->menc)
		put_mouse(r, m);
}

/*
 * OSC 2 with anything a terminal could take for a control removed, and
 * cut to a sane length on a character boundary.
 */
static void
put_title(struct render *r, const char *t)
{
	const unsigned char	*p = (const unsigned char *)t, *end;

	end = p + strlen(t);
	if (end - p > TITLE_MAX) {
		end = p + TITLE_MAX;
		while (end > p && (*end & 0xc0) == 0x80)
			end--;
	}
	PUTLIT(r, "\033]2;");
	for (; p < end; p++) {
		if (*p < 0x20 || *p == 0x7f)
			continue;
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0) {
			p++;
			continue;
		}
		putc_(r, (char)*p);
	}
	putc_(r, '\a');
}

static void
app_pen(const struct screen *s, struct pen *p)
{
	VTermValue	b, u, i, k, v, x, f, fg, bg;

	vterm_state_get_penattr(s->state, VTERM_ATTR_BOLD, &b);
	vterm_state_get_penattr(s->state, VTERM_ATTR_UNDERLINE, &u);
	vterm_state_get_penattr(s->state, VTERM_ATTR_ITALIC, &i);
	vterm_state_get_penattr(s->state, VTERM_ATTR_BLINK, &k);
	vterm_state_get_penattr(s->state, VTERM_ATTR_REVERSE, &v);
	vterm_state_get_penattr(s->state, VTERM_ATTR_STRIKE, &x);
	vterm_state_get_penattr(s->state, VTERM_ATTR_FONT, &f);
	vterm_state_get_penattr(s->state, VTERM_ATTR_FOREGROUND, &fg);
	vterm_state_get_penattr(s->state, VTERM_ATTR_BACKGROUND, &bg);
	p->attr = attr_pack(b.boolean, u.number, i.boolean, k.boolean,
	    v.boolean, x.boolean, f.number);
	p->fg = color_pack(&fg.color);
	p->bg = color_pack(&bg.color);
}

/*
 * The stream starts by undoing anything the client's terminal may have
 * been left in that would put our cells in the wrong place.
 */
static void
put_preamble(struct render *r)
{
	static const struct pen	 none;

	PUTLIT(r, "\033[?25l\033[0m\033[r\033[?6l\033(B\017\033[4l");
	r->pen = none;
	r->penknown = 1;
	r->row = -1;
}

static void
put_full_tail(struct render *r, const struct screen *s)
{
	struct pen	 p;
	int		 row, col;

	cursor_pos(s, &row, &col);
	move_to(r, row, col);
	PUTLIT(r, "\033[");
	putnum(r, (unsigned int)cursor_style(s));
	PUTLIT(r, " q");
	put_decset(r, 5, s->reverse);
	put_title(r, s->title);
	app_pen(s, &p);
	set_pen(r, &p);
	put_modes(r, &s->modes, NULL);
	put_decset(r, 7, s->modes.autowrap);
	if (s->modes.insert)
		PUTLIT(r, "\033[4h");
	if (s->cursor_visible)
		PUTLIT(r, "\033[?25h");
}

static void
paint_full(struct render *r, struct screen *s, int with_scrollback)
{
	capture(s);
	put_preamble(r);
	if (with_scrollback)
		paint_scrollback(r, s);
	PUTLIT(r, "\033[H\033[2J");
	r->row = 0;
	r->col = 0;
	paint_screen(r, s);
	put_full_tail(r, s);
}

/* --- the mode scanner ------------------------------------------------- */

static void
modes_reset(struct modes *m, int hard)
{
	uint8_t	mouse = m->mouse, menc = m->menc;

	*m = default_modes;
	if (!hard) {
		/* DECSTR leaves the mouse modes alone, as libvterm does. */
		m->mouse = mouse;
		m->menc = menc;
	}
}

static void
set_dec_mode(struct modes *m, int mode, int on)
{
	switch (mode) {
	case 1:
		m->ckm = (uint8_t)on;
		break;
	case 7:
		m->autowrap = (uint8_t)on;
		break;
	case 9:
		m->mouse = on ? MOUSE_X10 : MOUSE_OFF;
		break;
	case 1000:
		m->mouse = on ? MOUSE_CLICK : MOUSE_OFF;
		break;
	case 1002:
		m->mouse = on ? MOUSE_DRAG : MOUSE_OFF;
		break;
	case 1003:
		m->mouse = on ? MOUSE_MOVE : MOUSE_OFF;
		break;
	case 1005:
		if (on || m->menc == MENC_UTF8)
			m->menc = on ? MENC_UTF8 : MENC_X10;
		break;
	case 1006:
		if (on || m->menc == MENC_SGR)
			m->menc = on ? MENC_SGR : MENC_X10;
		break;
	case 1015:
		if (on || m->menc == MENC_URXVT)
			m->menc = on ? MENC_URXVT : MENC_X10;
		break;
	case 2004:
		m->paste = (uint8_t)on;
		break;
	}
}

/*
 * Unlike libvterm 0.1.4, which applies only the first parameter of
 * CSI ? Pm h, every parameter counts here, as on a real terminal.
 */
static void
scan_csi(struct screen *s, char final)
{
	struct scanner	*sc = &s->scan;
	int		 i, on = final == 'h';

	if (final == 'p' && sc->leader == 0 && sc->ninter == 1 &&
	    sc->inter == '!') {
		modes_reset(&s->modes, 0);
		s->region_partial = 0;
		return;
	}
	if (final == 'r' && sc->leader == 0 && sc->ninter == 0) {
		/* Missing or 0 means the edge; libvterm ignores a region of
		 * fewer than two rows, as terminals do. */
		s->region_partial = sc->param[0] > 1 ||
		    (sc->nparam > 1 && sc->param[1] > 0 &&
		    sc->param[1] < s->rows);
		return;
	}
	if ((final != 'h' && final != 'l') || sc->ninter != 0)
		return;
	for (i = 0; i < sc->nparam; i++) {
		if (sc->param[i] < 0 || (sc->subbits & (1u << i)))
			continue;
		if (sc->leader == '?')
			set_dec_mode(&s->modes, sc->param[i], on);
		else if (sc->leader == 0 && sc->param[i] == 4)
			s->modes.insert = (uint8_t)on;
	}
}

static void
scan_escape(struct screen *s, unsigned char c)
{
	struct scanner	*sc = &s->scan;

	if (sc->ninter != 0)
		return;
	if (c == '=')
		s->modes.keypad = 1;
	else if (c == '>')
		s->modes.keypad = 0;
	else if (c == 'c') {
		modes_reset(&s->modes, 1);
		s->region_partial = 0;
	}
}

static void
scan_csi_start(struct scanner *sc)
{
	sc->state = SCAN_CSI_LEADER;
	sc->leader = 0;
	sc->ninter = 0;
	sc->inter = 0;
	sc->nparam = 1;
	sc->subbits = 0;
	sc->param[0] = -1;
}

static void
scan_inter(struct scanner *sc, unsigned char c)
{
	if (sc->ninter == 0)
		sc->inter = c;
	if (sc->ninter < 255)
		sc->ninter++;
}

/* Returns 1 when c ended up handled as an escape or CSI parameter byte. */
static int
scan_csi_param(struct scanner *sc, unsigned char c)
{
	int	*p = &sc->param[sc->nparam - 1];

	if (c >= '0' && c <= '9') {
		if (*p < 0)
			*p = 0;
		if (*p < 100000)
			*p = *p * 10 + (c - '0');
		return 1;
	}
	if (c == ';' || c == ':') {
		if (sc->nparam < CSI_NPARAM) {
			sc->param[sc->nparam] = -1;
			if (c == ':')
				sc->subbits |= (uint16_t)(1u << sc->nparam);
			sc->nparam++;
		}
		return 1;
	}
	return 0;
}

static void
scan_esc_byte(struct screen *s, unsigned char c)
{
	struct scanner	*sc = &s->scan;

	if (c == 'P' || c == ']') {
		sc->state = SCAN_STR;
		return;
	}
	if (c == '[' && sc->ninter == 0) {
		scan_csi_start(sc);
		return;
	}
	if (c >= 0x20 && c <= 0x2f) {
		scan_inter(sc, c);
		return;
	}
	if (sc->ninter == 0 && c >= 0x40 && c < 0x60) {
		sc->state = SCAN_GROUND;	/* a C1 control in 7 bits */
		return;
	}
	if (c >= 0x30 && c < 0x7f) {
		scan_escape(s, c);
		sc->state = SCAN_GROUND;
	}
	/* anything else: libvterm ignores it and stays in escape */
}

static void
scan_csi_byte(struct screen *s, unsigned char c)
{
	struct scanner	*sc = &s->scan;

	if (sc->state == SCAN_CSI_LEADER) {
		if (c >= 0x3c && c <= 0x3f) {
			sc->leader = sc->leader == 0 ? c : 0xff;
			return;
		}
		sc->state = SCAN_CSI_PARAM;
	}
	if (sc->state == SCAN_CSI_PARAM) {
		if (scan_csi_param(sc, c))
			return;
		sc->state = SCAN_CSI_INTER;
	}
	if (c >= 0x20 && c <= 0x2f) {
		scan_inter(sc, c);
		return;
	}
	if (c >= 0x40 && c <= 0x7e)
		scan_csi(s, (char)c);
	sc->state = SCAN_GROUND;
}

/*
 * Mirrors libvterm's parser (src/parser.c) byte for byte in UTF-8 mode:
 * C0 controls act inside CSI without ending it, CAN and SUB cancel, ESC
 * restarts, only OSC and DCS are strings, and a string ends at BEL or
 * ESC \.  Text bytes need no decoding to find the sequences.
 *
 * Returns n, or the offset of the ESC that began an escape or string
 * still open at the end of p: libvterm 0.1.4 silently drops an OSC or
 * DCS split across two writes, so screen_feed holds such a tail back
 * and scans it again, from ground state, with the bytes that follow.
 */
static size_t
scan(struct screen *s, const unsigned char *p, size_t n)
{
	struct scanner		*sc = &s->scan;
	const unsigned char	*e;
	unsigned char		 c;
	size_t			 i, seq = n, esc = n;

	for (i = 0; i < n; i++) {
		if (sc->state == SCAN_GROUND) {
			if ((e = memchr(p + i, 0x1b, n - i)) == NULL)
				return n;
			i = (size_t)(e - p);
		}
		c = p[i];
		if (c == 0x00 || c == 0x7f)
			continue;
		if (c == 0x18 || c == 0x1a) {
			sc->state = SCAN_GROUND;
			continue;
		}
		if (c == 0x1b) {
			esc = i;
			if (sc->state == SCAN_STR)
				sc->state = SCAN_STR_ESC;
			else {
				sc->state = SCAN_ESC;
				seq = i;
			}
			sc->ninter = 0;
			sc->inter = 0;
			continue;
		}
		if (c == 0x07 && sc->state == SCAN_STR) {
			sc->state = SCAN_GROUND;
			continue;
		}
		if (c < 0x20)
			continue;
		switch (sc->state) {
		case SCAN_STR_ESC:
			if (c == '\\') {
				sc->state = SCAN_GROUND;
				break;
			}
			sc->state = SCAN_ESC;
			seq = esc;
			scan_esc_byte(s, c);
			break;
		case SCAN_ESC:
			scan_esc_byte(s, c);
			break;
		case SCAN_CSI_LEADER:
		case SCAN_CSI_PARAM:
		case SCAN_CSI_INTER:
			scan_csi_byte(s, c);
			break;
		default:
			break;
		}
	}
	if (sc->state == SCAN_ESC || sc->state == SCAN_STR ||
	    sc->state == SCAN_STR_ESC)
		return seq;
	return n;
}

/* --- libvterm callbacks ----------------------------------------------- */

static int
cb_settermprop(VTermProp prop, VTermValue *val, void *arg)
{
	struct screen	*s = arg;
	char		*t;

	switch (prop) {
	case VTERM_PROP_CURSORVISIBLE:
		s->cursor_visible = val->boolean;
		break;
	case VTERM_PROP_CURSORBLINK:
		s->cursor_blink = val->boolean;
		break;
	case VTERM_PROP_CURSORSHAPE:
		s->cursor_shape = val->number;
		break;
	case VTERM_PROP_ALTSCREEN:
		s->altscreen = val->boolean;
		break;
	case VTERM_PROP_REVERSE:
		s->reverse = val->boolean;
		break;
	case VTERM_PROP_TITLE:
		/* On allocation failure the old title stays: no harm done. */
		if (val->string != NULL && (t = strdup(val->string)) != NULL) {
			free(s->title);
			s->title = t;
		}
		break;
	default:
		break;
	}
	return 1;	/* 0 would make libvterm refuse the change */
}

/* A never-written cell in the default pen, tested without converting. */
static int
vcell_blank_default(const VTermScreenCell *c, int screenrev)
{
	const VTermScreenCellAttrs	*a = &c->attrs;

	return c->chars[0] == 0 && (c->fg.type & VTERM_COLOR_DEFAULT_MASK) &&
	    (c->bg.type & VTERM_COLOR_DEFAULT_MASK) && !a->bold &&
	    !a->underline && !a->italic && !a->blink &&
	    a->reverse == (screenrev != 0) && !a->strike && !a->font;
}

static size_t
sb_trim(const VTermScreenCell *cells, int cols, int screenrev)
{
	while (cols > 0 && vcell_blank_default(&cells[cols - 1], screenrev))
		cols--;
	return (size_t)cols;
}

/*
 * Lines scrolled off the primary screen go into a ring of our own.  A
 * slot's allocation is reused once the ring is full, so a flood of
 * output costs no malloc per line; a failed allocation drops the line.
 */
static int
cb_sb_pushline(int cols, const VTermScreenCell *cells, void *arg)
{
	struct screen	*s = arg;
	struct sbline	*l, *nl;
	size_t		 slot, n, i;

	n = sb_trim(cells, cols, s->reverse);
	if (s->sbcount < s->sbmax)
		slot = (s->sbfirst + s->sbcount) % s->sbmax;
	else
		slot = s->sbfirst;
	l = s->sb[slot];
	if (l == NULL || l->cap < n) {
		nl = realloc(l, sizeof *l + (n ? n : 1) * sizeof l->cells[0]);
		if (nl == NULL)
			return 0;
		nl->cap = n ? n : 1;
		s->sb[slot] = l = nl;
	}
	for (i = 0; i < n; i++)
		cell_from_vterm(&l->cells[i], &cells[i], 0, s->reverse);
	l->n = n;
	if (s->sbcount < s->sbmax)
		s->sbcount++;
	else
		s->sbfirst = (s->sbfirst + 1) % s->sbmax;
	return 1;
}

static const VTermScreenCallbacks callbacks = {
	.settermprop = cb_settermprop,
};

static const VTermScreenCallbacks callbacks_sb = {
	.settermprop = cb_settermprop,
	.sb_pushline = cb_sb_pushline,
};

/* --- public interface ------------------------------------------------- */

static int
size_valid(int rows, int cols)
{
	return rows >= 1 && rows <= SCREEN_MAX_ROWS &&
	    cols >= 1 && cols <= SCREEN_MAX_COLS;
}

struct screen *
screen_new(int rows, int cols, size_t scrollback)
{
	struct screen	*s;

	if (!size_valid(rows, cols))
		return NULL;
	if (scrollback > SCREEN_MAX_SCROLLBACK)
		scrollback = SCREEN_MAX_SCROLLBACK;
	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->rows = rows;
	s->cols = cols;
	s->modes = default_modes;
	s->cursor_visible = 1;
	s->cursor_blink = 1;
	s->cursor_shape = VTERM_PROP_CURSORSHAPE_BLOCK;
	s->sbmax = scrollback;
	s->title = strdup("");
	s->snap = calloc((size_t)rows * (size_t)cols, sizeof *s->snap);
	if (scrollback > 0)
		s->sb = calloc(scrollback, sizeof *s->sb);
	if (s->title == NULL || s->snap == NULL ||
	    (scrollback > 0 && s->sb == NULL) ||
	    (s->vt = vterm_new(rows, cols)) == NULL) {
		screen_free(s);
		return NULL;
	}
	vterm_set_utf8(s->vt, 1);
	s->vs = vterm_obtain_screen(s->vt);
	s->state = vterm_obtain_state(s->vt);
	vterm_screen_set_callbacks(s->vs,
	    scrollback > 0 ? &callbacks_sb : &callbacks, s);
	vterm_screen_enable_altscreen(s->vs, 1);
	vterm_screen_reset(s->vs, 1);
	return s;
}

void
screen_free(struct screen *s)
{
	size_t	i;

	if (s == NULL)
		return;
	if (s->vt != NULL)
		vterm_free(s->vt);
	for (i = 0; s->sb != NULL && i < s->sbmax; i++)
		free(s->sb[i]);
	free(s->sb);
	free(s->snap);
	free(s->title);
	free(s);
}

static size_t
utf8_seqlen(unsigned char c)
{
	if (c >= 0xc0 && c < 0xe0)
		return 2;
	if (c >= 0xe0 && c < 0xf0)
		return 3;
	if (c >= 0xf0 && c < 0xf8)
		return 4;
	return 0;
}

/* Bytes at the end of p that start a UTF-8 sequence not yet complete. */
static size_t
utf8_tail(const unsigned char *p, size_t n)
{
	size_t	k, need;

	for (k = 1; k <= 3 && k <= n; k++) {
		if ((p[n - k] & 0xc0) == 0x80)
			continue;
		need = utf8_seqlen(p[n - k]);
		return need > k ? k : 0;
	}
	return 0;
}

/*
 * Give libvterm as much of p as can go now and return how much that
 * was.  What stays behind is an open OSC/DCS (when it is short enough
 * to hold) or an incomplete character: libvterm mangles a character
 * split between writes when it carries a combining mark.
 */
static size_t
feed_piece(struct screen *s, const char *p, size_t n, int last)
{
	size_t	cut;

	cut = scan(s, (const unsigned char *)p, n);
	if (cut < n && n - cut <= HOLD_MAX && (cut > 0 || last))
		s->scan.state = SCAN_GROUND;	/* rescanned from the ESC */
	else
		cut = n;
	if (cut == n && s->scan.state == SCAN_GROUND)
		cut -= utf8_tail((const unsigned char *)p, n);
	if (cut > 0)
		vterm_input_write(s->vt, p, cut);
	return cut;
}

/*
 * Input goes to libvterm in pieces of at most FEED_MAX bytes.  Held-back
 * bytes are joined to the start of the next input in hold, so that what
 * was split between two reads reaches libvterm in one write.
 */
void
screen_feed(struct screen *s, const char *data, size_t len)
{
	const char	*p;
	size_t		 n, take, cut, old;

	s->snapvalid = 0;
	while (len > 0) {
		old = s->nhold;
		if (old > 0) {
			take = sizeof s->hold - old;
			if (take > len)
				take = len;
			memcpy(s->hold + old, data, take);
			p = s->hold;
		} else {
			take = len > FEED_MAX ? FEED_MAX : len;
			p = data;
		}
		n = old + take;
		cut = feed_piece(s, p, n, take == len);
		if (take == len) {
			memmove(s->hold, p + cut, n - cut);
			s->nhold = n - cut;
			return;
		}
		/* A full piece always makes progress: it is over HOLD_MAX. */
		if (cut >= old) {
			s->nhold = 0;
			data += cut - old;
			len -= cut - old;
		} else {
			memmove(s->hold, s->hold + cut, old - cut);
			s->nhold = old - cut;
		}
	}
}

/*
 * libvterm 0.1.4 can leave the cursor on a negative row when a resize
 * pushes lines into the scrollback (fixed upstream in 1e4f44e), and then
 * indexes its line table with it.  Every CSI ends by clamping the
 * cursor, so an unknown private mode puts it on row 0 as the fix does.
 * Any sequence the program had half sent is lost, as it would be if the
 * terminal were reset; the scanner forgets it too, to stay in step.
 */
static void
cursor_fix(struct screen *s)
{
	static const char	fix[] = "\033[?9999h";
	VTermPos		pos;

	vterm_state_get_cursorpos(s->state, &pos);
	if (pos.row >= 0 && pos.col >= 0)
		return;
	vterm_input_write(s->vt, fix, sizeof fix - 1);
	s->scan.state = SCAN_GROUND;
}

int
screen_resize(struct screen *s, int rows, int cols)
{
	struct cell	*snap;

	if (!size_valid(rows, cols))
		return -1;
	if (rows == s->rows && cols == s->cols)
		return 0;
	snap = calloc((size_t)rows * (size_t)cols, sizeof *snap);
	if (snap == NULL)
		return -1;
	free(s->snap);
	s->snap = snap;
	s->snapvalid = 0;
	vterm_set_size(s->vt, rows, cols);
	s->rows = rows;
	s->cols = cols;
	cursor_fix(s);
	return 0;
}

void
screen_size(const struct screen *s, int *rows, int *cols)
{
	*rows = s->rows;
	*cols = s->cols;
}

void
screen_cursor(const struct screen *s, int *row, int *col, int *visible)
{
	cursor_pos(s, row, col);
	if (visible != NULL)
		*visible = s->cursor_visible;
}

const char *
screen_title(const struct screen *s)
{
	return s->title != NULL ? s->title : "";
}

int
screen_altscreen(const struct screen *s)
{
	return s->altscreen;
}

int
screen_row_text(const struct screen *s, int row, struct buf *out)
{
	VTermScreenCell	 vc;
	VTermPos	 pos;
	struct cell	 c;
	char		 b[4 * VTERM_MAX_CHARS_PER_CELL];
	size_t		 used0 = buf_used(out), keep = used0, n;
	int		 i;

	if (row < 0 || row >= s->rows)
		return -1;
	memset(&vc, 0, sizeof vc);
	pos.row = row;
	for (pos.col = 0; pos.col < s->cols; pos.col++) {
		vterm_screen_get_cell(s->vs, pos, &vc);
		cell_from_vterm(&c, &vc, 0, 0);
		if (c.ch[0] == CELL_CONT)
			continue;
		if (c.ch[0] == 0)
			c.ch[0] = ' ';
		for (n = 0, i = 0; i < VTERM_MAX_CHARS_PER_CELL && c.ch[i]; i++)
			n += utf8_encode(c.ch[i], b + n);
		if (buf_append(out, b, n) != 0) {
			out->len = out->off + used0;
			return -1;
		}
		if (c.ch[0] != ' ' || c.ch[1] != 0)
			keep = buf_used(out);
	}
	out->len = out->off + keep;	/* trailing blanks */
	return 0;
}

int
screen_render_full(struct screen *s, struct buf *out, int with_scrollback)
{
	struct render	r;

	render_init(&r, out);
	paint_full(&r, s, with_scrollback);
	return render_done(&r);
}

int
screen_render_modes(const struct screen *s, struct buf *out)
{
	struct render	r;

	render_init(&r, out);
	put_modes(&r, &s->modes, NULL);
	return render_done(&r);
}

int
screen_render_reset(struct buf *out)
{
	return buf_puts(out, "\033[0m\033[r\033[?6l\033[4l\033[?7h\033[?5l"
	    "\033[0 q\033[?25h\033[?1l\033>\033[?2004l\033[?9l\033[?1000l"
	    "\033[?1002l\033[?1003l\033[?1005l\033[?1006l\033[?1015l\r\n");
}

struct screen_frame *
screen_frame_new(void)
{
	return calloc(1, sizeof(struct screen_frame));
}

void
screen_frame_free(struct screen_frame *f)
{
	if (f == NULL)
		return;
	free(f->cells);
	free(f->title);
	free(f);
}

/* Make room for a frame of the screen's size; the contents are stale. */
static int
frame_reserve(struct screen_frame *f, const struct screen *s)
{
	size_t		 n = (size_t)s->rows * (size_t)s->cols;
	struct cell	*c;

	if (f->cap >= n)
		return 0;
	if ((c = malloc(n * sizeof *c)) == NULL)
		return -1;
	free(f->cells);
	f->cells = c;
	f->cap = n;
	f->rows = 0;	/* contents gone: next render is a full one */
	return 0;
}

/* Record what the client now has; the title was copied by the caller. */
static void
frame_store(struct screen_frame *f, const struct screen *s,
    const struct render *r, char *title)
{
	memcpy(f->cells, s->snap,
	    (size_t)s->rows * (size_t)s->cols * sizeof *f->cells);
	f->rows = s->rows;
	f->cols = s->cols;
	cursor_pos(s, &f->crow, &f->ccol);
	f->cvisible = s->cursor_visible;
	f->cshape = cursor_style(s);
	f->reverse = s->reverse;
	f->modes = s->modes;
	f->pen = r->pen;
	if (title != NULL) {
		free(f->title);
		f->title = title;
	}
}

static void
paint_diff(struct render *r, struct screen *s, const struct screen_frame *f,
    int newtitle)
{
	const struct cell	*row, *old;
	size_t			 rowsz = (size_t)s->cols * sizeof *row;
	int			 y, crow, ccol, hidden = 0;

	r->row = f->crow;
	r->col = f->ccol;
	r->pen = f->pen;
	r->penknown = 1;
	for (y = 0; y < s->rows; y++) {
		row = s->snap + (size_t)y * (size_t)s->cols;
		old = f->cells + (size_t)y * (size_t)s->cols;
		if (memcmp(row, old, rowsz) == 0)
			continue;
		if (!hidden && f->cvisible) {
			PUTLIT(r, "\033[?25l");	/* no cursor flicker */
			hidden = 1;
		}
		if (row[0].line != old[0].line)
			paint_row_relined(r, row, y, s->cols);
		else
			paint_row(r, row, old, y, s->cols);
	}
	cursor_pos(s, &crow, &ccol);
	move_to(r, crow, ccol);
	if (cursor_style(s) != f->cshape) {
		PUTLIT(r, "\033[");
		putnum(r, (unsigned int)cursor_style(s));
		PUTLIT(r, " q");
	}
	if (s->reverse != f->reverse)
		put_decset(r, 5, s->reverse);
	if (newtitle)
		put_title(r, s->title);
	put_modes(r, &s->modes, &f->modes);
	if (s->cursor_visible != f->cvisible || hidden)
		put_decset(r, 25, s->cursor_visible);
}

int
screen_render_frame(struct screen *s, struct screen_frame *f,
    struct buf *out)
{
	struct render	 r;
	char		*title = NULL;
	int		 full;

	full = f->rows != s->rows || f->cols != s->cols;
	if (frame_reserve(f, s) != 0)
		return -1;
	full = full || f->rows == 0;
	if (full || f->title == NULL || strcmp(f->title, s->title) != 0) {
		if ((title = strdup(s->title)) == NULL)
			return -1;
	}
	render_init(&r, out);
	if (full)
		paint_full(&r, s, 0);
	else {
		capture(s);
		paint_diff(&r, s, f, title != NULL);
	}
	if (render_done(&r) != 0) {
		free(title);
		return -1;
	}
	frame_store(f, s, &r, title);
	return 0;
}


/* A scroll region short of the whole screen is set (see vtscan.h). */
int
screen_region_partial(const struct screen *s)
{
	return s->region_partial;
}
