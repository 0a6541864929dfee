/*
 * test_store.c: the LMDB store, tokens and slot leases.  Each test opens
 * a store of its own in a fresh temporary directory.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <lmdb.h>
#include <sodium.h>

#include "clock.h"
#include "fixture.h"

#define dbdir	fx_db

static void
mktemp_dir(void)
{
	umask(022);
	fx_mkdir("idmint-store");
}

#define rm_dir()		fx_rmdir()
#define open_store(mapsize)	fx_store(mapsize)

static struct store *
fresh(void)
{
	mktemp_dir();
	return open_store(0);
}

static void
done(struct store *st)
{
	store_close(st);
	rm_dir();
}

/*
 * The store takes a token's hash: these make or hash a token as
 * idmintctl and the request path do, so the tests speak in tokens.
 */
static enum store_rc
key_add(struct store *st, const char *user, const char *label,
    const struct plan *p, char token[TOKEN_STR_LEN + 1])
{
	unsigned char	 h[TOKEN_HASH_LEN];

	cr_assert_eq(token_new(token, h), 0);
	return store_key_add(st, user, label, p, 0, h);
}

static enum store_rc
key_rotate(struct store *st, const char *user, char token[TOKEN_STR_LEN + 1])
{
	unsigned char	 h[TOKEN_HASH_LEN];

	cr_assert_eq(token_new(token, h), 0);
	return store_key_rotate(st, user, h);
}

static enum store_rc
key_by_token(struct store *st, const char *t, size_t n, struct key *k)
{
	unsigned char	 h[TOKEN_HASH_LEN];

	token_hash(t, n, h);
	return store_key_by_hash(st, h, k);
}

static enum store_rc
auth_user_tok(struct store *st, const char *u, size_t ulen, const char *t,
    size_t tlen, struct key *k)
{
	unsigned char	 h[TOKEN_HASH_LEN];

	token_hash(t, tlen, h);
	return store_auth_user(st, u, ulen, h, k);
}

static enum store_rc
auth_tok(struct store *st, const char *t, size_t n, struct key *k)
{
	unsigned char	 h[TOKEN_HASH_LEN];

	token_hash(t, n, h);
	return store_auth_hash(st, h, k);
}

static void
add(struct store *st, const char *user, char *token)
{
	cr_assert_eq(key_add(st, user, "label", NULL, token), STORE_OK,
	    "%s", store_error(st));
}

static int
file_has(const char *path, const void *needle, size_t n)
{
	struct stat	 sb;
	char		*b;
	int		 fd, found;

	cr_assert_neq(fd = open(path, O_RDONLY), -1);
	cr_assert_eq(fstat(fd, &sb), 0);
	cr_assert_not_null(b = malloc((size_t)sb.st_size + 1));
	cr_assert_eq(read(fd, b, (size_t)sb.st_size), sb.st_size);
	close(fd);
	found = memmem(b, (size_t)sb.st_size, needle, n) != NULL;
	free(b);
	return found;
}

/* ---- opening ---------------------------------------------------------- */

