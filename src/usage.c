/*
 * usage.c: the shared table's cells and their flush into the store.
 * table.h says how the file is laid out; usage_cells.c keeps the quota
 * and rate cells, which limit.c works through nk_cell().
 *
 * Locks: fcntl(2) record locks on the file (per process, dropped by the
 * kernel when the process dies): byte 0 guards claims and reclaims, byte
 * 1 makes flushes one at a time, so every flush sees counters at least
 * as large as the previous one's.  Order: flush, then claim.
 *
 * Crash safety of a flush: collect (counter != flushed) cells and READY
 * ring entries, commit them with store_usage_apply (which adds counter -
 * durable mark for (generation, slot) and stores the mark in the same
 * txn), then set the flushed marks here.  A crash before the commit:
 * nothing happened.  After it: the marks here lag, so the next flush
 * sends the same or larger counters and the store adds only what its
 * marks have not seen; ring entries left FLUSHING carry the batch number
 * the store kept if the commit happened.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "limit.h"
#include "store.h"
#include "table.h"
#include "usage.h"

#define STALE_CHECK_MS	1000			/* how often to stat the file */
#define FILLING_MAX_MS	10000			/* a ring entry left by a crash */
#define PRUNE_AFTER_S	(31 * 86400)		/* a generation left unflushed */

_Static_assert(sizeof(struct ccell) == 128, "count cells are two lines");
_Static_assert(sizeof(struct qcell) == 40, "quota cells are compact");
_Static_assert(sizeof(struct rcell) == 32, "rate cells are compact");

void
usage_say(struct usage *u, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(u->err, sizeof(u->err), fmt, ap);
	va_end(ap);
}

const char *
usage_error(const struct usage *u)
{
	return u->err;
}

/* FNV-1a with a final mix, so the low bits that pick the slot are good. */
static uint64_t
key_hash(const char *user, uint32_t month)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	const unsigned char *p;
	int		 i;

	for (p = (const unsigned char *)user; *p != '\0'; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	for (i = 0; i < 4; i++, month >>= 8)
		h = (h ^ (month & 0xff)) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static int
key_ok(const char *user, const char *type)
{
	size_t	 ul = strnlen(user, USER_MAX + 1);

	return ul > 0 && ul <= USER_MAX && strnlen(type, TYPE_MAX + 1) <= TYPE_MAX;
}

/* fcntl(2) on one byte of the file: type F_WRLCK or F_UNLCK. */
static int
lock_byte(struct usage *u, int byte, short type, int cmd)
{
	struct flock	 fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = byte;
	fl.l_len = 1;
	return fcntl(u->shm.fd, cmd, &fl);
}

int
usage_lock(struct usage *u, int byte, int wait)
{
	while (lock_byte(u, byte, F_WRLCK, wait ? F_SETLKW : F_SETLK) == -1) {
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EACCES)
			usage_say(u, "locking %s: %s", u->shm.path,
			    strerror(errno));
		return -1;
	}
	return 0;
}

void
usage_unlock(struct usage *u, int byte)
{
	(void)lock_byte(u, byte, F_UNLCK, F_SETLK);
}

/* ---- count cells: keyed by names -------------------------------------- */

static int
ckey_eq(const struct ccell *c, uint64_t h, const char *user, uint32_t month,
    const char *type)
{
	return c->hash == h && c->month == month &&
	    strncmp(c->user, user, sizeof(c->user)) == 0 &&
	    strncmp(c->type, type, sizeof(c->type)) == 0;
}

/* The hot path: no lock.  A LIVE cell's key never changes. */
static struct ccell *
ccell_find(const struct tab *t, uint64_t h, const char *user, uint32_t month,
    const char *type)
{
	uint32_t	 mask = t->cap - 1, i = (uint32_t)h & mask, n, s;
	struct ccell	*c;

	for (n = 0; n < t->cap; n++, i = (i + 1) & mask) {
		c = cell_at(t, i);
		s = atomic_load_explicit(&c->state, memory_order_acquire);
		if (s == C_EMPTY)
			return NULL;
		if (s == C_LIVE && ckey_eq(c, h, user, month, type))
			return c;
	}
	return NULL;
}

