/*
 * buf: a growable byte buffer with a read offset.
 *
 * Every queue of bytes in tandem (PTY output waiting for a client, a
 * rendered screen, a command's reply) is a buf.  Appends grow the buffer,
 * consumers take bytes from the front with buf_consume(); the space in
 * front is reclaimed lazily so that draining a queue never costs a memmove
 * per write.  A buf owns its memory; buf_free() releases it.
 */
#ifndef TANDEM_BUF_H
#define TANDEM_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 off;	/* first unread byte */
	size_t	 len;	/* end of valid bytes (absolute, >= off) */
	size_t	 cap;
};

#define BUF_INIT { NULL, 0, 0, 0 }

void	 buf_init(struct buf *);
void	 buf_free(struct buf *);
void	 buf_reset(struct buf *);
int	 buf_reserve(struct buf *, size_t);
int	 buf_append(struct buf *, const void *, size_t);
int	 buf_puts(struct buf *, const char *);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
void	 buf_consume(struct buf *, size_t);
char	*buf_cstr(struct buf *);

static inline const char *
buf_ptr(const struct buf *b)
{
	return b->data + b->off;
}

static inline size_t
buf_used(const struct buf *b)
{
	return b->len - b->off;
}

#endif
