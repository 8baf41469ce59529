/*
 * web: the HTTP listener and the WebSocket viewer transport (web.h).
 *
 * Everything here runs inside libwebsockets callbacks on the daemon's
 * loop, or in client_ops called by the session; neither may block.  A
 * WebSocket viewer keeps three queues: text messages (status, pong,
 * closed) that go out first, the binary frame bytes the session wrote,
 * and the text message being received.  lws allows one lws_write() per
 * WRITEABLE callback, so each callback sends one message and asks for
 * another callback while anything is left.
 *
 * Closing is always deferred to a WRITEABLE callback (the only place,
 * besides RECEIVE, where returning -1 closes a connection), except for
 * protocol errors found while receiving.
 */
#include <arpa/inet.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "api.h"
#include "audit.h"
#include "buf.h"
#include "config.h"
#include "log.h"
#include "secrets.h"
#include "server.h"
#include "session.h"
#include "share.h"
#include "signin.h"
#include "store.h"
#include "util.h"
#include "web.h"

#define WS_PROTOCOL	"tandem.v1"
#define WS_PATH		"/ws/s/"
#define WS_SESSION_PATH	"/ws/session/"
#define WS_MSG_MAX	(64 * 1024)	/* one client message, any type */
#define WS_RX_CHUNK	(16 * 1024)	/* lws delivers at most this */
#define WS_FRAME_MAX	FRAME_CHUNK_MAX	/* one binary frame to the client */
#define WS_REASON_MAX	123		/* a close frame's reason, RFC 6455 */
#define WS_ROSTER_NAMES	50		/* names in a viewers message */
/* The close opcode of lws_write: part of lws's ABI-stable enum, but left
 * out of the public header (lws-write.h), which reserves the value. */
#define WS_WRITE_CLOSE	((enum lws_write_protocol)4)

struct web {
	struct server		*srv;
	struct lws_context	*ctx;
	struct lws_vhost	*vh;
	int			 stopped;
};

struct wsconn {
	struct server	*srv;
	struct lws	*wsi;
	struct client	 client;
	char		 ip[64];
	int		 joined;	/* client is a viewer of a session */

	struct buf	 texts;		/* [uint32_t len][bytes] records */

	struct buf	 rx;		/* the text message being received */
	size_t		 rx_len;	/* bytes of the current message */
	int		 rx_active;	/* inside a message */
	int		 rx_binary;

	/* HTTP only: a POST body being received (lws zeroes this). */
	struct buf	 body;
	int		 post;		/* POST_LOGIN, POST_LOGOUT, POST_API */
	int		 body_too_big;
	char		 api_path[128];	/* POST_API: the resource */

	int		 closing;
	int		 close_sent;
	int		 close_code;
	char		 close_reason[WS_REASON_MAX + 1];
};

/* Every HTTP response carries these (lws adds a vhost's header list in
 * lws_add_http_header_status); http_respond adds a content security
 * policy and a cache-control header that depend on the response. */
static const struct lws_protocol_vhost_options web_headers[] = {
	{ &web_headers[1], NULL, "x-frame-options:", "DENY" },
	{ &web_headers[2], NULL, "x-content-type-options:", "nosniff" },
	{ NULL, NULL, "referrer-policy:", "no-referrer" },
};

#define CSP_DEFAULT	"default-src 'self'"
/*
 * The viewer page: scripts only from this origin, but xterm.js sizes and
 * colours its DOM renderer through <style> elements it creates, which a
 * bare default-src 'self' would block.
 */
#define CSP_VIEWER	"default-src 'self'; style-src 'self' 'unsafe-inline'"
#define CACHE_NONE	"no-store"
#define CACHE_ASSET	"public, max-age=3600"

#define VIEWER_PATH	"/s/"
#define ASSET_PATH	"/assets/"
#define ASSET_MAX	(8 * 1024 * 1024)

/*
 * The only files served from web_root: names come from this table,
 * never from the request, so no path can leave the folder.
 */
static const struct web_asset {
	const char	*url;		/* under /assets/, or NULL: a page */
	const char	*file;		/* in web_root */
	const char	*type;
	const char	*csp;		/* NULL: the viewer's for a page */
} web_assets[] = {
	{ NULL, "viewer.html", "text/html; charset=utf-8", NULL },
	{ "viewer.js", "viewer.js", "text/javascript; charset=utf-8", NULL },
	{ "viewer.css", "viewer.css", "text/css; charset=utf-8", NULL },
	{ "signin.js", "signin.js", "text/javascript; charset=utf-8", NULL },
	{ "manager.js", "manager.js", "text/javascript; charset=utf-8",
	    NULL },
	{ "manager.css", "manager.css", "text/css; charset=utf-8", NULL },
	{ "xterm.js", "xterm.js", "text/javascript; charset=utf-8", NULL },
	{ "xterm.css", "xterm.css", "text/css; charset=utf-8", NULL },
};

static void
web_lws_log(int level, const char *line)
{
	size_t	 n = strlen(line);

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	log_error("http: %.*s", (int)n, line);
}

/* ---- HTTP ---------------------------------------------------------- */

/*
 * Send a whole response: status, headers, body.  With final set the
 * HTTP transaction is completed here (-1: close the connection); a
 * rejected upgrade leaves that to lws.
 */
static int
http_respond_hdrs(struct lws *wsi, unsigned int status, const char *type,
    const char *body, size_t len, const char *const *extra,
    const char *csp, const char *cache, int final)
{
	unsigned char	 hdr[LWS_PRE + 2048], *start = hdr + LWS_PRE;
	unsigned char	*p = start, *end = hdr + sizeof hdr - 1;
	struct buf	 b = BUF_INIT;
	int		 r = -1;

	if (lws_add_http_common_headers(wsi, status, type, len, &p, end) ||
	    lws_add_http_header_by_name(wsi,
	    (const unsigned char *)"content-security-policy:",
	    (const unsigned char *)csp, (int)strlen(csp), &p, end) ||
	    lws_add_http_header_by_name(wsi,
	    (const unsigned char *)"cache-control:",
	    (const unsigned char *)cache, (int)strlen(cache), &p, end))
		return -1;
	/* extra: name, value, ..., NULL */
	for (; extra != NULL && extra[0] != NULL; extra += 2) {
		if (lws_add_http_header_by_name(wsi,
		    (const unsigned char *)extra[0],
		    (const unsigned char *)extra[1], (int)strlen(extra[1]),
		    &p, end))
			return -1;
	}
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	/* lws wants LWS_PRE bytes of headroom in front of every write. */
	if (buf_reserve(&b, LWS_PRE + len) != 0)
		goto out;
	memset(b.data, 0, LWS_PRE);
	memcpy(b.data + LWS_PRE, body, len);
	if (lws_write(wsi, (unsigned char *)b.data + LWS_PRE, len,
	    LWS_WRITE_HTTP_FINAL) != (int)len)
		goto out;
	r = 0;
	if (final && lws_http_transaction_completed(wsi))
		r = -1;
out:
	buf_free(&b);
	return r;
}

static int
http_respond_with(struct lws *wsi, unsigned int status, const char *type,
    const char *body, size_t len, const char *extra_name,
    const char *extra_value, const char *csp, const char *cache, int final)
{
	const char	*extra[3] = { extra_name, extra_value, NULL };

	return http_respond_hdrs(wsi, status, type, body, len, extra, csp,
	    cache, final);
}

static int
http_respond(struct lws *wsi, unsigned int status, const char *type,
    const char *body, size_t len, const char *extra_name,
    const char *extra_value, int final)
{
	return http_respond_with(wsi, status, type, body, len, extra_name,
	    extra_value, CSP_DEFAULT, CACHE_NONE, final);
}

static int
http_text(struct lws *wsi, unsigned int status, const char *body)
{
	return http_respond(wsi, status, "text/plain; charset=utf-8", body,
	    strlen(body), NULL, NULL, 1);
}

