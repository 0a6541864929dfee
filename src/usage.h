/*
 * usage.h: the shared-memory table every worker maps: call counters that
 * a flusher moves into the LMDB store, plus the per-user rate (GCRA) and
 * per-(user, month) quota state that limit.c works on.
 *
 * The table is one file, DIR/idmint.shm (mode 0600, fixed size), mmap'ed
 * MAP_SHARED by every process.  The hot path (usage_count, and the rate
 * and quota cells of limit.c) is a lookup plus atomic operations: no
 * lock, no syscall.  A worker killed with kill -9 loses nothing, since the
 * memory belongs to the kernel.  Rare things (claiming a new cell, a
 * flush) take fcntl(2) record locks on the file, which the kernel drops
 * when a process dies, so a crash never wedges the others.
 *
 * Capacity (fixed; a new layout version changes it):
 *   USAGE_COUNT_CELLS counters, one per (user, month, type) used; new
 *     cells are refused once 7/8 are taken.  Cells of months older than
 *     the previous one are reclaimed by the flusher once flushed.  When
 *     no cell can be had, usage_count commits that one call to LMDB at
 *     once (slow, but nothing is lost; usage_stats() counts them as
 *     overflows, which `idmintctl stats` shows).
 *   USAGE_QUOTA_CELLS per-(user, month) quota cells, reclaimed like the
 *     counters; USAGE_RATE_CELLS per-user rate cells, never reclaimed.
 *     When either is full, limits_check answers 503 (see limits.h).
 *
 * Where: best on a tmpfs (/run/idmint, /dev/shm/...).  On a disk it works
 * too, but the kernel writes the dirty pages back now and then.  Either
 * way a file made before the last boot (or of another size, magic or
 * version) is replaced by a new one with a new random generation, so the
 * store's marks of the old one count as 0; only calls not yet flushed
 * when the machine went down are lost (at most flush_ms of them).
 *
 * A flush hands the moved counters to store_usage_apply() (store.h).
 */
#ifndef IDMINT_USAGE_H
#define IDMINT_USAGE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct usage;

#define USAGE_FILE		"idmint.shm"
#define USAGE_FLUSH_MS_DEFAULT	1000
#define USAGE_COUNT_CELLS	32768	/* powers of two */
#define USAGE_QUOTA_CELLS	8192
#define USAGE_RATE_CELLS	8192
#define USAGE_RESV_SLOTS	24	/* concurrent reservations per quota cell */

/* ---- opening and flushing --------------------------------------------- */

/* Map (creating if needed) the shared table file DIR/idmint.shm.
 * -1 with the reason in err. */
int	 usage_open(const char *dir, struct usage **, char *err, size_t errlen);
void	 usage_close(struct usage *);
/* Move every unflushed count into the store now (idmintctl calls this
 * before `usage` and `stats`; workers call usage_maybe_flush).  0, or -1
 * with the reason in usage_error(). */
int	 usage_flush(struct usage *, struct store *);

/* ---- counting --------------------------------------------------------- */

/*
 * Count one call of (user, month, type): a lookup and one atomic add.
 * Returns 0; 1 when the table was full and the call was committed to the
 * store at once (st must then be non-NULL and no write txn open); -1 when
 * even that failed (bad argument, no store, store error: usage_error()).
 */
int	 usage_count(struct usage *, struct store *, const char *user,
	    uint32_t month, const char *type);
/* The same for n calls at once (a batch), in one atomic add. */
int	 usage_count_n(struct usage *, struct store *, const char *user,
	    uint32_t month, const char *type, uint64_t n);
/*
 * Called by workers after each request, outside any store transaction.
 * At most once every flush_ms over all processes, one of them flushes.
 * Returns 0 (nothing to do, or another process flushes), 1 (flushed), or
 * -1 (the flush failed; nothing is lost, the next one retries; see
 * usage_error()).
 */
int	 usage_maybe_flush(struct usage *, struct store *, uint64_t now_ms);
void	 usage_set_flush_ms(struct usage *, uint64_t flush_ms);
/*
 * Calls of (user, month) not yet flushed, over all types.  Between a
 * flush's commit and its update of the marks here (microseconds) the
 * calls of that flush are both durable and pending; limit.c does not
 * rely on this sum except once, when it first sees (user, month).
 */
uint64_t usage_pending(struct usage *, const char *user, uint32_t month);
/* The last error of this handle, in words. */
const char *usage_error(const struct usage *);

struct usage_stats {
	uint64_t	 generation;
	uint32_t	 count_cells, count_used;	/* capacity, taken */
	uint32_t	 quota_cells, quota_used;
	uint32_t	 rate_cells, rate_used;
	uint64_t	 flushes;	/* flushes committed */
	uint64_t	 overflows;	/* calls committed synchronously */
	uint64_t	 lost;		/* calls that could not be counted */
};
void	 usage_stats(struct usage *, struct usage_stats *);

/* ---- shared state for limit.c ---------------------------------------- */

/* GCRA state of one user: the theoretical arrival time, in ns. */
struct usage_rate {
	_Atomic uint64_t tat;
};

/*
 * Quota state of one (user, month).  uses = base + used + reserved, where
 * word = used << USAGE_RESV_SLOTS | bitmap of held reservation slots and
 * owner[i] = pid << 32 | second of reservation (the holder of bit i).
 */
struct usage_quota {
	uint64_t	 base;	/* durable + pending when the cell was made */
	_Atomic uint64_t word;
	_Atomic uint64_t owner[USAGE_RESV_SLOTS];
};

/* The rate cell of user, claimed if new; NULL when the table is full. */
struct usage_rate *usage_rate_cell(struct usage *, const char *user);
/*
 * The quota cell of (user, month), claimed if new: base is then read from
 * the store (in the caller's read txn) plus usage_pending().  Returns 0,
 * -1 on a store error or bad name, -2 when the table is full.
 */
int	 usage_quota_cell(struct usage *, struct store *, const char *user,
	    uint32_t month, struct usage_quota **);

#endif
