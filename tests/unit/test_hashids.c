/*
 * test_hashids.c: Hashids against hashids.js 2.3.0.
 *
 * Every row of tests/vectors/hashids.tsv (the shared vectors) and of
 * tests/vectors/hashids-extra.tsv (non-ASCII salts and alphabets and big
 * numbers, generated here with hashids.js 2.3.0) is one parameterized
 * test.  Property tests then run random inputs through encode and decode
 * with a seed from libsodium, printed on failure; IDMINT_SEED replays one.
 *
 * Files: $IDMINT_VECTORS, else $srcdir/tests/vectors/hashids.tsv, else
 * tests/vectors/hashids.tsv; the extra file sits next to it unless
 * $IDMINT_VECTORS_EXTRA names it.  $IDMINT_VECTORS_CROSS may name a
 * further file of the same shape (say, a big random one from node) that
 * one test walks row by row.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <sodium.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bignum.h"
#include "buf.h"
#include "hashids.h"
#include "utf8.h"

enum { F_KIND, F_SALT, F_MINLEN, F_ALPHABET, F_INPUT, F_EXPECTED, F_SOURCE,
    F_NOTE, F__MAX };

struct row {
	const char	*f[F__MAX];
	size_t		 lineno;
};

struct table {
	char		*text;
	struct row	*rows;
	size_t		 n;
};

struct vparam {
	int		 file;		/* 0 shared, 1 extra */
	size_t		 index;
};

static char *
join(const char *a, const char *b)
{
	char	*p;

	if ((p = malloc(strlen(a) + strlen(b) + 1)) == NULL)
		return NULL;
	strcpy(p, a);
	strcat(p, b);
	return p;
}

/* The directory of path (with its slash) + name. */
static char *
sibling(const char *path, const char *name)
{
	const char	*slash = strrchr(path, '/');
	size_t		 dl = slash == NULL ? 0 : (size_t)(slash - path) + 1;
	char		*p;

	if ((p = malloc(dl + strlen(name) + 1)) == NULL)
		return NULL;
	memcpy(p, path, dl);
	strcpy(p + dl, name);
	return p;
}

static char *
vec_path(int file)
{
	const char	*env, *srcdir;
	char		*main_path, *p;

	if (file == 2)
		return (env = getenv("IDMINT_VECTORS_CROSS")) != NULL ?
		    strdup(env) : NULL;
	if (file == 1 && (env = getenv("IDMINT_VECTORS_EXTRA")) != NULL)
		return strdup(env);
	if ((env = getenv("IDMINT_VECTORS")) != NULL)
		main_path = strdup(env);
	else if ((srcdir = getenv("srcdir")) != NULL)
		main_path = join(srcdir, "/tests/vectors/hashids.tsv");
	else
		main_path = strdup("tests/vectors/hashids.tsv");
	if (file == 0 || main_path == NULL)
		return main_path;
	p = sibling(main_path, "hashids-extra.tsv");
	free(main_path);
	return p;
}

/* Split one TSV line in place; fields are taken exactly, spaces kept. */
static void
split_line(char *line, struct row *r)
{
	size_t	 i;

	for (i = 0; i < F__MAX; i++) {
		r->f[i] = line;
		if (line == NULL)
			r->f[i] = "";
		else if ((line = strchr(line, '\t')) != NULL)
			*line++ = '\0';
	}
}

static int
load_table(int file, struct table *t)
{
	FILE	*fp;
	char	*path, *line, *next;
	long	 size;
	size_t	 lineno = 0;

	memset(t, 0, sizeof(*t));
	if ((path = vec_path(file)) == NULL)
		return -1;
	fp = fopen(path, "rb");
	free(path);
	if (fp == NULL || fseek(fp, 0, SEEK_END) == -1 ||
	    (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) == -1 ||
	    (t->text = calloc(1, (size_t)size + 1)) == NULL ||
	    fread(t->text, 1, (size_t)size, fp) != (size_t)size ||
	    (t->rows = calloc((size_t)size / 8 + 1, sizeof(*t->rows))) == NULL) {
		if (fp != NULL)
			fclose(fp);
		return -1;
	}
	fclose(fp);
	for (line = t->text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		lineno++;
		if (*line == '\0' || strncmp(line, "kind\t", 5) == 0)
			continue;
		split_line(line, &t->rows[t->n]);
		t->rows[t->n++].lineno = lineno;
	}
	return 0;
}

static void
free_table(struct table *t)
{
	free(t->text);
	free(t->rows);
}

static const struct hashids *
row_setup(const struct row *r)
{
	const struct hashids *h;
	const char	*al = r->f[F_ALPHABET];
	int		 rc;

	rc = hashids_get(&h, r->f[F_SALT], strlen(r->f[F_SALT]),
	    *al == '\0' ? NULL : al, strlen(al), NULL);
	cr_assert_eq(rc, HASHIDS_OK, "line %zu: set-up failed: %s", r->lineno,
	    hashids_strerror(rc));
	return h;
}

/* Split "1,2,3" into up to max pointers and lengths. */
static size_t
split_csv(const char *s, const char **p, size_t *len, size_t max)
{
	size_t	 n = 0;
	const char *c;

	if (*s == '\0')
		return 0;
	while (n < max) {
		c = strchr(s, ',');
		p[n] = s;
		len[n] = c != NULL ? (size_t)(c - s) : strlen(s);
		n++;
		if (c == NULL)
			break;
		s = c + 1;
	}
	return n;
}

/* The numbers of "007,0,12" as decode prints them: "7,0,12". */
static void
canon_csv(const char *s, struct buf *out)
{
	const char *p[128];
	size_t	 len[128], n, i, k;

	n = split_csv(s, p, len, 128);
	for (i = 0; i < n; i++) {
		for (k = 0; k + 1 < len[i] && p[i][k] == '0'; k++)
			;
		if (i > 0)
			buf_addc(out, ',');
		buf_add(out, p[i] + k, len[i] - k);
	}
	buf_cstr(out);
}

static void
check_encode(const struct row *r, const struct hashids *h, unsigned ml)
{
	const char *p[128];
	size_t	 len[128], n;
	struct buf out, want;
	int	 rc;

	buf_init(&out, 0);
	buf_init(&want, 0);
	n = split_csv(r->f[F_INPUT], p, len, 128);
	rc = hashids_encode(h, p, len, n, ml, &out);
	cr_assert_eq(rc, HASHIDS_OK, "line %zu: encode: %s", r->lineno,
	    hashids_strerror(rc));
	cr_assert_str_eq(buf_cstr(&out), r->f[F_EXPECTED], "line %zu: encode",
	    r->lineno);
	buf_reset(&out);
	rc = hashids_decode(h, r->f[F_EXPECTED], strlen(r->f[F_EXPECTED]),
	    ml, &out);
	cr_assert_eq(rc, HASHIDS_OK, "line %zu: decode invalid", r->lineno);
	canon_csv(r->f[F_INPUT], &want);
	cr_assert_str_eq(buf_cstr(&out), buf_cstr(&want), "line %zu: decode",
	    r->lineno);
	buf_free(&out);
	buf_free(&want);
}

