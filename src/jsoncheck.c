/*
 * jsoncheck.c: a strict RFC 8259 recogniser.  Recursive descent, with the
 * depth bounded so that no input can exhaust the stack.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "jsoncheck.h"
#include "utf8.h"

struct jc {
	const unsigned char *p, *e;
	int		 depth;
	int		 maxdepth;
	int		 nested;	/* a container past maxdepth */
};

static int	 value(struct jc *);

static void
ws(struct jc *j)
{
	while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
lit(struct jc *j, const char *word)
{
	size_t	 n = strlen(word);

	if ((size_t)(j->e - j->p) < n || memcmp(j->p, word, n) != 0)
		return 0;
	j->p += n;
	return 1;
}

static int
digits(struct jc *j)
{
	const unsigned char *start = j->p;

	while (j->p < j->e && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > start;
}

static int
number(struct jc *j)
{
	if (j->p < j->e && *j->p == '-')
		j->p++;
	if (j->p < j->e && *j->p == '0')
		j->p++;
	else if (!digits(j))
		return 0;
	if (j->p < j->e && *j->p == '.') {
		j->p++;
		if (!digits(j))
			return 0;
	}
	if (j->p < j->e && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->e && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!digits(j))
			return 0;
	}
	return 1;
}

static int
string(struct jc *j)
{
	uint32_t cp;
	size_t	 n, i;

	j->p++;				/* the opening quote */
	while (j->p < j->e) {
		if (*j->p == '"') {
			j->p++;
			return 1;
		}
		if (*j->p < 0x20)
			return 0;
		if (*j->p == '\\') {
			if (++j->p == j->e)
				return 0;
			if (*j->p == 'u') {
				for (i = 1; i <= 4; i++)
					if (j->p + i >= j->e ||
					    strchr("0123456789abcdefABCDEF",
					    j->p[i]) == NULL || j->p[i] == '\0')
						return 0;
				j->p += 5;
			} else if (strchr("\"\\/bfnrt", *j->p) != NULL &&
			    *j->p != '\0')
				j->p++;
			else
				return 0;
			continue;
		}
		if (*j->p < 0x80) {	/* ASCII, most of any body */
			j->p++;
			continue;
		}
		if ((n = utf8_next((const char *)j->p, (size_t)(j->e - j->p),
		    &cp)) == 0)
			return 0;
		j->p += n;
	}
	return 0;
}

/*
 * Past a string of a text already checked: to its closing quote, with no
 * second look at escapes or UTF-8.
 */
static int
skip_string(struct jc *j)
{
	const unsigned char *q;

	for (j->p++; j->p < j->e; j->p = q + 2) {
		q = j->p;
		while (q < j->e && *q != '"' && *q != '\\')
			q++;
		if (q == j->e)
			return 0;
		if (*q == '"') {
			j->p = q + 1;
			return 1;
		}
		if (q + 1 == j->e)
			return 0;
	}
	return 0;
}

/* Past a scalar of a text already checked; a container is walked. */
static int
skip_value(struct jc *j)
{
	if (j->p == j->e)
		return 0;
	if (*j->p == '{' || *j->p == '[')
		return value(j);
	if (*j->p == '"') {
		if (!skip_string(j))
			return 0;
	} else
		while (j->p < j->e && *j->p != ',' && *j->p != '}' &&
		    *j->p != ' ' && *j->p != '\t' && *j->p != '\n' &&
		    *j->p != '\r')
			j->p++;
	ws(j);
	return 1;
}

/* Members of an object (obj) or elements of an array, after the bracket. */
static int
container(struct jc *j, int obj)
{
	const unsigned char close = obj ? '}' : ']';

	if (++j->depth > j->maxdepth) {
		j->nested = 1;
		return 0;
	}
	j->p++;
	ws(j);
	if (j->p < j->e && *j->p == close) {
		j->p++;
		j->depth--;
		return 1;
	}
	for (;;) {
		if (obj) {
			if (j->p == j->e || *j->p != '"' || !string(j))
				return 0;
			ws(j);
			if (j->p == j->e || *j->p++ != ':')
				return 0;
		}
		if (!value(j))
			return 0;
		if (j->p == j->e)
			return 0;
		if (*j->p == close) {
			j->p++;
			j->depth--;
			return 1;
		}
		if (*j->p++ != ',')
			return 0;
		ws(j);
	}
}

static int
value(struct jc *j)
{
	int	 ok;

	ws(j);
	if (j->p == j->e)
		return 0;
	switch (*j->p) {
	case '{':
		ok = container(j, 1);
		break;
	case '[':
		ok = container(j, 0);
		break;
	case '"':
		ok = string(j);
		break;
	case 't':
		ok = lit(j, "true");
		break;
	case 'f':
		ok = lit(j, "false");
		break;
	case 'n':
		ok = lit(j, "null");
		break;
	default:
		ok = number(j);
		break;
	}
	ws(j);
	return ok;
}

int
json_check(const char *s, size_t len)
{
	struct jc j = { (const unsigned char *)s,
	    (const unsigned char *)s + len, 0, JSON_DEPTH_MAX, 0 };

	return len > 0 && value(&j) && j.p == j.e;
}

enum json_verdict
json_check_flat(const char *s, size_t len)
{
	struct jc j = { (const unsigned char *)s,
	    (const unsigned char *)s + len, 0, 1, 0 };

	/* Broken JSON is that first, whatever it nests. */
	if (!json_check(s, len))
		return JSON_BAD;
	ws(&j);
	if (j.p == j.e || *j.p != '{')
		return JSON_BAD;
	if (value(&j) && j.p == j.e)
		return JSON_FLAT;
	return JSON_NESTED;
}

static int	 hex4(const char *, unsigned *);

/*
 * The code point of the escape at lit[i] (a backslash), in *cp; the length
 * of the escape, or 0 if it is a \u escape of a lone surrogate.
 */
static size_t
unescape(const char *lit, size_t len, size_t i, uint32_t *cp)
{
	unsigned u, lo;

	switch (lit[i + 1]) {
	case 'b': *cp = '\b'; return 2;
	case 'f': *cp = '\f'; return 2;
	case 'n': *cp = '\n'; return 2;
	case 'r': *cp = '\r'; return 2;
	case 't': *cp = '\t'; return 2;
	case 'u': break;
	default: *cp = (unsigned char)lit[i + 1]; return 2;
	}
	if (i + 6 > len || hex4(lit + i + 2, &u) == -1 ||
	    (u >= 0xdc00 && u <= 0xdfff))
		return 0;
	if (u < 0xd800 || u > 0xdbff) {
		*cp = u;
		return 6;
	}
	if (i + 12 > len || lit[i + 6] != '\\' || lit[i + 7] != 'u' ||
	    hex4(lit + i + 8, &lo) == -1 || lo < 0xdc00 || lo > 0xdfff)
		return 0;
	*cp = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
	return 12;
}

int
json_string_decode(const char *lit, size_t len, char *out, size_t *outlen)
{
	size_t	 i, o = 0, k;
	uint32_t cp;

	for (i = 1; i + 1 < len; ) {
		if (lit[i] != '\\') {
			out[o++] = lit[i++];
			continue;
		}
		if ((k = unescape(lit, len - 1, i, &cp)) == 0) {
			*outlen = 0;
			return 1;
		}
		o += utf8_put(cp, out + o);
		i += k;
	}
	*outlen = o;
	return 0;
}

/* Is the key literal k (quotes included) the name, escapes decoded? */
static int
name_is(const unsigned char *k, size_t klen, const char *name, size_t nlen)
{
	char	 dec[128];
	size_t	 dlen;

	if (memchr(k, '\\', klen) == NULL)
		return klen == nlen + 2 && memcmp(k + 1, name, nlen) == 0;
	if (klen > sizeof(dec) || json_string_decode((const char *)k, klen,
	    dec, &dlen) != 0)
		return 0;
	return dlen == nlen && memcmp(dec, name, nlen) == 0;
}

int
json_int(const char *lit, size_t len, int64_t *out)
{
	size_t	 i = lit[0] == '-';
	uint64_t v = 0;
	int	 over = 0;

	if (i == len)
		return 0;
	for (; i < len; i++) {
		if (lit[i] < '0' || lit[i] > '9')
			return 0;
		if (v > (UINT64_C(1) << 63) / 10)
			over = 1;
		else
			v = v * 10 + (uint64_t)(lit[i] - '0');
	}
	if (lit[0] == '-')
		*out = over || v >= (UINT64_C(1) << 63) ? INT64_MIN :
		    -(int64_t)v;
	else
		*out = over || v > INT64_MAX ? INT64_MAX : (int64_t)v;
	return 1;
}

int
json_member(const char *s, size_t len, const char *name, const char **val,
    size_t *vlen)
{
	struct jc	 j = { (const unsigned char *)s,
	    (const unsigned char *)s + len, 0, JSON_DEPTH_MAX, 0 };
	const unsigned char *ks, *vs, *ve;
	size_t		 nlen = strlen(name), klen;
	int		 found = 0;

	ws(&j);
	if (j.p == j.e || *j.p != '{')
		return 0;
	j.depth = 1;
	j.p++;
	for (;;) {
		ws(&j);
		if (j.p == j.e || *j.p != '"')
			return found;
		ks = j.p;
		if (!skip_string(&j))
			return found;
		klen = (size_t)(j.p - ks);
		ws(&j);
		if (j.p == j.e || *j.p++ != ':')
			return found;
		ws(&j);
		vs = j.p;
		if (!skip_value(&j))
			return found;
		for (ve = j.p; ve > vs && (ve[-1] == ' ' || ve[-1] == '\t' ||
		    ve[-1] == '\n' || ve[-1] == '\r'); ve--)
			;
		if (name_is(ks, klen, name, nlen)) {
			*val = (const char *)vs;
			*vlen = (size_t)(ve - vs);
			found = 1;
		}
		if (j.p == j.e || *j.p++ != ',')
			return found;
	}
}

static int
hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	int	 i, d;

	for (i = 0; i < 4; i++) {
		d = p[i];
		if (d >= '0' && d <= '9')
			d -= '0';
		else if ((d | 0x20) >= 'a' && (d | 0x20) <= 'f')
			d = (d | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | (unsigned)d;
	}
	*out = v;
	return 0;
}

int
json_lone_surrogate(const char *lit, size_t len)
{
	size_t	 i, k;
	uint32_t cp;

	for (i = 0; i + 1 < len; i++) {
		if (lit[i] != '\\')
			continue;
		if ((k = unescape(lit, len, i, &cp)) == 0)
			return 1;
		i += k - 1;
	}
	return 0;
}