static struct ccell *
ccell_claim(struct usage *u, uint64_t h, const char *user, uint32_t month,
    const char *type)
{
	struct tab	*t = &u->t[T_COUNT];
	uint32_t	 mask = t->cap - 1, i = (uint32_t)h & mask, n, s, nc;
	struct ccell	*c, *got = NULL;

	if (usage_lock(u, LOCK_CLAIM, 1) == -1)
		return NULL;
	if ((c = ccell_find(t, h, user, month, type)) != NULL) {
		usage_unlock(u, LOCK_CLAIM);
		return c;
	}
	for (n = 0; n < t->cap && got == NULL; n++, i = (i + 1) & mask) {
		c = cell_at(t, i);
		s = atomic_load(&c->state);
		/* A tomb's counter equals the store's mark: it counts on. */
		if (s == C_TOMB && atomic_load(&c->counter) ==
		    atomic_load(&c->flushed))
			got = c;
		else if (s == C_EMPTY) {
			if (atomic_load(&u->h->used[T_COUNT]) >= FILL_MAX(t->cap))
				break;
			got = c;
		}
	}
	if (got == NULL) {
		usage_say(u, "%s: count table full", u->shm.path);
		usage_unlock(u, LOCK_CLAIM);
		return NULL;
	}
	s = atomic_load(&got->state);
	got->hash = h;
	got->month = month;
	memset(got->user, 0, sizeof(got->user));
	memset(got->type, 0, sizeof(got->type));
	memcpy(got->user, user, strlen(user));
	memcpy(got->type, type, strlen(type));
	if (s == C_EMPTY) {
		atomic_fetch_add(&u->h->used[T_COUNT], 1);
		nc = atomic_load(&u->h->nclaimed);
		if (nc < t->cap) {
			u->claimed[nc] = (uint32_t)(((unsigned char *)got -
			    t->base) / t->stride);
			atomic_store_explicit(&u->h->nclaimed, nc + 1,
			    memory_order_release);
		}
	}
	atomic_store_explicit(&got->state, C_LIVE, memory_order_release);
	usage_unlock(u, LOCK_CLAIM);
	return got;
}

/* ---- opening ---------------------------------------------------------- */

static void
layout(struct usage *u)
{
	struct shm_sizes sz = { u->h->ncount, u->h->nquota, u->h->nrate,
	    u->h->nprocs, u->h->novf };
	struct layout	 l;

	table_layout(&sz, &l);
	u->claimed = (uint32_t *)(void *)(u->shm.map + l.claimed);
	u->t[T_COUNT] = (struct tab){ u->shm.map + l.count,
	    sizeof(struct ccell), sz.count };
	u->t[T_QUOTA] = (struct tab){ u->shm.map + l.quota,
	    sizeof(struct qcell), sz.quota };
	u->t[T_RATE] = (struct tab){ u->shm.map + l.rate,
	    sizeof(struct rcell), sz.rate };
	u->procs = (struct pcell *)(void *)(u->shm.map + l.procs);
	u->nprocs = sz.procs;
	u->ring = (struct ocell *)(void *)(u->shm.map + l.ovf);
	u->nring = sz.ovf;
	u->metrics = u->shm.map + l.metrics;
}

void *
usage_metrics(struct usage *u)
{
	return u->metrics;
}

static int
map_table(struct usage *u, char *err, size_t errlen)
{
	if (shm_open_table(&u->shm, u->dir, &u->want, err, errlen) == -1)
		return -1;
	u->h = u->shm.h;
	layout(u);
	free(u->buf);
	free(u->adds);
	u->buf = calloc(u->t[T_COUNT].cap, sizeof(*u->buf));
	u->adds = calloc(u->nring, sizeof(*u->adds));
	if (u->buf == NULL || u->adds == NULL) {
		snprintf(err, errlen, "out of memory");
		shm_close_table(&u->shm);
		return -1;
	}
	u->pcell = -1;
	return 0;
}

