/*
 * h_hashids.c: GET /v1/encode, /v1/encode-hex, /v1/decode, /v1/decode-hex
 * and /v1/meta (doc/api.md).  The dispatcher has authenticated the key
 * and wraps `data` in the envelope; the algorithm is hashids.c's.  Each
 * endpoint's parameters are a table of params.h rows, checked in order.
 */
#include "config.h"

#include <string.h>

#include "hashids.h"
#include "params.h"
#include "serve.h"

#define NUMBERS_MAX	100

static const struct pdef p_numbers =
    { "numbers", PK_NUMBERS, 0, NUMBERS_MAX, 100, 1 };
static const struct pdef p_hex = { "hex", PK_HEX, 0, 1200, 0, 1 };
static const struct pdef p_hash = { "hash", PK_BYTES, 0, 4096, 0, 1 };
static const struct pdef p_salt = { "salt", PK_UTF8, 0, 1024, 0, 0 };
static const struct pdef p_minlen = { "min_length", PK_UINT, 0, 1000, 0, 0 };
static const struct pdef p_alphabet = { "alphabet", PK_CHARS, 0, 1024, 0, 0 };

/* The first parameter, then salt, min_length and alphabet. */
#define P_FIRST		0
#define P_SALT		1
#define P_MINLEN	2
#define P_ALPHABET	3
#define P__MAX		4

/* One request's parameters, kept from request to request (one at a
 * time per process): the buffers keep their memory. */
static struct hreq {
	struct qlist	 q;
	struct param	 p[P__MAX];
	const struct hashids *h;
	unsigned	 min_length;
	struct buf	 tmp;		/* hash or numbers from the algorithm */
} hr;

/* The query, its names checked once, then the endpoint's table. */
static enum status
hreq_parse(struct ctx *x, const struct pdef *first)
{
	const struct pdef defs[P__MAX] = { *first, p_salt, p_minlen,
	    p_alphabet };
	struct hreq	*h = &hr;
	enum hashids_rc	 rc;
	enum status	 st;

	buf_reset(&h->tmp);
	if ((st = ctx_query(x, &h->q, defs, P__MAX, h->p)) != HTTP_OK)
		return st;
	h->min_length = (unsigned)h->p[P_MINLEN].num;
	buf_reset(&x->errbuf);
	rc = hashids_get(&h->h, h->p[P_SALT].val, h->p[P_SALT].len,
	    h->p[P_ALPHABET].present ? h->p[P_ALPHABET].val : NULL,
	    h->p[P_ALPHABET].len, &x->errbuf);
	switch (rc) {
	case HASHIDS_OK:
		return HTTP_OK;
	case HASHIDS_EALPHABET:
		return ctx_error_n(x, HTTP_BAD_REQUEST, buf_cstr(&x->errbuf),
		    x->errbuf.len);
	case HASHIDS_ENOMEM:
		return ctx_error(x, HTTP_UNAVAILABLE, "Service unavailable");
	case HASHIDS_INVALID:
	case HASHIDS_EINPUT:
	case HASHIDS_EUTF8:
	case HASHIDS_ERANGE:
	case HASHIDS_ETHROWS:
	case HASHIDS__MAX:
		break;
	}
	return ctx_errorf(x, HTTP_BAD_REQUEST, "alphabet: %s",
	    hashids_strerror(rc));
}

/* The fields every endpoint echoes at the end of `data`. */
static void
data_tail(struct buf *d)
{
	buf_addl(d, ",\"salt\":");
	buf_add_jstr(d, hr.p[P_SALT].val, hr.p[P_SALT].len);
	buf_addl(d, ",\"min_length\":");
	buf_add_u64(d, hr.min_length);
	if (hr.p[P_ALPHABET].present) {
		buf_addl(d, ",\"alphabet\":");
		buf_add_jstr(d, hr.p[P_ALPHABET].val, hr.p[P_ALPHABET].len);
	}
	buf_addc(d, '}');
}

/*
 * What an encode's result means for the client.  hashids.js throws for
 * one corner it accepts in its constructor (an alphabet holding U+0000
 * with a number past 2^53 that starts on it), so that is bad input too.
 */
static enum status
encoded(struct ctx *x, enum hashids_rc rc)
{
	switch (rc) {
	case HASHIDS_OK:
		return HTTP_OK;
	case HASHIDS_ETHROWS:
		return ctx_error(x, HTTP_BAD_REQUEST, "alphabet cannot encode "
		    "these numbers (hashids.js throws a RangeError)");
	case HASHIDS_ENOMEM:
		return ctx_error(x, HTTP_UNAVAILABLE, "Service unavailable");
	case HASHIDS_INVALID:
	case HASHIDS_EINPUT:
	case HASHIDS_EALPHABET:
	case HASHIDS_EUTF8:
	case HASHIDS_ERANGE:
	case HASHIDS__MAX:
		break;
	}
	return ctx_errorf(x, HTTP_BAD_REQUEST, "cannot encode: %s",
	    hashids_strerror(rc));
}