static int
metrics_render(struct server *srv, struct buf *b)
{
	static const char *const transports[] = { "ssh", "websocket" };
	struct session	*s;
	struct client	*c;
	uint64_t	 active = 0, disconnected = 0, viewers[2][2];
	size_t		 t;
	int		 rw, r = 0;

	memset(viewers, 0, sizeof viewers);
	TAILQ_FOREACH(s, &srv->sessions, entry) {
		if (s->state == SESSION_ACTIVE)
			active++;
		else if (s->state == SESSION_DISCONNECTED)
			disconnected++;
		TAILQ_FOREACH(c, &s->viewers, entry) {
			t = c->transport != NULL &&
			    strcmp(c->transport, "websocket") == 0;
			viewers[t][c->read_write ? 1 : 0]++;
		}
	}
	r |= buf_printf(b,
	    "# HELP tandem_sessions Live sessions by state.\n"
	    "# TYPE tandem_sessions gauge\n"
	    "tandem_sessions{state=\"active\"} %llu\n"
	    "tandem_sessions{state=\"disconnected\"} %llu\n"
	    "# HELP tandem_viewers Viewers joined to a session.\n"
	    "# TYPE tandem_viewers gauge\n",
	    (unsigned long long)active, (unsigned long long)disconnected);
	for (t = 0; t < 2; t++) {
		for (rw = 0; rw < 2; rw++)
			r |= buf_printf(b, "tandem_viewers{transport=\"%s\","
			    "permission=\"%s\"} %llu\n", transports[t],
			    rw ? "read_write" : "read_only",
			    (unsigned long long)viewers[t][rw]);
	}
	r |= buf_printf(b,
	    "# HELP tandem_connections_total SSH and WebSocket connections "
	    "accepted.\n"
	    "# TYPE tandem_connections_total counter\n"
	    "tandem_connections_total %llu\n"
	    "# HELP tandem_logins_total Successful SSH logins.\n"
	    "# TYPE tandem_logins_total counter\n"
	    "tandem_logins_total %llu\n"
	    "# HELP tandem_auth_failures_total Failed logins and token "
	    "attempts.\n"
	    "# TYPE tandem_auth_failures_total counter\n"
	    "tandem_auth_failures_total %llu\n"
	    "# HELP tandem_share_tokens_refused_total Joins refused for an "
	    "unknown, expired or revoked share token.\n"
	    "# TYPE tandem_share_tokens_refused_total counter\n"
	    "tandem_share_tokens_refused_total %llu\n",
	    (unsigned long long)srv->stats.connections,
	    (unsigned long long)srv->stats.logins,
	    (unsigned long long)srv->stats.auth_failures,
	    (unsigned long long)srv->stats.tokens_refused);
	r |= buf_printf(b,
	    "# HELP tandem_viewer_resyncs_total Viewers that fell over their "
	    "queue budget, had their backlog dropped and were sent a fresh "
	    "snapshot.\n"
	    "# TYPE tandem_viewer_resyncs_total counter\n"
	    "tandem_viewer_resyncs_total %llu\n"
	    "# HELP tandem_viewer_stall_disconnects_total Viewers "
	    "disconnected after viewer_stall_timeout without reading.\n"
	    "# TYPE tandem_viewer_stall_disconnects_total counter\n"
	    "tandem_viewer_stall_disconnects_total %llu\n"
	    "# HELP tandem_model_skipped_bytes_total Output the screen model "
	    "skipped in floods of plain text.\n"
	    "# TYPE tandem_model_skipped_bytes_total counter\n"
	    "tandem_model_skipped_bytes_total %llu\n",
	    (unsigned long long)srv->stats.viewer_resyncs,
	    (unsigned long long)srv->stats.viewers_stall_dropped,
	    (unsigned long long)srv->stats.model_bytes_skipped);
	r |= buf_printf(b,
	    "# HELP tandem_viewer_bytes_total Bytes of frames sent to "
	    "viewers.\n"
	    "# TYPE tandem_viewer_bytes_total counter\n");
	for (t = 0; t < 2; t++)
		r |= buf_printf(b, "tandem_viewer_bytes_total{transport=\"%s\"} "
		    "%llu\n", transports[t],
		    (unsigned long long)srv->stats.viewer_bytes[t]);
	r |= buf_printf(b,
	    "# HELP tandem_share_events_total Shares created, revoked, "
	    "expired, extended, relabelled and claimed.\n"
	    "# TYPE tandem_share_events_total counter\n");
	for (t = 0; t < SHARE_EVENTS; t++)
		r |= buf_printf(b, "tandem_share_events_total{event=\"%s\"} "
		    "%llu\n", audit_share_events[t],
		    (unsigned long long)srv->stats.share_events[t]);
	return r;
}

/* Read a whole file of web_root into b; 0, or -1 with errno set. */
static int
asset_read(const char *root, const char *name, struct buf *b)
{
	char		 path[4096];
	struct stat	 st;
	ssize_t		 n;
	int		 fd, r = -1, e;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", root, name) >=
	    sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto out;
	if (!S_ISREG(st.st_mode) || st.st_size > ASSET_MAX) {
		errno = EINVAL;
		goto out;
	}
	if (buf_reserve(b, (size_t)st.st_size + 1) != 0) {
		errno = ENOMEM;
		goto out;
	}
	for (;;) {
		if (buf_reserve(b, 4096) != 0) {
			errno = ENOMEM;
			goto out;
		}
		n = read(fd, b->data + b->len, 4096);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto out;
		if (n == 0)
			break;
		b->len += (size_t)n;
		if (b->len > ASSET_MAX) {
			errno = EFBIG;
			goto out;
		}
	}
	r = 0;
out:
	e = errno;
	close(fd);
	errno = e;
	return r;
}

/*
 * The viewer page (for any well-formed /s/TOKEN: whether the token is
 * good is the WebSocket's business) and its assets.
 */
static int
http_static(struct server *srv, struct lws *wsi, const struct web_asset *a)
{
	struct buf	 b = BUF_INIT;
	int		 r;

	if (srv->web_dir == NULL ||
	    asset_read(srv->web_dir, a->file, &b) != 0) {
		log_error("http: cannot read %s/%s: %s", srv->web_dir ?
		    srv->web_dir : srv->cfg->web_root,
		    a->file, strerror(errno));
		buf_free(&b);
		return http_text(wsi, HTTP_STATUS_NOT_FOUND,
		    "not found (the viewer page is not installed)\n");
	}
	r = http_respond_with(wsi, HTTP_STATUS_OK, a->type, buf_ptr(&b),
	    buf_used(&b), NULL, NULL, a->csp != NULL ? a->csp :
	    a->url == NULL ? CSP_VIEWER : CSP_DEFAULT,
	    a->url == NULL ? CACHE_NONE : CACHE_ASSET, 1);
	buf_free(&b);
	return r;
}

static const struct web_asset *
asset_find(const char *path)
{
	size_t	 i;

	if (strncmp(path, VIEWER_PATH, strlen(VIEWER_PATH)) == 0) {
		if (!token_format_valid(path + strlen(VIEWER_PATH)))
			return NULL;
		return &web_assets[0];
	}
	if (strncmp(path, ASSET_PATH, strlen(ASSET_PATH)) != 0)
		return NULL;
	path += strlen(ASSET_PATH);
	for (i = 0; i < sizeof web_assets / sizeof *web_assets; i++) {
		if (web_assets[i].url != NULL &&
		    strcmp(path, web_assets[i].url) == 0)
			return &web_assets[i];
	}
	return NULL;
}

/* ---- requests: origin, cookies ---------------------------------------- */

#define COOKIE_MAX	4096

/* Is the Origin header this host?  Without one: absent_ok. */
static int
origin_same(struct lws *wsi, int absent_ok)
{
	char	 origin[512], host[256], want[300];
	int	 n;

	n = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);
	if (n == 0)
		return absent_ok;
	if (n >= (int)sizeof origin ||
	    lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) < 0 ||
	    lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0)
		return 0;
	snprintf(want, sizeof want, "http://%s", host);
	if (strcasecmp(origin, want) == 0)
		return 1;
	snprintf(want, sizeof want, "https://%s", host);
	return strcasecmp(origin, want) == 0;
}

/* One cookie of the request: 0, or -1 when absent or too long. */
static int
cookie_get(struct lws *wsi, const char *name, char *out, size_t outlen)
{
	char	 hdr[COOKIE_MAX];
	int	 n, r;

	n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_COOKIE);
	if (n <= 0 || n >= (int)sizeof hdr ||
	    lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_COOKIE) < 0)
		return -1;
	r = signin_cookie(hdr, name, out, outlen);
	sodium_memzero(hdr, sizeof hdr);
	return r;
}

/* The signed-in user of a request, if any: 0, or -1. */
static int
web_user(struct server *srv, struct lws *wsi, struct store_user *u)
{
	char	 tok[TOKEN_LEN + 1];
	int	 r;

	if (cookie_get(wsi, SIGNIN_COOKIE, tok, sizeof tok) != 0)
		return -1;
	r = signin_session_user(srv, tok, u);
	sodium_memzero(tok, sizeof tok);
	return r;
}

