/*
 * router.c: the route table.
 */
#include "config.h"

#include <string.h>

#include "router.h"

#define MB(m)	(1u << (m))

const struct route_def routes[RT__MAX] = {
	[RT_IDGEN] =	    { "/",		MB(M_POST), FAM_IDGEN,  "POST", "idgen" },
	[RT_HEALTHZ] =	    { "/healthz",	MB(M_GET),  FAM_PLAIN,  "GET",  "healthz" },
	[RT_V1_ENCODE] =    { "/v1/encode",	MB(M_GET),  FAM_HASHIDS, "GET", "encode" },
	[RT_V1_ENCODE_HEX] = { "/v1/encode-hex", MB(M_GET), FAM_HASHIDS, "GET", "encode-hex" },
	[RT_V1_DECODE] =    { "/v1/decode",	MB(M_GET),  FAM_HASHIDS, "GET", "decode" },
	[RT_V1_DECODE_HEX] = { "/v1/decode-hex", MB(M_GET), FAM_HASHIDS, "GET", "decode-hex" },
	[RT_V1_META] =	    { "/v1/meta",	MB(M_GET),  FAM_HASHIDS, "GET", "meta" },
};

int
router_find(enum method m, const char *path, enum route *rt, enum family *fam)
{
	size_t	 i;

	/* An empty PATH_INFO is the root: "POST /idmint" with the script
	 * mounted at /idmint arrives that way. */
	if (*path == '\0')
		path = "/";
	*fam = strncmp(path, "/v1/", 4) == 0 || strcmp(path, "/v1") == 0 ?
	    FAM_HASHIDS : FAM_PLAIN;
	for (i = 0; i < RT__MAX; i++) {
		if (strcmp(routes[i].path, path) != 0)
			continue;
		*rt = (enum route)i;
		*fam = routes[i].family;
		return (routes[i].methods & MB(m)) ? 200 : 405;
	}
	*rt = RT__MAX;
	return 404;
}
