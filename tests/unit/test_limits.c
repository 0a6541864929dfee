/*
 * test_limits.c: GCRA rate limits and monthly quotas over the shared
 * table, with injected clocks (never a sleep).
 */
#include "config.h"

#include <sys/wait.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "clock.h"
#include "fixture.h"
#include "limit.h"
#include "table.h"

#define NS	1000000000ULL
#define MS	1000000ULL

static struct usage *u;
static struct store *st;

static void
setup(void)
{
	fx_mkdir("test_limits");
	u = fx_usage();
	st = fx_store(0);
}

static void
teardown(void)
{
	store_close(st);
	usage_close(u);
	fx_rmdir();
}

TestSuite(limits, .init = setup, .fini = teardown, .timeout = 60);

/* Unix time of a UTC date, in ns. */
static uint64_t
utc(int y, int mon, int d, int h, int mi, int s)
{
	struct tm	 tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (uint64_t)timegm(&tm) * NS;
}

/* In a forked child: a shared table and a store of its own, or exit 2. */
static void
child_open(struct usage **cu, struct store **cst)
{
	char	 err[256];

	if (usage_open(fx_dir, NULL, cu, err, sizeof(err)) != 0 ||
	    store_open(cst, fx_db, 0, err, sizeof(err)) != 0)
		_exit(2);
}

/* One request as the caller makes it. */
static int
request(const char *user, uint32_t rate, uint64_t quota, uint64_t now,
    int status, struct limit_verdict *v)
{
	cr_assert_eq(store_rd_begin(st), STORE_OK);
	cr_assert_eq(limits_check(u, st, user, rate, quota, now / MS, now, NULL,
	    v), 0,
	    "%s", v->message);
	if (v->ok)
		cr_assert_geq(limits_done(u, st, v, "uuid", status), 0);
	store_rd_end(st);
	return v->ok;
}

/* A request of n calls (a batch), as h_idgen makes it. */
static int
batch(const char *user, uint32_t rate, uint64_t quota, uint64_t n,
    uint64_t now, int status, struct limit_verdict *v)
{
	cr_assert_eq(store_rd_begin(st), STORE_OK);
	cr_assert_eq(limits_check_n(u, st, user, rate, quota, n, now / MS, now,
	    NULL, v), 0,
	    "%s", v->message);
	if (v->ok)
		cr_assert_geq(limits_done(u, st, v, "uuid", status), 0);
	store_rd_end(st);
	return v->ok;
}

/* The calendar of clock.c, which limits read months and resets from;
 * times here are ns, the clock's calendar takes ms. */
Test(limits, month_of_and_month_left)
{
	uint64_t	 dec1 = utc(2026, 12, 1, 0, 0, 0);

	cr_assert_eq(month_of((dec1 - MS) / MS), 202611);
	cr_assert_eq(month_of(dec1 / MS), 202612);
	cr_assert_eq(month_of((utc(2027, 1, 1, 0, 0, 0) - MS) / MS), 202612);
	cr_assert_eq(month_of(utc(2027, 1, 1, 0, 0, 0) / MS), 202701);
	cr_assert_eq(month_of(0), 197001);
	cr_assert_eq(month_of(utc(2000, 2, 29, 12, 0, 0) / MS), 200002);
	cr_assert_eq(month_of((utc(2100, 3, 1, 0, 0, 0) - MS) / MS), 210002);
	cr_assert_eq(month_left_ms((dec1 - MS) / MS) * MS, MS);
	cr_assert_eq(month_left_ms(dec1 / MS) * MS, 31 * 86400 * NS);
	cr_assert_eq(month_left_ms(utc(2024, 2, 1, 0, 0, 0) / MS) * MS,
	    29 * 86400 * NS);
	cr_assert_eq(month_before(202601), 202512);
	cr_assert_eq(month_before(202612), 202611);
	cr_assert_eq(month_start_s(202612), (int64_t)(dec1 / NS));
}

