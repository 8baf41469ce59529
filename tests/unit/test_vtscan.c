/*
 * test_vtscan: stream boundaries, and flood skipping checked against
 * libvterm itself: the same stream goes into one screen fed every byte
 * and one fed through vtscan_feed_skipping, and both must render the
 * same screen (cells, colours, cursor, modes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "screen.h"
#include "vtscan.h"

#define ROWS	24
#define COLS	80

static int
boundary_after(const char *s)
{
	struct vtscan	 v;
	size_t		 i;
	int		 whole, bytewise;

	vtscan_init(&v);
	vtscan_run(&v, s, strlen(s));
	whole = vtscan_at_boundary(&v);
	/* The same, a byte at a time: the state must carry over. */
	vtscan_init(&v);
	for (i = 0; s[i] != '\0'; i++)
		vtscan_run(&v, s + i, 1);
	bytewise = vtscan_at_boundary(&v);
	CHECK_INT(whole, bytewise);
	return whole;
}

static void
test_boundaries(void)
{
	CHECK(boundary_after("plain text\r\n"));
	CHECK(!boundary_after("abc\033"));
	CHECK(!boundary_after("abc\033[1;3"));
	CHECK(boundary_after("abc\033[1;31mred"));
	CHECK(!boundary_after("caf\xc3"));
	CHECK(boundary_after("caf\xc3\xa9"));
	CHECK(!boundary_after("\xe2\x82"));
	CHECK(boundary_after("x\xe2\x82\xac"));
	CHECK(!boundary_after("\033]0;a title"));
	CHECK(!boundary_after("\033]0;a title\033"));
	CHECK(boundary_after("\033]0;a title\007"));
	CHECK(boundary_after("\033]0;a title\033\\"));
	CHECK(boundary_after("\033P1$r\033\\after"));
	CHECK(boundary_after("\033[1;\030x"));		/* CAN cancels */
	CHECK(boundary_after("\033(B"));
	CHECK(!boundary_after("\033("));
	CHECK(boundary_after("\033[?1049h\033[H\033[2J"));
}

struct sink {
	struct screen	*screen;
	size_t		 pieces;
};

static void
sink_feed(void *ctx, const char *p, size_t n)
{
	struct sink	*k = ctx;

	screen_feed(k->screen, p, n);
	k->pieces++;
}

static int
sink_may_skip(void *ctx)
{
	struct sink	*k = ctx;

	return !screen_region_partial(k->screen);
}

/* Feed stream both ways; the screens must match.  Returns the bytes
 * skipped. */
static size_t
compare(const char *what, const char *stream, size_t n, size_t chunk)
{
	struct screen	*exact = screen_new(ROWS, COLS, 0);
	struct sink	 k = { screen_new(ROWS, COLS, 0), 0 };
	struct vtscan_sink sink = { sink_feed, sink_may_skip, &k };
	struct vtscan	 v;
	struct buf	 a = BUF_INIT, b = BUF_INIT;
	size_t		 i, len, skipped = 0;

	vtscan_init(&v);
	screen_feed(exact, stream, n);
	for (i = 0; i < n; i += len) {
		len = n - i < chunk ? n - i : chunk;
		skipped += vtscan_feed_skipping(&v, stream + i, len, ROWS,
		    &sink);
		vtscan_run(&v, stream + i, len);
	}
	CHECK(screen_render_full(exact, &a, 0) == 0);
	CHECK(screen_render_full(k.screen, &b, 0) == 0);
	if (buf_used(&a) != buf_used(&b) ||
	    memcmp(buf_ptr(&a), buf_ptr(&b), buf_used(&a)) != 0) {
		fprintf(stderr, "%s (chunk %zu): screens differ\n", what,
		    chunk);
		CHECK(0);
	}
	buf_free(&a);
	buf_free(&b);
	screen_free(exact);
	screen_free(k.screen);
	return skipped;
}

static void
add_lines(struct buf *b, int from, int to, int colour)
{
	int	 i;

	for (i = from; i < to; i++) {
		if (colour)
			buf_printf(b, "\033[%dmline %d \033[1;4%dmbold\033[m "
			    "caf\xc3\xa9 \xe2\x82\xac\tend\r\n", 31 + i % 7, i,
			    i % 8);
		else
			buf_printf(b, "%d\r\n", i);
	}
}

