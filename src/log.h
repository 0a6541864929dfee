/*
 * log.h: one line per problem to stderr, which the web server keeps as its
 * error log.  Never pass a secret to these.
 */
#ifndef IDMINT_LOG_H
#define IDMINT_LOG_H

enum log_level { LL_ERR, LL_WARN, LL_INFO, LL_DEBUG };

void	 log_init(const char *prog, enum log_level);
/*
 * Where lines go: "stderr" (the web server's error log when it starts
 * the workers; spawn-fcgi sends workers' stderr to /dev/null), "syslog"
 * (facility daemon), or an absolute path appended to by every worker.
 * Returns -1 with errno set when a file cannot be opened.
 */
int	 log_target(const char *);
int	 log_level_parse(const char *, enum log_level *);
void	 log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(LL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LL_DEBUG, __VA_ARGS__)

#endif
