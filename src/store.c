/*
 * store.c: the LMDB store.  The only file that includes lmdb.h.
 *
 * Shape taken from Postfix slmdb.c, knot-dns knot_lmdb.c and OpenLDAP
 * back-mdb: one environment per process, opened after fork, MDB_NOTLS so
 * a reader slot belongs to our one reused read transaction rather than to
 * a thread; every DBI opened once at open; LMDB errors turned into ours
 * in store_fail() alone; mdb_reader_check at open and when readers run
 * out; the map set large up front and MDB_MAP_RESIZED adopted.
 *
 * Durability: neither MDB_NOSYNC nor MDB_NOMETASYNC.  Every writer here is
 * rare (idmintctl, a usage flush at most every flush_ms, a slot lease at
 * start-up), so full syncs cost nothing that matters, and a key printed by
 * `idmintctl add` is on disk before its token is shown.
 *
 * Sub-databases, all integers little-endian unless said otherwise:
 *   keys     username -> record (version byte first, see rec_encode)
 *   tokens   BLAKE2b-256(token) -> username
 *   usage    username NUL month(u32 big-endian) type -> u64 count
 *   marks    slot(u32 BE) -> generation u64, mark u64 (the last counter
 *            flushed for that shared-memory slot; a mark stored under
 *            another generation counts as 0, which is how a generation
 *            change resets every mark without a sweep)
 *   workers  slot(u32 BE) -> pid u64, start time u64 (snowflake leases)
 *   meta     "format" -> u32 store format
 * Big-endian numbers in keys make LMDB's byte order the numeric order.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>
#include <sodium.h>

#include "plan.h"
#include "store.h"
#include "utf8.h"
#include "token.h"

#define STORE_FORMAT	1
#define REC_VERSION	1
#define REC_FIXED	(1 + 1 + 4 + 8 + 8 + 8 + TOKEN_HASH_LEN + 1 + 2)
#define REC_MAX		(REC_FIXED + PLAN_NAME_MAX + LABEL_MAX)
#define UKEY_MAX	(USER_MAX + 1 + 4 + TYPE_MAX)
#define SLOT_BITS_MAX	16
#define NO_SLOT		(~0u)

struct store {
	MDB_env		*env;
	MDB_dbi		 keys, tokens, usage, marks, workers, meta;
	MDB_txn		*rtxn;		/* the one reused read txn */
	int		 rd_active;
	unsigned char	 dummy[REC_MAX];	/* record for unknown users */
	size_t		 dummy_len;
	char		*path;
	char		 err[1024];
};

/* ---- little helpers --------------------------------------------------- */

