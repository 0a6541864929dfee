/*
 * test_gen.c: the ID generators through generate(), as the handler calls
 * them: every message and status of doc/api.md, the shape of every
 * flavour, and statistics strong enough to catch a modulo bias.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "clock.h"
#include "gen.h"
#include "store.h"		/* TYPE_MAX */

/* A hand-made request body: a few named fields. */
struct kv {
	const char	*name;
	struct field	 f;
};
static struct kv	 kvs[8];
static size_t		 nkv;

static void
kv_get(const struct params *p, const char *name, struct field *f)
{
	size_t	 i;

	(void)p;
	for (i = 0; i < nkv; i++)
		if (strcmp(kvs[i].name, name) == 0)
			*f = kvs[i].f;
}

static const struct params params = { kv_get, NULL };

static void
set_clear(void)
{
	nkv = 0;
}

static void
set_field(const char *name, enum field_kind kind, const char *s, int64_t v)
{
	size_t	 i;

	for (i = 0; i < nkv && strcmp(kvs[i].name, name) != 0; i++)
		;
	cr_assert(i < sizeof(kvs) / sizeof(kvs[0]));
	if (i == nkv)
		nkv++;
	kvs[i].name = name;
	kvs[i].f.kind = kind;
	kvs[i].f.str = s;
	kvs[i].f.len = s != NULL ? strlen(s) : 0;
	kvs[i].f.ival = v;
}

static void set_str(const char *n, const char *s) { set_field(n, FIELD_STRING, s, 0); }

/* A string with a length of its own: part of a buffer, or with a NUL. */
static void
set_strn(const char *n, const char *s, size_t len)
{
	size_t	 i;

	set_field(n, FIELD_STRING, s, 0);
	for (i = 0; strcmp(kvs[i].name, n) != 0; i++)
		;
	kvs[i].f.len = len;
}
static void set_int(const char *n, int64_t v) { set_field(n, FIELD_INT, NULL, v); }
static void set_other(const char *n) { set_field(n, FIELD_OTHER, NULL, 0); }

static struct gen_result res;

/* Run one type by name, as the handler would; the result stays in res. */
static int
run(const char *type)
{
	const struct generator *g;
	struct gen_args	 args;
	enum status	 st;

	g = gen_find(type, strlen(type));
	cr_assert_not_null(g, "no generator %s", type);
	gen_result_reset(&res);
	if ((st = gen_args(g, &params, &args, &res)) != HTTP_OK)
		return st;
	return g->generate(&args, &res);
}

static void
expect_ok(const char *type)
{
	int	 st = run(type);

	cr_assert_eq(st, 200, "%s: status %d (%s)", type, st,
	    res.error ? res.error : "");
	cr_assert_null(res.error);
	cr_assert_gt(res.id.len, 0);
}

static void
expect_err(const char *type, int status, const char *msg)
{
	int	 st = run(type);

	cr_assert_eq(st, status, "%s: status %d, not %d (id %s)", type, st,
	    status, res.id.len > 0 ? res.id.data : "");
	cr_assert_not_null(res.error);
	cr_assert_str_eq(res.error, msg);
}

/* An injectable clock: sleeping moves it on, as real time would. */
static uint64_t	 fake_now;
static unsigned	 fake_slept;
static uint64_t fake_clock(void) { return fake_now; }
static void fake_sleep(unsigned ms) { fake_now += ms; fake_slept += ms; }

static void
suite_init(void)
{
	cr_assert_neq(sodium_init(), -1);
	gen_setup_default();
	clock_set(NULL);
	clock_set_sleep(NULL);
	gen_result_init(&res);
	set_clear();
}

static void
suite_fini(void)
{
	gen_result_free(&res);
}

TestSuite(gen, .init = suite_init, .fini = suite_fini);

/*
 * Chi-square critical value at p = 1e-6 (Wilson-Hilferty; a little
 * above the exact value for small df, so never flakier than 1e-6).
 */
static double
chi2_crit(int df)
{
	double	 z = 4.753424, k = 2.0 / (9.0 * df);

	return df * pow(1 - k + z * sqrt(k), 3);
}

static double
chi2(const unsigned long *obs, int k, unsigned long total)
{
	double	 e = (double)total / k, s = 0;
	int	 i;

	for (i = 0; i < k; i++)
		s += (obs[i] - e) * (obs[i] - e) / e;
	return s;
}

static void
expect_uniform(const char *what, const unsigned long *obs, int k)
{
	unsigned long	 total = 0;
	double		 x;
	int		 i;

	for (i = 0; i < k; i++)
		total += obs[i];
	x = chi2(obs, k, total);
	cr_assert_lt(x, chi2_crit(k - 1), "%s: chi2 %.1f >= %.1f (df %d, n %lu)",
	    what, x, chi2_crit(k - 1), k - 1, total);
}

/* ---- lookup ---- */

