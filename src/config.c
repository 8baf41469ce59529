/*
 * config: tandemd's settings (config.h).  One table describes every
 * setting, where it lives in struct config and how its value is checked,
 * so config_set() is the single door used by the config file, the
 * command line and the tests.  config_load() reads "key = value" lines;
 * it checks the whole file against a scratch copy before it touches the
 * caller's settings, so a bad edit followed by a reload changes nothing.
 *
 * Note: this file's own header is also called config.h, which is the
 * name autoconf gives its generated header; "config.h" below resolves to
 * src/config.h because quoted includes search the including file's
 * directory first.  Nothing here needs the autoconf header.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define CONFIG_MAX_LINE		4096
#define CONFIG_MAX_FILE		(1024 * 1024)
#define CONFIG_MAX_HOST		64	/* INET6_ADDRSTRLEN and then some */
#define CONFIG_MAX_DURATION	3600

#define CONFIG_NOMEM		-2	/* a setter's "out of memory" */

/* Where "make install" puts the viewer page's files. */
#ifndef TANDEM_WEBDIR
#define TANDEM_WEBDIR	"/usr/local/share/tandem/web"
#endif

#define STR(x)	#x
#define XSTR(x)	STR(x)

enum config_type {
	CONFIG_STRING,		/* non-empty text */
	CONFIG_ABSPATH,		/* text starting with '/' */
	CONFIG_LISTEN,		/* ADDR:PORT */
	CONFIG_LEVEL,		/* log level name */
	CONFIG_ENROLL,		/* enroll policy name */
	CONFIG_DURATION,	/* int64_t seconds, min..max; "0" if min == 0 */
	CONFIG_INT,		/* int, min..max */
	CONFIG_SIZE,		/* size_t, min..max */
	CONFIG_ENV,		/* accept_env list */
	CONFIG_URL,		/* empty, or an http:// or https:// URL */
};

struct config_entry {
	const char		*key;
	enum config_type	 type;
	size_t			 off;
	int64_t			 min;
	int64_t			 max;
};

#define F(field) offsetof(struct config, field)
static const struct config_entry config_table[] = {
	{ "data_dir", CONFIG_STRING, F(data_dir), 0, 0 },
	{ "ssh_listen", CONFIG_LISTEN, F(ssh_listen), 0, 0 },
	{ "http_listen", CONFIG_LISTEN, F(http_listen), 0, 0 },
	{ "log_file", CONFIG_STRING, F(log_file), 0, 0 },
	{ "log_level", CONFIG_LEVEL, F(log_level), 0, 0 },
	{ "enroll", CONFIG_ENROLL, F(enroll), 0, 0 },
	{ "shell", CONFIG_ABSPATH, F(shell), 0, 0 },
	{ "command", CONFIG_STRING, F(command), 0, 0 },
	{ "login_grace_time", CONFIG_DURATION, F(login_grace_time), 1,
	    CONFIG_MAX_DURATION },
	{ "max_auth_tries", CONFIG_INT, F(max_auth_tries), 1, 100 },
	{ "max_sessions", CONFIG_INT, F(max_sessions), 0, 10000 },
	{ "keepalive_interval", CONFIG_DURATION, F(keepalive_interval), 0,
	    CONFIG_MAX_DURATION },
	{ "keepalive_count_max", CONFIG_INT, F(keepalive_count_max), 1, 100 },
	{ "scrollback", CONFIG_SIZE, F(scrollback), 0, 100000 },
	{ "accept_env", CONFIG_ENV, F(accept_env), 0, CONFIG_MAX_ENV },
	{ "share_max_expiry", CONFIG_DURATION, F(share_max_expiry), 1,
	    10LL * 365 * 86400 },
	{ "viewer_stall_timeout", CONFIG_DURATION, F(viewer_stall_timeout),
	    1, CONFIG_MAX_DURATION },
	{ "web_root", CONFIG_ABSPATH, F(web_root), 0, 0 },
	{ "public_url", CONFIG_URL, F(public_url), 0, 0 },
	{ "tls_cert", CONFIG_STRING, F(tls_cert), 0, 0 },
	{ "tls_key", CONFIG_STRING, F(tls_key), 0, 0 },
};
#undef F

static const char *const config_default_env[] = { "LANG", "LC_*", "COLORTERM" };

/*
 * Copy text that came from outside into an error message: control
 * characters become '?' so that a message cannot move a terminal or
 * forge a log line, and long text is cut short.
 */
