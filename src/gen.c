/*
 * gen.c: the table of ID generators and what they share: option parsing
 * with the spec's messages, the result buffers, unbiased random choice,
 * and the process-wide clock and fingerprint.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "gen.h"
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

static uint64_t
clock_realtime_ms(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
sleep_nano(unsigned ms)
{
	struct timespec	 ts, rem;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	/* A signal must not cut the wait short: the caller relies on it. */
	while (nanosleep(&ts, &rem) == -1 && errno == EINTR)
		ts = rem;
}

/* Usable before gen_setup_default(), bar the fingerprint. */
struct gen_setup gen_setup = {
	.snowflake_epoch_ms = 1288834974657ULL,
	.worker_id = 0,
	.clock_ms = clock_realtime_ms,
	.sleep_ms = sleep_nano,
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
	gen_setup.clock_ms = clock_realtime_ms;
	gen_setup.sleep_ms = sleep_nano;

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
 * Strictly decimal digits: no sign, no space, not empty, so "+5", " 5"
 * and "" are not whole numbers.  A huge value saturates rather than
 * fails, so it reads as "too large", which is what the user sent.
 */
static int
parse_digits(const char *s, size_t len, int64_t *out)
{
	int64_t	 v = 0;
	size_t	 i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v <= (INT64_MAX - 9) / 10)
			v = v * 10 + (s[i] - '0');
		else
			v = INT64_MAX;
	}
	*out = v;
	return 0;
}

int
param_length(const struct params *p, const char *name, int64_t min,
    int64_t max, int64_t def, int required, int64_t *out,
    struct gen_result *res)
{
	struct field	 f;
	int64_t		 v;

	param_get(p, name, &f);
	switch (f.kind) {
	case FIELD_ABSENT:
		if (required)
			return gen_error(res, 400, "Please specify the length");
		*out = def;
		return 200;
	case FIELD_INT:
		v = f.ival;
		break;
	case FIELD_STRING:
		if (parse_digits(f.str, f.len, &v) == -1)
			v = INT64_MIN;
		break;
	default:
		/* Not a whole number: 1.5, true, null, [], {}. */
		v = INT64_MIN;
		break;
	}
	if (v < min) {
		buf_reset(&res->errbuf);
		buf_printf(&res->errbuf,
		    "Length must be a whole number of at least %lld",
		    (long long)min);
		if (res->errbuf.err)
			return gen_error(res, 503, "Service unavailable");
		return gen_error(res, 400, buf_cstr(&res->errbuf));
	}
	if (v > max)
		return gen_error(res, 400,
		    "Length too large, please use a smaller number");
	*out = v;
	return 200;
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

int
gen_error(struct gen_result *res, int status, const char *msg)
{
	res->error = msg;
	return status;
}

int
gen_done(struct gen_result *res)
{
	if (res->id.err || res->priv.err)
		return gen_error(res, 503, "Service unavailable");
	res->error = NULL;
	return 200;
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
