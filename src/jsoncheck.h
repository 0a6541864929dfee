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

#define JSON_DEPTH_MAX	32	/* json-c's own default nesting limit */

/* 1 if s[0..len) is one JSON value with optional white space around it. */
int	 json_check(const char *s, size_t len);

#endif