int
usage_open(const char *dir, const struct shm_sizes *sz, struct usage **out,
    char *err, size_t errlen)
{
	struct usage	*u;

	*out = NULL;
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to start");
		return -1;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	u->shm.fd = -1;
	u->flush_ms = USAGE_FLUSH_MS_DEFAULT;
	if (sz != NULL)
		u->want = *sz;
	if (strlen(dir) >= sizeof(u->dir))
		snprintf(err, errlen, "%s: path too long", dir);
	else
		memcpy(u->dir, dir, strlen(dir) + 1);
	if (u->dir[0] == '\0' || map_table(u, err, errlen) == -1) {
		free(u->buf);
		free(u->adds);
		free(u);
		return -1;
	}
	*out = u;
	return 0;
}

void
usage_close(struct usage *u)
{
	if (u == NULL)
		return;
	limits_leave(u);
	shm_close_table(&u->shm);
	free(u->buf);
	free(u->adds);
	free(u);
}

void
usage_set_flush_ms(struct usage *u, uint64_t ms)
{
	u->flush_ms = ms;
}

/* ---- the overflow ring ------------------------------------------------ */

/* Write one call into a free ring entry; -1 if there is none. */
static int
ring_add(struct usage *u, const char *user, uint32_t month, const char *type,
    uint64_t calls)
{
	uint32_t	 start = atomic_fetch_add(&u->h->ovf_next, 1), i, s;
	struct ocell	*o;

	for (i = 0; i < u->nring; i++) {
		o = &u->ring[(start + i) & (u->nring - 1)];
		s = O_EMPTY;
		if (!atomic_compare_exchange_strong(&o->state, &s, O_FILLING))
			continue;
		atomic_store(&o->stamp, clock_mono_ns() / NS_PER_MS);
		o->month = month;
		o->n = calls;
		memset(o->user, 0, sizeof(o->user));
		memset(o->type, 0, sizeof(o->type));
		memcpy(o->user, user, strlen(user));
		memcpy(o->type, type, strlen(type));
		atomic_store_explicit(&o->state, O_READY, memory_order_release);
		atomic_fetch_add(&u->h->overflows, calls);
		return 0;
	}
	return -1;
}

/*
 * Before a flush, under the flush lock: entries a killed flusher left
 * FLUSHING are done if the store kept their batch, else READY again; an
 * entry left FILLING by a killed worker held a call never answered.
 */
static int
ring_settle(struct usage *u, struct store *st)
{
	uint64_t	 kept, now = clock_mono_ns() / NS_PER_MS;
	uint32_t	 i, s;
	struct ocell	*o;
	int		 looked = 0;

	for (i = 0; i < u->nring; i++) {
		o = &u->ring[i];
		s = atomic_load(&o->state);
		if (s == O_FILLING && now - atomic_load(&o->stamp) >
		    FILLING_MAX_MS)
			atomic_compare_exchange_strong(&o->state, &s, O_EMPTY);
		if (s != O_FLUSHING)
			continue;
		if (!looked++ && store_usage_ring(st, u->h->generation,
		    &kept) != STORE_OK) {
			usage_say(u, "%s", store_error(st));
			return -1;
		}
		atomic_store(&o->state, atomic_load(&o->batch) <= kept ?
		    O_EMPTY : O_READY);
	}
	return 0;
}

