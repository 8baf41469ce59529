/*
 * test_util: the small helpers every module leans on (src/util.c):
 * expiry strings both ways, UUIDs, user names and time stamps.  A
 * wrong answer here turns into a share that never expires or a name
 * that breaks a log line, so the edges get as many cases as the middle.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "util.h"

#define DAY	86400LL
#define YEAR	(365 * DAY)

/* duration_parse as an expression: the seconds, or -1 when refused. */
static int64_t
parse(const char *s)
{
	int64_t	 v = -12345;

	if (duration_parse(s, &v) != 0) {
		if (v != -12345)
			return -2;	/* wrote its output on failure */
		return -1;
	}
	return v;
}

static const char *
format(int64_t secs)
{
	static char	 out[32];

	memset(out, 'Z', sizeof out);
	duration_format(secs, out, sizeof out);
	return out;
}

static void
test_duration_parse(void)
{
	CHECK_INT(parse("45s"), 45);
	CHECK_INT(parse("30m"), 1800);
	CHECK_INT(parse("1h"), 3600);
	CHECK_INT(parse("4h"), 4 * 3600);
	CHECK_INT(parse("24h"), DAY);
	CHECK_INT(parse("30d"), 30 * DAY);
	CHECK_INT(parse("1y"), YEAR);
	CHECK_INT(parse("1s"), 1);
	CHECK_INT(parse("90"), 90);		/* a bare number is seconds */
	CHECK_INT(parse("1"), 1);
	CHECK_INT(parse("001h"), 3600);
	CHECK_INT(parse("100y"), 100 * YEAR);	/* the ceiling */
	CHECK_INT(parse("36500d"), 100 * YEAR);

	CHECK_INT(parse("0"), -1);
	CHECK_INT(parse("0s"), -1);
	CHECK_INT(parse("0h"), -1);
	CHECK_INT(parse("-1h"), -1);
	CHECK_INT(parse("+1h"), -1);
	CHECK_INT(parse("1x"), -1);
	CHECK_INT(parse("1H"), -1);
	CHECK_INT(parse("1M"), -1);
	CHECK_INT(parse("h"), -1);
	CHECK_INT(parse("1hh"), -1);
	CHECK_INT(parse("1h1m"), -1);
	CHECK_INT(parse("1.5h"), -1);
	CHECK_INT(parse("1e3"), -1);
	CHECK_INT(parse("0x10"), -1);
	CHECK_INT(parse(""), -1);
	CHECK_INT(parse(" 1h"), -1);
	CHECK_INT(parse("1h "), -1);
	CHECK_INT(parse("1 h"), -1);
	CHECK_INT(parse("1h\n"), -1);
	CHECK_INT(parse("\t1h"), -1);
	CHECK_INT(parse("1\xc3\xa9"), -1);
	CHECK_INT(parse(NULL), -1);
	CHECK_INT(parse("101y"), -1);
	CHECK_INT(parse("36501d"), -1);
	CHECK_INT(parse("999999999999999999y"), -1);
	CHECK_INT(parse("9223372036854775807"), -1);
	CHECK_INT(parse("9223372036854775808s"), -1);
	CHECK_INT(parse("99999999999999999999999999999999"), -1);
	CHECK_INT(parse("18446744073709551617"), -1);
	/* Input is bounded before it is parsed: 16 bytes at most. */
	CHECK_INT(parse("0000000000000001"), 1);
	CHECK_INT(parse("00000000000000001"), -1);
}

