/*
 * gen_uuid.c: RFC 9562 UUIDs, version 4 (random) or 7 (Unix ms + random).
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

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

static int
uuid_version(const struct params *p)
{
	struct field	 f;

	param_get(p, "version", &f);
	if (f.kind == FIELD_ABSENT)
		return 4;
	if (f.kind == FIELD_INT)
		return f.ival == 4 || f.ival == 7 ? (int)f.ival : -1;
	if (f.kind != FIELD_STRING)
		return -1;
	/* A string of decimal digits, as for any integer option. */
	while (f.len > 1 && f.str[0] == '0')
		f.str++, f.len--;
	if (f.len == 1 && (f.str[0] == '4' || f.str[0] == '7'))
		return f.str[0] - '0';
	return -1;
}

static void
v7_stamp(unsigned char b[16])
{
	uint64_t	 now, ms;
	unsigned	 seed = (b[6] << 8 | b[7]) & 0x7ff;

	now = gen_setup.clock_ms();
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
		gen_setup.sleep_ms(1);
		now = gen_setup.clock_ms();
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

static int
uuid_generate(const struct params *p, struct gen_result *res)
{
	unsigned char	 b[16];
	int		 version;

	if ((version = uuid_version(p)) == -1)
		return gen_error(res, 400, "UUID version must be 4 or 7");
	rnd_bytes(b, sizeof(b));
	if (version == 7)
		v7_stamp(b);
	b[6] = (unsigned char)((b[6] & 0x0f) | version << 4);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);

	buf_add_hex(&res->id, b, 4);
	buf_addc(&res->id, '-');
	buf_add_hex(&res->id, b + 4, 2);
	buf_addc(&res->id, '-');
	buf_add_hex(&res->id, b + 6, 2);
	buf_addc(&res->id, '-');
	buf_add_hex(&res->id, b + 8, 2);
	buf_addc(&res->id, '-');
	buf_add_hex(&res->id, b + 10, 6);
	return gen_done(res);
}

const struct generator gen_uuid = { "uuid", uuid_generate };
