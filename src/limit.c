/*
 * limit.c: rate limits (GCRA) and monthly quotas on the shared table.
 *
 * Rate: GCRA as in redis-cell and nginx's limit_req.  Emission interval
 * T = 1e9 / rate ns, tolerance tau = (rate - 1) * T, so `rate` requests
 * pass at once and then one every T.  The state is one atomic TAT per
 * key, in monotonic nanoseconds, moved with a CAS loop, so every worker
 * sees one limit and a wall clock that steps refuses nobody.
 *
 * Quota: the cell of (key, month) holds base (the count when the cell was
 * made) and one word: used << RESV_BITS | reservation bits.  One CAS
 * checks base + used + reservations < quota and takes a bit, so racing
 * workers can never pass more than quota calls between them.  The holder
 * first marks its process cell PENDING for the quota cell, then takes the
 * bit, then writes the bit there; a reaper reads the word before the
 * process cells, so any bit it sees set is either named by a process
 * cell, or its taker's PENDING mark is visible.
 */
#include "config.h"

#include <string.h>

#include "clock.h"
#include "limit.h"
#include "proc.h"
#include "store.h"
#include "usage.h"

#define NS		NS_PER_S
#define OWNER(pid)	((uint64_t)(pid) << 32 | 1)
#define RESV(qi, bit)	((uint64_t)((qi) + 1) << 8 | (uint64_t)((bit) + 1))

static uint64_t
ceil_s(uint64_t ns)
{
	return (ns + NS - 1) / NS;
}

/* ---- rate ------------------------------------------------------------- */

/* nodes > 1: this node's share, rate / nodes, with a burst of at least 1. */
static int
gcra(struct rcell *r, uint32_t rate, uint32_t nodes, uint64_t now,
    struct limit_verdict *v)
{
	uint64_t	 burst = rate / nodes > 0 ? rate / nodes : 1;
	uint64_t	 t = NS * nodes / rate, tau = (burst - 1) * t;
	uint64_t	 tat, from, ntat, left;

	tat = atomic_load_explicit(&r->tat, memory_order_relaxed);
	do {
		from = tat > now ? tat : now;
		if (from - now > tau) {
			v->ok = 0;
			v->status = HTTP_TOO_MANY;
			v->message = "Rate limit exceeded";
			v->retry_after = (unsigned)ceil_s(from - now - tau);
			v->limit = rate;
			v->remaining = 0;
			v->reset = ceil_s(tat - now);
			v->has_headers = 1;
			return 0;
		}
		ntat = from + t;
	} while (!atomic_compare_exchange_weak_explicit(&r->tat, &tat, ntat,
	    memory_order_relaxed, memory_order_relaxed));
	v->has_headers = 1;
	v->limit = rate;
	left = (burst * t - (ntat - now)) / t * nodes;
	v->remaining = left < rate ? left : rate;
	v->reset = ceil_s(ntat - now);
	return 1;
}

static int
rate_init(struct usage *u, void *cell, void *arg)
{
	(void)u;
	(void)arg;
	atomic_store(&((struct rcell *)cell)->tat, 0);
	return 0;
}

/* ---- process cells ---------------------------------------------------- */

static int
pcell_dead(struct pcell *p)
{
	uint64_t	 o = atomic_load(&p->owner);

	return o != 0 && !proc_alive((pid_t)(o >> 32), atomic_load(&p->start));
}

/* Take back the reservation a process cell names, if it still does. */
static int
pcell_release(struct usage *u, struct pcell *p, uint64_t r)
{
	struct qcell	*q;
	uint64_t	 qi = (r >> 8) - 1, bit = r & 0xff;

	if (r == 0 || !atomic_compare_exchange_strong(&p->resv, &r, 0))
		return 0;
	if (bit == PC_PENDING || qi >= u->t[T_QUOTA].cap)
		return 0;
	q = (struct qcell *)(void *)(u->t[T_QUOTA].base + qi *
	    u->t[T_QUOTA].stride);
	return (atomic_fetch_and(&q->word, ~(UINT64_C(1) << (bit - 1))) >>
	    (bit - 1)) & 1;
}

/* This process's cell, taken if it has none; -1 when all are held. */
static int
pcell_mine(struct usage *u)
{
	uint64_t	 me = OWNER(proc_self()), zero, o, start = 0;
	uint32_t	 i, pass;
	struct pcell	*p;

	if (u->pcell >= 0 && atomic_load(&u->procs[u->pcell].owner) == me)
		return u->pcell;
	proc_starttime(proc_self(), &start);
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < u->nprocs; i++) {
			p = &u->procs[i];
			o = atomic_load(&p->owner);
			zero = 0;
			if (pass == 1 && o != 0 && pcell_dead(p)) {
				/* A dead holder's reservation goes first. */
				pcell_release(u, p, atomic_load(&p->resv));
				zero = o;
			}
			if ((pass == 0 && o != 0) || !atomic_compare_exchange_strong(
			    &p->owner, &zero, me))
				continue;
			atomic_store(&p->start, start);
			atomic_store(&p->resv, 0);
			return u->pcell = (int)i;
		}
	return -1;
}

