/*
 * store_int.h: what the store*.c files share, and nothing outside them
 * sees: the handle, byte order helpers, and the transaction wrappers.
 *
 * Sub-databases, all integers little-endian unless said otherwise:
 *   keys     username -> record (version byte first, see store_keys.c)
 *   tokens   BLAKE2b-256(token) -> username
 *   usage    username NUL month(u32 big-endian) type -> u64 count
 *   marks    generation(u64 BE) slot(u32 BE) -> mark u64 (the last
 *            counter flushed for that cell of that shared table)
 *   gens     generation(u64 BE) -> last flush, ring batch, retired
 *   workers  slot(u32 BE) -> pid u64, start time u64 (snowflake leases)
 *   meta     "format" -> u32 store format (2; 1 kept marks per slot)
 *   cluster, remote   cluster mode's mirror (see store_cluster.c)
 * Big-endian numbers in keys make LMDB's byte order the numeric order.
 */
#ifndef IDMINT_STORE_INT_H
#define IDMINT_STORE_INT_H

#include <lmdb.h>

#include "store.h"

#define STORE_FORMAT	2

struct store {
	MDB_env		*env;
	MDB_dbi		 keys, tokens, usage, marks, workers, meta, gens;
	MDB_dbi		 cluster, remote;	/* store_cluster.c */
	MDB_txn		*rtxn;		/* the one reused read txn */
	/* store_cluster.c: the cluster state as of snapshot state_txn
	 * (0: none), so a request of the same snapshot reads no record */
	size_t		 state_txn;
	struct cluster_state state;
	enum store_rc	 state_rc;
	int		 rd_active;
	char		*path;
	char		 err[1024];
	/* store_keys.c: what an unknown user is compared against */
	unsigned char	 dummy[512];
	size_t		 dummy_len;
};

/* Byte order, inline: records are decoded on every request. */
static inline void
put_le(unsigned char *p, uint64_t v, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint64_t
get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int	 i;

	for (i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline uint32_t
get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* The one place LMDB codes become ours; sets st->err. */
enum store_rc	 store_fail(struct store *, int rc, const char *what);
/* st->err from fmt with one quoted name; returns rc. */
enum store_rc	 store_say(struct store *, enum store_rc, const char *fmt,
		    const char *name);
/* A write transaction, adopting a map grown by another process. */
int		 store_wr_begin(struct store *, MDB_txn **);
/* Commit if rc is 0, else abort; either way map the result. */
enum store_rc	 store_commit(struct store *, MDB_txn *, int rc,
		    const char *what);
/* Use the caller's read txn, or one of our own for this call. */
enum store_rc	 store_rd_enter(struct store *, int *own);
void		 store_rd_leave(struct store *, int own);
/* The lowercased name, or STORE_INVALID with the reason in st->err. */
enum store_rc	 store_norm(struct store *, const char *user,
		    char u[USER_MAX + 1]);
/* store_usage.c: format 1's marks, rewritten in the opening txn. */
int		 store_marks_upgrade(struct store *, MDB_txn *);
/* store_keys.c: the dummy record, made once at open. */
void		 store_keys_init(struct store *);
/* store_keys.c, for the mirror: put a key and its token (dropping the
 * token it had), or drop both, in txn.  An LMDB code. */
int		 store_key_mirror(struct store *, MDB_txn *, const struct key *);
int		 store_key_unmirror(struct store *, MDB_txn *, const char *user);

#endif
