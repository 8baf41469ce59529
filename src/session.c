/*
 * session: a PTY, its program and its screen model (session.h).
 *
 * Output path: the PTY master is read at most 64 KiB per wakeup (uv_poll
 * is level-triggered, so a busy PTY cannot starve other handles); the
 * bytes go first to the owner client, raw, then to the screen model's
 * backlog.  libvterm is slower than a PTY on scrolling text, so the
 * model is fed only when someone needs it (a frame, a join, a resize,
 * a re-attach) or the backlog reaches MODEL_BACKLOG_MAX, and a flood of
 * plain text is skipped down to what the final screen shows (vtscan.h):
 * the owner never waits for the model.
 * When the owner falls SESSION_OWNER_HIGH bytes behind, reading stops
 * until it is back under SESSION_OWNER_LOW.  With no owner attached the
 * PTY is always read, so a detached program never blocks.
 *
 * End of a session: SIGCHLD reaps the child (server.c); the session then
 * drains what the PTY still holds, records the exit status and tells the
 * owner client, which passes the status on to the ssh client.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "config.h"
#include "fanout.h"
#include "log.h"
#include "pty.h"
#include "screen.h"
#include "server.h"
#include "session.h"
#include "store.h"
#include "util.h"

#define READ_BUDGET	(64 * 1024)
#define MODEL_BACKLOG_MAX	(1024 * 1024)
/* Below this, a backlog is fed whole: skipping is for floods. */
#define MODEL_SKIP_MIN		(64 * 1024)
#define KILL_GRACE_MS	3000
#define MAX_ENV		96

static void	 session_read(struct session *);
static void	 session_end(struct session *, int);
static void	 on_pty(uv_poll_t *, int, int);
static void	 model_queue(struct session *, const char *, size_t);
static void	 session_audit(struct session *, const char *, const char *,
		    const char *);

static void
poll_update(struct session *s)
{
	int	 ev = 0;

	if (s->ended)
		return;
	if (!s->paused && !s->exited)
		ev |= UV_READABLE;
	if (buf_used(&s->input) > 0 && !s->exited)
		ev |= UV_WRITABLE;
	if (ev == s->poll_events)
		return;
	s->poll_events = ev;
	if (ev == 0)
		uv_poll_stop(&s->poll);
	else
		uv_poll_start(&s->poll, ev, on_pty);
}

/* The child's environment: a clean login-like set, not the daemon's. */
static int
env_build(struct session *s, const struct session_params *p, char **env,
    size_t max)
{
	struct passwd	*pw = getpwuid(getuid());
	const char	*path = getenv("PATH");
	const char	*shell = s->srv->cfg->shell;
	size_t		 n = 0, i;

	if (shell == NULL)
		shell = pty_default_shell();
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
#define ENV_ADD(...) do {						\
	if (n + 1 >= max || asprintf(&env[n], __VA_ARGS__) < 0)		\
		return -1;						\
	n++;								\
} while (0)
	ENV_ADD("TERM=%s", p->term && *p->term ? p->term : "dumb");
	if (s->srv->client_dir != NULL)
		ENV_ADD("PATH=%s:%s", s->srv->client_dir, path);
	else
		ENV_ADD("PATH=%s", path);
	ENV_ADD("SHELL=%s", shell);
	if (pw != NULL) {
		ENV_ADD("HOME=%s", pw->pw_dir);
		ENV_ADD("USER=%s", pw->pw_name);
		ENV_ADD("LOGNAME=%s", pw->pw_name);
	}
	ENV_ADD("TANDEM_SESSION=%s", s->id);
	ENV_ADD("TANDEM_USER=%s", s->owner);
	if (s->srv->control_path != NULL)
		ENV_ADD("TANDEM=%s,%s,%s", s->srv->control_path, s->id,
		    s->control_secret);
	for (i = 0; p->env != NULL && p->env[i] != NULL; i++)
		ENV_ADD("%s", p->env[i]);