static void
put_le(unsigned char *p, uint64_t v, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t
get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int	 i;

	for (i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* A name for a message: quoted, non-printing bytes as \xNN, cut short. */
static void
quote(const char *s, size_t len, char *out, size_t outlen)
{
	size_t	 o = 0, i;
	unsigned char c;

	if (outlen < 8)
		return;
	out[o++] = '"';
	for (i = 0; i < len && o + 8 < outlen; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
}

/* ---- errors: the one place LMDB codes become ours --------------------- */

static enum store_rc
store_fail(struct store *st, int rc, const char *what)
{
	MDB_envinfo	 info;

	switch (rc) {
	case MDB_SUCCESS:
		return STORE_OK;
	case MDB_NOTFOUND:
		return STORE_NOTFOUND;
	case MDB_KEYEXIST:
		snprintf(st->err, sizeof(st->err), "%s: already exists", what);
		return STORE_EXISTS;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		info.me_mapsize = 0;
		mdb_env_info(st->env, &info);
		snprintf(st->err, sizeof(st->err), "%s: the store in %s is full "
		    "(map size %zu MiB); give it a larger map size", what,
		    st->path, info.me_mapsize >> 20);
		return STORE_FULL;
	case MDB_READERS_FULL:
		snprintf(st->err, sizeof(st->err), "%s: every reader slot of "
		    "the store in %s is taken; fewer processes, or stale ones "
		    "to clear", what, st->path);
		return STORE_BUSY;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE:
		snprintf(st->err, sizeof(st->err), "%s: the store in %s is "
		    "damaged or of another LMDB version: %s", what, st->path,
		    mdb_strerror(rc));
		return STORE_CORRUPT;
	default:
		snprintf(st->err, sizeof(st->err), "%s: %s: %s", what,
		    st->path, mdb_strerror(rc));
		return STORE_ERROR;
	}
}

static enum store_rc
store_say(struct store *st, enum store_rc rc, const char *fmt, const char *s)
{
	char	 q[USER_MAX * 4 + 16];

	quote(s, strlen(s), q, sizeof(q));
	snprintf(st->err, sizeof(st->err), fmt, q);
	return rc;
}

const char *
store_error(const struct store *st)
{
	return st->err;
}

const char *
store_path(const struct store *st)
{
	return st->path;
}

/* ---- names ------------------------------------------------------------ */

int
store_user_norm(const char *in, size_t len, char out[USER_MAX + 1],
    char *err, size_t errlen)
{
	char	 q[USER_MAX * 4 + 16], c;
	size_t	 i;

	quote(in, len, q, sizeof(q));
	if (len == 0) {
		snprintf(err, errlen, "the username is empty");
		return -1;
	}
	if (len > USER_MAX) {
		snprintf(err, errlen, "username %s is longer than %d characters",
		    q, USER_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		c = in[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-')) {
			if (c >= 0x20 && c < 0x7f && c != '\'')
				snprintf(err, errlen, "invalid character '%c' "
				    "in username %s", c, q);
			else
				snprintf(err, errlen, "invalid character "
				    "'\\x%02x' in username %s",
				    (unsigned char)c, q);
			return -1;
		}
		out[i] = c;
	}
	out[len] = '\0';
	return 0;
}

int
store_label_check(const char *label, char *err, size_t errlen)
{
	const unsigned char *s = (const unsigned char *)label;
	size_t	 n = strlen(label), i, l;
	uint32_t cp;

	if (n > LABEL_MAX) {
		snprintf(err, errlen, "the label is %zu bytes long; at most %d",
		    n, LABEL_MAX);
		return -1;
	}
	for (i = 0; i < n; i += l) {
		if ((l = utf8_next((const char *)s + i, n - i, &cp)) == 0) {
			snprintf(err, errlen, "the label is not valid UTF-8 "
			    "(byte %zu)", i + 1);
			return -1;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
			snprintf(err, errlen, "the label contains a control "
			    "character (byte %zu)", i + 1);
			return -1;
		}
	}
	return 0;
}

uint32_t
store_month(time_t t)
{
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL)
		return 0;
	return (uint32_t)(tm.tm_year + 1900) * 100 + (uint32_t)tm.tm_mon + 1;
}

const char *
store_dir(const char *opt)
{
	const char	*e;

	if (opt != NULL && *opt != '\0')
		return opt;
	if ((e = getenv("IDMINT_DB")) != NULL && *e != '\0')
		return e;
	return STORE_DIR_DEFAULT;
}

/* ---- opening ---------------------------------------------------------- */

static int
wr_begin(struct store *st, MDB_txn **txn)
{
	int	 rc, was_reading = st->rd_active;

	rc = mdb_txn_begin(st->env, NULL, 0, txn);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size.  LMDB wants no
		 * live transaction in this process while it remaps. */
		if (was_reading)
			mdb_txn_reset(st->rtxn);
		mdb_env_set_mapsize(st->env, 0);
		rc = mdb_txn_begin(st->env, NULL, 0, txn);
		if (was_reading && mdb_txn_renew(st->rtxn) != 0)
			st->rd_active = 0;
	}
	return rc;
}

static enum store_rc
open_dbs(struct store *st)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} dbs[] = {
		{ "keys", offsetof(struct store, keys) },
		{ "tokens", offsetof(struct store, tokens) },
		{ "usage", offsetof(struct store, usage) },
		{ "marks", offsetof(struct store, marks) },
		{ "workers", offsetof(struct store, workers) },
		{ "meta", offsetof(struct store, meta) },
	};
	MDB_txn		*txn;
	MDB_val		 k = { 6, (void *)"format" }, v;
	unsigned char	 fmt[4];
	size_t		 i;
	int		 rc;

	if ((rc = wr_begin(st, &txn)) != 0)
		return store_fail(st, rc, "opening the store");
	for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		rc = mdb_dbi_open(txn, dbs[i].name, MDB_CREATE,
		    (MDB_dbi *)((char *)st + dbs[i].off));
		if (rc != 0)
			goto fail;
	}
	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		put_le(fmt, STORE_FORMAT, 4);
		v.mv_size = 4;
		v.mv_data = fmt;
		rc = mdb_put(txn, st->meta, &k, &v, 0);
	} else if (rc == 0 && (v.mv_size != 4 ||
	    get_le(v.mv_data, 4) > STORE_FORMAT)) {
		mdb_txn_abort(txn);
		snprintf(st->err, sizeof(st->err), "the store in %s has a "
		    "format newer than this idmint understands", st->path);
		return STORE_CORRUPT;
	}
	if (rc != 0)
		goto fail;
	if ((rc = mdb_txn_commit(txn)) != 0)
		return store_fail(st, rc, "opening the store");
	return STORE_OK;
fail:
	mdb_txn_abort(txn);
	return store_fail(st, rc, "opening the store");
}

