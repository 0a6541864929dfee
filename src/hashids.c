/*
 * hashids.c: the Hashids algorithm of hashids.js 2.3.0, in code points.
 *
 * Everything here mirrors src/hashids.ts and src/util.ts of that release;
 * comments name the JavaScript a step reproduces where it is not obvious.
 * All arithmetic is exact (hashids.js is exact too: plain numbers up to
 * 2^53 - 1, BigInt past it), so uint64_t with a bignum fallback gives the
 * same answers.
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bignum.h"
#include "buf.h"
#include "hashids.h"
#include "utf8.h"

#define MODULO_PART	100	/* numbersIdInt adds number % (i + 100) */
#define GUARD_DIV	12
#define HEX_CHUNK	12	/* encodeHex: SPLIT_AT_EVERY_NTH */
#define STACK_CPS	512	/* code points kept on the stack before malloc */
#define CACHE_SLOTS	32

/*
 * A hole in the hash: hashids.js pushes `undefined` where number % 0 made
 * the separator index NaN.  It counts in ret.length but join('') drops
 * it, so it stays in the code point vector until the output is written.
 */
#define CP_HOLE		UINT32_MAX
#define JS_MAX_SAFE	9007199254740991ULL	/* past it numbers are BigInt */

/* What a code point is in a set-up; CLS_ALPHA + i is alpha[i]. */
#define CLS_NONE	0U
#define CLS_GUARD	1U
#define CLS_SEP		2U
#define CLS_ALPHA	3U

struct cpcls {
	uint32_t	 cp;
	uint32_t	 cls;
};

struct hashids {
	uint32_t	*alpha;		/* shuffled, guards taken out */
	size_t		 alen;
	uint32_t	*seps;
	size_t		 slen;
	uint32_t	*guards;
	size_t		 glen;
	uint32_t	*salt;
	size_t		 saltlen;
	struct cpcls	*wide;		/* non-ASCII classes, sorted by cp */
	size_t		 nwide;
	uint32_t	 ascii[128];	/* classes of ASCII code points */
};

/* A number: v alone up to 2^64 - 1, else b. */
struct hnum {
	uint64_t	 v;
	int		 big;
	struct bignum	 b;
};

/*
 * Code points with room at both ends: the min_length padding prepends
 * and appends (ret.unshift / ret.push), and both must stay cheap.
 */
struct cpvec {
	uint32_t	*v;
	size_t		 off;		/* data is v[off .. off + len) */
	size_t		 len;
	size_t		 cap;
	int		 err;
	uint32_t	 inl[256];
};

static const char *const errstr[HASHIDS__MAX] = {
	"ok",
	"invalid hash",
	"not a number",
	"alphabet must contain at least 16 unique characters",
	"not valid UTF-8",
	"input too large",
	"out of memory",
	"hashids.js throws here (RangeError: Division by zero)",
};

const char *
hashids_strerror(enum hashids_rc rc)
{
	if ((unsigned)rc >= HASHIDS__MAX)
		return "unknown error";
	return errstr[rc];
}

/*
 * Scratch arrays live on the caller's stack when small; this hands out
 * the stack one or a heap one of n entries (NULL if out of memory).
 */
static uint32_t *
scratch(uint32_t *stack, size_t stackn, size_t n)
{
	if (n <= stackn)
		return stack;
	if (n > SIZE_MAX / sizeof(uint32_t))
		return NULL;
	return malloc(n * sizeof(uint32_t));
}

static void
scratch_free(uint32_t *p, const uint32_t *stack)
{
	if (p != stack)
		free(p);
}

static void
cv_init(struct cpvec *c)
{
	c->v = c->inl;
	c->off = 8;		/* room for a guard without moving */
	c->len = 0;
	c->cap = sizeof(c->inl) / sizeof(c->inl[0]);
	c->err = 0;
}

static void
cv_free(struct cpvec *c)
{
	if (c->v != c->inl)
		free(c->v);
	cv_init(c);
}

/* Make room for front entries before and back entries after the data. */
static int
cv_room(struct cpvec *c, size_t front, size_t back)
{
	size_t	  nf, nb, tail, ncap;
	uint32_t *p;

	tail = c->cap - c->off - c->len;
	if (c->err)
		return -1;
	if (front <= c->off && back <= tail)
		return 0;
	/* Grow geometrically at whichever end ran out. */
	nf = front > c->off ? front + c->len : c->off;
	nb = back > tail ? back + c->len : tail;
	if (nf > SIZE_MAX / 8 || nb > SIZE_MAX / 8 || c->len > SIZE_MAX / 8)
		goto fail;
	ncap = nf + c->len + nb;
	if ((p = malloc(ncap * sizeof(uint32_t))) == NULL)
		goto fail;
	if (c->len > 0)
		memcpy(p + nf, c->v + c->off, c->len * sizeof(uint32_t));
	if (c->v != c->inl)
		free(c->v);
	c->v = p;
	c->off = nf;
	c->cap = ncap;
	return 0;
fail:
	c->err = 1;
	return -1;
}

static void
cv_push(struct cpvec *c, uint32_t cp)
{
	if (cv_room(c, 0, 1) == 0)
		c->v[c->off + c->len++] = cp;
}

static void
cv_append(struct cpvec *c, const uint32_t *p, size_t n)
{
	if (n > 0 && cv_room(c, 0, n) == 0) {
		memcpy(c->v + c->off + c->len, p, n * sizeof(uint32_t));
		c->len += n;
	}
}

static void
cv_prepend(struct cpvec *c, const uint32_t *p, size_t n)
{
	if (n > 0 && cv_room(c, n, 0) == 0) {
		c->off -= n;
		c->len += n;
		memcpy(c->v + c->off, p, n * sizeof(uint32_t));
	}
}

