/*
 * idmintctl: manage idmint's API keys and read their usage.
 *
 * One table row per command; main() parses the options (anywhere on the
 * line, as GNU getopt permutes them), checks that the command takes them,
 * opens the store and runs the command.  Workers may run meanwhile: LMDB
 * gives each command its own transaction.  Tokens are printed once, by
 * add and rotate, and wiped from memory after.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "conf.h"
#include "plan.h"
#include "store.h"
#include "token.h"
#include "usage.h"

#define TOP_KEYS	10

enum opt {
	OPT_LABEL = 1 << 0,
	OPT_PLAN = 1 << 1,
	OPT_RATE = 1 << 2,
	OPT_QUOTA = 1 << 3
};

struct ctx {
	const char	*dir;
	int		 json;
	const char	*label, *plan, *rate, *quota;
	unsigned	 opts;		/* enum opt bits seen */
	char		*args[4];
	int		 nargs;
	struct store	*st;
	int		 failrc;	/* exit status on error */
};

struct cmd {
	const char	*name;
	int		 minargs, maxargs;	/* after the command name */
	unsigned	 opts;			/* enum opt bits accepted */
	int		 flush;			/* move shared counts first */
	int		(*run)(struct ctx *);
};

static int	 cmd_add(struct ctx *), cmd_list(struct ctx *),
		 cmd_show(struct ctx *), cmd_rotate(struct ctx *),
		 cmd_suspend(struct ctx *), cmd_resume(struct ctx *),
		 cmd_remove(struct ctx *), cmd_available(struct ctx *),
		 cmd_plan(struct ctx *), cmd_usage(struct ctx *),
		 cmd_stats(struct ctx *);

static const struct cmd cmds[] = {
	{ "add", 1, 1, OPT_LABEL | OPT_PLAN | OPT_RATE | OPT_QUOTA, 0, cmd_add },
	{ "list", 0, 0, 0, 0, cmd_list },
	{ "show", 1, 1, 0, 1, cmd_show },
	{ "rotate", 1, 1, 0, 0, cmd_rotate },
	{ "suspend", 1, 1, 0, 0, cmd_suspend },
	{ "resume", 1, 1, 0, 0, cmd_resume },
	{ "remove", 1, 1, 0, 0, cmd_remove },
	{ "available", 1, 1, 0, 0, cmd_available },
	{ "plan", 1, 2, OPT_RATE | OPT_QUOTA, 0, cmd_plan },
	{ "usage", 1, 1, 0, 1, cmd_usage },
	{ "stats", 0, 0, 0, 1, cmd_stats },
};

static void
usage(FILE *f)
{
	fputs("usage: idmintctl [-d DIR] [--json] COMMAND [ARGS]\n"
	    "  add NAME [--label TEXT] [--plan PLAN | --rate N --quota N]\n"
	    "  list\n"
	    "  show NAME\n"
	    "  rotate NAME\n"
	    "  suspend NAME\n"
	    "  resume NAME\n"
	    "  remove NAME\n"
	    "  available NAME\n"
	    "  plan NAME PLAN | plan NAME --rate N --quota N\n"
	    "  usage NAME\n"
	    "  stats\n"
	    "plans: free, starter, pro, mega, unlimited (the default)\n"
	    "store: -d DIR, else $IDMINT_DB, else " STORE_DIR_DEFAULT "\n",
	    f);
}