static enum store_rc
make_dir(const char *dir, char *err, size_t errlen)
{
	struct stat	 sb;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create the store directory %s: "
		    "%s", dir, strerror(errno));
		return STORE_ERROR;
	}
	if (stat(dir, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", dir);
		return STORE_ERROR;
	}
	return STORE_OK;
}

static size_t	 rec_encode(const struct key *, unsigned char *);

/* What an unknown user is compared against: a suspended key with a
 * random hash (random per process, so no token can match it). */
static void
make_dummy(struct store *st)
{
	struct key	 k;

	memset(&k, 0, sizeof(k));
	snprintf(k.user, sizeof(k.user), "dummy");
	snprintf(k.plan, sizeof(k.plan), "unlimited");
	k.status = KEY_SUSPENDED;
	randombytes_buf(k.hash, sizeof(k.hash));
	st->dummy_len = rec_encode(&k, st->dummy);
}

enum store_rc
store_open(struct store **out, const char *dir, size_t mapsize,
    char *err, size_t errlen)
{
	struct store	*st;
	enum store_rc	 r;
	int		 rc, dead;

	*out = NULL;
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to start");
		return STORE_ERROR;
	}
	if ((r = make_dir(dir, err, errlen)) != STORE_OK)
		return r;
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return STORE_ERROR;
	}
	if ((st->path = strdup(dir)) == NULL) {
		free(st);
		snprintf(err, errlen, "out of memory");
		return STORE_ERROR;
	}
	if ((rc = mdb_env_create(&st->env)) != 0) {
		free(st->path);
		free(st);
		snprintf(err, errlen, "%s: %s", dir, mdb_strerror(rc));
		return STORE_ERROR;
	}
	if ((rc = mdb_env_set_maxdbs(st->env, 8)) != 0 ||
	    (rc = mdb_env_set_maxreaders(st->env, 1024)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->env,
	    mapsize ? mapsize : STORE_MAPSIZE_DEFAULT)) != 0 ||
	    (rc = mdb_env_open(st->env, dir, MDB_NOTLS, 0600)) != 0) {
		r = store_fail(st, rc, "opening the store");
		goto fail;
	}
	/* Reader slots of processes killed mid-read would stay taken. */
	mdb_reader_check(st->env, &dead);
	if ((r = open_dbs(st)) != STORE_OK)
		goto fail;
	make_dummy(st);
	*out = st;
	return STORE_OK;
fail:
	snprintf(err, errlen, "%s", st->err);
	mdb_env_close(st->env);
	free(st->path);
	free(st);
	return r;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->rtxn != NULL)
		mdb_txn_abort(st->rtxn);
	mdb_env_close(st->env);
	free(st->path);
	sodium_memzero(st, sizeof(*st));
	free(st);
}

/* ---- the read transaction --------------------------------------------- */

enum store_rc
store_rd_begin(struct store *st)
{
	int	 rc = 0, tries;

	if (st->rd_active)
		store_rd_end(st);
	for (tries = 0; tries < 3; tries++) {
		if (st->rtxn == NULL)
			rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY,
			    &st->rtxn);
		else
			rc = mdb_txn_renew(st->rtxn);
		if (rc == 0) {
			st->rd_active = 1;
			return STORE_OK;
		}
		if (rc == MDB_MAP_RESIZED)
			mdb_env_set_mapsize(st->env, 0);
		else if (rc == MDB_READERS_FULL)
			mdb_reader_check(st->env, NULL);
		else
			break;
	}
	return store_fail(st, rc, "reading the store");
}

void
store_rd_end(struct store *st)
{
	if (st->rd_active) {
		mdb_txn_reset(st->rtxn);
		st->rd_active = 0;
	}
}

/* Use the caller's read txn, or one of our own for this call. */
static enum store_rc
rd_enter(struct store *st, int *own)
{
	enum store_rc	 r;

	*own = 0;
	if (st->rd_active)
		return STORE_OK;
	if ((r = store_rd_begin(st)) == STORE_OK)
		*own = 1;
	return r;
}

static void
rd_leave(struct store *st, int own)
{
	if (own)
		store_rd_end(st);
}

/* ---- key records ------------------------------------------------------ */

/*
 * Version 1: version, status, rate u32, quota u64, created i64, rotated
 * i64, hash[32], plan length u8, label length u16, plan, label.
 */
