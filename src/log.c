/*
 * log: time-stamped lines to stderr or an append-only file (log.h).
 * Control characters in messages are escaped so that a hostile user
 * name or command cannot forge log lines or move a reader's terminal.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static FILE		*log_fp;
static char		*log_path;
static enum log_level	 log_max = LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int
log_open(const char *path, enum log_level level)
{
	log_max = level;
	free(log_path);
	log_path = NULL;
	if (path == NULL || strcmp(path, "-") == 0) {
		log_fp = NULL;
		return 0;
	}
	if ((log_path = strdup(path)) == NULL)
		return -1;
	return log_reopen();
}

int
log_reopen(void)
{
	FILE	*fp;

	if (log_path == NULL)
		return 0;
	if ((fp = fopen(log_path, "ae")) == NULL)
		return -1;
	setvbuf(fp, NULL, _IOLBF, 0);
	if (log_fp != NULL)
		fclose(log_fp);
	log_fp = fp;
	return 0;
}

void
log_close(void)
{
	if (log_fp != NULL)
		fclose(log_fp);
	log_fp = NULL;
	free(log_path);
	log_path = NULL;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t	 i;

	for (i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char		 msg[2048], line[4096 + 64], stamp[32];
	va_list		 ap;
	struct timespec	 ts;
	struct tm	 tm;
	size_t		 i, o;
	int		 saved = errno;
	FILE		*fp = log_fp ? log_fp : stderr;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

	for (i = o = 0; msg[i] != '\0' && o < sizeof line - 80; i++) {
		unsigned char c = (unsigned char)msg[i];
		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(line + o, 5, "\\x%02x", c);
		else
			line[o++] = (char)c;
	}
	line[o] = '\0';
	fprintf(fp, "%s.%03ldZ tandemd[%s] %s\n", stamp, ts.tv_nsec / 1000000,
	    level_names[level], line);
	fflush(fp);
	errno = saved;
}
