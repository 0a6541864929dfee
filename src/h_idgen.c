/*
 * h_idgen.c: POST /, the ID generator, in the order of checks of
 * doc/api.md: body shape, credentials present, credentials valid,
 * limits, type, then the type's own options and generation.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>
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

/* The body, parsed once, behind struct params. */
struct body {
	enum ctype	 ctype;
	json_object	*obj;		/* CT_JSON / CT_NONE */
	struct qlist	 form;		/* CT_FORM */
	const char	*raw;		/* the JSON text itself */
	size_t		 rawlen;
	int		 escapes;	/* it holds a \u escape somewhere */
};

/*
 * json-c turns a \u escape of a lone UTF-16 surrogate into U+FFFD, which
 * would hand the generators a character the client never sent.  Such a
 * string is not valid Unicode: give it to them as bytes that are not
 * valid UTF-8 either, so they answer as for a form body's bad bytes.
 */
static int
lone_surrogate(const struct body *b, const char *name)
{
	const char	*v;
	size_t		 n;

	return b->escapes && json_member(b->raw, b->rawlen, name, &v, &n) &&
	    json_lone_surrogate(v, n);
}

static void
body_get(const struct params *p, const char *name, struct field *f)
{
	const struct body *b = p->ctx;
	const struct qparam *q;
	json_object	*v;

	if (b->ctype == CT_FORM) {
		if ((q = qlist_get(&b->form, name)) == NULL)
			return;
		f->kind = FIELD_STRING;
		f->str = q->val;
		f->len = q->vlen;
		return;
	}
	if (!json_object_object_get_ex(b->obj, name, &v))
		return;
	switch (json_object_get_type(v)) {
	case json_type_string:
		f->kind = FIELD_STRING;
		f->str = json_object_get_string(v);
		f->len = (size_t)json_object_get_string_len(v);
		if (lone_surrogate(b, name)) {
			f->str = "\xff";
			f->len = 1;
		}
		break;
	case json_type_int:
		f->kind = FIELD_INT;
		f->ival = json_object_get_int64(v);
		break;
	case json_type_null:
	case json_type_boolean:
	case json_type_double:
	case json_type_object:
	case json_type_array:
		f->kind = FIELD_OTHER;
		break;
	}
}

/* A JSON object and nothing after it, parsed with an explicit length. */
static json_object *
json_body(const char *s, size_t len)
{
	json_tokener	*tok;
	json_object	*o;
	size_t		 used;

	if (len == 0 || len > INT32_MAX || !json_check(s, len) ||
	    (tok = json_tokener_new_ex(JSON_DEPTH_MAX + 1)) == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);	/* no {"a":1,} */
	o = json_tokener_parse_ex(tok, s, (int)len);
	used = json_tokener_get_parse_end(tok);
	if (o != NULL && json_tokener_get_error(tok) == json_tokener_success) {
		while (used < len && (s[used] == ' ' || s[used] == '\t' ||
		    s[used] == '\r' || s[used] == '\n'))
			used++;
	}
	if (o == NULL || used != len ||
	    json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
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
		if ((b->obj = json_body(r->body.data, r->body.len)) == NULL)
			return ctx_error(x, HTTP_BAD_REQUEST,
			    "Invalid JSON body");
		b->raw = r->body.data;
		b->rawlen = r->body.len;
		b->escapes = memmem(b->raw, b->rawlen, "\\u", 2) != NULL;
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
	json_object_put(b.obj);
	qlist_free(&b.form);
	return status;
}
