/*
 * viewers: pools of viewers of one share.  SSH viewers are libssh
 * sessions, connected by a few threads at once (a key exchange costs
 * milliseconds) and then read by one thread polling all their sockets;
 * WebSocket viewers are libwebsockets client connections served by one
 * thread.  Each viewer counts the bytes it receives, notes when its
 * first frame (the snapshot) came, and looks for the owner's probes
 * ("P<k>Q") in the stream, in order, to time them.  A stalled viewer is
 * a bare socket that completes a WebSocket handshake and never reads.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "bench.h"

#define CONNECT_THREADS	8
#define TAIL		24

enum { V_SSH, V_WS, V_STALLED };

struct viewer {
	int		 kind;
	struct pool	*pool;
	ssh_session	 ssh;
	ssh_channel	 ch;
	int		 fd;		/* ssh socket, or the stalled one */
	struct lws	*wsi;
	uint64_t	 bytes;
	int		 got_first;
	int		 dead;
	int		 next_probe;
	char		 tail[TAIL];
	size_t		 ntail;
};

struct pool {
	const struct target	*t;
	char			 token[64];
	struct probes		*pr;
	pthread_mutex_t		 lock;

	struct viewer		**v;
	size_t			 n, cap;

	pthread_t		 ssh_thr;
	int			 ssh_running;
	pthread_t		 ws_thr;
	int			 ws_running;
	struct lws_context	*ctx;
	int			 ws_want;	/* connections asked for */
	int			 ws_made;

	volatile int		 stop;
	double			*lat;
	size_t			 nlat, caplat;
};

