/*
 * audit: the append-only trail of who did what to which session, when
 * and from where (DESIGN.md, "audit event").  Every share change, viewer
 * join, leave and refusal, session start, disconnect and end, admin
 * attach and handoff goes through audit_log().  A row that cannot be
 * written is logged as an error; the action itself is not undone.
 */
#ifndef TANDEM_AUDIT_H
#define TANDEM_AUDIT_H

#include <stdint.h>

struct server;

struct audit_who {
	int64_t		 id;		/* 0: anonymous or the daemon */
	const char	*name;
	const char	*address;
};

#define SHARE_EVENTS	6	/* share.create ... share.claim */
extern const char *const audit_share_events[SHARE_EVENTS];

void	 audit_log(struct server *, const struct audit_who *, const char *,
	    const char *, const char *, const char *, const char *, ...)
	    __attribute__((format(printf, 7, 8)));

#endif
