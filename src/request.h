/*
 * request.h: one parsed request.  The same path serves FastCGI, CGI and
 * tests, since all three arrive as environment + body through struct io.
 */
#ifndef IDMINT_REQUEST_H
#define IDMINT_REQUEST_H

#include <stddef.h>

#include "buf.h"
#include "io.h"

enum method { M_GET, M_POST, M_HEAD, M_PUT, M_DELETE, M_PATCH, M_OPTIONS,
	M_OTHER, M__MAX };

/* What went wrong reading the request; each maps to one status. */
enum req_err {
	REQ_OK,
	REQ_BAD_LENGTH,	/* CONTENT_LENGTH not plain digits: 400 */
	REQ_TOO_LARGE,	/* over max_body: 413 */
	REQ_SHORT,	/* body shorter than announced: 400 */
	REQ_NOMEM,	/* 503 */
	REQ_LONG_QUERY,	/* QUERY_STRING over max_query: 414 */
	REQ_LONG_HEADER,	/* a header idmint reads, over max_query: 414 */
	REQ__MAX
};

enum ctype { CT_NONE, CT_JSON, CT_FORM, CT_OTHER };

/* The key headers idmint reads, looked up once per request. */
enum req_hdr { HDR_OANOR_KEY, HDR_API_KEY, HDR_AUTHORIZATION, HDR__MAX };

struct request {
	struct io	*io;
	const char	*hdr[HDR__MAX];	/* NULL when absent */
	enum method	 method;
	const char	*path;		/* PATH_INFO, "" when absent */
	const char	*query;		/* QUERY_STRING, raw, "" when absent */
	enum ctype	 ctype;
	size_t		 clen;		/* CONTENT_LENGTH */
	struct buf	 body;		/* reused from request to request */
	enum req_err	 err;
};

/* One key=value pair, percent-decoded; vlen counts bytes (may hold NUL). */
struct qparam {
	const char	*name;
	const char	*val;
	size_t		 nlen, vlen;
};

#define QPARAM_MAX	64

struct qlist {
	struct qparam	 p[QPARAM_MAX];
	size_t		 n;
	int		 dup;		/* a name appeared twice */
	const struct qparam *dupp;	/* the first name that did */
	int		 overflow;	/* more than QPARAM_MAX pairs */
	struct buf	 store;		/* decoded bytes live here */
};

void	 req_init(struct request *);
void	 req_free(struct request *);
/*
 * Read the environment and the body (capped at max_body before any
 * allocation), and refuse a query string or a header idmint reads that is
 * longer than max_query: a local process that reaches the socket is not
 * held to the web server's limits.  Never fails hard: problems are left
 * in req->err.
 */
void	 req_parse(struct request *, struct io *, size_t max_body,
	    size_t max_query);
/* A request header by its HTTP name ("X-Api-Key"), or NULL. */
const char *req_header(const struct request *, const char *);
enum ctype ctype_parse(const char *);
/* "GET", "POST", ...; NULL for M_OTHER. */
const char *method_name(enum method);

/* Parse application/x-www-form-urlencoded text ('+' is a space). */
int	 qlist_parse(struct qlist *, const char *, size_t);
void	 qlist_init(struct qlist *);
void	 qlist_free(struct qlist *);
const struct qparam *qlist_get(const struct qlist *, const char *);
/*
 * Refuse what qlist_parse let through: a name given twice, or more than
 * QPARAM_MAX pairs ("too many <noun>").  0, or -1 with the message in msg.
 */
int	 qlist_check(const struct qlist *, const char *noun, struct buf *msg);
/* Decode %XX and '+'; a malformed escape is kept as it is. */
size_t	 pct_decode(char *dst, const char *src, size_t len);

#endif
