/*
 * vtscan: stream position and flood skipping (vtscan.h).
 *
 * The state machine follows libvterm's parser in UTF-8 mode closely
 * enough to find boundaries: ESC starts a sequence anywhere, CAN and
 * SUB cancel one, a CSI ends at its final byte (C0 controls inside it
 * act without ending it), and only OSC and DCS are strings, ended by
 * BEL or ESC \.
 */
#include <string.h>

#include "buf.h"
#include "vtscan.h"

enum {
	VS_GROUND,
	VS_ESC,
	VS_CSI,
	VS_STR,
	VS_STR_ESC,
};

#define ESC	0x1b

void
vtscan_init(struct vtscan *v)
{
	memset(v, 0, sizeof *v);
}

static void
step_esc(struct vtscan *v, unsigned char c)
{
	if (c == '[')
		v->state = VS_CSI;
	else if (c == 'P' || c == ']')
		v->state = VS_STR;
	else if (c >= 0x30 && c <= 0x7e)
		v->state = VS_GROUND;
	/* 0x20-0x2f: intermediates, the sequence goes on */
}

static void
step(struct vtscan *v, unsigned char c)
{
	if (c == 0x18 || c == 0x1a) {
		v->state = VS_GROUND;
		v->utf8 = 0;
		return;
	}
	if (c == ESC) {
		v->state = v->state == VS_STR ? VS_STR_ESC : VS_ESC;
		v->utf8 = 0;
		return;
	}
	switch (v->state) {
	case VS_GROUND:
		if (c >= 0xc0 && c <= 0xf7)
			v->utf8 = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
		else if (c >= 0x80 && c <= 0xbf && v->utf8 > 0)
			v->utf8--;
		else
			v->utf8 = 0;
		break;
	case VS_ESC:
		if (c >= 0x20)
			step_esc(v, c);
		break;
	case VS_CSI:
		if (c >= 0x40 && c <= 0x7e)
			v->state = VS_GROUND;
		break;
	case VS_STR:
		if (c == 0x07)
			v->state = VS_GROUND;
		break;
	case VS_STR_ESC:
		if (c == '\\')
			v->state = VS_GROUND;
		else {
			v->state = VS_ESC;
			step_esc(v, c);
		}
		break;
	}
}

void
vtscan_run(struct vtscan *v, const char *p, size_t n)
{
	const char	*e;
	size_t		 i;

	for (i = 0; i < n; i++) {
		/* Text is most of a stream: jump to the next ESC when no
		 * character is half read. */
		if (v->state == VS_GROUND && v->utf8 == 0 &&
		    (unsigned char)p[i] < 0x80 && p[i] != ESC) {
			e = memchr(p + i, ESC, n - i);
			if (e == NULL) {
				/* Only the last bytes can leave a character
				 * open. */
				i = n - (n - i > 4 ? 4 : n - i);
				for (; i < n; i++)
					step(v, (unsigned char)p[i]);
				return;
			}
			i = (size_t)(e - p);
		}
		step(v, (unsigned char)p[i]);
	}
}

int
vtscan_at_boundary(const struct vtscan *v)
{
	return v->state == VS_GROUND && v->utf8 == 0;
}

/* The length of the SGR sequence (ESC [ digits ; : m) at p, or 0. */
static size_t
sgr_len(const char *p, size_t n)
{
	size_t	 i;

	if (n < 3 || p[0] != ESC || p[1] != '[')
		return 0;
	for (i = 2; i < n; i++) {
		if (p[i] == 'm')
			return i + 1;
		if ((p[i] < '0' || p[i] > '9') && p[i] != ';' && p[i] != ':')
			return 0;
	}
	return 0;
}

static int
plain_byte(unsigned char c)
{
	return c >= 0x20 || c == '\r' || c == '\n' || c == '\t' ||
	    c == '\b' || c == 0x07;
}

/* The end of the plain run that starts at p[i]. */
static size_t
plain_run(const char *p, size_t i, size_t n)
{
	size_t	 len;

	while (i < n) {
		if (p[i] == ESC) {
			if ((len = sgr_len(p + i, n - i)) == 0)
				break;
			i += len;
		} else if (plain_byte((unsigned char)p[i]))
			i++;
		else
			break;
	}
	return i;
}

/* Where the last `need` newlines of p[a, b) begin, or a if fewer. */
static size_t
tail_start(const char *p, size_t a, size_t b, int need)
{
	size_t	 j = b;

	while (j > a && need > 0) {
		j--;
		if (p[j] == '\n')
			need--;
	}
	return need == 0 ? j : a;
}

/* An SGR that resets the pen makes every earlier one moot. */
static int
sgr_resets(const char *p, size_t len)
{
	size_t	 i;

	for (i = 2; i < len - 1; i++) {
		if (p[i] != '0')
			return 0;
	}
	return 1;
}

/* Feed the SGR sequences of p[a, b) as one piece. */
static void
feed_sgr(const char *p, size_t a, size_t b, const struct vtscan_sink *k)
{
	struct buf	 sgr = BUF_INIT;
	const char	*e;
	size_t		 len;

	while (a < b && (e = memchr(p + a, ESC, b - a)) != NULL) {
		a = (size_t)(e - p);
		len = sgr_len(p + a, b - a);
		if (sgr_resets(p + a, len))
			buf_reset(&sgr);
		/* Out of memory: the pen may come out wrong, nothing
		 * worse. */
		(void)buf_append(&sgr, p + a, len);
		a += len;
	}
	if (buf_used(&sgr) > 0)
		k->feed(k->ctx, buf_ptr(&sgr), buf_used(&sgr));
	buf_free(&sgr);
}

/*
 * Feed p[0, n) to the sink, in pieces, leaving out the part of each
 * plain run that its last 2 * rows + 2 newlines scroll away; start is
 * the scanner's state at p.  Returns the bytes left out.
 */
size_t
vtscan_feed_skipping(const struct vtscan *start, const char *p, size_t n,
    int rows, const struct vtscan_sink *k)
{
	struct vtscan	 v = *start;
	size_t		 i = 0, fed = 0, skipped = 0, end, cut;

	while (i < n) {
		if (!vtscan_at_boundary(&v)) {
			step(&v, (unsigned char)p[i++]);
			continue;
		}
		end = plain_run(p, i, n);
		if (end == i) {
			step(&v, (unsigned char)p[i++]);
			continue;
		}
		cut = tail_start(p, i, end, 2 * rows + 2);
		if (cut - i >= VTSCAN_SKIP_MIN) {
			if (i > fed)
				k->feed(k->ctx, p + fed, i - fed);
			fed = i;
			if (k->may_skip(k->ctx)) {
				feed_sgr(p, i, cut, k);
				skipped += cut - i;
				fed = cut;
			}
		}
		/* A run ends at a sequence, a control, or the end. */
		v.utf8 = 0;
		i = end;
	}
	if (n > fed)
		k->feed(k->ctx, p + fed, n - fed);
	return skipped;
}
