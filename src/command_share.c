/*
 * command_share: the sharing commands (share, shares, revoke, extend,
 * relabel, viewers, handoff, audit).
 *
 * Only a session's owner, or an admin, manages its shares; a viewer
 * cannot re-share or end a session.  Each command checks that first,
 * then lets share.c do the work, so that the rules live in one place.
 * Through the tandem client (ctx->scope) a command may touch only the
 * client's own session.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "audit.h"
#include "command_impl.h"
#include "config.h"
#include "keyfile.h"
#include "log.h"
#include "prompt.h"
#include "secrets.h"
#include "server.h"
#include "session.h"
#include "share.h"
#include "signin.h"
#include "store.h"
#include "util.h"


static void	 cmd_share(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_shares(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_revoke(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_extend(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_relabel(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_viewers(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_handoff(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_audit(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_api_token(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_passwd(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_weblogin(struct cmd_ctx *, const struct cmdline_parsed *);

enum {
	SH_RO, SH_RW, SH_USER, SH_CLAIM, SH_EXPIRES, SH_MAXV, SH_PASSWORD,
	SH_LABEL, SH_NOAUTH, SH_KEYS, SH_JSON,
};
static const struct cmdline_opt share_opts[] = {
	[SH_RO] = { "read-only", 'r', 0 },
	[SH_RW] = { "read-write", 'w', 0 },
	[SH_USER] = { "user", 'u', 1 },
	[SH_CLAIM] = { "claim", 'c', 0 },
	[SH_EXPIRES] = { "expires", 'e', 1 },
	[SH_MAXV] = { "max-viewers", 'm', 1 },
	[SH_PASSWORD] = { "password", 'p', 0 },
	[SH_LABEL] = { "label", 'l', 1 },
	[SH_NOAUTH] = { "no-auth", 0, 0 },
	[SH_KEYS] = { "authorized-keys", 'k', 1 },
	[SH_JSON] = { "json", 'j', 0 },
};
enum { LIST_JSON, LIST_ALL };
static const struct cmdline_opt list_opts[] = {
	[LIST_JSON] = { "json", 'j', 0 },
	[LIST_ALL] = { "all", 'a', 0 },
};
enum { AU_SESSION, AU_SINCE, AU_JSON };
static const struct cmdline_opt audit_opts[] = {
	[AU_SESSION] = { "session", 's', 1 },
	[AU_SINCE] = { "since", 0, 1 },
	[AU_JSON] = { "json", 'j', 0 },
};
enum { AT_LABEL, AT_JSON };
static const struct cmdline_opt api_token_opts[] = {
	[AT_LABEL] = { "label", 'l', 1 },
	[AT_JSON] = { "json", 'j', 0 },
};

enum { PW_GENERATE };
static const struct cmdline_opt passwd_opts[] = {
	[PW_GENERATE] = { "generate", 'g', 0 },
};

#define OPTS(o)	(o), sizeof (o) / sizeof (o)[0]
const struct cmd_entry share_cmds[] = {
	{ "share", "SESSION [--read-only|--read-write] [--user NAME|--claim] "
	    "[--expires D] [--max-viewers N] [--password] [--label TEXT] "
	    "[--no-auth] [--authorized-keys FILE] [--json]",
	    "share a session: prints the token once and the ssh command",
	    OPTS(share_opts), 1, 1, 1, cmd_share },
	{ "shares", "SESSION [--all] [--json]",
	    "list a session's shares and their viewers",
	    OPTS(list_opts), 1, 1, 1, cmd_shares },
	{ "revoke", "SHARE", "end a share and disconnect its viewers",
	    NULL, 0, 1, 1, 0, cmd_revoke },
	{ "extend", "SHARE D", "make a share expire D from now (45s ... 1y)",
	    NULL, 0, 2, 2, 0, cmd_extend },
	{ "relabel", "SHARE TEXT", "change a share's label",
	    NULL, 0, 2, 2, 0, cmd_relabel },
	{ "viewers", "SESSION [--json]", "who is watching a session",
	    OPTS(list_opts), 1, 1, 1, cmd_viewers },
	{ "handoff", "SESSION USER", "give a session to another user",
	    NULL, 0, 2, 2, 1, cmd_handoff },
	{ "audit", "[--session ID] [--since T] [--json]",
	    "the audit trail of your sessions (all of them for an admin)",
	    OPTS(audit_opts), 0, 0, 0, cmd_audit },
	{ "api-token", "create [--label TEXT] [--json] | list [--json] | "
	    "revoke ID", "bearer tokens for the HTTP API (doc/api.md); a new "
	    "token is shown once", OPTS(api_token_opts), 1, 2, 0,
	    cmd_api_token },
	{ "passwd", "[--generate]", "set your password for signing in on the "
	    "web: asked twice (ssh -t), or a random one shown once", OPTS(passwd_opts), 0, 0, 0,
	    cmd_passwd },
	{ "weblogin", "", "print a one-time link that signs this browser in "
	    "(5 minutes)", NULL, 0, 0, 0, 0, cmd_weblogin },
};
const size_t share_ncmds = sizeof share_cmds / sizeof share_cmds[0];

static void
who_of(const struct cmd_ctx *ctx, struct audit_who *who)
{
	who->id = ctx->user_id;
	who->name = ctx->user;
	who->address = ctx->address ? ctx->address : "";
}

static int
may_manage(struct cmd_ctx *ctx, int64_t owner_id)
{
	if (owner_id == ctx->user_id || ctx->admin)
		return 1;
	cmd_fail(ctx, 1, "only the session's owner may do that");
	return 0;
}

static int
expiry_parse(struct cmd_ctx *ctx, const char *s, int64_t *out)
{
	int64_t	 max = ctx->srv->cfg->share_max_expiry;
	char	 m[32];

	if (duration_parse(s, out) != 0) {
		cmd_fail(ctx, EXIT_USAGE, "bad expiry '%s': use a number and "
		    "s, m, h, d or y (45s, 30m, 1h, 4h, 24h, 30d, 1y)", s);
		return -1;
	}
	if (*out > max) {
		duration_format(max, m, sizeof m);
		cmd_fail(ctx, EXIT_USAGE, "expiry '%s' is longer than the "
		    "maximum (%s)", s, m);
		return -1;
	}
	return 0;
}

/* The host and port a viewer types: the listen address, or this host's
 * name when tandemd listens on every address. */
