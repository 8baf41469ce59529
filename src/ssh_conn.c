/*
 * ssh_conn: one SSH connection, its authentication and its channels
 * (ssh_conn.h).
 *
 * Life of a connection: the listener hands over an accepted socket; the
 * key exchange runs non-blocking; a login grace timer drops clients that
 * do not authenticate in time, and failed attempts are counted (libssh
 * has neither LoginGraceTime nor MaxAuthTries).  Once in, each "session"
 * channel either starts a new tandem session (shell request), runs one
 * exec command, or attaches to an existing session ("attach").
 *
 * libssh callbacks only record requests in struct chan; conn_process(),
 * run after every ssh_event_dopoll(), acts on them.  It also retries
 * pending channel output every time, because libssh 0.10 does not report
 * a reopened window (notes/libraries.md).
 */
#include "compat.h"
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <sodium.h>

#include "buf.h"
#include "cmdline.h"
#include "command.h"
#include "config.h"
#include "log.h"
#include "audit.h"
#include "prompt.h"
#include "screen.h"
#include "secrets.h"
#include "share.h"
#include "server.h"
#include "session.h"
#include "ssh_conn.h"
#include "store.h"
#include "util.h"

#define MAX_CHANNELS	10	/* open at once on one connection */
#define MAX_CHAN_ENV	32
#define MAX_ENV_VALUE	1024
#define MAX_TERM	64
#define WRITE_CHUNK	(64 * 1024)

enum chan_state {
	CH_IDLE,	/* requests may still come */
	CH_START_SHELL,	/* shell requested: start a session */
	CH_START_EXEC,	/* exec requested: run a command */
	CH_PROMPT,	/* a command reads a typed line (passwd) */
	CH_RUNNING,	/* the owner client of a session */
	CH_CLOSING,	/* flush output, then exit status, EOF, close */
	CH_DONE,	/* closed from our side */
};

struct chan {
	TAILQ_ENTRY(chan)			 entry;
	struct conn				*conn;
	ssh_channel				 ch;
	struct ssh_channel_callbacks_struct	 cb;
	enum chan_state				 state;

	int		 has_pty;
	char		 term[MAX_TERM + 1];
	char		*env[MAX_CHAN_ENV + 1];
	size_t		 nenv;
	char		*exec;

	struct client	 client;	/* as a session's owner */
	struct buf	 early;		/* input sent before the session ran */
	struct buf	 out;
	struct buf	 err;
	struct prompt	*prompt;	/* CH_PROMPT */
	char		*prompt_first;	/* the password typed first */
	int		 exit_kind;	/* 0 none, 1 status, 2 signal */
	int		 exit_value;
	int		 peer_closed;
	int		 peer_eof;	/* the client sends no more input */
	int		 flushing;	/* inside chan_flush */
};
TAILQ_HEAD(chan_list, chan);

struct conn {
	TAILQ_ENTRY(conn)			 entry;
	struct server				*srv;
	ssh_session				 ssh;
	ssh_event				 event;
	int					 fd;	/* our dup, see conn_accept */
	uv_poll_t				 poll;
	uv_timer_t				 timer;
	int					 handles_open;
	struct ssh_server_callbacks_struct	 scb;
	char					 addr[64];

	int		 kex_done;
	int		 authed;
	int		 auth_failures;
	char		 user[33];
	int64_t		 user_id;
	int		 admin;
	char		 fingerprint[128];
	int64_t		 last_read_ms;

	struct chan_list chans;
	int		 nchans;
	char		*close_reason;	/* set: tear down after this turn */
	int		 close_delayed;	/* a refused join: answer after a
					   random delay */
	int		 dirty;		/* libssh ran outside on_conn_io */
	int		 dead;

	/* Logged in with a share token as the user name: a viewer. */
	int			 token_login;
	struct store_share	 share;
	int			 share_loaded;
	int			 need_password;
	char			 ip[64];
};

static void	 conn_destroy(struct conn *, const char *);
static void	 conn_process(struct conn *);
static void	 conn_update_poll(struct conn *);
static void	 on_conn_io(uv_poll_t *, int, int);
static void	 on_conn_timer(uv_timer_t *);
static void	 conn_mark(struct conn *);
static void	 key_fingerprint(ssh_key, char *, size_t);

/* ---- owner client operations ------------------------------------- */

static void	 chan_flush(struct chan *);
static void	 chan_settle(struct chan *);
static void	 chan_error(struct chan *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	 chan_prompt_input(struct chan *, const char *, size_t);

static int
client_write(void *ctx, const char *p, size_t n)
{
	struct chan	*c = ctx;

	if (c->state >= CH_CLOSING || buf_append(&c->out, p, n) != 0)
		return -1;
	chan_flush(c);
	conn_mark(c->conn);
	return 0;
}

static size_t
client_queued(void *ctx)
{
	struct chan	*c = ctx;
	size_t		 n = buf_used(&c->out);

	/* A viewer's frames wait in libssh, or for the client's window. */
	if (c->client.viewer && (ssh_channel_window_size(c->ch) == 0 ||
	    (ssh_get_poll_flags(c->conn->ssh) & SSH_WRITE_PENDING)))
		n++;
	return n;
}

static void
client_kick(void *ctx)
{
	struct chan	*c = ctx;

	chan_flush(c);
	conn_mark(c->conn);
}

static void
client_ended(void *ctx, int wstatus)
{
	struct chan	*c = ctx;

	if (WIFSIGNALED(wstatus)) {
		c->exit_kind = 2;
		c->exit_value = WTERMSIG(wstatus);
	} else {
		c->exit_kind = 1;
		c->exit_value = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 255;
	}
	c->state = CH_CLOSING;
	chan_settle(c);
}

static void
client_detached(void *ctx, const char *why)
{
	struct chan	*c = ctx;
	struct buf	 msg = BUF_INIT;

	if (c->client.viewer)
		buf_puts(&msg, "\033[?1049l");
	screen_render_reset(&msg);
	buf_printf(&msg, "[%s: %s]\r\n", c->client.viewer ? "tandem" :
	    "detached", why);
	buf_append(&c->out, buf_ptr(&msg), buf_used(&msg));
	buf_free(&msg);
	c->exit_kind = 1;
	c->exit_value = 0;
	c->state = CH_CLOSING;
	/* A viewer that stopped reading would never see the message, and
	 * the connection would linger: hang up. */
	if (c->client.stalled && c->conn->close_reason == NULL) {
		c->conn->close_reason = strdup(why);
		conn_mark(c->conn);
		return;
	}
	chan_settle(c);
}

static const struct client_ops chan_client_ops = {
	.write = client_write,
	.queued = client_queued,
	.kick = client_kick,
	.ended = client_ended,
	.detached = client_detached,
};

/* ---- channel requests (libssh callbacks: record only) ------------- */

static int
printable(const char *s, size_t max)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= max || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	}
	return 1;
}