Test(gen, find)
{
	static const char *names[] = { "uuid", "nanoid", "2fa", "license",
	    "words", "snowflake", "keypair", "cuid" };
	size_t	 i, n;

	for (n = 0; generators[n] != NULL; n++)
		;
	cr_assert_eq(n, 8);
	for (i = 0; i < 8; i++) {
		cr_assert_not_null(gen_find(names[i], strlen(names[i])));
		cr_assert_str_eq(gen_find(names[i], strlen(names[i]))->name,
		    names[i]);
	}
	cr_assert_eq(gen_find("word", 4), &gen_words);
	cr_assert_null(gen_find("UUID", 4));
	cr_assert_null(gen_find("Words", 5));
	cr_assert_null(gen_find("uuid4", 5));
	cr_assert_null(gen_find("uui", 3));
	cr_assert_null(gen_find("", 0));
	cr_assert_null(gen_find("uuid\0x", 6));
	cr_assert_null(gen_find("guid", 4));
	cr_assert_null(gen_find("hashid", 6));
}

Test(gen, word_alias)
{
	const char	*p;
	int		 n;

	expect_ok("word");
	for (n = 1, p = res.id.data; *p != '\0'; p++)
		n += *p == '-';
	cr_assert_eq(n, 3);
}

/* ---- the shared length rules ---- */

static void
length_rules(const char *type, int64_t min, int64_t max, int required)
{
	char	 msg[80], big[24];
	static const char *bad[] = { "1.5", "abc", "", "+5", " 5", "5 ",
	    "-1", "0x10", "1e2", "١٢", "5\n" };
	size_t	 i;

	snprintf(msg, sizeof(msg),
	    "Length must be a whole number of at least %lld", (long long)min);
	snprintf(big, sizeof(big), "%lld", (long long)max + 1);

	set_clear();
	if (required)
		expect_err(type, 400, "Please specify the length");
	else
		expect_ok(type);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_str("length", bad[i]);
		expect_err(type, 400, msg);
	}
	set_other("length");
	expect_err(type, 400, msg);
	set_strn("length", "5\0", 2);
	expect_err(type, 400, msg);
	set_int("length", min - 1);
	expect_err(type, 400, msg);
	set_int("length", -1);
	expect_err(type, 400, msg);
	set_int("length", INT64_MIN);
	expect_err(type, 400, msg);

	set_int("length", max + 1);
	expect_err(type, 400, "Length too large, please use a smaller number");
	set_int("length", INT64_MAX);
	expect_err(type, 400, "Length too large, please use a smaller number");
	set_str("length", big);
	expect_err(type, 400, "Length too large, please use a smaller number");
	set_str("length", "99999999999999999999");
	expect_err(type, 400, "Length too large, please use a smaller number");
	set_str("length", "999999999999999999999999999999999999999999");
	expect_err(type, 400, "Length too large, please use a smaller number");

	set_int("length", min);
	expect_ok(type);
	set_int("length", max);
	expect_ok(type);
	snprintf(big, sizeof(big), "%lld", (long long)max);
	set_str("length", big);
	expect_ok(type);
	set_str("length", "0002");
	expect_ok(type);
}

Test(gen, length_nanoid) { length_rules("nanoid", 1, 256, 1); }
Test(gen, length_2fa) { length_rules("2fa", 1, 256, 0); }
Test(gen, length_words) { length_rules("words", 1, 16, 0); }
Test(gen, length_cuid) { length_rules("cuid", 2, 32, 0); }

Test(gen, length_string_and_int_agree)
{
	set_str("length", "16");
	expect_ok("nanoid");
	cr_assert_eq(res.id.len, 16);
	set_int("length", 16);
	expect_ok("nanoid");
	cr_assert_eq(res.id.len, 16);
	set_str("length", "16");
	expect_ok("2fa");
	cr_assert_eq(res.id.len, 16);
	set_str("length", "16");
	expect_ok("cuid");
	cr_assert_eq(res.id.len, 16);
}

Test(gen, defaults)
{
	expect_ok("2fa");
	cr_assert_eq(res.id.len, 6);
	expect_ok("cuid");
	cr_assert_eq(res.id.len, 24);
	expect_ok("license");
	cr_assert_eq(res.id.len, 29);
	expect_ok("uuid");
	cr_assert_eq(res.id.len, 36);
	cr_assert_eq(res.id.data[14], '4');
	expect_ok("keypair");
	cr_assert_eq(res.id.len, 64);
	cr_assert_eq(res.priv.len, 128);
}

/* Options of one type do not leak into another's. */
Test(gen, ignores_unknown_fields)
{
	set_str("alphabet", "xyz");
	set_str("style", "nonsense");
	set_str("version", "9");
	set_str("algorithm", "rsa");
	expect_ok("license");
	expect_ok("snowflake");
	expect_ok("2fa");
	expect_ok("cuid");
}

