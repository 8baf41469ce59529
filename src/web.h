/*
 * web: HTTP and WebSocket on the daemon's one libuv loop.
 *
 * libwebsockets runs as a foreign loop on srv->loop (notes/libraries.md,
 * section 1), with one vhost listening on the http_listen setting.  It
 * answers /healthz and /metrics (Prometheus text), and carries browser
 * viewers of a link share over a WebSocket at /ws/s/TOKEN (protocol
 * "tandem.v1", doc/protocol.md): such a viewer is one more struct client
 * of the session, sent the same frames as an SSH viewer.
 */
#ifndef TANDEM_WEB_H
#define TANDEM_WEB_H

#include <stddef.h>

struct server;

int	 web_start(struct server *, char *, size_t);
void	 web_stop(struct server *);
void	 web_free(struct server *);

#endif