Test(limits, gcra_burst_then_spaced)
{
	struct limit_verdict v;
	uint64_t	 t = utc(2026, 11, 10, 12, 0, 0);
	int		 i;

	cr_assert(request("alice", 2, 0, t, 200, &v));
	cr_assert_eq(v.has_headers, 1);
	cr_assert_eq(v.limit, 2);
	cr_assert_eq(v.remaining, 1);
	cr_assert_eq(v.reset, 1);
	cr_assert(request("alice", 2, 0, t, 200, &v));
	cr_assert_eq(v.remaining, 0);
	cr_assert(!request("alice", 2, 0, t, 200, &v));
	cr_assert_eq(v.status, 429);
	cr_assert_str_eq(v.message, "Rate limit exceeded");
	cr_assert_geq(v.retry_after, 1);
	cr_assert_eq(v.remaining, 0);
	cr_assert_eq(v.has_headers, 1);
	cr_assert(!request("alice", 2, 0, t + 499 * MS, 200, &v));
	cr_assert(request("alice", 2, 0, t + 500 * MS, 200, &v));
	cr_assert(!request("alice", 2, 0, t + 500 * MS, 200, &v));
	/* Paced at exactly 2/s, never refused. */
	for (i = 1; i <= 100; i++)
		cr_assert(request("alice", 2, 0, t + 500 * MS + i * 500 * MS,
		    200, &v), "at %d", i);
	/* Other keys have their own budget. */
	cr_assert(request("bob", 2, 0, t, 200, &v));
	/* A request that fails in the handler spends rate too. */
	cr_assert(request("carol", 1, 0, t, 400, &v));
	cr_assert(!request("carol", 1, 0, t, 200, &v));
	cr_assert_eq(v.retry_after, 1);
}

Test(limits, gcra_idle_key_gets_full_burst_back)
{
	struct limit_verdict v;
	uint64_t	 t = utc(2026, 11, 10, 12, 0, 0);
	int		 i;

	for (i = 0; i < 10; i++)
		cr_assert(request("alice", 10, 0, t, 200, &v));
	cr_assert(!request("alice", 10, 0, t, 200, &v));
	for (i = 0; i < 10; i++)
		cr_assert(request("alice", 10, 0, t + NS, 200, &v));
	cr_assert(!request("alice", 10, 0, t + NS, 200, &v));
	cr_assert_eq(v.reset, 1);
	cr_assert(request("alice", 10, 0, t + 60 * NS, 200, &v));
	cr_assert_eq(v.remaining, 9);
}

Test(limits, unlimited_always_allowed_without_headers)
{
	struct limit_verdict v;
	uint64_t	 t = utc(2026, 11, 10, 12, 0, 0);
	int		 i;

	for (i = 0; i < 1000; i++) {
		cr_assert(request("alice", 0, 0, t, 200, &v));
		cr_assert_eq(v.has_headers, 0);
	}
	cr_assert_eq(usage_pending(u, "alice", 202611), 1000);
}

/* Children fire at one injected instant: the burst is shared. */
Test(limits, gcra_shared_across_processes)
{
	uint64_t	 t = utc(2026, 11, 10, 12, 0, 0);
	int		 fds[2], i, j, ok = 0, status;
	char		 c;
	pid_t		 pid[4];

	cr_assert_eq(pipe(fds), 0);
	for (i = 0; i < 4; i++) {
		if ((pid[i] = fork()) == 0) {
			struct limit_verdict v;
			struct usage	*cu;
			struct store	*cst;

			close(fds[0]);
			child_open(&cu, &cst);
			for (j = 0; j < 5; j++) {
				store_rd_begin(cst);
				limits_check(cu, cst, "alice", 2, 0, t / MS, t, NULL,
				    &v);
				c = v.ok ? '1' : '0';
				limits_done(cu, cst, &v, "uuid", 200);
				store_rd_end(cst);
				if (write(fds[1], &c, 1) != 1)
					_exit(3);
			}
			_exit(0);
		}
	}
	close(fds[1]);
	while (read(fds[0], &c, 1) == 1)
		ok += c == '1';
	close(fds[0]);
	for (i = 0; i < 4; i++) {
		cr_assert_eq(waitpid(pid[i], &status, 0), pid[i]);
		cr_assert_eq(status, 0);
	}
	cr_assert_eq(ok, 2);
}

/* Four processes race for a quota of 5, for 10 keys one after the
 * other, flushing as they go: exactly five 200s each, and the store
 * agrees after a flush. */
