/*
 * test_sqids.c: the Sqids algorithm (sqids.c) against the reference
 * implementations' own test cases (tests/vectors/sqids.jsonl) and more
 * cases made with the npm package sqids 0.3.0
 * (tests/vectors/sqids-extra.jsonl), then its corners: 64-bit numbers,
 * decoding past 2^64 - 1, blocklist filtering, the cache.
 *
 * The files are found under $srcdir (make check sets it), else here.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "sqids.h"

#define NUMS_MAX	256

static void
teardown(void)
{
	sqids_cache_clear();
}

TestSuite(sqids, .fini = teardown, .timeout = 60);

/* The set-up a row names: null for the defaults, a list joined by commas. */
static enum sqids_rc
row_sqids(json_object *r, const struct sqids **s, struct buf *tmp)
{
	json_object	*a = json_object_object_get(r, "alphabet");
	json_object	*b = json_object_object_get(r, "blocklist");
	size_t		 i;

	buf_reset(tmp);
	for (i = 0; b != NULL && i < json_object_array_length(b); i++) {
		if (i > 0)
			buf_addc(tmp, ',');
		buf_adds(tmp, json_object_get_string(
		    json_object_array_get_idx(b, i)));
	}
	return sqids_get(s, a == NULL ? NULL : json_object_get_string(a),
	    a == NULL ? 0 : (size_t)json_object_get_string_len(a),
	    b == NULL ? NULL : (tmp->data != NULL ? tmp->data : ""),
	    tmp->len);
}

static size_t
row_numbers(json_object *r, uint64_t *nums)
{
	json_object	*a = json_object_object_get(r, "numbers");
	size_t		 i, n = json_object_array_length(a);

	cr_assert_leq(n, NUMS_MAX);
	for (i = 0; i < n; i++)
		nums[i] = json_object_get_uint64(json_object_array_get_idx(a,
		    i));
	return n;
}

static void
check_row(json_object *r, const char *where)
{
	const char	*op = json_object_get_string(json_object_object_get(r,
			    "op"));
	json_object	*idv = json_object_object_get(r, "id");
	const struct sqids *s;
	uint64_t	 nums[NUMS_MAX], got[4096];
	struct buf	 out, tmp;
	enum sqids_rc	 rc;
	unsigned	 ml = (unsigned)json_object_get_int(
			    json_object_object_get(r, "min_length"));
	size_t		 n = row_numbers(r, nums), gn, idlen;
	const char	*id = idv != NULL ? json_object_get_string(idv) : NULL;

	idlen = idv != NULL ? (size_t)json_object_get_string_len(idv) : 0;
	buf_init(&out, 0);
	buf_init(&tmp, 0);
	rc = row_sqids(r, &s, &tmp);
	if (strcmp(op, "error") == 0) {
		if (rc == SQIDS_OK)
			rc = sqids_encode(s, nums, n, ml, &out);
		cr_assert_str_eq(sqids_strerror(rc), json_object_get_string(
		    json_object_object_get(r, "error")), "%s", where);
		goto done;
	}
	cr_assert_eq(rc, SQIDS_OK, "%s: %s", where, sqids_strerror(rc));
	if (strcmp(op, "roundtrip") == 0) {
		cr_assert_eq(sqids_encode(s, nums, n, ml, &out), SQIDS_OK);
		id = buf_cstr(&out);
		idlen = out.len;
		op = "decode";
	} else if (strcmp(op, "decode") != 0) {
		cr_assert_eq(sqids_encode(s, nums, n, ml, &out), SQIDS_OK,
		    "%s", where);
		cr_assert_eq(out.len, idlen, "%s: %s", where, buf_cstr(&out));
		cr_assert_eq(memcmp(out.data, id, idlen), 0, "%s: got %s", where,
		    buf_cstr(&out));
	}
	if (strcmp(op, "encode") == 0)
		goto done;
	rc = sqids_decode(s, id, idlen, got, &gn);
	cr_assert(rc == SQIDS_OK || (n == 0 && rc == SQIDS_ERANGE), "%s",
	    where);
	cr_assert_eq(gn, n, "%s: %zu numbers, wanted %zu", where, gn, n);
	cr_assert_arr_eq(got, nums, n * sizeof(nums[0]), "%s", where);
done:
	buf_free(&out);
	buf_free(&tmp);
}

static size_t
run_file(const char *name)
{
	char		 path[1024], line[65536], where[1200];
	const char	*dir = getenv("srcdir");
	json_object	*r;
	FILE		*fp;
	size_t		 n = 0;

	snprintf(path, sizeof(path), "%s/tests/vectors/%s", dir != NULL ?
	    dir : ".", name);
	cr_assert_not_null(fp = fopen(path, "r"), "%s", path);
	while (fgets(line, sizeof(line), fp) != NULL) {
		n++;
		snprintf(where, sizeof(where), "%s:%zu", name, n);
		cr_assert_not_null(r = json_tokener_parse(line), "%s", where);
		check_row(r, where);
		json_object_put(r);
	}
	fclose(fp);
	return n;
}

