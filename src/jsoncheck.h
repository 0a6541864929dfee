/*
 * jsoncheck.h: is a byte string exactly one JSON text (RFC 8259)?
 *
 * json-c is lenient even in strict mode (single quotes, NaN, Infinity,
 * raw control characters and invalid UTF-8 in strings), and the spec says
 * a broken body is a 400, so bodies are checked here first.
 */
#ifndef IDMINT_JSONCHECK_H
#define IDMINT_JSONCHECK_H

#include <stddef.h>

/* Nesting deeper than this is refused (a bound on recursion); json-c's
 * tokener is given the same depth. */
#define JSON_DEPTH_MAX	64

/* 1 if s[0..len) is one JSON value with optional white space around it. */
int	 json_check(const char *s, size_t len);

/*
 * A request body: one JSON object whose member values are all scalars
 * (strings, numbers, true, false, null).  A nested object or array is
 * JSON_NESTED, found before any parser allocates for it: idmint reads
 * only top-level scalars, and json-c spends tens of times a nested
 * body's size in memory.
 */
enum json_verdict { JSON_FLAT, JSON_BAD, JSON_NESTED };
enum json_verdict json_check_flat(const char *s, size_t len);

/*
 * In a text that passed json_check and is an object: the raw text of the
 * value of the last top-level member named `name` (as json-c keeps the
 * last of duplicates), in *val / *vlen.  Returns 1 if found, else 0.
 * Names are compared as written, escapes and all.
 */
int	 json_member(const char *s, size_t len, const char *name,
	    const char **val, size_t *vlen);

/* 1 if a raw JSON string literal holds a \u escape of a UTF-16 surrogate
 * that is not half of a pair. */
int	 json_lone_surrogate(const char *lit, size_t len);

/*
 * Decode a string literal (quotes included) as UTF-8 into out, which has
 * room for len bytes (decoding never grows the text).  0 with *outlen
 * set; 1 if it holds a lone surrogate, which has no UTF-8 form.
 */
int	 json_string_decode(const char *lit, size_t len, char *out,
	    size_t *outlen);
/*
 * An integer literal (no fraction or exponent) in *out, saturated to the
 * int64_t range as json-c does; 1 if it is one, else 0.
 */
int	 json_int(const char *lit, size_t len, int64_t *out);

#endif
