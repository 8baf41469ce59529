/*
 * fanout: a session's viewers and the frames they are sent.
 *
 * At each frame (at most one per FRAME_INTERVAL_MS under a burst, at
 * once after a quiet moment) the screen model is rendered at most twice,
 * whatever the number of viewers: one diff against s->shared, the
 * screen every viewer in step was last sent, and, when someone joined or
 * came back from a stall, one full snapshot.  Both are cut into shared
 * chunks (frameq.h) that each viewer's queue references.
 *
 * Sending frames to a crowd could take the whole loop from the owner:
 * while the program floods (a KiB or more since the last frame), the gap
 * between frames is at least three times what the last frame cost to
 * render and send (the transports report their sending time and the
 * viewers' connections' own traffic), so that frames take at most a
 * quarter of the loop.  Typing still goes out at once after a quiet
 * moment, whatever the crowd.
 *
 * Every viewer has a byte budget.  One that exceeds it stalls: the
 * chunks it has not begun are dropped, nothing is queued for it, and
 * once its transport has sent what is left it is resynchronised with
 * the next snapshot.  Neither the owner nor the other viewers ever wait
 * for it, and the memory it holds stays under its budget.  A viewer
 * stalled for viewer_stall_timeout is disconnected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "config.h"
#include "fanout.h"
#include "log.h"
#include "screen.h"
#include "server.h"
#include "session.h"
#include "util.h"

#define STALL_CHECK_MS	1000
#define FRAME_GAP_MAX_MS	1000
#define FRAME_COST_SHARE	3	/* gap = this x the last frame's cost */
#define FLOOD_BYTES		1024	/* output since the last frame */

static void	 on_stall_timer(uv_timer_t *);

/*
 * The owner always knows who is watching: the terminal title says so
 * while anyone is, and goes back to the program's own title when the
 * last viewer leaves.
 */
void
fanout_owner_title(struct session *s)
{
	struct buf	 t = BUF_INIT;
	struct client	*v, *o = s->owner_client;
	int		 shown = 0;

	if (o == NULL)
		return;
	/* Never between the bytes of one of the program's sequences. */
	if (!vtscan_at_boundary(&s->scan)) {
		s->title_pending = 1;
		return;
	}
	s->title_pending = 0;
	if (s->nviewers == 0) {
		session_model_sync(s);
		buf_printf(&t, "\033]2;%s\007", screen_title(s->screen));
	} else {
		buf_printf(&t, "\033]2;[tandem: %d viewer%s:", s->nviewers,
		    s->nviewers == 1 ? "" : "s");
		TAILQ_FOREACH(v, &s->viewers, entry) {
			if (shown++ == 5) {
				buf_puts(&t, " ...");
				break;
			}
			buf_printf(&t, " %s", v->user[0] ? v->user : "guest");
		}
		buf_puts(&t, "]\007");
	}
	if (buf_used(&t) > 0)
		o->ops->write(o->ctx, buf_ptr(&t), buf_used(&t));
	buf_free(&t);
}

/* Queue bytes of this viewer's own (a notice), not shared. */
static void
viewer_queue_own(struct client *c, const char *p, size_t n)
{
	struct chunks	 l;

	if (chunks_from(&l, p, n) != 0 || frameq_push_all(&c->queue, &l) != 0)
		log_warn("viewer %s: out of memory", c->address);
	chunks_clear(&l);
}

static void
viewer_notice_small(struct session *s, struct client *c)
{
	struct buf	 out = BUF_INIT;

	buf_printf(&out, "\033[0m\033[H\033[2J\r\n  This session is %dx%d and "
	    "your terminal is %dx%d.\r\n  Make your terminal at least as "
	    "large to watch it.\r\n", s->cols, s->rows, c->cols, c->rows);
	viewer_queue_own(c, buf_ptr(&out), buf_used(&out));
	buf_free(&out);
}

static void
viewer_stall(struct session *s, struct client *c)
{
	size_t	 dropped = frameq_drop_unsent(&c->queue);

	c->stalled = 1;
	c->in_step = 0;
	c->needs_snapshot = 1;
	c->stalled_ms = uv_now(s->srv->loop);
	s->nstalled++;
	if (!uv_is_active((uv_handle_t *)&s->stall_timer))
		uv_timer_start(&s->stall_timer, on_stall_timer,
		    STALL_CHECK_MS, 0);
	log_info("session %s: viewer %s stalled, %zu bytes dropped", s->id,
	    c->address, dropped);
	/* The transport says when it can take data again (drained). */
	c->ops->kick(c->ctx);
}

