/*
 * test_screen: the libvterm screen model and its renderers.
 *
 * Every rendering test works the same way: the same input goes into a
 * struct screen and into a plain libvterm terminal (the reference); what
 * the screen renders is replayed into a fresh libvterm terminal (the
 * client), and the client must then hold exactly the reference's cells,
 * cursor, title and pen.  The reference is fed directly, so a bug in how
 * the screen feeds libvterm shows up as a mismatch too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vterm.h>

#include "buf.h"
#include "screen.h"
#include "check.h"

#define MAX_REPORT	5
#define FEED(s, lit)	screen_feed((s), (lit), sizeof(lit) - 1)
#define WRITE(t, lit)	term_write((t), (lit), sizeof(lit) - 1)

struct term {
	VTerm		*vt;
	VTermScreen	*vs;
	VTermState	*st;
	char		 title[2048];
	int		 visible;
	int		 record;	/* keep scrolled-off lines as text */
	char		**sb;
	size_t		 nsb;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned int
rnd(unsigned int n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned int)(rng_state % n);
}

/* --- a plain libvterm terminal --------------------------------------- */

static int
term_prop(VTermProp prop, VTermValue *val, void *arg)
{
	struct term	*t = arg;

	if (prop == VTERM_PROP_TITLE)
		snprintf(t->title, sizeof t->title, "%s", val->string);
	else if (prop == VTERM_PROP_CURSORVISIBLE)
		t->visible = val->boolean;
	return 1;
}

static int
term_pushline(int cols, const VTermScreenCell *cells, void *arg)
{
	struct term	*t = arg;
	char		*line, *p, **nsb;
	int		 i, j;

	if (!t->record)
		return 0;
	line = p = malloc((size_t)cols * 24 + 1);
	nsb = realloc(t->sb, (t->nsb + 1) * sizeof *t->sb);
	if (line == NULL || nsb == NULL) {
		free(line);
		if (nsb != NULL)
			t->sb = nsb;
		return 0;
	}
	t->sb = nsb;
	for (i = 0; i < cols; i++) {
		if (cells[i].chars[0] == (uint32_t)-1)
			continue;
		if (cells[i].chars[0] == 0) {
			*p++ = ' ';
			continue;
		}
		for (j = 0; j < VTERM_MAX_CHARS_PER_CELL && cells[i].chars[j];
		    j++) {
			if (cells[i].chars[j] < 0x80)
				*p++ = (char)cells[i].chars[j];
			else
				*p++ = '?';
		}
	}
	while (p > line && p[-1] == ' ')
		p--;
	*p = '\0';
	t->sb[t->nsb++] = line;
	return 1;
}

static const VTermScreenCallbacks term_cbs = {
	.settermprop = term_prop,
	.sb_pushline = term_pushline,
};

static struct term *
term_new(int rows, int cols)
{
	struct term	*t;

	t = calloc(1, sizeof *t);
	if (t == NULL)
		abort();
	t->vt = vterm_new(rows, cols);
	vterm_set_utf8(t->vt, 1);
	t->vs = vterm_obtain_screen(t->vt);
	t->st = vterm_obtain_state(t->vt);
	vterm_screen_set_callbacks(t->vs, &term_cbs, t);
	vterm_screen_enable_altscreen(t->vs, 1);
	vterm_screen_reset(t->vs, 1);
	return t;
}

static void
term_free(struct term *t)
{
	size_t	i;

	for (i = 0; i < t->nsb; i++)
		free(t->sb[i]);
	free(t->sb);
	vterm_free(t->vt);
	free(t);
}

/* Write in pieces of at most 64 KiB, never splitting a character. */
static void
term_write(struct term *t, const char *p, size_t n)
{
	size_t	chunk;

	while (n > 0) {
		chunk = n > 65536 ? 65536 : n;
		while (chunk < n && chunk > 1 &&
		    ((unsigned char)p[chunk] & 0xc0) == 0x80)
			chunk--;
		vterm_input_write(t->vt, p, chunk);
		p += chunk;
		n -= chunk;
	}
}

/*
 * libvterm 0.1.4 can put the cursor on a negative row when a resize
 * pushes lines off the top; upstream (1e4f44e) and screen.c clamp it to
 * row 0, so the reference does too.
 */
static void
term_resize(struct term *t, int rows, int cols)
{
	VTermPos	pos;
	char		cup[32];

	vterm_set_size(t->vt, rows, cols);
	vterm_state_get_cursorpos(t->st, &pos);
	if (pos.row < 0) {
		snprintf(cup, sizeof cup, "\033[1;%dH", pos.col + 1);
		term_write(t, cup, strlen(cup));
	}
}

static void
term_buf(struct term *t, struct buf *b)
{
	term_write(t, buf_ptr(b), buf_used(b));
}

/* --- comparing two terminals ----------------------------------------- */

static void
get_cell(struct term *t, int row, int col, VTermScreenCell *c)
{
	memset(c, 0, sizeof *c);	/* get_cell leaves stale chars */
	vterm_screen_get_cell(t->vs, (VTermPos){ row, col }, c);
}

static int
color_eq(const VTermColor *a, const VTermColor *b)
{
	if ((a->type & VTERM_COLOR_DEFAULT_MASK) !=
	    (b->type & VTERM_COLOR_DEFAULT_MASK))
		return 0;
	if (a->type & VTERM_COLOR_DEFAULT_MASK)
		return 1;
	if (VTERM_COLOR_IS_INDEXED(a) != VTERM_COLOR_IS_INDEXED(b))
		return 0;
	if (VTERM_COLOR_IS_INDEXED(a))
		return a->indexed.idx == b->indexed.idx;
	return a->rgb.red == b->rgb.red && a->rgb.green == b->rgb.green &&
	    a->rgb.blue == b->rgb.blue;
}

