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