/* ---- uuid ---- */

static void
uuid_check(const char *s, int version)
{
	static const int dash[] = { 8, 13, 18, 23 };
	size_t	 i, d = 0;

	cr_assert_eq(strlen(s), 36, "%s", s);
	for (i = 0; i < 36; i++) {
		if (d < 4 && i == (size_t)dash[d]) {
			cr_assert_eq(s[i], '-', "%s", s);
			d++;
		} else
			cr_assert(strchr("0123456789abcdef", s[i]) != NULL &&
			    s[i] != '\0', "%s", s);
	}
	cr_assert_eq(s[14], '0' + version, "%s", s);
	cr_assert(strchr("89ab", s[19]) != NULL, "variant: %s", s);
}

Test(gen, uuid_version_option)
{
	static const char *bad[] = { "5", "", "v7", "4.0", "44", "-4", " 4",
	    "four", "7\n" };
	size_t	 i;

	set_int("version", 5);
	expect_err("uuid", 400, "UUID version must be 4 or 7");
	set_int("version", 0);
	expect_err("uuid", 400, "UUID version must be 4 or 7");
	set_int("version", -4);
	expect_err("uuid", 400, "UUID version must be 4 or 7");
	set_int("version", 4 + ((int64_t)1 << 32));
	expect_err("uuid", 400, "UUID version must be 4 or 7");
	set_other("version");
	expect_err("uuid", 400, "UUID version must be 4 or 7");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_str("version", bad[i]);
		expect_err("uuid", 400, "UUID version must be 4 or 7");
	}

	set_clear();
	expect_ok("uuid");
	uuid_check(res.id.data, 4);
	set_int("version", 4);
	expect_ok("uuid");
	uuid_check(res.id.data, 4);
	set_str("version", "4");
	expect_ok("uuid");
	uuid_check(res.id.data, 4);
	set_int("version", 7);
	expect_ok("uuid");
	uuid_check(res.id.data, 7);
	set_str("version", "7");
	expect_ok("uuid");
	uuid_check(res.id.data, 7);
	set_str("version", "07");
	expect_ok("uuid");
	uuid_check(res.id.data, 7);
}

Test(gen, uuid_v4_bits)
{
	unsigned long	 ones[128] = { 0 };
	unsigned char	 b[16];
	int		 i, bit;

	for (i = 0; i < 20000; i++) {
		expect_ok("uuid");
		uuid_check(res.id.data, 4);
		cr_assert_eq(sodium_hex2bin(b, 16, res.id.data, 36, "-", NULL,
		    NULL), 0);
		for (bit = 0; bit < 128; bit++)
			ones[bit] += b[bit / 8] >> (7 - bit % 8) & 1;
	}
	/* The 122 random bits are each about half ones: 6 sigma. */
	for (bit = 0; bit < 128; bit++) {
		if ((bit >= 48 && bit < 52) || bit == 64 || bit == 65)
			continue;
		cr_assert(fabs(ones[bit] - 10000.0) < 6 * sqrt(5000.0),
		    "bit %d set %lu times", bit, ones[bit]);
	}
}

static uint64_t
uuid_ms(const char *s)
{
	unsigned char	 b[16];
	uint64_t	 ms = 0;
	int		 i;

	cr_assert_eq(sodium_hex2bin(b, 16, s, 36, "-", NULL, NULL), 0);
	for (i = 0; i < 6; i++)
		ms = ms << 8 | b[i];
	return ms;
}

Test(gen, uuid_v7_monotonic_fake_clock)
{
	char	 prev[37] = "";
	int	 i;

	clock_set(fake_clock);
	clock_set_sleep(fake_sleep);
	fake_now = 1700000000000ULL;
	set_int("version", 7);
	for (i = 0; i < 10000; i++) {
		/* Every 3000 calls the clock steps back a little. */
		if (i % 3000 == 2999)
			fake_now -= 3;
		expect_ok("uuid");
		uuid_check(res.id.data, 7);
		cr_assert_gt(strcmp(res.id.data, prev), 0, "%s after %s",
		    res.id.data, prev);
		memcpy(prev, res.id.data, 37);
		cr_assert_geq(uuid_ms(res.id.data), 1700000000000ULL);
	}
	/* A frozen clock and 10,000 IDs: the counter ran out, so we waited. */
	cr_assert_gt(fake_slept, 0);
}

Test(gen, uuid_v7_monotonic_real_clock)
{
	char	 prev[37] = "";
	uint64_t before, after, ms;
	int	 i;

	set_int("version", 7);
	for (i = 0; i < 10000; i++) {
		before = now_ms();
		expect_ok("uuid");
		after = now_ms();
		uuid_check(res.id.data, 7);
		cr_assert_gt(strcmp(res.id.data, prev), 0);
		memcpy(prev, res.id.data, 37);
		ms = uuid_ms(res.id.data);
		cr_assert(ms >= before && ms <= after,
		    "ms %llu not in [%llu, %llu]", (unsigned long long)ms,
		    (unsigned long long)before, (unsigned long long)after);
	}
}