static void
check_hex(const struct row *r, const struct hashids *h, unsigned ml)
{
	struct buf out;
	char	*lower;
	size_t	 i;
	int	 rc;

	buf_init(&out, 0);
	rc = hashids_encode_hex(h, r->f[F_INPUT], strlen(r->f[F_INPUT]), ml,
	    &out);
	cr_assert_eq(rc, HASHIDS_OK, "line %zu: encode_hex: %s", r->lineno,
	    hashids_strerror(rc));
	cr_assert_str_eq(buf_cstr(&out), r->f[F_EXPECTED],
	    "line %zu: encode_hex", r->lineno);
	buf_reset(&out);
	rc = hashids_decode_hex(h, r->f[F_EXPECTED], strlen(r->f[F_EXPECTED]),
	    ml, &out);
	cr_assert_eq(rc, HASHIDS_OK, "line %zu: decode_hex invalid", r->lineno);
	lower = strdup(r->f[F_INPUT]);
	for (i = 0; lower[i] != '\0'; i++)
		if (lower[i] >= 'A' && lower[i] <= 'F')
			lower[i] = (char)(lower[i] - 'A' + 'a');
	cr_assert_str_eq(buf_cstr(&out), lower, "line %zu: decode_hex",
	    r->lineno);
	free(lower);
	buf_free(&out);
}

static void
check_empty(const struct row *r, const struct hashids *h, unsigned ml)
{
	const char *p[128];
	size_t	 len[128], n;
	struct buf out;
	const char *in = r->f[F_INPUT], *k = r->f[F_KIND];
	int	 rc;

	buf_init(&out, 0);
	if (strcmp(k, "encode_empty") == 0) {
		n = split_csv(in, p, len, 128);
		rc = hashids_encode(h, p, len, n, ml, &out);
		cr_assert_eq(rc, HASHIDS_EINPUT, "line %zu", r->lineno);
	} else if (strcmp(k, "encode_hex_empty") == 0) {
		rc = hashids_encode_hex(h, in, strlen(in), ml, &out);
		cr_assert_eq(rc, HASHIDS_EINPUT, "line %zu", r->lineno);
	} else if (strcmp(k, "decode_hex_empty") == 0) {
		rc = hashids_decode_hex(h, in, strlen(in), ml, &out);
		cr_assert_eq(rc, HASHIDS_INVALID, "line %zu", r->lineno);
	} else {
		/* decode_empty, decode_throws: both answer valid:false. */
		rc = hashids_decode(h, in, strlen(in), ml, &out);
		cr_assert_eq(rc, HASHIDS_INVALID, "line %zu", r->lineno);
	}
	cr_assert_eq(out.len, 0, "line %zu: output on failure", r->lineno);
	buf_free(&out);
}

static void
check_decode(const struct row *r, const struct hashids *h, unsigned ml,
    int hex)
{
	struct buf out;
	const char *in = r->f[F_INPUT];
	int	 rc;

	buf_init(&out, 0);
	rc = hex ? hashids_decode_hex(h, in, strlen(in), ml, &out) :
	    hashids_decode(h, in, strlen(in), ml, &out);
	cr_assert_eq(rc, HASHIDS_OK, "line %zu: invalid", r->lineno);
	cr_assert_str_eq(buf_cstr(&out), r->f[F_EXPECTED], "line %zu",
	    r->lineno);
	buf_free(&out);
}

static void
check_alphabet(const struct row *r)
{
	struct hashids	*h;
	struct buf	 err, out;
	const char	*al = r->f[F_ALPHABET];
	uint64_t	 nums[3] = { 1, 2, 3 };
	int		 rc;

	buf_init(&err, 0);
	buf_init(&out, 0);
	rc = hashids_new(&h, r->f[F_SALT], strlen(r->f[F_SALT]), al,
	    strlen(al), &err);
	if (strcmp(r->f[F_KIND], "alphabet_error") == 0) {
		cr_assert_eq(rc, HASHIDS_EALPHABET, "line %zu", r->lineno);
		cr_assert_null(h);
		cr_assert_str_eq(buf_cstr(&err), r->f[F_EXPECTED], "line %zu",
		    r->lineno);
	} else {
		cr_assert_eq(rc, HASHIDS_OK, "line %zu", r->lineno);
		cr_assert_eq(hashids_encode_u64(h, nums, 3, 0, &out),
		    HASHIDS_OK);
		cr_assert_eq(hashids_decode(h, out.data, out.len, 0, &err),
		    HASHIDS_OK);
		cr_assert_str_eq(buf_cstr(&err), "1,2,3");
		hashids_free(h);
	}
	buf_free(&err);
	buf_free(&out);
}

static void
check_row(const struct row *r)
{
	const char	*k = r->f[F_KIND];
	unsigned	 ml = (unsigned)strtoul(r->f[F_MINLEN], NULL, 10);

	if (strncmp(k, "alphabet_", 9) == 0) {
		check_alphabet(r);
		return;
	}
	if (strcmp(k, "encode") == 0)
		check_encode(r, row_setup(r), ml);
	else if (strcmp(k, "encode_hex") == 0)
		check_hex(r, row_setup(r), ml);
	else if (strcmp(k, "decode") == 0)
		check_decode(r, row_setup(r), ml, 0);
	else if (strcmp(k, "decode_hex") == 0)
		check_decode(r, row_setup(r), ml, 1);
	else if (strstr(k, "_empty") != NULL || strcmp(k, "decode_throws") == 0)
		check_empty(r, row_setup(r), ml);
	else
		cr_assert_fail("line %zu: unknown kind %s", r->lineno, k);
}

static struct criterion_test_params
make_params(int file)
{
	struct table	 t;
	struct vparam	*p;
	size_t		 i, n = 0;

	if (load_table(file, &t) == 0)
		n = t.n;
	free_table(&t);
	/* One failing row stands for a missing file. */
	p = cr_calloc(n ? n : 1, sizeof(*p));
	for (i = 0; i < n; i++) {
		p[i].file = file;
		p[i].index = i;
	}
	if (n == 0)
		p[0].file = -1 - file;
	return cr_make_param_array(struct vparam, p, n ? n : 1, NULL);
}

