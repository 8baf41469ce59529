/*
 * store: users, their keys, sessions, shares and the audit trail in one
 * SQLite file (store.h).
 *
 * The daemon has one connection, used from the event loop only.  Every
 * statement it runs more than once is prepared at open and kept in
 * struct store; each use ends with stmt_put(), which resets it so that
 * no read transaction stays open to hold back WAL checkpoints.  Changes
 * that touch more than one row (a state change and its event, a user and
 * its first key) run inside BEGIN IMMEDIATE, which takes the write lock
 * up front: another tandemd process or the CLI on the same file then
 * waits for busy_timeout instead of failing half-way through.
 *
 * The schema lives in migrations[] below.  Entry N brings user_version
 * N-1 to N; entries are never edited once released, only appended.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "util.h"

/*
 * 0x74616e64, "tand": marks the file as ours, so that a database written
 * by another program is refused rather than altered.
 */
#define STORE_APPLICATION_ID	1952542308
#define STR(x)			#x
#define XSTR(x)			STR(x)

#define STORE_BUSY_TIMEOUT	5000	/* ms */

#define RC_UNIQUE(rc)	((rc) == SQLITE_CONSTRAINT_UNIQUE ||		\
			 (rc) == SQLITE_CONSTRAINT_PRIMARYKEY)
#define RC_FKEY(rc)	((rc) == SQLITE_CONSTRAINT_FOREIGNKEY)

static const char *const migrations[] = {
	/* 1: users, keys, sessions and their state history. */
	"PRAGMA application_id = " XSTR(STORE_APPLICATION_ID) ";"
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
	/*
	 * No foreign key on purpose: the history is an audit trail and
	 * outlives the session row when its user is deleted.
	 */
	"CREATE TABLE session_events ("
	"  id INTEGER PRIMARY KEY,"
	"  session_id TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  state TEXT NOT NULL,"
	"  detail TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX session_events_session"
	"  ON session_events (session_id, id);",

	/*
	 * 2: shares and the audit trail.  A share's kind decides whether it
	 * holds a token hash (link, claim) or a target user (user); the
	 * CHECKs keep a row from being both or neither.  revoked_by is set
	 * to NULL rather than left pointing at a deleted user whose id a
	 * new user could get.  The audit table has no foreign keys, like
	 * session_events, and triggers make it append-only.
	 */
	"CREATE TABLE shares ("
	"  id TEXT PRIMARY KEY,"
	"  session_id TEXT NOT NULL"
	"    REFERENCES sessions(id) ON DELETE CASCADE,"
	"  kind TEXT NOT NULL CHECK (kind IN ('link', 'user', 'claim')),"
	"  permission TEXT NOT NULL"
	"    CHECK (permission IN ('read_only', 'read_write')),"
	"  token_hash BLOB UNIQUE CHECK (length(token_hash) = 32),"
	"  target_user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,"
	"  created_by INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  max_viewers INTEGER NOT NULL DEFAULT 0 CHECK (max_viewers >= 0),"
	"  require_auth INTEGER NOT NULL DEFAULT 1"
	"    CHECK (require_auth IN (0, 1)),"
	"  password_hash TEXT,"
	"  label TEXT NOT NULL DEFAULT '',"
	"  authorized_keys TEXT,"
	"  state TEXT NOT NULL DEFAULT 'active'"
	"    CHECK (state IN ('active', 'expired', 'revoked', 'ended')),"
	"  state_at INTEGER,"
	"  revoked_by INTEGER REFERENCES users(id) ON DELETE SET NULL,"
	"  claimed_at INTEGER,"
	"  CHECK ((kind = 'user') = (target_user_id IS NOT NULL)),"
	"  CHECK (kind = 'user' OR token_hash IS NOT NULL),"
	"  CHECK (kind <> 'user' OR token_hash IS NULL)"
	");"
	"CREATE INDEX shares_session ON shares (session_id);"
	"CREATE INDEX shares_state_expires ON shares (state, expires_at);"
	"CREATE INDEX shares_target ON shares (target_user_id);"
	"CREATE INDEX shares_created_by ON shares (created_by);"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  actor_id INTEGER,"
	"  actor_name TEXT NOT NULL DEFAULT '',"
	"  action TEXT NOT NULL CHECK (action <> ''),"
	"  session_id TEXT,"
	"  share_id TEXT,"
	"  target_user TEXT,"
	"  address TEXT NOT NULL DEFAULT '',"
	"  detail TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX audit_session ON audit (session_id, id);"
	"CREATE INDEX audit_at ON audit (at);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;"
	/*
	 * INSERT OR REPLACE deletes the old row without firing delete
	 * triggers (unless recursive_triggers is on): refuse it up front.
	 */
	"CREATE TRIGGER audit_no_replace BEFORE INSERT ON audit"
	"  WHEN EXISTS (SELECT 1 FROM audit WHERE id = NEW.id)"
	"  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;",

	/*
	 * 3: bearer tokens of the HTTP API.  Like share tokens, only the
	 * hash keyed with the server secret is kept; a user's tokens go
	 * with the user.
	 */
	"CREATE TABLE api_tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),"
	"  label TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL,"
	"  last_used_at INTEGER"
	");"
	"CREATE INDEX api_tokens_user ON api_tokens (user_id);",

	/*
	 * 4: browser sign-in (signin.h): session cookies and one-time
	 * sign-in links, both kept only as hashes keyed with the server
	 * secret, and gone with their user.
	 */
	"CREATE TABLE web_sessions ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL"
	");"
	"CREATE INDEX web_sessions_user ON web_sessions (user_id);"
	"CREATE TABLE login_links ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL"
	");",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_USER_BY_NAME,
	S_USER_BY_ID,
	S_USER_LIST,
	S_USER_INSERT,
	S_USER_DELETE,
	S_USER_SET_ROLE,
	S_USER_SET_PASSWORD,
	S_USER_GET_PASSWORD,
	S_KEY_INSERT,
	S_KEY_FIND,
	S_KEY_OWNER,
	S_KEY_LIST,
	S_KEY_DELETE,
	S_SESSION_INSERT,
	S_SESSION_STATE,
	S_SESSION_SET_STATE,
	S_SESSION_SET_SIZE,
	S_SESSION_SET_CLIENT,
	S_SESSION_RENAME,
	S_SESSION_GET,
	S_SESSION_LIST_ALL,
	S_SESSION_LIST_USER,
	S_SESSION_REAP_EVENTS,
	S_SESSION_REAP,
	S_EVENT_INSERT,
	S_SESSION_SET_OWNER,
	S_SHARE_INSERT,
	S_SHARE_GET,
	S_SHARE_BY_TOKEN,
	S_SHARE_LIST,
	S_SHARE_FOR_USER,
	S_SHARE_SET_STATE,
	S_SHARE_SET_EXPIRY,
	S_SHARE_SET_LABEL,
	S_SHARE_CLAIM,
	S_SHARE_END_SESSION,
	S_SHARE_END_LIVE,
	S_SHARE_DUE,
	S_SHARE_EXPIRE,
	S_SHARE_NEXT_EXPIRY,
	S_AUDIT_INSERT,
	S_AUDIT_LIST,
	S_AUDIT_LIST_SESSION,
	S_API_TOKEN_INSERT,
	S_API_TOKEN_BY_HASH,
	S_API_TOKEN_TOUCH,
	S_API_TOKEN_LIST,
	S_API_TOKEN_DELETE,
	S_WEB_SESSION_INSERT,
	S_WEB_SESSION_FIND,
	S_WEB_SESSION_DELETE,
	S_WEB_SESSION_PURGE,
	S_LOGIN_LINK_INSERT,
	S_LOGIN_LINK_CONSUME,
	S_LOGIN_LINK_PURGE,
	S__COUNT
};

#define USER_COLUMNS							\
	"u.id, u.name, u.role, u.created_at,"				\
	" (SELECT count(*) FROM user_keys k WHERE k.user_id = u.id)"	\
	" FROM users u"
#define SESSION_COLUMNS							\
	"s.id, s.user_id, u.name, s.name, s.state, s.started_at,"	\
	" s.ended_at, s.cols, s.rows, s.client_address, s.auth_method,"	\
	" s.command, s.exit_status"					\
	" FROM sessions s JOIN users u ON u.id = s.user_id"
#define LIVE_STATES	"('active', 'disconnected')"
/*
 * Left joins throughout: a share row is returned even if a name cannot
 * be found (the foreign keys make that rare, not impossible).
 */
#define SHARE_COLUMNS							\
	"sh.id, sh.session_id, sh.kind, sh.permission, sh.token_hash,"	\
	" sh.target_user_id, tu.name, sh.created_by, cu.name,"		\
	" sh.created_at, sh.expires_at, sh.max_viewers, sh.require_auth,"\
	" sh.password_hash, sh.label, sh.authorized_keys, sh.state,"	\
	" sh.state_at, sh.revoked_by, ru.name, sh.claimed_at, ou.name,"	\
	" s.user_id"							\
	" FROM shares sh"						\
	" LEFT JOIN sessions s ON s.id = sh.session_id"			\
	" LEFT JOIN users ou ON ou.id = s.user_id"			\
	" LEFT JOIN users tu ON tu.id = sh.target_user_id"		\
	" LEFT JOIN users cu ON cu.id = sh.created_by"			\
	" LEFT JOIN users ru ON ru.id = sh.revoked_by"
#define AUDIT_COLUMNS							\
	"id, at, actor_id, actor_name, action, session_id, share_id,"	\
	" target_user, address, detail"
#define API_TOKEN_COLUMNS						\
	"id, user_id, token_hash, label, created_at, last_used_at"	\
	" FROM api_tokens"
#define AUDIT_OWNER_FILTER						\
	"(?1 = 0 OR a.actor_id = ?1 OR a.session_id IN"			\
	" (SELECT s.id FROM sessions s WHERE s.user_id = ?1))"

