/*
 * tandem: the client that manages the current session from inside it,
 * as tmux(1) commands do from inside tmux.
 *
 * tandemd gives every session's shell $TANDEM=<socket>,<session>,<secret>.
 * The client sends its command words, unchanged, with the session id and
 * secret to the daemon over that Unix socket, prints what the daemon
 * answers and exits with the status it says (doc/protocol.md, "Control
 * socket").  All the work is the daemon's: the client parses no command
 * options but its own (--help, --version), so it never disagrees with the
 * daemon about what a command accepts.  The one exception is
 * "share --password", whose password is read here, without echo, so that
 * it never appears in argv, in the shell's history or in ps(1).
 *
 * The client is small on purpose and links only jansson: it runs inside
 * the session, often, and must start fast and fail clearly.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define TIMEOUT_MS		10000
#define MAX_ANSWER		(16 * 1024 * 1024)
#define MAX_ARGS		64	/* the daemon's limit too */
#define MAX_PASSWORD		1024
#define EXIT_REFUSED		1
#define EXIT_USAGE		2

static const char usage_text[] =
"usage: tandem COMMAND [ARGS...]\n"
"       tandem --help | --version\n"
"\n"
"Manage the tandem session this shell runs in.\n"
"\n"
"commands:\n"
"  share [--read-only|--read-write] [--user NAME | --claim]\n"
"        [-e|--expires D] [--max-viewers N] [--password] [--label TEXT]\n"
"        [--no-auth] [--authorized-keys FILE] [--json]\n"
"                           share this session; prints the token once\n"
"                           and the ssh command that joins it\n"
"  shares [--all] [--json]  list this session's shares\n"
"  revoke SHARE             end a share and disconnect its viewers\n"
"  extend SHARE D           make a share expire D from now (45s, 30m,\n"
"                           1h, 30d, 1y)\n"
"  relabel SHARE TEXT       change a share's label\n"
"  viewers [--json]         who is watching\n"
"  handoff USER             hand this session over to USER\n"
"  ls [--all] [--json]      list your sessions\n"
"  version                  print the tandemd version\n"
"  help                     every command tandemd knows\n"
"\n"
"tandem finds tandemd through $TANDEM, which tandemd sets in every\n"
"session.  Exit status: the command's; 1 refused, 2 usage.  See tandem(1).\n";

