/*
 * h_hashids.c: GET /v1/encode, /v1/encode-hex, /v1/decode, /v1/decode-hex
 * and /v1/meta, in the envelope of spec/hashids.md.  The algorithm is
 * hashids.c's; this file checks parameters against a table of limits and
 * writes `data`.
 */
#include "config.h"

#include <string.h>

#include "hashids.h"
#include "serve.h"
#include "utf8.h"

#define NUMBERS_MAX	100
#define DIGITS_MAX	100
#define HEX_MAX		1200
#define HASH_MAX	4096
#define SALT_MAX	1024
#define MINLEN_MAX	1000
#define ALPHABET_MAX	1024

struct hreq {
	struct qlist	 q;
	const char	*salt, *alphabet;
	size_t		 saltlen, alphalen;
	unsigned	 min_length;
	const struct hashids *h;
	struct buf	 data;		/* the `data` object */
	struct buf	 tmp;		/* hash or numbers from the algorithm */
};

static const struct qparam *
param(const struct hreq *hr, const char *name)
{
	return qlist_get(&hr->q, name);
}

static int
bad(struct ctx *x, const char *msg)
{
	return ctx_error(x, 400, msg);
}

/* salt, min_length, alphabet: every endpoint but meta takes them. */
static int
common_params(struct ctx *x, struct hreq *hr)
{
	const struct qparam *p;
	size_t		 i, n;
	unsigned	 v = 0;
	int		 rc;

	hr->salt = "";
	if ((p = param(hr, "salt")) != NULL) {
		if (p->vlen > SALT_MAX)
			return bad(x, "salt must be at most 1024 bytes");
		if (utf8_count(p->val, p->vlen) == (size_t)-1)
			return bad(x, "salt must be valid UTF-8");
		hr->salt = p->val;
		hr->saltlen = p->vlen;
	}
	if ((p = param(hr, "min_length")) != NULL) {
		for (i = 0; i < p->vlen; i++) {
			if (p->val[i] < '0' || p->val[i] > '9' ||
			    (v = v * 10 + (unsigned)(p->val[i] - '0')) > MINLEN_MAX)
				break;
		}
		if (p->vlen == 0 || i < p->vlen)
			return bad(x, "min_length must be a whole number "
			    "from 0 to 1000");
		hr->min_length = v;
	}
	if ((p = param(hr, "alphabet")) != NULL) {
		n = utf8_count(p->val, p->vlen);
		if (n == (size_t)-1)
			return bad(x, "alphabet must be valid UTF-8");
		if (n > ALPHABET_MAX)
			return bad(x, "alphabet must be at most 1024 characters");
		hr->alphabet = p->val;
		hr->alphalen = p->vlen;
	}
	rc = hashids_get(&hr->h, hr->salt, hr->saltlen, hr->alphabet,
	    hr->alphalen, &x->errbuf);
	if (rc == HASHIDS_EALPHABET)
		return ctx_error_n(x, 400, buf_cstr(&x->errbuf), x->errbuf.len);
	if (rc == HASHIDS_ENOMEM)
		return ctx_error(x, 503, "Service unavailable");
	if (rc != HASHIDS_OK) {
		buf_reset(&x->errbuf);
		buf_printf(&x->errbuf, "alphabet: %s", hashids_strerror(rc));
		return bad(x, buf_cstr(&x->errbuf));
	}
	return 200;
}

static const struct qparam *
required(struct ctx *x, struct hreq *hr, const char *name)
{
	const struct qparam *p = param(hr, name);

	if (p == NULL || p->vlen == 0) {
		buf_reset(&x->errbuf);
		buf_printf(&x->errbuf, "%s is required", name);
		ctx_error(x, 400, buf_cstr(&x->errbuf));
		return NULL;
	}
	return p;
}

/* The fields every endpoint echoes at the end of `data`. */
static void
data_tail(struct hreq *hr)
{
	buf_add(&hr->data, ",\"salt\":", 8);
	buf_add_jstr(&hr->data, hr->salt, hr->saltlen);
	buf_add(&hr->data, ",\"min_length\":", 14);
	buf_add_u64(&hr->data, hr->min_length);
	if (hr->alphabet != NULL) {
		buf_add(&hr->data, ",\"alphabet\":", 12);
		buf_add_jstr(&hr->data, hr->alphabet, hr->alphalen);
	}
	buf_addc(&hr->data, '}');
}

/*
 * What an encode's result means for the client.  hashids.js throws for
 * one corner it accepts in its constructor (an alphabet holding U+0000
 * with a number past 2^53 that starts on it), so that is bad input too.
 */