Test(store, creates_private_dir_and_files)
{
	struct store	*st = fresh();
	struct stat	 sb;
	char		 p[PATH_MAX + 32];

	cr_assert_eq(stat(dbdir, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0700);
	snprintf(p, sizeof(p), "%s/data.mdb", dbdir);
	cr_assert_eq(stat(p, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0600);
	snprintf(p, sizeof(p), "%s/lock.mdb", dbdir);
	cr_assert_eq(stat(p, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0600);
	cr_assert_str_eq(store_path(st), dbdir);
	store_close(st);
	/* and opens again */
	st = open_store(0);
	done(st);
}

Test(store, open_fails_cleanly_on_a_file)
{
	struct store	*st;
	char		 err[256];

	cr_assert_eq(store_open(&st, "/dev/null", 0, err, sizeof(err)),
	    STORE_ERROR);
	cr_assert_null(st);
	cr_assert_not_null(strstr(err, "not a directory"), "%s", err);
}

/* ---- tokens ----------------------------------------------------------- */

Test(token, format_and_hash)
{
	char		 t1[TOKEN_STR_LEN + 1], t2[TOKEN_STR_LEN + 1];
	unsigned char	 h1[TOKEN_HASH_LEN], h[TOKEN_HASH_LEN];
	size_t		 i;

	cr_assert_eq(token_new(t1, h1), 0);
	cr_assert_eq(strlen(t1), 47);
	cr_assert_eq(strncmp(t1, "idm_", 4), 0);
	for (i = 4; i < 47; i++)
		cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		    "qrstuvwxyz0123456789-_", t1[i]) != NULL);
	crypto_generichash(h, sizeof(h), (unsigned char *)t1, 47, NULL, 0);
	cr_assert_eq(memcmp(h, h1, sizeof(h)), 0);
	token_hash(t1, 47, h);
	cr_assert_eq(memcmp(h, h1, sizeof(h)), 0);
	cr_assert_eq(token_new(t2, h), 0);
	cr_assert_str_neq(t1, t2);
}

/* ---- keys ------------------------------------------------------------- */

Test(store, add_and_lookup)
{
	struct store	*st = fresh();
	char		 tok[TOKEN_STR_LEN + 1];
	struct key	 k;

	cr_assert_eq(key_add(st, "bob", "My app", &plans[PLAN_FREE],
	    tok), STORE_OK, "%s", store_error(st));
	cr_assert_eq(store_key_by_user(st, "bob", 3, &k), STORE_OK);
	cr_assert_str_eq(k.user, "bob");
	cr_assert_str_eq(k.label, "My app");
	cr_assert_str_eq(k.plan, "free");
	cr_assert_eq(k.rate, 2);
	cr_assert_eq(k.quota, 1540);
	cr_assert_eq(k.status, KEY_ACTIVE);
	cr_assert(k.created > 0);
	cr_assert_eq(k.rotated, 0);
	memset(&k, 0, sizeof(k));
	cr_assert_eq(key_by_token(st, tok, strlen(tok), &k), STORE_OK);
	cr_assert_str_eq(k.user, "bob");
	cr_assert_eq(key_by_token(st, "idm_nope", 8, &k), STORE_NOTFOUND);
	cr_assert_eq(store_key_by_user(st, "alice", 5, &k), STORE_NOTFOUND);
	cr_assert_eq(store_key_by_user(st, "bo!b", 4, &k), STORE_NOTFOUND);
	done(st);
}

Test(store, default_plan_is_unlimited)
{
	struct store	*st = fresh();
	char		 tok[TOKEN_STR_LEN + 1];
	struct key	 k;

	add(st, "bob", tok);
	cr_assert_eq(store_key_by_user(st, "bob", 3, &k), STORE_OK);
	cr_assert_str_eq(k.plan, "unlimited");
	cr_assert_eq(k.rate, 0);
	cr_assert_eq(k.quota, 0);
	done(st);
}

Test(store, usernames_are_lowercased)
{
	struct store	*st = fresh();
	char		 tok[TOKEN_STR_LEN + 1];
	struct key	 k;

	add(st, "Bob", tok);
	cr_assert_eq(store_key_by_user(st, "bob", 3, &k), STORE_OK);
	cr_assert_str_eq(k.user, "bob");
	cr_assert_eq(store_key_by_user(st, "BOB", 3, &k), STORE_OK);
	cr_assert_eq(key_add(st, "bOb", NULL, NULL, tok), STORE_EXISTS);
	cr_assert_str_eq(store_error(st), "a key named \"bob\" already exists");
	done(st);
}

Test(store, username_validation_names_the_character)
{
	struct store	*st = fresh();
	char		 tok[TOKEN_STR_LEN + 1], u[USER_MAX + 1], e[256];
	char		 long_name[USER_MAX + 2];

	cr_assert_eq(key_add(st, "bo!b", NULL, NULL, tok), STORE_INVALID);
	cr_assert_str_eq(store_error(st),
	    "invalid character '!' in username \"bo!b\"");
	cr_assert_eq(user_norm("a b", 3, u, e, sizeof(e)), -1);
	cr_assert_str_eq(e, "invalid character ' ' in username \"a b\"");
	cr_assert_eq(user_norm("a\tb", 3, u, e, sizeof(e)), -1);
	cr_assert_str_eq(e,
	    "invalid character '\\x09' in username \"a\\x09b\"");
	cr_assert_eq(user_norm("b\xc3\xa9", 3, u, e, sizeof(e)), -1);
	cr_assert_not_null(strstr(e, "'\\xc3'"), "%s", e);
	cr_assert_eq(user_norm("", 0, u, e, sizeof(e)), -1);
	cr_assert_str_eq(e, "the username is empty");
	memset(long_name, 'a', USER_MAX + 1);
	long_name[USER_MAX + 1] = '\0';
	cr_assert_eq(user_norm(long_name, USER_MAX + 1, u, e,
	    sizeof(e)), -1);
	cr_assert_not_null(strstr(e, "longer than 64"), "%s", e);
	cr_assert_eq(user_norm(long_name, USER_MAX, u, e, sizeof(e)), 0);
	cr_assert_eq(user_norm("A.b_C-9", 7, u, e, sizeof(e)), 0);
	cr_assert_str_eq(u, "a.b_c-9");
	done(st);
}

Test(store, label_checks)
{
	char	 e[256], big[LABEL_MAX + 2];

	cr_assert_eq(label_check("Café ☕", e, sizeof(e)), 0);
	cr_assert_eq(label_check("a\nb", e, sizeof(e)), -1);
	cr_assert_not_null(strstr(e, "control"));
	cr_assert_eq(label_check("\xc3(", e, sizeof(e)), -1);
	cr_assert_not_null(strstr(e, "UTF-8"));
	cr_assert_eq(label_check("\xed\xa0\x80", e, sizeof(e)), -1);
	cr_assert_eq(label_check("\xc0\xaf", e, sizeof(e)), -1);
	memset(big, 'x', LABEL_MAX);
	big[LABEL_MAX] = '\0';
	cr_assert_eq(label_check(big, e, sizeof(e)), 0);
	big[LABEL_MAX] = 'x';
	big[LABEL_MAX + 1] = '\0';
	cr_assert_eq(label_check(big, e, sizeof(e)), -1);
}

Test(store, rotate)
{
	struct store	*st = fresh();
	char		 t1[TOKEN_STR_LEN + 1], t2[TOKEN_STR_LEN + 1];
	struct key	 k;

	add(st, "bob", t1);
	cr_assert_eq(key_rotate(st, "BOB", t2), STORE_OK);
	cr_assert_str_neq(t1, t2);
	cr_assert_eq(key_by_token(st, t1, strlen(t1), &k),
	    STORE_NOTFOUND);
	cr_assert_eq(key_by_token(st, t2, strlen(t2), &k), STORE_OK);
	cr_assert_str_eq(k.user, "bob");
	cr_assert(k.rotated >= k.created);
	cr_assert_eq(auth_user_tok(st, "bob", 3, t1, strlen(t1), &k),
	    STORE_DENIED);
	cr_assert_eq(auth_user_tok(st, "bob", 3, t2, strlen(t2), &k),
	    STORE_OK);
	cr_assert_eq(key_rotate(st, "nobody", t2), STORE_NOTFOUND);
	cr_assert_str_eq(store_error(st), "no key named \"nobody\"");
	done(st);
}

Test(store, auth)
{
	struct store	*st = fresh();
	char		 t1[TOKEN_STR_LEN + 1], t2[TOKEN_STR_LEN + 1];
	struct key	 k;

	add(st, "bob", t1);
	add(st, "alice", t2);
	cr_assert_eq(store_rd_begin(st), STORE_OK);
	cr_assert_eq(auth_user_tok(st, "Bob", 3, t1, strlen(t1), &k),
	    STORE_OK);
	cr_assert_str_eq(k.user, "bob");
	cr_assert_eq(auth_user_tok(st, "bob", 3, t2, strlen(t2), &k),
	    STORE_DENIED);
	cr_assert_eq(k.user[0], '\0');
	cr_assert_eq(auth_user_tok(st, "carol", 5, t1, strlen(t1), &k),
	    STORE_DENIED);
	cr_assert_eq(auth_user_tok(st, "b!", 2, t1, strlen(t1), &k),
	    STORE_DENIED);
	cr_assert_eq(auth_user_tok(st, "bob", 3, "", 0, &k), STORE_DENIED);
	cr_assert_eq(auth_tok(st, t2, strlen(t2), &k), STORE_OK);
	cr_assert_str_eq(k.user, "alice");
	cr_assert_eq(auth_tok(st, "junk", 4, &k), STORE_DENIED);
	store_rd_end(st);
	done(st);
}

Test(store, suspend_and_resume)
{
	struct store	*st = fresh();
	char		 t[TOKEN_STR_LEN + 1];
	struct key	 k;

	add(st, "bob", t);
	cr_assert_eq(store_key_set_status(st, "bob", KEY_SUSPENDED), STORE_OK);
	cr_assert_eq(store_key_by_user(st, "bob", 3, &k), STORE_OK);
	cr_assert_eq(k.status, KEY_SUSPENDED);
	cr_assert_eq(auth_user_tok(st, "bob", 3, t, strlen(t), &k),
	    STORE_DENIED);
	cr_assert_eq(auth_tok(st, t, strlen(t), &k), STORE_DENIED);
	cr_assert_eq(store_key_set_status(st, "bob", KEY_ACTIVE), STORE_OK);
	cr_assert_eq(auth_tok(st, t, strlen(t), &k), STORE_OK);
	cr_assert_eq(store_key_set_status(st, "zed", KEY_ACTIVE),
	    STORE_NOTFOUND);
	done(st);
}

/* ---- expiry ----------------------------------------------------------- */

static uint64_t	 fake_ms;

static uint64_t
fake_clock(void)
{
	return fake_ms;
}

/* An expired key is refused exactly as a suspended one, by name and by
 * token, from its second of expiry on. */
Test(store, expired_key_is_refused_like_a_suspended_one)
{
	struct store	*st = fresh();
	char		 t[TOKEN_STR_LEN + 1];
	struct key	 k;
	int64_t		 at = 1893456000;	/* 2030-01-01 */

	add(st, "bob", t);
	cr_assert_eq(store_key_set_expires(st, "bob", at), STORE_OK);
	cr_assert_eq(store_key_by_user(st, "bob", 3, &k), STORE_OK);
	cr_assert_eq(k.expires, at);
	cr_assert_eq(k.status, KEY_ACTIVE);
	clock_set(fake_clock);
	fake_ms = (uint64_t)at * 1000 - 1;
	cr_assert_not(key_expired(&k, at - 1));
	cr_assert_eq(auth_user_tok(st, "bob", 3, t, strlen(t), &k), STORE_OK);
	cr_assert_eq(auth_tok(st, t, strlen(t), &k), STORE_OK);
	fake_ms = (uint64_t)at * 1000;
	cr_assert(key_expired(&k, at));
	cr_assert_eq(auth_user_tok(st, "bob", 3, t, strlen(t), &k),
	    STORE_DENIED);
	cr_assert_eq(k.user[0], '\0');
	cr_assert_eq(auth_tok(st, t, strlen(t), &k), STORE_DENIED);
	/* Never again: it works at once. */
	cr_assert_eq(store_key_set_expires(st, "bob", 0), STORE_OK);
	cr_assert_eq(auth_tok(st, t, strlen(t), &k), STORE_OK);
	cr_assert_eq(k.expires, 0);
	cr_assert_eq(store_key_set_expires(st, "zed", at), STORE_NOTFOUND);
	clock_set(NULL);
	done(st);
}

/* The store's `keys` with LMDB itself, the store closed. */
static MDB_env *
raw_keys(unsigned flags, MDB_txn **txn, MDB_dbi *dbi)
{
	MDB_env		*env;

	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_set_maxdbs(env, 8), 0);
	cr_assert_eq(mdb_env_open(env, dbdir, MDB_NOTLS, 0600), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, flags, txn), 0);
	cr_assert_eq(mdb_dbi_open(*txn, "keys", 0, dbi), 0);
	return env;
}

