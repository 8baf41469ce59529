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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "command_impl.h"
#include "log.h"
#include "secrets.h"
#include "server.h"
#include "session.h"
#include "share.h"
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

/*
 * The caller named by the Authorization header, or -1 with the 401 (or
 * 429) already in res.
 */
static int
authenticate(struct server *srv, const struct api_request *req,
    struct api_caller *who, struct api_response *res)
{
	struct store_api_token	 t;
	struct store_user	 u;
	unsigned char		 hash[TOKEN_HASH_BYTES];
	const char		*token;
	int			 ok;

	if (req->authorization == NULL) {
		respond_error(res, 401, "unauthorized", "an Authorization: "
		    "Bearer TOKEN header is required (see api-token create)");
		return -1;
	}
	if (ratelimit_blocked(srv, req->address)) {
		respond_error(res, 429, "too_many_requests", "too many failed "
		    "attempts from your address; try again in a minute");
		return -1;
	}
	token = req->authorization;
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
 * A session's shares: for its owner or an admin.  A user the session
 * was shared with gets 403 (they know it exists); anyone else 404.
 */
static void
session_shares(struct server *srv, const struct api_caller *who,
    const char *id, int all, struct api_response *res)
{
	struct store_session	 row;
	struct store_share	*list = NULL, *mine = NULL;
	size_t			 n = 0, nmine = 0, i;
	int			 shared = 0;
	json_t			*arr;

	if (!uuid_valid(id) || store_session_get(srv->store, id, &row) != 0) {
		respond_error(res, 404, "not_found", "no such session");
		return;
	}
	if (row.user_id != who->id && !who->admin) {
		if (store_shares_for_user(srv->store, who->id, &mine, &nmine)
		    == 0) {
			for (i = 0; i < nmine; i++)
				shared |= strcmp(mine[i].session_id, id) == 0;
			store_share_list_free(mine, nmine);
		}
		store_session_clear(&row);
		if (shared)
			respond_error(res, 403, "forbidden", "only the "
			    "session's owner or an admin may list its shares");
		else
			respond_error(res, 404, "not_found",
			    "no such session");
		return;
	}
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

enum route {
	R_NONE,
	R_SESSIONS,
	R_ACTIVE,
	R_SHARED,
	R_SESSION,
	R_SHARES,
	R_AUDIT,
};

/* The route of a path under /api/; *id points into path for the
 * routes that take a session id (copied to idbuf). */
static enum route
route_of(const char *path, char *idbuf, size_t idlen)
{
	const char	*p, *slash;
	size_t		 n;

	if (strncmp(path, API_PREFIX, strlen(API_PREFIX)) != 0)
		return R_NONE;
	p = path + strlen(API_PREFIX);
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
	slash = strchr(p, '/');
	n = slash != NULL ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || n >= idlen)
		return R_NONE;
	memcpy(idbuf, p, n);
	idbuf[n] = '\0';
	if (!uuid_valid(idbuf))
		return R_NONE;
	if (slash == NULL)
		return R_SESSION;
	if (strcmp(slash, "/shares") == 0)
		return R_SHARES;
	return R_NONE;
}

void
api_handle(struct server *srv, const struct api_request *req,
    struct api_response *res)
{
	static const char *const audit_keys[] = { "session", "since" };
	static const char *const shares_keys[] = { "all" };
	struct api_caller	 who;
	const char		*v[2];
	char			 id[40];
	enum route		 r;
	int			 all = 0;

	memset(res, 0, sizeof *res);
	memset(&who, 0, sizeof who);
	if (authenticate(srv, req, &who, res) != 0)
		return;
	if ((r = route_of(req->path, id, sizeof id)) == R_NONE) {
		respond_error(res, 404, "not_found", "no such resource");
		return;
	}
	if (!req->is_get) {
		res->allow_get = 1;
		respond_error(res, 405, "method_not_allowed", "only GET is "
		    "supported in this version of the API");
		return;
	}
	switch (r) {
	case R_AUDIT:
		if (query_parse(req, audit_keys, 2, v, res) == 0)
			audit_list(srv, &who, v[0], v[1], res);
		return;
	case R_SHARES:
		if (query_parse(req, shares_keys, 1, v, res) != 0)
			return;
		if (v[0] != NULL && strcmp(v[0], "true") != 0 &&
		    strcmp(v[0], "false") != 0) {
			respond_error(res, 400, "bad_request",
			    "all takes true or false");
			return;
		}
		all = v[0] != NULL && strcmp(v[0], "true") == 0;
		session_shares(srv, &who, id, all, res);
		return;
	default:
		break;
	}
	if (query_parse(req, NULL, 0, v, res) != 0)
		return;
	switch (r) {
	case R_SESSIONS:
		sessions_list(srv, &who, 1, res);
		break;
	case R_ACTIVE:
		sessions_list(srv, &who, 0, res);
		break;
	case R_SHARED:
		sessions_shared(srv, &who, res);
		break;
	case R_SESSION:
		session_one(srv, &who, id, res);
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
