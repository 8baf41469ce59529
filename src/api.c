/*
 * api: the read-only JSON API (api.h, doc/api.md).
 *
 * Routing is by exact path segments; a session id must be a full UUID.
 * Every answer is a JSON document: the resource, or an error object
 * {"error": CODE, "detail": TEXT}.  Who may see what follows the ssh
 * commands: a user sees their own sessions and the shares of them, the
 * sessions shared with them, and the audit trail of their sessions; an
 * admin sees every session, share and audit event.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "audit.h"
#include "command_impl.h"
#include "config.h"
#include "log.h"
#include "secrets.h"
#include "server.h"
#include "session.h"
#include "share.h"
#include "signin.h"
#include "store.h"
#include "util.h"

#define API_PREFIX	"/api/"
#define BEARER		"Bearer "

struct api_caller {
	int64_t		 id;
	char		 name[33];
	int		 admin;
};

static void
respond_json(struct api_response *res, unsigned int status, json_t *v)
{
	res->status = status;
	res->body = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;
	res->len = res->body != NULL ? strlen(res->body) : 0;
	json_decref(v);
	if (res->body == NULL) {
		/* web.c answers 500 with a fixed body. */
		res->status = 500;
	}
}

static void
respond_error(struct api_response *res, unsigned int status,
    const char *error, const char *detail)
{
	respond_json(res, status, json_pack("{s:s, s:s}", "error", error,
	    "detail", detail));
}

static int
bearer_caller(struct server *srv, const struct api_request *req,
    struct api_caller *who, struct api_response *res)
{
	struct store_api_token	 t;
	struct store_user	 u;
	unsigned char		 hash[TOKEN_HASH_BYTES];
	const char		*token = req->authorization;
	int			 ok;

	if (ratelimit_blocked(srv, req->address)) {
		respond_error(res, 429, "too_many_requests", "too many failed "
		    "attempts from your address; try again in a minute");
		return -1;
	}
	if (strncmp(token, BEARER, strlen(BEARER)) != 0 ||
	    !token_format_valid(token + strlen(BEARER)))
		goto refuse;
	token += strlen(BEARER);
	token_hash(srv->dd.secret, token, hash);
	if (store_api_token_find(srv->store, hash, &t) != 0)
		goto refuse;
	ok = token_hash_equal(hash, t.token_hash) &&
	    store_user_get_id(srv->store, t.user_id, &u) == 0;
	if (ok) {
		who->id = u.id;
		who->admin = u.admin;
		snprintf(who->name, sizeof who->name, "%s", u.name);
		(void)store_api_token_touch(srv->store, t.id, time_now());
	}
	store_api_token_clear(&t);
	sodium_memzero(hash, sizeof hash);
	if (ok)
		return 0;
refuse:
	ratelimit_failure(srv, req->address);
	srv->stats.auth_failures++;
	log_warn("api: refused a bearer token from %s", req->address);
	respond_error(res, 401, "unauthorized", "unknown or revoked API "
	    "token");
	return -1;
}

/*
 * A browser signed in by cookie.  A stale cookie is not a guess (the
 * browser simply kept it), so it is not counted against the address.
 */
static int
cookie_caller(struct server *srv, const struct api_request *req,
    struct api_caller *who, struct api_response *res)
{
	struct store_user	 u;
	char			 want[SIGNIN_CSRF_LEN + 1];
	int			 ok;

	if (signin_session_user(srv, req->cookie, &u) != 0) {
		respond_error(res, 401, "unauthorized", "your sign-in has "
		    "ended; sign in again");
		return -1;
	}
	if (req->method != API_GET) {
		signin_csrf(srv, req->cookie, want);
		ok = !req->foreign_origin && req->csrf != NULL &&
		    strlen(req->csrf) == SIGNIN_CSRF_LEN &&
		    sodium_memcmp(req->csrf, want, SIGNIN_CSRF_LEN) == 0;
		sodium_memzero(want, sizeof want);
		if (!ok) {
			log_warn("api: refused a cookie request without its "
			    "CSRF value from %s", req->address);
			respond_error(res, 403, "csrf", "a change made with the "
			    "sign-in cookie needs the X-Tandem-CSRF header "
			    "(the tandem_csrf cookie's value)");
			return -1;
		}
	}
	who->id = u.id;
	who->admin = u.admin;
	snprintf(who->name, sizeof who->name, "%s", u.name);
	return 0;
}

/*
 * The caller, by bearer token or else by sign-in cookie, or -1 with the
 * 401, 403 or 429 already in res.
 */
