/*
 * test_config: the settings parser (src/config.c).  Every setting is
 * tried at and past its limits, every file-syntax error is checked for
 * its "FILE:LINE: message" form, a failed load must change nothing, and
 * random files and values go through the parser under the sanitizers.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "check.h"

static char	 tmpdir[] = "/tmp/test_config.XXXXXX";
static int	 nfiles;

static uint64_t	 rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Write len bytes to a fresh file in tmpdir and return its path. */
static const char *
write_file(const void *data, size_t len)
{
	static char	 path[256];
	FILE		*f;

	snprintf(path, sizeof path, "%s/f%d.conf", tmpdir, nfiles++);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(2);
	}
	if (len > 0 && fwrite(data, 1, len, f) != len) {
		perror(path);
		exit(2);
	}
	fclose(f);
	return path;
}

static const char *
write_text(const char *text)
{
	return write_file(text, strlen(text));
}

/* Set key to value; return the error text, or "" on success. */
static const char *
set(struct config *cfg, const char *key, const char *value)
{
	static char	 err[512];

	strcpy(err, "(untouched)");
	if (config_set(cfg, key, value, err, sizeof err) == 0)
		return "";
	return err;
}

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Set one key on fresh defaults: 0 accepted, -1 refused. */
static int
try_set(const char *key, const char *value)
{
	struct config	 cfg;
	char		 err[512] = "";
	int		 r;

	config_defaults(&cfg);
	r = config_set(&cfg, key, value, err, sizeof err);
	if (r != 0 && (err[0] == '\0' || strstr(err, key) == NULL)) {
		fprintf(stderr, "error for %s does not name it: %s\n", key,
		    err);
		r = -2;
	}
	config_free(&cfg);
	return r;
}

/* Load text from a file; return "" on success or the error text. */
static const char *
load(struct config *cfg, const char *text, const char **pathp)
{
	static char	 err[512];
	const char	*path = write_text(text);

	if (pathp != NULL)
		*pathp = path;
	strcpy(err, "(untouched)");
	if (config_load(cfg, path, err, sizeof err) == 0)
		return "";
	return err;
}

/* The error for a one-file load must be exactly "PATH:LINE: msg". */
static void
check_load_error(const char *text, int line, const char *msg)
{
	struct config	 cfg;
	const char	*path, *err;
	char		 want[512];

	config_defaults(&cfg);
	err = load(&cfg, text, &path);
	snprintf(want, sizeof want, "%s:%d: %s", path, line, msg);
	CHECK_STR(err, want);
	config_free(&cfg);
}

static void
test_defaults(void)
{
	struct config	 cfg;

	config_defaults(&cfg);
	CHECK_STR(cfg.data_dir, "./tandem-data");
	CHECK_STR(cfg.ssh_listen, "127.0.0.1:2222");
	CHECK(cfg.log_file == NULL);
	CHECK_INT(cfg.log_level, LOG_INFO);
	CHECK_INT(cfg.enroll, ENROLL_FIRST_KEY);
	CHECK(cfg.shell == NULL);
	CHECK(cfg.command == NULL);
	CHECK_INT(cfg.login_grace_time, 30);
	CHECK_INT(cfg.max_auth_tries, 6);
	CHECK_INT(cfg.max_sessions, 32);
	CHECK_INT(cfg.keepalive_interval, 30);
	CHECK_INT(cfg.keepalive_count_max, 3);
	CHECK_INT(cfg.scrollback, 1000);
	CHECK_INT(cfg.naccept_env, 3);
	CHECK_STR(cfg.accept_env[0], "LANG");
	CHECK_STR(cfg.accept_env[1], "LC_*");
	CHECK_STR(cfg.accept_env[2], "COLORTERM");
	CHECK(cfg.accept_env[3] == NULL);
	config_free(&cfg);
	CHECK(cfg.data_dir == NULL && cfg.naccept_env == 0);
	/* Freeing twice, or freeing a zeroed config, is harmless. */
	config_free(&cfg);
}

