/*
 * user_cli: offline user management (user_cli.h).
 *
 * Every key of the file (keyfile.h) is checked before anything is
 * written, and the user and its keys go in as one unit: a bad line
 * leaves the database as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmdline.h"
#include "config.h"
#include "datadir.h"
#include "keyfile.h"
#include "store.h"
#include "user_cli.h"
#include "util.h"

static const char usage_text[] =
    "usage: tandemd [--data-dir DIR] user add NAME --key FILE [--admin]\n"
    "       tandemd [--data-dir DIR] user list [--json]\n"
    "       tandemd [--data-dir DIR] user del NAME\n";

static int
user_add(struct store *st, int argc, char **argv)
{
	enum { O_KEY, O_ADMIN };
	static const struct cmdline_opt opts[] = {
		[O_KEY] = { "key", 'k', 1 },
		[O_ADMIN] = { "admin", 0, 0 },
	};
	struct cmdline_parsed	 pa;
	struct store_key	*keys = NULL;
	size_t			 nkeys = 0, i;
	char			 err[512];
	int64_t			 id;
	int			 r = 1;

	memset(&pa, 0, sizeof pa);
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
	if (keyfile_load(pa.value[O_KEY], &keys, &nkeys, err, sizeof err)
	    != 0) {
		fprintf(stderr, "tandemd: %s\n", err);
		goto out;
	}
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
	keyfile_free(keys, nkeys);
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
