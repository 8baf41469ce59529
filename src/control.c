/*
 * control: the tandem client's socket (control.h).
 *
 * The socket is a Unix stream socket, <data dir>/control.sock, mode 0600
 * inside the 0700 data folder, served by a uv_pipe_t on the daemon's one
 * loop.  A connection lives for one request: the client sends one JSON
 * object and a newline, the daemon answers one JSON object and a newline
 * and closes.  The socket's permissions only keep other local users out;
 * since every session's shell runs as the same user in embedded mode,
 * what a client may do is decided by the session secret it presents, and
 * a secret gives the authority of its session's owner, scoped to that
 * session (cmd_ctx.scope), never an administrator's.
 *
 * Everything a client sends is bounded: one request of at most
 * CONTROL_MAX_REQUEST bytes read into one buffer, at most
 * CONTROL_MAX_CONNS connections at once, and CONTROL_TIMEOUT_MS to send
 * the request and then to take the answer; a client that lags is closed,
 * never waited for.  libuv does the non-blocking reads and writes and
 * keeps what a partial write left over.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>
#include <uv.h>

#include "command.h"
#include "compat.h"
#include "control.h"
#include "log.h"
#include "server.h"
#include "session.h"

#define CONTROL_MAX_CONNS	32
#define CONTROL_BACKLOG		32

struct control_conn {
	TAILQ_ENTRY(control_conn) entry;
	struct control		*ctl;		/* NULL once closing */
	uv_pipe_t		 pipe;
	uv_timer_t		 timer;
	int			 handles_open;
	int			 closing;
	int			 answered;	/* no more reading */
	char			*rbuf;		/* CONTROL_MAX_REQUEST + 1 */
	size_t			 rlen;
	uv_write_t		 wreq;
	char			*answer;
	char			 who[48];	/* "pid 123 uid 1000" */
};
TAILQ_HEAD(control_conns, control_conn);

struct control {
	struct server		*srv;
	uv_pipe_t		 listener;
	struct control_conns	 conns;
	int			 nconns;
};

static void	 conn_close(struct control_conn *);

/* ---- pure helpers ---------------------------------------------------- */

int
control_join(const char *const *argv, int argc, struct buf *out)
{
	const char	*p;
	int		 i, r;

	for (i = 0; i < argc; i++) {
		if (i > 0 && buf_puts(out, " ") != 0)
			return -1;
		if (buf_puts(out, "'") != 0)
			return -1;
		/* A quote cannot appear inside '...': close the quotes, add
		 * an escaped one, and open them again. */
		for (p = argv[i]; *p != '\0'; p++) {
			if (*p == '\'')
				r = buf_puts(out, "'\\''");
			else
				r = buf_append(out, p, 1);
			if (r != 0)
				return -1;
		}
		if (buf_puts(out, "'") != 0)
			return -1;
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629), or 0. */
static size_t
utf8_seq(const unsigned char *p, size_t left)
{
	uint32_t	 cp;
	size_t		 n, i;

	if (p[0] >= 0x01 && p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	if (left < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates, past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/*
 * JSON strings must be UTF-8, and a command's output may not be (a name
 * typed in another encoding): replace what is not, rather than lose the
 * whole answer.
 */
int
control_utf8_clean(const char *s, size_t len, struct buf *out)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n;

	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) == 0) {
			if (buf_puts(out, "\xef\xbf\xbd") != 0)
				return -1;
			i++;
			continue;
		}
		if (buf_append(out, p + i, n) != 0)
			return -1;
		i += n;
	}
	return 0;
}