static const char *
config_quote(const char *s, char *out, size_t outlen)
{
	size_t	 i, o, max = outlen - 4;

	for (i = o = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];
		if (o == max) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[o] = '\0';
	return out;
}

static int
config_has_control(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	}
	return 0;
}

/* Failure to build the defaults is not recoverable: nothing can start. */
static char *
config_strdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL) {
		fprintf(stderr, "tandemd: out of memory\n");
		abort();
	}
	return p;
}

void
config_defaults(struct config *cfg)
{
	size_t	 i;

	memset(cfg, 0, sizeof *cfg);
	cfg->data_dir = config_strdup("./tandem-data");
	cfg->ssh_listen = config_strdup("127.0.0.1:2222");
	cfg->http_listen = config_strdup("127.0.0.1:8022");
	cfg->web_root = config_strdup(TANDEM_WEBDIR);
	cfg->log_level = LOG_INFO;
	cfg->enroll = ENROLL_FIRST_KEY;
	cfg->login_grace_time = 30;
	cfg->max_auth_tries = 6;
	cfg->max_sessions = 32;
	cfg->keepalive_interval = 30;
	cfg->keepalive_count_max = 3;
	cfg->scrollback = 1000;
	cfg->share_max_expiry = 365 * 86400;
	cfg->viewer_stall_timeout = 60;
	for (i = 0; i < sizeof config_default_env / sizeof *config_default_env;
	    i++)
		cfg->accept_env[i] = config_strdup(config_default_env[i]);
	cfg->naccept_env = i;
}

static void
config_env_free(char **list, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(list[i]);
		list[i] = NULL;
	}
}

void
config_free(struct config *cfg)
{
	free(cfg->data_dir);
	free(cfg->ssh_listen);
	free(cfg->http_listen);
	free(cfg->log_file);
	free(cfg->shell);
	free(cfg->command);
	free(cfg->web_root);
	free(cfg->public_url);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	config_env_free(cfg->accept_env, cfg->naccept_env);
	memset(cfg, 0, sizeof *cfg);
}

/*
 * ADDR:PORT where ADDR is a dotted-quad IPv4 address, "localhost" or a
 * bracketed IPv6 address.  Host names other than localhost are refused
 * on purpose: a listener should not depend on DNS at start-up.
 */
int
config_parse_listen(const char *s, char *host, size_t hostlen, int *port)
{
	char		 h[CONFIG_MAX_HOST];
	const char	*colon, *p;
	unsigned char	 addr[16];
	size_t		 n;
	long		 v;

	if (s == NULL || host == NULL || port == NULL)
		return -1;
	if (s[0] == '[') {
		if ((p = strchr(s, ']')) == NULL || p[1] != ':')
			return -1;
		n = (size_t)(p - s - 1);
		if (n == 0 || n >= sizeof h)
			return -1;
		memcpy(h, s + 1, n);
		h[n] = '\0';
		if (inet_pton(AF_INET6, h, addr) != 1)
			return -1;
		colon = p + 1;
	} else {
		/* A second ':' lands in the port and fails there. */
		if ((colon = strchr(s, ':')) == NULL)
			return -1;
		n = (size_t)(colon - s);
		if (n == 0 || n >= sizeof h)
			return -1;
		memcpy(h, s, n);
		h[n] = '\0';
		if (strcmp(h, "localhost") != 0 &&
		    inet_pton(AF_INET, h, addr) != 1)
			return -1;
	}

	p = colon + 1;
	if (*p == '\0' || strlen(p) > 5)
		return -1;
	for (v = 0; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v > 65535 || n >= hostlen)
		return -1;
	memcpy(host, h, n + 1);
	*port = (int)v;
	return 0;
}

/* Digits only: no sign, no spaces, no hex; at most 18 significant digits. */
static int
config_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int64_t	 v = 0;
	size_t	 digits = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v != 0 || *s != '0')
			digits++;
		if (digits > 18)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
