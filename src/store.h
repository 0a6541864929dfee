/*
 * store.h: the LMDB store of keys, token hashes, usage counts, flush marks
 * and snowflake slot leases.  Only the store*.c files see lmdb.h:
 *
 *   store.c        the environment, transactions, the LMDB error map
 *   store_keys.c   key records, lookups, authentication, changes
 *   store_usage.c  durable usage counts and the flush marks
 *   store_lease.c  snowflake slot leases
 *   store_cluster.c  cluster mode: what the sync process mirrors for the
 *                  workers (keys, the other nodes' counts, the node id)
 *
 * One store per process, opened after fork (an LMDB environment must not
 * cross a fork).  Single-threaded use: the process keeps one read
 * transaction, renewed by store_rd_begin() and reset by store_rd_end(), so
 * the request path takes no lock.  Writers (idmintctl, the usage flusher,
 * slot leases) take LMDB's write lock for one short transaction each, and
 * every commit is durable: the store is never opened with MDB_NOSYNC.
 *
 * Every call returns an enum store_rc.  After anything but STORE_OK and
 * STORE_NOTFOUND, store_error() says what went wrong, in words a person can
 * act on; store_open, which has no store yet, writes them to its err.
 */
#ifndef IDMINT_STORE_H
#define IDMINT_STORE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "auth.h"		/* USER_MAX, LABEL_MAX, TOKEN_HASH_LEN */

#define TYPE_MAX 15		/* "uuid", "nanoid", "snowflake", "encode-hex", ... */
#define PLAN_NAME_MAX 15	/* "unlimited", "custom", ... */

#define STORE_MAPSIZE_DEFAULT ((size_t)1 << 30)	/* 1 GiB */

enum store_rc {
	STORE_OK = 0,
	STORE_NOTFOUND,		/* no such key (not an error) */
	STORE_DENIED,		/* auth: unknown user, wrong token or suspended */
	STORE_EXISTS,		/* a key with that name already exists */
	STORE_INVALID,		/* bad username, label, or argument */
	STORE_FULL,		/* MDB_MAP_FULL: the map size is too small */
	STORE_BUSY,		/* no free reader or snowflake slot */
	STORE_CORRUPT,		/* a record we cannot read */
	STORE_ERROR,		/* I/O and everything else */
	STORE__MAX
};

enum key_status {
	KEY_ACTIVE = 0,
	KEY_SUSPENDED = 1
};

struct key {
	char		 user[USER_MAX + 1];	/* lowercased */
	unsigned char	 hash[TOKEN_HASH_LEN];	/* BLAKE2b-256 of the token */
	char		 label[LABEL_MAX + 1];
	char		 plan[PLAN_NAME_MAX + 1];	/* a named plan or "custom" */
	uint32_t	 rate;		/* requests per second, 0 = unlimited */
	uint64_t	 quota;		/* calls per UTC month, 0 = unlimited */
	enum key_status	 status;
	int64_t		 created;	/* Unix seconds */
	int64_t		 rotated;	/* Unix seconds, 0 = never rotated */
	int64_t		 expires;	/* Unix seconds, 0 = never expires */
};

/* Has k expired at Unix second now?  (It is refused from then on.) */
int		 key_expired(const struct key *, int64_t now);

struct store;
struct plan;

/* ---- store.c: opening, errors, the read transaction -------------------- */

/*
 * Open (creating if needed: directory 0700, files 0600) the store in dir.
 * mapsize 0 means STORE_MAPSIZE_DEFAULT; a store already larger keeps its
 * size.  Runs mdb_reader_check and opens every sub-database once.
 */
enum store_rc	 store_open(struct store **, const char *dir, size_t mapsize,
		    char *err, size_t errlen);
void		 store_close(struct store *);
const char	*store_error(const struct store *);
const char	*store_path(const struct store *);

/* What idmint -t reports of a store. */
struct store_info {
	uint32_t	 format;	/* 0: no format record yet */
	uint64_t	 map_size;	/* bytes, as a worker would map it */
	uint64_t	 used;		/* bytes up to the last page in use */
	unsigned	 readers, max_readers;
};
/*
 * Look at the store in dir without creating or changing anything (workers
 * may be running): STORE_NOTFOUND when there is none yet; STORE_CORRUPT,
 * with the reason in err, for a format newer than this idmint's.
 */
enum store_rc	 store_inspect(const char *dir, size_t mapsize,
		    struct store_info *, char *err, size_t errlen);

enum store_rc	 store_rd_begin(struct store *);
void		 store_rd_end(struct store *);

/* ---- store_keys.c ----------------------------------------------------- */

