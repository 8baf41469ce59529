/*
 * filter: remove terminal replies from a viewer's input (filter.h).
 *
 * Recognised and dropped:
 *   CSI ... R            cursor position report (also CSI ? ... R)
 *   CSI ? ... c, CSI > ... c, CSI = ... c   device attributes replies
 *   CSI ... n            status reports (CSI 0 n, CSI ? ... n)
 *   CSI ... $ y          mode reports (DECRPM)
 *   CSI ... t            window reports
 *   CSI I, CSI O         focus in/out: the viewer's focus is not the
 *                        owner's
 *   OSC ... BEL|ST       every OSC (colour replies 4/10/11/12, clipboard
 *                        52 answers): keyboards do not type OSC
 *   DCS ... ST           DECRQSS, XTVERSION and other string replies
 *   APC/PM/SOS ... ST
 * Everything else, including every other CSI (arrow keys, function keys,
 * mouse reports, bracketed paste markers), passes unchanged.
 *
 * A sequence that is incomplete at the end of a chunk is held until the
 * next one, except an ESC that arrives alone: that is the Escape key,
 * and holding it would make vim users wait.  A terminal writes each
 * reply at once, so a reply never starts with a lone ESC packet.
 */
#include <string.h>

#include "filter.h"

void
input_filter_init(struct input_filter *f)
{
	memset(f, 0, sizeof *f);
}

enum seq {
	SEQ_INCOMPLETE,		/* need more bytes */
	SEQ_KEEP,		/* pass len bytes */
	SEQ_DROP,		/* remove len bytes */
};

/* A CSI sequence starting at p[0] = ESC, p[1] = '['. */
static enum seq
classify_csi(const unsigned char *p, size_t n, size_t *len)
{
	size_t		 i;
	unsigned char	 final, lead = 0, inter = 0;

	for (i = 2; i < n; i++) {
		if (p[i] >= 0x40 && p[i] <= 0x7e)
			break;
		if (p[i] >= 0x20 && p[i] <= 0x2f)
			inter = p[i];
		else if (p[i] < 0x20 || p[i] > 0x7e) {
			*len = i;	/* broken: pass what we saw */
			return SEQ_KEEP;
		}
		if (i == 2 && p[i] >= 0x3c && p[i] <= 0x3f)
			lead = p[i];
	}
	if (i >= n)
		return SEQ_INCOMPLETE;
	*len = i + 1;
	final = p[i];
	/* CSI 1 ; 5 R is also Ctrl+F3 on some terminals, but a viewer
	 * typing it into someone else's program is far rarer than a stray
	 * position report. */
	if (final == 'R' || final == 't' || final == 'n')
		return SEQ_DROP;
	if ((final == 'I' || final == 'O') && *len == 3)
		return SEQ_DROP;
	if (final == 'c' && lead != 0)
		return SEQ_DROP;
	if (final == 'y' && inter == '$')
		return SEQ_DROP;
	return SEQ_KEEP;
}

/* A string sequence (OSC, DCS, APC, PM, SOS) ends at BEL (OSC only) or
 * ST (ESC \). */
static enum seq
classify_string(const unsigned char *p, size_t n, int osc, size_t *len)
{
	size_t	 i;

	for (i = 2; i < n; i++) {
		if (osc && p[i] == 0x07) {
			*len = i + 1;
			return SEQ_DROP;
		}
		if (p[i] == 0x1b) {
			if (i + 1 >= n)
				return SEQ_INCOMPLETE;
			if (p[i + 1] == '\\') {
				*len = i + 2;
				return SEQ_DROP;
			}
		}
	}
	return SEQ_INCOMPLETE;
}

static enum seq
classify(const unsigned char *p, size_t n, size_t *len)
{
	if (n < 2)
		return SEQ_INCOMPLETE;
	switch (p[1]) {
	case '[':
		return classify_csi(p, n, len);
	case ']':
		return classify_string(p, n, 1, len);
	case 'P': case '_': case '^': case 'X':
		return classify_string(p, n, 0, len);
	default:
		*len = 1;	/* ESC + key (Alt): pass the ESC, then the rest */
		return SEQ_KEEP;
	}
}

/*
 * Filter one chunk of viewer input into out.  Returns 0, or -1 if out
 * could not grow (the chunk is then lost, as a dropped packet would be).
 */
int
input_filter_run(struct input_filter *f, const char *in, size_t len,
    struct buf *out)
{
	struct buf		 all = BUF_INIT;
	const unsigned char	*p;
	size_t			 n, i, start, slen;
	enum seq		 r;
	int			 rc = 0;

	if (buf_append(&all, f->pending, f->npending) != 0 ||
	    buf_append(&all, in, len) != 0) {
		buf_free(&all);
		return -1;
	}
	f->npending = 0;
	p = (const unsigned char *)buf_ptr(&all);
	n = buf_used(&all);
	for (i = start = 0; i < n;) {
		if (p[i] != 0x1b) {
			i++;
			continue;
		}
		if (buf_append(out, p + start, i - start) != 0)
			rc = -1;
		r = classify(p + i, n - i, &slen);
		if (r == SEQ_INCOMPLETE) {
			if (n == 1 || n - i > FILTER_PENDING_MAX) {
				/* The Escape key (a chunk of its own), or junk
				 * too long to be a reply: let it through. */
				if (buf_append(out, p + i, n - i) != 0)
					rc = -1;
			} else {
				memcpy(f->pending, p + i, n - i);
				f->npending = n - i;
			}
			start = i = n;
			break;
		}
		if (r == SEQ_KEEP && buf_append(out, p + i, slen) != 0)
			rc = -1;
		if (r == SEQ_DROP)
			f->dropped++;
		i += slen;
		start = i;
	}
	if (start < n && buf_append(out, p + start, n - start) != 0)
		rc = -1;
	buf_free(&all);
	return rc;
}
