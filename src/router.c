/*
 * router.c: the route table, built from ROUTES in router.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "router.h"

#define ROUTE_ROW(id, nm, p, m, fam, au, fn, msg) \
	[RT_##id] = { nm, p, m, fam, au, fn, msg },
const struct route routes[RT__MAX] = { ROUTES(ROUTE_ROW) };

enum status
router_find(enum method m, const char *path, const struct route **rt,
    enum family *fam)
{
	size_t	 i;

	/* An empty PATH_INFO is the root: "POST /idmint" with the script
	 * mounted at /idmint arrives that way. */
	if (*path == '\0')
		path = "/";
	*fam = strncmp(path, "/v1/", 4) == 0 || strcmp(path, "/v1") == 0 ?
	    FAM_V1 : FAM_PLAIN;
	for (i = 0; i < RT__MAX; i++) {
		if (strcmp(routes[i].path, path) != 0)
			continue;
		*rt = &routes[i];
		*fam = routes[i].family;
		return (routes[i].methods & MB(m)) ? HTTP_OK :
		    HTTP_METHOD_NOT_ALLOWED;
	}
	*rt = NULL;
	return HTTP_NOT_FOUND;
}

const char *
route_allow(const struct route *rt, char *out, size_t outlen)
{
	enum method	 m;
	size_t		 o = 0;
	int		 n;

	out[0] = '\0';
	for (m = 0; m < M_OTHER; m++) {
		if (!(rt->methods & MB(m)))
			continue;
		n = snprintf(out + o, outlen - o, "%s%s", o > 0 ? ", " : "",
		    method_name(m));
		if (n < 0 || (size_t)n >= outlen - o)
			break;
		o += (size_t)n;
	}
	return out;
}
