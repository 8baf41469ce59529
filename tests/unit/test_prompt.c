/*
 * test_prompt: line editing at a no-echo prompt: line ends from a
 * terminal and from a pipe, erase by UTF-8 character, kill line,
 * interrupt and end of file, and overlong lines.
 */
#include <string.h>

#include "check.h"
#include "prompt.h"

/* Feed s whole; the event, with the line (if any) in p. */
static enum prompt_event
feed(struct prompt *p, const char *s, size_t *used)
{
	return prompt_feed(p, s, strlen(s), used);
}

int
main(void)
{
	struct prompt	 p;
	size_t		 used;
	char		 big[PROMPT_MAX + 50];

	prompt_init(&p);
	CHECK_INT(feed(&p, "sec", &used), PROMPT_MORE);
	CHECK_INT(used, 3);
	CHECK_INT(feed(&p, "ret\rnext", &used), PROMPT_LINE);
	CHECK_STR(p.line, "secret");
	CHECK_INT(used, 4);		/* "next" is the following line's */
	prompt_clear(&p);
	CHECK_INT(p.len, 0);

	/* A pipe's "\n", and "\r\n" counting as one end. */
	CHECK_INT(feed(&p, "one\r", &used), PROMPT_LINE);
	prompt_clear(&p);
	CHECK_INT(feed(&p, "\ntwo\n", &used), PROMPT_LINE);
	CHECK_STR(p.line, "two");
	CHECK_INT(used, 5);
	prompt_clear(&p);

	/* Erase takes whole UTF-8 characters; ^U kills the line. */
	CHECK_INT(feed(&p, "a\xc3\xa9\x7f" "b\x08" "c\r", &used), PROMPT_LINE);
	CHECK_STR(p.line, "ac");
	prompt_clear(&p);
	CHECK_INT(feed(&p, "\x7f\x7fx", &used), PROMPT_MORE);
	CHECK_STR(p.line, "x");
	CHECK_INT(feed(&p, "junk\x15ok\r", &used), PROMPT_LINE);
	CHECK_STR(p.line, "ok");
	prompt_clear(&p);

	/* Controls and escape sequences' ESC are dropped, not kept. */
	CHECK_INT(feed(&p, "a\x1b[Ab\t\r", &used), PROMPT_LINE);
	CHECK_STR(p.line, "a[Ab");
	prompt_clear(&p);

	/* ^C aborts; ^D aborts on an empty line only. */
	CHECK_INT(feed(&p, "abc\x03zz", &used), PROMPT_ABORT);
	CHECK_INT(used, 4);
	prompt_clear(&p);
	CHECK_INT(feed(&p, "x\x04", &used), PROMPT_MORE);
	prompt_clear(&p);
	CHECK_INT(feed(&p, "\x04", &used), PROMPT_ABORT);
	prompt_clear(&p);

	/* An overlong line is cut and flagged. */
	memset(big, 'p', sizeof big - 2);
	big[sizeof big - 2] = '\r';
	big[sizeof big - 1] = '\0';
	CHECK_INT(feed(&p, big, &used), PROMPT_LINE);
	CHECK_INT(p.len, PROMPT_MAX);
	CHECK(p.too_long);
	prompt_clear(&p);
	CHECK(!p.too_long);
	return check_done("test_prompt");
}
