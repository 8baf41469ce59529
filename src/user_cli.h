/*
 * user_cli: "tandemd user add|list|del", the offline management of
 * tandem's user table.  It opens the data folder's database directly, so
 * it works whether or not a daemon is running on it.
 */
#ifndef TANDEM_USER_CLI_H
#define TANDEM_USER_CLI_H

struct config;

int	 user_cli(const struct config *, int, char **);

#endif