static void
test_skipping(void)
{
	struct buf	 b = BUF_INIT;
	size_t		 chunks[] = { 1 << 20, 65536, 4093, 1000 };
	size_t		 i, s;

	/* seq: almost everything is skipped, in any chunking that leaves
	 * pieces big enough. */
	add_lines(&b, 1, 200000, 0);
	s = compare("seq", buf_ptr(&b), buf_used(&b), 1 << 22);
	CHECK(s > buf_used(&b) * 9 / 10);
	for (i = 0; i < sizeof chunks / sizeof chunks[0]; i++)
		compare("seq", buf_ptr(&b), buf_used(&b), chunks[i]);
	buf_reset(&b);

	/* Colours: the pen after a skip is the one the skipped SGRs set;
	 * the last line leaves it bold red on purpose. */
	add_lines(&b, 0, 20000, 1);
	buf_puts(&b, "\033[1;31mno newline after this");
	s = compare("colour", buf_ptr(&b), buf_used(&b), 1 << 22);
	CHECK(s > 0);
	buf_puts(&b, "\033[0m and more text");
	compare("colour, reset", buf_ptr(&b), buf_used(&b), 65536);
	buf_reset(&b);

	/* A pen set once, long before the end: the rows scrolled in take
	 * its background too. */
	buf_puts(&b, "\033[44;33m");
	add_lines(&b, 0, 20000, 0);
	CHECK(compare("pen", buf_ptr(&b), buf_used(&b), 1 << 22) > 0);
	buf_reset(&b);

	/* Sequences that are not plain text split the runs; a title, a
	 * cursor move, the alternate screen. */
	add_lines(&b, 0, 5000, 0);
	buf_puts(&b, "\033]0;title in the middle\007\033[5;10H");
	add_lines(&b, 5000, 10000, 1);
	buf_puts(&b, "\033[?1049h\033[H\033[2J");
	add_lines(&b, 0, 3000, 0);
	buf_puts(&b, "\033[3;3Hin the alt screen\033[?25l");
	compare("mixed", buf_ptr(&b), buf_used(&b), 1 << 22);
	compare("mixed", buf_ptr(&b), buf_used(&b), 777);
	buf_reset(&b);

	/* A progress bar moves up after each line: its last rows must not
	 * be mistaken for scrolled away. */
	add_lines(&b, 0, 3000, 0);
	for (i = 0; i < 200; i++)
		buf_printf(&b, "step %zu\r\n\033[Aprogress %zu%%", i, i % 100);
	compare("progress", buf_ptr(&b), buf_used(&b), 1 << 22);
	buf_reset(&b);

	/* A partial scroll region with the cursor below it: each line
	 * overwrites the last row, so nothing may be skipped. */
	buf_puts(&b, "\033[1;10r\033[24;1H");
	for (i = 0; i < 3000; i++)
		buf_printf(&b, "a line much longer than the ones to come %zu\r\n",
		    i);
	for (i = 0; i < 100; i++)
		buf_puts(&b, "short\r\n");
	CHECK_INT(compare("region", buf_ptr(&b), buf_used(&b), 1 << 22), 0);
	buf_puts(&b, "\033[r");
	add_lines(&b, 0, 3000, 0);
	CHECK(compare("region reset", buf_ptr(&b), buf_used(&b), 1 << 22) > 0);
	buf_reset(&b);

	/* Short output: nothing to skip. */
	add_lines(&b, 0, 10, 1);
	CHECK_INT(compare("short", buf_ptr(&b), buf_used(&b), 1 << 22), 0);
	buf_free(&b);
}

/* The guard the caller checks before skipping. */
static void
test_region(void)
{
	struct screen	*s = screen_new(ROWS, COLS, 0);

	CHECK(!screen_region_partial(s));
	screen_feed(s, "\033[2;10r", 8);
	CHECK(screen_region_partial(s));
	screen_feed(s, "\033[r", 3);
	CHECK(!screen_region_partial(s));
	screen_feed(s, "\033[5r", 4);
	CHECK(screen_region_partial(s));
	screen_feed(s, "\033[1;24r", 8);
	CHECK(!screen_region_partial(s));
	screen_feed(s, "\033[1;23r\033c", 10);
	CHECK(!screen_region_partial(s));
	screen_free(s);
}

int
main(void)
{
	test_boundaries();
	test_region();
	test_skipping();
	return check_done("test_vtscan");
}
