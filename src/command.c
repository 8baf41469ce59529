/*
 * command: SSH exec commands (command.h).
 *
 * "ssh -p 2222 alice@host ls --json" arrives as one exec request string.
 * It is split with cmdline_split, matched against the table below and
 * checked against the entry's option table by cmdline_parse; only then
 * does the entry's function run.  A bad line changes nothing and exits 2
 * with a usage message; a well-formed request that cannot be done (no
 * such session) exits 1.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmdline.h"
#include "command.h"
#include "command_impl.h"
#include "log.h"
#include "server.h"
#include "session.h"
#include "share.h"
#include "store.h"
#include "util.h"



static void	 cmd_attach(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_help(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_kill(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_ls(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_rename(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_version(struct cmd_ctx *, const struct cmdline_parsed *);

enum { ATTACH_RO };
static const struct cmdline_opt attach_opts[] = {
	[ATTACH_RO] = { "read-only", 'r', 0 },
};
enum { LS_JSON, LS_ALL };
static const struct cmdline_opt ls_opts[] = {
	[LS_JSON] = { "json", 'j', 0 },
	[LS_ALL] = { "all", 'a', 0 },
};

#define OPTS(o)	(o), sizeof (o) / sizeof (o)[0]
static const struct cmd_entry session_cmds[] = {
	{ "attach", "[--read-only] [SESSION]", "attach to a session "
	    "(needs ssh -t): your own, or one shared with you",
	    OPTS(attach_opts), 0, 1, 0, cmd_attach },
	{ "help", "", "list the commands", NULL, 0, 0, 0, 0, cmd_help },
	{ "kill", "SESSION", "end a session and its program",
	    NULL, 0, 1, 1, 1, cmd_kill },
	{ "ls", "[--all] [--json]", "list your sessions and those shared "
	    "with you", OPTS(ls_opts), 0, 0, 0, cmd_ls },
	{ "rename", "SESSION NAME", "label a session",
	    NULL, 0, 2, 2, 1, cmd_rename },
	{ "version", "", "print the tandemd version", NULL, 0, 0, 0, 0,
	    cmd_version },
};
static const struct {
	const struct cmd_entry	*cmds;
	const size_t		*n;
} cmd_tables[] = {
	{ session_cmds, NULL },
	{ share_cmds, &share_ncmds },
};
#define NSESSION_CMDS	(sizeof session_cmds / sizeof session_cmds[0])

static size_t
table_len(size_t t)
{
	return cmd_tables[t].n ? *cmd_tables[t].n : NSESSION_CMDS;
}

void
cmd_fail(struct cmd_ctx *ctx, int status, const char *fmt, ...)
{
	va_list	 ap;

	buf_puts(&ctx->err, "tandem: ");
	va_start(ap, fmt);
	buf_vprintf(&ctx->err, fmt, ap);
	va_end(ap);
	buf_puts(&ctx->err, "\n");
	ctx->status = status;
}

static const struct cmd_entry *
cmd_find(const char *name)
{
	size_t	 t, i;

	for (t = 0; t < sizeof cmd_tables / sizeof cmd_tables[0]; t++) {
		for (i = 0; i < table_len(t); i++) {
			if (strcmp(cmd_tables[t].cmds[i].name, name) == 0)
				return &cmd_tables[t].cmds[i];
		}
	}
	return NULL;
}

/*
 * Find one of the caller's sessions by full id, unique id prefix (at
 * least 4 characters) or exact name.  live restricts the match to
 * sessions that still run.  Errors are reported to the caller here.
 */
int
cmd_session_resolve(struct cmd_ctx *ctx, const char *ref, int live,
    struct store_session *out)
{
	struct store_session	*list = NULL;
	size_t			 n = 0, i, found = 0, idx = 0;
	size_t			 reflen = strlen(ref);

	/* An admin may name anyone's session, by its full id. */
	if (ctx->admin && uuid_valid(ref) &&
	    store_session_get(ctx->srv->store, ref, out) == 0) {
		if (!live || out->state != SESSION_TERMINATED)
			return 0;
		store_session_clear(out);
	}
	if (store_session_list(ctx->srv->store, ctx->user_id, 1, &list, &n)
	    != 0) {
		cmd_fail(ctx, 1, "cannot read sessions");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (live && list[i].state == SESSION_TERMINATED)
			continue;
		if (strcmp(list[i].id, ref) == 0) {
			found = 1;
			idx = i;
			break;
		}
		if ((reflen >= 4 && strncmp(list[i].id, ref, reflen) == 0) ||
		    (list[i].name[0] != '\0' && strcmp(list[i].name, ref) == 0)) {
			found++;
			idx = i;
		}
	}
	if (found == 1) {
		*out = list[idx];
		memset(&list[idx], 0, sizeof list[idx]);
	}
	store_session_list_free(list, n);
	if (found == 0)
		cmd_fail(ctx, 1, "no %ssession '%s'", live ? "running " : "", ref);
	else if (found > 1)
		cmd_fail(ctx, 1, "'%s' matches %zu sessions; use more of the id",
		    ref, found);
	return found == 1 ? 0 : -1;
}

