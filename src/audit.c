/*
 * audit: write one audit row (audit.h).  The detail is free text made
 * with printf; tokens never go in it (a share is named by its id).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "util.h"

/* Share events are counted for /metrics as they are recorded. */
const char *const audit_share_events[SHARE_EVENTS] = {
	"create", "revoke", "expire", "extend", "relabel", "claim",
};

_Static_assert(sizeof(((struct server_stats *)0)->share_events) ==
    SHARE_EVENTS * sizeof(uint64_t), "one counter per share event");

static void
count_share_event(struct server *srv, const char *action)
{
	size_t	 i;

	if (strncmp(action, "share.", 6) != 0)
		return;
	for (i = 0; i < SHARE_EVENTS; i++) {
		if (strcmp(action + 6, audit_share_events[i]) == 0)
			srv->stats.share_events[i]++;
	}
}

void
audit_log(struct server *srv, const struct audit_who *who, const char *action,
    const char *session_id, const char *share_id, const char *target,
    const char *fmt, ...)
{
	struct store_audit	 a;
	char			 detail[512];
	va_list			 ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	a.id = 0;
	a.at = time_now();
	a.actor_id = who ? who->id : 0;
	a.actor_name = (char *)(who && who->name ? who->name : "");
	a.action = (char *)action;
	a.session_id = (char *)session_id;
	a.share_id = (char *)share_id;
	a.target_user = (char *)target;
	a.address = (char *)(who && who->address ? who->address : "");
	a.detail = detail;
	count_share_event(srv, action);
	if (store_audit_add(srv->store, &a) != 0)
		log_error("audit: cannot record %s for session %s", action,
		    session_id ? session_id : "-");
}