Test(sqids, reference_test_cases)
{
	cr_assert_eq(run_file("sqids.jsonl"), 123);
}

Test(sqids, cases_made_with_the_npm_package)
{
	cr_assert_eq(run_file("sqids-extra.jsonl"), 12);
}

/* 64-bit numbers round-trip; an ID of a number past 2^64 - 1 decodes to
 * nothing, as in the 64-bit implementations. */
Test(sqids, sixty_four_bits)
{
	const struct sqids *s;
	uint64_t	 nums[] = { UINT64_MAX, 0, UINT64_MAX - 1,
			    (UINT64_C(1) << 53) }, got[64];
	struct buf	 out;
	size_t		 n, i;

	buf_init(&out, 0);
	cr_assert_eq(sqids_get(&s, NULL, 0, NULL, 0), SQIDS_OK);
	for (i = 0; i < 4; i++) {
		buf_reset(&out);
		cr_assert_eq(sqids_encode(s, nums + i, 1, 0, &out), SQIDS_OK);
		cr_assert_eq(sqids_decode(s, out.data, out.len, got, &n),
		    SQIDS_OK);
		cr_assert_eq(n, 1);
		cr_assert_eq(got[0], nums[i]);
	}
	/* sqids-rust's case of a number past 2^64 - 1. */
	cr_assert_eq(sqids_decode(s, "0J4AEXRN106Z0", 13, got, &n),
	    SQIDS_ERANGE);
	cr_assert_eq(n, 0);
	buf_free(&out);
}

/* Words shorter than 3, or with a character the alphabet lacks, are
 * dropped; commas make empty words, which are dropped too. */
Test(sqids, blocklist_filtering)
{
	const struct sqids *s;
	struct buf	 a, b;
	uint64_t	 one = 4572721;

	buf_init(&a, 0);
	buf_init(&b, 0);
	cr_assert_eq(sqids_get(&s, NULL, 0, ",,ah,aho1e!,", 12), SQIDS_OK);
	cr_assert_eq(sqids_encode(s, &one, 1, 0, &a), SQIDS_OK);
	cr_assert_str_eq(buf_cstr(&a), "aho1e");
	cr_assert_eq(sqids_get(&s, NULL, 0, ",AHO1E,", 7), SQIDS_OK);
	cr_assert_eq(sqids_encode(s, &one, 1, 0, &b), SQIDS_OK);
	cr_assert_str_neq(buf_cstr(&b), "aho1e");
	/* The default list blocks it too; an empty one blocks nothing. */
	buf_reset(&b);
	cr_assert_eq(sqids_get(&s, NULL, 0, NULL, 0), SQIDS_OK);
	cr_assert_eq(sqids_encode(s, &one, 1, 0, &b), SQIDS_OK);
	cr_assert_str_eq(buf_cstr(&b), "JExTR");
	buf_reset(&b);
	cr_assert_eq(sqids_get(&s, NULL, 0, "", 0), SQIDS_OK);
	cr_assert_eq(sqids_encode(s, &one, 1, 0, &b), SQIDS_OK);
	cr_assert_str_eq(buf_cstr(&b), "aho1e");
	buf_free(&a);
	buf_free(&b);
}

/* The order of the reference's checks, and its messages. */
Test(sqids, alphabet_errors)
{
	const struct sqids *s;

	cr_assert_eq(sqids_get(&s, "ab\xc3\xab", 4, NULL, 0),
	    SQIDS_EMULTIBYTE);
	cr_assert_eq(sqids_get(&s, "\xc3\xab", 2, NULL, 0), SQIDS_EMULTIBYTE);
	cr_assert_eq(sqids_get(&s, "", 0, NULL, 0), SQIDS_ESHORT);
	cr_assert_eq(sqids_get(&s, "aa", 2, NULL, 0), SQIDS_ESHORT);
	cr_assert_eq(sqids_get(&s, "aab", 3, NULL, 0), SQIDS_EUNIQUE);
	cr_assert_str_eq(sqids_strerror(SQIDS_EUNIQUE),
	    "Alphabet must contain unique characters");
	cr_assert_eq(sqids_get(&s, "a\0b", 3, NULL, 0), SQIDS_OK);
}

/* The same set-up is built once; another replaces the last one. */
Test(sqids, cache)
{
	const struct sqids *s1, *s2, *s3, *d;

	cr_assert_eq(sqids_get(&d, NULL, 0, NULL, 0), SQIDS_OK);
	cr_assert_eq(sqids_get(&s1, "abcdef", 6, "x", 1), SQIDS_OK);
	cr_assert_eq(sqids_get(&s2, "abcdef", 6, "x", 1), SQIDS_OK);
	cr_assert_eq(s1, s2);
	cr_assert_eq(sqids_get(&s3, "abcdef", 6, NULL, 0), SQIDS_OK);
	cr_assert_eq(sqids_get(&s2, SQIDS_DEFAULT_ALPHABET,
	    sizeof(SQIDS_DEFAULT_ALPHABET) - 1, NULL, 0), SQIDS_OK);
	cr_assert_eq(s2, d);
}
