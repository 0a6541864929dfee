/*
 * ctl_report.c: idmintctl's usage report, summed from the store's rows:
 * per type and per key, this month and all time, in the order a person
 * reads them (types by name, keys busiest first).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static struct usage_count *
count_slot(struct usage_count **a, size_t *n, const char *name, int *oom)
{
	struct usage_count *p;
	size_t	 i;

	for (i = *n; i > 0; i--)	/* newest first: users come in order */
		if (strcmp((*a)[i - 1].name, name) == 0)
			return &(*a)[i - 1];
	if ((*n & (*n + 1)) == 0 || *n == 0) {
		/* grow at 1, 2, 4, ... - when n + 1 is a power of two */
		if ((p = reallocarray(*a, (*n + 1) * 2, sizeof(**a))) == NULL) {
			*oom = 1;
			return NULL;
		}
		*a = p;
	}
	p = &(*a)[(*n)++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	return p;
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void
add_to(struct usage_count *c, uint64_t n, int this_month)
{
	if (c == NULL)
		return;
	c->total = sat_add(c->total, n);
	if (this_month)
		c->month = sat_add(c->month, n);
}

int
summary_row(void *arg, const char *user, uint32_t month, const char *type,
    uint64_t n)
{
	struct summary	*s = arg;
	int		 cur = month == s->month;

	s->all_total = sat_add(s->all_total, n);
	if (cur)
		s->month_total = sat_add(s->month_total, n);
	add_to(count_slot(&s->types, &s->ntypes, type, &s->oom), n, cur);
	if (s->by_user)
		add_to(count_slot(&s->users, &s->nusers, user, &s->oom), n,
		    cur);
	return s->oom;
}

int
summary_node(struct summary *s, const char *node, uint32_t month,
    uint64_t n)
{
	add_to(count_slot(&s->nodes, &s->nnodes, node, &s->oom), n,
	    month == s->month);
	return s->oom;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct usage_count *)a)->name,
	    ((const struct usage_count *)b)->name);
}

static int
by_use(const void *a, const void *b)
{
	const struct usage_count *x = a, *y = b;

	if (x->month != y->month)
		return x->month < y->month ? 1 : -1;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return strcmp(x->name, y->name);
}

void
summary_free(struct summary *s)
{
	free(s->types);
	free(s->users);
	free(s->nodes);
	memset(s, 0, sizeof(*s));
}

void
summary_start(struct summary *s, const char *user, uint32_t month)
{
	memset(s, 0, sizeof(*s));
	s->month = month;
	s->by_user = user == NULL;
}

enum store_rc
summary_end(struct summary *s, enum store_rc r)
{
	int	 oom;

	if (r == STORE_OK && s->oom)
		r = STORE_ERROR;
	if (r != STORE_OK) {
		oom = s->oom;
		summary_free(s);
		s->oom = oom;
		return r;
	}
	if (s->ntypes > 1)
		qsort(s->types, s->ntypes, sizeof(*s->types), by_name);
	if (s->nusers > 1)
		qsort(s->users, s->nusers, sizeof(*s->users), by_use);
	if (s->nnodes > 1)
		qsort(s->nodes, s->nnodes, sizeof(*s->nodes), by_name);
	return STORE_OK;
}

enum store_rc
summary_make(struct store *st, const char *user, uint32_t month,
    struct summary *s)
{
	summary_start(s, user, month);
	return summary_end(s, store_usage_each(st, user, summary_row, s));
}