#define API_PATH	"/api/"
#define API_AUTH_MAX	256	/* "Bearer " and a token fit easily */
#define API_QUERY_BYTES	2048

/* Requests with a body: which, and how big the body may be.  A larger
 * body is read and refused up to BODY_DRAIN_MAX; past that the
 * connection is closed after the refusal. */
#define POST_LOGIN	1
#define POST_LOGOUT	2
#define POST_API	3
#define BODY_MAX	4096		/* a sign-in form is small */
#define BODY_DRAIN_MAX	(64 * 1024)

static enum api_method
api_method_of(struct lws *wsi)
{
	/* lws fills the URI token of the request's method only. */
	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0)
		return API_GET;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0)
		return API_POST;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_PATCH_URI) > 0)
		return API_PATCH;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI) > 0)
		return API_DELETE;
	return API_OTHER;
}

/* The query's key=value pairs, as lws decoded them, into req. */
static void
api_query(struct lws *wsi, struct api_request *req, char *qbuf, size_t qlen)
{
	size_t	 used = 0;
	int	 n, i;

	for (i = 0; !req->query_bad; i++) {
		n = lws_hdr_copy_fragment(wsi, qbuf + used, (int)(qlen - used),
		    WSI_TOKEN_HTTP_URI_ARGS, i);
		if (n == -1)		/* no more pairs */
			break;
		if (n < 0 || req->nquery == API_QUERY_MAX ||
		    strlen(qbuf + used) != (size_t)n) {
			req->query_bad = 1;	/* too long, too many, NUL */
			break;
		}
		req->query[req->nquery++] = qbuf + used;
		used += (size_t)n + 1;
	}
}

/*
 * A request under /api/: gather what api_handle needs (body: the whole
 * body of a POST, PATCH or DELETE, or NULL).  Nothing of the
 * credentials is logged.  A request whose body was not read (another
 * method) closes its connection after the answer.
 */
static int
api_request(struct server *srv, struct lws *wsi, const char *path,
    const struct buf *body)
{
	static const char	 oom[] = "{\"error\":\"internal\","
	    "\"detail\":\"out of memory\"}";
	struct api_request	 req;
	struct api_response	 res;
	char			 auth[API_AUTH_MAX], ip[64];
	char			 cookie[TOKEN_LEN + 1], csrf[SIGNIN_CSRF_LEN + 1];
	char			 qbuf[API_QUERY_BYTES];
	int			 r, alen;

	memset(&req, 0, sizeof req);
	req.path = path;
	req.method = api_method_of(wsi);
	if (lws_get_peer_simple(wsi, ip, sizeof ip) == NULL)
		snprintf(ip, sizeof ip, "unknown");
	req.address = ip;
	alen = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	if (alen > 0) {
		/* Too long to be ours: present, and wrong. */
		if (alen >= (int)sizeof auth ||
		    lws_hdr_copy(wsi, auth, sizeof auth,
		    WSI_TOKEN_HTTP_AUTHORIZATION) < 0)
			auth[0] = '\0';
		req.authorization = auth;
	}
	if (cookie_get(wsi, SIGNIN_COOKIE, cookie, sizeof cookie) == 0)
		req.cookie = cookie;
	if (lws_hdr_custom_length(wsi, "x-tandem-csrf:", 14) ==
	    SIGNIN_CSRF_LEN && lws_hdr_custom_copy(wsi, csrf, sizeof csrf,
	    "x-tandem-csrf:", 14) == SIGNIN_CSRF_LEN)
		req.csrf = csrf;
	req.foreign_origin = !origin_same(wsi, 1);
	if (body != NULL) {
		req.body = buf_ptr(body);
		req.body_len = buf_used(body);
	}
	api_query(wsi, &req, qbuf, sizeof qbuf);
	api_handle(srv, &req, &res);
	sodium_memzero(auth, sizeof auth);
	sodium_memzero(cookie, sizeof cookie);
	if (res.body == NULL)
		r = http_respond(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR,
		    "application/json", oom, sizeof oom - 1, NULL, NULL, 1);
	else
		r = http_respond(wsi, res.status, "application/json",
		    res.body, res.len, res.allow ? "allow:" : NULL, res.allow,
		    1);
	api_response_free(&res);
	return req.method == API_GET || body != NULL ? r : -1;
}

/* ---- sign-in (doc/web.md) ------------------------------------------ */

#define LOGIN_PATH	"/login"
#define LOGIN_LINK_PATH	"/login/"
#define LOGOUT_PATH	"/logout"
#define SESSION_PAGE_PATH "/session/"
#define CLAIM_PATH	"/claim/"

static const struct web_asset signin_page = {
	NULL, "signin.html", "text/html; charset=utf-8", CSP_DEFAULT
};

/* The session manager: no inline style, so the strict policy. */
static const struct web_asset manager_page = {
	NULL, "manager.html", "text/html; charset=utf-8", CSP_DEFAULT
};

static int
json_error(struct lws *wsi, unsigned int status, const char *error,
    const char *detail)
{
	json_t	*j = json_pack("{s:s, s:s}", "error", error, "detail", detail);
	char	*body = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	int	 r;

	json_decref(j);
	if (body == NULL)
		return -1;
	r = http_respond(wsi, status, "application/json", body, strlen(body),
	    NULL, NULL, 1);
	free(body);
	return r;
}

/*
 * Sign a user in: a new session, its two cookies, and a 303 to next.
 * body_json: also say so in a JSON body (for fetch()).
 */
static int
signin_start(struct server *srv, struct lws *wsi, const struct store_user *u,
    const char *ip, const char *next, const char *how)
{
	struct audit_who	 who = { u->id, u->name, ip };
	char			 tok[TOKEN_LEN + 1], csrf[SIGNIN_CSRF_LEN + 1];
	char			 c1[200], c2[200], *body;
	const char		*secure = lws_is_ssl(wsi) ? "; Secure" : "";
	const char		*hdrs[7];
	json_t			*j;
	int			 r;

	if (signin_session_new(srv, u->id, tok) != 0)
		return json_error(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR,
		    "internal", "cannot store the session");
	signin_csrf(srv, tok, csrf);
	snprintf(c1, sizeof c1, "%s=%s; HttpOnly; SameSite=Strict; Path=/; "
	    "Max-Age=%d%s", SIGNIN_COOKIE, tok, SIGNIN_SESSION_TTL, secure);
	snprintf(c2, sizeof c2, "%s=%s; SameSite=Strict; Path=/; "
	    "Max-Age=%d%s", SIGNIN_CSRF_COOKIE, csrf, SIGNIN_SESSION_TTL,
	    secure);
	sodium_memzero(tok, sizeof tok);
	audit_log(srv, &who, "web.signin", NULL, NULL, NULL, "method=%s", how);
	log_info("web sign-in of %s from %s (%s)", u->name, ip, how);
	j = json_pack("{s:b, s:s, s:s}", "ok", 1, "user", u->name, "next",
	    next);
	body = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	hdrs[0] = "location:";
	hdrs[1] = next;
	hdrs[2] = "set-cookie:";
	hdrs[3] = c1;
	hdrs[4] = "set-cookie:";
	hdrs[5] = c2;
	hdrs[6] = NULL;
	r = http_respond_hdrs(wsi, HTTP_STATUS_SEE_OTHER, "application/json",
	    body != NULL ? body : "{}", body != NULL ? strlen(body) : 2, hdrs,
	    CSP_DEFAULT, CACHE_NONE, 1);
	free(body);
	sodium_memzero(c1, sizeof c1);
	return r;
}