static size_t
raw_get(const char *user, unsigned char *out, size_t max)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	MDB_val		 k = { strlen(user), (void *)user }, v;
	size_t		 n;

	env = raw_keys(MDB_RDONLY, &txn, &dbi);
	cr_assert_eq(mdb_get(txn, dbi, &k, &v), 0);
	n = v.mv_size < max ? v.mv_size : max;
	memcpy(out, v.mv_data, n);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return n;
}

static void
raw_put(const char *user, unsigned char *rec, size_t n)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	MDB_val		 k = { strlen(user), (void *)user }, v = { n, rec };

	env = raw_keys(0, &txn, &dbi);
	cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/*
 * A version 1 record, laid out by hand as stores made before expiry hold
 * them, stays readable; a key without an expiry is still written in that
 * format, byte for byte, and one with an expiry as version 2.
 */
Test(store, version_1_records_stay_readable)
{
	struct store	*st = fresh();
	unsigned char	 rec[512], v1[] = {
	    1, 0,			/* version 1, active */
	    2, 0, 0, 0,			/* rate 2 */
	    0x04, 0x06, 0, 0, 0, 0, 0, 0,	/* quota 1540 */
	    0x80, 0x8b, 0x5b, 0x6a, 0, 0, 0, 0,	/* created 1784384384 */
	    0, 0, 0, 0, 0, 0, 0, 0,	/* never rotated */
	    [30 + TOKEN_HASH_LEN] = 4, 3, 0,	/* plan and label lengths */
	    'f', 'r', 'e', 'e', 'o', 'l', 'd' };
	char		 t[TOKEN_STR_LEN + 1];
	struct key	 k;
	size_t		 n;

	add(st, "old", t);
	token_hash(t, strlen(t), v1 + 30);
	store_close(st);
	raw_put("old", v1, sizeof(v1));
	st = open_store(0);
	cr_assert_eq(store_key_by_user(st, "old", 3, &k), STORE_OK,
	    "%s", store_error(st));
	cr_assert_eq(k.rate, 2);
	cr_assert_eq(k.quota, 1540);
	cr_assert_eq(k.created, 1784384384);
	cr_assert_eq(k.expires, 0);
	cr_assert_str_eq(k.plan, "free");
	cr_assert_str_eq(k.label, "old");
	cr_assert_eq(auth_tok(st, t, strlen(t), &k), STORE_OK);
	/* An expiry makes it version 2, 8 bytes longer; never, version 1. */
	cr_assert_eq(store_key_set_expires(st, "old", 1893456000), STORE_OK);
	store_close(st);
	n = raw_get("old", rec, sizeof(rec));
	cr_assert_eq(rec[0], 2);
	cr_assert_eq(n, sizeof(v1) + 8);
	cr_assert_eq(memcmp(rec + 30, "\x80\xd8\xdb\x70\0\0\0\0", 8), 0);
	st = open_store(0);
	cr_assert_eq(store_key_by_user(st, "old", 3, &k), STORE_OK);
	cr_assert_eq(k.expires, 1893456000);
	cr_assert_str_eq(k.label, "old");
	cr_assert_eq(store_key_set_expires(st, "old", 0), STORE_OK);
	store_close(st);
	n = raw_get("old", rec, sizeof(rec));
	cr_assert_eq(n, sizeof(v1));
	cr_assert_eq(memcmp(rec, v1, n), 0);
	rm_dir();
}

