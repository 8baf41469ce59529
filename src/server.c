/*
 * server: the event loop, the SSH listener and the signals (server.h).
 *
 * tandem listens on its own socket rather than through ssh_bind_listen so
 * that the listener is one more uv_poll on the loop and accepted sockets
 * are non-blocking from the start: libssh never sets O_NONBLOCK on a
 * server socket, and a blocking one would let a slow client freeze the
 * loop (notes/libraries.md).
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "log.h"
#include "server.h"
#include "session.h"
#include "share.h"
#include "ssh_conn.h"
#include "store.h"
#include "util.h"
#include "web.h"

#define ACCEPTS_PER_WAKEUP	64

static int
listen_socket(const char *spec, char *bound, size_t boundlen, char *err,
    size_t errlen)
{
	struct addrinfo		 hints, *res = NULL;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof ss;
	char			 host[256], portstr[16], h[INET6_ADDRSTRLEN],
				 p[8];
	int			 port, fd = -1, on = 1, rc;

	if (config_parse_listen(spec, host, sizeof host, &port) != 0) {
		snprintf(err, errlen, "bad listen address '%s'", spec);
		return -1;
	}
	snprintf(portstr, sizeof portstr, "%d", port);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", spec, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
	    listen(fd, 128) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", spec,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	if (getnameinfo((struct sockaddr *)&ss, sslen, h, sizeof h, p,
	    sizeof p, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(bound, boundlen, "%s", spec);
	else if (ss.ss_family == AF_INET6)
		snprintf(bound, boundlen, "[%s]:%s", h, p);
	else
		snprintf(bound, boundlen, "%s:%s", h, p);
	return fd;
}

static void
peer_name(const struct sockaddr_storage *ss, socklen_t len, char *out,
    size_t outlen)
{
	char	 h[INET6_ADDRSTRLEN], p[8];

	if (getnameinfo((const struct sockaddr *)ss, len, h, sizeof h, p,
	    sizeof p, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(out, outlen, "unknown");
	else
		snprintf(out, outlen, "%s port %s", h, p);
}

static void
on_listen(uv_poll_t *h, int status, int events)
{
	struct server		*srv = h->data;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 addr[64];
	int			 i, fd, on = 1;

	for (i = 0; i < ACCEPTS_PER_WAKEUP && !srv->stopping; i++) {
		len = sizeof ss;
		fd = accept4(srv->listen_fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
		peer_name(&ss, len, addr, sizeof addr);
		conn_accept(srv, fd, addr);
	}
}

static void
on_sigchld(uv_signal_t *h, int signum)
{
	struct server	*srv = h->data;
	struct session	*s, *next;
	pid_t		 pid;
	int		 st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		TAILQ_FOREACH_SAFE(s, &srv->sessions, entry, next) {
			if (s->pid == pid) {
				session_child_exited(s, st);
				break;
			}
		}
	}
}

static void
on_sigterm(uv_signal_t *h, int signum)
{
	struct server	*srv = h->data;

	log_info("received signal %d, shutting down", signum);
	server_stop(srv, "tandemd is shutting down");
}

static void
on_sighup(uv_signal_t *h, int signum)
{
	if (log_reopen() != 0)
		log_error("cannot reopen the log file");
	else
		log_info("log reopened");
}

static int
bind_setup(struct server *srv, char *err, size_t errlen)
{
	ssh_key		 key = NULL;
	int		 no = 0;

	if ((srv->bind = ssh_bind_new()) == NULL) {
		snprintf(err, errlen, "ssh_bind_new failed");
		return -1;
	}
	/* tandem has its own configuration; libssh's system-wide server
	 * file must not change its behaviour behind the operator's back. */
	ssh_bind_options_set(srv->bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no);
	ssh_bind_options_set(srv->bind, SSH_BIND_OPTIONS_BANNER,
	    "tandem_" PACKAGE_VERSION);
	if (ssh_pki_import_privkey_file(srv->dd.host_key, NULL, NULL, NULL,
	    &key) != SSH_OK) {
		snprintf(err, errlen, "cannot read host key %s",
		    srv->dd.host_key);
		return -1;
	}
	/* The bind takes ownership of the key. */
	if (ssh_bind_options_set(srv->bind, SSH_BIND_OPTIONS_IMPORT_KEY, key)
	    != SSH_OK) {
		ssh_key_free(key);
		snprintf(err, errlen, "cannot use host key %s: %s",
		    srv->dd.host_key, ssh_get_error(srv->bind));
		return -1;
	}
	return 0;
}

/* The folder of this tandemd binary, or NULL. */
static char *
exe_dir(void)
{
	char	 self[4096], *slash;
	ssize_t	 n;

	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return NULL;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return NULL;
	*slash = '\0';
	return strdup(self);
}

static int
has_file(const char *dir, const char *name)
{
	char	 path[8300];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return access(path, R_OK) == 0;
}

/*
 * A build tree runs as well as an installed tandemd: the tandem client
 * (for the sessions' PATH) and the web page are looked for next to this
 * binary (src/ and web-dist/ of the build) when they are not installed.
 */
