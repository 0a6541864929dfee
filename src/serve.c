/*
 * serve.c: the dispatcher.  Handlers return a status; this file writes
 * every error, in the shape of the route's family, so no handler can get
 * the shape wrong.  In the request path nothing exits: a failure becomes
 * a 4xx/5xx and the loop goes on.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "serve.h"

static const handler_fn handlers[RT__MAX] = {
	[RT_HEALTHZ] = h_healthz,
};

static const char *const req_err_msg[REQ__MAX] = {
	[REQ_BAD_LENGTH] = "Invalid Content-Length",
	[REQ_TOO_LARGE] = "Request body too large",
	[REQ_SHORT] = "Request body shorter than Content-Length",
	[REQ_NOMEM] = "Service unavailable",
};
static const int req_err_status[REQ__MAX] = {
	[REQ_BAD_LENGTH] = 400, [REQ_TOO_LARGE] = 413,
	[REQ_SHORT] = 400, [REQ_NOMEM] = 503,
};

static uint64_t
clock_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
server_init(struct server *s, const struct conf *c)
{
	memset(s, 0, sizeof(*s));
	s->conf = *c;
	s->clock_ms = clock_real_ms;
	req_init(&s->req);
	resp_init(&s->resp);
	return 0;
}

void
server_free(struct server *s)
{
	req_free(&s->req);
	resp_free(&s->resp);
}

static void
send_error(struct ctx *x, int status, const char *msg)
{
	if (x->fam == FAM_HASHIDS)
		resp_envelope(x->resp, status, NULL, 0, msg, x->now_ms);
	else
		resp_error(x->resp, status, msg);
}

int
h_healthz(struct ctx *x)
{
	buf_adds(&x->resp->body, "{\"status\":\"ok\"}");
	return 200;
}

void
serve(struct server *s, struct io *io)
{
	struct ctx	 x;
	int		 status;

	memset(&x, 0, sizeof(x));
	x.srv = s;
	x.req = &s->req;
	x.resp = &s->resp;
	x.now_ms = s->clock_ms();
	buf_init(&x.errbuf, 1024);
	resp_reset(x.resp);

	req_parse(x.req, io, s->conf.max_body);
	status = router_find(x.req->method, x.req->path, &x.rt, &x.fam);
	if (status == 404)
		send_error(&x, 404, "Not found");
	else if (status == 405) {
		resp_header(x.resp, "Allow", routes[x.rt].allow);
		send_error(&x, 405, "Method not allowed");
	} else if (x.req->err != REQ_OK)
		send_error(&x, req_err_status[x.req->err],
		    req_err_msg[x.req->err]);
	else if (handlers[x.rt] == NULL)
		send_error(&x, 503, "Service unavailable");
	else if ((status = handlers[x.rt](&x)) != 200 ||
	    x.resp->body.len == 0) {
		/* A handler that returns an error leaves the body to us. */
		x.resp->status = status;
		send_error(&x, status, x.errmsg != NULL ? x.errmsg :
		    status_text(status));
	} else
		x.resp->status = 200;

	if (resp_send(x.resp, io, x.req->method != M_HEAD) == -1)
		log_info("client went away before the response was sent");
	buf_free(&x.errbuf);
}