config_env_name_valid(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

/*
 * Split a space-separated accept_env value into a fresh list.  Each
 * entry is a variable name, optionally ending in '*' to match a prefix;
 * a lone '*' is refused so that nobody lets LD_PRELOAD through by
 * accident.
 */
static int
config_env_parse(const char *s, char **list, size_t *np, const char **why)
{
	const char	*end;
	size_t		 n = 0, len, namelen;

	for (;;) {
		while (*s == ' ')
			s++;
		if (*s == '\0')
			break;
		end = strchr(s, ' ');
		len = end ? (size_t)(end - s) : strlen(s);
		namelen = (s[len - 1] == '*') ? len - 1 : len;
		if (!config_env_name_valid(s, namelen)) {
			*why = "names of letters, digits and '_', not "
			    "starting with a digit, each optionally ending "
			    "in '*'";
			goto fail;
		}
		if (n == CONFIG_MAX_ENV) {
			*why = "at most " XSTR(CONFIG_MAX_ENV) " names";
			goto fail;
		}
		if ((list[n] = strndup(s, len)) == NULL) {
			config_env_free(list, n);
			return CONFIG_NOMEM;
		}
		n++;
		s += len;
	}
	*np = n;
	return 0;

fail:
	config_env_free(list, n);
	return -1;
}

static const struct config_entry *
config_find(const char *key)
{
	size_t	 i;

	for (i = 0; i < sizeof config_table / sizeof *config_table; i++) {
		if (strcmp(config_table[i].key, key) == 0)
			return &config_table[i];
	}
	return NULL;
}

static int
config_set_string(struct config *cfg, const struct config_entry *e,
    const char *value)
{
	char	**field = (char **)((char *)cfg + e->off);
	char	 *copy;

	if ((copy = strdup(value)) == NULL)
		return CONFIG_NOMEM;
	free(*field);
	*field = copy;
	return 0;
}

/*
 * public_url: empty (NULL: derived from http_listen), or http:// or
 * https:// and a host, without spaces, quotes or control characters; a
 * trailing '/' is dropped so that paths can be appended.
 */
static int
config_set_url(struct config *cfg, const struct config_entry *e,
    const char *value)
{
	char	**field = (char **)((char *)cfg + e->off);
	char	 *copy;
	size_t	 i, n = strlen(value), skip;

	if (n == 0) {
		free(*field);
		*field = NULL;
		return 0;
	}
	if (strncmp(value, "http://", 7) == 0)
		skip = 7;
	else if (strncmp(value, "https://", 8) == 0)
		skip = 8;
	else
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c <= 0x20 || c == 0x7f || c == '"' || c == '\\' ||
		    c == '<' || c == '>' || c == '\'')
			return -1;
	}
	while (n > skip && value[n - 1] == '/')
		n--;
	if (n == skip || value[skip] == '/')
		return -1;
	if ((copy = strndup(value, n)) == NULL)
		return CONFIG_NOMEM;
	free(*field);
	*field = copy;
	return 0;
}

static int
config_set_env(struct config *cfg, const char *value, const char **why)
{
	char	*list[CONFIG_MAX_ENV];
	size_t	 n;
	int	 r;

	if ((r = config_env_parse(value, list, &n, why)) != 0)
		return r;
	config_env_free(cfg->accept_env, cfg->naccept_env);
	memcpy(cfg->accept_env, list, n * sizeof *list);
	cfg->naccept_env = n;
	return 0;
}

static int
config_set_duration(struct config *cfg, const struct config_entry *e,
    const char *value, const char **why)
{
	int64_t	 v;

	*why = e->min == 0 ?
	    "0 (off) or a duration up to 1h, such as 30s or 2m" :
	    "a duration from 1s to 1h, such as 30s or 2m";
	if (e->min == 0 && strcmp(value, "0") == 0)
		v = 0;
	else if (duration_parse(value, &v) != 0 || v < e->min || v > e->max)
		return -1;
	*(int64_t *)((char *)cfg + e->off) = v;
	return 0;
}

static int
config_set_number(struct config *cfg, const struct config_entry *e,
    const char *value, char *why, size_t whylen)
{
	int64_t	 v;

	snprintf(why, whylen, "a whole number from %lld to %lld",
	    (long long)e->min, (long long)e->max);
	if (config_parse_int(value, e->min, e->max, &v) != 0)
		return -1;
	if (e->type == CONFIG_INT)
		*(int *)((char *)cfg + e->off) = (int)v;
	else
		*(size_t *)((char *)cfg + e->off) = (size_t)v;
	return 0;
}

/*
 * Check one value against its entry and store it.  On failure the
 * setting is left as it was and, unless memory ran out (CONFIG_NOMEM),
 * why says what was expected.
 */