static void
test_set_strings(void)
{
	struct config	 cfg;

	config_defaults(&cfg);
	CHECK_STR(set(&cfg, "data_dir", "/var/lib/tandem"), "");
	CHECK_STR(cfg.data_dir, "/var/lib/tandem");
	CHECK_STR(set(&cfg, "data_dir", "rel dir with spaces"), "");
	CHECK_STR(cfg.data_dir, "rel dir with spaces");
	CHECK_STR(set(&cfg, "data_dir", ""),
	    "invalid data_dir '': expected a non-empty value");
	CHECK_STR(cfg.data_dir, "rel dir with spaces");

	CHECK_STR(set(&cfg, "log_file", "/var/log/tandemd.log"), "");
	CHECK_STR(cfg.log_file, "/var/log/tandemd.log");
	CHECK_STR(set(&cfg, "log_file", "second.log"), "");
	CHECK_STR(cfg.log_file, "second.log");

	CHECK_STR(set(&cfg, "shell", "/bin/bash"), "");
	CHECK_STR(cfg.shell, "/bin/bash");
	CHECK_STR(set(&cfg, "shell", "bash"),
	    "invalid shell 'bash': expected an absolute path");
	CHECK_STR(set(&cfg, "shell", ""),
	    "invalid shell '': expected an absolute path");
	CHECK_STR(cfg.shell, "/bin/bash");

	CHECK_STR(set(&cfg, "command", "htop -d 10"), "");
	CHECK_STR(cfg.command, "htop -d 10");
	CHECK_STR(set(&cfg, "command", ""),
	    "invalid command '': expected a non-empty value");
	CHECK_STR(cfg.command, "htop -d 10");

	CHECK_STR(set(&cfg, "ssh_listen", "0.0.0.0:22"), "");
	CHECK_STR(cfg.ssh_listen, "0.0.0.0:22");
	CHECK_STR(set(&cfg, "ssh_listen", "[::1]:0"), "");
	CHECK_STR(cfg.ssh_listen, "[::1]:0");
	CHECK(starts(set(&cfg, "ssh_listen", "example.com:22"),
	    "invalid ssh_listen 'example.com:22': expected ADDRESS:PORT"));
	CHECK_STR(cfg.ssh_listen, "[::1]:0");
	config_free(&cfg);
}

static void
test_set_enums(void)
{
	struct config	 cfg;
	static const char *const levels[] = { "error", "warn", "info",
	    "debug" };
	size_t		 i;

	config_defaults(&cfg);
	for (i = 0; i < 4; i++) {
		CHECK_STR(set(&cfg, "log_level", levels[i]), "");
		CHECK_INT(cfg.log_level, (enum log_level)i);
	}
	CHECK_STR(set(&cfg, "log_level", "verbose"), "invalid log_level "
	    "'verbose': expected error, warn, info or debug");
	CHECK_STR(set(&cfg, "log_level", "INFO"), "invalid log_level "
	    "'INFO': expected error, warn, info or debug");
	CHECK_INT(cfg.log_level, LOG_DEBUG);

	CHECK_STR(set(&cfg, "enroll", "closed"), "");
	CHECK_INT(cfg.enroll, ENROLL_CLOSED);
	CHECK_STR(set(&cfg, "enroll", "first-key"), "");
	CHECK_INT(cfg.enroll, ENROLL_FIRST_KEY);
	CHECK_STR(set(&cfg, "enroll", "open"),
	    "invalid enroll 'open': expected first-key or closed");
	CHECK_INT(cfg.enroll, ENROLL_FIRST_KEY);
	config_free(&cfg);
}

static void
test_set_durations(void)
{
	struct config	 cfg;

	config_defaults(&cfg);
	CHECK_STR(set(&cfg, "login_grace_time", "2m"), "");
	CHECK_INT(cfg.login_grace_time, 120);
	CHECK_STR(set(&cfg, "login_grace_time", "45s"), "");
	CHECK_INT(cfg.login_grace_time, 45);
	CHECK_STR(set(&cfg, "login_grace_time", "1h"), "");
	CHECK_INT(cfg.login_grace_time, 3600);
	CHECK_STR(set(&cfg, "login_grace_time", "1s"), "");
	CHECK_INT(cfg.login_grace_time, 1);
	CHECK_STR(set(&cfg, "login_grace_time", "3600"), "");
	CHECK_INT(cfg.login_grace_time, 3600);
	CHECK_STR(set(&cfg, "login_grace_time", "3601"),
	    "invalid login_grace_time '3601': expected a duration from 1s "
	    "to 1h, such as 30s or 2m");
	CHECK_INT(cfg.login_grace_time, 3600);
	CHECK_INT(try_set("login_grace_time", "0"), -1);
	CHECK_INT(try_set("login_grace_time", "61m"), -1);
	CHECK_INT(try_set("login_grace_time", "2h"), -1);
	CHECK_INT(try_set("login_grace_time", "1d"), -1);
	CHECK_INT(try_set("login_grace_time", "-1s"), -1);
	CHECK_INT(try_set("login_grace_time", "30 s"), -1);
	CHECK_INT(try_set("login_grace_time", ""), -1);

	CHECK_STR(set(&cfg, "keepalive_interval", "0"), "");
	CHECK_INT(cfg.keepalive_interval, 0);
	CHECK_STR(set(&cfg, "keepalive_interval", "15s"), "");
	CHECK_INT(cfg.keepalive_interval, 15);
	CHECK_STR(set(&cfg, "keepalive_interval", "60m"), "");
	CHECK_INT(cfg.keepalive_interval, 3600);
	CHECK_STR(set(&cfg, "keepalive_interval", "2h"),
	    "invalid keepalive_interval '2h': expected 0 (off) or a "
	    "duration up to 1h, such as 30s or 2m");
	CHECK_INT(cfg.keepalive_interval, 3600);
	CHECK_INT(try_set("keepalive_interval", "-0"), -1);
	CHECK_INT(try_set("keepalive_interval", "off"), -1);
	CHECK_INT(try_set("keepalive_interval", "00"), -1);
	config_free(&cfg);
}