void
limits_leave(struct usage *u)
{
	uint64_t	 me = OWNER(proc_self());

	if (u->pcell >= 0 && atomic_load(&u->procs[u->pcell].resv) == 0)
		atomic_compare_exchange_strong(&u->procs[u->pcell].owner, &me,
		    0);
	u->pcell = -1;
}

/* ---- quota ------------------------------------------------------------ */

struct seed {
	struct store	*st;
	const char	*user;
};

/*
 * A new quota cell starts from every call of (key, month) counted so far
 * (usage_seed: the store in a snapshot of its own, not the request's,
 * which may predate a flush another process has committed since, plus
 * what that snapshot has not seen); from then on the cell counts by
 * itself.  A cell is new the first time a month sees the key, and again
 * when the table is made anew or a stale cell was reclaimed.
 */
static int
quota_init(struct usage *u, void *cell, void *arg)
{
	struct seed	*s = arg;
	struct qcell	*q = cell;
	uint64_t	 base;

	if (s->st == NULL || usage_seed(u, s->st, s->user, q->month,
	    &base) == -1) {
		usage_say(u, "reading the usage of %s", s->user);
		return -1;
	}
	q->base = base;
	atomic_store(&q->word, 0);
	return 0;
}

/*
 * Give back the bits of q that nobody alive holds: those named by dead
 * processes or held past LIMITS_RESV_TTL, and those no process names at
 * all (a taker killed between its bit and its note), unless a live taker
 * is in the middle of taking one.  Returns how many.
 */
static int
reap(struct usage *u, struct qcell *q, uint32_t qi, uint64_t now_s)
{
	uint64_t	 w = atomic_load(&q->word), named = 0, r;
	uint32_t	 i;
	int		 n = 0, pending = 0;
	struct pcell	*p;

	for (i = 0; i < u->nprocs; i++) {
		p = &u->procs[i];
		r = atomic_load(&p->resv);
		if (r == 0 || (r >> 8) != (uint64_t)qi + 1)
			continue;
		if (pcell_dead(p) || ((r & 0xff) != PC_PENDING &&
		    now_s - atomic_load(&p->stamp) > LIMITS_RESV_TTL)) {
			n += pcell_release(u, p, r);
			continue;
		}
		if ((r & 0xff) == PC_PENDING)
			pending = 1;
		else
			named |= UINT64_C(1) << ((r & 0xff) - 1);
	}
	if (!pending && (w & RESV_MASK & ~named) != 0) {
		w = atomic_fetch_and(&q->word, ~(w & RESV_MASK & ~named));
		n += __builtin_popcountll(w & RESV_MASK & ~named);
	}
	return n;
}

static void
quota_refuse(struct limit_verdict *v, uint64_t quota, uint64_t wall_ms,
    const char *msg)
{
	uint64_t	 left = month_left_ms(wall_ms) * NS_PER_MS;

	v->ok = 0;
	v->status = HTTP_TOO_MANY;
	v->message = msg;
	v->retry_after = (unsigned)(ceil_s(left) > 0 ? ceil_s(left) : 1);
	v->has_headers = 1;
	v->limit = quota;
	v->remaining = 0;
	v->reset = ceil_s(left);
}

/*
 * A batch of n takes one bit (one call) and charges its other n - 1
 * calls to `used` in the same CAS; limits_done gives them back if the
 * answer is not a 200.  remote: the other nodes' calls (cluster mode),
 * counted as used.
 */
static void
quota_reserve(struct usage *u, struct pcell *p, uint32_t qi, uint64_t quota,
    uint64_t remote, uint64_t wall_ms, uint64_t now_s,
    struct limit_verdict *v)
{
	struct qcell	*q = v->quota;
	uint64_t	 w, uses, held, left, n = v->n;
	int		 bit, reaped = 0, fits;

