#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "jsoncheck.h"

static int
ok(const char *s)
{
	return json_check(s, strlen(s));
}

Test(jsoncheck, accepts_rfc8259)
{
	static const char *const good[] = {
		"{}", " { } ", "[]", "0", "-0", "1.5e-3", "-12E+4", "\"\"",
		"true", "false", "null", "{\"a\":[1,2,{\"b\":null}],\"c\":\"d\"}",
		"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"",
		"\"\xc3\xa9\xf0\x9f\x98\x80\"", "{\"a\" : 1 ,\n\"b\"\t:2}",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert(ok(good[i]), "rejected: %s", good[i]);
}

Test(jsoncheck, rejects_what_json_c_lets_through)
{
	static const char *const bad[] = {
		"", " ", "{'a':1}", "{\"a\":NaN}", "{\"a\":Infinity}",
		"{\"a\":-Infinity}", "{\"a\":\"x\ty\"}", "{\"a\":\"\xff\"}",
		"{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":1,}",
		"[1,]", "{\"a\":1}{}", "{\"a\":1} x", "01", "+1", ".5", "1.",
		"1e", "-", "tru", "True", "nul", "{a:1}", "{\"a\" 1}",
		"\"\\x41\"", "\"\\u12G4\"", "\"abc", "[1 2]", "{\"a\":1 \"b\":2}",
		"/* c */ {}", "{\"a\":[}", "[\"a\":1]",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(!ok(bad[i]), "accepted: %s", bad[i]);
	cr_assert(!json_check("{\"a\":\"\0\"}", 8), "accepted a raw NUL");
}

static int
nested(size_t depth)
{
	char	*s = malloc(2 * depth + 1);
	int	 r;

	cr_assert_not_null(s);
	memset(s, '[', depth);
	memset(s + depth, ']', depth);
	s[2 * depth] = '\0';
	r = ok(s);
	free(s);
	return r;
}

Test(jsoncheck, depth_is_bounded)
{
	char huge[200001];

	cr_assert(nested(JSON_DEPTH_MAX), "depth %d rejected", JSON_DEPTH_MAX);
	cr_assert(!nested(JSON_DEPTH_MAX + 1), "depth %d accepted",
	    JSON_DEPTH_MAX + 1);
	/* Far too deep must fail quickly, not blow the stack. */
	memset(huge, '[', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	cr_assert(!ok(huge));
}

static const char *
member(const char *s, const char *name)
{
	static char out[256];
	const char *v;
	size_t n;

	cr_assert(json_check(s, strlen(s)), "not JSON: %s", s);
	if (!json_member(s, strlen(s), name, &v, &n))
		return NULL;
	cr_assert_lt(n, sizeof(out));
	memcpy(out, v, n);
	out[n] = '\0';
	return out;
}

Test(jsoncheck, members_as_written)
{
	const char *s = "{ \"type\" : true , \"a\":{\"type\":1},\"n\":99999999999999999999,"
	    "\"t2\":\"x\\\"y\", \"arr\" : [ 1, 2 ] }";

	cr_assert_str_eq(member(s, "type"), "true");
	cr_assert_str_eq(member(s, "n"), "99999999999999999999");
	cr_assert_str_eq(member(s, "t2"), "\"x\\\"y\"");
	cr_assert_str_eq(member(s, "arr"), "[ 1, 2 ]");
	cr_assert_null(member(s, "missing"));
	cr_assert_null(member(s, "typ"));
	/* The last of duplicates, as json-c keeps it; nested ones do not count. */
	cr_assert_str_eq(member("{\"t\":1,\"t\":2}", "t"), "2");
	cr_assert_str_eq(member("{\"x\":{\"t\":1},\"t\":null}", "t"), "null");
	cr_assert_null(member("[{\"t\":1}]", "t"));
}

Test(jsoncheck, lone_surrogates)
{
	static const char *const lone[] = { "\"\\ud800\"", "\"a\\uDC00b\"",
	    "\"\\ud83d\\ud83d\"", "\"x\\ud83d\"", "\"\\ud83dx\"",
	    "\"\\\\\\ud800\"" };
	static const char *const fine[] = { "\"\"", "\"abc\"",
	    "\"\\ud83d\\ude00\"", "\"\\u00e9\\uffff\"", "\"\\\\ud800\"",
	    "\"\\\\\\\\ud800\"" };
	size_t i;

	for (i = 0; i < sizeof(lone) / sizeof(lone[0]); i++)
		cr_assert(json_lone_surrogate(lone[i], strlen(lone[i])),
		    "missed: %s", lone[i]);
	for (i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
		cr_assert(!json_lone_surrogate(fine[i], strlen(fine[i])),
		    "flagged: %s", fine[i]);
}
