/*
 * share: create, change and enforce shares (share.h).
 *
 * The store is the truth for a share's state; the live side of a share
 * is its viewers, found by share id in the session's viewer list.  Every
 * change goes store first, then live connections, then the audit trail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "log.h"
#include "secrets.h"
#include "server.h"
#include "session.h"
#include "share.h"
#include "store.h"
#include "util.h"

#define RATELIMIT_SLOTS	256

struct ratelimit {
	struct {
		char	 addr[64];
		int64_t	 since;
		int	 count;
	} slot[RATELIMIT_SLOTS];
};

int
share_create(struct server *srv, struct session *s, const struct audit_who *by,
    const struct share_opts *o, char token[TOKEN_LEN + 1],
    struct store_share *out, char *err, size_t errlen)
{
	struct store_share	 sh;
	struct store_user	 target;
	char			 pwhash[crypto_pwhash_STRBYTES];
	char			 when[ISO8601_LEN];
	int			 r;

	memset(&sh, 0, sizeof sh);
	token[0] = '\0';
	share_id_new(sh.id);
	memcpy(sh.session_id, s->id, sizeof sh.session_id);
	sh.kind = o->kind;
	sh.perm = o->perm;
	sh.created_by = by->id;
	sh.created_at = time_now();
	sh.expires_at = sh.created_at + o->expires_in;
	sh.max_viewers = o->max_viewers;
	sh.require_auth = o->require_auth;
	sh.label = (char *)(o->label ? o->label : "");
	sh.authorized_keys = (char *)o->authorized_keys;
	if (o->kind == SHARE_USER) {
		if (store_user_get(srv->store, o->user, &target) != 0) {
			snprintf(err, errlen, "no user '%s'", o->user);
			return -1;
		}
		if (target.id == s->owner_id) {
			snprintf(err, errlen, "%s owns this session", o->user);
			return -1;
		}
		sh.target_user_id = target.id;
	} else {
		token_new(token);
		token_hash(srv->dd.secret, token, sh.token_hash);
		sh.has_token = 1;
	}
	if (o->password != NULL) {
		if (password_hash(o->password, pwhash) != 0) {
			snprintf(err, errlen, "cannot hash the password");
			return -1;
		}
		sh.password_hash = pwhash;
	}
	r = store_share_insert(srv->store, &sh);
	if (r != 0) {
		snprintf(err, errlen, "cannot record the share");
		return -1;
	}
	time_iso8601(sh.expires_at, when);
	audit_log(srv, by, "share.create", s->id, sh.id,
	    o->kind == SHARE_USER ? o->user : NULL,
	    "kind=%s permission=%s expires_at=%s max_viewers=%d "
	    "require_auth=%d password=%s label=%s", share_kind_name(sh.kind),
	    share_perm_name(sh.perm), when, sh.max_viewers, sh.require_auth,
	    o->password ? "yes" : "no", sh.label);
	log_info("session %s: %s created %s share %s", s->id, by->name,
	    share_kind_name(sh.kind), sh.id);
	share_timer_schedule(srv);
	return store_share_get(srv->store, sh.id, out);
}

static int
kick(struct server *srv, const struct store_share *sh, const char *why)
{
	struct session	*s = server_session_find(srv, sh->session_id);

	return s ? session_viewers_kick(s, sh->id, why) : 0;
}

int
share_revoke(struct server *srv, const struct store_share *sh,
    const struct audit_who *by)
{
	int	 n;

	if (store_share_set_state(srv->store, sh->id, SHARE_REVOKED,
	    time_now(), by->id) != 0)
		return -1;
	n = kick(srv, sh, "this share was revoked");
	audit_log(srv, by, "share.revoke", sh->session_id, sh->id, NULL,
	    "viewers_disconnected=%d", n);
	log_info("share %s revoked by %s (%d viewers disconnected)", sh->id,
	    by->name, n);
	share_timer_schedule(srv);
	return n;
}

int
share_extend(struct server *srv, const struct store_share *sh,
    const struct audit_who *by, int64_t expires_in)
{
	char	 when[ISO8601_LEN];
	int64_t	 at = time_now() + expires_in;

	if (store_share_set_expiry(srv->store, sh->id, at) != 0)
		return -1;
	time_iso8601(at, when);
	audit_log(srv, by, "share.extend", sh->session_id, sh->id, NULL,
	    "expires_at=%s", when);
	share_timer_schedule(srv);
	return 0;
}

int
share_relabel(struct server *srv, const struct store_share *sh,
    const struct audit_who *by, const char *label)
{
	if (store_share_set_label(srv->store, sh->id, label) != 0)
		return -1;
	audit_log(srv, by, "share.relabel", sh->session_id, sh->id, NULL,
	    "label=%s", label);
	return 0;
}

/*
 * A signed-in user opens a claim link: the share becomes a user share
 * for them.  -1 when it cannot be claimed any more (used, revoked,
 * expired); the store's one-statement update makes two claims race
 * safely.  sh is read again on success.
 */
int
share_claim(struct server *srv, struct store_share *sh,
    const struct audit_who *by)
{
	char	 id[SHARE_ID_LEN + 1];

	if (sh->kind != SHARE_CLAIM || sh->state != SHARE_ACTIVE ||
	    sh->expires_at <= time_now() ||
	    store_share_claim(srv->store, sh->id, by->id, time_now()) != 0)
		return -1;
	audit_log(srv, by, "share.claim", sh->session_id, sh->id, NULL,
	    "by=%s", by->name);
	log_info("share %s claimed by %s", sh->id, by->name);
	memcpy(id, sh->id, sizeof id);
	store_share_clear(sh);
	return store_share_get(srv->store, id, sh);
}