/*
 * Lookups see the snapshot of the current read transaction (or, outside
 * store_rd_begin/end, a fresh one of their own).  STORE_OK with *out
 * filled, STORE_NOTFOUND, or an error.  by_user lowercases; an invalid
 * name is simply not found.
 */
enum store_rc	 store_key_by_user(struct store *, const char *user,
		    size_t len, struct key *out);
enum store_rc	 store_key_by_hash(struct store *,
		    const unsigned char hash[TOKEN_HASH_LEN], struct key *out);

/*
 * Authentication as the request path needs it, given the hash of the
 * presented token.  STORE_OK with *out filled when the key exists, is
 * active, has not expired (by now_ms()) and the hash matches;
 * STORE_DENIED for an unknown user, a wrong token, or a suspended or
 * expired key, with the same work done in each case (a
 * dummy record is decoded and compared when the user is missing, with
 * sodium_memcmp); or an error.  On STORE_DENIED *out is cleared.
 */
enum store_rc	 store_auth_user(struct store *, const char *user, size_t ulen,
		    const unsigned char hash[TOKEN_HASH_LEN], struct key *out);
enum store_rc	 store_auth_hash(struct store *,
		    const unsigned char hash[TOKEN_HASH_LEN], struct key *out);

/*
 * Add a key on plan p (NULL: unlimited) whose token hashes to hash (see
 * token_new), expiring at Unix second `expires` (0: never).  STORE_EXISTS
 * if the name is taken, STORE_INVALID for a bad name or label.
 */
enum store_rc	 store_key_add(struct store *, const char *user,
		    const char *label, const struct plan *p, int64_t expires,
		    const unsigned char hash[TOKEN_HASH_LEN]);
/* A new token hash; the old token stops working in the same transaction. */
enum store_rc	 store_key_rotate(struct store *, const char *user,
		    const unsigned char hash[TOKEN_HASH_LEN]);
enum store_rc	 store_key_set_status(struct store *, const char *user,
		    enum key_status);
enum store_rc	 store_key_set_plan(struct store *, const char *user,
		    const struct plan *);
/* A new expiry, Unix seconds (0: never). */
enum store_rc	 store_key_set_expires(struct store *, const char *user,
		    int64_t expires);
/* Removes the key and its token mapping; its usage counts are kept. */
enum store_rc	 store_key_remove(struct store *, const char *user);
/* Every key in name order; a non-zero return from cb stops the walk. */
enum store_rc	 store_key_each(struct store *,
		    int (*cb)(void *, const struct key *), void *arg);

/* ---- store_usage.c ---------------------------------------------------- */

/* One counter of the shared table, as a flush hands it to the store. */
struct usage_cell {
	char	 user[USER_MAX + 1];
	uint32_t month;			/* yyyymm, UTC, e.g. 202611 */
	char	 type[TYPE_MAX + 1];	/* ID type, or endpoint name */
	uint32_t slot;			/* index of the cell in the shared table */
	uint64_t counter;		/* monotonic count of calls in that cell */
};

/* What one flush of a shared table (its generation) moves to the store. */
struct usage_batch {
	uint64_t		 generation;
	/* Counters: for each, read the durable mark of (generation, slot),
	 * 0 if none; add counter - mark to the count of (user, month,
	 * type); store mark = counter. */
	const struct usage_cell	*cells;
	size_t			 ncells;
	/* Calls of the overflow ring, added as they are (counter = calls):
	 * with ring_batch not 0, that batch number is stored as the
	 * generation's ring mark in the same transaction; with 0 they are
	 * a one-off commit that nothing repeats. */
	const struct usage_cell	*adds;
	size_t			 nadds;
	uint64_t		 ring_batch;
};

/*
 * The whole batch in ONE durable LMDB write transaction.  Repeating the
 * same batch adds nothing (marks are per generation and slot, so two
 * tables flushing the same slot never add each other's calls); a crash at
 * any point loses nothing.  A generation retired by store_usage_prune is
 * refused (STORE_INVALID): its table was left unflushed for a month.
 */
enum store_rc	 store_usage_apply(struct store *, const struct usage_batch *);
/* How many marks the store keeps for generation (for `idmint -t` and
 * `idmintctl stats`: the store must not grow with the calls). */
enum store_rc	 store_usage_marks(struct store *, uint64_t generation,
		    size_t *n);
/*
 * What a new quota cell starts from, in a read snapshot of its own (the
 * request's may predate a flush that another process has committed since,
 * and would then miss its calls): the durable count of (user, month) in
 * *total, the mark of (generation, slots[i]) in marks[i] (0 if none), and
 * the generation's last ring batch in *ring.  Counters at or past those
 * marks are what the snapshot has not seen, exactly.
 */