static void
run_param(const struct vparam *p)
{
	struct table	 t;

	cr_assert_geq(p->file, 0, "vectors file %d missing or empty",
	    -1 - p->file);
	cr_assert_eq(load_table(p->file, &t), 0);
	cr_assert_lt(p->index, t.n);
	check_row(&t.rows[p->index]);
	free_table(&t);
	hashids_cache_clear();
}

ParameterizedTestParameters(vectors, shared)
{
	return make_params(0);
}

ParameterizedTest(struct vparam *p, vectors, shared)
{
	run_param(p);
}

ParameterizedTestParameters(vectors, extra)
{
	return make_params(1);
}

ParameterizedTest(struct vparam *p, vectors, extra)
{
	run_param(p);
}

Test(vectors, counts)
{
	struct table	 t;

	cr_assert_eq(load_table(0, &t), 0);
	cr_assert_eq(t.n, 253, "shared vectors: %zu rows", t.n);
	free_table(&t);
}

Test(vectors, cross)
{
	struct table	 t;
	size_t		 i;

	if (getenv("IDMINT_VECTORS_CROSS") == NULL)
		cr_skip_test("IDMINT_VECTORS_CROSS not set");
	cr_assert_eq(load_table(2, &t), 0);
	for (i = 0; i < t.n; i++)
		check_row(&t.rows[i]);
	free_table(&t);
	hashids_cache_clear();
}

/*
 * Property tests.  The generator is xorshift64*, seeded from libsodium
 * (or IDMINT_SEED to replay); every assertion message carries the seed.
 */
static uint64_t	 rng, seed;

static void
seed_rng(void)
{
	const char	*env = getenv("IDMINT_SEED");

	if (env != NULL)
		seed = strtoull(env, NULL, 10);
	else
		randombytes_buf(&seed, sizeof(seed));
	rng = seed != 0 ? seed : 1;
}

static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static size_t
ri(size_t n)
{
	return (size_t)(rnd() % n);
}

/* A code point from a mix of ASCII, Latin, Greek, CJK, emoji, SMP. */
static uint32_t
rand_cp(void)
{
	static const uint32_t pools[][2] = {
		{ 0x20, 0x7e }, { 0x20, 0x7e }, { 0xa0, 0xff }, { 0x100, 0x17f },
		{ 0x391, 0x3c9 }, { 0x4e00, 0x4e80 }, { 0x1f600, 0x1f64f },
		{ 0x1f900, 0x1f9ff }, { 0x10000, 0x1007f }, { 0, 0x1f },
	};
	const uint32_t *p = pools[ri(sizeof(pools) / sizeof(pools[0]))];

	return p[0] + (uint32_t)ri(p[1] - p[0] + 1);
}

static void
add_cp(struct buf *b, uint32_t cp)
{
	char	 tmp[UTF8_MAX];

	buf_add(b, tmp, utf8_put(cp, tmp));
}

static void
rand_salt(struct buf *b)
{
	size_t	 i, n;

	buf_reset(b);
	switch (ri(4)) {
	case 0:
		break;
	case 1:
		for (i = 0, n = ri(30); i < n; i++)
			buf_addc(b, (char)(0x20 + ri(95)));
		break;
	default:
		for (i = 0, n = ri(40); i < n; i++)
			add_cp(b, rand_cp());
	}
}

/* Returns 0 for the default alphabet (NULL), else 1 with b filled. */
static int
rand_alphabet(struct buf *b)
{
	size_t	 i, n;

	buf_reset(b);
	switch (ri(5)) {
	case 0:
		return 0;
	case 1:		/* ASCII with duplicates and spaces */
		for (i = 0, n = 14 + ri(80); i < n; i++)
			buf_addc(b, (char)(0x20 + ri(95)));
		break;
	case 2:		/* emoji only, many duplicates */
		for (i = 0, n = 14 + ri(60); i < n; i++)
			add_cp(b, 0x1f600 + (uint32_t)ri(80));
		break;
	case 3:		/* mostly separators: the 2-character alphabet path */
		buf_adds(b, HASHIDS_DEFAULT_SEPS);
		for (i = 0, n = 1 + ri(10); i < n; i++)
			add_cp(b, rand_cp());
		break;
	default:
		for (i = 0, n = 14 + ri(100); i < n; i++)
			add_cp(b, rand_cp());
	}
	buf_cstr(b);
	return 1;
}

static size_t
count_unique(const char *s, size_t len)
{
	uint32_t cps[1024];
	size_t	 n, i, j, u = 0;

	n = utf8_decode(s, len, cps);
	for (i = 0; i < n; i++) {
		for (j = 0; j < i && cps[j] != cps[i]; j++)
			;
		u += j == i;
	}
	return u;
}

/* Up to maxd digits, sometimes with leading zeros. */
static void
rand_number(struct buf *b, size_t maxd)
{
	size_t	 i, n = 1 + ri(maxd);

	if (ri(8) == 0)
		buf_addc(b, '0');
	for (i = 0; i < n; i++)
		buf_addc(b, (char)('0' + ri(10)));
}

static void
reencode_rc(const struct hashids *h, const char *csv, unsigned ml,
    struct buf *out, int *rc)
{
	const char *p[4096];
	size_t	 len[4096], n;

	n = split_csv(csv, p, len, 4096);
	*rc = hashids_encode(h, p, len, n, ml, out);
}

/* Decode "1,2,3" back through encode: decode's output re-encodes. */
static void
reencode(const struct hashids *h, const char *csv, unsigned ml,
    struct buf *out)
{
	int	 rc;

	reencode_rc(h, csv, ml, out, &rc);
	cr_assert_eq(rc, HASHIDS_OK, "seed %llu: re-encode of %s",
	    (unsigned long long)seed, csv);
}

/* Change one code point of a hash; it must be invalid or self-consistent. */
static void
mutate_check(const struct hashids *h, const struct buf *hash, unsigned ml,
    const struct buf *alpha, int has_alpha)
{
	uint32_t cps[8192], acps[1024], c;
	size_t	 n, na, i, pos;
	struct buf m, out, again;

	n = utf8_decode(hash->data, hash->len, cps);
	pos = ri(n);
	if (has_alpha && ri(4) != 0) {
		na = utf8_decode(alpha->data, alpha->len, acps);
		c = acps[ri(na)];
	} else
		c = ri(2) ? rand_cp() : (uint32_t)HASHIDS_DEFAULT_ALPHABET[ri(62)];
	cps[pos] = c;
	buf_init(&m, 0);
	buf_init(&out, 0);
	buf_init(&again, 0);
	for (i = 0; i < n; i++)
		if (!(ri(20) == 0 && i == pos && n > 1))	/* sometimes drop */
			add_cp(&m, cps[i]);
	if (hashids_decode(h, buf_cstr(&m), m.len, ml, &out) == HASHIDS_OK) {
		reencode(h, buf_cstr(&out), ml, &again);
		cr_assert_str_eq(buf_cstr(&again), buf_cstr(&m),
		    "seed %llu: mutated hash decodes to %s", (unsigned long long)seed,
		    buf_cstr(&out));
	} else
		cr_assert_eq(out.len, 0);
	buf_reset(&out);
	(void)hashids_decode_hex(h, m.data, m.len, ml, &out);
	buf_free(&m);
	buf_free(&out);
	buf_free(&again);
}

