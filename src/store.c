/*
 * store.c: the LMDB environment, transactions and the error map.
 *
 * Shape taken from Postfix slmdb.c, knot-dns knot_lmdb.c and OpenLDAP
 * back-mdb: one environment per process, opened after fork, MDB_NOTLS so
 * a reader slot belongs to our one reused read transaction rather than to
 * a thread; every DBI opened once at open; LMDB errors turned into ours
 * in store_fail() alone; mdb_reader_check at open and when readers run
 * out; the map set large up front and MDB_MAP_RESIZED adopted.
 *
 * Durability: neither MDB_NOSYNC nor MDB_NOMETASYNC.  Every writer is
 * rare (idmintctl, a usage flush at most every flush_ms, a slot lease at
 * start-up), so full syncs cost nothing that matters, and a key printed by
 * `idmintctl add` is on disk before its token is shown.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "shm.h"
#include "store_int.h"

/* ---- errors: the one place LMDB codes become ours --------------------- */

enum store_rc
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

enum store_rc
store_say(struct store *st, enum store_rc rc, const char *fmt, const char *s)
{
	char	 q[USER_MAX * 4 + 16];

	name_quote(s, strlen(s), q, sizeof(q));
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

enum store_rc
store_norm(struct store *st, const char *user, char u[USER_MAX + 1])
{
	if (user_norm(user, strlen(user), u, st->err, sizeof(st->err)) == -1)
		return STORE_INVALID;
	return STORE_OK;
}

/* ---- transactions ----------------------------------------------------- */

int
store_wr_begin(struct store *st, MDB_txn **txn)
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

enum store_rc
store_commit(struct store *st, MDB_txn *txn, int rc, const char *what)
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

enum store_rc
store_rd_enter(struct store *st, int *own)
{
	enum store_rc	 r;

	*own = 0;
	if (st->rd_active)
		return STORE_OK;
	if ((r = store_rd_begin(st)) == STORE_OK)
		*own = 1;
	return r;
}

void
store_rd_leave(struct store *st, int own)
{
	if (own)
		store_rd_end(st);
}

/* ---- opening ---------------------------------------------------------- */

/*
 * The format record: this idmint's format or an older one is read (open
 * brings an older one up to date); a newer one is refused, since this
 * code would misread it.  The message names the file and both formats.
 */
static enum store_rc
format_check(struct store *st, const MDB_val *v, uint64_t *have)
{
	*have = v->mv_size == 4 ? get_le(v->mv_data, 4) : 0;
	if (*have >= 1 && *have <= STORE_FORMAT)
		return STORE_OK;
	if (*have > STORE_FORMAT)
		snprintf(st->err, sizeof(st->err), "%s/data.mdb: store format "
		    "%llu is newer than this idmint reads (formats 1 to %d); "
		    "run the idmint that wrote it, or a newer one", st->path,
		    (unsigned long long)*have, STORE_FORMAT);
	else
		snprintf(st->err, sizeof(st->err), "%s/data.mdb: the format "
		    "record (%zu bytes) is not one of idmint's: not an idmint "
		    "store, or damaged", st->path, v->mv_size);
	return STORE_CORRUPT;
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
		{ "gens", offsetof(struct store, gens) },
		{ "cluster", offsetof(struct store, cluster) },
		{ "remote", offsetof(struct store, remote) },
	};
	MDB_txn		*txn;
	MDB_val		 k = { 6, (void *)"format" }, v;
	unsigned char	 fmt[4];
	uint64_t	 was = STORE_FORMAT;
	size_t		 i;
	int		 rc;

	if ((rc = store_wr_begin(st, &txn)) != 0)
		return store_fail(st, rc, "opening the store");
	for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		rc = mdb_dbi_open(txn, dbs[i].name, MDB_CREATE,
		    (MDB_dbi *)((char *)st + dbs[i].off));
		if (rc != 0)
			return store_commit(st, txn, rc, "opening the store");
	}
	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc == 0 && format_check(st, &v, &was) != STORE_OK) {
		mdb_txn_abort(txn);
		return STORE_CORRUPT;
	}
	/* An older format is brought up to date, in this transaction. */
	if (rc == 0 && was == 1)
		rc = store_marks_upgrade(st, txn);
	if ((rc == 0 && was != STORE_FORMAT) || rc == MDB_NOTFOUND) {
		put_le(fmt, STORE_FORMAT, 4);
		v.mv_size = 4;
		v.mv_data = fmt;
		rc = mdb_put(txn, st->meta, &k, &v, 0);
	}
	return store_commit(st, txn, rc, "opening the store");
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

