/*
 * auth.c: who is calling.  API tokens, the rules for key names and
 * labels, and, on the request path, authentication followed by the key's
 * limits, and the accounting after the handler.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth.h"
#include "clock.h"
#include "log.h"
#include "plan.h"
#include "serve.h"
#include "usage.h"
#include "utf8.h"

#define B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* ---- tokens ----------------------------------------------------------- */

int
token_new(char *out, unsigned char hash[TOKEN_HASH_LEN])
{
	unsigned char	 raw[TOKEN_RAW_LEN];
	char		 b64[sodium_base64_ENCODED_LEN(TOKEN_RAW_LEN,
			     B64_VARIANT)];

	if (sodium_init() < 0)
		return -1;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), B64_VARIANT);
	memcpy(out, TOKEN_PREFIX, 4);
	memcpy(out + 4, b64, TOKEN_STR_LEN - 4);
	out[TOKEN_STR_LEN] = '\0';
	token_hash(out, TOKEN_STR_LEN, hash);
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(b64, sizeof(b64));
	return 0;
}

void
token_hash(const char *s, size_t len, unsigned char hash[TOKEN_HASH_LEN])
{
	crypto_generichash(hash, TOKEN_HASH_LEN, (const unsigned char *)s,
	    len, NULL, 0);
}

/* ---- names ------------------------------------------------------------ */

