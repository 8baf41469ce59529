/*
 * test_control: the pure parts of the tandem client's socket
 * (src/control.c).  The argv join must give cmdline_split back exactly
 * the words the client sent, whatever they hold (quotes, backslashes,
 * spaces, empty words), so random argvs go round trip; the request
 * parser must answer every hostile request with a reason, never a crash
 * or a leak (the sanitizers watch); the UTF-8 cleaner must turn any byte
 * string into something jansson accepts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "check.h"
#include "cmdline.h"
#include "control.h"

static uint64_t	 rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Join argv, split it again and compare word by word. */
static int
round_trip(const char *const *argv, int argc)
{
	struct buf	 b = BUF_INIT;
	char		**out = NULL;
	const char	*e;
	int		 n = 0, i, ok = 1;

	if (control_join(argv, argc, &b) != 0)
		return 0;
	if (cmdline_split(buf_ptr(&b), buf_used(&b), &out, &n, &e) != 0) {
		fprintf(stderr, "split failed: %s on [%.*s]\n", e,
		    (int)buf_used(&b), buf_ptr(&b));
		ok = 0;
	} else if (n != argc)
		ok = 0;
	for (i = 0; ok && i < argc; i++)
		ok = strcmp(out[i], argv[i]) == 0;
	cmdline_free(out, n);
	buf_free(&b);
	return ok;
}

static void
test_join(void)
{
	static const char *const a[] = { "share", "--read-only", "-e", "1h" };
	static const char *const b[] = { "share", "--label", "it's \"a\" $x",
	    "", "back\\slash", "'", "''", "\\'", "tab\there", "new\nline",
	    "semi;colon|pipe*", "\xc3\xa9t\xc3\xa9" };
	struct buf	 out = BUF_INIT;

	CHECK(round_trip(a, 4));
	CHECK(round_trip(b, (int)(sizeof b / sizeof b[0])));
	CHECK(control_join(a, 2, &out) == 0);
	CHECK_STR(buf_cstr(&out), "'share' '--read-only'");
	buf_free(&out);
	CHECK(control_join(b + 5, 1, &out) == 0);
	CHECK_STR(buf_cstr(&out), "''\\'''");
	buf_free(&out);
}

/* Random words of printable bytes, quotes and backslashes. */
static void
test_join_random(void)
{
	static const char alphabet[] = "ab '\"\\$ \t\n-=x";
	char		*words[8];
	int		 round, i, argc, failures = 0;
	size_t		 len, j;

	for (round = 0; round < 2000; round++) {
		argc = 1 + (int)(rng() % 8);
		for (i = 0; i < argc; i++) {
			len = rng() % 12;
			words[i] = malloc(len + 1);
			for (j = 0; j < len; j++)
				words[i][j] = alphabet[rng() %
				    (sizeof alphabet - 1)];
			words[i][len] = '\0';
		}
		if (!round_trip((const char *const *)words, argc))
			failures++;
		for (i = 0; i < argc; i++)
			free(words[i]);
	}
	CHECK_INT(failures, 0);
}

/* Parse and return "OK" or the error, for one-line expectations. */
static const char *
parse(const char *text)
{
	static char		 err[256];
	struct control_request	 req;

	if (control_request_parse(text, strlen(text), &req, err,
	    sizeof err) != 0)
		return err;
	control_request_free(&req);
	return "OK";
}