static void
ssh_target(struct server *srv, char *host, size_t hostlen, char *port,
    size_t portlen)
{
	const char	*a = srv->listen_addr, *colon = strrchr(a, ':');
	size_t		 n = colon ? (size_t)(colon - a) : strlen(a);

	snprintf(port, portlen, "%s", colon ? colon + 1 : "22");
	snprintf(host, hostlen, "%.*s", (int)n, a);
	if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "[::]") == 0)
		gethostname(host, hostlen);
}

/*
 * The base of the browser URLs: public_url, or http:// and the address
 * the HTTP listener is bound to; "" when there is no HTTP listener.
 */
static void
web_base(struct server *srv, char *out, size_t outlen)
{
	const char	*scheme = srv->cfg->tls_cert != NULL ? "https" : "http";
	char		 host[256];

	if (srv->cfg->public_url != NULL && srv->cfg->public_url[0] != '\0') {
		snprintf(out, outlen, "%s", srv->cfg->public_url);
		return;
	}
	if (srv->http_addr[0] == '\0') {
		out[0] = '\0';
		return;
	}
	if (strncmp(srv->http_addr, "0.0.0.0:", 8) == 0 ||
	    strncmp(srv->http_addr, "[::]:", 5) == 0) {
		if (gethostname(host, sizeof host) != 0)
			snprintf(host, sizeof host, "localhost");
		host[sizeof host - 1] = '\0';
		snprintf(out, outlen, "%s://%s%s", scheme, host,
		    strrchr(srv->http_addr, ':'));
		return;
	}
	snprintf(out, outlen, "%s://%s", scheme, srv->http_addr);
}

/*
 * Read an authorized_keys file on the server (a relative path is taken
 * from tandemd's working folder) into the "TYPE BLOB" lines a share keeps.
 */
static char *
read_authorized_keys(struct cmd_ctx *ctx, const char *path)
{
	struct store_key	*keys;
	struct buf		 out = BUF_INIT;
	char			 err[512], *text;
	size_t			 n, i;

	if (keyfile_load(path, &keys, &n, err, sizeof err) != 0) {
		cmd_fail(ctx, 1, "%s", err);
		return NULL;
	}
	for (i = 0; i < n; i++)
		buf_printf(&out, "%s %s\n", keys[i].type, keys[i].blob);
	keyfile_free(keys, n);
	text = buf_cstr(&out) ? strdup(buf_cstr(&out)) : NULL;
	buf_free(&out);
	return text;
}

/* A password for a share made over ssh, where nothing can be typed:
 * 12 letters and digits (about 62 bits), printed once. */
static void
password_generate(char out[13])
{
	static const char abc[] = "abcdefghjkmnpqrstuvwxyz23456789";
	size_t	 i;

	for (i = 0; i < 12; i++)
		out[i] = abc[randombytes_uniform(sizeof abc - 1)];
	out[12] = '\0';
}

static int
share_opts_read(struct cmd_ctx *ctx, const struct cmdline_parsed *pa,
    struct share_opts *o)
{
	const char	*v;
	char		*end;
	long		 n;

