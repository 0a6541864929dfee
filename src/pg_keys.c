/*
 * pg_keys.c: keys in PostgreSQL: the changes idmintctl makes (each in its
 * own transaction under the keys lock, then NOTIFY idmint_keys), the
 * lookups, and the changes the sync process mirrors, by version.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "pg_int.h"
#include "plan.h"

#define KEY_COLS	"name, encode(token_hash, 'hex'), label, plan, rate, " \
			"quota, status, created, rotated, version, expires"

static void
hash_hex(const unsigned char *h, char out[2 + TOKEN_HASH_LEN * 2 + 1])
{
	out[0] = '\\';
	out[1] = 'x';
	sodium_bin2hex(out + 2, TOKEN_HASH_LEN * 2 + 1, h, TOKEN_HASH_LEN);
}

/* Row i of a KEY_COLS result; -1 if it does not make a key. */
static int
key_row(const PGresult *res, int i, struct key_change *c)
{
	const char	*hex = PQgetvalue(res, i, 1), *st = PQgetvalue(res, i, 6);
	size_t		 got = 0;

	memset(c, 0, sizeof(*c));
	if (strlen(PQgetvalue(res, i, 0)) > USER_MAX ||
	    sodium_hex2bin(c->key.hash, TOKEN_HASH_LEN, hex, strlen(hex), NULL,
	    &got, NULL) != 0 || got != TOKEN_HASH_LEN)
		return -1;
	pg_copy(c->key.user, sizeof(c->key.user), res, i, 0);
	pg_copy(c->key.label, sizeof(c->key.label), res, i, 2);
	pg_copy(c->key.plan, sizeof(c->key.plan), res, i, 3);
	c->key.rate = (uint32_t)pg_num(res, i, 4);
	c->key.quota = pg_num(res, i, 5);
	c->key.status = strcmp(st, "active") == 0 ? KEY_ACTIVE : KEY_SUSPENDED;
	c->removed = strcmp(st, "removed") == 0;
	c->key.created = (int64_t)pg_num(res, i, 7);
	c->key.rotated = (int64_t)pg_num(res, i, 8);
	c->key.expires = (int64_t)pg_num(res, i, 10);
	return 0;
}

/*
 * One change to keys, in its own transaction under the keys lock, then
 * NOTIFY idmint_keys.  sql must RETURN a row when it changed one; none
 * means `none` (STORE_NOTFOUND or STORE_EXISTS), said with message.
 */
static enum store_rc
key_write(struct pg *p, const char *sql, int n, const char *const *v,
    enum store_rc none, const char *message)
{
	PGresult	*res;
	enum store_rc	 r;
	char		 why[USER_MAX * 4 + 64];

	if (pg_begin(p, LOCK_KEYS) != STORE_OK)
		return STORE_ERROR;
	if ((res = pg_run(p, sql, n, v)) == NULL)
		r = STORE_ERROR;
	else {
		r = PQntuples(res) > 0 ? STORE_OK : none;
		PQclear(res);
	}
	if (r == none) {
		snprintf(why, sizeof(why), message, v[0]);
		snprintf(p->err, sizeof(p->err), "%s", why);
	}
	return pg_end(p, r, "idmint_keys", "");
}

/* Insert k, or bring back a removed key of that name. */
static enum store_rc
key_insert(struct pg *p, const struct key *k)
{
	char	 h[2 + TOKEN_HASH_LEN * 2 + 1], rate[16], quota[24];
	char	 created[24], rotated[24], expires[24];
	const char *const v[] = { k->user, h, k->label, k->plan, rate, quota,
	    k->status == KEY_ACTIVE ? "active" : "suspended", created,
	    rotated, expires };

	hash_hex(k->hash, h);
	snprintf(rate, sizeof(rate), "%u", k->rate);
	snprintf(quota, sizeof(quota), "%" PRIu64, k->quota);
	snprintf(created, sizeof(created), "%" PRId64, k->created);
	snprintf(rotated, sizeof(rotated), "%" PRId64, k->rotated);
	snprintf(expires, sizeof(expires), "%" PRId64, k->expires);
	return key_write(p, "INSERT INTO idmint.keys (name, token_hash, "
	    "label, plan, rate, quota, status, created, rotated, expires, "
	    "version) VALUES ($1, $2::bytea, $3, $4, $5, $6, $7, $8, $9, $10, "
	    "nextval('idmint.key_seq')) ON CONFLICT (name) DO UPDATE SET "
	    "token_hash = EXCLUDED.token_hash, label = EXCLUDED.label, "
	    "plan = EXCLUDED.plan, rate = EXCLUDED.rate, "
	    "quota = EXCLUDED.quota, status = EXCLUDED.status, "
	    "created = EXCLUDED.created, rotated = EXCLUDED.rotated, "
	    "expires = EXCLUDED.expires, version = EXCLUDED.version "
	    "WHERE idmint.keys.status = 'removed' RETURNING name", 10, v,
	    STORE_EXISTS,
	    "a key named \"%s\" already exists");
}

