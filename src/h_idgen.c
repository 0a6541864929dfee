/*
 * h_idgen.c: POST /, the ID generator, in the order of checks of
 * doc/api.md: body shape, credentials present, credentials valid,
 * limits, type, then the type's own options and generation.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "auth.h"
#include "gen.h"
#include "jsoncheck.h"
#include "serve.h"

#define TYPE_ECHO_MAX	64	/* bytes of an unknown type echoed back */
#define BATCH_MAX	1000	/* IDs in one answer */

/* Absent: one ID, {"id":...}; else that many, {"ids":[...]}. */
static const struct gopt count_opt = { .name = "count", .kind = GOPT_INT,
    .min = 1, .max = BATCH_MAX, .def = 0 };

/*
 * The body, read once, behind struct params.  A JSON body is a flat
 * object (json_check_flat), read straight from its text: a member's
 * string is decoded into `dec` at the member's own offset, so every
 * decoded value keeps its place while others are read, and no parser
 * allocates per field.  Both buffers are wiped after the request: they
 * hold the token.
 */
struct body {
	enum ctype	 ctype;
	struct qlist	 form;		/* CT_FORM */
	const char	*raw;		/* CT_JSON, CT_NONE: the text */
	size_t		 rawlen;
	struct buf	 dec;		/* decoded strings, rawlen bytes */
};

static void
body_get(const struct params *p, const char *name, struct field *f)
{
	const struct body *b = p->ctx;
	const struct qparam *q;
	const char	*v;
	size_t		 n;

	if (b->ctype == CT_FORM) {
		if ((q = qlist_get(&b->form, name)) == NULL)
			return;
		f->kind = FIELD_STRING;
		f->str = q->val;
		f->len = q->vlen;
		return;
	}
	if (!json_member(b->raw, b->rawlen, name, &v, &n))
		return;
	if (*v == '"') {
		f->kind = FIELD_STRING;
		f->str = b->dec.data + (v - b->raw);
		/*
		 * A lone UTF-16 surrogate is not Unicode: hand the
		 * generators bytes that are not valid UTF-8 either, so
		 * they answer as for a form body's bad bytes.
		 */
		if (json_string_decode(v, n, (char *)f->str, &f->len) != 0) {
			f->str = "\xff";
			f->len = 1;
		}
	} else if (json_int(v, n, &f->ival))
		f->kind = FIELD_INT;
	else
		f->kind = FIELD_OTHER;	/* fraction, exponent, bool, null */
}

static enum status
body_parse(struct ctx *x, struct body *b)
{
	struct request *r = x->req;

	b->ctype = r->ctype;
	switch (r->ctype) {
	case CT_FORM:
		if (qlist_parse(&b->form, r->body.data != NULL ? r->body.data :
		    "", r->body.len) == -1)
			return ctx_error(x, HTTP_UNAVAILABLE,
			    "Service unavailable");
		/* A field given twice would authenticate as one of them. */
		if (qlist_check(&b->form, "form fields", &x->errbuf) == -1)
			return ctx_error_n(x, HTTP_BAD_REQUEST,
			    buf_cstr(&x->errbuf), x->errbuf.len);
		return HTTP_OK;
	case CT_JSON:
	case CT_NONE:
		switch (r->body.len > 0 ? json_check_flat(r->body.data,
		    r->body.len) : JSON_BAD) {
		case JSON_FLAT:
			break;
		case JSON_NESTED:
			return ctx_error(x, HTTP_BAD_REQUEST, "Invalid JSON "
			    "body: field values must be strings, numbers, "
			    "booleans or null");
		case JSON_BAD:
			return ctx_error(x, HTTP_BAD_REQUEST,
			    "Invalid JSON body");
		}
		b->raw = r->body.data;
		b->rawlen = r->body.len;
		if (buf_reserve(&b->dec, b->rawlen) == -1)
			return ctx_error(x, HTTP_UNAVAILABLE,
			    "Service unavailable");
		return HTTP_OK;
	case CT_OTHER:
		break;
	}
	return ctx_error(x, HTTP_UNSUPPORTED_TYPE, "Unsupported Content-Type");
}

/*
 * "ID Type <type> not supported.": the value as sent, cut to 64 bytes
 * without splitting a UTF-8 character.  A non-string JSON value (5, true,
 * {}) is echoed as its JSON text, as written.
 */
static enum status
type_unknown(struct ctx *x, const char *t, size_t len)
{
	size_t	 n = len;

	if (n > TYPE_ECHO_MAX) {
		n = TYPE_ECHO_MAX;
		while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80)
			n--;
	}
	/* Built raw: the dispatcher escapes it when it writes the JSON. */
	buf_reset(&x->errbuf);
	buf_addl(&x->errbuf, "ID Type ");
	buf_add(&x->errbuf, t, n);
	buf_addl(&x->errbuf, " not supported.");
	return ctx_error_n(x, HTTP_BAD_REQUEST, buf_cstr(&x->errbuf),
	    x->errbuf.len);
}