	memset(o, 0, sizeof *o);
	o->kind = SHARE_LINK;
	o->perm = SHARE_READ_ONLY;
	o->expires_in = SHARE_DEFAULT_EXPIRY;
	if (o->expires_in > ctx->srv->cfg->share_max_expiry)
		o->expires_in = ctx->srv->cfg->share_max_expiry;
	o->require_auth = 1;
	if (pa->present[SH_RO] && pa->present[SH_RW]) {
		cmd_fail(ctx, EXIT_USAGE, "--read-only and --read-write "
		    "exclude each other");
		return -1;
	}
	if (pa->present[SH_RW])
		o->perm = SHARE_READ_WRITE;
	if (pa->present[SH_USER] && pa->present[SH_CLAIM]) {
		cmd_fail(ctx, EXIT_USAGE, "--user and --claim exclude each "
		    "other");
		return -1;
	}
	if (pa->present[SH_USER]) {
		if (!user_name_valid(pa->value[SH_USER])) {
			cmd_fail(ctx, EXIT_USAGE, "'%s' is not a user name",
			    pa->value[SH_USER]);
			return -1;
		}
		o->kind = SHARE_USER;
		o->user = pa->value[SH_USER];
	}
	if (pa->present[SH_CLAIM])
		o->kind = SHARE_CLAIM;
	/* An invited user signs in as themselves: a password or key list
	 * would have nothing to check. */
	if (o->kind == SHARE_USER &&
	    (pa->present[SH_PASSWORD] || pa->present[SH_KEYS])) {
		cmd_fail(ctx, EXIT_USAGE, "--password and --authorized-keys "
		    "are for link and claim shares");
		return -1;
	}
	if (pa->present[SH_NOAUTH]) {
		if (o->kind != SHARE_LINK) {
			cmd_fail(ctx, EXIT_USAGE, "--no-auth is for link "
			    "shares only");
			return -1;
		}
		o->require_auth = 0;
	}
	if (pa->present[SH_EXPIRES] &&
	    expiry_parse(ctx, pa->value[SH_EXPIRES], &o->expires_in) != 0)
		return -1;
	if (pa->present[SH_MAXV]) {
		v = pa->value[SH_MAXV];
		n = strtol(v, &end, 10);
		if (!isdigit((unsigned char)*v) || *end != '\0' || n < 1 ||
		    n > 10000) {
			cmd_fail(ctx, EXIT_USAGE, "--max-viewers takes a "
			    "number from 1 to 10000");
			return -1;
		}
		o->max_viewers = (int)n;
	}
	if (pa->present[SH_LABEL]) {
		if (!cmd_label_valid(pa->value[SH_LABEL], 1)) {
			cmd_fail(ctx, EXIT_USAGE, "a label is at most %d "
			    "printable characters", CMD_LABEL_MAX);
			return -1;
		}
		o->label = pa->value[SH_LABEL];
	}
	return 0;
}

/*
 * The browser and WebSocket addresses of a share, "" where there are
 * none (no HTTP listener, or a token already shown): a link's viewer
 * page, a claim link (its WebSocket comes after the claim), or for a
 * user share the session's page.
 */
void
cmd_share_urls(struct server *srv, const struct store_share *sh,
    const char *token, char *url, size_t urllen, char *wsurl, size_t wslen)
{
	char	 base[512];

	url[0] = wsurl[0] = '\0';
	web_base(srv, base, sizeof base);
	if (base[0] == '\0')
		return;
	/* http://x -> ws://x, https://x -> wss://x */
	if (sh->kind == SHARE_USER) {
		snprintf(url, urllen, "%s/session/%s", base, sh->session_id);
		snprintf(wsurl, wslen, "ws%s/ws/session/%s", base + 4,
		    sh->session_id);
	} else if (token[0] != '\0' && sh->kind == SHARE_CLAIM)
		snprintf(url, urllen, "%s/claim/%s", base, token);
	else if (token[0] != '\0') {
		snprintf(url, urllen, "%s/s/%s", base, token);
		snprintf(wsurl, wslen, "ws%s/ws/s/%s", base + 4, token);
	}
}

static void
share_print(struct cmd_ctx *ctx, const struct store_share *sh,
    const char *token, const char *password, int json)
{
	char	 host[256], port[16], when[ISO8601_LEN], cmd[512];
	char	 url[640], wsurl[640];

	ssh_target(ctx->srv, host, sizeof host, port, sizeof port);
	cmd_share_urls(ctx->srv, sh, token, url, sizeof url, wsurl,
	    sizeof wsurl);
	time_iso8601(sh->expires_at, when);
	if (sh->kind == SHARE_USER)
		snprintf(cmd, sizeof cmd, "ssh -t -p %s %s@%s attach %s", port,
		    sh->target_user, host, sh->session_id);
	else
		snprintf(cmd, sizeof cmd, "ssh -p %s %s@%s", port, token,
		    host);
	if (json) {
		cmd_json_print(ctx, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, "
		    "s:o, s:o, s:s, s:o, s:o}", "share_id", sh->id,
		    "session_id", sh->session_id,
		    "kind", share_kind_name(sh->kind),
		    "permission", share_perm_name(sh->perm),
		    "expires_at", when, "ssh_command", cmd,
		    "token", token[0] ? json_string(token) : json_null(),
		    "password", password ? json_string(password) : json_null(),
		    "state", share_state_name(sh->state),
		    "share_url", url[0] ? json_string(url) : json_null(),
		    "websocket_url", wsurl[0] ? json_string(wsurl) :
		    json_null()));
		return;
	}
	buf_printf(&ctx->out, "share %s: %s %s share of session %s, "
	    "expires %s\n", sh->id, share_perm_name(sh->perm),
	    share_kind_name(sh->kind), sh->session_id, when);
	if (token[0] != '\0')
		buf_printf(&ctx->out, "token (shown once): %s\n", token);
	if (password != NULL)
		buf_printf(&ctx->out, "password (shown once): %s\n", password);
	buf_printf(&ctx->out, "%s: %s\n", sh->kind == SHARE_USER ?
	    "invited user joins with" : sh->kind == SHARE_CLAIM ?
	    "the first user to sign in with it claims it" :
	    "viewers join with", cmd);
	if (url[0] != '\0')
		buf_printf(&ctx->out, "browser: %s%s\n", url,
		    sh->password_hash != NULL || sh->authorized_keys != NULL ?
		    " (a password or key list is checked over ssh only: "
		    "browsers are refused)" : "");
}