static int
attrs_eq(const VTermScreenCellAttrs *a, const VTermScreenCellAttrs *b)
{
	return a->bold == b->bold && a->underline == b->underline &&
	    a->italic == b->italic && a->blink == b->blink &&
	    a->reverse == b->reverse && a->strike == b->strike &&
	    a->font == b->font;
}

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

/*
 * libvterm can hold half-glyph states that no byte stream recreates (a
 * narrow glyph over a wide one's left half keeps a stale right half, a
 * wide glyph cut by a resize or by a write over its right half reports
 * width 1, right halves can lose their left).  Every terminal shows a
 * blank there, and so does the renderer; compare on those terms.  A
 * right half's pen is never seen and does not count.
 */
static void
canon_row(VTermScreenCell *row, char *ignore, int cols)
{
	VTermScreenCell	*c;
	int		 x;

	for (x = 0; x < cols; x++) {
		c = &row[x];
		ignore[x] = 0;
		if (c->chars[0] == (uint32_t)-1) {
			/* get_cell copies stale chars after the marker too */
			memset(c->chars + 1, 0, sizeof c->chars -
			    sizeof c->chars[0]);
			c->width = 1;
			ignore[x] = 1;
			if (x == 0 || row[x - 1].width != 2)
				c->chars[0] = 0;
		} else if (c->width == 2 && (c->chars[0] < 0x1100 ||
		    (c->chars[0] >= 0x2500 && c->chars[0] < 0x25a0)))
			c->width = 1;
		else if (c->width == 1 && glyph_wide(c->chars[0]))
			memset(c->chars, 0, sizeof c->chars);
	}
}

static int
cells_eq(VTermScreenCell *a, VTermScreenCell *b, int ignore)
{
	int	i;

	for (i = 0; i < VTERM_MAX_CHARS_PER_CELL; i++) {
		if (a->chars[i] != b->chars[i])
			return 0;
		if (a->chars[i] == 0)
			break;
	}
	if (a->width != b->width)
		return 0;
	if (ignore)
		return 1;
	return attrs_eq(&a->attrs, &b->attrs) && color_eq(&a->fg, &b->fg) &&
	    color_eq(&a->bg, &b->bg);
}

static void
cell_desc(char *d, size_t len, const VTermScreenCell *c)
{
	const VTermScreenCellAttrs	*a = &c->attrs;

	snprintf(d, len, "U+%04X+%04X w%d fg%02x:%02x%02x%02x "
	    "bg%02x:%02x%02x%02x b%d u%d i%d k%d r%d s%d f%d dwl%d dhl%d",
	    c->chars[0], c->chars[1], c->width, c->fg.type, c->fg.rgb.red,
	    c->fg.rgb.green, c->fg.rgb.blue,
	    c->bg.type, c->bg.rgb.red, c->bg.rgb.green, c->bg.rgb.blue,
	    a->bold, a->underline, a->italic, a->blink, a->reverse, a->strike,
	    a->font, a->dwl, a->dhl);
}

static void
report(const char *what, int row, int col, VTermScreenCell *a,
    VTermScreenCell *b)
{
	char	da[160], db[160];

	cell_desc(da, sizeof da, a);
	cell_desc(db, sizeof db, b);
	fprintf(stderr, "  %s: cell %d,%d:\n    want %s\n    got  %s\n", what,
	    row, col, da, db);
}

/*
 * Line size is compared once per row, through the first cell's dwl/dhl:
 * libvterm 0.1.4 shares one lineinfo array between the primary and
 * alternate screens, so after a switch vterm_state_get_lineinfo() can
 * disagree with the cells, and cells written later in the row can even
 * disagree with those before them.  The row's first cell decides.
 */
static int
compare_row(const char *what, struct term *want, struct term *got, int row,
    int cols, int *shown)
{
	VTermScreenCell	*a, *b;
	char		*ia, *ib;
	int		 col, width, bad = 0;

	a = calloc((size_t)cols, sizeof *a);
	b = calloc((size_t)cols, sizeof *b);
	ia = calloc((size_t)cols, 1);
	ib = calloc((size_t)cols, 1);
	if (a == NULL || b == NULL || ia == NULL || ib == NULL)
		abort();
	for (col = 0; col < cols; col++) {
		get_cell(want, row, col, &a[col]);
		get_cell(got, row, col, &b[col]);
	}
	canon_row(a, ia, cols);
	canon_row(b, ib, cols);
	if (a[0].attrs.dwl != b[0].attrs.dwl ||
	    a[0].attrs.dhl != b[0].attrs.dhl) {
		if ((*shown)++ < MAX_REPORT)
			fprintf(stderr, "  %s: row %d line size %d/%d != "
			    "%d/%d\n", what, row, a[0].attrs.dwl,
			    a[0].attrs.dhl, b[0].attrs.dwl, b[0].attrs.dhl);
		bad++;
	}
	/* The right half of a double-width line cannot be seen. */
	width = a[0].attrs.dwl ? cols / 2 : cols;
	for (col = 0; col < width; col++) {
		if (!cells_eq(&a[col], &b[col], ia[col] || ib[col])) {
			if ((*shown)++ < MAX_REPORT)
				report(what, row, col, &a[col], &b[col]);
			bad++;
		}
	}
	free(a);
	free(b);
	free(ia);
	free(ib);
	return bad;
}

static int
pen_eq(struct term *a, struct term *b)
{
	VTermValue	va, vb;
	int		attr;

	for (attr = VTERM_ATTR_BOLD; attr < VTERM_N_ATTRS; attr++) {
		vterm_state_get_penattr(a->st, attr, &va);
		vterm_state_get_penattr(b->st, attr, &vb);
		if (attr == VTERM_ATTR_FOREGROUND ||
		    attr == VTERM_ATTR_BACKGROUND) {
			if (!color_eq(&va.color, &vb.color))
				return 0;
		} else if (attr == VTERM_ATTR_UNDERLINE ||
		    attr == VTERM_ATTR_FONT) {
			if (va.number != vb.number)
				return 0;
		} else if (!va.boolean != !vb.boolean)
			return 0;
	}
	return 1;
}