static int
authenticate(struct server *srv, const struct api_request *req,
    struct api_caller *who, struct api_response *res)
{
	if (req->authorization != NULL)
		return bearer_caller(srv, req, who, res);
	if (req->cookie != NULL)
		return cookie_caller(srv, req, who, res);
	respond_error(res, 401, "unauthorized", "an Authorization: Bearer "
	    "TOKEN header (see api-token create) or a signed-in browser is "
	    "required");
	return -1;
}

/*
 * The query's pairs against the keys allowed: values[i] gets the value
 * of keys[i], or stays NULL.  Unknown, repeated or malformed pairs are
 * refused with a 400 in res.
 */
static int
query_parse(const struct api_request *req, const char *const *keys,
    size_t nkeys, const char **values, struct api_response *res)
{
	const char	*q, *eq;
	size_t		 i, k, klen;

	for (k = 0; k < nkeys; k++)
		values[k] = NULL;
	if (req->query_bad) {
		respond_error(res, 400, "bad_request", "the query string is "
		    "too long");
		return -1;
	}
	for (i = 0; i < req->nquery; i++) {
		q = req->query[i];
		if ((eq = strchr(q, '=')) == NULL || eq == q)
			goto bad;
		klen = (size_t)(eq - q);
		for (k = 0; k < nkeys; k++) {
			if (strlen(keys[k]) == klen &&
			    strncmp(q, keys[k], klen) == 0)
				break;
		}
		if (k == nkeys || values[k] != NULL)
			goto bad;
		values[k] = eq + 1;
	}
	return 0;
bad:
	respond_error(res, 400, "bad_request", nkeys == 0 ?
	    "this resource takes no query parameters" :
	    "unknown, repeated or malformed query parameter");
	return -1;
}

static json_t *
session_json(struct server *srv, const struct store_session *ss)
{
	struct session	*s = server_session_find(srv, ss->id);
	char		 started[ISO8601_LEN], ended[ISO8601_LEN];

	time_iso8601(ss->started_at, started);
	time_iso8601(ss->ended_at, ended);
	return json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:i, "
	    "s:i, s:i}",
	    "id", ss->id,
	    "user_id", (json_int_t)ss->user_id,
	    "user_name", ss->user_name,
	    "name", ss->name,
	    "status", session_state_name(ss->state),
	    "started_at", started,
	    "ended_at", ss->ended_at ? json_string(ended) : json_null(),
	    "client_address", ss->client_address,
	    "auth_method", ss->auth_method,
	    "cols", ss->cols,
	    "rows", ss->rows,
	    "viewer_count", s != NULL ? s->nviewers : 0);
}

static void
sessions_list(struct server *srv, const struct api_caller *who, int all,
    struct api_response *res)
{
	struct store_session	*list = NULL;
	size_t			 n = 0, i;
	json_t			*arr;

	if (store_session_list(srv->store, who->id, all, &list, &n) != 0) {
		respond_error(res, 500, "internal", "cannot read sessions");
		return;
	}
	arr = json_array();
	for (i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, session_json(srv, &list[i]));
	store_session_list_free(list, n);
	respond_json(res, 200, arr);
}

static void
sessions_shared(struct server *srv, const struct api_caller *who,
    struct api_response *res)
{
	struct store_share	*shares = NULL;
	struct store_session	 row;
	size_t			 n = 0, i;
	json_t			*arr, *o;
	char			 when[ISO8601_LEN];

	if (store_shares_for_user(srv->store, who->id, &shares, &n) != 0) {
		respond_error(res, 500, "internal", "cannot read shares");
		return;
	}
	arr = json_array();
	for (i = 0; arr != NULL && i < n; i++) {
		if (store_session_get(srv->store, shares[i].session_id, &row)
		    != 0)
			continue;
		if ((o = session_json(srv, &row)) != NULL) {
			json_object_set_new(o, "owner",
			    json_string(shares[i].owner_name));
			json_object_set_new(o, "permission",
			    json_string(share_perm_name(shares[i].perm)));
			json_object_set_new(o, "share_id",
			    json_string(shares[i].id));
			time_iso8601(shares[i].expires_at, when);
			json_object_set_new(o, "expires_at",
			    json_string(when));
			json_array_append_new(arr, o);
		}
		store_session_clear(&row);
	}
	store_share_list_free(shares, n);
	respond_json(res, 200, arr);
}

/*
 * The session of that id if the caller may see it: -1 with a 404 in res
 * otherwise, so that another user's ids cannot be told from unknown
 * ones.
 */
