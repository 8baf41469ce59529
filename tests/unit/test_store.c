/*
 * test_store: the store against real SQLite files in a scratch
 * directory.  Besides the public API, a second raw sqlite3 connection
 * looks at the file itself (journal mode, version, event rows, cascades),
 * since that is what survives a restart and what an operator sees.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "log.h"
#include "store.h"
#include "util.h"

static char	tmpdir[] = "/tmp/tandem-test-store-XXXXXX";

static const char *
tmppath(const char *name)
{
	static char	 buf[4][256];
	static int	 i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", tmpdir, name);
	return buf[i];
}

/* One integer from a raw query on the file; -999 if it fails. */
static long long
raw_int(const char *path, const char *sql)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*s = NULL;
	long long	 v = -999;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) ==
	    SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_type(s, 0) == SQLITE_NULL ? -998 :
		    sqlite3_column_int64(s, 0);
	else
		fprintf(stderr, "raw_int: %s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void
raw_text(const char *path, const char *sql, char *out, size_t len)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*s = NULL;

	snprintf(out, len, "(error)");
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) ==
	    SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		snprintf(out, len, "%s", sqlite3_column_text(s, 0) ?
		    (const char *)sqlite3_column_text(s, 0) : "(null)");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static int
raw_exec(const char *path, const char *sql)
{
	sqlite3	*db = NULL;
	int	 rc;

	rc = sqlite3_open_v2(path, &db,
	    SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static mode_t
file_mode(const char *path)
{
	struct stat	 sb;

	if (stat(path, &sb) == -1)
		return (mode_t)-1;
	return sb.st_mode & 07777;
}

static void
rm_tmpdir(void)
{
	DIR		*d;
	struct dirent	*de;

	if ((d = opendir(tmpdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			unlink(tmppath(de->d_name));
	}
	closedir(d);
	if (rmdir(tmpdir) == -1)
		perror(tmpdir);
}

static struct store_key
make_key(const char *type, const char *blob, const char *comment)
{
	struct store_key	 k;
	static char		 fp[64];

	memset(&k, 0, sizeof k);
	snprintf(fp, sizeof fp, "SHA256:%.40s", blob);
	k.type = (char *)type;
	k.blob = (char *)blob;
	k.fingerprint = fp;
	k.comment = (char *)comment;
	return k;
}

static struct store_session
make_session(const char *id, int64_t user_id, int64_t started_at)
{
	struct store_session	 s;

	memset(&s, 0, sizeof s);
	snprintf(s.id, sizeof s.id, "%s", id);
	s.user_id = user_id;
	s.name = (char *)"";
	s.state = SESSION_ACTIVE;
	s.started_at = started_at;
	s.cols = 80;
	s.rows = 24;
	s.client_address = (char *)"127.0.0.1:50000";
	s.auth_method = (char *)"publickey";
	s.command = (char *)"/bin/sh";
	s.exit_status = -1;
	return s;
}

static void
test_state_names(void)
{
	enum session_state	 st;

	CHECK_STR(session_state_name(SESSION_ACTIVE), "active");
	CHECK_STR(session_state_name(SESSION_DISCONNECTED), "disconnected");
	CHECK_STR(session_state_name(SESSION_TERMINATED), "terminated");
	CHECK(session_state_parse("active", &st) == 0 &&
	    st == SESSION_ACTIVE);
	CHECK(session_state_parse("disconnected", &st) == 0 &&
	    st == SESSION_DISCONNECTED);
	CHECK(session_state_parse("terminated", &st) == 0 &&
	    st == SESSION_TERMINATED);
	CHECK_INT(session_state_parse("Active", &st), -1);
	CHECK_INT(session_state_parse("", &st), -1);
	CHECK_INT(session_state_parse(NULL, &st), -1);
}

static void
test_open(void)
{
	const char		*path = tmppath("open.db");
	struct store		*st = NULL;
	struct store_user	 u;
	char			 mode[32];
	int64_t			 id;

	CHECK(store_latest_version() >= 1);

	/* A permissive umask must not leak into the file's mode. */
	umask(022);
	CHECK_INT(store_open(path, &st), 0);
	if (st == NULL)
		return;
	CHECK_INT(store_schema_version(st), store_latest_version());
	CHECK_INT(file_mode(path), 0600);
	CHECK_INT(file_mode(tmppath("open.db-wal")), 0600);
	CHECK_INT(file_mode(tmppath("open.db-shm")), 0600);
	raw_text(path, "PRAGMA journal_mode", mode, sizeof mode);
	CHECK_STR(mode, "wal");
	CHECK_INT(raw_int(path, "PRAGMA user_version"),
	    store_latest_version());
	CHECK_INT(raw_int(path, "PRAGMA application_id"), 0x74616e64);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE "
	    "type = 'table' AND name IN ('users', 'user_keys', 'sessions', "
	    "'session_events')"), 4);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE "
	    "type = 'index' AND name = 'sessions_user_started'"), 1);
	CHECK_INT(store_user_add(st, "keeper", 1, &id), 0);
	store_close(st);

	/* Reopening keeps both the data and the version. */
	st = NULL;
	CHECK_INT(store_open(path, &st), 0);
	if (st == NULL)
		return;
	CHECK_INT(store_schema_version(st), store_latest_version());
	CHECK_INT(store_user_get(st, "keeper", &u), 0);
	CHECK_INT(u.id, id);
	CHECK_INT(u.admin, 1);
	store_close(st);
	CHECK_INT(file_mode(path), 0600);

	/* Other modules' tests may want a throw-away store. */
	st = NULL;
	CHECK_INT(store_open(":memory:", &st), 0);
	if (st != NULL) {
		CHECK_INT(store_schema_version(st), store_latest_version());
		CHECK_INT(store_user_add(st, "mem", 0, NULL), 0);
		CHECK_INT(store_user_get(st, "mem", &u), 0);
		store_close(st);
	}
}