static const struct {
	const char	*name;
	const char	*sql;
} stmt_table[S__COUNT] = {
	[S_BEGIN] = { "begin", "BEGIN IMMEDIATE" },
	[S_COMMIT] = { "commit", "COMMIT" },
	[S_ROLLBACK] = { "rollback", "ROLLBACK" },
	[S_USER_BY_NAME] = { "user_by_name",
	    "SELECT " USER_COLUMNS " WHERE u.name = ?1" },
	[S_USER_BY_ID] = { "user_by_id",
	    "SELECT " USER_COLUMNS " WHERE u.id = ?1" },
	[S_USER_LIST] = { "user_list",
	    "SELECT " USER_COLUMNS " ORDER BY u.name" },
	[S_USER_INSERT] = { "user_insert",
	    "INSERT INTO users (name, role, created_at) VALUES (?1, ?2, ?3)" },
	[S_USER_DELETE] = { "user_delete",
	    "DELETE FROM users WHERE name = ?1" },
	[S_USER_SET_ROLE] = { "user_set_role",
	    "UPDATE users SET role = ?2 WHERE id = ?1" },
	[S_USER_SET_PASSWORD] = { "user_set_password",
	    "UPDATE users SET password_hash = ?2 WHERE id = ?1" },
	[S_USER_GET_PASSWORD] = { "user_get_password",
	    "SELECT password_hash FROM users WHERE id = ?1" },
	[S_KEY_INSERT] = { "key_insert",
	    "INSERT INTO user_keys (user_id, key_type, key_blob, fingerprint,"
	    " comment, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)" },
	[S_KEY_FIND] = { "key_find",
	    "SELECT 1 FROM user_keys"
	    " WHERE key_type = ?2 AND key_blob = ?3 AND user_id = ?1" },
	[S_KEY_OWNER] = { "key_owner",
	    "SELECT user_id FROM user_keys"
	    " WHERE key_type = ?1 AND key_blob = ?2" },
	[S_KEY_LIST] = { "key_list",
	    "SELECT id, user_id, key_type, key_blob, fingerprint, comment,"
	    " created_at FROM user_keys WHERE user_id = ?1 ORDER BY id" },
	[S_KEY_DELETE] = { "key_delete",
	    "DELETE FROM user_keys WHERE id = ?2 AND user_id = ?1" },
	[S_SESSION_INSERT] = { "session_insert",
	    "INSERT INTO sessions (id, user_id, name, state, started_at,"
	    " ended_at, cols, rows, client_address, auth_method, command,"
	    " exit_status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
	    " ?11, ?12)" },
	[S_SESSION_STATE] = { "session_state",
	    "SELECT state FROM sessions WHERE id = ?1" },
	[S_SESSION_SET_STATE] = { "session_set_state",
	    "UPDATE sessions SET state = ?2, ended_at = ?3, exit_status = ?4"
	    " WHERE id = ?1" },
	[S_SESSION_SET_SIZE] = { "session_set_size",
	    "UPDATE sessions SET cols = ?2, rows = ?3 WHERE id = ?1" },
	[S_SESSION_SET_CLIENT] = { "session_set_client",
	    "UPDATE sessions SET client_address = ?2, auth_method = ?3"
	    " WHERE id = ?1" },
	[S_SESSION_RENAME] = { "session_rename",
	    "UPDATE sessions SET name = ?2 WHERE id = ?1" },
	[S_SESSION_GET] = { "session_get",
	    "SELECT " SESSION_COLUMNS " WHERE s.id = ?1" },
	/* Two statements, so that the per-user one can use its index. */
	[S_SESSION_LIST_ALL] = { "session_list_all",
	    "SELECT " SESSION_COLUMNS
	    " WHERE (?1 OR s.state <> 'terminated')"
	    " ORDER BY s.started_at, s.rowid" },
	[S_SESSION_LIST_USER] = { "session_list_user",
	    "SELECT " SESSION_COLUMNS
	    " WHERE s.user_id = ?2 AND (?1 OR s.state <> 'terminated')"
	    " ORDER BY s.started_at, s.rowid" },
	[S_SESSION_REAP_EVENTS] = { "session_reap_events",
	    "INSERT INTO session_events (session_id, at, state, detail)"
	    " SELECT id, ?1, 'terminated', 'daemon restarted' FROM sessions"
	    " WHERE state IN " LIVE_STATES " ORDER BY started_at, rowid" },
	[S_SESSION_REAP] = { "session_reap",
	    "UPDATE sessions SET state = 'terminated', ended_at = ?1,"
	    " exit_status = NULL WHERE state IN " LIVE_STATES },
	[S_EVENT_INSERT] = { "event_insert",
	    "INSERT INTO session_events (session_id, at, state, detail)"
	    " VALUES (?1, ?2, ?3, ?4)" },
	[S_SESSION_SET_OWNER] = { "session_set_owner",
	    "UPDATE sessions SET user_id = ?2"
	    " WHERE id = ?1 AND state IN " LIVE_STATES },
	/* Selecting from sessions: no new share for a terminated one. */
	[S_SHARE_INSERT] = { "share_insert",
	    "INSERT INTO shares (id, session_id, kind, permission, token_hash,"
	    " target_user_id, created_by, created_at, expires_at, max_viewers,"
	    " require_auth, password_hash, label, authorized_keys, state)"
	    " SELECT ?1, s.id, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
	    " ?13, ?14, 'active' FROM sessions s"
	    " WHERE s.id = ?2 AND s.state IN " LIVE_STATES },
	[S_SHARE_GET] = { "share_get",
	    "SELECT " SHARE_COLUMNS " WHERE sh.id = ?1" },
	[S_SHARE_BY_TOKEN] = { "share_by_token",
	    "SELECT " SHARE_COLUMNS " WHERE sh.token_hash = ?1" },
	[S_SHARE_LIST] = { "share_list",
	    "SELECT " SHARE_COLUMNS
	    " WHERE sh.session_id = ?1 AND (?2 OR sh.state = 'active')"
	    " ORDER BY sh.created_at, sh.rowid" },
	[S_SHARE_FOR_USER] = { "share_for_user",
	    "SELECT " SHARE_COLUMNS
	    " WHERE sh.target_user_id = ?1 AND sh.kind = 'user'"
	    " AND sh.state = 'active'"
	    " ORDER BY sh.created_at, sh.rowid" },
	[S_SHARE_SET_STATE] = { "share_set_state",
	    "UPDATE shares SET state = ?2, state_at = ?3, revoked_by = ?4"
	    " WHERE id = ?1 AND state = 'active'" },
	[S_SHARE_SET_EXPIRY] = { "share_set_expiry",
	    "UPDATE shares SET expires_at = ?2"
	    " WHERE id = ?1 AND state = 'active'" },
	[S_SHARE_SET_LABEL] = { "share_set_label",
	    "UPDATE shares SET label = ?2 WHERE id = ?1" },
	/* One statement, so two claims of one link cannot both win. */
	[S_SHARE_CLAIM] = { "share_claim",
	    "UPDATE shares SET kind = 'user', target_user_id = ?2,"
	    " token_hash = NULL, claimed_at = ?3"
	    " WHERE id = ?1 AND kind = 'claim' AND state = 'active'"
	    " AND expires_at > ?3" },
	[S_SHARE_END_SESSION] = { "share_end_session",
	    "UPDATE shares SET state = 'ended', state_at = ?2"
	    " WHERE session_id = ?1 AND state = 'active'" },
	[S_SHARE_END_LIVE] = { "share_end_live",
	    "UPDATE shares SET state = 'ended', state_at = ?1"
	    " WHERE state = 'active' AND session_id IN"
	    " (SELECT id FROM sessions WHERE state IN " LIVE_STATES ")" },
	[S_SHARE_DUE] = { "share_due",
	    "SELECT id FROM shares WHERE state = 'active' AND expires_at <= ?1"
	    " ORDER BY expires_at, rowid" },
	[S_SHARE_EXPIRE] = { "share_expire",
	    "UPDATE shares SET state = 'expired', state_at = expires_at"
	    " WHERE state = 'active' AND expires_at <= ?1" },
	[S_SHARE_NEXT_EXPIRY] = { "share_next_expiry",
	    "SELECT min(expires_at) FROM shares WHERE state = 'active'" },
	[S_AUDIT_INSERT] = { "audit_insert",
	    "INSERT INTO audit (at, actor_id, actor_name, action, session_id,"
	    " share_id, target_user, address, detail)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)" },
	/*
	 * The newest ?4 matches, walking ids backwards, then put back in
	 * order.  An owner sees their sessions' events (handed-over ones
	 * included) and everything they did themselves.  Two statements,
	 * so that the per-session one walks its index.
	 */
	[S_AUDIT_LIST] = { "audit_list",
	    "SELECT " AUDIT_COLUMNS " FROM (SELECT " AUDIT_COLUMNS
	    " FROM audit a WHERE " AUDIT_OWNER_FILTER
	    " AND (?3 = 0 OR a.at >= ?3)"
	    " ORDER BY a.id DESC LIMIT ?4) ORDER BY id" },
	[S_AUDIT_LIST_SESSION] = { "audit_list_session",
	    "SELECT " AUDIT_COLUMNS " FROM (SELECT " AUDIT_COLUMNS
	    " FROM audit a WHERE a.session_id = ?2 AND " AUDIT_OWNER_FILTER
	    " AND (?3 = 0 OR a.at >= ?3)"
	    " ORDER BY a.id DESC LIMIT ?4) ORDER BY id" },
	[S_API_TOKEN_INSERT] = { "api_token_insert",
	    "INSERT INTO api_tokens (user_id, token_hash, label, created_at)"
	    " VALUES (?1, ?2, ?3, ?4)" },
	[S_API_TOKEN_BY_HASH] = { "api_token_by_hash",
	    "SELECT " API_TOKEN_COLUMNS " WHERE token_hash = ?1" },
	[S_API_TOKEN_TOUCH] = { "api_token_touch",
	    "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1" },
	[S_API_TOKEN_LIST] = { "api_token_list",
	    "SELECT " API_TOKEN_COLUMNS " WHERE user_id = ?1 ORDER BY id" },
	[S_API_TOKEN_DELETE] = { "api_token_delete",
	    "DELETE FROM api_tokens WHERE id = ?2 AND user_id = ?1" },
	[S_WEB_SESSION_INSERT] = { "web_session_insert",
	    "INSERT INTO web_sessions (user_id, token_hash, created_at,"
	    " expires_at) VALUES (?1, ?2, ?3, ?4)" },
	[S_WEB_SESSION_FIND] = { "web_session_find",
	    "SELECT user_id FROM web_sessions WHERE token_hash = ?1"
	    " AND expires_at > ?2" },
	[S_WEB_SESSION_DELETE] = { "web_session_delete",
	    "DELETE FROM web_sessions WHERE token_hash = ?1" },
	[S_WEB_SESSION_PURGE] = { "web_session_purge",
	    "DELETE FROM web_sessions WHERE expires_at <= ?1" },
	[S_LOGIN_LINK_INSERT] = { "login_link_insert",
	    "INSERT INTO login_links (user_id, token_hash, created_at,"
	    " expires_at) VALUES (?1, ?2, ?3, ?4)" },
	[S_LOGIN_LINK_CONSUME] = { "login_link_consume",
	    "DELETE FROM login_links WHERE token_hash = ?1"
	    " RETURNING user_id, expires_at" },
	[S_LOGIN_LINK_PURGE] = { "login_link_purge",
	    "DELETE FROM login_links WHERE expires_at <= ?1" },
};

struct store {
	sqlite3		*db;
	char		*path;		/* for messages */
	sqlite3_stmt	*stmt[S__COUNT];
};

static const char *const session_state_names[] = {
	[SESSION_ACTIVE] = "active",
	[SESSION_DISCONNECTED] = "disconnected",
	[SESSION_TERMINATED] = "terminated",
};

const char *
session_state_name(enum session_state state)
{
	if ((unsigned)state >= sizeof session_state_names /
	    sizeof session_state_names[0])
		return "unknown";
	return session_state_names[state];
}

int
session_state_parse(const char *s, enum session_state *out)
{
	size_t	 i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof session_state_names /
	    sizeof session_state_names[0]; i++) {
		if (strcmp(s, session_state_names[i]) == 0) {
			*out = (enum session_state)i;
			return 0;
		}
	}
	return -1;
}

static const char *const share_kind_names[] = {
	[SHARE_LINK] = "link",
	[SHARE_USER] = "user",
	[SHARE_CLAIM] = "claim",
};