#define RACE_KEYS	10
Test(limits, quota_exact_under_race)
{
	uint64_t	 t = utc(2026, 11, 10, 12, 0, 0), n;
	int		 fds[2], i, k, round, ok[RACE_KEYS] = { 0 }, status;
	char		 c, user[32];
	pid_t		 pid[4];

	cr_assert_eq(pipe(fds), 0);
	for (i = 0; i < 4; i++) {
		if ((pid[i] = fork()) == 0) {
			struct limit_verdict v;
			struct usage	*cu;
			struct store	*cst;

			close(fds[0]);
			child_open(&cu, &cst);
			usage_set_flush_ms(cu, 0);
			for (k = 0; k < RACE_KEYS; k++)
			for (round = 0; round < 20; round++) {
				snprintf(user, sizeof(user), "racer%d", k);
				store_rd_begin(cst);
				if (limits_check(cu, cst, user, 0, 5, t / MS, t,
				    NULL, &v) != 0)
					_exit(4);
				c = v.ok ? (char)('A' + k) : '-';
				limits_done(cu, cst, &v, "uuid", 200);
				store_rd_end(cst);
				(void)usage_maybe_flush(cu, cst,
				    t / MS + (uint64_t)round);
				if (write(fds[1], &c, 1) != 1)
					_exit(3);
			}
			_exit(0);
		}
	}
	close(fds[1]);
	while (read(fds[0], &c, 1) == 1)
		if (c != '-')
			ok[c - 'A']++;
	close(fds[0]);
	for (i = 0; i < 4; i++) {
		cr_assert_eq(waitpid(pid[i], &status, 0), pid[i]);
		cr_assert_eq(status, 0);
	}
	cr_assert_eq(usage_flush(u, st), 0, "%s", usage_error(u));
	for (k = 0; k < RACE_KEYS; k++) {
		snprintf(user, sizeof(user), "racer%d", k);
		cr_assert_eq(ok[k], 5, "%s: %d", user, ok[k]);
		cr_assert_eq(store_usage_month(st, user, 202611, &n), STORE_OK);
		cr_assert_eq(n, 5, "%s: %llu", user, (unsigned long long)n);
	}
}

Test(limits, quota_refusal_and_cancel)
{
	struct limit_verdict v;
	uint64_t	 t = utc(2026, 11, 10, 12, 0, 0);

	cr_assert(request("alice", 0, 2, t, 400, &v));	/* cancelled */
	cr_assert(request("alice", 0, 2, t, 500, &v));	/* cancelled */
	cr_assert(request("alice", 0, 2, t, 200, &v));
	cr_assert_eq(v.has_headers, 1);
	cr_assert_eq(v.limit, 2);
	cr_assert_eq(v.remaining, 1);
	cr_assert(request("alice", 0, 2, t, 200, &v));
	cr_assert_eq(v.remaining, 0);
	cr_assert(!request("alice", 0, 2, t, 200, &v));
	cr_assert_eq(v.status, 429);
	cr_assert_str_eq(v.message, "Monthly quota exceeded");
	cr_assert_eq(v.retry_after, (unsigned)(month_left_ms(t / MS) / 1000));
	cr_assert_eq(v.reset, month_left_ms(t / MS) / 1000);
	/* A plan change takes effect at once. */
	cr_assert(request("alice", 0, 3, t, 200, &v));
	cr_assert(!request("alice", 0, 3, t, 200, &v));
	cr_assert(request("alice", 0, 0, t, 200, &v));
	cr_assert_eq(usage_pending(u, "alice", 202611), 4);
}

Test(limits, quota_resets_at_the_month_boundary)
{
	struct limit_verdict v;
	uint64_t	 dec1 = utc(2026, 12, 1, 0, 0, 0);

	cr_assert(request("alice", 0, 2, dec1 - MS, 200, &v));
	cr_assert(request("alice", 0, 2, dec1 - MS, 200, &v));
	cr_assert(!request("alice", 0, 2, dec1 - MS, 200, &v));
	cr_assert_eq(v.retry_after, 1);
	cr_assert(request("alice", 0, 2, dec1, 200, &v));
	cr_assert_eq(v.reset, 31 * 86400);
	cr_assert_eq(usage_pending(u, "alice", 202611), 2);
	cr_assert_eq(usage_pending(u, "alice", 202612), 1);
}

