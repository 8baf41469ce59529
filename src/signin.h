/*
 * signin: browser sign-in (doc/web.md).  A signed-in browser holds a
 * session token in the HttpOnly cookie tandem_session; the store keeps
 * only its hash keyed with the server secret, with the user and an
 * expiry.  A one-time sign-in link ("weblogin") carries a code kept the
 * same way, good for SIGNIN_LINK_TTL seconds and for one use.  The CSRF
 * value of a session (the readable cookie tandem_csrf, echoed in the
 * X-Tandem-CSRF header) is derived from its token with the secret, so
 * nothing more is stored.  Nothing here blocks but on SQLite.
 */
#ifndef TANDEM_SIGNIN_H
#define TANDEM_SIGNIN_H

#include <stddef.h>
#include <stdint.h>

#include "secrets.h"

struct server;
struct store_user;

#define SIGNIN_SESSION_TTL	(12 * 60 * 60)
#define SIGNIN_LINK_TTL		(5 * 60)
#define SIGNIN_CSRF_LEN		40
#define SIGNIN_COOKIE		"tandem_session"
#define SIGNIN_CSRF_COOKIE	"tandem_csrf"
#define SIGNIN_NEXT_MAX		512

int	 signin_session_new(struct server *, int64_t, char [TOKEN_LEN + 1]);
int	 signin_session_user(struct server *, const char *,
	    struct store_user *);
void	 signin_session_end(struct server *, const char *);
void	 signin_csrf(struct server *, const char *,
	    char [SIGNIN_CSRF_LEN + 1]);
int	 signin_link_new(struct server *, int64_t, char [TOKEN_LEN + 1]);
int	 signin_link_use(struct server *, const char *, int64_t *);
int	 signin_cookie(const char *, const char *, char *, size_t);
int	 signin_next_valid(const char *);

#endif
