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
	CHECK_INT(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE "
	    "type = 'table' AND name IN ('shares', 'audit')"), 2);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE "
	    "type = 'index' AND name IN ('shares_session', "
	    "'shares_state_expires', 'shares_target', 'audit_session', "
	    "'audit_at')"), 5);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE "
	    "type = 'trigger' AND tbl_name = 'audit'"), 3);
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

/* --- migration 2: shares and audit -------------------------------------- */

/*
 * Migration 1 exactly as released (store.c never edits it): a fixture
 * for a database written by tandemd 0.1.  test_migrate_v1 checks that it
 * still matches, by comparing the migrated schema with a fresh one.
 */
static const char v1_schema[] =
	"PRAGMA application_id = 1952542308;"
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT UNIQUE NOT NULL,"
	"  role TEXT NOT NULL CHECK (role IN ('user', 'admin')),"
	"  password_hash TEXT,"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE TABLE user_keys ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  key_type TEXT NOT NULL,"
	"  key_blob TEXT NOT NULL,"
	"  fingerprint TEXT NOT NULL,"
	"  comment TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (key_type, key_blob)"
	");"
	"CREATE INDEX user_keys_user ON user_keys (user_id);"
	"CREATE TABLE sessions ("
	"  id TEXT PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL DEFAULT '',"
	"  state TEXT NOT NULL"
	"    CHECK (state IN ('active', 'disconnected', 'terminated')),"
	"  started_at INTEGER NOT NULL,"
	"  ended_at INTEGER,"
	"  cols INTEGER NOT NULL,"
	"  rows INTEGER NOT NULL,"
	"  client_address TEXT NOT NULL DEFAULT '',"
	"  auth_method TEXT NOT NULL DEFAULT '',"
	"  command TEXT NOT NULL DEFAULT '',"
	"  exit_status INTEGER"
	");"
	"CREATE INDEX sessions_user_started ON sessions (user_id, started_at);"
	"CREATE INDEX sessions_state ON sessions (state);"
	"CREATE TABLE session_events ("
	"  id INTEGER PRIMARY KEY,"
	"  session_id TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  state TEXT NOT NULL,"
	"  detail TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX session_events_session"
	"  ON session_events (session_id, id);"
	"PRAGMA user_version = 1;";

#define SCHEMA_SQL							\
	"SELECT group_concat(type || ' ' || name || ': ' ||"		\
	" coalesce(sql, ''), char(10)) FROM (SELECT * FROM sqlite_schema"\
	" ORDER BY name)"

static void
test_migrate_v1(void)
{
	static char		 fresh[16384], migrated[16384];
	const char		*v1 = tmppath("v1.db"), *v2 = tmppath("v2.db");
	struct store		*st = NULL;
	struct store_session	 g;
	struct store_share	 sh;
	int64_t			 at;

	/* A version-1 file with a user, a live and an ended session. */
	CHECK_INT(raw_exec(v1, v1_schema), 0);
	CHECK_INT(raw_exec(v1, "PRAGMA journal_mode = WAL;"
	    "INSERT INTO users (id, name, role, created_at)"
	    " VALUES (7, 'olduser', 'admin', 100);"
	    "INSERT INTO user_keys (user_id, key_type, key_blob, fingerprint,"
	    " created_at) VALUES (7, 'ssh-ed25519', 'AAAAold', 'SHA256:o', 100);"
	    "INSERT INTO sessions (id, user_id, state, started_at, cols, rows)"
	    " VALUES ('" S1 "', 7, 'disconnected', 200, 80, 24);"
	    "INSERT INTO sessions (id, user_id, state, started_at, ended_at,"
	    " cols, rows, exit_status) VALUES ('" S2 "', 7, 'terminated', 150,"
	    " 160, 80, 24, 0);"
	    "INSERT INTO session_events (session_id, at, state)"
	    " VALUES ('" S1 "', 200, 'active');"), 0);
	CHECK_INT(raw_int(v1, "PRAGMA user_version"), 1);

	CHECK_INT(store_open(v1, &st), 0);
	if (st == NULL)
		return;
	CHECK(store_latest_version() >= 2);
	CHECK_INT(store_schema_version(st), store_latest_version());
	CHECK_INT(raw_int(v1, "PRAGMA user_version"), store_latest_version());
	CHECK_INT(raw_int(v1, "PRAGMA application_id"), 0x74616e64);

	/* Nothing of version 1 was lost or changed. */
	CHECK_INT(raw_int(v1, "SELECT count(*) FROM users"), 1);
	CHECK_INT(raw_int(v1, "SELECT count(*) FROM user_keys"), 1);
	CHECK_INT(raw_int(v1, "SELECT count(*) FROM session_events"), 1);
	CHECK_INT(store_key_find(st, 7, "ssh-ed25519", "AAAAold"), 0);
	CHECK_INT(store_session_get(st, S1, &g), 0);
	CHECK_INT(g.state, SESSION_DISCONNECTED);
	CHECK_STR(g.user_name, "olduser");
	store_session_clear(&g);
	CHECK_INT(store_session_get(st, S2, &g), 0);
	CHECK_INT(g.exit_status, 0);
	store_session_clear(&g);

	/* The new tables work on the upgraded file. */
	CHECK_INT(store_share_next_expiry(st, &at), STORE_NOTFOUND);
	memset(&sh, 0, sizeof sh);
	snprintf(sh.id, sizeof sh.id, "upgraded0001");
	snprintf(sh.session_id, sizeof sh.session_id, "%s", S1);
	sh.kind = SHARE_USER;
	sh.target_user_id = 7;
	sh.created_by = 7;
	sh.expires_at = 9999;
	CHECK_INT(store_share_insert(st, &sh), 0);
	store_close(st);

	/* Upgraded and fresh files have the very same schema. */
	st = NULL;
	CHECK_INT(store_open(v2, &st), 0);
	store_close(st);
	raw_text(v1, SCHEMA_SQL, migrated, sizeof migrated);
	raw_text(v2, SCHEMA_SQL, fresh, sizeof fresh);
	CHECK_STR(migrated, fresh);
	CHECK(strstr(fresh, "table shares: ") != NULL);
	CHECK(strstr(fresh, "trigger audit_no_delete: ") != NULL);
	CHECK(strstr(fresh, "trigger audit_no_update: ") != NULL);
	CHECK(strstr(fresh, "trigger audit_no_replace: ") != NULL);

	/* Reopening an upgraded file changes nothing. */
	st = NULL;
	CHECK_INT(store_open(v1, &st), 0);
	if (st != NULL) {
		CHECK_INT(store_schema_version(st), store_latest_version());
		CHECK_INT(store_share_get(st, "upgraded0001", &sh), 0);
		CHECK_STR(sh.owner_name, "olduser");
		store_share_clear(&sh);
		store_close(st);
	}
}