static void
cmd_share(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	struct share_opts	 o;
	struct store_share	 sh;
	struct audit_who	 who;
	struct session		*s;
	char			 token[TOKEN_LEN + 1], err[256], pw[13];
	char			*keys = NULL;
	const char		*password = NULL;

	if ((s = cmd_live_session(ctx, pa->pos[0])) == NULL ||
	    !may_manage(ctx, s->owner_id) || share_opts_read(ctx, pa, &o) != 0)
		return;
	if (pa->present[SH_KEYS]) {
		if ((keys = read_authorized_keys(ctx, pa->value[SH_KEYS])) ==
		    NULL)
			return;
		o.authorized_keys = keys;
	}
	if (pa->present[SH_PASSWORD]) {
		if (ctx->password == NULL)
			password_generate(pw);
		password = ctx->password ? ctx->password : pw;
		o.password = password;
	}
	who_of(ctx, &who);
	memset(&sh, 0, sizeof sh);
	if (share_create(ctx->srv, s, &who, &o, token, &sh, err, sizeof err)
	    != 0)
		cmd_fail(ctx, 1, "%s", err);
	else {
		share_print(ctx, &sh, token, ctx->password ? NULL : password,
		    pa->present[SH_JSON]);
		store_share_clear(&sh);
	}
	sodium_memzero(token, sizeof token);
	sodium_memzero(pw, sizeof pw);
	free(keys);
}

static json_t *
viewers_json(struct session *s, const char *share_id)
{
	json_t		*arr = json_array();
	struct client	*c;
	char		 when[ISO8601_LEN];

	if (s == NULL)
		return arr;
	TAILQ_FOREACH(c, &s->viewers, entry) {
		if (share_id != NULL && strcmp(c->share_id, share_id) != 0)
			continue;
		time_iso8601(c->connected_at, when);
		json_array_append_new(arr, json_pack("{s:o, s:s, s:s, s:s, "
		    "s:s, s:s, s:s}",
		    "user_id", c->user_id ? json_integer(c->user_id) :
		    json_null(), "user_name", c->user[0] ? c->user : "guest",
		    "address", c->address, "connected_at", when,
		    "permission", c->read_write ? "read_write" : "read_only",
		    "share_id", c->share_id, "transport", c->transport));
	}
	return arr;
}

json_t *
cmd_share_json(struct session *s, const struct store_share *sh)
{
	char	 created[ISO8601_LEN], expires[ISO8601_LEN];
	char	 revoked[ISO8601_LEN];
	json_t	*viewers = viewers_json(s, sh->id);
	int	 was_revoked = sh->state == SHARE_REVOKED;

	time_iso8601(sh->created_at, created);
	time_iso8601(sh->expires_at, expires);
	time_iso8601(sh->state_at, revoked);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:i, "
	    "s:b, s:b, s:s, s:I, s:o, s:o, s:o}",
	    "share_id", sh->id, "session_id", sh->session_id,
	    "kind", share_kind_name(sh->kind),
	    "permission", share_perm_name(sh->perm),
	    "state", share_state_name(sh->state),
	    "created_at", created, "created_by", sh->created_by_name,
	    "expires_at", expires,
	    "target_user", sh->target_user[0] ? json_string(sh->target_user) :
	    json_null(), "max_viewers", sh->max_viewers,
	    "require_auth", sh->require_auth,
	    "password", sh->password_hash != NULL, "label", sh->label,
	    "viewer_count", (json_int_t)json_array_size(viewers),
	    "viewers", viewers,
	    "revoked_at", was_revoked ? json_string(revoked) : json_null(),
	    "revoked_by", was_revoked && sh->revoked_by_name[0] ?
	    json_string(sh->revoked_by_name) : json_null());
}

