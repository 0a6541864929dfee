#include "config.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "rnd.h"

static void
setup(void)
{
	cr_assert(sodium_init() >= 0);
}

TestSuite(rnd, .init = setup);

Test(rnd, draws_never_repeat)
{
	static unsigned char seen[20000][16];
	size_t i, j;

	/* Many refills of the pool; any reuse of bytes would repeat. */
	for (i = 0; i < 20000; i++)
		rnd_bytes(seen[i], 16);
	for (i = 0; i < 20000; i++)
		for (j = i + 1; j < i + 300 && j < 20000; j++)
			cr_assert(memcmp(seen[i], seen[j], 16) != 0,
			    "draws %zu and %zu repeat", i, j);
}

Test(rnd, bytes_are_spread)
{
	static unsigned char b[1 << 16];
	unsigned long count[256] = { 0 };
	double chi = 0, e = (double)sizeof(b) / 256;
	size_t i;

	for (i = 0; i < sizeof(b); i += 64)
		rnd_bytes(b + i, 64);
	for (i = 0; i < sizeof(b); i++)
		count[b[i]]++;
	for (i = 0; i < 256; i++)
		chi += (count[i] - e) * (count[i] - e) / e;
	/* 255 degrees of freedom: p < 1e-6 past about 375. */
	cr_assert(chi < 375, "chi-square %.1f", chi);
}

Test(rnd, fork_does_not_share_the_pool)
{
	unsigned char mine[16], theirs[16];
	int fd[2], status;
	pid_t pid;

	rnd_bytes(mine, 1);		/* the pool is full now */
	cr_assert(pipe(fd) == 0);
	if ((pid = fork()) == 0) {
		rnd_bytes(theirs, sizeof(theirs));
		_exit(write(fd[1], theirs, sizeof(theirs)) == sizeof(theirs) ? 0 : 1);
	}
	cr_assert(pid > 0);
	rnd_bytes(mine, sizeof(mine));
	cr_assert(read(fd[0], theirs, sizeof(theirs)) == sizeof(theirs));
	waitpid(pid, &status, 0);
	cr_assert(memcmp(mine, theirs, sizeof(mine)) != 0,
	    "parent and child drew the same bytes");
}