/* Printable ASCII only, cut short: safe in a log line or a message. */
static void
printable(const char *s, size_t len, char *out, size_t outlen)
{
	size_t	 i;

	for (i = 0; i < len && s[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[i] = '\0';
}

static void
parse_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
parse_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
control_request_parse(const char *line, size_t len,
    struct control_request *req, char *err, size_t errlen)
{
	json_error_t	 je;
	json_t		*root, *v, *w;
	size_t		 i;
	char		 text[128];

	memset(req, 0, sizeof *req);
	if (len > CONTROL_MAX_REQUEST) {
		parse_error(err, errlen, "longer than %d bytes",
		    CONTROL_MAX_REQUEST);
		return -1;
	}
	/* Duplicate keys are refused: two "session" keys would let what is
	 * checked and what is used differ in some other parser. */
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		printable(je.text, strlen(je.text), text, sizeof text);
		parse_error(err, errlen, "invalid JSON at byte %d: %s",
		    je.position, text);
		return -1;
	}
	if (!json_is_object(root)) {
		parse_error(err, errlen, "not a JSON object");
		goto fail;
	}
	if (!json_is_string(v = json_object_get(root, "session"))) {
		parse_error(err, errlen, "\"session\" must be a string");
		goto fail;
	}
	req->session = json_string_value(v);
	if (!json_is_string(v = json_object_get(root, "secret"))) {
		parse_error(err, errlen, "\"secret\" must be a string");
		goto fail;
	}
	req->secret = json_string_value(v);
	req->secret_len = json_string_length(v);
	if (!json_is_array(v = json_object_get(root, "argv"))) {
		parse_error(err, errlen, "\"argv\" must be an array of "
		    "strings");
		goto fail;
	}
	if (json_array_size(v) == 0) {
		parse_error(err, errlen, "\"argv\" is empty");
		goto fail;
	}
	if (json_array_size(v) > CONTROL_MAX_ARGS) {
		parse_error(err, errlen, "\"argv\" has more than %d words",
		    CONTROL_MAX_ARGS);
		goto fail;
	}
	json_array_foreach(v, i, w) {
		if (!json_is_string(w)) {
			parse_error(err, errlen, "\"argv\" must be an array "
			    "of strings (word %zu is not)", i + 1);
			goto fail;
		}
		req->argv[i] = json_string_value(w);
	}
	req->argc = (int)json_array_size(v);
	req->argv[req->argc] = NULL;
	if ((v = json_object_get(root, "tty")) != NULL) {
		if (!json_is_boolean(v)) {
			parse_error(err, errlen, "\"tty\" must be true or "
			    "false");
			goto fail;
		}
		req->tty = json_is_true(v);
	}
	if ((v = json_object_get(root, "password")) != NULL) {
		if (!json_is_string(v) ||
		    json_string_length(v) > CONTROL_MAX_PASSWORD) {
			parse_error(err, errlen, "\"password\" must be a "
			    "string of at most %d bytes", CONTROL_MAX_PASSWORD);
			goto fail;
		}
		req->password = json_string_value(v);
	}
	req->json = root;
	return 0;
fail:
	json_decref(root);
	memset(req, 0, sizeof *req);
	return -1;
}

void
control_request_free(struct control_request *req)
{
	/* The password is in jansson's copy: wipe it before it is freed. */
	if (req->password != NULL)
		explicit_bzero((char *)req->password, strlen(req->password));
	json_decref(req->json);
	memset(req, 0, sizeof *req);
}

/* ---- connections ----------------------------------------------------- */

static void
on_conn_closed(uv_handle_t *h)
{
	struct control_conn	*c = h->data;

	if (--c->handles_open > 0)
		return;
	if (c->rbuf != NULL) {
		explicit_bzero(c->rbuf, c->rlen);
		free(c->rbuf);
	}
	free(c->answer);
	free(c);
}

static void
conn_close(struct control_conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	if (c->ctl != NULL) {
		TAILQ_REMOVE(&c->ctl->conns, c, entry);
		c->ctl->nconns--;
		c->ctl = NULL;
	}
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, on_conn_closed);
	uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

static void
on_timeout(uv_timer_t *t)
{
	struct control_conn	*c = t->data;

	log_info("control: %s: %s in %d s, closing", c->who,
	    c->answered ? "answer not taken" : "no request",
	    CONTROL_TIMEOUT_MS / 1000);
	conn_close(c);
}

static void
on_written(uv_write_t *req, int status)
{
	struct control_conn	*c = req->data;

	if (status < 0 && status != UV_ECANCELED)
		log_debug("control: %s: answer not delivered: %s", c->who,
		    uv_strerror(status));
	conn_close(c);
}

/*
 * Send the answer and close once it is out; the client has another
 * CONTROL_TIMEOUT_MS to take it.
 */
static void
conn_answer(struct control_conn *c, int status, const char *out,
    size_t outlen, const char *err, size_t errlen)
{
	struct buf	 o = BUF_INIT, e = BUF_INIT;
	json_t		*j = NULL;
	uv_buf_t	 b;
	char		*text = NULL;
	int		 r;

	c->answered = 1;
	uv_read_stop((uv_stream_t *)&c->pipe);
	if (control_utf8_clean(out, outlen, &o) != 0 ||
	    control_utf8_clean(err, errlen, &e) != 0)
		goto fail;
	j = json_pack("{s:i, s:s%, s:s%}", "status", status,
	    "stdout", o.data ? buf_ptr(&o) : "", buf_used(&o),
	    "stderr", e.data ? buf_ptr(&e) : "", buf_used(&e));
	if (j == NULL || (text = json_dumps(j, JSON_COMPACT)) == NULL)
		goto fail;
	if (asprintf(&c->answer, "%s\n", text) < 0) {
		c->answer = NULL;
		goto fail;
	}
	b = uv_buf_init(c->answer, (unsigned int)strlen(c->answer));
	c->wreq.data = c;
	if ((r = uv_write(&c->wreq, (uv_stream_t *)&c->pipe, &b, 1,
	    on_written)) != 0) {
		log_debug("control: %s: %s", c->who, uv_strerror(r));
		goto fail;
	}
	uv_timer_start(&c->timer, on_timeout, CONTROL_TIMEOUT_MS, 0);
	goto out;
fail:
	conn_close(c);
out:
	free(text);
	json_decref(j);
	buf_free(&o);
	buf_free(&e);
}

static void
conn_refuse(struct control_conn *c, int status, const char *msg)
{
	conn_answer(c, status, "", 0, msg, strlen(msg));
}

static void
conn_malformed(struct control_conn *c, const char *why)
{
	char	 msg[512];

	log_info("control: %s: malformed request: %s", c->who, why);
	snprintf(msg, sizeof msg, "tandem: malformed request: %s\n", why);
	conn_refuse(c, CONTROL_MALFORMED, msg);
}

/*
 * Does the request carry its session's secret?  An unknown session is
 * compared against a dummy secret so that both refusals take as long.
 */
static struct session *
conn_authorize(struct control_conn *c, const struct control_request *req)
{
	static const char	 dummy[CONTROL_SECRET_LEN + 1];
	struct session		*s;
	const char		*want;
	char			 id[40];
	int			 ok;

	s = server_session_find(c->ctl->srv, req->session);
	want = s != NULL ? s->control_secret : dummy;
	ok = req->secret_len == CONTROL_SECRET_LEN &&
	    sodium_memcmp(req->secret, want, CONTROL_SECRET_LEN) == 0;
	if (s != NULL && ok && !s->ended)
		return s;
	printable(req->session, strlen(req->session), id, sizeof id);
	log_warn("control: %s: not authorized for session '%s' (%s)", c->who,
	    id, s == NULL ? "no such live session" : "wrong secret");
	return NULL;
}

static void
conn_request(struct control_conn *c, const char *line, size_t len)
{
	struct control_request	 req;
	struct cmd_ctx		 ctx;
	struct buf		 cmd = BUF_INIT;
	struct session		*s;
	char			 why[256], name[33];

	if (control_request_parse(line, len, &req, why, sizeof why) != 0) {
		conn_malformed(c, why);
		return;
	}
	if ((s = conn_authorize(c, &req)) == NULL) {
		conn_refuse(c, CONTROL_REFUSED, "tandem: not authorized\n");
		goto out;
	}
	if (control_join(req.argv, req.argc, &cmd) != 0) {
		conn_refuse(c, CONTROL_REFUSED, "tandem: out of memory\n");
		goto out;
	}

	memset(&ctx, 0, sizeof ctx);
	ctx.srv = c->ctl->srv;
	ctx.user_id = s->owner_id;
	ctx.user = s->owner;
	ctx.admin = 0;
	ctx.has_pty = 0;
	ctx.scope = s;
	ctx.address = "local";
	ctx.password = req.password;
	buf_init(&ctx.out);
	buf_init(&ctx.err);
	command_run(&ctx, buf_ptr(&cmd), buf_used(&cmd));
	if (ctx.attach != NULL) {
		/* attach needs a terminal and this socket has none; say so
		 * should a command ever ask for it all the same. */
		buf_reset(&ctx.err);
		buf_puts(&ctx.err, "tandem: attach is not possible from "
		    "inside a session\n");
		ctx.status = 1;
	}
	/* One line per request; the secret and the password never. */
	printable(req.argv[0], strlen(req.argv[0]), name, sizeof name);
	log_info("control: %s: session %s (%s): '%s'%s exited %d", c->who,
	    s->id, s->owner, name, req.password != NULL ?
	    " with a password" : "", ctx.status);
	conn_answer(c, ctx.status, buf_ptr(&ctx.out), buf_used(&ctx.out),
	    buf_ptr(&ctx.err), buf_used(&ctx.err));
	buf_free(&ctx.out);
	buf_free(&ctx.err);
out:
	buf_free(&cmd);
	control_request_free(&req);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct control_conn	*c = h->data;

	if (c->rbuf == NULL)
		c->rbuf = malloc(CONTROL_MAX_REQUEST + 1);
	if (c->rbuf == NULL) {
		*b = uv_buf_init(NULL, 0);	/* read_cb gets UV_ENOBUFS */
		return;
	}
	*b = uv_buf_init(c->rbuf + c->rlen,
	    (unsigned int)(CONTROL_MAX_REQUEST + 1 - c->rlen));
}

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct control_conn	*c = st->data;
	char			*nl;
	size_t			 old = c->rlen;

	if (c->closing || c->answered)
		return;
	if (n == UV_EOF) {
		if (c->rlen == 0) {
			conn_close(c);	/* connected, then thought better */
			return;
		}
		conn_malformed(c, "end of input before the newline");
		return;
	}
	if (n < 0) {
		log_debug("control: %s: %s", c->who, uv_strerror((int)n));
		conn_close(c);
		return;
	}
	c->rlen += (size_t)n;
	if ((nl = memchr(c->rbuf + old, '\n', c->rlen - old)) != NULL) {
		conn_request(c, c->rbuf, (size_t)(nl - c->rbuf));
		/* The request may hold a password: do not keep it. */
		explicit_bzero(c->rbuf, c->rlen);
		return;
	}
	if (c->rlen > CONTROL_MAX_REQUEST)
		conn_malformed(c, "longer than 65536 bytes");
}

