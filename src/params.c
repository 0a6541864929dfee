/*
 * params.c: query parameters against a table (see params.h).
 */
#include "config.h"

#include <string.h>

#include "params.h"
#include "parse.h"
#include "utf8.h"

static int
bad(struct buf *msg, const struct pdef *d, const char *what)
{
	buf_reset(msg);
	buf_adds(msg, d->name);
	buf_addc(msg, ' ');
	buf_adds(msg, what);
	return -1;
}

static int
bad_n(struct buf *msg, const struct pdef *d, const char *what, uint64_t n,
    const char *unit)
{
	bad(msg, d, what);
	buf_add_u64(msg, n);
	buf_adds(msg, unit);
	return -1;
}

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* Walk "1, 2 ,003": each item is digits with spaces around it. */
static int
check_numbers(const struct pdef *d, const char *s, size_t len,
    struct buf *msg)
{
	const char	*e = s + len, *a, *b;
	uint64_t	 n = 0, v;

	while (s <= e) {
		for (a = s; a < e && *a == ' '; a++)
			;
		for (b = a; b < e && *b >= '0' && *b <= '9'; b++)
			;
		for (s = b; s < e && *s == ' '; s++)
			;
		if (a == b || (s < e && *s != ','))
			return bad(msg, d, "must be comma-separated whole "
			    "numbers of at least 0");
		if (n == d->max)
			return bad_n(msg, d, "must hold at most ", d->max,
			    " numbers");
		if (d->kind == PK_NUMBERS && (uint64_t)(b - a) > d->each)
			return bad_n(msg, d, "must have at most ", d->each,
			    " digits each");
		if (d->kind == PK_UINTS && parse_uint(a, (size_t)(b - a),
		    d->each, &v) != PARSE_OK)
			return bad_n(msg, d, "must each be at most ", d->each,
			    "");
		n++;
		s++;
	}
	return 0;
}

static int
check_one(const struct pdef *d, struct param *p, struct buf *msg)
{
	size_t	 i, n;

	switch (d->kind) {
	case PK_BYTES:
		if (p->len > d->max)
			return bad_n(msg, d, "must be at most ", d->max,
			    " bytes");
		return 0;
	case PK_UTF8:
		if (p->len > d->max)
			return bad_n(msg, d, "must be at most ", d->max,
			    " bytes");
		if (utf8_count(p->val, p->len) == (size_t)-1)
			return bad(msg, d, "must be valid UTF-8");
		return 0;
	case PK_CHARS:
		if ((n = utf8_count(p->val, p->len)) == (size_t)-1)
			return bad(msg, d, "must be valid UTF-8");
		if (n > d->max)
			return bad_n(msg, d, "must be at most ", d->max,
			    " characters");
		return 0;
	case PK_UINT:
		if (parse_uint(p->val, p->len, d->max, &p->num) != PARSE_OK ||
		    p->num < d->min) {
			bad_n(msg, d, "must be a whole number from ", d->min,
			    " to ");
			buf_add_u64(msg, d->max);
			return -1;
		}
		return 0;
	case PK_HEX:
		if (p->len > d->max)
			return bad_n(msg, d, "must have at most ", d->max,
			    " digits");
		for (i = 0; i < p->len; i++)
			if (!is_hex(p->val[i]))
				return bad(msg, d, "must be hexadecimal digits "
				    "(0-9, a-f, A-F)");
		return 0;
	case PK_NUMBERS:
	case PK_UINTS:
		return check_numbers(d, p->val, p->len, msg);
	}
	return bad(msg, d, "cannot be checked");
}

int
params_check(const struct qlist *q, const struct pdef *defs, size_t n,
    struct param *out, struct buf *msg)
{
	const struct qparam *qp;
	size_t	 i;

	for (i = 0; i < n; i++) {
		out[i].present = 0;
		out[i].val = "";
		out[i].len = 0;
		out[i].num = 0;
		qp = qlist_get(q, defs[i].name);
		if (qp == NULL || (defs[i].required && qp->vlen == 0)) {
			if (defs[i].required)
				return bad(msg, &defs[i], "is required");
			continue;
		}
		out[i].present = 1;
		out[i].val = qp->val;
		out[i].len = qp->vlen;
		if (check_one(&defs[i], &out[i], msg) == -1)
			return -1;
	}
	return 0;
}

/* The next run of digits of a checked list from *s, which moves past
 * its comma; 0 at the end. */
static int
next_number(const char **s, const char *e, const char **num, size_t *len)
{
	const char	*a, *b;

	if (*s >= e)
		return 0;
	for (a = *s; a < e && *a == ' '; a++)
		;
	for (b = a; b < e && *b >= '0' && *b <= '9'; b++)
		;
	*num = a;
	*len = (size_t)(b - a);
	for (*s = b; *s < e && **s != ','; (*s)++)
		;
	(*s)++;
	return 1;
}

size_t
params_numbers(const struct param *p, const char **nums, size_t *lens)
{
	const char	*s = p->val;
	size_t		 n = 0;

	while (next_number(&s, p->val + p->len, &nums[n], &lens[n]))
		n++;
	return n;
}

size_t
params_uints(const struct param *p, uint64_t *nums, size_t max)
{
	const char	*s = p->val, *num;
	size_t		 n = 0, len;

	while (n < max && next_number(&s, p->val + p->len, &num, &len))
		(void)parse_uint(num, len, UINT64_MAX, &nums[n++]);
	return n;
}
