/*
 * pg_int.h: what the pg*.c files share, and nothing outside them sees:
 * the handle and the statement runners.  Only pg*.c include libpq-fe.h.
 */
#ifndef IDMINT_PG_INT_H
#define IDMINT_PG_INT_H

#include <libpq-fe.h>

#include "pg.h"

/* pg_begin's locks: writers that others follow by a counter */
#define LOCK_SCHEMA	"1"
#define LOCK_KEYS	"2"	/* keys.version */
#define LOCK_USAGE	"3"	/* usage.seq */

struct pg {
	PGconn		*conn;
	unsigned	 timeout_ms;
	int		 broken;
	char		 err[512];
};

/* p->err = "PostgreSQL: what: why", without libpq's trailing newline. */
void		 pg_say(struct pg *, const char *what, const char *why);
/* One statement under the deadline; its result, or NULL with p->err. */
PGresult	*pg_run(struct pg *, const char *sql, int n,
		    const char *const *params);
/* The same when the rows do not matter. */
enum store_rc	 pg_exec(struct pg *, const char *sql, int n,
		    const char *const *params);
/* BEGIN, then the transaction-scoped advisory lock. */
enum store_rc	 pg_begin(struct pg *, const char *lock);
/* Commit when r is STORE_OK (after NOTIFY channel, payload, if any), else
 * roll back, keeping r's message; r or the commit's failure. */
enum store_rc	 pg_end(struct pg *, enum store_rc r, const char *channel,
		    const char *payload);
/* A cell as a number (0 when empty or not one), or copied as a string. */
uint64_t	 pg_num(const PGresult *, int row, int col);
void		 pg_copy(char *dst, size_t size, const PGresult *, int row,
		    int col);

#endif