/* The terminal state to put back if a signal comes during the prompt. */
static struct termios	 saved_tio;
static volatile sig_atomic_t tio_saved;

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int status, const char *fmt, ...)
{
	va_list	 ap;

	fputs("tandem: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* ---- $TANDEM --------------------------------------------------------- */

struct target {
	char	*path;
	char	*session;
	char	*secret;
};

/*
 * PATH,SESSION,SECRET.  The path comes first and may itself hold commas
 * (the data folder's name is the operator's choice), so split at the
 * last two.
 */
static int
target_parse(const char *env, struct target *t)
{
	struct sockaddr_un sun;
	char		*copy, *c1, *c2;

	if ((copy = strdup(env)) == NULL)
		return -1;
	if ((c2 = strrchr(copy, ',')) == NULL)
		goto fail;
	*c2 = '\0';
	if ((c1 = strrchr(copy, ',')) == NULL)
		goto fail;
	*c1 = '\0';
	t->path = copy;
	t->session = c1 + 1;
	t->secret = c2 + 1;
	/* The secret's shape is the daemon's to judge: a wrong one is
	 * refused there, as any wrong secret is. */
	if (t->path[0] != '/' || strlen(t->path) >= sizeof sun.sun_path ||
	    t->session[0] == '\0' || t->secret[0] == '\0')
		goto fail;
	return 0;
fail:
	free(copy);
	return -1;
}

/* ---- "share": the two options the client must see -------------------- */

/*
 * share's options that take a value, as command_share.c declares them:
 * the client walks share's words with the daemon's rules (cmdline.c:
 * "--name=value", "--name value", "-xvalue", "-x value", "-ab" for
 * flags, nothing after "--") so that it finds exactly the options the
 * daemon will, and takes a value for a value, not for an option.
 */
static const char share_valued_short[] = "uemlk";
static const char *const share_valued_long[] = {
	"user", "expires", "max-viewers", "label", "authorized-keys", NULL
};

static int
long_valued(const char *name, size_t len)
{
	int	 i;

	for (i = 0; share_valued_long[i] != NULL; i++) {
		if (strlen(share_valued_long[i]) == len &&
		    strncmp(share_valued_long[i], name, len) == 0)
			return 1;
	}
	return 0;
}

/*
 * The daemon reads an --authorized-keys FILE itself, from its own
 * working folder: make a relative FILE the one the user meant.  prefix
 * is what comes before the value in the same word ("-k", "--x=", "").
 */
static char *
keys_path(const char *prefix, size_t plen, const char *value)
{
	char	*cwd, *word;

	if (value[0] == '/' || value[0] == '\0' ||
	    (cwd = getcwd(NULL, 0)) == NULL)
		return NULL;
	if (asprintf(&word, "%.*s%s/%s", (int)plen, prefix, cwd, value) < 0)
		word = NULL;
	free(cwd);
	return word;
}

/*
 * Look through share's words: does it ask for --password, and which
 * --authorized-keys FILE is relative?  Such words are replaced in place
 * (argv is main's copy); every other word goes to the daemon as it is.
 */
static int
share_prepare(int argc, char **argv)
{
	const char	*a, *name, *eq, *c;
	char		*fixed;
	size_t		 len;
	int		 i, password = 0;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "--") == 0)
			break;
		if (a[0] != '-' || a[1] == '\0')
			continue;
		if (a[1] == '-') {
			name = a + 2;
			eq = strchr(name, '=');
			len = eq != NULL ? (size_t)(eq - name) : strlen(name);
			if (eq == NULL && strcmp(name, "password") == 0)
				password = 1;
			if (!long_valued(name, len))
				continue;
			fixed = NULL;
			if (eq != NULL && len == 15 &&
			    strncmp(name, "authorized-keys", 15) == 0)
				fixed = keys_path(a, (size_t)(eq + 1 - a),
				    eq + 1);
			else if (eq == NULL && i + 1 < argc) {
				if (len == 15 &&
				    strncmp(name, "authorized-keys", 15) == 0 &&
				    (fixed = keys_path("", 0, argv[i + 1])) !=
				    NULL)
					argv[i + 1] = fixed;
				fixed = NULL;
				i++;
			}
			if (fixed != NULL)
				argv[i] = fixed;
			continue;
		}
		for (c = a + 1; *c != '\0'; c++) {
			if (*c == 'p')
				password = 1;
			if (strchr(share_valued_short, *c) == NULL)
				continue;
			if (c[1] != '\0') {
				if (*c == 'k' && (fixed = keys_path(a,
				    (size_t)(c + 1 - a), c + 1)) != NULL)
					argv[i] = fixed;
			} else if (i + 1 < argc) {
				if (*c == 'k' && (fixed = keys_path("", 0,
				    argv[i + 1])) != NULL)
					argv[i + 1] = fixed;
				i++;
			}
			break;
		}
	}
	return password;
}

/* ---- the password of "share --password" ------------------------------ */

static void
on_prompt_signal(int sig)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * One line of at most MAX_PASSWORD bytes from stdin, without its end;
 * NULL with why set when there is none.  It does not exit, so that the
 * caller can put the terminal back first.  An empty line is a password
 * of "", which asks the daemon to make one up.
 */
static char *
password_line(const char **why)
{
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;

	*why = "no password given";
	if ((n = getline(&line, &cap, stdin)) < 0) {
		free(line);
		return NULL;
	}
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	*why = NULL;
	if (strlen(line) != (size_t)n)
		*why = "the password holds a NUL byte";
	else if ((size_t)n > MAX_PASSWORD)
		*why = "the password is too long (at most 1024 bytes)";
	if (*why != NULL) {
		explicit_bzero(line, cap);
		free(line);
		return NULL;
	}
	return line;
}

/*
 * From a terminal: prompt, with echo off, and put the terminal back
 * also when interrupted.  Otherwise one line from stdin, so that
 * scripts can pipe a password in.  Returns NULL for an empty line: the
 * request then carries no password and tandemd generates one, as it
 * does for "share --password" over ssh, and prints it.
 */