/* Rate and quota together: the nearer limit is the one in the headers. */
Test(limits, headers_show_the_nearer_limit)
{
	struct limit_verdict v;
	uint64_t	 t = utc(2026, 11, 10, 12, 0, 0);

	cr_assert(request("alice", 10, 1000, t, 200, &v));
	cr_assert_eq(v.limit, 10);
	cr_assert_eq(v.remaining, 9);
	cr_assert(request("bob", 10, 3, t, 200, &v));
	cr_assert_eq(v.limit, 3);
	cr_assert_eq(v.remaining, 2);
	cr_assert_eq(v.reset, month_left_ms(t / MS) / 1000);
}

/* Calls counted before (in the store, under another table generation)
 * count against the quota. */
Test(limits, quota_starts_from_the_store)
{
	struct limit_verdict v;
	uint64_t	 t = utc(2026, 11, 10, 12, 0, 0);
	char		 err[256], path[PATH_MAX + 16];
	int		 i;

	for (i = 0; i < 3; i++)
		cr_assert_eq(usage_count(u, st, "alice", 202611, "uuid"), 0);
	cr_assert_eq(usage_flush(u, st), 0, "%s", usage_error(u));
	usage_close(u);
	snprintf(path, sizeof(path), "%s/%s", fx_dir, USAGE_FILE);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(usage_open(fx_dir, NULL, &u, err, sizeof(err)), 0, "%s", err);
	cr_assert(request("alice", 0, 4, t, 200, &v));
	cr_assert_eq(v.remaining, 0);
	cr_assert(!request("alice", 0, 4, t, 200, &v));
	/* Unflushed calls count too. */
	cr_assert_eq(usage_count(u, st, "bob", 202611, "uuid"), 0);
	cr_assert(request("bob", 0, 2, t, 200, &v));
	cr_assert(!request("bob", 0, 2, t, 200, &v));
}

/* A process killed between reserve and done leaks a reservation: the
 * next request that finds the quota full gives it back, since the pid
 * is gone. */
Test(limits, leaked_reservation_of_a_dead_process_is_reaped)
{
	struct limit_verdict v;
	uint64_t	 t = utc(2026, 11, 10, 12, 0, 0);
	int		 status;
	pid_t		 pid;

	if ((pid = fork()) == 0) {
		struct limit_verdict cv;
		struct usage	*cu;
		struct store	*cst;

		child_open(&cu, &cst);
		store_rd_begin(cst);
		if (limits_check(cu, cst, "alice", 0, 1, t / MS, t, NULL,
		    &cv) != 0 ||
		    !cv.ok)
			_exit(3);
		kill(getpid(), SIGKILL);
		_exit(4);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status), "status %d", status);
	cr_assert(request("alice", 0, 1, t, 200, &v));
	cr_assert(!request("alice", 0, 1, t, 200, &v));
}

/*
 * One held by a live process expires after LIMITS_RESV_TTL seconds; the
 * late holder's call still counts, once, and its done does not clear the
 * bit that the request which took its place now holds.
 */
Test(limits, stale_reservation_expires)
{
	struct limit_verdict v, mine;
	uint64_t	 t = utc(2026, 11, 10, 12, 0, 0);
	int		 to[2], from[2], status;
	char		 c;
	pid_t		 pid;

	cr_assert_eq(pipe(to), 0);
	cr_assert_eq(pipe(from), 0);
	if ((pid = fork()) == 0) {
		struct limit_verdict held;
		struct usage	*cu;
		struct store	*cst;

		child_open(&cu, &cst);
		store_rd_begin(cst);
		if (limits_check(cu, cst, "alice", 0, 1, t / MS, t, NULL,
		    &held) ||
		    !held.ok || write(from[1], "r", 1) != 1 ||
		    read(to[0], &c, 1) != 1)
			_exit(3);
		if (limits_done(cu, cst, &held, "uuid", 200) != 0 ||
		    limits_done(cu, cst, &held, "uuid", 200) != 0)
			_exit(4);
		store_rd_end(cst);
		_exit(write(from[1], "x", 1) == 1 ? 0 : 5);
	}
	cr_assert_eq(read(from[0], &c, 1), 1);
	cr_assert(!request("alice", 0, 1, t + 30 * NS, 200, &v));
	/* Past the TTL: the live holder's bit is taken back. */
	cr_assert_eq(store_rd_begin(st), STORE_OK);
	cr_assert_eq(limits_check(u, st, "alice", 0, 1,
	    (t + (LIMITS_RESV_TTL + 1) * NS) / MS,
	    t + (LIMITS_RESV_TTL + 1) * NS, NULL, &mine), 0);
	cr_assert(mine.ok, "%s", mine.message);
	cr_assert_eq(write(to[1], "d", 1), 1);
	cr_assert_eq(read(from[0], &c, 1), 1);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%d", status);
	/* The late holder's done left our bit alone. */
	cr_assert_neq(atomic_load(&mine.quota->word) & RESV_MASK, 0);
	cr_assert_eq(limits_done(u, st, &mine, "uuid", 200), 0);
	store_rd_end(st);
	cr_assert_eq(atomic_load(&mine.quota->word) & RESV_MASK, 0);
	cr_assert_eq(usage_pending(u, "alice", 202611), 2);
}

