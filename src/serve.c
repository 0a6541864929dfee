/*
 * serve.c: the dispatcher.  Handlers return a status; this file writes
 * every error, in the shape of the route's family, and wraps a /v1
 * handler's `data` in the envelope, so no handler can get a shape wrong.
 * In the request path nothing exits: a failure becomes a 4xx/5xx and the
 * loop goes on.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "clock.h"
#include "gen.h"
#include "log.h"
#include "metrics.h"
#include "serve.h"
#include "store.h"
#include "usage.h"

static const struct {
	enum status	 status;
	const char	*msg;
} req_errors[REQ__MAX] = {
	[REQ_OK] =		{ HTTP_OK, "" },
	[REQ_BAD_LENGTH] =	{ HTTP_BAD_REQUEST, "Invalid Content-Length" },
	[REQ_TOO_LARGE] =	{ HTTP_TOO_LARGE, "Request body too large" },
	[REQ_SHORT] =		{ HTTP_BAD_REQUEST,
				  "Request body shorter than Content-Length" },
	[REQ_NOMEM] =		{ HTTP_UNAVAILABLE, "Service unavailable" },
	[REQ_LONG_QUERY] =	{ HTTP_URI_TOO_LONG, "Query string too long" },
	[REQ_LONG_HEADER] =	{ HTTP_URI_TOO_LONG, "Request header too long" },
};

int
server_init(struct server *s, const struct conf *c)
{
	memset(s, 0, sizeof(*s));
	s->conf = *c;
	s->slot = -1;
	s->version = PACKAGE_VERSION;
	req_init(&s->req);
	resp_init(&s->resp);
	buf_init(&s->data, 0);
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

int
harden_process(const struct conf *c)
{
	struct rlimit	 no = { 0, 0 };

	if (c->core_dumps)
		return 0;
	if (setrlimit(RLIMIT_CORE, &no) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return -1;
	return 0;
}

static int
open_table(struct server *s, char *err, size_t errlen)
{
	struct shm_sizes sz;

	if (s->usage != NULL)
		return 0;
	conf_sizes(&s->conf, &sz);
	if (usage_open(s->conf.db, &sz, &s->usage, err, errlen) == -1) {
		s->usage = NULL;
		return -1;
	}
	usage_set_flush_ms(s->usage, s->conf.flush_ms);
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
	return open_table(s, err, errlen);
}

static int
claim_slot(struct server *s, char *err, size_t errlen)
{
	unsigned	 slot, slot_bits = 10 - (unsigned)s->conf.node_bits;
	uint64_t	 last;

	if (s->slot >= 0)
		return 0;
	if (store_lease_claim(s->store, slot_bits, getpid(), &slot, &last) !=
	    STORE_OK) {
		snprintf(err, errlen, "%s", store_error(s->store));
		return -1;
	}
	s->slot = (int)slot;
	s->slot_ms = last;
	/* Never below what the slot's earlier holders issued. */
	gen_snowflake_floor(last);
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
	if (s->usage != NULL && s->store != NULL &&
	    usage_flush(s->usage, s->store) == -1)
		log_err("final usage flush: %s", usage_error(s->usage));
	if (s->slot >= 0 && store_lease_release(s->store, (unsigned)s->slot,
	    getpid(), gen_snowflake_last()) != STORE_OK)
		log_warn("snowflake slot release: %s", store_error(s->store));
	if (s->usage != NULL)
		usage_close(s->usage);
	if (s->store != NULL)
		store_close(s->store);
	s->usage = NULL;
	s->store = NULL;
	s->slot = -1;
	req_free(&s->req);
	resp_free(&s->resp);
	buf_free(&s->data);
}

/* ---- for handlers ----------------------------------------------------- */

enum status
ctx_error_n(struct ctx *x, enum status status, const char *msg, size_t len)
{
	x->errmsg = msg;
	x->errlen = len;
	return status;
}

enum status
ctx_error(struct ctx *x, enum status status, const char *msg)
{
	return ctx_error_n(x, status, msg, strlen(msg));
}