Test(store, remove)
{
	struct store	*st = fresh();
	char		 t[TOKEN_STR_LEN + 1], t2[TOKEN_STR_LEN + 1];
	struct key	 k;

	add(st, "bob", t);
	cr_assert_eq(store_key_remove(st, "Bob"), STORE_OK);
	cr_assert_eq(store_key_by_user(st, "bob", 3, &k), STORE_NOTFOUND);
	cr_assert_eq(key_by_token(st, t, strlen(t), &k), STORE_NOTFOUND);
	cr_assert_eq(store_key_remove(st, "bob"), STORE_NOTFOUND);
	cr_assert_str_eq(store_error(st), "no key named \"bob\"");
	/* the name is free again, with a new token */
	add(st, "bob", t2);
	cr_assert_eq(key_by_token(st, t, strlen(t), &k), STORE_NOTFOUND);
	cr_assert_eq(key_by_token(st, t2, strlen(t2), &k), STORE_OK);
	done(st);
}

Test(store, plan_change)
{
	struct store	*st = fresh();
	char		 t[TOKEN_STR_LEN + 1], e[128];
	struct plan	 p;
	struct key	 k;

	add(st, "bob", t);
	cr_assert_eq(store_key_set_plan(st, "bob", &plans[PLAN_PRO]), STORE_OK);
	cr_assert_eq(store_key_by_user(st, "bob", 3, &k), STORE_OK);
	cr_assert_str_eq(k.plan, "pro");
	cr_assert_eq(k.rate, 20);
	cr_assert_eq(k.quota, 186000);
	cr_assert_eq(plan_custom("7", "123456", &p, e, sizeof(e)), 0);
	cr_assert_eq(store_key_set_plan(st, "bob", &p), STORE_OK);
	cr_assert_eq(store_key_by_user(st, "bob", 3, &k), STORE_OK);
	cr_assert_str_eq(k.plan, "custom");
	cr_assert_eq(k.rate, 7);
	cr_assert_eq(k.quota, 123456);
	cr_assert_eq(store_key_set_plan(st, "zed", &p), STORE_NOTFOUND);
	done(st);
}

