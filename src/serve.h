/*
 * serve.h: one request from start to finish, and the process-wide state
 * the handlers share.
 */
#ifndef IDMINT_SERVE_H
#define IDMINT_SERVE_H

#include <stdint.h>

#include "conf.h"
#include "limit.h"
#include "params.h"
#include "request.h"
#include "response.h"
#include "router.h"
#include "store.h"

struct usage;

struct server {
	struct conf	 conf;
	struct store	*store;		/* opened after start-up, per process */
	struct usage	*usage;
	struct request	 req;
	struct response	 resp;
	struct buf	 data;		/* a /v1 answer's `data`, reused */
	int		 slot;		/* snowflake slot held, -1: none */
	uint64_t	 slot_ms;	/* last ms recorded in its lease */
	uint64_t	 slot_at;	/* when (monotonic ms) */
	const char	*version;	/* what /healthz reports */
};

/* What a handler sees of the request in hand. */
struct ctx {
	struct server	*srv;
	struct request	*req;
	struct response	*resp;
	const struct route *rt;
	enum family	 fam;
	uint64_t	 now_ms;
	struct buf	*data;		/* FAM_V1: the handler writes `data` */
	const char	*errmsg;	/* the message when status != 200 */
	size_t		 errlen;	/* its length, when it may hold NUL */
	struct buf	 errbuf;	/* storage for a built message */
	const char	*count_type;	/* what a 200 counts as */
	uint64_t	 calls;		/* how many calls a 200 counts (a
					   batch's size; 0 is 1) */
	int		 reading;	/* a store read txn is open */
	int		 limited;	/* verdict holds a limits_check */
	struct key	 key;		/* the authenticated key */
	struct limit_verdict verdict;
};

int	 server_init(struct server *, const struct conf *);
/*
 * Unless the configuration asks for core dumps: no core file, and not
 * dumpable (no ptrace by the same user, /proc/PID/mem closed), since a
 * worker's memory holds tokens and key pairs in flight.  -1 on failure.
 */
int	 harden_process(const struct conf *);
/* Open the store and the shared table; claim a snowflake slot. */
int	 server_open(struct server *, char *err, size_t errlen);
void	 server_free(struct server *);
void	 serve(struct server *, struct io *);
/* Between requests (after each, and when idle): flush counts when due,
 * record the snowflake slot's last millisecond at least once a second. */
void	 server_idle(struct server *);

/* For handlers: set the error message and return the status. */
enum status	 ctx_error(struct ctx *, enum status, const char *msg);
enum status	 ctx_error_n(struct ctx *, enum status, const char *msg,
		    size_t len);
/* The same, the message built from a format. */
enum status	 ctx_errorf(struct ctx *, enum status, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* The store, with this request's read transaction open. */
enum status	 ctx_store(struct ctx *);
/*
 * A /v1 query string: parsed into q, checked as a whole (at most 64
 * pairs, no name twice), then against n rows of defs into out.  HTTP_OK,
 * or 400 (503 without memory) with the message set.
 */
enum status	 ctx_query(struct ctx *, struct qlist *q,
		    const struct pdef *defs, size_t n, struct param *out);
/* Make sure this process holds a snowflake slot (CGI claims lazily) and,
 * in cluster mode, that the node's id lease is live (else 503). */
enum status	 ctx_snowflake_slot(struct ctx *);

#endif