/* Mismatches between the reference and a client that replayed a render. */
static int
compare(const char *what, struct term *want, struct term *got, int checkpen)
{
	VTermPos	pa, pb;
	int		rows, cols, r2, c2, row, bad = 0, shown = 0;

	vterm_get_size(want->vt, &rows, &cols);
	vterm_get_size(got->vt, &r2, &c2);
	if (rows != r2 || cols != c2) {
		fprintf(stderr, "  %s: size %dx%d != %dx%d\n", what, rows,
		    cols, r2, c2);
		return 1;
	}
	for (row = 0; row < rows; row++)
		bad += compare_row(what, want, got, row, cols, &shown);
	vterm_state_get_cursorpos(want->st, &pa);
	vterm_state_get_cursorpos(got->st, &pb);
	/* libvterm leaves the cursor past a line made double width */
	if (pa.row >= 0 && pa.row < rows) {
		VTermScreenCell	c;

		get_cell(want, pa.row, 0, &c);
		if (c.attrs.dwl && pa.col >= cols / 2)
			pa.col = cols / 2 - 1;
	}
	if (pa.row != pb.row || pa.col != pb.col) {
		fprintf(stderr, "  %s: cursor %d,%d != %d,%d\n", what, pa.row,
		    pa.col, pb.row, pb.col);
		bad++;
	}
	if (want->visible != got->visible) {
		fprintf(stderr, "  %s: cursor visible %d != %d\n", what,
		    want->visible, got->visible);
		bad++;
	}
	if (strcmp(want->title, got->title) != 0) {
		fprintf(stderr, "  %s: title \"%s\" != \"%s\"\n", what,
		    want->title, got->title);
		bad++;
	}
	if (checkpen && !pen_eq(want, got)) {
		fprintf(stderr, "  %s: application pen differs\n", what);
		bad++;
	}
	return bad;
}

static int
contains(struct buf *b, const char *s)
{
	return memmem(buf_ptr(b), buf_used(b), s, strlen(s)) != NULL;
}

/* --- inputs ----------------------------------------------------------- */

static void
in_plain(struct buf *b)
{
	int	i;

	for (i = 0; i < 30; i++)
		buf_printf(b, "line %d: the quick brown fox\tjumps\r\n", i);
	buf_puts(b, "prompt$ ");
}

static void
in_colours(struct buf *b)
{
	int	i;

	for (i = 0; i < 8; i++)
		buf_printf(b, "\033[3%d;4%dm%d\033[9%d;10%dm%d", i, 7 - i, i,
		    i, 7 - i, i);
	buf_puts(b, "\033[39;49m default\r\n");
	for (i = 0; i < 256; i++)
		buf_printf(b, "\033[38;5;%dm\033[48;5;%dm%c", i, 255 - i,
		    'A' + i % 26);
	buf_puts(b, "\033[m\r\n");
	for (i = 0; i < 120; i++)
		buf_printf(b, "\033[38;2;%d;%d;%dm\033[48;2;%d;%d;%dmx",
		    i * 2, 255 - i, i % 7 * 30, i, i * 2, 200);
	buf_puts(b, "\033[39mfg-default\033[49mbg-default\033[0m\r\n");
	/* coloured blanks come from erases with a coloured pen */
	buf_puts(b, "\033[44mblue bg erase:\033[K\r\n"
	    "\033[41m\033[5X\033[0m\r\n");
}

static void
in_attrs(struct buf *b)
{
	buf_puts(b, "\033[1mbold\033[3mitalic\033[4munder\033[4:2mdouble"
	    "\033[4:3mcurly\033[21mdbl21\033[24m\033[5mblink\033[7mrev"
	    "\033[9mstrike\033[11mfont1\033[10m\033[22;23;25;27;29mplain\r\n");
	buf_puts(b, "\033[1;4;7;31;42mall\033[0m "
	    "\033[2;3mdim-italic\033[0m\r\n");
	buf_puts(b, "\033[7m\033[2K\033[0mreverse erased line above\r\n");
	buf_puts(b, "\033[1;38;5;200mbold-256\033[22mnormal\033[0m\r\n");
}

static void
in_unicode(struct buf *b)
{
	buf_puts(b, "CJK: \xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97\xe7\xac\xa6 "
	    "\xed\x95\x9c\xea\xb8\x80 end\r\n");
	buf_puts(b, "combining: e\xcc\x81 a\xcc\x80\xcc\x81 n\xcc\x83 "
	    "\xe4\xb8\xad\xcc\x81\r\n");
	buf_puts(b, "box: \xe2\x94\x8c\xe2\x94\x80\xe2\x94\x90 greek "
	    "\xce\xb1\xce\xb2\xce\xb3 cyr \xd0\x96 euro \xe2\x82\xac\r\n");
	buf_puts(b, "emoji: \xf0\x9f\x98\x80 heart \xe2\x9d\xa4\xef\xb8\x8f "
	    "ok\r\n");
	/* a wide char that does not fit at the end of the line wraps */
	buf_puts(b, "\033[79G\xe4\xb8\xad\xe4\xb8\xad\r\n");
	buf_puts(b, "\033[31m\xe4\xb8\xad\033[42m\xe6\x96\x87\033[0m\r\n");
}

static void
in_moves(struct buf *b)
{
	int	i;

	buf_puts(b, "\033[2J");
	for (i = 0; i < 40; i++)
		buf_printf(b, "\033[%d;%dH%c\033[3%dm*\033[0m", 1 + i % 20,
		    1 + (i * 7) % 70, 'a' + i % 26, i % 8);
	buf_puts(b, "\033[10;10Habc\033[2Ddef\033[3Cghi\033[2Ajkl\033[Bmno");
	buf_puts(b, "\0337\033[20;1Hsaved\0338restored\tt\tt");
}

