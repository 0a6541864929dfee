/*
 * test_params.c: the one number parser, and query parameters checked
 * against a table with messages built from its bounds.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "params.h"
#include "parse.h"

Test(parse, uint_bounds_and_syntax)
{
	uint64_t	 v;

	cr_assert_eq(parse_uint("0", 1, 10, &v), PARSE_OK);
	cr_assert_eq(v, 0);
	cr_assert_eq(parse_uint("10", 2, 10, &v), PARSE_OK);
	cr_assert_eq(v, 10);
	cr_assert_eq(parse_uint("11", 2, 10, &v), PARSE_RANGE);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(parse_uint("007", 3, 10, &v), PARSE_OK);
	cr_assert_eq(v, 7);
	cr_assert_eq(parse_uint("+1", 2, 10, &v), PARSE_SYNTAX);
	cr_assert_eq(parse_uint(" 1", 2, 10, &v), PARSE_SYNTAX);
	cr_assert_eq(parse_uint("", 0, 10, &v), PARSE_SYNTAX);
	cr_assert_eq(parse_uint("1x", 2, 10, &v), PARSE_SYNTAX);
	/* Digits past any bound are too large, not junk. */
	cr_assert_eq(parse_uint("99999999999999999999", 20, UINT64_MAX, &v),
	    PARSE_RANGE);
	cr_assert_eq(parse_uint("18446744073709551615", 20, UINT64_MAX, &v),
	    PARSE_OK);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(parse_uint("18446744073709551616", 20, UINT64_MAX, &v),
	    PARSE_RANGE);
	/* Only len bytes are read. */
	cr_assert_eq(parse_uint("12abc", 2, 100, &v), PARSE_OK);
	cr_assert_eq(v, 12);
}

static const struct pdef defs[] = {
	{ "numbers", PK_NUMBERS, 0, 3, 4, 1 },
	{ "salt", PK_UTF8, 0, 8, 0, 0 },
	{ "min_length", PK_UINT, 2, 50, 0, 0 },
	{ "alphabet", PK_CHARS, 0, 5, 0, 0 },
	{ "hex", PK_HEX, 0, 6, 0, 0 },
	{ "hash", PK_BYTES, 0, 4, 0, 0 },
};
#define NDEFS	(sizeof(defs) / sizeof(defs[0]))

/* The message params_check gives for query q, or "" when it passes. */
static const char *
check(const char *q)
{
	static struct buf msg;
	struct qlist	 ql;
	struct param	 p[NDEFS];
	int		 rc;

	qlist_init(&ql);
	buf_reset(&msg);
	cr_assert_eq(qlist_parse(&ql, q, strlen(q)), 0);
	rc = params_check(&ql, defs, NDEFS, p, &msg);
	qlist_free(&ql);
	return rc == 0 ? "" : buf_cstr(&msg);
}

Test(params, messages_come_from_the_bounds)
{
	cr_assert_str_eq(check(""), "numbers is required");
	cr_assert_str_eq(check("numbers="), "numbers is required");
	cr_assert_str_eq(check("numbers=1,2"), "");
	cr_assert_str_eq(check("numbers=1,2,3,4"),
	    "numbers must hold at most 3 numbers");
	cr_assert_str_eq(check("numbers=12345"),
	    "numbers must have at most 4 digits each");
	cr_assert_str_eq(check("numbers=1,,2"),
	    "numbers must be comma-separated whole numbers of at least 0");
	cr_assert_str_eq(check("numbers=-1"),
	    "numbers must be comma-separated whole numbers of at least 0");
	cr_assert_str_eq(check("numbers=+1+,+2"), "");
	cr_assert_str_eq(check("numbers=1&salt=123456789"),
	    "salt must be at most 8 bytes");
	cr_assert_str_eq(check("numbers=1&salt=%ff"),
	    "salt must be valid UTF-8");
	cr_assert_str_eq(check("numbers=1&min_length=1"),
	    "min_length must be a whole number from 2 to 50");
	cr_assert_str_eq(check("numbers=1&min_length=51"),
	    "min_length must be a whole number from 2 to 50");
	cr_assert_str_eq(check("numbers=1&min_length="),
	    "min_length must be a whole number from 2 to 50");
	cr_assert_str_eq(check("numbers=1&min_length=50"), "");
	/* Characters, not bytes: five two-byte letters pass. */
	cr_assert_str_eq(check("numbers=1&alphabet=%c3%a9%c3%a8%c3%aa%c3%ab"
	    "%c3%a0"), "");
	cr_assert_str_eq(check("numbers=1&alphabet=abcdef"),
	    "alphabet must be at most 5 characters");
	cr_assert_str_eq(check("numbers=1&alphabet=%c3"),
	    "alphabet must be valid UTF-8");
	cr_assert_str_eq(check("numbers=1&hex=abcdef0"),
	    "hex must have at most 6 digits");
	cr_assert_str_eq(check("numbers=1&hex=abcdeg"),
	    "hex must be hexadecimal digits (0-9, a-f, A-F)");
	cr_assert_str_eq(check("numbers=1&hex=%00"),
	    "hex must be hexadecimal digits (0-9, a-f, A-F)");
	cr_assert_str_eq(check("numbers=1&hash=%00%01%02%03"), "");
	cr_assert_str_eq(check("numbers=1&hash=12345"),
	    "hash must be at most 4 bytes");
	/* Checked in the table's order: the first bad row speaks. */
	cr_assert_str_eq(check("hash=12345&salt=123456789&numbers=x"),
	    "numbers must be comma-separated whole numbers of at least 0");
}

