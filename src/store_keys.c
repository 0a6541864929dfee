/*
 * store_keys.c: key records and the token map: lookups, authentication,
 * and the changes idmintctl makes.
 *
 * Record, version 1: version, status, rate u32, quota u64, created i64,
 * rotated i64, hash[32], plan length u8, label length u16, plan, label.
 * Version 2 adds expires i64 after rotated.  A key that never expires is
 * still written as version 1, so stores that do not use expiry keep the
 * format older programs read; both are read.
 */
#include "config.h"

#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "clock.h"
#include "plan.h"
#include "store_int.h"

#define REC_V1		1
#define REC_V2		2	/* + expires */
#define REC_FIXED	(1 + 1 + 4 + 8 + 8 + 8 + TOKEN_HASH_LEN + 1 + 2)
#define REC_EXPIRES	8	/* what version 2 adds */
#define REC_MAX		(REC_FIXED + REC_EXPIRES + PLAN_NAME_MAX + LABEL_MAX)

_Static_assert(REC_MAX <= sizeof(((struct store *)0)->dummy),
    "the dummy record must hold any record");

static size_t
rec_encode(const struct key *k, unsigned char *b)
{
	size_t	 pl = strlen(k->plan), ll = strlen(k->label), o = 30;

	b[0] = k->expires != 0 ? REC_V2 : REC_V1;
	b[1] = (unsigned char)k->status;
	put_le(b + 2, k->rate, 4);
	put_le(b + 6, k->quota, 8);
	put_le(b + 14, (uint64_t)k->created, 8);
	put_le(b + 22, (uint64_t)k->rotated, 8);
	if (b[0] == REC_V2) {
		put_le(b + o, (uint64_t)k->expires, 8);
		o += REC_EXPIRES;
	}
	memcpy(b + o, k->hash, TOKEN_HASH_LEN);
	o += TOKEN_HASH_LEN;
	b[o] = (unsigned char)pl;
	put_le(b + o + 1, ll, 2);
	o += 3;
	memcpy(b + o, k->plan, pl);
	memcpy(b + o + pl, k->label, ll);
	return o + pl + ll;
}

static enum store_rc
rec_decode(struct store *st, const MDB_val *kv, const MDB_val *v,
    struct key *k)
{
	const unsigned char *b = v->mv_data;
	size_t	 pl, ll, x, fixed;

	memset(k, 0, sizeof(*k));
	if (kv->mv_size == 0 || kv->mv_size > USER_MAX ||
	    v->mv_size < REC_FIXED || (b[0] != REC_V1 && b[0] != REC_V2))
		goto bad;
	x = b[0] == REC_V2 ? REC_EXPIRES : 0;	/* where v2 shifts */
	fixed = REC_FIXED + x;
	if (v->mv_size < fixed)
		goto bad;
	pl = b[30 + x + TOKEN_HASH_LEN];
	ll = get_le(b + 31 + x + TOKEN_HASH_LEN, 2);
	if (pl > PLAN_NAME_MAX || ll > LABEL_MAX ||
	    v->mv_size != fixed + pl + ll || b[1] > KEY_SUSPENDED)
		goto bad;
	memcpy(k->user, kv->mv_data, kv->mv_size);
	k->status = b[1];
	k->rate = (uint32_t)get_le(b + 2, 4);
	k->quota = get_le(b + 6, 8);
	k->created = (int64_t)get_le(b + 14, 8);
	k->rotated = (int64_t)get_le(b + 22, 8);
	if (x != 0)
		k->expires = (int64_t)get_le(b + 30, 8);
	memcpy(k->hash, b + 30 + x, TOKEN_HASH_LEN);
	memcpy(k->plan, b + fixed, pl);
	memcpy(k->label, b + fixed + pl, ll);
	return STORE_OK;
bad:
	snprintf(st->err, sizeof(st->err), "the record of key \"%.*s\" in %s "
	    "cannot be read (format version %u)", (int)(kv->mv_size > USER_MAX ?
	    USER_MAX : kv->mv_size), (const char *)kv->mv_data, st->path,
	    v->mv_size ? b[0] : 0);
	return STORE_CORRUPT;
}

