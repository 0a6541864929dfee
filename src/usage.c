/*
 * usage.c: the shared table of call counters, rate and quota cells.
 *
 * Layout of DIR/idmint.shm (all zero when made, then filled lazily):
 *   header (one page)       magic, version, sizes, random generation,
 *                           last flush time, statistics
 *   claimed list            slots of count cells ever claimed, so a flush
 *                           visits only those
 *   count cells             (user, month, type) -> counter, flushed mark
 *   quota cells             (user, month) -> struct usage_quota
 *   rate cells              user -> struct usage_rate
 *
 * Open addressing, linear probing from a home slot hashed from (user,
 * month): the types of one user and month sit in one run, so summing
 * them (usage_pending) is a short walk.  A cell goes EMPTY -> LIVE when
 * claimed (under the claim lock; key first, then the state with release
 * order, so lock-free readers see a whole key) and LIVE -> TOMB when
 * reclaimed.  A TOMB keeps its place in the probe runs and may be
 * claimed again.  A reclaimed count cell keeps its counter: the store's
 * durable mark for the slot equals it, so the next occupant's calls are
 * counter - mark as for any cell.
 *
 * Locks: fcntl(2) record locks on the file (per process, dropped by the
 * kernel when the process dies): byte 0 guards claims and reclaims,
 * byte 1 makes flushes one at a time, so every flush sees counters at
 * least as large as the previous one's.  Order: flush, then claim.
 *
 * Crash safety of a flush: collect (counter != flushed) cells, commit
 * them with store_usage_apply (which adds counter - durable mark and
 * stores the mark in the same txn), then set the flushed marks here.  A
 * crash before the commit: nothing happened.  After it: the marks here
 * lag, so the next flush sends the same or larger counters and the store
 * adds only what its marks have not seen.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "store.h"
#include "usage.h"

#define SHM_MAGIC	0x314d48535453494dULL	/* "MISTSHM1" */
#define SHM_VERSION	1
#define HDR_SIZE	4096
#define FILL_MAX(n)	((n) / 8 * 7)		/* keep probe runs short */

#define C_EMPTY		0
#define C_LIVE		1
#define C_TOMB		2

#define LOCK_CLAIM	0
#define LOCK_FLUSH	1

struct hdr {
	uint64_t	 magic;
	uint32_t	 version;
	uint32_t	 hdr_size;
	uint64_t	 size;
	uint64_t	 generation;
	uint32_t	 ncount, nquota, nrate, nresv;
	char		 boot_id[40];	/* the kernel's boot id when made */
	_Alignas(64) _Atomic uint64_t last_flush_ms;
	_Atomic uint64_t flushes;
	_Atomic uint64_t overflow_next;	/* overflow slot ids, see count_sync */
	_Atomic uint64_t lost;
	_Atomic uint32_t nclaimed;	/* entries in the claimed list */
	_Atomic uint32_t used[3];	/* cells taken per table */
	_Atomic uint32_t reclaim_month;	/* month of the last reclaim pass */
};

/* The key every kind of cell starts with. */
struct khdr {
	_Atomic uint32_t state;
	uint32_t	 month;		/* 0 in rate cells */
	uint64_t	 hash;		/* of (user, month): the home slot */
	char		 user[USER_MAX + 1];
	char		 type[TYPE_MAX + 1];	/* "" in quota and rate cells */
};

struct ccell {
	_Alignas(64) struct khdr k;
	_Atomic uint64_t counter;
	_Atomic uint64_t flushed;	/* counter as of the last commit */
};

struct qcell {
	_Alignas(64) struct khdr k;
	struct usage_quota q;
};

struct rcell {
	_Alignas(64) struct khdr k;
	struct usage_rate r;
};

enum tab_id { T_COUNT, T_QUOTA, T_RATE };

struct tab {
	unsigned char	*base;
	size_t		 stride;
	uint32_t	 cap;		/* a power of two */
};

