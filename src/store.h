/*
 * store: tandem's persistent state in one SQLite file (WAL mode).
 *
 * The schema is created and upgraded by numbered migrations recorded in
 * PRAGMA user_version, so a database of any earlier version, or an
 * empty file, is brought to the current version on open.  Every call is
 * synchronous: a query on this schema costs microseconds, which the
 * single event loop can afford (notes/libraries.md).
 *
 * Functions return 0 on success, STORE_NOTFOUND or STORE_EXISTS where
 * that is a normal outcome, and -1 on a database error (already logged).
 * Strings in the structs below are copies owned by the caller's struct;
 * release lists with the matching *_free function.
 */
#ifndef TANDEM_STORE_H
#define TANDEM_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_NOTFOUND	1
#define STORE_EXISTS	2

struct store;

struct store_user {
	int64_t	 id;
	char	 name[33];
	int	 admin;
	int64_t	 created_at;
	int	 nkeys;
};

struct store_key {
	int64_t	 id;
	int64_t	 user_id;
	char	*type;		/* "ssh-ed25519" */
	char	*blob;		/* base64 public key */
	char	*fingerprint;	/* "SHA256:..." */
	char	*comment;
	int64_t	 created_at;
};

enum session_state {
	SESSION_ACTIVE,
	SESSION_DISCONNECTED,
	SESSION_TERMINATED,
};

struct store_session {
	char			 id[37];
	int64_t			 user_id;
	char			 user_name[33];
	char			*name;		/* may be empty, never NULL */
	enum session_state	 state;
	int64_t			 started_at;
	int64_t			 ended_at;	/* 0 while not terminated */
	int			 cols, rows;
	char			*client_address;
	char			*auth_method;
	char			*command;
	int			 exit_status;	/* -1 until terminated */
};

int	 store_open(const char *, struct store **);
void	 store_close(struct store *);
int	 store_schema_version(struct store *);
int	 store_latest_version(void);

const char	*session_state_name(enum session_state);
int		 session_state_parse(const char *, enum session_state *);

/*
 * Users and keys.  A key (type and blob) is bound to one user only, so
 * store_key_add answers STORE_EXISTS when any user holds it already, and
 * STORE_NOTFOUND for an unknown user.  store_user_add and
 * store_user_enroll refuse a name user_name_valid() rejects (-1).
 * store_user_enroll creates the user and binds the key in one write
 * transaction; it answers STORE_EXISTS without creating anything when
 * the name is taken (then *id is that user's id, so the caller can check
 * the key with store_key_find) or when another user holds the key (then
 * *id is 0).
 */
int	 store_user_get(struct store *, const char *, struct store_user *);
int	 store_user_get_id(struct store *, int64_t, struct store_user *);
int	 store_user_add(struct store *, const char *, int, int64_t *);
int	 store_user_del(struct store *, const char *);
int	 store_user_list(struct store *, struct store_user **, size_t *);
int	 store_key_add(struct store *, int64_t, const struct store_key *);
int	 store_key_find(struct store *, int64_t, const char *, const char *);
int	 store_key_list(struct store *, int64_t, struct store_key **, size_t *);
void	 store_key_list_free(struct store_key *, size_t);
void	 store_key_clear(struct store_key *);
int	 store_user_enroll(struct store *, const char *,
	    const struct store_key *, int64_t *);

/*
 * Additions for user management.  store_key_owner finds which user a key
 * is bound to; store_key_del removes one key of one user by key id; the
 * password is an opaque crypto_pwhash_str string (NULL clears it), and
 * store_user_get_password returns a malloc'd copy or STORE_NOTFOUND if
 * the user is unknown or has none.
 */
int	 store_key_owner(struct store *, const char *, const char *,
	    int64_t *);
int	 store_key_del(struct store *, int64_t, int64_t);
int	 store_user_set_admin(struct store *, int64_t, int);
int	 store_user_set_password(struct store *, int64_t, const char *);
int	 store_user_get_password(struct store *, int64_t, char **);

/*
 * Sessions.  Every row written by store_session_insert,
 * store_session_set_state and store_session_reap also appends a row to
 * session_events in the same transaction.  The id must be a UUID and
 * the size 1..65535 in each direction.  store_session_insert answers
 * STORE_EXISTS for a known id and STORE_NOTFOUND for an unknown user.
 * store_session_set_state records ended_at (the time given) and the
 * exit status (negative: unknown, stored as NULL) when the new state is
 * terminated; a terminated session is final (-1 on any other state),
 * and asking for the state a session is already in changes nothing.
 * Terminating a session, here or in store_session_reap, also ends its
 * active shares in the same transaction.  store_session_list with user
 * id 0 lists every user's sessions.
 */
int	 store_session_insert(struct store *, const struct store_session *);
int	 store_session_set_state(struct store *, const char *,
	    enum session_state, int64_t, int);
