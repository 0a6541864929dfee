/*
 * io.c: the only file that includes fcgiapp.h.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sodium.h>

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

static FCGX_Request	 fcgi_req;

int
io_is_cgi(void)
{
	return FCGX_IsCGI();
}

static int	 listen_unix;	/* the listening socket is AF_UNIX */

int
io_fcgi_open(void)
{
	struct sockaddr_storage sa;
	socklen_t	 len = sizeof(sa);

	if (FCGX_Init() != 0 || FCGX_InitRequest(&fcgi_req, 0,
	    FCGI_FAIL_ACCEPT_ON_INTR) != 0)
		return -1;
	listen_unix = getsockname(fcgi_req.listen_sock, (struct sockaddr *)&sa,
	    &len) == 0 && sa.ss_family == AF_UNIX;
	return 0;
}

/*
 * accept(2) with the stop signals open, bounded by a short timer: the
 * socket is shared with the other workers, so the connection ppoll saw
 * may be taken by one of them, and a stop signal that lands just before
 * the call must not leave us blocked in it until the next connection.
 */
static int
bounded_accept(int fd, const sigset_t *open)
{
	struct itimerval it = { { 0, 0 }, { 0, 100 * 1000 } }, none;
	sigset_t	 was;
	int		 c, e;

	memset(&none, 0, sizeof(none));
	setitimer(ITIMER_REAL, &it, NULL);
	sigprocmask(SIG_SETMASK, open, &was);
	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	e = errno;
	sigprocmask(SIG_SETMASK, &was, NULL);
	setitimer(ITIMER_REAL, &none, NULL);
	errno = e;
	return c;
}

/* Did the web server close the kept connection? */
static int
conn_closed(int fd)
{
	char	 c;

	return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/*
 * Wait for the next request.  The stop signals stay blocked here but
 * inside ppoll(2) and our own accept(2), which take them atomically, so a
 * signal never lands between a check and a wait that would outlast it.
 * A kept connection is read by libfcgi only once data is there; a new
 * one on a unix socket is accepted here and handed to libfcgi (a TCP one
 * is left to libfcgi's accept, which checks FCGI_WEB_SERVER_ADDRS).
 */
int
io_fcgi_wait(struct io *io, const sigset_t *open,
    volatile sig_atomic_t *stop, int idle_ms)
{
	struct pollfd	 pfd;
	struct timespec	 ts = { idle_ms / 1000, (long)(idle_ms % 1000) * 1000000 };
	sigset_t	 was;
	int		 n, c;

	for (;;) {
		if (*stop)
			return -1;
		pfd.fd = fcgi_req.ipcFd >= 0 ? fcgi_req.ipcFd :
		    fcgi_req.listen_sock;
		pfd.events = POLLIN;
		n = ppoll(&pfd, 1, idle_ms >= 0 ? &ts : NULL, open);
		if (*stop)
			return -1;
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (fcgi_req.ipcFd >= 0) {
			if (!conn_closed(fcgi_req.ipcFd))
				break;
			FCGX_Free(&fcgi_req, 1);
			continue;
		}
		if (!listen_unix)
			break;
		if ((c = bounded_accept(fcgi_req.listen_sock, open)) == -1) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == ECONNABORTED)
				continue;
			return -1;
		}
		fcgi_req.ipcFd = c;
		/* FCGX_Accept_r first finishes the last request, which would
		 * close a connection it was not told to keep. */
		fcgi_req.keepConnection = 1;
		break;
	}
	if (!listen_unix && fcgi_req.ipcFd < 0) {
		/* libfcgi's own accept, with the stop signals open. */
		sigprocmask(SIG_SETMASK, open, &was);
		n = FCGX_Accept_r(&fcgi_req);
		sigprocmask(SIG_SETMASK, &was, NULL);
	} else
		n = FCGX_Accept_r(&fcgi_req);
	if (n < 0)
		return *stop || n != -EINTR ? -1 : 0;
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
	FCGX_ShutdownPending();
}