/* A running session of the caller's (or any, for an admin). */
struct session *
cmd_live_session(struct cmd_ctx *ctx, const char *ref)
{
	struct store_session	 row;
	struct session		*s;

	if (cmd_session_resolve(ctx, ref, 1, &row) != 0)
		return NULL;
	s = server_session_find(ctx->srv, row.id);
	if (s == NULL)
		cmd_fail(ctx, 1, "session %s is not running", row.id);
	store_session_clear(&row);
	return s;
}

/*
 * "attach SESSION" for a session someone shared with the caller (a user
 * share), or any session for an admin: the channel joins as a viewer.
 */
static int
attach_shared(struct cmd_ctx *ctx, const char *ref, int read_only)
{
	struct store_share	*shares = NULL;
	struct session		*s = NULL;
	const char		*why = NULL;
	size_t			 n = 0, i;
	int			 found = 0;

	if (store_shares_for_user(ctx->srv->store, ctx->user_id, &shares, &n)
	    != 0)
		return -1;
	for (i = 0; i < n && !found; i++) {
		if (strcmp(shares[i].session_id, ref) != 0 &&
		    (strlen(ref) < 4 || strncmp(shares[i].session_id, ref,
		    strlen(ref)) != 0))
			continue;
		found = 1;
		why = share_refusal(ctx->srv, &shares[i], ctx->user_id, &s);
		if (why == NULL) {
			ctx->attach = s;
			ctx->attach_viewer = 1;
			ctx->attach_rw = shares[i].perm == SHARE_READ_WRITE &&
			    !read_only;
			memcpy(ctx->attach_share, shares[i].id,
			    sizeof ctx->attach_share);
		}
	}
	store_share_list_free(shares, n);
	if (why != NULL)
		cmd_fail(ctx, 1, "%s", why);
	return found ? 0 : -1;
}

static void
cmd_attach(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	struct store_session	 row;
	struct session		*s, *best = NULL;

	if (!ctx->has_pty) {
		cmd_fail(ctx, 1, "attach needs a terminal: use ssh -t");
		return;
	}
	if (pa->npos == 1 && attach_shared(ctx, pa->pos[0],
	    pa->present[ATTACH_RO]) == 0)
		return;
	if (pa->npos == 1) {
		if (cmd_session_resolve(ctx, pa->pos[0], 1, &row) != 0)
			return;
		best = server_session_find(ctx->srv, row.id);
		/* An admin attaching someone else's session watches it; it
		 * never takes the session from its owner. */
		if (best != NULL && best->owner_id != ctx->user_id) {
			ctx->attach_viewer = 1;
			ctx->attach_rw = !pa->present[ATTACH_RO];
		}
		store_session_clear(&row);
	} else {
		/* The newest detached session, else the newest attached one,
		 * as "tmux attach" picks the most recent. */
		TAILQ_FOREACH(s, &ctx->srv->sessions, entry) {
			if (s->owner_id != ctx->user_id || s->ended)
				continue;
			if (best == NULL || (best->state == SESSION_ACTIVE &&
			    s->state == SESSION_DISCONNECTED) ||
			    best->state == s->state)
				best = s;
		}
	}
	if (best == NULL) {
		cmd_fail(ctx, 1, "no running session to attach to");
		return;
	}
	ctx->attach = best;
}

static void
cmd_kill(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	struct store_session	 row;
	struct session		*s;

	if (cmd_session_resolve(ctx, pa->pos[0], 1, &row) != 0)
		return;
	s = server_session_find(ctx->srv, row.id);
	if (s == NULL) {
		cmd_fail(ctx, 1, "session %s is not running", row.id);
	} else {
		session_kill(s);
		buf_printf(&ctx->out, "killed session %s\n", row.id);
		log_info("session %s killed by %s", row.id, ctx->user);
	}
	store_session_clear(&row);
}