Test(gen, uuid_v7_carries_clock)
{
	clock_set(fake_clock);
	clock_set_sleep(fake_sleep);
	fake_now = 0x0123456789abULL;
	set_str("version", "7");
	expect_ok("uuid");
	cr_assert_eq(strncmp(res.id.data, "01234567-89ab-7", 15), 0, "%s",
	    res.id.data);
}

/* ---- nanoid ---- */

Test(gen, nanoid_alphabet_errors)
{
	static const char *badlen[] = { "", "a", "ab", "é😀" };
	static const char *badutf[] = { "ab\xff", "abc\xc3", "\xc0\xaf" "ab",
	    "\xed\xa0\x80" "ab", "ab\xf4\x90\x80\x80", "\x80" "abc",
	    "ab\xe2\x82" };
	static const char *rep[] = { "aba", "abcdefa", "aéé", "😀x😀",
	    "AbcA" };
	char	 many[1200];
	size_t	 i;

	set_int("length", 10);
	for (i = 0; i < sizeof(badlen) / sizeof(badlen[0]); i++) {
		set_str("alphabet", badlen[i]);
		expect_err("nanoid", 400,
		    "Alphabet length must be between 3 and 256 characters");
	}
	set_int("alphabet", 123);
	expect_err("nanoid", 400,
	    "Alphabet length must be between 3 and 256 characters");
	set_other("alphabet");
	expect_err("nanoid", 400,
	    "Alphabet length must be between 3 and 256 characters");
	for (i = 0; i < sizeof(badutf) / sizeof(badutf[0]); i++) {
		set_str("alphabet", badutf[i]);
		expect_err("nanoid", 400, "Alphabet must be valid UTF-8");
	}
	for (i = 0; i < sizeof(rep) / sizeof(rep[0]); i++) {
		set_str("alphabet", rep[i]);
		expect_err("nanoid", 400,
		    "Alphabet must not repeat a character");
	}

	/* 256 two-byte characters (U+0100..U+01FF) fit; 257 do not. */
	for (i = 0; i < 257; i++) {
		many[2 * i] = (char)(0xc0 | (0x100 + i) >> 6);
		many[2 * i + 1] = (char)(0x80 | ((0x100 + i) & 0x3f));
	}
	many[2 * 257] = '\0';
	set_strn("alphabet", many, 2 * 256);
	set_int("length", 256);
	expect_ok("nanoid");
	cr_assert_eq(res.id.len, 512);
	set_str("alphabet", many);
	expect_err("nanoid", 400,
	    "Alphabet length must be between 3 and 256 characters");

	/* U+0000 is a character like any other; "a\0b" is three. */
	set_int("length", 64);
	set_strn("alphabet", "a\0b", 3);
	expect_ok("nanoid");
	cr_assert_eq(res.id.len, 64);

	/* The length is checked before the alphabet. */
	set_clear();
	set_str("alphabet", "a");
	expect_err("nanoid", 400, "Please specify the length");
}

Test(gen, nanoid_default_alphabet)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
	unsigned long	 obs[64] = { 0 };
	size_t		 i;
	int		 n;

	set_int("length", 256);
	for (n = 0; n < 1000; n++) {
		expect_ok("nanoid");
		cr_assert_eq(res.id.len, 256);
		for (i = 0; i < 256; i++) {
			const char *c = strchr(ok, res.id.data[i]);

			cr_assert(c != NULL && *c != '\0');
			obs[c - ok]++;
		}
	}
	expect_uniform("nanoid default", obs, 64);
	set_int("length", 1);
	expect_ok("nanoid");
	cr_assert_eq(res.id.len, 1);
}

/* Seven characters of 3 and 4 bytes: 256 % 7 != 0, so `byte % 7` shows. */
static const char *const uni7[] = { "犬", "猫", "鳥", "魚", "😀", "🎉", "ü" };
#define UNI7_N	1000000

static int
uni7_index(const char **p)
{
	int	 i;
	size_t	 l;

	for (i = 0; i < 7; i++) {
		l = strlen(uni7[i]);
		if (strncmp(*p, uni7[i], l) == 0) {
			*p += l;
			return i;
		}
	}
	return -1;
}

