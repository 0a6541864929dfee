#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

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

/* A request body is a flat object: nested values are told apart from
 * broken JSON, before any parser allocates for them. */
Test(jsoncheck, flat_bodies)
{
	cr_assert_eq(json_check_flat("{}", 2), JSON_FLAT);
	cr_assert_eq(json_check_flat(" {\"a\":1,\"b\":\"x\",\"c\":null} ", 26),
	    JSON_FLAT);
	cr_assert_eq(json_check_flat("{\"a\":[]}", 8), JSON_NESTED);
	cr_assert_eq(json_check_flat("{\"a\":{\"b\":1}}", 13), JSON_NESTED);
	cr_assert_eq(json_check_flat("[1]", 3), JSON_BAD);
	cr_assert_eq(json_check_flat("{\"a\":", 5), JSON_BAD);
	cr_assert_eq(json_check_flat("\"x\"", 3), JSON_BAD);
	cr_assert_eq(json_check_flat("", 0), JSON_BAD);
}

/* Strings and integers read as json-c reads them, for every case here. */
Test(jsoncheck, values_as_json_c_reads_them)
{
	static const char *const lits[] = {
		"\"plain\"", "\"\"", "\"tab\\tnl\\ncr\\rq\\\"bs\\\\sl\\/\"",
		"\"\\b\\f\"", "\"\\u00e9\\u20ac\"", "\"\\ud83d\\ude00\"",
		"\"caf\xc3\xa9\"", "\"a\\u0000b\"", "\"\\u0041\\u0042\"",
	};
	static const char *const ints[] = {
		"0", "-0", "5", "-5", "9223372036854775807",
		"9223372036854775808", "99999999999999999999",
		"-9223372036854775808", "-99999999999999999999",
	};
	char		 out[64], body[128];
	size_t		 i, n;
	int64_t		 v;
	json_object	*o, *jv;

	for (i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
		snprintf(body, sizeof(body), "{\"a\":%s}", lits[i]);
		cr_assert_not_null(o = json_tokener_parse(body), "%s", body);
		jv = json_object_object_get(o, "a");
		cr_assert_eq(json_string_decode(lits[i], strlen(lits[i]), out,
		    &n), 0, "%s", lits[i]);
		cr_assert_eq(n, (size_t)json_object_get_string_len(jv), "%s",
		    lits[i]);
		cr_assert_eq(memcmp(out, json_object_get_string(jv), n), 0,
		    "%s", lits[i]);
		json_object_put(o);
	}
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		snprintf(body, sizeof(body), "{\"a\":%s}", ints[i]);
		cr_assert_not_null(o = json_tokener_parse(body), "%s", body);
		cr_assert(json_int(ints[i], strlen(ints[i]), &v), "%s", ints[i]);
		cr_assert_eq(v, json_object_get_int64(json_object_object_get(o,
		    "a")), "%s", ints[i]);
		json_object_put(o);
	}
	cr_assert_not(json_int("1.5", 3, &v));
	cr_assert_not(json_int("1e2", 3, &v));
	cr_assert_not(json_int("-", 1, &v));
	cr_assert_eq(json_string_decode("\"\\ud800x\"", 9, out, &n), 1);
}

/* Member names are compared decoded, as json-c's keys are. */
Test(jsoncheck, escaped_member_names)
{
	const char	*s = "{\"\\u0074oken\":\"t\",\"type\":\"uuid\"}", *v;
	size_t		 n;

	cr_assert(json_member(s, strlen(s), "token", &v, &n));
	cr_assert_eq(n, 3);
	cr_assert(json_member(s, strlen(s), "type", &v, &n));
	cr_assert_not(json_member(s, strlen(s), "tok", &v, &n));
}