/* READY entries become FLUSHING in batch, summed per key into adds. */
static size_t
ring_collect(struct usage *u, uint64_t batch)
{
	struct usage_cell *a;
	struct ocell	*o;
	uint32_t	 i, s;
	size_t		 n = 0, j;

	for (i = 0; i < u->nring; i++) {
		o = &u->ring[i];
		s = O_READY;
		atomic_store(&o->batch, batch);
		if (!atomic_compare_exchange_strong(&o->state, &s, O_FLUSHING))
			continue;
		for (j = 0; j < n; j++)
			if (u->adds[j].month == o->month &&
			    strncmp(u->adds[j].user, o->user, USER_MAX) == 0 &&
			    strncmp(u->adds[j].type, o->type, TYPE_MAX) == 0)
				break;
		a = &u->adds[j];
		if (j == n) {
			memset(a, 0, sizeof(*a));
			memcpy(a->user, o->user, USER_MAX);
			memcpy(a->type, o->type, TYPE_MAX);
			a->month = o->month;
			n++;
		}
		a->counter += o->n;
	}
	return n;
}

/* After the commit (done) or its failure: FLUSHING entries of batch. */
static void
ring_finish(struct usage *u, uint64_t batch, int done)
{
	uint32_t	 i, s;
	struct ocell	*o;

	for (i = 0; i < u->nring; i++) {
		o = &u->ring[i];
		s = O_FLUSHING;
		if (atomic_load(&o->batch) == batch)
			atomic_compare_exchange_strong(&o->state, &s,
			    done ? O_EMPTY : O_READY);
	}
}

/* ---- counting --------------------------------------------------------- */

/* No cell, no ring entry: commit this one call now.  Nothing repeats it,
 * so it needs no mark. */
static int
count_sync(struct usage *u, struct store *st, const char *user,
    uint32_t month, const char *type, uint64_t calls)
{
	struct usage_cell c;
	struct usage_batch b;

	if (st == NULL) {
		atomic_fetch_add(&u->h->lost, calls);
		usage_say(u, "%s: table full, a call of %s was not counted",
		    u->shm.path, user);
		return -1;
	}
	memset(&c, 0, sizeof(c));
	memcpy(c.user, user, strlen(user));
	memcpy(c.type, type, strlen(type));
	c.month = month;
	c.counter = calls;
	memset(&b, 0, sizeof(b));
	b.generation = u->h->generation;
	b.adds = &c;
	b.nadds = 1;
	if (store_usage_apply(st, &b) != STORE_OK) {
		atomic_fetch_add(&u->h->lost, calls);
		usage_say(u, "%s", store_error(st));
		return -1;
	}
	atomic_fetch_add(&u->h->sync_commits, calls);
	return 1;
}

int
usage_count(struct usage *u, struct store *st, const char *user,
    uint32_t month, const char *type)
{
	return usage_count_n(u, st, user, month, type, 1);
}

int
usage_count_n(struct usage *u, struct store *st, const char *user,
    uint32_t month, const char *type, uint64_t calls)
{
	uint64_t	 h;
	struct ccell	*c;

	if (!key_ok(user, type)) {
		usage_say(u, "bad user or type name");
		return -1;
	}
	h = key_hash(user, month);
	if ((c = ccell_find(&u->t[T_COUNT], h, user, month, type)) == NULL &&
	    (c = ccell_claim(u, h, user, month, type)) == NULL) {
		/* No cell (a full table, a failed lock): count it all the
		 * same, in the ring, or at once. */
		if (ring_add(u, user, month, type, calls) == 0)
			return 0;
		return count_sync(u, st, user, month, type, calls);
	}
	atomic_fetch_add_explicit(&c->counter, calls, memory_order_relaxed);
	return 0;
}

#define USER_CELLS	64	/* count cells of one (user, month): a type each */

/* The count cells of (user, month), up to USER_CELLS; -1 past that. */
static int
user_cells(struct usage *u, const char *user, uint32_t month,
    struct ccell **cc, uint32_t *slots)
{
	const struct tab *t = &u->t[T_COUNT];
	uint64_t	 h = key_hash(user, month);
	uint32_t	 mask = t->cap - 1, i, n;
	struct ccell	*x;
	int		 nc = 0;