Test(gen, nanoid_unicode_uniform)
{
	unsigned long	 obs[7] = { 0 }, biased[7] = { 0 };
	unsigned char	 rb[4096];
	char		 alpha[64] = "";
	const char	*p;
	size_t		 i, n;
	int		 k;

	for (k = 0; k < 7; k++)
		strcat(alpha, uni7[k]);
	set_str("alphabet", alpha);
	set_int("length", 256);
	for (n = 0; n < UNI7_N; n += 256) {
		expect_ok("nanoid");
		for (p = res.id.data, i = 0; *p != '\0'; i++) {
			k = uni7_index(&p);
			cr_assert_geq(k, 0, "stray bytes in %s", res.id.data);
			obs[k]++;
		}
		cr_assert_eq(i, 256);
	}
	expect_uniform("nanoid 7 characters", obs, 7);

	/* The test has the power to see what it looks for. */
	for (n = 0; n < UNI7_N; n += sizeof(rb)) {
		randombytes_buf(rb, sizeof(rb));
		for (i = 0; i < sizeof(rb); i++)
			biased[rb[i] % 7]++;
	}
	cr_assert_gt(chi2(biased, 7, n), chi2_crit(6),
	    "a biased sampler passed: %.1f", chi2(biased, 7, n));
}

/* ---- 2fa, license ---- */

Test(gen, twofa_uniform)
{
	unsigned long	 obs[10] = { 0 }, pos[6][10];
	size_t		 i;
	int		 n;

	memset(pos, 0, sizeof(pos));
	set_int("length", 200);
	for (n = 0; n < 1000; n++) {
		expect_ok("2fa");
		cr_assert_eq(res.id.len, 200);
		for (i = 0; i < 200; i++) {
			cr_assert(res.id.data[i] >= '0' && res.id.data[i] <= '9');
			obs[res.id.data[i] - '0']++;
		}
	}
	expect_uniform("2fa", obs, 10);

	/* Each place of a default code, leading zeros included. */
	set_clear();
	for (n = 0; n < 20000; n++) {
		expect_ok("2fa");
		cr_assert_eq(res.id.len, 6);
		for (i = 0; i < 6; i++)
			pos[i][res.id.data[i] - '0']++;
	}
	for (i = 0; i < 6; i++)
		expect_uniform("2fa place", pos[i], 10);
}

Test(gen, license_shape_and_uniform)
{
	static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	unsigned long	 obs[36] = { 0 };
	const char	*c;
	size_t		 i;
	int		 n;

	for (n = 0; n < 8000; n++) {
		expect_ok("license");
		cr_assert_eq(res.id.len, 29);
		for (i = 0; i < 29; i++) {
			if (i % 6 == 5) {
				cr_assert_eq(res.id.data[i], '-', "%s",
				    res.id.data);
				continue;
			}
			c = strchr(digits, res.id.data[i]);
			cr_assert(c != NULL && *c != '\0', "%s", res.id.data);
			obs[c - digits]++;
		}
	}
	expect_uniform("license", obs, 36);
}

/* ---- words ---- */

static int
cmp_word(const void *k, const void *e)
{
	return strcmp(k, *(const char *const *)e);
}

Test(gen, wordlist)
{
	size_t	 i;
	const char *w;

	cr_assert_eq(gen_nwords, 7772);
	for (i = 0; i < gen_nwords; i++) {
		for (w = gen_wordlist[i]; *w != '\0'; w++)
			cr_assert(*w >= 'a' && *w <= 'z', "%s", gen_wordlist[i]);
		cr_assert_gt(strlen(gen_wordlist[i]), 0);
		if (i > 0)
			cr_assert_lt(strcmp(gen_wordlist[i - 1],
			    gen_wordlist[i]), 0, "list not sorted at %zu", i);
	}
	cr_assert_str_eq(gen_wordlist[0], "abacus");
	cr_assert_str_eq(gen_wordlist[gen_nwords - 1], "zoom");
}

#define WORD_DRAWS	200000
#define WORD_BUCKETS	100

Test(gen, words_uniform)
{
	static unsigned long per[7772];
	unsigned long	 buckets[WORD_BUCKETS] = { 0 };
	size_t		 sz[WORD_BUCKETS] = { 0 };
	char		*w, *save;
	const char *const *found;
	double		 x = 0, e;
	size_t		 i, n = 0;

	cr_assert_eq(gen_nwords, 7772);
	set_int("length", 16);
	while (n < WORD_DRAWS) {
		expect_ok("words");
		for (w = strtok_r(res.id.data, "-", &save); w != NULL;
		    w = strtok_r(NULL, "-", &save), n++) {
			found = bsearch(w, gen_wordlist, gen_nwords,
			    sizeof(gen_wordlist[0]), cmp_word);
			cr_assert_not_null(found, "not in the list: %s", w);
			per[found - gen_wordlist]++;
		}
	}
	cr_assert_eq(n, WORD_DRAWS);
	/* Both ends of the list are reached: no truncated range. */
	for (i = 0; i < 100; i++) {
		cr_assert_gt(per[i], 0, "word %zu never drawn", i);
		cr_assert_gt(per[gen_nwords - 1 - i], 0, "word %zu never drawn",
		    gen_nwords - 1 - i);
	}
	/* 100 runs of the list; they differ in size by a word, so weigh. */
	for (i = 0; i < gen_nwords; i++) {
		sz[i * WORD_BUCKETS / gen_nwords]++;
		buckets[i * WORD_BUCKETS / gen_nwords] += per[i];
	}
	for (i = 0; i < WORD_BUCKETS; i++) {
		e = (double)WORD_DRAWS * sz[i] / gen_nwords;
		x += (buckets[i] - e) * (buckets[i] - e) / e;
	}
	cr_assert_lt(x, chi2_crit(WORD_BUCKETS - 1), "words buckets: chi2 %.1f",
	    x);
	/* And each word on its own: about 26 draws apiece. */
	expect_uniform("words, each word", per, (int)gen_nwords);
}