static enum status
write_result(struct ctx *x, const struct gen_result *res)
{
	struct buf *o = &x->resp->body;

	buf_addl(o, "{\"id\":");
	buf_add_jstr(o, res->id.data, res->id.len);
	if (res->priv.len > 0) {
		buf_addl(o, ",\"privateID\":");
		buf_add_jstr(o, res->priv.data, res->priv.len);
	}
	buf_addc(o, '}');
	return HTTP_OK;
}

/*
 * {"ids":[...]} (and "privateIDs":[...] for keypair): n calls of the
 * generator, in order, so a batch of snowflakes or uuid v7 sorts as it
 * was made.  Any failure fails the whole batch.
 */
static enum status
write_batch(struct ctx *x, const struct generator *g,
    const struct gen_args *a, struct gen_result *res, int64_t n)
{
	struct buf	*o = &x->resp->body, priv;
	enum status	 st = HTTP_OK;
	int64_t		 i;

	buf_init(&priv, 0);
	buf_addl(o, "{\"ids\":[");
	for (i = 0; i < n && st == HTTP_OK; i++) {
		gen_result_reset(res);
		if ((st = g->generate(a, res)) != HTTP_OK)
			break;
		if (i > 0)
			buf_addc(o, ',');
		buf_add_jstr(o, res->id.data, res->id.len);
		if (res->priv.len > 0) {
			buf_addc(&priv, priv.len > 0 ? ',' : '[');
			buf_add_jstr(&priv, res->priv.data, res->priv.len);
		}
	}
	buf_addc(o, ']');
	if (priv.len > 0) {
		buf_addl(o, ",\"privateIDs\":");
		buf_add(o, priv.data, priv.len);
		buf_addc(o, ']');
	}
	buf_addc(o, '}');
	if (priv.data != NULL)
		sodium_memzero(priv.data, priv.cap);
	if (st == HTTP_OK && (priv.err || o->err))
		st = gen_error(res, HTTP_UNAVAILABLE, "Service unavailable");
	buf_free(&priv);
	return st == HTTP_OK ? st : ctx_error(x, st, res->error);
}

static enum status
idgen(struct ctx *x, struct body *b, struct gen_result *res)
{
	struct params	 p = { body_get, b };
	struct field	 user, tok, type, unused;
	struct gen_args	 args;
	const struct generator *g;
	const char	*raw;
	size_t		 rawlen;
	int64_t		 count;
	enum status	 status, count_st;

	if ((status = body_parse(x, b)) != HTTP_OK)
		return status;
	param_get(&p, "username", &user);
	param_get(&p, "token", &tok);
	if (user.kind != FIELD_STRING || user.len == 0 ||
	    tok.kind != FIELD_STRING || tok.len == 0)
		return ctx_error(x, HTTP_UNAUTHORIZED,
		    "Please provide a username and token");
	/* The quota reserves the batch's size, so count is read before
	 * the limits; a bad one reserves one call and answers 400 later. */
	count_st = gen_opt(&count_opt, &p, &count, &unused, res);
	x->calls = count_st == HTTP_OK && count > 0 ? (uint64_t)count : 1;
	if ((status = auth_user(x, user.str, user.len, tok.str,
	    tok.len)) != HTTP_OK)
		return status;
	param_get(&p, "type", &type);
	if (type.kind != FIELD_STRING && type.kind != FIELD_ABSENT &&
	    json_member(b->raw, b->rawlen, "type", &raw, &rawlen) &&
	    !(rawlen == 4 && memcmp(raw, "null", 4) == 0))
		return type_unknown(x, raw, rawlen);
	if (type.kind != FIELD_STRING || type.len == 0)
		return ctx_error(x, HTTP_BAD_REQUEST, "Please specify the type");
	if ((g = gen_find(type.str, type.len)) == NULL)
		return type_unknown(x, type.str, type.len);
	x->count_type = g->name;
	if (count_st != HTTP_OK)
		return ctx_error(x, count_st, res->error);
	if ((g->flags & GEN_NEEDS_SLOT) &&
	    (status = ctx_snowflake_slot(x)) != HTTP_OK)
		return status;
	if ((status = gen_args(g, &p, &args, res)) != HTTP_OK)
		return ctx_error(x, status, res->error);
	if (count > 0)
		return write_batch(x, g, &args, res, count);
	if ((status = g->generate(&args, res)) != HTTP_OK)
		return ctx_error(x, status, res->error);
	return write_result(x, res);
}

enum status
h_idgen(struct ctx *x)
{
	struct body	 b;
	struct gen_result res;
	enum status	 status;

	memset(&b, 0, sizeof(b));
	qlist_init(&b.form);
	buf_init(&b.dec, 0);
	gen_result_init(&res);
	status = idgen(x, &b, &res);
	/* The error message may live in res: copy it before freeing. */
	if (status != HTTP_OK && x->errmsg != NULL &&
	    x->errmsg != x->errbuf.data) {
		buf_reset(&x->errbuf);
		buf_add(&x->errbuf, x->errmsg, x->errlen);
		ctx_error_n(x, status, buf_cstr(&x->errbuf), x->errbuf.len);
	}
	gen_result_free(&res);
	buf_wipe(&b.dec);
	buf_free(&b.dec);
	buf_wipe(&b.form.store);
	qlist_free(&b.form);
	return status;
}