static size_t
rec_encode(const struct key *k, unsigned char *b)
{
	size_t	 pl = strlen(k->plan), ll = strlen(k->label), o;

	b[0] = REC_VERSION;
	b[1] = (unsigned char)k->status;
	put_le(b + 2, k->rate, 4);
	put_le(b + 6, k->quota, 8);
	put_le(b + 14, (uint64_t)k->created, 8);
	put_le(b + 22, (uint64_t)k->rotated, 8);
	memcpy(b + 30, k->hash, TOKEN_HASH_LEN);
	o = 30 + TOKEN_HASH_LEN;
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
	size_t	 pl, ll;

	memset(k, 0, sizeof(*k));
	if (kv->mv_size == 0 || kv->mv_size > USER_MAX ||
	    v->mv_size < REC_FIXED || b[0] != REC_VERSION)
		goto bad;
	pl = b[30 + TOKEN_HASH_LEN];
	ll = get_le(b + 31 + TOKEN_HASH_LEN, 2);
	if (pl > PLAN_NAME_MAX || ll > LABEL_MAX ||
	    v->mv_size != REC_FIXED + pl + ll || b[1] > KEY_SUSPENDED)
		goto bad;
	memcpy(k->user, kv->mv_data, kv->mv_size);
	k->status = b[1];
	k->rate = (uint32_t)get_le(b + 2, 4);
	k->quota = get_le(b + 6, 8);
	k->created = (int64_t)get_le(b + 14, 8);
	k->rotated = (int64_t)get_le(b + 22, 8);
	memcpy(k->hash, b + 30, TOKEN_HASH_LEN);
	memcpy(k->plan, b + REC_FIXED, pl);
	memcpy(k->label, b + REC_FIXED + pl, ll);
	return STORE_OK;
bad:
	snprintf(st->err, sizeof(st->err), "the record of key \"%.*s\" in %s "
	    "cannot be read (format version %u)", (int)(kv->mv_size > USER_MAX ?
	    USER_MAX : kv->mv_size), (const char *)kv->mv_data, st->path,
	    v->mv_size ? b[0] : 0);
	return STORE_CORRUPT;
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

	if (store_user_norm(user, len, u, e, sizeof(e)) == -1)
		return STORE_NOTFOUND;
	if ((r = rd_enter(st, &own)) != STORE_OK)
		return r;
	r = get_key(st, st->rtxn, u, out);
	rd_leave(st, own);
	return r;
}

static enum store_rc
key_by_hash(struct store *st, const unsigned char *h, struct key *out)
{
	MDB_val		 k = { TOKEN_HASH_LEN, (void *)h }, v;
	char		 u[USER_MAX + 1];
	enum store_rc	 r;
	int		 own, rc;

	if ((r = rd_enter(st, &own)) != STORE_OK)
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
	rd_leave(st, own);
	return r;
}

enum store_rc
store_key_by_token(struct store *st, const char *token, size_t len,
    struct key *out)
{
	unsigned char	 h[TOKEN_HASH_LEN];

	token_hash(token, len, h);
	return key_by_hash(st, h, out);
}

enum store_rc
store_auth_user(struct store *st, const char *user, size_t ulen,
    const char *token, size_t tlen, struct key *out)
{
	unsigned char	 h[TOKEN_HASH_LEN];
	enum store_rc	 r;
	int		 found, match, active;

	token_hash(token, tlen, h);
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
	active = out->status == KEY_ACTIVE;
	if (found & match & active)
		return STORE_OK;
	memset(out, 0, sizeof(*out));
	return STORE_DENIED;
}

enum store_rc
store_auth_token(struct store *st, const char *token, size_t tlen,
    struct key *out)
{
	unsigned char	 h[TOKEN_HASH_LEN];
	enum store_rc	 r;

	token_hash(token, tlen, h);
	r = key_by_hash(st, h, out);
	if (r != STORE_OK && r != STORE_NOTFOUND)
		return r;
	if (r == STORE_OK && out->status == KEY_ACTIVE &&
	    sodium_memcmp(h, out->hash, TOKEN_HASH_LEN) == 0)
		return STORE_OK;
	memset(out, 0, sizeof(*out));
	return STORE_DENIED;
}

/* ---- changing keys ---------------------------------------------------- */

static int
put_token(struct store *st, MDB_txn *txn, const struct key *key)
{
	MDB_val	 k = { TOKEN_HASH_LEN, (void *)key->hash };
	MDB_val	 v = { strlen(key->user), (void *)key->user };

	return mdb_put(txn, st->tokens, &k, &v, MDB_NOOVERWRITE);
}

static int
del_token(struct store *st, MDB_txn *txn, const struct key *key)
{
	MDB_val	 k = { TOKEN_HASH_LEN, (void *)key->hash };
	int	 rc = mdb_del(txn, st->tokens, &k, NULL);

	return rc == MDB_NOTFOUND ? 0 : rc;
}

static enum store_rc
norm(struct store *st, const char *user, char u[USER_MAX + 1])
{
	if (store_user_norm(user, strlen(user), u, st->err,
	    sizeof(st->err)) == -1)
		return STORE_INVALID;
	return STORE_OK;
}

