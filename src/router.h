/*
 * router.h: a static table of exact method + path.  Routes are an enum that
 * indexes the table; RT__MAX means "no such route".
 */
#ifndef IDMINT_ROUTER_H
#define IDMINT_ROUTER_H

#include "request.h"

enum route {
	RT_IDGEN,		/* POST / */
	RT_HEALTHZ,		/* GET /healthz */
	RT_V1_ENCODE,
	RT_V1_ENCODE_HEX,
	RT_V1_DECODE,
	RT_V1_DECODE_HEX,
	RT_V1_META,
	RT__MAX
};

/* Each family answers errors in its own shape. */
enum family {
	FAM_PLAIN,		/* {"error":...} */
	FAM_IDGEN,		/* {"error":...} */
	FAM_HASHIDS		/* the /v1 envelope */
};

struct route_def {
	const char	*path;
	unsigned	 methods;	/* bit per enum method */
	enum family	 family;
	const char	*allow;		/* the Allow header for a 405 */
	const char	*name;		/* for logs and usage counts */
};

extern const struct route_def routes[RT__MAX];

/*
 * Find the route for a method and path.  Returns 200 with *rt set, 404, or
 * 405 with *rt set (so the caller can send its Allow header).  *fam is
 * always set, so even a 404 has the right shape.
 */
int	 router_find(enum method, const char *path, enum route *rt,
	    enum family *fam);

#endif
