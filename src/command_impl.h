/*
 * command_impl: what the command files share (command.c has the table
 * and the session commands, command_share.c the sharing ones).
 */
#ifndef TANDEM_COMMAND_IMPL_H
#define TANDEM_COMMAND_IMPL_H

#include <jansson.h>

#include "cmdline.h"
#include "command.h"
#include "store.h"

#define EXIT_USAGE	2
#define CMD_LABEL_MAX	64

struct cmd_entry {
	const char		*name;
	const char		*args;		/* usage after the name */
	const char		*help;
	const struct cmdline_opt *opts;
	size_t			 nopts;
	int			 min_pos, max_pos;
	int			 takes_session;	/* first word is SESSION */
	void			 (*exec)(struct cmd_ctx *,
				    const struct cmdline_parsed *);
};

void	 cmd_fail(struct cmd_ctx *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	 cmd_session_resolve(struct cmd_ctx *, const char *, int,
	    struct store_session *);
struct session *cmd_live_session(struct cmd_ctx *, const char *);
int	 cmd_label_valid(const char *, int);

void	 cmd_json_print(struct cmd_ctx *, json_t *);

/* JSON shapes and parsers the REST API shares with the commands. */
struct server;
struct session;
json_t	*cmd_share_json(struct session *, const struct store_share *);
json_t	*cmd_audit_json(const struct store_audit *);
int	 cmd_since_parse(const char *, int64_t *);
void	 cmd_share_urls(struct server *, const struct store_share *,
	    const char *, char *, size_t, char *, size_t);

extern const struct cmd_entry	 share_cmds[];
extern const size_t		 share_ncmds;

#endif
