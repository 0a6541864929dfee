/*
 * router.h: the route table.  A route is one row of ROUTES below: its
 * name, path, methods, the shape its errors take, how it authenticates,
 * its handler and, for /v1, its success message.  The enum, the table,
 * the handlers' prototypes, the Allow header and the /v1/meta endpoint
 * list all derive from it, so adding a route is a handler file, a row
 * here, and a line in Makefile.am.
 */
#ifndef IDMINT_ROUTER_H
#define IDMINT_ROUTER_H

#include "request.h"
#include "response.h"

/* Each family answers errors in its own shape. */
enum family {
	FAM_PLAIN,		/* {"error":...} */
	FAM_IDGEN,		/* {"error":...} */
	FAM_V1,			/* the /v1 envelope */
	FAM__MAX
};

/* Who may call a route, and where the credentials are. */
enum auth_kind {
	AUTH_NONE,		/* anyone */
	AUTH_BODY,		/* username and token in the body: the
				   handler authenticates after reading it */
	AUTH_HEADER		/* a token header, checked before the handler */
};

#define MB(m)	(1u << (m))

/*   id                name          path              methods     family    auth         handler          success message */
#define ROUTES(R) \
	R(IDGEN,         "idgen",      "/",              MB(M_POST), FAM_IDGEN, AUTH_BODY,   h_idgen,         NULL) \
	R(HEALTHZ,       "healthz",    "/healthz",       MB(M_GET),  FAM_PLAIN, AUTH_NONE,   h_healthz,       NULL) \
	R(OPENAPI,       "openapi",    "/openapi.json",  MB(M_GET),  FAM_PLAIN, AUTH_NONE,   h_openapi,       NULL) \
	R(METRICS,       "metrics",    "/metrics",       MB(M_GET),  FAM_PLAIN, AUTH_NONE,   h_metrics,       NULL) \
	R(V1_ENCODE,     "encode",     "/v1/encode",     MB(M_GET),  FAM_V1,    AUTH_HEADER, h_v1_encode,     "Encode integers to a hashid") \
	R(V1_ENCODE_HEX, "encode-hex", "/v1/encode-hex", MB(M_GET),  FAM_V1,    AUTH_HEADER, h_v1_encode_hex, "Encode hex to a hashid") \
	R(V1_DECODE,     "decode",     "/v1/decode",     MB(M_GET),  FAM_V1,    AUTH_HEADER, h_v1_decode,     "Decode a hashid") \
	R(V1_DECODE_HEX, "decode-hex", "/v1/decode-hex", MB(M_GET),  FAM_V1,    AUTH_HEADER, h_v1_decode_hex, "Decode a hashid to hex") \
	R(V1_META,       "meta",       "/v1/meta",       MB(M_GET),  FAM_V1,    AUTH_HEADER, h_v1_meta,       "Meta") \
	R(V1_SQ_ENCODE,  "sqids-encode",    "/v1/sqids/encode",    MB(M_GET), FAM_V1, AUTH_HEADER, h_v1_sqids_encode,    "Encode integers to a sqid") \
	R(V1_SQ_DECODE,  "sqids-decode",    "/v1/sqids/decode",    MB(M_GET), FAM_V1, AUTH_HEADER, h_v1_sqids_decode,    "Decode a sqid") \
	R(V1_SF_PARSE,   "snowflake-parse", "/v1/snowflake/parse", MB(M_GET), FAM_V1, AUTH_HEADER, h_v1_snowflake_parse, "Parse a snowflake") \
	R(V1_SF_INFO,    "snowflake-info",  "/v1/snowflake/info",  MB(M_GET), FAM_V1, AUTH_HEADER, h_v1_snowflake_info,  "Snowflake layout")

struct ctx;

#define ROUTE_ENUM(id, ...)	RT_##id,
enum route_id { ROUTES(ROUTE_ENUM) RT__MAX };

#define ROUTE_PROTO(id, name, path, m, fam, auth, fn, msg) \
	enum status fn(struct ctx *);
ROUTES(ROUTE_PROTO)

struct route {
	const char	*name;		/* for logs, and usage counts on /v1 */
	const char	*path;
	unsigned	 methods;	/* bit per enum method */
	enum family	 family;
	enum auth_kind	 auth;
	enum status	(*handler)(struct ctx *);
	const char	*message;	/* the envelope's message on success */
};

extern const struct route routes[RT__MAX];

/*
 * Find the route for a method and path.  HTTP_OK with *rt set,
 * HTTP_NOT_FOUND (*rt NULL), or HTTP_METHOD_NOT_ALLOWED with *rt set (for
 * its Allow header).  *fam is always set, so a 404 has the right shape.
 */
enum status	 router_find(enum method, const char *path,
		    const struct route **rt, enum family *fam);
/* The Allow header of a route: its methods, comma-separated. */
const char	*route_allow(const struct route *, char *out, size_t outlen);

#endif
