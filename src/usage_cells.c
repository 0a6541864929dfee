/*
 * usage_cells.c: the shared table's quota and rate cells, keyed by a
 * SipHash of the key's name (keyed with the file's own random key), so
 * 100,000 keys fit in a few MiB; found without a lock, claimed under the
 * claim lock, idle rate cells taken again.  limit.c works them through
 * nk_cell().  Also what every kind of cell shares: cell_recount().
 */
#include "config.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "limit.h"
#include "table.h"
#include "usage.h"

void
name_key(const struct usage *u, const char *user, struct nkey *k)
{
	unsigned char	 out[16];

	crypto_shorthash_siphashx24(out, (const unsigned char *)user,
	    strlen(user), u->h->hkey);
	memcpy(&k->h1, out, 8);
	memcpy(&k->h2, out + 8, 8);
}

/* Under the claim lock (table.h). */
void
cell_recount(struct usage *u, enum tab_id id)
{
	const struct tab *t = &u->t[id];
	uint32_t	 i, n = 0;

	for (i = 0; i < t->cap; i++)
		n += atomic_load((_Atomic uint32_t *)cell_at(t, i)) != C_EMPTY;
	atomic_store(&u->h->used[id], n);
}

/* ---- quota and rate cells: keyed by a name hash ----------------------- */

/* The part quota and rate cells share. */
struct kcell {
	_Atomic uint32_t state;
	uint32_t	 month;
	struct nkey	 k;
};

static struct kcell *
kcell_find(const struct tab *t, const struct nkey *k, uint32_t month,
    uint32_t *index)
{
	uint32_t	 mask = t->cap - 1, i = (uint32_t)k->h1 & mask, n, s;
	struct kcell	*c;

	for (n = 0; n < t->cap; n++, i = (i + 1) & mask) {
		c = cell_at(t, i);
		s = atomic_load_explicit(&c->state, memory_order_acquire);
		if (s == C_EMPTY)
			return NULL;
		if (s == C_LIVE && c->k.h1 == k->h1 && c->k.h2 == k->h2 &&
		    c->month == month) {
			*index = i;
			return c;
		}
	}
	return NULL;
}

/*
 * Can a cell be taken for another key?  A tomb can; so can a rate cell
 * whose GCRA state is a minute past, since it limits nothing (a request
 * reading it that long after finding it is not a worry worth a lock).
 */
static int
kcell_free(enum tab_id id, struct kcell *c, uint64_t mono_ns)
{
	uint32_t	 s = atomic_load(&c->state);

	if (s == C_TOMB)
		return 1;
	if (id == T_RATE && s == C_LIVE)
		return atomic_load(&((struct rcell *)(void *)c)->tat) +
		    60 * NS_PER_S < mono_ns;
	return 0;
}

/*
 * A cell in k's probe run (from its home to the first empty cell, the
 * only cells a lookup visits) that can be taken; or that empty cell,
 * while fewer than 7/8 of the cells are live and one stays empty.
 */
static struct kcell *
kcell_pick(struct usage *u, enum tab_id id, const struct nkey *k,
    uint64_t now, uint32_t live, uint32_t *index)
{
	struct tab	*t = &u->t[id];
	uint32_t	 mask = t->cap - 1, i = (uint32_t)k->h1 & mask, n, s;
	struct kcell	*c;

	for (n = 0; n < t->cap; n++, i = (i + 1) & mask) {
		c = cell_at(t, i);
		s = atomic_load(&c->state);
		if (s != C_EMPTY && kcell_free(id, c, now)) {
			*index = i;
			return c;
		}
		if (s != C_EMPTY)
			continue;
		if (live >= FILL_MAX(t->cap) ||
		    atomic_load(&u->h->used[id]) >= t->cap - 1)
			break;
		*index = i;
		return c;
	}
	return NULL;
}

/*
 * Before a table is called full: idle rate cells become tombs, so any
 * key whose run holds one can take it, and the live cells are counted.
 * (A process killed inside a claim counted a cell it never made live:
 * used[] is counted again too.)  Under the claim lock.
 */
static uint32_t
sweep(struct usage *u, enum tab_id id, uint64_t now)
{
	const struct tab *t = &u->t[id];
	uint32_t	 i, live = 0;
	struct kcell	*c;

	for (i = 0; i < t->cap; i++) {
		c = cell_at(t, i);
		if (atomic_load(&c->state) != C_LIVE)
			continue;
		if (id == T_RATE && kcell_free(id, c, now))
			atomic_store(&c->state, C_TOMB);
		else
			live++;
	}
	cell_recount(u, id);
	return live;
}

void *
nk_cell(struct usage *u, enum tab_id id, const struct nkey *k, uint32_t month,
    int (*init)(struct usage *, void *, void *), void *arg, uint64_t now,
    int *full, uint32_t *index)
{
	struct tab	*t = &u->t[id];
	struct kcell	*c;
	uint32_t	 s;

	*full = 0;
	if ((c = kcell_find(t, k, month, index)) != NULL)
		return c;
	if (usage_lock(u, LOCK_CLAIM, 1) == -1)
		return NULL;
	if ((c = kcell_find(t, k, month, index)) != NULL) {
		usage_unlock(u, LOCK_CLAIM);
		return c;
	}
	if ((c = kcell_pick(u, id, k, now, atomic_load(&u->h->used[id]),
	    index)) == NULL)
		c = kcell_pick(u, id, k, now, sweep(u, id, now), index);
	if (c == NULL) {
		*full = 1;
		usage_say(u, "%s: %s table full", u->shm.path,
		    id == T_QUOTA ? "quota" : "rate");
		usage_unlock(u, LOCK_CLAIM);
		return NULL;
	}
	s = atomic_load(&c->state);
	if (s == C_LIVE)		/* an idle rate cell: hide it first */
		atomic_store(&c->state, C_TOMB);
	c->k = *k;
	c->month = month;
	if (init != NULL && init(u, c, arg) == -1) {
		usage_unlock(u, LOCK_CLAIM);
		return NULL;
	}
	if (s == C_EMPTY)
		atomic_fetch_add(&u->h->used[id], 1);
	atomic_store_explicit(&c->state, C_LIVE, memory_order_release);
	usage_unlock(u, LOCK_CLAIM);
	return c;
}
