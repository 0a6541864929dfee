/*
 * test_usage.c: the shared counter table and its flush into the store.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "clock.h"
#include "fixture.h"
#include "table.h"

#define MONTH	202611u

static void
mkdirs(void)
{
	fx_mkdir("test_usage");
}

TestSuite(usage, .init = mkdirs, .fini = fx_rmdir, .timeout = 120);

#define uopen()	fx_usage()
#define sopen()	fx_store(0)
#define dir	fx_dir
#define db	fx_db

static uint64_t
durable(const char *user, uint32_t month)
{
	struct store	*st = sopen();
	uint64_t	 n;

	cr_assert_eq(store_usage_month(st, user, month, &n), STORE_OK);
	store_close(st);
	return n;
}

static void
flush_all(void)
{
	struct usage	*u = uopen();
	struct store	*st = sopen();
	cr_assert_eq(usage_flush(u, st), 0, "%s", usage_error(u));
	store_close(st);
	usage_close(u);
}

Test(usage, creates_file_0600_and_keeps_generation)
{
	struct usage	*u;
	struct usage_stats s1, s2;
	struct stat	 sb;
	char		 path[PATH_MAX + 16];

	u = uopen();
	usage_stats(u, &s1);
	usage_close(u);
	snprintf(path, sizeof(path), "%s/%s", dir, USAGE_FILE);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);
	cr_assert_neq(s1.generation, 0);
	u = uopen();
	usage_stats(u, &s2);
	usage_close(u);
	cr_assert_eq(s1.generation, s2.generation);
}

Test(usage, count_flush_pending_and_no_double_count)
{
	struct usage	*u = uopen();
	struct store	*st = sopen();
	int		 i;

	for (i = 0; i < 3; i++)
		cr_assert_eq(usage_count(u, st, "alice", MONTH, "uuid"), 0);
	cr_assert_eq(usage_count(u, st, "alice", MONTH, "nanoid"), 0);
	cr_assert_eq(usage_count(u, st, "alice", MONTH + 1, "uuid"), 0);
	cr_assert_eq(usage_count(u, st, "bob", MONTH, "uuid"), 0);
	cr_assert_eq(usage_pending(u, "alice", MONTH), 4);
	cr_assert_eq(usage_pending(u, "alice", MONTH + 1), 1);
	cr_assert_eq(usage_pending(u, "carol", MONTH), 0);
	cr_assert_eq(usage_flush(u, st), 0, "%s", usage_error(u));
	cr_assert_eq(usage_pending(u, "alice", MONTH), 0);
	cr_assert_eq(usage_flush(u, st), 0, "%s", usage_error(u));
	cr_assert_eq(usage_count(u, st, "alice", MONTH, "uuid"), 0);
	cr_assert_eq(usage_flush(u, st), 0, "%s", usage_error(u));
	store_close(st);
	usage_close(u);
	cr_assert_eq(durable("alice", MONTH), 5);
	cr_assert_eq(durable("alice", MONTH + 1), 1);
	cr_assert_eq(durable("bob", MONTH), 1);
}

Test(usage, bad_names_refused)
{
	struct usage	*u = uopen();
	char		 big[USER_MAX + 2];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(usage_count(u, NULL, "", MONTH, "uuid"), -1);
	cr_assert_eq(usage_count(u, NULL, big, MONTH, "uuid"), -1);
	cr_assert_eq(usage_count(u, NULL, "a", MONTH, "sixteen-chars-xx"), -1);
	usage_close(u);
}

Test(usage, maybe_flush_at_most_every_flush_ms)
{
	struct usage	*u = uopen();
	struct store	*st = sopen();
	uint64_t	 t = 1790000000000ULL;

	usage_set_flush_ms(u, 1000);
	cr_assert_eq(usage_count(u, st, "alice", MONTH, "uuid"), 0);
	cr_assert_eq(usage_maybe_flush(u, st, t), 1);
	cr_assert_eq(usage_count(u, st, "alice", MONTH, "uuid"), 0);
	cr_assert_eq(usage_maybe_flush(u, st, t + 999), 0);
	cr_assert_eq(usage_pending(u, "alice", MONTH), 1);
	cr_assert_eq(usage_maybe_flush(u, st, t + 1000), 1);
	cr_assert_eq(usage_pending(u, "alice", MONTH), 0);
	/* A clock set back a long way does not stop flushing. */
	cr_assert_eq(usage_count(u, st, "alice", MONTH, "uuid"), 0);
	cr_assert_eq(usage_maybe_flush(u, st, t - 100000), 1);
	store_close(st);
	usage_close(u);
	cr_assert_eq(durable("alice", MONTH), 3);
}