static const char *const share_perm_names[] = {
	[SHARE_READ_ONLY] = "read_only",
	[SHARE_READ_WRITE] = "read_write",
};

static const char *const share_state_names[] = {
	[SHARE_ACTIVE] = "active",
	[SHARE_EXPIRED] = "expired",
	[SHARE_REVOKED] = "revoked",
	[SHARE_ENDED] = "ended",
};

#define NELEM(a)	(sizeof (a) / sizeof (a)[0])

static const char *
enum_name(const char *const *names, size_t n, unsigned v)
{
	return v < n ? names[v] : "unknown";
}

static int
enum_parse(const char *const *names, size_t n, const char *s, int *out)
{
	size_t	 i;

	if (s == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	return -1;
}

const char *
share_kind_name(enum share_kind v)
{
	return enum_name(share_kind_names, NELEM(share_kind_names), v);
}

int
share_kind_parse(const char *s, enum share_kind *out)
{
	int	 v;

	if (enum_parse(share_kind_names, NELEM(share_kind_names), s, &v) != 0)
		return -1;
	*out = (enum share_kind)v;
	return 0;
}

const char *
share_perm_name(enum share_perm v)
{
	return enum_name(share_perm_names, NELEM(share_perm_names), v);
}

int
share_perm_parse(const char *s, enum share_perm *out)
{
	int	 v;

	if (enum_parse(share_perm_names, NELEM(share_perm_names), s, &v) != 0)
		return -1;
	*out = (enum share_perm)v;
	return 0;
}

const char *
share_state_name(enum share_state v)
{
	return enum_name(share_state_names, NELEM(share_state_names), v);
}

int
share_state_parse(const char *s, enum share_state *out)
{
	int	 v;

	if (enum_parse(share_state_names, NELEM(share_state_names), s,
	    &v) != 0)
		return -1;
	*out = (enum share_state)v;
	return 0;
}

int
store_latest_version(void)
{
	return NMIGRATIONS;
}

/* --- statement helpers ------------------------------------------------ */

static const char *
stmt_name(struct store *st, sqlite3_stmt *s)
{
	size_t	 i;

	for (i = 0; i < S__COUNT; i++) {
		if (st->stmt[i] == s)
			return stmt_table[i].name;
	}
	return "statement";
}

static sqlite3_stmt *
stmt_get(struct store *st, enum stmt_id id)
{
	return st->stmt[id];
}

/* Ends a use: resetting releases the read snapshot a SELECT holds. */
static void
stmt_put(sqlite3_stmt *s)
{
	if (s == NULL)
		return;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/*
 * One sqlite3_step.  Errors are logged here, except, when the caller
 * asks for it, the constraint violations it turns into STORE_EXISTS or
 * STORE_NOTFOUND.
 */
static int
step(struct store *st, sqlite3_stmt *s, int quiet)
{
	int	 rc;

	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	if (quiet && (RC_UNIQUE(rc) || RC_FKEY(rc)))
		return rc;
	log_error("store: %s: %s", stmt_name(st, s), sqlite3_errmsg(st->db));
	return rc;
}

static int
bind_check(struct store *st, sqlite3_stmt *s, int rc)
{
	if (rc == SQLITE_OK)
		return 0;
	log_error("store: %s: bind: %s", stmt_name(st, s),
	    sqlite3_errmsg(st->db));
	return -1;
}

/* NULL binds SQL NULL; columns that forbid it get nz() from the caller. */
static int
bind_text(struct store *st, sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		return bind_check(st, s, sqlite3_bind_null(s, i));
	return bind_check(st, s, sqlite3_bind_text(s, i, v, -1,
	    SQLITE_TRANSIENT));
}

static int
bind_int64(struct store *st, sqlite3_stmt *s, int i, int64_t v)
{
	return bind_check(st, s, sqlite3_bind_int64(s, i, v));
}

/* Binds SQL NULL for the "not set" value, so the column reads as such. */
static int
bind_int64_or_null(struct store *st, sqlite3_stmt *s, int i, int64_t v,
    int null)
{
	if (null)
		return bind_check(st, s, sqlite3_bind_null(s, i));
	return bind_int64(st, s, i, v);
}

static int
bind_blob(struct store *st, sqlite3_stmt *s, int i, const void *v,
    int len)
{
	if (v == NULL)
		return bind_check(st, s, sqlite3_bind_null(s, i));
	return bind_check(st, s, sqlite3_bind_blob(s, i, v, len,
	    SQLITE_TRANSIENT));
}

static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

/*
 * Copies a text column into malloc'd memory; SQL NULL reads as "" since
 * the structs promise non-NULL strings.
 */
static int
col_dup(struct store *st, sqlite3_stmt *s, int i, char **out)
{
	const unsigned char	*v = NULL;

	*out = NULL;
	if (sqlite3_column_type(s, i) != SQLITE_NULL &&
	    (v = sqlite3_column_text(s, i)) == NULL) {
		log_error("store: %s: column %d: %s", stmt_name(st, s), i,
		    sqlite3_errmsg(st->db));
		return -1;
	}
	if ((*out = strdup(v != NULL ? (const char *)v : "")) == NULL) {
		log_error("store: out of memory");
		return -1;
	}
	return 0;
}

/* As col_dup, but SQL NULL stays NULL (for optional columns). */
static int
col_dup_or_null(struct store *st, sqlite3_stmt *s, int i, char **out)
{
	*out = NULL;
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return 0;
	return col_dup(st, s, i, out);
}

static void
col_copy(sqlite3_stmt *s, int i, char *buf, size_t len)
{
	const unsigned char	*v = sqlite3_column_text(s, i);

	snprintf(buf, len, "%s", v != NULL ? (const char *)v : "");
}

static int
col_is(sqlite3_stmt *s, int i, const char *want)
{
	const unsigned char	*v = sqlite3_column_text(s, i);

	return v != NULL && strcmp((const char *)v, want) == 0;
}

/* --- transactions ----------------------------------------------------- */

static int
exec_stmt(struct store *st, enum stmt_id id)
{
	sqlite3_stmt	*s = stmt_get(st, id);
	int		 rc;

	rc = step(st, s, 0);
	stmt_put(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
tx_begin(struct store *st)
{
	return exec_stmt(st, S_BEGIN);
}

/*
 * Some errors (I/O, full disk, no memory) already rolled the transaction
 * back; ROLLBACK would then fail with a second, misleading message.
 */
static void
tx_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		exec_stmt(st, S_ROLLBACK);
}

static int
tx_commit(struct store *st)
{
	if (exec_stmt(st, S_COMMIT) == 0)
		return 0;
	tx_rollback(st);
	return -1;
}

/* --- open, migrate, close --------------------------------------------- */

static int
exec_sql(struct store *st, const char *what, const char *sql)
{
	char	*err = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	log_error("store: %s: %s: %s", st->path, what,
	    err != NULL ? err : sqlite3_errmsg(st->db));
	sqlite3_free(err);
	return -1;
}

/* Runs a one-row, one-column query such as a PRAGMA. */
static int
query_int(struct store *st, const char *sql, int *out)
{
	sqlite3_stmt	*s = NULL;
	int		 rc, r = -1;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		log_error("store: %s: %s: %s", st->path, sql,
		    sqlite3_errmsg(st->db));
		goto out;
	}
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		log_error("store: %s: %s: %s", st->path, sql,
		    rc == SQLITE_DONE ? "no result" : sqlite3_errmsg(st->db));
		goto out;
	}
	*out = sqlite3_column_int(s, 0);
	r = 0;
out:
	sqlite3_finalize(s);
	return r;
}

int
store_schema_version(struct store *st)
{
	int	 v;

	if (query_int(st, "PRAGMA user_version", &v) != 0)
		return -1;
	return v;
}

/*
 * Migrations run one per transaction, and the version is read again
 * after BEGIN IMMEDIATE: if two processes open a fresh file at once, the
 * second waits for the first and then finds nothing left to do.
 */
static int
store_migrate(struct store *st, const char *path)
{
	char	 sql[64], what[32];
	int	 v, appid, ntables;

	for (;;) {
		if (exec_sql(st, "begin", "BEGIN IMMEDIATE") != 0)
			return -1;
		if ((v = store_schema_version(st)) < 0 ||
		    query_int(st, "PRAGMA application_id", &appid) != 0)
			goto fail;
		if (appid != 0 && appid != STORE_APPLICATION_ID) {
			log_error("store: %s: not a tandem database "
			    "(application_id %d)", path, appid);
			goto fail;
		}
		if (v > NMIGRATIONS) {
			log_error("store: %s: schema version %d is newer than "
			    "this tandemd knows (%d); refusing to open it, "
			    "upgrade tandemd", path, v, NMIGRATIONS);
			goto fail;
		}
		if (v == NMIGRATIONS)
			break;
		if (v == 0) {
			/* Never add our tables to someone else's database. */
			if (query_int(st, "SELECT count(*) FROM sqlite_schema",
			    &ntables) != 0)
				goto fail;
			if (ntables != 0) {
				log_error("store: %s: not a tandem database "
				    "(version 0 but %d schema objects)", path,
				    ntables);
				goto fail;
			}
		}
		log_info("store: %s: migrating schema from version %d to %d",
		    path, v, v + 1);
		snprintf(what, sizeof what, "migration %d", v + 1);
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
		if (exec_sql(st, what, migrations[v]) != 0 ||
		    exec_sql(st, what, sql) != 0 ||
		    exec_sql(st, "commit", "COMMIT") != 0)
			goto fail;
	}
	return exec_sql(st, "commit", "COMMIT");

fail:
	if (!sqlite3_get_autocommit(st->db))
		exec_sql(st, "rollback", "ROLLBACK");
	return -1;
}

/*
 * The file holds password hashes and key bindings, so it is created
 * 0600 before SQLite sees it; SQLite gives its -wal and -shm files the
 * mode of the database.  An existing file others can read is tightened.
 */
static int
store_prepare_file(const char *path)
{
	struct stat	 sb;
	int		 fd, created = 1, r = -1;

	if (*path == '\0' || strcmp(path, ":memory:") == 0)
		return 0;
	fd = open(path, O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC|O_NOCTTY, 0600);
	if (fd == -1 && errno == EEXIST) {
		created = 0;
		fd = open(path, O_RDWR|O_CLOEXEC|O_NOCTTY);
	}
	if (fd == -1) {
		log_error("store: %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		log_error("store: %s: fstat: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		log_error("store: %s: not a regular file", path);
		goto out;
	}
	if (created && (sb.st_mode & 07777) != 0600) {
		/* The umask may have taken the owner's bits too. */
		if (fchmod(fd, 0600) == -1) {
			log_error("store: %s: chmod: %s", path,
			    strerror(errno));
			goto out;
		}
	} else if (!created && (sb.st_mode & 077) != 0) {
		log_warn("store: %s: mode %04o lets others read it; "
		    "setting %04o", path, (unsigned)(sb.st_mode & 07777),
		    (unsigned)(sb.st_mode & 0700));
		if (fchmod(fd, sb.st_mode & 0700) == -1) {
			log_error("store: %s: chmod: %s", path,
			    strerror(errno));
			goto out;
		}
	}
	r = 0;
out:
	close(fd);
	return r;
}

static int
store_pragmas(struct store *st, const char *path)
{
	sqlite3_stmt		*s = NULL;
	const unsigned char	*mode;
	int			 rc, r = -1;

	if (exec_sql(st, "foreign_keys", "PRAGMA foreign_keys = ON") != 0 ||
	    exec_sql(st, "synchronous", "PRAGMA synchronous = NORMAL") != 0)
		return -1;

	/* The pragma answers with the mode it got, which may not be WAL. */
	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s,
	    NULL) != SQLITE_OK) {
		log_error("store: %s: journal_mode: %s", path,
		    sqlite3_errmsg(st->db));
		goto out;
	}
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		log_error("store: %s: journal_mode: %s", path,
		    rc == SQLITE_DONE ? "no result" : sqlite3_errmsg(st->db));
		goto out;
	}
	/*
	 * Some file systems cannot share memory for the WAL index; the
	 * store still works (and keeps commits) in rollback mode, so say
	 * so instead of refusing to start.  In-memory databases never
	 * use WAL.
	 */
	mode = sqlite3_column_text(s, 0);
	if (mode == NULL || (strcmp((const char *)mode, "wal") != 0 &&
	    strcmp((const char *)mode, "memory") != 0))
		log_warn("store: %s: journal mode is %s, not wal", path,
		    mode != NULL ? (const char *)mode : "unknown");
	r = 0;