Test(gen, words_styles)
{
	static const char *bad[] = { "Slug", "", "kebab", "title ", "slugs" };
	const char	*p;
	size_t		 i;
	int		 n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_str("style", bad[i]);
		expect_err("words", 400,
		    "Style must be one of slug, title, formal");
	}
	set_int("style", 1);
	expect_err("words", 400, "Style must be one of slug, title, formal");
	set_other("style");
	expect_err("words", 400, "Style must be one of slug, title, formal");
	/* The length is checked first. */
	set_int("length", 17);
	expect_err("words", 400, "Length too large, please use a smaller number");

	set_int("length", 4);
	set_str("style", "slug");
	expect_ok("words");
	for (n = 1, p = res.id.data; *p != '\0'; p++) {
		cr_assert((*p >= 'a' && *p <= 'z') || *p == '-', "%s", res.id.data);
		n += *p == '-';
	}
	cr_assert_eq(n, 4);
	cr_assert_neq(res.id.data[0], '-');

	set_str("style", "title");
	expect_ok("words");
	for (n = 0, p = res.id.data; *p != '\0'; p++) {
		if (p == res.id.data || p[-1] == ' ') {
			cr_assert(*p >= 'A' && *p <= 'Z', "%s", res.id.data);
			n++;
		} else
			cr_assert((*p >= 'a' && *p <= 'z') || *p == ' ', "%s",
			    res.id.data);
	}
	cr_assert_eq(n, 4);

	set_str("style", "formal");
	expect_ok("words");
	for (n = 0, p = res.id.data; *p != '\0'; p++) {
		cr_assert((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'),
		    "%s", res.id.data);
		n += *p >= 'A' && *p <= 'Z';
	}
	cr_assert_eq(n, 4);
	cr_assert(res.id.data[0] >= 'A' && res.id.data[0] <= 'Z');

	set_int("length", 1);
	set_str("style", "slug");
	expect_ok("words");
	cr_assert_null(strchr(res.id.data, '-'));
}

/* ---- keypair ---- */

static void
unhex(unsigned char *out, size_t n, const struct buf *b)
{
	size_t	 got;

	cr_assert_eq(b->len, 2 * n);
	for (size_t i = 0; i < b->len; i++)
		cr_assert(strchr("0123456789abcdef", b->data[i]) != NULL &&
		    b->data[i] != '\0', "not lowercase hex: %s", b->data);
	cr_assert_eq(sodium_hex2bin(out, n, b->data, b->len, NULL, &got, NULL),
	    0);
	cr_assert_eq(got, n);
}

Test(gen, keypair_ed25519)
{
	unsigned char	 pk[32], sk[64], sig[64], pk2[32];
	static const unsigned char msg[] = "idmint";

	set_str("algorithm", "ed25519");
	expect_ok("keypair");
	unhex(pk, 32, &res.id);
	unhex(sk, 64, &res.priv);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
	cr_assert_eq(crypto_sign_verify_detached(sig, msg, sizeof(msg), pk), 0);
	sig[0] ^= 1;
	cr_assert_neq(crypto_sign_verify_detached(sig, msg, sizeof(msg), pk), 0);
	/* libsodium's layout: seed, then the public key. */
	cr_assert_eq(memcmp(sk + 32, pk, 32), 0);
	crypto_sign_ed25519_sk_to_pk(pk2, sk);
	cr_assert_eq(memcmp(pk2, pk, 32), 0);

	set_clear();
	expect_ok("keypair");
	cr_assert_eq(res.priv.len, 128);
}

Test(gen, keypair_x25519)
{
	unsigned char	 pk[32], sk[32], pk2[32], opk[32], osk[32];
	unsigned char	 nonce[crypto_box_NONCEBYTES];
	unsigned char	 c[crypto_box_MACBYTES + 6], m[6];

	set_str("algorithm", "x25519");
	expect_ok("keypair");
	unhex(pk, 32, &res.id);
	unhex(sk, 32, &res.priv);
	crypto_scalarmult_base(pk2, sk);
	cr_assert_eq(memcmp(pk, pk2, 32), 0);

	crypto_box_keypair(opk, osk);
	randombytes_buf(nonce, sizeof(nonce));
	cr_assert_eq(crypto_box_easy(c, (const unsigned char *)"idmint", 6,
	    nonce, pk, osk), 0);
	cr_assert_eq(crypto_box_open_easy(m, c, sizeof(c), nonce, opk, sk), 0);
	cr_assert_eq(memcmp(m, "idmint", 6), 0);
}