/*
 * What a viewer gets this frame: nothing while stalled, a notice while
 * its terminal is too small, else the snapshot or the shared diff.
 */
static void
viewer_send(struct session *s, struct client *c, const struct chunks *diff,
    const struct chunks *snap)
{
	if (c->stalled)
		return;
	if (c->too_small == 1) {
		c->too_small = 2;		/* told */
		viewer_notice_small(s, c);
	} else if (c->too_small == 0 && c->needs_snapshot) {
		if (frameq_push_all(&c->queue, snap) == 0) {
			c->needs_snapshot = 0;
			c->in_step = 1;
		}
	} else if (c->too_small == 0 && c->in_step &&
	    frameq_push_all(&c->queue, diff) != 0) {
		c->in_step = 0;
		c->needs_snapshot = 1;
	}
	if (c->queue.bytes > VIEWER_QUEUE_BUDGET)
		viewer_stall(s, c);
	if (c->queue.bytes > 0)
		c->ops->kick(c->ctx);
}

/* Track whether each viewer's terminal holds the session; what the
 * render must produce: *want_diff for viewers in step, *want_snap for
 * those that need a snapshot. */
static void
viewers_survey(struct session *s, int *want_diff, int *want_snap)
{
	struct client	*c;
	int		 small;

	*want_diff = *want_snap = 0;
	TAILQ_FOREACH(c, &s->viewers, entry) {
		small = c->cols < s->cols || c->rows < s->rows;
		if (small && c->too_small == 0) {
			c->too_small = 1;	/* to be told */
			c->in_step = 0;
			c->needs_snapshot = 1;
		} else if (!small && c->too_small != 0) {
			c->too_small = 0;
			c->needs_snapshot = 1;
		}
		if (small || c->stalled)
			continue;
		if (c->needs_snapshot)
			*want_snap = 1;
		else if (c->in_step)
			*want_diff = 1;
	}
}

/*
 * Render this frame's diff (bringing s->shared up to the screen) and
 * snapshot, each once.  With nobody in step the shared frame restarts
 * empty, so that the snapshot, rendered against it, leaves it current.
 */
static int
frames_build(struct session *s, struct chunks *diff, struct chunks *snap)
{
	struct screen_frame	*fresh = NULL;
	struct buf		 d = BUF_INIT, f = BUF_INIT;
	int			 want_diff, want_snap, r = -1;

	viewers_survey(s, &want_diff, &want_snap);
	if (!want_diff) {
		screen_frame_free(s->shared);
		s->shared = NULL;
	}
	if (s->shared == NULL && (s->shared = screen_frame_new()) == NULL)
		return -1;
	if (want_diff && screen_render_frame(s->screen, s->shared, &d) != 0)
		goto out;
	if (want_snap) {
		if (want_diff && (fresh = screen_frame_new()) == NULL)
			goto out;
		if (screen_render_frame(s->screen, want_diff ? fresh :
		    s->shared, &f) != 0)
			goto out;
	}
	if (chunks_from(diff, buf_ptr(&d), buf_used(&d)) != 0 ||
	    chunks_from(snap, buf_ptr(&f), buf_used(&f)) != 0)
		goto out;
	r = 0;
out:
	if (r != 0) {
		/* The shared frame may be half updated: start again. */
		screen_frame_free(s->shared);
		s->shared = NULL;
	}
	screen_frame_free(fresh);
	buf_free(&d);
	buf_free(&f);
	return r;
}

static void
viewers_event(struct session *s, int what)
{
	struct client	*c;

	TAILQ_FOREACH(c, &s->viewers, entry) {
		if (c->ops->event != NULL)
			c->ops->event(c->ctx, what);
	}
}

/* The session's size changed: viewers that draw their own terminal
 * (a browser's) follow it; the next frame repaints in full. */
void
fanout_resized(struct session *s)
{
	viewers_event(s, CLIENT_RESIZED);
	fanout_schedule(s);
}