out:
	sqlite3_finalize(s);
	return r;
}

int
store_open(const char *path, struct store **stp)
{
	struct store	*st = NULL;
	int		 rc, r = -1;
	size_t		 i;

	*stp = NULL;
	if (store_prepare_file(path) != 0)
		return -1;
	if ((st = calloc(1, sizeof *st)) == NULL ||
	    (st->path = strdup(path)) == NULL) {
		log_error("store: out of memory");
		free(st);
		return -1;
	}
	rc = sqlite3_open_v2(path, &st->db,
	    SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		log_error("store: %s: %s", path, st->db != NULL ?
		    sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT);

	if (store_pragmas(st, path) != 0 || store_migrate(st, path) != 0)
		goto out;

	for (i = 0; i < S__COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_table[i].sql, -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) !=
		    SQLITE_OK) {
			log_error("store: prepare %s: %s", stmt_table[i].name,
			    sqlite3_errmsg(st->db));
			goto out;
		}
	}
	*stp = st;
	st = NULL;
	r = 0;
out:
	store_close(st);
	return r;
}

void
store_close(struct store *st)
{
	size_t	 i;

	if (st == NULL)
		return;
	for (i = 0; i < S__COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		log_error("store: %s: close: %s", st->path,
		    sqlite3_errmsg(st->db));
	free(st->path);
	free(st);
}

/* --- users ------------------------------------------------------------ */

static void
user_from_row(sqlite3_stmt *s, struct store_user *u)
{
	memset(u, 0, sizeof *u);
	u->id = sqlite3_column_int64(s, 0);
	col_copy(s, 1, u->name, sizeof u->name);
	u->admin = col_is(s, 2, "admin");
	u->created_at = sqlite3_column_int64(s, 3);
	u->nkeys = sqlite3_column_int(s, 4);
}

static int
user_lookup(struct store *st, enum stmt_id id, const char *name,
    int64_t uid, struct store_user *u)
{
	sqlite3_stmt	*s = stmt_get(st, id);
	int		 rc, r = -1;

	if ((name != NULL ? bind_text(st, s, 1, name) :
	    bind_int64(st, s, 1, uid)) != 0)
		goto out;
	rc = step(st, s, 0);
	if (rc == SQLITE_DONE)
		r = STORE_NOTFOUND;
	else if (rc == SQLITE_ROW) {
		user_from_row(s, u);
		r = 0;
	}
out:
	stmt_put(s);
	return r;
}

int
store_user_get(struct store *st, const char *name, struct store_user *u)
{
	if (name == NULL)
		return STORE_NOTFOUND;
	return user_lookup(st, S_USER_BY_NAME, name, 0, u);
}

int
store_user_get_id(struct store *st, int64_t id, struct store_user *u)
{
	return user_lookup(st, S_USER_BY_ID, NULL, id, u);
}

static int
user_name_check(const char *name)
{
	if (user_name_valid(name))
		return 0;
	log_warn("store: invalid user name \"%s\"", nz(name));
	return -1;
}

static int
user_insert(struct store *st, const char *name, int admin, int64_t now,
    int64_t *idp)
{
	sqlite3_stmt	*s = stmt_get(st, S_USER_INSERT);
	int		 rc, r = -1;

	if (bind_text(st, s, 1, name) != 0 ||
	    bind_text(st, s, 2, admin ? "admin" : "user") != 0 ||
	    bind_int64(st, s, 3, now) != 0)
		goto out;
	rc = step(st, s, 1);
	if (RC_UNIQUE(rc))
		r = STORE_EXISTS;
	else if (rc == SQLITE_DONE) {
		if (idp != NULL)
			*idp = sqlite3_last_insert_rowid(st->db);
		r = 0;
	} else if (RC_FKEY(rc))
		log_error("store: user_insert: %s", sqlite3_errmsg(st->db));
out:
	stmt_put(s);
	return r;
}

int
store_user_add(struct store *st, const char *name, int admin, int64_t *idp)
{
	if (user_name_check(name) != 0)
		return -1;
	return user_insert(st, name, admin, time_now(), idp);
}

int
store_user_del(struct store *st, const char *name)
{
	sqlite3_stmt	*s = stmt_get(st, S_USER_DELETE);
	int		 r = -1;

	if (name == NULL)
		return STORE_NOTFOUND;
	if (bind_text(st, s, 1, name) != 0)
		goto out;
	if (step(st, s, 0) != SQLITE_DONE)
		goto out;
	r = sqlite3_changes(st->db) == 0 ? STORE_NOTFOUND : 0;
out:
	stmt_put(s);
	return r;
}

int
store_user_list(struct store *st, struct store_user **arrp, size_t *np)
{
	sqlite3_stmt		*s = stmt_get(st, S_USER_LIST);
	struct store_user	*arr = NULL, *na;
	size_t			 n = 0, cap = 0;
	int			 rc, r = -1;

	*arrp = NULL;
	*np = 0;
	while ((rc = step(st, s, 0)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((na = reallocarray(arr, cap, sizeof *arr)) ==
			    NULL) {
				log_error("store: out of memory");
				goto out;
			}
			arr = na;
		}
		user_from_row(s, &arr[n++]);
	}
	if (rc != SQLITE_DONE)
		goto out;
	*arrp = arr;
	*np = n;
	arr = NULL;
	r = 0;
out:
	stmt_put(s);
	free(arr);
	return r;
}

/* Shared by the single-row UPDATEs keyed by one integer or text id. */
static int
update_changes(struct store *st, sqlite3_stmt *s)
{
	if (step(st, s, 0) != SQLITE_DONE)
		return -1;
	return sqlite3_changes(st->db) == 0 ? STORE_NOTFOUND : 0;
}

int
store_user_set_admin(struct store *st, int64_t id, int admin)
{
	sqlite3_stmt	*s = stmt_get(st, S_USER_SET_ROLE);
	int		 r = -1;

	if (bind_int64(st, s, 1, id) == 0 &&
	    bind_text(st, s, 2, admin ? "admin" : "user") == 0)
		r = update_changes(st, s);
	stmt_put(s);
	return r;
}

int
store_user_set_password(struct store *st, int64_t id, const char *hash)
{
	sqlite3_stmt	*s = stmt_get(st, S_USER_SET_PASSWORD);
	int		 r = -1;

	if (bind_int64(st, s, 1, id) == 0 && bind_text(st, s, 2, hash) == 0)
		r = update_changes(st, s);
	stmt_put(s);
	return r;
}

int
store_user_get_password(struct store *st, int64_t id, char **hashp)
{
	sqlite3_stmt	*s = stmt_get(st, S_USER_GET_PASSWORD);
	int		 rc, r = -1;

	*hashp = NULL;
	if (bind_int64(st, s, 1, id) != 0)
		goto out;
	rc = step(st, s, 0);
	if (rc == SQLITE_DONE ||
	    (rc == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_NULL))
		r = STORE_NOTFOUND;
	else if (rc == SQLITE_ROW)
		r = col_dup(st, s, 0, hashp);
out:
	stmt_put(s);
	return r;
}

/* --- keys ------------------------------------------------------------- */

static int
key_check(const struct store_key *key)
{
	if (key == NULL || key->type == NULL || *key->type == '\0' ||
	    key->blob == NULL || *key->blob == '\0' ||
	    key->fingerprint == NULL || *key->fingerprint == '\0') {
		log_warn("store: key without type, blob or fingerprint");
		return -1;
	}
	return 0;
}

static int
key_insert(struct store *st, int64_t user_id, const struct store_key *key,
    int64_t now)
{
	sqlite3_stmt	*s = stmt_get(st, S_KEY_INSERT);
	int		 rc, r = -1;

	if (bind_int64(st, s, 1, user_id) != 0 ||
	    bind_text(st, s, 2, key->type) != 0 ||
	    bind_text(st, s, 3, key->blob) != 0 ||
	    bind_text(st, s, 4, key->fingerprint) != 0 ||
	    bind_text(st, s, 5, nz(key->comment)) != 0 ||
	    bind_int64(st, s, 6, key->created_at != 0 ?
	    key->created_at : now) != 0)
		goto out;
	rc = step(st, s, 1);
	if (RC_UNIQUE(rc))
		r = STORE_EXISTS;
	else if (RC_FKEY(rc))
		r = STORE_NOTFOUND;
	else if (rc == SQLITE_DONE)
		r = 0;
out:
	stmt_put(s);
	return r;
}

int
store_key_add(struct store *st, int64_t user_id, const struct store_key *key)
{
	if (key_check(key) != 0)
		return -1;
	return key_insert(st, user_id, key, time_now());
}

int
store_key_find(struct store *st, int64_t user_id, const char *type,
    const char *blob)
{
	sqlite3_stmt	*s = stmt_get(st, S_KEY_FIND);
	int		 rc, r = -1;

	if (type == NULL || blob == NULL)
		return STORE_NOTFOUND;
	if (bind_int64(st, s, 1, user_id) != 0 ||
	    bind_text(st, s, 2, type) != 0 ||
	    bind_text(st, s, 3, blob) != 0)
		goto out;
	rc = step(st, s, 0);
	if (rc == SQLITE_ROW)
		r = 0;
	else if (rc == SQLITE_DONE)
		r = STORE_NOTFOUND;
out:
	stmt_put(s);
	return r;
}

int
store_key_owner(struct store *st, const char *type, const char *blob,
    int64_t *user_idp)
{
	sqlite3_stmt	*s = stmt_get(st, S_KEY_OWNER);
	int		 rc, r = -1;

	if (type == NULL || blob == NULL)
		return STORE_NOTFOUND;
	if (bind_text(st, s, 1, type) != 0 || bind_text(st, s, 2, blob) != 0)
		goto out;
	rc = step(st, s, 0);
	if (rc == SQLITE_ROW) {
		if (user_idp != NULL)
			*user_idp = sqlite3_column_int64(s, 0);
		r = 0;
	} else if (rc == SQLITE_DONE)
		r = STORE_NOTFOUND;
out:
	stmt_put(s);
	return r;
}

int
store_key_del(struct store *st, int64_t user_id, int64_t key_id)
{
	sqlite3_stmt	*s = stmt_get(st, S_KEY_DELETE);
	int		 r = -1;

	if (bind_int64(st, s, 1, user_id) == 0 &&
	    bind_int64(st, s, 2, key_id) == 0)
		r = update_changes(st, s);
	stmt_put(s);
	return r;
}

void
store_key_clear(struct store_key *k)
{
	free(k->type);
	free(k->blob);
	free(k->fingerprint);
	free(k->comment);
	memset(k, 0, sizeof *k);
}

void
store_key_list_free(struct store_key *arr, size_t n)
{
	size_t	 i;

	if (arr == NULL)
		return;
	for (i = 0; i < n; i++)
		store_key_clear(&arr[i]);
	free(arr);
}

int
store_key_list(struct store *st, int64_t user_id, struct store_key **arrp,
    size_t *np)
{
	sqlite3_stmt		*s = stmt_get(st, S_KEY_LIST);
	struct store_key	*arr = NULL, *na, *k;
	size_t			 n = 0, cap = 0;
	int			 rc, r = -1;

	*arrp = NULL;
	*np = 0;
	if (bind_int64(st, s, 1, user_id) != 0)
		goto out;
	while ((rc = step(st, s, 0)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			if ((na = reallocarray(arr, cap, sizeof *arr)) ==
			    NULL) {
				log_error("store: out of memory");
				goto out;
			}
			arr = na;
		}
		k = &arr[n++];
		memset(k, 0, sizeof *k);
		k->id = sqlite3_column_int64(s, 0);
		k->user_id = sqlite3_column_int64(s, 1);
		k->created_at = sqlite3_column_int64(s, 6);
		if (col_dup(st, s, 2, &k->type) != 0 ||
		    col_dup(st, s, 3, &k->blob) != 0 ||
		    col_dup(st, s, 4, &k->fingerprint) != 0 ||
		    col_dup(st, s, 5, &k->comment) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		goto out;
	*arrp = arr;
	*np = n;
	arr = NULL;
	r = 0;
out:
	stmt_put(s);
	store_key_list_free(arr, n);
	return r;
}

/*
 * First-key enrolment.  Both checks and both inserts share one write
 * transaction, so two connections racing for the same name or the same
 * key cannot both win, and a refusal leaves nothing behind.
 */
int
store_user_enroll(struct store *st, const char *name,
    const struct store_key *key, int64_t *idp)
{
	struct store_user	 u;
	int64_t			 id, now = time_now();
	int			 r;

	if (idp != NULL)
		*idp = 0;
	if (user_name_check(name) != 0 || key_check(key) != 0)
		return -1;
	if (tx_begin(st) != 0)
		return -1;

	if ((r = user_lookup(st, S_USER_BY_NAME, name, 0, &u)) == 0) {
		/* Tell the caller whom to check the key against. */
		if (idp != NULL)
			*idp = u.id;
		r = STORE_EXISTS;
		goto out;
	}
	if (r != STORE_NOTFOUND)
		goto out;
	if ((r = store_key_owner(st, key->type, key->blob, NULL)) == 0) {
		log_info("store: enrolment of \"%s\" refused: key %s is bound "
		    "to another user", name, key->fingerprint);
		r = STORE_EXISTS;
		goto out;
	}
	if (r != STORE_NOTFOUND)
		goto out;
	if ((r = user_insert(st, name, 0, now, &id)) != 0 ||
	    (r = key_insert(st, id, key, now)) != 0)
		goto out;
	if ((r = tx_commit(st)) != 0)
		return r;
	if (idp != NULL)
		*idp = id;
	return 0;
out:
	tx_rollback(st);
	return r;
}

/* --- sessions --------------------------------------------------------- */

static int	 shares_end(struct store *, const char *, int64_t, int *);

static int
event_insert(struct store *st, const char *id, int64_t at,
    enum session_state state, const char *detail)
{
	sqlite3_stmt	*s = stmt_get(st, S_EVENT_INSERT);
	int		 r = -1;

	if (bind_text(st, s, 1, id) == 0 &&
	    bind_int64(st, s, 2, at) == 0 &&
	    bind_text(st, s, 3, session_state_name(state)) == 0 &&
	    bind_text(st, s, 4, nz(detail)) == 0 &&
	    step(st, s, 0) == SQLITE_DONE)
		r = 0;
	stmt_put(s);
	return r;
}

static int
session_id_check(const char *id)
{
	if (uuid_valid(id))
		return 0;
	log_warn("store: invalid session id \"%s\"", nz(id));
	return -1;
}

/* The SSH protocol allows any uint32; a terminal never needs that much. */
static int
session_size_check(int cols, int rows)
{
	if (cols >= 1 && cols <= 65535 && rows >= 1 && rows <= 65535)
		return 0;
	log_warn("store: invalid session size %dx%d", cols, rows);
	return -1;
}

int
store_session_insert(struct store *st, const struct store_session *ss)
{
	sqlite3_stmt	*s = stmt_get(st, S_SESSION_INSERT);
	int		 rc, r = -1, term;

	if (session_id_check(ss->id) != 0 ||
	    session_size_check(ss->cols, ss->rows) != 0)
		return -1;
	if ((unsigned)ss->state > SESSION_TERMINATED) {
		log_warn("store: invalid session state %d", (int)ss->state);
		return -1;
	}
	term = ss->state == SESSION_TERMINATED;
	if (tx_begin(st) != 0)
		return -1;
	if (bind_text(st, s, 1, ss->id) != 0 ||
	    bind_int64(st, s, 2, ss->user_id) != 0 ||
	    bind_text(st, s, 3, nz(ss->name)) != 0 ||
	    bind_text(st, s, 4, session_state_name(ss->state)) != 0 ||
	    bind_int64(st, s, 5, ss->started_at) != 0 ||
	    bind_int64_or_null(st, s, 6, ss->ended_at,
	    !term || ss->ended_at == 0) != 0 ||
	    bind_int64(st, s, 7, ss->cols) != 0 ||
	    bind_int64(st, s, 8, ss->rows) != 0 ||
	    bind_text(st, s, 9, nz(ss->client_address)) != 0 ||
	    bind_text(st, s, 10, nz(ss->auth_method)) != 0 ||
	    bind_text(st, s, 11, nz(ss->command)) != 0 ||
	    bind_int64_or_null(st, s, 12, ss->exit_status,
	    !term || ss->exit_status < 0) != 0)
		goto out;
	rc = step(st, s, 1);
	if (RC_UNIQUE(rc))
		r = STORE_EXISTS;
	else if (RC_FKEY(rc))
		r = STORE_NOTFOUND;
	if (rc != SQLITE_DONE)
		goto out;
	stmt_put(s);
	s = NULL;
	if (event_insert(st, ss->id, ss->started_at, ss->state, "started") != 0)
		goto out;
	r = tx_commit(st);
	return r;
out:
	stmt_put(s);
	tx_rollback(st);
	return r;
}

/*
 * A terminated session is final: its process is gone, so no later call
 * may bring it back.  Setting the state a session already has changes
 * nothing and records no event, which makes repeated notifications
 * (a kill followed by the child's exit) harmless.
 */
int
store_session_set_state(struct store *st, const char *id,
    enum session_state state, int64_t at, int exit_status)
{
	sqlite3_stmt		*s = NULL;
	enum session_state	 cur;
	char			 detail[32] = "";
	int			 rc, r = -1, term;

	if ((unsigned)state > SESSION_TERMINATED) {
		log_warn("store: invalid session state %d", (int)state);
		return -1;
	}
	if (id == NULL)
		return STORE_NOTFOUND;
	term = state == SESSION_TERMINATED;
	if (tx_begin(st) != 0)
		return -1;

	s = stmt_get(st, S_SESSION_STATE);
	if (bind_text(st, s, 1, id) != 0)
		goto out;
	if ((rc = step(st, s, 0)) == SQLITE_DONE) {
		r = STORE_NOTFOUND;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto out;
	if (session_state_parse((const char *)sqlite3_column_text(s, 0),
	    &cur) != 0) {
		log_error("store: session %s has a bad state", id);
		goto out;
	}
	stmt_put(s);
	s = NULL;
	if (cur == state) {
		r = 0;
		goto out;
	}
	if (cur == SESSION_TERMINATED) {
		log_warn("store: session %s is terminated, cannot become %s",
		    id, session_state_name(state));
		goto out;
	}

	s = stmt_get(st, S_SESSION_SET_STATE);
	if (bind_text(st, s, 1, id) != 0 ||
	    bind_text(st, s, 2, session_state_name(state)) != 0 ||
	    bind_int64_or_null(st, s, 3, at, !term) != 0 ||
	    bind_int64_or_null(st, s, 4, exit_status,
	    !term || exit_status < 0) != 0 ||
	    step(st, s, 0) != SQLITE_DONE)
		goto out;
	stmt_put(s);
	s = NULL;
	if (term && exit_status >= 0)
		snprintf(detail, sizeof detail, "exit status %d", exit_status);
	if (event_insert(st, id, at, state, detail) != 0)
		goto out;
	if (term && shares_end(st, id, at, NULL) != 0)
		goto out;
	return tx_commit(st);
out:
	stmt_put(s);
	tx_rollback(st);
	return r;
}

int
store_session_set_size(struct store *st, const char *id, int cols, int rows)
{
	sqlite3_stmt	*s = stmt_get(st, S_SESSION_SET_SIZE);
	int		 r = -1;

	if (session_size_check(cols, rows) != 0)
		return -1;
	if (bind_text(st, s, 1, nz(id)) == 0 &&
	    bind_int64(st, s, 2, cols) == 0 &&
	    bind_int64(st, s, 3, rows) == 0)
		r = update_changes(st, s);
	stmt_put(s);
	return r;
}

int
store_session_set_client(struct store *st, const char *id,
    const char *client_address, const char *auth_method)
{
	sqlite3_stmt	*s = stmt_get(st, S_SESSION_SET_CLIENT);
	int		 r = -1;

	if (bind_text(st, s, 1, nz(id)) == 0 &&
	    bind_text(st, s, 2, nz(client_address)) == 0 &&
	    bind_text(st, s, 3, nz(auth_method)) == 0)
		r = update_changes(st, s);
	stmt_put(s);
	return r;
}

int
store_session_rename(struct store *st, const char *id, const char *name)
{
	sqlite3_stmt	*s = stmt_get(st, S_SESSION_RENAME);
	int		 r = -1;

	if (bind_text(st, s, 1, nz(id)) == 0 &&
	    bind_text(st, s, 2, nz(name)) == 0)
		r = update_changes(st, s);
	stmt_put(s);
	return r;
}

void
store_session_clear(struct store_session *ss)
{
	if (ss == NULL)
		return;
	free(ss->name);
	free(ss->client_address);
	free(ss->auth_method);
	free(ss->command);
	memset(ss, 0, sizeof *ss);
	ss->exit_status = -1;
}

void
store_session_list_free(struct store_session *arr, size_t n)
{
	size_t	 i;

	if (arr == NULL)
		return;
	for (i = 0; i < n; i++)
		store_session_clear(&arr[i]);
	free(arr);
}

/* Fills ss from a SESSION_COLUMNS row; on failure ss holds nothing. */
static int
session_from_row(struct store *st, sqlite3_stmt *s, struct store_session *ss)
{
	memset(ss, 0, sizeof *ss);
	col_copy(s, 0, ss->id, sizeof ss->id);
	ss->user_id = sqlite3_column_int64(s, 1);
	col_copy(s, 2, ss->user_name, sizeof ss->user_name);
	if (session_state_parse((const char *)sqlite3_column_text(s, 4),
	    &ss->state) != 0) {
		log_error("store: session %s has a bad state", ss->id);
		goto fail;
	}
	ss->started_at = sqlite3_column_int64(s, 5);
	ss->ended_at = sqlite3_column_int64(s, 6);	/* NULL reads 0 */
	ss->cols = sqlite3_column_int(s, 7);
	ss->rows = sqlite3_column_int(s, 8);
	ss->exit_status = sqlite3_column_type(s, 12) == SQLITE_NULL ? -1 :
	    sqlite3_column_int(s, 12);
	if (col_dup(st, s, 3, &ss->name) != 0 ||
	    col_dup(st, s, 9, &ss->client_address) != 0 ||
	    col_dup(st, s, 10, &ss->auth_method) != 0 ||
	    col_dup(st, s, 11, &ss->command) != 0)
		goto fail;
	return 0;
fail:
	store_session_clear(ss);
	return -1;
}

int
store_session_get(struct store *st, const char *id, struct store_session *ss)
{
	sqlite3_stmt	*s = stmt_get(st, S_SESSION_GET);
	int		 rc, r = -1;

	memset(ss, 0, sizeof *ss);
	ss->exit_status = -1;
	if (id == NULL)
		return STORE_NOTFOUND;
	if (bind_text(st, s, 1, id) != 0)
		goto out;
	rc = step(st, s, 0);
	if (rc == SQLITE_DONE)
		r = STORE_NOTFOUND;
	else if (rc == SQLITE_ROW)
		r = session_from_row(st, s, ss);
out:
	stmt_put(s);
	return r;
}

int
store_session_list(struct store *st, int64_t user_id, int include_terminated,
    struct store_session **arrp, size_t *np)
{
	sqlite3_stmt		*s;
	struct store_session	*arr = NULL, *na;
	size_t			 n = 0, cap = 0;
	int			 rc, r = -1;

	*arrp = NULL;
	*np = 0;
	s = stmt_get(st, user_id != 0 ? S_SESSION_LIST_USER :
	    S_SESSION_LIST_ALL);
	if (bind_int64(st, s, 1, include_terminated != 0) != 0 ||
	    (user_id != 0 && bind_int64(st, s, 2, user_id) != 0))
		goto out;
	while ((rc = step(st, s, 0)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((na = reallocarray(arr, cap, sizeof *arr)) ==
			    NULL) {
				log_error("store: out of memory");
				goto out;
			}
			arr = na;
		}
		if (session_from_row(st, s, &arr[n]) != 0)
			goto out;
		n++;
	}
	if (rc != SQLITE_DONE)
		goto out;
	*arrp = arr;
	*np = n;
	arr = NULL;
	r = 0;
out:
	stmt_put(s);
	store_session_list_free(arr, n);
	return r;
}

/*
 * At start-up no session process from an earlier run can still be ours
 * (the PTYs died with the daemon), so every live row is closed.
 */
int
store_session_reap(struct store *st, int64_t at, int *countp)
{
	sqlite3_stmt	*s = NULL;
	int		 r = -1;

	if (countp != NULL)
		*countp = 0;
	if (tx_begin(st) != 0)
		return -1;
	s = stmt_get(st, S_SESSION_REAP_EVENTS);
	if (bind_int64(st, s, 1, at) != 0 || step(st, s, 0) != SQLITE_DONE)
		goto out;
	stmt_put(s);
	/* Before the sessions change, while they still read as live. */
	s = stmt_get(st, S_SHARE_END_LIVE);
	if (bind_int64(st, s, 1, at) != 0 || step(st, s, 0) != SQLITE_DONE)
		goto out;
	stmt_put(s);
	s = stmt_get(st, S_SESSION_REAP);
	if (bind_int64(st, s, 1, at) != 0 || step(st, s, 0) != SQLITE_DONE)
		goto out;
	stmt_put(s);
	s = NULL;
	if (countp != NULL)
		*countp = sqlite3_changes(st->db);
	if ((r = tx_commit(st)) != 0 && countp != NULL)
		*countp = 0;
	return r;
out:
	stmt_put(s);
	tx_rollback(st);
	return r;
}

/*
 * Handoff.  Only a live session changes hands; its shares, history and
 * audit events stay with the session, so the new owner sees them all.
 */
int
store_session_set_owner(struct store *st, const char *id, int64_t user_id)
{
	sqlite3_stmt	*s = stmt_get(st, S_SESSION_SET_OWNER);
	int		 rc, r = -1;

	if (id == NULL)
		return STORE_NOTFOUND;
	if (bind_text(st, s, 1, id) != 0 || bind_int64(st, s, 2, user_id) != 0)
		goto out;
	rc = step(st, s, 1);
	if (RC_FKEY(rc))
		r = STORE_NOTFOUND;
	else if (rc == SQLITE_DONE)
		r = sqlite3_changes(st->db) == 0 ? STORE_NOTFOUND : 0;
out:
	stmt_put(s);
	return r;
}

/* --- shares ----------------------------------------------------------- */

static int
share_id_check(const char *id)
{
	size_t	 i;

	for (i = 0; id != NULL && i < SHARE_ID_LEN; i++) {
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= '0' && id[i] <= '9')))
			break;
	}
	if (id != NULL && i == SHARE_ID_LEN && id[i] == '\0')
		return 0;
	log_warn("store: invalid share id \"%.16s\"", nz(id));
	return -1;
}

/* The rules the table's CHECKs enforce, with a message instead. */
static int
share_check(const struct store_share *sh)
{
	const char	*why = NULL;

	if (sh == NULL)
		why = "no share";
	else if (share_id_check(sh->id) != 0 ||
	    session_id_check(sh->session_id) != 0)
		return -1;
	else if ((unsigned)sh->kind > SHARE_CLAIM)
		why = "invalid kind";
	else if ((unsigned)sh->perm > SHARE_READ_WRITE)
		why = "invalid permission";
	else if (sh->kind == SHARE_USER &&
	    (sh->has_token || sh->target_user_id <= 0))
		why = "a user share needs a target user and no token";
	else if (sh->kind != SHARE_USER &&
	    (!sh->has_token || sh->target_user_id != 0))
		why = "a link or claim share needs a token and no target";
	else if (sh->created_by <= 0)
		why = "no creator";
	else if (sh->expires_at <= 0)
		why = "no expiry";
	else if (sh->max_viewers < 0)
		why = "negative viewer limit";
	if (why == NULL)
		return 0;
	log_warn("store: share %s: %s", sh != NULL ? sh->id : "-", why);
	return -1;
}

int
store_share_insert(struct store *st, const struct store_share *sh)
{
	sqlite3_stmt	*s = stmt_get(st, S_SHARE_INSERT);
	int		 rc, r = -1;

	if (share_check(sh) != 0)
		return -1;
	if (bind_text(st, s, 1, sh->id) != 0 ||
	    bind_text(st, s, 2, sh->session_id) != 0 ||
	    bind_text(st, s, 3, share_kind_name(sh->kind)) != 0 ||
	    bind_text(st, s, 4, share_perm_name(sh->perm)) != 0 ||
	    bind_blob(st, s, 5, sh->has_token ? sh->token_hash : NULL,
	    SHARE_HASH_LEN) != 0 ||
	    bind_int64_or_null(st, s, 6, sh->target_user_id,
	    sh->target_user_id == 0) != 0 ||
	    bind_int64(st, s, 7, sh->created_by) != 0 ||
	    bind_int64(st, s, 8, sh->created_at != 0 ? sh->created_at :
	    time_now()) != 0 ||
	    bind_int64(st, s, 9, sh->expires_at) != 0 ||
	    bind_int64(st, s, 10, sh->max_viewers) != 0 ||
	    bind_int64(st, s, 11, sh->require_auth != 0) != 0 ||
	    bind_text(st, s, 12, sh->password_hash) != 0 ||
	    bind_text(st, s, 13, nz(sh->label)) != 0 ||
	    bind_text(st, s, 14, sh->authorized_keys) != 0)
		goto out;
	rc = step(st, s, 1);
	if (RC_UNIQUE(rc))
		r = STORE_EXISTS;
	else if (RC_FKEY(rc))
		r = STORE_NOTFOUND;
	else if (rc == SQLITE_DONE)	/* no row: no such live session */
		r = sqlite3_changes(st->db) == 0 ? STORE_NOTFOUND : 0;
out:
	stmt_put(s);
	return r;
}

void
store_share_clear(struct store_share *sh)
{
	if (sh == NULL)
		return;
	free(sh->password_hash);
	free(sh->label);
	free(sh->authorized_keys);
	memset(sh, 0, sizeof *sh);
}

void
store_share_list_free(struct store_share *arr, size_t n)
{
	size_t	 i;

	if (arr == NULL)
		return;
	for (i = 0; i < n; i++)
		store_share_clear(&arr[i]);
	free(arr);
}

/* Fills sh from a SHARE_COLUMNS row; on failure sh holds nothing. */
static int
share_from_row(struct store *st, sqlite3_stmt *s, struct store_share *sh)
{
	const void	*blob;

	memset(sh, 0, sizeof *sh);
	col_copy(s, 0, sh->id, sizeof sh->id);
	col_copy(s, 1, sh->session_id, sizeof sh->session_id);
	if (share_kind_parse((const char *)sqlite3_column_text(s, 2),
	    &sh->kind) != 0 ||
	    share_perm_parse((const char *)sqlite3_column_text(s, 3),
	    &sh->perm) != 0 ||
	    share_state_parse((const char *)sqlite3_column_text(s, 16),
	    &sh->state) != 0) {
		log_error("store: share %s has a bad kind, permission or "
		    "state", sh->id);
		goto fail;
	}
	if (sqlite3_column_type(s, 4) == SQLITE_BLOB) {
		blob = sqlite3_column_blob(s, 4);
		if (blob == NULL ||
		    sqlite3_column_bytes(s, 4) != SHARE_HASH_LEN) {
			log_error("store: share %s has a bad token hash",
			    sh->id);
			goto fail;
		}
		memcpy(sh->token_hash, blob, SHARE_HASH_LEN);
		sh->has_token = 1;
	}
	sh->target_user_id = sqlite3_column_int64(s, 5);	/* NULL: 0 */
	col_copy(s, 6, sh->target_user, sizeof sh->target_user);
	sh->created_by = sqlite3_column_int64(s, 7);
	col_copy(s, 8, sh->created_by_name, sizeof sh->created_by_name);
	sh->created_at = sqlite3_column_int64(s, 9);
	sh->expires_at = sqlite3_column_int64(s, 10);
	sh->max_viewers = sqlite3_column_int(s, 11);
	sh->require_auth = sqlite3_column_int(s, 12) != 0;
	sh->state_at = sqlite3_column_int64(s, 17);
	sh->revoked_by = sqlite3_column_int64(s, 18);
	col_copy(s, 19, sh->revoked_by_name, sizeof sh->revoked_by_name);
	sh->claimed_at = sqlite3_column_int64(s, 20);
	col_copy(s, 21, sh->owner_name, sizeof sh->owner_name);
	sh->owner_id = sqlite3_column_int64(s, 22);
	if (col_dup_or_null(st, s, 13, &sh->password_hash) != 0 ||
	    col_dup(st, s, 14, &sh->label) != 0 ||
	    col_dup_or_null(st, s, 15, &sh->authorized_keys) != 0)
		goto fail;
	return 0;
fail:
	store_share_clear(sh);
	return -1;
}

/* One share by a key the caller has bound to ?1. */
static int
share_lookup(struct store *st, sqlite3_stmt *s, struct store_share *sh)
{
	int	 rc, r = -1;

	rc = step(st, s, 0);
	if (rc == SQLITE_DONE)
		r = STORE_NOTFOUND;
	else if (rc == SQLITE_ROW)
		r = share_from_row(st, s, sh);
	stmt_put(s);
	return r;
}

int
store_share_get(struct store *st, const char *id, struct store_share *sh)
{
	sqlite3_stmt	*s = stmt_get(st, S_SHARE_GET);

	memset(sh, 0, sizeof *sh);
	if (id == NULL)
		return STORE_NOTFOUND;
	if (bind_text(st, s, 1, id) != 0) {
		stmt_put(s);
		return -1;
	}
	return share_lookup(st, s, sh);
}

int
store_share_find_token(struct store *st,
    const unsigned char hash[SHARE_HASH_LEN], struct store_share *sh)
{
	sqlite3_stmt	*s = stmt_get(st, S_SHARE_BY_TOKEN);

	memset(sh, 0, sizeof *sh);
	if (hash == NULL)
		return STORE_NOTFOUND;
	if (bind_blob(st, s, 1, hash, SHARE_HASH_LEN) != 0) {
		stmt_put(s);
		return -1;
	}
	return share_lookup(st, s, sh);
}

/* Every row of a bound SHARE_COLUMNS query; the caller puts s back. */
static int
share_rows(struct store *st, sqlite3_stmt *s, struct store_share **arrp,
    size_t *np)
{
	struct store_share	*arr = NULL, *na;
	size_t			 n = 0, cap = 0;
	int			 rc, r = -1;

	while ((rc = step(st, s, 0)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			if ((na = reallocarray(arr, cap, sizeof *arr)) ==
			    NULL) {
				log_error("store: out of memory");
				goto out;
			}
			arr = na;
		}
		if (share_from_row(st, s, &arr[n]) != 0)
			goto out;
		n++;
	}
	if (rc != SQLITE_DONE)
		goto out;
	*arrp = arr;
	*np = n;
	arr = NULL;
	r = 0;
out:
	store_share_list_free(arr, n);
	return r;
}

int
store_share_list(struct store *st, const char *session_id,
    int include_inactive, struct store_share **arrp, size_t *np)
{
	sqlite3_stmt	*s = stmt_get(st, S_SHARE_LIST);
	int		 r = -1;

	*arrp = NULL;
	*np = 0;
	if (bind_text(st, s, 1, nz(session_id)) == 0 &&
	    bind_int64(st, s, 2, include_inactive != 0) == 0)
		r = share_rows(st, s, arrp, np);
	stmt_put(s);
	return r;
}

int
store_shares_for_user(struct store *st, int64_t user_id,
    struct store_share **arrp, size_t *np)
{
	sqlite3_stmt	*s = stmt_get(st, S_SHARE_FOR_USER);
	int		 r = -1;

	*arrp = NULL;
	*np = 0;
	if (bind_int64(st, s, 1, user_id) == 0)
		r = share_rows(st, s, arrp, np);
	stmt_put(s);
	return r;
}

int
store_share_set_state(struct store *st, const char *id,
    enum share_state state, int64_t at, int64_t by)
{
	sqlite3_stmt	*s = stmt_get(st, S_SHARE_SET_STATE);
	int		 revoked = state == SHARE_REVOKED, r = -1;

	if (state != SHARE_EXPIRED && state != SHARE_REVOKED &&
	    state != SHARE_ENDED) {
		log_warn("store: share %s cannot become %s", nz(id),
		    share_state_name(state));
		return -1;
	}
	if (id == NULL)
		return STORE_NOTFOUND;
	if (bind_text(st, s, 1, id) == 0 &&
	    bind_text(st, s, 2, share_state_name(state)) == 0 &&
	    bind_int64(st, s, 3, at) == 0 &&
	    bind_int64_or_null(st, s, 4, by, !revoked || by == 0) == 0)
		r = update_changes(st, s);
	stmt_put(s);
	return r;
}

int
store_share_set_expiry(struct store *st, const char *id, int64_t expires_at)
{
	sqlite3_stmt	*s = stmt_get(st, S_SHARE_SET_EXPIRY);
	int		 r = -1;

	if (expires_at <= 0) {
		log_warn("store: share %s: invalid expiry %lld", nz(id),
		    (long long)expires_at);
		return -1;
	}
	if (id == NULL)
		return STORE_NOTFOUND;
	if (bind_text(st, s, 1, id) == 0 &&
	    bind_int64(st, s, 2, expires_at) == 0)
		r = update_changes(st, s);
	stmt_put(s);
	return r;
}

int
store_share_set_label(struct store *st, const char *id, const char *label)
{
	sqlite3_stmt	*s = stmt_get(st, S_SHARE_SET_LABEL);
	int		 r = -1;

	if (id == NULL)
		return STORE_NOTFOUND;
	if (bind_text(st, s, 1, id) == 0 &&
	    bind_text(st, s, 2, nz(label)) == 0)
		r = update_changes(st, s);
	stmt_put(s);
	return r;
}

int
store_share_claim(struct store *st, const char *id, int64_t user_id,
    int64_t at)
{
	sqlite3_stmt	*s = stmt_get(st, S_SHARE_CLAIM);
	int		 rc, r = -1;

	if (id == NULL || user_id <= 0)
		return STORE_NOTFOUND;
	if (bind_text(st, s, 1, id) != 0 ||
	    bind_int64(st, s, 2, user_id) != 0 ||
	    bind_int64(st, s, 3, at) != 0)
		goto out;
	rc = step(st, s, 1);
	if (RC_FKEY(rc))		/* no such user */
		r = STORE_NOTFOUND;
	else if (rc == SQLITE_DONE)
		r = sqlite3_changes(st->db) == 0 ? STORE_NOTFOUND : 0;
out:
	stmt_put(s);
	return r;
}

/* Also runs inside store_session_set_state's transaction. */
static int
shares_end(struct store *st, const char *session_id, int64_t at,
    int *countp)
{
	sqlite3_stmt	*s = stmt_get(st, S_SHARE_END_SESSION);
	int		 r = -1;

	if (bind_text(st, s, 1, nz(session_id)) == 0 &&
	    bind_int64(st, s, 2, at) == 0 &&
	    step(st, s, 0) == SQLITE_DONE) {
		if (countp != NULL)
			*countp = sqlite3_changes(st->db);
		r = 0;
	}
	stmt_put(s);
	return r;
}

int
store_shares_end_session(struct store *st, const char *session_id,
    int64_t at, int *countp)
{
	if (countp != NULL)
		*countp = 0;
	return shares_end(st, session_id, at, countp);
}

/*
 * Selecting and updating under one write lock: the ids returned are
 * exactly the rows changed, so the caller can cut those viewers off.
 * A share counts as expired from its expires_at, which is what
 * state_at records even when the sweep runs late (after a restart).
 */
int
store_shares_expire_due(struct store *st, int64_t now,
    char (**idsp)[SHARE_ID_LEN + 1], size_t *np)
{
	sqlite3_stmt	*s = NULL;
	char		(*ids)[SHARE_ID_LEN + 1] = NULL, (*na)[SHARE_ID_LEN + 1];
	size_t		 n = 0, cap = 0;
	int		 rc, r = -1;

	*idsp = NULL;
	*np = 0;
	if (tx_begin(st) != 0)
		return -1;
	s = stmt_get(st, S_SHARE_DUE);
	if (bind_int64(st, s, 1, now) != 0)
		goto out;
	while ((rc = step(st, s, 0)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			if ((na = reallocarray(ids, cap, sizeof *ids)) ==
			    NULL) {
				log_error("store: out of memory");
				goto out;
			}
			ids = na;
		}
		col_copy(s, 0, ids[n++], sizeof *ids);
	}
	if (rc != SQLITE_DONE)
		goto out;
	stmt_put(s);
	s = NULL;
	if (n > 0) {
		s = stmt_get(st, S_SHARE_EXPIRE);
		if (bind_int64(st, s, 1, now) != 0 ||
		    step(st, s, 0) != SQLITE_DONE)
			goto out;
		stmt_put(s);
		s = NULL;
	}
	if (tx_commit(st) != 0)
		goto out;
	*idsp = ids;
	*np = n;
	return 0;
out:
	stmt_put(s);
	tx_rollback(st);
	free(ids);
	return r;
}

int
store_share_next_expiry(struct store *st, int64_t *atp)
{
	sqlite3_stmt	*s = stmt_get(st, S_SHARE_NEXT_EXPIRY);
	int		 rc, r = -1;

	rc = step(st, s, 0);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(s, 0) == SQLITE_NULL)
			r = STORE_NOTFOUND;
		else {
			*atp = sqlite3_column_int64(s, 0);
			r = 0;
		}
	}
	stmt_put(s);
	return r;
}

