/*
 * response.h: status, headers and a JSON body, sent in one write.
 */
#ifndef IDMINT_RESPONSE_H
#define IDMINT_RESPONSE_H

#include "buf.h"
#include "io.h"

struct response {
	int		 status;
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
void	 resp_error(struct response *, int status, const char *msg);
void	 resp_error_n(struct response *, int status, const char *msg,
	    size_t len);
/*
 * The /v1 envelope: data is raw JSON text (an object), or NULL for null.
 * Adds the request id header.  `now_ms` is the Unix time in ms.
 */
void	 resp_envelope(struct response *, int status, const char *data,
	    size_t datalen, const char *message, uint64_t now_ms);
void	 resp_envelope_n(struct response *, int status, const char *data,
	    size_t datalen, const char *message, size_t msglen, uint64_t now_ms);
int	 resp_send(struct response *, struct io *, int with_body);
const char *status_text(int);
/* ISO 8601 UTC with milliseconds and Z: 24 characters plus NUL. */
void	 iso_time(char out[32], uint64_t ms);
/* A fresh lowercase UUID v4: 36 characters plus NUL. */
void	 uuid4_str(char out[37]);

#endif