static void
in_scroll_region(struct buf *b)
{
	int	i;

	for (i = 0; i < 24; i++)
		buf_printf(b, "\033[%d;1Hrow %d fixed", i + 1, i);
	buf_puts(b, "\033[5;15r\033[15;1H");
	for (i = 0; i < 30; i++)
		buf_printf(b, "\n\033[3%dmscrolled %d\033[0m\r", i % 8, i);
	buf_puts(b, "\033[5;1H\033M\033MRI-top\033[8;1H\033[3L\033[2M");
	buf_puts(b, "\033[9;5H\033[4@INS\033[2P\033[r\033[24;1H\r\n\r\ntail");
}

static void
in_altscreen(struct buf *b)
{
	int	i;

	for (i = 0; i < 10; i++)
		buf_printf(b, "primary %d\r\n", i);
	buf_puts(b, "\033[?1049h\033[H\033[2J");
	for (i = 0; i < 24; i++)
		buf_printf(b, "\033[%d;1H\033[44;37malt %d\033[K", i + 1, i);
	buf_puts(b, "\033[0m\033[12;30H");
}

static void
in_title_clear(struct buf *b)
{
	buf_puts(b, "\033]2;first title\007junk that goes away");
	buf_puts(b, "\033[2J\033[Hafter clear\r\n\033]0;second title\033\\");
	buf_puts(b, "abcdefghij\033[5D\033[K\r\nklmnop\033[3D\033[1K\r\n");
	buf_puts(b, "\033[5;1Hqrstuvwxyz\033[2G\033[J");
}

static void
in_wrap(struct buf *b)
{
	int	i;

	for (i = 0; i < 700; i++)
		buf_printf(b, "\033[3%dm%c", i % 8, 'a' + i % 26);
	buf_puts(b, "\033[0m\r\n");
	for (i = 0; i < 80; i++)
		buf_puts(b, "=");
	buf_puts(b, "X");
}

static void
in_seq(struct buf *b)
{
	int	i;

	for (i = 1; i <= 5000; i++)
		buf_printf(b, "%d\r\n", i);
}

static void
in_misc(struct buf *b)
{
	buf_puts(b, "\033#6double width\r\n\033#3double top\r\n"
	    "\033#4double top\r\nnormal\r\n");
	buf_puts(b, "\033[?5h\033[5 q\033[?25l");
	buf_puts(b, "\033[10;1Hinsert\033[4h\033[10;1H>>\033[4l");
	buf_puts(b, "\033[24;1H");
	buf_puts(b, "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789");
	buf_puts(b, "\033[1;33;44m");	/* pen left set for raw bytes */
}

struct input {
	const char	*name;
	void		(*fn)(struct buf *);
};

static const struct input inputs[] = {
	{ "plain", in_plain },
	{ "colours", in_colours },
	{ "attrs", in_attrs },
	{ "unicode", in_unicode },
	{ "moves", in_moves },
	{ "scroll-region", in_scroll_region },
	{ "altscreen", in_altscreen },
	{ "title-clear", in_title_clear },
	{ "wrap", in_wrap },
	{ "seq", in_seq },
	{ "misc", in_misc },
};

/* --- tests ------------------------------------------------------------ */

static void
feed_split(struct screen *s, const char *p, size_t n)
{
	size_t	k;

	while (n > 0) {
		k = 1 + rnd(7);
		if (k > n)
			k = n;
		screen_feed(s, p, k);
		p += k;
		n -= k;
	}
}

/* Render s in full, replay into a fresh client and compare with ref. */
static int
full_matches(const char *what, struct screen *s, struct term *ref)
{
	struct buf	 out = BUF_INIT;
	struct term	*client;
	int		 rows, cols, bad;

	screen_size(s, &rows, &cols);
	client = term_new(rows, cols);
	CHECK(screen_render_full(s, &out, 0) == 0);
	CHECK(!contains(&out, "\033[?1049"));
	term_buf(client, &out);
	bad = compare(what, ref, client, 1);
	term_free(client);
	buf_free(&out);
	return bad;
}

static void
test_full_render(void)
{
	static const int	 sizes[][2] = {
		{ 24, 80 }, { 50, 200 }, { 5, 12 },
	};
	struct buf		 in = BUF_INIT;
	struct screen		*s;
	struct term		*ref;
	char			 what[96];
	size_t			 i, z;
	int			 split;

	for (z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
		for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
			buf_reset(&in);
			inputs[i].fn(&in);
			for (split = 0; split < 2; split++) {
				s = screen_new(sizes[z][0], sizes[z][1], 100);
				ref = term_new(sizes[z][0], sizes[z][1]);
				CHECK(s != NULL);
				if (split)
					feed_split(s, buf_ptr(&in),
					    buf_used(&in));
				else
					screen_feed(s, buf_ptr(&in),
					    buf_used(&in));
				term_buf(ref, &in);
				snprintf(what, sizeof what, "full %s %dx%d%s",
				    inputs[i].name, sizes[z][0], sizes[z][1],
				    split ? " split" : "");
				CHECK_INT(full_matches(what, s, ref), 0);
				term_free(ref);
				screen_free(s);
			}
		}
	}
	buf_free(&in);
}

static void
test_altscreen(void)
{
	struct buf	 in = BUF_INIT;
	struct screen	*s = screen_new(24, 80, 0);
	struct term	*ref = term_new(24, 80);

	in_altscreen(&in);
	screen_feed(s, buf_ptr(&in), buf_used(&in));
	term_buf(ref, &in);
	CHECK(screen_altscreen(s));
	CHECK_INT(full_matches("alt on", s, ref), 0);

	/* leaving the alt screen must bring the primary back intact */
	FEED(s, "\033[?1049l");
	WRITE(ref, "\033[?1049l");
	CHECK(!screen_altscreen(s));
	CHECK_INT(full_matches("alt off", s, ref), 0);
	buf_reset(&in);
	CHECK(screen_row_text(s, 0, &in) == 0);
	CHECK_STR(buf_cstr(&in), "primary 0");
	buf_free(&in);
	term_free(ref);
	screen_free(s);
}