static int
encoded(struct ctx *x, int rc)
{
	if (rc == HASHIDS_OK)
		return 200;
	if (rc == HASHIDS_ETHROWS)
		return bad(x, "alphabet cannot encode these numbers "
		    "(hashids.js throws a RangeError)");
	if (rc == HASHIDS_ENOMEM)
		return ctx_error(x, 503, "Service unavailable");
	buf_reset(&x->errbuf);
	buf_printf(&x->errbuf, "cannot encode: %s", hashids_strerror(rc));
	return bad(x, buf_cstr(&x->errbuf));
}

/*
 * "1, 2 ,003" -> pointers to each run of digits; spaces around items are
 * ignored, leading zeros are kept for the algorithm (which ignores them).
 */
static int
split_numbers(struct ctx *x, const struct qparam *p, const char **nums,
    size_t *lens, size_t *n)
{
	const char *s = p->val, *e = p->val + p->vlen, *a, *b;

	*n = 0;
	while (s <= e) {
		for (a = s; a < e && *a == ' '; a++)
			;
		for (b = a; b < e && *b >= '0' && *b <= '9'; b++)
			;
		s = b;
		while (s < e && *s == ' ')
			s++;
		if (a == b || (s < e && *s != ','))
			return bad(x, "numbers must be comma-separated whole "
			    "numbers of at least 0");
		if (*n == NUMBERS_MAX)
			return bad(x, "numbers must hold at most 100 numbers");
		if (b - a > DIGITS_MAX)
			return bad(x, "numbers must have at most 100 digits each");
		nums[*n] = a;
		lens[(*n)++] = (size_t)(b - a);
		s++;
	}
	return 200;
}

static int
encode(struct ctx *x, struct hreq *hr)
{
	const struct qparam *p;
	const char	*nums[NUMBERS_MAX];
	size_t		 lens[NUMBERS_MAX], n, i, z;
	int		 status;

	if ((p = required(x, hr, "numbers")) == NULL)
		return 400;
	if ((status = split_numbers(x, p, nums, lens, &n)) != 200 ||
	    (status = common_params(x, hr)) != 200)
		return status;
	if ((status = encoded(x, hashids_encode(hr->h, nums, lens, n,
	    hr->min_length, &hr->tmp))) != 200)
		return status;
	buf_add(&hr->data, "{\"hash\":", 8);
	buf_add_jstr(&hr->data, hr->tmp.data, hr->tmp.len);
	buf_add(&hr->data, ",\"numbers\":[", 12);
	for (i = 0; i < n; i++) {
		/* JSON numbers have no leading zeros. */
		for (z = 0; z + 1 < lens[i] && nums[i][z] == '0'; z++)
			;
		if (i > 0)
			buf_addc(&hr->data, ',');
		buf_add(&hr->data, nums[i] + z, lens[i] - z);
	}
	buf_addc(&hr->data, ']');
	data_tail(hr);
	return 200;
}

static int
encode_hex(struct ctx *x, struct hreq *hr)
{
	const struct qparam *p;
	size_t		 i;
	int		 status;

	if ((p = required(x, hr, "hex")) == NULL)
		return 400;
	if (p->vlen > HEX_MAX)
		return bad(x, "hex must have at most 1200 digits");
	for (i = 0; i < p->vlen; i++)
		if (strchr("0123456789abcdefABCDEF", p->val[i]) == NULL ||
		    p->val[i] == '\0')
			return bad(x, "hex must be hexadecimal digits "
			    "(0-9, a-f, A-F)");
	if ((status = common_params(x, hr)) != 200)
		return status;
	if ((status = encoded(x, hashids_encode_hex(hr->h, p->val, p->vlen,
	    hr->min_length, &hr->tmp))) != 200)
		return status;
	buf_add(&hr->data, "{\"hex\":", 7);
	buf_add_jstr(&hr->data, p->val, p->vlen);
	buf_add(&hr->data, ",\"hash\":", 8);
	buf_add_jstr(&hr->data, hr->tmp.data, hr->tmp.len);
	data_tail(hr);
	return 200;
}

