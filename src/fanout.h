/*
 * fanout: a session's viewers, between session.c and fanout.c.  The
 * viewer operations themselves are declared in session.h.
 */
#ifndef TANDEM_FANOUT_H
#define TANDEM_FANOUT_H

struct client;
struct session;

void	 fanout_schedule(struct session *);
void	 fanout_owner_title(struct session *);
void	 fanout_drained(struct session *, struct client *);
void	 fanout_resized(struct session *);
void	 fanout_free(struct session *);

#endif