static char *
password_read(void)
{
	struct termios	 tio;
	struct sigaction sa, old[4];
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	const char	*why;
	char		*pw;
	size_t		 i;

	if (!isatty(STDIN_FILENO)) {
		if ((pw = password_line(&why)) == NULL)
			die(EXIT_USAGE, "share --password: %s on standard "
			    "input", why);
		goto out;
	}
	if (tcgetattr(STDIN_FILENO, &saved_tio) != 0)
		die(EXIT_REFUSED, "cannot read the terminal: %s",
		    strerror(errno));
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_prompt_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 4; i++)
		sigaction(sigs[i], &sa, &old[i]);
	tio = saved_tio;
	tio.c_lflag &= ~(ECHO | ECHOE | ECHOK | ECHONL);
	tio.c_lflag |= ICANON;
	tio_saved = 1;
	fputs("Share password: ", stderr);
	fflush(stderr);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio);
	pw = password_line(&why);
	tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	tio_saved = 0;
	for (i = 0; i < 4; i++)
		sigaction(sigs[i], &old[i], NULL);
	/* The newline the user typed was not echoed. */
	fputc('\n', stderr);
	if (pw == NULL)
		die(EXIT_USAGE, "share --password: %s", why);
out:
	if (*pw == '\0') {
		free(pw);
		return NULL;
	}
	return pw;
}

/* ---- talking to tandemd ---------------------------------------------- */

static long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until deadline; 0 when ready, -1 on timeout. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd	 pfd;
	long long	 left;
	int		 r;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0)
			return -1;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return 0;	/* let the next call report it */
	}
}

static void __attribute__((noreturn))
die_unreachable(const struct target *t, int err)
{
	die(EXIT_REFUSED, "cannot reach tandemd at %s: %s", t->path,
	    strerror(err));
}

static void __attribute__((noreturn))
die_no_answer(void)
{
	die(EXIT_REFUSED, "no answer from tandemd");
}

static int
connect_daemon(const struct target *t, long long deadline)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, t->path, strlen(t->path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die(EXIT_REFUSED, "socket: %s", strerror(errno));
	/* A Unix socket connects at once or, with a full backlog, fails
	 * with EAGAIN and must be tried again: there is nothing to poll. */
	while (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			die_unreachable(t, errno);
		if (now_ms() >= deadline)
			die_no_answer();
		poll(NULL, 0, 20);
	}
	return fd;
}

static void
send_all(int fd, const char *p, size_t n, long long deadline)
{
	ssize_t	 w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLOUT, deadline) != 0)
				die_no_answer();
			continue;
		}
		if (w < 0)
			die(EXIT_REFUSED, "lost tandemd: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
}

/* The whole answer: tandemd closes after one line. */
static char *
recv_answer(int fd, size_t *lenp, long long deadline)
{
	char	*buf = NULL, *nb;
	size_t	 len = 0, cap = 0;
	ssize_t	 r;

	for (;;) {
		if (len == cap) {
			if (cap >= MAX_ANSWER)
				die(EXIT_REFUSED, "the answer from tandemd is "
				    "too long");
			cap = cap ? cap * 2 : 8192;
			if ((nb = realloc(buf, cap)) == NULL)
				die(EXIT_REFUSED, "out of memory");
			buf = nb;
		}
		r = recv(fd, buf + len, cap - len, 0);
		if (r > 0) {
			len += (size_t)r;
			if (memchr(buf + len - r, '\n', (size_t)r) != NULL)
				break;
			continue;
		}
		if (r == 0)
			break;
		if (errno == EAGAIN || errno == EINTR) {
			if (wait_fd(fd, POLLIN, deadline) != 0)
				die_no_answer();
			continue;
		}
		/* ECONNRESET after the answer is complete is harmless. */
		if (len > 0 && memchr(buf, '\n', len) != NULL)
			break;
		die(EXIT_REFUSED, "lost tandemd: %s", strerror(errno));
	}
	*lenp = len;
	return buf;
}