static void
cmd_shares(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	struct store_session	 row;
	struct store_share	*list = NULL;
	struct session		*s;
	json_t			*arr;
	size_t			 n = 0, i;
	char			 when[ISO8601_LEN];

	if (cmd_session_resolve(ctx, pa->pos[0], 0, &row) != 0)
		return;
	if (!may_manage(ctx, row.user_id) ||
	    store_share_list(ctx->srv->store, row.id, pa->present[LIST_ALL],
	    &list, &n) != 0) {
		store_session_clear(&row);
		return;
	}
	s = server_session_find(ctx->srv, row.id);
	if (pa->present[LIST_JSON]) {
		arr = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(arr, cmd_share_json(s, &list[i]));
		cmd_json_print(ctx, arr);
	} else if (n == 0)
		buf_puts(&ctx->out, "no shares\n");
	else {
		buf_printf(&ctx->out, "%-12s  %-5s  %-10s  %-8s  %-20s  %-7s  "
		    "%s\n", "SHARE", "KIND", "PERMISSION", "STATE", "EXPIRES",
		    "VIEWERS", "LABEL");
		for (i = 0; i < n; i++) {
			struct client *c;
			time_iso8601(list[i].expires_at, when);
			buf_printf(&ctx->out, "%-12s  %-5s  %-10s  %-8s  "
			    "%-20s  %-7d  %s%s%s\n", list[i].id,
			    share_kind_name(list[i].kind),
			    share_perm_name(list[i].perm),
			    share_state_name(list[i].state), when,
			    s ? session_share_viewers(s, list[i].id) : 0,
			    list[i].label, list[i].target_user[0] ? " for " :
			    "", list[i].target_user);
			if (s == NULL)
				continue;
			TAILQ_FOREACH(c, &s->viewers, entry) {
				if (strcmp(c->share_id, list[i].id) != 0)
					continue;
				time_iso8601(c->connected_at, when);
				buf_printf(&ctx->out, "    viewer %s from %s "
				    "since %s\n", c->user[0] ? c->user :
				    "guest", c->address, when);
			}
		}
	}
	store_share_list_free(list, n);
	store_session_clear(&row);
}

/* The share named by ref, if the caller may manage it. */
static int
share_lookup(struct cmd_ctx *ctx, const char *ref, struct store_share *sh)
{
	if (!share_id_valid(ref) ||
	    store_share_get(ctx->srv->store, ref, sh) != 0) {
		cmd_fail(ctx, 1, "no share '%s'", ref);
		return -1;
	}
	if ((ctx->scope != NULL && strcmp(sh->session_id, ctx->scope->id) != 0)
	    || (sh->owner_id != ctx->user_id && !ctx->admin)) {
		store_share_clear(sh);
		cmd_fail(ctx, 1, "no share '%s'", ref);
		return -1;
	}
	if (sh->state != SHARE_ACTIVE) {
		cmd_fail(ctx, 1, "share %s is %s", ref,
		    share_state_name(sh->state));
		store_share_clear(sh);
		return -1;
	}
	return 0;
}

static void
cmd_revoke(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	struct store_share	 sh;
	struct audit_who	 who;
	int			 n;

	if (share_lookup(ctx, pa->pos[0], &sh) != 0)
		return;
	who_of(ctx, &who);
	if ((n = share_revoke(ctx->srv, &sh, &who)) < 0)
		cmd_fail(ctx, 1, "cannot revoke share %s", sh.id);
	else
		buf_printf(&ctx->out, "revoked share %s (%d viewer%s "
		    "disconnected)\n", sh.id, n, n == 1 ? "" : "s");
	store_share_clear(&sh);
}

static void
cmd_extend(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	struct store_share	 sh;
	struct audit_who	 who;
	int64_t			 secs;
	char			 when[ISO8601_LEN];

	if (expiry_parse(ctx, pa->pos[1], &secs) != 0 ||
	    share_lookup(ctx, pa->pos[0], &sh) != 0)
		return;
	who_of(ctx, &who);
	if (share_extend(ctx->srv, &sh, &who, secs) != 0)
		cmd_fail(ctx, 1, "cannot extend share %s", sh.id);
	else {
		time_iso8601(time_now() + secs, when);
		buf_printf(&ctx->out, "share %s now expires %s\n", sh.id,
		    when);
	}
	store_share_clear(&sh);
}

static void
cmd_relabel(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	struct store_share	 sh;
	struct audit_who	 who;

	if (!cmd_label_valid(pa->pos[1], 1)) {
		cmd_fail(ctx, EXIT_USAGE, "a label is at most %d printable "
		    "characters", CMD_LABEL_MAX);
		return;
	}
	if (share_lookup(ctx, pa->pos[0], &sh) != 0)
		return;
	who_of(ctx, &who);
	if (share_relabel(ctx->srv, &sh, &who, pa->pos[1]) != 0)
		cmd_fail(ctx, 1, "cannot relabel share %s", sh.id);
	else
		buf_printf(&ctx->out, "relabelled share %s\n", sh.id);
	store_share_clear(&sh);
}

static void
cmd_viewers(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	struct session	*s;
	struct client	*c;
	char		 when[ISO8601_LEN];

	if ((s = cmd_live_session(ctx, pa->pos[0])) == NULL ||
	    !may_manage(ctx, s->owner_id))
		return;
	if (pa->present[LIST_JSON]) {
		cmd_json_print(ctx, viewers_json(s, NULL));
		return;
	}
	if (s->nviewers == 0) {
		buf_puts(&ctx->out, "no viewers\n");
		return;
	}
	buf_printf(&ctx->out, "%-16s  %-10s  %-12s  %-9s  %-20s  %s\n", "USER",
	    "PERMISSION", "SHARE", "TRANSPORT", "SINCE", "ADDRESS");
	TAILQ_FOREACH(c, &s->viewers, entry) {
		time_iso8601(c->connected_at, when);
		buf_printf(&ctx->out, "%-16s  %-10s  %-12s  %-9s  %-20s  %s\n",
		    c->user[0] ? c->user : "guest",
		    c->read_write ? "read_write" : "read_only",
		    c->share_id[0] ? c->share_id : "(admin)", c->transport,
		    when, c->address);
	}
}

