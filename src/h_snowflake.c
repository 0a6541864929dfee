/*
 * h_snowflake.c: GET /v1/snowflake/parse and /v1/snowflake/info
 * (doc/api.md): what a snowflake of this installation holds, and the
 * layout itself, with the day its 41-bit time field runs out.  The epoch
 * and the split between node and slot bits are the settings'.
 */
#include "config.h"

#include "clock.h"
#include "gen.h"
#include "serve.h"

#define SF_MAX	((UINT64_C(1) << 63) - 1)
#define SF_SPAN	(UINT64_C(1) << SNOWFLAKE_TIME_BITS)	/* ms the time
							   field holds */

static const struct pdef p_id = { "id", PK_UINT, 0, SF_MAX, 0, 1 };

static struct qlist	 q;

/* "name":"<ISO 8601 time>","name_ms":<ms> */
static void
add_time(struct buf *d, const char *name, uint64_t ms)
{
	char	 t[32];

	iso_time(t, ms);
	buf_addc(d, '"');
	buf_adds(d, name);
	buf_addl(d, "\":\"");
	buf_adds(d, t);
	buf_addl(d, "\",\"");
	buf_adds(d, name);
	buf_addl(d, "_ms\":");
	buf_add_u64(d, ms);
}

enum status
h_v1_snowflake_parse(struct ctx *x)
{
	const struct conf *c = &x->srv->conf;
	struct param	 p;
	struct buf	*d = x->data;
	unsigned	 slot_bits = SNOWFLAKE_WORKER_BITS -
			    (unsigned)c->node_bits;
	uint64_t	 worker;
	enum status	 st;

	if ((st = ctx_query(x, &q, &p_id, 1, &p)) != HTTP_OK)
		return st;
	worker = p.num >> SNOWFLAKE_SEQ_BITS &
	    ((1u << SNOWFLAKE_WORKER_BITS) - 1);
	/* A string, as minted: JavaScript loses digits past 2^53. */
	buf_addl(d, "{\"id\":\"");
	buf_add_u64(d, p.num);
	buf_addl(d, "\",");
	add_time(d, "timestamp", c->snowflake_epoch +
	    (p.num >> (SNOWFLAKE_WORKER_BITS + SNOWFLAKE_SEQ_BITS)));
	buf_addl(d, ",\"worker_id\":");
	buf_add_u64(d, worker);
	buf_addl(d, ",\"node_id\":");
	buf_add_u64(d, worker >> slot_bits);
	buf_addl(d, ",\"slot\":");
	buf_add_u64(d, worker & ((1u << slot_bits) - 1));
	buf_addl(d, ",\"sequence\":");
	buf_add_u64(d, p.num & ((1u << SNOWFLAKE_SEQ_BITS) - 1));
	buf_addc(d, '}');
	return HTTP_OK;
}

enum status
h_v1_snowflake_info(struct ctx *x)
{
	const struct conf *c = &x->srv->conf;
	struct buf	*d = x->data;
	uint64_t	 end = c->snowflake_epoch + SF_SPAN;
	enum status	 st;

	if ((st = ctx_query(x, &q, NULL, 0, NULL)) != HTTP_OK)
		return st;
	buf_addc(d, '{');
	add_time(d, "epoch", c->snowflake_epoch);
	buf_addl(d, ",\"bits\":{\"time\":");
	buf_add_u64(d, SNOWFLAKE_TIME_BITS);
	buf_addl(d, ",\"node\":");
	buf_add_u64(d, c->node_bits);
	buf_addl(d, ",\"slot\":");
	buf_add_u64(d, SNOWFLAKE_WORKER_BITS - c->node_bits);
	buf_addl(d, ",\"sequence\":");
	buf_add_u64(d, SNOWFLAKE_SEQ_BITS);
	buf_addl(d, "},\"node_id\":");
	buf_add_u64(d, c->node_id);
	/* The last ms the field holds is end - 1: from end on, 503. */
	buf_addc(d, ',');
	add_time(d, "runs_out", end);
	buf_addl(d, ",\"days_left\":");
	buf_add_u64(d, end > x->now_ms ? (end - x->now_ms) / (86400 *
	    MS_PER_S) : 0);
	buf_addc(d, '}');
	return HTTP_OK;
}
