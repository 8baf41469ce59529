/*
 * test_secrets: tokens, share ids and password hashes (src/secrets.c).
 * These guard the promises in DESIGN.md that a leak would break
 * silently: tokens long and random enough, hashes keyed by the server
 * secret, logs that never show more than a short prefix, and passwords
 * kept only as Argon2id strings.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "secrets.h"

#define NTOKENS	200

static int
in_alphabet(const char *s, const char *alphabet)
{
	return strspn(s, alphabet) == strlen(s);
}

static void
test_tokens(void)
{
	static char	 tokens[NTOKENS][TOKEN_LEN + 1];
	unsigned char	 bin[TOKEN_BYTES + 8];
	size_t		 i, j, binlen, dups = 0, bad = 0;
	char		 t[TOKEN_LEN + 8];
	int		 seen[256] = { 0 }, distinct = 0;

	CHECK_INT(TOKEN_BYTES * 8, 240);
	CHECK(TOKEN_BYTES * 8 >= 160);
	CHECK(TOKEN_LEN > 32);	/* never a valid user name */

	for (i = 0; i < NTOKENS; i++) {
		memset(tokens[i], 'Z', sizeof tokens[i]);
		token_new(tokens[i]);
		/* OpenSSH reads a user name starting with '-' as an option */
		if (strlen(tokens[i]) != TOKEN_LEN || tokens[i][0] == '-' ||
		    !token_format_valid(tokens[i]) ||
		    !in_alphabet(tokens[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_"))
			bad++;
		for (j = 0; j < TOKEN_LEN; j++)
			seen[(unsigned char)tokens[i][j]] = 1;
		for (j = 0; j < i; j++)
			if (strcmp(tokens[i], tokens[j]) == 0)
				dups++;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(dups, 0);
	/* 8000 characters of base64url use (nearly) the whole alphabet. */
	for (i = 0; i < 256; i++)
		distinct += seen[i];
	CHECK(distinct >= 60);

	/* The token decodes to exactly TOKEN_BYTES bytes. */
	CHECK_INT(sodium_base642bin(bin, sizeof bin, tokens[0], TOKEN_LEN,
	    NULL, &binlen, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
	CHECK_INT(binlen, TOKEN_BYTES);

	/* Format: 40 characters of [A-Za-z0-9_-], nothing else. */
	CHECK(token_format_valid("abcdefghijABCDEFGHIJ0123456789-_-_abcdef"));
	CHECK(!token_format_valid(NULL));
	CHECK(!token_format_valid(""));
	CHECK(!token_format_valid("alice"));
	CHECK(!token_format_valid("abcdefghijABCDEFGHIJ0123456789-_-_abcde"));
	CHECK(!token_format_valid("abcdefghijABCDEFGHIJ0123456789-_-_abcdefg"));
	CHECK(!token_format_valid("abcdefghijABCDEFGHIJ0123456789-_-_abcde="));
	CHECK(!token_format_valid("abcdefghijABCDEFGHIJ0123456789+/-_abcdef"));
	CHECK(!token_format_valid("abcdefghijABCDEFGHIJ0123456789-_-_abcde "));
	CHECK(!token_format_valid("abcdefghijABCDEFGHIJ0123456789-_-_abcd\n"));
	CHECK(!token_format_valid("abcdefghijABCDEFGHIJ0123456789-_-_abcdé"));
	snprintf(t, sizeof t, "%s", tokens[1]);
	t[17] = '.';
	CHECK(!token_format_valid(t));
}

static void
test_token_hash(void)
{
	unsigned char	 k1[32], k2[32], h1[32], h2[32], h3[32], h4[32];
	unsigned char	 zero[32] = { 0 };
	char		 a[TOKEN_LEN + 1], b[TOKEN_LEN + 1];

	randombytes_buf(k1, sizeof k1);
	memcpy(k2, k1, sizeof k2);
	k2[31] ^= 1;
	token_new(a);
	token_new(b);

	token_hash(k1, a, h1);
	token_hash(k1, a, h2);
	CHECK(memcmp(h1, h2, 32) == 0);		/* deterministic */
	CHECK(token_hash_equal(h1, h2));
	token_hash(k2, a, h3);
	CHECK(memcmp(h1, h3, 32) != 0);		/* keyed */
	CHECK(!token_hash_equal(h1, h3));
	token_hash(k1, b, h4);
	CHECK(memcmp(h1, h4, 32) != 0);
	CHECK(!token_hash_equal(h1, h4));
	CHECK(memcmp(h1, zero, 32) != 0);

	/* Not a plain unkeyed hash of the token. */
	crypto_generichash(h3, 32, (const unsigned char *)a, strlen(a),
	    NULL, 0);
	CHECK(!token_hash_equal(h1, h3));
	/* It is BLAKE2b keyed with the secret, over the token's text. */
	crypto_generichash(h3, 32, (const unsigned char *)a, strlen(a),
	    k1, sizeof k1);
	CHECK(token_hash_equal(h1, h3));

	/* One bit anywhere makes it unequal. */
	memcpy(h2, h1, 32);
	h2[0] ^= 0x80;
	CHECK(!token_hash_equal(h1, h2));
	memcpy(h2, h1, 32);
	h2[31] ^= 0x01;
	CHECK(!token_hash_equal(h1, h2));
}

static void
test_token_prefix(void)
{
	char	 tok[TOKEN_LEN + 1], out[TOKEN_PREFIX_LEN + 1];
	char	 longer[200];
	int	 i;

	for (i = 0; i < 50; i++) {
		token_new(tok);
		memset(out, 'Z', sizeof out);
		token_prefix(tok, out);
		CHECK_INT(strlen(out), 8);
		CHECK(strncmp(out, tok, 6) == 0);
		CHECK_STR(out + 6, "..");	/* nothing past the sixth */
	}
	token_prefix("abcdefghijABCDEFGHIJ0123456789-_-_abcdef", out);
	CHECK_STR(out, "abcdef..");

	/* Short strings show at most half of themselves. */
	token_prefix("hunter2", out);
	CHECK_STR(out, "hun..");
	token_prefix("ab", out);
	CHECK_STR(out, "a..");
	token_prefix("a", out);
	CHECK_STR(out, "..");
	token_prefix("", out);
	CHECK_STR(out, "..");
	token_prefix(NULL, out);
	CHECK_STR(out, "..");

	/* Hostile bytes never reach a log line. */
	token_prefix("a\nb\033[2Jcdefgh", out);
	CHECK_STR(out, "a?b??2..");
	token_prefix("é\"x%s%n!!!!!!!!!", out);
	CHECK_STR(out, "???x?s..");

	memset(longer, 'x', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	token_prefix(longer, out);
	CHECK_STR(out, "xxxxxx..");
}

static void
test_share_ids(void)
{
	static char	 ids[500][SHARE_ID_LEN + 1];
	size_t		 i, j, bad = 0, dups = 0;
	int		 seen[256] = { 0 }, distinct = 0;

	for (i = 0; i < 500; i++) {
		memset(ids[i], 'Z', sizeof ids[i]);
		share_id_new(ids[i]);
		if (strlen(ids[i]) != SHARE_ID_LEN || !share_id_valid(ids[i]) ||
		    !in_alphabet(ids[i], "abcdefghijklmnopqrstuvwxyz"
		    "0123456789"))
			bad++;
		for (j = 0; j < SHARE_ID_LEN; j++)
			seen[(unsigned char)ids[i][j]] = 1;
		for (j = 0; j < i; j++)
			if (strcmp(ids[i], ids[j]) == 0)
				dups++;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(dups, 0);
	for (i = 0; i < 256; i++)
		distinct += seen[i];
	CHECK_INT(distinct, 36);	/* 6000 draws hit every symbol */

	CHECK(share_id_valid("abcdef012345"));
	CHECK(!share_id_valid(NULL));
	CHECK(!share_id_valid(""));
	CHECK(!share_id_valid("abcdef01234"));
	CHECK(!share_id_valid("abcdef0123456"));
	CHECK(!share_id_valid("Abcdef012345"));
	CHECK(!share_id_valid("abcdef-12345"));
	CHECK(!share_id_valid("abcdef01234\n"));
}

static void
test_passwords(void)
{
	char	 h1[crypto_pwhash_STRBYTES], h2[crypto_pwhash_STRBYTES];
	char	*big;

	memset(h1, 'Z', sizeof h1);
	CHECK_INT(password_hash("correct horse battery staple", h1), 0);
	CHECK(strncmp(h1, "$argon2id$", 10) == 0);
	CHECK(strlen(h1) < sizeof h1);
	CHECK(strstr(h1, "correct") == NULL);
	CHECK_INT(password_verify(h1, "correct horse battery staple"), 1);
	CHECK_INT(password_verify(h1, "correct horse battery stapl"), 0);
	CHECK_INT(password_verify(h1, "Correct horse battery staple"), 0);
	CHECK_INT(password_verify(h1, ""), 0);
	CHECK_INT(password_verify(h1, NULL), 0);
	CHECK_INT(password_verify(NULL, "x"), 0);
	CHECK_INT(password_verify("", "x"), 0);
	CHECK_INT(password_verify("not a hash", "x"), 0);

	/* Salted: the same password hashes differently each time. */
	CHECK_INT(password_hash("correct horse battery staple", h2), 0);
	CHECK(strcmp(h1, h2) != 0);
	CHECK_INT(password_verify(h2, "correct horse battery staple"), 1);

	/* Empty and overlong passwords are refused both ways. */
	CHECK_INT(password_hash("", h2), -1);
	CHECK_INT(password_hash(NULL, h2), -1);
	if ((big = malloc(PASSWORD_MAX + 2)) != NULL) {
		memset(big, 'p', PASSWORD_MAX);
		big[PASSWORD_MAX] = '\0';
		CHECK_INT(password_hash(big, h2), 0);	/* 1024: the limit */
		CHECK_INT(password_verify(h2, big), 1);
		big[PASSWORD_MAX] = 'p';
		big[PASSWORD_MAX + 1] = '\0';
		CHECK_INT(password_hash(big, h2), -1);
		/* An overlong guess never reaches Argon2id. */
		CHECK_INT(password_verify(h2, big), 0);
		free(big);
	}

	/* Binary-safe up to the NUL; non-ASCII works. */
	CHECK_INT(password_hash("pässwörd ✓", h2), 0);
	CHECK_INT(password_verify(h2, "pässwörd ✓"), 1);
	CHECK_INT(password_verify(h2, "passwort ✓"), 0);
}

int
main(void)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "sodium_init failed\n");
		return 99;
	}
	test_tokens();
	test_token_hash();
	test_token_prefix();
	test_share_ids();
	test_passwords();
	return check_done("test_secrets");
}
