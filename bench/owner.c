/*
 * owner: the terminal that produces the output, over libssh: a pty and
 * a shell on the server under test (tandemd or sshd), commands typed
 * into it, and the time until their output has been read in full.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define READ_CHUNK	(64 * 1024)

static ssh_session
login(const struct target *t)
{
	ssh_session	 ssh = ssh_new();
	ssh_key		 key = NULL;
	int		 no = 0, port = t->port;

	if (ssh == NULL)
		return NULL;
	ssh_options_set(ssh, SSH_OPTIONS_HOST, "127.0.0.1");
	ssh_options_set(ssh, SSH_OPTIONS_PORT, &port);
	ssh_options_set(ssh, SSH_OPTIONS_USER, t->user);
	ssh_options_set(ssh, SSH_OPTIONS_STRICTHOSTKEYCHECK, &no);
	ssh_options_set(ssh, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
	if (ssh_connect(ssh) != SSH_OK ||
	    ssh_pki_import_privkey_file(t->key, NULL, NULL, NULL, &key) !=
	    SSH_OK || ssh_userauth_publickey(ssh, NULL, key) !=
	    SSH_AUTH_SUCCESS) {
		ssh_key_free(key);
		ssh_free(ssh);
		return NULL;
	}
	ssh_key_free(key);
	return ssh;
}

/* Read until pattern has come (it may be split between reads); the
 * bytes read are added to *bytes.  -1 on timeout or error. */
static int
read_until(ssh_channel ch, const char *pattern, double timeout,
    size_t *bytes)
{
	static char	 buf[READ_CHUNK + 64];
	size_t		 plen = strlen(pattern), keep = 0;
	double		 deadline = now_s() + timeout;
	int		 n;

	while (now_s() < deadline) {
		n = ssh_channel_read_timeout(ch, buf + keep, READ_CHUNK, 0,
		    1000);
		if (n < 0 || (n == 0 && ssh_channel_is_eof(ch)))
			return -1;
		if (bytes != NULL)
			*bytes += (size_t)n;
		if (memmem(buf, keep + (size_t)n, pattern, plen) != NULL)
			return 0;
		/* Keep a tail in case the pattern is split. */
		keep += (size_t)n;
		if (keep > plen) {
			memmove(buf, buf + keep - plen, plen);
			keep = plen;
		}
	}
	return -1;
}

int
owner_type(struct owner *o, const char *s)
{
	return ssh_channel_write(o->ch, s, (uint32_t)strlen(s)) ==
	    (int)strlen(s) ? 0 : -1;
}

int
owner_open(struct owner *o, const struct target *t, int cols, int rows)
{
	memset(o, 0, sizeof *o);
	if ((o->ssh = login(t)) == NULL ||
	    (o->ch = ssh_channel_new(o->ssh)) == NULL ||
	    ssh_channel_open_session(o->ch) != SSH_OK ||
	    ssh_channel_request_pty_size(o->ch, "xterm", cols, rows) !=
	    SSH_OK || ssh_channel_request_shell(o->ch) != SSH_OK)
		return -1;
	/* The shell is up once it has answered a command. */
	if (owner_type(o, "stty -echo; PS1='$ '; echo READY$((1+1))\n") != 0)
		return -1;
	return read_until(o->ch, "READY2", 20, NULL);
}

void
owner_close(struct owner *o)
{
	if (o->ch != NULL) {
		ssh_channel_close(o->ch);
		ssh_channel_free(o->ch);
	}
	if (o->ssh != NULL) {
		ssh_disconnect(o->ssh);
		ssh_free(o->ssh);
	}
	memset(o, 0, sizeof *o);
}

/*
 * Run cmd in the owner's shell and read its output until a marker the
 * shell prints after it: *secs from the keystroke to the last byte,
 * *bytes read.  The marker is typed as arithmetic, so that only the
 * command's end prints it.
 */
int
owner_run(struct owner *o, const char *cmd, double *secs, size_t *bytes)
{
	static int	 seq;
	char		 line[1024], marker[64];
	double		 t0;

	seq++;
	snprintf(marker, sizeof marker, "END%dMARK", seq * 7);
	snprintf(line, sizeof line, "%s; echo END$((%d*7))MARK\n", cmd, seq);
	*bytes = 0;
	t0 = now_s();
	if (owner_type(o, line) != 0 ||
	    read_until(o->ch, marker, 600, bytes) != 0)
		return -1;
	*secs = now_s() - t0;
	return 0;
}

/* Run a command over its own exec channel; its output, malloc'd. */
char *
owner_exec(const struct target *t, const char *cmd)
{
	ssh_session	 ssh = login(t);
	ssh_channel	 ch = NULL;
	char		*out = NULL, *p;
	size_t		 len = 0;
	int		 n;

	if (ssh == NULL || (ch = ssh_channel_new(ssh)) == NULL ||
	    ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_exec(ch, cmd) != SSH_OK)
		goto out;
	for (;;) {
		if ((p = realloc(out, len + 4097)) == NULL)
			goto out;
		out = p;
		n = ssh_channel_read_timeout(ch, out + len, 4096, 0, 10000);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
out:
	if (ch != NULL) {
		ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	if (ssh != NULL) {
		ssh_disconnect(ssh);
		ssh_free(ssh);
	}
	return out;
}