static void
test_share_names(void)
{
	enum share_kind		 k;
	enum share_perm		 p;
	enum share_state	 s;

	CHECK_STR(share_kind_name(SHARE_LINK), "link");
	CHECK_STR(share_kind_name(SHARE_USER), "user");
	CHECK_STR(share_kind_name(SHARE_CLAIM), "claim");
	CHECK_STR(share_kind_name((enum share_kind)9), "unknown");
	CHECK_STR(share_perm_name(SHARE_READ_ONLY), "read_only");
	CHECK_STR(share_perm_name(SHARE_READ_WRITE), "read_write");
	CHECK_STR(share_state_name(SHARE_ACTIVE), "active");
	CHECK_STR(share_state_name(SHARE_EXPIRED), "expired");
	CHECK_STR(share_state_name(SHARE_REVOKED), "revoked");
	CHECK_STR(share_state_name(SHARE_ENDED), "ended");
	CHECK_STR(share_state_name((enum share_state)-1), "unknown");

	CHECK(share_kind_parse("claim", &k) == 0 && k == SHARE_CLAIM);
	CHECK(share_kind_parse("link", &k) == 0 && k == SHARE_LINK);
	CHECK_INT(share_kind_parse("Link", &k), -1);
	CHECK_INT(share_kind_parse(NULL, &k), -1);
	CHECK(share_perm_parse("read_write", &p) == 0 &&
	    p == SHARE_READ_WRITE);
	CHECK(share_perm_parse("read_only", &p) == 0 && p == SHARE_READ_ONLY);
	CHECK_INT(share_perm_parse("rw", &p), -1);
	CHECK(share_state_parse("revoked", &s) == 0 && s == SHARE_REVOKED);
	CHECK(share_state_parse("ended", &s) == 0 && s == SHARE_ENDED);
	CHECK_INT(share_state_parse("", &s), -1);
}

/* A distinct, recognisable 32-byte "keyed hash" for each seed. */
static const unsigned char *
fake_hash(int seed)
{
	static unsigned char	 h[8][32];
	static int		 i;

	i = (i + 1) % 8;
	memset(h[i], seed, sizeof h[i]);
	h[i][0] = 0xab;
	h[i][31] = (unsigned char)(seed * 7);
	return h[i];
}

static struct store_share
make_share(const char *id, const char *session_id, enum share_kind kind,
    int64_t by, int64_t created_at, int64_t expires_at)
{
	struct store_share	 sh;

	memset(&sh, 0, sizeof sh);
	snprintf(sh.id, sizeof sh.id, "%s", id);
	snprintf(sh.session_id, sizeof sh.session_id, "%s", session_id);
	sh.kind = kind;
	sh.perm = SHARE_READ_ONLY;
	sh.created_by = by;
	sh.created_at = created_at;
	sh.expires_at = expires_at;
	sh.require_auth = 1;
	return sh;
}

static long long
nshares(const char *path)
{
	return raw_int(path, "SELECT count(*) FROM shares");
}

/* The ids of a share list, comma-separated, for one CHECK_STR. */
static const char *
share_ids(const struct store_share *arr, size_t n)
{
	static char	 buf[512];
	size_t		 i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && off < sizeof buf; i++)
		off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s",
		    i ? "," : "", arr[i].id);
	return buf;
}

#define SA1	"a1a1a1a1-a1a1-4a1a-8a1a-a1a1a1a1a1a1"
#define SA2	"a2a2a2a2-a2a2-4a2a-8a2a-a2a2a2a2a2a2"
#define SA3	"a3a3a3a3-a3a3-4a3a-8a3a-a3a3a3a3a3a3"
#define SB1	"b1b1b1b1-b1b1-4b1b-8b1b-b1b1b1b1b1b1"
#define SX	"ffffffff-ffff-4fff-8fff-ffffffffffff"