/* GET /login/CODE: use up a one-time link. */
static int
login_link(struct server *srv, struct lws *wsi, const char *code)
{
	struct store_user	 u;
	struct audit_who	 who = { 0, "guest", NULL };
	char			 ip[64], prefix[TOKEN_PREFIX_LEN + 1];
	int64_t			 uid;

	if (lws_get_peer_simple(wsi, ip, sizeof ip) == NULL)
		snprintf(ip, sizeof ip, "unknown");
	who.address = ip;
	if (ratelimit_blocked(srv, ip))
		return http_text(wsi, 429,
		    "too many failed attempts from your address; try again "
		    "in a minute\n");
	if (signin_link_use(srv, code, &uid) != 0 ||
	    store_user_get_id(srv->store, uid, &u) != 0) {
		ratelimit_failure(srv, ip);
		srv->stats.auth_failures++;
		token_prefix(code, prefix);
		audit_log(srv, &who, "web.signin_refused", NULL, NULL, NULL,
		    "method=link link=%s", prefix);
		return http_text(wsi, 410, "this sign-in link is unknown, "
		    "already used or expired; run \"ssh HOST weblogin\" for a "
		    "new one\n");
	}
	return signin_start(srv, wsi, &u, ip, "/", "link");
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode one form component in place: 0, or -1 if malformed. */
static int
form_decode(char *s)
{
	char	*o = s;
	int	 h, l;

	for (; *s != '\0'; s++) {
		if (*s == '+')
			*o++ = ' ';
		else if (*s == '%') {
			if ((h = hexval((unsigned char)s[1])) < 0 ||
			    (l = hexval((unsigned char)s[2])) < 0 ||
			    (h == 0 && l == 0))
				return -1;
			*o++ = (char)(h * 16 + l);
			s += 2;
		} else
			*o++ = *s;
	}
	*o = '\0';
	return 0;
}

/*
 * A sign-in form as application/x-www-form-urlencoded: the fields user,
 * password and next (others are ignored), each at most once.
 */
static int
form_parse(char *body, const char **user, const char **pw, const char **next)
{
	char		*pair, *save = NULL, *eq;
	const char	**slot;

	for (pair = strtok_r(body, "&", &save); pair != NULL;
	    pair = strtok_r(NULL, "&", &save)) {
		if ((eq = strchr(pair, '=')) == NULL)
			return -1;
		*eq++ = '\0';
		if (form_decode(pair) != 0 || form_decode(eq) != 0)
			return -1;
		if (strcmp(pair, "user") == 0)
			slot = user;
		else if (strcmp(pair, "password") == 0)
			slot = pw;
		else if (strcmp(pair, "next") == 0)
			slot = next;
		else
			continue;
		if (*slot != NULL)
			return -1;
		*slot = eq;
	}
	return 0;
}

/* POST /login: a user name and password. */
static int
login_post(struct server *srv, struct lws *wsi, struct buf *body)
{
	struct store_user	 u;
	struct audit_who	 who = { 0, "guest", NULL };
	char			 ip[64], type[128], *hash = NULL;
	const char		*user = NULL, *pw = NULL, *next = NULL;
	json_t			*j = NULL, *v;
	json_error_t		 jerr;
	size_t			 len = buf_used(body);
	int			 ok, r;

	if (lws_get_peer_simple(wsi, ip, sizeof ip) == NULL)
		snprintf(ip, sizeof ip, "unknown");
	who.address = ip;
	if (ratelimit_blocked(srv, ip))
		return json_error(wsi, 429,
		    "rate_limited", "too many failed attempts from your "
		    "address; try again in a minute");
	if (lws_hdr_copy(wsi, type, sizeof type,
	    WSI_TOKEN_HTTP_CONTENT_TYPE) <= 0)
		type[0] = '\0';
	/* NUL-terminate the body for the form parser. */
	if (buf_append(body, "", 1) != 0)
		return json_error(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR,
		    "internal", "out of memory");
	if (strncasecmp(type, "application/json", 16) == 0) {
		j = json_loadb(buf_ptr(body), len, JSON_REJECT_DUPLICATES,
		    &jerr);
		if (!json_is_object(j)) {
			r = json_error(wsi, HTTP_STATUS_BAD_REQUEST,
			    "bad_request", "the body must be a JSON object");
			goto out;
		}
		user = json_string_value(json_object_get(j, "user"));
		pw = json_string_value(json_object_get(j, "password"));
		if ((v = json_object_get(j, "next")) != NULL &&
		    (next = json_string_value(v)) == NULL) {
			r = json_error(wsi, HTTP_STATUS_BAD_REQUEST,
			    "bad_request", "next must be a string");
			goto out;
		}
	} else if (strncasecmp(type, "application/x-www-form-urlencoded",
	    33) == 0) {
		if (memchr(buf_ptr(body), '\0', len) != NULL ||
		    form_parse(body->data, &user, &pw, &next) != 0) {
			r = json_error(wsi, HTTP_STATUS_BAD_REQUEST,
			    "bad_request", "malformed form");
			goto out;
		}
	} else {
		r = json_error(wsi, HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE,
		    "unsupported_media_type", "send application/json or "
		    "application/x-www-form-urlencoded");
		goto out;
	}
	if (user == NULL || pw == NULL || user[0] == '\0' ||
	    strlen(user) > 32 || strlen(pw) > PASSWORD_MAX) {
		r = json_error(wsi, HTTP_STATUS_BAD_REQUEST, "bad_request",
		    "user and password are required");
		goto out;
	}
	if (next == NULL || next[0] == '\0')
		next = "/";
	if (!signin_next_valid(next)) {
		r = json_error(wsi, HTTP_STATUS_BAD_REQUEST, "bad_request",
		    "next must be a path on this site");
		goto out;
	}
	/* Argon2id blocks the loop for tens of milliseconds, as for
	 * share passwords; the rate limit bounds how often. */
	ok = store_user_get(srv->store, user, &u) == 0 &&
	    store_user_get_password(srv->store, u.id, &hash) == 0 &&
	    password_verify(hash, pw);
	free(hash);
	if (!ok) {
		ratelimit_failure(srv, ip);
		srv->stats.auth_failures++;
		audit_log(srv, &who, "web.signin_refused", NULL, NULL, NULL,
		    "method=password");
		log_warn("refused web sign-in from %s", ip);
		r = json_error(wsi, HTTP_STATUS_UNAUTHORIZED, "unauthorized",
		    "wrong user name or password");
		goto out;
	}
	r = signin_start(srv, wsi, &u, ip, next, "password");
out:
	json_decref(j);
	return r;
}

/* POST /logout: same origin, the CSRF header, then the session ends. */
static int
logout_post(struct server *srv, struct lws *wsi)
{
	static const char	 ok[] = "{\"ok\":true}";
	char			 tok[TOKEN_LEN + 1], csrf[SIGNIN_CSRF_LEN + 1];
	char			 want[SIGNIN_CSRF_LEN + 1], hdr[128];
	char			 c1[128], c2[128];
	const char		*hdrs[5];
	int			 n;

	if (!origin_same(wsi, 0))
		return json_error(wsi, HTTP_STATUS_FORBIDDEN, "forbidden",
		    "a same-origin Origin header is required");
	if (cookie_get(wsi, SIGNIN_COOKIE, tok, sizeof tok) != 0 ||
	    !token_format_valid(tok))
		return json_error(wsi, HTTP_STATUS_UNAUTHORIZED,
		    "unauthorized", "not signed in");
	signin_csrf(srv, tok, want);
	n = lws_hdr_custom_length(wsi, "x-tandem-csrf:", 14);
	if (n != SIGNIN_CSRF_LEN ||
	    lws_hdr_custom_copy(wsi, hdr, sizeof hdr, "x-tandem-csrf:",
	    14) != SIGNIN_CSRF_LEN ||
	    cookie_get(wsi, SIGNIN_CSRF_COOKIE, csrf, sizeof csrf) != 0 ||
	    sodium_memcmp(hdr, want, SIGNIN_CSRF_LEN) != 0 ||
	    sodium_memcmp(csrf, want, SIGNIN_CSRF_LEN) != 0) {
		sodium_memzero(tok, sizeof tok);
		return json_error(wsi, HTTP_STATUS_FORBIDDEN, "forbidden",
		    "the X-Tandem-CSRF header must match the tandem_csrf "
		    "cookie");
	}
	signin_session_end(srv, tok);
	sodium_memzero(tok, sizeof tok);
	snprintf(c1, sizeof c1, "%s=; HttpOnly; SameSite=Strict; Path=/; "
	    "Max-Age=0", SIGNIN_COOKIE);
	snprintf(c2, sizeof c2, "%s=; SameSite=Strict; Path=/; Max-Age=0",
	    SIGNIN_CSRF_COOKIE);
	hdrs[0] = "set-cookie:";
	hdrs[1] = c1;
	hdrs[2] = "set-cookie:";
	hdrs[3] = c2;
	hdrs[4] = NULL;
	return http_respond_hdrs(wsi, HTTP_STATUS_OK, "application/json", ok,
	    sizeof ok - 1, hdrs, CSP_DEFAULT, CACHE_NONE, 1);
}

/* A 303 to location (a path of ours). */
static int
http_redirect(struct lws *wsi, const char *location)
{
	const char	*hdrs[3] = { "location:", location, NULL };

	return http_respond_hdrs(wsi, HTTP_STATUS_SEE_OTHER,
	    "text/plain; charset=utf-8", "", 0, hdrs, CSP_DEFAULT, CACHE_NONE,
	    1);
}

/* To the sign-in page, and back to path afterwards. */
static int
redirect_signin(struct lws *wsi, const char *path)
{
	char	 loc[SIGNIN_NEXT_MAX + 32];

	if (!signin_next_valid(path))
		path = "/";
	snprintf(loc, sizeof loc, "%s?next=%s", LOGIN_PATH, path);
	return http_redirect(wsi, loc);
}

/* GET /: the session manager, for a signed-in browser. */
static int
manager(struct server *srv, struct lws *wsi)
{
	struct store_user	 u;

	if (web_user(srv, wsi, &u) != 0)
		return redirect_signin(wsi, "/");
	return http_static(srv, wsi, &manager_page);
}

/* GET /session/ID: the viewer page, for a signed-in browser. */
static int
session_page(struct server *srv, struct lws *wsi, const char *path)
{
	struct store_user	 u;

	if (!uuid_valid(path + strlen(SESSION_PAGE_PATH)))
		return http_text(wsi, HTTP_STATUS_NOT_FOUND, "not found\n");
	if (web_user(srv, wsi, &u) != 0)
		return redirect_signin(wsi, path);
	return http_static(srv, wsi, &web_assets[0]);
}

/*
 * GET /claim/CODE: a signed-in user claims the share (it becomes a
 * user share for them) and lands on the session; anyone else signs in
 * first and comes back.  Unknown codes count against the address.
 */
static int
claim_link(struct server *srv, struct lws *wsi, const char *path)
{
	struct store_share	 sh;
	struct store_user	 u;
	struct audit_who	 who;
	unsigned char		 hash[TOKEN_HASH_BYTES];
	const char		*code = path + strlen(CLAIM_PATH);
	char			 ip[64], loc[64];
	int			 found;

	if (web_user(srv, wsi, &u) != 0)
		return redirect_signin(wsi, path);
	if (lws_get_peer_simple(wsi, ip, sizeof ip) == NULL)
		snprintf(ip, sizeof ip, "unknown");
	if (ratelimit_blocked(srv, ip))
		return http_text(wsi, 429, "too many failed attempts from your "
		    "address; try again in a minute\n");
	found = token_format_valid(code);
	if (found) {
		token_hash(srv->dd.secret, code, hash);
		found = store_share_find_token(srv->store, hash, &sh) == 0;
		sodium_memzero(hash, sizeof hash);
	}
	if (!found) {
		ratelimit_failure(srv, ip);
		srv->stats.tokens_refused++;
		log_warn("refused an unknown claim link from %s", ip);
		return http_text(wsi, 410, "this claim link is unknown, already "
		    "used or expired: ask the owner for a fresh one\n");
	}
	who.id = u.id;
	who.name = u.name;
	who.address = ip;
	if (share_claim(srv, &sh, &who) != 0) {
		store_share_clear(&sh);
		return http_text(wsi, 410, "this claim link was already used "
		    "or has expired: ask the owner for a fresh one\n");
	}
	snprintf(loc, sizeof loc, "%s%s", SESSION_PAGE_PATH, sh.session_id);
	store_share_clear(&sh);
	return http_redirect(wsi, loc);
}

static size_t
body_max(int kind)
{
	return kind == POST_API ? API_BODY_MAX : BODY_MAX;
}

static int
body_too_large(struct lws *wsi, int kind)
{
	return json_error(wsi, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, "too_large",
	    kind == POST_API ? "the body is limited to 16 KiB" :
	    "the body is limited to 4 KiB");
}

/*
 * The body moves out of w first: completing the transaction (in the
 * response) lets lws free or reuse the connection's user space.
 */
static int
post_dispatch(struct server *srv, struct lws *wsi, struct wsconn *w)
{
	struct buf	 body = w->body;
	int		 kind = w->post, too_big = w->body_too_big, r;
	char		 path[sizeof w->api_path];

	memcpy(path, w->api_path, sizeof path);
	buf_init(&w->body);
	w->post = 0;
	w->body_too_big = 0;
	if (too_big)
		r = body_too_large(wsi, kind);
	else if (kind == POST_API)
		r = api_request(srv, wsi, path, &body);
	else if (kind == POST_LOGIN)
		r = login_post(srv, wsi, &body);
	else
		r = logout_post(srv, wsi);
	if (body.data != NULL)
		sodium_memzero(body.data, body.cap);
	buf_free(&body);
	return r;
}

/* A request with a body: wait for it, if it has one. */
static int
post_begin(struct server *srv, struct lws *wsi, struct wsconn *w, int kind)
{
	char			 cl[32], *end;
	unsigned long long	 n = 0;

	buf_free(&w->body);
	w->post = kind;
	w->body_too_big = 0;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
		if (lws_hdr_copy(wsi, cl, sizeof cl,
		    WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
			goto bad;
		errno = 0;
		n = strtoull(cl, &end, 10);
		if (errno != 0 || end == cl || *end != '\0')
			goto bad;
	} else if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING)
	    > 0) {
		(void)json_error(wsi, HTTP_STATUS_LENGTH_REQUIRED,
		    "length_required", "send a Content-Length");
		return -1;
	}
	if (n > BODY_DRAIN_MAX) {
		(void)body_too_large(wsi, kind);
		return -1;
	}
	if (n > body_max(kind))
		w->body_too_big = 1;
	if (n == 0)
		return post_dispatch(srv, wsi, w);
	return 0;
bad:
	(void)json_error(wsi, HTTP_STATUS_BAD_REQUEST, "bad_request",
	    "bad Content-Length");
	return -1;
}