Test(limits, bad_user_is_503_not_a_crash)
{
	struct limit_verdict v;

	cr_assert_eq(limits_check(u, st, "", 1, 1, 1000, NS, NULL, &v), -1);
	cr_assert_eq(v.ok, 0);
	cr_assert_eq(v.status, 503);
	cr_assert_eq(limits_done(u, st, &v, "uuid", 200), 0);
}

/* Reopen the shared table, made anew with small tables. */
static void
small_tables(void)
{
	struct shm_sizes sz = { 64, 64, 64, 64, 64 };
	char		 path[PATH_MAX + 16], err[256];

	usage_close(u);
	snprintf(path, sizeof(path), "%s/%s", fx_dir, USAGE_FILE);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(usage_open(fx_dir, &sz, &u, err, sizeof(err)), 0, "%s",
	    err);
}

/*
 * A rate cell whose GCRA state is a minute past holds nothing, so a new
 * key takes it: the table no longer fills for good once 7/8 of its size
 * in distinct keys have been seen (every new limited key got 503).
 */
Test(limits, idle_rate_cells_are_taken_again)
{
	struct limit_verdict v;
	uint64_t	 t = utc(2026, 11, 10, 12, 0, 0);
	char		 user[32];
	int		 i;

	small_tables();
	for (i = 0; i < 64 / 8 * 7; i++) {
		snprintf(user, sizeof(user), "k%d", i);
		cr_assert(request(user, 5, 0, t, 200, &v), "%s", user);
	}
	cr_assert_eq(store_rd_begin(st), STORE_OK);
	cr_assert_eq(limits_check(u, st, "new", 5, 0, t / MS, t, NULL, &v), -1);
	store_rd_end(st);
	cr_assert_eq(v.status, 503);
	cr_assert_str_eq(v.message, "Rate table full");
	/* A minute on, the old keys' cells are idle. */
	cr_assert(request("new", 5, 0, t + 62 * NS, 200, &v), "%s", v.message);
	cr_assert(request("k0", 5, 0, t + 62 * NS, 200, &v), "%s", v.message);
}

/*
 * A process killed inside a claim counted a cell it never made live;
 * such counts are recounted before a table is called full.
 */
Test(limits, a_claim_cut_short_is_recounted)
{
	struct limit_verdict v;
	uint64_t	 t = utc(2026, 11, 10, 12, 0, 0);

	small_tables();
	atomic_store(&u->h->used[T_RATE], 64 / 8 * 7);
	atomic_store(&u->h->used[T_QUOTA], 64 / 8 * 7);
	cr_assert(request("alice", 5, 10, t, 200, &v), "%s", v.message);
	cr_assert_eq(atomic_load(&u->h->used[T_RATE]), 1);
	cr_assert_eq(atomic_load(&u->h->used[T_QUOTA]), 1);
}

/* A batch reserves all its calls or none, and counts each one. */
Test(limits, batch_reserves_all_or_none)
{
	struct limit_verdict v;
	uint64_t	 t = utc(2026, 11, 10, 12, 0, 0);

	cr_assert(batch("alice", 0, 10, 8, t, 200, &v));
	cr_assert_eq(v.remaining, 2);
	cr_assert_eq(usage_pending(u, "alice", 202611), 8);
	/* Three do not fit: refused whole, and the headers say two are left. */
	cr_assert(!batch("alice", 0, 10, 3, t, 200, &v));
	cr_assert_eq(v.status, 429);
	cr_assert_str_eq(v.message, "Monthly quota exceeded");
	cr_assert_eq(v.remaining, 2);
	cr_assert_eq(usage_pending(u, "alice", 202611), 8);
	/* A failed batch gives all of its calls back. */
	cr_assert(batch("alice", 0, 10, 2, t, 400, &v));
	cr_assert(batch("alice", 0, 10, 2, t, 200, &v));
	cr_assert_eq(v.remaining, 0);
	cr_assert(!request("alice", 0, 10, t, 200, &v));
	cr_assert_eq(usage_pending(u, "alice", 202611), 10);
	/* More than the whole quota never passes. */
	cr_assert(!batch("bob", 0, 10, 11, t, 200, &v));
	cr_assert_eq(v.remaining, 10);
	cr_assert(batch("bob", 0, 10, 10, t, 200, &v));
}

