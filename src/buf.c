/*
 * buf: growable byte buffers, see buf.h.  Allocation failures are
 * reported as -1 and leave the buffer unchanged, so a caller can drop a
 * message rather than crash the daemon.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
buf_init(struct buf *b)
{
	memset(b, 0, sizeof *b);
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	b->off = b->len = 0;
}

/* Make room for n more bytes after len, compacting before growing. */
int
buf_reserve(struct buf *b, size_t n)
{
	size_t	 need, ncap;
	char	*p;

	if (b->off == b->len)
		b->off = b->len = 0;
	if (b->cap - b->len >= n)
		return 0;
	if (b->off > 0 && b->cap - (b->len - b->off) >= n &&
	    b->off >= b->cap / 2) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		return 0;
	}
	need = b->len - b->off + n;
	if (need < n)
		return -1;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need) {
		if (ncap > ((size_t)-1) / 2)
			return -1;
		ncap *= 2;
	}
	if ((p = malloc(ncap)) == NULL)
		return -1;
	if (b->len > b->off)
		memcpy(p, b->data + b->off, b->len - b->off);
	free(b->data);
	b->data = p;
	b->len -= b->off;
	b->off = 0;
	b->cap = ncap;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (buf_reserve(b, n) != 0)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list	 ap2;
	int	 n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || buf_reserve(b, (size_t)n + 1) != 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len - b->off) {
		b->off = b->len = 0;
		return;
	}
	b->off += n;
}

/* NUL-terminate the contents (not counted in the length); NULL on failure. */
char *
buf_cstr(struct buf *b)
{
	if (buf_reserve(b, 1) != 0)
		return NULL;
	b->data[b->len] = '\0';
	return b->data + b->off;
}