static void
find_companions(struct server *srv)
{
	char	*dir = exe_dir(), path[8192];

	if (dir != NULL && has_file(dir, "tandem"))
		srv->client_dir = strdup(dir);
	else if (has_file(TANDEM_BINDIR, "tandem"))
		srv->client_dir = strdup(TANDEM_BINDIR);
	if (has_file(srv->cfg->web_root, "viewer.html"))
		srv->web_dir = strdup(srv->cfg->web_root);
	else if (dir != NULL) {
		snprintf(path, sizeof path, "%s/../web-dist", dir);
		if (has_file(path, "viewer.html")) {
			srv->web_dir = strdup(path);
			log_info("web_root %s has no viewer page; serving the "
			    "build's %s", srv->cfg->web_root, path);
		}
	}
	free(dir);
}

int
server_start(struct server *srv, uv_loop_t *loop, const struct config *cfg,
    char *err, size_t errlen)
{
	int	 reaped = 0;

	memset(srv, 0, sizeof *srv);
	srv->loop = loop;
	srv->cfg = cfg;
	srv->listen_fd = -1;
	TAILQ_INIT(&srv->conns);
	TAILQ_INIT(&srv->sessions);

	if (datadir_open(&srv->dd, cfg->data_dir, 1, err, errlen) != 0)
		return -1;
	if (store_open(srv->dd.db, &srv->store) != 0) {
		snprintf(err, errlen, "cannot open the database %s",
		    srv->dd.db);
		return -1;
	}
	/* Sessions a dead daemon left behind have no process any more. */
	if (store_session_reap(srv->store, time_now(), &reaped) != 0)
		log_warn("cannot mark stale sessions terminated");
	else if (reaped > 0)
		log_info("marked %d sessions of a previous run terminated",
		    reaped);
	share_timer_init(srv);
	find_companions(srv);
	if (bind_setup(srv, err, errlen) != 0)
		return -1;
	srv->listen_fd = listen_socket(cfg->ssh_listen, srv->listen_addr,
	    sizeof srv->listen_addr, err, errlen);
	if (srv->listen_fd < 0)
		return -1;
	/* The socket of the tandem client inside sessions (control.h). */
	if (control_start(srv, err, errlen) != 0)
		return -1;
	/* HTTP, /metrics and WebSocket viewers (web.h). */
	if (web_start(srv, err, errlen) != 0)
		return -1;

	uv_poll_init(loop, &srv->listen_poll, srv->listen_fd);
	srv->listen_poll.data = srv;
	uv_poll_start(&srv->listen_poll, UV_READABLE, on_listen);
	conn_check_start(srv);
	uv_signal_init(loop, &srv->sig_term);
	uv_signal_init(loop, &srv->sig_int);
	uv_signal_init(loop, &srv->sig_hup);
	uv_signal_init(loop, &srv->sig_chld);
	srv->sig_term.data = srv->sig_int.data = srv;
	srv->sig_hup.data = srv->sig_chld.data = srv;
	uv_signal_start(&srv->sig_term, on_sigterm, SIGTERM);
	uv_signal_start(&srv->sig_int, on_sigterm, SIGINT);
	uv_signal_start(&srv->sig_hup, on_sighup, SIGHUP);
	uv_signal_start(&srv->sig_chld, on_sigchld, SIGCHLD);
	log_info("listening for ssh on %s", srv->listen_addr);
	return 0;
}

/*
 * Stop serving: hang up every session, disconnect every client with
 * reason, and close our handles; uv_run() returns once all are closed.
 */
void
server_stop(struct server *srv, const char *reason)
{
	struct session	*s;
	struct conn	*c;

	if (srv->stopping)
		return;
	srv->stopping = 1;
	control_stop(srv);
	while ((s = TAILQ_FIRST(&srv->sessions)) != NULL)
		session_shutdown(s);
	while ((c = TAILQ_FIRST(&srv->conns)) != NULL)
		conn_disconnect(c, reason);
	/* The viewers are kicked already; lws closes its sockets and then
	 * its handles while the loop drains (notes/libraries.md). */
	web_stop(srv);
	share_timer_close(srv);
	conn_check_stop(srv);
	uv_poll_stop(&srv->listen_poll);
	uv_close((uv_handle_t *)&srv->listen_poll, NULL);
	uv_close((uv_handle_t *)&srv->sig_term, NULL);
	uv_close((uv_handle_t *)&srv->sig_int, NULL);
	uv_close((uv_handle_t *)&srv->sig_hup, NULL);
	uv_close((uv_handle_t *)&srv->sig_chld, NULL);
}

void
server_free(struct server *srv)
{
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->bind != NULL)
		ssh_bind_free(srv->bind);
	web_free(srv);
	if (srv->store != NULL)
		store_close(srv->store);
	free(srv->ratelimit);
	free(srv->client_dir);
	free(srv->web_dir);
	datadir_close(&srv->dd);
	log_info("stopped: %llu connections, %llu logins, %llu auth failures",
	    (unsigned long long)srv->stats.connections,
	    (unsigned long long)srv->stats.logins,
	    (unsigned long long)srv->stats.auth_failures);
}

/* Live sessions only; the store knows the terminated ones. */
struct session *
server_session_find(struct server *srv, const char *id)
{
	struct session	*s;

	TAILQ_FOREACH(s, &srv->sessions, entry) {
		if (strcmp(s->id, id) == 0)
			return s;
	}
	return NULL;
}

int
server_session_count(struct server *srv, int64_t owner_id)
{
	struct session	*s;
	int		 n = 0;

	TAILQ_FOREACH(s, &srv->sessions, entry) {
		if (s->owner_id == owner_id)
			n++;
	}
	return n;
}
