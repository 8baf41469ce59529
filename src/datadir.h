/*
 * datadir: the daemon's data folder.  On first start it is created with
 * mode 0700 and filled with a generated ed25519 host key, a server
 * secret (the key for token hashes) and the SQLite database.  A lock
 * file keeps two daemons off one folder.
 */
#ifndef TANDEM_DATADIR_H
#define TANDEM_DATADIR_H

#include <stddef.h>

#define SERVER_SECRET_LEN	32

struct datadir {
	char		*path;
	char		*host_key;	/* path of the private host key */
	char		*db;		/* path of the database file */
	unsigned char	 secret[SERVER_SECRET_LEN];
	int		 lock_fd;
};

int	 datadir_open(struct datadir *, const char *, int, char *, size_t);
void	 datadir_close(struct datadir *);

#endif