/* All numbers fit in 64 bits: the uint64_t entry point agrees. */
static void
u64_check(const struct hashids *h, const char *const *p, const size_t *len,
    size_t n, unsigned ml, const struct buf *hash)
{
	uint64_t v[32];
	struct buf out;
	size_t	 i;
	char	*end;

	for (i = 0; i < n; i++) {
		if (len[i] > 19)
			return;
		v[i] = strtoull(p[i], &end, 10);
	}
	buf_init(&out, 0);
	cr_assert_eq(hashids_encode_u64(h, v, n, ml, &out), HASHIDS_OK);
	cr_assert_str_eq(buf_cstr(&out), hash->data, "seed %llu",
	    (unsigned long long)seed);
	buf_free(&out);
}

static void
roundtrip_one(const struct hashids *h, const struct buf *alpha, int has_alpha)
{
	struct buf nums, hash, out, want;
	const char *p[32];
	size_t	 len[32], n = 1 + ri(20), i;
	unsigned ml = (unsigned)(ri(4) == 0 ? ri(1001) : ri(50));
	int	 rc;

	buf_init(&nums, 0);
	buf_init(&hash, 0);
	buf_init(&out, 0);
	buf_init(&want, 0);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(&nums, ',');
		rand_number(&nums, ri(3) == 0 ? 60 : 12);
	}
	buf_cstr(&nums);
	n = split_csv(nums.data, p, len, 32);
	rc = hashids_encode(h, p, len, n, ml, &hash);
	if (rc == HASHIDS_ETHROWS)	/* U+0000 in the alphabet, see hashids.h */
		goto out;
	cr_assert_eq(rc, HASHIDS_OK, "seed %llu", (unsigned long long)seed);
	cr_assert_geq(utf8_count(hash.data, hash.len) + 1, ml, "seed %llu",
	    (unsigned long long)seed);
	rc = hashids_decode(h, hash.data, hash.len, ml, &out);
	canon_csv(nums.data, &want);
	/*
	 * A dropped separator (U+0000, see hashids.h) makes a hash that
	 * hashids.js does not decode either, or decodes to other numbers.
	 */
	if ((rc != HASHIDS_OK || strcmp(buf_cstr(&out), want.data) != 0) &&
	    has_alpha && memchr(alpha->data, '\0', alpha->len) != NULL)
		goto out;
	cr_assert_eq(rc, HASHIDS_OK, "seed %llu: %s invalid",
	    (unsigned long long)seed, hash.data);
	cr_assert_str_eq(buf_cstr(&out), want.data, "seed %llu",
	    (unsigned long long)seed);
	u64_check(h, p, len, n, ml, &hash);
	mutate_check(h, &hash, ml, alpha, has_alpha);
out:
	buf_free(&nums);
	buf_free(&hash);
	buf_free(&out);
	buf_free(&want);
}