	for (n = 0, i = (uint32_t)h & mask; n < t->cap; n++, i = (i + 1) & mask) {
		x = cell_at(t, i);
		if (atomic_load_explicit(&x->state,
		    memory_order_acquire) == C_EMPTY)
			break;
		if (x->hash != h || x->month != month ||
		    strncmp(x->user, user, sizeof(x->user)) != 0)
			continue;
		if (nc == USER_CELLS) {
			usage_say(u, "%s: more than %d count cells for %s",
			    u->shm.path, USER_CELLS, user);
			return -1;
		}
		cc[nc] = x;
		slots[nc++] = i;
	}
	return nc;
}

/* Calls of (user, month) in the ring that a store whose last ring batch
 * is `kept` has not seen. */
static uint64_t
ring_calls(struct usage *u, const char *user, uint32_t month, uint64_t kept)
{
	struct ocell	*o;
	uint64_t	 sum = 0;
	uint32_t	 i, s;

	for (i = 0; i < u->nring; i++) {
		o = &u->ring[i];
		s = atomic_load_explicit(&o->state, memory_order_acquire);
		if ((s == O_READY || (s == O_FLUSHING &&
		    atomic_load(&o->batch) > kept)) && o->month == month &&
		    strncmp(o->user, user, sizeof(o->user)) == 0)
			sum += o->n;
	}
	return sum;
}

uint64_t
usage_pending(struct usage *u, const char *user, uint32_t month)
{
	struct ccell	*cc[USER_CELLS];
	uint32_t	 slots[USER_CELLS];
	uint64_t	 sum, c, f;
	int		 i, nc;

	if (!key_ok(user, "") || (nc = user_cells(u, user, month, cc,
	    slots)) == -1)
		return 0;
	sum = ring_calls(u, user, month, 0);
	for (i = 0; i < nc; i++) {
		f = atomic_load(&cc[i]->flushed);
		c = atomic_load(&cc[i]->counter);
		if (c > f)
			sum += c - f;
	}
	return sum;
}

int
usage_seed(struct usage *u, struct store *st, const char *user,
    uint32_t month, uint64_t *total)
{
	struct ccell	*cc[USER_CELLS];
	uint32_t	 slots[USER_CELLS] = { 0 };
	uint64_t	 durable, ring, marks[USER_CELLS], c;
	int		 i, nc;

	*total = 0;
	if (!key_ok(user, "") || (nc = user_cells(u, user, month, cc,
	    slots)) == -1)
		return -1;
	if (store_usage_seed(st, user, month, u->h->generation, slots, marks,
	    (size_t)nc, &ring, &durable) != STORE_OK) {
		usage_say(u, "%s", store_error(st));
		return -1;
	}
	/* Read after the snapshot: each counter is at or past its mark. */
	*total = durable + ring_calls(u, user, month, ring);
	for (i = 0; i < nc; i++)
		if ((c = atomic_load(&cc[i]->counter)) > marks[i])
			*total += c - marks[i];
	return 0;
}

int
usage_dirty(struct usage *u)
{
	const struct tab *t = &u->t[T_COUNT];
	uint32_t	 i, nc = atomic_load(&u->h->nclaimed);
	struct ccell	*c;

	for (i = 0; i < nc && i < t->cap; i++) {
		c = cell_at(t, u->claimed[i]);
		if (atomic_load(&c->counter) != atomic_load(&c->flushed))
			return 1;
	}
	for (i = 0; i < u->nring; i++)
		if (atomic_load(&u->ring[i].state) == O_READY)
			return 1;
	return 0;
}

/* ---- flushing --------------------------------------------------------- */

/*
 * Once a month, turn cells of past months into tombstones: count cells
 * of months before the previous one once flushed, quota cells of any
 * month but this one once they hold no reservation.  A worker would have
 * to stall for a month between looking a cell up and adding to it to be
 * caught by this.  Under the claim lock; the tables are counted again.
 */
