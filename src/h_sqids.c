/*
 * h_sqids.c: GET /v1/sqids/encode and /v1/sqids/decode (doc/api.md).
 * The dispatcher has authenticated the key and wraps `data` in the
 * envelope; the algorithm is sqids.c's.  Parameters are params.h rows:
 * the endpoint's own, then alphabet, min_length and blocklist.
 */
#include "config.h"

#include <string.h>

#include "serve.h"
#include "sqids.h"

#define NUMBERS_MAX	100
#define ID_MAX		4096

static const struct pdef p_numbers =
    { "numbers", PK_UINTS, 0, NUMBERS_MAX, UINT64_MAX, 1 };
static const struct pdef p_id = { "id", PK_BYTES, 0, ID_MAX, 0, 1 };
static const struct pdef p_alphabet = { "alphabet", PK_UTF8, 0, 1024, 0, 0 };
static const struct pdef p_minlen =
    { "min_length", PK_UINT, 0, SQIDS_MAX_MIN_LENGTH, 0, 0 };
static const struct pdef p_blocklist =
    { "blocklist", PK_UTF8, 0, 4096, 0, 0 };

#define P_FIRST		0
#define P_ALPHABET	1
#define P_MINLEN	2
#define P_BLOCKLIST	3
#define P__MAX		4

/* One request's parameters and results, kept from request to request. */
static struct sreq {
	struct qlist	 q;
	struct param	 p[P__MAX];
	const struct sqids *s;
	uint64_t	 nums[ID_MAX];	/* an ID holds fewer numbers than
					   characters */
	size_t		 n;
	struct buf	 tmp;		/* an ID from the algorithm */
} sr;

/* A library error: the reference's message, 400 (503 for memory). */
static enum status
refused(struct ctx *x, enum sqids_rc rc)
{
	return ctx_error(x, rc == SQIDS_ENOMEM ? HTTP_UNAVAILABLE :
	    HTTP_BAD_REQUEST, sqids_strerror(rc));
}

static enum status
sreq_parse(struct ctx *x, const struct pdef *first)
{
	const struct pdef defs[P__MAX] = { *first, p_alphabet, p_minlen,
	    p_blocklist };
	const struct param *a = &sr.p[P_ALPHABET], *b = &sr.p[P_BLOCKLIST];
	enum sqids_rc	 rc;
	enum status	 st;

	buf_reset(&sr.tmp);
	if ((st = ctx_query(x, &sr.q, defs, P__MAX, sr.p)) != HTTP_OK)
		return st;
	rc = sqids_get(&sr.s, a->present ? a->val : NULL, a->len,
	    b->present ? b->val : NULL, b->len);
	return rc == SQIDS_OK ? HTTP_OK : refused(x, rc);
}

static void
numbers_json(struct buf *d)
{
	size_t	 i;

	buf_addl(d, ",\"numbers\":[");
	for (i = 0; i < sr.n; i++) {
		if (i > 0)
			buf_addc(d, ',');
		buf_add_u64(d, sr.nums[i]);
	}
	buf_addc(d, ']');
}

/* The options every endpoint echoes at the end of `data`. */
static void
data_tail(struct buf *d)
{
	buf_addl(d, ",\"min_length\":");
	buf_add_u64(d, sr.p[P_MINLEN].num);
	if (sr.p[P_ALPHABET].present) {
		buf_addl(d, ",\"alphabet\":");
		buf_add_jstr(d, sr.p[P_ALPHABET].val, sr.p[P_ALPHABET].len);
	}
	if (sr.p[P_BLOCKLIST].present) {
		buf_addl(d, ",\"blocklist\":");
		buf_add_jstr(d, sr.p[P_BLOCKLIST].val, sr.p[P_BLOCKLIST].len);
	}
	buf_addc(d, '}');
}

enum status
h_v1_sqids_encode(struct ctx *x)
{
	enum sqids_rc	 rc;
	enum status	 st;

	if ((st = sreq_parse(x, &p_numbers)) != HTTP_OK)
		return st;
	sr.n = params_uints(&sr.p[P_FIRST], sr.nums, NUMBERS_MAX);
	if ((rc = sqids_encode(sr.s, sr.nums, sr.n,
	    (unsigned)sr.p[P_MINLEN].num, &sr.tmp)) != SQIDS_OK)
		return refused(x, rc);
	buf_addl(x->data, "{\"id\":");
	buf_add_jstr(x->data, sr.tmp.data, sr.tmp.len);
	numbers_json(x->data);
	data_tail(x->data);
	return HTTP_OK;
}

/*
 * The numbers as the reference decodes them, and whether the ID is the
 * one they encode to: the reference leaves that check to its caller.
 */
enum status
h_v1_sqids_decode(struct ctx *x)
{
	const struct param *id = &sr.p[P_FIRST];
	enum sqids_rc	 rc;
	enum status	 st;
	int		 valid = 0;

	if ((st = sreq_parse(x, &p_id)) != HTTP_OK)
		return st;
	rc = sqids_decode(sr.s, id->val, id->len, sr.nums, &sr.n);
	if (rc == SQIDS_OK && sr.n > 0) {
		rc = sqids_encode(sr.s, sr.nums, sr.n,
		    (unsigned)sr.p[P_MINLEN].num, &sr.tmp);
		if (rc == SQIDS_ENOMEM)
			return refused(x, rc);
		valid = rc == SQIDS_OK && sr.tmp.len == id->len &&
		    memcmp(sr.tmp.data, id->val, id->len) == 0;
	}
	buf_addl(x->data, "{\"id\":");
	buf_add_jstr(x->data, id->val, id->len);
	buf_adds(x->data, valid ? ",\"valid\":true" : ",\"valid\":false");
	numbers_json(x->data);
	data_tail(x->data);
	return HTTP_OK;
}