static void
test_duration_format(void)
{
	static const char *const forms[] = {
		"45s", "30m", "1h", "4h", "30d", "1y", "90s", "59s", "61m",
		"25h", "364d", "2y", "100y",
	};
	char	 small[4];
	int64_t	 v, t;
	size_t	 i;

	CHECK_STR(format(45), "45s");
	CHECK_STR(format(60), "1m");
	CHECK_STR(format(90), "90s");
	CHECK_STR(format(5400), "90m");
	CHECK_STR(format(3600), "1h");
	CHECK_STR(format(DAY), "1d");
	CHECK_STR(format(DAY + 3600), "25h");
	CHECK_STR(format(30 * DAY), "30d");
	CHECK_STR(format(YEAR), "1y");
	CHECK_STR(format(YEAR + DAY), "366d");
	CHECK_STR(format(3599), "3599s");
	CHECK_STR(format(0), "0s");

	/* Every canonical form survives parse then format. */
	for (i = 0; i < sizeof forms / sizeof *forms; i++) {
		CHECK(duration_parse(forms[i], &v) == 0);
		CHECK_STR(format(v), forms[i]);
	}
	/* "24h" is a day; formatting picks the shortest exact form. */
	CHECK(duration_parse("24h", &v) == 0);
	CHECK_STR(format(v), "1d");

	/* Any accepted value survives format then parse. */
	for (i = 0; i < 20000; i++) {
		switch (i % 4) {
		case 0:
			v = 1 + (int64_t)randombytes_uniform(100000);
			break;
		case 1:
			v = 60 * (1 + (int64_t)randombytes_uniform(100000));
			break;
		case 2:
			v = DAY * (1 + (int64_t)randombytes_uniform(36500));
			break;
		default:
			v = 1 + ((int64_t)randombytes_random() << 1 |
			    randombytes_uniform(2)) % (100 * YEAR);
			break;
		}
		t = -1;
		CHECK(duration_parse(format(v), &t) == 0);
		CHECK_INT(t, v);
	}

	/* The output buffer bounds the result. */
	memset(small, 'Z', sizeof small);
	duration_format(123456, small, 3);
	CHECK_STR(small, "12");
	CHECK_INT(small[3], 'Z');
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static void
test_uuid(void)
{
	static char	 ids[2000][UUID_STRLEN + 1];
	size_t		 i, j, dashes;
	unsigned int	 seen = 0;

	for (i = 0; i < 2000; i++) {
		uuid_v4(ids[i]);
		CHECK_INT(strlen(ids[i]), UUID_STRLEN);
		CHECK(uuid_valid(ids[i]));
		/* Version 4 and the RFC 4122 variant (10xx). */
		CHECK_INT(ids[i][14], '4');
		CHECK(strchr("89ab", ids[i][19]) != NULL);
		for (j = dashes = 0; j < UUID_STRLEN; j++) {
			if (ids[i][j] == '-')
				dashes++;
			else
				CHECK(strchr("0123456789abcdef", ids[i][j]));
		}
		CHECK_INT(dashes, 4);
	}
	qsort(ids, 2000, sizeof ids[0], str_cmp);
	for (i = 1; i < 2000; i++)
		CHECK(strcmp(ids[i - 1], ids[i]) != 0);
	/* The variant nibble takes all four values, so it is random too. */
	for (i = 0; i < 2000; i++)
		seen |= 1U << (strchr("89ab", ids[i][19]) - "89ab");
	CHECK_INT(seen, 15);

	CHECK(uuid_valid("123e4567-e89b-42d3-a456-426614174000"));
	CHECK(uuid_valid("00000000-0000-0000-0000-000000000000"));
	CHECK(!uuid_valid("123E4567-e89b-42d3-a456-426614174000"));
	CHECK(!uuid_valid("123e4567-e89b-42d3-a456-42661417400A"));
	CHECK(!uuid_valid("123e4567-e89b-42d3-a456-42661417400"));
	CHECK(!uuid_valid("123e4567-e89b-42d3-a456-4266141740000"));
	CHECK(!uuid_valid("123e4567e89b-42d3-a456-426614174000-"));
	CHECK(!uuid_valid("123e456-7e89b-42d3-a456-426614174000"));
	CHECK(!uuid_valid("123e4567-e89b-42d3-a4564-26614174000"));
	CHECK(!uuid_valid("123e4567_e89b_42d3_a456_426614174000"));
	CHECK(!uuid_valid("123e4567-e89b-42d3-a456-42661417400g"));
	CHECK(!uuid_valid("123e4567-e89b-42d3-a456-42661417400 "));
	CHECK(!uuid_valid("{23e4567-e89b-42d3-a456-426614174000"));
	CHECK(!uuid_valid("123e4567e89b42d3a456426614174000"));
	CHECK(!uuid_valid("------------------------------------"));
	CHECK(!uuid_valid(""));
	CHECK(!uuid_valid(NULL));
}

static void
test_user_name(void)
{
	char	 name[40];

	CHECK(user_name_valid("alice"));
	CHECK(user_name_valid("bob.smith"));
	CHECK(user_name_valid("a_b-1"));
	CHECK(user_name_valid("a"));
	CHECK(user_name_valid("_svc"));
	CHECK(user_name_valid("0day"));
	CHECK(user_name_valid("a."));

	CHECK(!user_name_valid(""));
	CHECK(!user_name_valid(NULL));
	CHECK(!user_name_valid("-x"));
	CHECK(!user_name_valid(".x"));
	CHECK(!user_name_valid("."));
	CHECK(!user_name_valid(".."));
	CHECK(!user_name_valid("Alice"));
	CHECK(!user_name_valid("a b"));
	CHECK(!user_name_valid("a;b"));
	CHECK(!user_name_valid("a/b"));
	CHECK(!user_name_valid("a@b"));
	CHECK(!user_name_valid("a:b"));
	CHECK(!user_name_valid("a$b"));
	CHECK(!user_name_valid("a\nb"));
	CHECK(!user_name_valid("a\tb"));
	CHECK(!user_name_valid("a\x1b"));
	CHECK(!user_name_valid("caf\xc3\xa9"));

	/* 32 bytes is the limit. */
	memset(name, 'a', sizeof name);
	name[32] = '\0';
	CHECK(user_name_valid(name));
	name[32] = 'a';
	name[33] = '\0';
	CHECK(!user_name_valid(name));
}

static const char *
iso(int64_t t)
{
	static char	 out[ISO8601_LEN + 8];

	memset(out, 'Z', sizeof out);
	time_iso8601(t, out);
	if (out[ISO8601_LEN] != 'Z')
		return "BAD: wrote past ISO8601_LEN";
	return out;
}

static void
test_time(void)
{
	int64_t	 a, b;

	CHECK_STR(iso(0), "1970-01-01T00:00:00Z");
	CHECK_STR(iso(1), "1970-01-01T00:00:01Z");
	CHECK_STR(iso(-1), "1969-12-31T23:59:59Z");
	CHECK_STR(iso(951782400), "2000-02-29T00:00:00Z");
	CHECK_STR(iso(1700000000), "2023-11-14T22:13:20Z");
	CHECK_STR(iso(253402300799LL), "9999-12-31T23:59:59Z");
	/* Past year 9999 the stamp would not fit; it stays bounded. */
	CHECK_INT(strlen(iso(253402300800LL)), ISO8601_LEN - 1);
	CHECK_INT(strlen(iso(INT64_MAX)), ISO8601_LEN - 1);

	CHECK(time_now() > 1600000000);
	a = time_now_ms();
	b = time_now_ms();
	CHECK(a > 0 && b >= a);
}

static void
test_xstrdup(void)
{
	char	*s = xstrdup("tandem");

	CHECK_STR(s, "tandem");
	free(s);
	CHECK(xstrdup(NULL) == NULL);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 99;
	test_duration_parse();
	test_duration_format();
	test_uuid();
	test_user_name();
	test_time();
	test_xstrdup();
	return check_done("test_util");
}