static int
session_visible(struct server *srv, const struct api_caller *who,
    const char *id, struct store_session *row, struct api_response *res)
{
	if (!uuid_valid(id) || store_session_get(srv->store, id, row) != 0) {
		respond_error(res, 404, "not_found", "no such session");
		return -1;
	}
	if (row->user_id != who->id && !who->admin) {
		store_session_clear(row);
		respond_error(res, 404, "not_found", "no such session");
		return -1;
	}
	return 0;
}

static void
session_one(struct server *srv, const struct api_caller *who,
    const char *id, struct api_response *res)
{
	struct store_session	 row;

	if (session_visible(srv, who, id, &row, res) != 0)
		return;
	respond_json(res, 200, session_json(srv, &row));
	store_session_clear(&row);
}

/*
 * The session of that id if the caller may manage it (its owner or an
 * admin).  Otherwise -1 with, in res, a 403 for a user it was shared
 * with (they know it exists) or a 404 for anyone else.
 */
static int
session_managed(struct server *srv, const struct api_caller *who,
    const char *id, struct store_session *row, struct api_response *res)
{
	struct store_share	*mine = NULL;
	size_t			 nmine = 0, i;
	int			 shared = 0;

	if (!uuid_valid(id) || store_session_get(srv->store, id, row) != 0) {
		respond_error(res, 404, "not_found", "no such session");
		return -1;
	}
	if (row->user_id == who->id || who->admin)
		return 0;
	store_session_clear(row);
	if (store_shares_for_user(srv->store, who->id, &mine, &nmine) == 0) {
		for (i = 0; i < nmine; i++)
			shared |= strcmp(mine[i].session_id, id) == 0;
		store_share_list_free(mine, nmine);
	}
	if (shared)
		respond_error(res, 403, "forbidden", "only the session's "
		    "owner or an admin may do that");
	else
		respond_error(res, 404, "not_found", "no such session");
	return -1;
}

static void
session_shares(struct server *srv, const struct api_caller *who,
    const char *id, int all, struct api_response *res)
{
	struct store_session	 row;
	struct store_share	*list = NULL;
	size_t			 n = 0, i;
	json_t			*arr;

	if (session_managed(srv, who, id, &row, res) != 0)
		return;
	if (store_share_list(srv->store, row.id, all, &list, &n) != 0) {
		store_session_clear(&row);
		respond_error(res, 500, "internal", "cannot read shares");
		return;
	}
	arr = json_array();
	for (i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, cmd_share_json(
		    server_session_find(srv, row.id), &list[i]));
	store_share_list_free(list, n);
	store_session_clear(&row);
	respond_json(res, 200, arr);
}

static void
audit_list(struct server *srv, const struct api_caller *who,
    const char *session, const char *since, struct api_response *res)
{
	struct store_audit_filter	 f;
	struct store_audit		*rows = NULL;
	size_t				 n = 0, i;
	json_t				*arr;

	memset(&f, 0, sizeof f);
	f.owner_id = who->admin ? 0 : who->id;
	if (session != NULL) {
		if (!uuid_valid(session)) {
			respond_error(res, 400, "bad_request", "session takes "
			    "a full session id");
			return;
		}
		f.session_id = session;
	}
	if (since != NULL && cmd_since_parse(since, &f.since) != 0) {
		respond_error(res, 400, "bad_request", "since takes a "
		    "duration (1h), an ISO 8601 time or Unix seconds");
		return;
	}
	if (store_audit_list(srv->store, &f, &rows, &n) != 0) {
		respond_error(res, 500, "internal",
		    "cannot read the audit trail");
		return;
	}
	arr = json_array();
	for (i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, cmd_audit_json(&rows[i]));
	store_audit_list_free(rows, n);
	respond_json(res, 200, arr);
}

/* ---- changes ------------------------------------------------------- */

