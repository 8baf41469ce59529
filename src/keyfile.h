/*
 * keyfile: read a file of SSH public keys in authorized_keys form, for
 * "tandemd user add --key" and "share --authorized-keys".  One key a
 * line ("[OPTIONS] TYPE BASE64 [COMMENT]"), blank lines and '#' comments
 * skipped; every key is checked with libssh, and one bad line fails the
 * whole file, naming FILE:LINE.
 */
#ifndef TANDEM_KEYFILE_H
#define TANDEM_KEYFILE_H

#include <stddef.h>

#include "store.h"

#define KEYFILE_MAX_BYTES	(256 * 1024)
#define KEYFILE_MAX_KEYS	64

int	 keyfile_load(const char *, struct store_key **, size_t *, char *,
	    size_t);
void	 keyfile_free(struct store_key *, size_t);

#endif
