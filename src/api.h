/*
 * api: the read-only JSON API under /api/ on the HTTP listener
 * (doc/api.md).
 *
 * web.c hands each /api request over as a struct api_request (the path,
 * the query's key=value fragments as lws decoded them, the
 * Authorization header) and sends back what api_handle puts in the
 * struct api_response, so nothing here touches libwebsockets.  Every
 * request needs "Authorization: Bearer TOKEN" with a token made by the
 * api-token command; the token is looked up by its keyed hash and
 * compared in constant time, and is never logged.
 *
 * The session, share and audit JSON shapes are those of the ssh
 * commands: command_share.c builds them for both.
 */
#ifndef TANDEM_API_H
#define TANDEM_API_H

#include <stddef.h>
#include <stdint.h>


#define API_QUERY_MAX	8	/* key=value pairs in one query */

struct server;

struct api_request {
	int		 is_get;
	const char	*path;		/* "/api/..." without the query */
	const char	*query[API_QUERY_MAX];
	size_t		 nquery;
	int		 query_bad;	/* too many or too long pairs */
	const char	*authorization;	/* NULL: no such header */
	const char	*address;	/* the peer, for rate limits */
};

struct api_response {
	unsigned int	 status;
	char		*body;		/* malloc'd JSON */
	size_t		 len;
	int		 allow_get;	/* send "Allow: GET" (405) */
};

void	 api_handle(struct server *, const struct api_request *,
	    struct api_response *);
void	 api_response_free(struct api_response *);

#endif