struct usage {
	int		 fd;
	void		*map;
	size_t		 size;
	struct hdr	*h;
	uint32_t	*claimed;
	struct tab	 t[3];
	uint64_t	 flush_ms;
	struct usage_cell *buf;		/* USAGE_COUNT_CELLS, for flushes */
	char		 err[256];
};

#define OFF_LIST	HDR_SIZE
#define OFF_COUNT	(OFF_LIST + \
	((USAGE_COUNT_CELLS * sizeof(uint32_t) + 4095) & ~(size_t)4095))
#define OFF_QUOTA	(OFF_COUNT + USAGE_COUNT_CELLS * sizeof(struct ccell))
#define OFF_RATE	(OFF_QUOTA + USAGE_QUOTA_CELLS * sizeof(struct qcell))
#define SHM_SIZE	(OFF_RATE + USAGE_RATE_CELLS * sizeof(struct rcell))

_Static_assert(sizeof(struct hdr) <= HDR_SIZE, "header too large");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");
_Static_assert((USAGE_COUNT_CELLS & (USAGE_COUNT_CELLS - 1)) == 0, "pow2");
_Static_assert((USAGE_QUOTA_CELLS & (USAGE_QUOTA_CELLS - 1)) == 0, "pow2");
_Static_assert((USAGE_RATE_CELLS & (USAGE_RATE_CELLS - 1)) == 0, "pow2");

static void
say(struct usage *u, const char *fmt, ...)
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

static struct khdr *
cell_at(const struct tab *t, uint32_t i)
{
	return (struct khdr *)(void *)(t->base + (size_t)i * t->stride);
}

static int
key_eq(const struct khdr *k, uint64_t h, const char *user, uint32_t month,
    const char *type)
{
	return k->hash == h && k->month == month &&
	    strncmp(k->user, user, sizeof(k->user)) == 0 &&
	    strncmp(k->type, type, sizeof(k->type)) == 0;
}

/* The hot path: no lock.  A LIVE cell's key never changes. */
static struct khdr *
tab_find(const struct tab *t, uint64_t h, const char *user, uint32_t month,
    const char *type)
{
	uint32_t	 mask = t->cap - 1, i = (uint32_t)h & mask, n, s;
	struct khdr	*k;

	for (n = 0; n < t->cap; n++, i = (i + 1) & mask) {
		k = cell_at(t, i);
		s = atomic_load_explicit(&k->state, memory_order_acquire);
		if (s == C_EMPTY)
			return NULL;
		if (s == C_LIVE && key_eq(k, h, user, month, type))
			return k;
	}
	return NULL;
}

static int
lock_byte(struct usage *u, off_t byte, int type, int wait)
{
	struct flock	 fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = (short)type;
	fl.l_whence = SEEK_SET;
	fl.l_start = byte;
	fl.l_len = 1;
	while (fcntl(u->fd, wait ? F_SETLKW : F_SETLK, &fl) == -1) {
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EACCES)
			say(u, "locking %s: %s", USAGE_FILE, strerror(errno));
		return -1;
	}
	return 0;
}

#define LOCK(u, b)	lock_byte((u), (b), F_WRLCK, 1)
#define TRYLOCK(u, b)	lock_byte((u), (b), F_WRLCK, 0)
#define UNLOCK(u, b)	(void)lock_byte((u), (b), F_UNLCK, 0)

/* May a TOMB of this table be claimed again now? */
static int
reusable(enum tab_id id, struct khdr *k)
{
	struct ccell	*c;
	struct qcell	*q;

	switch (id) {
	case T_COUNT:
		c = (struct ccell *)(void *)k;
		return atomic_load(&c->counter) == atomic_load(&c->flushed);
	case T_QUOTA:
		q = (struct qcell *)(void *)k;
		return (atomic_load(&q->q.word) &
		    ((UINT64_C(1) << USAGE_RESV_SLOTS) - 1)) == 0;
	case T_RATE:
		break;
	}
	return 0;
}