/* One request spends one unit of rate however large its batch; a key
 * without a quota counts every call too. */
Test(limits, batch_spends_one_unit_of_rate)
{
	struct limit_verdict v;
	uint64_t	 t = utc(2026, 11, 10, 12, 0, 0);

	cr_assert(batch("alice", 2, 0, 500, t, 200, &v));
	cr_assert_eq(v.remaining, 1);
	cr_assert(batch("alice", 2, 0, 500, t, 200, &v));
	cr_assert(!batch("alice", 2, 0, 1, t, 200, &v));
	cr_assert_str_eq(v.message, "Rate limit exceeded");
	cr_assert_eq(usage_pending(u, "alice", 202611), 1000);
}

/* While a batch is held (by another process: one process serves one
 * request at a time), the others see all of its calls taken. */
Test(limits, batch_held_counts_against_others)
{
	struct limit_verdict v;
	uint64_t	 t = utc(2026, 11, 10, 12, 0, 0);
	int		 to[2], from[2], status;
	char		 c;
	pid_t		 pid;

	cr_assert_eq(pipe(to), 0);
	cr_assert_eq(pipe(from), 0);
	if ((pid = fork()) == 0) {
		struct limit_verdict held;
		struct usage	*cu;
		struct store	*cst;

		child_open(&cu, &cst);
		store_rd_begin(cst);
		if (limits_check_n(cu, cst, "alice", 0, 5, 4, t / MS, t, NULL,
		    &held) != 0 || !held.ok || write(from[1], "h", 1) != 1 ||
		    read(to[0], &c, 1) != 1)
			_exit(3);
		/* Given back: the four are free again. */
		if (limits_done(cu, cst, &held, "uuid", 503) != 0)
			_exit(4);
		store_rd_end(cst);
		_exit(write(from[1], "g", 1) == 1 ? 0 : 5);
	}
	cr_assert_eq(read(from[0], &c, 1), 1);
	cr_assert(!batch("alice", 0, 5, 2, t, 200, &v));
	cr_assert(request("alice", 0, 5, t, 200, &v));
	cr_assert(!request("alice", 0, 5, t, 200, &v));
	cr_assert_eq(write(to[1], "d", 1), 1);
	cr_assert_eq(read(from[0], &c, 1), 1);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%d", status);
	cr_assert(batch("alice", 0, 5, 4, t, 200, &v));
	cr_assert_eq(usage_pending(u, "alice", 202611), 5);
}

/*
 * A quota cell made while another process flushes: the request's read
 * snapshot began before that flush committed, and the flush has marked
 * its cells flushed, so neither the snapshot nor the table's pending
 * counts hold those calls.  The cell's base must still count them (it
 * was 0, and the key got a second quota).
 */
Test(limits, new_quota_cell_sees_a_flush_after_the_snapshot)
{
	uint64_t	 t = utc(2026, 11, 10, 12, 0, 0);
	struct limit_verdict v;
	pid_t		 pid;
	int		 i, status;

	cr_assert_eq(store_rd_begin(st), STORE_OK);	/* the request's */
	if ((pid = fork()) == 0) {
		struct usage	*cu;
		struct store	*cst;

		child_open(&cu, &cst);
		for (i = 0; i < 5; i++)
			if (usage_count(cu, cst, "alice", 202611, "uuid") != 0)
				_exit(3);
		_exit(usage_flush(cu, cst) == 0 ? 0 : 4);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(usage_pending(u, "alice", 202611), 0);
	cr_assert_eq(limits_check(u, st, "alice", 0, 5, t / MS, t, NULL, &v),
	    0, "%s", v.message);
	cr_assert_not(v.ok, "the five calls flushed after the snapshot count");
	cr_assert_str_eq(v.message, "Monthly quota exceeded");
	store_rd_end(st);
}
