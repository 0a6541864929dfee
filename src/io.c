/*
 * io.c: the only file that includes fcgiapp.h.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "clock.h"
#include "io.h"

/* The environment of a CGI process dies with it; a test's is const. */
static void
forget_nothing(struct io *io, const char *name)
{
	(void)io;
	(void)name;
}

static const char *
fcgi_getenv(struct io *io, const char *name)
{
	FCGX_Request *r = io->ctx;

	return FCGX_GetParam(name, r->envp);
}

static void
fcgi_forget(struct io *io, const char *name)
{
	char	*v = (char *)(uintptr_t)fcgi_getenv(io, name);

	if (v != NULL)
		sodium_memzero(v, strlen(v));
}

static ssize_t
fcgi_read(struct io *io, void *p, size_t n)
{
	FCGX_Request *r = io->ctx;
	int	 got;

	if (n > 1 << 30)
		n = 1 << 30;
	got = FCGX_GetStr(p, (int)n, r->in);
	if (got == 0 && FCGX_GetError(r->in) != 0)
		return -1;
	return got;
}

static int
fcgi_write(struct io *io, const void *p, size_t n)
{
	FCGX_Request *r = io->ctx;

	if (n > 1 << 30)
		return -1;
	return FCGX_PutStr(p, (int)n, r->out) == (int)n ? 0 : -1;
}

void
io_fcgi(struct io *io, void *req)
{
	io->getenv = fcgi_getenv;
	io->forget = fcgi_forget;
	io->read = fcgi_read;
	io->write = fcgi_write;
	io->ctx = req;
}

static const char *
cgi_getenv(struct io *io, const char *name)
{
	(void)io;
	return getenv(name);
}

static ssize_t
cgi_read(struct io *io, void *p, size_t n)
{
	ssize_t	 got;

	(void)io;
	do
		got = read(STDIN_FILENO, p, n);
	while (got == -1 && errno == EINTR);
	return got;
}

