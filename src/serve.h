/*
 * serve.h: one request from start to finish, and the process-wide state
 * the handlers share.
 */
#ifndef IDMINT_SERVE_H
#define IDMINT_SERVE_H

#include <stdint.h>

#include "conf.h"
#include "request.h"
#include "response.h"
#include "router.h"

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
	struct buf	 errbuf;	/* storage for a built message */
};

typedef int (*handler_fn)(struct ctx *);

int	 server_init(struct server *, const struct conf *);
void	 server_free(struct server *);
void	 serve(struct server *, struct io *);

int	 h_healthz(struct ctx *);

#endif