static void
reclaim(struct usage *u, uint32_t month)
{
	uint32_t	 old = month_before(month), i;
	struct ccell	*c;
	struct qcell	*q;

	if (month == 0 || atomic_load(&u->h->reclaim_month) == month)
		return;
	for (i = 0; i < u->t[T_COUNT].cap; i++) {
		c = cell_at(&u->t[T_COUNT], i);
		if (atomic_load(&c->state) == C_LIVE && c->month < old &&
		    atomic_load(&c->counter) == atomic_load(&c->flushed))
			atomic_store(&c->state, C_TOMB);
	}
	for (i = 0; i < u->t[T_QUOTA].cap; i++) {
		q = cell_at(&u->t[T_QUOTA], i);
		if (atomic_load(&q->state) == C_LIVE && q->month != month &&
		    (atomic_load(&q->word) & RESV_MASK) == 0)
			atomic_store(&q->state, C_TOMB);
	}
	cell_recount(u, T_COUNT);
	cell_recount(u, T_QUOTA);
	cell_recount(u, T_RATE);
	atomic_store(&u->h->reclaim_month, month);
}

/* Collect every count cell whose counter moved, under the claim lock. */
static size_t
collect(struct usage *u)
{
	const struct tab *t = &u->t[T_COUNT];
	uint32_t	 i, nc, slot;
	uint64_t	 c;
	struct ccell	*cc;
	struct usage_cell *o;
	size_t		 n = 0;

	nc = atomic_load_explicit(&u->h->nclaimed, memory_order_acquire);
	if (nc > t->cap)
		nc = t->cap;
	for (i = 0; i < nc; i++) {
		slot = u->claimed[i] & (t->cap - 1);
		cc = cell_at(t, slot);
		if (atomic_load(&cc->state) == C_EMPTY)
			continue;
		c = atomic_load(&cc->counter);
		if (c == atomic_load(&cc->flushed))
			continue;
		o = &u->buf[n++];
		memcpy(o->user, cc->user, USER_MAX);
		o->user[USER_MAX] = '\0';
		memcpy(o->type, cc->type, TYPE_MAX);
		o->type[TYPE_MAX] = '\0';
		o->month = cc->month;
		o->slot = slot;
		o->counter = c;
	}
	return n;
}

/* Under the flush lock. */
static int
flush_locked(struct usage *u, struct store *st, uint64_t wall_ms)
{
	struct usage_batch b;
	struct ccell	*cc;
	size_t		 i, pruned;
	enum store_rc	 r;

	if (ring_settle(u, st) == -1 || usage_lock(u, LOCK_CLAIM, 1) == -1)
		return -1;
	memset(&b, 0, sizeof(b));
	b.generation = u->h->generation;
	b.cells = u->buf;
	b.ncells = collect(u);
	usage_unlock(u, LOCK_CLAIM);
	b.ring_batch = atomic_fetch_add(&u->h->ovf_batch, 1) + 1;
	b.adds = u->adds;
	b.nadds = ring_collect(u, b.ring_batch);
	if (b.ncells > 0 || b.nadds > 0) {
		r = store_usage_apply(st, &b);
		ring_finish(u, b.ring_batch, r == STORE_OK);
		if (r != STORE_OK) {
			usage_say(u, "%s", store_error(st));
			return -1;
		}
		for (i = 0; i < b.ncells; i++) {
			cc = cell_at(&u->t[T_COUNT], u->buf[i].slot);
			atomic_store_explicit(&cc->flushed, u->buf[i].counter,
			    memory_order_release);
		}
		atomic_fetch_add(&u->h->flushes, 1);
	}
	if (atomic_load(&u->h->reclaim_month) != month_of(wall_ms) &&
	    usage_lock(u, LOCK_CLAIM, 1) == 0) {
		reclaim(u, month_of(wall_ms));
		usage_unlock(u, LOCK_CLAIM);
		/* Tables made a month ago and more, never flushed since. */
		(void)store_usage_prune(st, u->h->generation,
		    (int64_t)(wall_ms / MS_PER_S) - PRUNE_AFTER_S, &pruned);
	}
	return b.ncells > 0 || b.nadds > 0 ? 1 : 0;
}

