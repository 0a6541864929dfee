/*
 * bench_gen.c: IDs per second for each flavour, in process, no HTTP.
 *
 *	bench_gen			one line per flavour: name, count, IDs/s
 *	bench_gen --once FLAVOUR N	make N IDs of one flavour, untimed,
 *					for valgrind --tool=callgrind
 *
 * Figures, not a test: they say what the generators cost next to the
 * FastCGI hop, which is the budget (design.md).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "gen.h"

struct opt {
	const char	*name;
	const char	*str;		/* sent as a string, as a form would */
};

static const struct bench {
	const char	*label;
	const char	*type;
	struct opt	 opts[2];
	unsigned long	 count;
} benches[] = {
	{ "uuid",	"uuid",		{ { NULL, NULL } }, 1000000 },
	{ "uuid7",	"uuid",		{ { "version", "7" } }, 1000000 },
	{ "nanoid",	"nanoid",	{ { "length", "21" } }, 1000000 },
	{ "nanoid256",	"nanoid",	{ { "length", "256" } }, 200000 },
	{ "nanoid-utf8", "nanoid",	{ { "length", "21" },
	    { "alphabet", "犬猫鳥魚😀🎉ü" } }, 500000 },
	{ "2fa",	"2fa",		{ { NULL, NULL } }, 1000000 },
	{ "license",	"license",	{ { NULL, NULL } }, 1000000 },
	{ "words",	"words",	{ { NULL, NULL } }, 1000000 },
	{ "snowflake",	"snowflake",	{ { NULL, NULL } }, 1000000 },
	{ "keypair",	"keypair",	{ { NULL, NULL } }, 20000 },
	{ "keypair-x25519", "keypair",	{ { "algorithm", "x25519" } }, 20000 },
	{ "cuid",	"cuid",		{ { NULL, NULL } }, 500000 },
};
#define NBENCH	(sizeof(benches) / sizeof(benches[0]))

static void
opt_get(const struct params *p, const char *name, struct field *f)
{
	const struct opt *o = p->ctx;
	size_t	 i;

	for (i = 0; i < 2 && o[i].name != NULL; i++)
		if (strcmp(o[i].name, name) == 0) {
			f->kind = FIELD_STRING;
			f->str = o[i].str;
			f->len = strlen(o[i].str);
		}
}

static int
run(const struct bench *b, unsigned long n, struct gen_result *res)
{
	const struct generator *g = gen_find(b->type, strlen(b->type));
	struct params	 p = { opt_get, (void *)b->opts };
	struct gen_args	 a;
	unsigned long	 i;

	/* Options are read per call, as the handler reads them. */
	for (i = 0; i < n; i++) {
		gen_result_reset(res);
		if (gen_args(g, &p, &a, res) != HTTP_OK ||
		    g->generate(&a, res) != HTTP_OK) {
			fprintf(stderr, "%s: %s\n", b->label, res->error);
			return -1;
		}
	}
	return 0;
}

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	struct gen_result res;
	const struct bench *b;
	double		 t;
	size_t		 i;
	int		 rc = 0;

	if (sodium_init() == -1)
		return 1;
	gen_setup_default();
	gen_result_init(&res);

	if (argc == 4 && strcmp(argv[1], "--once") == 0) {
		for (i = 0; i < NBENCH; i++)
			if (strcmp(benches[i].label, argv[2]) == 0)
				break;
		if (i == NBENCH) {
			fprintf(stderr, "bench_gen: no flavour %s\n", argv[2]);
			return 2;
		}
		rc = run(&benches[i], strtoul(argv[3], NULL, 10), &res);
		gen_result_free(&res);
		return rc == 0 ? 0 : 1;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: bench_gen [--once FLAVOUR N]\n");
		return 2;
	}

	for (i = 0; i < NBENCH; i++) {
		b = &benches[i];
		/* A short warm-up, so the first flavour pays no start-up. */
		if (run(b, b->count / 100 + 1, &res) == -1) {
			rc = 1;
			continue;
		}
		t = now_s();
		if (run(b, b->count, &res) == -1) {
			rc = 1;
			continue;
		}
		t = now_s() - t;
		printf("%-15s %8lu ids %12.0f ids/s %8.1f ns/id  e.g. %s\n",
		    b->label, b->count, b->count / t, t * 1e9 / b->count,
		    buf_cstr(&res.id));
	}
	gen_result_free(&res);
	return rc;
}
