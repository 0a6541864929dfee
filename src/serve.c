/*
 * serve.c: the dispatcher.  Handlers return a status; this file writes
 * every error, in the shape of the route's family, so no handler can get
 * the shape wrong.  In the request path nothing exits: a failure becomes
 * a 4xx/5xx and the loop goes on.
 */
#include "config.h"

#include <strings.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gen.h"
#include "limit.h"
#include "log.h"
#include "plan.h"
#include "serve.h"
#include "store.h"
#include "usage.h"

static const handler_fn handlers[RT__MAX] = {
	[RT_IDGEN] = h_idgen,
	[RT_HEALTHZ] = h_healthz,
	[RT_V1_ENCODE] = h_hashids,
	[RT_V1_ENCODE_HEX] = h_hashids,
	[RT_V1_DECODE] = h_hashids,
	[RT_V1_DECODE_HEX] = h_hashids,
	[RT_V1_META] = h_hashids,
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
	s->slot = -1;
	req_init(&s->req);
	resp_init(&s->resp);
	gen_setup_default();
	gen_setup.snowflake_epoch_ms = c->snowflake_epoch;
	if (c->node_id >= (1u << c->node_bits)) {
		log_err("node_id %llu does not fit in node_bits %llu",
		    (unsigned long long)c->node_id,
		    (unsigned long long)c->node_bits);
		return -1;
	}
	return 0;
}

static int
open_store(struct server *s, char *err, size_t errlen)
{
	if (s->store == NULL && store_open(&s->store, s->conf.db,
	    (size_t)s->conf.map_size, err, errlen) != STORE_OK) {
		s->store = NULL;
		return -1;
	}
	if (s->usage == NULL) {
		if (usage_open(s->conf.db, &s->usage, err, errlen) == -1) {
			s->usage = NULL;
			return -1;
		}
		usage_set_flush_ms(s->usage, s->conf.flush_ms);
	}
	return 0;
}

static int
claim_slot(struct server *s, char *err, size_t errlen)
{
	unsigned	 slot, slot_bits = 10 - (unsigned)s->conf.node_bits;

	if (s->slot >= 0)
		return 0;
	if (store_worker_claim(s->store, slot_bits, getpid(), &slot, err,
	    errlen) == -1)
		return -1;
	s->slot = (int)slot;
	gen_setup.worker_id = (uint32_t)(s->conf.node_id << slot_bits | slot);
	log_debug("snowflake worker id %u", gen_setup.worker_id);
	return 0;
}

/*
 * A worker with no snowflake slot (more workers than 2^(10 - node_bits))
 * still serves everything else; snowflake requests retry the claim and
 * answer 503 while every slot is held.
 */
int
server_open(struct server *s, char *err, size_t errlen)
{
	char	 why[512];

	if (open_store(s, err, errlen) == -1)
		return -1;
	if (claim_slot(s, why, sizeof(why)) == -1)
		log_warn("no snowflake slot for this worker yet: %s", why);
	return 0;
}

void
server_free(struct server *s)
{
	char	 err[256];

	if (s->usage != NULL && s->store != NULL &&
	    usage_flush(s->usage, s->store, err, sizeof(err)) == -1)
		log_err("final usage flush: %s", err);
	if (s->slot >= 0 && store_worker_release(s->store, (unsigned)s->slot,
	    getpid(), err, sizeof(err)) == -1)
		log_warn("snowflake slot release: %s", err);
	if (s->usage != NULL)
		usage_close(s->usage);
	if (s->store != NULL)
		store_close(s->store);
	s->usage = NULL;
	s->store = NULL;
	s->slot = -1;
	req_free(&s->req);
	resp_free(&s->resp);
}

int
ctx_error(struct ctx *x, int status, const char *msg)
{
	x->errmsg = msg;
	x->errlen = strlen(msg);
	return status;
}

int
ctx_error_n(struct ctx *x, int status, const char *msg, size_t len)
{
	x->errmsg = msg;
	x->errlen = len;
	return status;
}

const char *
ctx_bearer(struct ctx *x)
{
	const char *v;

	if ((v = req_header(x->req, "X-Oanor-Key")) != NULL && *v != '\0')
		return v;
	if ((v = req_header(x->req, "X-Api-Key")) != NULL && *v != '\0')
		return v;
	if ((v = req_header(x->req, "Authorization")) != NULL &&
	    strncasecmp(v, "Bearer ", 7) == 0) {
		for (v += 7; *v == ' '; v++)
			;
		if (*v != '\0')
			return v;
	}
	return NULL;
}