/* A session name or share label: at most CMD_LABEL_MAX printable
 * bytes (UTF-8 allowed), empty only where empty_ok. */
int
cmd_label_valid(const char *s, int empty_ok)
{
	size_t	 i, n = strlen(s);

	if ((n == 0 && !empty_ok) || n > CMD_LABEL_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	}
	return 1;
}

static void
cmd_rename(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	struct store_session	 row;

	if (!cmd_label_valid(pa->pos[1], 0)) {
		cmd_fail(ctx, EXIT_USAGE, "a session name is 1 to %d printable "
		    "characters", CMD_LABEL_MAX);
		return;
	}
	if (cmd_session_resolve(ctx, pa->pos[0], 0, &row) != 0)
		return;
	if (store_session_rename(ctx->srv->store, row.id, pa->pos[1]) != 0)
		cmd_fail(ctx, 1, "cannot rename session %s", row.id);
	else
		buf_printf(&ctx->out, "renamed session %s\n", row.id);
	store_session_clear(&row);
}

static json_t *
session_json(const struct store_session *s)
{
	char	 started[ISO8601_LEN], ended[ISO8601_LEN];

	time_iso8601(s->started_at, started);
	time_iso8601(s->ended_at, ended);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:i, s:i, s:s, "
	    "s:s, s:o}",
	    "id", s->id,
	    "name", s->name,
	    "user_name", s->user_name,
	    "state", session_state_name(s->state),
	    "started_at", started,
	    "ended_at", s->ended_at ? json_string(ended) : json_null(),
	    "cols", s->cols,
	    "rows", s->rows,
	    "client_address", s->client_address,
	    "auth_method", s->auth_method,
	    "exit_status", s->state == SESSION_TERMINATED &&
	    s->exit_status >= 0 ? json_integer(s->exit_status) : json_null());
}

/* Print a JSON value and release it. */
void
cmd_json_print(struct cmd_ctx *ctx, json_t *v)
{
	char	*text;

	text = v ? json_dumps(v, JSON_INDENT(2)) : NULL;
	if (text == NULL)
		cmd_fail(ctx, 1, "out of memory");
	else
		buf_printf(&ctx->out, "%s\n", text);
	free(text);
	json_decref(v);
}

static void
ls_json(struct cmd_ctx *ctx, const struct store_session *list, size_t n,
    const struct store_share *shared, size_t nshared)
{
	json_t	*arr = json_array(), *o;
	size_t	 i;

	for (i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, session_json(&list[i]));
	for (i = 0; arr != NULL && i < nshared; i++) {
		struct store_session row;
		if (store_session_get(ctx->srv->store, shared[i].session_id,
		    &row) != 0)
			continue;
		o = session_json(&row);
		json_object_set_new(o, "shared_by",
		    json_string(shared[i].owner_name));
		json_object_set_new(o, "permission",
		    json_string(share_perm_name(shared[i].perm)));
		json_object_set_new(o, "share_id", json_string(shared[i].id));
		json_array_append_new(arr, o);
		store_session_clear(&row);
	}
	cmd_json_print(ctx, arr);
}

static void
ls_text(struct cmd_ctx *ctx, const struct store_session *list, size_t n,
    const struct store_share *shared, size_t nshared)
{
	char	 started[ISO8601_LEN], ended[ISO8601_LEN], size[24];
	size_t	 i;

	if (nshared > 0) {
		buf_printf(&ctx->out, "%-36s  %-16s  %-10s  %s\n",
		    "SHARED WITH YOU", "SHARED BY", "PERMISSION", "EXPIRES");
		for (i = 0; i < nshared; i++) {
			time_iso8601(shared[i].expires_at, ended);
			buf_printf(&ctx->out, "%-36s  %-16s  %-10s  %s\n",
			    shared[i].session_id, shared[i].owner_name,
			    share_perm_name(shared[i].perm), ended);
		}
		if (n > 0)
			buf_puts(&ctx->out, "\n");
	}
	if (n == 0) {
		if (nshared == 0)
			buf_puts(&ctx->out, "no sessions\n");
		return;
	}
	buf_printf(&ctx->out, "%-36s  %-12s  %-12s  %-20s  %-20s  %-9s  %s\n",
	    "ID", "NAME", "STATE", "STARTED", "ENDED", "SIZE", "CLIENT");
	for (i = 0; i < n; i++) {
		const struct store_session *s = &list[i];
		time_iso8601(s->started_at, started);
		if (s->ended_at)
			time_iso8601(s->ended_at, ended);
		else
			snprintf(ended, sizeof ended, "-");
		snprintf(size, sizeof size, "%dx%d", s->cols, s->rows);
		buf_printf(&ctx->out,
		    "%-36s  %-12s  %-12s  %-20s  %-20s  %-9s  %s\n", s->id,
		    s->name[0] ? s->name : "-", session_state_name(s->state),
		    started, ended, size,
		    s->client_address[0] ? s->client_address : "-");
	}
}

