#include "config.h"

#include <string.h>

#include <criterion/criterion.h>

#include "buf.h"

Test(buf, grows_and_terminates)
{
	struct buf b;
	int i;

	buf_init(&b, 0);
	for (i = 0; i < 1000; i++)
		buf_adds(&b, "abc");
	cr_assert_eq(b.len, 3000);
	cr_assert_eq(b.data[3000], '\0');
	cr_assert_eq(b.err, 0);
	buf_free(&b);
}

Test(buf, cap_is_sticky)
{
	struct buf b;

	buf_init(&b, 4);
	buf_adds(&b, "abcd");
	cr_assert_eq(b.err, 0);
	buf_addc(&b, 'e');
	cr_assert_eq(b.err, 1);
	buf_adds(&b, "");
	cr_assert_eq(b.len, 4);
	buf_free(&b);
}

Test(buf, numbers_and_hex)
{
	struct buf b;
	const unsigned char bytes[] = { 0x00, 0xab, 0xff };

	buf_init(&b, 0);
	buf_add_u64(&b, 0);
	buf_addc(&b, ' ');
	buf_add_u64(&b, UINT64_MAX);
	buf_addc(&b, ' ');
	buf_add_hex(&b, bytes, 3);
	cr_assert_str_eq(buf_cstr(&b), "0 18446744073709551615 00abff");
	buf_free(&b);
}

Test(buf, json_strings)
{
	struct buf b;

	buf_init(&b, 0);
	buf_add_jstr(&b, "a\"b\\c\n\x01\xc3\xa9\xff", 10);
	cr_assert_str_eq(buf_cstr(&b),
	    "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\xef\xbf\xbd\"");
	buf_reset(&b);
	/* A surrogate encoded in UTF-8 is not valid UTF-8. */
	buf_add_jstr(&b, "\xed\xa0\x80", 3);
	cr_assert_str_eq(buf_cstr(&b), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	buf_free(&b);
}

Test(buf, printf)
{
	struct buf b;

	buf_init(&b, 0);
	buf_printf(&b, "%s=%zu", "n", (size_t)42);
	cr_assert_str_eq(buf_cstr(&b), "n=42");
	buf_free(&b);
}
