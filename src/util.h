/*
 * util: small pure helpers shared by every module: clock, ISO 8601
 * time stamps, UUIDs, name validation and duration strings.  Nothing
 * here touches the event loop or the store, so unit tests call it
 * directly.
 */
#ifndef TANDEM_UTIL_H
#define TANDEM_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define UUID_STRLEN	36
#define ISO8601_LEN	21	/* "2026-11-22T06:31:24Z" + NUL */

int64_t	 time_now(void);
int64_t	 time_now_ms(void);
void	 time_iso8601(int64_t, char [ISO8601_LEN]);
void	 uuid_v4(char [UUID_STRLEN + 1]);
int	 uuid_valid(const char *);
int	 user_name_valid(const char *);
int	 duration_parse(const char *, int64_t *);
void	 duration_format(int64_t, char *, size_t);
char	*xstrdup(const char *);

#endif
