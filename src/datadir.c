/*
 * datadir: create, check and lock the data folder (datadir.h).
 *
 * The folder holds the host key and the server secret, so it must not be
 * readable by anyone else: a folder with group or other permissions is
 * refused with the chmod that fixes it, as sshd refuses a world-readable
 * key.  Files are written to a temporary name and renamed, so a crash
 * never leaves half a key behind.
 */

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <sodium.h>

#include "datadir.h"
#include "log.h"

static char *
path_join(const char *dir, const char *name)
{
	char	*p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

static int
ensure_dir(const char *path, char *err, size_t errlen)
{
	struct stat	 st;

	if (mkdir(path, 0700) == 0) {
		log_info("created data folder %s", path);
		return 0;
	}
	if (errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a folder", path);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s belongs to another user (uid %u)",
		    path, (unsigned)st.st_uid);
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s has mode %04o, which lets other "
		    "users in; run: chmod 700 %s", path,
		    (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

static int
write_file_atomic(const char *path, const void *data, size_t len,
    char *err, size_t errlen)
{
	char	*tmp = NULL;
	int	 fd = -1, r = -1;

	if (asprintf(&tmp, "%s.tmp", path) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0 || write(fd, data, len) != (ssize_t)len ||
	    fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		fd = -1;
		snprintf(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
		goto out;
	}
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (r != 0)
		unlink(tmp);
	free(tmp);
	return r;
}

static int
load_secret(struct datadir *dd, char *err, size_t errlen)
{
	char		*path;
	int		 fd, r = -1;
	ssize_t		 n;

	if ((path = path_join(dd->path, "server.secret")) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		randombytes_buf(dd->secret, sizeof dd->secret);
		r = write_file_atomic(path, dd->secret, sizeof dd->secret,
		    err, errlen);
		if (r == 0)
			log_info("generated server secret %s", path);
		goto out;
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path,
		    strerror(errno));
		goto out;
	}
	n = read(fd, dd->secret, sizeof dd->secret);
	close(fd);
	if (n != (ssize_t)sizeof dd->secret) {
		snprintf(err, errlen, "%s is damaged (expected %zu bytes); "
		    "remove it to generate a new one", path,
		    sizeof dd->secret);
		goto out;
	}
	r = 0;
out:
	free(path);
	return r;
}

static int
ensure_host_key(struct datadir *dd, char *err, size_t errlen)
{
	ssh_key		 key = NULL;
	char		*tmp = NULL, *pub = NULL;
	int		 r = -1;

	if (access(dd->host_key, F_OK) == 0)
		return 0;
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK) {
		snprintf(err, errlen, "cannot generate an ed25519 host key");
		goto out;
	}
	if (asprintf(&tmp, "%s.tmp", dd->host_key) < 0 ||
	    asprintf(&pub, "%s.pub", dd->host_key) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	unlink(tmp);
	if (ssh_pki_export_privkey_file(key, NULL, NULL, NULL, tmp) !=
	    SSH_OK || chmod(tmp, 0600) != 0) {
		snprintf(err, errlen, "cannot write host key %s", tmp);
		goto out;
	}
	unlink(pub);
	if (ssh_pki_export_pubkey_file(key, pub) != SSH_OK)
		log_warn("cannot write %s", pub);
	if (rename(tmp, dd->host_key) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", dd->host_key,
		    strerror(errno));
		goto out;
	}
	log_info("generated host key %s", dd->host_key);
	r = 0;
out:
	if (r != 0 && tmp != NULL)
		unlink(tmp);
	free(tmp);
	free(pub);
	ssh_key_free(key);
	return r;
}

static int
take_lock(struct datadir *dd, char *err, size_t errlen)
{
	char	*path;

	if ((path = path_join(dd->path, "tandemd.lock")) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	dd->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (dd->lock_fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		free(path);
		return -1;
	}
	if (flock(dd->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, "another tandemd is using %s", dd->path);
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

/*
 * Open the data folder at path.  With daemon set, also take the lock
 * and make sure the host key exists; the offline user commands only need
 * the database and may run beside a live daemon (SQLite handles that).
 */
int
datadir_open(struct datadir *dd, const char *path, int daemon, char *err,
    size_t errlen)
{
	memset(dd, 0, sizeof *dd);
	dd->lock_fd = -1;
	if ((dd->path = strdup(path)) == NULL ||
	    (dd->host_key = path_join(path, "ssh_host_ed25519_key")) == NULL ||
	    (dd->db = path_join(path, "tandem.db")) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (ensure_dir(path, err, errlen) != 0)
		goto fail;
	if (daemon && take_lock(dd, err, errlen) != 0)
		goto fail;
	if (load_secret(dd, err, errlen) != 0)
		goto fail;
	if (daemon && ensure_host_key(dd, err, errlen) != 0)
		goto fail;
	return 0;
fail:
	datadir_close(dd);
	return -1;
}

void
datadir_close(struct datadir *dd)
{
	if (dd->lock_fd >= 0)
		close(dd->lock_fd);
	sodium_memzero(dd->secret, sizeof dd->secret);
	free(dd->path);
	free(dd->host_key);
	free(dd->db);
	memset(dd, 0, sizeof *dd);
	dd->lock_fd = -1;
}