static void
test_open_existing_files(void)
{
	struct store	*st = NULL;
	const char	*path;
	char		 sql[64];
	int		 fd;

	/* An empty file made by someone else: migrated and tightened. */
	path = tmppath("empty.db");
	fd = open(path, O_WRONLY|O_CREAT|O_EXCL, 0644);
	CHECK(fd != -1);
	if (fd != -1)
		close(fd);
	chmod(path, 0644);
	CHECK_INT(store_open(path, &st), 0);
	CHECK(st != NULL);
	if (st != NULL) {
		CHECK_INT(store_schema_version(st), store_latest_version());
		store_close(st);
	}
	CHECK_INT(file_mode(path), 0600);

	/* A schema newer than the code is refused and left alone. */
	path = tmppath("newer.db");
	st = NULL;
	CHECK_INT(store_open(path, &st), 0);
	store_close(st);
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d",
	    store_latest_version() + 1);
	CHECK_INT(raw_exec(path, sql), 0);
	st = (struct store *)1;
	CHECK_INT(store_open(path, &st), -1);
	CHECK(st == NULL);
	CHECK_INT(raw_int(path, "PRAGMA user_version"),
	    store_latest_version() + 1);

	/* Another program's database gets no tables of ours. */
	path = tmppath("foreign.db");
	CHECK_INT(raw_exec(path, "CREATE TABLE t (x)"), 0);
	st = NULL;
	CHECK_INT(store_open(path, &st), -1);
	CHECK(st == NULL);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM sqlite_schema"), 1);
	CHECK_INT(raw_int(path, "PRAGMA user_version"), 0);

	path = tmppath("appid.db");
	CHECK_INT(raw_exec(path, "PRAGMA application_id = 42"), 0);
	CHECK_INT(store_open(path, &st), -1);
	CHECK(st == NULL);

	/* Not a database at all. */
	path = tmppath("garbage.db");
	fd = open(path, O_WRONLY|O_CREAT|O_EXCL, 0600);
	if (fd != -1) {
		CHECK(write(fd, "this is not an SQLite file, not at all, "
		    "no header here....................................\n",
		    92) == 92);
		close(fd);
	}
	CHECK_INT(store_open(path, &st), -1);
	CHECK(st == NULL);

	/* A folder that does not exist. */
	CHECK_INT(store_open(tmppath("missing/dir.db"), &st), -1);
	CHECK(st == NULL);
}