int
key_expired(const struct key *k, int64_t now)
{
	return k->expires != 0 && k->expires <= now;
}

/* Active and not expired, with the same work whichever fails. */
static int
key_live(const struct key *k)
{
	int64_t	 now = (int64_t)(now_ms() / MS_PER_S);

	return (k->status == KEY_ACTIVE) & !key_expired(k, now);
}

/* What an unknown user is compared against: a suspended key with a
 * random hash (random per process, so no token can match it). */
void
store_keys_init(struct store *st)
{
	struct key	 k;

	memset(&k, 0, sizeof(k));
	snprintf(k.user, sizeof(k.user), "dummy");
	snprintf(k.plan, sizeof(k.plan), "unlimited");
	k.status = KEY_SUSPENDED;
	randombytes_buf(k.hash, sizeof(k.hash));
	st->dummy_len = rec_encode(&k, st->dummy);
}

static enum store_rc
get_key(struct store *st, MDB_txn *txn, const char *user, struct key *out)
{
	MDB_val	 k = { strlen(user), (void *)user }, v;
	int	 rc;

	if ((rc = mdb_get(txn, st->keys, &k, &v)) != 0)
		return store_fail(st, rc, "reading a key");
	return rec_decode(st, &k, &v, out);
}

static int
put_key(struct store *st, MDB_txn *txn, const struct key *key,
    unsigned int flags)
{
	unsigned char	 b[REC_MAX];
	MDB_val		 k = { strlen(key->user), (void *)key->user }, v;

	v.mv_size = rec_encode(key, b);
	v.mv_data = b;
	return mdb_put(txn, st->keys, &k, &v, flags);
}

/* ---- lookups and authentication --------------------------------------- */

enum store_rc
store_key_by_user(struct store *st, const char *user, size_t len,
    struct key *out)
{
	char		 u[USER_MAX + 1], e[8];
	enum store_rc	 r;
	int		 own;

	if (user_norm(user, len, u, e, sizeof(e)) == -1)
		return STORE_NOTFOUND;
	if ((r = store_rd_enter(st, &own)) != STORE_OK)
		return r;
	r = get_key(st, st->rtxn, u, out);
	store_rd_leave(st, own);
	return r;
}

enum store_rc
store_key_by_hash(struct store *st, const unsigned char h[TOKEN_HASH_LEN],
    struct key *out)
{
	MDB_val		 k = { TOKEN_HASH_LEN, (void *)h }, v;
	char		 u[USER_MAX + 1];
	enum store_rc	 r;
	int		 own, rc;

	if ((r = store_rd_enter(st, &own)) != STORE_OK)
		return r;
	if ((rc = mdb_get(st->rtxn, st->tokens, &k, &v)) != 0)
		r = store_fail(st, rc, "reading a token");
	else if (v.mv_size == 0 || v.mv_size > USER_MAX)
		r = store_fail(st, MDB_CORRUPTED, "reading a token");
	else {
		memcpy(u, v.mv_data, v.mv_size);
		u[v.mv_size] = '\0';
		r = get_key(st, st->rtxn, u, out);
	}
	store_rd_leave(st, own);
	return r;
}

enum store_rc
store_auth_user(struct store *st, const char *user, size_t ulen,
    const unsigned char h[TOKEN_HASH_LEN], struct key *out)
{
	enum store_rc	 r;
	int		 found, match, active;

	r = store_key_by_user(st, user, ulen, out);
	if (r != STORE_OK && r != STORE_NOTFOUND)
		return r;
	found = r == STORE_OK;
	if (!found) {
		/* The work a found key costs: decode a record, compare. */
		MDB_val	 dk = { 5, (void *)"dummy" };
		MDB_val	 dv = { st->dummy_len, st->dummy };

		rec_decode(st, &dk, &dv, out);
	}
	match = sodium_memcmp(h, out->hash, TOKEN_HASH_LEN) == 0;
	active = key_live(out);
	if (found & match & active)
		return STORE_OK;
	memset(out, 0, sizeof(*out));
	return STORE_DENIED;
}