/*
 * One random edit of the kind full-screen programs make.  DECDWL is left
 * out here: libvterm 0.1.4 shares line sizes between the primary and
 * alternate screens, so mixing the two leaves its own model
 * inconsistent (test_diff_lines covers DECDWL on one screen).
 */
static void
random_edit(struct buf *b, int rows, int cols, int dwl)
{
	static const char *const glyphs[] = {
		"a", "Z", "~", " ", "\xe4\xb8\xad", "\xe6\x96\x87",
		"e\xcc\x81", "\xe2\x94\x80", "\xce\xbb",
	};
	int	i, n, k = (int)rnd(16);

	buf_printf(b, "\033[%d;%dH", 1 + (int)rnd((unsigned int)rows),
	    1 + (int)rnd((unsigned int)cols));
	switch (k) {
	case 0:
		buf_printf(b, "\033[%d;%dm", 30 + (int)rnd(8),
		    40 + (int)rnd(8));
		break;
	case 1:
		buf_printf(b, "\033[38;5;%d;48;2;%d;%d;%dm", (int)rnd(256),
		    (int)rnd(256), (int)rnd(256), (int)rnd(256));
		break;
	case 2:
		buf_printf(b, "\033[%dm", (int)"1345790"[rnd(7)] - '0');
		break;
	case 3:
		buf_printf(b, "\033[4%dm\033[%dX", (int)rnd(9),
		    1 + (int)rnd(10));
		break;
	case 4:
		buf_printf(b, "\033[%dK", (int)rnd(3));
		break;
	case 5:
		buf_printf(b, "\033[%d;%dr\033[%dH", 1 + (int)rnd(4),
		    rows - (int)rnd(4), rows);
		for (i = (int)rnd(5); i >= 0; i--)
			buf_printf(b, "\nscroll %d", i);
		buf_puts(b, "\033[r");
		break;
	case 6:
		if (!dwl)
			buf_puts(b, rnd(2) ? "\033[?1049h" : "\033[?1049l");
		break;
	case 7:
		buf_printf(b, "\033]2;title %u\007", rnd(5));
		break;
	case 8:
		buf_puts(b, rnd(2) ? "\033[?25l" : "\033[?25h");
		break;
	case 9:
		buf_printf(b, "\033[%dL", 1 + (int)rnd(3));
		break;
	case 10:
		buf_printf(b, "\033[%dP", 1 + (int)rnd(5));
		break;
	case 11:
		if (dwl)
			buf_puts(b, rnd(3) == 0 ? "\033#6" : "\033#5");
		else
			buf_printf(b, "\033[%d@", 1 + (int)rnd(4));
		break;
	case 12:
		buf_puts(b, rnd(2) ? "\033[?1h\033[?1000h" :
		    "\033[?1l\033[?1000l");
		break;
	case 13:
		buf_printf(b, "\033[%d q", (int)rnd(7));
		break;
	case 14:
		if (rnd(4) == 0)
			buf_puts(b, "\033[2J");
		break;
	default:
		buf_puts(b, "\033[0m");
		break;
	}
	n = (int)rnd(30);
	for (i = 0; i < n; i++)
		buf_puts(b, glyphs[rnd(sizeof glyphs / sizeof glyphs[0])]);
	if (rnd(8) == 0)
		buf_puts(b, "\r\n\r\n");
}

struct viewer {
	struct screen_frame	*frame;
	struct term		*term;
	int			 every;
};

static int
viewer_step(struct viewer *v, struct screen *s, struct term *ref,
    const char *what)
{
	struct buf	out = BUF_INIT;
	int		rows, cols, trows, tcols, bad;

	screen_size(s, &rows, &cols);
	vterm_get_size(v->term->vt, &trows, &tcols);
	if (rows != trows || cols != tcols)
		vterm_set_size(v->term->vt, rows, cols);  /* client resized */
	CHECK(screen_render_frame(s, v->frame, &out) == 0);
	CHECK(!contains(&out, "\033[?1049"));
	term_buf(v->term, &out);
	bad = compare(what, ref, v->term, 0);

	/* nothing changed: nothing to send */
	buf_reset(&out);
	CHECK(screen_render_frame(s, v->frame, &out) == 0);
	CHECK_INT(buf_used(&out), 0);
	buf_free(&out);
	return bad;
}

static void
test_diff_frames(void)
{
	struct viewer	 v[3];
	struct buf	 in = BUF_INIT;
	struct screen	*s = screen_new(24, 80, 50);
	struct term	*ref = term_new(24, 80);
	char		 what[64];
	int		 step, i, rows = 24, cols = 80, bad = 0;

	for (i = 0; i < 3; i++) {
		v[i].frame = screen_frame_new();
		v[i].term = term_new(rows, cols);
		v[i].every = i == 0 ? 1 : i == 1 ? 3 : 17;
		CHECK(v[i].frame != NULL);
	}
	for (step = 0; step < 600; step++) {
		buf_reset(&in);
		random_edit(&in, rows, cols, 0);
		screen_feed(s, buf_ptr(&in), buf_used(&in));
		term_buf(ref, &in);
		if (step % 150 == 149) {
			rows = 10 + (int)rnd(40);
			cols = 20 + (int)rnd(150);
			CHECK(screen_resize(s, rows, cols) == 0);
			term_resize(ref, rows, cols);
		}
		for (i = 0; i < 3; i++) {
			if (step % v[i].every != 0)
				continue;
			snprintf(what, sizeof what, "diff viewer %d step %d",
			    i, step);
			bad += viewer_step(&v[i], s, ref, what);
		}
		if (bad > 0)
			break;
	}
	CHECK_INT(bad, 0);
	for (i = 0; i < 3; i++) {
		screen_frame_free(v[i].frame);
		term_free(v[i].term);
	}
	buf_free(&in);
	term_free(ref);
	screen_free(s);
}