static void
test_users(struct store *st, const char *path)
{
	struct store_user	 u, *list = NULL;
	size_t			 n = 99;
	int64_t			 zed, alice, bob, id;
	char			*hash;
	const char		*bad[] = { "", "Alice", "-x", ".x", "a b",
				    "a/b", "a\nb",
				    "abcdefghijabcdefghijabcdefghijabc" };
	size_t			 i;

	CHECK_INT(store_user_list(st, &list, &n), 0);
	CHECK_INT(n, 0);
	free(list);

	CHECK_INT(store_user_add(st, "zed", 0, &zed), 0);
	CHECK_INT(store_user_add(st, "alice", 0, &alice), 0);
	CHECK_INT(store_user_add(st, "bob", 1, &bob), 0);
	CHECK(zed > 0 && alice > 0 && bob > 0);
	CHECK(zed != alice && alice != bob);
	CHECK_INT(store_user_add(st, "alice", 1, &id), STORE_EXISTS);
	CHECK_INT(store_user_add(st, "abcdefghijabcdefghijabcdefghijab", 0,
	    NULL), 0);

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_INT(store_user_add(st, bad[i], 0, &id), -1);
	CHECK_INT(store_user_add(st, NULL, 0, &id), -1);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM users"), 4);

	memset(&u, 0xff, sizeof u);
	CHECK_INT(store_user_get(st, "alice", &u), 0);
	CHECK_INT(u.id, alice);
	CHECK_STR(u.name, "alice");
	CHECK_INT(u.admin, 0);
	CHECK_INT(u.nkeys, 0);
	CHECK(u.created_at > time_now() - 60 && u.created_at <= time_now());
	CHECK_INT(store_user_get(st, "bob", &u), 0);
	CHECK_INT(u.admin, 1);
	CHECK_INT(store_user_get(st, "nobody", &u), STORE_NOTFOUND);
	CHECK_INT(store_user_get(st, NULL, &u), STORE_NOTFOUND);
	CHECK_INT(store_user_get_id(st, zed, &u), 0);
	CHECK_STR(u.name, "zed");
	CHECK_INT(store_user_get_id(st, 424242, &u), STORE_NOTFOUND);

	CHECK_INT(store_user_list(st, &list, &n), 0);
	CHECK_INT(n, 4);
	if (n == 4) {
		CHECK_STR(list[0].name, "abcdefghijabcdefghijabcdefghijab");
		CHECK_STR(list[1].name, "alice");
		CHECK_STR(list[2].name, "bob");
		CHECK_INT(list[2].admin, 1);
		CHECK_STR(list[3].name, "zed");
		CHECK_INT(list[3].id, zed);
	}
	free(list);

	CHECK_INT(store_user_set_admin(st, alice, 1), 0);
	CHECK_INT(store_user_get(st, "alice", &u), 0);
	CHECK_INT(u.admin, 1);
	CHECK_INT(store_user_set_admin(st, alice, 0), 0);
	CHECK_INT(store_user_get(st, "alice", &u), 0);
	CHECK_INT(u.admin, 0);
	CHECK_INT(store_user_set_admin(st, 424242, 1), STORE_NOTFOUND);

	CHECK_INT(store_user_get_password(st, alice, &hash), STORE_NOTFOUND);
	CHECK(hash == NULL);
	CHECK_INT(store_user_set_password(st, alice, "$argon2id$v=19$x"), 0);
	CHECK_INT(store_user_get_password(st, alice, &hash), 0);
	CHECK_STR(hash, "$argon2id$v=19$x");
	free(hash);
	CHECK_INT(store_user_set_password(st, alice, NULL), 0);
	CHECK_INT(store_user_get_password(st, alice, &hash), STORE_NOTFOUND);
	CHECK_INT(store_user_set_password(st, 424242, "x"), STORE_NOTFOUND);
	CHECK_INT(store_user_get_password(st, 424242, &hash), STORE_NOTFOUND);

	CHECK_INT(store_user_del(st, "nobody"), STORE_NOTFOUND);
	CHECK_INT(store_user_del(st, "abcdefghijabcdefghijabcdefghijab"), 0);
	CHECK_INT(store_user_del(st, "abcdefghijabcdefghijabcdefghijab"),
	    STORE_NOTFOUND);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM users"), 3);
}