static int
flush_now(struct usage *u, struct store *st)
{
	int	 rc;

	if (usage_lock(u, LOCK_FLUSH, 1) == -1)
		return -1;
	rc = flush_locked(u, st, now_ms());
	usage_unlock(u, LOCK_FLUSH);
	if (rc != -1)
		atomic_store(&u->h->last_flush_ms, clock_mono_ns() / NS_PER_MS);
	return rc;
}

/*
 * The file at the path is not the one mapped (deleted or replaced): flush
 * the old table a last time, then move to the new one, so no call counted
 * in either is lost or counted twice.
 */
static int
move_table(struct usage *u, struct store *st)
{
	char	 err[256];

	if (flush_now(u, st) == -1)
		return -1;
	shm_close_table(&u->shm);
	if (map_table(u, err, sizeof(err)) == -1) {
		usage_say(u, "%s", err);
		return -1;
	}
	return 1;
}

int
usage_maybe_flush(struct usage *u, struct store *st, uint64_t now)
{
	uint64_t	 last;
	int		 rc;

	if ((now >= u->checked_ms ? now - u->checked_ms : u->checked_ms -
	    now) >= STALE_CHECK_MS) {
		u->checked_ms = now;
		if (shm_stale(&u->shm))
			return move_table(u, st);
	}
	last = atomic_load_explicit(&u->h->last_flush_ms, memory_order_relaxed);
	/* Due when flush_ms have passed, or the clock went back as far. */
	if ((now >= last ? now - last : last - now) < u->flush_ms)
		return 0;
	if (!atomic_compare_exchange_strong(&u->h->last_flush_ms, &last, now))
		return 0;		/* another worker took this turn */
	if (usage_lock(u, LOCK_FLUSH, 0) == -1)
		return 0;		/* idmintctl flushes right now */
	rc = flush_locked(u, st, now_ms());
	usage_unlock(u, LOCK_FLUSH);
	return rc;
}

int
usage_flush(struct usage *u, struct store *st)
{
	if (shm_stale(&u->shm))
		return move_table(u, st) == -1 ? -1 : 0;
	return flush_now(u, st) == -1 ? -1 : 0;
}

void
usage_stats(struct usage *u, struct usage_stats *s)
{
	uint32_t	 i, ring = 0;

	for (i = 0; i < u->nring; i++)
		ring += atomic_load(&u->ring[i].state) != O_EMPTY;
	memset(s, 0, sizeof(*s));
	s->pending = ring;
	for (i = 0; i < atomic_load(&u->h->nclaimed) && i < u->t[T_COUNT].cap;
	    i++) {
		struct ccell *c = cell_at(&u->t[T_COUNT], u->claimed[i]);
		uint64_t f = atomic_load(&c->flushed);
		uint64_t n = atomic_load(&c->counter);

		s->pending += n > f ? n - f : 0;
	}
	s->generation = u->h->generation;
	s->count_cells = u->t[T_COUNT].cap;
	s->quota_cells = u->t[T_QUOTA].cap;
	s->rate_cells = u->t[T_RATE].cap;
	s->proc_cells = u->nprocs;
	s->ring_cells = u->nring;
	s->ring_used = ring;
	s->count_used = atomic_load(&u->h->used[T_COUNT]);
	s->quota_used = atomic_load(&u->h->used[T_QUOTA]);
	s->rate_used = atomic_load(&u->h->used[T_RATE]);
	s->flushes = atomic_load(&u->h->flushes);
	s->overflows = atomic_load(&u->h->overflows);
	s->sync_commits = atomic_load(&u->h->sync_commits);
	s->lost = atomic_load(&u->h->lost);
	s->last_flush_ms = atomic_load(&u->h->last_flush_ms);
}