static int
size_valid(int cols, int rows)
{
	return cols >= 1 && rows >= 1 && cols <= SCREEN_MAX_COLS &&
	    rows <= SCREEN_MAX_ROWS;
}

static int
cb_data(ssh_session ssh, ssh_channel ch, void *data, uint32_t len,
    int is_stderr, void *ud)
{
	struct chan	*c = ud;

	c->conn->last_read_ms = time_now_ms();
	if (c->state == CH_RUNNING && c->client.session != NULL &&
	    c->client.viewer) {
		session_viewer_input(c->client.session, &c->client, data, len);
		return (int)len;
	}
	if (c->state == CH_RUNNING && c->client.session != NULL)
		return (int)session_input(c->client.session, data, len);
	if (c->state == CH_PROMPT) {
		chan_prompt_input(c, data, len);
		return (int)len;
	}
	/* A client with piped input sends it right behind the shell
	 * request, before the session exists: keep it for the session. */
	if (c->state <= CH_START_EXEC &&
	    buf_used(&c->early) + len <= SESSION_INPUT_MAX)
		buf_append(&c->early, data, len);
	return (int)len;	/* else nobody will read it: drop, as sshd does */
}

/* End of input: a prompt still waiting gets nothing more. */
static void
cb_eof(ssh_session ssh, ssh_channel ch, void *ud)
{
	struct chan	*c = ud;

	c->peer_eof = 1;
	if (c->state == CH_PROMPT) {
		chan_error(c, 1, "passwd: no password given");
		conn_mark(c->conn);
	}
}

static void
cb_close(ssh_session ssh, ssh_channel ch, void *ud)
{
	struct chan	*c = ud;

	c->peer_closed = 1;
}

static int
cb_pty_request(ssh_session ssh, ssh_channel ch, const char *term, int cols,
    int rows, int pxw, int pxh, void *ud)
{
	struct chan	*c = ud;

	if (c->state != CH_IDLE || c->has_pty)
		return -1;
	if (cols == 0 && rows == 0) {
		/* "ssh -tt" with a non-terminal stdin sends 0x0. */
		cols = 80;
		rows = 24;
	}
	if (!size_valid(cols, rows)) {
		log_warn("%s: refused pty request of %dx%d", c->conn->addr,
		    cols, rows);
		return -1;
	}
	if (term == NULL || !printable(term, MAX_TERM)) {
		log_warn("%s: refused pty request with a bad TERM",
		    c->conn->addr);
		return -1;
	}
	snprintf(c->term, sizeof c->term, "%s", term);
	c->client.cols = cols;
	c->client.rows = rows;
	c->has_pty = 1;
	return 0;
}

static int
cb_window_change(ssh_session ssh, ssh_channel ch, int cols, int rows,
    int pxw, int pxh, void *ud)
{
	struct chan	*c = ud;

	if (!size_valid(cols, rows)) {
		log_warn("%s: ignored window change to %dx%d", c->conn->addr,
		    cols, rows);
		return -1;
	}
	c->client.cols = cols;
	c->client.rows = rows;
	if (c->client.session != NULL && c->client.viewer)
		session_viewer_resize(c->client.session, &c->client, rows, cols);
	else if (c->client.session != NULL)
		session_resize(c->client.session, rows, cols);
	return 0;
}

static int
cb_env(ssh_session ssh, ssh_channel ch, const char *name, const char *value,
    void *ud)
{
	struct chan	*c = ud;
	char		*kv;

	if (c->state != CH_IDLE || c->nenv >= MAX_CHAN_ENV || name == NULL ||
	    value == NULL || !printable(value, MAX_ENV_VALUE) ||
	    !config_env_accepted(c->conn->srv->cfg, name)) {
		log_debug("%s: refused env request", c->conn->addr);
		return -1;
	}
	if (asprintf(&kv, "%s=%s", name, value) < 0)
		return -1;
	c->env[c->nenv++] = kv;
	return 0;
}

static int
cb_shell(ssh_session ssh, ssh_channel ch, void *ud)
{
	struct chan	*c = ud;

	if (c->state != CH_IDLE)
		return -1;
	c->state = CH_START_SHELL;
	return 0;
}

static int
cb_exec(ssh_session ssh, ssh_channel ch, const char *command, void *ud)
{
	struct chan	*c = ud;

	/* Any length is taken here, so that an overlong line gets
	 * cmdline_split's clear error rather than a bare refusal. */
	if (c->state != CH_IDLE || command == NULL)
		return -1;
	if ((c->exec = strdup(command)) == NULL)
		return -1;
	c->state = CH_START_EXEC;
	return 0;
}

static int
cb_subsystem(ssh_session ssh, ssh_channel ch, const char *name, void *ud)
{
	struct chan	*c = ud;

	log_info("%s: refused subsystem request", c->conn->addr);
	return -1;
}

static ssh_channel
cb_channel_open(ssh_session ssh, void *ud)
{
	struct conn	*conn = ud;
	struct chan	*c;

	if (!conn->authed || conn->nchans >= MAX_CHANNELS)
		return NULL;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	if ((c->ch = ssh_channel_new(ssh)) == NULL) {
		free(c);
		return NULL;
	}
	c->conn = conn;
	buf_init(&c->early);
	buf_init(&c->out);
	buf_init(&c->err);
	c->client.ops = &chan_client_ops;
	c->client.ctx = c;
	c->client.cols = 80;
	c->client.rows = 24;
	/* Sessions record the host alone; logs keep "HOST port N". */
	snprintf(c->client.address, sizeof c->client.address, "%.*s",
	    (int)strcspn(conn->addr, " "), conn->addr);

	ssh_callbacks_init(&c->cb);
	c->cb.userdata = c;
	c->cb.channel_data_function = cb_data;
	c->cb.channel_close_function = cb_close;
	c->cb.channel_eof_function = cb_eof;
	c->cb.channel_pty_request_function = cb_pty_request;
	c->cb.channel_pty_window_change_function = cb_window_change;
	c->cb.channel_env_request_function = cb_env;
	c->cb.channel_shell_request_function = cb_shell;
	c->cb.channel_exec_request_function = cb_exec;
	c->cb.channel_subsystem_request_function = cb_subsystem;
	ssh_set_channel_callbacks(c->ch, &c->cb);
	TAILQ_INSERT_TAIL(&conn->chans, c, entry);
	conn->nchans++;
	return c->ch;
}