static int
config_set_entry(struct config *cfg, const struct config_entry *e,
    const char *value, char *why, size_t whylen)
{
	const char	*w = NULL;
	char		 host[CONFIG_MAX_HOST];
	enum log_level	 level;
	int		 port, r = -1;

	switch (e->type) {
	case CONFIG_STRING:
		w = "a non-empty value";
		if (*value != '\0')
			r = config_set_string(cfg, e, value);
		break;
	case CONFIG_ABSPATH:
		w = "an absolute path";
		if (*value == '/')
			r = config_set_string(cfg, e, value);
		break;
	case CONFIG_LISTEN:
		w = "ADDRESS:PORT with an IPv4 address, localhost or "
		    "[IPv6 address] and a port from 0 to 65535";
		if (config_parse_listen(value, host, sizeof host, &port) == 0)
			r = config_set_string(cfg, e, value);
		break;
	case CONFIG_LEVEL:
		w = "error, warn, info or debug";
		if ((r = log_level_parse(value, &level)) == 0)
			cfg->log_level = level;
		break;
	case CONFIG_ENROLL:
		w = "first-key or closed";
		r = 0;
		if (strcmp(value, "first-key") == 0)
			cfg->enroll = ENROLL_FIRST_KEY;
		else if (strcmp(value, "closed") == 0)
			cfg->enroll = ENROLL_CLOSED;
		else
			r = -1;
		break;
	case CONFIG_DURATION:
		r = config_set_duration(cfg, e, value, &w);
		break;
	case CONFIG_INT:
	case CONFIG_SIZE:
		return config_set_number(cfg, e, value, why, whylen);
	case CONFIG_ENV:
		r = config_set_env(cfg, value, &w);
		break;
	case CONFIG_URL:
		w = "an http:// or https:// URL (or \"\" for the "
		    "http_listen address)";
		r = config_set_url(cfg, e, value);
		break;
	}
	if (r == -1 && w != NULL)
		snprintf(why, whylen, "%s", w);
	return r;
}

static void
config_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
config_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
config_set(struct config *cfg, const char *key, const char *value, char *err,
    size_t errlen)
{
	const struct config_entry	*e;
	char				 q[80], why[160];
	int				 r;

	if (key == NULL || *key == '\0') {
		config_error(err, errlen, "missing setting name");
		return -1;
	}
	if ((e = config_find(key)) == NULL) {
		config_error(err, errlen, "unknown setting '%s'",
		    config_quote(key, q, sizeof q));
		return -1;
	}
	if (value == NULL) {
		config_error(err, errlen, "%s needs a value", e->key);
		return -1;
	}
	if (config_has_control(value)) {
		config_error(err, errlen, "invalid %s: control characters are "
		    "not allowed", e->key);
		return -1;
	}
	if ((r = config_set_entry(cfg, e, value, why, sizeof why)) != 0) {
		if (r == CONFIG_NOMEM)
			config_error(err, errlen, "out of memory for %s",
			    e->key);
		else
			config_error(err, errlen, "invalid %s '%s': expected "
			    "%s", e->key, config_quote(value, q, sizeof q),
			    why);
		return -1;
	}
	return 0;
}

int
config_env_accepted(const struct config *cfg, const char *name)
{
	const char	*pat;
	size_t		 i, len;

	if (name == NULL || !config_env_name_valid(name, strlen(name)))
		return 0;
	for (i = 0; i < cfg->naccept_env; i++) {
		pat = cfg->accept_env[i];
		len = strlen(pat);
		if (len > 0 && pat[len - 1] == '*') {
			if (strncmp(name, pat, len - 1) == 0)
				return 1;
		} else if (strcmp(name, pat) == 0)
			return 1;
	}
	return 0;
}