static void
test_keys(struct store *st, const char *path)
{
	struct store_key	 k, k2, *keys = NULL;
	struct store_user	 u;
	size_t			 n = 99;
	int64_t			 alice, bob, owner;

	CHECK_INT(store_user_get(st, "alice", &u), 0);
	alice = u.id;
	CHECK_INT(store_user_get(st, "bob", &u), 0);
	bob = u.id;

	k = make_key("ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5AAAAIAlice1",
	    "alice@laptop");
	CHECK_INT(store_key_add(st, alice, &k), 0);
	/* One key, one user: neither a second copy nor someone else. */
	CHECK_INT(store_key_add(st, alice, &k), STORE_EXISTS);
	CHECK_INT(store_key_add(st, bob, &k), STORE_EXISTS);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM user_keys"), 1);

	/* Same blob under another type is another key. */
	k2 = make_key("ssh-rsa", "AAAAC3NzaC1lZDI1NTE5AAAAIAlice1", NULL);
	CHECK_INT(store_key_add(st, bob, &k2), 0);
	k2 = make_key("ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5AAAAIAlice2",
	    "second ключ \"quoted\" 'x'");
	k2.created_at = 12345;
	CHECK_INT(store_key_add(st, alice, &k2), 0);
	CHECK_INT(store_key_add(st, 424242, &k2), STORE_EXISTS);
	k2.blob = (char *)"AAAAunknownuser";
	CHECK_INT(store_key_add(st, 424242, &k2), STORE_NOTFOUND);

	k2.fingerprint = NULL;
	CHECK_INT(store_key_add(st, alice, &k2), -1);
	k2.fingerprint = (char *)"SHA256:x";
	k2.type = (char *)"";
	CHECK_INT(store_key_add(st, alice, &k2), -1);
	CHECK_INT(store_key_add(st, alice, NULL), -1);

	CHECK_INT(store_key_find(st, alice, "ssh-ed25519",
	    "AAAAC3NzaC1lZDI1NTE5AAAAIAlice1"), 0);
	CHECK_INT(store_key_find(st, bob, "ssh-ed25519",
	    "AAAAC3NzaC1lZDI1NTE5AAAAIAlice1"), STORE_NOTFOUND);
	CHECK_INT(store_key_find(st, bob, "ssh-rsa",
	    "AAAAC3NzaC1lZDI1NTE5AAAAIAlice1"), 0);
	CHECK_INT(store_key_find(st, alice, "ssh-ed25519", "AAAAnope"),
	    STORE_NOTFOUND);
	CHECK_INT(store_key_find(st, alice, NULL, "x"), STORE_NOTFOUND);

	owner = 0;
	CHECK_INT(store_key_owner(st, "ssh-ed25519",
	    "AAAAC3NzaC1lZDI1NTE5AAAAIAlice2", &owner), 0);
	CHECK_INT(owner, alice);
	CHECK_INT(store_key_owner(st, "ssh-ed25519", "AAAAnope", &owner),
	    STORE_NOTFOUND);

	CHECK_INT(store_user_get(st, "alice", &u), 0);
	CHECK_INT(u.nkeys, 2);
	CHECK_INT(store_key_list(st, alice, &keys, &n), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(keys[0].user_id, alice);
		CHECK_STR(keys[0].type, "ssh-ed25519");
		CHECK_STR(keys[0].blob, "AAAAC3NzaC1lZDI1NTE5AAAAIAlice1");
		CHECK_STR(keys[0].fingerprint,
		    "SHA256:AAAAC3NzaC1lZDI1NTE5AAAAIAlice1");
		CHECK_STR(keys[0].comment, "alice@laptop");
		CHECK(keys[0].created_at > 0);
		CHECK_STR(keys[1].comment, "second ключ \"quoted\" 'x'");
		CHECK_INT(keys[1].created_at, 12345);
		CHECK(keys[0].id != keys[1].id);
	}
	store_key_list_free(keys, n);
	CHECK_INT(store_key_list(st, bob, &keys, &n), 0);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_STR(keys[0].comment, "");
	store_key_list_free(keys, n);
	CHECK_INT(store_key_list(st, 424242, &keys, &n), 0);
	CHECK_INT(n, 0);
	store_key_list_free(keys, n);

	/* Deleting: only the owner's key id counts. */
	CHECK_INT(store_key_list(st, alice, &keys, &n), 0);
	if (n == 2) {
		CHECK_INT(store_key_del(st, bob, keys[1].id), STORE_NOTFOUND);
		CHECK_INT(store_key_del(st, alice, keys[1].id), 0);
		CHECK_INT(store_key_del(st, alice, keys[1].id),
		    STORE_NOTFOUND);
	}
	store_key_list_free(keys, n);
	CHECK_INT(store_user_get(st, "alice", &u), 0);
	CHECK_INT(u.nkeys, 1);
}

