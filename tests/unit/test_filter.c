/*
 * test_filter: terminal replies are removed from viewer input, keys and
 * pastes are not, also when a reply is split across chunks.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "filter.h"

/* Run input through a fresh filter in chunks of size step. */
static char *
run(const char *in, size_t step)
{
	struct input_filter	 f;
	struct buf		 out = BUF_INIT;
	size_t			 len = strlen(in), i, n;
	char			*s;

	input_filter_init(&f);
	for (i = 0; i < len; i += n) {
		n = len - i < step ? len - i : step;
		input_filter_run(&f, in + i, n, &out);
	}
	s = strdup(buf_cstr(&out) ? buf_cstr(&out) : "");
	buf_free(&out);
	return s;
}

static void
check_all_steps(const char *in, const char *want)
{
	size_t	 step;
	char	*got;

	/* From 2: a chunk that is one ESC is the Escape key (below). */
	for (step = 2; step <= strlen(in) + 1; step++) {
		got = run(in, step);
		if (strcmp(got, want) != 0)
			fprintf(stderr, "step %zu: input \"%s\"\n", step, in);
		CHECK_STR(got, want);
		free(got);
	}
}

int
main(void)
{
	char	*got, big[4096];

	/* Replies go. */
	check_all_steps("a\033[12;40Rb", "ab");
	check_all_steps("\033[?1;2c", "");
	check_all_steps("\033[>41;380;0c", "");
	check_all_steps("\033[0n\033[?10n", "");
	check_all_steps("x\033]11;rgb:1e1e/1e1e/1e1e\033\\y", "xy");
	check_all_steps("x\033]10;rgb:ffff/ffff/ffff\007y", "xy");
	check_all_steps("\033]52;c;aGVsbG8=\007", "");
	check_all_steps("\033P1$r0m\033\\", "");
	check_all_steps("\033P>|xterm(379)\033\\", "");
	check_all_steps("\033[?2004;1$y", "");
	check_all_steps("\033[8;24;80t", "");
	check_all_steps("\033[I\033[O", "");
	check_all_steps("\033_Gi=1;OK\033\\", "");

	/* Keys, pastes and mouse reports stay. */
	check_all_steps("ls -l\r", "ls -l\r");
	check_all_steps("\033[A\033[B\033[1;5C\033[3~", "\033[A\033[B\033[1;5C\033[3~");
	check_all_steps("\033OP\033[15~", "\033OP\033[15~");
	check_all_steps("\033[200~pasted\033[201~", "\033[200~pasted\033[201~");
	check_all_steps("\033[<0;10;5M\033[<0;10;5m", "\033[<0;10;5M\033[<0;10;5m");
	check_all_steps("\033b\033f", "\033b\033f");	/* Alt+b, Alt+f */
	check_all_steps("caf\xc3\xa9", "caf\xc3\xa9");

	/* The Escape key alone is not held back; an ESC that ends a longer
	 * chunk is, until the rest of its sequence comes. */
	got = run("\033", 1);
	CHECK_STR(got, "\033");
	free(got);
	got = run("ab\033", 3);
	CHECK_STR(got, "ab");
	free(got);

	/* An unterminated string longer than any reply is let through
	 * rather than held forever. */
	memset(big, 'x', sizeof big - 1);
	big[0] = '\033';
	big[1] = ']';
	big[sizeof big - 1] = '\0';
	got = run(big, 100);
	CHECK_INT(strlen(got), sizeof big - 1);
	free(got);

	/* Dropped replies are counted. */
	{
		struct input_filter f;
		struct buf out = BUF_INIT;
		input_filter_init(&f);
		input_filter_run(&f, "\033[1;1R\033[?1;2c", 13, &out);
		CHECK_INT(f.dropped, 2);
		CHECK_INT(buf_used(&out), 0);
		buf_free(&out);
	}
	return check_done("test_filter");
}
