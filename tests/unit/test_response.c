#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "response.h"

static char *
send_to_mem(struct response *r, int with_body)
{
	struct io_mem m;
	struct io io;

	memset(&m, 0, sizeof(m));
	io_mem(&io, &m);
	cr_assert_eq(resp_send(r, &io, with_body), 0);
	return m.out;
}

Test(response, status_headers_body)
{
	struct response r;
	char *out;

	resp_init(&r);
	resp_header(&r, "Allow", "POST");
	resp_error(&r, HTTP_METHOD_NOT_ALLOWED, "Method not allowed");
	out = send_to_mem(&r, 1);
	cr_assert_str_eq(out, "Status: 405 Method Not Allowed\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n"
	    "Content-Length: 30\r\n"
	    "Allow: POST\r\n\r\n"
	    "{\"error\":\"Method not allowed\"}");
	free(out);
	resp_free(&r);
}

Test(response, head_has_no_body)
{
	struct response r;
	char *out;

	resp_init(&r);
	buf_adds(&r.body, "{}");
	out = send_to_mem(&r, 0);
	cr_assert(strstr(out, "Content-Length: 2\r\n\r\n") != NULL);
	cr_assert_eq(out[strlen(out) - 1], '\n');
	free(out);
	resp_free(&r);
}

Test(response, error_is_escaped_json)
{
	struct response r;
	json_object *o;

	resp_init(&r);
	resp_error(&r, HTTP_BAD_REQUEST, "ID Type \"x\\\n\" not supported.");
	o = json_tokener_parse(r.body.data);
	cr_assert_not_null(o);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(o,
	    "error")), "ID Type \"x\\\n\" not supported.");
	json_object_put(o);
	resp_free(&r);
}

Test(response, envelope)
{
	struct response r;
	json_object *o, *meta, *v;
	char *out;
	const char *id;

	resp_init(&r);
	/* 2026-06-02T16:52:00.047Z */
	resp_envelope(&r, HTTP_NOT_FOUND, NULL, 0, "Not found", 9,
	    1780419120047ULL);
	o = json_tokener_parse(r.body.data);
	cr_assert_not_null(o);
	cr_assert(json_object_object_get_ex(o, "data", &v));
	cr_assert_null(v);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(o,
	    "status")), "error");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(o,
	    "message")), "Not found");
	cr_assert_eq(json_object_get_boolean(json_object_object_get(o,
	    "success")), 0);
	meta = json_object_object_get(o, "meta");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(meta,
	    "timestamp")), "2026-06-02T16:52:00.047Z");
	id = json_object_get_string(json_object_object_get(meta, "request_id"));
	cr_assert_eq(strlen(id), 36);
	cr_assert_eq(id[14], '4');
	out = send_to_mem(&r, 1);
	cr_assert(strstr(out, id) != NULL);
	cr_assert(strstr(out, "X-Request-Id: ") != NULL);
	free(out);
	json_object_put(o);
	resp_free(&r);
}

/* The request id of an envelope, from its header. */
static void
envelope_id(char id[37])
{
	struct response r;
	const char *h;

	resp_init(&r);
	resp_envelope(&r, HTTP_OK, "{}", 2, "Meta", 4, 0);
	cr_assert_not_null(h = strstr(r.head.data, "X-Request-Id: "));
	memcpy(id, h + 14, 36);
	id[36] = '\0';
	resp_free(&r);
}

Test(response, request_ids_differ)
{
	char a[37], b[37];

	envelope_id(a);
	envelope_id(b);
	cr_assert_eq(a[14], '4');
	cr_assert_str_neq(a, b);
}