static void
set_plan(struct key *k, const struct plan *p)
{
	snprintf(k->plan, sizeof(k->plan), "%s", p->name);
	k->rate = p->rate;
	k->quota = p->quota;
}

static enum store_rc
commit(struct store *st, MDB_txn *txn, int rc, const char *what)
{
	if (rc != 0) {
		mdb_txn_abort(txn);
		return store_fail(st, rc, what);
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return store_fail(st, rc, what);
	return STORE_OK;
}

enum store_rc
store_key_add(struct store *st, const char *user, const char *label,
    const struct plan *p, char *token)
{
	struct key	 k;
	MDB_txn		*txn;
	enum store_rc	 r;
	int		 rc;

	memset(&k, 0, sizeof(k));
	if ((r = norm(st, user, k.user)) != STORE_OK)
		return r;
	if (label == NULL)
		label = "";
	if (store_label_check(label, st->err, sizeof(st->err)) == -1)
		return STORE_INVALID;
	snprintf(k.label, sizeof(k.label), "%s", label);
	set_plan(&k, p != NULL ? p : &plans[PLAN_DEFAULT]);
	k.status = KEY_ACTIVE;
	k.created = (int64_t)time(NULL);
	if (token_new(token, k.hash) == -1) {
		snprintf(st->err, sizeof(st->err), "libsodium failed");
		return STORE_ERROR;
	}
	if ((rc = wr_begin(st, &txn)) != 0) {
		r = store_fail(st, rc, "adding a key");
		goto out;
	}
	rc = put_key(st, txn, &k, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST) {
		mdb_txn_abort(txn);
		r = store_say(st, STORE_EXISTS, "a key named %s already exists",
		    k.user);
		goto out;
	}
	if (rc == 0)
		rc = put_token(st, txn, &k);
	r = commit(st, txn, rc, "adding a key");
out:
	if (r != STORE_OK)
		sodium_memzero(token, TOKEN_STR_LEN + 1);
	sodium_memzero(&k, sizeof(k));
	return r;
}

/* Read-modify-write of one key in one write transaction. */
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

	if ((r = norm(st, user, u)) != STORE_OK)
		return r;
	if ((rc = wr_begin(st, &txn)) != 0)
		return store_fail(st, rc, what);
	if ((r = get_key(st, txn, u, &k)) != STORE_OK) {
		mdb_txn_abort(txn);
		if (r == STORE_NOTFOUND)
			store_say(st, r, "no key named %s", u);
		return r;
	}
	if ((rc = fn(st, txn, &k, arg)) == 0)
		rc = put_key(st, txn, &k, 0);
	r = commit(st, txn, rc, what);
	sodium_memzero(&k, sizeof(k));
	return r;
}

static int
do_rotate(struct store *st, MDB_txn *txn, struct key *k, const void *arg)
{
	char	*token = (char *)(uintptr_t)arg;
	int	 rc;

	if ((rc = del_token(st, txn, k)) != 0)
		return rc;
	if (token_new(token, k->hash) == -1)
		return EIO;
	k->rotated = (int64_t)time(NULL);
	return put_token(st, txn, k);
}

enum store_rc
store_key_rotate(struct store *st, const char *user, char *token)
{
	enum store_rc	 r;

	r = key_update(st, user, "rotating a token", do_rotate, token);
	if (r != STORE_OK)
		sodium_memzero(token, TOKEN_STR_LEN + 1);
	return r;
}

static int
do_status(struct store *st, MDB_txn *txn, struct key *k, const void *arg)
{
	(void)st;
	(void)txn;
	k->status = *(const enum key_status *)arg;
	return 0;
}

enum store_rc
store_key_set_status(struct store *st, const char *user, enum key_status s)
{
	return key_update(st, user, "changing a key", do_status, &s);
}

static int
do_plan(struct store *st, MDB_txn *txn, struct key *k, const void *arg)
{
	(void)st;
	(void)txn;
	set_plan(k, arg);
	return 0;
}

enum store_rc
store_key_set_plan(struct store *st, const char *user, const struct plan *p)
{
	return key_update(st, user, "changing a plan", do_plan, p);
}