static void
test_enroll(struct store *st, const char *path)
{
	struct store_key	 k;
	struct store_user	 u;
	long long		 nusers, nkeys;
	int64_t			 id, alice;

	CHECK_INT(store_user_get(st, "alice", &u), 0);
	alice = u.id;

	/* A new name with a new key: user and key in one go. */
	k = make_key("ssh-ed25519", "AAAAcarolkey", "carol@home");
	id = -5;
	CHECK_INT(store_user_enroll(st, "carol", &k, &id), 0);
	CHECK(id > 0);
	CHECK_INT(store_user_get(st, "carol", &u), 0);
	CHECK_INT(u.id, id);
	CHECK_INT(u.admin, 0);
	CHECK_INT(u.nkeys, 1);
	CHECK_INT(store_key_find(st, id, "ssh-ed25519", "AAAAcarolkey"), 0);

	nusers = raw_int(path, "SELECT count(*) FROM users");
	nkeys = raw_int(path, "SELECT count(*) FROM user_keys");

	/* An existing name: the caller is told whose key to check. */
	k = make_key("ssh-ed25519", "AAAAsomeotherkey", NULL);
	CHECK_INT(store_user_enroll(st, "alice", &k, &id), STORE_EXISTS);
	CHECK_INT(id, alice);
	CHECK_INT(store_key_find(st, alice, "ssh-ed25519",
	    "AAAAsomeotherkey"), STORE_NOTFOUND);

	/* A key already bound to someone else: nothing is created. */
	k = make_key("ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5AAAAIAlice1", NULL);
	id = -5;
	CHECK_INT(store_user_enroll(st, "mallory", &k, &id), STORE_EXISTS);
	CHECK_INT(id, 0);
	CHECK_INT(store_user_get(st, "mallory", &u), STORE_NOTFOUND);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM users"), nusers);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM user_keys"), nkeys);

	CHECK_INT(store_user_enroll(st, "Mallory", &k, &id), -1);
	CHECK_INT(store_user_enroll(st, "dave", NULL, &id), -1);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM users"), nusers);

	/* The transaction was closed each time: a plain write still works. */
	CHECK_INT(store_user_add(st, "erin", 0, NULL), 0);
	CHECK_INT(store_user_del(st, "erin"), 0);
}

static long long
events(const char *path, const char *id)
{
	char	 sql[128];

	snprintf(sql, sizeof sql, "SELECT count(*) FROM session_events "
	    "WHERE session_id = '%s'", id);
	return raw_int(path, sql);
}

#define S1	"11111111-1111-4111-8111-111111111111"
#define S2	"22222222-2222-4222-8222-222222222222"
#define S3	"33333333-3333-4333-8333-333333333333"
#define S4	"44444444-4444-4444-8444-444444444444"
#define S0	"00000000-0000-4000-8000-000000000000"

