/*
 * share: grants of access to a live session, and their enforcement.
 *
 * A share lives in the store; this module creates, changes and ends
 * shares on behalf of an owner or admin, decides whether a viewer may
 * join through one, and makes expiry and revocation take effect on live
 * connections: a revoked or expired share's viewers are disconnected at
 * once with the reason.  One timer on the loop fires at the next expiry.
 *
 * Failed token attempts are counted per source address; past
 * SHARE_FAIL_MAX in SHARE_FAIL_WINDOW seconds an address is refused
 * without looking at the token.
 */
#ifndef TANDEM_SHARE_H
#define TANDEM_SHARE_H

#include <stddef.h>
#include <stdint.h>

#include "secrets.h"
#include "store.h"

#define SHARE_FAIL_MAX		10
#define SHARE_FAIL_WINDOW	60
#define SHARE_DEFAULT_EXPIRY	3600

struct audit_who;
struct server;
struct session;

struct share_opts {
	enum share_kind	 kind;
	enum share_perm	 perm;
	const char	*user;		/* SHARE_USER: the invited name */
	int64_t		 expires_in;	/* seconds */
	int		 max_viewers;
	int		 require_auth;
	const char	*password;	/* NULL: none */
	const char	*label;
	const char	*authorized_keys; /* "TYPE BLOB" lines, NULL: any */
};

int		 share_create(struct server *, struct session *,
		    const struct audit_who *, const struct share_opts *,
		    char [TOKEN_LEN + 1], struct store_share *, char *, size_t);
int		 share_revoke(struct server *, const struct store_share *,
		    const struct audit_who *);
int		 share_extend(struct server *, const struct store_share *,
		    const struct audit_who *, int64_t);
int		 share_relabel(struct server *, const struct store_share *,
		    const struct audit_who *, const char *);
int		 share_claim(struct server *, struct store_share *,
		    const struct audit_who *);
const char	*share_refusal(struct server *, const struct store_share *,
		    int64_t, struct session **);
int		 share_key_allowed(const struct store_share *, const char *,
		    const char *);

void		 share_timer_init(struct server *);
void		 share_timer_schedule(struct server *);
void		 share_timer_close(struct server *);

int		 ratelimit_blocked(struct server *, const char *);
void		 ratelimit_failure(struct server *, const char *);

#endif