/* ---- authentication ------------------------------------------------ */

static void
auth_failed(struct conn *c, const char *user, const char *why)
{
	const struct config	*cfg = c->srv->cfg;

	c->auth_failures++;
	c->srv->stats.auth_failures++;
	log_warn("auth failed for %s from %s: %s", user, c->addr, why);
	if (c->auth_failures >= cfg->max_auth_tries && c->close_reason == NULL)
		c->close_reason = strdup("Too many authentication failures");
}

static void
conn_authed(struct conn *c, const char *method, const char *fp)
{
	c->authed = 1;
	uv_timer_stop(&c->timer);
	if (c->srv->cfg->keepalive_interval > 0) {
		uint64_t ms = (uint64_t)c->srv->cfg->keepalive_interval * 500;
		uv_timer_start(&c->timer, on_conn_timer, ms, ms);
	}
	/* libssh 0.10 may miss the end of the key exchange when a client
	 * pipelines its auth (upstream bac5d3f1): being in proves it. */
	c->kex_done = 1;
	snprintf(c->fingerprint, sizeof c->fingerprint, "%s", fp);
	c->srv->stats.logins++;
	if (c->token_login)
		log_info("accepted %s for share %s (%s) from %s", method,
		    c->share.id, c->user[0] ? c->user : "guest", c->addr);
	else
		log_info("accepted %s for %s from %s: %s", method, c->user,
		    c->addr, fp);
}

/*
 * A join through a token is refused: count it against the address, audit
 * it, and disconnect with the reason after a short random delay (so that
 * the answer's timing says nothing about the token).
 */
static void
token_audit(struct conn *c, const char *token, const char *why)
{
	struct audit_who	 who = { 0, "", c->ip };
	char			 prefix[TOKEN_PREFIX_LEN + 1];

	token_prefix(token, prefix);
	audit_log(c->srv, &who, "viewer.refused", c->share_loaded ?
	    c->share.session_id : NULL, c->share_loaded ? c->share.id : NULL,
	    NULL, "token=%s reason=%s", prefix, why);
}

static void
token_refuse(struct conn *c, const char *token, const char *why)
{
	char			 prefix[TOKEN_PREFIX_LEN + 1], msg[256];

	token_prefix(token, prefix);
	ratelimit_failure(c->srv, c->ip);
	c->srv->stats.auth_failures++;
	c->srv->stats.tokens_refused++;
	token_audit(c, token, why);
	log_warn("refused join with token %s from %s: %s", prefix, c->addr,
	    why);
	if (c->close_reason == NULL) {
		snprintf(msg, sizeof msg, "tandem: %s", why);
		c->close_reason = strdup(msg);
		c->close_delayed = 1;
	}
}

/* Load the share a token names; the reason it cannot be used, or NULL. */
static const char *
token_share(struct conn *c, const char *token)
{
	unsigned char	 hash[TOKEN_HASH_BYTES];
	struct session	*s;

	if (c->share_loaded) {
		token_hash(c->srv->dd.secret, token, hash);
		if (!token_hash_equal(hash, c->share.token_hash))
			return "the share token changed during login";
		return NULL;
	}
	if (ratelimit_blocked(c->srv, c->ip))
		return "too many failed attempts from your address; try again "
		    "in a minute";
	token_hash(c->srv->dd.secret, token, hash);
	if (store_share_find_token(c->srv->store, hash, &c->share) != 0)
		return "unknown share token";
	c->share_loaded = 1;
	c->token_login = 1;
	/* The viewer is not known yet: only what holds for anyone. */
	if (c->share.state != SHARE_ACTIVE ||
	    c->share.expires_at <= time_now() ||
	    server_session_find(c->srv, c->share.session_id) == NULL)
		return share_refusal(c->srv, &c->share, -1, &s);
	return NULL;
}

static int
is_token(const char *user)
{
	return user != NULL && strlen(user) == TOKEN_LEN &&
	    token_format_valid(user);
}

/* Past the key (or none): a password share still asks for its password. */
static int
token_accept(struct conn *c, const char *method, const char *fp)
{
	if (c->share.password_hash != NULL) {
		c->need_password = 1;
		ssh_set_auth_methods(c->ssh, SSH_AUTH_METHOD_INTERACTIVE);
		return SSH_AUTH_PARTIAL;
	}
	conn_authed(c, method, fp);
	return SSH_AUTH_SUCCESS;
}

static int
cb_auth_none(ssh_session ssh, const char *user, void *ud)
{
	struct conn	*c = ud;
	const char	*why;

	if (!is_token(user) || c->close_reason != NULL)
		return SSH_AUTH_DENIED;
	if ((why = token_share(c, user)) != NULL) {
		token_refuse(c, user, why);
		return SSH_AUTH_DENIED;
	}
	/* Only a --no-auth share without a key list lets a guest in. */
	if (c->share.require_auth || c->share.authorized_keys != NULL)
		return SSH_AUTH_DENIED;
	c->user[0] = '\0';
	c->user_id = 0;
	return token_accept(c, "none", "");
}

/* A key offered for a token login: who is the viewer, and may they? */
static int
token_key_decide(struct conn *c, ssh_key key, int final, const char **why)
{
	struct store_user	 u;
	char			*blob = NULL;
	const char		*type = ssh_key_type_to_char(ssh_key_type(key));
	int64_t			 uid = 0;
	int			 ok = 0;

	*why = "key not accepted";
	if (ssh_pki_export_pubkey_base64(key, &blob) != SSH_OK)
		return 0;
	if (!share_key_allowed(&c->share, type, blob))
		*why = "key is not in the share's authorized keys";
	else if (store_key_owner(c->srv->store, type, blob, &uid) != 0 &&
	    (c->share.require_auth || c->share.kind == SHARE_CLAIM))
		*why = "key does not belong to a known user";
	else
		ok = 1;
	free(blob);
	if (!ok || !final)
		return ok;
	c->user[0] = '\0';
	c->user_id = 0;
	if (uid != 0 && store_user_get_id(c->srv->store, uid, &u) == 0) {
		snprintf(c->user, sizeof c->user, "%s", u.name);
		c->user_id = uid;
	}
	return 1;
}