enum status
h_v1_encode(struct ctx *x)
{
	const char	*nums[NUMBERS_MAX];
	size_t		 lens[NUMBERS_MAX], n, i, z;
	enum status	 st;

	if ((st = hreq_parse(x, &p_numbers)) != HTTP_OK)
		return st;
	n = params_numbers(&hr.p[P_FIRST], nums, lens);
	if ((st = encoded(x, hashids_encode(hr.h, nums, lens, n,
	    hr.min_length, &hr.tmp))) != HTTP_OK)
		return st;
	buf_addl(x->data, "{\"hash\":");
	buf_add_jstr(x->data, hr.tmp.data, hr.tmp.len);
	buf_addl(x->data, ",\"numbers\":[");
	for (i = 0; i < n; i++) {
		/* JSON numbers have no leading zeros. */
		for (z = 0; z + 1 < lens[i] && nums[i][z] == '0'; z++)
			;
		if (i > 0)
			buf_addc(x->data, ',');
		buf_add(x->data, nums[i] + z, lens[i] - z);
	}
	buf_addc(x->data, ']');
	data_tail(x->data);
	return HTTP_OK;
}

enum status
h_v1_encode_hex(struct ctx *x)
{
	const struct param *p = &hr.p[P_FIRST];
	enum status	 st;

	if ((st = hreq_parse(x, &p_hex)) != HTTP_OK ||
	    (st = encoded(x, hashids_encode_hex(hr.h, p->val, p->len,
	    hr.min_length, &hr.tmp))) != HTTP_OK)
		return st;
	buf_addl(x->data, "{\"hex\":");
	buf_add_jstr(x->data, p->val, p->len);
	buf_addl(x->data, ",\"hash\":");
	buf_add_jstr(x->data, hr.tmp.data, hr.tmp.len);
	data_tail(x->data);
	return HTTP_OK;
}

static enum status
decode(struct ctx *x, int hex)
{
	const struct param *p = &hr.p[P_FIRST];
	enum hashids_rc	 rc;
	enum status	 st;

	if ((st = hreq_parse(x, &p_hash)) != HTTP_OK)
		return st;
	rc = hex ? hashids_decode_hex(hr.h, p->val, p->len, hr.min_length,
	    &hr.tmp) : hashids_decode(hr.h, p->val, p->len, hr.min_length,
	    &hr.tmp);
	if (rc != HASHIDS_OK && rc != HASHIDS_INVALID)
		return ctx_error(x, HTTP_UNAVAILABLE, "Service unavailable");
	buf_addc(x->data, '{');
	if (hex) {
		buf_addl(x->data, "\"hex\":");
		if (rc == HASHIDS_OK)
			buf_add_jstr(x->data, buf_cstr(&hr.tmp), hr.tmp.len);
		else
			buf_addl(x->data, "null");
		buf_addc(x->data, ',');
	}
	buf_addl(x->data, "\"hash\":");
	buf_add_jstr(x->data, p->val, p->len);
	if (rc == HASHIDS_OK)
		buf_addl(x->data, ",\"valid\":true");
	else
		buf_addl(x->data, ",\"valid\":false");
	if (!hex) {
		buf_addl(x->data, ",\"numbers\":[");
		if (rc == HASHIDS_OK)
			buf_add(x->data, hr.tmp.data, hr.tmp.len);
		buf_addc(x->data, ']');
	}
	data_tail(x->data);
	return HTTP_OK;
}

enum status
h_v1_decode(struct ctx *x)
{
	return decode(x, 0);
}

enum status
h_v1_decode_hex(struct ctx *x)
{
	return decode(x, 1);
}

/*
 * "name":max for each parameter, the limits stated by the tables, and
 * after the hash's, the most digits a decoded number may have.
 */
static void
meta_limits(struct buf *d)
{
	static const struct pdef *const all[] = { &p_numbers, &p_hex,
	    &p_hash, &p_salt, &p_minlen, &p_alphabet };
	size_t	 i;

	buf_addl(d, "\"limits\":{");
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (i > 0)
			buf_addc(d, ',');
		buf_add_jstr(d, all[i]->name, strlen(all[i]->name));
		buf_addc(d, ':');
		buf_add_u64(d, all[i]->max);
		if (all[i] == &p_numbers) {
			buf_addl(d, ",\"digits\":");
			buf_add_u64(d, p_numbers.each);
		}
		if (all[i] == &p_hash) {
			buf_addl(d, ",\"decoded_digits\":");
			buf_add_u64(d, HASHIDS_MAX_DIGITS);
		}
	}
	buf_addc(d, '}');
}

/*
 * `endpoints` is a number, as the hosted API sends it (clients read a
 * count); the paths themselves go in `paths`.
 */
enum status
h_v1_meta(struct ctx *x)
{
	size_t	 i, n = 0;

	for (i = 0; i < RT__MAX; i++)
		n += routes[i].family == FAM_V1;
	buf_addl(x->data, "{\"name\":\"idmint Hashids API\","
	    "\"note\":\"Hashids byte-identical with hashids.js 2.3.0; salts "
	    "and alphabets are Unicode code points; numbers of any size; "
	    "Sqids byte-identical with sqids 0.3.0, numbers up to "
	    "18446744073709551615\","
	    "\"source\":\"idmint " PACKAGE_VERSION "\",\"endpoints\":");
	buf_add_u64(x->data, n);
	buf_addl(x->data, ",\"paths\":[");
	for (i = 0, n = 0; i < RT__MAX; i++) {
		if (routes[i].family != FAM_V1)
			continue;
		if (n++ > 0)
			buf_addc(x->data, ',');
		buf_add_jstr(x->data, routes[i].path, strlen(routes[i].path));
	}
	buf_addl(x->data, "],");
	meta_limits(x->data);
	buf_addc(x->data, '}');
	return HTTP_OK;
}