enum status
ctx_errorf(struct ctx *x, enum status status, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_reset(&x->errbuf);
	buf_adds(&x->errbuf, msg);
	return ctx_error_n(x, status, buf_cstr(&x->errbuf), x->errbuf.len);
}

enum status
ctx_store(struct ctx *x)
{
	struct server *s = x->srv;
	char	 err[512];

	if (x->reading)
		return HTTP_OK;
	if (open_store(s, err, sizeof(err)) == -1) {
		log_err("%s", err);
		return ctx_error(x, HTTP_UNAVAILABLE, "Service unavailable");
	}
	if (store_rd_begin(s->store) != STORE_OK) {
		log_err("store: %s", store_error(s->store));
		return ctx_error(x, HTTP_UNAVAILABLE, "Service unavailable");
	}
	x->reading = 1;
	return HTTP_OK;
}

/*
 * Cluster mode: the node id is the one the sync process leased, good
 * until the lease's fence (its end minus a margin, on the monotonic
 * clock), and only after the last snowflake time the id's previous
 * holder may have used.  Outside that window snowflakes answer 503.
 */
static enum status
cluster_node_id(struct ctx *x)
{
	struct server	*s = x->srv;
	struct cluster_state cs;
	unsigned	 slot_bits = 10 - (unsigned)s->conf.node_bits;

	if (s->conf.cluster[0] == '\0')
		return HTTP_OK;
	if (store_cluster_state(s->store, &cs) != STORE_OK || !cs.leased ||
	    clock_mono_ns() / NS_PER_MS >= cs.fence_ms ||
	    now_ms() <= cs.not_before_ms ||
	    cs.node_id >= (1u << s->conf.node_bits))
		return ctx_error(x, HTTP_UNAVAILABLE, "Service unavailable");
	gen_setup.worker_id = cs.node_id << slot_bits | (unsigned)s->slot;
	return HTTP_OK;
}

enum status
ctx_query(struct ctx *x, struct qlist *q, const struct pdef *defs, size_t n,
    struct param *out)
{
	if (qlist_parse(q, x->req->query, strlen(x->req->query)) == -1)
		return ctx_error(x, HTTP_UNAVAILABLE, "Service unavailable");
	if (qlist_check(q, "query parameters", &x->errbuf) == -1 ||
	    params_check(q, defs, n, out, &x->errbuf) == -1)
		return ctx_error_n(x, HTTP_BAD_REQUEST, buf_cstr(&x->errbuf),
		    x->errbuf.len);
	return HTTP_OK;
}

enum status
ctx_snowflake_slot(struct ctx *x)
{
	char	 err[512];

	if (claim_slot(x->srv, err, sizeof(err)) == -1) {
		log_err("snowflake: %s", err);
		return ctx_error(x, HTTP_UNAVAILABLE, "Service unavailable");
	}
	return cluster_node_id(x);
}

/* ---- the dispatcher --------------------------------------------------- */

/*
 * Once the answer is out, nothing of a secret stays in memory that is
 * reused: a key pair's secret in the response, a token in the body or in
 * the header that carried it.
 */
static void
forget_secrets(struct ctx *x, struct io *io)
{
	static const char *const headers[] = { "HTTP_X_OANOR_KEY",
	    "HTTP_X_API_KEY", "HTTP_AUTHORIZATION", NULL };
	size_t	 i;

	buf_wipe(&x->resp->body);
	buf_wipe(&x->resp->out);
	buf_wipe(&x->req->body);
	if (x->rt != NULL && x->rt->auth == AUTH_HEADER)
		for (i = 0; headers[i] != NULL; i++)
			if (x->req->hdr[i] != NULL)
				io->forget(io, headers[i]);
}

static enum status
route(struct ctx *x)
{
	enum status	 st;

	if (x->req->err != REQ_OK)
		return ctx_error(x, req_errors[x->req->err].status,
		    req_errors[x->req->err].msg);
	if (x->rt->auth == AUTH_HEADER) {
		if ((st = auth_header(x)) != HTTP_OK)
			return st;
		x->count_type = x->rt->name;
	}
	return x->rt->handler(x);
}