static int
cb_auth_token_key(struct conn *c, const char *token, ssh_key key, int final)
{
	const char	*why;
	char		 fp[128];

	if ((why = token_share(c, token)) != NULL) {
		token_refuse(c, token, why);
		return SSH_AUTH_DENIED;
	}
	key_fingerprint(key, fp, sizeof fp);
	if (!token_key_decide(c, key, final, &why)) {
		char detail[256];
		snprintf(detail, sizeof detail, "share %s, publickey %s: %s",
		    c->share.id, fp, why);
		auth_failed(c, "(share token)", detail);
		token_audit(c, token, detail);
		return SSH_AUTH_DENIED;
	}
	if (!final)
		return SSH_AUTH_SUCCESS;
	return token_accept(c, "publickey", fp);
}

static int
cb_auth_password(ssh_session ssh, const char *user, const char *pw, void *ud)
{
	struct conn	*c = ud;

	auth_failed(c, user, "password authentication is not accepted");
	return SSH_AUTH_DENIED;
}

static void
key_fingerprint(ssh_key key, char *out, size_t len)
{
	unsigned char	*hash = NULL;
	size_t		 hlen = 0;
	char		*fp;

	snprintf(out, len, "?");
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash,
	    &hlen) != 0)
		return;
	if ((fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash,
	    hlen)) != NULL) {
		snprintf(out, len, "%s", fp);
		ssh_string_free_char(fp);
	}
	ssh_clean_pubkey_hash(&hash);
}

/*
 * Decide whether key may log in as user.  With final unset this is the
 * client asking whether the key would do; nothing is recorded then.  With
 * final set the signature is verified, and under enroll = first-key an
 * unknown name is created and bound to the key.
 */
static int
auth_key_decide(struct conn *c, const char *user, ssh_key key,
    const char *fp, int final, const char **why)
{
	struct store_user	 u;
	struct store_key	 k;
	char			*blob = NULL;
	int			 r, ok = 0;

	*why = "key not accepted";
	if (ssh_pki_export_pubkey_base64(key, &blob) != SSH_OK)
		return 0;
	memset(&k, 0, sizeof k);
	k.type = (char *)ssh_key_type_to_char(ssh_key_type(key));
	k.blob = blob;
	k.fingerprint = (char *)fp;
	k.comment = "";

	r = store_user_get(c->srv->store, user, &u);
	if (r == 0) {
		ok = store_key_find(c->srv->store, u.id, k.type, blob) == 0;
		if (!ok)
			*why = "key is not registered for this user";
	} else if (r == STORE_NOTFOUND &&
	    c->srv->cfg->enroll == ENROLL_FIRST_KEY) {
		if (!final)
			ok = 1;
		else if (store_user_enroll(c->srv->store, user, &k, &u.id)
		    == 0) {
			ok = store_user_get_id(c->srv->store, u.id, &u) == 0;
			log_info("enrolled new user %s with key %s from %s",
			    user, fp, c->addr);
		} else
			*why = "key already belongs to another user";
	} else if (r == STORE_NOTFOUND)
		*why = "unknown user (enroll = closed)";
	else
		*why = "store error";
	if (ok && final) {
		snprintf(c->user, sizeof c->user, "%s", u.name);
		c->user_id = u.id;
		c->admin = u.admin;
	}
	free(blob);
	return ok;
}

static int
cb_auth_pubkey(ssh_session ssh, const char *user, struct ssh_key_struct *key,
    char state, void *ud)
{
	struct conn	*c = ud;
	char		 fp[128];
	const char	*why;
	int		 final = state == SSH_PUBLICKEY_STATE_VALID;

	if (c->close_reason != NULL)
		return SSH_AUTH_DENIED;
	if (state != SSH_PUBLICKEY_STATE_NONE && !final) {
		auth_failed(c, user ? user : "?", "bad signature");
		return SSH_AUTH_DENIED;
	}
	if (is_token(user))
		return cb_auth_token_key(c, user, key, final);
	if (!user_name_valid(user)) {
		auth_failed(c, "(invalid name)", "user name not valid");
		return SSH_AUTH_DENIED;
	}
	key_fingerprint(key, fp, sizeof fp);
	if (!auth_key_decide(c, user, key, fp, final, &why)) {
		char detail[256];
		snprintf(detail, sizeof detail, "publickey %s: %s", fp, why);
		auth_failed(c, user, detail);
		return SSH_AUTH_DENIED;
	}
	if (!final)
		return SSH_AUTH_SUCCESS;
	conn_authed(c, "publickey", fp);
	return SSH_AUTH_SUCCESS;
}

/*
 * keyboard-interactive, for the password of a share: libssh 0.10 has no
 * server callback for it, so it arrives as a message.  Argon2id costs
 * tens of milliseconds on the loop; the per-address limit on failures
 * bounds what a guesser can make it spend.
 */
static int
cb_message(ssh_session ssh, ssh_message msg, void *ud)
{
	struct conn	*c = ud;
	const char	*prompts[] = { "Share password: " };
	char		 echo[] = { 0 };
	const char	*answer;

	if (ssh_message_type(msg) != SSH_REQUEST_AUTH ||
	    ssh_message_subtype(msg) != SSH_AUTH_METHOD_INTERACTIVE)
		return 1;
	if (!c->need_password || c->close_reason != NULL) {
		if (!ssh_message_auth_kbdint_is_response(msg))
			auth_failed(c, ssh_message_auth_user(msg) ?
			    ssh_message_auth_user(msg) : "?",
			    "keyboard-interactive is not accepted");
		ssh_message_reply_default(msg);
		return 0;
	}
	if (!ssh_message_auth_kbdint_is_response(msg)) {
		ssh_message_auth_interactive_request(msg, "tandem",
		    "This share needs a password.", 1, prompts, echo);
		return 0;
	}
	answer = ssh_userauth_kbdint_getnanswers(ssh) == 1 ?
	    ssh_userauth_kbdint_getanswer(ssh, 0) : NULL;
	if (answer != NULL && !ratelimit_blocked(c->srv, c->ip) &&
	    password_verify(c->share.password_hash, answer) == 1) {
		c->need_password = 0;
		conn_authed(c, "password", c->fingerprint);
		ssh_message_auth_reply_success(msg, 0);
		return 0;
	}
	ratelimit_failure(c->srv, c->ip);
	auth_failed(c, "(share token)", "wrong share password");
	token_audit(c, ssh_message_auth_user(msg) ? ssh_message_auth_user(msg)
	    : "", "wrong share password");
	if (c->close_reason == NULL) {
		c->close_reason = strdup("tandem: wrong password");
		c->close_delayed = 1;
	}
	ssh_message_reply_default(msg);
	return 0;
}