/* The same count over 4 processes, each flushing as it goes. */
Test(usage, four_processes_count_exactly, .timeout = 300)
{
	pid_t		 pid[4];
	int		 i, j, status;

	for (i = 0; i < 4; i++) {
		if ((pid[i] = fork()) == 0) {
			struct usage	*u;
			struct store	*st;
			char		 err[256];

			if (usage_open(dir, NULL, &u, err, sizeof(err)) != 0 ||
			    store_open(&st, db, 0, err, sizeof(err)) != 0)
				_exit(2);
			usage_set_flush_ms(u, 1);
			for (j = 0; j < 25000; j++) {
				if (usage_count(u, st, "alice", MONTH,
				    "uuid") != 0)
					_exit(3);
				if (usage_maybe_flush(u, st, now_ms()) == -1)
					_exit(4);
			}
			store_close(st);
			usage_close(u);
			_exit(0);
		}
		cr_assert_gt(pid[i], 0);
	}
	for (i = 0; i < 4; i++) {
		cr_assert_eq(waitpid(pid[i], &status, 0), pid[i]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "child %d: status %d", i, status);
	}
	flush_all();
	cr_assert_eq(durable("alice", MONTH), 100000);
}

/*
 * Children count and flush (every ms, so many die inside a flush) until
 * killed with SIGKILL at random moments.  Each child publishes how many
 * usage_count calls returned, after each one; a child killed between
 * the add and the publish has one call in the table it did not report,
 * so the table holds between sum(reported) and sum(reported) + kills.
 */
Test(usage, kill_9_loses_nothing)
{
	_Atomic uint64_t *rep;
	uint64_t	 sum = 0, got;
	int		 round, i, j, kills = 0, status;
	pid_t		 pid[4];

	rep = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(rep, MAP_FAILED);
	for (round = 0; round < 6; round++) {
		for (i = 0; i < 4; i++) {
			atomic_store(&rep[i], 0);
			if ((pid[i] = fork()) == 0) {
				struct usage	*u;
				struct store	*st;
				char		 err[256];
				uint64_t	 n = 0;

				if (usage_open(dir, NULL, &u, err, sizeof(err)) ||
				    store_open(&st, db, 0, err, sizeof(err)))
					_exit(2);
				usage_set_flush_ms(u, 1);
				for (;;) {
					if (usage_count(u, st, "alice", MONTH,
					    i & 1 ? "uuid" : "nanoid") == 0)
						atomic_store(&rep[i], ++n);
					(void)usage_maybe_flush(u, st,
					    now_ms());
				}
			}
			cr_assert_gt(pid[i], 0);
		}
		/* Each child counting (start-up is slow on a busy machine),
		 * then killed at a random point of its work. */
		for (i = 0; i < 4; i++) {
			for (j = 0; j < 20000 && atomic_load(&rep[i]) == 0; j++)
				usleep(1000);
			usleep(2000 + randombytes_uniform(30000));
			kill(pid[i], SIGKILL);
		}
		for (i = 0; i < 4; i++) {
			cr_assert_eq(waitpid(pid[i], &status, 0), pid[i]);
			cr_assert(WIFSIGNALED(status) &&
			    WTERMSIG(status) == SIGKILL, "child %d", i);
			sum += atomic_load(&rep[i]);
			kills++;
		}
	}
	flush_all();		/* also: no lock was left held */
	got = durable("alice", MONTH);
	{
		struct usage	*u = uopen();
		struct usage_stats s;

		usage_stats(u, &s);
		usage_close(u);
		cr_log_info("kill -9: %d kills, %llu flushes, reported %llu, "
		    "durable %llu", kills, (unsigned long long)s.flushes,
		    (unsigned long long)sum, (unsigned long long)got);
	}
	cr_assert_geq(got, sum);
	cr_assert_leq(got, sum + (uint64_t)kills);
	cr_assert_gt(sum, 0);
}