/* --- audit ------------------------------------------------------------ */

int
store_audit_add(struct store *st, const struct store_audit *a)
{
	sqlite3_stmt	*s = stmt_get(st, S_AUDIT_INSERT);
	int		 r = -1;

	if (a == NULL || a->action == NULL || *a->action == '\0') {
		log_warn("store: audit event without an action");
		return -1;
	}
	if (bind_int64(st, s, 1, a->at != 0 ? a->at : time_now()) == 0 &&
	    bind_int64_or_null(st, s, 2, a->actor_id, a->actor_id == 0) == 0 &&
	    bind_text(st, s, 3, nz(a->actor_name)) == 0 &&
	    bind_text(st, s, 4, a->action) == 0 &&
	    bind_text(st, s, 5, a->session_id) == 0 &&
	    bind_text(st, s, 6, a->share_id) == 0 &&
	    bind_text(st, s, 7, a->target_user) == 0 &&
	    bind_text(st, s, 8, nz(a->address)) == 0 &&
	    bind_text(st, s, 9, nz(a->detail)) == 0 &&
	    step(st, s, 0) == SQLITE_DONE)
		r = 0;
	stmt_put(s);
	return r;
}

static void
audit_clear(struct store_audit *a)
{
	free(a->actor_name);
	free(a->action);
	free(a->session_id);
	free(a->share_id);
	free(a->target_user);
	free(a->address);
	free(a->detail);
	memset(a, 0, sizeof *a);
}