/* ---- channel work (outside libssh callbacks) ----------------------- */

static void
chan_flush_buf(struct chan *c, struct buf *b, int is_stderr)
{
	uint32_t	 win;
	size_t		 n;
	int		 w;

	while (buf_used(b) > 0) {
		win = ssh_channel_window_size(c->ch);
		if (win == 0)
			return;
		n = buf_used(b);
		if (n > win)
			n = win;
		if (n > WRITE_CHUNK)
			n = WRITE_CHUNK;
		w = is_stderr ? ssh_channel_write_stderr(c->ch, buf_ptr(b),
		    (uint32_t)n) : ssh_channel_write(c->ch, buf_ptr(b),
		    (uint32_t)n);
		if (w == SSH_ERROR) {
			buf_reset(b);
			return;
		}
		if (w <= 0)
			return;
		buf_consume(b, (size_t)w);
	}
}

static void	 chan_write_queue(struct chan *, struct frameq *);

/* A viewer's frames, sent from the shared chunks as the window allows;
 * the time it takes counts for the session's frame pacing. */
static void
chan_flush_queue(struct chan *c)
{
	struct frameq	*q = &c->client.queue;
	uint64_t	 t0;

	if (!c->client.viewer || q->count == 0)
		return;
	t0 = uv_hrtime();
	chan_write_queue(c, q);
	if (c->client.session != NULL)
		session_fanout_cost(c->client.session, uv_hrtime() - t0);
}

static void
chan_write_queue(struct chan *c, struct frameq *q)
{
	struct chunk	*k;
	uint32_t	 win;
	size_t		 off, n;
	int		 w;

	while ((k = frameq_first(q, &off)) != NULL) {
		if ((win = ssh_channel_window_size(c->ch)) == 0)
			return;
		n = k->len - off;
		if (n > win)
			n = win;
		if (n > WRITE_CHUNK)
			n = WRITE_CHUNK;
		w = ssh_channel_write(c->ch, chunk_data(k) + off, (uint32_t)n);
		if (w == SSH_ERROR) {
			frameq_drop_unsent(q);
			frameq_consume(q, q->bytes);
			return;
		}
		if (w <= 0)
			return;
		frameq_consume(q, (size_t)w);
		c->conn->srv->stats.viewer_bytes[0] += (uint64_t)w;
	}
}

static void
chan_flush(struct chan *c)
{
	/* libssh may run our callbacks inside a channel write (it reads
	 * packets while it waits): a nested flush would send the bytes the
	 * outer one is still sending. */
	if (c->state == CH_DONE || c->peer_closed || c->flushing)
		return;
	c->flushing = 1;
	chan_flush_queue(c);
	chan_flush_buf(c, &c->out, 0);
	chan_flush_buf(c, &c->err, 1);
	c->flushing = 0;
	if (c->client.session != NULL)
		session_client_drained(c->client.session, &c->client);
}

static void
chan_finish(struct chan *c)
{
	static const char *const sigs[] = {
		[SIGHUP] = "HUP", [SIGINT] = "INT", [SIGQUIT] = "QUIT",
		[SIGILL] = "ILL", [SIGABRT] = "ABRT", [SIGFPE] = "FPE",
		[SIGKILL] = "KILL", [SIGSEGV] = "SEGV", [SIGPIPE] = "PIPE",
		[SIGALRM] = "ALRM", [SIGTERM] = "TERM", [SIGUSR1] = "USR1",
		[SIGUSR2] = "USR2",
	};
	const char	*sig = NULL;

	if (c->exit_kind == 2 && c->exit_value > 0 &&
	    (size_t)c->exit_value < sizeof sigs / sizeof sigs[0])
		sig = sigs[c->exit_value];
	if (c->exit_kind == 2 && sig != NULL)
		ssh_channel_request_send_exit_signal(c->ch, sig, 0, "", "");
	else if (c->exit_kind != 0)
		ssh_channel_request_send_exit_status(c->ch,
		    c->exit_kind == 1 ? c->exit_value : 255);
	ssh_channel_send_eof(c->ch);
	ssh_channel_close(c->ch);
	c->state = CH_DONE;
}

static void
chan_error(struct chan *c, int status, const char *fmt, ...)
{
	va_list	 ap;

	buf_puts(&c->err, "tandem: ");
	va_start(ap, fmt);
	buf_vprintf(&c->err, fmt, ap);
	va_end(ap);
	buf_puts(&c->err, c->has_pty ? "\r\n" : "\n");
	c->exit_kind = 1;
	c->exit_value = status;
	c->state = CH_CLOSING;
}

/* Input that came before the session: through the same door as the
 * rest, so that a read_only viewer's early bytes are dropped too. */
static void
chan_feed_early(struct chan *c)
{
	struct session	*s = c->client.session;

	if (s != NULL && buf_used(&c->early) > 0) {
		if (c->client.viewer)
			session_viewer_input(s, &c->client, buf_ptr(&c->early),
			    buf_used(&c->early));
		else
			session_input(s, buf_ptr(&c->early),
			    buf_used(&c->early));
	}
	buf_free(&c->early);
}