/* DECDWL/DECDHL lines coming and going, on the primary screen only. */
static void
test_diff_lines(void)
{
	struct viewer	 v;
	struct buf	 in = BUF_INIT;
	struct screen	*s = screen_new(12, 40, 0);
	struct term	*ref = term_new(12, 40);
	char		 what[64];
	int		 step, bad = 0;

	v.frame = screen_frame_new();
	v.term = term_new(12, 40);
	for (step = 0; step < 300 && bad == 0; step++) {
		buf_reset(&in);
		random_edit(&in, 12, 40, 1);
		if (step % 4 == 0)
			buf_printf(&in, "\033[%u;1H\033#%c", 1 + rnd(12),
			    "3456"[rnd(4)]);
		screen_feed(s, buf_ptr(&in), buf_used(&in));
		term_buf(ref, &in);
		snprintf(what, sizeof what, "lines step %d", step);
		bad += viewer_step(&v, s, ref, what);
	}
	CHECK_INT(bad, 0);
	screen_frame_free(v.frame);
	term_free(v.term);
	term_free(ref);
	buf_free(&in);
	screen_free(s);
}

/* A small diff must stay small: one changed cell, not a repaint. */
static void
test_diff_small(void)
{
	struct screen_frame	*f = screen_frame_new();
	struct screen		*s = screen_new(24, 80, 0);
	struct buf		 in = BUF_INIT, out = BUF_INIT;

	in_plain(&in);
	screen_feed(s, buf_ptr(&in), buf_used(&in));
	CHECK(screen_render_frame(s, f, &out) == 0);
	CHECK(buf_used(&out) > 500);
	buf_reset(&out);
	FEED(s, "x");
	CHECK(screen_render_frame(s, f, &out) == 0);
	CHECK(buf_used(&out) > 0 && buf_used(&out) < 40);
	CHECK(contains(&out, "x"));
	screen_frame_free(f);
	screen_free(s);
	buf_free(&in);
	buf_free(&out);
}

static void
row_text(struct screen *s, int row, char *dst, size_t len)
{
	struct buf	b = BUF_INIT;

	CHECK(screen_row_text(s, row, &b) == 0);
	snprintf(dst, len, "%s", buf_used(&b) ? buf_cstr(&b) : "");
	buf_free(&b);
}

static void
test_utf8_holdback(void)
{
	static const char	 in[] = "\xe4\xb8\xad" "e\xcc\x81"
	    "\xf0\x9f\x98\x80" "x";
	struct screen		*whole = screen_new(3, 20, 0);
	struct screen		*bytes = screen_new(3, 20, 0);
	struct screen		*split = screen_new(3, 20, 0);
	struct term		*ref = term_new(3, 20);
	struct term		*raw = term_new(3, 20);
	VTermScreenCell		 c;
	char			 a[64], b[64];
	size_t			 i;

	screen_feed(whole, in, sizeof in - 1);
	for (i = 0; i < sizeof in - 1; i++)
		screen_feed(bytes, in + i, 1);
	/* the split the libvterm bug needs: base + half a combining mark */
	FEED(split, "\xe4\xb8\xad" "e\xcc");
	FEED(split, "\x81" "\xf0\x9f");
	FEED(split, "\x98\x80x");
	term_write(ref, in, sizeof in - 1);

	row_text(whole, 0, a, sizeof a);
	CHECK_STR(a, "\xe4\xb8\xad" "e\xcc\x81" "\xf0\x9f\x98\x80" "x");
	row_text(bytes, 0, b, sizeof b);
	CHECK_STR(b, a);
	row_text(split, 0, b, sizeof b);
	CHECK_STR(b, a);
	CHECK_INT(full_matches("holdback bytes", bytes, ref), 0);
	CHECK_INT(full_matches("holdback split", split, ref), 0);

	/* The guard is needed: raw libvterm gets this split wrong. */
	vterm_input_write(raw->vt, "e\xcc", 2);
	vterm_input_write(raw->vt, "\x81", 1);
	get_cell(raw, 0, 0, &c);
	CHECK(c.chars[0] != 'e' || c.chars[1] != 0x301);

	term_free(ref);
	term_free(raw);
	screen_free(whole);
	screen_free(bytes);
	screen_free(split);
}

static void
test_big_feed(void)
{
	struct buf	 in = BUF_INIT;
	struct screen	*s = screen_new(24, 80, 1000);
	struct term	*ref = term_new(24, 80);
	int		 i = 0;

	while (buf_used(&in) < 3 * 1024 * 1024) {
		buf_printf(&in, "\033[3%dm%07d \xe4\xb8\xad\xe6\x96\x87 "
		    "e\xcc\x81 %s\033[0m\r\n", i % 8, i,
		    "the quick brown fox jumps over the lazy dog");
		i++;
	}
	screen_feed(s, buf_ptr(&in), buf_used(&in));	/* one call */
	term_buf(ref, &in);
	CHECK_INT(full_matches("3 MB feed", s, ref), 0);
	buf_free(&in);
	term_free(ref);
	screen_free(s);
}

static void
modes_of(struct screen *s, struct buf *out)
{
	buf_reset(out);
	CHECK(screen_render_modes(s, out) == 0);
}

