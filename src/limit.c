/*
 * limit.c: rate limits (GCRA) and monthly quotas on the shared table.
 *
 * Rate: GCRA as in redis-cell and nginx's limit_req.  Emission interval
 * T = 1e9 / rate ns, tolerance tau = (rate - 1) * T, so `rate` requests
 * pass at once and then one every T.  The state is one atomic TAT per
 * user, moved with a CAS loop, so every worker sees one limit.
 *
 * Quota: the cell of (user, month) holds base (the count when the cell
 * was made) and one word: used << USAGE_RESV_SLOTS | reservation bits.
 * One CAS checks base + used + reservations < quota and takes a bit, so
 * racing workers can never pass more than quota calls between them.
 * Whoever holds bit i has first put its pid and the second into
 * owner[i]: bit set implies owner set, which is what lets a request that
 * finds the quota full give back the bits of dead processes.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "limit.h"
#include "usage.h"

#define NS		NS_PER_S
#define RESV_MASK	((UINT64_C(1) << USAGE_RESV_SLOTS) - 1)
#define USED_ONE	(UINT64_C(1) << USAGE_RESV_SLOTS)

static uint64_t
ceil_s(uint64_t ns)
{
	return (ns + NS - 1) / NS;
}

/* ---- rate ------------------------------------------------------------- */

static int
gcra(struct usage_rate *r, uint32_t rate, uint64_t now,
    struct limit_verdict *v)
{
	uint64_t	 t = NS / rate, tau = (uint64_t)(rate - 1) * t;
	uint64_t	 tat, from, ntat;

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
	v->remaining = ((uint64_t)rate * t - (ntat - now)) / t;
	v->reset = ceil_s(ntat - now);
	return 1;
}

/* ---- quota ------------------------------------------------------------ */

static uint64_t
held(uint64_t w)
{
	return (uint64_t)__builtin_popcountll(w & RESV_MASK);
}

/*
 * Give back reservations of processes that are gone, or older than
 * LIMITS_RESV_TTL.  Clearing a bit is idempotent, and a live holder that
 * commits after being reaped still counts its call, so a race with a
 * holder costs at most that one reservation.  Returns how many.
 */
static int
reap(struct usage_quota *q, uint64_t now_s)
{
	uint64_t	 o, bit;
	uint32_t	 age;
	pid_t		 pid;
	int		 i, n = 0;

	for (i = 0; i < USAGE_RESV_SLOTS; i++) {
		if ((o = atomic_load(&q->owner[i])) == 0)
			continue;
		pid = (pid_t)(o >> 32);
		age = (uint32_t)now_s - (uint32_t)o;	/* mod 2^32 */
		if (age > UINT32_MAX / 2)
			age = -age;			/* clock went back */
		if (age <= LIMITS_RESV_TTL &&
		    !(kill(pid, 0) == -1 && errno == ESRCH))
			continue;
		bit = UINT64_C(1) << i;
		if (atomic_fetch_and(&q->word, ~bit) & bit)
			n++;
		atomic_compare_exchange_strong(&q->owner[i], &o, 0);
	}
	return n;
}

/* Take an owner slot whose bit is free. */
static int
take_slot(struct usage_quota *q, uint64_t tag)
{
	uint64_t	 w = atomic_load(&q->word), zero;
	int		 i;

	for (i = 0; i < USAGE_RESV_SLOTS; i++) {
		zero = 0;
		if (!(w & (UINT64_C(1) << i)) &&
		    atomic_compare_exchange_strong(&q->owner[i], &zero, tag))
			return i;
	}
	return -1;
}