Test(params, values_and_numbers)
{
	struct buf	 msg;
	struct qlist	 ql;
	struct param	 p[NDEFS];
	const char	*nums[3];
	size_t		 lens[3], n;
	const char	*q = "numbers=+007+,0,+12&min_length=9";

	buf_init(&msg, 0);
	qlist_init(&ql);
	cr_assert_eq(qlist_parse(&ql, q, strlen(q)), 0);
	cr_assert_eq(params_check(&ql, defs, NDEFS, p, &msg), 0);
	cr_assert(p[0].present);
	cr_assert_not(p[1].present);
	cr_assert_str_eq(p[1].val, "");
	cr_assert_eq(p[2].num, 9);
	n = params_numbers(&p[0], nums, lens);
	cr_assert_eq(n, 3);
	cr_assert_eq(lens[0], 3);
	cr_assert_eq(memcmp(nums[0], "007", 3), 0);
	cr_assert_eq(lens[1], 1);
	cr_assert_eq(nums[1][0], '0');
	cr_assert_eq(lens[2], 2);
	cr_assert_eq(memcmp(nums[2], "12", 2), 0);
	qlist_free(&ql);
	buf_free(&msg);
}

Test(params, duplicates_and_overflow)
{
	struct buf	 msg;
	struct qlist	 ql;
	char		 q[1024];
	size_t		 i, o = 0, first64 = 0;

	buf_init(&msg, 0);
	qlist_init(&ql);
	cr_assert_eq(qlist_parse(&ql, "a=1&b=2&a=3", 11), 0);
	cr_assert_eq(qlist_check(&ql, "form fields", &msg), -1);
	cr_assert_str_eq(buf_cstr(&msg), "parameter a is given more than once");
	for (i = 0; i <= QPARAM_MAX; i++) {
		if (i == QPARAM_MAX)
			first64 = o;
		o += (size_t)snprintf(q + o, sizeof(q) - o, "p%zu=1&", i);
	}
	cr_assert_eq(qlist_parse(&ql, q, o), 0);
	cr_assert_eq(qlist_check(&ql, "form fields", &msg), -1);
	cr_assert_str_eq(buf_cstr(&msg), "too many form fields");
	cr_assert_eq(qlist_parse(&ql, q, first64), 0);	/* 64 exactly */
	cr_assert_eq(qlist_check(&ql, "form fields", &msg), 0);
	qlist_free(&ql);
	buf_free(&msg);
}

/* 64-bit numbers: any number of digits, each at most the row's value. */
Test(params, uints)
{
	static const struct pdef u = { "numbers", PK_UINTS, 0, 3, UINT64_MAX,
	    1 };
	struct buf	 msg;
	struct qlist	 ql;
	struct param	 p;
	uint64_t	 v[3];
	static const struct {
		const char	*q, *msg;
	} cases[] = {
		{ "numbers=18446744073709551616",
		  "numbers must each be at most 18446744073709551615" },
		{ "numbers=1,99999999999999999999999",
		  "numbers must each be at most 18446744073709551615" },
		{ "numbers=1,2,3,4", "numbers must hold at most 3 numbers" },
		{ "numbers=1,", "numbers must be comma-separated whole numbers "
		  "of at least 0" },
		{ "numbers=", "numbers is required" },
	};
	size_t		 i;
	const char	*q = "numbers=+000000000000000000000018446744073709551615,0"
			    ",+7";

	buf_init(&msg, 0);
	qlist_init(&ql);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(qlist_parse(&ql, cases[i].q, strlen(cases[i].q)),
		    0);
		cr_assert_eq(params_check(&ql, &u, 1, &p, &msg), -1);
		cr_assert_str_eq(buf_cstr(&msg), cases[i].msg);
	}
	cr_assert_eq(qlist_parse(&ql, q, strlen(q)), 0);
	cr_assert_eq(params_check(&ql, &u, 1, &p, &msg), 0, "%s",
	    buf_cstr(&msg));
	cr_assert_eq(params_uints(&p, v, 3), 3);
	cr_assert_eq(v[0], UINT64_MAX);
	cr_assert_eq(v[1], 0);
	cr_assert_eq(v[2], 7);
	cr_assert_eq(params_uints(&p, v, 2), 2);
	qlist_free(&ql);
	buf_free(&msg);
}