static void
test_sessions(struct store *st, const char *path)
{
	struct store_session	 s, g, *list = NULL;
	struct store_user	 u;
	size_t			 n = 99;
	int64_t			 alice, bob;
	char			 uuid[UUID_STRLEN + 1], text[256];
	const char		*odd = "it's \"quoted\"; DROP TABLE users; -- "
				    "日本語 ✓ émoji 🎉";

	CHECK_INT(store_user_get(st, "alice", &u), 0);
	alice = u.id;
	CHECK_INT(store_user_get(st, "bob", &u), 0);
	bob = u.id;

	s = make_session(S1, alice, 1000);
	CHECK_INT(store_session_insert(st, &s), 0);
	CHECK_INT(events(path, S1), 1);
	CHECK_INT(store_session_insert(st, &s), STORE_EXISTS);
	CHECK_INT(events(path, S1), 1);
	s = make_session(S2, alice, 2000);
	s.name = (char *)"build";
	CHECK_INT(store_session_insert(st, &s), 0);
	s = make_session(S3, bob, 1500);
	CHECK_INT(store_session_insert(st, &s), 0);
	s = make_session(S4, 424242, 1500);
	CHECK_INT(store_session_insert(st, &s), STORE_NOTFOUND);
	CHECK_INT(events(path, S4), 0);
	s = make_session("not-a-uuid", alice, 1500);
	CHECK_INT(store_session_insert(st, &s), -1);
	s = make_session(S4, alice, 1500);
	s.cols = 0;
	CHECK_INT(store_session_insert(st, &s), -1);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM sessions"), 3);

	memset(&g, 0xff, sizeof g);
	CHECK_INT(store_session_get(st, S1, &g), 0);
	CHECK_STR(g.id, S1);
	CHECK_INT(g.user_id, alice);
	CHECK_STR(g.user_name, "alice");
	CHECK_STR(g.name, "");
	CHECK_INT(g.state, SESSION_ACTIVE);
	CHECK_INT(g.started_at, 1000);
	CHECK_INT(g.ended_at, 0);
	CHECK_INT(g.cols, 80);
	CHECK_INT(g.rows, 24);
	CHECK_STR(g.client_address, "127.0.0.1:50000");
	CHECK_STR(g.auth_method, "publickey");
	CHECK_STR(g.command, "/bin/sh");
	CHECK_INT(g.exit_status, -1);
	store_session_clear(&g);
	CHECK(g.name == NULL);
	CHECK_INT(store_session_get(st, S4, &g), STORE_NOTFOUND);
	CHECK_INT(store_session_get(st, NULL, &g), STORE_NOTFOUND);

	/* Edits, with strings that would break naive quoting. */
	CHECK_INT(store_session_rename(st, S1, odd), 0);
	CHECK_INT(store_session_set_size(st, S1, 200, 60), 0);
	CHECK_INT(store_session_set_client(st, S1, "[::1]:2222",
	    "keyboard-interactive"), 0);
	CHECK_INT(store_session_get(st, S1, &g), 0);
	CHECK_STR(g.name, odd);
	CHECK_INT(g.cols, 200);
	CHECK_INT(g.rows, 60);
	CHECK_STR(g.client_address, "[::1]:2222");
	CHECK_STR(g.auth_method, "keyboard-interactive");
	store_session_clear(&g);
	raw_text(path, "SELECT name FROM sessions WHERE id = '" S1 "'", text,
	    sizeof text);
	CHECK_STR(text, odd);
	CHECK_INT(store_session_rename(st, S4, "x"), STORE_NOTFOUND);
	CHECK_INT(store_session_set_size(st, S4, 80, 24), STORE_NOTFOUND);
	CHECK_INT(store_session_set_size(st, S1, 80, -1), -1);
	CHECK_INT(store_session_set_size(st, S1, 70000, 24), -1);
	CHECK_INT(store_session_set_client(st, S4, "a", "b"),
	    STORE_NOTFOUND);
	CHECK_INT(events(path, S1), 1);	/* edits are not state changes */

	/* State changes: each one an event, ended_at and exit on the end. */
	CHECK_INT(store_session_set_state(st, S1, SESSION_DISCONNECTED, 1100,
	    -1), 0);
	CHECK_INT(store_session_get(st, S1, &g), 0);
	CHECK_INT(g.state, SESSION_DISCONNECTED);
	CHECK_INT(g.ended_at, 0);
	CHECK_INT(g.exit_status, -1);
	store_session_clear(&g);
	CHECK_INT(store_session_set_state(st, S1, SESSION_DISCONNECTED, 1150,
	    -1), 0);
	CHECK_INT(events(path, S1), 2);
	CHECK_INT(store_session_set_state(st, S1, SESSION_ACTIVE, 1200, -1),
	    0);
	CHECK_INT(store_session_set_state(st, S1, SESSION_TERMINATED, 1300,
	    3), 0);
	CHECK_INT(events(path, S1), 4);
	CHECK_INT(store_session_get(st, S1, &g), 0);
	CHECK_INT(g.state, SESSION_TERMINATED);
	CHECK_INT(g.ended_at, 1300);
	CHECK_INT(g.exit_status, 3);
	store_session_clear(&g);
	CHECK_INT(raw_int(path, "SELECT at FROM session_events WHERE "
	    "session_id = '" S1 "' ORDER BY id DESC LIMIT 1"), 1300);
	raw_text(path, "SELECT state || '/' || detail FROM session_events "
	    "WHERE session_id = '" S1 "' ORDER BY id", text, sizeof text);
	CHECK_STR(text, "active/started");
	raw_text(path, "SELECT group_concat(state, ',') FROM (SELECT state "
	    "FROM session_events WHERE session_id = '" S1 "' ORDER BY id)",
	    text, sizeof text);
	CHECK_STR(text, "active,disconnected,active,terminated");

	/* Terminated is final; a repeat is a harmless no-op. */
	CHECK_INT(store_session_set_state(st, S1, SESSION_ACTIVE, 1400, -1),
	    -1);
	CHECK_INT(store_session_set_state(st, S1, SESSION_TERMINATED, 1500,
	    9), 0);
	CHECK_INT(store_session_get(st, S1, &g), 0);
	CHECK_INT(g.state, SESSION_TERMINATED);
	CHECK_INT(g.ended_at, 1300);
	CHECK_INT(g.exit_status, 3);
	store_session_clear(&g);
	CHECK_INT(events(path, S1), 4);
	CHECK_INT(store_session_set_state(st, S4, SESSION_ACTIVE, 1, -1),
	    STORE_NOTFOUND);
	CHECK_INT(store_session_set_state(st, S2, (enum session_state)7, 1,
	    -1), -1);

	/* Killed by a signal: no exit status is stored. */
	CHECK_INT(store_session_set_state(st, S2, SESSION_TERMINATED, 2100,
	    -1), 0);
	CHECK_INT(store_session_get(st, S2, &g), 0);
	CHECK_INT(g.ended_at, 2100);
	CHECK_INT(g.exit_status, -1);
	CHECK_STR(g.name, "build");
	store_session_clear(&g);
	CHECK_INT(raw_int(path, "SELECT exit_status FROM sessions WHERE "
	    "id = '" S2 "'"), -998);
	CHECK_INT(store_session_set_state(st, S3, SESSION_DISCONNECTED, 1600,
	    -1), 0);

	/* Lists: S1 (1000, alice), S3 (1500, bob), S2 (2000, alice). */
	CHECK_INT(store_session_list(st, 0, 1, &list, &n), 0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_STR(list[0].id, S1);
		CHECK_STR(list[0].user_name, "alice");
		CHECK_STR(list[0].name, odd);
		CHECK_STR(list[1].id, S3);
		CHECK_STR(list[1].user_name, "bob");
		CHECK_INT(list[1].state, SESSION_DISCONNECTED);
		CHECK_STR(list[2].id, S2);
		CHECK_INT(list[2].exit_status, -1);
	}
	store_session_list_free(list, n);
	CHECK_INT(store_session_list(st, 0, 0, &list, &n), 0);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_STR(list[0].id, S3);
	store_session_list_free(list, n);
	CHECK_INT(store_session_list(st, alice, 1, &list, &n), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(list[0].id, S1);
		CHECK_STR(list[1].id, S2);
		CHECK_STR(list[1].user_name, "alice");
	}
	store_session_list_free(list, n);
	CHECK_INT(store_session_list(st, alice, 0, &list, &n), 0);
	CHECK_INT(n, 0);
	CHECK(list == NULL);
	store_session_list_free(list, n);

	/* Equal start times keep the order of creation (random ids must not
	 * reorder sessions started within one second). */
	s = make_session(S4, alice, 3000);
	CHECK_INT(store_session_insert(st, &s), 0);
	s = make_session(S0, alice, 3000);
	s.state = SESSION_DISCONNECTED;
	CHECK_INT(store_session_insert(st, &s), 0);
	CHECK_INT(store_session_list(st, alice, 0, &list, &n), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(list[0].id, S4);
		CHECK_STR(list[1].id, S0);
		CHECK_INT(list[1].state, SESSION_DISCONNECTED);
	}
	store_session_list_free(list, n);
	CHECK_INT(store_session_list(st, 0, 0, &list, &n), 0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_STR(list[0].id, S3);
		CHECK_STR(list[1].id, S4);
		CHECK_STR(list[2].id, S0);
	}
	store_session_list_free(list, n);

	/* A random id from util round-trips too. */
	uuid_v4(uuid);
	s = make_session(uuid, bob, 4000);
	s.command = (char *)"vim 'a b.txt' \"ç\"";
	CHECK_INT(store_session_insert(st, &s), 0);
	CHECK_INT(store_session_get(st, uuid, &g), 0);
	CHECK_STR(g.command, "vim 'a b.txt' \"ç\"");
	store_session_clear(&g);
	CHECK_INT(store_session_set_state(st, uuid, SESSION_TERMINATED, 4100,
	    0), 0);
	CHECK_INT(store_session_get(st, uuid, &g), 0);
	CHECK_INT(g.exit_status, 0);
	store_session_clear(&g);
}