static void
on_roster_timer(uv_timer_t *t)
{
	struct session	*s = t->data;

	s->roster_dirty = 0;
	s->last_roster_ms = uv_now(s->srv->loop);
	viewers_event(s, CLIENT_ROSTER);
}

/* Who is watching changed: say so at most once a second, so that a
 * crowd joining costs one message per viewer per second. */
static void
roster_changed(struct session *s)
{
	uint64_t	 now = uv_now(s->srv->loop), wait = 0;

	if (s->roster_dirty || s->ended)
		return;
	s->roster_dirty = 1;
	if (now - s->last_roster_ms < ROSTER_INTERVAL_MS)
		wait = s->last_roster_ms + ROSTER_INTERVAL_MS - now;
	uv_timer_start(&s->roster_timer, on_roster_timer, wait, 0);
}

/* Transports: time spent sending this session's frames. */
void
session_fanout_cost(struct session *s, uint64_t ns)
{
	s->fanout_ns += ns;
}

static void
frames_render(struct session *s)
{
	struct chunks	 diff = { NULL, 0 }, snap = { NULL, 0 };
	struct client	*c, *next;
	uint64_t	 t0 = uv_hrtime(), cost_ms;

	s->frame_pending = 0;
	s->last_frame_ms = uv_now(s->srv->loop);
	s->out_since_frame = 0;
	session_model_sync(s);
	if (frames_build(s, &diff, &snap) != 0) {
		log_warn("session %s: cannot render a frame", s->id);
		TAILQ_FOREACH(c, &s->viewers, entry) {
			c->in_step = 0;
			c->needs_snapshot = 1;
		}
	} else {
		TAILQ_FOREACH_SAFE(c, &s->viewers, entry, next)
			viewer_send(s, c, &diff, &snap);
	}
	chunks_clear(&diff);
	chunks_clear(&snap);
	/* This frame's rendering and sending, and what the transports
	 * reported since the last one. */
	cost_ms = (uv_hrtime() - t0 + s->fanout_ns) / 1000000;
	s->fanout_ns = 0;
	s->frame_gap_ms = cost_ms * FRAME_COST_SHARE;
	if (s->frame_gap_ms < FRAME_INTERVAL_MS)
		s->frame_gap_ms = FRAME_INTERVAL_MS;
	if (s->frame_gap_ms > FRAME_GAP_MAX_MS)
		s->frame_gap_ms = FRAME_GAP_MAX_MS;
}

static void
on_frame_timer(uv_timer_t *t)
{
	frames_render(t->data);
}

/*
 * Frames are coalesced under a burst (at most one per FRAME_INTERVAL_MS)
 * but a change after a quiet moment goes out at once, so that typing
 * reaches viewers without delay.
 */
void
fanout_schedule(struct session *s)
{
	uint64_t	 now, since, gap = FRAME_INTERVAL_MS;

	if (s->nviewers == 0 || s->frame_pending || s->ended)
		return;
	if (s->out_since_frame >= FLOOD_BYTES && s->frame_gap_ms > gap)
		gap = s->frame_gap_ms;
	now = uv_now(s->srv->loop);
	since = now - s->last_frame_ms;
	if (since >= gap) {
		frames_render(s);
		return;
	}
	s->frame_pending = 1;
	uv_timer_start(&s->frame_timer, on_frame_timer, gap - since, 0);
}

/* Disconnect the viewers stalled for too long; check again while any
 * viewer is stalled. */
static void
on_stall_timer(uv_timer_t *t)
{
	struct session	*s = t->data;
	struct client	*c, *next;
	uint64_t	 now = uv_now(s->srv->loop);
	uint64_t	 limit = (uint64_t)s->srv->cfg->viewer_stall_timeout *
			    1000;
	char		 why[96];

	snprintf(why, sizeof why, "your connection took no output for %lld "
	    "seconds", (long long)s->srv->cfg->viewer_stall_timeout);
	TAILQ_FOREACH_SAFE(c, &s->viewers, entry, next) {
		if (!c->stalled || now - c->stalled_ms < limit)
			continue;
		s->srv->stats.viewers_stall_dropped++;
		session_viewer_remove(s, c);
		c->ops->detached(c->ctx, why);
	}
	if (s->nstalled > 0)
		uv_timer_start(&s->stall_timer, on_stall_timer,
		    STALL_CHECK_MS, 0);
}

