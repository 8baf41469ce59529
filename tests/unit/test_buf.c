/*
 * test_buf: the byte queue under every client and every reply
 * (src/buf.c).  Besides the single calls, a long random run of appends
 * and consumes is checked byte for byte against a plain array, which is
 * what catches mistakes in the lazy compaction.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"

static uint64_t	 rng_state = 0x853c49e6748fea9bULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int
holds(const struct buf *b, const char *s)
{
	size_t	 n = strlen(s);

	return buf_used(b) == n && (n == 0 || memcmp(buf_ptr(b), s, n) == 0);
}

static void
test_basics(void)
{
	struct buf	 b = BUF_INIT, c;

	CHECK_INT(buf_used(&b), 0);
	CHECK(b.data == NULL && b.cap == 0);
	memset(&c, 0xa5, sizeof c);
	buf_init(&c);
	CHECK(c.data == NULL && c.off == 0 && c.len == 0 && c.cap == 0);

	CHECK_INT(buf_append(&b, NULL, 0), 0);
	CHECK_INT(buf_used(&b), 0);
	CHECK_INT(buf_append(&b, "abc", 3), 0);
	CHECK(holds(&b, "abc"));
	CHECK_INT(buf_append(&b, "\0x", 2), 0);
	CHECK_INT(buf_used(&b), 5);
	CHECK(memcmp(buf_ptr(&b), "abc\0x", 5) == 0);
	CHECK_INT(buf_puts(&b, "yz"), 0);
	CHECK(memcmp(buf_ptr(&b), "abc\0xyz", 7) == 0);
	CHECK_INT(buf_puts(&b, ""), 0);
	CHECK_INT(buf_used(&b), 7);

	buf_reset(&b);
	CHECK_INT(buf_used(&b), 0);
	CHECK(b.data != NULL && b.cap > 0);	/* memory kept for reuse */
	CHECK_INT(buf_printf(&b, "%d-%s-%c", 42, "x", 'y'), 0);
	CHECK(holds(&b, "42-x-y"));
	CHECK_INT(buf_printf(&b, "%s", ""), 0);
	CHECK(holds(&b, "42-x-y"));
	CHECK_INT(buf_printf(&b, "|%05.1f|%%|%lld", 3.14159, -9LL), 0);
	CHECK(holds(&b, "42-x-y|003.1|%|-9"));

	buf_free(&b);
	CHECK(b.data == NULL && b.cap == 0 && buf_used(&b) == 0);
	/* A freed buf is a fresh one. */
	CHECK_INT(buf_puts(&b, "again"), 0);
	CHECK(holds(&b, "again"));
	buf_free(&b);
	buf_free(&b);
}

static void
test_printf_growth(void)
{
	struct buf	 b = BUF_INIT;
	char		*big;
	size_t		 i;

	/* Longer than the first allocation, so vprintf must reserve. */
	big = malloc(5000);
	for (i = 0; i < 4999; i++)
		big[i] = (char)('a' + i % 26);
	big[4999] = '\0';
	CHECK_INT(buf_puts(&b, "<"), 0);
	CHECK_INT(buf_printf(&b, "%s>%d", big, 7), 0);
	CHECK_INT(buf_used(&b), 1 + 4999 + 2);
	CHECK(memcmp(buf_ptr(&b) + 1, big, 4999) == 0);
	CHECK(memcmp(buf_ptr(&b) + 5000, ">7", 2) == 0);
	/* After a consume, printf appends behind the unread bytes. */
	buf_consume(&b, 4990);
	CHECK_INT(buf_printf(&b, "[%s]", "tail"), 0);
	CHECK_INT(buf_used(&b), 12 + 6);
	CHECK(memcmp(buf_ptr(&b) + 12, "[tail]", 6) == 0);
	buf_free(&b);
	free(big);
}