/* Live: S3 (disconnected), S4 (active), S0 (disconnected). */
static void
test_reap(struct store *st, const char *path)
{
	struct store_session	 g;
	long long		 before;
	int			 count = -1;

	before = raw_int(path, "SELECT count(*) FROM session_events");
	CHECK_INT(store_session_reap(st, 5000, &count), 0);
	CHECK_INT(count, 3);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM session_events"),
	    before + 3);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM session_events WHERE "
	    "detail = 'daemon restarted' AND state = 'terminated' AND "
	    "at = 5000"), 3);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM sessions WHERE "
	    "state <> 'terminated'"), 0);

	CHECK_INT(store_session_get(st, S3, &g), 0);
	CHECK_INT(g.state, SESSION_TERMINATED);
	CHECK_INT(g.ended_at, 5000);
	CHECK_INT(g.exit_status, -1);
	store_session_clear(&g);
	CHECK_INT(store_session_get(st, S0, &g), 0);
	CHECK_INT(g.ended_at, 5000);
	store_session_clear(&g);
	/* Already terminated: untouched. */
	CHECK_INT(store_session_get(st, S1, &g), 0);
	CHECK_INT(g.ended_at, 1300);
	CHECK_INT(g.exit_status, 3);
	store_session_clear(&g);
	CHECK_INT(events(path, S1), 4);

	CHECK_INT(store_session_reap(st, 6000, &count), 0);
	CHECK_INT(count, 0);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM session_events"),
	    before + 3);
}