static int
collect(void *arg, const struct key *k)
{
	strcat(arg, k->user);
	strcat(arg, ",");
	return 0;
}

Test(store, list_in_name_order)
{
	struct store	*st = fresh();
	char		 t[TOKEN_STR_LEN + 1], names[128] = "";

	add(st, "carol", t);
	add(st, "alice", t);
	add(st, "bob", t);
	cr_assert_eq(store_key_each(st, collect, names), STORE_OK);
	cr_assert_str_eq(names, "alice,bob,carol,");
	done(st);
}

Test(store, read_txn_is_a_snapshot)
{
	struct store	*st = fresh();
	char		 t[TOKEN_STR_LEN + 1];
	struct key	 k;

	cr_assert_eq(store_rd_begin(st), STORE_OK);
	add(st, "bob", t);
	cr_assert_eq(store_key_by_user(st, "bob", 3, &k), STORE_NOTFOUND);
	store_rd_end(st);
	cr_assert_eq(store_rd_begin(st), STORE_OK);	/* renewed */
	cr_assert_eq(store_key_by_user(st, "bob", 3, &k), STORE_OK);
	store_rd_end(st);
	done(st);
}

/* ---- usage ------------------------------------------------------------ */


static uint64_t
month_total(struct store *st, const char *user, uint32_t month)
{
	uint64_t	 n = 99;

	cr_assert_eq(store_usage_month(st, user, month, &n), STORE_OK);
	return n;
}