static void
test_consume(void)
{
	struct buf	 b = BUF_INIT;

	buf_consume(&b, 0);
	buf_consume(&b, 10);
	CHECK_INT(buf_used(&b), 0);

	buf_puts(&b, "hello world");
	buf_consume(&b, 0);
	CHECK(holds(&b, "hello world"));
	buf_consume(&b, 6);
	CHECK(holds(&b, "world"));
	CHECK_INT(b.off, 6);
	buf_consume(&b, 4);
	CHECK(holds(&b, "d"));
	/* Draining the last byte rewinds to the start of the memory. */
	buf_consume(&b, 1);
	CHECK_INT(buf_used(&b), 0);
	CHECK_INT(b.off, 0);
	CHECK_INT(b.len, 0);
	buf_puts(&b, "abc");
	buf_consume(&b, 1000);
	CHECK_INT(buf_used(&b), 0);
	CHECK_INT(b.off, 0);
	buf_consume(&b, (size_t)-1);
	CHECK_INT(buf_used(&b), 0);
	buf_free(&b);
}

static void
test_cstr(void)
{
	struct buf	 b = BUF_INIT;
	char		*s;
	size_t		 i;

	s = buf_cstr(&b);
	CHECK(s != NULL && s[0] == '\0');
	CHECK_INT(buf_used(&b), 0);

	buf_puts(&b, "key=value");
	buf_consume(&b, 4);
	s = buf_cstr(&b);
	CHECK_STR(s, "value");
	CHECK_INT(buf_used(&b), 5);		/* the NUL is not counted */
	buf_puts(&b, "!");
	CHECK_STR(buf_cstr(&b), "value!");

	/* At exactly full capacity, cstr must make room for the NUL. */
	buf_reset(&b);
	for (i = buf_used(&b); b.len < b.cap; i++)
		buf_append(&b, "x", 1);
	CHECK(b.len == b.cap);
	s = buf_cstr(&b);
	CHECK(s != NULL && strlen(s) == i);
	buf_free(&b);
}

static void
test_reserve(void)
{
	struct buf	 b = BUF_INIT;
	char		*data;
	size_t		 cap;

	CHECK_INT(buf_reserve(&b, 0), 0);
	CHECK_INT(buf_reserve(&b, 1), 0);
	CHECK(b.cap >= 1 && b.data != NULL);
	CHECK_INT(buf_reserve(&b, 1000), 0);
	CHECK(b.cap - b.len >= 1000);
	buf_puts(&b, "keep");
	data = b.data;
	cap = b.cap;
	/* Room that is already there costs nothing. */
	CHECK_INT(buf_reserve(&b, cap - b.len), 0);
	CHECK(b.data == data && b.cap == cap);

	/* Impossible sizes fail and leave the contents alone. */
	CHECK_INT(buf_reserve(&b, (size_t)-1), -1);
	CHECK_INT(buf_reserve(&b, (size_t)-1 - 2), -1);
	CHECK_INT(buf_reserve(&b, (size_t)-1 / 2 + 2), -1);
	CHECK(holds(&b, "keep"));
	CHECK(b.data == data && b.cap == cap);
	CHECK_INT(buf_append(&b, "x", (size_t)-1), -1);
	CHECK(holds(&b, "keep"));
	buf_free(&b);

	buf_init(&b);
	CHECK_INT(buf_reserve(&b, (size_t)-1), -1);
	CHECK_INT(buf_used(&b), 0);
	buf_free(&b);
}

/*
 * A queue that has been mostly drained reuses its front instead of
 * growing: the memory stays the same size and holds the right bytes.
 */
