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
