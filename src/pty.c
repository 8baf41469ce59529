/*
 * pty: forkpty() wrapper for sessions (pty.h).  Errors in the child
 * after fork cannot be reported through return values, so the child
 * writes a short message to the terminal (the owner sees it as session
 * output) and exits 127, as a shell does for a command it cannot run.
 */

#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <paths.h>
#include <pty.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "pty.h"

const char *
pty_default_shell(void)
{
	struct passwd	*pw;

	pw = getpwuid(getuid());
	if (pw != NULL && pw->pw_shell != NULL && pw->pw_shell[0] == '/' &&
	    access(pw->pw_shell, X_OK) == 0)
		return pw->pw_shell;
	return _PATH_BSHELL;
}

/* The open-files limit programs get: the one tandemd started with, not
 * the one it raised for its many connections (pty_keep_files_limit). */
static struct rlimit	 child_nofile;
static int		 child_nofile_set;

void
pty_keep_files_limit(const struct rlimit *rl)
{
	child_nofile = *rl;
	child_nofile_set = 1;
}

static void
child_reset_signals(void)
{
	sigset_t	 set;
	int		 sig;

	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
}

static void __attribute__((noreturn))
child_exec(const struct pty_spec *spec)
{
	char		 argv0[256];
	const char	*base;

	child_reset_signals();
	if (child_nofile_set)
		(void)setrlimit(RLIMIT_NOFILE, &child_nofile);
	closefrom(STDERR_FILENO + 1);
	if (spec->cwd != NULL && chdir(spec->cwd) != 0 && chdir("/") != 0)
		_exit(127);

	if (spec->command != NULL) {
		execle(spec->shell, spec->shell, "-c", spec->command,
		    (char *)NULL, spec->env);
	} else {
		/* A leading '-' in argv[0] makes the shell a login shell. */
		base = strrchr(spec->shell, '/');
		base = base ? base + 1 : spec->shell;
		snprintf(argv0, sizeof argv0, "-%s", base);
		execle(spec->shell, argv0, (char *)NULL, spec->env);
	}
	dprintf(STDERR_FILENO, "tandemd: cannot run %s: %s\r\n", spec->shell,
	    strerror(errno));
	_exit(127);
}

int
pty_spawn(const struct pty_spec *spec, int *master, pid_t *pid, char *err,
    size_t errlen)
{
	struct winsize	 ws;
	int		 fd, flags;
	pid_t		 child;

	memset(&ws, 0, sizeof ws);
	ws.ws_row = (unsigned short)spec->rows;
	ws.ws_col = (unsigned short)spec->cols;

	child = forkpty(&fd, NULL, NULL, &ws);
	if (child < 0) {
		snprintf(err, errlen, "forkpty: %s", strerror(errno));
		return -1;
	}
	if (child == 0)
		child_exec(spec);

	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		close(fd);
		kill(child, SIGKILL);
		return -1;
	}
	*master = fd;
	*pid = child;
	return 0;
}

int
pty_set_size(int fd, int rows, int cols)
{
	struct winsize	 ws;

	memset(&ws, 0, sizeof ws);
	ws.ws_row = (unsigned short)rows;
	ws.ws_col = (unsigned short)cols;
	return ioctl(fd, TIOCSWINSZ, &ws);
}