static void
corrupt(const char *what)
{
	char	 path[PATH_MAX + 16];
	int	 fd;

	snprintf(path, sizeof(path), "%s/%s", dir, USAGE_FILE);
	cr_assert((fd = open(path, O_RDWR)) != -1);
	if (strcmp(what, "short") == 0)
		cr_assert_eq(ftruncate(fd, 100), 0);
	else if (strcmp(what, "long") == 0)
		cr_assert_eq(ftruncate(fd, 1 << 24), 0);
	else if (strcmp(what, "empty") == 0)
		cr_assert_eq(ftruncate(fd, 0), 0);
	else if (strcmp(what, "boot") == 0)	/* made by an earlier boot */
		cr_assert_eq(pwrite(fd, "X", 1, 48), 1);
	else
		cr_assert_eq(pwrite(fd, "garbage!garbage!", 16, 0), 16);
	close(fd);
}

Test(usage, bad_file_is_recreated)
{
	static const char *how[] = { "short", "long", "empty", "magic", "boot" };
	struct usage	*u;
	struct usage_stats s;
	uint64_t	 gen;
	size_t		 i;

	u = uopen();
	usage_stats(u, &s);
	usage_close(u);
	for (i = 0; i < sizeof(how) / sizeof(how[0]); i++) {
		gen = s.generation;
		corrupt(how[i]);
		u = uopen();
		usage_stats(u, &s);
		cr_assert_neq(s.generation, gen, "%s", how[i]);
		cr_assert_eq(usage_count(u, NULL, "alice", MONTH, "uuid"), 0);
		cr_assert_eq(usage_pending(u, "alice", MONTH), 1);
		usage_close(u);
	}
}

/* Processes opening at once (a fresh dir, then a bad file) agree on one
 * table. */
Test(usage, racing_opens_agree)
{
	int		 fds[2], round, i, status;
	uint64_t	 g[8];
	pid_t		 pid[8];

	for (round = 0; round < 2; round++) {
		if (round == 1)
			corrupt("magic");
		cr_assert_eq(pipe(fds), 0);
		for (i = 0; i < 8; i++) {
			if ((pid[i] = fork()) == 0) {
				struct usage	*u;
				struct usage_stats s;
				char		 err[256];

				close(fds[0]);
				if (usage_open(dir, NULL, &u, err, sizeof(err)) != 0)
					_exit(2);
				usage_stats(u, &s);
				if (write(fds[1], &s.generation, 8) != 8)
					_exit(3);
				_exit(0);
			}
		}
		close(fds[1]);
		for (i = 0; i < 8; i++) {
			cr_assert_eq(read(fds[0], &g[i], 8), 8);
			cr_assert_eq(g[i], g[0]);
		}
		close(fds[0]);
		for (i = 0; i < 8; i++) {
			cr_assert_eq(waitpid(pid[i], &status, 0), pid[i]);
			cr_assert_eq(status, 0);
		}
	}
}

/* Old months are reclaimed once flushed; a reused cell goes on counting
 * from its mark, so nothing is counted twice or lost. */
Test(usage, old_months_reclaimed)
{
	struct usage	*u = uopen();
	struct store	*st = sopen();
	struct usage_stats s1, s2;
	uint64_t	 apr = 1585699200000ULL;	/* 2020-04-01 UTC */
	int		 i;

	for (i = 0; i < 5; i++)
		cr_assert_eq(usage_count(u, st, "alice", 202001, "uuid"), 0);
	cr_assert_eq(usage_count(u, st, "alice", 202003, "uuid"), 0);
	usage_stats(u, &s1);
	cr_assert_eq(usage_maybe_flush(u, st, apr), 1);
	/* 202001 is a tomb now; counting it again reuses a cell. */
	for (i = 0; i < 2; i++)
		cr_assert_eq(usage_count(u, st, "alice", 202001, "uuid"), 0);
	cr_assert_eq(usage_count(u, st, "bob", 202001, "uuid"), 0);
	usage_stats(u, &s2);
	cr_assert_leq(s2.count_used, s1.count_used + 1);
	cr_assert_eq(usage_pending(u, "alice", 202001), 2);
	cr_assert_eq(usage_maybe_flush(u, st, apr + 5000), 1);
	store_close(st);
	usage_close(u);
	cr_assert_eq(durable("alice", 202001), 7);
	cr_assert_eq(durable("bob", 202001), 1);
	cr_assert_eq(durable("alice", 202003), 1);
}

