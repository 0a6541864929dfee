/*
 * fuzz_request.c: libFuzzer target for the whole request path: the
 * environment (method, path, query, content type, length, headers) and
 * the body go through serve() as a web server would send them, against a
 * real store with one key.
 *
 * The input is split on newlines: method, PATH_INFO, QUERY_STRING,
 * CONTENT_TYPE, CONTENT_LENGTH, X-Api-Key, then the body (the rest).  The
 * text "$T" in the key header or the body is replaced by the key's real
 * token, so the fuzzer gets past authentication into the parsers.
 * Every answer must be a well-formed response with a status we use, and
 * never a 500.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "io.h"
#include "serve.h"
#include "store.h"

static struct server	 srv;
static char		 token[TOKEN_STR_LEN + 1];

int	 LLVMFuzzerInitialize(int *, char ***);
int	 LLVMFuzzerTestOneInput(const unsigned char *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct conf	 c;
	struct store	*st;
	char		 dir[] = "/tmp/idmint-fuzz-XXXXXX", err[512];
	unsigned char	 h[TOKEN_HASH_LEN];

	(void)argc;
	(void)argv;
	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		abort();
	conf_defaults(&c);
	snprintf(c.db, sizeof(c.db), "%s/db", dir);
	c.map_size = 64 << 20;
	if (token_new(token, h) == -1 || store_open(&st, c.db,
	    (size_t)c.map_size, err, sizeof(err)) != STORE_OK ||
	    store_key_add(st, "fz", "fuzz", NULL, 0, h) != STORE_OK)
		abort();
	store_close(st);
	if (server_init(&srv, &c) == -1 || server_open(&srv, err,
	    sizeof(err)) == -1)
		abort();
	return 0;
}

/* Copy s[0..n) into out, replacing "$T" by the token. */
static size_t
subst(char *out, const char *s, size_t n)
{
	size_t	 i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '$' && i + 1 < n && s[i + 1] == 'T') {
			memcpy(out + o, token, TOKEN_STR_LEN);
			o += TOKEN_STR_LEN;
			i++;
		} else
			out[o++] = s[i];
	}
	out[o] = '\0';
	return o;
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char *const names[] = { "REQUEST_METHOD=", "PATH_INFO=",
	    "QUERY_STRING=", "CONTENT_TYPE=", "CONTENT_LENGTH=",
	    "HTTP_X_API_KEY=" };
	char		*vars[6], *body;
	const char	*env[7], *p = (const char *)data, *e = p + size, *nl;
	size_t		 i, blen, cap;
	struct io_mem	 m;
	struct io	 io;
	int		 status = 0;

	if (size > 1 << 16)
		return 0;
	cap = size * (TOKEN_STR_LEN + 1) + 64;
	for (i = 0; i < 6; i++) {
		nl = memchr(p, '\n', (size_t)(e - p));
		if (nl == NULL)
			nl = e;
		vars[i] = malloc(strlen(names[i]) + cap);
		strcpy(vars[i], names[i]);
		/* A NUL inside a variable ends it, as in a real environment. */
		subst(vars[i] + strlen(names[i]), p, strnlen(p,
		    (size_t)(nl - p)));
		env[i] = vars[i];
		p = nl < e ? nl + 1 : e;
	}
	env[6] = NULL;
	body = malloc(cap);
	blen = subst(body, p, (size_t)(e - p));

	memset(&m, 0, sizeof(m));
	m.env = env;
	m.in = body;
	m.inlen = blen;
	io_mem(&io, &m);
	serve(&srv, &io);
	if (m.out == NULL || sscanf(m.out, "Status: %d ", &status) != 1 ||
	    strstr(m.out, "\r\n\r\n") == NULL)
		abort();
	if (status != 200 && status != 400 && status != 401 &&
	    status != 404 && status != 405 && status != 413 &&
	    status != 415 && status != 429)
		abort();
	free(m.out);
	free(body);
	for (i = 0; i < 6; i++)
		free(vars[i]);
	return 0;
}
