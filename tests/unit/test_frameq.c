/*
 * test_frameq: chunking, sharing one chunk among queues, partial sends,
 * dropping what was not begun, and that every reference is released
 * (the sanitizer build checks the last).
 */
#include <string.h>

#include "check.h"
#include "frameq.h"

int
main(void)
{
	static char	 big[3 * FRAME_CHUNK_MAX + 100];
	struct chunks	 l;
	struct frameq	 a, b;
	struct chunk	*c;
	size_t		 off, i;

	memset(big, 'x', sizeof big);
	big[FRAME_CHUNK_MAX] = 'y';
	CHECK(chunks_from(&l, big, sizeof big) == 0);
	CHECK_INT(l.n, 4);
	CHECK_INT(l.v[3]->len, 100);
	CHECK_INT(chunk_data(l.v[1])[0], 'y');
	chunks_clear(&l);
	CHECK(chunks_from(&l, "", 0) == 0 && l.n == 0);
	CHECK(chunks_from(&l, big, sizeof big) == 0);

	/* Two viewers queue the same chunks: references, not copies. */
	frameq_init(&a);
	frameq_init(&b);
	CHECK(frameq_push_all(&a, &l) == 0);
	CHECK(frameq_push_all(&b, &l) == 0);
	CHECK_INT(l.v[0]->refs, 3);
	CHECK_INT(a.bytes, sizeof big);
	chunks_clear(&l);		/* the queues keep them alive */

	/* a sends part of the first chunk, then the rest and more. */
	frameq_consume(&a, 10);
	c = frameq_first(&a, &off);
	CHECK(c != NULL && off == 10);
	CHECK_INT(a.bytes, sizeof big - 10);
	frameq_consume(&a, FRAME_CHUNK_MAX - 10 + 5);
	c = frameq_first(&a, &off);
	CHECK(c != NULL && off == 5 && chunk_data(c)[0] == 'y');
	CHECK_INT(a.count, 3);

	/* Over budget: what was not begun goes, the half-sent chunk
	 * stays so that no sequence is cut. */
	CHECK_INT(frameq_drop_unsent(&a), FRAME_CHUNK_MAX + 100);
	CHECK_INT(a.count, 1);
	CHECK_INT(a.bytes, FRAME_CHUNK_MAX - 5);
	frameq_consume(&a, FRAME_CHUNK_MAX - 5);
	CHECK_INT(a.count, 0);
	CHECK_INT(a.bytes, 0);
	CHECK(frameq_first(&a, &off) == NULL);
	CHECK_INT(frameq_drop_unsent(&b), sizeof big);
	CHECK_INT(b.bytes, 0);

	/* The ring grows and wraps. */
	for (i = 0; i < 100; i++) {
		c = chunk_new("abc", 3);
		CHECK(c != NULL && frameq_push(&a, c) == 0);
		chunk_unref(c);
		if (i % 3 == 0)
			frameq_consume(&a, 3);
	}
	CHECK_INT(a.bytes, 3 * (100 - 34));
	CHECK(chunk_new(big, FRAME_CHUNK_MAX + 1) == NULL);
	frameq_clear(&a);
	frameq_clear(&b);
	return check_done("test_frameq");
}