/*
 * Claim a cell for the key, under the claim lock.  The caller fills the
 * cell's payload through init (while the cell is not yet visible).
 * Returns the cell, or NULL when the table is full or init failed.
 */
static struct khdr *
tab_claim(struct usage *u, enum tab_id id, uint64_t h, const char *user,
    uint32_t month, const char *type,
    int (*init)(struct usage *, struct khdr *, void *), void *arg, int *full)
{
	struct tab	*t = &u->t[id];
	uint32_t	 mask = t->cap - 1, i = (uint32_t)h & mask, n, s, nc;
	struct khdr	*k, *got = NULL;

	*full = 0;
	if (LOCK(u, LOCK_CLAIM) == -1)
		return NULL;
	if ((k = tab_find(t, h, user, month, type)) != NULL) {
		UNLOCK(u, LOCK_CLAIM);
		return k;
	}
	for (n = 0; n < t->cap && got == NULL; n++, i = (i + 1) & mask) {
		k = cell_at(t, i);
		s = atomic_load(&k->state);
		if (s == C_TOMB && reusable(id, k))
			got = k;
		else if (s == C_EMPTY) {
			if (atomic_load(&u->h->used[id]) >= FILL_MAX(t->cap))
				break;
			got = k;
		}
	}
	if (got == NULL) {
		*full = 1;
		say(u, "%s: %s table full", USAGE_FILE,
		    id == T_COUNT ? "count" : id == T_QUOTA ? "quota" : "rate");
		UNLOCK(u, LOCK_CLAIM);
		return NULL;
	}
	s = atomic_load(&got->state);
	got->hash = h;
	got->month = month;
	memset(got->user, 0, sizeof(got->user));
	memset(got->type, 0, sizeof(got->type));
	memcpy(got->user, user, strlen(user));
	memcpy(got->type, type, strlen(type));
	if (init != NULL && init(u, got, arg) == -1) {
		UNLOCK(u, LOCK_CLAIM);
		return NULL;
	}
	if (s == C_EMPTY) {
		atomic_fetch_add(&u->h->used[id], 1);
		if (id == T_COUNT) {
			nc = atomic_load(&u->h->nclaimed);
			u->claimed[nc] = (uint32_t)(((unsigned char *)got -
			    t->base) / t->stride);
			atomic_store_explicit(&u->h->nclaimed, nc + 1,
			    memory_order_release);
		}
	}
	atomic_store_explicit(&got->state, C_LIVE, memory_order_release);
	UNLOCK(u, LOCK_CLAIM);
	return got;
}

/*
 * The cell of a key the caller has checked (key_ok): found without a
 * lock, else claimed.  NULL when the table is full (*full set), the
 * claim lock failed or init failed.
 */
static struct khdr *
cell_get(struct usage *u, enum tab_id id, const char *user, uint32_t month,
    const char *type, int (*init)(struct usage *, struct khdr *, void *),
    void *arg, int *full)
{
	uint64_t	 h;
	struct khdr	*k;

	*full = 0;
	h = key_hash(user, month);
	if ((k = tab_find(&u->t[id], h, user, month, type)) != NULL)
		return k;
	return tab_claim(u, id, h, user, month, type, init, arg, full);
}

/* ---- opening ---------------------------------------------------------- */

static void
layout(struct usage *u)
{
	unsigned char	*m = u->map;

	u->h = u->map;
	u->claimed = (uint32_t *)(void *)(m + OFF_LIST);
	u->t[T_COUNT] = (struct tab){ m + OFF_COUNT, sizeof(struct ccell),
	    USAGE_COUNT_CELLS };
	u->t[T_QUOTA] = (struct tab){ m + OFF_QUOTA, sizeof(struct qcell),
	    USAGE_QUOTA_CELLS };
	u->t[T_RATE] = (struct tab){ m + OFF_RATE, sizeof(struct rcell),
	    USAGE_RATE_CELLS };
}

