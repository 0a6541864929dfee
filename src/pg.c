/*
 * pg.c: cluster mode's PostgreSQL side: connecting, running statements
 * under a deadline, the schema and its migrations, notifications.  With
 * pg_keys.c and pg_nodes.c the only libpq users (see pg.h, and
 * doc/cluster.md for the tables).
 *
 * Queries are sent with PQsendQueryParams and waited for with poll(2)
 * under a deadline, so a server that stops answering costs a timeout,
 * never a hang.  Writes that others read by a change counter (keys by
 * version, usage by seq) take a transaction-scoped advisory lock before
 * they draw from the counter's sequence: they commit in counter order,
 * so a reader that has seen counter N has seen everything below it.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "parse.h"
#include "pg_int.h"

/* pg_advisory_xact_lock(6906989, a LOCK_*): 6906989 is "idm" */
#define LOCK_SQL	"SELECT pg_advisory_xact_lock(6906989, $1::int)"

void
pg_say(struct pg *p, const char *what, const char *why)
{
	size_t	 n;

	snprintf(p->err, sizeof(p->err), "PostgreSQL: %s: %s", what, why);
	/* libpq's messages end in a newline */
	n = strlen(p->err);
	while (n > 0 && (p->err[n - 1] == '\n' || p->err[n - 1] == ' '))
		p->err[--n] = '\0';
}

const char *
pg_error(const struct pg *p)
{
	return p->err;
}

int
pg_broken(const struct pg *p)
{
	return p->broken || PQstatus(p->conn) != CONNECTION_OK;
}

int
pg_socket(const struct pg *p)
{
	return PQsocket(p->conn);
}

/* ---- waiting under a deadline ----------------------------------------- */

/* Wait for the socket (events), at most until deadline (monotonic ns). */
static int
wait_sock(struct pg *p, short events, uint64_t deadline, const char *what)
{
	struct pollfd	 pfd;
	uint64_t	 now;
	int		 rc;

	for (;;) {
		now = clock_mono_ns();
		if (now >= deadline) {
			pg_say(p, what, "no answer in time");
			p->broken = 1;
			return -1;
		}
		pfd.fd = PQsocket(p->conn);
		pfd.events = events;
		rc = poll(&pfd, 1, (int)((deadline - now) / NS_PER_MS) + 1);
		if (rc > 0)
			return 0;
		if (rc == -1 && errno != EINTR) {
			pg_say(p, what, strerror(errno));
			p->broken = 1;
			return -1;
		}
	}
}

static uint64_t
deadline(const struct pg *p)
{
	return clock_mono_ns() + (uint64_t)p->timeout_ms * NS_PER_MS;
}

static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;	/* "already exists, skipping" and the like */
}

int
pg_open(struct pg **out, const char *conninfo, const char *app,
    unsigned timeout_ms, char *err, size_t errlen)
{
	/* The connection string comes last, so what it says wins. */
	const char *const keys[] = { "application_name", "dbname", NULL };
	const char *const vals[] = { app, conninfo, NULL };
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
	struct pg	*p;
	uint64_t	 end;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->timeout_ms = timeout_ms;
	end = deadline(p);
	if ((p->conn = PQconnectStartParams(keys, vals, 1)) == NULL) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (PQstatus(p->conn) != CONNECTION_BAD &&
	    ps != PGRES_POLLING_OK && ps != PGRES_POLLING_FAILED) {
		if (wait_sock(p, ps == PGRES_POLLING_READING ? POLLIN :
		    POLLOUT, end, "connecting") == -1)
			break;
		ps = PQconnectPoll(p->conn);
	}
	if (ps != PGRES_POLLING_OK || PQstatus(p->conn) != CONNECTION_OK) {
		if (!p->broken)
			pg_say(p, "connecting", PQerrorMessage(p->conn));
		snprintf(err, errlen, "%s", p->err);
		pg_close(p);
		return -1;
	}
	PQsetNoticeProcessor(p->conn, quiet, NULL);
	*out = p;
	return 0;
}

void
pg_close(struct pg *p)
{
	if (p == NULL)
		return;
	PQfinish(p->conn);
	free(p);
}

/* ---- running statements ----------------------------------------------- */

