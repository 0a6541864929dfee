/*
 * harness.h: run one request through serve() in memory and pick the
 * answer apart: status, a header, the body.
 */
#ifndef IDMINT_TEST_HARNESS_H
#define IDMINT_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "serve.h"

struct answer {
	int	 status;
	char	*raw;		/* the whole output */
	char	*body;		/* points into raw */
};

static inline void
answer_free(struct answer *a)
{
	free(a->raw);
	memset(a, 0, sizeof(*a));
}

/* The value of header `name` in the answer (case-sensitive), or NULL. */
static inline char *
answer_header(const struct answer *a, const char *name)
{
	static char	 val[512];
	const char	*p = a->raw;
	size_t		 n = strlen(name);

	while (p != NULL && *p != '\r') {
		if (strncmp(p, name, n) == 0 && p[n] == ':') {
			const char *e = strstr(p, "\r\n");
			size_t len = (size_t)(e - (p + n + 2));
			if (len >= sizeof(val))
				len = sizeof(val) - 1;
			memcpy(val, p + n + 2, len);
			val[len] = '\0';
			return val;
		}
		p = strstr(p, "\r\n");
		if (p != NULL)
			p += 2;
	}
	return NULL;
}

static inline void
run_request(struct server *s, const char *const *env, const char *body,
    size_t bodylen, struct answer *a)
{
	struct io_mem	 m = { .env = env, .in = body, .inlen = bodylen };
	struct io	 io;
	char		*sep;

	io_mem(&io, &m);
	serve(s, &io);
	memset(a, 0, sizeof(*a));
	a->raw = m.out;
	if (a->raw == NULL)
		return;
	sscanf(a->raw, "Status: %d", &a->status);
	sep = strstr(a->raw, "\r\n\r\n");
	a->body = sep != NULL ? sep + 4 : NULL;
}

#endif
