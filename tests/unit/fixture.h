/*
 * fixture.h: what the unit tests share.  A temporary directory that is
 * removed after the test, a store and a shared table in it, keys with
 * their tokens, and one request run through serve() in memory with its
 * answer picked apart.  Header-only: each test program is one file.
 */
#ifndef IDMINT_TEST_FIXTURE_H
#define IDMINT_TEST_FIXTURE_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "auth.h"
#include "io.h"
#include "plan.h"
#include "serve.h"
#include "store.h"
#include "usage.h"

/* ---- a temporary directory -------------------------------------------- */

static char	 fx_dir[256];		/* the directory */
static char	 fx_db[256 + 8];		/* fx_dir/db, the store */

static inline void
fx_mkdir(const char *name)
{
	snprintf(fx_dir, sizeof(fx_dir), "/tmp/%s.XXXXXX", name);
	cr_assert_not_null(mkdtemp(fx_dir));
	snprintf(fx_db, sizeof(fx_db), "%s/db", fx_dir);
}

static inline void
fx_rmdir(void)
{
	char	 cmd[PATH_MAX + 16];

	if (fx_dir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx_dir);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", fx_dir);
	fx_dir[0] = '\0';
}

/* ---- the store and the shared table ----------------------------------- */

static inline struct store *
fx_store(size_t mapsize)
{
	struct store	*st;
	char		 err[256];

	cr_assert_eq(store_open(&st, fx_db, mapsize, err, sizeof(err)),
	    STORE_OK, "%s", err);
	return st;
}

static inline struct usage *
fx_usage(void)
{
	struct usage	*u;
	char		 err[256];

	cr_assert_eq(usage_open(fx_dir, NULL, &u, err, sizeof(err)), 0, "%s", err);
	return u;
}

/* Add a key on plan p (NULL: unlimited); its token goes to token. */
static inline void
fx_key(struct store *st, const char *user, const struct plan *p,
    char token[TOKEN_STR_LEN + 1])
{
	unsigned char	 h[TOKEN_HASH_LEN];

	cr_assert_eq(token_new(token, h), 0);
	cr_assert_eq(store_key_add(st, user, "label", p, 0, h), STORE_OK, "%s",
	    store_error(st));
}

/* A counter of the shared table, as a flush hands it to the store. */
static inline struct usage_cell
fx_cell(const char *user, uint32_t month, const char *type, uint32_t slot,
    uint64_t counter)
{
	struct usage_cell c;

	memset(&c, 0, sizeof(c));
	snprintf(c.user, sizeof(c.user), "%s", user);
	snprintf(c.type, sizeof(c.type), "%s", type);
	c.month = month;
	c.slot = slot;
	c.counter = counter;
	return c;
}

/* store_usage_apply of counters of one generation, as a flush does. */
static inline enum store_rc
fx_apply(struct store *st, uint64_t gen, const struct usage_cell *c,
    size_t n)
{
	struct usage_batch b;

	memset(&b, 0, sizeof(b));
	b.generation = gen;
	b.cells = c;
	b.ncells = n;
	return store_usage_apply(st, &b);
}

/* ---- one request through serve() -------------------------------------- */

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
