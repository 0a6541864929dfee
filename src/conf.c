/*
 * conf.c: a small `key = value` file, then IDMINT_* environment variables.
 * Inputs are checked against one declarative table (name, kind, bounds),
 * and any unknown key or bad value stops start-up: a typo in a config file
 * should never silently mean "the default".
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "shm.h"
#include "parse.h"

enum conf_kind { CK_PATH, CK_SIZE, CK_UINT, CK_BOOL, CK_LEVEL, CK_LOG, CK_STR,
    CK_NAME };

struct conf_key {
	const char	*name;
	enum conf_kind	 kind;
	size_t		 off;
	uint64_t	 min, max;
};

#define OFF(f)	offsetof(struct conf, f)
static const struct conf_key conf_keys[] = {
	{ "db",			CK_PATH,  OFF(db),		0, 0 },
	{ "max_body",		CK_SIZE,  OFF(max_body),	1, 32ULL << 20 },
	{ "max_query",		CK_SIZE,  OFF(max_query),	1024, 16ULL << 20 },
	{ "map_size",		CK_SIZE,  OFF(map_size),	1ULL << 20, 1ULL << 40 },
	{ "log_level",		CK_LEVEL, OFF(log_level),	0, 0 },
	{ "log",		CK_LOG,   OFF(log),		0, 0 },
	{ "flush_ms",		CK_UINT,  OFF(flush_ms),	1, 60000 },
	{ "snowflake_epoch",	CK_UINT,  OFF(snowflake_epoch),	0, 4102444800000ULL },
	{ "node_id",		CK_UINT,  OFF(node_id),		0, 1023 },
	{ "node_bits",		CK_UINT,  OFF(node_bits),	0, 9 },
	{ "count_usage",	CK_BOOL,  OFF(count_usage),	0, 1 },
	{ "core_dumps",		CK_BOOL,  OFF(core_dumps),	0, 1 },
	{ "count_cells",	CK_UINT,  OFF(count_cells),	64, SHM_CELLS_MAX },
	{ "quota_cells",	CK_UINT,  OFF(quota_cells),	64, SHM_CELLS_MAX },
	{ "rate_cells",		CK_UINT,  OFF(rate_cells),	64, SHM_CELLS_MAX },
	{ "metrics",		CK_BOOL,  OFF(metrics),		0, 1 },
	{ "cluster",		CK_STR,   OFF(cluster),		0, 1023 },
	{ "node_name",		CK_NAME,  OFF(node_name),	1, CONF_NODE_MAX },
	{ "sync_ms",		CK_UINT,  OFF(sync_ms),		50, 60000 },
	{ "lease_ms",		CK_UINT,  OFF(lease_ms),	1000, 3600000 },
};
#undef OFF

/* A node name: 1..CONF_NODE_MAX of a-z 0-9 . _ -, upper case folded. */
static int
name_fold(const char *in, char *out, size_t outlen)
{
	size_t	 i, n = strlen(in);

	if (n == 0 || n > CONF_NODE_MAX || n >= outlen)
		return -1;
	for (i = 0; i < n; i++) {
		out[i] = (char)tolower((unsigned char)in[i]);
		if (!isalnum((unsigned char)out[i]) && out[i] != '.' &&
		    out[i] != '_' && out[i] != '-')
			return -1;
	}
	out[n] = '\0';
	return 0;
}

void
conf_defaults(struct conf *c)
{
	char	 host[256];

	memset(c, 0, sizeof(*c));
	snprintf(c->db, sizeof(c->db), "%s", CONF_DB_DEFAULT);
	c->max_body = 64 * 1024;
	c->max_query = 64 * 1024;
	c->map_size = 1ULL << 30;
	c->log_level = LL_WARN;
	snprintf(c->log, sizeof(c->log), "%s", "stderr");
	c->flush_ms = 1000;
	c->snowflake_epoch = 1288834974657ULL;
	c->node_id = 0;
	c->node_bits = 5;
	c->count_usage = 1;
	c->count_cells = SHM_COUNT_DEFAULT;
	c->quota_cells = SHM_QUOTA_DEFAULT;
	c->rate_cells = SHM_RATE_DEFAULT;
	c->sync_ms = 1000;
	c->lease_ms = 10000;
	/* The host name, when it makes a good node name. */
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		if (name_fold(host, c->node_name, sizeof(c->node_name)) == -1)
			c->node_name[0] = '\0';
	}
}

