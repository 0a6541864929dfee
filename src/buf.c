/*
 * buf.c: growable byte buffer with a hard cap and sticky errors.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "utf8.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->err = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
buf_wipe(struct buf *b)
{
	if (b->data != NULL)
		sodium_memzero(b->data, b->len);
	buf_reset(b);
}

int
buf_reserve(struct buf *b, size_t extra)
{
	size_t	 need, ncap;
	char	*p;

	if (b->err)
		return -1;
	if (extra > SIZE_MAX - b->len - 1 ||
	    (b->max != 0 && b->len + extra > b->max)) {
		b->err = 1;
		return -1;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if ((p = realloc(b->data, ncap)) == NULL) {
		b->err = 1;
		return -1;
	}
	b->data = p;
	b->cap = ncap;
	return 0;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n == 0 || buf_reserve(b, n) == -1)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 room, want = 64;
	int	 n;

	/* Format straight into the room there is; only a short buffer
	 * costs a second pass. */
	if (b->max != 0 && b->len + want > b->max)
		want = b->max > b->len ? b->max - b->len : 0;
	if (b->err || buf_reserve(b, want) == -1)
		return;
	room = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->data[b->len] = '\0';
		b->err = 1;
		return;
	}
	if ((size_t)n >= room) {
		b->data[b->len] = '\0';
		if (buf_reserve(b, (size_t)n) == -1)
			return;
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
	if (b->max != 0 && b->len > b->max) {
		b->len -= (size_t)n;
		b->data[b->len] = '\0';
		b->err = 1;
	}
}

void
buf_add_u64(struct buf *b, uint64_t v)
{
	char	 tmp[24], *p = tmp + sizeof(tmp);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	buf_add(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

void
buf_add_hex(struct buf *b, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t	 i;
	char	*o;

	if (buf_reserve(b, n * 2) == -1)
		return;
	o = b->data + b->len;
	for (i = 0; i < n; i++) {
		*o++ = hex[p[i] >> 4];
		*o++ = hex[p[i] & 0xf];
	}
	b->len += n * 2;
	b->data[b->len] = '\0';
}

void
buf_add_jstr(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *run;
	size_t	 i = 0, k;
	uint32_t cp;

	buf_addc(b, '"');
	while (i < n) {
		run = p + i;
		/* Copy the longest run that needs no escaping in one go. */
		for (k = 0; i + k < n && p[i + k] >= 0x20 && p[i + k] < 0x80 &&
		    p[i + k] != '"' && p[i + k] != '\\'; k++)
			;
		if (k > 0) {
			buf_add(b, run, k);
			i += k;
			continue;
		}
		switch (p[i]) {
		case '"':  buf_add(b, "\\\"", 2); i++; continue;
		case '\\': buf_add(b, "\\\\", 2); i++; continue;
		case '\n': buf_add(b, "\\n", 2); i++; continue;
		case '\r': buf_add(b, "\\r", 2); i++; continue;
		case '\t': buf_add(b, "\\t", 2); i++; continue;
		default:
			break;
		}
		if (p[i] < 0x20) {
			char esc[6] = { '\\', 'u', '0', '0',
			    hex[p[i] >> 4], hex[p[i] & 0xf] };
			buf_add(b, esc, sizeof(esc));
			i++;
		} else if ((k = utf8_next((const char *)p + i, n - i, &cp)) != 0) {
			buf_add(b, p + i, k);
			i += k;
		} else {
			buf_add(b, "\xef\xbf\xbd", 3);
			i++;
		}
	}
	buf_addc(b, '"');
}

const char *
buf_cstr(struct buf *b)
{
	if (b->data == NULL && buf_reserve(b, 0) == 0)
		b->data[0] = '\0';
	return b->data != NULL ? b->data : "";
}

void
uuid_fmt(char out[UUID_STR_LEN + 1], unsigned char b[16], unsigned version)
{
	static const char hex[] = "0123456789abcdef";
	size_t	 i, o = 0;

	b[6] = (unsigned char)((b[6] & 0x0f) | (version & 0xf) << 4);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0xf];
	}
	out[o] = '\0';
}
