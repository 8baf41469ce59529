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
#include "log.h"
#include "server.h"
#include "session.h"
#include "store.h"
#include "util.h"

#define EXIT_USAGE	2
#define NAME_MAX_LEN	64

struct cmd_entry {
	const char		*name;
	const char		*args;		/* usage after the name */
	const char		*help;
	const struct cmdline_opt *opts;
	size_t			 nopts;
	int			 min_pos, max_pos;
	void			 (*exec)(struct cmd_ctx *,
				    const struct cmdline_parsed *);
};

static void	 cmd_attach(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_help(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_kill(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_ls(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_rename(struct cmd_ctx *, const struct cmdline_parsed *);
static void	 cmd_version(struct cmd_ctx *, const struct cmdline_parsed *);

enum { LS_JSON, LS_ALL };
static const struct cmdline_opt ls_opts[] = {
	[LS_JSON] = { "json", 'j', 0 },
	[LS_ALL] = { "all", 'a', 0 },
};

#define OPTS(o)	(o), sizeof (o) / sizeof (o)[0]
static const struct cmd_entry cmd_table[] = {
	{ "attach", "[SESSION]", "attach to a session (needs ssh -t)",
	    NULL, 0, 0, 1, cmd_attach },
	{ "help", "", "list the commands", NULL, 0, 0, 0, cmd_help },
	{ "kill", "SESSION", "end a session and its program",
	    NULL, 0, 1, 1, cmd_kill },
	{ "ls", "[--all] [--json]", "list your sessions",
	    OPTS(ls_opts), 0, 0, cmd_ls },
	{ "rename", "SESSION NAME", "label a session",
	    NULL, 0, 2, 2, cmd_rename },
	{ "version", "", "print the tandemd version", NULL, 0, 0, 0,
	    cmd_version },
};
#define NCMDS	(sizeof cmd_table / sizeof cmd_table[0])

static void
fail(struct cmd_ctx *ctx, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct cmd_ctx *ctx, int status, const char *fmt, ...)
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
	size_t	 i;

	for (i = 0; i < NCMDS; i++) {
		if (strcmp(cmd_table[i].name, name) == 0)
			return &cmd_table[i];
	}
	return NULL;
}

/*
 * Find one of the caller's sessions by full id, unique id prefix (at
 * least 4 characters) or exact name.  live restricts the match to
 * sessions that still run.  Errors are reported to the caller here.
 */
static int
session_resolve(struct cmd_ctx *ctx, const char *ref, int live,
    struct store_session *out)
{
	struct store_session	*list = NULL;
	size_t			 n = 0, i, found = 0, idx = 0;
	size_t			 reflen = strlen(ref);

	if (store_session_list(ctx->srv->store, ctx->user_id, 1, &list, &n)
	    != 0) {
		fail(ctx, 1, "cannot read sessions");
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
		fail(ctx, 1, "no %ssession '%s'", live ? "running " : "", ref);
	else if (found > 1)
		fail(ctx, 1, "'%s' matches %zu sessions; use more of the id",
		    ref, found);
	return found == 1 ? 0 : -1;
}

static void
cmd_attach(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	struct store_session	 row;
	struct session		*s, *best = NULL;

	if (!ctx->has_pty) {
		fail(ctx, 1, "attach needs a terminal: use ssh -t");
		return;
	}
	if (pa->npos == 1) {
		if (session_resolve(ctx, pa->pos[0], 1, &row) != 0)
			return;
		best = server_session_find(ctx->srv, row.id);
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
		fail(ctx, 1, "no running session to attach to");
		return;
	}
	ctx->attach = best;
}

static void
cmd_kill(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	struct store_session	 row;
	struct session		*s;

	if (session_resolve(ctx, pa->pos[0], 1, &row) != 0)
		return;
	s = server_session_find(ctx->srv, row.id);
	if (s == NULL) {
		fail(ctx, 1, "session %s is not running", row.id);
	} else {
		session_kill(s);
		buf_printf(&ctx->out, "killed session %s\n", row.id);
		log_info("session %s killed by %s", row.id, ctx->user);
	}
	store_session_clear(&row);
}

static int
label_valid(const char *s)
{
	size_t	 i, n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
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

	if (!label_valid(pa->pos[1])) {
		fail(ctx, EXIT_USAGE, "a session name is 1 to %d printable "
		    "characters", NAME_MAX_LEN);
		return;
	}
	if (session_resolve(ctx, pa->pos[0], 0, &row) != 0)
		return;
	if (store_session_rename(ctx->srv->store, row.id, pa->pos[1]) != 0)
		fail(ctx, 1, "cannot rename session %s", row.id);
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

static void
ls_json(struct cmd_ctx *ctx, const struct store_session *list, size_t n)
{
	json_t	*arr = json_array();
	char	*text;
	size_t	 i;

	for (i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, session_json(&list[i]));
	text = arr ? json_dumps(arr, JSON_INDENT(2)) : NULL;
	if (text == NULL)
		fail(ctx, 1, "out of memory");
	else
		buf_printf(&ctx->out, "%s\n", text);
	free(text);
	json_decref(arr);
}

static void
ls_text(struct cmd_ctx *ctx, const struct store_session *list, size_t n)
{
	char	 started[ISO8601_LEN], ended[ISO8601_LEN], size[24];
	size_t	 i;

	if (n == 0) {
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
	size_t			 n = 0;

	if (store_session_list(ctx->srv->store, ctx->user_id,
	    pa->present[LS_ALL], &list, &n) != 0) {
		fail(ctx, 1, "cannot read sessions");
		return;
	}
	if (pa->present[LS_JSON])
		ls_json(ctx, list, n);
	else
		ls_text(ctx, list, n);
	store_session_list_free(list, n);
}

static void
cmd_help(struct cmd_ctx *ctx, const struct cmdline_parsed *pa)
{
	size_t	 i;

	buf_puts(&ctx->out, "commands (ssh -p PORT USER@HOST COMMAND):\n");
	for (i = 0; i < NCMDS; i++) {
		char usage[64];
		snprintf(usage, sizeof usage, "%s %s", cmd_table[i].name,
		    cmd_table[i].args);
		buf_printf(&ctx->out, "  %-24s %s\n", usage,
		    cmd_table[i].help);
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
	const char		*msg;
	int			 argc = 0;

	ctx->status = 0;
	if (cmdline_split(line, len, &argv, &argc, &msg) != 0) {
		fail(ctx, EXIT_USAGE, "bad command line: %s", msg);
		goto out;
	}
	if ((e = cmd_find(argv[0])) == NULL) {
		char shown[64];
		snprintf(shown, sizeof shown, "%s", argv[0]);
		fail(ctx, EXIT_USAGE, "unknown command '%s' (try 'help')",
		    shown);
		goto out;
	}
	memset(&pa, 0, sizeof pa);
	if (cmdline_parse(argc, argv, e->opts, e->nopts, &pa, err,
	    sizeof err) != 0) {
		fail(ctx, EXIT_USAGE, "%s: %s\nusage: %s %s", e->name, err,
		    e->name, e->args);
		goto out;
	}
	if (pa.npos < e->min_pos || pa.npos > e->max_pos) {
		fail(ctx, EXIT_USAGE, "%s: wrong number of arguments\n"
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
