/*
 * user_cli: offline user management (user_cli.h).
 *
 * A key file is read like authorized_keys: one "TYPE BASE64 [COMMENT]"
 * per line, blank lines and '#' comments skipped.  Every key is checked
 * with libssh before anything is written, and the user and its keys go
 * in as one unit: a bad line leaves the database as it was.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libssh/libssh.h>

#include "cmdline.h"
#include "config.h"
#include "datadir.h"
#include "store.h"
#include "user_cli.h"
#include "util.h"

#define KEYFILE_MAX	(256 * 1024)
#define MAX_KEYS	64

static const char usage_text[] =
    "usage: tandemd [--data-dir DIR] user add NAME --key FILE [--admin]\n"
    "       tandemd [--data-dir DIR] user list [--json]\n"
    "       tandemd [--data-dir DIR] user del NAME\n";

static int
read_file(const char *path, char **out)
{
	struct stat	 st;
	char		*data;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "tandemd: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > KEYFILE_MAX) {
		fprintf(stderr, "tandemd: %s: not a key file\n", path);
		close(fd);
		return -1;
	}
	if ((data = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -1;
	}
	n = read(fd, data, (size_t)st.st_size);
	close(fd);
	if (n < 0) {
		free(data);
		return -1;
	}
	data[n] = '\0';
	*out = data;
	return 0;
}

/* One "TYPE BASE64 [COMMENT]" line into k; -1 if it is not a public key. */
static int
parse_key_line(char *line, struct store_key *k)
{
	char		*type, *blob, *comment, *fp;
	ssh_key		 key = NULL;
	unsigned char	*hash = NULL;
	size_t		 hlen;

	type = strtok_r(line, " \t", &comment);
	blob = type ? strtok_r(NULL, " \t", &comment) : NULL;
	if (type == NULL || blob == NULL)
		return -1;
	comment += strspn(comment, " \t");
	if (ssh_key_type_from_name(type) == SSH_KEYTYPE_UNKNOWN ||
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
	k->type = strdup(type);
	k->blob = strdup(blob);
	k->fingerprint = fp ? strdup(fp) : NULL;
	k->comment = strdup(comment);
	ssh_string_free_char(fp);
	if (k->type == NULL || k->blob == NULL || k->fingerprint == NULL ||
	    k->comment == NULL) {
		store_key_clear(k);
		return -1;
	}
	return 0;
}

static int
load_keys(const char *path, struct store_key *keys, size_t *nkeys)
{
	char	*data, *line, *save = NULL;
	int	 lineno = 0, r = 0;

	*nkeys = 0;
	if (read_file(path, &data) != 0)
		return -1;
	for (line = strtok_r(data, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		line[strcspn(line, "\r")] = '\0';
		line += strspn(line, " \t");
		if (*line == '\0' || *line == '#')
			continue;
		if (*nkeys == MAX_KEYS ||
		    parse_key_line(line, &keys[*nkeys]) != 0) {
			fprintf(stderr, "tandemd: %s:%d: not an SSH public "
			    "key\n", path, lineno);
			r = -1;
			break;
		}
		(*nkeys)++;
	}
	free(data);
	if (r == 0 && *nkeys == 0) {
		fprintf(stderr, "tandemd: %s: no public key in it\n", path);
		r = -1;
	}
	return r;
}

static int
user_add(struct store *st, int argc, char **argv)
{
	enum { O_KEY, O_ADMIN };
	static const struct cmdline_opt opts[] = {
		[O_KEY] = { "key", 'k', 1 },
		[O_ADMIN] = { "admin", 0, 0 },
	};
	struct cmdline_parsed	 pa;
	struct store_key	 keys[MAX_KEYS];
	size_t			 nkeys = 0, i;
	char			 err[256];
	int64_t			 id;
	int			 r = 1;

	memset(&pa, 0, sizeof pa);
	memset(keys, 0, sizeof keys);
	if (cmdline_parse(argc, argv, opts, 2, &pa, err, sizeof err) != 0 ||
	    pa.npos != 1 || !pa.present[O_KEY]) {
		fprintf(stderr, "tandemd: user add: %s\n%s",
		    pa.npos != 1 || !pa.present[O_KEY] ? "needs NAME and "
		    "--key FILE" : err, usage_text);
		return 2;
	}
	if (!user_name_valid(pa.pos[0])) {
		fprintf(stderr, "tandemd: '%s' is not a valid user name "
		    "(lower-case letters, digits, '.', '_', '-'; 32 at "
		    "most)\n", pa.pos[0]);
		return 2;
	}
	if (load_keys(pa.value[O_KEY], keys, &nkeys) != 0)
		goto out;
	switch (store_user_add(st, pa.pos[0], pa.present[O_ADMIN], &id)) {
	case 0:
		break;
	case STORE_EXISTS:
		fprintf(stderr, "tandemd: user %s exists\n", pa.pos[0]);
		goto out;
	default:
		fprintf(stderr, "tandemd: cannot add user %s\n", pa.pos[0]);
		goto out;
	}
	for (i = 0; i < nkeys; i++) {
		if (store_key_add(st, id, &keys[i]) != 0) {
			fprintf(stderr, "tandemd: key %s is already bound to a "
			    "user\n", keys[i].fingerprint);
			store_user_del(st, pa.pos[0]);
			goto out;
		}
	}
	printf("added user %s%s with %zu key%s\n", pa.pos[0],
	    pa.present[O_ADMIN] ? " (admin)" : "", nkeys, nkeys == 1 ? "" : "s");
	r = 0;
out:
	for (i = 0; i < nkeys; i++)
		store_key_clear(&keys[i]);
	return r;
}

static int
user_list(struct store *st, int argc, char **argv)
{
	static const struct cmdline_opt opts[] = { { "json", 'j', 0 } };
	struct cmdline_parsed	 pa;
	struct store_user	*users = NULL;
	size_t			 n = 0, i;
	char			 err[256], when[ISO8601_LEN];
	json_t			*arr;
	char			*text;

	memset(&pa, 0, sizeof pa);
	if (cmdline_parse(argc, argv, opts, 1, &pa, err, sizeof err) != 0 ||
	    pa.npos != 0) {
		fprintf(stderr, "tandemd: user list: %s\n%s",
		    pa.npos ? "takes no arguments" : err, usage_text);
		return 2;
	}
	if (store_user_list(st, &users, &n) != 0) {
		fprintf(stderr, "tandemd: cannot read users\n");
		return 1;
	}
	if (pa.present[0]) {
		arr = json_array();
		for (i = 0; i < n; i++) {
			time_iso8601(users[i].created_at, when);
			json_array_append_new(arr, json_pack(
			    "{s:I, s:s, s:s, s:i, s:s}", "id",
			    (json_int_t)users[i].id, "name", users[i].name,
			    "role", users[i].admin ? "admin" : "user",
			    "keys", users[i].nkeys, "created_at", when));
		}
		text = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", text ? text : "[]");
		free(text);
		json_decref(arr);
	} else {
		printf("%-32s  %-5s  %4s  %s\n", "NAME", "ROLE", "KEYS",
		    "CREATED");
		for (i = 0; i < n; i++) {
			time_iso8601(users[i].created_at, when);
			printf("%-32s  %-5s  %4d  %s\n", users[i].name,
			    users[i].admin ? "admin" : "user", users[i].nkeys,
			    when);
		}
	}
	free(users);
	return 0;
}

static int
user_del(struct store *st, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "tandemd: user del: needs NAME\n%s",
		    usage_text);
		return 2;
	}
	switch (store_user_del(st, argv[1])) {
	case 0:
		printf("deleted user %s\n", argv[1]);
		return 0;
	case STORE_NOTFOUND:
		fprintf(stderr, "tandemd: no user %s\n", argv[1]);
		return 1;
	default:
		fprintf(stderr, "tandemd: cannot delete user %s\n", argv[1]);
		return 1;
	}
}

/* argv[0] is "user"; returns the process exit status. */
int
user_cli(const struct config *cfg, int argc, char **argv)
{
	struct datadir	 dd;
	struct store	*st = NULL;
	char		 err[512];
	int		 r;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "list") != 0 &&
	    strcmp(argv[1], "del") != 0) {
		fprintf(stderr, "tandemd: unknown user command '%s'\n%s",
		    argv[1], usage_text);
		return 2;
	}
	if (datadir_open(&dd, cfg->data_dir, 0, err, sizeof err) != 0) {
		fprintf(stderr, "tandemd: %s\n", err);
		return 1;
	}
	if (store_open(dd.db, &st) != 0) {
		fprintf(stderr, "tandemd: cannot open %s\n", dd.db);
		datadir_close(&dd);
		return 1;
	}
	if (strcmp(argv[1], "add") == 0)
		r = user_add(st, argc - 1, argv + 1);
	else if (strcmp(argv[1], "list") == 0)
		r = user_list(st, argc - 1, argv + 1);
	else
		r = user_del(st, argc - 1, argv + 1);
	store_close(st);
	datadir_close(&dd);
	return r;
}