static int
decode(struct ctx *x, struct hreq *hr, int hex)
{
	const struct qparam *p;
	int		 status, rc;

	if ((p = required(x, hr, "hash")) == NULL)
		return 400;
	if (p->vlen > HASH_MAX)
		return bad(x, "hash must be at most 4096 bytes");
	if ((status = common_params(x, hr)) != 200)
		return status;
	rc = hex ? hashids_decode_hex(hr->h, p->val, p->vlen, hr->min_length,
	    &hr->tmp) : hashids_decode(hr->h, p->val, p->vlen, hr->min_length,
	    &hr->tmp);
	if (rc != HASHIDS_OK && rc != HASHIDS_INVALID)
		return ctx_error(x, 503, "Service unavailable");
	buf_addc(&hr->data, '{');
	if (hex) {
		buf_add(&hr->data, "\"hex\":", 6);
		if (rc == HASHIDS_OK)
			buf_add_jstr(&hr->data, hr->tmp.data ? hr->tmp.data :
			    "", hr->tmp.len);
		else
			buf_add(&hr->data, "null", 4);
		buf_addc(&hr->data, ',');
	}
	buf_add(&hr->data, "\"hash\":", 7);
	buf_add_jstr(&hr->data, p->val, p->vlen);
	buf_adds(&hr->data, rc == HASHIDS_OK ? ",\"valid\":true" :
	    ",\"valid\":false");
	if (!hex) {
		buf_add(&hr->data, ",\"numbers\":[", 12);
		if (rc == HASHIDS_OK)
			buf_add(&hr->data, hr->tmp.data, hr->tmp.len);
		buf_addc(&hr->data, ']');
	}
	data_tail(hr);
	return 200;
}

static int
meta(struct hreq *hr)
{
	buf_printf(&hr->data, "{\"name\":\"idmint Hashids API\","
	    "\"note\":\"Hashids byte-identical with hashids.js 2.3.0; salts "
	    "and alphabets are Unicode code points; numbers of any size\","
	    "\"source\":\"idmint %s\","
	    "\"endpoints\":[\"/v1/encode\",\"/v1/encode-hex\",\"/v1/decode\","
	    "\"/v1/decode-hex\",\"/v1/meta\"],"
	    "\"limits\":{\"numbers\":%d,\"digits\":%d,\"hex\":%d,\"hash\":%d,"
	    "\"salt\":%d,\"min_length\":%d,\"alphabet\":%d}}", PACKAGE_VERSION,
	    NUMBERS_MAX, DIGITS_MAX, HEX_MAX, HASH_MAX, SALT_MAX, MINLEN_MAX,
	    ALPHABET_MAX);
	return 200;
}

static const char *const messages[RT__MAX] = {
	[RT_V1_ENCODE] = "Encode integers to a hashid",
	[RT_V1_ENCODE_HEX] = "Encode hex to a hashid",
	[RT_V1_DECODE] = "Decode a hashid",
	[RT_V1_DECODE_HEX] = "Decode a hashid to hex",
	[RT_V1_META] = "Meta",
};

static int
route(struct ctx *x, struct hreq *hr)
{
	const char	*tok;
	int		 status;

	if ((tok = ctx_bearer(x)) == NULL)
		return ctx_error(x, 401, "Missing or invalid x-oanor-key header");
	if ((status = ctx_auth_token(x, tok, strlen(tok))) != 200)
		return status;
	if (qlist_parse(&hr->q, x->req->query, strlen(x->req->query)) == -1)
		return ctx_error(x, 503, "Service unavailable");
	if (hr->q.overflow)
		return bad(x, "too many query parameters");
	if (hr->q.dup) {
		buf_reset(&x->errbuf);
		buf_adds(&x->errbuf, "parameter ");
		buf_add(&x->errbuf, hr->q.dupp->name, hr->q.dupp->nlen < 64 ?
		    hr->q.dupp->nlen : 64);
		buf_adds(&x->errbuf, " is given more than once");
		return bad(x, buf_cstr(&x->errbuf));
	}
	x->count_type = routes[x->rt].name;
	switch (x->rt) {
	case RT_V1_ENCODE:
		return encode(x, hr);
	case RT_V1_ENCODE_HEX:
		return encode_hex(x, hr);
	case RT_V1_DECODE:
		return decode(x, hr, 0);
	case RT_V1_DECODE_HEX:
		return decode(x, hr, 1);
	default:
		return meta(hr);
	}
}

int
h_hashids(struct ctx *x)
{
	static struct hreq hr;	/* buffers reused from request to request */
	static int	 ready;
	int		 status;

	if (!ready) {
		qlist_init(&hr.q);
		buf_init(&hr.data, 0);
		buf_init(&hr.tmp, 0);
		ready = 1;
	}
	buf_reset(&hr.data);
	buf_reset(&hr.tmp);
	hr.salt = hr.alphabet = NULL;
	hr.saltlen = hr.alphalen = 0;
	hr.min_length = 0;
	hr.h = NULL;
	if ((status = route(x, &hr)) != 200)
		return status;
	if (hr.data.err || hr.tmp.err)
		return ctx_error(x, 503, "Service unavailable");
	resp_envelope(x->resp, 200, hr.data.data, hr.data.len,
	    messages[x->rt], x->now_ms);
	return 200;
}