static enum store_rc
trust_files(struct store *st, const char *dir)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	char	 p[4096];
	size_t	 i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		if (shm_trust(p, 0, st->err, sizeof(st->err)) == -1)
			return STORE_ERROR;
	}
	return STORE_OK;
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
	/* Whoever can write the store can plant keys or reset counts. */
	if (shm_trust(dir, 1, err, errlen) == -1)
		return STORE_ERROR;
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->path = strdup(dir)) == NULL) {
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
	if ((rc = mdb_env_set_maxdbs(st->env, 16)) != 0 ||
	    (rc = mdb_env_set_maxreaders(st->env, 1024)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->env,
	    mapsize ? mapsize : STORE_MAPSIZE_DEFAULT)) != 0 ||
	    (rc = mdb_env_open(st->env, dir, MDB_NOTLS, 0600)) != 0) {
		r = store_fail(st, rc, "opening the store");
		goto fail;
	}
	if ((r = trust_files(st, dir)) != STORE_OK)
		goto fail;
	/* Reader slots of processes killed mid-read would stay taken. */
	mdb_reader_check(st->env, &dead);
	if ((r = open_dbs(st)) != STORE_OK)
		goto fail;
	store_keys_init(st);
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

/* ---- a look for idmint -t --------------------------------------------- */

/* The format record, or 0 when there is none yet. */
static enum store_rc
inspect_format(struct store *st, struct store_info *in)
{
	MDB_txn		*txn;
	MDB_dbi		 meta;
	MDB_val		 k = { 6, (void *)"format" }, v;
	enum store_rc	 r = STORE_OK;
	uint64_t	 have;
	int		 rc;

	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_fail(st, rc, "reading the store");
	if ((rc = mdb_dbi_open(txn, "meta", 0, &meta)) == 0)
		rc = mdb_get(txn, meta, &k, &v);
	if (rc == 0) {
		if ((r = format_check(st, &v, &have)) == STORE_OK)
			in->format = (uint32_t)have;
	} else if (rc != MDB_NOTFOUND)
		r = store_fail(st, rc, "reading the store");
	mdb_txn_abort(txn);
	return r;
}

enum store_rc
store_inspect(const char *dir, size_t mapsize, struct store_info *in,
    char *err, size_t errlen)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	struct store	 st;
	struct stat	 sb;
	MDB_envinfo	 ei;
	MDB_stat	 ms;
	char		 path[4096];
	enum store_rc	 r;
	size_t		 i;
	int		 rc;

	memset(in, 0, sizeof(*in));
	/* Opening makes a missing lock.mdb, owned by whoever runs -t. */
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (stat(path, &sb) == -1) {
			if (errno == ENOENT)
				return STORE_NOTFOUND;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return STORE_ERROR;
		}
	}
	memset(&st, 0, sizeof(st));
	st.path = (char *)(uintptr_t)dir;
	if ((rc = mdb_env_create(&st.env)) != 0) {
		snprintf(err, errlen, "%s: %s", dir, mdb_strerror(rc));
		return STORE_ERROR;
	}
	if ((rc = mdb_env_set_maxdbs(st.env, 16)) != 0 ||
	    (rc = mdb_env_set_mapsize(st.env,
	    mapsize ? mapsize : STORE_MAPSIZE_DEFAULT)) != 0 ||
	    (rc = mdb_env_open(st.env, dir, MDB_RDONLY | MDB_NOTLS, 0600)) != 0)
		r = store_fail(&st, rc, "reading the store");
	else if ((r = inspect_format(&st, in)) == STORE_OK &&
	    (rc = mdb_env_info(st.env, &ei)) == 0 &&
	    (rc = mdb_env_stat(st.env, &ms)) == 0) {
		in->map_size = ei.me_mapsize;
		in->used = ((uint64_t)ei.me_last_pgno + 1) * ms.ms_psize;
		in->readers = ei.me_numreaders;
		in->max_readers = ei.me_maxreaders;
	} else if (r == STORE_OK)
		r = store_fail(&st, rc, "reading the store");
	if (r != STORE_OK)
		snprintf(err, errlen, "%s", st.err);
	mdb_env_close(st.env);
	return r;
}