void
name_quote(const char *s, size_t len, char *out, size_t outlen)
{
	size_t	 o = 0, i;
	unsigned char c;

	if (outlen < 8)
		return;
	out[o++] = '"';
	for (i = 0; i < len && o + 8 < outlen; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
}

int
user_norm(const char *in, size_t len, char out[USER_MAX + 1], char *err,
    size_t errlen)
{
	char	 q[USER_MAX * 4 + 16], c;
	size_t	 i;

	name_quote(in, len, q, sizeof(q));
	if (len == 0) {
		snprintf(err, errlen, "the username is empty");
		return -1;
	}
	if (len > USER_MAX) {
		snprintf(err, errlen, "username %s is longer than %d characters",
		    q, USER_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		c = in[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-')) {
			if (c >= 0x20 && c < 0x7f && c != '\'')
				snprintf(err, errlen, "invalid character '%c' "
				    "in username %s", c, q);
			else
				snprintf(err, errlen, "invalid character "
				    "'\\x%02x' in username %s",
				    (unsigned char)c, q);
			return -1;
		}
		out[i] = c;
	}
	out[len] = '\0';
	return 0;
}

int
label_check(const char *label, char *err, size_t errlen)
{
	size_t	 n = strlen(label), i, l;
	uint32_t cp;

	if (n > LABEL_MAX) {
		snprintf(err, errlen, "the label is %zu bytes long; at most %d",
		    n, LABEL_MAX);
		return -1;
	}
	for (i = 0; i < n; i += l) {
		if ((l = utf8_next(label + i, n - i, &cp)) == 0) {
			snprintf(err, errlen, "the label is not valid UTF-8 "
			    "(byte %zu)", i + 1);
			return -1;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
			snprintf(err, errlen, "the label contains a control "
			    "character (byte %zu)", i + 1);
			return -1;
		}
	}
	return 0;
}

/* ---- the request path ------------------------------------------------- */

/*
 * Cluster mode: the live nodes (for a rate) and the other nodes' calls
 * this month (for a quota), as the sync process last wrote them into the
 * store: one mdb_get each, in this request's read transaction.  A failed
 * read counts as one node and no calls elsewhere, and is logged.
 */
static const struct limit_share *
cluster_share(struct ctx *x, struct limit_share *sh)
{
	struct cluster_state cs;
	struct store	*st = x->srv->store;
	enum store_rc	 r = STORE_OK;

	if (x->srv->conf.cluster[0] == '\0')
		return NULL;
	cs.nodes = 1;
	sh->remote = 0;
	if (x->key.rate > 0 && (r = store_cluster_state(st, &cs)) ==
	    STORE_NOTFOUND)
		r = STORE_OK;
	if (r == STORE_OK && x->key.quota > 0)
		r = store_cluster_remote(st, x->key.user, month_of(x->now_ms),
		    &sh->remote);
	if (r != STORE_OK)
		log_err("store: %s", store_error(st));
	sh->nodes = cs.nodes;
	return sh;
}

static enum status
apply_limits(struct ctx *x)
{
	struct limit_verdict *v = &x->verdict;
	struct limit_share sh;

	limits_check_n(x->srv->usage, x->srv->store, x->key.user, x->key.rate,
	    x->key.quota, x->calls > 0 ? x->calls : 1, x->now_ms,
	    clock_mono_ns(), cluster_share(x, &sh), v);
	x->limited = 1;
	if (v->ok)
		return HTTP_OK;
	if (v->status == HTTP_TOO_MANY)
		resp_header_u64(x->resp, "Retry-After", v->retry_after);
	else
		log_err("limits: %s", v->message);
	return ctx_error(x, v->status, v->message);
}

static enum status
auth_result(struct ctx *x, enum store_rc rc, const char *denied)
{
	switch (rc) {
	case STORE_OK:
		return apply_limits(x);
	case STORE_DENIED:
	case STORE_NOTFOUND:
		return ctx_error(x, HTTP_UNAUTHORIZED, denied);
	case STORE_EXISTS:
	case STORE_INVALID:
	case STORE_FULL:
	case STORE_BUSY:
	case STORE_CORRUPT:
	case STORE_ERROR:
	case STORE__MAX:
		break;
	}
	log_err("store: %s", store_error(x->srv->store));
	return ctx_error(x, HTTP_UNAVAILABLE, "Service unavailable");
}

enum status
auth_user(struct ctx *x, const char *user, size_t ulen, const char *token,
    size_t tlen)
{
	unsigned char	 h[TOKEN_HASH_LEN];
	enum status	 st;

	if ((st = ctx_store(x)) != HTTP_OK)
		return st;
	token_hash(token, tlen, h);
	return auth_result(x, store_auth_user(x->srv->store, user, ulen, h,
	    &x->key), "Invalid username or token");
}

static const char *
bearer(const struct request *r)
{
	const char *v;

	if ((v = req_header(r, "X-Oanor-Key")) != NULL && *v != '\0')
		return v;
	if ((v = req_header(r, "X-Api-Key")) != NULL && *v != '\0')
		return v;
	if ((v = req_header(r, "Authorization")) != NULL &&
	    strncasecmp(v, "Bearer ", 7) == 0) {
		for (v += 7; *v == ' '; v++)
			;
		if (*v != '\0')
			return v;
	}
	return NULL;
}

enum status
auth_header(struct ctx *x)
{
	static const char denied[] = "Missing or invalid x-oanor-key header";
	unsigned char	 h[TOKEN_HASH_LEN];
	const char	*tok;
	enum status	 st;

	if ((tok = bearer(x->req)) == NULL)
		return ctx_error(x, HTTP_UNAUTHORIZED, denied);
	if ((st = ctx_store(x)) != HTTP_OK)
		return st;
	token_hash(tok, strlen(tok), h);
	return auth_result(x, store_auth_hash(x->srv->store, h, &x->key),
	    denied);
}

void
auth_finish(struct ctx *x)
{
	struct limit_verdict *v = &x->verdict;

	if (!x->limited)
		return;
	if (limits_done(x->srv->usage, x->srv->store, v,
	    x->count_type != NULL ? x->count_type : "unknown",
	    x->srv->conf.count_usage ? x->resp->status : 0) == -1)
		log_err("usage: %s", usage_error(x->srv->usage));
	/* Every authenticated answer says its limits.  A key with none
	 * states the ceiling no plan can pass, never spent. */
	if (v->has_headers) {
		resp_header_u64(x->resp, "RateLimit-Limit", v->limit);
		resp_header_u64(x->resp, "RateLimit-Remaining", v->remaining);
		resp_header_u64(x->resp, "RateLimit-Reset", v->reset);
	} else if (v->status != HTTP_UNAVAILABLE) {
		resp_header_u64(x->resp, "RateLimit-Limit", PLAN_RATE_MAX);
		resp_header_u64(x->resp, "RateLimit-Remaining", PLAN_RATE_MAX);
		resp_header_u64(x->resp, "RateLimit-Reset", 0);
	}
}
