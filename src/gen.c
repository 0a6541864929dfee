/*
 * gen.c: the table of ID generators and what they share: option parsing
 * with the spec's messages, the result buffers, unbiased random choice,
 * and the process-wide clock and fingerprint.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "gen.h"
#include "parse.h"
#include "rnd.h"

#define ID_MAX		4096	/* far above the longest ID (1 KiB nanoid) */
#define ERR_MAX		256

const struct generator *const generators[] = {
	&gen_uuid,
	&gen_nanoid,
	&gen_2fa,
	&gen_license,
	&gen_words,
	&gen_snowflake,
	&gen_keypair,
	&gen_cuid,
	NULL
};

struct gen_setup gen_setup = {
	.snowflake_epoch_ms = 1288834974657ULL,
	.worker_id = 0,
};

/*
 * Call after sodium_init() and after fork: the fingerprint names this
 * process, so each worker must compute its own.
 */
void
gen_setup_default(void)
{
	crypto_generichash_state st;
	char		 host[256];
	long		 pid = (long)getpid();

	gen_setup.snowflake_epoch_ms = 1288834974657ULL;
	gen_setup.worker_id = 0;
	gen_snowflake_reset();

	memset(host, 0, sizeof(host));
	if (gethostname(host, sizeof(host) - 1) == -1)
		host[0] = '\0';
	crypto_generichash_init(&st, NULL, 0, sizeof(gen_setup.fingerprint));
	crypto_generichash_update(&st, (unsigned char *)host, strlen(host));
	crypto_generichash_update(&st, (unsigned char *)&pid, sizeof(pid));
	crypto_generichash_final(&st, gen_setup.fingerprint,
	    sizeof(gen_setup.fingerprint));
}

const struct generator *
gen_find(const char *name, size_t len)
{
	size_t	 i;

	/* The hosted API accepts the singular too. */
	if (len == 4 && memcmp(name, "word", 4) == 0)
		return &gen_words;
	for (i = 0; generators[i] != NULL; i++)
		if (strlen(generators[i]->name) == len &&
		    memcmp(generators[i]->name, name, len) == 0)
			return generators[i];
	return NULL;
}

void
param_get(const struct params *p, const char *name, struct field *f)
{
	memset(f, 0, sizeof(*f));
	f->kind = FIELD_ABSENT;
	if (p != NULL && p->get != NULL)
		p->get(p, name, f);
}

/*
 * The whole number in f, or INT64_MIN when it is not one (1.5, "abc",
 * true, "", null): that reads as "below the minimum", which is what the
 * spec answers.  A huge number saturates, so it reads as "too large".
 */
static int64_t
field_int(const struct field *f)
{
	uint64_t	 v;

	switch (f->kind) {
	case FIELD_INT:
		return f->ival;
	case FIELD_STRING:
		if (parse_uint(f->str, f->len, INT64_MAX, &v) == PARSE_SYNTAX)
			return INT64_MIN;
		return v > INT64_MAX ? INT64_MAX : (int64_t)v;
	case FIELD_ABSENT:
	case FIELD_OTHER:
		break;
	}
	return INT64_MIN;
}

/* "Length" from "length": the messages start with the name. */
static void
capitalised(struct buf *b, const char *name)
{
	buf_addc(b, (char)(name[0] >= 'a' && name[0] <= 'z' ?
	    name[0] - 'a' + 'A' : name[0]));
	buf_adds(b, name + 1);
}

static enum status
opt_int(const struct gopt *o, const struct field *f, int64_t *out,
    struct gen_result *res)
{
	int64_t	 v = 0;

	if (f->kind != FIELD_ABSENT && (v = field_int(f)) >= o->min &&
	    v <= o->max) {
		*out = v;
		return HTTP_OK;
	}
	if (f->kind == FIELD_ABSENT && !o->required) {
		*out = o->def;
		return HTTP_OK;
	}
	buf_reset(&res->errbuf);
	if (f->kind == FIELD_ABSENT) {
		buf_addl(&res->errbuf, "Please specify the ");
		buf_adds(&res->errbuf, o->name);
	} else if (v < o->min) {
		capitalised(&res->errbuf, o->name);
		buf_addl(&res->errbuf, " must be a whole number of at least ");
		buf_add_u64(&res->errbuf, (uint64_t)o->min);
	} else {
		capitalised(&res->errbuf, o->name);
		buf_addl(&res->errbuf, " too large, please use a smaller number");
	}
	if (res->errbuf.err)
		return gen_error(res, HTTP_UNAVAILABLE, "Service unavailable");
	return gen_error(res, HTTP_BAD_REQUEST, buf_cstr(&res->errbuf));
}