static void
cmd_ls(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	struct store_session	*list = NULL;
	struct store_share	*shared = NULL;
	size_t			 n = 0, nshared = 0;

	if (store_session_list(ctx->srv->store, ctx->user_id,
	    pa->present[LS_ALL], &list, &n) != 0 ||
	    store_shares_for_user(ctx->srv->store, ctx->user_id, &shared,
	    &nshared) != 0) {
		cmd_fail(ctx, 1, "cannot read sessions");
		store_session_list_free(list, n);
		return;
	}
	if (pa->present[LS_JSON])
		ls_json(ctx, list, n, shared, nshared);
	else
		ls_text(ctx, list, n, shared, nshared);
	store_session_list_free(list, n);
	store_share_list_free(shared, nshared);
}

static void
cmd_help(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	size_t	 t, i;

	buf_puts(&ctx->out, "commands (ssh -p PORT USER@HOST COMMAND):\n");
	for (t = 0; t < sizeof cmd_tables / sizeof cmd_tables[0]; t++) {
		for (i = 0; i < table_len(t); i++) {
			const struct cmd_entry *e = &cmd_tables[t].cmds[i];
			buf_printf(&ctx->out, "  %s %s\n      %s\n", e->name,
			    e->args, e->help);
		}
	}
	buf_puts(&ctx->out, "without a command, ssh starts a new session\n");
}

static void
cmd_version(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	buf_printf(&ctx->out, "tandemd %s\n", PACKAGE_VERSION);
}

/* A terminal in raw mode needs CR LF: the client's ssh put it there. */
static void
crlf(struct buf *b)
{
	struct buf	 o = BUF_INIT;
	size_t		 i;
	const char	*p = buf_ptr(b);

	for (i = 0; i < buf_used(b); i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			buf_append(&o, "\r", 1);
		buf_append(&o, &p[i], 1);
	}
	buf_free(b);
	*b = o;
}

void
command_run(struct cmd_ctx *ctx, const char *line, size_t len)
{
	const struct cmd_entry	*e;
	struct cmdline_parsed	 pa;
	char			**argv = NULL, err[256];
	char			*scoped[CMDLINE_MAX_ARGS + 1];
	const char		*msg;
	int			 argc = 0, i;

	ctx->status = 0;
	if (cmdline_split(line, len, &argv, &argc, &msg) != 0) {
		cmd_fail(ctx, EXIT_USAGE, "bad command line: %s", msg);
		goto out;
	}
	if ((e = cmd_find(argv[0])) == NULL) {
		char shown[64];
		snprintf(shown, sizeof shown, "%s", argv[0]);
		cmd_fail(ctx, EXIT_USAGE, "unknown command '%s' (try 'help')",
		    shown);
		goto out;
	}
	memset(&pa, 0, sizeof pa);
	if (cmdline_parse(argc, argv, e->opts, e->nopts, &pa, err,
	    sizeof err) != 0) {
		cmd_fail(ctx, EXIT_USAGE, "%s: %s\nusage: %s %s", e->name, err,
		    e->name, e->args);
		goto out;
	}
	/* The tandem client acts on its own session only: SESSION is
	 * implied, and the words the user gave follow it. */
	if (ctx->scope != NULL && e->takes_session) {
		scoped[0] = ctx->scope->id;
		for (i = 0; i < pa.npos && i < CMDLINE_MAX_ARGS; i++)
			scoped[i + 1] = pa.pos[i];
		pa.pos = scoped;
		pa.npos++;
	}
	if (pa.npos < e->min_pos || pa.npos > e->max_pos) {
		cmd_fail(ctx, EXIT_USAGE, "%s: wrong number of arguments\n"
		    "usage: %s %s", e->name, e->name, e->args);
		goto out;
	}
	log_info("%s runs '%s'", ctx->user, e->name);
	e->exec(ctx, &pa);
out:
	cmdline_free(argv, argc);
	if (ctx->has_pty) {
		crlf(&ctx->out);
		crlf(&ctx->err);
	}
}