/*
 * The boot id, so that a table file left on a disk by an earlier boot
 * (its pages possibly older than the store's marks) is never trusted:
 * it is made anew, with a new generation, as on a tmpfs.
 */
static void
boot_id(char id[40])
{
	ssize_t	 n = 0;
	int	 fd;

	memset(id, 0, 40);
	if ((fd = open("/proc/sys/kernel/random/boot_id",
	    O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, id, 39);
		close(fd);
	}
	if (n <= 0)
		memset(id, 0, 40);
}

/* Is the open file one of ours, of this layout, made since boot? */
static int
file_ok(int fd)
{
	struct stat	 sb;
	struct hdr	 h;
	char		 id[40];

	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (uint64_t)sb.st_size != SHM_SIZE)
		return 0;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return 0;
	return h.magic == SHM_MAGIC && h.version == SHM_VERSION &&
	    h.hdr_size == HDR_SIZE && h.size == SHM_SIZE &&
	    h.ncount == USAGE_COUNT_CELLS && h.nquota == USAGE_QUOTA_CELLS &&
	    h.nrate == USAGE_RATE_CELLS && h.nresv == USAGE_RESV_SLOTS &&
	    h.generation != 0 &&
	    atomic_load(&h.nclaimed) <= USAGE_COUNT_CELLS &&
	    (boot_id(id), memcmp(id, h.boot_id, sizeof(id)) == 0);
}

/*
 * Make a whole new file under a temporary name, then put it in place:
 * link(2) when there was none (if another process won the race, its file
 * stays), rename(2) to replace a bad one.  Either way no process ever
 * opens a half-made file at path.
 */
static int
file_make(struct usage *u, const char *path, int replace)
{
	char	 tmp[PATH_MAX];
	struct hdr h;
	int	 fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		say(u, "%s: path too long", path);
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		say(u, "creating %s: %s", tmp, strerror(errno));
		return -1;
	}
	memset(&h, 0, sizeof(h));
	h.magic = SHM_MAGIC;
	h.version = SHM_VERSION;
	h.hdr_size = HDR_SIZE;
	h.size = SHM_SIZE;
	h.ncount = USAGE_COUNT_CELLS;
	h.nquota = USAGE_QUOTA_CELLS;
	h.nrate = USAGE_RATE_CELLS;
	h.nresv = USAGE_RESV_SLOTS;
	boot_id(h.boot_id);
	do
		randombytes_buf(&h.generation, sizeof(h.generation));
	while (h.generation == 0);
	rc = fchmod(fd, 0600) == -1 || ftruncate(fd, (off_t)SHM_SIZE) == -1 ||
	    pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ? -1 : 0;
	close(fd);
	if (rc == 0) {
		if (replace)
			rc = rename(tmp, path);
		else if ((rc = link(tmp, path)) == -1 && errno == EEXIST)
			rc = 0;		/* another process made it first */
	}
	if (rc == -1)
		say(u, "creating %s: %s", path, strerror(errno));
	(void)unlink(tmp);
	return rc;
}

/* Replace a bad file, unless another process did so meanwhile. */
static int
file_replace(struct usage *u, const char *path, int fd)
{
	struct stat	 a, b;
	int		 rc = 0;

	if (flock(fd, LOCK_EX) == -1) {
		say(u, "locking %s: %s", path, strerror(errno));
		return -1;
	}
	if (stat(path, &a) == 0 && fstat(fd, &b) == 0 &&
	    a.st_ino == b.st_ino && a.st_dev == b.st_dev && !file_ok(fd))
		rc = file_make(u, path, 1);
	(void)flock(fd, LOCK_UN);
	return rc;
}