static uint32_t
cv_at(const struct cpvec *c, size_t i)
{
	return c->v[c->off + i];
}

/*
 * util.ts shuffle(): a salted Fisher-Yates walk.  key must not alias a;
 * klen 0 leaves a as it is, as an empty salt does in hashids.js.
 */
static void
shuffle(uint32_t *a, size_t n, const uint32_t *key, size_t klen)
{
	uint64_t p = 0, c, x;
	size_t	 i, j, v;
	uint32_t t;

	if (klen == 0 || n < 2)
		return;
	for (i = n - 1, v = 0; i > 0; i--, v++) {
		if (v == klen)	/* v %= klen, without a division */
			v = 0;
		c = key[v];
		p += c;
		x = c + v + p;
		/* 32-bit division is much cheaper, and the usual case. */
		if (x <= UINT32_MAX && i <= UINT32_MAX)
			j = (uint32_t)x % (uint32_t)i;
		else
			j = (size_t)(x % i);
		t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

static uint32_t
classify(const struct hashids *h, uint32_t cp)
{
	size_t	 lo = 0, hi = h->nwide, mid;

	if (cp < 128)
		return h->ascii[cp];
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (h->wide[mid].cp == cp)
			return h->wide[mid].cls;
		if (h->wide[mid].cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return CLS_NONE;
}

static void
hn_init(struct hnum *x)
{
	x->v = 0;
	x->big = 0;
	bn_init(&x->b);
}

static void
hn_free_all(struct hnum *x, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		bn_free(&x[i].b);
}

static uint32_t
hn_mod(const struct hnum *x, uint32_t m)
{
	if (x->big)
		return bn_mod(&x->b, m);
	return (uint32_t)(x->v % m);
}

/* x = x * m + a, moving to the bignum once 64 bits no longer hold it. */
static int
hn_muladd(struct hnum *x, uint32_t m, uint32_t a)
{
	if (!x->big) {
		if (x->v <= (UINT64_MAX - a) / m) {
			x->v = x->v * m + a;
			return 0;
		}
		if (bn_set_u64(&x->b, x->v) == -1)
			return -1;
		x->big = 1;
	}
	return bn_muladd(&x->b, m, a);
}

/* Decimal digits, no sign, any length. */
static enum hashids_rc
hn_parse(struct hnum *x, const char *s, size_t len)
{
	uint64_t v = 0;
	unsigned d;
	size_t	 i;
	int	 wide = 0;

	if (len == 0)
		return HASHIDS_EINPUT;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return HASHIDS_EINPUT;
		d = (unsigned)(s[i] - '0');
		if (!wide && v > (UINT64_MAX - d) / 10)
			wide = 1;
		if (!wide)
			v = v * 10 + d;
	}
	if (!wide) {
		x->v = v;
		return HASHIDS_OK;
	}
	if (bn_from_dec(&x->b, s, len) == -1)
		return HASHIDS_ENOMEM;
	x->big = 1;
	return HASHIDS_OK;
}

/* util.ts toAlphabet(): the digits of x in base alen, pushed onto ret. */
static void
to_alphabet(const struct hnum *x, const uint32_t *alpha, size_t alen,
    struct cpvec *ret)
{
	struct bignum	 t;
	uint64_t	 v = x->v;
	size_t		 start = ret->len, i, j;
	uint32_t	 tmp;

	if (!x->big) {
		do {
			cv_push(ret, alpha[v % alen]);
			v /= alen;
		} while (v > 0);
	} else {
		bn_init(&t);
		if (bn_copy(&t, &x->b) == -1)
			ret->err = 1;
		else
			do {
				cv_push(ret, alpha[bn_divmod(&t, (uint32_t)alen)]);
			} while (!bn_is_zero(&t) && !ret->err);
		bn_free(&t);
	}
	if (ret->err)
		return;
	/* Pushed least significant first; the hash reads most first. */
	for (i = start, j = ret->len - 1; i < j; i++, j--) {
		tmp = ret->v[ret->off + i];
		ret->v[ret->off + i] = ret->v[ret->off + j];
		ret->v[ret->off + j] = tmp;
	}
}

/* The salt of each per-number shuffle: [lottery, ...salt, ...alphabet]. */
static void
make_key(uint32_t *key, const struct hashids *h, uint32_t lottery,
    const uint32_t *cur)
{
	size_t	 need = h->alen - 1, ns;

	/* shuffle() reads only the first alen - 1 entries of the buffer. */
	key[0] = lottery;
	ns = h->saltlen < need - 1 ? h->saltlen : need - 1;
	memcpy(key + 1, h->salt, ns * sizeof(uint32_t));
	memcpy(key + 1 + ns, cur, (need - 1 - ns) * sizeof(uint32_t));
}

/* The same for the decoder, whose alphabet is indexes into h->alpha. */
static void
make_key_idx(uint32_t *key, const struct hashids *h, uint32_t lottery,
    const uint32_t *idx)
{
	size_t	 need = h->alen - 1, ns, i;

	key[0] = lottery;
	ns = h->saltlen < need - 1 ? h->saltlen : need - 1;
	memcpy(key + 1, h->salt, ns * sizeof(uint32_t));
	for (i = 0; i < need - 1 - ns; i++)
		key[1 + ns + i] = h->alpha[idx[i]];
}

/*
 * hashids.ts _encode() steps after the numbers: guards, then alphabet
 * halves around the hash until it is min_length long.
 */
static void
pad(const struct hashids *h, uint64_t idint, uint32_t *cur, uint32_t *key,
    unsigned min_length, struct cpvec *ret)
{
	size_t	 half = h->alen / 2, excess;
	uint32_t g;

	if (ret->len < min_length) {
		g = h->guards[(idint + cv_at(ret, 0)) % h->glen];
		cv_prepend(ret, &g, 1);
		if (ret->len < min_length && !ret->err) {
			g = h->guards[(idint + cv_at(ret, 2)) % h->glen];
			cv_push(ret, g);
		}
	}
	while (ret->len < min_length && !ret->err) {
		memcpy(key, cur, h->alen * sizeof(uint32_t));
		shuffle(cur, h->alen, key, h->alen);
		cv_prepend(ret, cur + half, h->alen - half);
		cv_append(ret, cur, half);
		if (ret->len > min_length) {
			excess = ret->len - min_length;
			ret->off += excess / 2;
			ret->len = min_length;
		}
	}
}

/*
 * The separator after a number: seps[number % (first digit's code point
 * + i) % seps.length].  The modulus is 0 only for an alphabet holding
 * U+0000 that starts the first number; hashids.js then gets NaN (a
 * plain number: the separator is undefined, a hole) or throws (BigInt).
 */
static enum hashids_rc
add_sep(const struct hashids *h, const struct hnum *x, uint64_t charcode,
    struct cpvec *ret)
{
	if (charcode == 0) {
		if (x->big || x->v > JS_MAX_SAFE)
			return HASHIDS_ETHROWS;
		cv_push(ret, CP_HOLE);
		return HASHIDS_OK;
	}
	/* Bounded by the caps: code point + index < 2^32. */
	cv_push(ret, h->seps[hn_mod(x, (uint32_t)charcode) % h->slen]);
	return HASHIDS_OK;
}

/* numbersIdInt: it picks the lottery character and the guards. */
static uint64_t
id_int(const struct hnum *nums, size_t n)
{
	uint64_t idint = 0;
	size_t	 i;

	for (i = 0; i < n; i++)
		idint += hn_mod(&nums[i], (uint32_t)(i + MODULO_PART));
	return idint;
}

/* hashids.ts _encode(), into code points. */
static enum hashids_rc
encode_cps(const struct hashids *h, const struct hnum *nums, size_t n,
    unsigned min_length, struct cpvec *ret)
{
	uint32_t stack_cur[STACK_CPS], stack_key[STACK_CPS];
	uint32_t *cur, *key, lottery;
	uint64_t idint = id_int(nums, n);
	size_t	 i, start;
	enum hashids_rc rc = HASHIDS_ENOMEM;

	cur = scratch(stack_cur, STACK_CPS, h->alen);
	key = scratch(stack_key, STACK_CPS, h->alen);
	if (cur == NULL || key == NULL)
		goto out;
	lottery = h->alpha[idint % h->alen];
	memcpy(cur, h->alpha, h->alen * sizeof(uint32_t));
	cv_push(ret, lottery);
	for (i = 0; i < n && !ret->err; i++) {
		make_key(key, h, lottery, cur);
		shuffle(cur, h->alen, key, h->alen - 1);
		start = ret->len;
		to_alphabet(&nums[i], cur, h->alen, ret);
		if (i + 1 < n && !ret->err &&
		    (rc = add_sep(h, &nums[i], cv_at(ret, start) + (uint64_t)i,
		    ret)) != HASHIDS_OK)
			goto out;
	}
	if (!ret->err)
		pad(h, idint, cur, key, min_length, ret);
	rc = ret->err ? HASHIDS_ENOMEM : HASHIDS_OK;
out:
	scratch_free(cur, stack_cur);
	scratch_free(key, stack_key);
	return rc;
}

static enum hashids_rc
put_utf8(const struct cpvec *c, struct buf *out)
{
	size_t	 i;
	char	*o;

	if (c->len > SIZE_MAX / UTF8_MAX ||
	    buf_reserve(out, c->len * UTF8_MAX) == -1)
		return HASHIDS_ENOMEM;
	o = out->data + out->len;
	/* utf8_put() writes nothing for CP_HOLE, as join('') does. */
	for (i = 0; i < c->len; i++)
		o += utf8_put(cv_at(c, i), o);
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return HASHIDS_OK;
}

static enum hashids_rc
encode_nums(const struct hashids *h, const struct hnum *nums, size_t n,
    unsigned min_length, struct buf *out)
{
	struct cpvec	 ret;
	enum hashids_rc rc;

	if (n == 0)
		return HASHIDS_EINPUT;
	if (n > HASHIDS_MAX_NUMBERS || min_length > HASHIDS_MAX_MIN_LENGTH)
		return HASHIDS_ERANGE;
	cv_init(&ret);
	if ((rc = encode_cps(h, nums, n, min_length, &ret)) == HASHIDS_OK)
		rc = put_utf8(&ret, out);
	cv_free(&ret);
	return rc;
}

enum hashids_rc
hashids_encode_u64(const struct hashids *h, const uint64_t *nums, size_t n,
    unsigned min_length, struct buf *out)
{
	struct hnum	 stack[32], *x;
	size_t		 i;
	enum hashids_rc rc;

	if (n == 0)
		return HASHIDS_EINPUT;
	if (n > HASHIDS_MAX_NUMBERS)
		return HASHIDS_ERANGE;
	if (n <= 32)
		x = stack;
	else if ((x = calloc(n, sizeof(*x))) == NULL)
		return HASHIDS_ENOMEM;
	for (i = 0; i < n; i++) {
		hn_init(&x[i]);
		x[i].v = nums[i];
	}
	rc = encode_nums(h, x, n, min_length, out);
	if (x != stack)
		free(x);
	return rc;
}

enum hashids_rc
hashids_encode(const struct hashids *h, const char *const *nums,
    const size_t *lens, size_t n, unsigned min_length, struct buf *out)
{
	struct hnum	 stack[32], *x;
	size_t		 i;
	enum hashids_rc rc = HASHIDS_OK;

	if (n == 0)
		return HASHIDS_EINPUT;
	if (n > HASHIDS_MAX_NUMBERS)
		return HASHIDS_ERANGE;
	if (n <= 32)
		x = stack;
	else if ((x = calloc(n, sizeof(*x))) == NULL)
		return HASHIDS_ENOMEM;
	for (i = 0; i < n; i++)
		hn_init(&x[i]);
	for (i = 0; i < n && rc == HASHIDS_OK; i++)
		rc = hn_parse(&x[i], nums[i], lens[i]);
	if (rc == HASHIDS_OK)
		rc = encode_nums(h, x, n, min_length, out);
	hn_free_all(x, n);
	if (x != stack)
		free(x);
	return rc;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum hashids_rc
hashids_encode_hex(const struct hashids *h, const char *hex, size_t len,
    unsigned min_length, struct buf *out)
{
	uint64_t stack[64], *nums, v;
	size_t	 i, n, k, end;
	enum hashids_rc rc;
	int	 d;

	if (len == 0)
		return HASHIDS_EINPUT;
	if (len > HASHIDS_MAX_BYTES)
		return HASHIDS_ERANGE;
	for (i = 0; i < len; i++)
		if (hexval(hex[i]) == -1)
			return HASHIDS_EINPUT;
	n = (len + HEX_CHUNK - 1) / HEX_CHUNK;
	if (n <= 64)
		nums = stack;
	else if ((nums = calloc(n, sizeof(*nums))) == NULL)
		return HASHIDS_ENOMEM;
	/* parseInt('1' + part, 16): at most 13 hex digits, exact. */
	for (k = 0; k < n; k++) {
		end = (k + 1) * HEX_CHUNK < len ? (k + 1) * HEX_CHUNK : len;
		v = 1;
		for (i = k * HEX_CHUNK; i < end; i++) {
			d = hexval(hex[i]);
			v = v << 4 | (uint64_t)d;
		}
		nums[k] = v;
	}
	rc = hashids_encode_u64(h, nums, n, min_length, out);
	if (nums != stack)
		free(nums);
	return rc;
}

/*
 * The part of the hash that holds the numbers, as _decode() finds it:
 * id.split(guards) gives g + 1 parts; with 2 or 3 parts the second one,
 * else the first.  Classes of every code point go to cls; a code point
 * outside the set-up makes the hash invalid (isValidId() is false, or
 * the re-encoding, which only uses the set-up's characters, differs).
 */
static int
find_part(const struct hashids *h, const uint32_t *cps, uint32_t *cls,
    size_t n, size_t *from, size_t *to)
{
	size_t	 i, g = 0, g1 = n, g2 = n;

	for (i = 0; i < n; i++) {
		if ((cls[i] = classify(h, cps[i])) == CLS_NONE)
			return HASHIDS_INVALID;
		if (cls[i] != CLS_GUARD)
			continue;
		if (g == 0)
			g1 = i;
		else if (g == 1)
			g2 = i;
		g++;
	}
	if (g == 1 || g == 2) {
		*from = g1 + 1;
		*to = g2;
	} else {
		*from = 0;
		*to = g1;
	}
	return *from < *to ? HASHIDS_OK : HASHIDS_INVALID;
}

/*
 * A hash being decoded: its code points and their classes, the part that
 * holds the numbers (find_part()), the numbers, and for the linear check
 * the cap and the re-encoding, rebuilt as the numbers are read.
 */
struct dec {
	uint32_t	*cps;
	uint32_t	*cls;
	size_t		 len;
	size_t		 from, to;	/* cps[from] is the lottery character */
	struct hnum	*nums;
	size_t		 n;
	uint32_t	*cur;		/* the last number's alphabet */
	const struct bignum *cap;	/* NULL: the oracle, uncapped */
	struct cpvec	 ret;
};

/*
 * 10^HASHIDS_MAX_DIGITS, the least number decode refuses: built once and
 * kept for the life of the process.
 */
static struct bignum	 cap_num;

static const struct bignum *
cap_number(void)
{
	char	 s[HASHIDS_MAX_DIGITS + 1];

	if (cap_num.n == 0) {
		memset(s, '0', sizeof(s));
		s[0] = '1';
		if (bn_from_dec(&cap_num, s, sizeof(s)) == -1) {
			bn_free(&cap_num);
			return NULL;
		}
	}
	return &cap_num;
}

/*
 * fromAlphabet() of one segment, from cps[*k] to the next separator, in
 * 32-bit chunks of digits: one multiply-add of the number per chunk.
 * With a cap, reading stops as soon as the number has more limbs than
 * the cap, so that one long segment costs no more than the cap allows
 * (reading is quadratic in a segment's length).
 */
static enum hashids_rc
read_number(const struct hashids *h, const struct dec *d, const uint32_t *inv,
    size_t *k, struct hnum *x)
{
	uint32_t chunk, scale, alen = (uint32_t)h->alen, most = UINT32_MAX / alen;
	size_t	 i = *k;

	while (i < d->to && d->cls[i] != CLS_SEP) {
		for (chunk = 0, scale = 1; i < d->to && d->cls[i] != CLS_SEP &&
		    scale <= most; i++) {
			chunk = chunk * alen + inv[d->cls[i] - CLS_ALPHA];
			scale *= alen;
		}
		if (hn_muladd(x, scale, chunk) == -1)
			return HASHIDS_ENOMEM;
		if (d->cap != NULL && x->big && x->b.n > d->cap->n)
			return HASHIDS_INVALID;
	}
	*k = i;
	if (d->cap != NULL && x->big && bn_cmp(&x->b, d->cap) >= 0)
		return HASHIDS_INVALID;
	return HASHIDS_OK;
}

/*
 * The linear check, one segment cps[start .. end) of number j: if it is
 * canonical (not empty, and no leading zero digit unless alone), it is
 * exactly what toAlphabet() makes of its number in the same alphabet, so
 * the re-encoding takes it as it is.  One that is not can never be in a
 * hash that re-encodes to itself.  Then the separator: one remainder.
 */
static enum hashids_rc
rebuild(const struct hashids *h, struct dec *d, size_t start, size_t end,
    const uint32_t *inv, size_t j)
{
	if (start == end ||
	    (end - start > 1 && inv[d->cls[start] - CLS_ALPHA] == 0))
		return HASHIDS_INVALID;
	cv_append(&d->ret, d->cps + start, end - start);
	/* A re-encoding that throws makes decode() throw: invalid too. */
	if (end < d->to && add_sep(h, &d->nums[j], d->cps[start] + (uint64_t)j,
	    &d->ret) != HASHIDS_OK)
		return HASHIDS_INVALID;
	return d->ret.err ? HASHIDS_ENOMEM : HASHIDS_OK;
}

/*
 * The numbers between the separators after the lottery character, each
 * read in the alphabet as shuffled for it.  The part holds no guards, so
 * every non-separator is an alphabet character.  Leaves the last
 * alphabet in d->cur, as the encoder's padding starts from it.
 */
static enum hashids_rc
read_numbers(const struct hashids *h, struct dec *d)
{
	uint32_t stack_idx[STACK_CPS], stack_key[STACK_CPS], stack_inv[STACK_CPS];
	uint32_t *idx, *key, *inv, lottery = d->cps[d->from];
	size_t	 i, k, start, j;
	enum hashids_rc rc = HASHIDS_ENOMEM;

	idx = scratch(stack_idx, STACK_CPS, h->alen);
	key = scratch(stack_key, STACK_CPS, h->alen);
	inv = scratch(stack_inv, STACK_CPS, h->alen);
	if (idx == NULL || key == NULL || inv == NULL)
		goto out;
	for (i = 0; i < h->alen; i++)
		idx[i] = (uint32_t)i;
	if (d->cap != NULL)
		cv_push(&d->ret, lottery);
	for (k = d->from + 1, j = 0;; k++, j++) {
		make_key_idx(key, h, lottery, idx);
		shuffle(idx, h->alen, key, h->alen - 1);
		for (i = 0; i < h->alen; i++)
			inv[idx[i]] = (uint32_t)i;
		start = k;
		if ((rc = read_number(h, d, inv, &k, &d->nums[j])) != HASHIDS_OK ||
		    (d->cap != NULL &&
		    (rc = rebuild(h, d, start, k, inv, j)) != HASHIDS_OK))
			goto out;
		if (k >= d->to)
			break;
	}
	for (i = 0; i < h->alen; i++)
		d->cur[i] = h->alpha[idx[i]];
	rc = HASHIDS_OK;
out:
	scratch_free(idx, stack_idx);
	scratch_free(key, stack_key);
	scratch_free(inv, stack_inv);
	return rc;
}

/* Take back a partial answer: the caller sees all or nothing. */
static void
truncate_buf(struct buf *b, size_t len)
{
	b->len = len;
	if (b->data != NULL)
		b->data[len] = '\0';
}

/* A re-encoding against the hash; its holes are not in the hash. */
static enum hashids_rc
same_cps(const struct cpvec *ret, const uint32_t *cps, size_t ncps)
{
	size_t	 i, k = 0;

	for (i = 0; i < ret->len; i++) {
		if (cv_at(ret, i) == CP_HOLE)
			continue;
		if (k >= ncps || cv_at(ret, i) != cps[k++])
			return HASHIDS_INVALID;
	}
	return k == ncps ? HASHIDS_OK : HASHIDS_INVALID;
}

/*
 * The linear check's end.  Only numbers that pick the hash's own lottery
 * character can re-encode to it, and for those the rebuilt re-encoding
 * is the real one (each alphabet follows from the lottery character);
 * then the guards and the padding, as encode adds them, and compare.
 */
static enum hashids_rc
check_rebuilt(const struct hashids *h, struct dec *d, unsigned min_length)
{
	uint32_t stack_key[STACK_CPS], *key;
	uint64_t idint = id_int(d->nums, d->n);
	enum hashids_rc rc;

	if (h->alpha[idint % h->alen] != d->cps[d->from])
		return HASHIDS_INVALID;
	if ((key = scratch(stack_key, STACK_CPS, h->alen)) == NULL)
		return HASHIDS_ENOMEM;
	pad(h, idint, d->cur, key, min_length, &d->ret);
	rc = d->ret.err ? HASHIDS_ENOMEM : same_cps(&d->ret, d->cps, d->len);
	scratch_free(key, stack_key);
	return rc;
}

/* The oracle: hashids.js's own check, encode the numbers and compare. */
static enum hashids_rc
same_hash(const struct hashids *h, const struct dec *d, unsigned min_length)
{
	struct cpvec	 ret;
	enum hashids_rc rc;

	cv_init(&ret);
	/* A re-encoding that throws makes decode() throw: invalid too. */
	if ((rc = encode_cps(h, d->nums, d->n, min_length, &ret)) ==
	    HASHIDS_ETHROWS)
		rc = HASHIDS_INVALID;
	if (rc == HASHIDS_OK)
		rc = same_cps(&ret, d->cps, d->len);
	cv_free(&ret);
	return rc;
}

/*
 * hashids.ts _decode(): the numbers of a valid hash into *numsp.  linear:
 * the check of hashids_decode(), else the oracle's (hashids.h).
 */
static enum hashids_rc
decode_nums(const struct hashids *h, const char *hash, size_t len,
    unsigned min_length, int linear, struct hnum **numsp, size_t *np)
{
	uint32_t stack_cps[STACK_CPS], stack_cls[STACK_CPS], stack_cur[STACK_CPS];
	struct dec	 d;
	size_t		 i;
	enum hashids_rc rc = HASHIDS_ENOMEM;

	*numsp = NULL;
	*np = 0;
	if (len == 0 || len > HASHIDS_MAX_BYTES)
		return HASHIDS_INVALID;
	memset(&d, 0, sizeof(d));
	cv_init(&d.ret);
	d.cps = scratch(stack_cps, STACK_CPS, len);
	d.cls = scratch(stack_cls, STACK_CPS, len);
	d.cur = scratch(stack_cur, STACK_CPS, h->alen);
	if (d.cps == NULL || d.cls == NULL || d.cur == NULL ||
	    (linear && (d.cap = cap_number()) == NULL))
		goto out;
	rc = HASHIDS_INVALID;
	/* An encoding is never shorter than min_length, less one hole. */
	if ((d.len = utf8_decode(hash, len, d.cps)) == (size_t)-1 ||
	    d.len + 1 < min_length ||
	    (rc = find_part(h, d.cps, d.cls, d.len, &d.from, &d.to)) !=
	    HASHIDS_OK)
		goto out;
	for (d.n = 1, i = d.from + 1; i < d.to; i++)
		if (d.cls[i] == CLS_SEP)
			d.n++;
	rc = HASHIDS_ENOMEM;
	if ((d.nums = calloc(d.n, sizeof(*d.nums))) == NULL)
		goto out;
	if ((rc = read_numbers(h, &d)) == HASHIDS_OK)
		rc = linear ? check_rebuilt(h, &d, min_length) :
		    same_hash(h, &d, min_length);
	if (rc == HASHIDS_OK) {
		*numsp = d.nums;
		*np = d.n;
		d.nums = NULL;
	}
out:
	if (d.nums != NULL) {
		hn_free_all(d.nums, d.n);
		free(d.nums);
	}
	scratch_free(d.cps, stack_cps);
	scratch_free(d.cls, stack_cls);
	scratch_free(d.cur, stack_cur);
	cv_free(&d.ret);
	return rc;
}

/* After writing decoded numbers: undo a write that ran out of memory,
 * and free the numbers. */
static enum hashids_rc
decoded(struct buf *out, size_t start, struct hnum *nums, size_t n,
    enum hashids_rc rc)
{
	if (out->err) {
		rc = HASHIDS_ENOMEM;
		truncate_buf(out, start);
	}
	hn_free_all(nums, n);
	free(nums);
	return rc;
}

static enum hashids_rc
decode_dec(const struct hashids *h, const char *hash, size_t len,
    unsigned min_length, int linear, struct buf *out)
{
	struct hnum	*nums;
	size_t		 n, i, start = out->len;
	enum hashids_rc rc;

	if ((rc = decode_nums(h, hash, len, min_length, linear, &nums, &n)) !=
	    HASHIDS_OK)
		return rc;
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(out, ',');
		if (nums[i].big)
			bn_to_dec(&nums[i].b, out);
		else
			buf_add_u64(out, nums[i].v);
	}
	return decoded(out, start, nums, n, rc);
}

enum hashids_rc
hashids_decode(const struct hashids *h, const char *hash, size_t len,
    unsigned min_length, struct buf *out)
{
	return decode_dec(h, hash, len, min_length, 1, out);
}

enum hashids_rc
hashids_decode_oracle(const struct hashids *h, const char *hash, size_t len,
    unsigned min_length, struct buf *out)
{
	return decode_dec(h, hash, len, min_length, 0, out);
}

enum hashids_rc
hashids_decode_hex(const struct hashids *h, const char *hash, size_t len,
    unsigned min_length, struct buf *out)
{
	struct hnum	*nums;
	size_t		 n, i, at, start = out->len;
	char		 tmp[24];
	enum hashids_rc rc;

	if ((rc = decode_nums(h, hash, len, min_length, 1, &nums, &n)) !=
	    HASHIDS_OK)
		return rc;
	/* number.toString(16).slice(1): the first digit goes, unchecked. */
	for (i = 0; i < n && !out->err; i++) {
		if (!nums[i].big) {
			snprintf(tmp, sizeof(tmp), "%" PRIx64, nums[i].v);
			buf_adds(out, tmp + 1);
			continue;
		}
		at = out->len;
		if (bn_to_hex(&nums[i].b, out) == 0) {
			memmove(out->data + at, out->data + at + 1,
			    out->len - at);
			out->len--;
		}
	}
	return decoded(out, start, nums, n, rc);
}

/*
 * keepUnique(): the code points of a in first-seen order, through an
 * open-addressing set so a long alphabet is not quadratic.
 */
static size_t
unique(const uint32_t *a, size_t n, uint32_t *out)
{
	uint32_t *set;
	size_t	  size = 64, i, slot, k = 0;

	while (size < 2 * n)
		size *= 2;
	if ((set = calloc(size, sizeof(*set))) == NULL)
		return (size_t)-1;
	for (i = 0; i < n; i++) {
		/* Stored as cp + 1 so that 0 marks an empty slot. */
		slot = (size_t)(a[i] * 2654435761U) & (size - 1);
		while (set[slot] != 0 && set[slot] != a[i] + 1)
			slot = (slot + 1) & (size - 1);
		if (set[slot] != 0)
			continue;
		set[slot] = a[i] + 1;
		out[k++] = a[i];
	}
	free(set);
	return k;
}

static void
put_cps(struct buf *b, const uint32_t *cps, size_t n)
{
	char	 tmp[UTF8_MAX];
	size_t	 i;

	for (i = 0; i < n; i++)
		buf_add(b, tmp, utf8_put(cps[i], tmp));
}

static int
cmp_cpcls(const void *a, const void *b)
{
	const struct cpcls *x = a, *y = b;

	return x->cp < y->cp ? -1 : x->cp > y->cp;
}

static void
set_class(struct hashids *h, const uint32_t *cps, size_t n, int base,
    uint32_t cls)
{
	uint32_t c;
	size_t	 i;

	for (i = 0; i < n; i++) {
		c = base ? CLS_ALPHA + (uint32_t)i : cls;
		if (cps[i] < 128)
			h->ascii[cps[i]] = c;
		else {
			h->wide[h->nwide].cp = cps[i];
			h->wide[h->nwide++].cls = c;
		}
	}
}

/* The decoder's lookup of what each code point is. */
static void
build_classes(struct hashids *h)
{
	memset(h->ascii, 0, sizeof(h->ascii));
	h->nwide = 0;
	set_class(h, h->alpha, h->alen, 1, 0);
	set_class(h, h->seps, h->slen, 0, CLS_SEP);
	set_class(h, h->guards, h->glen, 0, CLS_GUARD);
	qsort(h->wide, h->nwide, sizeof(h->wide[0]), cmp_cpcls);
}

/*
 * The constructor's split of the unique alphabet u (nu code points) into
 * alphabet, separators and guards; h->salt is set, h's arrays have room.
 */
static void
split_alphabet(struct hashids *h, const uint32_t *u, size_t nu)
{
	static const char dseps[] = HASHIDS_DEFAULT_SEPS;
	unsigned char	 inu[128] = { 0 }, issep[128] = { 0 };
	size_t		 i, want, diff, gc;

	for (i = 0; i < nu; i++)
		if (u[i] < 128)
			inu[u[i]] = 1;
	for (i = 0; dseps[i] != '\0'; i++)
		issep[(unsigned char)dseps[i]] = 1;
	/* withoutChars(unique, seps) and onlyChars(seps, unique). */
	h->alen = h->slen = 0;
	for (i = 0; i < nu; i++)
		if (u[i] >= 128 || !issep[u[i]])
			h->alpha[h->alen++] = u[i];
	for (i = 0; dseps[i] != '\0'; i++)
		if (inu[(unsigned char)dseps[i]])
			h->seps[h->slen++] = (unsigned char)dseps[i];
	shuffle(h->seps, h->slen, h->salt, h->saltlen);
	/* alphabet.length / seps.length > 3.5, and Math.ceil(len / 3.5). */
	if (h->slen == 0 || 2 * h->alen > 7 * h->slen) {
		want = (2 * h->alen + 6) / 7;
		if (want > h->slen) {
			diff = want - h->slen;
			memcpy(h->seps + h->slen, h->alpha, diff * sizeof(uint32_t));
			h->slen += diff;
			h->alen -= diff;
			memmove(h->alpha, h->alpha + diff, h->alen * sizeof(uint32_t));
		}
	}
	shuffle(h->alpha, h->alen, h->salt, h->saltlen);
	gc = (h->alen + GUARD_DIV - 1) / GUARD_DIV;
	if (h->alen < 3) {
		h->glen = gc;
		memcpy(h->guards, h->seps, gc * sizeof(uint32_t));
		h->slen -= gc;
		memmove(h->seps, h->seps + gc, h->slen * sizeof(uint32_t));
	} else {
		h->glen = gc;
		memcpy(h->guards, h->alpha, gc * sizeof(uint32_t));
		h->alen -= gc;
		memmove(h->alpha, h->alpha + gc, h->alen * sizeof(uint32_t));
	}
}

static enum hashids_rc
setup_fail(struct hashids *h, struct buf *err, enum hashids_rc rc,
    const char *msg)
{
	if (err != NULL && msg != NULL)
		buf_adds(err, msg);
	hashids_free(h);
	return rc;
}

enum hashids_rc
hashids_new(struct hashids **hp, const char *salt, size_t saltlen,
    const char *alphabet, size_t alphabetlen, struct buf *err)
{
	struct hashids	*h;
	uint32_t	*a = NULL;
	size_t		 na, nu;

	*hp = NULL;
	if (alphabet == NULL) {
		alphabet = HASHIDS_DEFAULT_ALPHABET;
		alphabetlen = sizeof(HASHIDS_DEFAULT_ALPHABET) - 1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return HASHIDS_ENOMEM;
	if (saltlen > HASHIDS_MAX_BYTES || alphabetlen > HASHIDS_MAX_BYTES)
		return setup_fail(h, err, HASHIDS_ERANGE,
		    "Hashids: salt or alphabet too long");
	if ((h->saltlen = utf8_count(salt, saltlen)) == (size_t)-1 ||
	    (na = utf8_count(alphabet, alphabetlen)) == (size_t)-1)
		return setup_fail(h, err, HASHIDS_EUTF8,
		    "Hashids: salt or alphabet is not valid UTF-8");
	/* alpha, seps (+ the 14 defaults), guards, and the salt. */
	h->alpha = calloc(3 * na + 14 + h->saltlen + 1, sizeof(uint32_t));
	h->wide = calloc(na + 1, sizeof(*h->wide));
	a = calloc(2 * na + 1, sizeof(uint32_t));
	if (h->alpha == NULL || h->wide == NULL || a == NULL) {
		free(a);
		return setup_fail(h, err, HASHIDS_ENOMEM, NULL);
	}
	h->seps = h->alpha + na;
	h->guards = h->seps + na + 14;
	h->salt = h->guards + na;
	utf8_decode(salt, saltlen, h->salt);
	utf8_decode(alphabet, alphabetlen, a);
	if ((nu = unique(a, na, a + na)) == (size_t)-1) {
		free(a);
		return setup_fail(h, err, HASHIDS_ENOMEM, NULL);
	}
	if (nu < HASHIDS_MIN_ALPHABET) {
		if (err != NULL) {
			buf_adds(err, "Hashids: alphabet must contain at least "
			    "16 unique characters, provided: ");
			put_cps(err, a + na, nu);
		}
		free(a);
		return setup_fail(h, NULL, HASHIDS_EALPHABET, NULL);
	}
	split_alphabet(h, a + na, nu);
	free(a);
	/* Never happens with 16 unique characters; toAlphabet needs 2. */
	if (h->alen < 2 || h->slen == 0 || h->glen == 0)
		return setup_fail(h, err, HASHIDS_EALPHABET, NULL);
	build_classes(h);
	*hp = h;
	return HASHIDS_OK;
}

void
hashids_free(struct hashids *h)
{
	if (h == NULL)
		return;
	free(h->alpha);
	free(h->wide);
	free(h);
}

/*
 * The cache: a few dozen set-ups, least recently used goes first.  The
 * key is the salt and the alphabet as given (bytes), with a flag for the
 * default alphabet.
 */
struct centry {
	uint64_t	 hash;
	uint64_t	 used;
	char		*key;		/* salt bytes, then alphabet bytes */
	size_t		 saltlen;
	size_t		 alphalen;
	int		 dflt;		/* alphabet NULL */
	struct hashids	*h;
};

static struct centry	 cache[CACHE_SLOTS];
static uint64_t		 cache_tick;
static struct hashids	*cache_default;	/* empty salt, default alphabet */

static uint64_t
fnv1a(uint64_t hv, const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		hv ^= (unsigned char)p[i];
		hv *= 0x100000001b3ULL;
	}
	return hv;
}

static int
centry_is(const struct centry *e, uint64_t hv, const char *salt,
    size_t saltlen, const char *alphabet, size_t alphalen)
{
	if (e->h == NULL || e->hash != hv || e->saltlen != saltlen ||
	    e->dflt != (alphabet == NULL))
		return 0;
	if (alphabet != NULL && e->alphalen != alphalen)
		return 0;
	if (saltlen > 0 && memcmp(e->key, salt, saltlen) != 0)
		return 0;
	return alphabet == NULL || alphalen == 0 ||
	    memcmp(e->key + saltlen, alphabet, alphalen) == 0;
}

static int
cache_put(struct centry *e, uint64_t hv, const char *salt, size_t saltlen,
    const char *alphabet, size_t alphalen, struct hashids *h)
{
	char	*key;

	if (alphabet == NULL)
		alphalen = 0;
	if ((key = malloc(saltlen + alphalen + 1)) == NULL)
		return -1;
	if (saltlen > 0)
		memcpy(key, salt, saltlen);
	if (alphalen > 0)
		memcpy(key + saltlen, alphabet, alphalen);
	hashids_free(e->h);
	free(e->key);
	e->hash = hv;
	e->used = ++cache_tick;
	e->key = key;
	e->saltlen = saltlen;
	e->alphalen = alphalen;
	e->dflt = alphabet == NULL;
	e->h = h;
	return 0;
}

enum hashids_rc
hashids_get(const struct hashids **hp, const char *salt, size_t saltlen,
    const char *alphabet, size_t alphalen, struct buf *err)
{
	struct centry	*e, *victim = &cache[0];
	struct hashids	*h;
	uint64_t	 hv;
	size_t		 i;
	enum hashids_rc rc;

	*hp = NULL;
	if (saltlen == 0 && alphabet == NULL) {
		if (cache_default == NULL && (rc = hashids_new(&cache_default,
		    "", 0, NULL, 0, err)) != HASHIDS_OK)
			return rc;
		*hp = cache_default;
		return HASHIDS_OK;
	}
	hv = fnv1a(0xcbf29ce484222325ULL, salt, saltlen);
	hv = fnv1a(hv ^ (alphabet == NULL), alphabet, alphabet ? alphalen : 0);
	for (i = 0; i < CACHE_SLOTS; i++) {
		e = &cache[i];
		if (centry_is(e, hv, salt, saltlen, alphabet, alphalen)) {
			e->used = ++cache_tick;
			*hp = e->h;
			return HASHIDS_OK;
		}
		if (e->used < victim->used)
			victim = e;
	}
	if ((rc = hashids_new(&h, salt, saltlen, alphabet, alphalen, err)) !=
	    HASHIDS_OK)
		return rc;
	if (cache_put(victim, hv, salt, saltlen, alphabet, alphalen, h) == -1) {
		hashids_free(h);
		return HASHIDS_ENOMEM;
	}
	*hp = h;
	return HASHIDS_OK;
}

void
hashids_cache_clear(void)
{
	size_t	 i;

	for (i = 0; i < CACHE_SLOTS; i++) {
		hashids_free(cache[i].h);
		free(cache[i].key);
		memset(&cache[i], 0, sizeof(cache[i]));
	}
	hashids_free(cache_default);
	cache_default = NULL;
	cache_tick = 0;
}