static int
post_body(struct wsconn *w, const void *p, size_t len)
{
	if (w->body_too_big)
		return 0;
	if (buf_used(&w->body) + len > body_max(w->post)) {
		w->body_too_big = 1;
		buf_free(&w->body);
		return 0;
	}
	return buf_append(&w->body, p, len) == 0 ? 0 : -1;
}

/* /api/...: a GET is answered now, a change once its body is in. */
static int
api_begin(struct server *srv, struct lws *wsi, struct wsconn *w,
    const char *path)
{
	enum api_method	 m = api_method_of(wsi);

	if (m == API_GET || m == API_OTHER || w == NULL)
		return api_request(srv, wsi, path, NULL);
	if (strlen(path) >= sizeof w->api_path) {
		/* The body is not read: close after the answer. */
		(void)json_error(wsi, HTTP_STATUS_NOT_FOUND, "not_found",
		    "no such resource");
		return -1;
	}
	snprintf(w->api_path, sizeof w->api_path, "%s", path);
	return post_begin(srv, wsi, w, POST_API);
}

static int
http_request(struct server *srv, struct lws *wsi, struct wsconn *w,
    const char *path)
{
	const struct web_asset	*a;
	struct buf	 b = BUF_INIT;
	int		 r;

	if (strcmp(path, "/api") == 0 ||
	    strncmp(path, API_PATH, strlen(API_PATH)) == 0)
		return api_begin(srv, wsi, w, path);
	if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0 && w != NULL &&
	    (strcmp(path, LOGIN_PATH) == 0 || strcmp(path, LOGOUT_PATH) == 0))
		return post_begin(srv, wsi, w, strcmp(path, LOGIN_PATH) == 0 ?
		    POST_LOGIN : POST_LOGOUT);
	/* lws fills GET_URI for GET requests only. */
	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
		(void)http_respond(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED,
		    "text/plain; charset=utf-8", "method not allowed\n", 19,
		    "allow:", "GET", 1);
		/* A body may follow that nobody reads: do not keep alive. */
		return -1;
	}
	if (strcmp(path, "/healthz") == 0)
		return http_text(wsi, HTTP_STATUS_OK, "ok\n");
	if (strcmp(path, "/metrics") == 0) {
		if (metrics_render(srv, &b) != 0) {
			buf_free(&b);
			return http_text(wsi,
			    HTTP_STATUS_INTERNAL_SERVER_ERROR,
			    "out of memory\n");
		}
		r = http_respond(wsi, HTTP_STATUS_OK,
		    "text/plain; version=0.0.4; charset=utf-8", buf_ptr(&b),
		    buf_used(&b), NULL, NULL, 1);
		buf_free(&b);
		return r;
	}
	if (strcmp(path, "/") == 0)
		return manager(srv, wsi);
	if (strcmp(path, LOGIN_PATH) == 0)
		return http_static(srv, wsi, &signin_page);
	if (strncmp(path, LOGIN_LINK_PATH, strlen(LOGIN_LINK_PATH)) == 0)
		return login_link(srv, wsi, path + strlen(LOGIN_LINK_PATH));
	if (strncmp(path, SESSION_PAGE_PATH, strlen(SESSION_PAGE_PATH)) == 0)
		return session_page(srv, wsi, path);
	if (strncmp(path, CLAIM_PATH, strlen(CLAIM_PATH)) == 0)
		return claim_link(srv, wsi, path);
	if ((a = asset_find(path)) != NULL)
		return http_static(srv, wsi, a);
	return http_text(wsi, HTTP_STATUS_NOT_FOUND, "not found\n");
}

