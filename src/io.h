/*
 * io.h: where a request comes from and its response goes.  Three
 * back-ends: libfcgi (FastCGI), stdio (CGI), and memory (tests).  Nothing
 * above this layer knows which one it has.
 */
#ifndef IDMINT_IO_H
#define IDMINT_IO_H

#include <sys/types.h>

#include <signal.h>
#include <stddef.h>

struct io {
	const char	*(*getenv)(struct io *, const char *);
	/* Zero a variable's value in place (it held a secret), if it can. */
	void		 (*forget)(struct io *, const char *);
	/* Up to n bytes; 0 at end of input, -1 on error. */
	ssize_t		 (*read)(struct io *, void *, size_t);
	int		 (*write)(struct io *, const void *, size_t);
	void		*ctx;
};

/* FastCGI: wrap an accepted FCGX_Request (passed as void * so that only
 * io.c includes fcgiapp.h). */
void	 io_fcgi(struct io *, void *fcgx_request);
/* The FastCGI accept loop, kept here so that only io.c knows libfcgi. */
int	 io_is_cgi(void);
int	 io_fcgi_open(void);
/*
 * Wait for the next request and point io at it: 1.  0 when idle_ms (-1:
 * no limit) pass without one; -1 when the loop ends (a stop was asked for,
 * or the listening socket failed).  The caller keeps the stop signals
 * blocked; they are let through (`open` is the mask then) only while the
 * worker waits with nothing in hand.  A stopping worker first answers
 * what comes on a kept connection, then lets it go (io.c says when).
 */
int	 io_fcgi_wait(struct io *, const sigset_t *open, int idle_ms);
void	 io_fcgi_finish(void);
/* Async-signal-safe: ask the loop to stop after the request in hand. */
void	 io_fcgi_shutdown(void);

/* CGI: the process environment, stdin and stdout. */
void	 io_cgi(struct io *);
/* Read what is left of the body, bounded, before exiting. */
void	 io_cgi_finish(void);

/* Tests: env is a NULL-terminated "NAME=value" array; output collected. */
struct io_mem {
	const char *const *env;
	const char *in;
	size_t	 inlen, inpos;
	char	*out;
	size_t	 outlen, outcap;
};
void	 io_mem(struct io *, struct io_mem *);

#endif
