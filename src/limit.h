/*
 * limit.h: per-key rate limits (GCRA) and monthly quotas, shared by every
 * worker through the shared table (usage.h, table.h).
 *
 * Per request, with the store's read txn open (store_rd_begin):
 *
 *	limits_check(u, st, key.user, key.rate, key.quota, wall, mono, NULL,
 *	    &v);
 *	if (!v.ok) -> answer v.status with v.message (+ Retry-After)
 *	else status = handler(...);
 *	limits_done(u, st, &v, type, status);
 *	headers from v when v.has_headers;
 *	store_rd_end(st); usage_maybe_flush(u, st, mono_ms);
 *
 * Rate: a burst of `rate` requests, then one every 1/rate s; every
 * request that reaches limits_check spends it, whatever its status.
 * Quota: calls with status 200 per UTC month.  limits_check reserves one
 * call; limits_done turns it into a counted call (200) or gives it back.
 * Whose reservation a bit is, is written in the holder's process cell,
 * so a request that finds the quota full (or no free bit) gives back the
 * bits of processes that died (kill -9) or held one past
 * LIMITS_RESV_TTL, and a holder whose bit was taken back never clears a
 * bit another request now holds.
 */
#ifndef IDMINT_LIMIT_H
#define IDMINT_LIMIT_H

#include <stdint.h>

#include "auth.h"		/* USER_MAX */
#include "response.h"		/* enum status */
#include "table.h"		/* struct nkey */

struct store;
struct usage;
struct usage_quota;

#define LIMITS_RESV_TTL		60	/* seconds a reservation may live */

/*
 * Cluster mode (doc/cluster.md): the part of a key's limits this node
 * enforces.  The rate is split evenly among the live nodes; the quota
 * counts the other nodes' calls as last pulled.  NULL: one machine.
 */
struct limit_share {
	uint32_t	 nodes;		/* live nodes, >= 1 */
	uint64_t	 remote;	/* the other nodes' calls this month */
};

struct limit_verdict {
	int		 ok;		/* 1: go on with the handler */
	enum status	 status;	/* 200, 429, or 503 when not ok */
	const char	*message;	/* "Rate limit exceeded",
					   "Monthly quota exceeded", ... */
	unsigned	 retry_after;	/* seconds, >= 1, when not ok */
	int		 by_quota;	/* a 429 of the monthly quota */
	/* RateLimit-Limit / -Remaining / -Reset (seconds); has_headers is
	 * 0 for a key with neither rate nor quota. */
	int		 has_headers;
	uint64_t	 limit, remaining, reset;

	/* for limits_done */
	char		 user[USER_MAX + 1];
	uint32_t	 month;
	struct qcell	*quota;		/* NULL: nothing to account */
	uint64_t	 resv;		/* the reservation, as the process
					   cell names it; 0: none */
	uint64_t	 n;		/* calls asked for (a batch's size) */
	int		 done;		/* limits_done ran */
};

/*
 * Decide whether user may go on.  rate and quota 0 mean unlimited.
 * Always fills *v; returns 0, or -1 when the table or the store failed
 * (then v->status is 503 and v->message says so).
 */
/*
 * wall_ms (Unix time) places the call in its month; mono_ns
 * (CLOCK_MONOTONIC) paces the rate and ages reservations, so a wall clock
 * that steps back refuses nobody.
 */
int	 limits_check(struct usage *, struct store *, const char *user,
	    uint32_t rate, uint64_t quota, uint64_t wall_ms, uint64_t mono_ns,
	    const struct limit_share *, struct limit_verdict *);
/*
 * The same for a request of n calls (a batch): one unit of rate, and n
 * calls of quota reserved at once, or none (429 when fewer are left).
 * The reservation holds one bit; its other n - 1 calls are charged to
 * `used` at once and given back if the answer is not a 200, so a holder
 * that dies mid-batch leaves them charged (never more than the quota).
 */
int	 limits_check_n(struct usage *, struct store *, const char *user,
	    uint32_t rate, uint64_t quota, uint64_t n, uint64_t wall_ms,
	    uint64_t mono_ns, const struct limit_share *,
	    struct limit_verdict *);
/*
 * After the handler: HTTP_OK counts the v->n calls of type
 * (usage_count_n) and spends the reservation, anything else gives it
 * back.  A no-op when
 * v->ok is 0 or on a second call.  Returns usage_count's result (0, 1
 * when committed synchronously, -1 when not counted) or 0.
 */
int	 limits_done(struct usage *, struct store *, struct limit_verdict *,
	    const char *type, enum status);

/* Give up this process's process cell (at exit; usage_close calls it). */
void	 limits_leave(struct usage *);

#endif