static void
test_modes(void)
{
	struct screen	*s = screen_new(24, 80, 0), *t;
	struct buf	 out = BUF_INIT, out2 = BUF_INIT;
	static const char paste[] = "\033[?2004h";
	size_t		 i;

	modes_of(s, &out);
	CHECK(contains(&out, "\033[?1l"));
	CHECK(contains(&out, "\033>"));
	CHECK(contains(&out, "\033[?2004l"));
	CHECK(contains(&out, "\033[?1000l"));
	CHECK(contains(&out, "\033[?1006l"));

	FEED(s, "\033[?");
	FEED(s, "1h");
	for (i = 0; i < sizeof paste - 1; i++)
		screen_feed(s, paste + i, 1);
	FEED(s, "\033");
	FEED(s, "=");
	modes_of(s, &out);
	CHECK(contains(&out, "\033[?1h"));
	CHECK(contains(&out, "\033[?2004h"));
	CHECK(contains(&out, "\033="));

	/* several modes in one sequence, which libvterm 0.1.4 ignores */
	FEED(s, "\033[?1002;1006h");
	modes_of(s, &out);
	CHECK(contains(&out, "\033[?1002h"));
	CHECK(contains(&out, "\033[?1006h"));
	CHECK(contains(&out, "\033[?1000l"));

	/* replayed into another screen the modes come out the same */
	t = screen_new(24, 80, 0);
	screen_feed(t, buf_ptr(&out), buf_used(&out));
	modes_of(t, &out2);
	CHECK(buf_used(&out) == buf_used(&out2) &&
	    memcmp(buf_ptr(&out), buf_ptr(&out2), buf_used(&out)) == 0);
	screen_free(t);

	/* not modes: inside a string, cancelled, or with another leader */
	FEED(s, "\033]2;[?1l\007\033[?1\030l\033[>1l\033[?1$l");
	modes_of(s, &out);
	CHECK(contains(&out, "\033[?1h"));

	FEED(s, "\033[?1l");
	FEED(s, "\033[?2004");
	FEED(s, "l\033>\033[?1002l");
	modes_of(s, &out);
	CHECK(contains(&out, "\033[?1l"));
	CHECK(contains(&out, "\033[?2004l"));
	CHECK(contains(&out, "\033>"));
	CHECK(contains(&out, "\033[?1002l"));
	CHECK(!contains(&out, "\033[?1002h"));
	CHECK(contains(&out, "\033[?1006h"));	/* encoding stays */

	/* a full render carries the modes, and RIS clears them */
	FEED(s, "\033[?1h");
	buf_reset(&out);
	CHECK(screen_render_full(s, &out, 0) == 0);
	CHECK(contains(&out, "\033[?1h"));
	FEED(s, "\033c");
	modes_of(s, &out);
	CHECK(contains(&out, "\033[?1l"));
	CHECK(contains(&out, "\033[?1006l"));
	CHECK(!contains(&out, "\033[?1006h"));

	buf_free(&out);
	buf_free(&out2);
	screen_free(s);
}

static void
test_scrollback(void)
{
	struct screen	*s = screen_new(10, 40, 50), *none;
	struct term	*ref = term_new(10, 40), *client;
	struct buf	 in = BUF_INIT, out = BUF_INIT;
	char		 want[32];
	size_t		 i, first;
	int		 n;

	for (n = 1; n <= 200; n++)
		buf_printf(&in, "line %d \xe4\xb8\xad\r\n", n);
	screen_feed(s, buf_ptr(&in), buf_used(&in));
	term_buf(ref, &in);

	/* 191 lines went off the top; the ring keeps the newest 50 */
	CHECK(screen_render_full(s, &out, 1) == 0);
	CHECK(contains(&out, "line 142 \xe4\xb8\xad\r\n"));
	CHECK(contains(&out, "line 191 \xe4\xb8\xad\r\n"));
	CHECK(!contains(&out, "line 141 "));
	buf_reset(&out);
	CHECK(screen_render_full(s, &out, 0) == 0);
	CHECK(!contains(&out, "line 150"));

	/* a client's own scrollback ends with those lines, screen intact */
	buf_reset(&out);
	CHECK(screen_render_full(s, &out, 1) == 0);
	client = term_new(10, 40);
	client->record = 1;
	term_buf(client, &out);
	CHECK(client->nsb >= 50);
	first = client->nsb - 50;
	for (i = 0; i < 50 && client->nsb >= 50; i++) {
		/* the recorder writes ? for each non-ASCII glyph */
		snprintf(want, sizeof want, "line %zu ?", 142 + i);
		CHECK_STR(client->sb[first + i], want);
	}
	CHECK_INT(compare("scrollback", ref, client, 1), 0);
	term_free(client);

	/* without a ring there is nothing to send */
	none = screen_new(10, 40, 0);
	screen_feed(none, buf_ptr(&in), buf_used(&in));
	buf_reset(&out);
	CHECK(screen_render_full(none, &out, 1) == 0);
	CHECK(!contains(&out, "line 150"));
	screen_free(none);

	buf_free(&in);
	buf_free(&out);
	term_free(ref);
	screen_free(s);
}

static void
test_sizes(void)
{
	struct screen	*s;
	int		 rows, cols;

	CHECK(screen_new(0, 80, 0) == NULL);
	CHECK(screen_new(24, 0, 0) == NULL);
	CHECK(screen_new(-1, 80, 0) == NULL);
	CHECK(screen_new(24, -80, 0) == NULL);
	CHECK(screen_new(SCREEN_MAX_ROWS + 1, 80, 0) == NULL);
	CHECK(screen_new(24, SCREEN_MAX_COLS + 1, 0) == NULL);
	s = screen_new(1, 1, 0);
	CHECK(s != NULL);
	screen_free(s);
	s = screen_new(SCREEN_MAX_ROWS, SCREEN_MAX_COLS, 10);
	CHECK(s != NULL);
	screen_free(s);

	s = screen_new(24, 80, 0);
	CHECK(screen_resize(s, 0, 80) == -1);
	CHECK(screen_resize(s, 24, -1) == -1);
	CHECK(screen_resize(s, SCREEN_MAX_ROWS + 1, 80) == -1);
	CHECK(screen_resize(s, 24, SCREEN_MAX_COLS + 1) == -1);
	screen_size(s, &rows, &cols);
	CHECK_INT(rows, 24);
	CHECK_INT(cols, 80);
	screen_free(s);
}