/* The new owner no longer needs the invites that let them watch: they
 * end, and a viewer who is the new owner is told to attach instead. */
static void
handoff_end_own_shares(struct cmd_ctx *ctx, struct session *s, int64_t uid,
    const struct audit_who *who)
{
	struct store_share	*list = NULL;
	struct client		*c, *next;
	char			 why[128];
	size_t			 n = 0, i;

	if (store_share_list(ctx->srv->store, s->id, 0, &list, &n) == 0) {
		for (i = 0; i < n; i++) {
			if (list[i].kind == SHARE_USER &&
			    list[i].target_user_id == uid)
				share_revoke(ctx->srv, &list[i], who);
		}
		store_share_list_free(list, n);
	}
	snprintf(why, sizeof why, "you own this session now; attach with: "
	    "attach %s", s->id);
	TAILQ_FOREACH_SAFE(c, &s->viewers, entry, next) {
		if (c->user_id == uid) {
			session_viewer_remove(s, c);
			c->ops->detached(c->ctx, why);
		}
	}
}

static void
cmd_handoff(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	struct store_user	 u;
	struct audit_who	 who;
	struct session		*s;
	struct client		*c;
	char			 why[128];

	if ((s = cmd_live_session(ctx, pa->pos[0])) == NULL ||
	    !may_manage(ctx, s->owner_id))
		return;
	if (store_user_get(ctx->srv->store, pa->pos[1], &u) != 0) {
		cmd_fail(ctx, 1, "no user '%s'", pa->pos[1]);
		return;
	}
	if (u.id == s->owner_id) {
		cmd_fail(ctx, 1, "%s already owns this session", u.name);
		return;
	}
	if (store_session_set_owner(ctx->srv->store, s->id, u.id) != 0) {
		cmd_fail(ctx, 1, "cannot hand the session off");
		return;
	}
	who_of(ctx, &who);
	audit_log(ctx->srv, &who, "session.handoff", s->id, NULL, u.name,
	    "from=%s", s->owner);
	log_info("session %s handed off from %s to %s", s->id, s->owner,
	    u.name);
	/* The old owner's terminal lets go first, so that its disconnect
	 * is recorded under the old owner. */
	if (s->owner_client != NULL) {
		snprintf(why, sizeof why, "session handed off to %s", u.name);
		c = s->owner_client;
		session_detach(s, c);
		c->ops->detached(c->ctx, why);
	}
	s->owner_id = u.id;
	snprintf(s->owner, sizeof s->owner, "%s", u.name);
	handoff_end_own_shares(ctx, s, u.id, &who);
	buf_printf(&ctx->out, "session %s now belongs to %s; they attach "
	    "with: attach %s\n", s->id, u.name, s->id);
}

/* "1h" (that long ago), an ISO 8601 time, or Unix seconds. */
int
cmd_since_parse(const char *s, int64_t *out)
{
	struct tm	 tm;
	int64_t		 d;
	char		*end;
	long long	 v;

	if (duration_parse(s, &d) == 0 && !isdigit((unsigned char)
	    s[strlen(s) - 1])) {
		*out = time_now() - d;
		return 0;
	}
	memset(&tm, 0, sizeof tm);
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end != NULL && (*end == '\0' || strcmp(end, "Z") == 0)) {
		*out = (int64_t)timegm(&tm);
		return 0;
	}
	v = strtoll(s, &end, 10);
	if (isdigit((unsigned char)*s) && *end == '\0' && v >= 0) {
		*out = v;
		return 0;
	}
	return -1;
}

json_t *
cmd_audit_json(const struct store_audit *a)
{
	char	 when[ISO8601_LEN];

	time_iso8601(a->at, when);
	return json_pack("{s:I, s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:s, "
	    "s:s}",
	    "id", (json_int_t)a->id, "at", when,
	    "actor_id", a->actor_id ? json_integer(a->actor_id) : json_null(),
	    "actor", a->actor_name,
	    "action", a->action,
	    "session_id", a->session_id,
	    "share_id", a->share_id,
	    "target_user", a->target_user,
	    "address", a->address,
	    "detail", a->detail);
}