Test(gen, keypair_algorithm_errors)
{
	static const char *bad[] = { "rsa", "", "Ed25519", "ED25519", "X25519",
	    "ed25519 ", "ed448", "curve25519" };
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_str("algorithm", bad[i]);
		expect_err("keypair", 400, "Algorithm must be ed25519 or x25519");
	}
	set_int("algorithm", 25519);
	expect_err("keypair", 400, "Algorithm must be ed25519 or x25519");
	set_other("algorithm");
	expect_err("keypair", 400, "Algorithm must be ed25519 or x25519");
}

Test(gen, keypairs_differ)
{
	char	 a[129];

	expect_ok("keypair");
	memcpy(a, res.priv.data, 129);
	expect_ok("keypair");
	cr_assert_neq(strcmp(a, res.priv.data), 0);
}

/* ---- cuid ---- */

Test(gen, cuid_shape)
{
	static const char b36[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned long	 first[26] = { 0 }, rest[36] = { 0 };
	int64_t		 len;
	size_t		 i;
	int		 n;

	for (len = 2; len <= 32; len++) {
		set_int("length", len);
		for (n = 0; n < 50; n++) {
			expect_ok("cuid");
			cr_assert_eq(res.id.len, (size_t)len);
			cr_assert(res.id.data[0] >= 'a' && res.id.data[0] <= 'z',
			    "%s", res.id.data);
			for (i = 1; i < (size_t)len; i++)
				cr_assert(strchr(b36, res.id.data[i]) != NULL &&
				    res.id.data[i] != '\0', "%s", res.id.data);
		}
	}
	set_clear();
	for (n = 0; n < 20000; n++) {
		expect_ok("cuid");
		first[res.id.data[0] - 'a']++;
		for (i = 1; i < 24; i++)
			rest[strchr(b36, res.id.data[i]) - b36]++;
	}
	expect_uniform("cuid first letter", first, 26);
	expect_uniform("cuid digits", rest, 36);
}

Test(gen, cuid_unique_with_frozen_clock)
{
	static char	 seen[4000][25];
	int		 n, m;

	clock_set(fake_clock);
	fake_now = 1;
	for (n = 0; n < 4000; n++) {
		expect_ok("cuid");
		memcpy(seen[n], res.id.data, 25);
	}
	qsort(seen, 4000, 25, (int (*)(const void *, const void *))strcmp);
	for (m = 1; m < 4000; m++)
		cr_assert_neq(strcmp(seen[m - 1], seen[m]), 0);
}

/* ---- snowflake ---- */

struct flake {
	uint64_t	 ms;	/* since the Unix epoch */
	unsigned	 worker, seq;
};

static struct flake
flake_decode(const char *s)
{
	struct flake	 f;
	char		*end;
	uint64_t	 v;

	cr_assert(s[0] >= '1' && s[0] <= '9', "%s", s);
	v = strtoull(s, &end, 10);
	cr_assert_eq(*end, '\0');
	cr_assert_lt(v, (uint64_t)1 << 63);
	f.ms = (v >> 22) + gen_setup.snowflake_epoch_ms;
	f.worker = v >> 12 & 0x3ff;
	f.seq = v & 0xfff;
	return f;
}

static void
fake_clock_at(uint64_t ms)
{
	clock_set(fake_clock);
	clock_set_sleep(fake_sleep);
	fake_now = ms;
	fake_slept = 0;
}

Test(gen, snowflake_layout)
{
	struct flake	 f;
	uint64_t	 before, after;

	gen_setup.worker_id = 0x2a5;
	before = now_ms();
	expect_ok("snowflake");
	after = now_ms();
	f = flake_decode(res.id.data);
	cr_assert(f.ms >= before && f.ms <= after);
	cr_assert_eq(f.worker, 0x2a5);
}

Test(gen, snowflake_layout_fake_clock)
{
	struct flake	 f;

	fake_clock_at(1700000000123ULL);
	gen_setup.worker_id = 1023;
	gen_setup.snowflake_epoch_ms = 1600000000000ULL;
	expect_ok("snowflake");
	f = flake_decode(res.id.data);
	cr_assert_eq(f.ms, 1700000000123ULL);
	cr_assert_eq(f.worker, 1023);
	cr_assert_eq(f.seq, 0);
	expect_ok("snowflake");
	f = flake_decode(res.id.data);
	cr_assert_eq(f.ms, 1700000000123ULL);
	cr_assert_eq(f.seq, 1);
	fake_now++;
	expect_ok("snowflake");
	f = flake_decode(res.id.data);
	cr_assert_eq(f.ms, 1700000000124ULL);
	cr_assert_eq(f.seq, 0);
}

Test(gen, snowflake_sequence_overflow_waits)
{
	struct flake	 f;
	uint64_t	 t0 = 1700000000000ULL;
	unsigned	 i;

	fake_clock_at(t0);
	gen_setup.worker_id = 7;
	for (i = 0; i < 4096; i++) {
		expect_ok("snowflake");
		f = flake_decode(res.id.data);
		cr_assert_eq(f.ms, t0);
		cr_assert_eq(f.seq, i);
		cr_assert_eq(f.worker, 7);
	}
	cr_assert_eq(fake_slept, 0);
	expect_ok("snowflake");
	f = flake_decode(res.id.data);
	cr_assert_eq(f.ms, t0 + 1);
	cr_assert_eq(f.seq, 0);
	cr_assert_eq(fake_slept, 1);
}

Test(gen, snowflake_clock_back_5ms_waits)
{
	struct flake	 f;
	uint64_t	 t0 = 1700000000000ULL;

	fake_clock_at(t0);
	expect_ok("snowflake");
	fake_now = t0 - 5;
	expect_ok("snowflake");
	f = flake_decode(res.id.data);
	cr_assert_geq(f.ms, t0);
	cr_assert_eq(f.seq, 1);
	cr_assert_eq(fake_slept, 5);

	/* 10 ms is still waited out. */
	fake_now = t0 - 10;
	fake_slept = 0;
	expect_ok("snowflake");
	cr_assert_eq(fake_slept, 10);
}

Test(gen, snowflake_clock_back_50ms_fails)
{
	uint64_t	 t0 = 1700000000000ULL;

	fake_clock_at(t0);
	expect_ok("snowflake");
	fake_now = t0 - 50;
	expect_err("snowflake", 503, "Clock moved backwards");
	cr_assert_leq(fake_slept, 10);
	fake_now = t0 - 11;
	expect_err("snowflake", 503, "Clock moved backwards");
	/* Once the clock is back past the last ID, all is well again. */
	fake_now = t0 + 1;
	expect_ok("snowflake");
	cr_assert_eq(flake_decode(res.id.data).ms, t0 + 1);
}

static void stuck_sleep(unsigned ms) { (void)ms; }

Test(gen, snowflake_stuck_clock_gives_up)
{
	unsigned	 i;

	fake_clock_at(1700000000000ULL);
	clock_set_sleep(stuck_sleep);
	for (i = 0; i < 4096; i++)
		expect_ok("snowflake");
	expect_err("snowflake", 503, "Clock moved backwards");
}

Test(gen, snowflake_setup_faults)
{
	fake_clock_at(1000);
	expect_err("snowflake", 503, "Service unavailable");
	fake_clock_at(1700000000000ULL);
	gen_setup.worker_id = 1024;
	expect_err("snowflake", 503, "Service unavailable");
}

Test(gen, snowflakes_increase)
{
	char	*end;
	uint64_t prev = 0, v;
	int	 i;

	for (i = 0; i < 20000; i++) {
		expect_ok("snowflake");
		v = strtoull(res.id.data, &end, 10);
		cr_assert_gt(v, prev);
		prev = v;
	}
}

/* ---- setup and results ---- */

Test(gen, fingerprint_set)
{
	static const unsigned char zero[32];

	cr_assert_neq(memcmp(gen_setup.fingerprint, zero, 32), 0);
}

Test(gen, result_reuse)
{
	set_str("length", "abc");
	expect_err("2fa", 400, "Length must be a whole number of at least 1");
	set_str("length", "8");
	expect_ok("2fa");
	cr_assert_eq(res.id.len, 8);
	cr_assert_eq(strlen(res.id.data), 8);
	cr_assert_eq(res.priv.len, 0);
}

/* A generator's name is what its calls are counted under: it must fit
 * the usage key, and its options must be whole rows. */
Test(gen, names_fit_the_usage_key)
{
	size_t	 i, j;

	for (i = 0; generators[i] != NULL; i++) {
		cr_assert_leq(strlen(generators[i]->name), TYPE_MAX, "%s",
		    generators[i]->name);
		for (j = 0; j < GEN_OPTS_MAX; j++) {
			const struct gopt *o = &generators[i]->opts[j];

			if (o->kind == GOPT_NONE)
				break;
			cr_assert_not_null(o->name);
			cr_assert((o->kind != GOPT_CHOICE) ||
			    (o->choices != NULL && o->bad != NULL));
			cr_assert((o->kind != GOPT_INT) || o->min <= o->max);
		}
	}
	cr_assert_eq(generators[i - 1]->flags & GEN_NEEDS_SLOT, 0);
	cr_assert(gen_snowflake.flags & GEN_NEEDS_SLOT);
}