static enum status
opt_choice(const struct gopt *o, const struct field *f, int64_t *out,
    struct gen_result *res)
{
	char		 num[24];
	const char	*s = f->str;
	size_t		 len = f->len;
	int64_t		 i;

	if (f->kind == FIELD_ABSENT) {
		*out = 0;
		return HTTP_OK;
	}
	if (o->numeric && f->kind == FIELD_INT) {
		len = (size_t)snprintf(num, sizeof(num), "%lld",
		    (long long)f->ival);
		s = num;
	} else if (f->kind != FIELD_STRING)
		return gen_error(res, HTTP_BAD_REQUEST, o->bad);
	else if (o->numeric)
		while (len > 1 && s[0] == '0')
			s++, len--;
	for (i = 0; o->choices[i] != NULL; i++)
		if (strlen(o->choices[i]) == len &&
		    memcmp(o->choices[i], s, len) == 0) {
			*out = i;
			return HTTP_OK;
		}
	return gen_error(res, HTTP_BAD_REQUEST, o->bad);
}

enum status
gen_opt(const struct gopt *o, const struct params *p, int64_t *num,
    struct field *text, struct gen_result *res)
{
	struct field	 f;

	param_get(p, o->name, &f);
	switch (o->kind) {
	case GOPT_INT:
		return opt_int(o, &f, num, res);
	case GOPT_CHOICE:
		return opt_choice(o, &f, num, res);
	case GOPT_TEXT:
		*text = f;
		break;
	case GOPT_NONE:
		break;
	}
	return HTTP_OK;
}

enum status
gen_args(const struct generator *g, const struct params *p,
    struct gen_args *a, struct gen_result *res)
{
	enum status	 st = HTTP_OK;
	size_t		 i;

	for (i = 0; i < GEN_OPTS_MAX && st == HTTP_OK; i++) {
		if (g->opts[i].kind == GOPT_NONE)
			break;
		st = gen_opt(&g->opts[i], p, &a->num[i], &a->field[i], res);
	}
	return st;
}

void
gen_result_init(struct gen_result *res)
{
	buf_init(&res->id, ID_MAX);
	buf_init(&res->priv, ID_MAX);
	buf_init(&res->errbuf, ERR_MAX);
	res->error = NULL;
}

void
gen_result_reset(struct gen_result *res)
{
	if (res->priv.data != NULL)
		sodium_memzero(res->priv.data, res->priv.cap);
	buf_reset(&res->id);
	buf_reset(&res->priv);
	buf_reset(&res->errbuf);
	res->error = NULL;
}

void
gen_result_free(struct gen_result *res)
{
	if (res->priv.data != NULL)
		sodium_memzero(res->priv.data, res->priv.cap);
	buf_free(&res->id);
	buf_free(&res->priv);
	buf_free(&res->errbuf);
	res->error = NULL;
}

enum status
gen_error(struct gen_result *res, enum status status, const char *msg)
{
	res->error = msg;
	return status;
}

enum status
gen_done(struct gen_result *res)
{
	if (res->id.err || res->priv.err)
		return gen_error(res, HTTP_UNAVAILABLE, "Service unavailable");
	res->error = NULL;
	return HTTP_OK;
}

/*
 * A byte is kept only below the largest multiple of range that fits in
 * a byte, so the remainder is exactly uniform; at worst (range 129) half
 * the bytes are kept, for common ranges nearly all.  Drawing the bytes
 * in one call per batch keeps libsodium's per-call cost off each value.
 */
void
gen_uniform(unsigned char *out, size_t n, unsigned range)
{
	unsigned char	 pool[512];
	unsigned	 limit = 256 - 256 % range;
	size_t		 i, want, got = 0;

	while (got < n) {
		/* What is needed on average, and some over when bytes fail. */
		want = n - got;
		if (limit < 256)
			want = want * 256 / limit + 4 + want / 8;
		if (want > sizeof(pool))
			want = sizeof(pool);
		rnd_bytes(pool, want);
		if ((range & (range - 1)) == 0) {
			for (i = 0; i < want && got < n; i++)
				out[got++] = pool[i] & (range - 1);
		} else {
			for (i = 0; i < want && got < n; i++)
				if (pool[i] < limit)
					out[got++] = pool[i] % range;
		}
	}
}
