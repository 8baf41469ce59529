/*
 * frameq: shared chunks and per-viewer queues of them (frameq.h).
 */
#include <stdlib.h>
#include <string.h>

#include "frameq.h"

struct chunk *
chunk_new(const void *p, size_t len)
{
	struct chunk	*c;

	if (len > FRAME_CHUNK_MAX ||
	    (c = malloc(sizeof *c + FRAME_PRE + len)) == NULL)
		return NULL;
	c->refs = 1;
	c->len = len;
	memset(c->buf, 0, FRAME_PRE);
	memcpy(chunk_data(c), p, len);
	return c;
}

void
chunk_unref(struct chunk *c)
{
	if (c != NULL && --c->refs == 0)
		free(c);
}

/* Cut p into chunks; the list owns one reference to each. */
int
chunks_from(struct chunks *l, const void *p, size_t len)
{
	const unsigned char	*b = p;
	size_t			 n = (len + FRAME_CHUNK_MAX - 1) /
				    FRAME_CHUNK_MAX, i, take;

	l->n = 0;
	l->v = NULL;
	if (n == 0)
		return 0;
	if ((l->v = calloc(n, sizeof *l->v)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		take = len - i * FRAME_CHUNK_MAX;
		if (take > FRAME_CHUNK_MAX)
			take = FRAME_CHUNK_MAX;
		if ((l->v[i] = chunk_new(b + i * FRAME_CHUNK_MAX, take)) ==
		    NULL) {
			chunks_clear(l);
			return -1;
		}
		l->n++;
	}
	return 0;
}

void
chunks_clear(struct chunks *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		chunk_unref(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
frameq_init(struct frameq *q)
{
	memset(q, 0, sizeof *q);
}

static int
grow(struct frameq *q)
{
	struct chunk	**ring;
	size_t		 cap = q->cap ? q->cap * 2 : 8, i;

	if ((ring = calloc(cap, sizeof *ring)) == NULL)
		return -1;
	for (i = 0; i < q->count; i++)
		ring[i] = q->ring[(q->head + i) % q->cap];
	free(q->ring);
	q->ring = ring;
	q->cap = cap;
	q->head = 0;
	return 0;
}

/* Queue c; the queue takes a reference of its own. */
int
frameq_push(struct frameq *q, struct chunk *c)
{
	if (q->count == q->cap && grow(q) != 0)
		return -1;
	q->ring[(q->head + q->count) % q->cap] = c;
	q->count++;
	q->bytes += c->len;
	c->refs++;
	return 0;
}

int
frameq_push_all(struct frameq *q, const struct chunks *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++) {
		if (frameq_push(q, l->v[i]) != 0)
			return -1;
	}
	return 0;
}

/* The chunk being sent, and in *off how much of it has gone. */
struct chunk *
frameq_first(const struct frameq *q, size_t *off)
{
	if (q->count == 0)
		return NULL;
	*off = q->off;
	return q->ring[q->head];
}

static void
pop(struct frameq *q)
{
	struct chunk	*c = q->ring[q->head];

	q->bytes -= c->len - q->off;
	chunk_unref(c);
	q->head = (q->head + 1) % q->cap;
	q->count--;
	q->off = 0;
}

/* n more bytes of the first chunk were sent. */
void
frameq_consume(struct frameq *q, size_t n)
{
	struct chunk	*c;

	while (n > 0 && q->count > 0) {
		c = q->ring[q->head];
		if (n < c->len - q->off) {
			q->off += n;
			q->bytes -= n;
			return;
		}
		n -= c->len - q->off;
		pop(q);
	}
}

/*
 * Forget every chunk not yet begun; one half sent stays, so that the
 * transport never cuts an escape sequence in two.  Returns bytes freed.
 */
size_t
frameq_drop_unsent(struct frameq *q)
{
	size_t	 before = q->bytes, keep = q->off > 0 ? 1 : 0;

	while (q->count > keep) {
		q->count--;
		chunk_unref(q->ring[(q->head + q->count) % q->cap]);
	}
	q->bytes = keep ? q->ring[q->head]->len - q->off : 0;
	return before - q->bytes;
}

void
frameq_clear(struct frameq *q)
{
	while (q->count > 0)
		pop(q);
	free(q->ring);
	frameq_init(q);
}