static void
test_parse(void)
{
	struct control_request	 req;
	char			 err[256], *big;
	const char		*good = "{\"session\":\"s1\",\"secret\":\"abc\","
	    "\"argv\":[\"share\",\"--password\"],\"tty\":true,"
	    "\"password\":\"pw\"}";
	int			 i;
	size_t			 n;
	struct buf		 b = BUF_INIT;

	CHECK(control_request_parse(good, strlen(good), &req, err,
	    sizeof err) == 0);
	CHECK_STR(req.session, "s1");
	CHECK_STR(req.secret, "abc");
	CHECK_INT(req.secret_len, 3);
	CHECK_INT(req.argc, 2);
	CHECK_STR(req.argv[1], "--password");
	CHECK(req.argv[2] == NULL);
	CHECK_INT(req.tty, 1);
	CHECK_STR(req.password, "pw");
	control_request_free(&req);

	CHECK_STR(parse("{\"session\":\"s\",\"secret\":\"x\",\"argv\":[\"ls\"]}"),
	    "OK");
	CHECK(strncmp(parse("nope"), "invalid JSON at byte", 20) == 0);
	CHECK(strncmp(parse(""), "invalid JSON", 12) == 0);
	CHECK(strncmp(parse("{} {}"), "invalid JSON", 12) == 0);
	CHECK_STR(parse("[1]"), "not a JSON object");
	CHECK_STR(parse("{\"secret\":\"x\",\"argv\":[\"ls\"]}"),
	    "\"session\" must be a string");
	CHECK_STR(parse("{\"session\":1,\"secret\":\"x\",\"argv\":[\"ls\"]}"),
	    "\"session\" must be a string");
	CHECK_STR(parse("{\"session\":\"s\",\"secret\":null,\"argv\":[\"ls\"]}"),
	    "\"secret\" must be a string");
	CHECK_STR(parse("{\"session\":\"s\",\"secret\":\"x\",\"argv\":\"ls\"}"),
	    "\"argv\" must be an array of strings");
	CHECK_STR(parse("{\"session\":\"s\",\"secret\":\"x\",\"argv\":[]}"),
	    "\"argv\" is empty");
	CHECK_STR(parse("{\"session\":\"s\",\"secret\":\"x\",\"argv\":"
	    "[\"ls\",2]}"), "\"argv\" must be an array of strings (word 2 "
	    "is not)");
	CHECK_STR(parse("{\"session\":\"s\",\"secret\":\"x\",\"argv\":[\"ls\"],"
	    "\"tty\":1}"), "\"tty\" must be true or false");
	CHECK_STR(parse("{\"session\":\"s\",\"secret\":\"x\",\"argv\":[\"ls\"],"
	    "\"password\":5}"),
	    "\"password\" must be a string of at most 1024 bytes");
	/* Two "session" keys could mean different things to two parsers. */
	CHECK(strncmp(parse("{\"session\":\"a\",\"session\":\"b\","
	    "\"secret\":\"x\",\"argv\":[\"ls\"]}"), "invalid JSON", 12) == 0);
	/* NUL inside a string would cut the word short in C. */
	CHECK(strncmp(parse("{\"session\":\"a\\u0000b\",\"secret\":\"x\","
	    "\"argv\":[\"ls\"]}"), "invalid JSON", 12) == 0);

	/* 64 words pass, 65 do not. */
	for (n = 64; n <= 65; n++) {
		buf_reset(&b);
		buf_puts(&b, "{\"session\":\"s\",\"secret\":\"x\",\"argv\":[");
		for (i = 0; i < (int)n; i++)
			buf_printf(&b, "%s\"w\"", i ? "," : "");
		buf_puts(&b, "]}");
		CHECK_STR(parse(buf_cstr(&b)), n == 64 ? "OK" :
		    "\"argv\" has more than 64 words");
	}
	/* A password of 1024 bytes passes, 1025 do not. */
	for (n = 1024; n <= 1025; n++) {
		buf_reset(&b);
		buf_puts(&b, "{\"session\":\"s\",\"secret\":\"x\",\"argv\":"
		    "[\"share\"],\"password\":\"");
		for (i = 0; i < (int)n; i++)
			buf_puts(&b, "p");
		buf_puts(&b, "\"}");
		CHECK_STR(parse(buf_cstr(&b)), n == 1024 ? "OK" :
		    "\"password\" must be a string of at most 1024 bytes");
	}
	buf_free(&b);

	/* Too long, and too deep for jansson: refused, not crashed. */
	big = malloc(CONTROL_MAX_REQUEST + 2);
	memset(big, '[', CONTROL_MAX_REQUEST + 1);
	big[CONTROL_MAX_REQUEST + 1] = '\0';
	CHECK(control_request_parse(big, CONTROL_MAX_REQUEST + 1, &req, err,
	    sizeof err) != 0);
	CHECK_STR(err, "longer than 65536 bytes");
	CHECK(control_request_parse(big, CONTROL_MAX_REQUEST, &req, err,
	    sizeof err) != 0);
	CHECK(strncmp(err, "invalid JSON", 12) == 0);
	free(big);
}

/* Random bytes: never a crash, and never an answer without a reason. */
static void
test_parse_random(void)
{
	static const char *const pieces[] = { "{", "}", "[", "]", ",", ":",
	    "\"session\"", "\"secret\"", "\"argv\"", "\"tty\"", "\"password\"",
	    "\"x\"", "1", "true", "null", "\"\\u00e9\"", "\xff", " ", "\"" };
	struct control_request	 req;
	struct buf		 b = BUF_INIT;
	char			 err[256];
	int			 round, i, n;

	for (round = 0; round < 5000; round++) {
		buf_reset(&b);
		n = (int)(rng() % 24);
		for (i = 0; i < n; i++)
			buf_puts(&b, pieces[rng() %
			    (sizeof pieces / sizeof pieces[0])]);
		err[0] = '\0';
		if (control_request_parse(buf_ptr(&b), buf_used(&b), &req,
		    err, sizeof err) == 0) {
			CHECK(req.argc >= 1 && req.session && req.secret);
			control_request_free(&req);
		} else
			CHECK(err[0] != '\0');
	}
	buf_free(&b);
}

static int
clean_is_valid(const char *s, size_t len)
{
	struct buf	 b = BUF_INIT;
	json_t		*j;
	int		 ok;

	if (control_utf8_clean(s, len, &b) != 0)
		return 0;
	j = json_stringn(b.data ? buf_ptr(&b) : "", buf_used(&b));
	ok = j != NULL;
	json_decref(j);
	buf_free(&b);
	return ok;
}

static void
test_utf8(void)
{
	struct buf	 b = BUF_INIT;
	unsigned char	 bytes[16];
	int		 round, failures = 0;
	size_t		 i, n;

	CHECK(control_utf8_clean("h\xc3\xa9!", 4, &b) == 0);
	CHECK_STR(buf_cstr(&b), "h\xc3\xa9!");
	buf_free(&b);
	/* A stray byte, an overlong '/', a surrogate, a cut sequence, NUL. */
	CHECK(control_utf8_clean("a\xff" "b\xc0\xaf" "c\xed\xa0\x80" "d\xe2\x82",
	    12, &b) == 0);
	CHECK_STR(buf_cstr(&b), "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
	    "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "d\xef\xbf\xbd\xef\xbf\xbd");
	buf_free(&b);
	CHECK(control_utf8_clean("x\0y", 3, &b) == 0);
	CHECK_STR(buf_cstr(&b), "x\xef\xbf\xbdy");
	buf_free(&b);
	for (round = 0; round < 20000; round++) {
		n = rng() % sizeof bytes;
		for (i = 0; i < n; i++)
			bytes[i] = (unsigned char)rng();
		if (!clean_is_valid((const char *)bytes, n))
			failures++;
	}
	CHECK_INT(failures, 0);
}

int
main(void)
{
	test_join();
	test_join_random();
	test_parse();
	test_parse_random();
	test_utf8();
	return check_done("test_control");
}
