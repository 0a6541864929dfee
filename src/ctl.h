/*
 * ctl.h: what idmintctl's command files share (idmintctl.c holds the
 * command line and the table; ctl_keys.c and ctl_usage.c the commands;
 * ctl_cluster.c the cluster commands, and where keys live: the store,
 * or PostgreSQL when the cluster setting is on).
 */
#ifndef IDMINT_CTL_H
#define IDMINT_CTL_H

#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "plan.h"
#include "shm.h"
#include "store.h"

struct pg;
struct summary;

enum opt {
	OPT_LABEL = 1 << 0,
	OPT_PLAN = 1 << 1,
	OPT_RATE = 1 << 2,
	OPT_QUOTA = 1 << 3,
	OPT_EXPIRES = 1 << 4,
	OPT_EXPIRING = 1 << 5,
	OPT_BY_NODE = 1 << 6
};

struct ctl {
	const char	*dir;
	int		 json;
	const char	*label, *plan, *rate, *quota, *expires, *expiring;
	int64_t		 when;		/* --expires, expire's or --expiring's
					   time, Unix seconds; 0: never */
	unsigned	 opts;		/* enum opt bits seen */
	char		*args[4];
	int		 nargs;
	struct store	*st;		/* NULL when keys live in PostgreSQL */
	struct pg	*pg;		/* cluster mode: keys and usage */
	const char	*cluster;	/* the connection string, or "" */
	uint64_t	 lease_ms;	/* a node seen since then is live */
	struct plan	 newplan;	/* add: the plan picked */
	struct shm_sizes sizes;		/* the shared table's, as configured */
	int		 failrc;	/* exit status on error */
	json_object	*rows;		/* list --json */
	size_t		 nrows;		/* list: keys listed */
};

/* "idmintctl: message" on stderr; returns c->failrc. */
int	 fail(struct ctl *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* A failure as a message ("no key named" for STORE_NOTFOUND). */
int	 store_fail_msg(struct ctl *, enum store_rc, const char *name);
/* The lowercased name, or c->failrc after saying what is wrong. */
int	 check_name(struct ctl *, const char *name, char u[USER_MAX + 1]);

void	 fmt_time(int64_t, char *, size_t);
/* Unix seconds now, by the one clock. */
int64_t	 now_s(void);
void	 fmt_month(uint32_t, char *, size_t);
/* Print o on one line and free it. */
void	 json_print(json_object *);
void	 jadd(json_object *, const char *, json_object *);

int	 cmd_add(struct ctl *), cmd_list(struct ctl *), cmd_show(struct ctl *),
	 cmd_rotate(struct ctl *), cmd_suspend(struct ctl *),
	 cmd_resume(struct ctl *), cmd_remove(struct ctl *),
	 cmd_available(struct ctl *), cmd_plan(struct ctl *),
	 cmd_expire(struct ctl *),
	 cmd_usage(struct ctl *), cmd_stats(struct ctl *),
	 cmd_cluster(struct ctl *);

/* ---- ctl_cluster.c: keys and usage, wherever they live ---------------- */

/* Open PostgreSQL for a command in cluster mode; c->failrc on failure. */
int		 ctl_pg_open(struct ctl *);
/* As store_key_* (store.h), on the store or in PostgreSQL. */
enum store_rc	 keys_add(struct ctl *, const char *user, const char *label,
		    const struct plan *, int64_t expires,
		    const unsigned char *hash);
enum store_rc	 keys_rotate(struct ctl *, const char *user,
		    const unsigned char *hash);
enum store_rc	 keys_status(struct ctl *, const char *user, enum key_status);
enum store_rc	 keys_plan(struct ctl *, const char *user, const struct plan *);
enum store_rc	 keys_expires(struct ctl *, const char *user, int64_t expires);
enum store_rc	 keys_remove(struct ctl *, const char *user);
enum store_rc	 keys_get(struct ctl *, const char *user, struct key *);
enum store_rc	 keys_each(struct ctl *, int (*cb)(void *, const struct key *),
		    void *);
/* What went wrong in the last call above. */
const char	*keys_error(struct ctl *);
/* The counts of user (NULL: of every key): the store's, or the
 * cluster's sum with each node's share. */
enum store_rc	 keys_usage(struct ctl *, const char *user, uint32_t month,
		    struct summary *);
/* ---- ctl_report.c ----------------------------------------------------- */

/* One row of a report: a type or a key, this month and all time. */
struct usage_count {
	char	 name[USER_MAX + 1];
	uint64_t month;
	uint64_t total;
};

struct summary {
	uint32_t		 month;
	uint64_t		 month_total, all_total;
	struct usage_count	*types;		/* by type name */
	size_t			 ntypes;
	struct usage_count	*users;		/* busiest first; all keys only */
	size_t			 nusers;
	struct usage_count	*nodes;		/* by node name; cluster only */
	size_t			 nnodes;
	int			 by_user;
	int			 oom;		/* set when memory ran out */
};

/* The counts of user (NULL: of every key) for month and all time. */
enum store_rc	 summary_make(struct store *, const char *user,
		    uint32_t month, struct summary *);
void		 summary_free(struct summary *);
/* The same from rows of any source: start, a row at a time (a callback
 * for store_usage_each; summary_node adds a node's share), then end,
 * which sorts, or frees all when r is not STORE_OK. */
void		 summary_start(struct summary *, const char *user,
		    uint32_t month);
int		 summary_row(void *, const char *user, uint32_t month,
		    const char *type, uint64_t n);
int		 summary_node(struct summary *, const char *node,
		    uint32_t month, uint64_t n);
enum store_rc	 summary_end(struct summary *, enum store_rc r);

/* The plan from PLAN (pos) or --plan, or --rate/--quota, or the default. */
int	 pick_plan(struct ctl *, const char *pos, struct plan *);

#endif
