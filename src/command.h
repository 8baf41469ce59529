/*
 * command: the SSH exec commands (ls, attach, kill, rename, ...).
 *
 * Each command is one entry in a table: its name, usage, option table
 * and function, in the manner of tmux's cmd-*.c.  A command writes what
 * it has to say into out and err and sets the exit status; "attach"
 * instead names the session the channel should become the owner of.
 */
#ifndef TANDEM_COMMAND_H
#define TANDEM_COMMAND_H

#include <stdint.h>

#include "buf.h"

struct server;
struct session;

struct cmd_ctx {
	struct server	*srv;
	int64_t		 user_id;
	const char	*user;
	int		 admin;
	int		 has_pty;
	int		 can_prompt;	/* the channel can read a typed line */
	const char	*address;	/* the caller's, for the audit trail */
	const char	*password;	/* share --password, from the client */
	struct session	*scope;		/* set: the tandem client of this
					   session; SESSION may be omitted and
					   no other session may be named */
	struct buf	 out;
	struct buf	 err;
	int		 status;
	struct session	*attach;	/* set by "attach" */
	int		 attach_viewer;	/* join as a viewer, not the owner */
	int		 attach_rw;
	char		 attach_share[13]; /* "" for an admin */
	int		 prompt_password; /* set by "passwd": ask for it */
};

void	 command_run(struct cmd_ctx *, const char *, size_t);
int	 command_password_set(struct cmd_ctx *, const char *, int);

#endif