static int
fail(struct ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(struct ctx *c, const char *fmt, ...)
{
	va_list	 ap;

	fputs("idmintctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return c->failrc;
}

/* ---- output helpers --------------------------------------------------- */

static void
fmt_time(int64_t t, char *b, size_t n)
{
	time_t	 tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(b, n, "never");
	else
		strftime(b, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
fmt_month(uint32_t m, char *b, size_t n)
{
	snprintf(b, n, "%04u-%02u", m / 100, m % 100);
}

static void
json_print(json_object *o)
{
	puts(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void
jadd(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

static json_object *
jtime(int64_t t)
{
	char	 b[32];

	if (t == 0)
		return NULL;
	fmt_time(t, b, sizeof(b));
	return json_object_new_string(b);
}

static json_object *
key_json(const struct key *k)
{
	json_object	*o = json_object_new_object();

	jadd(o, "name", json_object_new_string(k->user));
	jadd(o, "label", json_object_new_string(k->label));
	jadd(o, "plan", json_object_new_string(k->plan));
	jadd(o, "rate", json_object_new_uint64(k->rate));
	jadd(o, "quota", json_object_new_uint64(k->quota));
	jadd(o, "status", json_object_new_string(k->status == KEY_ACTIVE ?
	    "active" : "suspended"));
	jadd(o, "created", jtime(k->created));
	jadd(o, "rotated", jtime(k->rotated));
	return o;
}

static const char *
status_name(const struct key *k)
{
	return k->status == KEY_ACTIVE ? "active" : "suspended";
}

/* A store failure as a message; "no key named" and the like come from
 * the store already phrased for a person. */
static int
store_fail_msg(struct ctx *c, enum store_rc r, const char *name)
{
	if (r == STORE_NOTFOUND)
		return fail(c, "no key named \"%s\"", name);
	return fail(c, "%s", store_error(c->st));
}

static int
check_name(struct ctx *c, const char *name, char u[USER_MAX + 1])
{
	char	 e[USER_MAX * 4 + 64];

	if (store_user_norm(name, strlen(name), u, e, sizeof(e)) == -1)
		return fail(c, "%s", e);
	return 0;
}

/* Move counts still in shared memory into the store; a failure only
 * means the figures may be a flush behind, so it is a warning. */
static void
flush_usage(struct ctx *c)
{
	struct usage	*u;
	char		 e[512];

	if (usage_open(c->dir, &u, e, sizeof(e)) == -1) {
		fprintf(stderr, "idmintctl: warning: counts not yet saved by "
		    "the workers are left out: %s\n", e);
		return;
	}
	if (usage_flush(u, c->st, e, sizeof(e)) == -1)
		fprintf(stderr, "idmintctl: warning: counts not yet saved by "
		    "the workers are left out: %s\n", e);
	usage_close(u);
}

/* The plan from PLAN (pos) or --plan, or --rate/--quota, or the default;
 * c->failrc after saying what is wrong. */
static int
pick_plan(struct ctx *c, const char *pos, struct plan *p)
{
	char	 e[256];
	int	 custom = (c->opts & (OPT_RATE | OPT_QUOTA)) != 0;
	const char *name = pos != NULL ? pos : c->plan;

	if (name != NULL && custom)
		return fail(c, "give a plan name or --rate and --quota, "
		    "not both");
	if (custom) {
		if ((c->opts & (OPT_RATE | OPT_QUOTA)) !=
		    (OPT_RATE | OPT_QUOTA))
			return fail(c, "--rate and --quota go together: a "
			    "custom plan needs both (0 means no limit)");
		if (plan_custom(c->rate, c->quota, p, e, sizeof(e)) == -1)
			return fail(c, "%s", e);
		return 0;
	}
	if (name == NULL) {
		*p = plans[PLAN_DEFAULT];
		return 0;
	}
	if (plan_lookup(name, p, e, sizeof(e)) == -1)
		return fail(c, "%s", e);
	return 0;
}

/* ---- commands --------------------------------------------------------- */

static int
print_token(struct ctx *c, const char *arg, char *token)
{
	char		 name[USER_MAX + 1], e[8];
	json_object	*o;

	if (store_user_norm(arg, strlen(arg), name, e, sizeof(e)) == -1)
		snprintf(name, sizeof(name), "%s", "?");	/* checked before */
	if (c->json) {
		o = json_object_new_object();
		jadd(o, "name", json_object_new_string(name));
		jadd(o, "token", json_object_new_string(token));
		json_print(o);
	} else
		puts(token);
	sodium_memzero(token, TOKEN_STR_LEN + 1);
	if (fflush(stdout) == EOF || ferror(stdout))
		return fail(c, "the token of \"%s\" could not be printed; the "
		    "key exists: idmintctl rotate %s gives it a new one", name,
		    name);
	return 0;
}

static int
cmd_add(struct ctx *c)
{
	char		 token[TOKEN_STR_LEN + 1];
	struct plan	 p;

	if (pick_plan(c, NULL, &p) != 0)
		return c->failrc;
	if (store_key_add(c->st, c->args[0], c->label, &p, token) != STORE_OK)
		return fail(c, "%s", store_error(c->st));
	return print_token(c, c->args[0], token);
}

static int
list_one(void *arg, const struct key *k)
{
	char		 t[32], rate[16], quota[24];

	fmt_time(k->created, t, sizeof(t));
	if (k->rate)
		snprintf(rate, sizeof(rate), "%u/s", k->rate);
	else
		snprintf(rate, sizeof(rate), "-");
	if (k->quota)
		snprintf(quota, sizeof(quota), "%llu",
		    (unsigned long long)k->quota);
	else
		snprintf(quota, sizeof(quota), "-");
	(void)arg;
	printf("%-20s %-10s %7s %10s %-9s %-20s%s%s\n", k->user, k->plan,
	    rate, quota, status_name(k), t, *k->label ? " " : "", k->label);
	return 0;
}

static int
list_json(void *arg, const struct key *k)
{
	json_object_array_add(arg, key_json(k));
	return 0;
}

static int
count_keys(void *arg, const struct key *k)
{
	size_t	*n = arg;

	(void)k;
	n[0]++;
	return 0;
}

static int
cmd_list(struct ctx *c)
{
	json_object	*a;
	size_t		 n = 0;
	enum store_rc	 r;

	if (c->json) {
		a = json_object_new_array();
		if ((r = store_key_each(c->st, list_json, a)) != STORE_OK) {
			json_object_put(a);
			return store_fail_msg(c, r, "");
		}
		json_print(a);
		return 0;
	}
	if ((r = store_key_each(c->st, count_keys, &n)) != STORE_OK)
		return store_fail_msg(c, r, "");
	if (n > 0)
		printf("%-20s %-10s %7s %10s %-9s %-20s %s\n", "NAME", "PLAN",
		    "RATE", "QUOTA", "STATUS", "CREATED", "LABEL");
	if ((r = store_key_each(c->st, list_one, c)) != STORE_OK)
		return store_fail_msg(c, r, "");
	return 0;
}

static int
cmd_show(struct ctx *c)
{
	struct key	 k;
	char		 t[32], m[16];
	uint32_t	 month = store_month(time(NULL));
	uint64_t	 used = 0, left;
	enum store_rc	 r;
	json_object	*o;

	if ((r = store_rd_begin(c->st)) != STORE_OK)
		return store_fail_msg(c, r, "");
	r = store_key_by_user(c->st, c->args[0], strlen(c->args[0]), &k);
	if (r == STORE_OK && store_usage_month(c->st, k.user, month,
	    &used) == -1)
		r = STORE_ERROR;
	store_rd_end(c->st);
	if (r != STORE_OK)
		return store_fail_msg(c, r, c->args[0]);
	left = k.quota == 0 ? 0 : used >= k.quota ? 0 : k.quota - used;
	fmt_month(month, m, sizeof(m));
	if (c->json) {
		o = key_json(&k);
		jadd(o, "month", json_object_new_string(m));
		jadd(o, "used", json_object_new_uint64(used));
		jadd(o, "remaining", k.quota ?
		    json_object_new_uint64(left) : NULL);
		json_print(o);
		return 0;
	}
	printf("name:       %s\n", k.user);
	printf("label:      %s\n", k.label);
	printf("plan:       %s\n", k.plan);
	if (k.rate)
		printf("rate:       %u requests/s\n", k.rate);
	else
		printf("rate:       unlimited\n");
	if (k.quota)
		printf("quota:      %llu calls/month\n",
		    (unsigned long long)k.quota);
	else
		printf("quota:      unlimited\n");
	printf("status:     %s\n", status_name(&k));
	fmt_time(k.created, t, sizeof(t));
	printf("created:    %s\n", t);
	fmt_time(k.rotated, t, sizeof(t));
	printf("rotated:    %s\n", t);
	printf("this month: %llu calls (%s)\n", (unsigned long long)used, m);
	if (k.quota)
		printf("remaining:  %llu calls\n", (unsigned long long)left);
	else
		printf("remaining:  unlimited\n");
	return 0;
}

static int
cmd_rotate(struct ctx *c)
{
	char		 token[TOKEN_STR_LEN + 1];
	enum store_rc	 r;

	if ((r = store_key_rotate(c->st, c->args[0], token)) != STORE_OK)
		return fail(c, "%s", store_error(c->st));
	return print_token(c, c->args[0], token);
}

static int
set_status(struct ctx *c, enum key_status s)
{
	if (store_key_set_status(c->st, c->args[0], s) != STORE_OK)
		return fail(c, "%s", store_error(c->st));
	return 0;
}

static int
cmd_suspend(struct ctx *c)
{
	return set_status(c, KEY_SUSPENDED);
}

static int
cmd_resume(struct ctx *c)
{
	return set_status(c, KEY_ACTIVE);
}

static int
cmd_remove(struct ctx *c)
{
	if (store_key_remove(c->st, c->args[0]) != STORE_OK)
		return fail(c, "%s", store_error(c->st));
	return 0;
}

static int
cmd_available(struct ctx *c)
{
	struct key	 k;
	char		 u[USER_MAX + 1];
	enum store_rc	 r;
	json_object	*o;

	if (check_name(c, c->args[0], u) != 0)
		return c->failrc;
	r = store_key_by_user(c->st, u, strlen(u), &k);
	if (r != STORE_OK && r != STORE_NOTFOUND)
		return store_fail_msg(c, r, u);
	if (c->json) {
		o = json_object_new_object();
		jadd(o, "name", json_object_new_string(u));
		jadd(o, "available", json_object_new_boolean(r ==
		    STORE_NOTFOUND));
		json_print(o);
	}
	return r == STORE_NOTFOUND ? 0 : 1;
}

static int
cmd_plan(struct ctx *c)
{
	struct plan	 p;

	if (c->nargs == 1 && (c->opts & (OPT_RATE | OPT_QUOTA)) == 0)
		return fail(c, "plan wants a plan name (free, starter, pro, "
		    "mega, unlimited) or --rate N --quota N");
	if (pick_plan(c, c->nargs == 2 ? c->args[1] : NULL, &p) != 0)
		return c->failrc;
	if (store_key_set_plan(c->st, c->args[0], &p) != STORE_OK)
		return fail(c, "%s", store_error(c->st));
	return 0;
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

static int
cmd_usage(struct ctx *c)
{
	struct usage_summary s;
	struct key	 k;
	char		 u[USER_MAX + 1], m[16];
	enum store_rc	 r;
	json_object	*o;
	int		 gone;

	if (check_name(c, c->args[0], u) != 0)
		return c->failrc;
	r = store_key_by_user(c->st, u, strlen(u), &k);
	if (r != STORE_OK && r != STORE_NOTFOUND)
		return store_fail_msg(c, r, u);
	gone = r == STORE_NOTFOUND;
	r = store_usage_summary(c->st, u, store_month(time(NULL)), &s);
	if (r != STORE_OK)
		return store_fail_msg(c, r, u);
	if (gone && s.ntypes == 0) {
		store_usage_summary_free(&s);
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
		json_print(o);
	} else {
		if (gone)
			printf("(the key \"%s\" was removed; its counts "
			    "remain)\n", u);
		counts_text(s.types, s.ntypes, "TYPE", m, SIZE_MAX);
		printf("%-20s %12llu %12llu\n", "total",
		    (unsigned long long)s.month_total,
		    (unsigned long long)s.all_total);
	}
	store_usage_summary_free(&s);
	return 0;
}

static int
tally(void *arg, const struct key *k)
{
	size_t	*n = arg;

	n[k->status == KEY_ACTIVE ? 0 : 1]++;
	return 0;
}

static int
cmd_stats(struct ctx *c)
{
	struct usage_summary s;
	size_t		 n[2] = { 0, 0 };
	char		 m[16];
	enum store_rc	 r;
	json_object	*o;

	if ((r = store_rd_begin(c->st)) != STORE_OK)
		return store_fail_msg(c, r, "");
	if ((r = store_key_each(c->st, tally, n)) == STORE_OK)
		r = store_usage_summary(c->st, NULL, store_month(time(NULL)),
		    &s);
	store_rd_end(c->st);
	if (r != STORE_OK)
		return store_fail_msg(c, r, "");
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
	}
	store_usage_summary_free(&s);
	return 0;
}

/* ---- the command line ------------------------------------------------- */

static const struct {
	const char	*name;
	enum opt	 bit;
	size_t		 off;
} valopts[] = {
	{ "--label", OPT_LABEL, offsetof(struct ctx, label) },
	{ "--plan", OPT_PLAN, offsetof(struct ctx, plan) },
	{ "--rate", OPT_RATE, offsetof(struct ctx, rate) },
	{ "--quota", OPT_QUOTA, offsetof(struct ctx, quota) },
	{ "--db", 0, offsetof(struct ctx, dir) },
	{ "-d", 0, offsetof(struct ctx, dir) },
};

/* Take a value option at argv[*i] ("--x V", "--x=V", "-dV"); 1 if taken,
 * 0 if argv[*i] is no such option, -1 on error. */
static int
take_valopt(struct ctx *c, int argc, char **argv, int *i)
{
	const char	*a = argv[*i], *v;
	size_t		 j, l;

	for (j = 0; j < sizeof(valopts) / sizeof(valopts[0]); j++) {
		l = strlen(valopts[j].name);
		if (strncmp(a, valopts[j].name, l) != 0)
			continue;
		if (a[l] == '\0') {
			if (*i + 1 >= argc) {
				fail(c, "%s wants a value", valopts[j].name);
				return -1;
			}
			v = argv[++*i];
		} else if (a[l] == '=' || (l == 2 && a[1] == 'd'))
			v = a + l + (a[l] == '=');
		else
			continue;
		*(const char **)(void *)((char *)c + valopts[j].off) = v;
		c->opts |= valopts[j].bit;
		return 1;
	}
	return 0;
}

static int
parse_args(struct ctx *c, int argc, char **argv, const char **cmdname)
{
	int	 i, t, dashdash = 0;

	*cmdname = NULL;
	for (i = 1; i < argc; i++) {
		if (!dashdash && argv[i][0] == '-' && argv[i][1] != '\0') {
			if (strcmp(argv[i], "--") == 0) {
				dashdash = 1;
				continue;
			}
			if (strcmp(argv[i], "--json") == 0) {
				c->json = 1;
				continue;
			}
			if (strcmp(argv[i], "-h") == 0 ||
			    strcmp(argv[i], "--help") == 0) {
				usage(stdout);
				exit(0);
			}
			if (strcmp(argv[i], "-V") == 0 ||
			    strcmp(argv[i], "--version") == 0) {
				printf("idmintctl %s\n", PACKAGE_VERSION);
				exit(0);
			}
			if ((t = take_valopt(c, argc, argv, &i)) == -1)
				return -1;
			if (t == 1)
				continue;
			fail(c, "unknown option %s (idmintctl -h lists them)",
			    argv[i]);
			return -1;
		}
		if (*cmdname == NULL)
			*cmdname = argv[i];
		else if (c->nargs < (int)(sizeof(c->args) / sizeof(c->args[0])))
			c->args[c->nargs++] = argv[i];
		else {
			fail(c, "too many arguments");
			return -1;
		}
	}
	return 0;
}

static const char *
opt_name(unsigned bit)
{
	size_t	 j;

	for (j = 0; j < sizeof(valopts) / sizeof(valopts[0]); j++)
		if (valopts[j].bit == bit)
			return valopts[j].name;
	return "?";
}

static int
check_cmd(struct ctx *c, const struct cmd *cmd)
{
	unsigned	 bad = c->opts & ~cmd->opts;

	if (bad != 0)
		return fail(c, "%s is not an option of %s",
		    opt_name(bad & -bad), cmd->name);
	if (c->nargs < cmd->minargs)
		return fail(c, "%s wants a NAME (idmintctl -h)", cmd->name);
	if (c->nargs > cmd->maxargs)
		return fail(c, "too many arguments for %s (idmintctl -h)",
		    cmd->name);
	return 0;
}

/* Checks that need no store, so a typo costs nothing. */
static int
precheck(struct ctx *c, const struct cmd *cmd)
{
	char		 u[USER_MAX + 1], e[256];
	struct plan	 p;

	if (cmd->minargs > 0) {
		if (check_name(c, c->args[0], u) != 0)
			return c->failrc;
		memcpy(c->args[0], u, strlen(u));	/* lowercased */
	}
	if (cmd->run == cmd_add) {
		if (pick_plan(c, NULL, &p) != 0)
			return c->failrc;
		if (c->label != NULL &&
		    store_label_check(c->label, e, sizeof(e)) == -1)
			return fail(c, "%s", e);
	}
	if (cmd->run == cmd_plan && c->nargs == 2 &&
	    (c->opts & (OPT_RATE | OPT_QUOTA)) == 0 &&
	    plan_lookup(c->args[1], &p, e, sizeof(e)) == -1)
		return fail(c, "%s", e);
	return 0;
}

/*
 * Root managing a store that belongs to the workers' user (www-data, say)
 * would leave files the workers cannot open: become the store's owner
 * first, so every file idmintctl creates is theirs.
 */
static int
become_owner(struct ctx *c, const char *dir)
{
	struct stat	 sb;

	if (geteuid() != 0 || stat(dir, &sb) == -1 || sb.st_uid == 0)
		return 0;
	if (setgroups(0, NULL) == -1 || setgid(sb.st_gid) == -1 ||
	    setuid(sb.st_uid) == -1)
		return fail(c, "cannot become the owner (uid %ld) of %s: %s",
		    (long)sb.st_uid, dir, strerror(errno));
	return 0;
}

static int
run(struct ctx *c, const struct cmd *cmd)
{
	char	 e[1024];
	int	 rc;

	static struct conf conf;
	size_t	 mapsize = 0;

	if (check_cmd(c, cmd) != 0 || precheck(c, cmd) != 0)
		return c->failrc;
	/* -d wins; else the store idmint itself uses: IDMINT_DB, then the
	 * configuration file (IDMINT_CONF or the default), then the default. */
	conf_defaults(&conf);
	if (conf_load(&conf, NULL, e, sizeof(e)) == -1)
		return fail(c, "%s", e);
	mapsize = (size_t)conf.map_size;
	if (c->dir == NULL || *c->dir == '\0')
		c->dir = conf.db;
	if (become_owner(c, c->dir) != 0)
		return c->failrc;
	if (store_open(&c->st, c->dir, mapsize, e, sizeof(e)) != STORE_OK)
		return fail(c, "%s", e);
	if (cmd->flush)
		flush_usage(c);
	rc = cmd->run(c);
	store_close(c->st);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ctx	 c;
	const char	*name;
	size_t		 i;
	int		 rc;

	memset(&c, 0, sizeof(c));
	c.failrc = 1;
	if (parse_args(&c, argc, argv, &name) == -1)
		return 1;
	if (name == NULL) {
		usage(stderr);
		return 1;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0]))
		return fail(&c, "unknown command \"%s\" (idmintctl -h lists "
		    "them)", name);
	if (cmds[i].run == cmd_available)
		c.failrc = 2;
	rc = run(&c, &cmds[i]);
	if (rc == 0 && (fflush(stdout) == EOF || ferror(stdout)))
		return fail(&c, "cannot write the output");
	return rc;
}