void
conf_sizes(const struct conf *c, struct shm_sizes *sz)
{
	memset(sz, 0, sizeof(*sz));
	sz->count = (uint32_t)c->count_cells;
	sz->quota = (uint32_t)c->quota_cells;
	sz->rate = (uint32_t)c->rate_cells;
}

/* Digits with an optional K, M or G suffix (powers of 1024). */
static int
parse_size(const char *s, int suffixes, uint64_t *out)
{
	size_t	 n = strlen(s);
	uint64_t v, mul = 1;

	if (suffixes && n > 1) {
		switch (s[n - 1]) {
		case 'k': case 'K': mul = 1ULL << 10; n--; break;
		case 'm': case 'M': mul = 1ULL << 20; n--; break;
		case 'g': case 'G': mul = 1ULL << 30; n--; break;
		default: break;
		}
	}
	if (parse_uint(s, n, UINT64_MAX, &v) != PARSE_OK ||
	    (v != 0 && mul > UINT64_MAX / v))
		return -1;
	*out = v * mul;
	return 0;
}

static int
set_value(struct conf *c, const struct conf_key *k, const char *v,
    char *why, size_t whylen)
{
	char		*base = (char *)c + k->off;
	uint64_t	 u;
	enum log_level	 lvl;

	switch (k->kind) {
	case CK_LOG:
		if (strcmp(v, "stderr") != 0 && strcmp(v, "syslog") != 0 &&
		    (*v != '/' || strlen(v) >= sizeof(c->log))) {
			snprintf(why, whylen,
			    "must be stderr, syslog or an absolute path");
			return -1;
		}
		memcpy(base, v, strlen(v) + 1);
		return 0;
	case CK_PATH:
		if (*v != '/' || strlen(v) >= sizeof(c->db)) {
			snprintf(why, whylen, "must be an absolute path");
			return -1;
		}
		memcpy(base, v, strlen(v) + 1);
		return 0;
	case CK_STR:
		if (strlen(v) > k->max) {
			snprintf(why, whylen, "longer than %llu bytes",
			    (unsigned long long)k->max);
			return -1;
		}
		memcpy(base, v, strlen(v) + 1);
		return 0;
	case CK_NAME:
		if (name_fold(v, base, k->max + 1) == -1) {
			snprintf(why, whylen, "must be 1 to %llu of a-z, 0-9, "
			    "'.', '_', '-'", (unsigned long long)k->max);
			return -1;
		}
		return 0;
	case CK_LEVEL:
		if (log_level_parse(v, &lvl) == -1) {
			snprintf(why, whylen,
			    "must be one of error, warn, info, debug");
			return -1;
		}
		memcpy(base, &lvl, sizeof(lvl));
		return 0;
	case CK_BOOL:
		if (strcmp(v, "yes") == 0 || strcmp(v, "on") == 0 ||
		    strcmp(v, "1") == 0)
			*(int *)(void *)base = 1;
		else if (strcmp(v, "no") == 0 || strcmp(v, "off") == 0 ||
		    strcmp(v, "0") == 0)
			*(int *)(void *)base = 0;
		else {
			snprintf(why, whylen, "must be yes, no, on or off");
			return -1;
		}
		return 0;
	case CK_SIZE:
	case CK_UINT:
		if (parse_size(v, k->kind == CK_SIZE, &u) == -1 ||
		    u < k->min || u > k->max) {
			snprintf(why, whylen, "must be a whole number from "
			    "%llu to %llu%s", (unsigned long long)k->min,
			    (unsigned long long)k->max,
			    k->kind == CK_SIZE ? " (K, M, G suffixes allowed)" : "");
			return -1;
		}
		memcpy(base, &u, sizeof(u));
		return 0;
	}
	return -1;
}

