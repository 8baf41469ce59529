/*
 * log: the daemon's log.  Lines go to stderr or to a file opened in
 * append mode; SIGHUP calls log_reopen() so that logrotate can move the
 * file away.  Secrets never go through here in full (see DESIGN.md).
 */
#ifndef TANDEM_LOG_H
#define TANDEM_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

int	 log_open(const char *, enum log_level);
int	 log_reopen(void);
void	 log_close(void);
int	 log_level_parse(const char *, enum log_level *);
void	 log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#define log_error(...)	log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
