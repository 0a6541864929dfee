/*
 * gen_snowflake.c: 63-bit snowflakes, 41 bits of ms since the configured
 * epoch, 10 bits of worker id, 12 bits of sequence.
 *
 * Uniqueness rests on two things: no two live processes share a worker
 * id (the store leases them), and this process never reuses a
 * (ms, sequence) pair, which is why it waits out a full millisecond and
 * a clock that steps back rather than guess.
 */
#include "config.h"

#include <string.h>

#include "clock.h"
#include "gen.h"

#define TIME_BITS	SNOWFLAKE_TIME_BITS
#define WORKER_BITS	SNOWFLAKE_WORKER_BITS
#define SEQ_BITS	SNOWFLAKE_SEQ_BITS
#define SEQ_MAX		((1u << SEQ_BITS) - 1)
#define BACK_MAX_MS	10	/* how long a backward step may be waited out */
#define TRIES		16	/* bounds the loop if the clock is stuck */

uint64_t	 gen_clock_back;

static struct {
	uint64_t	 ms;		/* clock time of the last ID */
	unsigned	 seq;
	int		 used;
} sf;

void
gen_snowflake_reset(void)
{
	memset(&sf, 0, sizeof(sf));
}

uint64_t
gen_snowflake_last(void)
{
	return sf.used ? sf.ms : 0;
}

void
gen_snowflake_floor(uint64_t ms)
{
	if (ms == 0 || (sf.used && sf.ms >= ms))
		return;
	/* As if every sequence of that ms were spent: the next ID waits
	 * for a later ms, or the clock is behind and it is refused. */
	sf.used = 1;
	sf.ms = ms;
	sf.seq = SEQ_MAX;
}

/* The next free (ms, seq) pair, or -1 if the clock will not allow one. */
static int
sf_next(uint64_t *ms, unsigned *seq)
{
	uint64_t	 now;
	unsigned	 waited = 0;
	int		 i;

	for (i = 0; i < TRIES; i++) {
		now = now_ms();
		if (!sf.used || now > sf.ms) {
			sf.used = 1;
			sf.ms = now;
			sf.seq = 0;
			break;
		}
		if (now == sf.ms && sf.seq < SEQ_MAX) {
			sf.seq++;
			break;
		}
		if (now == sf.ms) {
			/* All 4096 used: the next ms is at most one away. */
			clock_sleep_ms(1);
			continue;
		}
		if (sf.ms - now > BACK_MAX_MS - waited)
			return -1;
		waited += (unsigned)(sf.ms - now);
		clock_sleep_ms((unsigned)(sf.ms - now));
	}
	if (i == TRIES)
		return -1;
	*ms = sf.ms;
	*seq = sf.seq;
	return 0;
}

static enum status
snowflake_generate(const struct gen_args *a, struct gen_result *res)
{
	uint64_t	 ms, t;
	unsigned	 seq;

	(void)a;
	if (gen_setup.worker_id >> WORKER_BITS != 0)
		return gen_error(res, HTTP_UNAVAILABLE, "Service unavailable");
	if (sf_next(&ms, &seq) == -1) {
		gen_clock_back++;
		return gen_error(res, HTTP_UNAVAILABLE, "Clock moved backwards");
	}
	/* Before the epoch or past 2^41 ms is a setup fault, not the user's. */
	if (ms < gen_setup.snowflake_epoch_ms ||
	    (t = ms - gen_setup.snowflake_epoch_ms) >> TIME_BITS != 0)
		return gen_error(res, HTTP_UNAVAILABLE, "Service unavailable");
	buf_add_u64(&res->id, t << (WORKER_BITS + SEQ_BITS) |
	    (uint64_t)gen_setup.worker_id << SEQ_BITS | seq);
	return gen_done(res);
}

const struct generator gen_snowflake = { "snowflake", snowflake_generate, {
	{ .kind = GOPT_NONE },
}, GEN_NEEDS_SLOT };
