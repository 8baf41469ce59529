/*
 * api: the JSON API under /api/ on the HTTP listener (doc/api.md,
 * doc/openapi.yaml).
 *
 * web.c hands each /api request over as a struct api_request (method,
 * path, the query's key=value fragments as lws decoded them, the
 * credentials and the body) and sends back what api_handle puts in the
 * struct api_response, so nothing here touches libwebsockets.
 *
 * A caller is named by "Authorization: Bearer TOKEN" (a token made by
 * the api-token command) or by the browser's sign-in cookie.  A request
 * that changes something on the strength of the cookie must also carry
 * the session's CSRF value in X-Tandem-CSRF and no foreign Origin: a
 * page of another site can make the browser send the cookie, but can
 * neither read the value nor set the header.  Tokens are looked up by
 * their keyed hash, compared in constant time, and never logged.
 *
 * The session, share and audit JSON shapes are those of the ssh
 * commands: command_share.c builds them for both.
 */
#ifndef TANDEM_API_H
#define TANDEM_API_H

#include <stddef.h>
#include <stdint.h>

#define API_QUERY_MAX	8		/* key=value pairs in one query */
#define API_BODY_MAX	(16 * 1024)	/* a request body, JSON */

struct server;

enum api_method {
	API_GET,
	API_POST,
	API_PATCH,
	API_DELETE,
	API_OTHER,
};

struct api_request {
	enum api_method	 method;
	const char	*path;		/* "/api/..." without the query */
	const char	*query[API_QUERY_MAX];
	size_t		 nquery;
	int		 query_bad;	/* too many or too long pairs */
	const char	*authorization;	/* NULL: no such header */
	const char	*cookie;	/* the sign-in cookie's value, or NULL */
	const char	*csrf;		/* X-Tandem-CSRF, or NULL */
	int		 foreign_origin; /* Origin names another site */
	const char	*body;		/* NULL: none */
	size_t		 body_len;
	const char	*address;	/* the peer, for rate limits */
};

struct api_response {
	unsigned int	 status;
	char		*body;		/* malloc'd JSON */
	size_t		 len;
	const char	*allow;		/* the Allow header of a 405 */
};

void	 api_handle(struct server *, const struct api_request *,
	    struct api_response *);
void	 api_response_free(struct api_response *);

#endif
