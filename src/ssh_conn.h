/*
 * ssh_conn: one SSH connection on the event loop.
 *
 * libssh runs non-blocking: a uv_poll watches a dup of the socket and
 * each wakeup runs the connection's own ssh_event once.  Callbacks from
 * libssh only record what the client asked for; the work (starting a
 * shell, running a command, writing output) happens after the poll
 * returns, outside libssh, as notes/libraries.md advises.
 */
#ifndef TANDEM_SSH_CONN_H
#define TANDEM_SSH_CONN_H

struct server;
struct conn;

int	 conn_accept(struct server *, int, const char *);
void	 conn_disconnect(struct conn *, const char *);
void	 conn_check_start(struct server *);
void	 conn_check_stop(struct server *);

#endif
