/*
 * rnd.c: a pool of bytes from randombytes_buf().
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "rnd.h"

#define RND_POOL	4096

static unsigned char	 pool[RND_POOL];
static size_t		 avail;
static int		 hooked;

static void
rnd_forget(void)
{
	sodium_memzero(pool, sizeof(pool));
	avail = 0;
}

void
rnd_bytes(void *out, size_t n)
{
	unsigned char	*p;

	if (!hooked) {
		if (pthread_atfork(NULL, NULL, rnd_forget) != 0) {
			/* Without the hook a pool is unsafe: go direct. */
			randombytes_buf(out, n);
			return;
		}
		hooked = 1;
	}
	if (n > RND_POOL / 4) {
		randombytes_buf(out, n);
		return;
	}
	if (n > avail) {
		randombytes_buf(pool, sizeof(pool));
		avail = sizeof(pool);
	}
	p = pool + sizeof(pool) - avail;
	memcpy(out, p, n);
	sodium_memzero(p, n);
	avail -= n;
}
