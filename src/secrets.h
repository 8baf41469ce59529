/*
 * secrets: the few things tandem derives from randomness or must keep
 * secret, as pure functions on libsodium.  Share tokens are 30 random
 * bytes (240 bits) in base64url without padding, shown to the owner once
 * and stored only as a hash keyed with the server secret, compared in
 * constant time; logs get a short prefix at most.  Share ids are short
 * public handles ("revoke ab12cd34ef56"), not secrets.  Passwords (a
 * share's or a user's web password) are kept as Argon2id strings.
 *
 * The caller must have called sodium_init() once.  Nothing here touches
 * the store, the event loop or the log, so unit tests call it directly.
 * Argon2id is deliberately slow (tens of milliseconds and 64 MiB per
 * call); everything else costs microseconds.
 */
#ifndef TANDEM_SECRETS_H
#define TANDEM_SECRETS_H

#include <sodium.h>

/*
 * 40 characters also keep a token apart from a user name (at most 32),
 * so "ssh TOKEN@host" and "ssh USER@host" never collide.
 */
#define TOKEN_BYTES		30
#define TOKEN_LEN		40
#define TOKEN_HASH_BYTES	32
#define TOKEN_PREFIX_LEN	8	/* shown chars + ".." */
#define SHARE_ID_LEN		12	/* same value in store.h */
#define PASSWORD_MAX		1024

void	 token_new(char [TOKEN_LEN + 1]);
int	 token_format_valid(const char *);
void	 token_hash(const unsigned char [TOKEN_HASH_BYTES], const char *,
	    unsigned char [TOKEN_HASH_BYTES]);
int	 token_hash_equal(const unsigned char [TOKEN_HASH_BYTES],
	    const unsigned char [TOKEN_HASH_BYTES]);
void	 token_prefix(const char *, char [TOKEN_PREFIX_LEN + 1]);

void	 share_id_new(char [SHARE_ID_LEN + 1]);
int	 share_id_valid(const char *);

int	 password_hash(const char *, char [crypto_pwhash_STRBYTES]);
int	 password_verify(const char *, const char *);

#endif
