/*
 * h_idgen.c: POST /, the ID generator, in the order of checks of
 * spec/idgen.md: body shape, credentials present, credentials valid,
 * limits, type, then the type's own options and generation.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "gen.h"
#include "jsoncheck.h"
#include "serve.h"

#define TYPE_ECHO_MAX	64	/* bytes of an unknown type echoed back */

/* The body, parsed once, behind struct params. */
struct body {
	enum ctype	 ctype;
	json_object	*obj;		/* CT_JSON / CT_NONE */
	struct qlist	 form;		/* CT_FORM */
};

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
		break;
	case json_type_int:
		f->kind = FIELD_INT;
		f->ival = json_object_get_int64(v);
		break;
	default:
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
	    (tok = json_tokener_new()) == NULL)
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

static int
body_parse(struct ctx *x, struct body *b)
{
	struct request *r = x->req;

	b->ctype = r->ctype;
	switch (r->ctype) {
	case CT_FORM:
		if (qlist_parse(&b->form, r->body.data != NULL ? r->body.data :
		    "", r->body.len) == -1)
			return ctx_error(x, 503, "Service unavailable");
		return 200;
	case CT_JSON:
	case CT_NONE:
		if ((b->obj = json_body(r->body.data, r->body.len)) == NULL)
			return ctx_error(x, 400, "Invalid JSON body");
		return 200;
	default:
		return ctx_error(x, 415, "Unsupported Content-Type");
	}
}

static int
type_unknown(struct ctx *x, const struct field *t)
{
	size_t	 n = t->len < TYPE_ECHO_MAX ? t->len : TYPE_ECHO_MAX;

	/* Built raw: the dispatcher escapes it when it writes the JSON. */
	buf_add(&x->errbuf, "ID Type ", 8);
	buf_add(&x->errbuf, t->str, n);
	buf_add(&x->errbuf, " not supported.", 15);
	return ctx_error_n(x, 400, buf_cstr(&x->errbuf), x->errbuf.len);
}

static int
write_result(struct ctx *x, const struct gen_result *res)
{
	struct buf *o = &x->resp->body;

	buf_add(o, "{\"id\":", 6);
	buf_add_jstr(o, res->id.data, res->id.len);
	if (res->priv.len > 0) {
		buf_add(o, ",\"privateID\":", 13);
		buf_add_jstr(o, res->priv.data, res->priv.len);
	}
	buf_addc(o, '}');
	return 200;
}

static int
idgen(struct ctx *x, struct body *b, struct gen_result *res)
{
	struct params	 p = { body_get, b };
	struct field	 user, tok, type;
	const struct generator *g;
	int		 status;

	if ((status = body_parse(x, b)) != 200)
		return status;
	param_get(&p, "username", &user);
	param_get(&p, "token", &tok);
	if (user.kind != FIELD_STRING || user.len == 0 ||
	    tok.kind != FIELD_STRING || tok.len == 0)
		return ctx_error(x, 401, "Please provide a username and token");
	if ((status = ctx_auth_user(x, user.str, user.len, tok.str,
	    tok.len)) != 200)
		return status;
	param_get(&p, "type", &type);
	if (type.kind == FIELD_ABSENT ||
	    (type.kind == FIELD_STRING && type.len == 0))
		return ctx_error(x, 400, "Please specify the type");
	if (type.kind == FIELD_INT) {
		buf_printf(&x->errbuf, "ID Type %lld not supported.",
		    (long long)type.ival);
		return ctx_error(x, 400, buf_cstr(&x->errbuf));
	}
	if (type.kind != FIELD_STRING)
		return ctx_error(x, 400, "Please specify the type");
	if ((g = gen_find(type.str, type.len)) == NULL)
		return type_unknown(x, &type);
	x->count_type = g->name;
	if (g == &gen_snowflake && (status = ctx_snowflake_slot(x)) != 200)
		return status;
	if ((status = g->generate(&p, res)) != 200)
		return ctx_error(x, status, res->error);
	return write_result(x, res);
}

int
h_idgen(struct ctx *x)
{
	struct body	 b;
	struct gen_result res;
	int		 status;

	memset(&b, 0, sizeof(b));
	qlist_init(&b.form);
	gen_result_init(&res);
	status = idgen(x, &b, &res);
	/* The error message may live in res: copy it before freeing. */
	if (status != 200 && x->errmsg != NULL && x->errmsg != x->errbuf.data) {
		buf_reset(&x->errbuf);
		buf_add(&x->errbuf, x->errmsg, x->errlen);
		ctx_error_n(x, status, buf_cstr(&x->errbuf), x->errbuf.len);
	}
	gen_result_free(&res);
	json_object_put(b.obj);
	qlist_free(&b.form);
	return status;
}
