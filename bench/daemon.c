/*
 * daemon: the servers under test, started on loopback in a temporary
 * folder: tandemd on free ports with an owner user enrolled offline, and
 * (as root, when /usr/sbin/sshd exists) a private OpenSSH sshd for the
 * same owner's key.  Also their memory and CPU, read from /proc.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
die(const char *fmt, ...)
{
	va_list	 ap;

	fputs("tandem-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* An ed25519 key pair: DIR/NAME (private) and DIR/NAME.pub. */
static int
key_pair(const char *dir, const char *name, char *priv, size_t privlen)
{
	ssh_key	 key = NULL;
	char	*b64 = NULL, pub[512];
	FILE	*f;
	int	 r = -1;

	snprintf(priv, privlen, "%s/%s", dir, name);
	snprintf(pub, sizeof pub, "%s.pub", priv);
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK ||
	    ssh_pki_export_privkey_file(key, NULL, NULL, NULL, priv) !=
	    SSH_OK || ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		goto out;
	chmod(priv, 0600);
	if ((f = fopen(pub, "w")) == NULL)
		goto out;
	fprintf(f, "ssh-ed25519 %s bench\n", b64);
	r = fclose(f) == 0 ? 0 : -1;
out:
	ssh_string_free_char(b64);
	ssh_key_free(key);
	return r;
}

static pid_t
spawn(char *const argv[], const char *log)
{
	pid_t	 pid;
	int	 fd;

	if ((pid = fork()) != 0)
		return pid;
	if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600)) != -1) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	setpgid(0, 0);
	execv(argv[0], argv);
	_exit(127);
}

static int
run_wait(char *const argv[], const char *log)
{
	pid_t	 pid = spawn(argv, log);
	int	 st;

	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* The port after "listening for WHAT on 127.0.0.1:" in the log. */
static int
log_port(const char *log, const char *what)
{
	char	 line[512], want[64];
	FILE	*f;
	char	*p;
	int	 port = 0;

	snprintf(want, sizeof want, "listening for %s on 127.0.0.1:", what);
	if ((f = fopen(log, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL) {
		if ((p = strstr(line, want)) != NULL)
			port = atoi(p + strlen(want));
	}
	fclose(f);
	return port;
}

/* DIR/tandem-bench-XXXXXX, DIR being $TMPDIR or /tmp. */
static int
tempdir(struct target *t)
{
	const char	*base = getenv("TMPDIR");

	if (base == NULL || *base != '/' || strlen(base) > 200)
		base = "/tmp";
	snprintf(t->dir, sizeof t->dir, "%s/tandem-bench-XXXXXX", base);
	return mkdtemp(t->dir) != NULL ? 0 : -1;
}

int
tandemd_start(const char *tandemd, struct target *t)
{
	char	 data[300], pub[320], log[300], conf[300];
	char	*add[] = { (char *)tandemd, "--data-dir", data, "user", "add",
		    "owner", "--key", pub, NULL };
	char	*run[] = { (char *)tandemd, "--config", conf, "--data-dir",
		    data, "--ssh-listen", "127.0.0.1:0", "--http-listen",
		    "127.0.0.1:0", NULL };
	double	 deadline;
	FILE	*f;

	memset(t, 0, sizeof *t);
	t->user = "owner";
	if (tempdir(t) != 0 || key_pair(t->dir, "owner", t->key,
	    sizeof t->key) != 0)
		return -1;
	snprintf(data, sizeof data, "%s/data", t->dir);
	snprintf(pub, sizeof pub, "%s.pub", t->key);
	snprintf(log, sizeof log, "%s/tandemd.log", t->dir);
	snprintf(conf, sizeof conf, "%s/tandemd.conf", t->dir);
	if ((f = fopen(conf, "w")) == NULL)
		return -1;
	/* A plain shell with a fixed prompt; no limits in the way. */
	fprintf(f, "shell = \"/bin/sh\"\nmax_sessions = 0\n");
	fclose(f);
	if (run_wait(add, log) != 0)
		return -1;
	if ((t->pid = spawn(run, log)) < 0)
		return -1;
	deadline = now_s() + 20;
	while (now_s() < deadline) {
		t->port = log_port(log, "ssh");
		t->http_port = log_port(log, "http");
		if (t->port > 0 && t->http_port > 0)
			return 0;
		if (waitpid(t->pid, NULL, WNOHANG) == t->pid)
			break;
		usleep(50000);
	}
	return -1;
}

static int
free_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	int			 fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int
connectable(int port)
{
	struct sockaddr_in	 sin;
	int			 fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* A private sshd for root with the owner's key: the reference. */
int
sshd_start(struct target *t)
{
	char	 hostkey[300], conf[300], log[300], auth[320];
	char	*run[] = { "/usr/sbin/sshd", "-D", "-e", "-f", conf, NULL };
	double	 deadline;
	FILE	*f;

	memset(t, 0, sizeof *t);
	t->user = "root";
	if (geteuid() != 0 || access("/usr/sbin/sshd", X_OK) != 0)
		return -1;
	if (tempdir(t) != 0 || key_pair(t->dir, "owner", t->key,
	    sizeof t->key) != 0 || key_pair(t->dir, "hostkey", hostkey,
	    sizeof hostkey) != 0)
		return -1;
	mkdir("/run/sshd", 0755);
	snprintf(auth, sizeof auth, "%s.pub", t->key);
	snprintf(conf, sizeof conf, "%s/sshd_config", t->dir);
	snprintf(log, sizeof log, "%s/sshd.log", t->dir);
	t->port = free_port();
	if ((f = fopen(conf, "w")) == NULL)
		return -1;
	fprintf(f, "Port %d\nListenAddress 127.0.0.1\nHostKey %s\n"
	    "AuthorizedKeysFile %s\nPermitRootLogin prohibit-password\n"
	    "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
	    "UsePAM no\nStrictModes no\nPidFile none\nPrintMotd no\n",
	    t->port, hostkey, auth);
	fclose(f);
	if ((t->pid = spawn(run, log)) < 0)
		return -1;
	deadline = now_s() + 10;
	while (now_s() < deadline) {
		if (connectable(t->port))
			return 0;
		if (waitpid(t->pid, NULL, WNOHANG) == t->pid)
			break;
		usleep(50000);
	}
	return -1;
}

void
target_stop(struct target *t)
{
	char	 cmd[320];

	if (t->pid > 0) {
		kill(-t->pid, SIGTERM);
		kill(t->pid, SIGTERM);
		waitpid(t->pid, NULL, 0);
		t->pid = 0;
	}
	/* Only a folder of ours, and no quote that could end the one
	 * around it. */
	if (t->dir[0] != '\0' && strstr(t->dir, "/tandem-bench-") != NULL &&
	    strchr(t->dir, '\'') == NULL) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "tandem-bench: cannot remove %s\n",
			    t->dir);
		t->dir[0] = '\0';
	}
}

long
rss_kb(pid_t pid)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 kb = -1;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = atol(line + 6);
	}
	fclose(f);
	return kb;
}

/* User plus system CPU time of pid, in seconds. */
double
cpu_s(pid_t pid)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 ut = 0, st = 0;
	FILE		*f;
	int		 i;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	p = fgets(buf, sizeof buf, f);
	fclose(f);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return 0;
	/* After the command's ")": state is field 3, utime 14, stime 15;
	 * twelve spaces on, p is just before utime. */
	for (i = 0; i < 12 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}
