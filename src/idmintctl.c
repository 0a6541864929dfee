/*
 * idmintctl: manage idmint's API keys and read their usage.
 *
 * One table row per command; main() parses the options (anywhere on the
 * line, as GNU getopt permutes them), checks that the command takes them,
 * opens the store and runs the command.  Workers may run meanwhile: LMDB
 * gives each command its own transaction.  The commands themselves are in
 * ctl_keys.c and ctl_usage.c.
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

#include "clock.h"
#include "conf.h"
#include "ctl.h"
#include "pg.h"
#include "plan.h"
#include "store.h"
#include "usage.h"

#define CMD_FLUSH	0x1	/* move shared counts into the store first */
#define CMD_NAME	0x2	/* the first argument is a key's name */
#define CMD_KEYS	0x4	/* keys or usage: in PostgreSQL in cluster mode */

struct cmd {
	const char	*name;
	int		 minargs, maxargs;	/* after the command name */
	unsigned	 opts;			/* enum opt bits accepted */
	unsigned	 flags;			/* CMD_* */
	int		(*run)(struct ctl *);
};

static const struct cmd cmds[] = {
	{ "add", 1, 1, OPT_LABEL | OPT_PLAN | OPT_RATE | OPT_QUOTA | OPT_EXPIRES,
	    CMD_NAME | CMD_KEYS, cmd_add },
	{ "list", 0, 0, OPT_EXPIRING, CMD_KEYS, cmd_list },
	{ "show", 1, 1, 0, CMD_FLUSH | CMD_NAME | CMD_KEYS, cmd_show },
	{ "rotate", 1, 1, 0, CMD_NAME | CMD_KEYS, cmd_rotate },
	{ "suspend", 1, 1, 0, CMD_NAME | CMD_KEYS, cmd_suspend },
	{ "resume", 1, 1, 0, CMD_NAME | CMD_KEYS, cmd_resume },
	{ "remove", 1, 1, 0, CMD_NAME | CMD_KEYS, cmd_remove },
	{ "available", 1, 1, 0, CMD_NAME | CMD_KEYS, cmd_available },
	{ "plan", 1, 2, OPT_RATE | OPT_QUOTA, CMD_NAME | CMD_KEYS, cmd_plan },
	{ "expire", 2, 2, 0, CMD_NAME | CMD_KEYS, cmd_expire },
	{ "usage", 1, 1, OPT_BY_NODE, CMD_FLUSH | CMD_NAME | CMD_KEYS,
	    cmd_usage },
	{ "stats", 0, 0, 0, CMD_FLUSH, cmd_stats },
	{ "cluster", 1, 1, 0, 0, cmd_cluster },
};

static void
usage(FILE *f)
{
	fputs("usage: idmintctl [-d DIR] [--json] COMMAND [ARGS]\n"
	    "  add NAME [--label TEXT] [--plan PLAN | --rate N --quota N]\n"
	    "      [--expires DATE|SPAN]\n"
	    "  list [--expiring SPAN]\n"
	    "  show NAME\n"
	    "  rotate NAME\n"
	    "  suspend NAME\n"
	    "  resume NAME\n"
	    "  remove NAME\n"
	    "  available NAME\n"
	    "  plan NAME PLAN | plan NAME --rate N --quota N\n"
	    "  expire NAME DATE|SPAN|never\n"
	    "  usage NAME [--by-node]\n"
	    "  stats\n"
	    "  cluster init | cluster status | cluster import\n"
	    "plans: free, starter, pro, mega, unlimited (the default)\n"
	    "DATE: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC); SPAN from now: "
	    "30d, 12h, 2w, 1y, ...\n"
	    "store: -d DIR, else $IDMINT_DB, else the configuration's db, "
	    "else " CONF_DB_DEFAULT "\n",
	    f);
}