static void
hex_one(const struct hashids *h, int nul)
{
	static const char digits[] = "0123456789abcdefABCDEF";
	struct buf x, hash, out;
	size_t	 i, n = 1 + ri(100);
	unsigned ml = (unsigned)ri(60);

	buf_init(&x, 0);
	buf_init(&hash, 0);
	buf_init(&out, 0);
	for (i = 0; i < n; i++)
		buf_addc(&x, digits[ri(22)]);
	cr_assert_eq(hashids_encode_hex(h, x.data, x.len, ml, &hash),
	    HASHIDS_OK);
	if (hashids_decode_hex(h, hash.data, hash.len, ml, &out) != HASHIDS_OK) {
		/* A dropped separator, as in roundtrip_one(). */
		cr_assert(nul, "seed %llu: %s invalid", (unsigned long long)seed,
		    hash.data);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (x.data[i] >= 'A' && x.data[i] <= 'F')
			x.data[i] = (char)(x.data[i] - 'A' + 'a');
	/* A hole can also make a hash that is valid for other numbers. */
	if (!nul)
		cr_assert_str_eq(buf_cstr(&out), x.data, "seed %llu",
		    (unsigned long long)seed);
out:
	buf_free(&x);
	buf_free(&hash);
	buf_free(&out);
}

Test(property, roundtrip)
{
	struct buf	 salt, alpha, err;
	struct hashids	*h;
	int		 has, rc, iter, k;

	seed_rng();
	buf_init(&salt, 0);
	buf_init(&alpha, 0);
	buf_init(&err, 0);
	for (iter = 0; iter < 600; iter++) {
		rand_salt(&salt);
		has = rand_alphabet(&alpha);
		buf_reset(&err);
		rc = hashids_new(&h, buf_cstr(&salt), salt.len,
		    has ? alpha.data : NULL, alpha.len, &err);
		if (has && count_unique(alpha.data, alpha.len) < 16) {
			cr_assert_eq(rc, HASHIDS_EALPHABET, "seed %llu",
			    (unsigned long long)seed);
			cr_assert(strncmp(buf_cstr(&err), "Hashids: alphabet must "
			    "contain at least 16 unique characters, provided: ",
			    71) == 0);
			continue;
		}
		cr_assert_eq(rc, HASHIDS_OK, "seed %llu", (unsigned long long)seed);
		for (k = 0; k < 5; k++)
			roundtrip_one(h, &alpha, has);
		for (k = 0; k < 2; k++)
			hex_one(h, has && memchr(alpha.data, '\0', alpha.len));
		hashids_free(h);
	}
	buf_free(&salt);
	buf_free(&alpha);
	buf_free(&err);
}

/* Arbitrary bytes as hashes: no crash, and valid means self-consistent. */
Test(property, garbage)
{
	const struct hashids *h;
	struct buf	 g, out, again;
	size_t		 i, n;
	int		 iter;

	seed_rng();
	buf_init(&g, 0);
	buf_init(&out, 0);
	buf_init(&again, 0);
	cr_assert_eq(hashids_get(&h, NULL, 0, NULL, 0, NULL), HASHIDS_OK);
	for (iter = 0; iter < 20000; iter++) {
		buf_reset(&g);
		buf_reset(&out);
		buf_reset(&again);
		for (i = 0, n = ri(12); i < n; i++)
			buf_addc(&g, ri(8) ? HASHIDS_DEFAULT_ALPHABET[ri(62)] :
			    (char)ri(256));
		if (hashids_decode(h, buf_cstr(&g), g.len, 0, &out) !=
		    HASHIDS_OK)
			continue;
		reencode(h, buf_cstr(&out), 0, &again);
		cr_assert_str_eq(buf_cstr(&again), g.data, "seed %llu",
		    (unsigned long long)seed);
	}
	buf_free(&g);
	buf_free(&out);
	buf_free(&again);
	hashids_cache_clear();
}

/* More set-ups than cache slots, twice over: the cache never mixes them. */
Test(cache, eviction)
{
	const struct hashids *c;
	struct hashids	*h;
	struct buf	 a, b;
	char		 salt[32];
	uint64_t	 nums[2] = { 42, 18446744073709551615ULL };
	int		 round, i;

	buf_init(&a, 0);
	buf_init(&b, 0);
	for (round = 0; round < 3; round++)
		for (i = 0; i < 80; i++) {
			snprintf(salt, sizeof(salt), "salt %d", (i * 7) % 50);
			cr_assert_eq(hashids_get(&c, salt, strlen(salt),
			    i % 3 ? NULL : "0123456789abcdef", 16, NULL),
			    HASHIDS_OK);
			cr_assert_eq(hashids_new(&h, salt, strlen(salt),
			    i % 3 ? NULL : "0123456789abcdef", 16, NULL),
			    HASHIDS_OK);
			buf_reset(&a);
			buf_reset(&b);
			hashids_encode_u64(c, nums, 2, 10, &a);
			hashids_encode_u64(h, nums, 2, 10, &b);
			cr_assert_str_eq(buf_cstr(&a), buf_cstr(&b));
			hashids_free(h);
		}
	cr_assert_eq(hashids_get(&c, "", 0, NULL, 0, NULL), HASHIDS_OK);
	cr_assert_eq(hashids_get(&c, "x", 1, "abc", 3, &a), HASHIDS_EALPHABET);
	cr_assert_null(c);
	hashids_cache_clear();
	buf_free(&a);
	buf_free(&b);
}

Test(api, errors)
{
	const struct hashids *h;
	struct buf	 out;
	const char	*bad[] = { "12", "" }, *ok[] = { "1" };
	size_t		 badlen[] = { 2, 0 }, oklen[] = { 1 };

	buf_init(&out, 0);
	cr_assert_eq(hashids_get(&h, "\xff", 1, NULL, 0, NULL), HASHIDS_EUTF8);
	cr_assert_eq(hashids_get(&h, "", 0, "abcdefghijklmnop\xc0\x80", 18,
	    NULL), HASHIDS_EUTF8);
	cr_assert_eq(hashids_get(&h, "", 0, NULL, 0, NULL), HASHIDS_OK);
	cr_assert_eq(hashids_encode(h, bad, badlen, 2, 0, &out), HASHIDS_EINPUT);
	cr_assert_eq(hashids_encode(h, ok, oklen, 0, 0, &out), HASHIDS_EINPUT);
	cr_assert_eq(hashids_encode(h, ok, oklen, 1, HASHIDS_MAX_MIN_LENGTH + 1,
	    &out), HASHIDS_ERANGE);
	cr_assert_eq(hashids_encode_hex(h, "12g", 3, 0, &out), HASHIDS_EINPUT);
	cr_assert_eq(out.len, 0);
	cr_assert_eq(hashids_decode(h, "jR\xff", 3, 0, &out), HASHIDS_INVALID);
	cr_assert_eq(hashids_decode(h, "jR", 2, 1u << 31, &out),
	    HASHIDS_INVALID);
	cr_assert_eq(hashids_decode(h, "jR", 2, 0, &out), HASHIDS_OK);
	cr_assert_str_eq(buf_cstr(&out), "1");
	cr_assert_str_eq(hashids_strerror(HASHIDS_INVALID), "invalid hash");
	cr_assert_str_eq(hashids_strerror(-1), "unknown error");
	hashids_cache_clear();
	buf_free(&out);
}

/* Big numbers: decimal in, decimal out, and hex, against uint64_t. */
Test(bignum, roundtrip)
{
	struct bignum	 b;
	struct buf	 in, out, want;
	uint64_t	 v, got;
	char		 tmp[32];
	int		 iter;

	seed_rng();
	bn_init(&b);
	buf_init(&in, 0);
	buf_init(&out, 0);
	buf_init(&want, 0);
	for (iter = 0; iter < 2000; iter++) {
		buf_reset(&in);
		buf_reset(&out);
		buf_reset(&want);
		rand_number(&in, 200);
		cr_assert_eq(bn_from_dec(&b, buf_cstr(&in), in.len), 0);
		cr_assert_eq(bn_to_dec(&b, &out), 0);
		canon_csv(in.data, &want);
		cr_assert_str_eq(buf_cstr(&out), want.data, "seed %llu",
		    (unsigned long long)seed);
		v = rnd() >> ri(64);
		cr_assert_eq(bn_set_u64(&b, v), 0);
		cr_assert_eq(bn_to_u64(&b, &got), 0);
		cr_assert_eq(got, v);
		cr_assert_eq(bn_mod(&b, 1000003), v % 1000003);
		buf_reset(&out);
		bn_to_hex(&b, &out);
		snprintf(tmp, sizeof(tmp), "%llx", (unsigned long long)v);
		cr_assert_str_eq(buf_cstr(&out), tmp);
	}
	cr_assert_eq(bn_from_dec(&b, "12a", 3), -1);
	bn_free(&b);
	buf_free(&in);
	buf_free(&out);
	buf_free(&want);
}

/*
 * U+0000 in the alphabet: number % 0 in hashids.js.  A plain number loses
 * its separator (NaN index, undefined, dropped by join), a BigInt throws.
 * Cases from hashids.js 2.3.0, salt "s".
 */
Test(api, nul_alphabet)
{
	static const char al[] = "\0abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";
	static const struct {
		const char	*nums;
		unsigned	 ml;
		const char	*hash;
		size_t		 hlen;
		const char	*decoded;	/* NULL: invalid */
	} c[] = {
		{ "15,5", 0, "\0qtd", 4, "15,5" },
		{ "123,5", 0, "w\0vl", 4, NULL },
		{ "123,5,7", 0, "EAeFEue", 7, "123,5,7" },
		{ "135,9", 0, "mqvCz", 5, "135,9" },
		{ "123,5", 10, "pmbw\0vlj\0", 9, NULL },
		{ "8682083963232376,5", 0, "E\0ynrxyaJdqBgE", 14, NULL },
		{ "483774229877974829,5", 0, NULL, 0, NULL },
		{ "283698810165756567,5", 0, NULL, 0, NULL },
	};
	const struct hashids *h;
	struct buf	 out;
	size_t		 i;
	int		 rc;

	buf_init(&out, 0);
	cr_assert_eq(hashids_get(&h, "s", 1, al, sizeof(al) - 1, NULL),
	    HASHIDS_OK);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		buf_reset(&out);
		reencode_rc(h, c[i].nums, c[i].ml, &out, &rc);
		if (c[i].hash == NULL) {
			cr_assert_eq(rc, HASHIDS_ETHROWS, "case %zu", i);
			continue;
		}
		cr_assert_eq(rc, HASHIDS_OK, "case %zu", i);
		cr_assert_eq(out.len, c[i].hlen, "case %zu", i);
		cr_assert(memcmp(out.data, c[i].hash, c[i].hlen) == 0,
		    "case %zu", i);
		buf_reset(&out);
		rc = hashids_decode(h, c[i].hash, c[i].hlen, c[i].ml, &out);
		if (c[i].decoded == NULL)
			cr_assert_eq(rc, HASHIDS_INVALID, "case %zu", i);
		else
			cr_assert_str_eq(buf_cstr(&out), c[i].decoded);
	}
	hashids_cache_clear();
	buf_free(&out);
}