int
conf_set(struct conf *c, const char *key, const char *value,
    char *err, size_t errlen)
{
	size_t	 i;
	char	 why[128];

	for (i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++) {
		if (strcmp(conf_keys[i].name, key) != 0)
			continue;
		if (set_value(c, &conf_keys[i], value, why, sizeof(why)) == 0)
			return 0;
		snprintf(err, errlen, "%s: bad value \"%.64s\": %s", key, value, why);
		return -1;
	}
	snprintf(err, errlen, "unknown setting \"%.64s\"", key);
	return -1;
}

static char *
trim(char *s)
{
	char	*e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int
conf_parse(struct conf *c, const char *name, const char *text,
    char *err, size_t errlen)
{
	char		 line[8192], msg[256], *key, *val, *eq;
	const char	*p = text, *nl;
	size_t		 len, lineno = 0;

	while (*p != '\0') {
		lineno++;
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (len >= sizeof(line)) {
			snprintf(err, errlen, "%s:%zu: line too long", name, lineno);
			return -1;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (nl != NULL);
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			snprintf(err, errlen, "%s:%zu: expected \"setting = value\"",
			    name, lineno);
			return -1;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		if (conf_set(c, key, val, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "%s:%zu: %s", name, lineno, msg);
			return -1;
		}
	}
	return 0;
}

static int
conf_env(struct conf *c, char *err, size_t errlen)
{
	char	 var[64], msg[256];
	size_t	 i, j;
	const char *v;

	for (i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++) {
		snprintf(var, sizeof(var), "IDMINT_%s", conf_keys[i].name);
		for (j = 7; var[j] != '\0'; j++)
			var[j] = (char)toupper((unsigned char)var[j]);
		if ((v = getenv(var)) == NULL)
			continue;
		if (conf_set(c, conf_keys[i].name, v, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "environment %s: %s", var, msg);
			return -1;
		}
	}
	return 0;
}

int
conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	FILE	*f;
	char	*text;
	long	 sz;
	int	 rc, must = 1;

	if (path == NULL && (path = getenv("IDMINT_CONF")) == NULL) {
		path = CONF_DEFAULT_PATH;
		must = 0;
	}
	if ((f = fopen(path, "r")) == NULL) {
		if (!must && errno == ENOENT)
			return conf_env(c, err, errlen) == 0 ?
			    conf_check(c, err, errlen) : -1;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) == -1 || (sz = ftell(f)) < 0 ||
	    sz > 1 << 20 || fseek(f, 0, SEEK_SET) == -1) {
		fclose(f);
		snprintf(err, errlen, "%s: unreadable or larger than 1 MiB", path);
		return -1;
	}
	if ((text = calloc(1, (size_t)sz + 1)) == NULL ||
	    fread(text, 1, (size_t)sz, f) != (size_t)sz) {
		free(text);
		fclose(f);
		snprintf(err, errlen, "%s: read error", path);
		return -1;
	}
	fclose(f);
	rc = conf_parse(c, path, text, err, errlen);
	free(text);
	if (rc == 0)
		rc = conf_env(c, err, errlen);
	return rc == 0 ? conf_check(c, err, errlen) : -1;
}

int
conf_check(const struct conf *c, char *err, size_t errlen)
{
	if (c->cluster[0] == '\0')
		return 0;
	if (c->node_name[0] == '\0') {
		snprintf(err, errlen, "node_name: the host name is no valid "
		    "node name (1 to %d of a-z, 0-9, '.', '_', '-'): set "
		    "node_name", CONF_NODE_MAX);
		return -1;
	}
	/* Renewed every sync_ms, a lease must outlive a few missed rounds. */
	if (c->lease_ms < 4 * c->sync_ms) {
		snprintf(err, errlen, "lease_ms (%llu) must be at least four "
		    "times sync_ms (%llu)", (unsigned long long)c->lease_ms,
		    (unsigned long long)c->sync_ms);
		return -1;
	}
	return 0;
}