static void
chan_audit(struct chan *c, const char *action, const char *session_id,
    const char *share_id, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
chan_audit(struct chan *c, const char *action, const char *session_id,
    const char *share_id, const char *fmt, ...)
{
	struct audit_who	 who = { c->conn->user_id, c->conn->user,
				    c->conn->ip };
	char			 detail[256];
	va_list			 ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	if (who.name[0] == '\0')
		who.name = "guest";
	audit_log(c->conn->srv, &who, action, session_id, share_id, NULL,
	    "%s", detail);
}

/* Join s as a viewer through share_id ("" for an admin). */
static void
chan_join(struct chan *c, struct session *s, const char *share_id, int rw)
{
	struct conn	*conn = c->conn;

	c->client.read_write = rw;
	c->client.user_id = conn->user_id;
	snprintf(c->client.user, sizeof c->client.user, "%s", conn->user);
	snprintf(c->client.share_id, sizeof c->client.share_id, "%s",
	    share_id);
	c->client.transport = "ssh";
	c->state = CH_RUNNING;
	if (session_viewer_add(s, &c->client) != 0) {
		chan_error(c, 1, "cannot join the session");
		return;
	}
	chan_audit(c, share_id[0] ? "viewer.join" : "admin.attach", s->id,
	    share_id[0] ? share_id : NULL, "permission=%s transport=ssh",
	    rw ? "read_write" : "read_only");
	chan_feed_early(c);
}

/* A token login's shell request: join the share's session, if the share
 * still admits this viewer (it may have changed since the login). */
static void
chan_start_viewer(struct chan *c)
{
	struct conn		*conn = c->conn;
	struct store_share	 sh;
	struct session		*s = NULL;
	const char		*why;

	if (store_share_get(conn->srv->store, conn->share.id, &sh) != 0) {
		chan_error(c, 1, "this share no longer exists");
		return;
	}
	if (sh.kind == SHARE_CLAIM && conn->user_id != 0 &&
	    share_refusal(conn->srv, &sh, conn->user_id, &s) == NULL) {
		/* First sign-in with a claim link: it becomes this user's. */
		struct audit_who who = { conn->user_id, conn->user, conn->ip };

		if (share_claim(conn->srv, &sh, &who) != 0) {
			store_share_clear(&sh);
			chan_error(c, 1, "this claim link was already used; "
			    "ask the owner for a fresh one");
			return;
		}
	}
	why = share_refusal(conn->srv, &sh, conn->user_id, &s);
	if (why != NULL) {
		chan_audit(c, "viewer.refused", sh.session_id, sh.id,
		    "reason=%s", why);
		chan_error(c, 1, "%s", why);
	} else
		chan_join(c, s, sh.id, sh.perm == SHARE_READ_WRITE);
	store_share_clear(&sh);
}

/* The channel leaves its session: a viewer leaves, an owner detaches. */
static void
chan_leave(struct chan *c)
{
	struct session	*s = c->client.session;

	if (s == NULL)
		return;
	if (c->client.viewer)
		session_viewer_remove(s, &c->client);
	else
		session_detach(s, &c->client);
}

static void
chan_start_shell(struct chan *c)
{
	struct conn		*conn = c->conn;
	struct server		*srv = conn->srv;
	struct session_params	 p;
	struct session		*s;
	char			 err[256];
	int			 max = srv->cfg->max_sessions;

	if (conn->token_login) {
		chan_start_viewer(c);
		return;
	}
	if (max > 0 && server_session_count(srv, conn->user_id) >= max) {
		chan_error(c, 1, "too many sessions (limit %d); attach to "
		    "one or kill one", max);
		return;
	}
	memset(&p, 0, sizeof p);
	p.owner_id = conn->user_id;
	p.owner = conn->user;
	p.rows = c->client.rows;
	p.cols = c->client.cols;
	p.term = c->has_pty ? c->term : NULL;
	p.env = c->env;
	p.client_address = c->client.address;
	p.auth_method = "publickey";
	if ((s = session_new(srv, &p, err, sizeof err)) == NULL) {
		log_error("cannot start a session for %s: %s", conn->user,
		    err);
		chan_error(c, 1, "cannot start a session: %s", err);
		return;
	}
	c->state = CH_RUNNING;
	session_attach(s, &c->client, 0);
	chan_feed_early(c);
}

static void
chan_cmd_ctx(struct chan *c, struct cmd_ctx *ctx)
{
	struct conn	*conn = c->conn;

	memset(ctx, 0, sizeof *ctx);
	ctx->srv = conn->srv;
	ctx->address = conn->ip;
	ctx->user_id = conn->user_id;
	ctx->user = conn->user;
	ctx->admin = conn->admin;
	ctx->has_pty = c->has_pty;
	ctx->can_prompt = 1;
	buf_init(&ctx->out);
	buf_init(&ctx->err);
}

/* A command has run: its output, then its exit status. */
static void
chan_cmd_done(struct chan *c, struct cmd_ctx *ctx)
{
	buf_append(&c->out, buf_ptr(&ctx->out), buf_used(&ctx->out));
	buf_append(&c->err, buf_ptr(&ctx->err), buf_used(&ctx->err));
	c->exit_kind = 1;
	c->exit_value = ctx->status;
	c->state = CH_CLOSING;
}

/* ---- passwd: two typed lines, no echo ----------------------------- */

static void
chan_prompt_start(struct chan *c)
{
	if ((c->prompt = malloc(sizeof *c->prompt)) == NULL) {
		chan_error(c, 1, "out of memory");
		return;
	}
	prompt_init(c->prompt);
	c->state = CH_PROMPT;
	buf_puts(&c->err, "New password: ");
	/* Lines piped in arrive with the exec request. */
	if (buf_used(&c->early) > 0) {
		chan_prompt_input(c, buf_ptr(&c->early), buf_used(&c->early));
		sodium_memzero(c->early.data, c->early.cap);
		buf_free(&c->early);
	}
	/* The input may also have ended before the command ran. */
	if (c->state == CH_PROMPT && c->peer_eof)
		chan_error(c, 1, "passwd: no password given");
}

static void
chan_prompt_line(struct chan *c)
{
	struct prompt	*p = c->prompt;
	struct cmd_ctx	 ctx;

	if (p->too_long) {
		chan_error(c, 1, "passwd: a password is at most %d bytes",
		    PROMPT_MAX);
		return;
	}
	if (c->prompt_first == NULL) {
		if ((c->prompt_first = strdup(p->line)) == NULL) {
			chan_error(c, 1, "out of memory");
			return;
		}
		prompt_clear(p);
		buf_puts(&c->err, "Retype new password: ");
		return;
	}
	if (strlen(c->prompt_first) != p->len ||
	    sodium_memcmp(c->prompt_first, p->line, p->len) != 0) {
		chan_error(c, 1, "passwd: the two passwords differ; nothing "
		    "changed");
		return;
	}
	chan_cmd_ctx(c, &ctx);
	if (command_password_set(&ctx, p->line, 0) == 0)
		buf_puts(&ctx.out, "password set: sign in at /login\n");
	chan_cmd_done(c, &ctx);
	buf_free(&ctx.out);
	buf_free(&ctx.err);
}

static void
chan_prompt_input(struct chan *c, const char *data, size_t len)
{
	enum prompt_event	 ev;
	size_t			 used;

	while (c->state == CH_PROMPT && len > 0) {
		ev = prompt_feed(c->prompt, data, len, &used);
		data += used;
		len -= used;
		if (ev == PROMPT_MORE)
			break;
		/* Nothing echoed the line's end on the client's terminal. */
		if (c->has_pty)
			buf_puts(&c->err, "\r\n");
		if (ev == PROMPT_ABORT)
			chan_error(c, 1, "passwd: cancelled");
		else
			chan_prompt_line(c);
	}
	/* Called from libssh's data callback, which may run inside one of
	 * our own channel writes: the answer goes out from the loop. */
	conn_mark(c->conn);
}

static void
chan_prompt_free(struct chan *c)
{
	if (c->prompt != NULL) {
		prompt_clear(c->prompt);
		free(c->prompt);
		c->prompt = NULL;
	}
	if (c->prompt_first != NULL) {
		sodium_memzero(c->prompt_first, strlen(c->prompt_first));
		free(c->prompt_first);
		c->prompt_first = NULL;
	}
}

static void
chan_start_exec(struct chan *c)
{
	struct conn	*conn = c->conn;
	struct cmd_ctx	 ctx;

	if (conn->token_login) {
		chan_error(c, 2, "a share token joins the session only: run "
		    "ssh without a command");
		return;
	}
	chan_cmd_ctx(c, &ctx);
	log_info("%s from %s: exec request", conn->user, conn->addr);
	command_run(&ctx, c->exec, strlen(c->exec));

	if (ctx.attach != NULL && ctx.attach_viewer) {
		chan_join(c, ctx.attach, ctx.attach_share, ctx.attach_rw);
	} else if (ctx.attach != NULL) {
		c->state = CH_RUNNING;
		if (session_attach(ctx.attach, &c->client, 1) != 0)
			log_warn("%s: repaint on attach failed", conn->addr);
		chan_feed_early(c);
	} else if (ctx.prompt_password)
		chan_prompt_start(c);
	else
		chan_cmd_done(c, &ctx);
	buf_free(&ctx.out);
	buf_free(&ctx.err);
}

static void
chan_free(struct chan *c)
{
	size_t	 i;

	chan_leave(c);
	chan_prompt_free(c);
	for (i = 0; i < c->nenv; i++)
		free(c->env[i]);
	free(c->exec);
	buf_free(&c->early);
	buf_free(&c->out);
	buf_free(&c->err);
	free(c);
}

/* Send what can be sent; a closing channel whose output is all out gets
 * its exit status and is closed.  Never frees the channel, so client
 * operations may call it from anywhere. */
static void
chan_settle(struct chan *c)
{
	chan_flush(c);
	if (c->state == CH_CLOSING && buf_used(&c->out) == 0 &&
	    buf_used(&c->err) == 0)
		chan_finish(c);
	conn_update_poll(c->conn);
}

static void
chan_step(struct chan *c)
{
	/* While stopping, a request still pending must not start a
	 * session that nothing would end. */
	if (c->conn->srv->stopping &&
	    (c->state == CH_START_SHELL || c->state == CH_START_EXEC))
		chan_error(c, 1, "tandemd is shutting down");
	if (c->state == CH_START_SHELL)
		chan_start_shell(c);
	else if (c->state == CH_START_EXEC)
		chan_start_exec(c);

	if (c->peer_closed && c->state < CH_DONE) {
		/* The client went away: the session lives on. */
		chan_leave(c);
		ssh_channel_close(c->ch);
		c->state = CH_DONE;
	}
	chan_settle(c);
}

static void
conn_process(struct conn *c)
{
	struct chan	*ch, *next;

	if (c->dead)
		return;
	TAILQ_FOREACH_SAFE(ch, &c->chans, entry, next) {
		chan_step(ch);
		if (ch->state == CH_DONE && ch->peer_closed) {
			/* Closed both ways: libssh may free its channel now. */
			TAILQ_REMOVE(&c->chans, ch, entry);
			c->nchans--;
			ssh_channel_free(ch->ch);
			chan_free(ch);
		}
	}
	conn_update_poll(c);
}

/* ---- connection life cycle ----------------------------------------- */

static void
conn_update_poll(struct conn *c)
{
	int	 ev = UV_READABLE;

	if (c->dead)
		return;
	if (ssh_get_poll_flags(c->ssh) & SSH_WRITE_PENDING)
		ev |= UV_WRITABLE;
	uv_poll_start(&c->poll, ev, on_conn_io);
}

/*
 * The session this connection watches, if it carries a viewer: its
 * packets (window adjustments, acks of frames) are part of that
 * session's fan-out cost, which paces its frames (fanout.c).
 */
static struct session *
conn_watched(struct conn *c)
{
	struct chan	*ch;

	TAILQ_FOREACH(ch, &c->chans, entry) {
		if (ch->client.viewer && ch->client.session != NULL)
			return ch->client.session;
	}
	return NULL;
}

static void	 conn_io(struct conn *, int, int);

static void
on_conn_io(uv_poll_t *h, int status, int events)
{
	struct conn	*c = h->data;
	struct session	*s = conn_watched(c);
	uint64_t	 t0;

	if (s == NULL) {
		conn_io(c, status, events);
		return;
	}
	t0 = uv_hrtime();
	conn_io(c, status, events);
	/* c may be gone; the session lives until the loop turns. */
	session_fanout_cost(s, uv_hrtime() - t0);
}

static void
conn_io(struct conn *c, int status, int events)
{
	int		 rc;

	if (status < 0) {
		conn_destroy(c, NULL);
		return;
	}
	if (events & UV_READABLE)
		c->last_read_ms = time_now_ms();
	if (!c->kex_done) {
		rc = ssh_handle_key_exchange(c->ssh);
		if (rc == SSH_ERROR) {
			log_info("%s: key exchange failed: %s", c->addr,
			    ssh_get_error(c->ssh));
			conn_destroy(c, NULL);
			return;
		}
		if (rc == SSH_OK)
			c->kex_done = 1;
		/* Only after the first call does the session have a poll
		 * context that an ssh_event can take. */
		if (c->event == NULL) {
			if ((c->event = ssh_event_new()) == NULL ||
			    ssh_event_add_session(c->event, c->ssh) != SSH_OK) {
				conn_destroy(c, NULL);
				return;
			}
		}
	} else if (ssh_event_dopoll(c->event, 0) == SSH_ERROR) {
		conn_destroy(c, NULL);
		return;
	}
	if ((ssh_get_status(c->ssh) & (SSH_CLOSED | SSH_CLOSED_ERROR)) ||
	    !ssh_is_connected(c->ssh)) {
		conn_destroy(c, NULL);
		return;
	}
	if (c->close_reason != NULL && c->close_delayed) {
		/* Answer a refused join after 100-300 ms, reading nothing
		 * more meanwhile. */
		c->close_delayed = 0;
		uv_poll_stop(&c->poll);
		uv_timer_start(&c->timer, on_conn_timer,
		    100 + randombytes_uniform(200), 0);
		return;
	}
	if (c->close_reason != NULL) {
		conn_destroy(c, c->close_reason);
		return;
	}
	conn_process(c);
}

/*
 * How long the peer has sent nothing.  The kernel's count is the one to
 * trust: libssh may read a keepalive reply inside ssh_send_keepalive(),
 * so our poll never sees it.
 */
static int64_t
conn_idle_ms(struct conn *c)
{
	struct tcp_info	 ti;
	socklen_t	 len = sizeof ti;

	if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
	    len >= sizeof ti)
		return (int64_t)ti.tcpi_last_data_recv;
	return time_now_ms() - c->last_read_ms;
}

