/*
 * shim_accept.c: LD_PRELOAD'ed into one worker by run.py to land a stop
 * signal where it used to be lost.  The first accept(2) takes the
 * connection that woke the worker (as another worker of the pool would),
 * then raises SIGTERM, then accepts again: the call that now blocks.  A
 * worker that waits there for the next connection has missed its stop.
 */
#define _GNU_SOURCE
#include <sys/socket.h>

#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

static int	 fired;

static int
steal_then_stop(int fd, int (*real)(int, struct sockaddr *, socklen_t *,
    int), int flags)
{
	int	 c;

	if (fired)
		return -2;
	fired = 1;
	if ((c = real(fd, NULL, NULL, flags)) >= 0)
		close(c);
	raise(SIGTERM);
	return -2;
}

static int
real4(int fd, struct sockaddr *a, socklen_t *l, int flags)
{
	static int (*f)(int, struct sockaddr *, socklen_t *, int);

	if (f == NULL)
		f = (int (*)(int, struct sockaddr *, socklen_t *, int))
		    dlsym(RTLD_NEXT, "accept4");
	return f(fd, a, l, flags);
}

int
accept4(int fd, struct sockaddr *a, socklen_t *l, int flags)
{
	(void)steal_then_stop(fd, real4, flags);
	return real4(fd, a, l, flags);
}

int
accept(int fd, struct sockaddr *a, socklen_t *l)
{
	(void)steal_then_stop(fd, real4, 0);
	return real4(fd, a, l, 0);
}