Test(usage, apply_is_idempotent)
{
	struct store		*st = fresh();
	struct usage_cell	 c[2];

	c[0] = fx_cell("bob", 202611, "uuid", 0, 5);
	c[1] = fx_cell("bob", 202611, "nanoid", 1, 3);
	cr_assert_eq(fx_apply(st, 1, c, 2), STORE_OK);
	cr_assert_eq(month_total(st, "bob", 202611), 8);
	cr_assert_eq(fx_apply(st, 1, c, 2), STORE_OK);
	cr_assert_eq(month_total(st, "bob", 202611), 8);
	c[0].counter = 9;			/* 4 more calls */
	cr_assert_eq(fx_apply(st, 1, c, 2), STORE_OK);
	cr_assert_eq(month_total(st, "bob", 202611), 12);
	cr_assert_eq(month_total(st, "bob", 202610), 0);
	cr_assert_eq(month_total(st, "bo", 202611), 0);
	cr_assert_eq(month_total(st, "nobody", 202611), 0);
	done(st);
}

Test(usage, generation_change_resets_marks)
{
	struct store		*st = fresh();
	struct usage_cell	 c;

	c = fx_cell("bob", 202611, "uuid", 7, 10);
	cr_assert_eq(fx_apply(st, 1, &c, 1), STORE_OK);
	/* The shared table was made again: counters start from zero. */
	c.counter = 3;
	cr_assert_eq(fx_apply(st, 2, &c, 1), STORE_OK);
	cr_assert_eq(month_total(st, "bob", 202611), 13);
	cr_assert_eq(fx_apply(st, 2, &c, 1), STORE_OK);
	cr_assert_eq(month_total(st, "bob", 202611), 13);
	/* A slot reused by another user under the new generation. */
	c = fx_cell("alice", 202611, "uuid", 7, 5);
	cr_assert_eq(fx_apply(st, 2, &c, 1), STORE_OK);
	cr_assert_eq(month_total(st, "alice", 202611), 2);
	done(st);
}

/* ---- slot leases ------------------------------------------------------ */

Test(workers, claims_differ_and_dead_slots_return)
{
	struct store	*st = fresh();
	unsigned	 a, b, c;
	uint64_t	 last;
	char		 x;
	int		 fds[2], status;
	pid_t		 child;

	cr_assert_eq(store_lease_claim(st, 2, getpid(), &a, &last), STORE_OK, "%s",
	    store_error(st));
	cr_assert_eq(a, 0);
	/* the same process again keeps its slot */
	cr_assert_eq(store_lease_claim(st, 2, getpid(), &c, &last), STORE_OK);
	cr_assert_eq(c, 0);

	cr_assert_eq(pipe(fds), 0);
	if ((child = fork()) == 0) {
		close(fds[1]);
		(void)read(fds[0], &x, 1);
		_exit(0);
	}
	cr_assert_gt(child, 0);
	close(fds[0]);
	cr_assert_eq(store_lease_claim(st, 2, child, &b, &last), STORE_OK, "%s",
	    store_error(st));
	cr_assert_eq(b, 1);
	cr_assert_eq(store_lease_claim(st, 2, getppid(), &c, &last), STORE_OK);
	cr_assert_eq(c, 2);
	close(fds[1]);			/* the child exits */
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert_eq(store_lease_claim(st, 2, 1, &c, &last), STORE_OK, "%s",
	    store_error(st));
	cr_assert_eq(c, 1, "the dead child's slot is reused, got %u", c);
	done(st);
}