/* One statement; its result, or NULL with p->err set. */
PGresult *
pg_run(struct pg *p, const char *sql, int n, const char *const *params)
{
	PGresult	*res = NULL, *r;
	uint64_t	 end = deadline(p);
	ExecStatusType	 s;

	if (p->broken) {
		pg_say(p, "query", "the connection was lost");
		return NULL;
	}
	if (!PQsendQueryParams(p->conn, sql, n, NULL, params, NULL, NULL, 0)) {
		pg_say(p, "query", PQerrorMessage(p->conn));
		p->broken = 1;
		return NULL;
	}
	while (PQisBusy(p->conn)) {
		if (wait_sock(p, POLLIN, end, "query") == -1)
			return NULL;
		if (!PQconsumeInput(p->conn)) {
			pg_say(p, "query", PQerrorMessage(p->conn));
			p->broken = 1;
			return NULL;
		}
	}
	while ((r = PQgetResult(p->conn)) != NULL) {
		if (res == NULL)
			res = r;
		else
			PQclear(r);
	}
	s = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return res;
	pg_say(p, "query", res != NULL ? PQresultErrorMessage(res) :
	    PQerrorMessage(p->conn));
	PQclear(res);
	if (PQstatus(p->conn) != CONNECTION_OK)
		p->broken = 1;
	return NULL;
}

/* A statement whose rows do not matter. */
enum store_rc
pg_exec(struct pg *p, const char *sql, int n, const char *const *params)
{
	PGresult	*res;

	if ((res = pg_run(p, sql, n, params)) == NULL)
		return STORE_ERROR;
	PQclear(res);
	return STORE_OK;
}

enum store_rc
pg_begin(struct pg *p, const char *lock)
{
	const char *const v[] = { lock };

	if (pg_exec(p, "BEGIN", 0, NULL) != STORE_OK)
		return STORE_ERROR;
	if (pg_exec(p, LOCK_SQL, 1, v) != STORE_OK) {
		(void)pg_exec(p, "ROLLBACK", 0, NULL);
		return STORE_ERROR;
	}
	return STORE_OK;
}

/* Commit when r is STORE_OK (after a NOTIFY on channel, if any), else
 * roll back; r, or the commit's failure. */
enum store_rc
pg_end(struct pg *p, enum store_rc r, const char *channel,
    const char *payload)
{
	const char *const v[] = { channel, payload };
	char	 keep[sizeof(p->err)];

	if (r == STORE_OK && channel != NULL &&
	    pg_exec(p, "SELECT pg_notify($1, $2)", 2, v) != STORE_OK)
		r = STORE_ERROR;
	if (r == STORE_OK)
		return pg_exec(p, "COMMIT", 0, NULL);
	memcpy(keep, p->err, sizeof(keep));	/* the reason, not ROLLBACK's */
	(void)pg_exec(p, "ROLLBACK", 0, NULL);
	memcpy(p->err, keep, sizeof(keep));
	return r;
}

uint64_t
pg_num(const PGresult *res, int row, int col)
{
	const char	*s = PQgetvalue(res, row, col);
	uint64_t	 v = 0;

	if (s != NULL && *s != '\0')
		(void)parse_uint(s, strlen(s), UINT64_MAX, &v);
	return v;
}

void
pg_copy(char *dst, size_t size, const PGresult *res, int row, int col)
{
	snprintf(dst, size, "%s", PQgetvalue(res, row, col));
}

/* ---- the schema ------------------------------------------------------- */

/* Version 1.  Each step of a later version is a new array in migrations. */
static const char *const schema_v1[] = {
	"CREATE SEQUENCE idmint.key_seq",
	"CREATE TABLE idmint.keys ("
	" name text PRIMARY KEY,"
	" token_hash bytea NOT NULL,"
	" label text NOT NULL DEFAULT '',"
	" plan text NOT NULL,"
	" rate integer NOT NULL CHECK (rate >= 0),"
	" quota bigint NOT NULL CHECK (quota >= 0),"
	" status text NOT NULL CHECK (status IN"
	"  ('active', 'suspended', 'removed')),"
	" created bigint NOT NULL,"
	" rotated bigint NOT NULL DEFAULT 0,"
	" expires bigint NOT NULL DEFAULT 0,"
	" version bigint NOT NULL)",
	"CREATE INDEX keys_version ON idmint.keys (version)",
	"CREATE SEQUENCE idmint.usage_seq",
	"CREATE TABLE idmint.usage ("
	" node text NOT NULL,"
	" name text NOT NULL,"
	" month integer NOT NULL,"
	" type text NOT NULL,"
	" count bigint NOT NULL CHECK (count >= 0),"
	" seq bigint NOT NULL DEFAULT nextval('idmint.usage_seq'),"
	" PRIMARY KEY (node, name, month, type))",
	"CREATE INDEX usage_seq_idx ON idmint.usage (seq)",
	"CREATE INDEX usage_name_month ON idmint.usage (name, month)",
	"CREATE TABLE idmint.nodes ("
	" name text PRIMARY KEY,"
	" store_id text NOT NULL,"
	" joined timestamptz NOT NULL,"
	" seen timestamptz NOT NULL,"
	" key_version bigint NOT NULL DEFAULT 0)",
	"CREATE TABLE idmint.leases ("
	" id integer PRIMARY KEY CHECK (id >= 0 AND id < 1024),"
	" node text,"
	" taken timestamptz,"
	" expires timestamptz,"
	" minted_until bigint NOT NULL DEFAULT 0)",
};

