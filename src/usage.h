/*
 * usage.h: the shared table every worker maps (shm.h, table.h): call
 * counters that a flusher moves into the LMDB store, plus the rate
 * (GCRA) and quota state that limit.c works on.
 *
 * The hot path (usage_count, and the rate and quota cells of limit.c) is
 * a lookup plus atomic operations: no lock, no syscall.  A worker killed
 * with kill -9 loses nothing, since the memory belongs to the kernel.
 * Rare things (claiming a new cell, a flush) take fcntl(2) record locks on
 * the file, which the kernel drops when a process dies, so a crash never
 * wedges the others.
 *
 * Capacity, set when the file is made (settings count_cells, quota_cells,
 * rate_cells): new cells are refused once 7/8 of a table are taken.
 *   Count cells, one per (user, month, type) used.  Cells of months
 *     before the previous one are reclaimed once flushed.  When none can
 *     be had, the call goes to the overflow ring, which the next flush
 *     commits in the same transaction; only when the ring is full too is
 *     a call committed on its own (slow, but nothing is lost).
 *     usage_stats() counts both, and `idmintctl stats` shows them.
 *   Quota cells, one per (user, month) of a key that has a quota; cells
 *     of past months are reclaimed when their month is over.
 *   Rate cells, one per key that has a rate; a cell whose GCRA state is
 *     past holds nothing and is taken for another key when needed.
 *   When a quota or rate cell cannot be had, limits_check answers 503.
 *
 * The file is replaced when it was made before the last boot, or is
 * damaged, or deleted: a new generation starts, whose marks in the store
 * are its own.  A worker notices at its next flush that the file at the
 * path is no longer the one it maps, flushes the old one a last time and
 * moves to the new one.
 */
#ifndef IDMINT_USAGE_H
#define IDMINT_USAGE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "shm.h"

struct store;
struct usage;

#define USAGE_FILE		SHM_FILE
#define USAGE_FLUSH_MS_DEFAULT	1000

/* ---- opening and flushing --------------------------------------------- */

/*
 * Map (making it if needed, sized by sz; NULL: the defaults) the shared
 * table DIR/idmint.shm.  -1 with the reason in err.
 */
int	 usage_open(const char *dir, const struct shm_sizes *sz,
	    struct usage **, char *err, size_t errlen);
void	 usage_close(struct usage *);
/* Move every unflushed count into the store now (idmintctl calls this
 * before `usage` and `stats`; workers call usage_maybe_flush).  0, or -1
 * with the reason in usage_error(). */
int	 usage_flush(struct usage *, struct store *);
/*
 * Called by workers after each request, and when idle, outside any store
 * transaction; now_ms is monotonic.  At most once every flush_ms over all
 * processes, one of them flushes; a process whose file was replaced
 * flushes its old table and moves to the new one.  0 (nothing to do, or
 * another process flushes), 1 (flushed), or -1 (the flush failed; nothing
 * is lost, the next one retries; see usage_error()).
 */
int	 usage_maybe_flush(struct usage *, struct store *, uint64_t now_ms);
void	 usage_set_flush_ms(struct usage *, uint64_t flush_ms);
/* 1 when calls are counted here and not yet in the store. */
int	 usage_dirty(struct usage *);
const char *usage_error(const struct usage *);

/* ---- counting --------------------------------------------------------- */

/*
 * Count one call of (user, month, type): a lookup and one atomic add.
 * 0; 1 when the count cells and the ring were full and the call was
 * committed to the store at once (st must then be non-NULL and no write
 * txn open); -1 when even that failed (bad argument, no store, store
 * error: usage_error()).
 */
int	 usage_count(struct usage *, struct store *, const char *user,
	    uint32_t month, const char *type);
/* The same for n calls at once (a batch), in one atomic add. */
int	 usage_count_n(struct usage *, struct store *, const char *user,
	    uint32_t month, const char *type, uint64_t n);
/*
 * Calls of (user, month) not yet flushed, over all types, the ring
 * included.  Between a flush's commit and its update of the marks here
 * (microseconds) the calls of that flush are both durable and pending;
 * limit.c reads this only when it makes a quota cell, and erring high
 * there only refuses a call early.
 */
uint64_t usage_pending(struct usage *, const char *user, uint32_t month);
/*
 * Every call of (user, month) counted so far, in the store or not yet:
 * the store's count in a snapshot of its own, plus each count cell past
 * the mark that snapshot holds for it, plus the overflow ring's calls it
 * has not seen.  Exact while flushes run (a new quota cell's base).  0, or
 * -1 with the error in usage_error().
 */
int	 usage_seed(struct usage *, struct store *, const char *user,
	    uint32_t month, uint64_t *total);


/*
 * SHM_METRICS_SIZE bytes at the end of the file, 64-byte aligned, all
 * zero when the file is made; metrics.c alone gives them a layout.
 */
#define USAGE_METRICS_SIZE	SHM_METRICS_SIZE
void	*usage_metrics(struct usage *);

struct usage_stats {
	uint64_t	 generation;
	uint32_t	 count_cells, count_used;	/* capacity, taken */
	uint32_t	 quota_cells, quota_used;
	uint32_t	 rate_cells, rate_used;
	uint32_t	 proc_cells, ring_cells, ring_used;
	uint64_t	 flushes;	/* flushes committed */
	uint64_t	 overflows;	/* calls counted in the ring */
	uint64_t	 sync_commits;	/* calls committed one by one */
	uint64_t	 lost;		/* calls that could not be counted */
	uint64_t	 pending;	/* calls not yet in the store */
	uint64_t	 last_flush_ms;	/* monotonic, 0: never */
};
void	 usage_stats(struct usage *, struct usage_stats *);

#endif