Test(workers, all_busy_is_an_error)
{
	struct store	*st = fresh();
	unsigned	 s;
	uint64_t	 last;

	cr_assert_eq(store_lease_claim(st, 1, getpid(), &s, &last), STORE_OK);
	cr_assert_eq(store_lease_claim(st, 1, getppid(), &s, &last), STORE_OK);
	cr_assert_eq(store_lease_claim(st, 1, 1, &s, &last), STORE_BUSY);
	cr_assert_not_null(strstr(store_error(st), "all 2 snowflake slots"),
	    "%s", store_error(st));
	/* a release makes room */
	cr_assert_eq(store_lease_release(st, 0, getpid(), 0), STORE_OK);
	cr_assert_eq(store_lease_claim(st, 1, 1, &s, &last), STORE_OK);
	cr_assert_eq(s, 0);
	/* release by a pid that does not hold the slot does nothing */
	cr_assert_eq(store_lease_release(st, 1, 1, 0), STORE_OK);
	cr_assert_eq(store_lease_claim(st, 1, getpid(), &s, &last), STORE_BUSY);
	cr_assert_eq(store_lease_claim(st, 17, getpid(), &s, &last), STORE_INVALID);
	done(st);
}

/* ---- failure and secrecy ---------------------------------------------- */

Test(store, map_full_is_an_error)
{
	struct store		*st;
	struct usage_cell	 c;
	char			 t[TOKEN_STR_LEN + 1], u[32];
	struct key		 k;
	enum store_rc		 r = STORE_OK;
	int			 i;

	mktemp_dir();
	st = open_store(32 * 4096);
	for (i = 0; i < 100000 && r == STORE_OK; i++) {
		snprintf(u, sizeof(u), "user%d", i);
		r = key_add(st, u, "a label to fill pages faster "
		    "............................................", NULL, t);
	}
	cr_assert_eq(r, STORE_FULL, "got %d after %d keys", r, i);
	cr_assert_not_null(strstr(store_error(st), "full"), "%s",
	    store_error(st));
	/* still readable, and other writes fail the same clear way */
	cr_assert_eq(store_key_by_user(st, "user0", 5, &k), STORE_OK);
	c = fx_cell("user0", 202611, "uuid", 0, 1);
	for (i = 0; i < 1000; i++) {
		c.slot = (uint32_t)i;
		if (fx_apply(st, 1, &c, 1) != STORE_OK)
			break;
	}
	cr_assert_lt(i, 1000);
	cr_assert_not_null(strstr(store_error(st), "full"), "%s",
	    store_error(st));
	store_close(st);
	/* a larger map lets it grow */
	st = open_store(256 * 4096);
	cr_assert_eq(key_add(st, "more", NULL, NULL, t), STORE_OK,
	    "%s", store_error(st));
	store_close(st);
	rm_dir();
}

Test(store, plain_token_is_not_stored)
{
	struct store	*st = fresh();
	char		 t[4][TOKEN_STR_LEN + 1], p[PATH_MAX + 32];
	int		 i;

	add(st, "bob", t[0]);
	add(st, "alice", t[1]);
	cr_assert_eq(key_rotate(st, "bob", t[2]), STORE_OK);
	cr_assert_eq(key_rotate(st, "bob", t[3]), STORE_OK);
	store_close(st);
	snprintf(p, sizeof(p), "%s/data.mdb", dbdir);
	for (i = 0; i < 4; i++) {
		cr_assert_not(file_has(p, t[i], TOKEN_STR_LEN));
		cr_assert_not(file_has(p, t[i] + 4, 16));	/* any part */
		cr_assert_not(file_has(p, t[i] + 30, 16));
	}
	cr_assert(file_has(p, "alice", 5));	/* the test can see */
	snprintf(p, sizeof(p), "%s/lock.mdb", dbdir);
	for (i = 0; i < 4; i++)
		cr_assert_not(file_has(p, t[i] + 4, 16));
	rm_dir();
}