static void
on_conn_timer(uv_timer_t *t)
{
	struct conn		*c = t->data;
	const struct config	*cfg = c->srv->cfg;
	int64_t			 idle;

	if (c->close_reason != NULL) {
		conn_destroy(c, c->close_reason);
		return;
	}
	if (!c->authed) {
		c->srv->stats.grace_timeouts++;
		log_warn("%s: login grace time exceeded", c->addr);
		conn_destroy(c, "Login grace time exceeded");
		return;
	}
	idle = conn_idle_ms(c);
	if (idle > cfg->keepalive_interval * 1000 * cfg->keepalive_count_max) {
		log_info("%s: %s not responding, disconnecting", c->addr,
		    c->user);
		conn_destroy(c, "Timeout, client not responding");
		return;
	}
	/* In non-blocking mode libssh sends every second call (the other
	 * collects the reply), hence the timer runs at twice the rate. */
	ssh_send_keepalive(c->ssh);
	conn_mark(c);
}

static void
on_conn_closed(uv_handle_t *h)
{
	struct conn	*c = h->data;
	struct chan	*ch;

	if (--c->handles_open > 0)
		return;
	if (c->event != NULL) {
		ssh_event_remove_session(c->event, c->ssh);
		ssh_event_free(c->event);
	}
	ssh_free(c->ssh);	/* frees the libssh channels too */
	while ((ch = TAILQ_FIRST(&c->chans)) != NULL) {
		TAILQ_REMOVE(&c->chans, ch, entry);
		chan_free(ch);
	}
	close(c->fd);
	free(c->close_reason);
	if (c->share_loaded)
		store_share_clear(&c->share);
	free(c);
}

