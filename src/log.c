/*
 * log.c: leveled one-line messages on stderr.
 */
#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static const char	*log_prog = "idmint";
static enum log_level	 log_max = LL_WARN;
static const char *const log_names[] = { "error", "warn", "info", "debug" };
static const int	 log_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
static int		 log_fd = STDERR_FILENO;
static int		 log_syslog;

int
log_target(const char *t)
{
	int	 fd;

	if (strcmp(t, "stderr") == 0)
		return 0;
	if (strcmp(t, "syslog") == 0) {
		openlog(log_prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_syslog = 1;
		return 0;
	}
	/* O_APPEND: each line is one write, so workers never interleave. */
	if ((fd = open(t, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640)) == -1)
		return -1;
	log_fd = fd;
	return 0;
}

void
log_init(const char *prog, enum log_level lvl)
{
	log_prog = prog;
	log_max = lvl;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t	 i;

	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (strcmp(s, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	char	 line[1024];
	int	 n;
	va_list	 ap;

	if (lvl > log_max)
		return;
	if (log_syslog) {
		va_start(ap, fmt);
		vsnprintf(line, sizeof(line), fmt, ap);
		va_end(ap);
		syslog(log_prio[lvl], "%s: %s", log_names[lvl], line);
		return;
	}
	n = snprintf(line, sizeof(line), "%s[%ld]: %s: ", log_prog,
	    (long)getpid(), log_names[lvl]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line, so lines from many workers do not interleave. */
	n = (int)strlen(line);
	if ((size_t)n < sizeof(line) - 1)
		line[n++] = '\n';
	else
		line[sizeof(line) - 2] = '\n', n = sizeof(line) - 1;
	(void)!write(log_fd, line, (size_t)n);
}