/* A small table, for the tests that fill one. */
static struct usage *
uopen_small(uint32_t count, uint32_t ring)
{
	struct shm_sizes sz = { count, 64, 64, 64, ring };
	struct usage	*u;
	char		 err[256];

	cr_assert_eq(usage_open(fx_dir, &sz, &u, err, sizeof(err)), 0, "%s",
	    err);
	return u;
}

/*
 * A full count table sends calls to the overflow ring, which the next
 * flush commits in one transaction with no mark per call (the store used
 * to gain a mark row per call, until MDB_MAP_FULL); only when the ring is
 * full too is a call committed on its own, and without a store it is
 * reported lost, never a crash.
 */
Test(usage, full_table_overflows_into_the_ring)
{
	struct usage	*u = uopen_small(64, 16);
	struct store	*st = sopen();
	struct usage_stats s;
	char		 user[32];
	size_t		 marks;
	int		 i, rc;

	for (i = 0; i < 64 / 8 * 7; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		cr_assert_eq(usage_count(u, st, user, MONTH, "uuid"), 0);
	}
	usage_stats(u, &s);
	cr_assert_eq(s.count_used, 64 / 8 * 7);
	/* Sixteen more go to the ring; the next is committed at once. */
	for (i = 0; i < 16; i++) {
		snprintf(user, sizeof(user), "r%d", i % 4);
		cr_assert_eq(usage_count(u, st, user, MONTH, "uuid"), 0);
	}
	usage_stats(u, &s);
	cr_assert_eq(s.overflows, 16);
	cr_assert_eq(s.ring_used, 16);
	cr_assert_eq(usage_pending(u, "r1", MONTH), 4);
	/* As limits_done does it: inside the request's read txn. */
	cr_assert_eq(store_rd_begin(st), STORE_OK);
	cr_assert_eq(usage_count(u, st, "r1", MONTH, "uuid"), 1);
	store_rd_end(st);
	cr_assert_eq(usage_count(u, NULL, "r1", MONTH, "uuid"), -1);
	usage_stats(u, &s);
	cr_assert_eq(s.sync_commits, 1);
	cr_assert_eq(s.lost, 1);
	/* Known keys still count in the table. */
	cr_assert_eq(usage_count(u, st, "u0", MONTH, "uuid"), 0);
	cr_assert_eq(usage_flush(u, st), 0, "%s", usage_error(u));
	usage_stats(u, &s);
	cr_assert_eq(s.ring_used, 0);
	cr_assert_eq(store_usage_marks(st, s.generation, &marks), STORE_OK);
	cr_assert_eq(marks, 64 / 8 * 7, "%zu marks", marks);
	/* The ring is free again, and a second round adds no marks. */
	for (i = 0, rc = 0; i < 16; i++)
		rc |= usage_count(u, st, "r0", MONTH, "uuid");
	cr_assert_eq(rc, 0);
	cr_assert_eq(usage_flush(u, st), 0, "%s", usage_error(u));
	cr_assert_eq(store_usage_marks(st, s.generation, &marks), STORE_OK);
	cr_assert_eq(marks, 64 / 8 * 7);
	store_close(st);
	usage_close(u);
	cr_assert_eq(durable("r0", MONTH), 4 + 16);
	cr_assert_eq(durable("r1", MONTH), 5);
	cr_assert_eq(durable("u0", MONTH), 2);
}

/* The durable count of user this MONTH, through an open store (LMDB does
 * not want one environment opened twice in a process). */
static uint64_t
count_in(struct store *st, const char *user)
{
	uint64_t	 n;

	cr_assert_eq(store_usage_month(st, user, MONTH, &n), STORE_OK);
	return n;
}

