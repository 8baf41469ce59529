/*
 * server: the daemon's one event loop and what hangs off it.
 *
 * tandemd is a single process with a single libuv loop (DESIGN.md,
 * "Architecture"): the SSH listener, every SSH connection, every PTY,
 * every timer and the signals are handles on that loop, and nothing on it
 * blocks.  The server owns the lists of connections and sessions, the
 * store, and the counters the operator sees in the log.
 */
#ifndef TANDEM_SERVER_H
#define TANDEM_SERVER_H

#include "compat.h"

#include <stdint.h>

#include <libssh/libssh.h>
#include <libssh/server.h>
#include <uv.h>

#include "datadir.h"

struct config;
struct conn;
struct control;
struct ratelimit;
struct session;
struct store;
struct web;

TAILQ_HEAD(conn_list, conn);
TAILQ_HEAD(session_list, session);

struct server_stats {
	uint64_t	 connections;
	uint64_t	 logins;
	uint64_t	 auth_failures;
	uint64_t	 grace_timeouts;
	uint64_t	 sessions_started;
	uint64_t	 tokens_refused;	/* share tokens refused */
	uint64_t	 model_bytes_skipped;	/* floods the model skipped */
	uint64_t	 viewer_resyncs;	/* stalled, then a snapshot */
	uint64_t	 viewers_stall_dropped;	/* stalled too long */
	uint64_t	 viewer_bytes[2];	/* sent to viewers: ssh, ws */
	uint64_t	 share_events[6];	/* audit_share_events order */
};

struct server {
	uv_loop_t		*loop;
	const struct config	*cfg;
	struct datadir		 dd;
	struct store		*store;

	ssh_bind		 bind;
	int			 listen_fd;
	uv_poll_t		 listen_poll;
	char			 listen_addr[80];

	struct control		*control;	/* the tandem client socket */
	struct web		*web;		/* HTTP and WebSocket */
	char			 http_addr[80];	/* HOST:PORT as bound, or "" */
	uv_timer_t		 share_timer;	/* next share expiry */
	struct ratelimit	*ratelimit;	/* failed token attempts */
	char			*control_path;	/* absolute */
	char			*client_dir;	/* where "tandem" is, for PATH */
	char			*web_dir;	/* the page's files (web_root) */

	uv_signal_t		 sig_term, sig_int, sig_hup, sig_chld;
	uv_check_t		 conn_check;	/* see conn_mark */
	struct conn_list	 conns;
	struct session_list	 sessions;
	struct server_stats	 stats;
	int			 stopping;
};

int		 server_start(struct server *, uv_loop_t *,
		    const struct config *, char *, size_t);
void		 server_stop(struct server *, const char *);
void		 server_free(struct server *);
struct session	*server_session_find(struct server *, const char *);
int		 server_session_count(struct server *, int64_t);

#endif