static void
test_shares(void)
{
	const char		*path = tmppath("shares.db");
	const char		*odd = "pair w/ \"bob\" 🎉; DROP TABLE shares";
	struct store		*st = NULL;
	struct store_session	 ss;
	struct store_share	 sh, g, *list = NULL;
	size_t			 n = 99;
	int64_t			 alice, bob, carol, root, at;
	char			 (*ids)[SHARE_ID_LEN + 1] = NULL;
	char			 text[256];
	int			 count;

	CHECK_INT(store_open(path, &st), 0);
	if (st == NULL)
		return;
	CHECK_INT(store_share_next_expiry(st, &at), STORE_NOTFOUND);
	CHECK_INT(store_user_add(st, "alice", 0, &alice), 0);
	CHECK_INT(store_user_add(st, "bob", 0, &bob), 0);
	CHECK_INT(store_user_add(st, "carol", 0, &carol), 0);
	CHECK_INT(store_user_add(st, "root", 1, &root), 0);
	ss = make_session(SA1, alice, 100);
	CHECK_INT(store_session_insert(st, &ss), 0);
	ss = make_session(SA2, alice, 110);
	CHECK_INT(store_session_insert(st, &ss), 0);
	ss = make_session(SB1, bob, 120);
	ss.state = SESSION_DISCONNECTED;
	CHECK_INT(store_session_insert(st, &ss), 0);
	ss = make_session(SA3, alice, 130);
	ss.state = SESSION_TERMINATED;
	ss.ended_at = 140;
	CHECK_INT(store_session_insert(st, &ss), 0);

	/* A link share with every optional field set. */
	sh = make_share("link00000001", SA1, SHARE_LINK, alice, 1000, 10000);
	sh.has_token = 1;
	memcpy(sh.token_hash, fake_hash(1), 32);
	sh.perm = SHARE_READ_WRITE;
	sh.max_viewers = 3;
	sh.require_auth = 0;
	sh.password_hash = (char *)"$argon2id$v=19$m=65536,t=2,p=1$fake";
	sh.label = (char *)"pairing";
	sh.authorized_keys = (char *)"ssh-ed25519 AAAA1\nssh-rsa AAAA2";
	sh.state = SHARE_REVOKED;		/* ignored: new shares are active */
	sh.state_at = 5;
	CHECK_INT(store_share_insert(st, &sh), 0);

	memset(&g, 0xff, sizeof g);
	CHECK_INT(store_share_get(st, "link00000001", &g), 0);
	CHECK_STR(g.id, "link00000001");
	CHECK_STR(g.session_id, SA1);
	CHECK_INT(g.kind, SHARE_LINK);
	CHECK_INT(g.perm, SHARE_READ_WRITE);
	CHECK_INT(g.has_token, 1);
	CHECK(memcmp(g.token_hash, fake_hash(1), 32) == 0);
	CHECK_INT(g.target_user_id, 0);
	CHECK_STR(g.target_user, "");
	CHECK_INT(g.created_by, alice);
	CHECK_STR(g.created_by_name, "alice");
	CHECK_INT(g.created_at, 1000);
	CHECK_INT(g.expires_at, 10000);
	CHECK_INT(g.max_viewers, 3);
	CHECK_INT(g.require_auth, 0);
	CHECK_STR(g.password_hash, "$argon2id$v=19$m=65536,t=2,p=1$fake");
	CHECK_STR(g.label, "pairing");
	CHECK_STR(g.authorized_keys, "ssh-ed25519 AAAA1\nssh-rsa AAAA2");
	CHECK_INT(g.state, SHARE_ACTIVE);
	CHECK_INT(g.state_at, 0);
	CHECK_INT(g.revoked_by, 0);
	CHECK_STR(g.revoked_by_name, "");
	CHECK_INT(g.claimed_at, 0);
	CHECK_STR(g.owner_name, "alice");
	CHECK_INT(g.owner_id, alice);
	store_share_clear(&g);
	CHECK(g.label == NULL && g.password_hash == NULL);
	CHECK_INT(raw_int(path, "SELECT length(token_hash) FROM shares"), 32);

	/* Duplicates, unknown rows and malformed shares change nothing. */
	CHECK_INT(store_share_insert(st, &sh), STORE_EXISTS);
	memcpy(sh.id, "link00000002", 13);
	CHECK_INT(store_share_insert(st, &sh), STORE_EXISTS);	/* token */
	memcpy(sh.token_hash, fake_hash(2), 32);
	memcpy(sh.id, "link00000001", 13);
	CHECK_INT(store_share_insert(st, &sh), STORE_EXISTS);	/* id */
	memcpy(sh.id, "link00000002", 13);
	memcpy(sh.session_id, SX, 37);
	CHECK_INT(store_share_insert(st, &sh), STORE_NOTFOUND);
	memcpy(sh.session_id, SA3, 37);		/* terminated */
	CHECK_INT(store_share_insert(st, &sh), STORE_NOTFOUND);
	memcpy(sh.session_id, SA1, 37);
	sh.created_by = 424242;
	CHECK_INT(store_share_insert(st, &sh), STORE_NOTFOUND);
	sh.created_by = alice;
	memcpy(sh.id, "LINK00000002", 13);
	CHECK_INT(store_share_insert(st, &sh), -1);
	memcpy(sh.id, "link0000002", 12);
	CHECK_INT(store_share_insert(st, &sh), -1);
	memcpy(sh.id, "link-0000002", 13);
	CHECK_INT(store_share_insert(st, &sh), -1);
	memcpy(sh.id, "link00000002", 13);
	sh.has_token = 0;				/* link without token */
	CHECK_INT(store_share_insert(st, &sh), -1);
	sh.has_token = 1;
	sh.target_user_id = bob;			/* link with a target */
	CHECK_INT(store_share_insert(st, &sh), -1);
	sh.target_user_id = 0;
	sh.expires_at = 0;
	CHECK_INT(store_share_insert(st, &sh), -1);
	sh.expires_at = 10000;
	sh.max_viewers = -1;
	CHECK_INT(store_share_insert(st, &sh), -1);
	sh.max_viewers = 0;
	sh.kind = (enum share_kind)3;
	CHECK_INT(store_share_insert(st, &sh), -1);
	sh.kind = SHARE_LINK;
	sh.perm = (enum share_perm)2;
	CHECK_INT(store_share_insert(st, &sh), -1);
	memcpy(sh.session_id, "not-a-uuid", 11);
	sh.perm = SHARE_READ_ONLY;
	CHECK_INT(store_share_insert(st, &sh), -1);
	CHECK_INT(store_share_insert(st, NULL), -1);
	CHECK_INT(nshares(path), 1);

	/* A user share: a target, no token, no password, any key. */
	sh = make_share("user00000001", SA1, SHARE_USER, alice, 1001, 10000);
	sh.target_user_id = bob;
	sh.perm = SHARE_READ_WRITE;
	CHECK_INT(store_share_insert(st, &sh), 0);
	sh.has_token = 1;
	memcpy(sh.id, "user00000002", 13);
	CHECK_INT(store_share_insert(st, &sh), -1);
	sh.has_token = 0;
	sh.target_user_id = 0;
	CHECK_INT(store_share_insert(st, &sh), -1);
	sh.target_user_id = 424242;
	CHECK_INT(store_share_insert(st, &sh), STORE_NOTFOUND);
	CHECK_INT(store_share_get(st, "user00000001", &g), 0);
	CHECK_INT(g.kind, SHARE_USER);
	CHECK_INT(g.has_token, 0);
	CHECK_INT(g.target_user_id, bob);
	CHECK_STR(g.target_user, "bob");
	CHECK(g.password_hash == NULL);
	CHECK(g.authorized_keys == NULL);
	CHECK_STR(g.label, "");
	CHECK_INT(g.require_auth, 1);
	store_share_clear(&g);
	CHECK_INT(raw_int(path, "SELECT token_hash IS NULL FROM shares "
	    "WHERE id = 'user00000001'"), 1);

	/* A claim link, created by an admin on alice's session. */
	sh = make_share("claim0000001", SA1, SHARE_CLAIM, root, 1001, 10000);
	sh.has_token = 1;
	memcpy(sh.token_hash, fake_hash(3), 32);
	CHECK_INT(store_share_insert(st, &sh), 0);
	CHECK_INT(nshares(path), 3);

	/* Lookups. */
	CHECK_INT(store_share_find_token(st, fake_hash(1), &g), 0);
	CHECK_STR(g.id, "link00000001");
	store_share_clear(&g);
	CHECK_INT(store_share_find_token(st, fake_hash(3), &g), 0);
	CHECK_STR(g.id, "claim0000001");
	CHECK_INT(g.kind, SHARE_CLAIM);
	CHECK_STR(g.created_by_name, "root");
	CHECK_STR(g.owner_name, "alice");
	store_share_clear(&g);
	CHECK_INT(store_share_find_token(st, fake_hash(4), &g),
	    STORE_NOTFOUND);
	CHECK_INT(store_share_find_token(st, NULL, &g), STORE_NOTFOUND);
	CHECK_INT(store_share_get(st, "nosuchshare1", &g), STORE_NOTFOUND);
	CHECK_INT(store_share_get(st, NULL, &g), STORE_NOTFOUND);

	/* Lists: created_at, then order of creation. */
	CHECK_INT(store_share_list(st, SA1, 0, &list, &n), 0);
	CHECK_STR(share_ids(list, n), "link00000001,user00000001,"
	    "claim0000001");
	if (n == 3) {
		CHECK_STR(list[1].target_user, "bob");
		CHECK_STR(list[2].created_by_name, "root");
	}
	store_share_list_free(list, n);
	CHECK_INT(store_share_list(st, SA2, 1, &list, &n), 0);
	CHECK_INT(n, 0);
	CHECK(list == NULL);
	store_share_list_free(list, n);
	CHECK_INT(store_share_list(st, NULL, 1, &list, &n), 0);
	CHECK_INT(n, 0);
	store_share_list_free(list, n);

	/* Shared with bob: the session and its owner come along. */
	CHECK_INT(store_shares_for_user(st, bob, &list, &n), 0);
	CHECK_STR(share_ids(list, n), "user00000001");
	if (n == 1) {
		CHECK_STR(list[0].session_id, SA1);
		CHECK_STR(list[0].owner_name, "alice");
		CHECK_INT(list[0].owner_id, alice);
		CHECK_INT(list[0].perm, SHARE_READ_WRITE);
	}
	store_share_list_free(list, n);
	CHECK_INT(store_shares_for_user(st, carol, &list, &n), 0);
	CHECK_INT(n, 0);
	store_share_list_free(list, n);

	/* Claiming: once, by a known user, before expiry. */
	CHECK_INT(store_share_claim(st, "claim0000001", 424242, 1500),
	    STORE_NOTFOUND);
	CHECK_INT(store_share_claim(st, "claim0000001", carol, 10000),
	    STORE_NOTFOUND);			/* at its expiry: too late */
	CHECK_INT(store_share_claim(st, "link00000001", carol, 1500),
	    STORE_NOTFOUND);			/* not a claim link */
	CHECK_INT(store_share_claim(st, "user00000001", carol, 1500),
	    STORE_NOTFOUND);
	CHECK_INT(store_share_claim(st, "nosuchshare1", carol, 1500),
	    STORE_NOTFOUND);
	CHECK_INT(store_share_claim(st, NULL, carol, 1500), STORE_NOTFOUND);
	CHECK_INT(store_share_claim(st, "claim0000001", carol, 1500), 0);
	CHECK_INT(store_share_claim(st, "claim0000001", bob, 1501),
	    STORE_NOTFOUND);
	CHECK_INT(store_share_claim(st, "claim0000001", carol, 1502),
	    STORE_NOTFOUND);
	CHECK_INT(store_share_get(st, "claim0000001", &g), 0);
	CHECK_INT(g.kind, SHARE_USER);
	CHECK_INT(g.target_user_id, carol);
	CHECK_STR(g.target_user, "carol");
	CHECK_INT(g.has_token, 0);
	CHECK_INT(g.claimed_at, 1500);
	CHECK_INT(g.state, SHARE_ACTIVE);
	CHECK_INT(g.created_by, root);
	store_share_clear(&g);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM shares WHERE "
	    "id = 'claim0000001' AND token_hash IS NULL"), 1);
	CHECK_INT(store_share_find_token(st, fake_hash(3), &g),
	    STORE_NOTFOUND);			/* the link is spent */
	CHECK_INT(store_shares_for_user(st, carol, &list, &n), 0);
	CHECK_STR(share_ids(list, n), "claim0000001");
	store_share_list_free(list, n);

	/* Expiry and label edits. */
	CHECK_INT(store_share_set_expiry(st, "link00000001", 20000), 0);
	CHECK_INT(store_share_set_expiry(st, "nosuchshare1", 20000),
	    STORE_NOTFOUND);
	CHECK_INT(store_share_set_expiry(st, NULL, 20000), STORE_NOTFOUND);
	CHECK_INT(store_share_set_expiry(st, "link00000001", 0), -1);
	CHECK_INT(store_share_set_label(st, "link00000001", odd), 0);
	CHECK_INT(store_share_set_label(st, "nosuchshare1", "x"),
	    STORE_NOTFOUND);
	CHECK_INT(store_share_get(st, "link00000001", &g), 0);
	CHECK_INT(g.expires_at, 20000);
	CHECK_STR(g.label, odd);
	store_share_clear(&g);
	raw_text(path, "SELECT label FROM shares WHERE id = 'link00000001'",
	    text, sizeof text);
	CHECK_STR(text, odd);
	CHECK_INT(store_share_set_label(st, "link00000001", NULL), 0);
	CHECK_INT(store_share_get(st, "link00000001", &g), 0);
	CHECK_STR(g.label, "");
	store_share_clear(&g);

	/* Revoking: once, from active only; who did it is kept. */
	CHECK_INT(store_share_set_state(st, "user00000001", SHARE_ACTIVE,
	    1600, alice), -1);
	CHECK_INT(store_share_set_state(st, "user00000001",
	    (enum share_state)7, 1600, alice), -1);
	CHECK_INT(store_share_set_state(st, "user00000001", SHARE_REVOKED,
	    1600, alice), 0);
	CHECK_INT(store_share_set_state(st, "user00000001", SHARE_REVOKED,
	    1700, root), STORE_NOTFOUND);
	CHECK_INT(store_share_set_state(st, "user00000001", SHARE_EXPIRED,
	    1700, 0), STORE_NOTFOUND);
	CHECK_INT(store_share_set_state(st, "nosuchshare1", SHARE_REVOKED,
	    1700, 0), STORE_NOTFOUND);
	CHECK_INT(store_share_set_state(st, NULL, SHARE_ENDED, 1700, 0),
	    STORE_NOTFOUND);
	CHECK_INT(store_share_set_expiry(st, "user00000001", 30000),
	    STORE_NOTFOUND);
	CHECK_INT(store_share_set_label(st, "user00000001", "was bob's"), 0);
	CHECK_INT(store_share_get(st, "user00000001", &g), 0);
	CHECK_INT(g.state, SHARE_REVOKED);
	CHECK_INT(g.state_at, 1600);
	CHECK_INT(g.revoked_by, alice);
	CHECK_STR(g.revoked_by_name, "alice");
	CHECK_INT(g.expires_at, 10000);
	CHECK_STR(g.label, "was bob's");
	store_share_clear(&g);
	CHECK_INT(store_shares_for_user(st, bob, &list, &n), 0);
	CHECK_INT(n, 0);
	store_share_list_free(list, n);
	CHECK_INT(store_share_list(st, SA1, 0, &list, &n), 0);
	CHECK_STR(share_ids(list, n), "link00000001,claim0000001");
	store_share_list_free(list, n);
	CHECK_INT(store_share_list(st, SA1, 1, &list, &n), 0);
	CHECK_STR(share_ids(list, n), "link00000001,user00000001,"
	    "claim0000001");
	if (n == 3)
		CHECK_INT(list[1].state, SHARE_REVOKED);
	store_share_list_free(list, n);

	/* Only revoking records a revoker. */
	sh = make_share("user00000003", SA2, SHARE_USER, alice, 1700, 10000);
	sh.target_user_id = carol;
	CHECK_INT(store_share_insert(st, &sh), 0);
	CHECK_INT(store_share_set_state(st, "user00000003", SHARE_ENDED,
	    1800, root), 0);
	CHECK_INT(store_share_get(st, "user00000003", &g), 0);
	CHECK_INT(g.state, SHARE_ENDED);
	CHECK_INT(g.state_at, 1800);
	CHECK_INT(g.revoked_by, 0);
	store_share_clear(&g);
	CHECK_INT(raw_int(path, "SELECT revoked_by FROM shares WHERE "
	    "id = 'user00000003'"), -998);

	/* Active now: link00000001 (20000), claim0000001 (10000). */
	CHECK_INT(store_share_next_expiry(st, &at), 0);
	CHECK_INT(at, 10000);

	/* Expiry sweep: exactly the due shares, oldest expiry first. */
	sh = make_share("due000000002", SA2, SHARE_LINK, alice, 2000, 3500);
	sh.has_token = 1;
	memcpy(sh.token_hash, fake_hash(5), 32);
	CHECK_INT(store_share_insert(st, &sh), 0);
	sh = make_share("due000000001", SA2, SHARE_LINK, alice, 2001, 3000);
	sh.has_token = 1;
	memcpy(sh.token_hash, fake_hash(6), 32);
	CHECK_INT(store_share_insert(st, &sh), 0);
	sh = make_share("due000000003", SA2, SHARE_USER, alice, 2002, 3501);
	sh.target_user_id = bob;
	CHECK_INT(store_share_insert(st, &sh), 0);
	CHECK_INT(store_share_next_expiry(st, &at), 0);
	CHECK_INT(at, 3000);

	n = 99;
	CHECK_INT(store_shares_expire_due(st, 2999, &ids, &n), 0);
	CHECK_INT(n, 0);
	CHECK(ids == NULL);
	free(ids);
	CHECK_INT(store_shares_expire_due(st, 3500, &ids, &n), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(ids[0], "due000000001");
		CHECK_STR(ids[1], "due000000002");
	}
	free(ids);
	ids = NULL;
	CHECK_INT(store_share_get(st, "due000000001", &g), 0);
	CHECK_INT(g.state, SHARE_EXPIRED);
	CHECK_INT(g.state_at, 3000);		/* when it ran out */
	CHECK(g.has_token);			/* a late join can say why */
	store_share_clear(&g);
	CHECK_INT(store_share_get(st, "due000000003", &g), 0);
	CHECK_INT(g.state, SHARE_ACTIVE);
	store_share_clear(&g);
	CHECK_INT(store_shares_expire_due(st, 3500, &ids, &n), 0);
	CHECK_INT(n, 0);
	free(ids);
	ids = NULL;
	/* Already revoked or ended shares are not "expired" later. */
	CHECK_INT(raw_int(path, "SELECT count(*) FROM shares WHERE "
	    "state = 'expired'"), 2);
	CHECK_INT(store_share_next_expiry(st, &at), 0);
	CHECK_INT(at, 3501);
	/* An expired share cannot be revoked, extended or claimed. */
	CHECK_INT(store_share_set_state(st, "due000000001", SHARE_REVOKED,
	    3600, alice), STORE_NOTFOUND);
	CHECK_INT(store_share_set_expiry(st, "due000000001", 90000),
	    STORE_NOTFOUND);

	/* Ending one session's shares leaves the others alone. */
	count = -1;
	CHECK_INT(store_shares_end_session(st, SA2, 4000, &count), 0);
	CHECK_INT(count, 1);			/* due000000003 */
	CHECK_INT(store_share_get(st, "due000000003", &g), 0);
	CHECK_INT(g.state, SHARE_ENDED);
	CHECK_INT(g.state_at, 4000);
	store_share_clear(&g);
	CHECK_INT(store_share_get(st, "due000000002", &g), 0);
	CHECK_INT(g.state, SHARE_EXPIRED);
	store_share_clear(&g);
	CHECK_INT(store_shares_end_session(st, SA2, 4001, &count), 0);
	CHECK_INT(count, 0);
	CHECK_INT(store_shares_end_session(st, SX, 4001, &count), 0);
	CHECK_INT(count, 0);
	CHECK_INT(store_share_get(st, "link00000001", &g), 0);
	CHECK_INT(g.state, SHARE_ACTIVE);
	store_share_clear(&g);

	/* Terminating a session ends its shares in the same step. */
	CHECK_INT(store_session_set_state(st, SA1, SESSION_DISCONNECTED, 4050,
	    -1), 0);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM shares WHERE "
	    "session_id = '" SA1 "' AND state = 'active'"), 2);
	CHECK_INT(store_session_set_state(st, SA1, SESSION_TERMINATED, 4100,
	    0), 0);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM shares WHERE "
	    "session_id = '" SA1 "' AND state = 'active'"), 0);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM shares WHERE "
	    "session_id = '" SA1 "' AND state = 'ended' AND state_at = 4100"),
	    2);
	CHECK_INT(store_share_get(st, "user00000001", &g), 0);
	CHECK_INT(g.state, SHARE_REVOKED);	/* stays what it was */
	CHECK_INT(g.state_at, 1600);
	store_share_clear(&g);
	CHECK_INT(store_share_find_token(st, fake_hash(1), &g), 0);
	CHECK_INT(g.state, SHARE_ENDED);
	store_share_clear(&g);
	sh = make_share("late00000001", SA1, SHARE_USER, alice, 4200, 9000);
	sh.target_user_id = bob;
	CHECK_INT(store_share_insert(st, &sh), STORE_NOTFOUND);
	CHECK_INT(store_shares_for_user(st, carol, &list, &n), 0);
	CHECK_INT(n, 0);
	store_share_list_free(list, n);

	/* Handoff: a live session changes owner, shares follow it. */
	sh = make_share("bobs00000001", SB1, SHARE_LINK, bob, 4300, 9000);
	sh.has_token = 1;
	memcpy(sh.token_hash, fake_hash(7), 32);
	CHECK_INT(store_share_insert(st, &sh), 0);
	CHECK_INT(store_session_set_owner(st, SB1, carol), 0);
	CHECK_INT(store_session_get(st, SB1, &ss), 0);
	CHECK_INT(ss.user_id, carol);
	CHECK_STR(ss.user_name, "carol");
	store_session_clear(&ss);
	CHECK_INT(store_share_get(st, "bobs00000001", &g), 0);
	CHECK_STR(g.owner_name, "carol");
	CHECK_INT(g.owner_id, carol);
	CHECK_STR(g.created_by_name, "bob");
	store_share_clear(&g);
	CHECK_INT(store_session_set_owner(st, SB1, 424242), STORE_NOTFOUND);
	CHECK_INT(store_session_set_owner(st, SA1, bob), STORE_NOTFOUND);
	CHECK_INT(store_session_set_owner(st, SX, bob), STORE_NOTFOUND);
	CHECK_INT(store_session_set_owner(st, NULL, bob), STORE_NOTFOUND);
	CHECK_INT(store_session_get(st, SB1, &ss), 0);
	CHECK_INT(ss.user_id, carol);
	store_session_clear(&ss);

	/* Reaping at start-up ends the shares of the sessions it closes. */
	sh = make_share("reap00000001", SA2, SHARE_USER, alice, 4400, 9000);
	sh.target_user_id = carol;
	CHECK_INT(store_share_insert(st, &sh), 0);
	CHECK_INT(store_session_reap(st, 5000, &count), 0);
	CHECK_INT(count, 2);			/* SA2, SB1 */
	CHECK_INT(raw_int(path, "SELECT count(*) FROM shares WHERE "
	    "state = 'active'"), 0);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM shares WHERE "
	    "state = 'ended' AND state_at = 5000"), 2);
	CHECK_INT(store_share_next_expiry(st, &at), STORE_NOTFOUND);
	CHECK_INT(store_share_get(st, "due000000001", &g), 0);
	CHECK_INT(g.state, SHARE_EXPIRED);
	store_share_clear(&g);
	store_close(st);
	CHECK_INT(nshares(path), 9);
}

