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
 * store_session_list with user id 0 lists every user's sessions.
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

#endif