static void
quota_refuse(struct limit_verdict *v, uint64_t quota, uint64_t now,
    const char *msg)
{
	uint64_t	 left = month_left_ms(now / NS_PER_MS) * NS_PER_MS;

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
 * This process's pid, for reservation tags: getpid() is a system call on
 * every quota check otherwise.  A fork resets it in the child.
 */
static pid_t	 self_pid;

static void
self_forget(void)
{
	self_pid = 0;
}

static pid_t
self(void)
{
	static int	 hooked;

	if (!hooked)
		hooked = pthread_atfork(NULL, NULL, self_forget) == 0;
	if (self_pid == 0 || !hooked)
		self_pid = getpid();
	return self_pid;
}

/*
 * A batch of n takes one slot (one call) and charges its other n - 1
 * calls to `used` in the same CAS; limits_done gives them back if the
 * answer is not a 200.
 */
static void
quota_reserve(struct usage_quota *q, uint64_t quota, uint64_t n,
    uint64_t now, struct limit_verdict *v)
{
	uint64_t	 now_s = now / NS, tag, w, uses, left;
	int		 i = -1, reaped = 0;

	tag = (uint64_t)self() << 32 | (now_s & 0xffffffff);
	for (;;) {
		if (i == -1 && (i = take_slot(q, tag)) == -1) {
			if (!reaped++) {
				(void)reap(q, now_s);
				continue;
			}
			quota_refuse(v, quota, now, "Rate limit exceeded");
			v->retry_after = 1;
			return;
		}
		w = atomic_load(&q->word);
		uses = q->base + (w >> USAGE_RESV_SLOTS) + held(w);
		if (uses >= quota || n > quota - uses) {
			if (held(w) > 0 && !reaped++ && reap(q, now_s) > 0)
				continue;
			atomic_store(&q->owner[i], 0);
			quota_refuse(v, quota, now, "Monthly quota exceeded");
			/* A smaller batch may still pass: say what is left. */
			v->remaining = uses < quota ? quota - uses : 0;
			return;
		}
		if (atomic_compare_exchange_weak(&q->word, &w,
		    (w | UINT64_C(1) << i) + (n - 1) * USED_ONE))
			break;
	}
	v->slot = i;
	v->tag = tag;
	left = quota - uses - n;
	/* Report whichever limit is nearer. */
	if (!v->has_headers || left < v->remaining) {
		v->has_headers = 1;
		v->limit = quota;
		v->remaining = left;
		v->reset = ceil_s(month_left_ms(now / NS_PER_MS) * NS_PER_MS);
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
	v->slot = -1;
	return -1;
}

int
limits_check(struct usage *u, struct store *st, const char *user,
    uint32_t rate, uint64_t quota, uint64_t now_ns, struct limit_verdict *v)
{
	return limits_check_n(u, st, user, rate, quota, 1, now_ns, v);
}

int
limits_check_n(struct usage *u, struct store *st, const char *user,
    uint32_t rate, uint64_t quota, uint64_t n, uint64_t now_ns,
    struct limit_verdict *v)
{
	struct usage_rate *r;
	size_t		 ul = strnlen(user, USER_MAX + 1);
	int		 rc;

	memset(v, 0, sizeof(*v));
	v->ok = 1;
	v->status = HTTP_OK;
	v->slot = -1;
	v->n = n > 0 ? n : 1;
	if (ul == 0 || ul > USER_MAX)
		return unavailable(v, "Bad user name");
	memcpy(v->user, user, ul);
	v->month = month_of(now_ns / NS_PER_MS);
	if (rate > 0) {
		if ((r = usage_rate_cell(u, user)) == NULL)
			return unavailable(v, "Rate table full");
		if (!gcra(r, rate, now_ns, v))
			return 0;
	}
	/* The cell is kept for unlimited keys too, so that a plan change
	 * mid-month starts from an exact count; but they never fail on it. */
	rc = usage_quota_cell(u, st, user, v->month, &v->quota);
	if (rc != 0) {
		v->quota = NULL;
		if (quota > 0)
			return unavailable(v, rc == -2 ? "Quota table full" :
			    "Usage store unavailable");
	}
	if (quota > 0)
		quota_reserve(v->quota, quota, v->n, now_ns, v);
	return 0;
}

int
limits_done(struct usage *u, struct store *st, struct limit_verdict *v,
    const char *type, enum status status)
{
	struct usage_quota *q = v->quota;
	uint64_t	 w, bit, nw;
	int		 rc = 0;

	if (!v->ok || v->done)
		return 0;
	v->done = 1;
	bit = v->slot >= 0 ? UINT64_C(1) << v->slot : 0;
	if (status == HTTP_OK)
		/* Count first: a crash between the two leaves a reservation
		 * that is reaped, i.e. a call counted but not charged. */
		rc = usage_count_n(u, st, v->user, v->month, type, v->n);
	if (q != NULL && (status == HTTP_OK || bit != 0)) {
		/* A 200 turns the slot into one used call (all n without a
		 * slot); else the slot and the batch's charge go back. */
		w = atomic_load(&q->word);
		do {
			nw = w & ~bit;
			if (status != HTTP_OK)
				nw -= (v->n - 1) * USED_ONE;
			else
				nw += bit != 0 ? USED_ONE : v->n * USED_ONE;
		} while (!atomic_compare_exchange_weak(&q->word, &w, nw));
	}
	if (q != NULL && bit != 0)
		atomic_compare_exchange_strong(&q->owner[v->slot], &v->tag, 0);
	return rc;
}
