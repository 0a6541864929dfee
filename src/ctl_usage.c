/*
 * ctl_usage.c: idmintctl's reports: usage of one key, and stats over all
 * of them, summed here from the store's rows (per type, per key).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ctl.h"
#include "usage.h"

#define TOP_KEYS	10

/* The report, or c->failrc after saying what went wrong. */
static int
summarise(struct ctl *c, const char *user, struct summary *s)
{
	enum store_rc	 r;

	if ((r = keys_usage(c, user, month_of(now_ms()), s)) ==
	    STORE_OK)
		return 0;
	if (s->oom)
		return fail(c, "out of memory");
	return store_fail_msg(c, r, user != NULL ? user : "");
}

static json_object *
counts_json(const struct usage_count *a, size_t n, const char *label,
    size_t max)
{
	json_object	*arr = json_object_new_array(), *o;
	size_t		 i;

	for (i = 0; i < n && i < max; i++) {
		o = json_object_new_object();
		jadd(o, label, json_object_new_string(a[i].name));
		jadd(o, "month", json_object_new_uint64(a[i].month));
		jadd(o, "all_time", json_object_new_uint64(a[i].total));
		json_object_array_add(arr, o);
	}
	return arr;
}

static void
counts_text(const struct usage_count *a, size_t n, const char *head,
    const char *m, size_t max)
{
	size_t	 i;

	printf("%-20s %12s %12s\n", head, m, "ALL TIME");
	for (i = 0; i < n && i < max; i++)
		printf("%-20s %12llu %12llu\n", a[i].name,
		    (unsigned long long)a[i].month,
		    (unsigned long long)a[i].total);
}

int
cmd_usage(struct ctl *c)
{
	struct summary	 s;
	struct key	 k;
	char		 u[USER_MAX + 1], m[16];
	enum store_rc	 r;
	json_object	*o;
	int		 gone;

	if (check_name(c, c->args[0], u) != 0)
		return c->failrc;
	r = keys_get(c, u, &k);
	if (r != STORE_OK && r != STORE_NOTFOUND)
		return store_fail_msg(c, r, u);
	gone = r == STORE_NOTFOUND;
	if (summarise(c, u, &s) != 0)
		return c->failrc;
	if (gone && s.ntypes == 0) {
		summary_free(&s);
		return fail(c, "no key named \"%s\"", u);
	}
	fmt_month(s.month, m, sizeof(m));
	if (c->json) {
		o = json_object_new_object();
		jadd(o, "name", json_object_new_string(u));
		jadd(o, "removed", json_object_new_boolean(gone));
		jadd(o, "month", json_object_new_string(m));
		jadd(o, "month_total", json_object_new_uint64(s.month_total));
		jadd(o, "all_time", json_object_new_uint64(s.all_total));
		jadd(o, "types", counts_json(s.types, s.ntypes, "type",
		    SIZE_MAX));
		if (c->opts & OPT_BY_NODE)
			jadd(o, "nodes", counts_json(s.nodes, s.nnodes, "node",
			    SIZE_MAX));
		json_print(o);
	} else {
		if (gone)
			printf("(the key \"%s\" was removed; its counts "
			    "remain)\n", u);
		counts_text(s.types, s.ntypes, "TYPE", m, SIZE_MAX);
		printf("%-20s %12llu %12llu\n", "total",
		    (unsigned long long)s.month_total,
		    (unsigned long long)s.all_total);
		if (c->opts & OPT_BY_NODE) {
			putchar('\n');
			counts_text(s.nodes, s.nnodes, "NODE", m, SIZE_MAX);
		}
	}
	summary_free(&s);
	return 0;
}

/* The workers' shared table: how full, and how often it overflowed. */
static int
table_stats(struct ctl *c, struct usage_stats *t)
{
	struct usage	*u;
	char		 e[512];

	if (usage_open(c->dir, &c->sizes, &u, e, sizeof(e)) == -1) {
		fprintf(stderr, "idmintctl: warning: no shared table: %s\n", e);
		return -1;
	}
	usage_stats(u, t);
	usage_close(u);
	return 0;
}

