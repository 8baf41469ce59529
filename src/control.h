/*
 * control: the local socket through which the tandem client inside a
 * session talks to the daemon, with that session's authority only.
 *
 * Every session's shell gets $TANDEM=<socket path>,<session id>,<secret>
 * (session.c), as tmux hands its clients $TMUX.  The client sends one
 * JSON request naming the session, its secret and an argv; the daemon
 * checks the secret in constant time, runs the argv as an SSH exec
 * command would run (command.c) on behalf of the session's owner and
 * scoped to that session, and answers with one JSON object holding the
 * exit status and the output.  doc/protocol.md, "Control socket", is the
 * reference for the wire format.
 *
 * The request parser and the argv-to-command-line join are pure
 * functions so that unit tests and fuzzers reach them without a server.
 */
#ifndef TANDEM_CONTROL_H
#define TANDEM_CONTROL_H

#include <stddef.h>

#include "buf.h"

struct server;

#define CONTROL_SOCKET_NAME	"control.sock"
#define CONTROL_MAX_REQUEST	(64 * 1024)	/* bytes before the "\n" */
#define CONTROL_MAX_ARGS	64
#define CONTROL_MAX_PASSWORD	1024
#define CONTROL_SECRET_LEN	64		/* hex characters */
#define CONTROL_TIMEOUT_MS	10000

/* Exit statuses of a refused request, as for an SSH exec command. */
#define CONTROL_REFUSED		1
#define CONTROL_MALFORMED	2

/* A parsed request; every pointer is into the JSON value it came from. */
struct control_request {
	const char	*session;
	const char	*secret;
	size_t		 secret_len;
	const char	*argv[CONTROL_MAX_ARGS + 1];
	int		 argc;
	int		 tty;
	const char	*password;	/* NULL: none sent */
	void		*json;		/* json_t *, for control_request_free */
};

int	 control_start(struct server *, char *, size_t);
void	 control_stop(struct server *);

/*
 * control_request_parse(line, len, req, err, errlen): 0 with req filled
 * (free it with control_request_free), or -1 with an English reason in
 * err and nothing to free.  line need not be NUL-terminated.
 */
int	 control_request_parse(const char *, size_t, struct control_request *,
	    char *, size_t);
void	 control_request_free(struct control_request *);

/* Quote every word so that cmdline_split gives the same words back. */
int	 control_join(const char *const *, int, struct buf *);

/* Copy to out, turning invalid UTF-8 and NUL into U+FFFD. */
int	 control_utf8_clean(const char *, size_t, struct buf *);

#endif
