/*
 * h_openapi.c: GET /openapi.json, the OpenAPI document of this API
 * (doc/openapi.json, compiled in by scripts/gen-openapi).  No key.
 */
#include "config.h"

#include "openapi.h"
#include "serve.h"

enum status
h_openapi(struct ctx *x)
{
	size_t	 i;

	for (i = 0; openapi_doc[i] != NULL; i++) {
		buf_adds(&x->resp->body, openapi_doc[i]);
		buf_addc(&x->resp->body, '\n');
	}
	return HTTP_OK;
}