static json_object *
table_json(const struct usage_stats *t)
{
	json_object	*o = json_object_new_object();

	jadd(o, "count_cells", json_object_new_uint64(t->count_cells));
	jadd(o, "count_used", json_object_new_uint64(t->count_used));
	jadd(o, "quota_cells", json_object_new_uint64(t->quota_cells));
	jadd(o, "quota_used", json_object_new_uint64(t->quota_used));
	jadd(o, "rate_cells", json_object_new_uint64(t->rate_cells));
	jadd(o, "rate_used", json_object_new_uint64(t->rate_used));
	jadd(o, "flushes", json_object_new_uint64(t->flushes));
	jadd(o, "overflows", json_object_new_uint64(t->overflows));
	jadd(o, "lost", json_object_new_uint64(t->lost));
	jadd(o, "ring_cells", json_object_new_uint64(t->ring_cells));
	jadd(o, "ring_used", json_object_new_uint64(t->ring_used));
	jadd(o, "sync_commits", json_object_new_uint64(t->sync_commits));
	jadd(o, "pending", json_object_new_uint64(t->pending));
	return o;
}

static void
table_text(const struct usage_stats *t)
{
	printf("\ntable: %u/%u count cells, %u/%u quota cells, "
	    "%u/%u rate cells\n", t->count_used, t->count_cells,
	    t->quota_used, t->quota_cells, t->rate_used, t->rate_cells);
	printf("       %u/%u overflow ring entries; %llu calls not yet "
	    "saved\n", t->ring_used, t->ring_cells,
	    (unsigned long long)t->pending);
	printf("       %llu flushes, %llu calls overflowed to the ring, "
	    "%llu committed one by one, %llu not counted\n",
	    (unsigned long long)t->flushes, (unsigned long long)t->overflows,
	    (unsigned long long)t->sync_commits, (unsigned long long)t->lost);
}

static int
tally(void *arg, const struct key *k)
{
	size_t	*n = arg;

	n[k->status == KEY_ACTIVE ? 0 : 1]++;
	return 0;
}

int
cmd_stats(struct ctl *c)
{
	struct summary	 s;
	struct usage_stats t;
	size_t		 n[2] = { 0, 0 };
	char		 m[16];
	enum store_rc	 r;
	json_object	*o;
	int		 have_table;

	if ((r = store_rd_begin(c->st)) != STORE_OK)
		return store_fail_msg(c, r, "");
	if ((r = store_key_each(c->st, tally, n)) != STORE_OK ||
	    summarise(c, NULL, &s) != 0) {
		store_rd_end(c->st);
		return r != STORE_OK ? store_fail_msg(c, r, "") : c->failrc;
	}
	store_rd_end(c->st);
	have_table = table_stats(c, &t) == 0;
	fmt_month(s.month, m, sizeof(m));
	if (c->json) {
		o = json_object_new_object();
		jadd(o, "month", json_object_new_string(m));
		jadd(o, "keys", json_object_new_uint64(n[0] + n[1]));
		jadd(o, "active", json_object_new_uint64(n[0]));
		jadd(o, "suspended", json_object_new_uint64(n[1]));
		jadd(o, "month_total", json_object_new_uint64(s.month_total));
		jadd(o, "all_time", json_object_new_uint64(s.all_total));
		jadd(o, "types", counts_json(s.types, s.ntypes, "type",
		    SIZE_MAX));
		jadd(o, "top", counts_json(s.users, s.nusers, "name",
		    TOP_KEYS));
		jadd(o, "table", have_table ? table_json(&t) : NULL);
		json_print(o);
	} else {
		printf("keys:  %zu (%zu active, %zu suspended)\n", n[0] + n[1],
		    n[0], n[1]);
		printf("calls: %llu in %s, %llu all time\n",
		    (unsigned long long)s.month_total, m,
		    (unsigned long long)s.all_total);
		if (s.ntypes > 0) {
			putchar('\n');
			counts_text(s.types, s.ntypes, "TYPE", m, SIZE_MAX);
		}
		if (s.nusers > 0) {
			putchar('\n');
			counts_text(s.users, s.nusers, "TOP KEYS", m,
			    TOP_KEYS);
		}
		if (have_table)
			table_text(&t);
	}
	summary_free(&s);
	return 0;
}