static int
config_is_space(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Split one line (no newline, no NUL, at most CONFIG_MAX_LINE bytes)
 * into key and value; both buffers hold CONFIG_MAX_LINE + 1 bytes.
 * Returns 1 for a setting, 0 for a blank or comment line, -1 with msg
 * filled for a malformed line.
 */
static int
config_split_line(const char *line, size_t len, char *key, char *value,
    char *msg, size_t msglen)
{
	char	 q[80];
	size_t	 i = 0, k, v = 0;

	while (i < len && config_is_space(line[i]))
		i++;
	if (i == len || line[i] == '#')
		return 0;
	for (k = 0; i < len && !config_is_space(line[i]) && line[i] != '='; i++)
		key[k++] = line[i];
	key[k] = '\0';
	if (k == 0) {
		snprintf(msg, msglen, "missing setting name before '='");
		return -1;
	}
	while (i < len && config_is_space(line[i]))
		i++;
	if (i == len || line[i] != '=') {
		snprintf(msg, msglen, "missing '=' after '%s'",
		    config_quote(key, q, sizeof q));
		return -1;
	}
	i++;
	while (i < len && config_is_space(line[i]))
		i++;

	if (i < len && line[i] == '"') {
		for (i++; i < len && line[i] != '"'; i++) {
			if (line[i] == '\\' && i + 1 < len &&
			    (line[i + 1] == '"' || line[i + 1] == '\\'))
				i++;
			value[v++] = line[i];
		}
		if (i == len) {
			snprintf(msg, msglen, "unterminated quote");
			return -1;
		}
		for (k = ++i; i < len && config_is_space(line[i]); i++)
			;
		if (i < len && (i == k || line[i] != '#')) {
			snprintf(msg, msglen, "unexpected text after the "
			    "closing quote");
			return -1;
		}
	} else {
		/* '#' after whitespace starts a comment; "a#b" is a value. */
		for (; i < len; i++) {
			if (line[i] == '#' && config_is_space(line[i - 1]))
				break;
			value[v++] = line[i];
		}
		while (v > 0 && config_is_space(value[v - 1]))
			v--;
	}
	value[v] = '\0';
	return 1;
}

/* One line of a file: blank, a comment or a setting. */
static int
config_line(struct config *cfg, const char *line, size_t len, char *msg,
    size_t msglen)
{
	char	 key[CONFIG_MAX_LINE + 1], value[CONFIG_MAX_LINE + 1];
	int	 r;

	if (len > CONFIG_MAX_LINE) {
		snprintf(msg, msglen, "line is longer than %d bytes",
		    CONFIG_MAX_LINE);
		return -1;
	}
	if (memchr(line, '\0', len) != NULL) {
		snprintf(msg, msglen, "NUL byte in line");
		return -1;
	}
	if ((r = config_split_line(line, len, key, value, msg, msglen)) <= 0)
		return r;
	return config_set(cfg, key, value, msg, msglen);
}

/*
 * Apply every line of a file already in memory.  Called twice by
 * config_load: on a scratch config to find errors, then on the real one.
 */
static int
config_apply(struct config *cfg, const char *path, const char *data,
    size_t size, char *err, size_t errlen)
{
	char		 msg[512], q[80];
	const char	*p = data, *end = data + size, *nl;
	size_t		 len, lineno;

	/* Editors on some systems start UTF-8 files with a byte-order mark. */
	if (size >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	for (lineno = 1; p < end; lineno++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (config_line(cfg, p, len, msg, sizeof msg) != 0) {
			config_error(err, errlen, "%s:%zu: %s",
			    config_quote(path, q, sizeof q), lineno, msg);
			return -1;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* Read at most CONFIG_MAX_FILE + 1 bytes, to tell "too big" apart. */
static int
config_read(const char *path, char **data, size_t *size, char *err,
    size_t errlen)
{
	FILE	*f;
	char	*buf, q[80];
	size_t	 n = 0, got;
	int	 saved;

	if ((f = fopen(path, "re")) == NULL) {
		config_error(err, errlen, "cannot open %s: %s",
		    config_quote(path, q, sizeof q), strerror(errno));
		return -1;
	}
	if ((buf = malloc(CONFIG_MAX_FILE + 1)) == NULL) {
		fclose(f);
		config_error(err, errlen, "%s: out of memory",
		    config_quote(path, q, sizeof q));
		return -1;
	}
	while (n < CONFIG_MAX_FILE + 1 &&
	    (got = fread(buf + n, 1, CONFIG_MAX_FILE + 1 - n, f)) > 0)
		n += got;
	if (ferror(f)) {
		saved = errno;
		fclose(f);
		free(buf);
		config_error(err, errlen, "cannot read %s: %s",
		    config_quote(path, q, sizeof q), strerror(saved));
		return -1;
	}
	fclose(f);
	*data = buf;
	*size = n;
	return 0;
}

int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct config	 scratch;
	char		*data, q[80];
	const char	*p;
	size_t		 size, lineno;
	int		 r;

	if (config_read(path, &data, &size, err, errlen) != 0)
		return -1;
	if (size > CONFIG_MAX_FILE) {
		lineno = 1;
		for (p = data; p < data + CONFIG_MAX_FILE; p++)
			lineno += (*p == '\n');
		config_error(err, errlen, "%s:%zu: file is larger than 1 MiB",
		    config_quote(path, q, sizeof q), lineno);
		free(data);
		return -1;
	}
	config_defaults(&scratch);
	r = config_apply(&scratch, path, data, size, err, errlen);
	config_free(&scratch);
	if (r == 0)
		r = config_apply(cfg, path, data, size, err, errlen);
	free(data);
	return r;
}