enum store_rc	 store_usage_seed(struct store *, const char *user,
		    uint32_t month, uint64_t generation, const uint32_t *slots,
		    uint64_t *marks, size_t n, uint64_t *ring, uint64_t *total);
/* The last ring batch stored for generation (0 if none). */
enum store_rc	 store_usage_ring(struct store *, uint64_t generation,
		    uint64_t *batch);
/*
 * Retire the generations, other than keep, that no flush has touched
 * since `before` (Unix seconds): their marks are deleted, so the store
 * does not grow with every table ever made.  *n says how many.
 */
enum store_rc	 store_usage_prune(struct store *, uint64_t keep,
		    int64_t before, size_t *n);

/* Durable count of (user, month) over all types, in the current read txn. */
enum store_rc	 store_usage_month(struct store *, const char *user,
		    uint32_t month, uint64_t *total);

/*
 * Every durable count of user (NULL: of every user), in key order: by
 * user, then month, then type.  A non-zero return from cb stops the walk.
 */
enum store_rc	 store_usage_each(struct store *, const char *user,
		    int (*cb)(void *, const char *user, uint32_t month,
		    const char *type, uint64_t count), void *arg);

/* ---- store_lease.c: snowflake slot leases ----------------------------- */

/*
 * Take the lowest of the 2^slot_bits slots whose lease is free or whose
 * holder is dead (no such pid, or a pid reused by a younger process: its
 * start time in /proc/PID/stat differs from the one recorded), and record
 * (pid, start time).  A pid that already holds a slot gets it again.
 * *last_ms is the last millisecond the slot's holders issued a snowflake
 * in, as they recorded it (0: none), which a new holder must not go below.
 * STORE_BUSY when every slot is held by a live process.
 */
enum store_rc	 store_lease_claim(struct store *, unsigned slot_bits,
		    pid_t pid, unsigned *slot, uint64_t *last_ms);
/* Record the last millisecond issued in, if pid holds the slot (at least
 * once a second while it issues, and at release). */
enum store_rc	 store_lease_record(struct store *, unsigned slot, pid_t pid,
		    uint64_t last_ms);
/* Give the slot back, if pid holds it, keeping its last millisecond. */
enum store_rc	 store_lease_release(struct store *, unsigned slot, pid_t pid,
		    uint64_t last_ms);
/* How many slots live processes hold. */
enum store_rc	 store_lease_held(struct store *, unsigned *held);

/* ---- store_cluster.c: cluster mode's mirror --------------------------- */

#define STORE_ID_LEN	16	/* random bytes naming a store to the cluster */

/* What the sync process last learnt from PostgreSQL for the workers. */
struct cluster_state {
	uint32_t	 nodes;		/* live nodes, at least 1 */
	int		 leased;	/* 1: node_id is ours until fence_ms */
	uint32_t	 node_id;	/* snowflake node id, < 2^node_bits */
	uint64_t	 fence_ms;	/* CLOCK_MONOTONIC ms: no snowflake from
					   then on (lease end minus a margin) */
	uint64_t	 not_before_ms;	/* wall ms: no snowflake at or before it
					   (the last one the id's previous
					   holder may have made) */
	uint64_t	 synced_ms;	/* wall ms of the last sync round */
};

/* A key as PostgreSQL has it, for the mirror. */
struct key_change {
	struct key	 key;
	int		 removed;
};

/* The other nodes' calls of (user, month), as last pulled. */
struct remote_count {
	char		 user[USER_MAX + 1];
	uint32_t	 month;
	uint64_t	 count;
};

/*
 * For the request path, in the current read txn (or one of their own):
 * one mdb_get each.  The state: STORE_NOTFOUND (*out then says one node,
 * no lease) until the sync process first wrote it.  The remote count: 0
 * when there is none.
 */
enum store_rc	 store_cluster_state(struct store *, struct cluster_state *);
enum store_rc	 store_cluster_remote(struct store *, const char *user,
		    uint32_t month, uint64_t *count);

/* For the sync process, each in one write transaction. */
enum store_rc	 store_cluster_set_state(struct store *,
		    const struct cluster_state *);
/* Counts of 0 delete their row. */
enum store_rc	 store_cluster_set_remote(struct store *,
		    const struct remote_count *, size_t n);
/* Apply key changes; full: every key not among them goes too. */
enum store_rc	 store_cluster_keys(struct store *, const struct key_change *,
		    size_t n, int full);
/*
 * Bind this store to a node name, once: the first call draws a random
 * store id; later calls give it back.  STORE_EXISTS (with a message) when
 * the store already syncs as another node, whose counts it holds.
 */
enum store_rc	 store_cluster_bind(struct store *, const char *node,
		    unsigned char id[STORE_ID_LEN]);

#endif