int
usage_open(const char *dir, struct usage **out, char *err, size_t errlen)
{
	struct usage	*u;
	char		 path[PATH_MAX];
	int		 tries;

	*out = NULL;
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to start");
		return -1;
	}
	if (snprintf(path, sizeof(path), "%s/%s", dir, USAGE_FILE) >=
	    (int)sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL ||
	    (u->buf = calloc(USAGE_COUNT_CELLS, sizeof(*u->buf))) == NULL) {
		snprintf(err, errlen, "out of memory");
		if (u != NULL)
			free(u);
		return -1;
	}
	u->fd = -1;
	u->flush_ms = USAGE_FLUSH_MS_DEFAULT;
	for (tries = 0; tries < 8 && u->map == NULL; tries++) {
		u->fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (u->fd == -1) {
			if (errno != ENOENT) {
				say(u, "opening %s: %s", path, strerror(errno));
				break;
			}
			if (file_make(u, path, 0) == -1)
				break;
			continue;
		}
		if (!file_ok(u->fd)) {
			if (file_replace(u, path, u->fd) == -1)
				break;
		} else if ((u->map = mmap(NULL, SHM_SIZE, PROT_READ |
		    PROT_WRITE, MAP_SHARED, u->fd, 0)) == MAP_FAILED) {
			u->map = NULL;
			say(u, "mapping %s: %s", path, strerror(errno));
			break;
		} else
			continue;
		close(u->fd);
		u->fd = -1;
	}
	if (u->map == NULL) {
		if (tries == 8)
			say(u, "%s: cannot open a valid table", path);
		snprintf(err, errlen, "%s", u->err);
		if (u->fd != -1)
			close(u->fd);
		free(u->buf);
		free(u);
		return -1;
	}
	u->size = SHM_SIZE;
	layout(u);
	*out = u;
	return 0;
}

void
usage_close(struct usage *u)
{
	if (u == NULL)
		return;
	munmap(u->map, u->size);
	close(u->fd);
	free(u->buf);
	free(u);
}

void
usage_set_flush_ms(struct usage *u, uint64_t ms)
{
	u->flush_ms = ms;
}

void
usage_stats(struct usage *u, struct usage_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->generation = u->h->generation;
	s->count_cells = USAGE_COUNT_CELLS;
	s->quota_cells = USAGE_QUOTA_CELLS;
	s->rate_cells = USAGE_RATE_CELLS;
	s->count_used = atomic_load(&u->h->used[T_COUNT]);
	s->quota_used = atomic_load(&u->h->used[T_QUOTA]);
	s->rate_used = atomic_load(&u->h->used[T_RATE]);
	s->flushes = atomic_load(&u->h->flushes);
	s->overflows = atomic_load(&u->h->overflow_next);
	s->lost = atomic_load(&u->h->lost);
}

/* ---- counting --------------------------------------------------------- */

/*
 * No cell to be had: commit this one call now, under a slot id past the
 * table that no one else will ever use in this generation, with counter
 * `calls` (its durable mark starts at 0, so the store adds exactly that,
 * once).
 * Each costs a mark row in the store; the table being full is logged.
 */
static int
count_sync(struct usage *u, struct store *st, const char *user,
    uint32_t month, const char *type, uint64_t calls)
{
	struct usage_cell c;
	uint64_t	 n;

	if (st == NULL)
		goto lost;
	n = atomic_fetch_add(&u->h->overflow_next, 1);
	if (n >= UINT32_MAX - USAGE_COUNT_CELLS)
		goto lost;
	memset(&c, 0, sizeof(c));
	memcpy(c.user, user, strlen(user));
	memcpy(c.type, type, strlen(type));
	c.month = month;
	c.slot = (uint32_t)(USAGE_COUNT_CELLS + n);
	c.counter = calls;
	if (store_usage_apply(st, u->h->generation, &c, 1) != STORE_OK) {
		say(u, "%s", store_error(st));
		goto lost;
	}
	return 1;
lost:
	atomic_fetch_add(&u->h->lost, calls);
	if (st == NULL)
		say(u, "%s: table full, a call of %s was not counted",
		    USAGE_FILE, user);
	return -1;
}