/*
 * Decode's check is linear (hashids.h): it must agree with the oracle,
 * hashids.js's own check (decode, encode again, compare), on every hash
 * whose numbers are within HASHIDS_MAX_DIGITS.  Past it, decode says
 * invalid where the oracle may not.
 */
struct agreement {
	size_t	 n;		/* hashes checked */
	size_t	 valid;
	size_t	 capped;	/* valid for the oracle, past the cap */
};

static int
over_cap(const char *csv)
{
	size_t	 run = 0;

	for (; *csv != '\0'; csv++)
		if (*csv == ',')
			run = 0;
		else if (++run > HASHIDS_MAX_DIGITS)
			return 1;
	return 0;
}

static void
agree(const struct hashids *h, const char *hash, size_t len, unsigned ml,
    struct agreement *a)
{
	struct buf	 lin, ora;
	int		 rl, ro;

	buf_init(&lin, 0);
	buf_init(&ora, 0);
	rl = hashids_decode(h, hash, len, ml, &lin);
	ro = hashids_decode_oracle(h, hash, len, ml, &ora);
	if (ro == HASHIDS_OK && rl == HASHIDS_INVALID &&
	    over_cap(buf_cstr(&ora)))
		a->capped++;
	else {
		cr_assert_eq(rl, ro, "seed %llu: %s, the oracle %s: %zu-byte "
		    "hash \"%.*s\", min_length %u", (unsigned long long)seed,
		    hashids_strerror(rl), hashids_strerror(ro), len, (int)len,
		    hash, ml);
		cr_assert_str_eq(buf_cstr(&lin), buf_cstr(&ora),
		    "seed %llu: \"%.*s\"", (unsigned long long)seed, (int)len,
		    hash);
	}
	a->n++;
	a->valid += rl == HASHIDS_OK;
	buf_free(&lin);
	buf_free(&ora);
}

/* Code points as UTF-8 into b, with c put in place of (or before) at. */
static void
put_mutant(struct buf *b, const uint32_t *cps, size_t n, size_t at,
    uint32_t c, int insert)
{
	size_t	 i;

	buf_reset(b);
	for (i = 0; i <= n; i++) {
		if (i == at)
			add_cp(b, c);
		if (i < n && !(i == at && !insert))
			add_cp(b, cps[i]);
	}
	buf_cstr(b);
}

/*
 * A valid hash and its mutants: other min_lengths (one short, one long),
 * every alphabet character in place of one code point and inserted
 * before one (so at a segment's start, one of them is its zero digit; in
 * place of a separator or a guard, the others of its kind), and cuts.
 */
static void
agree_mutants(const struct hashids *h, const struct buf *hash, unsigned ml,
    const uint32_t *al, size_t nal, struct agreement *a)
{
	uint32_t cps[8192];
	struct buf m;
	size_t	 n, i, at, r;

	buf_init(&m, 0);
	n = utf8_decode(hash->data, hash->len, cps);
	agree(h, hash->data, hash->len, ml, a);
	agree(h, hash->data, hash->len, ml + 1, a);
	agree(h, hash->data, hash->len, ml > 0 ? ml - 1 : 0, a);
	agree(h, hash->data, hash->len, 0, a);
	for (r = 0; r < 2; r++) {
		at = ri(n);
		for (i = 0; i < nal; i++) {
			put_mutant(&m, cps, n, at, al[i], 0);
			agree(h, m.data, m.len, ml, a);
		}
		at = ri(n + 1);
		for (i = 0; i < nal; i++) {
			put_mutant(&m, cps, n, at, al[i], 1);
			agree(h, m.data, m.len, ml, a);
		}
	}
	for (i = 0; i < 4 && n > 1; i++) {
		at = i == 0 ? 0 : i == 1 ? n - 1 : ri(n);
		buf_reset(&m);
		for (r = 0; r < n; r++)
			if (r != at)
				add_cp(&m, cps[r]);
		agree(h, buf_cstr(&m), m.len, ml, a);
		agree(h, hash->data, hash->len - (i + 1 < hash->len ? i + 1 :
		    0), ml, a);
	}
	buf_free(&m);
}

/*
 * Random numbers, small to past the cap, encoded, and their mutants; and
 * each hash under another salt (other, if not NULL).
 */
static void
agree_setup(const struct hashids *h, const struct hashids *other,
    const uint32_t *al, size_t nal, size_t hashes, struct agreement *a)
{
	struct buf nums, hash;
	const char *p[32];
	size_t	 len[32], n, i, k, d;
	unsigned ml;

	buf_init(&nums, 0);
	buf_init(&hash, 0);
	for (k = 0; k < hashes; k++) {
		buf_reset(&nums);
		buf_reset(&hash);
		for (i = 0, n = 1 + ri(ri(3) ? 4 : 20); i < n; i++) {
			if (i > 0)
				buf_addc(&nums, ',');
			if (ri(300) == 0)	/* the cap's edge */
				for (d = 0; d < HASHIDS_MAX_DIGITS + ri(2); d++)
					buf_addc(&nums, d ? '0' + ri(10) : '9');
			else if (ri(5) == 0)
				buf_addc(&nums, '0');
			else
				rand_number(&nums, ri(3) == 0 ? 60 : 12);
		}
		ml = (unsigned)(ri(10) == 0 ? ri(300) : ri(40));
		n = split_csv(buf_cstr(&nums), p, len, 32);
		if (hashids_encode(h, p, len, n, ml, &hash) != HASHIDS_OK)
			continue;
		agree_mutants(h, &hash, ml, al, nal, a);
		if (other != NULL)
			agree(other, hash.data, hash.len, ml, a);
	}
	buf_free(&nums);
	buf_free(&hash);
}