static char *
request_build(const struct target *t, int argc, char **argv,
    const char *password)
{
	json_t	*req, *args;
	char	*text;
	int	 i;

	if ((args = json_array()) == NULL)
		die(EXIT_REFUSED, "out of memory");
	for (i = 0; i < argc; i++) {
		if (json_array_append_new(args, json_string(argv[i])) != 0)
			die(EXIT_USAGE, "argument %d is not valid UTF-8", i + 1);
	}
	req = json_pack("{s:s, s:s, s:o, s:b}", "session", t->session,
	    "secret", t->secret, "argv", args, "tty", isatty(STDOUT_FILENO));
	if (req == NULL)
		die(EXIT_REFUSED, "out of memory");
	if (password != NULL &&
	    json_object_set_new(req, "password", json_string(password)) != 0)
		die(EXIT_USAGE, "the password is not valid UTF-8");
	if ((text = json_dumps(req, JSON_COMPACT)) == NULL)
		die(EXIT_REFUSED, "out of memory");
	json_decref(req);
	return text;
}

static void
write_all(int fd, const char *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static int
answer_print(const char *text, size_t len)
{
	json_t		*j, *out, *err, *st;
	json_error_t	 je;
	json_int_t	 status;

	j = json_loadb(text, len, JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL,
	    &je);
	if (j == NULL || !json_is_object(j) ||
	    !json_is_integer(st = json_object_get(j, "status")) ||
	    !json_is_string(out = json_object_get(j, "stdout")) ||
	    !json_is_string(err = json_object_get(j, "stderr")))
		die(EXIT_REFUSED, "bad answer from tandemd");
	write_all(STDOUT_FILENO, json_string_value(out),
	    json_string_length(out));
	write_all(STDERR_FILENO, json_string_value(err),
	    json_string_length(err));
	status = json_integer_value(st);
	json_decref(j);
	return status < 0 || status > 255 ? EXIT_REFUSED : (int)status;
}

int
main(int argc, char **argv)
{
	struct target	 t;
	const char	*env;
	char		*req, *answer, *password = NULL;
	size_t		 len;
	long long	 deadline;
	int		 fd, status;

	signal(SIGPIPE, SIG_IGN);
	argc--;
	argv++;
	if (argc > 0 && (strcmp(argv[0], "--help") == 0 ||
	    strcmp(argv[0], "-h") == 0)) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc > 0 && strcmp(argv[0], "--version") == 0) {
		printf("tandem %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argc > 0 && strcmp(argv[0], "--") == 0) {
		argc--;
		argv++;
	} else if (argc > 0 && argv[0][0] == '-')
		die(EXIT_USAGE, "unknown option '%s' (try 'tandem --help')",
		    argv[0]);
	if (argc == 0) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (argc > MAX_ARGS)
		die(EXIT_USAGE, "too many arguments (at most %d)", MAX_ARGS);
	if ((env = getenv("TANDEM")) == NULL || *env == '\0')
		die(EXIT_USAGE, "not inside a tandem session ($TANDEM is not "
		    "set)");
	if (target_parse(env, &t) != 0)
		die(EXIT_USAGE, "not inside a tandem session ($TANDEM is not "
		    "PATH,SESSION,SECRET)");

	if (strcmp(argv[0], "share") == 0 && share_prepare(argc, argv))
		password = password_read();
	req = request_build(&t, argc, argv, password);
	if (password != NULL) {
		explicit_bzero(password, strlen(password));
		free(password);
	}

	deadline = now_ms() + TIMEOUT_MS;
	fd = connect_daemon(&t, deadline);
	send_all(fd, req, strlen(req), deadline);
	send_all(fd, "\n", 1, deadline);
	explicit_bzero(req, strlen(req));
	free(req);

	/* The daemon runs the command at once: a quiet daemon is a stuck
	 * or stopped one, and the client must not hang the shell. */
	deadline = now_ms() + TIMEOUT_MS;
	answer = recv_answer(fd, &len, deadline);
	close(fd);
	if (len == 0)
		die(EXIT_REFUSED, "tandemd closed the connection without an "
		    "answer");
	status = answer_print(answer, len);
	free(answer);
	free(t.path);
	return status;
}