int
usage_count(struct usage *u, struct store *st, const char *user,
    uint32_t month, const char *type)
{
	return usage_count_n(u, st, user, month, type, 1);
}

int
usage_count_n(struct usage *u, struct store *st, const char *user,
    uint32_t month, const char *type, uint64_t n)
{
	struct khdr	*k;
	int		 full;

	if (!key_ok(user, type)) {
		say(u, "bad user or type name");
		return -1;
	}
	/* No cell (a full table, a failed lock): count it all the same. */
	if ((k = cell_get(u, T_COUNT, user, month, type, NULL, NULL,
	    &full)) == NULL)
		return count_sync(u, st, user, month, type, n);
	atomic_fetch_add_explicit(&((struct ccell *)(void *)k)->counter, n,
	    memory_order_relaxed);
	return 0;
}

uint64_t
usage_pending(struct usage *u, const char *user, uint32_t month)
{
	const struct tab *t = &u->t[T_COUNT];
	uint64_t	 h, sum = 0, c, f;
	uint32_t	 mask = t->cap - 1, i, n;
	struct ccell	*cc;

	if (!key_ok(user, ""))
		return 0;
	h = key_hash(user, month);
	for (n = 0, i = (uint32_t)h & mask; n < t->cap; n++, i = (i + 1) & mask) {
		cc = (struct ccell *)(void *)cell_at(t, i);
		if (atomic_load_explicit(&cc->k.state,
		    memory_order_acquire) == C_EMPTY)
			break;
		if (cc->k.hash != h || cc->k.month != month ||
		    strncmp(cc->k.user, user, sizeof(cc->k.user)) != 0)
			continue;
		f = atomic_load(&cc->flushed);
		c = atomic_load(&cc->counter);
		if (c > f)
			sum += c - f;
	}
	return sum;
}

/* ---- flushing --------------------------------------------------------- */

/*
 * Once a month, turn cells of months before the previous one into
 * tombstones, if flushed (counters) or holding no reservation (quota).
 * A worker would have to stall for over a month between looking a cell
 * up and adding to it to be caught by this.  Under the claim lock.
 */
static void
reclaim(struct usage *u, uint32_t month)
{
	uint32_t	 old = month_before(month), i;
	enum tab_id	 id;
	struct khdr	*k;

	if (month == 0 || atomic_load(&u->h->reclaim_month) == month)
		return;
	for (id = T_COUNT; id <= T_QUOTA; id++)
		for (i = 0; i < u->t[id].cap; i++) {
			k = cell_at(&u->t[id], i);
			if (atomic_load(&k->state) == C_LIVE &&
			    k->month < old && reusable(id, k))
				atomic_store(&k->state, C_TOMB);
		}
	atomic_store(&u->h->reclaim_month, month);
}

/* Collect every cell whose counter moved, under the claim lock. */
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
		if ((slot = u->claimed[i]) >= t->cap)
			continue;
		cc = (struct ccell *)(void *)cell_at(t, slot);
		if (atomic_load(&cc->k.state) == C_EMPTY)
			continue;
		c = atomic_load(&cc->counter);
		if (c == atomic_load(&cc->flushed))
			continue;
		o = &u->buf[n++];
		memcpy(o->user, cc->k.user, USER_MAX);
		o->user[USER_MAX] = '\0';
		memcpy(o->type, cc->k.type, TYPE_MAX);
		o->type[TYPE_MAX] = '\0';
		o->month = cc->k.month;
		o->slot = slot;
		o->counter = c;
	}
	return n;
}

