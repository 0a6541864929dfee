/*
 * proc.c: processes as /proc tells them (see proc.h).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

int
proc_starttime(pid_t pid, uint64_t *out)
{
	char	 path[64], buf[1024], *p;
	FILE	*f;
	size_t	 n;
	int	 field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and parentheses. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return -1;
	*out = strtoull(p + 1, NULL, 10);
	return 0;
}

int
proc_alive(pid_t pid, uint64_t start)
{
	uint64_t	 now;

	if (pid <= 0 || (kill(pid, 0) == -1 && errno == ESRCH))
		return 0;
	/* Same pid, other process: the pid was reused. */
	if (start != 0 && proc_starttime(pid, &now) == 0 && now != start)
		return 0;
	return 1;
}

static pid_t	 self_pid;

static void
self_forget(void)
{
	self_pid = 0;
}

pid_t
proc_self(void)
{
	static int	 hooked;

	if (!hooked)
		hooked = pthread_atfork(NULL, NULL, self_forget) == 0;
	if (self_pid == 0 || !hooked)
		self_pid = getpid();
	return self_pid;
}