/*
 * Deleting a session (only ever through its user, but the foreign key
 * is there) or a user takes the shares that point at them; a revoker's
 * deletion only clears revoked_by.
 */
static void
test_share_cascade(void)
{
	const char		*path = tmppath("cascade.db");
	struct store		*st = NULL;
	struct store_session	 ss;
	struct store_share	 sh, g;
	int64_t			 alice, bob, carol, root;

	CHECK_INT(store_open(path, &st), 0);
	if (st == NULL)
		return;
	CHECK_INT(store_user_add(st, "alice", 0, &alice), 0);
	CHECK_INT(store_user_add(st, "bob", 0, &bob), 0);
	CHECK_INT(store_user_add(st, "carol", 0, &carol), 0);
	CHECK_INT(store_user_add(st, "root", 1, &root), 0);
	ss = make_session(SA1, alice, 100);
	CHECK_INT(store_session_insert(st, &ss), 0);
	ss = make_session(SA2, alice, 100);
	CHECK_INT(store_session_insert(st, &ss), 0);
	ss = make_session(SB1, bob, 100);
	CHECK_INT(store_session_insert(st, &ss), 0);

	/* On SA1: for carol, by root (revoked by bob), and a link. */
	sh = make_share("forcarol0001", SA1, SHARE_USER, alice, 1, 9000);
	sh.target_user_id = carol;
	CHECK_INT(store_share_insert(st, &sh), 0);
	sh = make_share("byroot000001", SA1, SHARE_LINK, root, 2, 9000);
	sh.has_token = 1;
	memcpy(sh.token_hash, fake_hash(1), 32);
	CHECK_INT(store_share_insert(st, &sh), 0);
	sh = make_share("revoked00001", SA1, SHARE_LINK, alice, 3, 9000);
	sh.has_token = 1;
	memcpy(sh.token_hash, fake_hash(2), 32);
	CHECK_INT(store_share_insert(st, &sh), 0);
	CHECK_INT(store_share_set_state(st, "revoked00001", SHARE_REVOKED, 50,
	    bob), 0);
	/* On SA2 and SB1. */
	sh = make_share("onsa20000001", SA2, SHARE_USER, alice, 4, 9000);
	sh.target_user_id = bob;
	CHECK_INT(store_share_insert(st, &sh), 0);
	sh = make_share("onsb10000001", SB1, SHARE_USER, bob, 5, 9000);
	sh.target_user_id = alice;
	CHECK_INT(store_share_insert(st, &sh), 0);
	CHECK_INT(nshares(path), 5);

	/* A session row deleted by hand takes its shares along. */
	CHECK_INT(raw_exec(path, "PRAGMA foreign_keys = ON;"
	    "DELETE FROM sessions WHERE id = '" SA2 "'"), 0);
	CHECK_INT(store_share_get(st, "onsa20000001", &g), STORE_NOTFOUND);
	CHECK_INT(nshares(path), 4);

	/* The target goes: the invitation goes. */
	CHECK_INT(store_user_del(st, "carol"), 0);
	CHECK_INT(store_share_get(st, "forcarol0001", &g), STORE_NOTFOUND);
	/* The creator goes: the share goes. */
	CHECK_INT(store_user_del(st, "root"), 0);
	CHECK_INT(store_share_get(st, "byroot000001", &g), STORE_NOTFOUND);
	CHECK_INT(store_share_find_token(st, fake_hash(1), &g),
	    STORE_NOTFOUND);
	CHECK_INT(nshares(path), 2);

	/* The revoker goes (with their session and its shares): the
	 * revoked share stays, no longer naming anyone. */
	CHECK_INT(store_user_del(st, "bob"), 0);
	CHECK_INT(store_share_get(st, "onsb10000001", &g), STORE_NOTFOUND);
	CHECK_INT(store_share_get(st, "revoked00001", &g), 0);
	CHECK_INT(g.state, SHARE_REVOKED);
	CHECK_INT(g.revoked_by, 0);
	CHECK_STR(g.revoked_by_name, "");
	store_share_clear(&g);
	CHECK_INT(nshares(path), 1);

	/* The owner goes: everything on their sessions goes. */
	CHECK_INT(store_user_del(st, "alice"), 0);
	CHECK_INT(nshares(path), 0);
	store_close(st);
}

