/*
 * response.c: the CGI/FastCGI response: a Status line, fixed headers,
 * the route's extra headers, and the body, assembled then written once.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "response.h"
#include "rnd.h"

const char *
status_text(enum status st)
{
	switch (st) {
	case HTTP_OK:			return "OK";
	case HTTP_BAD_REQUEST:		return "Bad Request";
	case HTTP_UNAUTHORIZED:		return "Unauthorized";
	case HTTP_NOT_FOUND:		return "Not Found";
	case HTTP_METHOD_NOT_ALLOWED:	return "Method Not Allowed";
	case HTTP_TOO_LARGE:		return "Payload Too Large";
	case HTTP_URI_TOO_LONG:		return "URI Too Long";
	case HTTP_UNSUPPORTED_TYPE:	return "Unsupported Media Type";
	case HTTP_TOO_MANY:		return "Too Many Requests";
	case HTTP_UNAVAILABLE:		return "Service Unavailable";
	}
	return "Unknown";
}

void
resp_init(struct response *r)
{
	r->status = HTTP_OK;
	r->ctype = CTYPE_JSON;
	buf_init(&r->head, 0);
	buf_init(&r->body, 0);
	buf_init(&r->out, 0);
}

void
resp_free(struct response *r)
{
	buf_free(&r->head);
	buf_free(&r->body);
	buf_free(&r->out);
}

void
resp_reset(struct response *r)
{
	r->status = HTTP_OK;
	r->ctype = CTYPE_JSON;
	buf_reset(&r->head);
	buf_reset(&r->body);
	buf_reset(&r->out);
}

void
resp_header(struct response *r, const char *name, const char *value)
{
	buf_adds(&r->head, name);
	buf_addl(&r->head, ": ");
	buf_adds(&r->head, value);
	buf_addl(&r->head, "\r\n");
}

void
resp_header_u64(struct response *r, const char *name, uint64_t v)
{
	buf_adds(&r->head, name);
	buf_addl(&r->head, ": ");
	buf_add_u64(&r->head, v);
	buf_addl(&r->head, "\r\n");
}

void
resp_error_n(struct response *r, enum status status, const char *msg,
    size_t len)
{
	r->status = status;
	buf_reset(&r->body);
	buf_addl(&r->body, "{\"error\":");
	buf_add_jstr(&r->body, msg, len);
	buf_addc(&r->body, '}');
}

void
resp_error(struct response *r, enum status status, const char *msg)
{
	resp_error_n(r, status, msg, strlen(msg));
}

/*
 * gmtime_r and strftime cost more than the rest of an envelope; the date
 * part changes once a second, so it is kept per second.
 */
void
iso_time(char out[32], uint64_t ms)
{
	static time_t	 last = (time_t)-1;
	static char	 head[20];	/* "YYYY-MM-DDTHH:MM:SS" */
	time_t		 t = (time_t)(ms / 1000);
	struct tm	 tm;
	unsigned	 f = (unsigned)(ms % 1000);

	if (t != last) {
		gmtime_r(&t, &tm);
		if (strftime(head, sizeof(head), "%Y-%m-%dT%H:%M:%S", &tm) != 19)
			memcpy(head, "1970-01-01T00:00:00", 20);
		last = t;
	}
	memcpy(out, head, 19);
	out[19] = '.';
	out[20] = (char)('0' + f / 100);
	out[21] = (char)('0' + f / 10 % 10);
	out[22] = (char)('0' + f % 10);
	out[23] = 'Z';
	out[24] = '\0';
}

/* A fresh request id: a UUID v4 from the pooled randomness. */
static void
request_id(char id[UUID_STR_LEN + 1])
{
	unsigned char	 b[16];

	rnd_bytes(b, sizeof(b));
	uuid_fmt(id, b, 4);
}

void
resp_envelope(struct response *r, enum status status, const char *data,
    size_t datalen, const char *message, size_t msglen, uint64_t now_ms)
{
	char	 ts[32], id[UUID_STR_LEN + 1];

	iso_time(ts, now_ms);
	request_id(id);
	r->status = status;
	resp_header(r, "X-Request-Id", id);
	buf_reset(&r->body);
	buf_addl(&r->body, "{\"data\":");
	if (data != NULL)
		buf_add(&r->body, data, datalen);
	else
		buf_addl(&r->body, "null");
	buf_adds(&r->body, ",\"meta\":{\"timestamp\":\"");
	buf_add(&r->body, ts, 24);
	buf_adds(&r->body, "\",\"request_id\":\"");
	buf_add(&r->body, id, UUID_STR_LEN);
	buf_adds(&r->body, status == HTTP_OK ? "\"},\"status\":\"ok\",\"message\":" :
	    "\"},\"status\":\"error\",\"message\":");
	buf_add_jstr(&r->body, message, msglen);
	buf_adds(&r->body, status == HTTP_OK ? ",\"success\":true}" :
	    ",\"success\":false}");
}

int
resp_send(struct response *r, struct io *io, int with_body)
{
	struct buf *o = &r->out;

	if (r->body.err || r->head.err) {
		/* Out of memory building the answer: say so plainly. */
		buf_reset(&r->head);
		resp_error(r, HTTP_UNAVAILABLE, "Service unavailable");
	}
	if (r->status != HTTP_OK)	/* every error body is JSON */
		r->ctype = CTYPE_JSON;
	buf_reset(o);
	buf_addl(o, "Status: ");
	buf_add_u64(o, (uint64_t)r->status);
	buf_addc(o, ' ');
	buf_adds(o, status_text(r->status));
	buf_addl(o, "\r\nContent-Type: ");
	buf_adds(o, r->ctype);
	buf_addl(o, "\r\nCache-Control: no-store\r\nContent-Length: ");
	buf_add_u64(o, r->body.len);
	buf_addl(o, "\r\n");
	buf_add(o, r->head.data, r->head.len);
	buf_addl(o, "\r\n");
	if (with_body)
		buf_add(o, r->body.data, r->body.len);
	if (o->err)
		return -1;
	return io->write(io, o->data, o->len);
}
