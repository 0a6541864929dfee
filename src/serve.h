/*
 * serve.h: one request from start to finish, and the process-wide state
 * the handlers share.
 */
#ifndef IDMINT_SERVE_H
#define IDMINT_SERVE_H

#include <stdint.h>

#include "conf.h"
#include "limit.h"
#include "request.h"
#include "response.h"
#include "router.h"
#include "store.h"

struct store;
struct usage;

struct server {
	struct conf	 conf;
	int		 cgi;
	struct store	*store;		/* opened after start-up, per process */
	struct usage	*usage;
	struct request	 req;
	struct response	 resp;
	uint64_t	 (*clock_ms)(void);
	int		 slot;		/* snowflake slot held, -1: none */
};

/* What a handler sees of the request in hand. */
struct ctx {
	struct server	*srv;
	struct request	*req;
	struct response	*resp;
	enum route	 rt;
	enum family	 fam;
	uint64_t	 now_ms;
	const char	*errmsg;	/* the message when status != 200 */
	size_t		 errlen;	/* its length, when it may hold NUL */
	struct buf	 errbuf;	/* storage for a built message */
	const char	*count_type;	/* what a 200 counts as */
	int		 reading;	/* a store read txn is open */
	int		 limited;	/* verdict holds a limits_check */
	struct key	 key;		/* the authenticated key */
	struct limit_verdict verdict;
};

typedef int (*handler_fn)(struct ctx *);

int	 server_init(struct server *, const struct conf *);
/* Open the store and the shared table; claim a snowflake slot. */
int	 server_open(struct server *, char *err, size_t errlen);
void	 server_free(struct server *);
void	 serve(struct server *, struct io *);

/* For handlers: set the error message and return the status. */
int	 ctx_error(struct ctx *, int status, const char *msg);
int	 ctx_error_n(struct ctx *, int status, const char *msg, size_t len);
/* Authenticate (username + token, or token alone), then apply the key's
 * limits.  200, or the status to answer with errmsg set. */
int	 ctx_auth_user(struct ctx *, const char *user, size_t ulen,
	    const char *token, size_t tlen);
int	 ctx_auth_token(struct ctx *, const char *token, size_t tlen);
/* The token from X-Oanor-Key, X-Api-Key or Authorization: Bearer. */
const char *ctx_bearer(struct ctx *);
/* Make sure this process holds a snowflake slot (CGI claims lazily). */
int	 ctx_snowflake_slot(struct ctx *);

int	 h_healthz(struct ctx *);
int	 h_idgen(struct ctx *);
int	 h_hashids(struct ctx *);

#endif