/*
 * Before a WebSocket upgrade: the path must name a share, and a page of
 * another origin must not open a viewer with the user's network
 * position (an Origin header, when there is one, must be this host).
 * 0 lets the upgrade go on, 1 means a response was sent.
 */
static int
upgrade_check(struct lws *wsi)
{
	char	 uri[256];

	if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 ||
	    (strncmp(uri, WS_PATH, strlen(WS_PATH)) != 0 &&
	    strncmp(uri, WS_SESSION_PATH, strlen(WS_SESSION_PATH)) != 0)) {
		http_respond(wsi, HTTP_STATUS_NOT_FOUND,
		    "text/plain; charset=utf-8", "not found\n", 10, NULL, NULL,
		    0);
		return 1;
	}
	if (origin_same(wsi, 1))
		return 0;
	log_warn("refused websocket from another origin");
	http_respond(wsi, HTTP_STATUS_FORBIDDEN, "text/plain; charset=utf-8",
	    "forbidden origin\n", 17, NULL, NULL, 0);
	return 1;
}

/* ---- WebSocket viewer: sending -------------------------------------- */

static void
ws_text(struct wsconn *w, const char *s)
{
	size_t		 len = strlen(s);
	uint32_t	 n = (uint32_t)len;

	/* Our messages are short; a long one would overrun the frame. */
	if (len > WS_FRAME_MAX || buf_append(&w->texts, &n, sizeof n) != 0 ||
	    buf_append(&w->texts, s, n) != 0) {
		log_warn("websocket %s: out of memory", w->ip);
		w->closing = 1;
		w->close_code = LWS_CLOSE_STATUS_UNEXPECTED_CONDITION;
	}
	lws_callback_on_writable(w->wsi);
}