static void
peer_describe(struct control_conn *c)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof cred;
	uv_os_fd_t	 fd;

	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		snprintf(c->who, sizeof c->who, "pid %ld uid %ld",
		    (long)cred.pid, (long)cred.uid);
	else
		snprintf(c->who, sizeof c->who, "unknown peer");
}

static void
on_connection(uv_stream_t *listener, int status)
{
	struct control		*ctl = listener->data;
	struct control_conn	*c;
	int			 r;

	if (status < 0) {
		log_warn("control: accept: %s", uv_strerror(status));
		return;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		log_warn("control: out of memory");
		return;
	}
	uv_pipe_init(ctl->srv->loop, &c->pipe, 0);
	uv_timer_init(ctl->srv->loop, &c->timer);
	c->pipe.data = c->timer.data = c;
	c->handles_open = 2;
	c->ctl = ctl;
	TAILQ_INSERT_TAIL(&ctl->conns, c, entry);
	ctl->nconns++;
	if ((r = uv_accept(listener, (uv_stream_t *)&c->pipe)) != 0) {
		log_warn("control: accept: %s", uv_strerror(r));
		conn_close(c);
		return;
	}
	peer_describe(c);
	log_debug("control: connection from %s", c->who);
	if (ctl->nconns > CONTROL_MAX_CONNS) {
		log_warn("control: %s: more than %d connections, refused",
		    c->who, CONTROL_MAX_CONNS);
		conn_refuse(c, CONTROL_REFUSED, "tandem: tandemd is busy, "
		    "try again\n");
		return;
	}
	uv_timer_start(&c->timer, on_timeout, CONTROL_TIMEOUT_MS, 0);
	if ((r = uv_read_start((uv_stream_t *)&c->pipe, on_alloc,
	    on_read)) != 0) {
		log_warn("control: %s: %s", c->who, uv_strerror(r));
		conn_close(c);
	}
}