static int
pool_push(struct pool *p, struct viewer *v)
{
	struct viewer	**nv;

	pthread_mutex_lock(&p->lock);
	if (p->n == p->cap) {
		nv = realloc(p->v, (p->cap ? p->cap * 2 : 64) * sizeof *nv);
		if (nv == NULL) {
			pthread_mutex_unlock(&p->lock);
			return -1;
		}
		p->v = nv;
		p->cap = p->cap ? p->cap * 2 : 64;
	}
	p->v[p->n++] = v;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/*
 * Probe k's text: letters that all differ from probe k - 1's at the same
 * place (each shifts by 7 of 26), so that no frame can send just a part
 * of it.
 */
void
probe_text(int k, char text[PROBE_LEN + 1])
{
	int	 i;

	for (i = 0; i < PROBE_LEN; i++)
		text[i] = (char)('a' + (k * 7 + i * 3 + (k / 26) * 5) % 26);
	text[PROBE_LEN] = '\0';
}

/* Bytes came to v: count them, and time the probes they complete. */
static void
viewer_got(struct viewer *v, const char *p, size_t n)
{
	struct pool	*pl = v->pool;
	char		 probe[PROBE_LEN + 1], buf[TAIL + 16384];
	size_t		 len, take;
	double		 at = now_s();
	int		 k;

	__atomic_add_fetch(&v->bytes, n, __ATOMIC_RELAXED);
	v->got_first = 1;
	while (n > 0) {
		take = n > sizeof buf - TAIL ? sizeof buf - TAIL : n;
		memcpy(buf, v->tail, v->ntail);
		memcpy(buf + v->ntail, p, take);
		len = v->ntail + take;
		/* The newest probe shown: under a flood of frames a probe may
		 * be overwritten before a frame shows it, and is skipped. */
		for (k = __atomic_load_n(&pl->pr->n, __ATOMIC_ACQUIRE) - 1;
		    k >= v->next_probe; k--) {
			if (pl->pr->sent[k] <= 0)
				continue;
			probe_text(k, probe);
			if (memmem(buf, len, probe, PROBE_LEN) == NULL)
				continue;
			pthread_mutex_lock(&pl->lock);
			if (pl->nlat == pl->caplat) {
				double *nl = realloc(pl->lat, (pl->caplat ?
				    pl->caplat * 2 : 1024) * sizeof *nl);
				if (nl != NULL) {
					pl->lat = nl;
					pl->caplat = pl->caplat ?
					    pl->caplat * 2 : 1024;
				}
			}
			if (pl->nlat < pl->caplat)
				pl->lat[pl->nlat++] = at - pl->pr->sent[k];
			pthread_mutex_unlock(&pl->lock);
			v->next_probe = k + 1;
			break;
		}
		v->ntail = len < TAIL ? len : TAIL;
		memmove(v->tail, buf + len - v->ntail, v->ntail);
		p += take;
		n -= take;
	}
}

/* ---- SSH viewers ------------------------------------------------------ */

static struct viewer *
ssh_viewer_new(struct pool *p)
{
	struct viewer	*v = calloc(1, sizeof *v);
	int		 no = 0, port = p->t->port;

	if (v == NULL || (v->ssh = ssh_new()) == NULL)
		goto fail;
	v->kind = V_SSH;
	v->pool = p;
	ssh_options_set(v->ssh, SSH_OPTIONS_HOST, "127.0.0.1");
	ssh_options_set(v->ssh, SSH_OPTIONS_PORT, &port);
	ssh_options_set(v->ssh, SSH_OPTIONS_USER, p->token);
	ssh_options_set(v->ssh, SSH_OPTIONS_STRICTHOSTKEYCHECK, &no);
	ssh_options_set(v->ssh, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
	/* A --no-auth share lets "none" in, as with OpenSSH's client. */
	if (ssh_connect(v->ssh) != SSH_OK ||
	    ssh_userauth_none(v->ssh, NULL) != SSH_AUTH_SUCCESS ||
	    (v->ch = ssh_channel_new(v->ssh)) == NULL ||
	    ssh_channel_open_session(v->ch) != SSH_OK ||
	    ssh_channel_request_pty_size(v->ch, "xterm", 200, 60) != SSH_OK ||
	    ssh_channel_request_shell(v->ch) != SSH_OK)
		goto fail;
	v->fd = ssh_get_fd(v->ssh);
	ssh_set_blocking(v->ssh, 0);
	return v;
fail:
	if (v != NULL) {
		if (v->ssh != NULL)
			ssh_free(v->ssh);
		free(v);
	}
	return NULL;
}

struct connector {
	struct pool	*p;
	int		 n;
	int		 made;
};

static void *
connect_viewers(void *arg)
{
	struct connector	*c = arg;
	struct viewer		*v;
	int			 i;

	for (i = 0; i < c->n; i++) {
		if ((v = ssh_viewer_new(c->p)) == NULL)
			continue;
		if (pool_push(c->p, v) == 0)
			c->made++;
	}
	return NULL;
}

static void *
ssh_reader(void *arg)
{
	struct pool	*p = arg;
	struct pollfd	*pfd = NULL;
	struct viewer	**vs = NULL;
	static char	 buf[65536];
	size_t		 i, n, k;
	int		 r;

	while (!p->stop) {
		pthread_mutex_lock(&p->lock);
		n = p->n;
		pfd = realloc(pfd, (n + 1) * sizeof *pfd);
		vs = realloc(vs, (n + 1) * sizeof *vs);
		for (i = k = 0; pfd != NULL && vs != NULL && i < n; i++) {
			if (p->v[i]->kind != V_SSH || p->v[i]->dead)
				continue;
			vs[k] = p->v[i];
			pfd[k].fd = p->v[i]->fd;
			pfd[k].events = POLLIN;
			k++;
		}
		pthread_mutex_unlock(&p->lock);
		if (pfd == NULL || vs == NULL)
			break;
		if (k == 0) {
			usleep(20000);
			continue;
		}
		poll(pfd, k, 20);
		for (i = 0; i < k; i++) {
			/* What libssh read while the channel was being set up
			 * waits in its buffers, with nothing left to poll. */
			if (pfd[i].revents == 0 && vs[i]->got_first)
				continue;
			while ((r = ssh_channel_read_nonblocking(vs[i]->ch, buf,
			    sizeof buf, 0)) > 0)
				viewer_got(vs[i], buf, (size_t)r);
			if (r < 0 || ssh_channel_is_eof(vs[i]->ch))
				vs[i]->dead = 1;
		}
	}
	free(pfd);
	free(vs);
	return NULL;
}

int
pool_add_ssh(struct pool *p, int n)
{
	pthread_t		 thr[CONNECT_THREADS];
	struct connector	 c[CONNECT_THREADS];
	int			 i, made = 0, threads = n < CONNECT_THREADS ?
				    n : CONNECT_THREADS;

	for (i = 0; i < threads; i++) {
		c[i].p = p;
		c[i].n = n / threads + (i < n % threads);
		c[i].made = 0;
		pthread_create(&thr[i], NULL, connect_viewers, &c[i]);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(thr[i], NULL);
		made += c[i].made;
	}
	if (!p->ssh_running && pthread_create(&p->ssh_thr, NULL, ssh_reader,
	    p) == 0)
		p->ssh_running = 1;
	return made;
}

/* ---- WebSocket viewers -------------------------------------------------- */

static int
ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct viewer	*v = user;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (v != NULL && lws_frame_is_binary(wsi))
			viewer_got(v, in, len);
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (v != NULL)
			v->dead = 1;
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols ws_protocols[] = {
	{ "tandem.v1", ws_callback, 0, 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void
ws_connect_one(struct pool *p)
{
	struct lws_client_connect_info	 ci;
	struct viewer			*v = calloc(1, sizeof *v);
	char				 path[128];

	if (v == NULL)
		return;
	v->kind = V_WS;
	v->pool = p;
	snprintf(path, sizeof path, "/ws/s/%s", p->token);
	memset(&ci, 0, sizeof ci);
	ci.context = p->ctx;
	ci.address = "127.0.0.1";
	ci.port = p->t->http_port;
	ci.path = path;
	ci.host = "127.0.0.1";
	ci.protocol = "tandem.v1";
	ci.userdata = v;
	ci.pwsi = &v->wsi;
	if (pool_push(p, v) != 0 || lws_client_connect_via_info(&ci) == NULL)
		v->dead = 1;
}

static void *
ws_service(void *arg)
{
	struct pool	*p = arg;
	int		 batch;

	while (!p->stop) {
		for (batch = 0; batch < 50 && p->ws_made <
		    __atomic_load_n(&p->ws_want, __ATOMIC_ACQUIRE); batch++) {
			ws_connect_one(p);
			p->ws_made++;
		}
		lws_service(p->ctx, 10);
	}
	return NULL;
}

int
pool_add_ws(struct pool *p, int n)
{
	struct lws_context_creation_info	 info;

	if (p->ctx == NULL) {
		memset(&info, 0, sizeof info);
		info.port = CONTEXT_PORT_NO_LISTEN;
		info.protocols = ws_protocols;
		info.gid = -1;
		info.uid = -1;
		info.fd_limit_per_thread = 8192;
		lws_set_log_level(LLL_ERR, NULL);
		if ((p->ctx = lws_create_context(&info)) == NULL)
			return 0;
	}
	__atomic_add_fetch(&p->ws_want, n, __ATOMIC_RELEASE);
	if (!p->ws_running && pthread_create(&p->ws_thr, NULL, ws_service,
	    p) == 0)
		p->ws_running = 1;
	return n;
}

/* A client that stops reading: handshake, then nothing (a small
 * receive buffer, so that the server notices soon). */
int
pool_add_stalled(struct pool *p)
{
	struct sockaddr_in	 sin;
	struct viewer		*v = calloc(1, sizeof *v);
	char			 req[512];
	int			 small = 4096, fd;

	if (v == NULL || (fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
		free(v);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)p->t->http_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	snprintf(req, sizeof req, "GET /ws/s/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Protocol: tandem.v1\r\n\r\n", p->token);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		free(v);
		return -1;
	}
	v->kind = V_STALLED;
	v->fd = fd;
	v->got_first = 1;
	return pool_push(p, v);
}

/* ---- the pool ------------------------------------------------------------ */

struct pool *
pool_new(const struct target *t, const char *token, struct probes *pr)
{
	struct pool	*p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	p->t = t;
	p->pr = pr;
	snprintf(p->token, sizeof p->token, "%s", token);
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

/* Wait until every live viewer has its first frame; how many have. */
int
pool_wait_snapshots(struct pool *p, double timeout)
{
	double	 deadline = now_s() + timeout;
	size_t	 i;
	int	 have, want;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		for (i = 0, have = 0; i < p->n; i++)
			have += p->v[i]->got_first;
		want = (int)p->n;
		pthread_mutex_unlock(&p->lock);
		if ((have == want && want >= p->ws_want) ||
		    now_s() > deadline)
			return have;
		usleep(5000);
	}
}

int
pool_joined(struct pool *p)
{
	size_t	 i;
	int	 n = 0;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->n; i++)
		n += !p->v[i]->dead;
	pthread_mutex_unlock(&p->lock);
	return n;
}

uint64_t
pool_bytes(struct pool *p)
{
	uint64_t	 b = 0;
	size_t		 i;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->n; i++)
		b += __atomic_load_n(&p->v[i]->bytes, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&p->lock);
	return b;
}

/* The probe latencies seen so far (seconds); the array stays the
 * pool's. */
int
pool_latencies(struct pool *p, double **lat, size_t *n)
{
	pthread_mutex_lock(&p->lock);
	*lat = p->lat;
	*n = p->nlat;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void
pool_free(struct pool *p)
{
	size_t	 i;

	if (p == NULL)
		return;
	p->stop = 1;
	if (p->ws_running) {
		lws_cancel_service(p->ctx);
		pthread_join(p->ws_thr, NULL);
	}
	if (p->ssh_running)
		pthread_join(p->ssh_thr, NULL);
	if (p->ctx != NULL)
		lws_context_destroy(p->ctx);
	for (i = 0; i < p->n; i++) {
		struct viewer *v = p->v[i];
		if (v->kind == V_SSH) {
			ssh_channel_free(v->ch);
			ssh_disconnect(v->ssh);
			ssh_free(v->ssh);
		} else if (v->kind == V_STALLED)
			close(v->fd);
		free(v);
	}
	free(p->v);
	free(p->lat);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
