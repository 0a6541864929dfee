/*
 * ctl_keys.c: idmintctl's commands on keys: add, list, show, rotate,
 * suspend, resume, remove, available, plan, expire.  Tokens are printed once,
 * by add and rotate, and wiped from memory after.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "auth.h"
#include "clock.h"
#include "ctl.h"
#include "plan.h"

static json_object *
jtime(int64_t t)
{
	char	 b[32];

	if (t == 0)
		return NULL;
	fmt_time(t, b, sizeof(b));
	return json_object_new_string(b);
}

/* "expired" once an active key's expiry has passed: it is refused then. */
static const char *
status_name(const struct key *k)
{
	if (k->status != KEY_ACTIVE)
		return "suspended";
	return key_expired(k, now_s()) ? "expired" : "active";
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
	jadd(o, "status", json_object_new_string(status_name(k)));
	jadd(o, "created", jtime(k->created));
	jadd(o, "rotated", jtime(k->rotated));
	jadd(o, "expires", jtime(k->expires));
	return o;
}

static int
print_token(struct ctl *c, const char *arg, char *token)
{
	char		 name[USER_MAX + 1], e[8];
	json_object	*o;

	if (user_norm(arg, strlen(arg), name, e, sizeof(e)) == -1)
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

/* A new token for name: made here, stored as its hash by op, shown once. */
static int
new_token(struct ctl *c, enum store_rc (*op)(struct ctl *, const char *,
    const unsigned char *))
{
	char		 token[TOKEN_STR_LEN + 1];
	unsigned char	 hash[TOKEN_HASH_LEN];
	enum store_rc	 r;

	if (token_new(token, hash) == -1)
		return fail(c, "libsodium failed to start");
	r = op(c, c->args[0], hash);
	sodium_memzero(hash, sizeof(hash));
	if (r != STORE_OK) {
		sodium_memzero(token, sizeof(token));
		return fail(c, "%s", keys_error(c));
	}
	return print_token(c, c->args[0], token);
}

static enum store_rc
add_key(struct ctl *c, const char *name, const unsigned char *hash)
{
	return keys_add(c, name, c->label, &c->newplan, c->when, hash);
}

static enum store_rc
rotate_key(struct ctl *c, const char *name, const unsigned char *hash)
{
	return keys_rotate(c, name, hash);
}

int
cmd_add(struct ctl *c)
{
	if (pick_plan(c, NULL, &c->newplan) != 0)
		return c->failrc;
	return new_token(c, add_key);
}

/* list --expiring: only keys whose expiry falls from now to c->when. */
static int
listed(const struct ctl *c, const struct key *k)
{
	return c->expiring == NULL || (k->expires != 0 &&
	    !key_expired(k, now_s()) && k->expires <= c->when);
}

static int
list_one(void *arg, const struct key *k)
{
	char		 t[32], x[32], rate[16], quota[24];

	if (!listed(arg, k))
		return 0;
	fmt_time(k->created, t, sizeof(t));
	fmt_time(k->expires, x, sizeof(x));
	if (k->rate)
		snprintf(rate, sizeof(rate), "%u/s", k->rate);
	else
		snprintf(rate, sizeof(rate), "-");
	if (k->quota)
		snprintf(quota, sizeof(quota), "%llu",
		    (unsigned long long)k->quota);
	else
		snprintf(quota, sizeof(quota), "-");
	printf("%-20s %-10s %7s %10s %-9s %-20s %-20s%s%s\n", k->user, k->plan,
	    rate, quota, status_name(k), t, x, *k->label ? " " : "", k->label);
	return 0;
}

/* The rows for --json, which c->rows holds. */
static int
list_json(void *arg, const struct key *k)
{
	struct ctl	*c = arg;

	if (listed(c, k))
		json_object_array_add(c->rows, key_json(k));
	return 0;
}

static int
count_keys(void *arg, const struct key *k)
{
	struct ctl	*c = arg;

	c->nrows += listed(c, k);
	return 0;
}

int
cmd_list(struct ctl *c)
{
	enum store_rc	 r;

	if (c->json) {
		c->rows = json_object_new_array();
		if ((r = keys_each(c, list_json, c)) != STORE_OK) {
			json_object_put(c->rows);
			return store_fail_msg(c, r, "");
		}
		json_print(c->rows);
		return 0;
	}
	if ((r = keys_each(c, count_keys, c)) != STORE_OK)
		return store_fail_msg(c, r, "");
	if (c->nrows > 0)
		printf("%-20s %-10s %7s %10s %-9s %-20s %-20s %s\n", "NAME",
		    "PLAN", "RATE", "QUOTA", "STATUS", "CREATED", "EXPIRES",
		    "LABEL");
	if ((r = keys_each(c, list_one, c)) != STORE_OK)
		return store_fail_msg(c, r, "");
	return 0;
}

int
cmd_show(struct ctl *c)
{
	struct key	 k;
	struct summary	 s;
	char		 t[32], m[16];
	uint32_t	 month = month_of(now_ms());
	uint64_t	 used = 0, left;
	enum store_rc	 r;
	json_object	*o;

	if ((r = keys_get(c, c->args[0], &k)) == STORE_OK &&
	    (r = keys_usage(c, k.user, month, &s)) == STORE_OK) {
		used = s.month_total;
		summary_free(&s);
	}
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
	fmt_time(k.expires, t, sizeof(t));
	printf("expires:    %s\n", t);
	printf("this month: %llu calls (%s)\n", (unsigned long long)used, m);
	if (k.quota)
		printf("remaining:  %llu calls\n", (unsigned long long)left);
	else
		printf("remaining:  unlimited\n");
	return 0;
}

int
cmd_rotate(struct ctl *c)
{
	return new_token(c, rotate_key);
}

static int
set_status(struct ctl *c, enum key_status s)
{
	if (keys_status(c, c->args[0], s) != STORE_OK)
		return fail(c, "%s", keys_error(c));
	return 0;
}

int
cmd_suspend(struct ctl *c)
{
	return set_status(c, KEY_SUSPENDED);
}

int
cmd_resume(struct ctl *c)
{
	return set_status(c, KEY_ACTIVE);
}

int
cmd_remove(struct ctl *c)
{
	if (keys_remove(c, c->args[0]) != STORE_OK)
		return fail(c, "%s", keys_error(c));
	return 0;
}

int
cmd_available(struct ctl *c)
{
	struct key	 k;
	char		 u[USER_MAX + 1];
	enum store_rc	 r;
	json_object	*o;

	if (check_name(c, c->args[0], u) != 0)
		return c->failrc;
	r = keys_get(c, u, &k);
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

int
cmd_plan(struct ctl *c)
{
	struct plan	 p;

	if (c->nargs == 1 && (c->opts & (OPT_RATE | OPT_QUOTA)) == 0)
		return fail(c, "plan wants a plan name (free, starter, pro, "
		    "mega, unlimited) or --rate N --quota N");
	if (pick_plan(c, c->nargs == 2 ? c->args[1] : NULL, &p) != 0)
		return c->failrc;
	if (keys_plan(c, c->args[0], &p) != STORE_OK)
		return fail(c, "%s", keys_error(c));
	return 0;
}


int
cmd_expire(struct ctl *c)
{
	if (keys_expires(c, c->args[0], c->when) != STORE_OK)
		return fail(c, "%s", keys_error(c));
	return 0;
}