int	 store_session_set_size(struct store *, const char *, int, int);
int	 store_session_set_client(struct store *, const char *, const char *,
	    const char *);
int	 store_session_rename(struct store *, const char *, const char *);
int	 store_session_get(struct store *, const char *,
	    struct store_session *);
int	 store_session_list(struct store *, int64_t, int,
	    struct store_session **, size_t *);
void	 store_session_clear(struct store_session *);
void	 store_session_list_free(struct store_session *, size_t);
int	 store_session_reap(struct store *, int64_t, int *);

/*
 * Shares: grants of access to one session (DESIGN.md, "The model").
 * A link or claim share carries the keyed hash of its token (the token
 * itself is never stored); a user share names its target user instead.
 * Claiming a claim share turns it into a user share and drops its
 * token hash, so the link works once.  A share leaves 'active' once, for
 * good: expired, revoked or ended (its session terminated); state_at
 * records when.  The id is SHARE_ID_LEN lowercase letters and digits,
 * made by the caller (share_id_new in secrets.h).
 */
#define SHARE_ID_LEN	12	/* same value in secrets.h */
#define SHARE_HASH_LEN	32

enum share_kind {
	SHARE_LINK,
	SHARE_USER,
	SHARE_CLAIM,
};

enum share_perm {
	SHARE_READ_ONLY,
	SHARE_READ_WRITE,
};

enum share_state {
	SHARE_ACTIVE,
	SHARE_EXPIRED,
	SHARE_REVOKED,
	SHARE_ENDED,
};

struct store_share {
	char			 id[SHARE_ID_LEN + 1];
	char			 session_id[37];
	enum share_kind		 kind;
	enum share_perm		 perm;
	int			 has_token;
	unsigned char		 token_hash[SHARE_HASH_LEN];
	int64_t			 target_user_id;	/* 0: none */
	char			 target_user[33];
	int64_t			 created_by;
	char			 created_by_name[33];
	int64_t			 created_at, expires_at;
	int			 max_viewers;		/* 0: no limit */
	int			 require_auth;
	char			*password_hash;		/* NULL if none */
	char			*label;			/* never NULL on reads */
	char			*authorized_keys;	/* NULL: any key */
	enum share_state	 state;
	int64_t			 state_at;		/* 0 while active */
	int64_t			 revoked_by;		/* 0: none */
	char			 revoked_by_name[33];
	int64_t			 claimed_at;		/* 0: never */
	char			 owner_name[33];	/* the session's owner */
	int64_t			 owner_id;
};

const char	*share_kind_name(enum share_kind);
int		 share_kind_parse(const char *, enum share_kind *);
const char	*share_perm_name(enum share_perm);
int		 share_perm_parse(const char *, enum share_perm *);
const char	*share_state_name(enum share_state);
int		 share_state_parse(const char *, enum share_state *);

/*
 * store_share_insert writes a new active share (state, state_at,
 * revoked_by, claimed_at and the names are ignored; created_at 0 means
 * now).  A link or claim share needs has_token and no target, a user
 * share a target and no token; expires_at must be set.  It answers
 * STORE_EXISTS for a known id or token hash and STORE_NOTFOUND for an
 * unknown or terminated session or an unknown user.
 *
 * store_share_get and store_share_find_token return a share in any
 * state (the caller checks state and expires_at, so that it can tell
 * "revoked" from "unknown"); release it with store_share_clear.
 * store_share_list and store_shares_for_user order by created_at, then
 * creation; store_shares_for_user lists the active user shares whose
 * target is the user ("shared with me").
 *
 * store_share_set_state moves an active share to expired, revoked (by
 * is recorded as revoked_by; 0 for none) or ended; store_share_set_expiry
 * changes an active share only; all three answer STORE_NOTFOUND when no
 * active share has that id.  store_share_claim turns an active,
 * unexpired (expires_at > at) claim share into a user share for the
 * user, atomically: a second claim answers STORE_NOTFOUND.
 *
 * store_shares_end_session ends the active shares of one session;
 * store_session_set_state (to terminated) and store_session_reap do the
 * same in their own transaction.  store_shares_expire_due expires every
 * active share with expires_at <= now (state_at = its expires_at) and
 * returns their ids, oldest expiry first, in one malloc'd array (free()
 * it).  store_share_next_expiry gives the earliest expires_at among
 * active shares, or STORE_NOTFOUND, for the expiry timer.
 */
int	 store_share_insert(struct store *, const struct store_share *);
int	 store_share_get(struct store *, const char *, struct store_share *);
int	 store_share_find_token(struct store *,
	    const unsigned char [SHARE_HASH_LEN], struct store_share *);
void	 store_share_clear(struct store_share *);
int	 store_share_list(struct store *, const char *, int,
	    struct store_share **, size_t *);