/*
 * Why viewer_id may not join through sh now, or NULL if it may; *sp is
 * then the live session.  A user share admits its invited user only; a
 * require_auth share admits known users only (viewer_id 0 is a guest).
 */
const char *
share_refusal(struct server *srv, const struct store_share *sh,
    int64_t viewer_id, struct session **sp)
{
	struct session	*s;

	switch (sh->state) {
	case SHARE_REVOKED:
		return "this share was revoked";
	case SHARE_EXPIRED:
		return "this share has expired";
	case SHARE_ENDED:
		return "the session has ended";
	case SHARE_ACTIVE:
		break;
	}
	if (sh->expires_at <= time_now())
		return "this share has expired";
	if ((s = server_session_find(srv, sh->session_id)) == NULL)
		return "the session has ended";
	if (sh->kind == SHARE_USER && sh->target_user_id != viewer_id)
		return "this session is shared with another user";
	if (sh->require_auth && viewer_id == 0)
		return "this share needs a known user: log in with your own key";
	if (sh->max_viewers > 0 &&
	    session_share_viewers(s, sh->id) >= sh->max_viewers)
		return "this share is full (max_viewers reached)";
	*sp = s;
	return NULL;
}

/* With an authorized_keys list, only the listed keys may join. */
int
share_key_allowed(const struct store_share *sh, const char *type,
    const char *blob)
{
	const char	*p, *line;
	size_t		 tl = strlen(type), bl = strlen(blob);

	if (sh->authorized_keys == NULL)
		return 1;
	for (line = sh->authorized_keys; *line != '\0'; line = p) {
		p = strchr(line, '\n');
		p = p ? p + 1 : line + strlen(line);
		if (strncmp(line, type, tl) == 0 && line[tl] == ' ' &&
		    strncmp(line + tl + 1, blob, bl) == 0 &&
		    (line[tl + 1 + bl] == '\n' || line[tl + 1 + bl] == '\0'))
			return 1;
	}
	return 0;
}

/* ---- expiry -------------------------------------------------------- */

static void
on_share_timer(uv_timer_t *t)
{
	struct server		*srv = t->data;
	char			(*ids)[SHARE_ID_LEN + 1] = NULL;
	struct store_share	 sh;
	size_t			 n = 0, i;
	int			 k;

	if (store_shares_expire_due(srv->store, time_now(), &ids, &n) != 0) {
		log_error("cannot expire shares");
		n = 0;
	}
	for (i = 0; i < n; i++) {
		if (store_share_get(srv->store, ids[i], &sh) != 0)
			continue;
		k = kick(srv, &sh, "this share has expired");
		audit_log(srv, NULL, "share.expire", sh.session_id, sh.id,
		    NULL, "viewers_disconnected=%d", k);
		log_info("share %s expired (%d viewers disconnected)", sh.id,
		    k);
		store_share_clear(&sh);
	}
	free(ids);
	share_timer_schedule(srv);
}

void
share_timer_init(struct server *srv)
{
	uv_timer_init(srv->loop, &srv->share_timer);
	srv->share_timer.data = srv;
	if ((srv->ratelimit = calloc(1, sizeof *srv->ratelimit)) == NULL)
		log_error("out of memory for the rate limiter");
	share_timer_schedule(srv);
}

/* Arm the timer for the earliest expiry of any active share. */
void
share_timer_schedule(struct server *srv)
{
	int64_t	 at, now = time_now();

	if (srv->stopping)
		return;
	if (store_share_next_expiry(srv->store, &at) != 0) {
		uv_timer_stop(&srv->share_timer);
		return;
	}
	/* Expiry is in whole seconds; fire just after the second turns. */
	uv_timer_start(&srv->share_timer, on_share_timer,
	    at > now ? (uint64_t)(at - now) * 1000 + 5 : 0, 0);
}

void
share_timer_close(struct server *srv)
{
	uv_timer_stop(&srv->share_timer);
	uv_close((uv_handle_t *)&srv->share_timer, NULL);
	free(srv->ratelimit);
	srv->ratelimit = NULL;
}

/* ---- failed token attempts -------------------------------------- */

static int
slot_find(struct ratelimit *rl, const char *addr, int create)
{
	int	 i, oldest = 0;

	for (i = 0; i < RATELIMIT_SLOTS; i++) {
		if (strcmp(rl->slot[i].addr, addr) == 0)
			return i;
		if (rl->slot[i].since < rl->slot[oldest].since)
			oldest = i;
	}
	if (!create)
		return -1;
	snprintf(rl->slot[oldest].addr, sizeof rl->slot[oldest].addr, "%s",
	    addr);
	rl->slot[oldest].since = time_now();
	rl->slot[oldest].count = 0;
	return oldest;
}

int
ratelimit_blocked(struct server *srv, const char *addr)
{
	int	 i;

	if (srv->ratelimit == NULL ||
	    (i = slot_find(srv->ratelimit, addr, 0)) < 0)
		return 0;
	if (time_now() - srv->ratelimit->slot[i].since > SHARE_FAIL_WINDOW) {
		srv->ratelimit->slot[i].count = 0;
		srv->ratelimit->slot[i].since = time_now();
		return 0;
	}
	return srv->ratelimit->slot[i].count >= SHARE_FAIL_MAX;
}

void
ratelimit_failure(struct server *srv, const char *addr)
{
	int	 i;

	if (srv->ratelimit == NULL)
		return;
	i = slot_find(srv->ratelimit, addr, 1);
	if (time_now() - srv->ratelimit->slot[i].since > SHARE_FAIL_WINDOW) {
		srv->ratelimit->slot[i].count = 0;
		srv->ratelimit->slot[i].since = time_now();
	}
	srv->ratelimit->slot[i].count++;
}
