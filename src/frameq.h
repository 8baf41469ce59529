/*
 * frameq: what a session sends its viewers, rendered once and shared.
 *
 * A frame rendered for viewers is cut into chunks of at most
 * FRAME_CHUNK_MAX bytes, each reference counted, and every viewer in
 * step queues the same chunks: no render and no copy per viewer.  Each
 * chunk keeps FRAME_PRE spare bytes in front of its data, where a
 * transport may build its own header (a WebSocket frame's: libwebsockets
 * writes it there).  All viewers would write the same header for the
 * same chunk, and the loop is single-threaded, so sharing is safe.
 *
 * A frameq is one viewer's queue: a ring of chunk references and how
 * far into the first one the transport has sent.
 */
#ifndef TANDEM_FRAMEQ_H
#define TANDEM_FRAMEQ_H

#include <stddef.h>

#define FRAME_PRE	32
#define FRAME_CHUNK_MAX	(16 * 1024)

struct chunk {
	unsigned int	 refs;
	size_t		 len;
	unsigned char	 buf[];		/* FRAME_PRE spare, then len bytes */
};

struct frameq {
	struct chunk	**ring;
	size_t		 cap;
	size_t		 head;
	size_t		 count;
	size_t		 off;		/* sent of the first chunk */
	size_t		 bytes;		/* queued and not yet sent */
};

/* A list of chunks holding one rendered frame. */
struct chunks {
	struct chunk	**v;
	size_t		 n;
};

struct chunk	*chunk_new(const void *, size_t);
void		 chunk_unref(struct chunk *);
static inline unsigned char *
chunk_data(struct chunk *c)
{
	return c->buf + FRAME_PRE;
}

int		 chunks_from(struct chunks *, const void *, size_t);
void		 chunks_clear(struct chunks *);

void		 frameq_init(struct frameq *);
int		 frameq_push(struct frameq *, struct chunk *);
int		 frameq_push_all(struct frameq *, const struct chunks *);
struct chunk	*frameq_first(const struct frameq *, size_t *);
void		 frameq_consume(struct frameq *, size_t);
size_t		 frameq_drop_unsent(struct frameq *);
void		 frameq_clear(struct frameq *);

#endif
