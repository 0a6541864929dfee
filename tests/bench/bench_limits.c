/*
 * bench_limits.c: ns per usage_count, usage_maybe_flush (not due) and
 * limits_check + limits_done, in one process.  Figures, not pass/fail.
 * Usage: bench_limits [dir]   (default: a new directory under /tmp)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "limit.h"
#include "store.h"
#include "usage.h"

#define N	2000000

static uint64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
report(const char *what, uint64_t t0)
{
	printf("%-40s %6.1f ns/call\n", what, (double)(now_ns() - t0) / N);
}

static void
bench_limits(struct usage *u, struct store *st, const char *what,
    const char *user, uint32_t rate, uint64_t quota)
{
	struct limit_verdict v;
	uint64_t	 t = 1790000000ull * 1000000000u, t0;
	int		 i, refused = 0;

	store_rd_begin(st);
	t0 = now_ns();
	for (i = 0; i < N; i++) {
		/* 1 us apart: under any rate up to 1e6/s */
		limits_check(u, st, user, rate, quota, t + (uint64_t)i * 1000,
		    &v);
		refused += !v.ok;
		limits_done(u, st, &v, "uuid", 200);
	}
	report(what, t0);
	store_rd_end(st);
	if (refused)
		printf("  (%d refused)\n", refused);
}

int
main(int argc, char *argv[])
{
	char		 tmpl[] = "/tmp/bench_limits.XXXXXX", db[4200], err[256];
	const char	*dir = argc > 1 ? argv[1] : mkdtemp(tmpl);
	struct usage	*u;
	struct store	*st;
	uint64_t	 t0;
	int		 i;

	snprintf(db, sizeof(db), "%s/db", dir);
	if (usage_open(dir, &u, err, sizeof(err)) == -1 ||
	    store_open(&st, db, 0, err, sizeof(err)) != STORE_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t0 = now_ns();
	for (i = 0; i < N; i++)
		usage_count(u, st, "alice", 202611, "uuid");
	report("usage_count", t0);
	t0 = now_ns();
	for (i = 0; i < N; i++)
		usage_maybe_flush(u, st, 1);
	report("usage_maybe_flush (not due)", t0);
	t0 = now_ns();
	usage_flush(u, st, err, sizeof(err));
	printf("%-40s %6.1f us\n", "usage_flush (1 cell, durable commit)",
	    (double)(now_ns() - t0) / 1000);
	bench_limits(u, st, "limits_check+done, unlimited", "bob", 0, 0);
	bench_limits(u, st, "limits_check+done, rate 1e6/s", "carol",
	    1000000, 0);
	bench_limits(u, st, "limits_check+done, rate + quota", "dave",
	    1000000, 1000000000000ull);
	store_close(st);
	usage_close(u);
	return 0;
}