/* The ids of an audit list, comma-separated. */
static const char *
audit_ids(const struct store_audit *arr, size_t n)
{
	static char	 buf[512];
	size_t		 i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && off < sizeof buf; i++)
		off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%lld",
		    i ? "," : "", (long long)arr[i].id);
	return buf;
}

static const char *
audit_query(struct store *st, int64_t owner, const char *session,
    int64_t since, size_t limit)
{
	struct store_audit_filter	 f;
	struct store_audit		*arr = NULL;
	size_t				 n = 0;
	static char			 out[512];

	memset(&f, 0, sizeof f);
	f.owner_id = owner;
	f.session_id = session;
	f.since = since;
	f.limit = limit;
	if (store_audit_list(st, &f, &arr, &n) != 0)
		return "(error)";
	snprintf(out, sizeof out, "%s", audit_ids(arr, n));
	store_audit_list_free(arr, n);
	return out;
}

static struct store_audit
make_event(int64_t at, int64_t actor, const char *name, const char *action,
    const char *session_id)
{
	struct store_audit	 a;

	memset(&a, 0, sizeof a);
	a.at = at;
	a.actor_id = actor;
	a.actor_name = (char *)name;
	a.action = (char *)action;
	a.session_id = (char *)session_id;
	return a;
}

static void
test_audit(void)
{
	const char		*path = tmppath("audit.db");
	struct store		*st = NULL;
	struct store_session	 ss;
	struct store_audit	 a, *list = NULL;
	struct store_audit_filter f;
	size_t			 n = 99;
	int64_t			 alice, bob, root;
	char			 text[64];

	CHECK_INT(store_open(path, &st), 0);
	if (st == NULL)
		return;
	CHECK_INT(store_user_add(st, "alice", 0, &alice), 0);
	CHECK_INT(store_user_add(st, "bob", 0, &bob), 0);
	CHECK_INT(store_user_add(st, "root", 1, &root), 0);
	ss = make_session(SA1, alice, 100);
	CHECK_INT(store_session_insert(st, &ss), 0);
	ss = make_session(SB1, bob, 100);
	CHECK_INT(store_session_insert(st, &ss), 0);

	CHECK_INT(store_audit_list(st, NULL, &list, &n), 0);
	CHECK_INT(n, 0);
	CHECK(list == NULL);
	store_audit_list_free(list, n);

	/* 1: alice starts SA1, with every field set. */
	a = make_event(100, alice, "alice", "session.start", SA1);
	a.address = (char *)"192.0.2.1:50000";
	a.detail = (char *)"80x24 publickey";
	CHECK_INT(store_audit_add(st, &a), 0);
	/* 2: alice shares SA1 with bob. */
	a = make_event(110, alice, "alice", "share.create", SA1);
	a.share_id = (char *)"link00000001";
	a.target_user = (char *)"bob";
	CHECK_INT(store_audit_add(st, &a), 0);
	/* 3: bob joins SA1.  4: bob starts SB1.  5: alice joins SB1. */
	a = make_event(120, bob, "bob", "viewer.join", SA1);
	CHECK_INT(store_audit_add(st, &a), 0);
	a = make_event(130, bob, "bob", "session.start", SB1);
	CHECK_INT(store_audit_add(st, &a), 0);
	a = make_event(140, alice, "alice", "viewer.join", SB1);
	CHECK_INT(store_audit_add(st, &a), 0);
	/* 6: the expiry timer (no actor) on SA1. */
	a = make_event(150, 0, NULL, "share.expire", SA1);
	a.share_id = (char *)"link00000001";
	CHECK_INT(store_audit_add(st, &a), 0);
	/* 7: root attaches to SB1.  8: root adds a user (no session). */
	a = make_event(160, root, "root", "admin.attach", SB1);
	CHECK_INT(store_audit_add(st, &a), 0);
	a = make_event(170, root, "root", "user.add", NULL);
	a.target_user = (char *)"carol";
	CHECK_INT(store_audit_add(st, &a), 0);
	/* Refused: no action. */
	a = make_event(180, root, "root", NULL, NULL);
	CHECK_INT(store_audit_add(st, &a), -1);
	a.action = (char *)"";
	CHECK_INT(store_audit_add(st, &a), -1);
	CHECK_INT(store_audit_add(st, NULL), -1);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM audit"), 8);

	/* Everything, oldest first, every field back. */
	CHECK_INT(store_audit_list(st, NULL, &list, &n), 0);
	CHECK_STR(audit_ids(list, n), "1,2,3,4,5,6,7,8");
	if (n == 8) {
		CHECK_INT(list[0].at, 100);
		CHECK_INT(list[0].actor_id, alice);
		CHECK_STR(list[0].actor_name, "alice");
		CHECK_STR(list[0].action, "session.start");
		CHECK_STR(list[0].session_id, SA1);
		CHECK_STR(list[0].share_id, "");
		CHECK_STR(list[0].target_user, "");
		CHECK_STR(list[0].address, "192.0.2.1:50000");
		CHECK_STR(list[0].detail, "80x24 publickey");
		CHECK_STR(list[1].share_id, "link00000001");
		CHECK_STR(list[1].target_user, "bob");
		CHECK_STR(list[1].address, "");
		CHECK_INT(list[5].actor_id, 0);
		CHECK_STR(list[5].actor_name, "");
		CHECK_STR(list[7].session_id, "");
		CHECK_STR(list[7].target_user, "carol");
	}
	store_audit_list_free(list, n);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM audit WHERE "
	    "actor_id IS NULL OR session_id IS NULL"), 2);

	/* Owners see their sessions' events and their own deeds only. */
	CHECK_STR(audit_query(st, alice, NULL, 0, 0), "1,2,3,5,6");
	CHECK_STR(audit_query(st, bob, NULL, 0, 0), "3,4,5,7");
	CHECK_STR(audit_query(st, root, NULL, 0, 0), "7,8");
	CHECK_STR(audit_query(st, 424242, NULL, 0, 0), "");
	/* One session; combined with an owner. */
	CHECK_STR(audit_query(st, 0, SA1, 0, 0), "1,2,3,6");
	CHECK_STR(audit_query(st, 0, SB1, 0, 0), "4,5,7");
	CHECK_STR(audit_query(st, alice, SB1, 0, 0), "5");
	CHECK_STR(audit_query(st, bob, SA1, 0, 0), "3");
	CHECK_STR(audit_query(st, root, SA1, 0, 0), "");
	CHECK_STR(audit_query(st, 0, SX, 0, 0), "");
	/* Since (inclusive) and limit (the newest ones, in order). */
	CHECK_STR(audit_query(st, 0, NULL, 140, 0), "5,6,7,8");
	CHECK_STR(audit_query(st, 0, NULL, 171, 0), "");
	CHECK_STR(audit_query(st, 0, NULL, 0, 2), "7,8");
	CHECK_STR(audit_query(st, 0, NULL, 0, 1), "8");
	CHECK_STR(audit_query(st, alice, NULL, 0, 3), "3,5,6");
	CHECK_STR(audit_query(st, alice, SA1, 110, 2), "3,6");

	/* A handed-over session's history goes with it. */
	CHECK_INT(store_session_set_owner(st, SA1, root), 0);
	CHECK_STR(audit_query(st, root, NULL, 0, 0), "1,2,3,6,7,8");
	CHECK_STR(audit_query(st, alice, NULL, 0, 0), "1,2,5");

	/* at 0 means now. */
	a = make_event(0, alice, "alice", "session.rename", SA1);
	CHECK_INT(store_audit_add(st, &a), 0);
	CHECK(raw_int(path, "SELECT at FROM audit WHERE id = 9") >=
	    time_now() - 60);

	/* Append-only: the file itself refuses edits and deletions. */
	CHECK_INT(raw_exec(path, "UPDATE audit SET detail = 'x' WHERE id = 1"),
	    -1);
	CHECK_INT(raw_exec(path, "UPDATE audit SET actor_name = 'mallory'"),
	    -1);
	CHECK_INT(raw_exec(path, "DELETE FROM audit WHERE id = 2"), -1);
	CHECK_INT(raw_exec(path, "DELETE FROM audit"), -1);
	CHECK_INT(raw_exec(path, "INSERT OR REPLACE INTO audit (id, at, "
	    "action) VALUES (1, 1, 'forged')"), -1);
	CHECK_INT(raw_exec(path, "PRAGMA recursive_triggers = ON;"
	    "REPLACE INTO audit (id, at, action) VALUES (2, 1, 'forged')"), -1);
	CHECK_INT(raw_exec(path, "INSERT INTO audit (id, at, action) VALUES "
	    "(3, 1, 'forged') ON CONFLICT (id) DO UPDATE SET action = 'x'"),
	    -1);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM audit"), 9);
	raw_text(path, "SELECT action || '/' || detail FROM audit WHERE id = 1",
	    text, sizeof text);
	CHECK_STR(text, "session.start/80x24 publickey");

	/* History outlives users (no foreign keys). */
	CHECK_INT(store_user_del(st, "bob"), 0);
	CHECK_INT(raw_int(path, "SELECT count(*) FROM audit"), 9);
	CHECK_STR(audit_query(st, 0, SB1, 0, 0), "4,5,7");

	/* Limits: 1000 by default, never more than 10000. */
	CHECK_INT(raw_exec(path, "INSERT INTO audit (at, action)"
	    " WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
	    " WHERE x < 10100) SELECT 1000 + x, 'bulk' FROM c"), 0);
	CHECK_INT(store_audit_list(st, NULL, &list, &n), 0);
	CHECK_INT(n, AUDIT_LIST_DEFAULT);
	if (n == AUDIT_LIST_DEFAULT) {
		CHECK_INT(list[n - 1].id, 10109);
		CHECK_INT(list[0].id, 10109 - 999);
	}
	store_audit_list_free(list, n);
	memset(&f, 0, sizeof f);
	f.limit = 1000000;
	CHECK_INT(store_audit_list(st, &f, &list, &n), 0);
	CHECK_INT(n, AUDIT_LIST_MAX);
	store_audit_list_free(list, n);
	f.limit = 10050;
	f.owner_id = alice;
	CHECK_INT(store_audit_list(st, &f, &list, &n), 0);
	CHECK_STR(audit_ids(list, n), "1,2,5,9");
	store_audit_list_free(list, n);
	store_close(st);
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
	test_share_names();
	test_open();
	test_open_existing_files();
	test_migrate_v1();
	test_shares();
	test_share_cascade();
	test_audit();

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
