/*
 * ctl.h: what idmintctl's command files share (idmintctl.c holds the
 * command line and the table; ctl_keys.c and ctl_usage.c the commands).
 */
#ifndef IDMINT_CTL_H
#define IDMINT_CTL_H

#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "plan.h"
#include "shm.h"
#include "store.h"

enum opt {
	OPT_LABEL = 1 << 0,
	OPT_PLAN = 1 << 1,
	OPT_RATE = 1 << 2,
	OPT_QUOTA = 1 << 3,
	OPT_EXPIRES = 1 << 4,
	OPT_EXPIRING = 1 << 5
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
	struct store	*st;
	struct plan	 newplan;	/* add: the plan picked */
	struct shm_sizes sizes;		/* the shared table's, as configured */
	int		 failrc;	/* exit status on error */
	json_object	*rows;		/* list --json */
	size_t		 nrows;		/* list: keys listed */
};

/* "idmintctl: message" on stderr; returns c->failrc. */
int	 fail(struct ctl *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* A store failure as a message ("no key named" for STORE_NOTFOUND). */
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
	 cmd_usage(struct ctl *), cmd_stats(struct ctl *);
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
	int			 by_user;
	int			 oom;		/* set when memory ran out */
};

/* The counts of user (NULL: of every key) for month and all time. */
enum store_rc	 summary_make(struct store *, const char *user,
		    uint32_t month, struct summary *);
void		 summary_free(struct summary *);

/* The plan from PLAN (pos) or --plan, or --rate/--quota, or the default. */
int	 pick_plan(struct ctl *, const char *pos, struct plan *);

#endif