/* Processes that each open the store after fork and write at once. */
Test(usage, concurrent_processes_count_exactly)
{
	struct store		*st;
	struct usage_cell	 c;
	pid_t			 kids[4];
	int			 i, j, status;

	mktemp_dir();
	store_close(open_store(0));	/* create it */
	for (i = 0; i < 4; i++) {
		if ((kids[i] = fork()) == 0) {
			st = open_store(0);
			c = fx_cell("bob", 202611, "uuid", (uint32_t)i, 0);
			for (j = 1; j <= 50; j++) {
				c.counter = (uint64_t)j;
				if (fx_apply(st, 1, &c, 1) != STORE_OK)
					_exit(1);
				/* and again: adds nothing */
				if (fx_apply(st, 1, &c, 1) != STORE_OK)
					_exit(1);
			}
			store_close(st);
			_exit(0);
		}
		cr_assert_gt(kids[i], 0);
	}
	for (i = 0; i < 4; i++) {
		cr_assert_eq(waitpid(kids[i], &status, 0), kids[i]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	st = open_store(0);
	cr_assert_eq(month_total(st, "bob", 202611), 200);
	done(st);
}

/*
 * Two shared tables alive at once flush the same slot in turn: each
 * generation's mark is its own, so neither adds the other's calls again.
 * (Marks kept per slot alone added each whole counter on every turn.)
 */
Test(usage, two_generations_on_one_slot)
{
	struct store		*st = fresh();
	struct usage_cell	 a, b;

	a = fx_cell("bob", 202611, "uuid", 5, 10);
	b = fx_cell("bob", 202611, "uuid", 5, 3);
	cr_assert_eq(fx_apply(st, 1, &a, 1), STORE_OK);
	cr_assert_eq(fx_apply(st, 2, &b, 1), STORE_OK);
	cr_assert_eq(month_total(st, "bob", 202611), 13);
	a.counter = 12;
	cr_assert_eq(fx_apply(st, 1, &a, 1), STORE_OK);
	cr_assert_eq(month_total(st, "bob", 202611), 15);
	b.counter = 4;
	cr_assert_eq(fx_apply(st, 2, &b, 1), STORE_OK);
	cr_assert_eq(fx_apply(st, 1, &a, 1), STORE_OK);
	cr_assert_eq(month_total(st, "bob", 202611), 16);
	done(st);
}

/* A store of format 1 (marks per slot) is read, and brought up to date:
 * its marks keep counting as they did. */
Test(store, format_1_is_upgraded)
{
	struct store		*st;
	struct usage_cell	 c;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 meta, marks;
	unsigned char		 kb[4] = { 0, 0, 0, 3 }, vb[16], fmt[4] = { 1 };
	MDB_val			 k, v;
	int			 i;

	mktemp_dir();
	cr_assert_eq(mkdir(dbdir, 0700), 0);
	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_set_maxdbs(env, 8), 0);
	cr_assert_eq(mdb_env_open(env, dbdir, 0, 0600), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, "meta", MDB_CREATE, &meta), 0);
	cr_assert_eq(mdb_dbi_open(txn, "marks", MDB_CREATE, &marks), 0);
	k.mv_size = 6;
	k.mv_data = (void *)(uintptr_t)"format";
	v.mv_size = 4;
	v.mv_data = fmt;
	cr_assert_eq(mdb_put(txn, meta, &k, &v, 0), 0);
	for (i = 0; i < 8; i++) {
		vb[i] = (unsigned char)(i == 0 ? 7 : 0);	/* generation 7 */
		vb[8 + i] = (unsigned char)(i == 0 ? 10 : 0);	/* mark 10 */
	}
	k.mv_size = 4;
	k.mv_data = kb;
	v.mv_size = 16;
	v.mv_data = vb;
	cr_assert_eq(mdb_put(txn, marks, &k, &v, 0), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	st = open_store(0);
	c = fx_cell("bob", 202611, "uuid", 3, 12);
	cr_assert_eq(fx_apply(st, 7, &c, 1), STORE_OK);
	cr_assert_eq(month_total(st, "bob", 202611), 2);
	store_close(st);
	/* Opened again: nothing more to upgrade, nothing counted twice. */
	st = open_store(0);
	cr_assert_eq(fx_apply(st, 7, &c, 1), STORE_OK);
	cr_assert_eq(month_total(st, "bob", 202611), 2);
	done(st);
}

/* A slot keeps the last millisecond its holders issued in, for the next. */
Test(workers, last_ms_stays_with_the_slot)
{
	struct store	*st = fresh();
	unsigned	 s;
	uint64_t	 last;

	cr_assert_eq(store_lease_claim(st, 1, getpid(), &s, &last), STORE_OK);
	cr_assert_eq(last, 0);
	cr_assert_eq(store_lease_record(st, s, getpid(), 5000), STORE_OK);
	cr_assert_eq(store_lease_record(st, s, getpid(), 4000), STORE_OK);
	cr_assert_eq(store_lease_record(st, s, 1, 9000), STORE_OK); /* not its */
	cr_assert_eq(store_lease_release(st, s, getpid(), 6000), STORE_OK);
	cr_assert_eq(store_lease_claim(st, 1, 1, &s, &last), STORE_OK);
	cr_assert_eq(s, 0);
	cr_assert_eq(last, 6000);
	done(st);
}