/* Under the flush lock. */
static int
flush_locked(struct usage *u, struct store *st, uint64_t now_ms)
{
	struct ccell	*cc;
	size_t		 n, i;

	if (LOCK(u, LOCK_CLAIM) == -1)
		return -1;
	n = collect(u);
	UNLOCK(u, LOCK_CLAIM);
	if (n > 0) {
		if (store_usage_apply(st, u->h->generation, u->buf, n) !=
		    STORE_OK) {
			say(u, "%s", store_error(st));
			return -1;
		}
		for (i = 0; i < n; i++) {
			cc = (struct ccell *)(void *)cell_at(&u->t[T_COUNT],
			    u->buf[i].slot);
			atomic_store_explicit(&cc->flushed, u->buf[i].counter,
			    memory_order_release);
		}
		atomic_fetch_add(&u->h->flushes, 1);
	}
	if (atomic_load(&u->h->reclaim_month) != month_of(now_ms) &&
	    LOCK(u, LOCK_CLAIM) == 0) {
		reclaim(u, month_of(now_ms));
		UNLOCK(u, LOCK_CLAIM);
	}
	return n > 0 ? 1 : 0;
}

int
usage_maybe_flush(struct usage *u, struct store *st, uint64_t now_ms)
{
	uint64_t	 last;
	int		 rc;

	last = atomic_load_explicit(&u->h->last_flush_ms, memory_order_relaxed);
	/* Due when flush_ms have passed, or the clock went back as far. */
	if ((now_ms >= last ? now_ms - last : last - now_ms) < u->flush_ms)
		return 0;
	if (!atomic_compare_exchange_strong(&u->h->last_flush_ms, &last,
	    now_ms))
		return 0;		/* another worker took this turn */
	if (TRYLOCK(u, LOCK_FLUSH) == -1)
		return 0;		/* idmintctl flushes right now */
	rc = flush_locked(u, st, now_ms);
	UNLOCK(u, LOCK_FLUSH);
	return rc;
}

int
usage_flush(struct usage *u, struct store *st)
{
	uint64_t	 now = now_ms();
	int		 rc;

	if (LOCK(u, LOCK_FLUSH) == -1)
		return -1;
	rc = flush_locked(u, st, now);
	UNLOCK(u, LOCK_FLUSH);
	if (rc == -1)
		return -1;
	atomic_store(&u->h->last_flush_ms, now);
	return 0;
}

/* ---- cells for limit.c ----------------------------------------------- */

struct usage_rate *
usage_rate_cell(struct usage *u, const char *user)
{
	struct khdr	*k;
	int		 full;

	if (!key_ok(user, "") ||
	    (k = cell_get(u, T_RATE, user, 0, "", NULL, NULL, &full)) == NULL)
		return NULL;
	return &((struct rcell *)(void *)k)->r;
}

struct seed {
	struct store	*st;
	int		 failed;
};

/*
 * A new quota cell starts from what the store has (in the caller's read
 * txn) plus what is counted here and not yet flushed.  On the normal
 * path limits_check sees (user, month) before any call of it is counted,
 * so both are exact; from then on the cell counts by itself.
 */
static int
quota_init(struct usage *u, struct khdr *k, void *arg)
{
	struct seed	*s = arg;
	struct qcell	*q = (struct qcell *)(void *)k;
	uint64_t	 durable;
	int		 i;

	if (s->st == NULL ||
	    store_usage_month(s->st, k->user, k->month, &durable) !=
	    STORE_OK) {
		say(u, "reading the usage of %s", k->user);
		s->failed = 1;
		return -1;
	}
	q->q.base = durable + usage_pending(u, k->user, k->month);
	atomic_store(&q->q.word, 0);
	for (i = 0; i < USAGE_RESV_SLOTS; i++)
		atomic_store(&q->q.owner[i], 0);
	return 0;
}

int
usage_quota_cell(struct usage *u, struct store *st, const char *user,
    uint32_t month, struct usage_quota **out)
{
	struct seed	 s = { st, 0 };
	struct khdr	*k;
	int		 full;

	*out = NULL;
	if (!key_ok(user, "")) {
		say(u, "bad user name");
		return -1;
	}
	if ((k = cell_get(u, T_QUOTA, user, month, "", quota_init, &s,
	    &full)) == NULL)
		return full ? -2 : -1;
	*out = &((struct qcell *)(void *)k)->q;
	return 0;
}
