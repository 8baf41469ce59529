/*
 * test_keyfile: authorized_keys-style files are read key by key, with
 * options and comments, and a bad line, a FIFO or an oversized file is
 * refused with FILE:LINE or the reason.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "check.h"
#include "keyfile.h"

static char	 dir[] = "/tmp/test_keyfile.XXXXXX";
static char	*blob;

static const char *
write_file(const char *name, const char *text)
{
	static char	 path[256];
	FILE		*f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

static int
load(const char *path, size_t *n, char *err, size_t errlen)
{
	struct store_key	*keys = NULL;
	int			 r;

	r = keyfile_load(path, &keys, n, err, errlen);
	if (r == 0 && *n > 0) {
		CHECK_STR(keys[0].type, "ssh-ed25519");
		CHECK_STR(keys[0].blob, blob);
		CHECK(strncmp(keys[0].fingerprint, "SHA256:", 7) == 0);
	}
	keyfile_free(keys, r == 0 ? *n : 0);
	return r;
}

int
main(void)
{
	ssh_key		 key;
	char		 text[8192], err[512], path[300];
	size_t		 n = 0;
	int		 i;

	if (mkdtemp(dir) == NULL || ssh_pki_generate(SSH_KEYTYPE_ED25519, 0,
	    &key) != SSH_OK || ssh_pki_export_pubkey_base64(key, &blob) != 0)
		return 99;
	ssh_key_free(key);

	snprintf(text, sizeof text, "# comment\n\nssh-ed25519 %s alice@x\n"
	    "restrict,command=\"x y\" ssh-ed25519 %s\r\n", blob, blob);
	CHECK_INT(load(write_file("good", text), &n, err, sizeof err), 0);
	CHECK_INT(n, 2);

	snprintf(text, sizeof text, "ssh-ed25519 %s\n\n# c\nssh-ed25519 "
	    "notbase64!!\n", blob);
	CHECK_INT(load(write_file("bad", text), &n, err, sizeof err), -1);
	CHECK(strstr(err, "bad:4: not an SSH public key") != NULL);

	CHECK_INT(load(write_file("empty", "# nothing\n\n"), &n, err,
	    sizeof err), -1);
	CHECK(strstr(err, "no public key") != NULL);

	text[0] = '\0';
	for (i = 0; i < KEYFILE_MAX_KEYS + 1; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text),
		    "ssh-ed25519 %s\n", blob);
	CHECK_INT(load(write_file("many", text), &n, err, sizeof err), -1);
	CHECK(strstr(err, "too many keys") != NULL);

	snprintf(path, sizeof path, "%s/fifo", dir);
	CHECK_INT(mkfifo(path, 0600), 0);
	CHECK_INT(load(path, &n, err, sizeof err), -1);	/* must not block */
	CHECK(strstr(err, "not a key file") != NULL);
	unlink(path);

	CHECK_INT(load("/nonexistent/keys", &n, err, sizeof err), -1);
	CHECK(strstr(err, "cannot read") != NULL);

	{
		FILE *f;
		snprintf(path, sizeof path, "%s/huge", dir);
		if ((f = fopen(path, "w")) != NULL) {
			for (i = 0; i < KEYFILE_MAX_BYTES / 8 + 1; i++)
				fputs("########", f);
			fclose(f);
		}
		CHECK_INT(load(path, &n, err, sizeof err), -1);
		CHECK(strstr(err, "not a key file") != NULL);
		unlink(path);
	}

	unlink(write_file("good", ""));
	unlink(write_file("bad", ""));
	unlink(write_file("empty", ""));
	unlink(write_file("many", ""));
	rmdir(dir);
	ssh_string_free_char(blob);
	return check_done("test_keyfile");
}
