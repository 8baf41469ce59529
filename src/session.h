/*
 * session: one PTY, the program running in it, and the screen model fed
 * from it.  A session is owned by one user and outlives its clients: when
 * the owner's connection goes away the program keeps running
 * ("disconnected") until the owner attaches again or the program exits.
 *
 * Clients are the transports attached to a session (an SSH channel or
 * a WebSocket).  The session talks to them only through struct
 * client_ops, so that the byte path stays readable: PTY -> session ->
 * client.  The owner client receives the raw PTY stream; a re-attaching
 * owner first gets a repaint rendered from the screen model.  Viewers
 * get frames rendered from the model, shared among them (fanout.c).
 */
#ifndef TANDEM_SESSION_H
#define TANDEM_SESSION_H

#include "compat.h"
#include <sys/types.h>

#include <stdint.h>

#include <uv.h>

#include "buf.h"
#include "filter.h"
#include "frameq.h"
#include "store.h"
#include "vtscan.h"

struct server;
struct screen;
struct session;

/* Stop reading the PTY while the owner has this much queued, resume below
 * the low mark: the program's write() then blocks, as on a slow tty. */
#define SESSION_OWNER_HIGH	(1024 * 1024)
#define SESSION_OWNER_LOW	(256 * 1024)
#define SESSION_INPUT_MAX	(8 * 1024 * 1024)

struct client_ops {
	/* Owner: queue bytes for the client; -1 if it cannot take them. */
	int	 (*write)(void *, const char *, size_t);
	/* Bytes queued and not yet sent; for a viewer, those the transport
	 * itself holds (non-zero while it cannot send). */
	size_t	 (*queued)(void *);
	/* Viewers: chunks were added to client->queue; send them when the
	 * connection can take them, and call session_client_drained. */
	void	 (*kick)(void *);
	/* Viewers, optional: the session's size (CLIENT_RESIZED) or its
	 * list of viewers (CLIENT_ROSTER, at most once a second) changed. */
	void	 (*event)(void *, int);
	/* The session ended: wstatus is a waitpid() status. */
	void	 (*ended)(void *, int);
	/* The client was detached by the session (why: a message).  A
	 * stalled viewer is hung up on at once: it reads nothing. */
	void	 (*detached)(void *, const char *);
};

/*
 * A viewer is sent frames rendered from the screen model, never the raw
 * stream.  Past VIEWER_QUEUE_BUDGET bytes queued it stalls: what it has
 * not begun is dropped, nothing more is queued, and once it has sent
 * everything it gets a fresh snapshot and goes on live.  A viewer
 * stalled for viewer_stall_timeout seconds is disconnected.
 */
#define VIEWER_QUEUE_BUDGET	(128 * 1024)
#define FRAME_INTERVAL_MS	16
#define ROSTER_INTERVAL_MS	1000

#define CLIENT_RESIZED	1
#define CLIENT_ROSTER	2

struct client {
	const struct client_ops	*ops;
	void			*ctx;
	struct session		*session;
	char			 address[64];
	int			 rows, cols;

	/* viewers only */
	TAILQ_ENTRY(client)	 entry;
	int			 viewer;
	int			 read_write;
	int64_t			 user_id;	/* 0: anonymous */
	char			 user[33];
	char			 share_id[13];	/* "" for an owner or admin */
	const char		*transport;	/* "ssh", "websocket" */
	int64_t			 connected_at;
	struct frameq		 queue;		/* frames not yet sent */
	int			 in_step;	/* has every shared frame */
	int			 needs_snapshot;
	int			 stalled;
	uint64_t		 stalled_ms;	/* since when (loop time) */
	int			 too_small;
	struct input_filter	 filter;
};
TAILQ_HEAD(client_list, client);

struct session_params {
	int64_t		 owner_id;
	const char	*owner;
	int		 rows, cols;
	const char	*term;
	char *const	*env;		/* extra "NAME=value" from the client */
	const char	*client_address;
	const char	*auth_method;
};

struct session {
	TAILQ_ENTRY(session)	 entry;
	struct server		*srv;
	char			 id[37];
	int64_t			 owner_id;
	char			 owner[33];
	enum session_state	 state;
	int			 rows, cols;

	int			 master;
	pid_t			 pid;
	uv_poll_t		 poll;
	int			 poll_events;
	uv_timer_t		 kill_timer;
	int			 handles_open;

	/* The credential of the "tandem" client inside the session, handed
	 * to the shell in $TANDEM (control.h). */
	char			 control_secret[65];

	struct screen		*screen;
	/* Output the owner has been sent and the screen model not yet:
	 * fed at the next frame, or on demand, skipping floods. */
	struct buf		 backlog;
	struct vtscan		 scan;		/* at the end of the stream */
	struct vtscan		 scan_backlog;	/* at the backlog's start */
	uint64_t		 skipped;	/* bytes the model skipped */
	struct client		*owner_client;
	struct client_list	 viewers;
	int			 nviewers;
	struct screen_frame	*shared;	/* what viewers in step show */
	uv_timer_t		 frame_timer;
	int			 frame_pending;
	uint64_t		 last_frame_ms;
	/* Frame pacing (fanout.c): the viewers' sending since the last
	 * frame, the gap that frame's cost asks for, the output since. */
	uint64_t		 fanout_ns;
	uint64_t		 frame_gap_ms;
	size_t			 out_since_frame;
	uv_timer_t		 stall_timer;
	int			 nstalled;
	uv_timer_t		 roster_timer;
	int			 roster_dirty;	/* viewers joined or left */
	uint64_t		 last_roster_ms;
	struct buf		 input;		/* waiting for the PTY */
	int			 paused;	/* not reading: owner is behind */
	int			 title_pending;	/* owner title waits for a
						   boundary in the stream */
	int			 exited;
	int			 ended;
};

struct session	*session_new(struct server *, const struct session_params *,
		    char *, size_t);
int		 session_attach(struct session *, struct client *, int);
void		 session_detach(struct session *, struct client *);
int		 session_owner_disconnect(struct session *, const char *);
size_t		 session_input(struct session *, const char *, size_t);
int		 session_resize(struct session *, int, int);
void		 session_kill(struct session *);
void		 session_child_exited(struct session *, int);
void		 session_client_drained(struct session *, struct client *);
void		 session_shutdown(struct session *);
int		 session_viewer_add(struct session *, struct client *);
void		 session_viewer_remove(struct session *, struct client *);
void		 session_viewer_input(struct session *, struct client *,
		    const char *, size_t);
void		 session_viewer_resize(struct session *, struct client *,
		    int, int);
int		 session_viewers_kick(struct session *, const char *,
		    const char *);
int		 session_share_viewers(struct session *, const char *);
void		 session_model_sync(struct session *);
void		 session_fanout_cost(struct session *, uint64_t);

#endif
