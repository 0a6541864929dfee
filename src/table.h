/*
 * table.h: the cells of the shared table and where they lie, for shm.c,
 * usage.c and limit.c alone.
 *
 *   header (SHM_HDR_SIZE)      struct shm_hdr
 *   claimed list               u32 index of every count cell ever claimed,
 *                              so a flush visits only those
 *   count cells                (user, month, type) -> counter, flushed
 *   quota cells                (user, month) -> base, reservations
 *   rate cells                 user -> GCRA state
 *   process cells              a process holding quota reservations
 *   overflow ring              calls counted while the count cells are full
 *
 * Count cells carry the names, since a flush writes them to the store.
 * Quota and rate cells carry a 128-bit keyed hash of the name instead
 * (SipHash-2-4 with a key random per file), so that 100,000 keys fit in a
 * few MiB.  Open addressing with linear probing; a cell goes EMPTY ->
 * LIVE when claimed (under the claim lock; key first, then the state with
 * release order, so lock-free readers see a whole key) and LIVE -> TOMB
 * when reclaimed; a TOMB keeps its place in probe runs and may be
 * claimed again.
 */
#ifndef IDMINT_TABLE_H
#define IDMINT_TABLE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"		/* USER_MAX */
#include "shm.h"
#include "store.h"		/* TYPE_MAX */

#define C_EMPTY		0
#define C_LIVE		1
#define C_TOMB		2

#define RESV_BITS	24	/* reservations one quota cell can hold */
#define RESV_MASK	((UINT64_C(1) << RESV_BITS) - 1)
#define USED_ONE	(UINT64_C(1) << RESV_BITS)

/* A name as quota and rate cells know it. */
struct nkey {
	uint64_t	 h1, h2;
};

struct ccell {
	_Alignas(64) _Atomic uint32_t state;
	uint32_t	 month;
	uint64_t	 hash;		/* of (user, month): the home slot */
	char		 user[USER_MAX + 1];
	char		 type[TYPE_MAX + 1];
	_Atomic uint64_t counter;	/* calls counted here, ever */
	_Atomic uint64_t flushed;	/* counter as of the last commit */
};

/*
 * uses = base + used + reserved, where word = used << RESV_BITS | the
 * bitmap of reservations held.  Who holds a bit is written in the holder's
 * process cell, so a request that finds the quota full can give back the
 * bits of processes that died.
 */
struct qcell {
	_Atomic uint32_t state;
	uint32_t	 month;
	struct nkey	 k;
	uint64_t	 base;		/* durable + pending when made */
	_Atomic uint64_t word;
};

struct rcell {
	_Atomic uint32_t state;
	uint32_t	 pad;
	struct nkey	 k;
	_Atomic uint64_t tat;		/* GCRA: theoretical arrival, mono ns */
};

/*
 * A process that takes quota reservations owns one process cell for its
 * life: owner = pid << 32 | 1, start = its start time, so a dead or
 * reused pid is told from a live holder.  resv names the reservation in
 * hand: quota cell index + 1 << 8 | bit + 1, or PC_PENDING in the low
 * byte while the bit is being taken; stamp is when (monotonic seconds).
 */
#define PC_PENDING	0xff
struct pcell {
	_Atomic uint64_t owner;
	_Atomic uint64_t start;
	_Atomic uint64_t resv;
	_Atomic uint64_t stamp;
};

/*
 * The overflow ring: a call that finds the count cells full is written
 * here (FILLING, then READY), and the next flush commits the ring's READY
 * entries in one transaction, marking them FLUSHING with the batch number
 * it stores in the same transaction, so a flusher killed after its commit
 * leaves entries the next flush recognises as done.
 */
#define O_EMPTY		0
#define O_FILLING	1
#define O_READY		2
#define O_FLUSHING	3
struct ocell {
	_Alignas(64) _Atomic uint32_t state;
	uint32_t	 month;
	uint64_t	 n;		/* calls */
	_Atomic uint64_t batch;		/* O_FLUSHING: the flush's batch */
	_Atomic uint64_t stamp;		/* O_FILLING: when, monotonic ms */
	char		 user[USER_MAX + 1];
	char		 type[TYPE_MAX + 1];
};

/* Where each part of a table of sizes sz lies in the file. */
struct layout {
	size_t		 claimed, count, quota, rate, procs, ovf, metrics, end;
};

static inline void
table_layout(const struct shm_sizes *sz, struct layout *l)
{
	l->claimed = SHM_HDR_SIZE;
	l->count = l->claimed + (((size_t)sz->count * sizeof(uint32_t) +
	    4095) & ~(size_t)4095);
	l->quota = l->count + (size_t)sz->count * sizeof(struct ccell);
	l->rate = l->quota + (size_t)sz->quota * sizeof(struct qcell);
	l->procs = l->rate + (size_t)sz->rate * sizeof(struct rcell);
	l->ovf = l->procs + (size_t)sz->procs * sizeof(struct pcell);
	l->metrics = (l->ovf + (size_t)sz->ovf * sizeof(struct ocell) + 63) &
	    ~(size_t)63;
	l->end = l->metrics + SHM_METRICS_SIZE;
}

enum tab_id { T_COUNT, T_QUOTA, T_RATE };

struct tab {
	unsigned char	*base;
	size_t		 stride;
	uint32_t	 cap;		/* a power of two */
};

struct usage_cell;

struct usage {
	struct shm	 shm;
	struct shm_hdr	*h;
	uint32_t	*claimed;
	struct tab	 t[3];
	struct pcell	*procs;
	uint32_t	 nprocs;
	struct ocell	*ring;
	uint32_t	 nring;
	unsigned char	*metrics;	/* SHM_METRICS_SIZE bytes, metrics.c's */
	uint64_t	 flush_ms;
	uint64_t	 checked_ms;	/* when shm_stale last ran */
	char		 dir[4096];
	struct shm_sizes want;
	struct usage_cell *buf;		/* count cells, for flushes */
	struct usage_cell *adds;	/* ring entries, for flushes */
	int		 pcell;		/* our process cell, -1: none */
	char		 err[256];
};

/* New cells stop at 7/8 of a table: probe runs stay short. */
#define FILL_MAX(n)	((n) / 8 * 7)

/* Cell i of a table (wrapped to its capacity, a power of two). */
static inline void *
cell_at(const struct tab *t, uint32_t i)
{
	return t->base + (size_t)(i & (t->cap - 1)) * t->stride;
}

/*
 * Cells taken, counted again from their states: a process killed inside
 * a claim may have counted a cell it never made live.  Under the claim
 * lock.
 */
void		 cell_recount(struct usage *, enum tab_id);
/* The keyed hash quota and rate cells know a name by. */
void		 name_key(const struct usage *, const char *user,
		    struct nkey *);
/*
 * The quota or rate cell of (k, month), found without a lock, else
 * claimed (init fills it first).  NULL when the table is full (*full),
 * the claim lock failed or init failed.  *index is the cell's index.
 * mono_ns tells which rate cells are idle enough to be taken again.
 */
void		*nk_cell(struct usage *, enum tab_id, const struct nkey *,
		    uint32_t month, int (*init)(struct usage *, void *, void *),
		    void *arg, uint64_t mono_ns, int *full, uint32_t *index);
/* fcntl(2) record locks on a byte of the file. */
#define LOCK_CLAIM	0
#define LOCK_FLUSH	1
int		 usage_lock(struct usage *, int byte, int wait);
void		 usage_unlock(struct usage *, int byte);
void		 usage_say(struct usage *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

#endif