static int
cgi_write(struct io *io, const void *p, size_t n)
{
	const char *s = p;
	ssize_t	 w;

	(void)io;
	while (n > 0) {
		if ((w = write(STDOUT_FILENO, s, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Read and drop what is left of a request body, bounded, so a huge body
 * we refused cannot keep us here.  A web server still writing a body we
 * refused (413) would see a broken pipe and may cut our answer short.
 */
static void
drain(ssize_t (*get)(char *, size_t))
{
	char	 sink[4096];
	size_t	 left = 64u << 20;
	ssize_t	 n;

	while (left > 0 && (n = get(sink, sizeof(sink))) > 0)
		left -= (size_t)n < left ? (size_t)n : left;
}

static ssize_t
cgi_get(char *p, size_t n)
{
	return cgi_read(NULL, p, n);
}

void
io_cgi_finish(void)
{
	drain(cgi_get);
}

void
io_cgi(struct io *io)
{
	io->getenv = cgi_getenv;
	io->forget = forget_nothing;
	io->read = cgi_read;
	io->write = cgi_write;
	io->ctx = NULL;
}

static const char *
mem_getenv(struct io *io, const char *name)
{
	struct io_mem *m = io->ctx;
	size_t	 len = strlen(name), i;

	for (i = 0; m->env != NULL && m->env[i] != NULL; i++)
		if (strncmp(m->env[i], name, len) == 0 && m->env[i][len] == '=')
			return m->env[i] + len + 1;
	return NULL;
}

static ssize_t
mem_read(struct io *io, void *p, size_t n)
{
	struct io_mem *m = io->ctx;

	if (n > m->inlen - m->inpos)
		n = m->inlen - m->inpos;
	memcpy(p, m->in + m->inpos, n);
	m->inpos += n;
	return (ssize_t)n;
}

static int
mem_write(struct io *io, const void *p, size_t n)
{
	struct io_mem *m = io->ctx;
	char	*q;

	if (m->outlen + n + 1 > m->outcap) {
		size_t cap = (m->outlen + n + 1) * 2;
		if ((q = realloc(m->out, cap)) == NULL)
			return -1;
		m->out = q;
		m->outcap = cap;
	}
	memcpy(m->out + m->outlen, p, n);
	m->outlen += n;
	m->out[m->outlen] = '\0';
	return 0;
}

void
io_mem(struct io *io, struct io_mem *m)
{
	io->getenv = mem_getenv;
	io->forget = forget_nothing;
	io->read = mem_read;
	io->write = mem_write;
	io->ctx = m;
}

/*
 * The FastCGI loop.  libfcgi parses the protocol; the waits and the
 * accepting are ours, so that a stop signal lands only where the worker
 * holds nothing a web server is waiting on.  libfcgi's own accept reads
 * the new connection's request with signals let through, and a stop
 * arriving then closes the connection unanswered (nginx answers 502).
 * So the stop signals stay blocked, and are let through only in ppoll()
 * on the listening socket or a kept connection and in accept(); a
 * connection in hand is given to FCGX_Accept_r() through its ipcFd, with
 * keepConnection set so that it reads the request rather than closing
 * the connection first.  Those two fields are marked "don't use" in
 * fcgiapp.h, but they are how libfcgi 2.4 carries a kept connection from
 * one request to the next.
 *
 * The listening socket is shared with the other workers, so the
 * connection ppoll() saw may be taken by one of them; our accept() is
 * bounded by a 100 ms timer (SIGALRM, caught by main.c to do nothing), so
 * a stop signal that lands just before the call never leaves the worker
 * blocked in it until the next connection.
 *
 * A stopping worker does not close a kept connection (FCGI_KEEP_CONN)
 * the web server may be writing a request to: nginx does not resend a
 * POST that met a closed connection.  It answers what comes on it, and
 * lets go when the web server closes it, when it has been idle for
 * DRAIN_IDLE_MS (nginx then reuses it last: its cache of kept
 * connections is last in, first out), or DRAIN_MAX_MS after the stop.
 */
#define LISTEN_FD	0		/* FCGI_LISTENSOCK_FILENO */
#define DRAIN_IDLE_MS	1000
#define DRAIN_MAX_MS	30000
#define ACCEPT_MAX_MS	100

static FCGX_Request	 fcgi_req;
static volatile sig_atomic_t stop_asked;
static uint64_t		 stop_ns;	/* when this worker saw the stop */

int
io_is_cgi(void)
{
	return FCGX_IsCGI();
}

int
io_fcgi_open(void)
{
	/* No listening socket for libfcgi: accepting is ours (below). */
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fcgi_req, -1, 0) != 0)
		return -1;
	return 0;
}

static void
ms_to_ts(uint64_t ms, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ms / 1000);
	ts->tv_nsec = (long)(ms % 1000) * 1000000L;
}

enum kept { KEPT_REQUEST, KEPT_AGAIN, KEPT_IDLE, KEPT_DONE };

/* Wait on the kept connection: a request, a signal, idle, or let go. */
static enum kept
kept_wait(const sigset_t *open, int idle_ms)
{
	struct pollfd	 pfd = { fcgi_req.ipcFd, POLLIN, 0 };
	struct timespec	 ts, *tsp = NULL;
	uint64_t	 now, left;
	ssize_t		 n;
	int		 draining = 0;
	char		 c;

	if (idle_ms >= 0) {
		ms_to_ts((uint64_t)idle_ms, &ts);
		tsp = &ts;
	}
	if (stop_asked) {
		now = clock_mono_ns();
		if (stop_ns == 0)
			stop_ns = now;
		if (now - stop_ns >= DRAIN_MAX_MS * NS_PER_MS)
			return KEPT_DONE;
		left = DRAIN_MAX_MS * NS_PER_MS - (now - stop_ns);
		if (left > DRAIN_IDLE_MS * NS_PER_MS)
			left = DRAIN_IDLE_MS * NS_PER_MS;
		ts.tv_sec = (time_t)(left / NS_PER_S);
		ts.tv_nsec = (long)(left % NS_PER_S);
		tsp = &ts;
		draining = 1;
	}
	if ((n = ppoll(&pfd, 1, tsp, open)) == -1)
		return errno == EINTR ? KEPT_AGAIN : KEPT_DONE;
	if (n == 0)
		return draining ? KEPT_DONE : KEPT_IDLE;
	/* Readable: the next request, or the web server's close. */
	n = recv(fcgi_req.ipcFd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return KEPT_AGAIN;
	return n == 1 ? KEPT_REQUEST : KEPT_DONE;
}

/*
 * FCGI_WEB_SERVER_ADDRS, as libfcgi checks it for a TCP listener: a
 * comma-separated list of the addresses a connection may come from.
 */
static int
peer_allowed(int fd)
{
	struct sockaddr_storage sa;
	socklen_t	 len = sizeof(sa);
	const char	*list, *p, *e;
	char		 addr[INET6_ADDRSTRLEN];
	size_t		 n;

	if ((list = getenv("FCGI_WEB_SERVER_ADDRS")) == NULL || *list == '\0')
		return 1;
	if (getpeername(fd, (struct sockaddr *)&sa, &len) == -1)
		return 0;
	if (sa.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr,
		    addr, sizeof(addr));
	else if (sa.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr,
		    addr, sizeof(addr));
	else
		return 1;	/* a unix socket: the file's mode decides */
	n = strlen(addr);
	for (p = list; *p != '\0'; p = *e == ',' ? e + 1 : e) {
		p += strspn(p, " \t");
		e = p + strcspn(p, ",");
		if ((size_t)(e - p) >= n && strncmp(p, addr, n) == 0 &&
		    strspn(p + n, " \t") == (size_t)(e - p) - n)
			return 1;
	}
	return 0;
}

/*
 * A new connection, stop signals let through: 1 with *fd, 0 when idle_ms
 * pass without one, -1 with errno.
 */
static int
listen_accept(const sigset_t *open, int idle_ms, int *fd)
{
	struct pollfd	 pfd = { LISTEN_FD, POLLIN, 0 };
	struct itimerval it, none;
	struct timespec	 ts;
	sigset_t	 held;
	int		 n, e;

	ms_to_ts(idle_ms >= 0 ? (uint64_t)idle_ms : 0, &ts);
	/* Poll first: a listening socket may be non-blocking. */
	if ((n = ppoll(&pfd, 1, idle_ms >= 0 ? &ts : NULL, open)) <= 0)
		return n;
	memset(&it, 0, sizeof(it));
	memset(&none, 0, sizeof(none));
	it.it_value.tv_usec = ACCEPT_MAX_MS * 1000;
	setitimer(ITIMER_REAL, &it, NULL);
	sigprocmask(SIG_SETMASK, open, &held);
	*fd = stop_asked ? (errno = EINTR, -1) :
	    accept4(LISTEN_FD, NULL, NULL, SOCK_CLOEXEC);
	e = errno;
	sigprocmask(SIG_SETMASK, &held, NULL);
	setitimer(ITIMER_REAL, &none, NULL);
	errno = e;
	if (*fd == -1)
		return -1;
	if (!peer_allowed(*fd)) {
		close(*fd);
		errno = ECONNABORTED;
		return -1;
	}
	return 1;
}

int
io_fcgi_wait(struct io *io, const sigset_t *open, int idle_ms)
{
	int	 fd = -1, rc;

	for (;;) {
		if (fcgi_req.ipcFd >= 0) {
			switch (kept_wait(open, idle_ms)) {
			case KEPT_REQUEST:
				break;
			case KEPT_AGAIN:
				continue;
			case KEPT_IDLE:
				return 0;
			case KEPT_DONE:
				FCGX_Free(&fcgi_req, 1);
				continue;
			}
		} else {
			if (stop_asked)
				return -1;
			if ((rc = listen_accept(open, idle_ms, &fd)) == 0)
				return 0;
			if (rc == -1) {
				/* A signal, the peer gave up, another worker
				 * won, or an address not let in. */
				if (errno == EINTR || errno == EAGAIN ||
				    errno == ECONNABORTED || errno == EPROTO)
					continue;
				return -1;
			}
			fcgi_req.ipcFd = fd;
		}
		fcgi_req.keepConnection = 1;
		/* Below 0: the connection brought no request (libfcgi has
		 * closed it); wait for the next one. */
		if (FCGX_Accept_r(&fcgi_req) >= 0)
			break;
	}
	io_fcgi(io, &fcgi_req);
	return 1;
}

static ssize_t
fcgi_get(char *p, size_t n)
{
	return FCGX_GetStr(p, (int)n, fcgi_req.in);
}

/*
 * Read what is left of FCGI_STDIN, up to its end-of-stream record, before
 * finishing.  A GET never reads its (empty) body; if the web server's
 * end-of-stream record arrives after our answer, the next accept would
 * read it as a stray record and drop the kept connection (Apache then
 * answers 503).
 */
void
io_fcgi_finish(void)
{
	drain(fcgi_get);
	FCGX_Finish_r(&fcgi_req);
}

void
io_fcgi_shutdown(void)
{
	stop_asked = 1;
	FCGX_ShutdownPending();
}
