/*
 * pty: start a program on a new pseudo-terminal.  The child gets a clean
 * signal state (the daemon ignores SIGPIPE; a shell must not inherit
 * that), its own session and controlling terminal, and only the
 * environment tandem hands it.
 */
#ifndef TANDEM_PTY_H
#define TANDEM_PTY_H

#include <sys/types.h>

struct pty_spec {
	int		 rows, cols;
	const char	*shell;		/* absolute path */
	const char	*command;	/* NULL: login shell */
	const char	*cwd;		/* NULL: stay */
	char *const	*env;		/* NULL-terminated "NAME=value" */
};

struct rlimit;

int	 pty_spawn(const struct pty_spec *, int *, pid_t *, char *, size_t);
void	 pty_keep_files_limit(const struct rlimit *);
int	 pty_set_size(int, int, int);
const char *pty_default_shell(void);

#endif
