/*
 * response.h: status, headers and a JSON body, sent in one write.
 */
#ifndef IDMINT_RESPONSE_H
#define IDMINT_RESPONSE_H

#include "buf.h"
#include "io.h"

/* The statuses idmint answers with; handlers return these, by name. */
enum status {
	HTTP_OK = 200,
	HTTP_BAD_REQUEST = 400,
	HTTP_UNAUTHORIZED = 401,
	HTTP_NOT_FOUND = 404,
	HTTP_METHOD_NOT_ALLOWED = 405,
	HTTP_TOO_LARGE = 413,
	HTTP_URI_TOO_LONG = 414,
	HTTP_UNSUPPORTED_TYPE = 415,
	HTTP_TOO_MANY = 429,
	HTTP_UNAVAILABLE = 503
};

#define CTYPE_JSON	"application/json; charset=utf-8"

struct response {
	enum status	 status;
	const char	*ctype;	/* Content-Type: CTYPE_JSON unless a handler
				   says otherwise */
	struct buf	 head;	/* extra header lines, each ending in \r\n */
	struct buf	 body;
	struct buf	 out;	/* the whole response, reused */
};

void	 resp_init(struct response *);
void	 resp_free(struct response *);
void	 resp_reset(struct response *);
void	 resp_header(struct response *, const char *name, const char *value);
void	 resp_header_u64(struct response *, const char *name, uint64_t);
/* {"error":"msg"}: the shape of POST / and of plain routes. */
void	 resp_error(struct response *, enum status, const char *msg);
void	 resp_error_n(struct response *, enum status, const char *msg,
	    size_t len);
/*
 * The /v1 envelope: data is raw JSON text (an object), or NULL for null.
 * Adds the request id header.  `now_ms` is the Unix time in ms.
 */
void	 resp_envelope(struct response *, enum status, const char *data,
	    size_t datalen, const char *message, size_t msglen, uint64_t now_ms);
int	 resp_send(struct response *, struct io *, int with_body);
const char *status_text(enum status);
/* ISO 8601 UTC with milliseconds and Z: 24 characters plus NUL. */
void	 iso_time(char out[32], uint64_t ms);

#endif