int
fail(struct ctl *c, const char *fmt, ...)
{
	va_list	 ap;

	fputs("idmintctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return c->failrc;
}

/* ---- shared by the commands ----------------------------------------- */

void
fmt_time(int64_t t, char *b, size_t n)
{
	time_t	 tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(b, n, "never");
	else
		strftime(b, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int64_t
now_s(void)
{
	return (int64_t)(now_ms() / MS_PER_S);
}

void
fmt_month(uint32_t m, char *b, size_t n)
{
	snprintf(b, n, "%04u-%02u", m / 100, m % 100);
}

void
json_print(json_object *o)
{
	puts(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

void
jadd(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

/* A store failure as a message; "no key named" and the like come from
 * the store already phrased for a person. */
int
store_fail_msg(struct ctl *c, enum store_rc r, const char *name)
{
	if (r == STORE_NOTFOUND)
		return fail(c, "no key named \"%s\"", name);
	return fail(c, "%s", keys_error(c));
}

int
check_name(struct ctl *c, const char *name, char u[USER_MAX + 1])
{
	char	 e[USER_MAX * 4 + 64];

	if (user_norm(name, strlen(name), u, e, sizeof(e)) == -1)
		return fail(c, "%s", e);
	return 0;
}

/* Move counts still in shared memory into the store; a failure only
 * means the figures may be a flush behind, so it is a warning. */
static void
flush_usage(struct ctl *c)
{
	struct usage	*u;
	char		 e[512];

	if (usage_open(c->dir, &c->sizes, &u, e, sizeof(e)) == -1) {
		fprintf(stderr, "idmintctl: warning: counts not yet saved by "
		    "the workers are left out: %s\n", e);
		return;
	}
	if (usage_flush(u, c->st) == -1)
		fprintf(stderr, "idmintctl: warning: counts not yet saved by "
		    "the workers are left out: %s\n", usage_error(u));
	usage_close(u);
}

/* The plan from PLAN (pos) or --plan, or --rate/--quota, or the default;
 * c->failrc after saying what is wrong. */
int
pick_plan(struct ctl *c, const char *pos, struct plan *p)
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

/* ---- the command line ------------------------------------------------- */

static const struct {
	const char	*name;
	enum opt	 bit;
	size_t		 off;
} valopts[] = {
	{ "--label", OPT_LABEL, offsetof(struct ctl, label) },
	{ "--plan", OPT_PLAN, offsetof(struct ctl, plan) },
	{ "--rate", OPT_RATE, offsetof(struct ctl, rate) },
	{ "--quota", OPT_QUOTA, offsetof(struct ctl, quota) },
	{ "--expires", OPT_EXPIRES, offsetof(struct ctl, expires) },
	{ "--expiring", OPT_EXPIRING, offsetof(struct ctl, expiring) },
	{ "--db", 0, offsetof(struct ctl, dir) },
	{ "-d", 0, offsetof(struct ctl, dir) },
};

/* Take a value option at argv[*i] ("--x V", "--x=V", "-dV"); 1 if taken,
 * 0 if argv[*i] is no such option, -1 on error. */
static int
take_valopt(struct ctl *c, int argc, char **argv, int *i)
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
parse_args(struct ctl *c, int argc, char **argv, const char **cmdname)
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
			if (strcmp(argv[i], "--by-node") == 0) {
				c->opts |= OPT_BY_NODE;
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

	if (bit == OPT_BY_NODE)
		return "--by-node";
	for (j = 0; j < sizeof(valopts) / sizeof(valopts[0]); j++)
		if (valopts[j].bit == bit)
			return valopts[j].name;
	return "?";
}

static int
check_cmd(struct ctl *c, const struct cmd *cmd)
{
	unsigned	 bad = c->opts & ~cmd->opts;

	if (bad != 0)
		return fail(c, "%s is not an option of %s",
		    opt_name(bad & -bad), cmd->name);
	if (c->nargs < cmd->minargs)
		return fail(c, "%s wants %s (idmintctl -h)", cmd->name,
		    !(cmd->flags & CMD_NAME) ? "init, status or import" :
		    c->nargs == 0 ? "a NAME" : "a DATE, a SPAN or never");
	if (c->nargs > cmd->maxargs)
		return fail(c, "too many arguments for %s (idmintctl -h)",
		    cmd->name);
	return 0;
}

/*
 * When, in Unix seconds: "never" (0) where allowed, "now", a date, or a
 * span from now; c->failrc after saying what is wrong.
 */
static int
parse_when(struct ctl *c, const char *what, const char *s, int never,
    int64_t *out)
{
	int64_t	 span;

	if (never && strcmp(s, "never") == 0) {
		*out = 0;
		return 0;
	}
	if (clock_parse_date(s, out) == 0)
		return 0;
	span = 0;
	if (strcmp(s, "now") == 0 || clock_parse_span(s, &span) == 0) {
		*out = now_s() + span;
		return 0;
	}
	return fail(c, "%s \"%s\" is not a date (YYYY-MM-DD or "
	    "YYYY-MM-DDTHH:MM:SSZ, UTC), a span (30d, 12h, 2w, 1y), now%s", what,
	    s, never ? " or never" : "");
}

/* The times of add --expires, expire and list --expiring, in c->when. */
static int
precheck_when(struct ctl *c, const struct cmd *cmd)
{
	char	 t[32];

	if (cmd->run == cmd_expire)
		return parse_when(c, "the expiry", c->args[1], 1, &c->when);
	if (cmd->run == cmd_list && c->expiring != NULL)
		return parse_when(c, "--expiring", c->expiring, 0, &c->when);
	if (cmd->run != cmd_add || c->expires == NULL)
		return 0;
	if (parse_when(c, "--expires", c->expires, 1, &c->when) != 0)
		return c->failrc;
	if (c->when != 0 && c->when <= now_s()) {
		fmt_time(c->when, t, sizeof(t));
		return fail(c, "--expires %s is in the past (%s)", c->expires, t);
	}
	return 0;
}

/* Checks that need no store, so a typo costs nothing. */
static int
precheck(struct ctl *c, const struct cmd *cmd)
{
	char		 u[USER_MAX + 1], e[256];
	struct plan	 p;

	if (cmd->flags & CMD_NAME) {
		if (check_name(c, c->args[0], u) != 0)
			return c->failrc;
		memcpy(c->args[0], u, strlen(u));	/* lowercased */
	}
	if (cmd->run == cmd_add) {
		if (pick_plan(c, NULL, &p) != 0)
			return c->failrc;
		if (c->label != NULL &&
		    label_check(c->label, e, sizeof(e)) == -1)
			return fail(c, "%s", e);
	}
	if (cmd->run == cmd_plan && c->nargs == 2 &&
	    (c->opts & (OPT_RATE | OPT_QUOTA)) == 0 &&
	    plan_lookup(c->args[1], &p, e, sizeof(e)) == -1)
		return fail(c, "%s", e);
	return precheck_when(c, cmd);
}

/*
 * Root managing a store that belongs to the workers' user (www-data, say)
 * would leave files the workers cannot open: become the store's owner
 * first, so every file idmintctl creates is theirs.
 */
static int
become_owner(struct ctl *c, const char *dir)
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

/* Keys and usage in PostgreSQL: cluster mode. */
static int
in_cluster(const struct ctl *c, const struct cmd *cmd)
{
	return c->cluster[0] != '\0' && (cmd->flags & CMD_KEYS);
}

static int
run(struct ctl *c, const struct cmd *cmd)
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
	conf_sizes(&conf, &c->sizes);
	c->cluster = conf.cluster;
	c->lease_ms = conf.lease_ms;
	if (c->dir == NULL || *c->dir == '\0')
		c->dir = conf.db;
	if ((c->opts & OPT_BY_NODE) && !in_cluster(c, cmd))
		return fail(c, "--by-node needs the cluster setting "
		    "(idmint.conf(5), or IDMINT_CLUSTER)");
	if (in_cluster(c, cmd) || cmd->run == cmd_cluster) {
		/* Never a node's store: its sync process mirrors keys. */
		rc = in_cluster(c, cmd) && ctl_pg_open(c) != 0 ? c->failrc :
		    cmd->run(c);
		pg_close(c->pg);
		return rc;
	}
	mapsize = (size_t)conf.map_size;
	if (become_owner(c, c->dir) != 0)
		return c->failrc;
	if (store_open(&c->st, c->dir, mapsize, e, sizeof(e)) != STORE_OK)
		return fail(c, "%s", e);
	if (cmd->flags & CMD_FLUSH)
		flush_usage(c);
	rc = cmd->run(c);
	store_close(c->st);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ctl	 c;
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
