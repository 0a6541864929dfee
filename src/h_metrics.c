/*
 * h_metrics.c: GET /metrics, the Prometheus text exposition, when the
 * setting `metrics` is on (else the dispatcher answers 404).  No key:
 * the web server restricts it (the examples in etc/ to loopback).
 */
#include "config.h"

#include "metrics.h"
#include "serve.h"

enum status
h_metrics(struct ctx *x)
{
	enum status	 st;

	/* The store too: the count of snowflake slots held is read there. */
	if ((st = ctx_store(x)) != HTTP_OK)
		return st;
	if (metrics_write(x->srv->usage, x->srv->store, &x->srv->conf,
	    &x->resp->body) == -1)
		return ctx_error(x, HTTP_UNAVAILABLE, "Service unavailable");
	x->resp->ctype = METRICS_CTYPE;
	return HTTP_OK;
}
