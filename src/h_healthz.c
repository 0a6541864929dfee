/*
 * h_healthz.c: GET /healthz, for load balancers: no store, no key.  The
 * version lets an operator watch a rolling restart reach every worker.
 */
#include "config.h"

#include <string.h>

#include "serve.h"

enum status
h_healthz(struct ctx *x)
{
	const char	*v = x->srv->version;

	buf_addl(&x->resp->body, "{\"status\":\"ok\",\"version\":");
	buf_add_jstr(&x->resp->body, v, strlen(v));
	buf_addc(&x->resp->body, '}');
	return HTTP_OK;
}
