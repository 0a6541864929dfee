/*
 * io.c: the only file that includes fcgiapp.h.
 */
#include "config.h"

#include <errno.h>
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

int
io_fcgi_open(void)
{
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fcgi_req, 0, 0) != 0)
		return -1;
	return 0;
}

int
io_fcgi_accept(struct io *io)
{
	if (FCGX_Accept_r(&fcgi_req) < 0)
		return -1;
	io_fcgi(io, &fcgi_req);
	return 0;
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