/* The unique code points of an alphabet, or of the default one. */
static size_t
alphabet_cps(const struct buf *alpha, int has, uint32_t *out)
{
	uint32_t cps[1024];
	size_t	 n, i, j, u = 0;

	if (!has)
		n = utf8_decode(HASHIDS_DEFAULT_ALPHABET,
		    sizeof(HASHIDS_DEFAULT_ALPHABET) - 1, cps);
	else
		n = utf8_decode(alpha->data, alpha->len, cps);
	for (i = 0; i < n; i++) {
		for (j = 0; j < u && out[j] != cps[i]; j++)
			;
		if (j == u)
			out[u++] = cps[i];
	}
	return u;
}

/* Every hash of one or two characters, and some of three. */
static void
agree_short(const struct hashids *h, const uint32_t *al, size_t nal,
    struct agreement *a)
{
	struct buf	 m;
	size_t		 i, j, k;
	unsigned	 ml;

	buf_init(&m, 0);
	for (i = 0; i < nal; i++)
		for (j = 0; j <= nal; j++)
			for (ml = 0; ml < 4; ml++) {
				buf_reset(&m);
				add_cp(&m, al[i]);
				if (j < nal)
					add_cp(&m, al[j]);
				for (k = 0; ml == 3 && k < 1; k++)
					add_cp(&m, al[ri(nal)]);
				agree(h, buf_cstr(&m), m.len, ml % 3, a);
			}
	buf_free(&m);
}

/* 10^1000 - 1 and 10^1000, alone and among others. */
static void
agree_edge(const struct hashids *h, const uint32_t *al, size_t nal,
    struct agreement *a)
{
	struct buf	 nums, hash;
	const char	*p[3];
	size_t		 len[3], n, i, k;

	buf_init(&nums, 0);
	buf_init(&hash, 0);
	for (k = 0; k < 4; k++) {
		buf_reset(&nums);
		buf_reset(&hash);
		if (k >= 2)
			buf_addl(&nums, "5,");
		for (i = 0; i < HASHIDS_MAX_DIGITS + k % 2; i++)
			buf_addc(&nums, k % 2 == 0 ? '9' : i == 0 ? '1' : '0');
		if (k >= 2)
			buf_addl(&nums, ",7");
		n = split_csv(buf_cstr(&nums), p, len, 3);
		cr_assert_eq(hashids_encode(h, p, len, n, 20, &hash),
		    HASHIDS_OK);
		agree_mutants(h, &hash, 20, al, nal, a);
	}
	buf_free(&nums);
	buf_free(&hash);
}

Test(check, agrees_with_the_oracle)
{
	static const char nul[] = "\0abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";
	struct agreement a = { 0, 0, 0 };
	struct buf	 salt, alpha;
	struct hashids	*h, *other;
	uint32_t	 al[1024];
	size_t		 nal;
	int		 iter, has;

	seed_rng();
	buf_init(&salt, 0);
	buf_init(&alpha, 0);
	cr_assert_eq(hashids_new(&h, "", 0, NULL, 0, NULL), HASHIDS_OK);
	nal = alphabet_cps(&alpha, 0, al);
	agree_short(h, al, nal, &a);
	agree_edge(h, al, nal, &a);
	hashids_free(h);
	/* U+0000 in the alphabet: holes, throws, one short of min_length. */
	cr_assert_eq(hashids_new(&h, "s", 1, nul, sizeof(nul) - 1, NULL),
	    HASHIDS_OK);
	buf_add(&alpha, nul, sizeof(nul) - 1);
	nal = alphabet_cps(&alpha, 1, al);
	agree_setup(h, NULL, al, nal, 60, &a);
	agree_short(h, al, nal, &a);
	hashids_free(h);
	for (iter = 0; iter < 150; iter++) {
		rand_salt(&salt);
		has = rand_alphabet(&alpha);
		if (hashids_new(&h, buf_cstr(&salt), salt.len,
		    has ? alpha.data : NULL, alpha.len, NULL) != HASHIDS_OK)
			continue;
		nal = alphabet_cps(&alpha, has, al);
		if (hashids_new(&other, "other", 5, has ? alpha.data : NULL,
		    alpha.len, NULL) != HASHIDS_OK)
			other = NULL;
		agree_setup(h, other, al, nal, 4, &a);
		hashids_free(other);
		hashids_free(h);
	}
	cr_assert_geq(a.n, 50000, "%zu hashes", a.n);
	cr_assert_geq(a.valid, 2000, "%zu valid", a.valid);
	cr_assert_geq(a.n - a.valid, 40000, "%zu invalid", a.n - a.valid);
	cr_assert_geq(a.capped, 2, "%zu past the cap", a.capped);
	cr_log_info("%zu hashes, %zu valid, %zu past the cap", a.n, a.valid,
	    a.capped);
	buf_free(&salt);
	buf_free(&alpha);
}

/* The decimal digits of alen^m - 1: m times the last digit of base alen. */
static void
all_last_digits(struct buf *out, uint32_t alen, size_t m)
{
	struct bignum	 b;
	size_t		 i;

	bn_init(&b);
	for (i = 0; i < m; i++)
		cr_assert_eq(bn_muladd(&b, alen, alen - 1), 0);
	cr_assert_eq(bn_to_dec(&b, out), 0);
	bn_free(&b);
}

/*
 * The cap (hashids.h).  44^3950 - 1 in the default alphabet (44 digits
 * once the separators and guards are out) is "X" and 3,950 times "m":
 * hashids.js 2.3.0 makes that hash and decodes it back (checked with
 * node), and so does the oracle; decode does not, past the cap.
 */