void
store_audit_list_free(struct store_audit *arr, size_t n)
{
	size_t	 i;

	if (arr == NULL)
		return;
	for (i = 0; i < n; i++)
		audit_clear(&arr[i]);
	free(arr);
}

int
store_audit_list(struct store *st, const struct store_audit_filter *f,
    struct store_audit **arrp, size_t *np)
{
	static const struct store_audit_filter	 all;
	sqlite3_stmt				*s;
	struct store_audit			*arr = NULL, *na, *a;
	size_t					 n = 0, cap = 0, limit;
	int					 rc, r = -1;

	*arrp = NULL;
	*np = 0;
	if (f == NULL)
		f = &all;
	s = stmt_get(st, f->session_id != NULL ? S_AUDIT_LIST_SESSION :
	    S_AUDIT_LIST);
	limit = f->limit == 0 ? AUDIT_LIST_DEFAULT :
	    f->limit > AUDIT_LIST_MAX ? AUDIT_LIST_MAX : f->limit;
	if (bind_int64(st, s, 1, f->owner_id) != 0 ||
	    (f->session_id != NULL &&
	    bind_text(st, s, 2, f->session_id) != 0) ||
	    bind_int64(st, s, 3, f->since) != 0 ||
	    bind_int64(st, s, 4, (int64_t)limit) != 0)
		goto out;
	while ((rc = step(st, s, 0)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 32 : cap * 2;
			if ((na = reallocarray(arr, cap, sizeof *arr)) ==
			    NULL) {
				log_error("store: out of memory");
				goto out;
			}
			arr = na;
		}
		a = &arr[n++];
		memset(a, 0, sizeof *a);
		a->id = sqlite3_column_int64(s, 0);
		a->at = sqlite3_column_int64(s, 1);
		a->actor_id = sqlite3_column_int64(s, 2);	/* NULL: 0 */
		if (col_dup(st, s, 3, &a->actor_name) != 0 ||
		    col_dup(st, s, 4, &a->action) != 0 ||
		    col_dup(st, s, 5, &a->session_id) != 0 ||
		    col_dup(st, s, 6, &a->share_id) != 0 ||
		    col_dup(st, s, 7, &a->target_user) != 0 ||
		    col_dup(st, s, 8, &a->address) != 0 ||
		    col_dup(st, s, 9, &a->detail) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		goto out;
	*arrp = arr;
	*np = n;
	arr = NULL;
	r = 0;
out:
	stmt_put(s);
	store_audit_list_free(arr, n);
	return r;
}

/* --- API tokens ------------------------------------------------------- */

int
store_api_token_add(struct store *st, int64_t user_id,
    const unsigned char hash[API_TOKEN_HASH_LEN], const char *label,
    int64_t *idp)
{
	sqlite3_stmt	*s = stmt_get(st, S_API_TOKEN_INSERT);
	int		 rc, r = -1;

	*idp = 0;
	if (bind_int64(st, s, 1, user_id) != 0 ||
	    bind_blob(st, s, 2, hash, API_TOKEN_HASH_LEN) != 0 ||
	    bind_text(st, s, 3, nz(label)) != 0 ||
	    bind_int64(st, s, 4, time_now()) != 0)
		goto out;
	rc = step(st, s, 1);
	if (rc == SQLITE_DONE) {
		*idp = sqlite3_last_insert_rowid(st->db);
		r = 0;
	} else if (RC_UNIQUE(rc))
		r = STORE_EXISTS;
	else if (RC_FKEY(rc))
		r = STORE_NOTFOUND;
out:
	stmt_put(s);
	return r;
}

static int
api_token_from_row(struct store *st, sqlite3_stmt *s,
    struct store_api_token *t)
{
	const void	*h;

	memset(t, 0, sizeof *t);
	t->id = sqlite3_column_int64(s, 0);
	t->user_id = sqlite3_column_int64(s, 1);
	h = sqlite3_column_blob(s, 2);
	if (h != NULL && sqlite3_column_bytes(s, 2) == API_TOKEN_HASH_LEN)
		memcpy(t->token_hash, h, API_TOKEN_HASH_LEN);
	t->created_at = sqlite3_column_int64(s, 4);
	t->last_used_at = sqlite3_column_int64(s, 5);	/* NULL: 0 */
	return col_dup(st, s, 3, &t->label);
}

int
store_api_token_find(struct store *st,
    const unsigned char hash[API_TOKEN_HASH_LEN], struct store_api_token *t)
{
	sqlite3_stmt	*s = stmt_get(st, S_API_TOKEN_BY_HASH);
	int		 rc, r = -1;

	memset(t, 0, sizeof *t);
	if (bind_blob(st, s, 1, hash, API_TOKEN_HASH_LEN) != 0)
		goto out;
	rc = step(st, s, 0);
	if (rc == SQLITE_DONE)
		r = STORE_NOTFOUND;
	else if (rc == SQLITE_ROW && api_token_from_row(st, s, t) == 0)
		r = 0;
out:
	stmt_put(s);
	if (r != 0)
		store_api_token_clear(t);
	return r;
}

int
store_api_token_touch(struct store *st, int64_t id, int64_t at)
{
	sqlite3_stmt	*s = stmt_get(st, S_API_TOKEN_TOUCH);
	int		 r = -1;

	if (bind_int64(st, s, 1, id) == 0 && bind_int64(st, s, 2, at) == 0)
		r = update_changes(st, s);
	stmt_put(s);
	return r;
}

int
store_api_token_del(struct store *st, int64_t user_id, int64_t id)
{
	sqlite3_stmt	*s = stmt_get(st, S_API_TOKEN_DELETE);
	int		 r = -1;

	if (bind_int64(st, s, 1, user_id) == 0 &&
	    bind_int64(st, s, 2, id) == 0)
		r = update_changes(st, s);
	stmt_put(s);
	return r;
}

void
store_api_token_clear(struct store_api_token *t)
{
	free(t->label);
	memset(t, 0, sizeof *t);
}

void
store_api_token_list_free(struct store_api_token *arr, size_t n)
{
	size_t	 i;

	if (arr == NULL)
		return;
	for (i = 0; i < n; i++)
		store_api_token_clear(&arr[i]);
	free(arr);
}

int
store_api_token_list(struct store *st, int64_t user_id,
    struct store_api_token **arrp, size_t *np)
{
	sqlite3_stmt		*s = stmt_get(st, S_API_TOKEN_LIST);
	struct store_api_token	*arr = NULL, *na;
	size_t			 n = 0, cap = 0;
	int			 rc, r = -1;

	*arrp = NULL;
	*np = 0;
	if (bind_int64(st, s, 1, user_id) != 0)
		goto out;
	while ((rc = step(st, s, 0)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			if ((na = reallocarray(arr, cap, sizeof *arr)) ==
			    NULL) {
				log_error("store: out of memory");
				goto out;
			}
			arr = na;
		}
		if (api_token_from_row(st, s, &arr[n++]) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		goto out;
	*arrp = arr;
	*np = n;
	arr = NULL;
	r = 0;
out:
	stmt_put(s);
	store_api_token_list_free(arr, n);
	return r;
}

/* ---- browser sign-in ------------------------------------------------- */

static int
web_row_add(struct store *st, enum stmt_id purge, enum stmt_id insert,
    int64_t user_id, const unsigned char hash[WEB_TOKEN_HASH_LEN],
    int64_t expires_at)
{
	sqlite3_stmt	*s = stmt_get(st, purge);
	int64_t		 now = time_now();
	int		 rc, r = -1;

	/* Expired rows are useless: drop them on the way. */
	if (bind_int64(st, s, 1, now) == 0)
		(void)step(st, s, 0);
	stmt_put(s);
	s = stmt_get(st, insert);
	if (bind_int64(st, s, 1, user_id) != 0 ||
	    bind_blob(st, s, 2, hash, WEB_TOKEN_HASH_LEN) != 0 ||
	    bind_int64(st, s, 3, now) != 0 ||
	    bind_int64(st, s, 4, expires_at) != 0)
		goto out;
	rc = step(st, s, 1);
	if (rc == SQLITE_DONE)
		r = 0;
	else if (RC_UNIQUE(rc))
		r = STORE_EXISTS;
	else if (RC_FKEY(rc))
		r = STORE_NOTFOUND;
out:
	stmt_put(s);
	return r;
}

int
store_web_session_add(struct store *st, int64_t user_id,
    const unsigned char hash[WEB_TOKEN_HASH_LEN], int64_t expires_at)
{
	return web_row_add(st, S_WEB_SESSION_PURGE, S_WEB_SESSION_INSERT,
	    user_id, hash, expires_at);
}

int
store_web_session_find(struct store *st,
    const unsigned char hash[WEB_TOKEN_HASH_LEN], int64_t at,
    int64_t *user_id)
{
	sqlite3_stmt	*s = stmt_get(st, S_WEB_SESSION_FIND);
	int		 rc, r = -1;

	*user_id = 0;
	if (bind_blob(st, s, 1, hash, WEB_TOKEN_HASH_LEN) != 0 ||
	    bind_int64(st, s, 2, at) != 0)
		goto out;
	rc = step(st, s, 0);
	if (rc == SQLITE_ROW) {
		*user_id = sqlite3_column_int64(s, 0);
		r = 0;
	} else if (rc == SQLITE_DONE)
		r = STORE_NOTFOUND;
out:
	stmt_put(s);
	return r;
}

int
store_web_session_del(struct store *st,
    const unsigned char hash[WEB_TOKEN_HASH_LEN])
{
	sqlite3_stmt	*s = stmt_get(st, S_WEB_SESSION_DELETE);
	int		 r = -1;

	if (bind_blob(st, s, 1, hash, WEB_TOKEN_HASH_LEN) == 0)
		r = update_changes(st, s);
	stmt_put(s);
	return r;
}

int
store_login_link_add(struct store *st, int64_t user_id,
    const unsigned char hash[WEB_TOKEN_HASH_LEN], int64_t expires_at)
{
	return web_row_add(st, S_LOGIN_LINK_PURGE, S_LOGIN_LINK_INSERT,
	    user_id, hash, expires_at);
}

int
store_login_link_consume(struct store *st,
    const unsigned char hash[WEB_TOKEN_HASH_LEN], int64_t at,
    int64_t *user_id)
{
	sqlite3_stmt	*s = stmt_get(st, S_LOGIN_LINK_CONSUME);
	int		 rc, r = -1;

	*user_id = 0;
	if (bind_blob(st, s, 1, hash, WEB_TOKEN_HASH_LEN) != 0)
		goto out;
	rc = step(st, s, 0);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_int64(s, 1) > at) {
			*user_id = sqlite3_column_int64(s, 0);
			r = 0;
		} else
			r = STORE_NOTFOUND;
		/* Finish the statement: the row is gone either way. */
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			;
	} else if (rc == SQLITE_DONE)
		r = STORE_NOTFOUND;
out:
	stmt_put(s);
	return r;
}