void	 store_share_list_free(struct store_share *, size_t);
int	 store_share_set_state(struct store *, const char *,
	    enum share_state, int64_t, int64_t);
int	 store_share_set_expiry(struct store *, const char *, int64_t);
int	 store_share_set_label(struct store *, const char *, const char *);
int	 store_share_claim(struct store *, const char *, int64_t, int64_t);
int	 store_shares_end_session(struct store *, const char *, int64_t,
	    int *);
int	 store_shares_expire_due(struct store *, int64_t,
	    char (**)[SHARE_ID_LEN + 1], size_t *);
int	 store_share_next_expiry(struct store *, int64_t *);
int	 store_shares_for_user(struct store *, int64_t,
	    struct store_share **, size_t *);

/*
 * Hands a live session to another user (NOC handoff): STORE_NOTFOUND
 * for an unknown or terminated session or an unknown user.
 */
int	 store_session_set_owner(struct store *, const char *, int64_t);

/*
 * The audit trail: append-only (triggers refuse UPDATE and DELETE).
 * On insert, at 0 means now, actor_id 0 means the system (NULL), and
 * NULL strings store an empty text or, for session_id, share_id and
 * target_user, SQL NULL; action is required.  On reads no string is
 * NULL.
 *
 * store_audit_list returns the newest `limit` events that pass the
 * filter, oldest first.  owner_id restricts to events of that user's
 * sessions and events that user caused; session_id to one session;
 * since to at >= since.  A NULL filter means all, limit 1000.
 */
struct store_audit {
	int64_t	 id, at;
	int64_t	 actor_id;
	char	*actor_name;
	char	*action;
	char	*session_id;
	char	*share_id;
	char	*target_user;
	char	*address;
	char	*detail;
};

#define AUDIT_LIST_DEFAULT	1000
#define AUDIT_LIST_MAX		10000

struct store_audit_filter {
	int64_t		 owner_id;	/* 0: every session */
	const char	*session_id;	/* NULL: any */
	int64_t		 since;		/* 0: any time */
	size_t		 limit;		/* 0: 1000; at most 10000 */
};

int	 store_audit_add(struct store *, const struct store_audit *);
int	 store_audit_list(struct store *, const struct store_audit_filter *,
	    struct store_audit **, size_t *);
void	 store_audit_list_free(struct store_audit *, size_t);

/*
 * Bearer tokens of the HTTP API (api.h).  Only the token's hash keyed
 * with the server secret is stored.  store_api_token_add answers
 * STORE_EXISTS for a known hash and STORE_NOTFOUND for an unknown user;
 * store_api_token_find looks a hash up (the caller compares it again in
 * constant time); store_api_token_del removes one of a user's tokens and
 * answers STORE_NOTFOUND when that user has no token of that id.
 * last_used_at is 0 for a token never used.
 */
#define API_TOKEN_HASH_LEN	32

struct store_api_token {
	int64_t		 id;
	int64_t		 user_id;
	unsigned char	 token_hash[API_TOKEN_HASH_LEN];
	char		*label;		/* never NULL on reads */
	int64_t		 created_at;
	int64_t		 last_used_at;
};

int	 store_api_token_add(struct store *, int64_t,
	    const unsigned char [API_TOKEN_HASH_LEN], const char *, int64_t *);
int	 store_api_token_find(struct store *,
	    const unsigned char [API_TOKEN_HASH_LEN], struct store_api_token *);
int	 store_api_token_touch(struct store *, int64_t, int64_t);
int	 store_api_token_del(struct store *, int64_t, int64_t);
int	 store_api_token_list(struct store *, int64_t,
	    struct store_api_token **, size_t *);
void	 store_api_token_clear(struct store_api_token *);
void	 store_api_token_list_free(struct store_api_token *, size_t);

/*
 * Browser sign-in (signin.h): web sessions and one-time sign-in links,
 * stored as token hashes keyed with the server secret.  Adding either
 * drops the expired rows of its table.  store_web_session_find answers
 * STORE_NOTFOUND for an unknown hash or one that expired by at;
 * store_login_link_consume deletes the link whatever its expiry (single
 * use) and answers STORE_NOTFOUND for an unknown or expired one.
 */
#define WEB_TOKEN_HASH_LEN	32

int	 store_web_session_add(struct store *, int64_t,
	    const unsigned char [WEB_TOKEN_HASH_LEN], int64_t);
int	 store_web_session_find(struct store *,
	    const unsigned char [WEB_TOKEN_HASH_LEN], int64_t, int64_t *);
int	 store_web_session_del(struct store *,
	    const unsigned char [WEB_TOKEN_HASH_LEN]);
int	 store_login_link_add(struct store *, int64_t,
	    const unsigned char [WEB_TOKEN_HASH_LEN], int64_t);
int	 store_login_link_consume(struct store *,
	    const unsigned char [WEB_TOKEN_HASH_LEN], int64_t, int64_t *);

#endif