enum store_rc
store_auth_hash(struct store *st, const unsigned char h[TOKEN_HASH_LEN],
    struct key *out)
{
	enum store_rc	 r;

	r = store_key_by_hash(st, h, out);
	if (r != STORE_OK && r != STORE_NOTFOUND)
		return r;
	if (r == STORE_OK && key_live(out) &&
	    sodium_memcmp(h, out->hash, TOKEN_HASH_LEN) == 0)
		return STORE_OK;
	memset(out, 0, sizeof(*out));
	return STORE_DENIED;
}

/* ---- changing keys ---------------------------------------------------- */

static int
put_token(struct store *st, MDB_txn *txn, const struct key *key,
    unsigned int flags)
{
	MDB_val	 k = { TOKEN_HASH_LEN, (void *)key->hash };
	MDB_val	 v = { strlen(key->user), (void *)key->user };

	return mdb_put(txn, st->tokens, &k, &v, flags);
}

static int
del_token(struct store *st, MDB_txn *txn, const struct key *key)
{
	MDB_val	 k = { TOKEN_HASH_LEN, (void *)key->hash };
	int	 rc = mdb_del(txn, st->tokens, &k, NULL);

	return rc == MDB_NOTFOUND ? 0 : rc;
}

static void
set_plan(struct key *k, const struct plan *p)
{
	snprintf(k->plan, sizeof(k->plan), "%s", p->name);
	k->rate = p->rate;
	k->quota = p->quota;
}

enum store_rc
store_key_add(struct store *st, const char *user, const char *label,
    const struct plan *p, int64_t expires,
    const unsigned char hash[TOKEN_HASH_LEN])
{
	struct key	 k;
	MDB_txn		*txn;
	enum store_rc	 r;
	int		 rc;

	memset(&k, 0, sizeof(k));
	if ((r = store_norm(st, user, k.user)) != STORE_OK)
		return r;
	if (label == NULL)
		label = "";
	if (label_check(label, st->err, sizeof(st->err)) == -1)
		return STORE_INVALID;
	snprintf(k.label, sizeof(k.label), "%s", label);
	set_plan(&k, p != NULL ? p : &plans[PLAN_DEFAULT]);
	k.status = KEY_ACTIVE;
	k.created = (int64_t)time(NULL);
	k.expires = expires;
	memcpy(k.hash, hash, TOKEN_HASH_LEN);
	if ((rc = store_wr_begin(st, &txn)) != 0)
		r = store_fail(st, rc, "adding a key");
	else if ((rc = put_key(st, txn, &k, MDB_NOOVERWRITE)) == MDB_KEYEXIST) {
		mdb_txn_abort(txn);
		r = store_say(st, STORE_EXISTS, "a key named %s already exists",
		    k.user);
	} else {
		if (rc == 0)
			rc = put_token(st, txn, &k, MDB_NOOVERWRITE);
		r = store_commit(st, txn, rc, "adding a key");
	}
	sodium_memzero(&k, sizeof(k));
	return r;
}

/* Read one key, let fn change it, in one write transaction. */
static enum store_rc
key_update(struct store *st, const char *user, const char *what,
    int (*fn)(struct store *, MDB_txn *, struct key *, const void *),
    const void *arg)
{
	char		 u[USER_MAX + 1];
	struct key	 k;
	MDB_txn		*txn;
	enum store_rc	 r;
	int		 rc;

	if ((r = store_norm(st, user, u)) != STORE_OK)
		return r;
	if ((rc = store_wr_begin(st, &txn)) != 0)
		return store_fail(st, rc, what);
	if ((r = get_key(st, txn, u, &k)) != STORE_OK) {
		mdb_txn_abort(txn);
		if (r == STORE_NOTFOUND)
			store_say(st, r, "no key named %s", u);
		return r;
	}
	rc = fn(st, txn, &k, arg);
	r = store_commit(st, txn, rc, what);
	sodium_memzero(&k, sizeof(k));
	return r;
}