/* ---- the listener ---------------------------------------------------- */

/*
 * Bind path with mode 0600 from the start: the umask covers the moment
 * between bind() and a chmod(), when the socket would otherwise carry
 * the daemon's default mode.
 */
static int
socket_bind(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 old;
	int			 fd, r;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "control socket path %s is too long "
		    "(at most %zu bytes): use a shorter data_dir", path,
		    sizeof sun.sun_path - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	/* A socket left by a daemon that died; the data folder's lock
	 * says no other daemon uses it now.  Anything else is not ours. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket",
			    path);
			return -1;
		}
		if (unlink(path) != 0) {
			snprintf(err, errlen, "cannot remove stale %s: %s",
			    path, strerror(errno));
			return -1;
		}
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "control socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (r != 0 || chmod(path, 0600) != 0 ||
	    listen(fd, CONTROL_BACKLOG) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path,
		    strerror(errno));
		close(fd);
		if (r == 0)
			unlink(path);
		return -1;
	}
	return fd;
}

static void
on_listener_closed(uv_handle_t *h)
{
	free(h->data);
}

int
control_start(struct server *srv, char *err, size_t errlen)
{
	struct control	*ctl;
	char		*dir, *path = NULL;
	int		 fd, r;

	/* $TANDEM must work from whatever folder the shell is in. */
	if ((dir = realpath(srv->dd.path, NULL)) == NULL) {
		snprintf(err, errlen, "%s: %s", srv->dd.path, strerror(errno));
		return -1;
	}
	r = asprintf(&path, "%s/%s", dir, CONTROL_SOCKET_NAME);
	free(dir);
	if (r < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* $TANDEM separates its fields with commas; the client splits at
	 * the last two, so a comma in the folder name is harmless. */
	if ((fd = socket_bind(path, err, errlen)) < 0) {
		free(path);
		return -1;
	}
	if ((ctl = calloc(1, sizeof *ctl)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	ctl->srv = srv;
	TAILQ_INIT(&ctl->conns);
	uv_pipe_init(srv->loop, &ctl->listener, 0);
	ctl->listener.data = ctl;
	if ((r = uv_pipe_open(&ctl->listener, fd)) == 0)
		fd = -1;	/* the handle owns it now */
	if (r != 0 || (r = uv_listen((uv_stream_t *)&ctl->listener,
	    CONTROL_BACKLOG, on_connection)) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path,
		    uv_strerror(r));
		uv_close((uv_handle_t *)&ctl->listener, on_listener_closed);
		goto fail;
	}
	srv->control = ctl;
	srv->control_path = path;
	log_info("control socket at %s", path);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(path);
	free(path);
	return -1;
}

/* Safe to call when control_start() never ran or failed. */
void
control_stop(struct server *srv)
{
	struct control		*ctl = srv->control;
	struct control_conn	*c;

	if (ctl == NULL)
		return;
	while ((c = TAILQ_FIRST(&ctl->conns)) != NULL)
		conn_close(c);
	uv_close((uv_handle_t *)&ctl->listener, on_listener_closed);
	srv->control = NULL;
	if (srv->control_path != NULL) {
		if (unlink(srv->control_path) != 0 && errno != ENOENT)
			log_warn("cannot remove %s: %s", srv->control_path,
			    strerror(errno));
		free(srv->control_path);
		srv->control_path = NULL;
	}
}