static void
cmd_audit(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	struct store_audit_filter	 f;
	struct store_audit		*rows = NULL;
	size_t				 n = 0, i;
	char				 when[ISO8601_LEN];
	json_t				*arr;

	memset(&f, 0, sizeof f);
	f.owner_id = ctx->admin ? 0 : ctx->user_id;
	if (ctx->scope != NULL)
		f.session_id = ctx->scope->id;
	if (pa->present[AU_SESSION]) {
		if (!uuid_valid(pa->value[AU_SESSION])) {
			cmd_fail(ctx, EXIT_USAGE, "--session takes a full "
			    "session id");
			return;
		}
		if (ctx->scope != NULL &&
		    strcmp(pa->value[AU_SESSION], ctx->scope->id) != 0) {
			cmd_fail(ctx, 1, "no session '%s'",
			    pa->value[AU_SESSION]);
			return;
		}
		f.session_id = pa->value[AU_SESSION];
	}
	if (pa->present[AU_SINCE] &&
	    cmd_since_parse(pa->value[AU_SINCE], &f.since) != 0) {
		cmd_fail(ctx, EXIT_USAGE, "--since takes a duration (1h), an "
		    "ISO 8601 time or Unix seconds");
		return;
	}
	if (store_audit_list(ctx->srv->store, &f, &rows, &n) != 0) {
		cmd_fail(ctx, 1, "cannot read the audit trail");
		return;
	}
	if (pa->present[AU_JSON]) {
		arr = json_array();
		for (i = 0; i < n; i++) {
			json_array_append_new(arr, cmd_audit_json(&rows[i]));
		}
		cmd_json_print(ctx, arr);
	} else {
		for (i = 0; i < n; i++) {
			time_iso8601(rows[i].at, when);
			buf_printf(&ctx->out, "%s  %-16s  %-14s  %-8.8s  "
			    "%-12s  %-12s  %s  %s\n", when,
			    rows[i].action, rows[i].actor_name[0] ?
			    rows[i].actor_name : "-", rows[i].session_id[0] ?
			    rows[i].session_id : "-", rows[i].share_id[0] ?
			    rows[i].share_id : "-", rows[i].target_user[0] ?
			    rows[i].target_user : "-", rows[i].address,
			    rows[i].detail);
		}
	}
	store_audit_list_free(rows, n);
}

/* ---- api-token ---------------------------------------------------------- */

static void
api_token_create(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	struct audit_who	 who;
	unsigned char		 hash[TOKEN_HASH_BYTES];
	char			 token[TOKEN_LEN + 1], when[ISO8601_LEN];
	const char		*label = "";
	int64_t			 id;
	int			 r;

	if (pa->present[AT_LABEL]) {
		if (!cmd_label_valid(pa->value[AT_LABEL], 1)) {
			cmd_fail(ctx, EXIT_USAGE, "a label is at most %d "
			    "printable characters", CMD_LABEL_MAX);
			return;
		}
		label = pa->value[AT_LABEL];
	}
	token_new(token);
	token_hash(ctx->srv->dd.secret, token, hash);
	r = store_api_token_add(ctx->srv->store, ctx->user_id, hash, label,
	    &id);
	sodium_memzero(hash, sizeof hash);
	if (r != 0) {
		cmd_fail(ctx, 1, "cannot create an API token");
		goto out;
	}
	who_of(ctx, &who);
	audit_log(ctx->srv, &who, "api_token.create", NULL, NULL, NULL,
	    "id=%lld", (long long)id);
	if (pa->present[AT_JSON]) {
		time_iso8601(time_now(), when);
		cmd_json_print(ctx, json_pack("{s:I, s:s, s:s, s:s}",
		    "id", (json_int_t)id, "label", label, "token", token,
		    "created_at", when));
	} else
		buf_printf(&ctx->out, "api token %lld: %s\n"
		    "use it as \"Authorization: Bearer TOKEN\"; it is not "
		    "shown again\n", (long long)id, token);
out:
	sodium_memzero(token, sizeof token);
}

static void
api_token_list(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	struct store_api_token	*list = NULL;
	size_t			 n = 0, i;
	char			 created[ISO8601_LEN], used[ISO8601_LEN];
	json_t			*arr;

	if (store_api_token_list(ctx->srv->store, ctx->user_id, &list, &n)
	    != 0) {
		cmd_fail(ctx, 1, "cannot read API tokens");
		return;
	}
	if (pa->present[AT_JSON]) {
		arr = json_array();
		for (i = 0; i < n; i++) {
			time_iso8601(list[i].created_at, created);
			time_iso8601(list[i].last_used_at, used);
			json_array_append_new(arr, json_pack("{s:I, s:s, s:s, "
			    "s:o}", "id", (json_int_t)list[i].id,
			    "label", list[i].label, "created_at", created,
			    "last_used_at", list[i].last_used_at ?
			    json_string(used) : json_null()));
		}
		cmd_json_print(ctx, arr);
	} else if (n == 0)
		buf_puts(&ctx->out, "no api tokens\n");
	else {
		buf_printf(&ctx->out, "%-6s  %-20s  %-20s  %s\n", "ID",
		    "CREATED", "LAST USED", "LABEL");
		for (i = 0; i < n; i++) {
			time_iso8601(list[i].created_at, created);
			if (list[i].last_used_at)
				time_iso8601(list[i].last_used_at, used);
			else
				snprintf(used, sizeof used, "-");
			buf_printf(&ctx->out, "%-6lld  %-20s  %-20s  %s\n",
			    (long long)list[i].id, created, used,
			    list[i].label);
		}
	}
	store_api_token_list_free(list, n);
}