static void
respond_errorf(struct api_response *res, unsigned int status,
    const char *error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
respond_errorf(struct api_response *res, unsigned int status,
    const char *error, const char *fmt, ...)
{
	char	 detail[256];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	respond_error(res, status, error, detail);
}

/*
 * The body as a JSON object whose keys are all among keys (NULL
 * ended), or NULL with a 400 in res.  No body at all reads as {}.
 */
static json_t *
body_object(const struct api_request *req, const char *const *keys,
    struct api_response *res)
{
	json_error_t	 e;
	json_t		*o, *v;
	const char	*k;
	size_t		 i;

	if (req->body == NULL || req->body_len == 0)
		return json_object();
	o = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
	if (o == NULL) {
		respond_errorf(res, 400, "bad_json", "the body is not JSON: "
		    "%s (at byte %d)", e.text, e.position);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		respond_error(res, 400, "bad_json", "the body must be a JSON "
		    "object");
		return NULL;
	}
	json_object_foreach(o, k, v) {
		for (i = 0; keys[i] != NULL && strcmp(keys[i], k) != 0; i++)
			;
		if (keys[i] == NULL) {
			respond_errorf(res, 400, "bad_request", "unknown field "
			    "'%.64s'", k);
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* Typed fields of a body: an absent field leaves *out alone; a field of
 * the wrong type is a 400 naming it. */
static int
field_string(json_t *o, const char *key, const char **out,
    struct api_response *res)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_string(v)) {
		respond_errorf(res, 400, "bad_request", "'%s' must be a "
		    "string", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

static int
field_bool(json_t *o, const char *key, int *out, struct api_response *res)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		respond_errorf(res, 400, "bad_request", "'%s' must be true or "
		    "false", key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

static int
field_int(json_t *o, const char *key, int min, int max, int *out,
    struct api_response *res)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		respond_errorf(res, 400, "bad_request", "'%s' must be a whole "
		    "number from %d to %d", key, min, max);
		return -1;
	}
	*out = (int)json_integer_value(v);
	return 0;
}

/* expires_in: a duration string ("1h") or seconds, at most the
 * configured maximum. */
static int
field_expiry(struct server *srv, json_t *o, int64_t *out,
    struct api_response *res)
{
	json_t	*v = json_object_get(o, "expires_in");
	int64_t	 secs;
	char	 max[32];

	if (v == NULL)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) > 0)
		secs = json_integer_value(v);
	else if (!json_is_string(v) ||
	    duration_parse(json_string_value(v), &secs) != 0) {
		respond_error(res, 400, "bad_request", "'expires_in' takes a "
		    "duration (45s, 30m, 1h, 4h, 24h, 30d, 1y) or seconds");
		return -1;
	}
	if (secs > srv->cfg->share_max_expiry) {
		duration_format(srv->cfg->share_max_expiry, max, sizeof max);
		respond_errorf(res, 400, "bad_request", "'expires_in' is longer "
		    "than the maximum (%s)", max);
		return -1;
	}
	*out = secs;
	return 0;
}

/* Actions without parameters take no body, or an empty object. */
static int
body_empty(const struct api_request *req, struct api_response *res)
{
	static const char *const none[] = { NULL };
	json_t	*o = body_object(req, none, res);

	json_decref(o);
	return o != NULL ? 0 : -1;
}

static void
who_of(const struct api_caller *c, const struct api_request *req,
    struct audit_who *who)
{
	who->id = c->id;
	who->name = c->name;
	who->address = req->address;
}

/* The body of POST .../shares into share options; -1 with a 400 or 404
 * in res. */
static int
share_opts_read(struct server *srv, json_t *o, struct share_opts *so,
    struct api_response *res)
{
	struct store_user	 u;
	const char		*perm = NULL;
	int			 link = 0, claim = 0, nkinds;

	memset(so, 0, sizeof *so);
	so->kind = SHARE_LINK;
	so->perm = SHARE_READ_ONLY;
	so->expires_in = SHARE_DEFAULT_EXPIRY;
	if (so->expires_in > srv->cfg->share_max_expiry)
		so->expires_in = srv->cfg->share_max_expiry;
	so->require_auth = -1;
	if (field_string(o, "username", &so->user, res) != 0 ||
	    field_bool(o, "link_share", &link, res) != 0 ||
	    field_bool(o, "claim", &claim, res) != 0 ||
	    field_string(o, "permission", &perm, res) != 0 ||
	    field_expiry(srv, o, &so->expires_in, res) != 0 ||
	    field_int(o, "max_viewers", 1, 10000, &so->max_viewers, res) != 0 ||
	    field_bool(o, "require_auth", &so->require_auth, res) != 0 ||
	    field_string(o, "label", &so->label, res) != 0)
		return -1;
	nkinds = (so->user != NULL) + link + claim;
	if (nkinds != 1) {
		respond_error(res, 400, "bad_request", nkinds == 0 ?
		    "say who the share is for: username, link_share or claim" :
		    "username, link_share and claim exclude each other");
		return -1;
	}
	if (perm != NULL && share_perm_parse(perm, &so->perm) != 0) {
		respond_error(res, 400, "bad_request", "'permission' is "
		    "read_only or read_write");
		return -1;
	}
	if (so->label != NULL && !cmd_label_valid(so->label, 1)) {
		respond_errorf(res, 400, "bad_request", "a label is at most %d "
		    "printable characters", CMD_LABEL_MAX);
		return -1;
	}
	if (claim)
		so->kind = SHARE_CLAIM;
	if (so->user != NULL) {
		so->kind = SHARE_USER;
		if (!user_name_valid(so->user) ||
		    store_user_get(srv->store, so->user, &u) != 0) {
			respond_error(res, 404, "not_found", "no such user");
			return -1;
		}
	}
	if (so->require_auth == 0 && so->kind != SHARE_LINK) {
		respond_error(res, 400, "bad_request", "require_auth false is "
		    "for link shares only");
		return -1;
	}
	so->require_auth = so->require_auth != 0;
	return 0;
}

/* A share's JSON with its addresses; token is "" but at creation. */
static json_t *
share_json_urls(struct server *srv, const struct store_share *sh,
    const char *token)
{
	json_t	*o = cmd_share_json(server_session_find(srv, sh->session_id),
		    sh);
	char	 url[640], wsurl[640];

	if (o == NULL)
		return NULL;
	cmd_share_urls(srv, sh, token, url, sizeof url, wsurl, sizeof wsurl);
	json_object_set_new(o, "token", token[0] ? json_string(token) :
	    json_null());
	json_object_set_new(o, "share_url", url[0] ? json_string(url) :
	    json_null());
	json_object_set_new(o, "websocket_url", wsurl[0] ?
	    json_string(wsurl) : json_null());
	return o;
}

static void
share_create_api(struct server *srv, const struct api_caller *c,
    const struct api_request *req, const char *id, struct api_response *res)
{
	static const char *const keys[] = { "username", "link_share", "claim",
	    "permission", "expires_in", "max_viewers", "require_auth",
	    "label", NULL };
	struct store_session	 row;
	struct store_share	 sh;
	struct share_opts	 so;
	struct audit_who	 who;
	struct session		*s;
	char			 token[TOKEN_LEN + 1], err[256];
	json_t			*o;

	if (session_managed(srv, c, id, &row, res) != 0)
		return;
	store_session_clear(&row);
	if ((o = body_object(req, keys, res)) == NULL)
		return;
	if (share_opts_read(srv, o, &so, res) != 0)
		goto out;
	if ((s = server_session_find(srv, id)) == NULL || s->ended) {
		respond_error(res, 409, "conflict", "the session has ended");
		goto out;
	}
	who_of(c, req, &who);
	memset(&sh, 0, sizeof sh);
	if (share_create(srv, s, &who, &so, token, &sh, err, sizeof err) != 0)
		respond_error(res, 400, "bad_request", err);
	else {
		respond_json(res, 201, share_json_urls(srv, &sh, token));
		store_share_clear(&sh);
	}
	sodium_memzero(token, sizeof token);
out:
	json_decref(o);
}

/* The share sid of session id, for its owner or an admin; -1 with the
 * answer in res. */
static int
share_managed(struct server *srv, const struct api_caller *c,
    const char *id, const char *sid, struct store_share *sh,
    struct api_response *res)
{
	struct store_session	 row;

	if (session_managed(srv, c, id, &row, res) != 0)
		return -1;
	store_session_clear(&row);
	if (!share_id_valid(sid) || store_share_get(srv->store, sid, sh) != 0)
		goto unknown;
	if (strcmp(sh->session_id, id) == 0)
		return 0;
	store_share_clear(sh);
unknown:
	respond_error(res, 404, "not_found", "no such share");
	return -1;
}

static int
share_active(const struct store_share *sh, struct api_response *res)
{
	if (sh->state == SHARE_ACTIVE)
		return 0;
	respond_errorf(res, 409, "conflict", "the share is %s",
	    share_state_name(sh->state));
	return -1;
}

/* Answer with the share as it is now in the store. */
static void
share_reread(struct server *srv, const char *sid, int viewers_gone,
    struct api_response *res)
{
	struct store_share	 sh;
	json_t			*o;

	if (store_share_get(srv->store, sid, &sh) != 0) {
		respond_error(res, 500, "internal", "cannot read the share");
		return;
	}
	o = share_json_urls(srv, &sh, "");
	if (o != NULL && viewers_gone >= 0)
		json_object_set_new(o, "viewers_disconnected",
		    json_integer(viewers_gone));
	store_share_clear(&sh);
	respond_json(res, 200, o);
}

static void
share_revoke_api(struct server *srv, const struct api_caller *c,
    const struct api_request *req, const char *id, const char *sid,
    struct api_response *res)
{
	struct store_share	 sh;
	struct audit_who	 who;
	int			 n;

	if (body_empty(req, res) != 0 ||
	    share_managed(srv, c, id, sid, &sh, res) != 0)
		return;
	if (share_active(&sh, res) == 0) {
		who_of(c, req, &who);
		if ((n = share_revoke(srv, &sh, &who)) < 0)
			respond_error(res, 500, "internal", "cannot revoke the "
			    "share");
		else
			share_reread(srv, sh.id, n, res);
	}
	store_share_clear(&sh);
}

static void
share_change_api(struct server *srv, const struct api_caller *c,
    const struct api_request *req, const char *id, const char *sid,
    struct api_response *res)
{
	static const char *const keys[] = { "expires_in", "label", NULL };
	struct store_share	 sh;
	struct audit_who	 who;
	const char		*label = NULL;
	int64_t			 secs = 0;
	json_t			*o;

	if (share_managed(srv, c, id, sid, &sh, res) != 0)
		return;
	if ((o = body_object(req, keys, res)) == NULL)
		goto out;
	if (field_expiry(srv, o, &secs, res) != 0 ||
	    field_string(o, "label", &label, res) != 0)
		goto out;
	if (secs == 0 && label == NULL) {
		respond_error(res, 400, "bad_request", "nothing to change: "
		    "give expires_in or label");
		goto out;
	}
	if (label != NULL && !cmd_label_valid(label, 1)) {
		respond_errorf(res, 400, "bad_request", "a label is at most %d "
		    "printable characters", CMD_LABEL_MAX);
		goto out;
	}
	if (share_active(&sh, res) != 0)
		goto out;
	who_of(c, req, &who);
	if ((secs != 0 && share_extend(srv, &sh, &who, secs) != 0) ||
	    (label != NULL && share_relabel(srv, &sh, &who, label) != 0))
		respond_error(res, 500, "internal", "cannot change the share");
	else
		share_reread(srv, sh.id, -1, res);
out:
	json_decref(o);
	store_share_clear(&sh);
}

/*
 * POST /api/sessions/shares/join: what a token opens, for a caller about
 * to view it; a claim token is claimed by the caller on the way.
 * Unknown tokens count against the address like any refused token.
 */
static void
share_join_api(struct server *srv, const struct api_caller *c,
    const struct api_request *req, struct api_response *res)
{
	static const char *const keys[] = { "token", NULL };
	struct store_share	 sh;
	struct audit_who	 who;
	struct session		*s = NULL;
	unsigned char		 hash[TOKEN_HASH_BYTES];
	const char		*token = NULL, *why;
	json_t			*o, *out;

	if ((o = body_object(req, keys, res)) == NULL)
		return;
	if (field_string(o, "token", &token, res) != 0)
		goto done;
	if (token == NULL) {
		respond_error(res, 400, "bad_request", "'token' is required");
		goto done;
	}
	if (ratelimit_blocked(srv, req->address)) {
		respond_error(res, 429, "too_many_requests", "too many failed "
		    "attempts from your address; try again in a minute");
		goto done;
	}
	if (!token_format_valid(token))
		goto unknown;
	token_hash(srv->dd.secret, token, hash);
	if (store_share_find_token(srv->store, hash, &sh) != 0)
		goto unknown;
	who_of(c, req, &who);
	if (sh.kind == SHARE_CLAIM && share_claim(srv, &sh, &who) != 0) {
		respond_error(res, 409, "conflict", "this claim link was "
		    "already used or has expired; ask the owner for a fresh "
		    "one");
		goto out;
	}
	if ((why = share_refusal(srv, &sh, c->id, &s)) != NULL) {
		audit_log(srv, &who, "viewer.refused", sh.session_id, sh.id,
		    NULL, "reason=%s transport=api", why);
		respond_error(res, 403, "forbidden", why);
		goto out;
	}
	if (sh.password_hash != NULL || sh.authorized_keys != NULL) {
		respond_error(res, 403, "forbidden", "this share needs a "
		    "password or an SSH key; join it with ssh");
		goto out;
	}
	out = share_json_urls(srv, &sh, sh.kind == SHARE_LINK ? token : "");
	if (out != NULL) {
		json_object_del(out, "token");
		json_object_set_new(out, "owner", json_string(s->owner));
	}
	respond_json(res, 200, out);
out:
	store_share_clear(&sh);
	goto done;
unknown:
	ratelimit_failure(srv, req->address);
	log_warn("api: refused an unknown share token from %s",
	    req->address);
	respond_error(res, 404, "not_found", "unknown share token");
done:
	sodium_memzero(hash, sizeof hash);
	json_decref(o);
}

/* POST .../disconnect: the owner's client goes, the program stays. */
static void
session_disconnect_api(struct server *srv, const struct api_caller *c,
    const struct api_request *req, const char *id, struct api_response *res)
{
	struct store_session	 row;
	struct session		*s;
	char			 why[96];
	int			 n;
	json_t			*o;

	if (body_empty(req, res) != 0)
		return;
	if (session_managed(srv, c, id, &row, res) != 0)
		return;
	store_session_clear(&row);
	if ((s = server_session_find(srv, id)) == NULL || s->ended) {
		respond_error(res, 409, "conflict", "the session has ended");
		return;
	}
	snprintf(why, sizeof why, "disconnected by %s", c->name);
	n = session_owner_disconnect(s, why);
	if (store_session_get(srv->store, id, &row) != 0) {
		respond_error(res, 500, "internal", "cannot read the session");
		return;
	}
	o = session_json(srv, &row);
	store_session_clear(&row);
	if (o != NULL)
		json_object_set_new(o, "clients_disconnected", json_integer(n));
	respond_json(res, 200, o);
}

/* POST .../terminate: SIGHUP now, SIGKILL after a grace period; the
 * status turns terminated when the program is gone, hence 202. */
static void
session_terminate_api(struct server *srv, const struct api_caller *c,
    const struct api_request *req, const char *id, struct api_response *res)
{
	struct store_session	 row;
	struct session		*s;

	if (body_empty(req, res) != 0)
		return;
	if (session_managed(srv, c, id, &row, res) != 0)
		return;
	if ((s = server_session_find(srv, id)) == NULL || s->ended) {
		store_session_clear(&row);
		respond_error(res, 409, "conflict", "the session has ended");
		return;
	}
	session_kill(s);
	log_info("session %s terminated by %s through the API", id, c->name);
	respond_json(res, 202, session_json(srv, &row));
	store_session_clear(&row);
}

/* ---- routing -------------------------------------------------------- */

enum route {
	R_NONE,
	R_ME,
	R_SESSIONS,
	R_ACTIVE,
	R_SHARED,
	R_JOIN,
	R_SESSION,
	R_DISCONNECT,
	R_TERMINATE,
	R_SHARES,
	R_SHARE,
	R_AUDIT,
};

#define M(m)	(1u << (m))

/* The methods of each route, and the Allow header that lists them. */
static const struct {
	unsigned int	 methods;
	const char	*allow;
} route_methods[] = {
	[R_ME] = { M(API_GET), "GET" },
	[R_SESSIONS] = { M(API_GET), "GET" },
	[R_ACTIVE] = { M(API_GET), "GET" },
	[R_SHARED] = { M(API_GET), "GET" },
	[R_JOIN] = { M(API_POST), "POST" },
	[R_SESSION] = { M(API_GET), "GET" },
	[R_DISCONNECT] = { M(API_POST), "POST" },
	[R_TERMINATE] = { M(API_POST), "POST" },
	[R_SHARES] = { M(API_GET) | M(API_POST), "GET, POST" },
	[R_SHARE] = { M(API_GET) | M(API_PATCH) | M(API_DELETE),
	    "GET, PATCH, DELETE" },
	[R_AUDIT] = { M(API_GET), "GET" },
};

/*
 * The route of a path under /api/.  Routes under a session copy its id
 * to id (ID_BUF bytes), and a share's id to sid.
 */
#define ID_BUF	40

static enum route
route_of(const char *path, char *id, char *sid)
{
	static const struct {
		const char	*tail;
		enum route	 r;
	} tails[] = {
		{ "", R_SESSION },
		{ "/disconnect", R_DISCONNECT },
		{ "/terminate", R_TERMINATE },
		{ "/shares", R_SHARES },
	};
	const char	*p, *slash;
	size_t		 n, i;

	if (strncmp(path, API_PREFIX, strlen(API_PREFIX)) != 0)
		return R_NONE;
	p = path + strlen(API_PREFIX);
	if (strcmp(p, "me") == 0)
		return R_ME;
	if (strcmp(p, "audit") == 0)
		return R_AUDIT;
	if (strcmp(p, "sessions") == 0)
		return R_SESSIONS;
	if (strncmp(p, "sessions/", 9) != 0)
		return R_NONE;
	p += 9;
	if (strcmp(p, "active") == 0)
		return R_ACTIVE;
	if (strcmp(p, "shared") == 0)
		return R_SHARED;
	if (strcmp(p, "shares/join") == 0)
		return R_JOIN;
	slash = strchr(p, '/');
	n = slash != NULL ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || n >= ID_BUF)
		return R_NONE;
	memcpy(id, p, n);
	id[n] = '\0';
	if (!uuid_valid(id))
		return R_NONE;
	p += n;
	for (i = 0; i < sizeof tails / sizeof tails[0]; i++) {
		if (strcmp(p, tails[i].tail) == 0)
			return tails[i].r;
	}
	if (strncmp(p, "/shares/", 8) != 0 || strlen(p + 8) >= ID_BUF)
		return R_NONE;
	snprintf(sid, ID_BUF, "%s", p + 8);
	return sid[0] != '\0' && strchr(sid, '/') == NULL ? R_SHARE : R_NONE;
}

static void
me(const struct api_caller *c, struct api_response *res)
{
	respond_json(res, 200, json_pack("{s:I, s:s, s:b}", "id",
	    (json_int_t)c->id, "name", c->name, "admin", c->admin));
}

static void
share_one(struct server *srv, const struct api_caller *c, const char *id,
    const char *sid, struct api_response *res)
{
	struct store_share	 sh;

	if (share_managed(srv, c, id, sid, &sh, res) != 0)
		return;
	respond_json(res, 200, share_json_urls(srv, &sh, ""));
	store_share_clear(&sh);
}

/* The routes that take query parameters; the others take none. */
static int
route_queried(struct server *srv, const struct api_caller *who,
    const struct api_request *req, enum route r, const char *id,
    struct api_response *res)
{
	static const char *const audit_keys[] = { "session", "since" };
	static const char *const shares_keys[] = { "all" };
	const char	*v[2];

	if (r == R_AUDIT) {
		if (query_parse(req, audit_keys, 2, v, res) == 0)
			audit_list(srv, who, v[0], v[1], res);
		return 1;
	}
	if (r != R_SHARES || req->method != API_GET)
		return 0;
	if (query_parse(req, shares_keys, 1, v, res) != 0)
		return 1;
	if (v[0] != NULL && strcmp(v[0], "true") != 0 &&
	    strcmp(v[0], "false") != 0) {
		respond_error(res, 400, "bad_request", "all takes true or "
		    "false");
		return 1;
	}
	session_shares(srv, who, id, v[0] != NULL && strcmp(v[0], "true") == 0,
	    res);
	return 1;
}

void
api_handle(struct server *srv, const struct api_request *req,
    struct api_response *res)
{
	struct api_caller	 who;
	const char		*v[1];
	char			 id[ID_BUF] = "", sid[ID_BUF] = "";
	enum route		 r;

	memset(res, 0, sizeof *res);
	memset(&who, 0, sizeof who);
	if (authenticate(srv, req, &who, res) != 0)
		return;
	if ((r = route_of(req->path, id, sid)) == R_NONE) {
		respond_error(res, 404, "not_found", "no such resource");
		return;
	}
	if (req->method == API_OTHER ||
	    (route_methods[r].methods & M(req->method)) == 0) {
		res->allow = route_methods[r].allow;
		respond_errorf(res, 405, "method_not_allowed", "this resource "
		    "takes %s", route_methods[r].allow);
		return;
	}
	if (route_queried(srv, &who, req, r, id, res) ||
	    query_parse(req, NULL, 0, v, res) != 0)
		return;
	switch (r) {
	case R_ME:
		me(&who, res);
		break;
	case R_SESSIONS:
		sessions_list(srv, &who, 1, res);
		break;
	case R_ACTIVE:
		sessions_list(srv, &who, 0, res);
		break;
	case R_SHARED:
		sessions_shared(srv, &who, res);
		break;
	case R_JOIN:
		share_join_api(srv, &who, req, res);
		break;
	case R_SESSION:
		session_one(srv, &who, id, res);
		break;
	case R_DISCONNECT:
		session_disconnect_api(srv, &who, req, id, res);
		break;
	case R_TERMINATE:
		session_terminate_api(srv, &who, req, id, res);
		break;
	case R_SHARES:
		share_create_api(srv, &who, req, id, res);
		break;
	case R_SHARE:
		if (req->method == API_GET)
			share_one(srv, &who, id, sid, res);
		else if (req->method == API_DELETE)
			share_revoke_api(srv, &who, req, id, sid, res);
		else
			share_change_api(srv, &who, req, id, sid, res);
		break;
	default:
		respond_error(res, 404, "not_found", "no such resource");
		break;
	}
}

void
api_response_free(struct api_response *res)
{
	free(res->body);
	res->body = NULL;
	res->len = 0;
}