enum store_rc
store_key_remove(struct store *st, const char *user)
{
	char		 u[USER_MAX + 1];
	struct key	 k;
	MDB_val		 kv;
	MDB_txn		*txn;
	enum store_rc	 r;
	int		 rc;

	if ((r = norm(st, user, u)) != STORE_OK)
		return r;
	if ((rc = wr_begin(st, &txn)) != 0)
		return store_fail(st, rc, "removing a key");
	if ((r = get_key(st, txn, u, &k)) != STORE_OK) {
		mdb_txn_abort(txn);
		if (r == STORE_NOTFOUND)
			store_say(st, r, "no key named %s", u);
		return r;
	}
	kv.mv_size = strlen(u);
	kv.mv_data = u;
	if ((rc = del_token(st, txn, &k)) == 0)
		rc = mdb_del(txn, st->keys, &kv, NULL);
	return commit(st, txn, rc, "removing a key");
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

	if ((r = rd_enter(st, &own)) != STORE_OK)
		return r;
	if ((rc = mdb_cursor_open(st->rtxn, st->keys, &c)) != 0) {
		rd_leave(st, own);
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
	rd_leave(st, own);
	return r;
}

/* ---- usage ------------------------------------------------------------ */

static size_t
ukey(unsigned char *b, const char *user, uint32_t month, const char *type)
{
	size_t	 ul = strnlen(user, USER_MAX), tl = strnlen(type, TYPE_MAX);

	memcpy(b, user, ul);
	b[ul] = '\0';
	put_be32(b + ul + 1, month);
	memcpy(b + ul + 5, type, tl);
	return ul + 5 + tl;
}

/* Split a usage key; -1 if it is not one. */
static int
ukey_parse(const MDB_val *k, char *user, uint32_t *month, char *type)
{
	const unsigned char *b = k->mv_data, *z;
	size_t	 ul, tl;

	if ((z = memchr(b, '\0', k->mv_size)) == NULL)
		return -1;
	ul = (size_t)(z - b);
	if (ul > USER_MAX || k->mv_size < ul + 5 ||
	    (tl = k->mv_size - ul - 5) > TYPE_MAX)
		return -1;
	memcpy(user, b, ul);
	user[ul] = '\0';
	*month = get_be32(b + ul + 1);
	memcpy(type, b + ul + 5, tl);
	type[tl] = '\0';
	return 0;
}

static int
add_count(struct store *st, MDB_txn *txn, const struct usage_cell *c,
    uint64_t delta)
{
	unsigned char	 kb[UKEY_MAX], vb[8];
	MDB_val		 k, v;
	uint64_t	 n = 0;
	int		 rc;

	k.mv_data = kb;
	k.mv_size = ukey(kb, c->user, c->month, c->type);
	rc = mdb_get(txn, st->usage, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		n = get_le(v.mv_data, 8);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	n = n > UINT64_MAX - delta ? UINT64_MAX : n + delta;
	put_le(vb, n, 8);
	v.mv_size = 8;
	v.mv_data = vb;
	return mdb_put(txn, st->usage, &k, &v, 0);
}

static int
apply_cell(struct store *st, MDB_txn *txn, uint64_t gen,
    const struct usage_cell *c)
{
	unsigned char	 kb[4], vb[16];
	MDB_val		 k = { 4, kb }, v;
	uint64_t	 mark = 0;
	int		 rc, same = 0;

	put_be32(kb, c->slot);
	rc = mdb_get(txn, st->marks, &k, &v);
	if (rc == 0 && v.mv_size == 16 && get_le(v.mv_data, 8) == gen) {
		mark = get_le((const unsigned char *)v.mv_data + 8, 8);
		same = 1;
	} else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (same && mark == c->counter)
		return 0;		/* flushed already */
	/* A counter below its mark would be a reset the generation missed:
	 * count nothing and start again from it. */
	if (c->counter > mark && c->user[0] != '\0' &&
	    (rc = add_count(st, txn, c, c->counter - mark)) != 0)
		return rc;
	put_le(vb, gen, 8);
	put_le(vb + 8, c->counter, 8);
	v.mv_size = 16;
	v.mv_data = vb;
	return mdb_put(txn, st->marks, &k, &v, 0);
}

int
store_usage_apply(struct store *st, uint64_t generation,
    const struct usage_cell *cells, size_t n, char *err, size_t errlen)
{
	MDB_txn		*txn;
	size_t		 i;
	int		 rc;

	if (n == 0)
		return 0;
	if ((rc = wr_begin(st, &txn)) != 0) {
		store_fail(st, rc, "saving usage counts");
		snprintf(err, errlen, "%s", st->err);
		return -1;
	}
	for (i = 0, rc = 0; i < n && rc == 0; i++)
		rc = apply_cell(st, txn, generation, &cells[i]);
	if (commit(st, txn, rc, "saving usage counts") != STORE_OK) {
		snprintf(err, errlen, "%s", st->err);
		return -1;
	}
	return 0;
}

/* Call fn for every usage row whose key starts with prefix. */
static enum store_rc
usage_walk(struct store *st, const unsigned char *prefix, size_t plen,
    void (*fn)(void *, const char *, uint32_t, const char *, uint64_t),
    void *arg)
{
	char		 user[USER_MAX + 1], type[TYPE_MAX + 1];
	uint32_t	 month;
	MDB_cursor	*c;
	MDB_val		 k = { plen, (void *)prefix }, v;
	enum store_rc	 r;
	int		 own, rc;

	if ((r = rd_enter(st, &own)) != STORE_OK)
		return r;
	if ((rc = mdb_cursor_open(st->rtxn, st->usage, &c)) != 0) {
		rd_leave(st, own);
		return store_fail(st, rc, "reading usage");
	}
	rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if (ukey_parse(&k, user, &month, type) == 0 &&
		    v.mv_size == 8)
			fn(arg, user, month, type, get_le(v.mv_data, 8));
	}
	r = rc == 0 || rc == MDB_NOTFOUND ? STORE_OK :
	    store_fail(st, rc, "reading usage");
	mdb_cursor_close(c);
	rd_leave(st, own);
	return r;
}

static void
sum_row(void *arg, const char *user, uint32_t month, const char *type,
    uint64_t n)
{
	uint64_t	*t = arg;

	(void)user;
	(void)month;
	(void)type;
	*t = *t > UINT64_MAX - n ? UINT64_MAX : *t + n;
}

int
store_usage_month(struct store *st, const char *user, uint32_t month,
    uint64_t *total)
{
	unsigned char	 p[USER_MAX + 5];
	size_t		 ul = strnlen(user, USER_MAX + 1);

	*total = 0;
	if (ul > USER_MAX)
		return -1;
	memcpy(p, user, ul);
	p[ul] = '\0';
	put_be32(p + ul + 1, month);
	return usage_walk(st, p, ul + 5, sum_row, total) == STORE_OK ? 0 : -1;
}

static struct usage_count *
count_slot(struct usage_count **a, size_t *n, const char *name, int *oom)
{
	struct usage_count *p;
	size_t	 i;

	for (i = *n; i > 0; i--)	/* newest first: users come in order */
		if (strcmp((*a)[i - 1].name, name) == 0)
			return &(*a)[i - 1];
	if ((*n & (*n + 1)) == 0 || *n == 0) {
		/* grow at 1, 2, 4, ... - when n + 1 is a power of two */
		if ((p = reallocarray(*a, (*n + 1) * 2, sizeof(**a))) == NULL) {
			*oom = 1;
			return NULL;
		}
		*a = p;
	}
	p = &(*a)[(*n)++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	return p;
}

struct summ {
	struct usage_summary	*s;
	int			 all, oom;
};

static void
add_to(struct usage_count *c, uint64_t n, int this_month)
{
	if (c == NULL)
		return;
	c->total = c->total > UINT64_MAX - n ? UINT64_MAX : c->total + n;
	if (this_month)
		c->month = c->month > UINT64_MAX - n ? UINT64_MAX :
		    c->month + n;
}

static void
summ_row(void *arg, const char *user, uint32_t month, const char *type,
    uint64_t n)
{
	struct summ		*sm = arg;
	struct usage_summary	*s = sm->s;
	struct usage_count	 tot = { "", s->month_total, s->all_total };
	int			 cur = month == s->month;

	add_to(&tot, n, cur);
	s->month_total = tot.month;
	s->all_total = tot.total;
	add_to(count_slot(&s->types, &s->ntypes, type, &sm->oom), n, cur);
	if (sm->all)
		add_to(count_slot(&s->users, &s->nusers, user, &sm->oom), n,
		    cur);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct usage_count *)a)->name,
	    ((const struct usage_count *)b)->name);
}