static void
test_compaction(void)
{
	struct buf	 b = BUF_INIT;
	char		 chunk[256], *data;
	size_t		 cap, i;

	for (i = 0; i < sizeof chunk; i++)
		chunk[i] = (char)i;
	CHECK_INT(buf_append(&b, chunk, sizeof chunk), 0);
	cap = b.cap;
	data = b.data;
	CHECK(b.len == cap);			/* full */
	buf_consume(&b, 200);
	CHECK_INT(buf_append(&b, chunk, 150), 0);
	CHECK(b.data == data && b.cap == cap);	/* moved, not grown */
	CHECK_INT(b.off, 0);
	CHECK_INT(buf_used(&b), 56 + 150);
	CHECK(memcmp(buf_ptr(&b), chunk + 200, 56) == 0);
	CHECK(memcmp(buf_ptr(&b) + 56, chunk, 150) == 0);

	/* Not enough drained room: it grows and keeps the order. */
	buf_consume(&b, 6);
	CHECK_INT(buf_append(&b, chunk, 256), 0);
	CHECK(b.cap > cap);
	CHECK_INT(buf_used(&b), 200 + 256);
	CHECK(memcmp(buf_ptr(&b), chunk + 206, 50) == 0);
	CHECK(memcmp(buf_ptr(&b) + 50, chunk, 150) == 0);
	CHECK(memcmp(buf_ptr(&b) + 200, chunk, 256) == 0);
	buf_free(&b);
}

static void
test_large(void)
{
	struct buf	 b = BUF_INIT;
	char		 chunk[4093];
	size_t		 i, total = 0, n = 0;
	const unsigned char *p;
	int		 ok = 1;

	for (i = 0; i < sizeof chunk; i++)
		chunk[i] = (char)(i % 251);
	while (total < 16 * 1024 * 1024) {
		if (buf_append(&b, chunk, sizeof chunk) != 0)
			break;
		total += sizeof chunk;
	}
	CHECK_INT(buf_used(&b), total);
	CHECK(b.cap >= total && b.cap < 2 * total + 256);
	p = (const unsigned char *)buf_ptr(&b);
	for (i = 0; i < total && ok; i++, n = (n + 1) % sizeof chunk)
		ok = (p[i] == n % 251);
	CHECK(ok);
	buf_consume(&b, total - 10);
	CHECK_INT(buf_used(&b), 10);
	buf_free(&b);
}

/* Random appends, printfs and consumes against a plain array. */
static void
test_model(void)
{
	struct buf	 b = BUF_INIT;
	unsigned char	*model, chunk[3000];
	size_t		 head = 0, tail = 0, n, i, maxcap = 0;
	int		 ok = 1, step;

	model = malloc(64 * 1024 * 1024);
	for (step = 0; step < 100000 && ok; step++) {
		switch (rng() % 5) {
		case 0:
		case 1:
			n = rng() % (rng() % 8 == 0 ? sizeof chunk : 40);
			for (i = 0; i < n; i++)
				chunk[i] = (unsigned char)rng();
			ok = buf_append(&b, chunk, n) == 0;
			memcpy(model + tail, chunk, n);
			tail += n;
			break;
		case 2:
			n = rng() % 1000;
			ok = buf_printf(&b, "%zu,", n) == 0;
			tail += (size_t)sprintf((char *)model + tail, "%zu,",
			    n);
			break;
		case 3:
			n = rng() % (buf_used(&b) + 8);
			buf_consume(&b, n);
			head += n < tail - head ? n : tail - head;
			break;
		default:
			ok = buf_cstr(&b) != NULL &&
			    buf_ptr(&b)[buf_used(&b)] == '\0';
			break;
		}
		if (head == tail)
			head = tail = 0;
		ok = ok && buf_used(&b) == tail - head &&
		    (head == tail ||
		    memcmp(buf_ptr(&b), model + head, tail - head) == 0);
		ok = ok && b.off <= b.len && b.len <= b.cap;
		if (b.cap > maxcap)
			maxcap = b.cap;
	}
	CHECK(ok);
	CHECK_INT(step, 100000);
	/* The queue stays short, so compaction must keep memory small. */
	CHECK(maxcap <= 64 * 1024);
	buf_free(&b);
	free(model);
}

int
main(void)
{
	test_basics();
	test_printf_growth();
	test_consume();
	test_cstr();
	test_reserve();
	test_compaction();
	test_large();
	test_model();
	return check_done("test_buf");
}