#undef ENV_ADD
	env[n] = NULL;
	return 0;
}

static void
env_free(char **env)
{
	size_t	 i;

	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
}

static void
on_handle_closed(uv_handle_t *h)
{
	struct session	*s = h->data;

	if (--s->handles_open > 0)
		return;
	fanout_free(s);
	screen_free(s->screen);
	buf_free(&s->input);
	buf_free(&s->backlog);
	free(s);
}

struct session *
session_new(struct server *srv, const struct session_params *p, char *err,
    size_t errlen)
{
	struct session		*s;
	struct store_session	 row;
	struct pty_spec		 spec;
	char			*env[MAX_ENV] = { NULL };
	struct passwd		*pw = getpwuid(getuid());
	unsigned char		 raw[32];

	if ((s = calloc(1, sizeof *s)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->srv = srv;
	s->master = -1;
	uuid_v4(s->id);
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(s->control_secret, sizeof s->control_secret, raw,
	    sizeof raw);
	sodium_memzero(raw, sizeof raw);
	s->owner_id = p->owner_id;
	snprintf(s->owner, sizeof s->owner, "%s", p->owner);
	s->rows = p->rows;
	s->cols = p->cols;
	s->state = SESSION_DISCONNECTED;
	buf_init(&s->input);
	buf_init(&s->backlog);
	vtscan_init(&s->scan);
	vtscan_init(&s->scan_backlog);
	TAILQ_INIT(&s->viewers);

	s->screen = screen_new(p->rows, p->cols, srv->cfg->scrollback);
	if (s->screen == NULL) {
		snprintf(err, errlen, "cannot create a %dx%d screen",
		    p->cols, p->rows);
		goto fail;
	}
	if (env_build(s, p, env, MAX_ENV) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	memset(&spec, 0, sizeof spec);
	spec.rows = p->rows;
	spec.cols = p->cols;
	spec.shell = srv->cfg->shell ? srv->cfg->shell : pty_default_shell();
	spec.command = srv->cfg->command;
	spec.cwd = pw ? pw->pw_dir : NULL;
	spec.env = env;
	if (pty_spawn(&spec, &s->master, &s->pid, err, errlen) != 0)
		goto fail;
	env_free(env);

	uv_poll_init(srv->loop, &s->poll, s->master);
	uv_timer_init(srv->loop, &s->kill_timer);
	uv_timer_init(srv->loop, &s->frame_timer);
	uv_timer_init(srv->loop, &s->stall_timer);
	uv_timer_init(srv->loop, &s->roster_timer);
	s->poll.data = s->kill_timer.data = s->frame_timer.data = s;
	s->stall_timer.data = s->roster_timer.data = s;
	s->handles_open = 5;
	poll_update(s);

	memset(&row, 0, sizeof row);
	memcpy(row.id, s->id, sizeof row.id);
	row.user_id = s->owner_id;
	row.name = "";
	row.state = SESSION_DISCONNECTED;
	row.started_at = time_now();
	row.cols = s->cols;
	row.rows = s->rows;
	row.client_address = (char *)p->client_address;
	row.auth_method = (char *)p->auth_method;
	row.command = srv->cfg->command ? srv->cfg->command : (char *)spec.shell;
	row.exit_status = -1;
	if (store_session_insert(srv->store, &row) != 0)
		log_warn("session %s: not recorded in the store", s->id);

	TAILQ_INSERT_TAIL(&srv->sessions, s, entry);
	srv->stats.sessions_started++;
	session_audit(s, "session.start", p->client_address, "");
	log_info("session %s started for %s (pid %ld, %dx%d)", s->id, s->owner,
	    (long)s->pid, s->cols, s->rows);
	return s;
fail:
	env_free(env);
	screen_free(s->screen);
	buf_free(&s->input);
	free(s);
	return NULL;
}

static void
session_audit(struct session *s, const char *action, const char *address,
    const char *detail)
{
	struct audit_who	 who = { s->owner_id, s->owner, address };

	audit_log(s->srv, &who, action, s->id, NULL, NULL, "%s", detail);
}

static void
set_state(struct session *s, enum session_state state, int exit_status)
{
	if (s->state == state)
		return;
	s->state = state;
	if (store_session_set_state(s->srv->store, s->id, state, time_now(),
	    exit_status) != 0)
		log_warn("session %s: state not recorded", s->id);
}

static int
owner_send(struct session *s, const char *p, size_t n)
{
	struct client	*c = s->owner_client;

	if (c == NULL || n == 0)
		return 0;
	return c->ops->write(c->ctx, p, n);
}

/*
 * Make c the owner client.  A previous owner client is detached (as
 * "tmux attach -d" does): the owner's size is authoritative, and two
 * terminals of different sizes cannot both be.
 */
int
session_attach(struct session *s, struct client *c, int full)
{
	struct buf	 repaint = BUF_INIT;
	struct client	*old = s->owner_client;
	int		 r = 0;

	if (s->ended)
		return -1;
	if (old != NULL) {
		s->owner_client = NULL;
		old->session = NULL;
		old->ops->detached(old->ctx,
		    "session attached from another client");
	}
	s->owner_client = c;
	c->session = s;
	if (c->rows > 0 && c->cols > 0 &&
	    (c->rows != s->rows || c->cols != s->cols))
		session_resize(s, c->rows, c->cols);
	if (store_session_set_client(s->srv->store, s->id, c->address,
	    "publickey") != 0)
		log_warn("session %s: client not recorded", s->id);
	set_state(s, SESSION_ACTIVE, -1);
	log_info("session %s: %s attached from %s", s->id, s->owner,
	    c->address);
	if (!full)
		return 0;

	/* A re-attaching terminal has seen none of the stream: repaint it
	 * from the model, entering the alternate screen if the program is
	 * in it, so that the raw bytes that follow land where they should. */
	session_model_sync(s);
	if (screen_altscreen(s->screen))
		buf_puts(&repaint, "\033[?1049h");
	if (screen_render_full(s->screen, &repaint, 1) != 0 ||
	    owner_send(s, buf_ptr(&repaint), buf_used(&repaint)) != 0)
		r = -1;
	buf_free(&repaint);
	if (s->nviewers > 0)
		fanout_owner_title(s);	/* the repaint restored the program's */
	return r;
}

void
session_detach(struct session *s, struct client *c)
{
	if (s->owner_client != c)
		return;
	s->owner_client = NULL;
	c->session = NULL;
	if (s->paused) {
		s->paused = 0;
		poll_update(s);
	}
	if (!s->ended) {
		set_state(s, SESSION_DISCONNECTED, -1);
		session_audit(s, "session.disconnect", c->address, "");
		log_info("session %s: owner detached", s->id);
	}
}

/*
 * Send the owner client away, as a detach would (the program keeps
 * running).  1 if there was one.
 */
int
session_owner_disconnect(struct session *s, const char *why)
{
	struct client	*c = s->owner_client;

	if (c == NULL)
		return 0;
	session_detach(s, c);
	c->ops->detached(c->ctx, why);
	return 1;
}

/*
 * Keystrokes for the program.  What the PTY does not take now waits in
 * s->input; past SESSION_INPUT_MAX the caller is told to hold the rest,
 * which makes libssh stop growing the client's window.
 */
size_t
session_input(struct session *s, const char *p, size_t n)
{
	ssize_t	 w = 0;

	if (s->ended || s->exited)
		return n;	/* nobody will read it: drop */
	if (buf_used(&s->input) == 0) {
		w = write(s->master, p, n);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return n;
		if (w < 0)
			w = 0;
	}
	if ((size_t)w < n) {
		size_t room = SESSION_INPUT_MAX - buf_used(&s->input);
		size_t take = n - (size_t)w;
		if (buf_used(&s->input) >= SESSION_INPUT_MAX)
			take = 0;
		else if (take > room)
			take = room;
		if (take > 0 && buf_append(&s->input, p + w, take) != 0)
			take = 0;
		w += (ssize_t)take;
		poll_update(s);
	}
	return (size_t)w;
}

static void
flush_input(struct session *s)
{
	ssize_t	 w;

	while (buf_used(&s->input) > 0) {
		w = write(s->master, buf_ptr(&s->input), buf_used(&s->input));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w <= 0) {
			buf_reset(&s->input);
			break;
		}
		buf_consume(&s->input, (size_t)w);
	}
	poll_update(s);
}

int
session_resize(struct session *s, int rows, int cols)
{
	if (rows < 1 || cols < 1 || rows > SCREEN_MAX_ROWS ||
	    cols > SCREEN_MAX_COLS)
		return -1;
	if (rows == s->rows && cols == s->cols)
		return 0;
	/* What was written at the old size is laid out at the old size. */
	session_model_sync(s);
	if (screen_resize(s->screen, rows, cols) != 0)
		return -1;
	s->rows = rows;
	s->cols = cols;
	if (!s->ended && pty_set_size(s->master, rows, cols) != 0)
		log_warn("session %s: TIOCSWINSZ: %s", s->id, strerror(errno));
	if (store_session_set_size(s->srv->store, s->id, cols, rows) != 0)
		log_warn("session %s: size not recorded", s->id);
	fanout_resized(s);
	return 0;
}

/* ---- the screen model ------------------------------------------------ */

static void
model_feed(void *ctx, const char *p, size_t n)
{
	screen_feed(ctx, p, n);
}

static int
model_may_skip(void *ctx)
{
	return !screen_region_partial(ctx);
}

/* Bring the screen model up to date with the stream. */
void
session_model_sync(struct session *s)
{
	struct vtscan_sink	 sink = { model_feed, model_may_skip, s->screen };
	size_t			 n = buf_used(&s->backlog), skipped;

	if (n == 0)
		return;
	if (n < MODEL_SKIP_MIN)
		screen_feed(s->screen, buf_ptr(&s->backlog), n);
	else {
		skipped = vtscan_feed_skipping(&s->scan_backlog,
		    buf_ptr(&s->backlog), n, s->rows, &sink);
		s->skipped += skipped;
		s->srv->stats.model_bytes_skipped += skipped;
	}
	buf_reset(&s->backlog);
	s->scan_backlog = s->scan;
}

static void
model_queue(struct session *s, const char *p, size_t n)
{
	vtscan_run(&s->scan, p, n);
	if (buf_append(&s->backlog, p, n) != 0) {
		/* No memory for the backlog: feed now, slowly but right. */
		session_model_sync(s);
		screen_feed(s->screen, p, n);
		s->scan_backlog = s->scan;
		return;
	}
	if (buf_used(&s->backlog) >= MODEL_BACKLOG_MAX)
		session_model_sync(s);
}

/* One read of at most READ_BUDGET bytes; returns bytes read, 0 at EOF. */
static ssize_t
read_once(struct session *s)
{
	char	 data[READ_BUDGET];
	ssize_t	 n;

	n = read(s->master, data, sizeof data);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -1;
	if (n <= 0)
		return 0;	/* EIO: every slave fd is closed */
	owner_send(s, data, (size_t)n);
	model_queue(s, data, (size_t)n);
	s->out_since_frame += (size_t)n;
	if (s->title_pending)
		fanout_owner_title(s);
	fanout_schedule(s);
	return n;
}

static void
session_read(struct session *s)
{
	struct client	*c = s->owner_client;

	if (read_once(s) == 0) {
		/* The PTY hung up; SIGCHLD brings the status.  Stop polling
		 * so that the level-triggered poll does not spin. */
		s->paused = 1;
		poll_update(s);
		return;
	}
	if (c != NULL && c->ops->queued(c->ctx) > SESSION_OWNER_HIGH) {
		s->paused = 1;
		poll_update(s);
	}
}

void
session_client_drained(struct session *s, struct client *c)
{
	if (c->viewer) {
		fanout_drained(s, c);
		return;
	}
	if (!s->paused || s->owner_client != c || s->exited)
		return;
	if (c->ops->queued(c->ctx) < SESSION_OWNER_LOW) {
		s->paused = 0;
		poll_update(s);
	}
}

static void
on_pty(uv_poll_t *h, int status, int events)
{
	struct session	*s = h->data;

	if (status < 0) {
		s->paused = 1;
		poll_update(s);
		return;
	}
	if (events & UV_WRITABLE)
		flush_input(s);
	if (events & UV_READABLE)
		session_read(s);
}

static void
on_kill_timer(uv_timer_t *t)
{
	struct session	*s = t->data;

	if (!s->exited) {
		log_warn("session %s: pid %ld ignored SIGHUP, sending SIGKILL",
		    s->id, (long)s->pid);
		kill(-s->pid, SIGKILL);
		kill(s->pid, SIGKILL);
	}
}

/* Hang up on the program as a closing terminal would; SIGKILL if it
 * has not gone within KILL_GRACE_MS. */
void
session_kill(struct session *s)
{
	if (s->exited || s->ended)
		return;
	kill(-s->pid, SIGHUP);
	kill(-s->pid, SIGCONT);
	uv_timer_start(&s->kill_timer, on_kill_timer, KILL_GRACE_MS, 0);
}

void
session_child_exited(struct session *s, int wstatus)
{
	int	 i;

	/* Whatever the program wrote before it exited is still in the PTY:
	 * pass it on before the exit status, as sshd does. */
	for (i = 0; i < 64; i++)
		if (read_once(s) <= 0)
			break;
	s->exited = 1;
	session_end(s, wstatus);
}

static void
session_end(struct session *s, int wstatus)
{
	struct client	*c = s->owner_client;
	char		 detail[64];
	int		 code = -1;

	if (s->ended)
		return;
	if (WIFEXITED(wstatus))
		code = WEXITSTATUS(wstatus);
	set_state(s, SESSION_TERMINATED, code);
	s->ended = 1;
	if (WIFSIGNALED(wstatus))
		snprintf(detail, sizeof detail, "signal=%d", WTERMSIG(wstatus));
	else
		snprintf(detail, sizeof detail, "exit_status=%d", code);
	session_audit(s, "session.end", "", detail);
	uv_timer_stop(&s->kill_timer);
	uv_poll_stop(&s->poll);
	s->poll_events = 0;
	/* Background jobs may still hold the terminal: hang up on them. */
	kill(-s->pid, SIGHUP);
	close(s->master);
	s->master = -1;
	log_info("session %s ended (%s %d)", s->id,
	    WIFSIGNALED(wstatus) ? "signal" : "status",
	    WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : code);

	if (c != NULL) {
		s->owner_client = NULL;
		c->session = NULL;
		c->ops->ended(c->ctx, wstatus);
	}
	session_viewers_kick(s, NULL, "the session ended");
	TAILQ_REMOVE(&s->srv->sessions, s, entry);
	uv_close((uv_handle_t *)&s->poll, on_handle_closed);
	uv_close((uv_handle_t *)&s->kill_timer, on_handle_closed);
	uv_close((uv_handle_t *)&s->frame_timer, on_handle_closed);
	uv_close((uv_handle_t *)&s->stall_timer, on_handle_closed);
	uv_close((uv_handle_t *)&s->roster_timer, on_handle_closed);
}

/* Daemon shutdown: the program is hung up and the session recorded as
 * terminated, since no tandemd will be there to reap it. */
void
session_shutdown(struct session *s)
{
	if (s->ended)
		return;
	kill(-s->pid, SIGHUP);
	kill(-s->pid, SIGCONT);
	s->exited = 1;
	session_end(s, W_EXITCODE(0, SIGHUP));
}