Test(cap, huge_number)
{
	const struct hashids *h;
	struct buf	 num, hash, out;
	const char	*p[1];
	size_t		 len[1], i;

	buf_init(&num, 0);
	buf_init(&hash, 0);
	buf_init(&out, 0);
	all_last_digits(&num, 44, 3950);
	cr_assert_eq(num.len, 6492);
	p[0] = num.data;
	len[0] = num.len;
	cr_assert_eq(hashids_get(&h, "", 0, NULL, 0, NULL), HASHIDS_OK);
	cr_assert_eq(hashids_encode(h, p, len, 1, 0, &hash), HASHIDS_OK);
	cr_assert_eq(hash.len, 3951);
	cr_assert_eq(hash.data[0], 'X');
	for (i = 1; i < hash.len; i++)
		cr_assert_eq(hash.data[i], 'm', "at %zu", i);
	cr_assert_eq(hashids_decode_oracle(h, hash.data, hash.len, 0, &out),
	    HASHIDS_OK);
	cr_assert_str_eq(buf_cstr(&out), num.data);
	buf_reset(&out);
	cr_assert_eq(hashids_decode(h, hash.data, hash.len, 0, &out),
	    HASHIDS_INVALID, "a number of %zu digits decodes", num.len);
	cr_assert_eq(out.len, 0);
	cr_assert_eq(hashids_decode_hex(h, hash.data, hash.len, 0, &out),
	    HASHIDS_INVALID);
	cr_assert_eq(out.len, 0);
	buf_free(&num);
	buf_free(&hash);
	buf_free(&out);
	hashids_cache_clear();
}

/*
 * Set-ups at the edges: 0 the default alphabet, 1 the fewest digits (2:
 * all but two characters are separators), 2 16 characters, 3 the most
 * (1,024 characters of two bytes).
 */
static const struct hashids *
edge_setup(size_t which, const char *salt)
{
	static const char *const alphabets[] = { NULL, "cfhistuCFHISTUab",
	    "0123456789abcdef" };
	const struct hashids *h;
	struct buf	 big;
	size_t		 i;

	buf_init(&big, 0);
	for (i = 0; i < 1024; i++)
		add_cp(&big, 0x400 + (uint32_t)i);
	if (which < 3)
		cr_assert_eq(hashids_get(&h, salt, strlen(salt),
		    alphabets[which], which ? 16 : 0, NULL), HASHIDS_OK);
	else
		cr_assert_eq(hashids_get(&h, salt, strlen(salt), big.data,
		    big.len, NULL), HASHIDS_OK);
	buf_free(&big);
	return h;
}

/*
 * The cap's edge in the smallest and largest alphabets: 10^1000 - 1
 * decodes, alone or among others, 10^1000 does not.
 */
Test(cap, edge)
{
	const struct hashids *h;
	struct buf	 nums, hash, out;
	const char	*p[3];
	size_t		 len[3], n, i, k, a;
	int		 want;

	buf_init(&nums, 0);
	buf_init(&hash, 0);
	buf_init(&out, 0);
	for (a = 0; a < 4; a++) {
		h = edge_setup(a, "salt");
		for (k = 0; k < 8; k++) {
			buf_reset(&nums);
			buf_reset(&hash);
			buf_reset(&out);
			if (k & 2)
				buf_addl(&nums, "5,");
			for (i = 0; i < HASHIDS_MAX_DIGITS + (k & 1); i++)
				buf_addc(&nums, k & 1 ? (i ? '0' : '1') : '9');
			if (k & 2)
				buf_addl(&nums, ",7");
			n = split_csv(buf_cstr(&nums), p, len, 3);
			cr_assert_eq(hashids_encode(h, p, len, n, k & 4 ? 1000 : 0,
			    &hash), HASHIDS_OK);
			want = k & 1 ? HASHIDS_INVALID : HASHIDS_OK;
			cr_assert_eq(hashids_decode(h, hash.data, hash.len,
			    k & 4 ? 1000 : 0, &out), want, "alphabet %zu, "
			    "case %zu", a, k);
			if (want == HASHIDS_OK)
				cr_assert_str_eq(buf_cstr(&out), nums.data);
		}
	}
	buf_free(&nums);
	buf_free(&hash);
	buf_free(&out);
	hashids_cache_clear();
}

/*
 * Decode's cost, counted rather than timed: bignum.c's limb operations
 * per character of the hash.  The worst shapes of 4,096 characters (one
 * number as long as the hash; as many numbers at the cap as fit) cost
 * at most a small constant times a short hash of one 100-digit number
 * (the most /v1/encode takes), in the alphabets that pack the fewest
 * and the most bits per character.  The constant is the cap's size:
 * a number's reading and printing are quadratic in its length, bounded.
 */
static double
limbs_per_char(const struct hashids *h, const struct buf *hash)
{
	struct buf	 out;
	uint64_t	 before = bn_limb_ops;

	buf_init(&out, 0);
	(void)hashids_decode(h, hash->data, hash->len, 0, &out);
	buf_free(&out);
	return (double)(bn_limb_ops - before) /
	    (double)utf8_count(hash->data, hash->len);
}

/* Encode numbers of digits digits each, as many as make about chars. */
static void
shaped(const struct hashids *h, size_t digits, size_t chars, struct buf *hash)
{
	const char	*p[64];
	size_t		 len[64], n, i, count, each;
	struct buf	 nums;

	buf_init(&nums, 0);
	for (count = 1;; count++) {
		buf_reset(&nums);
		buf_reset(hash);
		for (n = 0; n < count; n++) {
			if (n > 0)
				buf_addc(&nums, ',');
			for (i = 0; i < digits; i++)
				buf_addc(&nums, (char)('1' + (n + i) % 9));
		}
		n = split_csv(buf_cstr(&nums), p, len, 64);
		cr_assert_eq(hashids_encode(h, p, len, n, 0, hash), HASHIDS_OK);
		each = utf8_count(hash->data, hash->len) / count;
		if ((count + 1) * each > chars || count == 64)
			break;
	}
	buf_free(&nums);
}

Test(cost, linear)
{
	const struct hashids *h;
	struct buf	 hash;
	double		 small, one, many;
	size_t		 a, digits;

	buf_init(&hash, 0);
	for (a = 0; a < 4; a++) {
		h = edge_setup(a, "");
		shaped(h, 100, 0, &hash);
		(void)limbs_per_char(h, &hash);		/* builds the cap */
		small = limbs_per_char(h, &hash);
		/* One number: as many digits as make 4,096 characters. */
		digits = 100 * 4095 / (utf8_count(hash.data, hash.len) - 1);
		shaped(h, digits, 0, &hash);
		one = limbs_per_char(h, &hash);
		shaped(h, HASHIDS_MAX_DIGITS - 1, 4096, &hash);
		many = limbs_per_char(h, &hash);
		cr_log_info("alphabet %zu: %.1f limbs per character, %.1f and "
		    "%.1f for 4,096", a, small, one, many);
		cr_assert_gt(small, 0);
		cr_assert_leq(one, 12 * small, "alphabet %zu: one number: %.1f "
		    "limbs per character, %.1f for a short hash", a, one, small);
		cr_assert_leq(many, 12 * small, "alphabet %zu: numbers at the "
		    "cap: %.1f limbs per character, %.1f for a short hash", a,
		    many, small);
	}
	buf_free(&hash);
	hashids_cache_clear();
}