static void
ws_json(struct wsconn *w, json_t *j)
{
	char	*s;

	if (j == NULL || (s = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		w->closing = 1;
		w->close_code = LWS_CLOSE_STATUS_UNEXPECTED_CONDITION;
		lws_callback_on_writable(w->wsi);
		return;
	}
	ws_text(w, s);
	free(s);
	json_decref(j);
}

/* Say why in a closed message, then close with code. */
static void
ws_close(struct wsconn *w, int code, const char *why)
{
	if (w->closing)
		return;
	ws_json(w, json_pack("{s:s, s:s}", "type", "closed", "reason", why));
	w->closing = 1;
	w->close_code = code;
	snprintf(w->close_reason, sizeof w->close_reason, "%s", why);
	lws_callback_on_writable(w->wsi);
}

/*
 * A frame's chunk goes out from the shared memory itself: lws writes the
 * WebSocket header into the FRAME_PRE bytes in front of it.
 */
_Static_assert(LWS_PRE <= FRAME_PRE, "a chunk must have room for LWS_PRE");

static int
ws_writeable(struct wsconn *w)
{
	static unsigned char	 frame[LWS_PRE + WS_FRAME_MAX];
	struct frameq		*q = &w->client.queue;
	struct chunk		*k;
	uint32_t		 n;
	size_t			 off, len;
	uint64_t		 t0;

	if (buf_used(&w->texts) >= sizeof n) {
		memcpy(&n, buf_ptr(&w->texts), sizeof n);
		memcpy(frame + LWS_PRE, buf_ptr(&w->texts) + sizeof n, n);
		buf_consume(&w->texts, sizeof n + n);
		if (lws_write(w->wsi, frame + LWS_PRE, n, LWS_WRITE_TEXT) <
		    (int)n)
			return -1;
	} else if (!w->closing && (k = frameq_first(q, &off)) != NULL) {
		/* lws sends a frame whole (it keeps what the socket does not
		 * take), so off is always 0. */
		len = k->len - off;
		t0 = uv_hrtime();
		if (lws_write(w->wsi, chunk_data(k) + off, len,
		    LWS_WRITE_BINARY) < (int)len)
			return -1;
		if (w->client.session != NULL)
			session_fanout_cost(w->client.session,
			    uv_hrtime() - t0);
		frameq_consume(q, len);		/* may free k */
		w->srv->stats.viewer_bytes[1] += len;
		if (w->client.session != NULL)
			session_client_drained(w->client.session, &w->client);
	} else if (w->closing && !w->close_sent) {
		/*
		 * lws drops a socket closed from here or by a timeout without
		 * a close frame, so send it ourselves; the next callback
		 * comes once it is on the wire, and hangs up.
		 */
		n = (uint32_t)strlen(w->close_reason);
		frame[LWS_PRE] = (unsigned char)(w->close_code >> 8);
		frame[LWS_PRE + 1] = (unsigned char)(w->close_code & 0xff);
		memcpy(frame + LWS_PRE + 2, w->close_reason, n);
		w->close_sent = 1;
		if (lws_write(w->wsi, frame + LWS_PRE, n + 2, WS_WRITE_CLOSE) <
		    0)
			return -1;
	} else if (w->closing)
		return -1;
	if (buf_used(&w->texts) > 0 || (!w->closing && q->bytes > 0) ||
	    w->closing)
		lws_callback_on_writable(w->wsi);
	else if (w->client.stalled && w->client.session != NULL) {
		/* Its queue is empty: once lws and the socket have sent
		 * theirs, it is resynchronised. */
		if (lws_send_pipe_choked(w->wsi))
			lws_callback_on_writable(w->wsi);
		else
			session_client_drained(w->client.session, &w->client);
	}
	return 0;
}

/* ---- WebSocket viewer: the client_ops of the session ----------------- */

/* A viewer is sent frames only (kick); nothing else writes to it. */
static int
ws_client_write(void *ctx, const char *p, size_t n)
{
	return -1;
}

static size_t
ws_client_queued(void *ctx)
{
	struct wsconn	*w = ctx;

	return w->client.queue.bytes;
}

/* Messages of the session's: its size, who watches it. */
static void
ws_client_event(void *ctx, int what)
{
	struct wsconn	*w = ctx;
	struct session	*s = w->client.session;
	struct client	*c;
	json_t		*names;
	int		 n = 0;

	if (s == NULL || w->closing)
		return;
	if (what == CLIENT_RESIZED) {
		ws_json(w, json_pack("{s:s, s:i, s:i}", "type", "resize",
		    "cols", s->cols, "rows", s->rows));
		return;
	}
	if ((names = json_array()) == NULL)
		return;
	TAILQ_FOREACH(c, &s->viewers, entry) {
		if (n++ == WS_ROSTER_NAMES)
			break;
		json_array_append_new(names, json_string(c->user[0] ?
		    c->user : "guest"));
	}
	ws_json(w, json_pack("{s:s, s:i, s:o}", "type", "viewers", "count",
	    s->nviewers, "names", names));
}

static void
ws_client_kick(void *ctx)
{
	struct wsconn	*w = ctx;

	if (!w->closing)
		lws_callback_on_writable(w->wsi);
}

static void
ws_client_ended(void *ctx, int wstatus)
{
	ws_close(ctx, LWS_CLOSE_STATUS_NORMAL, "the session ended");
}

static void
ws_client_detached(void *ctx, const char *why)
{
	struct wsconn	*w = ctx;

	ws_close(w, LWS_CLOSE_STATUS_NORMAL, why);
	/* A viewer that stopped reading would never take the close frame:
	 * hang up now. */
	if (w->client.stalled)
		lws_set_timeout(w->wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
}

static const struct client_ops ws_client_ops = {
	.write = ws_client_write,
	.queued = ws_client_queued,
	.kick = ws_client_kick,
	.event = ws_client_event,
	.ended = ws_client_ended,
	.detached = ws_client_detached,
};

/* ---- WebSocket viewer: joining ---------------------------------------- */

static void
ws_refuse(struct wsconn *w, const struct store_share *sh, const char *token,
    const char *why, int token_failure)
{
	struct audit_who	 who = { w->client.user_id, w->client.user[0] ?
	    w->client.user : "guest", w->ip };
	char			 prefix[TOKEN_PREFIX_LEN + 1];

	token_prefix(token, prefix);
	if (token_failure) {
		ratelimit_failure(w->srv, w->ip);
		w->srv->stats.auth_failures++;
		w->srv->stats.tokens_refused++;
	}
	audit_log(w->srv, &who, "viewer.refused", sh ? sh->session_id : NULL,
	    sh ? sh->id : NULL, NULL, "token=%s reason=%s transport=websocket",
	    prefix, why);
	log_warn("refused websocket join with token %s from %s: %s", prefix,
	    w->ip, why);
	ws_close(w, LWS_CLOSE_STATUS_POLICY_VIOLATION, why);
}

/*
 * Make w a viewer of s: through the share share_id (NULL for the owner
 * or an admin, whom no revocation concerns).  The status message goes
 * out first: text messages precede frames.
 */
static void
ws_attach(struct wsconn *w, struct session *s, const char *share_id,
    int read_write, const char *role)
{
	struct audit_who	 who = { w->client.user_id, w->client.user[0] ?
	    w->client.user : "guest", w->ip };
	const char		*perm = read_write ? "read_write" : "read_only";
	json_t			*status;

	w->client.ops = &ws_client_ops;
	w->client.ctx = w;
	w->client.read_write = read_write;
	w->client.transport = "websocket";
	/* Until the browser says, assume it shows the whole screen. */
	w->client.cols = s->cols;
	w->client.rows = s->rows;
	snprintf(w->client.address, sizeof w->client.address, "%s", w->ip);
	snprintf(w->client.share_id, sizeof w->client.share_id, "%s",
	    share_id != NULL ? share_id : "");
	status = json_pack("{s:s, s:s, s:s, s:o, s:i, s:i, s:s}", "type",
	    "status", "owner", s->owner, "permission", perm, "share_id",
	    share_id != NULL ? json_string(share_id) : json_null(), "cols",
	    s->cols, "rows", s->rows, "role", role);
	if (status != NULL && w->client.user[0] != '\0')
		json_object_set_new(status, "user",
		    json_string(w->client.user));
	ws_json(w, status);
	if (session_viewer_add(s, &w->client) != 0) {
		ws_close(w, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
		    "cannot join the session");
		return;
	}
	w->joined = 1;
	audit_log(w->srv, &who, strcmp(role, "admin") == 0 ? "admin.attach" :
	    "viewer.join", s->id, share_id, NULL,
	    "permission=%s transport=websocket role=%s", perm, role);
}

/*
 * /ws/s/TOKEN: join the link share the token names, as the user the
 * tandem_session cookie signed in, or as an anonymous viewer.  A share
 * that requires a known user admits a signed-in one.
 */
static void
ws_join_token(struct wsconn *w, const char *token, int signed_in,
    const struct store_user *u)
{
	struct server		*srv = w->srv;
	struct store_share	 sh;
	struct session		*s = NULL;
	unsigned char		 hash[TOKEN_HASH_BYTES];
	const char		*why;
	int			 require_auth;

	if (ratelimit_blocked(srv, w->ip)) {
		ws_refuse(w, NULL, token, "too many failed attempts from your "
		    "address; try again in a minute", 1);
		return;
	}
	if (!token_format_valid(token)) {
		ws_refuse(w, NULL, token, "unknown share token", 1);
		return;
	}
	token_hash(srv->dd.secret, token, hash);
	if (store_share_find_token(srv->store, hash, &sh) != 0) {
		ws_refuse(w, NULL, token, "unknown share token", 1);
		return;
	}
	/* The anonymous rule is ours; share_refusal's wording speaks of
	 * SSH keys. */
	require_auth = sh.require_auth && !signed_in;
	if (!signed_in)
		sh.require_auth = 0;
	why = share_refusal(srv, &sh, signed_in ? u->id : 0, &s);
	if (why != NULL)
		ws_refuse(w, &sh, token, why, sh.state != SHARE_ACTIVE ||
		    sh.expires_at <= time_now() || s == NULL);
	else if (require_auth || (sh.kind != SHARE_LINK && !signed_in))
		ws_refuse(w, &sh, token, "this share needs a signed-in user",
		    0);
	else if (sh.kind != SHARE_LINK)
		ws_refuse(w, &sh, token, "a claim link is opened at /claim/",
		    0);
	else if (sh.password_hash != NULL || sh.authorized_keys != NULL)
		ws_refuse(w, &sh, token, "this share needs a password or an "
		    "SSH key; join it with ssh", 0);
	else
		ws_attach(w, s, sh.id, sh.perm == SHARE_READ_WRITE, "viewer");
	store_share_clear(&sh);
}

/*
 * The caller's active user share of session id, if any: 0 and *sh, or
 * -1.
 */
static int
user_share_of(struct server *srv, int64_t uid, const char *id,
    struct store_share *sh)
{
	struct store_share	*list = NULL;
	size_t			 n = 0, i;
	int			 r = -1;

	if (store_shares_for_user(srv->store, uid, &list, &n) != 0)
		return -1;
	for (i = 0; r != 0 && i < n; i++) {
		if (strcmp(list[i].session_id, id) == 0)
			r = store_share_get(srv->store, list[i].id, sh);
	}
	store_share_list_free(list, n);
	return r;
}

/*
 * /ws/session/ID: a signed-in user opens a session by its id: its
 * owner (read_write: it is their own shell), a user it is shared with
 * (with the share's permission, ended by the share's revocation), or
 * an admin (read_only, audited as admin.attach).
 */
static void
ws_join_session(struct wsconn *w, const char *id, int signed_in,
    const struct store_user *u)
{
	struct server		*srv = w->srv;
	struct store_share	 sh;
	struct session		*s = NULL;
	const char		*why;

	if (!signed_in) {
		ws_refuse(w, NULL, "", "sign in to open a session", 0);
		return;
	}
	if (!uuid_valid(id) || (s = server_session_find(srv, id)) == NULL ||
	    s->ended) {
		ws_close(w, LWS_CLOSE_STATUS_POLICY_VIOLATION,
		    "the session has ended");
		return;
	}
	if (s->owner_id == u->id) {
		ws_attach(w, s, NULL, 1, "owner");
		return;
	}
	if (user_share_of(srv, u->id, id, &sh) == 0) {
		if ((why = share_refusal(srv, &sh, u->id, &s)) != NULL)
			ws_refuse(w, &sh, "", why, 0);
		else
			ws_attach(w, s, sh.id, sh.perm == SHARE_READ_WRITE,
			    "viewer");
		store_share_clear(&sh);
		return;
	}
	if (u->admin) {
		ws_attach(w, s, NULL, 0, "admin");
		return;
	}
	ws_refuse(w, NULL, "", "this session is not shared with you", 0);
}

static void
ws_join(struct wsconn *w)
{
	struct store_user	 u;
	char			 uri[256];
	int			 signed_in;

	if (lws_hdr_copy(w->wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0)
		uri[0] = '\0';
	signed_in = web_user(w->srv, w->wsi, &u) == 0;
	if (signed_in) {
		w->client.user_id = u.id;
		snprintf(w->client.user, sizeof w->client.user, "%s", u.name);
	}
	if (strncmp(uri, WS_SESSION_PATH, strlen(WS_SESSION_PATH)) == 0)
		ws_join_session(w, uri + strlen(WS_SESSION_PATH), signed_in,
		    &u);
	else
		ws_join_token(w, strncmp(uri, WS_PATH, strlen(WS_PATH)) == 0 ?
		    uri + strlen(WS_PATH) : "", signed_in, &u);
}

/* ---- WebSocket viewer: receiving -------------------------------------- */

static int
ws_fail(struct wsconn *w, int code, const char *why)
{
	log_info("websocket viewer %s: closing: %s", w->ip, why);
	lws_close_reason(w->wsi, code, (unsigned char *)why, strlen(why));
	return -1;
}

static int
ws_message(struct wsconn *w, const char *p, size_t len)
{
	json_t		*j, *jc, *jr;
	json_error_t	 err;
	const char	*type;
	int		 r = 0;

	if ((j = json_loadb(p, len, JSON_REJECT_DUPLICATES, &err)) == NULL)
		return ws_fail(w, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
		    "bad JSON");
	if (!json_is_object(j) ||
	    (type = json_string_value(json_object_get(j, "type"))) == NULL) {
		r = ws_fail(w, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
		    "a message needs a string \"type\"");
	} else if (strcmp(type, "ping") == 0) {
		ws_json(w, json_pack("{s:s}", "type", "pong"));
	} else if (strcmp(type, "resize") == 0) {
		jc = json_object_get(j, "cols");
		jr = json_object_get(j, "rows");
		if (!json_is_integer(jc) || !json_is_integer(jr) ||
		    json_integer_value(jc) < 1 ||
		    json_integer_value(jc) > 1000 ||
		    json_integer_value(jr) < 1 ||
		    json_integer_value(jr) > 400)
			r = ws_fail(w, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
			    "resize needs cols 1..1000 and rows 1..400");
		else if (w->client.session != NULL)
			session_viewer_resize(w->client.session, &w->client,
			    (int)json_integer_value(jr),
			    (int)json_integer_value(jc));
	} else
		r = ws_fail(w, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
		    "unknown message type");
	json_decref(j);
	return r;
}

static int
ws_receive(struct wsconn *w, const char *p, size_t len)
{
	size_t	 left = lws_remaining_packet_payload(w->wsi);
	int	 done;

	if (!w->rx_active) {
		w->rx_active = 1;
		w->rx_len = 0;
		w->rx_binary = lws_frame_is_binary(w->wsi);
		buf_reset(&w->rx);
	}
	/* The frame's announced length counts before any of it is used. */
	w->rx_len += len;
	if (w->rx_len + left > WS_MSG_MAX)
		return ws_fail(w, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
		    "message too big");
	done = lws_is_final_fragment(w->wsi) && left == 0;
	if (done)
		w->rx_active = 0;
	/* A viewer being closed has nothing more to say. */
	if (w->closing || !w->joined)
		return 0;
	if (w->rx_binary) {
		if (w->client.session != NULL && len > 0)
			session_viewer_input(w->client.session, &w->client, p,
			    len);
		return 0;
	}
	if (buf_append(&w->rx, p, len) != 0)
		return ws_fail(w, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
		    "out of memory");
	if (!done)
		return 0;
	return ws_message(w, buf_ptr(&w->rx), buf_used(&w->rx));
}

static void
ws_closed(struct wsconn *w)
{
	if (w->client.session != NULL)
		session_viewer_remove(w->client.session, &w->client);
	buf_free(&w->texts);
	buf_free(&w->rx);
}

/* ---- the lws callback -------------------------------------------------- */

static int
web_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct lws_vhost	*vh = lws_get_vhost(wsi);
	struct web		*web;
	struct wsconn		*w = user;

	web = vh != NULL ? lws_vhost_user(vh) : NULL;
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (web == NULL)
			return -1;
		return http_request(web->srv, wsi, w, in != NULL ? in : "");
	case LWS_CALLBACK_HTTP_BODY:
		if (web == NULL || w == NULL || w->post == 0)
			return -1;
		return post_body(w, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (web == NULL || w == NULL || w->post == 0)
			return -1;
		return post_dispatch(web->srv, wsi, w);
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (w != NULL && w->wsi == NULL)
			buf_free(&w->body);
		break;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		if (in == NULL || strcmp(in, "websocket") != 0) {
			http_text(wsi, HTTP_STATUS_BAD_REQUEST,
			    "bad upgrade\n");
			return -1;
		}
		return upgrade_check(wsi);
	case LWS_CALLBACK_ESTABLISHED:
		if (web == NULL || w == NULL)
			return -1;
		memset(w, 0, sizeof *w);
		w->srv = web->srv;
		w->wsi = wsi;
		if (lws_get_peer_simple(wsi, w->ip, sizeof w->ip) == NULL)
			snprintf(w->ip, sizeof w->ip, "unknown");
		web->srv->stats.connections++;
		ws_join(w);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (w == NULL || w->wsi == NULL)
			return -1;
		return ws_writeable(w);
	case LWS_CALLBACK_RECEIVE:
		if (w == NULL || w->wsi == NULL)
			return -1;
		return ws_receive(w, in, len);
	case LWS_CALLBACK_CLOSED:
		if (w != NULL && w->wsi != NULL)
			ws_closed(w);
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols web_protocols[] = {
	{ "http", web_callback, sizeof(struct wsconn), WS_RX_CHUNK, 0, NULL,
	    0 },
	{ WS_PROTOCOL, web_callback, sizeof(struct wsconn), WS_RX_CHUNK, 0,
	    NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

/*
 * TLS: both files or neither, readable now (lws's own message would only
 * say that the vhost failed).
 */
static int
tls_files_check(const struct config *cfg, char *err, size_t errlen)
{
	const char	*files[2] = { cfg->tls_cert, cfg->tls_key };
	const char	*names[2] = { "tls_cert", "tls_key" };
	int		 i, fd;

	if ((files[0] == NULL) != (files[1] == NULL)) {
		snprintf(err, errlen, "%s is set without %s: TLS needs both "
		    "(--tls-cert FILE --tls-key FILE)", files[0] ? names[0] :
		    names[1], files[0] ? names[1] : names[0]);
		return -1;
	}
	for (i = 0; files[0] != NULL && i < 2; i++) {
		if ((fd = open(files[i], O_RDONLY | O_CLOEXEC)) == -1) {
			snprintf(err, errlen, "%s %s: %s", names[i], files[i],
			    strerror(errno));
			return -1;
		}
		close(fd);
	}
	return 0;
}

int
web_start(struct server *srv, char *err, size_t errlen)
{
	struct lws_context_creation_info	 info;
	struct web				*web;
	void					*loops[1];
	char					 host[64], iface[64];
	int					 port;

	if (config_parse_listen(srv->cfg->http_listen, host, sizeof host,
	    &port) != 0) {
		snprintf(err, errlen, "bad listen address '%s'",
		    srv->cfg->http_listen);
		return -1;
	}
	if (tls_files_check(srv->cfg, err, errlen) != 0)
		return -1;
	/* lws takes an interface name or a numeric address. */
	snprintf(iface, sizeof iface, "%s",
	    strcmp(host, "localhost") == 0 ? "127.0.0.1" : host);
	if ((web = calloc(1, sizeof *web)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	web->srv = srv;
	lws_set_log_level(LLL_ERR, web_lws_log);

	memset(&info, 0, sizeof info);
	loops[0] = srv->loop;
	info.options = LWS_SERVER_OPTION_LIBUV |
	    LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	if (srv->cfg->tls_cert != NULL)
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.foreign_loops = loops;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.gid = -1;
	info.uid = -1;
	if ((web->ctx = lws_create_context(&info)) == NULL) {
		snprintf(err, errlen, "cannot start libwebsockets (is "
		    "libwebsockets-evlib-uv installed?)");
		free(web);
		return -1;
	}

	memset(&info, 0, sizeof info);
	info.vhost_name = "tandem";
	info.port = port;
	info.iface = iface;
	info.protocols = web_protocols;
	info.headers = web_headers;
	info.user = web;
	info.gid = -1;
	info.uid = -1;
	if (strchr(iface, ':') == NULL)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	if (srv->cfg->tls_cert != NULL) {
		/* lws decides a vhost's TLS by this flag on the vhost too. */
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = srv->cfg->tls_cert;
		info.ssl_private_key_filepath = srv->cfg->tls_key;
	}
	if ((web->vh = lws_create_vhost(web->ctx, &info)) == NULL) {
		if (srv->cfg->tls_cert != NULL)
			snprintf(err, errlen, "cannot listen on %s with TLS: "
			    "is %s a PEM certificate and %s its PEM private "
			    "key?", srv->cfg->http_listen, srv->cfg->tls_cert,
			    srv->cfg->tls_key);
		else
			snprintf(err, errlen, "cannot listen on %s",
			    srv->cfg->http_listen);
		lws_context_destroy(web->ctx);
		free(web);
		return -1;
	}
	srv->web = web;
	snprintf(srv->http_addr, sizeof srv->http_addr, "%s%s%s:%d",
	    strchr(iface, ':') ? "[" : "", iface,
	    strchr(iface, ':') ? "]" : "", lws_get_vhost_listen_port(web->vh));
	log_info("listening for %s on %s", srv->cfg->tls_cert ? "https" :
	    "http", srv->http_addr);
	return 0;
}

/*
 * Close every connection and the listener.  The context finishes closing
 * its handles on the loop, which the caller still runs.
 */
void
web_stop(struct server *srv)
{
	struct web	*web = srv->web;

	if (web == NULL || web->stopped)
		return;
	web->stopped = 1;
	lws_context_destroy(web->ctx);
}

/*
 * After the loop has drained: on a foreign loop lws frees the context
 * only on this second lws_context_destroy().
 */
void
web_free(struct server *srv)
{
	struct web	*web = srv->web;

	if (web == NULL)
		return;
	srv->web = NULL;
	if (!web->stopped)
		lws_context_destroy(web->ctx);
	lws_context_destroy(web->ctx);
	free(web);
}
