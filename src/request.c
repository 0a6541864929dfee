/*
 * request.c: environment, headers, content type, capped body, and the
 * urlencoded parser used for both query strings and form bodies.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "parse.h"
#include "request.h"

static const char *const method_names[M__MAX] = {
	"GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS", NULL
};

void
req_init(struct request *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, 0);
}

void
req_free(struct request *r)
{
	buf_free(&r->body);
}

const char *
method_name(enum method m)
{
	return m < M__MAX ? method_names[m] : NULL;
}

static enum method
method_parse(const char *s)
{
	size_t	 i;

	for (i = 0; s != NULL && i < M_OTHER; i++)
		if (strcmp(s, method_names[i]) == 0)
			return (enum method)i;
	return M_OTHER;
}

enum ctype
ctype_parse(const char *s)
{
	size_t	 n;

	if (s == NULL || *s == '\0')
		return CT_NONE;
	while (*s == ' ')
		s++;
	n = strcspn(s, "; \t");
	if (n == 16 && strncasecmp(s, "application/json", n) == 0)
		return CT_JSON;
	if (n == 33 &&
	    strncasecmp(s, "application/x-www-form-urlencoded", n) == 0)
		return CT_FORM;
	return CT_OTHER;
}

/* Plain digits only, no sign, no space; a value past SIZE_MAX saturates,
 * since it is a (very) large body, not junk. */
static int
clen_parse(const char *s, size_t *out)
{
	uint64_t v;

	*out = 0;
	if (s == NULL || *s == '\0')
		return 0;
	if (parse_uint(s, strlen(s), SIZE_MAX, &v) == PARSE_SYNTAX)
		return -1;
	*out = v > SIZE_MAX ? SIZE_MAX : (size_t)v;
	return 0;
}

static void
body_read(struct request *r)
{
	ssize_t	 got;
	size_t	 have = 0;

	if (buf_reserve(&r->body, r->clen) == -1) {
		r->err = REQ_NOMEM;
		return;
	}
	while (have < r->clen) {
		got = r->io->read(r->io, r->body.data + have, r->clen - have);
		if (got <= 0)
			break;
		have += (size_t)got;
	}
	r->body.len = have;
	r->body.data[have] = '\0';
	if (have < r->clen)
		r->err = REQ_SHORT;
}

/* The key headers, as CGI names them (enum req_hdr). */
static const char *const hdr_vars[HDR__MAX] = {
	"HTTP_X_OANOR_KEY", "HTTP_X_API_KEY", "HTTP_AUTHORIZATION"
};

/* Look the key headers up once; are they and Content-Type within max? */
static int
headers_fit(struct request *r, const char *ctype, size_t max)
{
	int	 i, fit = ctype == NULL || strnlen(ctype, max + 1) <= max;

	for (i = 0; i < HDR__MAX; i++)
		if ((r->hdr[i] = r->io->getenv(r->io, hdr_vars[i])) != NULL &&
		    strnlen(r->hdr[i], max + 1) > max)
			fit = 0;
	return fit;
}

void
req_parse(struct request *r, struct io *io, size_t max_body, size_t max_query)
{
	const char	*s;
	int		 fit;

	r->io = io;
	r->err = REQ_OK;
	r->clen = 0;
	buf_reset(&r->body);
	r->method = method_parse(io->getenv(io, "REQUEST_METHOD"));
	r->path = (s = io->getenv(io, "PATH_INFO")) != NULL ? s : "";
	r->query = (s = io->getenv(io, "QUERY_STRING")) != NULL ? s : "";
	s = io->getenv(io, "CONTENT_TYPE");
	r->ctype = ctype_parse(s);
	fit = headers_fit(r, s, max_query);
	if (strnlen(r->query, max_query + 1) > max_query) {
		r->err = REQ_LONG_QUERY;
		r->query = "";
	} else if (!fit)
		r->err = REQ_LONG_HEADER;
	else if (clen_parse(io->getenv(io, "CONTENT_LENGTH"), &r->clen) == -1) {
		r->err = REQ_BAD_LENGTH;
		r->clen = 0;
	} else if (r->clen > max_body) {
		r->err = REQ_TOO_LARGE;
	} else if (r->clen > 0)
		body_read(r);
}