static int
by_use(const void *a, const void *b)
{
	const struct usage_count *x = a, *y = b;

	if (x->month != y->month)
		return x->month < y->month ? 1 : -1;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return strcmp(x->name, y->name);
}

enum store_rc
store_usage_summary(struct store *st, const char *user, uint32_t month,
    struct usage_summary *s)
{
	unsigned char	 p[USER_MAX + 1];
	char		 u[USER_MAX + 1];
	struct summ	 sm = { s, user == NULL, 0 };
	size_t		 plen = 0;
	enum store_rc	 r;

	memset(s, 0, sizeof(*s));
	s->month = month;
	if (user != NULL) {
		if ((r = norm(st, user, u)) != STORE_OK)
			return r;
		plen = strlen(u) + 1;
		memcpy(p, u, plen);	/* with its NUL: "bob" is not "bobby" */
	}
	r = usage_walk(st, p, plen, summ_row, &sm);
	if (r == STORE_OK && sm.oom) {
		snprintf(st->err, sizeof(st->err), "out of memory");
		r = STORE_ERROR;
	}
	if (r != STORE_OK) {
		store_usage_summary_free(s);
		return r;
	}
	if (s->ntypes > 1)
		qsort(s->types, s->ntypes, sizeof(*s->types), by_name);
	if (s->nusers > 1)
		qsort(s->users, s->nusers, sizeof(*s->users), by_use);
	return STORE_OK;
}

