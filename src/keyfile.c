/*
 * keyfile: parse authorized_keys-style files (keyfile.h).
 *
 * The file is opened non-blocking and must be a regular file: the daemon
 * reads --authorized-keys paths on its own loop, and a FIFO or a device
 * must not stall it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "keyfile.h"

static char *
slurp(const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	char		*data = NULL;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0 ||
	    fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot read %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > KEYFILE_MAX_BYTES) {
		snprintf(err, errlen, "cannot read %s: not a key file", path);
		goto out;
	}
	if ((data = malloc((size_t)st.st_size + 1)) == NULL ||
	    (n = read(fd, data, (size_t)st.st_size)) < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path,
		    strerror(errno));
		free(data);
		data = NULL;
		goto out;
	}
	data[n] = '\0';
out:
	if (fd >= 0)
		close(fd);
	return data;
}

/* "[OPTIONS] TYPE BASE64 [COMMENT]" into k; -1 if no valid key. */
static int
parse_line(char *line, struct store_key *k)
{
	char		*tok, *rest, *type = NULL, *blob = NULL, *fp;
	ssh_key		 key = NULL;
	unsigned char	*hash = NULL;
	size_t		 hlen;

	for (tok = strtok_r(line, " \t", &rest); tok != NULL;
	    tok = strtok_r(NULL, " \t", &rest)) {
		if (ssh_key_type_from_name(tok) != SSH_KEYTYPE_UNKNOWN) {
			type = tok;
			blob = strtok_r(NULL, " \t", &rest);
			break;
		}
	}
	if (type == NULL || blob == NULL ||
	    ssh_pki_import_pubkey_base64(blob, ssh_key_type_from_name(type),
	    &key) != SSH_OK)
		return -1;
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash,
	    &hlen) != 0) {
		ssh_key_free(key);
		return -1;
	}
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	rest = rest ? rest + strspn(rest, " \t") : "";
	k->type = strdup(type);
	k->blob = strdup(blob);
	k->fingerprint = fp ? strdup(fp) : NULL;
	k->comment = strdup(rest);
	ssh_string_free_char(fp);
	if (k->type == NULL || k->blob == NULL || k->fingerprint == NULL ||
	    k->comment == NULL) {
		store_key_clear(k);
		return -1;
	}
	return 0;
}

int
keyfile_load(const char *path, struct store_key **out, size_t *nout,
    char *err, size_t errlen)
{
	struct store_key	*keys;
	char			*data, *line, *save = NULL;
	size_t			 n = 0;
	int			 lineno = 0;

	*out = NULL;
	*nout = 0;
	if ((data = slurp(path, err, errlen)) == NULL)
		return -1;
	if ((keys = calloc(KEYFILE_MAX_KEYS, sizeof *keys)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(data);
		return -1;
	}
	/* strtok_r skips empty lines, so count them by hand. */
	for (line = data; line != NULL; line = save) {
		save = strchr(line, '\n');
		if (save != NULL)
			*save++ = '\0';
		lineno++;
		line[strcspn(line, "\r")] = '\0';
		line += strspn(line, " \t");
		if (*line == '\0' || *line == '#')
			continue;
		if (n == KEYFILE_MAX_KEYS || parse_line(line, &keys[n]) != 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno,
			    n == KEYFILE_MAX_KEYS ? "too many keys" :
			    "not an SSH public key");
			keyfile_free(keys, n);
			free(data);
			return -1;
		}
		n++;
	}
	free(data);
	if (n == 0) {
		snprintf(err, errlen, "%s: no public key in it", path);
		keyfile_free(keys, n);
		return -1;
	}
	*out = keys;
	*nout = n;
	return 0;
}

void
keyfile_free(struct store_key *keys, size_t n)
{
	size_t	 i;

	for (i = 0; keys != NULL && i < n; i++)
		store_key_clear(&keys[i]);
	free(keys);
}