enum store_rc
pg_key_add(struct pg *p, const char *user, const char *label,
    const struct plan *pl, int64_t expires,
    const unsigned char hash[TOKEN_HASH_LEN])
{
	struct key	 k;

	memset(&k, 0, sizeof(k));
	snprintf(k.user, sizeof(k.user), "%s", user);
	snprintf(k.label, sizeof(k.label), "%s", label != NULL ? label : "");
	snprintf(k.plan, sizeof(k.plan), "%s", pl->name);
	k.rate = pl->rate;
	k.quota = pl->quota;
	k.status = KEY_ACTIVE;
	k.created = (int64_t)(now_ms() / MS_PER_S);
	k.expires = expires;
	memcpy(k.hash, hash, TOKEN_HASH_LEN);
	return key_insert(p, &k);
}

enum store_rc
pg_key_import(struct pg *p, const struct key *k)
{
	return key_insert(p, k);
}

/* An UPDATE of one live key: SET clause, then the key's name as $1. */
static enum store_rc
key_update(struct pg *p, const char *set, int n, const char *const *v)
{
	char	 sql[512];

	snprintf(sql, sizeof(sql), "UPDATE idmint.keys SET %s, "
	    "version = nextval('idmint.key_seq') WHERE name = $1 AND "
	    "status <> 'removed' RETURNING name", set);
	return key_write(p, sql, n, v, STORE_NOTFOUND, "no key named \"%s\"");
}

enum store_rc
pg_key_rotate(struct pg *p, const char *user,
    const unsigned char hash[TOKEN_HASH_LEN])
{
	char	 h[2 + TOKEN_HASH_LEN * 2 + 1], now[24];
	const char *const v[] = { user, h, now };

	hash_hex(hash, h);
	snprintf(now, sizeof(now), "%" PRIu64, now_ms() / MS_PER_S);
	return key_update(p, "token_hash = $2::bytea, rotated = $3", 3, v);
}

enum store_rc
pg_key_set_status(struct pg *p, const char *user, enum key_status s)
{
	const char *const v[] = { user, s == KEY_ACTIVE ? "active" :
	    "suspended" };

	return key_update(p, "status = $2", 2, v);
}

enum store_rc
pg_key_set_plan(struct pg *p, const char *user, const struct plan *pl)
{
	char	 rate[16], quota[24];
	const char *const v[] = { user, pl->name, rate, quota };

	snprintf(rate, sizeof(rate), "%u", pl->rate);
	snprintf(quota, sizeof(quota), "%" PRIu64, pl->quota);
	return key_update(p, "plan = $2, rate = $3, quota = $4", 4, v);
}

enum store_rc
pg_key_set_expires(struct pg *p, const char *user, int64_t expires)
{
	char	 e[24];
	const char *const v[] = { user, e };

	snprintf(e, sizeof(e), "%" PRId64, expires);
	return key_update(p, "expires = $2", 2, v);
}

enum store_rc
pg_key_remove(struct pg *p, const char *user)
{
	const char *const v[] = { user };

	/* The row stays, removed, so that every node's mirror drops it. */
	return key_update(p, "status = 'removed'", 1, v);
}

/* Every row of a KEY_COLS query to cb; *version (if any) to the last. */
static enum store_rc
key_rows(struct pg *p, const char *sql, int n, const char *const *v,
    int (*cb)(void *, const struct key_change *), void *arg,
    uint64_t *version)
{
	PGresult		*res;
	struct key_change	 c;
	int			 i;

	if ((res = pg_run(p, sql, n, v)) == NULL)
		return STORE_ERROR;
	for (i = 0; i < PQntuples(res); i++) {
		if (key_row(res, i, &c) == -1)
			continue;	/* not one a name rule allows */
		if (cb(arg, &c) != 0)
			break;
		if (version != NULL)
			*version = pg_num(res, i, 9);
	}
	PQclear(res);
	return STORE_OK;
}

struct one_key {
	struct key	*out;
	int		 found;
};

static int
one_key(void *arg, const struct key_change *c)
{
	struct one_key	*o = arg;

	*o->out = c->key;
	o->found = 1;
	return 1;
}

enum store_rc
pg_key_by_user(struct pg *p, const char *user, struct key *out)
{
	struct one_key	 o = { out, 0 };
	const char *const v[] = { user };
	enum store_rc	 r;

	r = key_rows(p, "SELECT " KEY_COLS " FROM idmint.keys WHERE name = $1 "
	    "AND status <> 'removed'", 1, v, one_key, &o, NULL);
	return r == STORE_OK && !o.found ? STORE_NOTFOUND : r;
}

struct each_key {
	int	(*cb)(void *, const struct key *);
	void	*arg;
};

static int
each_key(void *arg, const struct key_change *c)
{
	struct each_key	*e = arg;

	return e->cb(e->arg, &c->key);
}

enum store_rc
pg_key_each(struct pg *p, int (*cb)(void *, const struct key *), void *arg)
{
	struct each_key	 e = { cb, arg };

	return key_rows(p, "SELECT " KEY_COLS " FROM idmint.keys WHERE "
	    "status <> 'removed' ORDER BY name", 0, NULL, each_key, &e, NULL);
}

enum store_rc
pg_key_changes(struct pg *p, uint64_t *version,
    int (*cb)(void *, const struct key_change *), void *arg)
{
	char	 from[24];
	const char *const v[] = { from };

	snprintf(from, sizeof(from), "%" PRIu64, *version);
	return key_rows(p, "SELECT " KEY_COLS " FROM idmint.keys WHERE "
	    "version > $1 ORDER BY version", 1, v, cb, arg, version);
}