static void
test_resize(void)
{
	static const int	 sizes[][2] = {
		{ 30, 100 }, { 10, 40 }, { 24, 80 }, { 1, 1 }, { 24, 80 },
	};
	struct screen		*s = screen_new(24, 80, 100);
	struct term		*ref = term_new(24, 80);
	struct buf		 in = BUF_INIT;
	char			 what[64], text[128];
	size_t			 i;
	int			 rows, cols;

	buf_puts(&in, "\033[1;31mfirst line\033[0m\r\n");
	in_unicode(&in);
	in_plain(&in);
	screen_feed(s, buf_ptr(&in), buf_used(&in));
	term_buf(ref, &in);
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		CHECK(screen_resize(s, sizes[i][0], sizes[i][1]) == 0);
		term_resize(ref, sizes[i][0], sizes[i][1]);
		screen_size(s, &rows, &cols);
		CHECK_INT(rows, sizes[i][0]);
		CHECK_INT(cols, sizes[i][1]);
		snprintf(what, sizeof what, "resize %dx%d", rows, cols);
		CHECK_INT(full_matches(what, s, ref), 0);
	}
	/*
	 * Shrinking while the cursor is near the top and lines below are
	 * pushed off: libvterm 0.1.4 moves the cursor to a negative row
	 * (upstream's own test for 1e4f44e); the screen must keep row 0.
	 */
	screen_free(s);
	term_free(ref);
	s = screen_new(25, 80, 10);
	ref = term_new(25, 80);
	FEED(s, "\033[24HLine 24\r\nLine 25\033[H");
	WRITE(ref, "\033[24HLine 24\r\nLine 25\033[H");
	CHECK(screen_resize(s, 20, 80) == 0);
	term_resize(ref, 20, 80);
	screen_cursor(s, &rows, &cols, NULL);
	CHECK_INT(rows, 0);
	CHECK_INT(cols, 0);
	FEED(s, "top");
	WRITE(ref, "top");
	CHECK_INT(full_matches("resize cursor", s, ref), 0);
	row_text(s, 0, text, sizeof text);
	CHECK_STR(text, "top");

	/* the shell's output keeps coming after a resize */
	FEED(s, "after resize");
	WRITE(ref, "after resize");
	CHECK_INT(full_matches("resize then output", s, ref), 0);

	/* growing keeps what was on screen */
	s = (screen_free(s), screen_new(5, 20, 0));
	FEED(s, "keep me\r\nand me");
	CHECK(screen_resize(s, 10, 30) == 0);
	row_text(s, 0, text, sizeof text);
	CHECK_STR(text, "keep me");
	row_text(s, 1, text, sizeof text);
	CHECK_STR(text, "and me");
	buf_free(&in);
	term_free(ref);
	screen_free(s);
}

static void
test_title_text(void)
{
	struct screen	*s = screen_new(5, 30, 0);
	struct term	*raw;
	struct buf	 out = BUF_INIT;
	char		 text[64];
	int		 row, col, vis;

	CHECK_STR(screen_title(s), "");
	FEED(s, "\033]2;ab\xc2\x9b" "cd\007");
	CHECK_STR(screen_title(s), "ab\xc2\x9b" "cd");
	CHECK(screen_render_full(s, &out, 0) == 0);
	CHECK(contains(&out, "\033]2;abcd\007"));
	CHECK(!contains(&out, "\xc2\x9b"));

	/* libvterm 0.1.4 drops an OSC split between two writes */
	FEED(s, "\033]2;split ");
	FEED(s, "title\033");
	FEED(s, "\\");
	CHECK_STR(screen_title(s), "split title");
	raw = term_new(5, 30);
	WRITE(raw, "\033]2;split ");
	WRITE(raw, "title\007");
	CHECK_STR(raw->title, "");
	term_free(raw);

	FEED(s, "\xe4\xb8\xad" "e\xcc\x81x  \033[41m  \033[0m");
	row_text(s, 0, text, sizeof text);
	CHECK_STR(text, "\xe4\xb8\xad" "e\xcc\x81x");
	CHECK(screen_row_text(s, 5, &out) == -1);
	CHECK(screen_row_text(s, -1, &out) == -1);

	screen_cursor(s, &row, &col, &vis);
	CHECK_INT(row, 0);
	CHECK_INT(col, 8);
	CHECK_INT(vis, 1);
	FEED(s, "\033[?25l\033[3;4H");
	screen_cursor(s, &row, &col, &vis);
	CHECK_INT(row, 2);
	CHECK_INT(col, 3);
	CHECK_INT(vis, 0);
	buf_free(&out);
	screen_free(s);
}

static void
test_reset(void)
{
	struct buf	out = BUF_INIT;

	CHECK(screen_render_reset(&out) == 0);
	CHECK(contains(&out, "\033[0m"));
	CHECK(contains(&out, "\033[r"));
	CHECK(contains(&out, "\033[?25h"));
	CHECK(contains(&out, "\033[?1l"));
	CHECK(contains(&out, "\033>"));
	CHECK(contains(&out, "\033[?2004l"));
	CHECK(contains(&out, "\033[?1000l"));
	CHECK(contains(&out, "\033[?1002l"));
	CHECK(contains(&out, "\033[?1003l"));
	CHECK(contains(&out, "\033[?1006l"));
	CHECK(buf_used(&out) >= 2 &&
	    memcmp(buf_ptr(&out) + buf_used(&out) - 2, "\r\n", 2) == 0);
	buf_free(&out);
}

int
main(void)
{
	const char	*seed = getenv("TEST_SCREEN_SEED");

	/* A failure names no seed: rerun with this set to explore more. */
	if (seed != NULL && strtoull(seed, NULL, 0) != 0)
		rng_state = strtoull(seed, NULL, 0);
	test_sizes();
	test_full_render();
	test_altscreen();
	test_diff_small();
	test_diff_frames();
	test_diff_lines();
	test_utf8_holdback();
	test_big_feed();
	test_modes();
	test_scrollback();
	test_resize();
	test_title_text();
	test_reset();
	return check_done("test_screen");
}
