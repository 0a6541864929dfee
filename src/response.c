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

static const struct { int code; const char *text; } statuses[] = {
	{ 200, "OK" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
	{ 404, "Not Found" }, { 405, "Method Not Allowed" },
	{ 413, "Payload Too Large" }, { 415, "Unsupported Media Type" },
	{ 429, "Too Many Requests" }, { 500, "Internal Server Error" },
	{ 503, "Service Unavailable" },
};

const char *
status_text(int code)
{
	size_t	 i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i].code == code)
			return statuses[i].text;
	return "Unknown";
}

void
resp_init(struct response *r)
{
	r->status = 200;
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
	r->status = 200;
	buf_reset(&r->head);
	buf_reset(&r->body);
	buf_reset(&r->out);
}

void
resp_header(struct response *r, const char *name, const char *value)
{
	buf_adds(&r->head, name);
	buf_add(&r->head, ": ", 2);
	buf_adds(&r->head, value);
	buf_add(&r->head, "\r\n", 2);
}

void
resp_header_u64(struct response *r, const char *name, uint64_t v)
{
	buf_adds(&r->head, name);
	buf_add(&r->head, ": ", 2);
	buf_add_u64(&r->head, v);
	buf_add(&r->head, "\r\n", 2);
}

void
resp_error_n(struct response *r, int status, const char *msg, size_t len)
{
	r->status = status;
	buf_reset(&r->body);
	buf_add(&r->body, "{\"error\":", 9);
	buf_add_jstr(&r->body, msg, len);
	buf_addc(&r->body, '}');
}

void
resp_error(struct response *r, int status, const char *msg)
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

void
uuid4_str(char out[37])
{
	unsigned char b[16];
	static const char hex[] = "0123456789abcdef";
	size_t	 i, o = 0;

	rnd_bytes(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0xf];
	}
	out[o] = '\0';
}

void
resp_envelope(struct response *r, int status, const char *data,
    size_t datalen, const char *message, uint64_t now_ms)
{
	resp_envelope_n(r, status, data, datalen, message, strlen(message),
	    now_ms);
}

void
resp_envelope_n(struct response *r, int status, const char *data,
    size_t datalen, const char *message, size_t msglen, uint64_t now_ms)
{
	char	 ts[32], id[37];

	iso_time(ts, now_ms);
	uuid4_str(id);
	r->status = status;
	resp_header(r, "X-Request-Id", id);
	buf_reset(&r->body);
	buf_add(&r->body, "{\"data\":", 8);
	if (data != NULL)
		buf_add(&r->body, data, datalen);
	else
		buf_add(&r->body, "null", 4);
	buf_adds(&r->body, ",\"meta\":{\"timestamp\":\"");
	buf_add(&r->body, ts, 24);
	buf_adds(&r->body, "\",\"request_id\":\"");
	buf_add(&r->body, id, 36);
	buf_adds(&r->body, status == 200 ? "\"},\"status\":\"ok\",\"message\":" :
	    "\"},\"status\":\"error\",\"message\":");
	buf_add_jstr(&r->body, message, msglen);
	buf_adds(&r->body, status == 200 ? ",\"success\":true}" :
	    ",\"success\":false}");
}

int
resp_send(struct response *r, struct io *io, int with_body)
{
	struct buf *o = &r->out;

	if (r->body.err || r->head.err) {
		/* Out of memory building the answer: say so plainly. */
		buf_reset(&r->head);
		resp_error(r, 503, "Service unavailable");
	}
	buf_reset(o);
	buf_add(o, "Status: ", 8);
	buf_add_u64(o, (uint64_t)r->status);
	buf_addc(o, ' ');
	buf_adds(o, status_text(r->status));
	buf_adds(o, "\r\nContent-Type: application/json; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\nContent-Length: ");
	buf_add_u64(o, r->body.len);
	buf_add(o, "\r\n", 2);
	buf_add(o, r->head.data, r->head.len);
	buf_add(o, "\r\n", 2);
	if (with_body)
		buf_add(o, r->body.data, r->body.len);
	if (o->err)
		return -1;
	return io->write(io, o->data, o->len);
}