/*
 * A flusher killed after its commit leaves ring entries FLUSHING; the
 * next flush must see that the store has their batch and not add them
 * again, and must add entries whose commit never happened.
 */
Test(usage, ring_survives_a_killed_flusher)
{
	struct usage	*u = uopen_small(64, 16);
	struct store	*st = sopen();
	char		 user[32];
	int		 i;

	for (i = 0; i < 64 / 8 * 7; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		cr_assert_eq(usage_count(u, st, user, MONTH, "uuid"), 0);
	}
	cr_assert_eq(usage_flush(u, st), 0);
	for (i = 0; i < 5; i++)
		cr_assert_eq(usage_count(u, st, "late", MONTH, "uuid"), 0);
	/* A flush commits them, then its flusher dies before it marks the
	 * entries done: they are FLUSHING again, with the kept batch. */
	cr_assert_eq(usage_flush(u, st), 0);
	for (i = 0; i < 16; i++)
		if (atomic_load(&u->ring[i].state) == O_EMPTY &&
		    atomic_load(&u->ring[i].batch) != 0)
			atomic_store(&u->ring[i].state, O_FLUSHING);
	cr_assert_eq(usage_flush(u, st), 0, "%s", usage_error(u));
	cr_assert_eq(count_in(st, "late"), 5);
	/* And a FLUSHING batch the store never saw is added once. */
	for (i = 0; i < 3; i++)
		cr_assert_eq(usage_count(u, st, "later", MONTH, "uuid"), 0);
	for (i = 0; i < 16; i++)
		if (atomic_load(&u->ring[i].state) == O_READY) {
			atomic_store(&u->ring[i].batch, UINT64_MAX);
			atomic_store(&u->ring[i].state, O_FLUSHING);
		}
	cr_assert_eq(usage_flush(u, st), 0, "%s", usage_error(u));
	cr_assert_eq(count_in(st, "later"), 3);
	store_close(st);
	usage_close(u);
}

/*
 * Two tables alive at once: the file is deleted (or replaced) while a
 * worker still maps the old one.  Their flushes of the same slot used to
 * overwrite each other's marks, so each added its whole counter again
 * (234 calls were stored as 870).  Now each generation has its own
 * marks, and the old mapping moves to the new file after a last flush.
 */
Test(usage, replaced_file_counts_exactly)
{
	struct usage	*u1 = uopen(), *u2;
	struct store	*st = sopen();
	struct usage_stats s1, s2;
	char		 path[PATH_MAX + 16];
	int		 i, round;

	for (i = 0; i < 5; i++)
		cr_assert_eq(usage_count(u1, st, "alice", MONTH, "uuid"), 0);
	cr_assert_eq(usage_flush(u1, st), 0, "%s", usage_error(u1));
	snprintf(path, sizeof(path), "%s/%s", fx_dir, USAGE_FILE);
	cr_assert_eq(unlink(path), 0);
	u2 = uopen();
	usage_stats(u1, &s1);
	usage_stats(u2, &s2);
	cr_assert_neq(s1.generation, s2.generation);
	/* Both count the same key into the same slot, flushing in turn. */
	for (round = 0; round < 4; round++) {
		for (i = 0; i < 3; i++)
			cr_assert_eq(usage_count(u2, st, "alice", MONTH,
			    "uuid"), 0);
		cr_assert_eq(usage_flush(u2, st), 0, "%s", usage_error(u2));
		for (i = 0; i < 2; i++)
			cr_assert_eq(usage_count(u1, st, "alice", MONTH,
			    "uuid"), 0);
		cr_assert_eq(usage_flush(u1, st), 0, "%s", usage_error(u1));
	}
	cr_assert_eq(count_in(st, "alice"), 5 + 4 * 5);
	/* The old mapping noticed, flushed, and moved to the new file. */
	usage_stats(u1, &s1);
	cr_assert_eq(s1.generation, s2.generation);
	store_close(st);
	usage_close(u1);
	usage_close(u2);
}

