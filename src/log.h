/*
 * log.h: one line per problem to stderr, which the web server keeps as its
 * error log.  Never pass a secret to these.
 */
#ifndef IDMINT_LOG_H
#define IDMINT_LOG_H

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void	 log_init(const char *prog, enum log_level);
int	 log_level_parse(const char *, enum log_level *);
void	 log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