static int
do_rotate(struct store *st, MDB_txn *txn, struct key *k, const void *arg)
{
	int	 rc;

	if ((rc = del_token(st, txn, k)) != 0)
		return rc;
	memcpy(k->hash, arg, TOKEN_HASH_LEN);
	k->rotated = (int64_t)time(NULL);
	if ((rc = put_token(st, txn, k, MDB_NOOVERWRITE)) != 0)
		return rc;
	return put_key(st, txn, k, 0);
}

enum store_rc
store_key_rotate(struct store *st, const char *user,
    const unsigned char hash[TOKEN_HASH_LEN])
{
	return key_update(st, user, "rotating a token", do_rotate, hash);
}

static int
do_status(struct store *st, MDB_txn *txn, struct key *k, const void *arg)
{
	k->status = *(const enum key_status *)arg;
	return put_key(st, txn, k, 0);
}

enum store_rc
store_key_set_status(struct store *st, const char *user, enum key_status s)
{
	return key_update(st, user, "changing a key", do_status, &s);
}

static int
do_plan(struct store *st, MDB_txn *txn, struct key *k, const void *arg)
{
	set_plan(k, arg);
	return put_key(st, txn, k, 0);
}

enum store_rc
store_key_set_plan(struct store *st, const char *user, const struct plan *p)
{
	return key_update(st, user, "changing a plan", do_plan, p);
}

static int
do_expires(struct store *st, MDB_txn *txn, struct key *k, const void *arg)
{
	k->expires = *(const int64_t *)arg;
	return put_key(st, txn, k, 0);
}

enum store_rc
store_key_set_expires(struct store *st, const char *user, int64_t expires)
{
	return key_update(st, user, "changing an expiry", do_expires,
	    &expires);
}

static int
do_remove(struct store *st, MDB_txn *txn, struct key *k, const void *arg)
{
	MDB_val	 kv = { strlen(k->user), k->user };
	int	 rc;

	(void)arg;
	if ((rc = del_token(st, txn, k)) != 0)
		return rc;
	return mdb_del(txn, st->keys, &kv, NULL);
}

enum store_rc
store_key_remove(struct store *st, const char *user)
{
	return key_update(st, user, "removing a key", do_remove, NULL);
}

enum store_rc
store_key_each(struct store *st, int (*cb)(void *, const struct key *),
    void *arg)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	struct key	 key;
	enum store_rc	 r;
	int		 own, rc;

	if ((r = store_rd_enter(st, &own)) != STORE_OK)
		return r;
	if ((rc = mdb_cursor_open(st->rtxn, st->keys, &c)) != 0) {
		store_rd_leave(st, own);
		return store_fail(st, rc, "listing keys");
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if ((r = rec_decode(st, &k, &v, &key)) != STORE_OK ||
		    cb(arg, &key) != 0)
			break;
	}
	if (r == STORE_OK && rc != 0 && rc != MDB_NOTFOUND)
		r = store_fail(st, rc, "listing keys");
	mdb_cursor_close(c);
	store_rd_leave(st, own);
	return r;
}

/* ---- the cluster mirror (store_cluster.c) ----------------------------- */

int
store_key_mirror(struct store *st, MDB_txn *txn, const struct key *k)
{
	struct key	 old;
	int		 rc;

	/* Rotated elsewhere: the old token must stop working here too. */
	if (get_key(st, txn, k->user, &old) == STORE_OK &&
	    memcmp(old.hash, k->hash, TOKEN_HASH_LEN) != 0 &&
	    (rc = del_token(st, txn, &old)) != 0)
		return rc;
	if ((rc = put_key(st, txn, k, 0)) != 0)
		return rc;
	return put_token(st, txn, k, 0);
}

int
store_key_unmirror(struct store *st, MDB_txn *txn, const char *user)
{
	struct key	 old;
	MDB_val		 k = { strlen(user), (void *)user };
	enum store_rc	 r;

	if ((r = get_key(st, txn, user, &old)) == STORE_OK)
		return do_remove(st, txn, &old, NULL);
	/* A record we cannot read: its token is unknown, the key goes. */
	return r == STORE_CORRUPT ? mdb_del(txn, st->keys, &k, NULL) : 0;
}