/* The same through usage_maybe_flush, as workers call it. */
Test(usage, maybe_flush_moves_to_a_new_file)
{
	struct usage	*u1 = uopen(), *u2;
	struct store	*st = sopen();
	struct usage_stats s1, s2;
	char		 path[PATH_MAX + 16];
	uint64_t	 t = 5000000;

	usage_set_flush_ms(u1, 1);
	cr_assert_eq(usage_count(u1, st, "bob", MONTH, "uuid"), 0);
	cr_assert_eq(usage_maybe_flush(u1, st, t), 1);
	snprintf(path, sizeof(path), "%s/%s", fx_dir, USAGE_FILE);
	cr_assert_eq(unlink(path), 0);
	u2 = uopen();
	cr_assert_eq(usage_count(u1, st, "bob", MONTH, "uuid"), 0);
	/* Within a second of the last look, it does not stat again. */
	cr_assert_eq(usage_maybe_flush(u1, st, t + 500), 1);
	cr_assert_eq(usage_count(u1, st, "bob", MONTH, "uuid"), 0);
	cr_assert_eq(usage_maybe_flush(u1, st, t + 1500), 1);
	usage_stats(u1, &s1);
	usage_stats(u2, &s2);
	cr_assert_eq(s1.generation, s2.generation);
	cr_assert_eq(count_in(st, "bob"), 3);
	store_close(st);
	usage_close(u1);
	usage_close(u2);
}

/* A table file or directory others can write is not trusted. */
Test(usage, untrusted_files_are_refused)
{
	struct usage	*u = uopen();
	char		 path[PATH_MAX + 16], err[512];

	usage_close(u);
	snprintf(path, sizeof(path), "%s/%s", fx_dir, USAGE_FILE);
	cr_assert_eq(chmod(path, 0666), 0);
	cr_assert_eq(usage_open(fx_dir, NULL, &u, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, path), "%s", err);
	cr_assert_not_null(strstr(err, "writable by others"), "%s", err);
	cr_assert_eq(chmod(path, 0600), 0);
	cr_assert_eq(chmod(fx_dir, 0770), 0);
	cr_assert_eq(usage_open(fx_dir, NULL, &u, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "writable by its group"), "%s", err);
	cr_assert_eq(chmod(fx_dir, 0700), 0);
	if (geteuid() == 0) {
		cr_assert_eq(chown(path, 1, 1), 0);
		cr_assert_eq(usage_open(fx_dir, NULL, &u, err, sizeof(err)),
		    -1);
		cr_assert_not_null(strstr(err, "belongs to uid 1"), "%s", err);
		cr_assert_eq(chown(path, 0, 0), 0);
	}
	u = uopen();
	usage_close(u);
}

/* Indices read from the file are clamped: a corrupt claimed count does
 * not make a claim write past the list. */
Test(usage, corrupt_counts_are_clamped)
{
	struct usage	*u = uopen();
	struct store	*st = sopen();

	atomic_store(&u->h->nclaimed, 0xfffffff0u);
	cr_assert_eq(usage_count(u, st, "carol", MONTH, "uuid"), 0);
	cr_assert_eq(usage_flush(u, st), 0, "%s", usage_error(u));
	atomic_store(&u->h->nclaimed, 0);
	store_close(st);
	usage_close(u);
}

/*
 * The file is allocated when made: on a full file system usage_open
 * fails with a message, where a sparse file would kill a worker with
 * SIGBUS on its first touch of an unbacked page.  Needs a private mount
 * of a small tmpfs (root, or a user namespace); skipped where neither.
 */
Test(usage, full_filesystem_fails_at_open)
{
	int	 status;
	pid_t	 pid;

	if ((pid = fork()) == 0) {
		struct usage *u;
		char	 err[512];

		if (unshare(CLONE_NEWNS) == -1 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
		    mount("tmpfs", fx_dir, "tmpfs", 0, "size=2m,mode=0700") == -1)
			_exit(77);
		if (usage_open(fx_dir, NULL, &u, err, sizeof(err)) == 0) {
			/* Old behaviour: it opens, and counting may SIGBUS. */
			(void)usage_count(u, NULL, "dave", MONTH, "uuid");
			_exit(1);
		}
		_exit(strstr(err, "No space left on device") != NULL ? 0 : 2);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		cr_skip_test("no private tmpfs here (needs root or userns)");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "status %d (a signal: %d)", status, WIFSIGNALED(status) ?
	    WTERMSIG(status) : 0);
}