/* Deleting a user takes its keys and sessions; the history stays. */
static void
test_cascade(struct store *st, const char *path)
{
	struct store_user	 u;
	struct store_session	 g;
	char			 sql[128];
	int64_t			 bob;

	CHECK_INT(store_user_get(st, "bob", &u), 0);
	bob = u.id;
	snprintf(sql, sizeof sql, "SELECT count(*) FROM user_keys WHERE "
	    "user_id = %lld", (long long)bob);
	CHECK_INT(raw_int(path, sql), 1);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM sessions WHERE "
	    "user_id = %lld", (long long)bob);
	CHECK_INT(raw_int(path, sql), 2);

	CHECK_INT(store_user_del(st, "bob"), 0);
	CHECK_INT(store_user_get(st, "bob", &u), STORE_NOTFOUND);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM user_keys WHERE "
	    "user_id = %lld", (long long)bob);
	CHECK_INT(raw_int(path, sql), 0);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM sessions WHERE "
	    "user_id = %lld", (long long)bob);
	CHECK_INT(raw_int(path, sql), 0);
	CHECK_INT(store_session_get(st, S3, &g), STORE_NOTFOUND);
	CHECK(events(path, S3) >= 3);
	CHECK_INT(store_key_owner(st, "ssh-rsa",
	    "AAAAC3NzaC1lZDI1NTE5AAAAIAlice1", NULL), STORE_NOTFOUND);

	/* Alice's rows are untouched. */
	CHECK_INT(store_session_get(st, S1, &g), 0);
	store_session_clear(&g);
	CHECK_INT(store_key_find(st, 0, "x", "y"), STORE_NOTFOUND);
}

int
main(void)
{
	struct store	*st = NULL;
	const char	*path;

	log_open(NULL, LOG_ERROR);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 99;
	}

	test_state_names();
	test_open();
	test_open_existing_files();

	path = tmppath("tandem.db");
	CHECK_INT(store_open(path, &st), 0);
	if (st != NULL) {
		test_users(st, path);
		test_keys(st, path);
		test_enroll(st, path);
		test_sessions(st, path);
		test_reap(st, path);
		test_cascade(st, path);
		store_close(st);

		/* Everything above is on disk for the next start. */
		st = NULL;
		CHECK_INT(store_open(path, &st), 0);
		if (st != NULL) {
			struct store_user	 u;

			CHECK_INT(store_user_get(st, "carol", &u), 0);
			CHECK_INT(u.nkeys, 1);
			store_close(st);
		}
	}

	rm_tmpdir();
	return check_done("test_store");
}
