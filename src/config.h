/*
 * config: tandemd's settings.  Embedded defaults serve out of the box;
 * a config file (key = value lines, doc/config.md) and then command-line
 * flags override them.  Parsing is pure so unit tests can feed it bad
 * files; every error names the file, line and key.
 */
#ifndef TANDEM_CONFIG_H
#define TANDEM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

enum enroll_policy {
	ENROLL_FIRST_KEY,	/* unknown name: create it, bound to this key */
	ENROLL_CLOSED,		/* only users added with "tandemd user add" */
};

#define CONFIG_MAX_ENV	32

struct config {
	char			*data_dir;		/* ./tandem-data */
	char			*ssh_listen;		/* 127.0.0.1:2222 */
	char			*http_listen;		/* 127.0.0.1:8022 */
	char			*log_file;		/* NULL: stderr */
	enum log_level		 log_level;		/* info */
	enum enroll_policy	 enroll;		/* first-key */
	char			*shell;			/* NULL: $SHELL, passwd, /bin/sh */
	char			*command;		/* NULL: the shell */
	int64_t			 login_grace_time;	/* 30 s */
	int			 max_auth_tries;	/* 6 */
	int			 max_sessions;		/* per user, 0 = no limit; 32 */
	int64_t			 keepalive_interval;	/* 30 s, 0 = off */
	int			 keepalive_count_max;	/* 3 */
	size_t			 scrollback;
	int64_t			 share_max_expiry;	/* 1y */
	int64_t			 viewer_stall_timeout;	/* 60 s */
	char			*web_root;		/* TANDEM_WEBDIR: the viewer page */
	char			*public_url;		/* NULL: http://HTTP_LISTEN */
	char			*tls_cert;		/* PEM; NULL: plain HTTP */
	char			*tls_key;		/* PEM, with tls_cert */
	char			*accept_env[CONFIG_MAX_ENV]; /* LANG LC_* COLORTERM */
	size_t			 naccept_env;
};

/*
 * config_set(cfg, key, value, err, errlen) and config_load(cfg, path,
 * err, errlen) return 0, or -1 with a one-line message in err that is
 * safe to print (control characters shown as '?').  A refused value
 * leaves its setting unchanged; a file with any bad line changes
 * nothing.  config_parse_listen() gives the host without brackets
 * ("::1") and port 0 means "any free port".  config_env_accepted() is
 * 0 for anything that is not a valid variable name.
 */
void	 config_defaults(struct config *);
void	 config_free(struct config *);
int	 config_set(struct config *, const char *, const char *, char *,
	    size_t);
int	 config_load(struct config *, const char *, char *, size_t);
int	 config_parse_listen(const char *, char *, size_t, int *);
int	 config_env_accepted(const struct config *, const char *);

#endif
