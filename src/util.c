/*
 * util: clock, time stamps, UUIDs, names and durations (see util.h).
 */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "util.h"

int64_t
time_now(void)
{
	return (int64_t)time(NULL);
}

int64_t
time_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
time_iso8601(int64_t t, char out[ISO8601_LEN])
{
	time_t		 tt = (time_t)t;
	struct tm	 tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, ISO8601_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, ISO8601_LEN, "1970-01-01T00:00:00Z");
}

/* RFC 4122 version 4: 122 random bits from libsodium. */
void
uuid_v4(char out[UUID_STRLEN + 1])
{
	unsigned char	 b[16];

	randombytes_buf(b, sizeof b);
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, UUID_STRLEN + 1,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
	    b[10], b[11], b[12], b[13], b[14], b[15]);
}

int
uuid_valid(const char *s)
{
	size_t	 i;

	if (s == NULL || strlen(s) != UUID_STRLEN)
		return 0;
	for (i = 0; i < UUID_STRLEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]) ||
		    isupper((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/*
 * User names follow the portable Unix rule (letters, digits, '.', '_',
 * '-', not starting with '-' or '.'), 1 to 32 bytes.  They appear in
 * logs, titles and ssh command lines, so nothing else is allowed.
 */
int
user_name_valid(const char *s)
{
	size_t	 i, n;

	if (s == NULL)
		return 0;
	n = strlen(s);
	if (n == 0 || n > 32 || s[0] == '-' || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(islower(c) || isdigit(c) || c == '_' || c == '-' ||
		    c == '.'))
			return 0;
	}
	return 1;
}

/*
 * Parse a duration: a positive integer with one unit s, m, h, d or y
 * ("45s", "30m", "1h", "30d", "1y").  A bare number means seconds.
 * Returns 0 and the number of seconds, or -1 for anything else.
 */
int
duration_parse(const char *s, int64_t *out)
{
	static const struct {
		char	 unit;
		int64_t	 secs;
	} units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'y', 365 * 86400 },
	};
	char		*end;
	long long	 v;
	size_t		 i;
	int64_t		 mult = 1;

	if (s == NULL || !isdigit((unsigned char)s[0]) || strlen(s) > 16)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v <= 0)
		return -1;
	if (*end != '\0') {
		for (i = 0; i < sizeof units / sizeof units[0]; i++)
			if (end[0] == units[i].unit)
				break;
		if (i == sizeof units / sizeof units[0] || end[1] != '\0')
			return -1;
		mult = units[i].secs;
	}
	if (v > INT64_MAX / mult || v * mult > 100LL * 365 * 86400)
		return -1;
	*out = v * mult;
	return 0;
}

/* The shortest exact form: 90 -> "90s", 3600 -> "1h", 86400*30 -> "30d". */
void
duration_format(int64_t secs, char *out, size_t len)
{
	if (secs > 0 && secs % (365 * 86400) == 0)
		snprintf(out, len, "%lldy", (long long)(secs / (365 * 86400)));
	else if (secs > 0 && secs % 86400 == 0)
		snprintf(out, len, "%lldd", (long long)(secs / 86400));
	else if (secs > 0 && secs % 3600 == 0)
		snprintf(out, len, "%lldh", (long long)(secs / 3600));
	else if (secs > 0 && secs % 60 == 0)
		snprintf(out, len, "%lldm", (long long)(secs / 60));
	else
		snprintf(out, len, "%llds", (long long)secs);
}

char *
xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}
