/*
 * openapi.h: doc/openapi.json, compiled in at build time by
 * scripts/gen-openapi (openapi.c): its lines, without their newlines,
 * NULL-terminated.
 */
#ifndef IDMINT_OPENAPI_H
#define IDMINT_OPENAPI_H

extern const char *const openapi_doc[];

#endif