	atomic_store(&p->stamp, now_s);
	atomic_store(&p->resv, RESV(qi, PC_PENDING - 1));
	for (;;) {
		w = atomic_load(&q->word);
		held = (uint64_t)__builtin_popcountll(w & RESV_MASK);
		uses = q->base + remote + (w >> RESV_BITS) + held;
		bit = (~w & RESV_MASK) != 0 ? __builtin_ctzll(~w & RESV_MASK) :
		    -1;
		fits = uses < quota && n <= quota - uses;
		if (fits && bit >= 0 && atomic_compare_exchange_weak(&q->word,
		    &w, ((w | UINT64_C(1) << bit) + (n - 1) * USED_ONE)))
			break;
		if (fits && bit >= 0)
			continue;	/* the word moved: again */
		if (held > 0 && !reaped++ && reap(u, q, qi, now_s) > 0)
			continue;
		atomic_store(&p->resv, 0);
		if (!fits) {
			quota_refuse(v, quota, wall_ms, "Monthly quota exceeded");
			v->by_quota = 1;
			/* A smaller batch may still pass: say what is left. */
			v->remaining = uses < quota ? quota - uses : 0;
		} else {
			/* More requests of this key in flight than bits. */
			quota_refuse(v, quota, wall_ms, "Rate limit exceeded");
			v->retry_after = 1;
		}
		return;
	}
	v->resv = RESV(qi, bit);
	atomic_store(&p->resv, v->resv);
	left = quota - uses - n;
	/* Report whichever limit is nearer. */
	if (!v->has_headers || left < v->remaining) {
		v->has_headers = 1;
		v->limit = quota;
		v->remaining = left;
		v->reset = ceil_s(month_left_ms(wall_ms) * NS_PER_MS);
	}
}

/* ---- the two calls ---------------------------------------------------- */

static int
unavailable(struct limit_verdict *v, const char *msg)
{
	v->ok = 0;
	v->status = HTTP_UNAVAILABLE;
	v->message = msg;
	v->retry_after = 1;
	v->quota = NULL;
	v->resv = 0;
	return -1;
}

int
limits_check(struct usage *u, struct store *st, const char *user,
    uint32_t rate, uint64_t quota, uint64_t wall_ms, uint64_t mono_ns,
    const struct limit_share *share, struct limit_verdict *v)
{
	return limits_check_n(u, st, user, rate, quota, 1, wall_ms, mono_ns,
	    share, v);
}

int
limits_check_n(struct usage *u, struct store *st, const char *user,
    uint32_t rate, uint64_t quota, uint64_t n, uint64_t wall_ms,
    uint64_t mono_ns, const struct limit_share *share,
    struct limit_verdict *v)
{
	struct seed	 seed = { st, user };
	struct nkey	 k;
	struct rcell	*r;
	uint32_t	 qi;
	size_t		 ul = strnlen(user, USER_MAX + 1);
	int		 full, pc;

	memset(v, 0, sizeof(*v));
	v->ok = 1;
	v->status = HTTP_OK;
	v->n = n > 0 ? n : 1;
	if (ul == 0 || ul > USER_MAX)
		return unavailable(v, "Bad user name");
	memcpy(v->user, user, ul);
	v->month = month_of(wall_ms);
	if (rate == 0 && quota == 0)
		return 0;
	name_key(u, user, &k);
	if (rate > 0) {
		if ((r = nk_cell(u, T_RATE, &k, 0, rate_init, NULL, mono_ns,
		    &full, &qi)) == NULL)
			return unavailable(v, full ? "Rate table full" :
			    "Usage table unavailable");
		if (!gcra(r, rate, share != NULL && share->nodes > 1 ?
		    share->nodes : 1, mono_ns, v))
			return 0;
	}
	if (quota == 0)
		return 0;
	if ((v->quota = nk_cell(u, T_QUOTA, &k, v->month, quota_init, &seed,
	    mono_ns, &full, &qi)) == NULL)
		return unavailable(v, full ? "Quota table full" :
		    "Usage store unavailable");
	if ((pc = pcell_mine(u)) == -1)
		return unavailable(v, "Too many processes hold reservations");
	quota_reserve(u, &u->procs[pc], qi, quota, share != NULL ?
	    share->remote : 0, wall_ms, mono_ns / NS, v);
	if (!v->ok)
		v->quota = NULL;
	return 0;
}

int
limits_done(struct usage *u, struct store *st, struct limit_verdict *v,
    const char *type, enum status status)
{
	struct qcell	*q = v->quota;
	uint64_t	 w, bit, nw, r = v->resv;
	int		 rc = 0, mine = 0;

	if (!v->ok || v->done)
		return 0;
	v->done = 1;
	if (status == HTTP_OK)
		rc = usage_count_n(u, st, v->user, v->month, type, v->n);
	if (q == NULL)
		return rc;
	/* Ours still, unless a reaper took it back (then the bit is not
	 * ours to clear: another request may hold it now). */
	if (u->pcell >= 0 && r != 0)
		mine = atomic_compare_exchange_strong(&u->procs[u->pcell].resv,
		    &r, 0);
	bit = mine ? UINT64_C(1) << ((v->resv & 0xff) - 1) : 0;
	/*
	 * A 200 turns the reservation into one used call (the batch's
	 * others were charged already); else the batch's charge goes back.
	 * Counted first: a crash between the two leaves a bit that is
	 * reaped, i.e. a call counted but not charged.
	 */
	w = atomic_load(&q->word);
	do {
		nw = w & ~bit;
		if (status == HTTP_OK)
			nw += USED_ONE;
		else
			nw -= (v->n - 1) * USED_ONE;
	} while (!atomic_compare_exchange_weak(&q->word, &w, nw));
	return rc;
}
