/*
 * h_healthz.c: GET /healthz, for load balancers: no store, no key.
 */
#include "config.h"

#include "serve.h"

enum status
h_healthz(struct ctx *x)
{
	buf_addl(&x->resp->body, "{\"status\":\"ok\"}");
	return HTTP_OK;
}