static void
api_token_revoke(struct cmd_ctx *ctx, const char *arg)
{
	struct audit_who	 who;
	char			*end;
	long long		 id;
	int			 r;

	id = strtoll(arg, &end, 10);
	if (!isdigit((unsigned char)*arg) || *end != '\0' || id <= 0) {
		cmd_fail(ctx, EXIT_USAGE, "api-token revoke takes a token id "
		    "(see api-token list)");
		return;
	}
	r = store_api_token_del(ctx->srv->store, ctx->user_id, (int64_t)id);
	if (r == STORE_NOTFOUND) {
		cmd_fail(ctx, 1, "no api token %lld", id);
		return;
	}
	if (r != 0) {
		cmd_fail(ctx, 1, "cannot revoke api token %lld", id);
		return;
	}
	who_of(ctx, &who);
	audit_log(ctx->srv, &who, "api_token.revoke", NULL, NULL, NULL,
	    "id=%lld", id);
	buf_printf(&ctx->out, "revoked api token %lld\n", id);
}

static void
cmd_api_token(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	const char	*sub = pa->pos[0];

	if (strcmp(sub, "create") == 0 && pa->npos == 1)
		api_token_create(ctx, pa);
	else if (strcmp(sub, "list") == 0 && pa->npos == 1 &&
	    !pa->present[AT_LABEL])
		api_token_list(ctx, pa);
	else if (strcmp(sub, "revoke") == 0 && pa->npos == 2 &&
	    !pa->present[AT_LABEL] && !pa->present[AT_JSON])
		api_token_revoke(ctx, pa->pos[1]);
	else
		cmd_fail(ctx, EXIT_USAGE, "usage: api-token create [--label "
		    "TEXT] [--json] | list [--json] | revoke ID");
}

/* ---- passwd, weblogin ---------------------------------------------------- */

#define PASSWD_GEN_LEN	16
#define PASSWD_MIN	8
#define PASSWD_MAX	PROMPT_MAX

/*
 * An exec request has no prompt to read a password from, so the only
 * way to set one over ssh is to have tandemd make it up.
 */
static void
cmd_passwd(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	static const char	 alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	    "abcdefghijkmnopqrstuvwxyz23456789";
	char			 pw[PASSWD_GEN_LEN + 1];
	size_t			 i;

	if (ctx->user_id == 0) {
		cmd_fail(ctx, 1, "only a known user has a password");
		return;
	}
	if (!pa->present[PW_GENERATE]) {
		/* The channel asks, then calls command_password_set. */
		if (ctx->can_prompt)
			ctx->prompt_password = 1;
		else
			cmd_fail(ctx, EXIT_USAGE, "passwd asks on ssh's "
			    "terminal (ssh -t HOST passwd); here use passwd "
			    "--generate");
		return;
	}
	for (i = 0; i < PASSWD_GEN_LEN; i++)
		pw[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
	pw[PASSWD_GEN_LEN] = '\0';
	if (command_password_set(ctx, pw, 1) == 0)
		buf_printf(&ctx->out, "your web password: %s\n"
		    "sign in at /login with it; it is not shown again\n", pw);
	sodium_memzero(pw, sizeof pw);
}

/*
 * Set the caller's web password (Argon2id).  A typed one is 8 to
 * PASSWD_MAX bytes.  0, or -1 with the failure in ctx.
 */
int
command_password_set(struct cmd_ctx *ctx, const char *pw, int generated)
{
	struct audit_who	 who;
	char			 hash[crypto_pwhash_STRBYTES];
	size_t			 n = strlen(pw);
	int			 r = -1;

	if (n < PASSWD_MIN || n > PASSWD_MAX) {
		cmd_fail(ctx, 1, "a password is %d to %d characters",
		    PASSWD_MIN, PASSWD_MAX);
		return -1;
	}
	if (password_hash(pw, hash) != 0 ||
	    store_user_set_password(ctx->srv->store, ctx->user_id, hash) !=
	    0) {
		cmd_fail(ctx, 1, "cannot set the password");
		goto out;
	}
	who_of(ctx, &who);
	audit_log(ctx->srv, &who, "user.password", NULL, NULL, NULL,
	    "generated=%d", generated);
	r = 0;
out:
	sodium_memzero(hash, sizeof hash);
	return r;
}

static void
cmd_weblogin(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	struct audit_who	 who;
	char			 base[512], code[TOKEN_LEN + 1];

	(void)pa;
	web_base(ctx->srv, base, sizeof base);
	if (base[0] == '\0') {
		cmd_fail(ctx, 1, "the web viewer is not enabled (http_listen)");
		return;
	}
	if (ctx->user_id == 0) {
		cmd_fail(ctx, 1, "only a known user can sign in");
		return;
	}
	if (signin_link_new(ctx->srv, ctx->user_id, code) != 0) {
		cmd_fail(ctx, 1, "cannot create a sign-in link");
		return;
	}
	who_of(ctx, &who);
	audit_log(ctx->srv, &who, "user.weblogin", NULL, NULL, NULL, "%s", "");
	buf_printf(&ctx->out, "%s/login/%s\n"
	    "open it within %d minutes; it works once\n", base, code,
	    SIGNIN_LINK_TTL / 60);
	sodium_memzero(code, sizeof code);
}
