/*
 * gen_uuid.c: RFC 9562 UUIDs, version 4 (random) or 7 (Unix ms + random).
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "gen.h"
#include "rnd.h"

/*
 * Version 7 follows RFC 9562 6.2 method 1: rand_a is a 12-bit counter,
 * seeded at random with its top bit clear each new millisecond so at least
 * 2048 IDs fit in one, then counted up, so IDs from this process sort in
 * the order they were made.
 */
static struct {
	uint64_t	 ms;
	unsigned	 ctr;
} v7;

/* The versions, as an integer option names them ("4", 4, "04"). */
static const char *const versions[] = { "4", "7", NULL };
static const unsigned version_nums[] = { 4, 7 };

static void
v7_stamp(unsigned char b[16])
{
	uint64_t	 now, ms;
	unsigned	 seed = (b[6] << 8 | b[7]) & 0x7ff;

	now = now_ms();
	if (now > v7.ms) {
		v7.ms = now;
		v7.ctr = seed;
	} else if (v7.ctr < 0xfff) {
		/* Same ms, or the clock stepped back: keep the old ms. */
		v7.ctr++;
	} else {
		/*
		 * The counter is spent: wait for the next ms, as the RFC
		 * advises; if the clock is stuck or behind, run one ms
		 * ahead of it rather than repeat or go back.
		 */
		clock_sleep_ms(1);
		now = now_ms();
		v7.ms = now > v7.ms ? now : v7.ms + 1;
		v7.ctr = seed;
	}
	ms = v7.ms;
	b[0] = (unsigned char)(ms >> 40);
	b[1] = (unsigned char)(ms >> 32);
	b[2] = (unsigned char)(ms >> 24);
	b[3] = (unsigned char)(ms >> 16);
	b[4] = (unsigned char)(ms >> 8);
	b[5] = (unsigned char)ms;
	b[6] = (unsigned char)(v7.ctr >> 8);
	b[7] = (unsigned char)v7.ctr;
}

static enum status
uuid_generate(const struct gen_args *a, struct gen_result *res)
{
	unsigned char	 b[16];
	char		 s[UUID_STR_LEN + 1];
	unsigned	 version = version_nums[a->num[0]];

	rnd_bytes(b, sizeof(b));
	if (version == 7)
		v7_stamp(b);
	uuid_fmt(s, b, version);
	buf_add(&res->id, s, UUID_STR_LEN);
	return gen_done(res);
}

const struct generator gen_uuid = { "uuid", uuid_generate, {
	{ .name = "version", .kind = GOPT_CHOICE, .choices = versions,
	  .numeric = 1, .bad = "UUID version must be 4 or 7" },
}, 0 };
