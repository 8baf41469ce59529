/*
 * secrets: tokens, share ids and password hashes (see secrets.h).
 *
 * Every random byte comes from libsodium's randombytes (the kernel's
 * CSPRNG).  A token is hashed as the text the client sent, with
 * crypto_generichash (BLAKE2b) keyed by the server secret: a stolen
 * database alone then yields no usable token and cannot even be checked
 * against a guess.  Buffers that held raw token bytes are wiped.
 */
#include <string.h>

#include <sodium.h>

#include "secrets.h"

#define SHARE_ID_ALPHABET	"abcdefghijklmnopqrstuvwxyz0123456789"
#define TOKEN_PREFIX_SHOWN	6

void
token_new(char out[TOKEN_LEN + 1])
{
	unsigned char	 b[TOKEN_BYTES];

	/* A token is typed as an ssh user name, and OpenSSH takes one that
	 * starts with '-' for an option: draw again (1 in 64). */
	do {
		randombytes_buf(b, sizeof b);
		sodium_bin2base64(out, TOKEN_LEN + 1, b, sizeof b,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	} while (out[0] == '-');
	sodium_memzero(b, sizeof b);
}

static int
token_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * Exactly TOKEN_LEN characters of the base64url alphabet.  40 such
 * characters are 240 bits with none left over, so every string that
 * passes decodes to 30 bytes: there is no second spelling of a token.
 */
int
token_format_valid(const char *s)
{
	size_t	 i;

	if (s == NULL)
		return 0;
	for (i = 0; i < TOKEN_LEN; i++) {
		if (!token_char((unsigned char)s[i]))
			return 0;	/* also stops at the NUL */
	}
	return s[TOKEN_LEN] == '\0';
}

void
token_hash(const unsigned char secret[TOKEN_HASH_BYTES], const char *token,
    unsigned char out[TOKEN_HASH_BYTES])
{
	if (token == NULL)
		token = "";
	crypto_generichash(out, TOKEN_HASH_BYTES,
	    (const unsigned char *)token, strlen(token), secret,
	    TOKEN_HASH_BYTES);
}

int
token_hash_equal(const unsigned char a[TOKEN_HASH_BYTES],
    const unsigned char b[TOKEN_HASH_BYTES])
{
	return sodium_memcmp(a, b, TOKEN_HASH_BYTES) == 0;
}

/*
 * What a log line may show of something offered as a token: at most six
 * characters, and never more than half of a short string (a password
 * typed as a user name by mistake stays mostly hidden), then "..".
 * Characters outside the token alphabet become '?', so whatever a
 * client sends cannot forge or break a log line.
 */
void
token_prefix(const char *token, char out[TOKEN_PREFIX_LEN + 1])
{
	size_t	 i, len, shown;

	len = token != NULL ? strnlen(token, 2 * TOKEN_PREFIX_SHOWN) : 0;
	shown = len / 2 < TOKEN_PREFIX_SHOWN ? len / 2 : TOKEN_PREFIX_SHOWN;
	for (i = 0; i < shown; i++)
		out[i] = token_char((unsigned char)token[i]) ? token[i] : '?';
	out[i++] = '.';
	out[i++] = '.';
	out[i] = '\0';
}

/*
 * 36^12 (about 2^62) ids.  randombytes_uniform() draws again whenever a
 * value falls in the incomplete last block (rejection sampling), so
 * every letter and digit is exactly equally likely.
 */
void
share_id_new(char out[SHARE_ID_LEN + 1])
{
	const char	 alphabet[] = SHARE_ID_ALPHABET;
	size_t		 i;

	for (i = 0; i < SHARE_ID_LEN; i++)
		out[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
	out[SHARE_ID_LEN] = '\0';
}

int
share_id_valid(const char *s)
{
	size_t	 i;

	if (s == NULL)
		return 0;
	for (i = 0; i < SHARE_ID_LEN; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9')))
			return 0;
	}
	return s[SHARE_ID_LEN] == '\0';
}

static int
password_len_ok(const char *pw, size_t *lenp)
{
	size_t	 len;

	if (pw == NULL)
		return 0;
	len = strnlen(pw, PASSWORD_MAX + 1);
	if (len == 0 || len > PASSWORD_MAX)
		return 0;
	*lenp = len;
	return 1;
}

/* Argon2id, interactive limits; the string carries its own parameters. */
int
password_hash(const char *pw, char out[crypto_pwhash_STRBYTES])
{
	size_t	 len;

	if (!password_len_ok(pw, &len))
		return -1;
	if (crypto_pwhash_str_alg(out, pw, len,
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE,
	    crypto_pwhash_ALG_ARGON2ID13) != 0)
		return -1;	/* out of memory */
	return 0;
}

/* 1: the password matches; 0: it does not, or cannot be checked. */
int
password_verify(const char *hash, const char *pw)
{
	size_t	 len;

	if (hash == NULL || !password_len_ok(pw, &len))
		return 0;
	if (strnlen(hash, crypto_pwhash_STRBYTES) == crypto_pwhash_STRBYTES)
		return 0;	/* no stored hash is this long */
	return crypto_pwhash_str_verify(hash, pw, len) == 0;
}
