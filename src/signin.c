/*
 * signin: sessions, sign-in links and cookies of the browser (signin.h).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "server.h"
#include "signin.h"
#include "store.h"
#include "util.h"

typedef int (*secret_add_fn)(struct store *, int64_t,
    const unsigned char *, int64_t);

/*
 * Make a random secret for uid, store its keyed hash with add, valid
 * for ttl seconds: 0, or -1 (nothing stored, secret cleared).
 */
static int
secret_issue(struct server *srv, int64_t uid, secret_add_fn add, int64_t ttl,
    char secret[TOKEN_LEN + 1])
{
	unsigned char	 hash[TOKEN_HASH_BYTES];
	int		 r;

	token_new(secret);
	token_hash(srv->dd.secret, secret, hash);
	r = add(srv->store, uid, hash, time_now() + ttl);
	sodium_memzero(hash, sizeof hash);
	if (r != 0) {
		sodium_memzero(secret, TOKEN_LEN + 1);
		return -1;
	}
	return 0;
}

/* A new session for a user: 0, or -1 (nothing stored, token cleared). */
int
signin_session_new(struct server *srv, int64_t uid, char token[TOKEN_LEN + 1])
{
	return secret_issue(srv, uid, store_web_session_add,
	    SIGNIN_SESSION_TTL, token);
}

/* The user of a live session token: 0, or -1 for none. */
int
signin_session_user(struct server *srv, const char *token,
    struct store_user *u)
{
	unsigned char	 hash[TOKEN_HASH_BYTES];
	int64_t		 uid;
	int		 r;

	if (!token_format_valid(token))
		return -1;
	token_hash(srv->dd.secret, token, hash);
	r = store_web_session_find(srv->store, hash, time_now(), &uid);
	sodium_memzero(hash, sizeof hash);
	if (r != 0 || store_user_get_id(srv->store, uid, u) != 0)
		return -1;
	return 0;
}

void
signin_session_end(struct server *srv, const char *token)
{
	unsigned char	 hash[TOKEN_HASH_BYTES];

	if (!token_format_valid(token))
		return;
	token_hash(srv->dd.secret, token, hash);
	(void)store_web_session_del(srv->store, hash);
	sodium_memzero(hash, sizeof hash);
}

/* The CSRF value of a session: a keyed hash of "csrf:" and its token. */
void
signin_csrf(struct server *srv, const char *token,
    char out[SIGNIN_CSRF_LEN + 1])
{
	crypto_generichash_state	 st;
	unsigned char			 h[SIGNIN_CSRF_LEN / 2];

	crypto_generichash_init(&st, srv->dd.secret, sizeof srv->dd.secret,
	    sizeof h);
	crypto_generichash_update(&st, (const unsigned char *)"csrf:", 5);
	crypto_generichash_update(&st, (const unsigned char *)token,
	    strlen(token));
	crypto_generichash_final(&st, h, sizeof h);
	sodium_bin2hex(out, SIGNIN_CSRF_LEN + 1, h, sizeof h);
	sodium_memzero(h, sizeof h);
}

int
signin_link_new(struct server *srv, int64_t uid, char code[TOKEN_LEN + 1])
{
	return secret_issue(srv, uid, store_login_link_add, SIGNIN_LINK_TTL,
	    code);
}

/* Use up a sign-in link: 0 and its user, or -1 (unknown, used, old). */
int
signin_link_use(struct server *srv, const char *code, int64_t *uid)
{
	unsigned char	 hash[TOKEN_HASH_BYTES];
	int		 r;

	*uid = 0;
	if (!token_format_valid(code))
		return -1;
	token_hash(srv->dd.secret, code, hash);
	r = store_login_link_consume(srv->store, hash, time_now(), uid);
	sodium_memzero(hash, sizeof hash);
	return r == 0 ? 0 : -1;
}

/*
 * One cookie of a Cookie header ("a=1; b=2"): 0 with its value in out,
 * or -1 if it is absent or does not fit.
 */
int
signin_cookie(const char *header, const char *name, char *out, size_t outlen)
{
	const char	*p = header, *v, *e;
	size_t		 nl = strlen(name);

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		e = strchr(p, ';');
		if (e == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) > nl && strncmp(p, name, nl) == 0 &&
		    p[nl] == '=') {
			v = p + nl + 1;
			while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if ((size_t)(e - v) >= outlen)
				return -1;
			memcpy(out, v, (size_t)(e - v));
			out[e - v] = '\0';
			return 0;
		}
		p = *e != '\0' ? e + 1 : e;
	}
	return -1;
}

/*
 * Where a sign-in may send the browser: a path of this site only, so
 * not "//host", "/\host", a scheme, or anything with controls.
 */
int
signin_next_valid(const char *next)
{
	const char	*p;

	if (next[0] != '/' || next[1] == '/' || next[1] == '\\' ||
	    strlen(next) > SIGNIN_NEXT_MAX)
		return 0;
	for (p = next; *p != '\0'; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    *p == '\\')
			return 0;
	}
	return 1;
}