static const struct {
	int			 version;
	const char *const	*sql;
	size_t			 n;
} migrations[] = {
	{ 1, schema_v1, sizeof(schema_v1) / sizeof(schema_v1[0]) },
};

enum store_rc
pg_schema_version(struct pg *p, int *version)
{
	PGresult	*res;
	int		 have;

	*version = 0;
	if ((res = pg_run(p, "SELECT to_regclass('idmint.meta') IS NOT NULL", 0,
	    NULL)) == NULL)
		return STORE_ERROR;
	have = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!have)
		return STORE_OK;
	if ((res = pg_run(p, "SELECT version FROM idmint.meta", 0, NULL)) == NULL)
		return STORE_ERROR;
	if (PQntuples(res) == 1)
		*version = (int)pg_num(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

static enum store_rc
migrate(struct pg *p, int from)
{
	char	 v[16];
	size_t	 i, j;
	const char *const pv[] = { v };

	for (i = 0; i < sizeof(migrations) / sizeof(migrations[0]); i++) {
		if (migrations[i].version <= from)
			continue;
		for (j = 0; j < migrations[i].n; j++)
			if (pg_exec(p, migrations[i].sql[j], 0, NULL) != STORE_OK)
				return STORE_ERROR;
		snprintf(v, sizeof(v), "%d", migrations[i].version);
		if (pg_exec(p, "UPDATE idmint.meta SET version = $1", 1, pv) !=
		    STORE_OK)
			return STORE_ERROR;
	}
	return STORE_OK;
}

enum store_rc
pg_schema_init(struct pg *p, int *from)
{
	enum store_rc	 r;
	char		 why[128];

	*from = 0;
	if (pg_begin(p, LOCK_SCHEMA) != STORE_OK)
		return STORE_ERROR;
	if ((r = pg_exec(p, "CREATE SCHEMA IF NOT EXISTS idmint", 0, NULL)) ==
	    STORE_OK)
		r = pg_exec(p, "CREATE TABLE IF NOT EXISTS idmint.meta ("
		    " version integer NOT NULL, node_bits integer,"
		    " snowflake_epoch bigint)", 0, NULL);
	if (r == STORE_OK)
		r = pg_schema_version(p, from);
	if (r == STORE_OK && *from == 0)
		r = pg_exec(p, "INSERT INTO idmint.meta (version) SELECT 0 "
		    "WHERE NOT EXISTS (SELECT 1 FROM idmint.meta)", 0, NULL);
	if (r == STORE_OK && *from > PG_SCHEMA_VERSION) {
		snprintf(why, sizeof(why), "the schema is at version %d, "
		    "newer than this idmint's %d", *from, PG_SCHEMA_VERSION);
		pg_say(p, "cluster init", why);
		r = STORE_INVALID;
	}
	if (r == STORE_OK)
		r = migrate(p, *from);
	return pg_end(p, r, NULL, NULL);
}

/* ---- notifications ---------------------------------------------------- */

enum store_rc
pg_listen(struct pg *p)
{
	if (pg_exec(p, "LISTEN idmint_keys", 0, NULL) != STORE_OK ||
	    pg_exec(p, "LISTEN idmint_usage", 0, NULL) != STORE_OK)
		return STORE_ERROR;
	return STORE_OK;
}

int
pg_notes(struct pg *p, const char *node)
{
	PGnotify	*n;
	int		 bits = 0;

	if (p->broken || !PQconsumeInput(p->conn)) {
		if (!p->broken)
			pg_say(p, "listening", PQerrorMessage(p->conn));
		p->broken = 1;
		return -1;
	}
	while ((n = PQnotifies(p->conn)) != NULL) {
		if (strcmp(n->relname, "idmint_keys") == 0)
			bits |= PG_NOTE_KEYS;
		else if (strcmp(n->relname, "idmint_usage") == 0 &&
		    strcmp(n->extra, node) != 0)
			bits |= PG_NOTE_USAGE;
		PQfreemem(n);
	}
	return bits;
}