/* The body: the handler's on success, else the error in the family's
 * shape; a /v1 success wrapped in the envelope. */
static void
reply(struct ctx *x, enum status st)
{
	struct response *r = x->resp;

	if (st == HTTP_OK && x->fam == FAM_V1 && x->data->err)
		st = ctx_error(x, HTTP_UNAVAILABLE, "Service unavailable");
	if (st == HTTP_OK && x->fam == FAM_V1 && x->data->len > 0)
		resp_envelope(r, HTTP_OK, x->data->data, x->data->len,
		    x->rt->message, strlen(x->rt->message), x->now_ms);
	else if (st == HTTP_OK && r->body.len > 0)
		r->status = HTTP_OK;
	else {
		if (st == HTTP_OK)	/* a handler that wrote nothing */
			st = ctx_error(x, HTTP_UNAVAILABLE,
			    "Service unavailable");
		if (x->errmsg == NULL)
			ctx_error(x, st, status_text(st));
		if (x->fam == FAM_V1)
			resp_envelope(r, st, NULL, 0, x->errmsg, x->errlen,
			    x->now_ms);
		else
			resp_error_n(r, st, x->errmsg, x->errlen);
	}
}

/*
 * Count the request for GET /metrics.  In CGI mode the shared table may
 * not be open yet (/healthz needs no store): it is opened for this.
 */
static void
count(struct server *s, const struct ctx *x, uint64_t t0)
{
	char	 err[512];

	if (!s->conf.metrics)
		return;
	if (open_table(s, err, sizeof(err)) == -1) {
		log_debug("metrics: %s", err);
		return;
	}
	metrics_count(s->usage, x, clock_mono_ns() - t0);
}

void
serve(struct server *s, struct io *io)
{
	struct ctx	 x;
	enum status	 st;
	char		 allow[64];
	uint64_t	 t0 = clock_mono_ns();

	memset(&x, 0, sizeof(x));
	x.srv = s;
	x.req = &s->req;
	x.resp = &s->resp;
	x.data = &s->data;
	x.now_ms = now_ms();
	buf_init(&x.errbuf, 1024);
	resp_reset(x.resp);
	buf_reset(x.data);

	req_parse(x.req, io, s->conf.max_body, s->conf.max_query);
	st = router_find(x.req->method, x.req->path, &x.rt, &x.fam);
	if (x.rt == &routes[RT_METRICS] && !s->conf.metrics) {
		x.rt = NULL;		/* off: as if there were no such path */
		st = HTTP_NOT_FOUND;
	}
	if (st == HTTP_NOT_FOUND)
		ctx_error(&x, st, "Not found");
	else if (st == HTTP_METHOD_NOT_ALLOWED) {
		resp_header(x.resp, "Allow", route_allow(x.rt, allow,
		    sizeof(allow)));
		ctx_error(&x, st, "Method not allowed");
	} else
		st = route(&x);
	reply(&x, st);

	auth_finish(&x);
	if (x.reading)
		store_rd_end(s->store);
	if (resp_send(x.resp, io, x.req->method != M_HEAD) == -1)
		log_info("client went away before the response was sent");
	forget_secrets(&x, io);
	count(s, &x, t0);
	/* After the answer is out, so no client waits for a flush. */
	server_idle(s);
	buf_free(&x.errbuf);
}

void
server_idle(struct server *s)
{
	uint64_t	 mono = clock_mono_ns() / NS_PER_MS, last;

	if (s->usage != NULL && s->conf.count_usage &&
	    usage_maybe_flush(s->usage, s->store, mono) == -1)
		log_err("usage flush: %s", usage_error(s->usage));
	/* The slot's lease learns the last millisecond issued, at least
	 * once a second, for its next holder should this one die. */
	if (s->slot >= 0 && (last = gen_snowflake_last()) > s->slot_ms &&
	    mono - s->slot_at >= 1000) {
		if (store_lease_record(s->store, (unsigned)s->slot, getpid(),
		    last) != STORE_OK)
			log_warn("snowflake slot: %s", store_error(s->store));
		s->slot_ms = last;
		s->slot_at = mono;
	}
}