/* The store, with this request's read transaction open. */
static int
ctx_store(struct ctx *x)
{
	struct server *s = x->srv;
	char	 err[512];

	if (x->reading)
		return 200;
	if (open_store(s, err, sizeof(err)) == -1) {
		log_err("%s", err);
		return ctx_error(x, 503, "Service unavailable");
	}
	if (store_rd_begin(s->store) != STORE_OK) {
		log_err("store: %s", store_error(s->store));
		return ctx_error(x, 503, "Service unavailable");
	}
	x->reading = 1;
	return 200;
}

static int
ctx_limits(struct ctx *x)
{
	struct limit_verdict *v = &x->verdict;

	limits_check(x->srv->usage, x->srv->store, x->key.user, x->key.rate,
	    x->key.quota, x->now_ms * 1000000ULL, v);
	x->limited = 1;
	if (v->ok)
		return 200;
	if (v->status == 429)
		resp_header_u64(x->resp, "Retry-After", v->retry_after);
	else
		log_err("limits: %s", v->message);
	return ctx_error(x, v->status, v->message);
}

static int
auth_result(struct ctx *x, enum store_rc rc, const char *denied)
{
	if (rc == STORE_OK)
		return ctx_limits(x);
	if (rc == STORE_DENIED || rc == STORE_NOTFOUND)
		return ctx_error(x, 401, denied);
	log_err("store: %s", store_error(x->srv->store));
	return ctx_error(x, 503, "Service unavailable");
}

int
ctx_auth_user(struct ctx *x, const char *user, size_t ulen,
    const char *token, size_t tlen)
{
	int	 status;

	if ((status = ctx_store(x)) != 200)
		return status;
	return auth_result(x, store_auth_user(x->srv->store, user, ulen,
	    token, tlen, &x->key), "Invalid username or token");
}

int
ctx_auth_token(struct ctx *x, const char *token, size_t tlen)
{
	int	 status;

	if ((status = ctx_store(x)) != 200)
		return status;
	return auth_result(x, store_auth_token(x->srv->store, token, tlen,
	    &x->key), "Missing or invalid x-oanor-key header");
}

int
ctx_snowflake_slot(struct ctx *x)
{
	char	 err[512];

	if (claim_slot(x->srv, err, sizeof(err)) == -1) {
		log_err("snowflake: %s", err);
		return ctx_error(x, 503, "Service unavailable");
	}
	return 200;
}

/* Count a 200, give back a refused reservation, and say the limits. */
static void
ctx_finish(struct ctx *x, int status)
{
	struct limit_verdict *v = &x->verdict;

	if (!x->limited)
		return;
	if (limits_done(x->srv->usage, x->srv->store, v,
	    x->count_type != NULL ? x->count_type : "unknown",
	    x->srv->conf.count_usage ? status : 0) == -1)
		log_err("usage: %s", usage_error(x->srv->usage));
	/* Every authenticated answer says its limits.  A key with none
	 * states the ceiling no plan can pass, never spent. */
	if (v->has_headers) {
		resp_header_u64(x->resp, "RateLimit-Limit", v->limit);
		resp_header_u64(x->resp, "RateLimit-Remaining", v->remaining);
		resp_header_u64(x->resp, "RateLimit-Reset", v->reset);
	} else if (v->status != 503) {
		resp_header_u64(x->resp, "RateLimit-Limit", PLAN_RATE_MAX);
		resp_header_u64(x->resp, "RateLimit-Remaining", PLAN_RATE_MAX);
		resp_header_u64(x->resp, "RateLimit-Reset", 0);
	}
}

static void
send_error_n(struct ctx *x, int status, const char *msg, size_t len)
{
	if (x->fam == FAM_HASHIDS)
		resp_envelope_n(x->resp, status, NULL, 0, msg, len, x->now_ms);
	else
		resp_error_n(x->resp, status, msg, len);
}

static void
send_error(struct ctx *x, int status, const char *msg)
{
	send_error_n(x, status, msg, strlen(msg));
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
		if (x.errmsg != NULL)
			send_error_n(&x, status, x.errmsg, x.errlen);
		else
			send_error(&x, status, status_text(status));
	} else
		x.resp->status = 200;

	ctx_finish(&x, x.resp->status);
	if (x.reading)
		store_rd_end(s->store);
	if (resp_send(x.resp, io, x.req->method != M_HEAD) == -1)
		log_info("client went away before the response was sent");
	/* After the answer is out, so no client waits for a flush. */
	if (s->usage != NULL && s->conf.count_usage &&
	    usage_maybe_flush(s->usage, s->store, x.now_ms) == -1)
		log_err("usage flush: %s", usage_error(s->usage));
	buf_free(&x.errbuf);
}