const char *
req_header(const struct request *r, const char *name)
{
	char	 var[128] = "HTTP_";
	size_t	 i, n = strlen(name);

	if (n + 6 > sizeof(var))
		return NULL;
	for (i = 0; i < n; i++)
		var[5 + i] = name[i] == '-' ? '_' :
		    (char)toupper((unsigned char)name[i]);
	var[5 + n] = '\0';
	for (i = 0; i < HDR__MAX; i++)
		if (strcmp(var, hdr_vars[i]) == 0)
			return r->hdr[i];
	return r->io->getenv(r->io, var);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

size_t
pct_decode(char *dst, const char *src, size_t len)
{
	size_t	 i, o = 0;
	int	 h, l;

	for (i = 0; i < len; i++) {
		if (src[i] == '+')
			dst[o++] = ' ';
		else if (src[i] == '%' && i + 2 < len &&
		    (h = hexval((unsigned char)src[i + 1])) >= 0 &&
		    (l = hexval((unsigned char)src[i + 2])) >= 0) {
			dst[o++] = (char)(h << 4 | l);
			i += 2;
		} else
			dst[o++] = src[i];
	}
	return o;
}

void
qlist_init(struct qlist *q)
{
	memset(q, 0, sizeof(*q));
	buf_init(&q->store, 0);
}

void
qlist_free(struct qlist *q)
{
	buf_free(&q->store);
}

static const struct qparam *
qlist_getn(const struct qlist *q, const char *name, size_t n)
{
	size_t	 i;

	for (i = 0; i < q->n; i++)
		if (q->p[i].nlen == n && memcmp(q->p[i].name, name, n) == 0)
			return &q->p[i];
	return NULL;
}

const struct qparam *
qlist_get(const struct qlist *q, const char *name)
{
	return qlist_getn(q, name, strlen(name));
}

/*
 * Decoded names and values are written back to back into one buffer sized
 * for the whole input up front (decoding never grows text), so pointers
 * into it stay valid.
 */
int
qlist_parse(struct qlist *q, const char *s, size_t len)
{
	size_t	 i, start, eq;
	char	*o;
	struct qparam *p;

	q->n = 0;
	q->dup = q->overflow = 0;
	q->dupp = NULL;
	buf_reset(&q->store);
	if (buf_reserve(&q->store, 3 * len + 2) == -1)
		return -1;
	o = q->store.data;
	for (start = 0; start <= len; start = i + 1) {
		for (i = start; i < len && s[i] != '&'; i++)
			;
		if (i == start)
			continue;
		for (eq = start; eq < i && s[eq] != '='; eq++)
			;
		if (q->n == QPARAM_MAX) {
			q->overflow = 1;
			break;
		}
		p = &q->p[q->n];
		p->name = o;
		p->nlen = pct_decode(o, s + start, eq - start);
		o += p->nlen;
		*o++ = '\0';
		p->val = o;
		p->vlen = eq < i ? pct_decode(o, s + eq + 1, i - eq - 1) : 0;
		o += p->vlen;
		*o++ = '\0';
		if (!q->dup && qlist_getn(q, p->name, p->nlen) != NULL) {
			q->dup = 1;
			q->dupp = p;
		}
		q->n++;
	}
	q->store.len = (size_t)(o - q->store.data);
	return 0;
}

int
qlist_check(const struct qlist *q, const char *noun, struct buf *msg)
{
	buf_reset(msg);
	if (q->overflow) {
		buf_addl(msg, "too many ");
		buf_adds(msg, noun);
		return -1;
	}
	if (q->dup) {
		buf_addl(msg, "parameter ");
		buf_add(msg, q->dupp->name, q->dupp->nlen < 64 ?
		    q->dupp->nlen : 64);
		buf_addl(msg, " is given more than once");
		return -1;
	}
	return 0;
}
