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
 * In a text that passed json_check and is an object: the raw text of the
 * value of the last top-level member named `name` (as json-c keeps the
 * last of duplicates), in *val / *vlen.  Returns 1 if found, else 0.
 * Names are compared as written, escapes and all.
 */
int	 json_member(const char *s, size_t len, const char *name,
	    const char **val, size_t *vlen);

/* 1 if a raw JSON string literal holds a \u escape of a UTF-16 surrogate
 * that is not half of a pair (json-c would turn it into U+FFFD). */
int	 json_lone_surrogate(const char *lit, size_t len);

#endif