static void
conn_destroy(struct conn *c, const char *reason)
{
	struct chan	*ch;

	if (c->dead)
		return;
	c->dead = 1;
	TAILQ_FOREACH(ch, &c->chans, entry)
		chan_leave(ch);
	if (reason != NULL && ssh_is_connected(c->ssh)) {
		ssh_session_set_disconnect_message(c->ssh, reason);
		ssh_set_fd_towrite(c->ssh);
	}
	ssh_disconnect(c->ssh);
	log_info("%s: connection closed%s%s", c->addr,
	    reason ? ": " : "", reason ? reason : "");
	TAILQ_REMOVE(&c->srv->conns, c, entry);
	uv_poll_stop(&c->poll);
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->poll, on_conn_closed);
	uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

void
conn_disconnect(struct conn *c, const char *reason)
{
	conn_process(c);
	conn_destroy(c, reason);
}

/*
 * A write to a channel, or a keepalive, lets libssh read and handle
 * packets on its own: a request that arrives then (a new channel, a
 * shell request, a window adjust) is consumed without our poll ever
 * seeing the socket readable.  Such a connection is marked, and the
 * loop's check phase runs conn_process() on it before the next poll, so
 * a flooding channel cannot starve the other channels of its connection.
 */
static void
conn_mark(struct conn *c)
{
	c->dirty = 1;
	conn_update_poll(c);
}

static void
on_conn_check(uv_check_t *h)
{
	struct server	*srv = h->data;
	struct conn	*c, *next;

	TAILQ_FOREACH_SAFE(c, &srv->conns, entry, next) {
		if (!c->dirty)
			continue;
		c->dirty = 0;
		conn_process(c);
	}
}

void
conn_check_start(struct server *srv)
{
	uv_check_init(srv->loop, &srv->conn_check);
	srv->conn_check.data = srv;
	uv_check_start(&srv->conn_check, on_conn_check);
}

void
conn_check_stop(struct server *srv)
{
	uv_check_stop(&srv->conn_check);
	uv_close((uv_handle_t *)&srv->conn_check, NULL);
}

/* Takes ownership of fd, an accepted non-blocking socket. */
int
conn_accept(struct server *srv, int fd, const char *addr)
{
	const struct config	*cfg = srv->cfg;
	struct conn		*c;

	if ((c = calloc(1, sizeof *c)) == NULL) {
		close(fd);
		return -1;
	}
	c->srv = srv;
	c->fd = -1;
	TAILQ_INIT(&c->chans);
	snprintf(c->addr, sizeof c->addr, "%s", addr);
	if ((c->ssh = ssh_new()) == NULL ||
	    ssh_bind_accept_fd(srv->bind, c->ssh, fd) != SSH_OK) {
		log_warn("%s: cannot set up an SSH session", addr);
		if (c->ssh != NULL)
			ssh_free(c->ssh);
		close(fd);
		free(c);
		return -1;
	}
	/* libssh closes its fd on error; polling our own dup keeps the fd
	 * number from being reused under a live uv_poll. */
	if ((c->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		ssh_free(c->ssh);
		free(c);
		return -1;
	}
	ssh_set_blocking(c->ssh, 0);
	ssh_callbacks_init(&c->scb);
	c->scb.userdata = c;
	c->scb.auth_none_function = cb_auth_none;
	c->scb.auth_password_function = cb_auth_password;
	c->scb.auth_pubkey_function = cb_auth_pubkey;
	c->scb.channel_open_request_session_function = cb_channel_open;
	ssh_set_server_callbacks(c->ssh, &c->scb);
	ssh_set_message_callback(c->ssh, cb_message, c);
	ssh_set_auth_methods(c->ssh, SSH_AUTH_METHOD_PUBLICKEY);
	snprintf(c->ip, sizeof c->ip, "%.*s", (int)strcspn(addr, " "), addr);

	uv_poll_init(srv->loop, &c->poll, c->fd);
	uv_timer_init(srv->loop, &c->timer);
	c->poll.data = c->timer.data = c;
	c->handles_open = 2;
	c->last_read_ms = time_now_ms();
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	srv->stats.connections++;

	/* One timer: login grace first, then keepalive once authed. */
	uv_timer_start(&c->timer, on_conn_timer,
	    (uint64_t)cfg->login_grace_time * 1000, 0);
	log_info("connection from %s", addr);
	on_conn_io(&c->poll, 0, 0);	/* sends our version banner */
	return 0;
}