/* The transport sent some of c's queue.  A stalled viewer that has sent
 * everything, and whose transport holds nothing more, comes back with
 * the next snapshot. */
void
fanout_drained(struct session *s, struct client *c)
{
	if (!c->stalled || c->queue.bytes > 0 || c->ops->queued(c->ctx) > 0)
		return;
	c->stalled = 0;
	s->nstalled--;
	s->srv->stats.viewer_resyncs++;
	log_info("session %s: viewer %s resynchronised", s->id, c->address);
	fanout_schedule(s);
}

void
fanout_free(struct session *s)
{
	screen_frame_free(s->shared);
	s->shared = NULL;
}

/* Join: the viewer's terminal goes to its alternate screen (its own
 * screen comes back when it leaves), then the next frame's snapshot. */
int
session_viewer_add(struct session *s, struct client *c)
{
	static const char enter[] = "\033[?1049h\033[H\033[2J";

	if (s->ended)
		return -1;
	c->viewer = 1;
	c->session = s;
	c->connected_at = time_now();
	c->in_step = 0;
	c->needs_snapshot = 1;
	c->stalled = 0;
	c->too_small = 0;
	frameq_init(&c->queue);
	input_filter_init(&c->filter);
	TAILQ_INSERT_TAIL(&s->viewers, c, entry);
	s->nviewers++;
	viewer_queue_own(c, enter, sizeof enter - 1);
	fanout_owner_title(s);
	roster_changed(s);
	/* Right away after a quiet moment; with the next frame during a
	 * burst, so that a crowd joining shares its snapshots. */
	fanout_schedule(s);
	if (c->queue.bytes > 0)
		c->ops->kick(c->ctx);
	log_info("session %s: %s joined as %s viewer from %s", s->id,
	    c->user[0] ? c->user : "guest",
	    c->read_write ? "read_write" : "read_only", c->address);
	return 0;
}

void
session_viewer_remove(struct session *s, struct client *c)
{
	struct audit_who	 who = { c->user_id, c->user[0] ? c->user :
				    "guest", c->address };

	if (c->session != s || !c->viewer)
		return;
	TAILQ_REMOVE(&s->viewers, c, entry);
	s->nviewers--;
	if (c->stalled)
		s->nstalled--;
	c->session = NULL;
	frameq_clear(&c->queue);
	fanout_owner_title(s);
	roster_changed(s);
	fanout_schedule(s);
	audit_log(s->srv, &who, "viewer.leave", s->id,
	    c->share_id[0] ? c->share_id : NULL, NULL, "transport=%s",
	    c->transport);
	log_info("session %s: viewer %s left", s->id, who.name);
}

/* read_only viewers never reach the PTY; read_write viewers do, without
 * the replies their terminal sends on its own (filter.h). */
void
session_viewer_input(struct session *s, struct client *c, const char *p,
    size_t n)
{
	struct buf	 clean = BUF_INIT;

	if (!c->read_write || s->ended)
		return;
	if (input_filter_run(&c->filter, p, n, &clean) == 0)
		session_input(s, buf_ptr(&clean), buf_used(&clean));
	buf_free(&clean);
}

/* A viewer's size never changes the session's; it only decides whether
 * the viewer can see the whole screen. */
void
session_viewer_resize(struct session *s, struct client *c, int rows,
    int cols)
{
	c->rows = rows;
	c->cols = cols;
	fanout_schedule(s);
}

/*
 * Disconnect the viewers of one share (share_id) or all of them (NULL),
 * telling each why.  Returns how many went.
 */
int
session_viewers_kick(struct session *s, const char *share_id,
    const char *why)
{
	struct client	*c, *next;
	int		 n = 0;

	TAILQ_FOREACH_SAFE(c, &s->viewers, entry, next) {
		if (share_id != NULL && strcmp(c->share_id, share_id) != 0)
			continue;
		session_viewer_remove(s, c);
		c->ops->detached(c->ctx, why);
		n++;
	}
	return n;
}

int
session_share_viewers(struct session *s, const char *share_id)
{
	struct client	*c;
	int		 n = 0;

	TAILQ_FOREACH(c, &s->viewers, entry) {
		if (strcmp(c->share_id, share_id) == 0)
			n++;
	}
	return n;
}