void
store_usage_summary_free(struct usage_summary *s)
{
	free(s->types);
	free(s->users);
	s->types = s->users = NULL;
	s->ntypes = s->nusers = 0;
}

/* ---- snowflake slot leases -------------------------------------------- */

/* Field 22 of /proc/PID/stat: start time in clock ticks since boot. */
static int
proc_starttime(pid_t pid, uint64_t *out)
{
	char	 path[64], buf[1024], *p;
	FILE	*f;
	size_t	 n;
	int	 field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and parentheses. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return -1;
	*out = strtoull(p + 1, NULL, 10);
	return 0;
}

static int
holder_alive(pid_t pid, uint64_t start)
{
	uint64_t	 now;

	if (pid <= 0 || (kill(pid, 0) == -1 && errno == ESRCH))
		return 0;
	/* Same pid, other process: the pid was reused. */
	if (start != 0 && proc_starttime(pid, &now) == 0 && now != start)
		return 0;
	return 1;
}

static int
slot_err(struct store *st, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", st->err);
	return -1;
}

int
store_worker_claim(struct store *st, unsigned slot_bits, pid_t pid,
    unsigned *slot, char *err, size_t errlen)
{
	unsigned char	 kb[4], vb[16];
	MDB_val		 k = { 4, kb }, v;
	MDB_txn		*txn;
	uint64_t	 start = 0, hpid, hstart;
	unsigned	 i, nslots, pick = NO_SLOT;
	int		 rc = 0;

	if (slot_bits > SLOT_BITS_MAX) {
		snprintf(err, errlen, "slot_bits %u is above %d", slot_bits,
		    SLOT_BITS_MAX);
		return -1;
	}
	nslots = 1u << slot_bits;
	proc_starttime(pid, &start);
	if ((rc = wr_begin(st, &txn)) != 0) {
		store_fail(st, rc, "claiming a snowflake slot");
		return slot_err(st, err, errlen);
	}
	for (i = 0; i < nslots; i++) {
		put_be32(kb, i);
		if ((rc = mdb_get(txn, st->workers, &k, &v)) == MDB_NOTFOUND) {
			rc = 0;
			if (pick == NO_SLOT)
				pick = i;
			continue;
		}
		if (rc != 0)
			break;
		if (v.mv_size != 16)
			hpid = 0, hstart = 0;
		else {
			hpid = get_le(v.mv_data, 8);
			hstart = get_le((const unsigned char *)v.mv_data + 8, 8);
		}
		if (hpid == (uint64_t)pid && hstart == start) {
			pick = i;	/* ours already */
			break;
		}
		if (pick == NO_SLOT && !holder_alive((pid_t)hpid, hstart))
			pick = i;
	}
	if (rc == 0 && pick == NO_SLOT) {
		mdb_txn_abort(txn);
		snprintf(err, errlen, "all %u snowflake slots of the store in "
		    "%s are held by live processes; stop one, or give slots "
		    "more bits", nslots, st->path);
		return -1;
	}
	if (rc == 0) {
		put_be32(kb, pick);
		put_le(vb, (uint64_t)pid, 8);
		put_le(vb + 8, start, 8);
		v.mv_size = 16;
		v.mv_data = vb;
		rc = mdb_put(txn, st->workers, &k, &v, 0);
	}
	if (commit(st, txn, rc, "claiming a snowflake slot") != STORE_OK)
		return slot_err(st, err, errlen);
	*slot = pick;
	return 0;
}

int
store_worker_release(struct store *st, unsigned slot, pid_t pid,
    char *err, size_t errlen)
{
	unsigned char	 kb[4];
	MDB_val		 k = { 4, kb }, v;
	MDB_txn		*txn;
	int		 rc;

	put_be32(kb, slot);
	if ((rc = wr_begin(st, &txn)) != 0) {
		store_fail(st, rc, "releasing a snowflake slot");
		return slot_err(st, err, errlen);
	}
	rc = mdb_get(txn, st->workers, &k, &v);
	if (rc == 0 && v.mv_size == 16 &&
	    get_le(v.mv_data, 8) == (uint64_t)pid)
		rc = mdb_del(txn, st->workers, &k, NULL);
	else if (rc == MDB_NOTFOUND || rc == 0)
		rc = 0;
	if (commit(st, txn, rc, "releasing a snowflake slot") != STORE_OK)
		return slot_err(st, err, errlen);
	return 0;
}