static void
test_set_numbers(void)
{
	struct config	 cfg;

	config_defaults(&cfg);
	CHECK_STR(set(&cfg, "max_auth_tries", "1"), "");
	CHECK_INT(cfg.max_auth_tries, 1);
	CHECK_STR(set(&cfg, "max_auth_tries", "100"), "");
	CHECK_INT(cfg.max_auth_tries, 100);
	CHECK_STR(set(&cfg, "max_auth_tries", "0"), "invalid max_auth_tries "
	    "'0': expected a whole number from 1 to 100");
	CHECK_STR(set(&cfg, "max_auth_tries", "101"), "invalid "
	    "max_auth_tries '101': expected a whole number from 1 to 100");
	CHECK_INT(cfg.max_auth_tries, 100);
	CHECK_STR(set(&cfg, "max_auth_tries", "007"), "");
	CHECK_INT(cfg.max_auth_tries, 7);

	CHECK_STR(set(&cfg, "max_sessions", "0"), "");
	CHECK_INT(cfg.max_sessions, 0);
	CHECK_STR(set(&cfg, "max_sessions", "10000"), "");
	CHECK_INT(cfg.max_sessions, 10000);
	CHECK_INT(try_set("max_sessions", "10001"), -1);

	CHECK_STR(set(&cfg, "keepalive_count_max", "1"), "");
	CHECK_INT(cfg.keepalive_count_max, 1);
	CHECK_INT(try_set("keepalive_count_max", "0"), -1);
	CHECK_INT(try_set("keepalive_count_max", "101"), -1);
	CHECK_INT(try_set("keepalive_count_max", "100"), 0);

	CHECK_STR(set(&cfg, "scrollback", "0"), "");
	CHECK_INT(cfg.scrollback, 0);
	CHECK_STR(set(&cfg, "scrollback", "100000"), "");
	CHECK_INT(cfg.scrollback, 100000);
	CHECK_INT(try_set("scrollback", "100001"), -1);

	/* Nothing but plain decimal digits. */
	CHECK_INT(try_set("max_auth_tries", ""), -1);
	CHECK_INT(try_set("max_auth_tries", "-1"), -1);
	CHECK_INT(try_set("max_auth_tries", "+5"), -1);
	CHECK_INT(try_set("max_auth_tries", " 5"), -1);
	CHECK_INT(try_set("max_auth_tries", "5 "), -1);
	CHECK_INT(try_set("max_auth_tries", "0x10"), -1);
	CHECK_INT(try_set("max_auth_tries", "1e2"), -1);
	CHECK_INT(try_set("max_auth_tries", "5s"), -1);
	CHECK_INT(try_set("scrollback", "99999999999999999999999999"), -1);
	CHECK_INT(try_set("scrollback", "18446744073709551616"), -1);
	CHECK_INT(try_set("max_sessions", "4294967296"), -1);
	CHECK_INT(try_set("max_sessions", "-4294967296"), -1);
	CHECK_INT(try_set("max_sessions", "00000000000000000000000001"), 0);
	config_free(&cfg);
}

static void
test_set_env(void)
{
	struct config	 cfg;
	char		 many[512];
	int		 i;

	config_defaults(&cfg);
	CHECK_STR(set(&cfg, "accept_env", "TZ  EDITOR X_*  _private "), "");
	CHECK_INT(cfg.naccept_env, 4);
	CHECK_STR(cfg.accept_env[0], "TZ");
	CHECK_STR(cfg.accept_env[1], "EDITOR");
	CHECK_STR(cfg.accept_env[2], "X_*");
	CHECK_STR(cfg.accept_env[3], "_private");
	CHECK(cfg.accept_env[4] == NULL);
	CHECK(config_env_accepted(&cfg, "TZ"));
	CHECK(!config_env_accepted(&cfg, "LANG"));

	/* A refused list leaves the old one in place. */
	CHECK(starts(set(&cfg, "accept_env", "LANG *"),
	    "invalid accept_env 'LANG *': expected names"));
	CHECK_INT(try_set("accept_env", "1ABC"), -1);
	CHECK_INT(try_set("accept_env", "A-B"), -1);
	CHECK_INT(try_set("accept_env", "A**"), -1);
	CHECK_INT(try_set("accept_env", "A*B"), -1);
	CHECK_INT(try_set("accept_env", "*A"), -1);
	CHECK_INT(try_set("accept_env", "LANG=C"), -1);
	CHECK_INT(try_set("accept_env", "caf\xc3\xa9"), -1);
	CHECK_INT(try_set("accept_env", "LANG\tTZ"), -1);
	CHECK_INT(cfg.naccept_env, 4);
	CHECK_STR(cfg.accept_env[3], "_private");

	/* At most CONFIG_MAX_ENV names. */
	many[0] = '\0';
	for (i = 0; i < CONFIG_MAX_ENV; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many),
		    "V%d ", i);
	CHECK_STR(set(&cfg, "accept_env", many), "");
	CHECK_INT(cfg.naccept_env, CONFIG_MAX_ENV);
	CHECK_STR(cfg.accept_env[CONFIG_MAX_ENV - 1], "V31");
	strcat(many, "ONE_TOO_MANY");
	CHECK(strstr(set(&cfg, "accept_env", many), "at most 32 names")
	    != NULL);
	CHECK_INT(cfg.naccept_env, CONFIG_MAX_ENV);

	/* An empty list accepts nothing. */
	CHECK_STR(set(&cfg, "accept_env", ""), "");
	CHECK_INT(cfg.naccept_env, 0);
	CHECK(!config_env_accepted(&cfg, "LANG"));
	CHECK_STR(set(&cfg, "accept_env", "   "), "");
	CHECK_INT(cfg.naccept_env, 0);
	config_free(&cfg);
}

