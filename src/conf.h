/*
 * conf.h: the settings of idmint.conf(5).  (Named conf, not config, because
 * config.h is autoconf's.)
 */
#ifndef IDMINT_CONF_H
#define IDMINT_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define CONF_DEFAULT_PATH	"/etc/idmint/idmint.conf"
#define CONF_DB_DEFAULT		"/var/lib/idmint"
#define CONF_NODE_MAX		63	/* node_name: 1..63 of a-z 0-9 . _ - */

struct conf {
	char		 db[4096];		/* LMDB directory */
	uint64_t	 max_body;		/* bytes */
	uint64_t	 max_query;		/* bytes of query or header */
	uint64_t	 map_size;		/* bytes */
	enum log_level	 log_level;
	char		 log[4096];		/* stderr, syslog or a file */
	uint64_t	 flush_ms;
	uint64_t	 snowflake_epoch;	/* ms since the Unix epoch */
	uint64_t	 node_id;
	uint64_t	 node_bits;
	int		 count_usage;		/* 0 only for benchmarks */
	int		 core_dumps;		/* let a crash dump core */
	uint64_t	 count_cells;		/* shared table sizes */
	uint64_t	 quota_cells;
	uint64_t	 rate_cells;
	int		 metrics;		/* GET /metrics, and counting for it */
	/* cluster mode (doc/cluster.md); cluster[0] == '\0': off */
	char		 cluster[1024];		/* libpq connection string */
	char		 node_name[CONF_NODE_MAX + 1];	/* default: host name */
	uint64_t	 sync_ms;		/* the sync process's interval */
	uint64_t	 lease_ms;		/* snowflake node-id lease */
};

void	 conf_defaults(struct conf *);
/* The shared table's sizes from the settings. */
struct shm_sizes;
void	 conf_sizes(const struct conf *, struct shm_sizes *);
/* Read a file (NULL: $IDMINT_CONF or the default; a missing default file is
 * fine), then IDMINT_* from the environment.  On error, returns -1 with a
 * message naming the file, line and setting. */
int	 conf_load(struct conf *, const char *path, char *err, size_t errlen);
/* Parse a buffer as if it were the file `name`. */
int	 conf_parse(struct conf *, const char *name, const char *text,
	    char *err, size_t errlen);
int	 conf_set(struct conf *, const char *key, const char *value,
	    char *err, size_t errlen);
/* What no single setting can say: settings that must agree.  conf_load
 * calls it; -1 with a message. */
int	 conf_check(const struct conf *, char *err, size_t errlen);

#endif