static void
test_set_errors(void)
{
	struct config	 cfg;
	char		 err[512], small[16], big[8192];

	config_defaults(&cfg);
	CHECK_STR(set(&cfg, "x", "1"), "unknown setting 'x'");
	CHECK_STR(set(&cfg, "DATA_DIR", "/x"), "unknown setting 'DATA_DIR'");
	CHECK_STR(set(&cfg, "data-dir", "/x"), "unknown setting 'data-dir'");
	CHECK_STR(set(&cfg, "data_dir ", "/x"),
	    "unknown setting 'data_dir '");
	CHECK_STR(set(&cfg, "", "1"), "missing setting name");
	CHECK_STR(set(&cfg, NULL, "1"), "missing setting name");
	CHECK_STR(set(&cfg, "data_dir", NULL), "data_dir needs a value");
	CHECK_STR(cfg.data_dir, "./tandem-data");

	/* A hostile key cannot put control characters into the message. */
	CHECK_STR(set(&cfg, "a\x1b[2J\nb", "1"),
	    "unknown setting 'a?[2J?b'");
	memset(big, 'k', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CHECK(strlen(set(&cfg, big, "1")) < 120);

	/* Values with control characters are refused for every key. */
	CHECK_STR(set(&cfg, "data_dir", "/tmp/x\ny"),
	    "invalid data_dir: control characters are not allowed");
	CHECK_STR(set(&cfg, "command", "ls\t-l"),
	    "invalid command: control characters are not allowed");
	CHECK_STR(set(&cfg, "shell", "/bin/sh\x7f"),
	    "invalid shell: control characters are not allowed");
	CHECK_STR(set(&cfg, "log_level", "info\r"),
	    "invalid log_level: control characters are not allowed");
	CHECK_STR(set(&cfg, "log_file", "\x1b]0;x\x07"),
	    "invalid log_file: control characters are not allowed");
	CHECK_STR(cfg.data_dir, "./tandem-data");
	CHECK(cfg.command == NULL && cfg.shell == NULL);

	/* A long bad value is cut short in the message. */
	memset(big, 'v', sizeof big - 1);
	CHECK(strlen(set(&cfg, "shell", big)) < 200);

	/* A small or absent error buffer is never overrun. */
	memset(small, 'Z', sizeof small);
	CHECK_INT(config_set(&cfg, "nope", "1", small, 8), -1);
	CHECK_INT(strlen(small), 7);
	CHECK_INT(small[8], 'Z');
	CHECK_INT(config_set(&cfg, "nope", "1", NULL, 0), -1);
	CHECK_INT(config_set(&cfg, "nope", "1", err, 0), -1);
	config_free(&cfg);
}

static void
test_listen(void)
{
	char	 host[64], tiny[4];
	int	 port;

	CHECK_INT(config_parse_listen("127.0.0.1:2222", host, sizeof host,
	    &port), 0);
	CHECK_STR(host, "127.0.0.1");
	CHECK_INT(port, 2222);
	CHECK_INT(config_parse_listen("0.0.0.0:0", host, sizeof host, &port),
	    0);
	CHECK_STR(host, "0.0.0.0");
	CHECK_INT(port, 0);
	CHECK_INT(config_parse_listen("localhost:65535", host, sizeof host,
	    &port), 0);
	CHECK_STR(host, "localhost");
	CHECK_INT(port, 65535);
	CHECK_INT(config_parse_listen("[::1]:22", host, sizeof host, &port),
	    0);
	CHECK_STR(host, "::1");
	CHECK_INT(port, 22);
	CHECK_INT(config_parse_listen("[::]:8022", host, sizeof host, &port),
	    0);
	CHECK_STR(host, "::");
	CHECK_INT(config_parse_listen("[2001:db8::42]:1", host, sizeof host,
	    &port), 0);
	CHECK_STR(host, "2001:db8::42");
	CHECK_INT(port, 1);
	CHECK_INT(config_parse_listen("[::ffff:192.0.2.1]:2", host,
	    sizeof host, &port), 0);
	CHECK_STR(host, "::ffff:192.0.2.1");

	/* A failure leaves the outputs alone. */
	strcpy(host, "keep");
	port = 77;
	CHECK_INT(config_parse_listen("127.0.0.1", host, sizeof host, &port),
	    -1);
	CHECK_STR(host, "keep");
	CHECK_INT(port, 77);

	CHECK_INT(config_parse_listen("127.0.0.1:", host, sizeof host,
	    &port), -1);
	CHECK_INT(config_parse_listen(":2222", host, sizeof host, &port), -1);
	CHECK_INT(config_parse_listen("", host, sizeof host, &port), -1);
	CHECK_INT(config_parse_listen(":", host, sizeof host, &port), -1);
	CHECK_INT(config_parse_listen("127.0.0.1:65536", host, sizeof host,
	    &port), -1);
	CHECK_INT(config_parse_listen("127.0.0.1:-1", host, sizeof host,
	    &port), -1);
	CHECK_INT(config_parse_listen("127.0.0.1:+22", host, sizeof host,
	    &port), -1);
	CHECK_INT(config_parse_listen("127.0.0.1: 22", host, sizeof host,
	    &port), -1);
	CHECK_INT(config_parse_listen("127.0.0.1:22 ", host, sizeof host,
	    &port), -1);
	CHECK_INT(config_parse_listen("127.0.0.1:22x", host, sizeof host,
	    &port), -1);
	CHECK_INT(config_parse_listen("127.0.0.1:0x16", host, sizeof host,
	    &port), -1);
	CHECK_INT(config_parse_listen("127.0.0.1:999999999999", host,
	    sizeof host, &port), -1);
	CHECK_INT(config_parse_listen("127.0.0.1:22:22", host, sizeof host,
	    &port), -1);
	CHECK_INT(config_parse_listen("256.0.0.1:22", host, sizeof host,
	    &port), -1);
	CHECK_INT(config_parse_listen("1.2.3:22", host, sizeof host, &port),
	    -1);
	CHECK_INT(config_parse_listen("1.2.3.4.5:22", host, sizeof host,
	    &port), -1);
	CHECK_INT(config_parse_listen(" 1.2.3.4:22", host, sizeof host,
	    &port), -1);
	CHECK_INT(config_parse_listen("example.com:22", host, sizeof host,
	    &port), -1);
	CHECK_INT(config_parse_listen("LOCALHOST:22", host, sizeof host,
	    &port), -1);
	CHECK_INT(config_parse_listen("::1:22", host, sizeof host, &port),
	    -1);
	CHECK_INT(config_parse_listen("[::1]", host, sizeof host, &port), -1);
	CHECK_INT(config_parse_listen("[::1]:", host, sizeof host, &port),
	    -1);
	CHECK_INT(config_parse_listen("[::1]22", host, sizeof host, &port),
	    -1);
	CHECK_INT(config_parse_listen("[]:22", host, sizeof host, &port), -1);
	CHECK_INT(config_parse_listen("[::1:22", host, sizeof host, &port),
	    -1);
	CHECK_INT(config_parse_listen("[1.2.3.4]:22", host, sizeof host,
	    &port), -1);
	CHECK_INT(config_parse_listen("[localhost]:22", host, sizeof host,
	    &port), -1);
	CHECK_INT(config_parse_listen("[fe80::1%eth0]:22", host, sizeof host,
	    &port), -1);
	CHECK_INT(config_parse_listen("[:::::::::::::::::::::::::::::::::::::"
	    ":::::::::::::::::::::::::::::::::::::::::::::::]:22", host,
	    sizeof host, &port), -1);
	CHECK_INT(config_parse_listen("1111111111111111111111111111111111111"
	    "111111111111111111111111111111111111:22", host, sizeof host,
	    &port), -1);

	/* The caller's buffer bounds the host. */
	CHECK_INT(config_parse_listen("[::1]:22", tiny, sizeof tiny, &port),
	    0);
	CHECK_STR(tiny, "::1");
	CHECK_INT(config_parse_listen("[::1]:22", tiny, 3, &port), -1);
	CHECK_INT(config_parse_listen("1.2.3.4:22", tiny, sizeof tiny,
	    &port), -1);
	CHECK_INT(config_parse_listen("1.2.3.4:22", host, 0, &port), -1);
	CHECK_INT(config_parse_listen(NULL, host, sizeof host, &port), -1);
}

static void
test_env_accepted(void)
{
	struct config	 cfg;

	config_defaults(&cfg);
	CHECK_INT(config_env_accepted(&cfg, "LANG"), 1);
	CHECK_INT(config_env_accepted(&cfg, "LC_ALL"), 1);
	CHECK_INT(config_env_accepted(&cfg, "LC_CTYPE"), 1);
	CHECK_INT(config_env_accepted(&cfg, "LC_"), 1);
	CHECK_INT(config_env_accepted(&cfg, "COLORTERM"), 1);
	CHECK_INT(config_env_accepted(&cfg, "LANGUAGE"), 0);
	CHECK_INT(config_env_accepted(&cfg, "LAN"), 0);
	CHECK_INT(config_env_accepted(&cfg, "LC"), 0);
	CHECK_INT(config_env_accepted(&cfg, "lang"), 0);
	CHECK_INT(config_env_accepted(&cfg, "COLORTERMX"), 0);
	CHECK_INT(config_env_accepted(&cfg, "PATH"), 0);
	CHECK_INT(config_env_accepted(&cfg, "LD_PRELOAD"), 0);
	CHECK_INT(config_env_accepted(&cfg, ""), 0);
	CHECK_INT(config_env_accepted(&cfg, NULL), 0);
	/* Names that are not variable names never pass, even by prefix. */
	CHECK_INT(config_env_accepted(&cfg, "LANG=C"), 0);
	CHECK_INT(config_env_accepted(&cfg, "LC_ALL\n"), 0);
	CHECK_INT(config_env_accepted(&cfg, "LC_ALL=x"), 0);
	CHECK_INT(config_env_accepted(&cfg, "LC_\xc3\xa9"), 0);
	CHECK_INT(config_env_accepted(&cfg, "LC_*"), 0);
	config_free(&cfg);
}

static void
test_load_good(void)
{
	struct config	 cfg;
	char		*text;
	size_t		 len;

	config_defaults(&cfg);
	CHECK_STR(load(&cfg,
	    "# tandemd.conf\n"
	    "\n"
	    "   \t\n"
	    "  # indented comment\n"
	    "data_dir = /srv/tandem   # trailing comment\n"
	    "ssh_listen=0.0.0.0:2022\n"
	    "log_level\t=\tdebug\n"
	    "enroll =closed\n"
	    "shell= /bin/zsh\n"
	    "command = \"say \\\"hi\\\" \\\\ # not a comment\"  # comment\n"
	    "log_file = /var/log/a#b.log\n"
	    "login_grace_time = 2m\n"
	    "max_auth_tries = 3\n"
	    "max_sessions = 0\n"
	    "keepalive_interval = 0\n"
	    "keepalive_count_max = 5\n"
	    "scrollback = 5000\n"
	    "accept_env = \"TZ  LC_*\"\n"
	    "max_auth_tries = 4\n", NULL), "");
	CHECK_STR(cfg.data_dir, "/srv/tandem");
	CHECK_STR(cfg.ssh_listen, "0.0.0.0:2022");
	CHECK_INT(cfg.log_level, LOG_DEBUG);
	CHECK_INT(cfg.enroll, ENROLL_CLOSED);
	CHECK_STR(cfg.shell, "/bin/zsh");
	CHECK_STR(cfg.command, "say \"hi\" \\ # not a comment");
	CHECK_STR(cfg.log_file, "/var/log/a#b.log");
	CHECK_INT(cfg.login_grace_time, 120);
	CHECK_INT(cfg.max_auth_tries, 4);	/* the last one wins */
	CHECK_INT(cfg.max_sessions, 0);
	CHECK_INT(cfg.keepalive_interval, 0);
	CHECK_INT(cfg.keepalive_count_max, 5);
	CHECK_INT(cfg.scrollback, 5000);
	CHECK_INT(cfg.naccept_env, 2);
	CHECK_STR(cfg.accept_env[1], "LC_*");
	config_free(&cfg);

	/* CRLF line ends, a byte-order mark, no final newline. */
	config_defaults(&cfg);
	CHECK_STR(load(&cfg, "\xef\xbb\xbfshell = /bin/a\r\n"
	    "command = \"x y\"\r\n\r\nscrollback = 7", NULL), "");
	CHECK_STR(cfg.shell, "/bin/a");
	CHECK_STR(cfg.command, "x y");
	CHECK_INT(cfg.scrollback, 7);
	config_free(&cfg);

	/* Empty files and comment-only files change nothing. */
	config_defaults(&cfg);
	CHECK_STR(load(&cfg, "", NULL), "");
	CHECK_STR(load(&cfg, "# nothing\n\n#\n", NULL), "");
	CHECK_STR(cfg.data_dir, "./tandem-data");
	config_free(&cfg);

	/* Quoted values may hold '#', spaces and an empty string. */
	config_defaults(&cfg);
	CHECK_STR(load(&cfg, "command = \"#!  x  \"\n"
	    "accept_env = \"\"\n", NULL), "");
	CHECK_STR(cfg.command, "#!  x  ");
	CHECK_INT(cfg.naccept_env, 0);
	/* Other backslashes inside quotes stay as they are. */
	CHECK_STR(load(&cfg, "command = \"a\\nb\\\"\"\n", NULL), "");
	CHECK_STR(cfg.command, "a\\nb\"");
	/* Unquoted, a '"' inside a value is an ordinary character. */
	CHECK_STR(load(&cfg, "command = echo \"hi\" there\n", NULL), "");
	CHECK_STR(cfg.command, "echo \"hi\" there");
	config_free(&cfg);

	/* A line of exactly 4096 bytes is fine. */
	len = 4096;
	text = malloc(len + 2);
	memset(text, 'x', len);
	memcpy(text, "command = ", 10);
	text[len] = '\n';
	text[len + 1] = '\0';
	config_defaults(&cfg);
	CHECK_STR(load(&cfg, text, NULL), "");
	CHECK_INT(strlen(cfg.command), 4096 - 10);
	config_free(&cfg);
	free(text);
}

static void
test_load_errors(void)
{
	struct config	 cfg;
	const char	*path, *err;
	char		*text, want[600];
	size_t		 i, len;

	check_load_error("data_dir /x\n", 1, "missing '=' after 'data_dir'");
	check_load_error("\n\n# c\ndata_dir\n", 4,
	    "missing '=' after 'data_dir'");
	check_load_error("= x\n", 1, "missing setting name before '='");
	check_load_error("  =\n", 1, "missing setting name before '='");
	check_load_error("x = 1\n", 1, "unknown setting 'x'");
	check_load_error("scrollback = 1\nmax_auth_tries = 1000\n", 2,
	    "invalid max_auth_tries '1000': expected a whole number from "
	    "1 to 100");
	check_load_error("command = \"abc\n", 1, "unterminated quote");
	check_load_error("command = \"abc\\\"\n", 1, "unterminated quote");
	check_load_error("command = \"\n", 1, "unterminated quote");
	check_load_error("command = \"a\" b\n", 1,
	    "unexpected text after the closing quote");
	check_load_error("command = \"a\"#b\n", 1,
	    "unexpected text after the closing quote");
	check_load_error("command = \"a\"\"b\"\n", 1,
	    "unexpected text after the closing quote");
	check_load_error("command = \"a\tb\"\n", 1,
	    "invalid command: control characters are not allowed");
	check_load_error("command = a\x1b[31mb\n", 1,
	    "invalid command: control characters are not allowed");
	check_load_error("command = # only a comment\n", 1,
	    "invalid command '': expected a non-empty value");
	check_load_error("shell = \"\"\n", 1,
	    "invalid shell '': expected an absolute path");
	check_load_error("data_dir = /x\r\r\n", 1,
	    "invalid data_dir: control characters are not allowed");
	check_load_error("\x1b[2J = 1\n", 1, "unknown setting '?[2J'");
	check_load_error("\x1b[2J\n", 1, "missing '=' after '?[2J'");
	check_load_error("scrollback = 1\n\xef\xbb\xbfshell = /x\n", 2,
	    "unknown setting '\xef\xbb\xbfshell'");
	check_load_error("# a\nlog_level = loud # no\n", 2,
	    "invalid log_level 'loud': expected error, warn, info or debug");

	/* A NUL byte, on the line that holds it. */
	config_defaults(&cfg);
	path = write_file("scrollback = 1\ncommand = a\0b\n", 27);
	CHECK_INT(config_load(&cfg, path, want, sizeof want), -1);
	CHECK(strstr(want, ":2: NUL byte in line") != NULL);
	path = write_file("\0", 1);
	CHECK_INT(config_load(&cfg, path, want, sizeof want), -1);
	CHECK(strstr(want, ":1: NUL byte in line") != NULL);
	CHECK_INT(cfg.scrollback, 1000);
	config_free(&cfg);

	/* One byte over the line limit. */
	len = 4097;
	text = malloc(len + 32);
	memcpy(text, "# ok\n", 5);
	memset(text + 5, 'x', len);
	memcpy(text + 5, "command = ", 10);
	memcpy(text + 5 + len, "\n", 2);
	check_load_error(text, 2, "line is longer than 4096 bytes");
	/* ...even when it is a comment. */
	text[5] = '#';
	check_load_error(text, 2, "line is longer than 4096 bytes");
	free(text);

	/* Missing and unreadable files. */
	config_defaults(&cfg);
	snprintf(want, sizeof want, "%s/does-not-exist", tmpdir);
	CHECK_INT(config_load(&cfg, want, want + 300, 300), -1);
	CHECK(strstr(want + 300, "cannot open ") == want + 300);
	CHECK(strstr(want + 300, ": No such file or directory") != NULL);
	CHECK_INT(config_load(&cfg, tmpdir, want, sizeof want), -1);
	CHECK(strstr(want, "cannot read ") == want);
	CHECK(strstr(want, strerror(EISDIR)) != NULL);
	if (geteuid() != 0) {
		path = write_text("scrollback = 1\n");
		chmod(path, 0);
		CHECK_INT(config_load(&cfg, path, want, sizeof want), -1);
		CHECK(strstr(want, strerror(EACCES)) != NULL);
	}
	config_free(&cfg);

	/* A file over 1 MiB, whatever it holds. */
	len = 1024 * 1024 + 1;
	text = malloc(len + 1);
	memset(text, '#', len);
	for (i = 99; i < len; i += 100)
		text[i] = '\n';
	text[len] = '\0';
	config_defaults(&cfg);
	err = load(&cfg, text, &path);
	snprintf(want, sizeof want, "%s:10486: file is larger than 1 MiB",
	    path);
	CHECK_STR(err, want);
	/* Exactly 1 MiB is allowed. */
	text[len - 1] = '\0';
	CHECK_STR(load(&cfg, text, NULL), "");
	config_free(&cfg);
	free(text);
}

/* A file with an error anywhere changes nothing, however far it got. */
static void
test_load_atomic(void)
{
	struct config	 cfg;

	config_defaults(&cfg);
	CHECK_STR(set(&cfg, "command", "keep"), "");
	CHECK(load(&cfg, "data_dir = /new\ncommand = changed\n"
	    "accept_env = A B C\nscrollback = 5\nshell = relative\n",
	    NULL)[0] != '\0');
	CHECK_STR(cfg.data_dir, "./tandem-data");
	CHECK_STR(cfg.command, "keep");
	CHECK_INT(cfg.naccept_env, 3);
	CHECK_STR(cfg.accept_env[0], "LANG");
	CHECK_INT(cfg.scrollback, 1000);
	CHECK(cfg.shell == NULL);

	/* And a good file replaces what it names, and only that. */
	CHECK_STR(load(&cfg, "data_dir = /new\naccept_env = A\n", NULL), "");
	CHECK_STR(cfg.data_dir, "/new");
	CHECK_STR(cfg.command, "keep");
	CHECK_INT(cfg.naccept_env, 1);
	CHECK(cfg.accept_env[1] == NULL);
	config_free(&cfg);
}

static const char *const keys[] = {
	"data_dir", "ssh_listen", "log_file", "log_level", "enroll", "shell",
	"command", "login_grace_time", "max_auth_tries", "max_sessions",
	"keepalive_interval", "keepalive_count_max", "scrollback",
	"accept_env", "bogus",
};

static const char alphabet[] = " \t\n\r\"\\#=*:[]./-_09aAzZ\x01\x7f\xc3\xa9"
    "smhdy";

static const char *const pieces[] = {
	"data_dir", "command", "scrollback", "accept_env", "ssh_listen",
	"log_level", " ", "\t", "=", " = ", "\"", "\\", "\\\"", "#", " #",
	"\n", "\r\n", "1h", "0", "LC_*", "[::1]:0", "/bin/sh", "debug",
};

/* Random text made of the file syntax's own symbols. */
static size_t
fuzz_text(char *buf, size_t size)
{
	const char	*p;
	size_t		 len = 0, n;

	while (len < size) {
		if (rng() % 4 == 0) {
			buf[len++] = (char)rng();
			continue;
		}
		p = pieces[rng() % (sizeof pieces / sizeof *pieces)];
		n = strlen(p);
		if (n > size - len)
			break;
		memcpy(buf + len, p, n);
		len += n;
	}
	return len;
}

/* Random bytes and random near-valid text through every entry point. */
static void
test_fuzz(void)
{
	struct config	 cfg;
	char		 buf[600], err[256];
	size_t		 i, j, len;
	int		 r, port;

	config_defaults(&cfg);
	for (i = 0; i < 20000; i++) {
		len = rng() % 40;
		for (j = 0; j < len; j++)
			buf[j] = (i & 1) ? (char)(rng() % 255 + 1) :
			    alphabet[rng() % (sizeof alphabet - 1)];
		buf[len] = '\0';
		err[0] = '\0';
		r = config_set(&cfg, keys[rng() % (sizeof keys /
		    sizeof *keys)], buf, err, sizeof err);
		CHECK(r == 0 || (r == -1 && err[0] != '\0'));
		r = config_parse_listen(buf, err, sizeof err, &port);
		CHECK(r == -1 || (r == 0 && port >= 0 && port <= 65535));
		CHECK(config_env_accepted(&cfg, buf) <= 1);
	}
	for (i = 0; i < 400; i++) {
		len = rng() % sizeof buf;
		if (i % 4 == 0) {
			for (j = 0; j < len; j++)
				buf[j] = (char)rng();
		} else
			len = fuzz_text(buf, len);
		err[0] = '\0';
		r = config_load(&cfg, write_file(buf, len), err, sizeof err);
		CHECK(r == 0 || (r == -1 && strstr(err, tmpdir) == err));
		CHECK(cfg.data_dir != NULL && cfg.ssh_listen != NULL);
		CHECK(cfg.naccept_env <= CONFIG_MAX_ENV);
	}
	config_free(&cfg);
}

static void
cleanup(void)
{
	char	 path[300];
	int	 i;

	for (i = 0; i < nfiles; i++) {
		snprintf(path, sizeof path, "%s/f%d.conf", tmpdir, i);
		unlink(path);
	}
	rmdir(tmpdir);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	test_defaults();
	test_set_strings();
	test_set_enums();
	test_set_durations();
	test_set_numbers();
	test_set_env();
	test_set_errors();
	test_listen();
	test_env_accepted();
	test_load_good();
	test_load_errors();
	test_load_atomic();
	test_fuzz();
	cleanup();
	return check_done("test_config");
}
