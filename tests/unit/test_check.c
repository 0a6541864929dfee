/*
 * test_check.c: idmint -t (check.c), and format versions: a store
 * written by format 1 (the fixture in tests/fixtures) is read; a newer
 * store or shared table is refused with a message naming the path and
 * both formats, and a newer table is never replaced.
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

#include "check.h"
#include "conf.h"
#include "fixture.h"
#include "shm.h"
#include "store_int.h"		/* STORE_FORMAT */

static void
mkdirs(void)
{
	umask(022);
	fx_mkdir("idmint-check");
}

TestSuite(check, .init = mkdirs, .fini = fx_rmdir);

/* ---- helpers ---------------------------------------------------------- */

/* A store and a shared table in fx_db, as a first worker leaves them. */
static void
fresh_store(void)
{
	struct store	*st = fx_store(0);
	struct usage	*u;
	char		 err[256];

	cr_assert_eq(usage_open(fx_db, NULL, &u, err, sizeof(err)), 0, "%s",
	    err);
	usage_close(u);
	store_close(st);
}

/* check_setup on fx_db with map size mapsize (0: the default): its
 * count of problems, and what it said in out (freed by the caller). */
static int
setup(uint64_t mapsize, char **out)
{
	struct conf	 c;
	size_t		 len;
	FILE		*f;
	int		 n;

	conf_defaults(&c);
	snprintf(c.db, sizeof(c.db), "%s", fx_db);
	if (mapsize != 0)
		c.map_size = mapsize;
	cr_assert_not_null(f = open_memstream(out, &len));
	n = check_setup(&c, f);
	fclose(f);
	return n;
}

static int
lines(const char *s)
{
	int	 n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
path_of(char *out, size_t len, const char *file)
{
	snprintf(out, len, "%s/%s", fx_db, file);
}

/* Write the store's format record, as a newer idmint would. */
static void
set_store_format(uint32_t v)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	unsigned char	 b[4] = { (unsigned char)v, (unsigned char)(v >> 8),
			    (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
	MDB_val		 k = { 6, (void *)"format" }, d = { 4, b };

	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_set_maxdbs(env, 16), 0);
	cr_assert_eq(mdb_env_open(env, fx_db, 0, 0600), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	cr_assert_eq(mdb_put(txn, dbi, &k, &d, 0), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* The shared table's header: magic (8 bytes), then the version (4). */
static void
set_table_version(uint32_t v)
{
	char	 path[512];
	int	 fd;

	path_of(path, sizeof(path), SHM_FILE);
	cr_assert_neq(fd = open(path, O_WRONLY), -1);
	cr_assert_eq(pwrite(fd, &v, sizeof(v), 8), (ssize_t)sizeof(v));
	close(fd);
}

static uint32_t
table_version(void)
{
	char	 path[512];
	uint32_t v = 0;
	int	 fd;

	path_of(path, sizeof(path), SHM_FILE);
	cr_assert_neq(fd = open(path, O_RDONLY), -1);
	cr_assert_eq(pread(fd, &v, sizeof(v), 8), (ssize_t)sizeof(v));
	close(fd);
	return v;
}

/* ---- check_setup ------------------------------------------------------ */

Test(check, fresh_and_missing_stores_are_good)
{
	char	*out;

	cr_assert_eq(setup(0, &out), 0, "%s", out);
	cr_assert_str_eq(out, "", "nothing made yet is fine: %s", out);
	free(out);
	fresh_store();
	cr_assert_eq(setup(0, &out), 0, "%s", out);
	cr_assert_str_eq(out, "");
	free(out);
}

Test(check, one_line_per_problem)
{
	char	*out, path[512];

	fresh_store();
	cr_assert_eq(chmod(fx_db, 0775), 0);
	cr_assert_eq(setup(0, &out), 1, "%s", out);
	cr_assert(strncmp(out, "idmint: ", 8) == 0 && strstr(out, fx_db) &&
	    strstr(out, "writable by its group (mode 0775)"), "%s", out);
	free(out);
	cr_assert_eq(chmod(fx_db, 0700), 0);
	path_of(path, sizeof(path), "data.mdb");
	cr_assert_eq(chmod(path, 0660), 0);
	path_of(path, sizeof(path), SHM_FILE);
	cr_assert_eq(chmod(path, 0606), 0);
	cr_assert_eq(setup(0, &out), 2, "%s", out);
	cr_assert_eq(lines(out), 2, "%s", out);
	cr_assert(strstr(out, "/data.mdb is writable by its group") &&
	    strstr(out, "/idmint.shm is writable by others"), "%s", out);
	free(out);
}

/* Fill a 1 MiB map with junk in a sub-database of its own, in batches
 * without syncs (a test store need not survive a power cut). */
static void
fill_map(void)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	unsigned char	 junk[1000] = { 0 };
	MDB_val		 k, d = { sizeof(junk), junk };
	unsigned	 n = 0;
	int		 i, rc = 0;

	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_set_maxdbs(env, 16), 0);
	cr_assert_eq(mdb_env_set_mapsize(env, 1 << 20), 0);
	cr_assert_eq(mdb_env_open(env, fx_db, MDB_NOSYNC, 0600), 0);
	while (rc == 0) {
		cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
		cr_assert_eq(mdb_dbi_open(txn, "junk", MDB_CREATE, &dbi), 0);
		for (i = 0; i < 20 && rc == 0; i++, n++) {
			k.mv_size = sizeof(n);
			k.mv_data = &n;
			rc = mdb_put(txn, dbi, &k, &d, 0);
		}
		if (rc == 0)
			cr_assert_eq(mdb_txn_commit(txn), 0);
		else
			mdb_txn_abort(txn);
	}
	cr_assert_eq(rc, MDB_MAP_FULL, "%s", mdb_strerror(rc));
	mdb_env_close(env);
}

Test(check, map_nearly_full)
{
	char	*out;

	fresh_store();
	cr_assert_eq(setup(1 << 20, &out), 0, "a fresh store: %s", out);
	free(out);
	fill_map();
	cr_assert_eq(setup(1 << 20, &out), 1, "%s", out);
	cr_assert(strstr(out, "of its 1 MiB map in use; raise map_size"),
	    "%s", out);
	free(out);
	cr_assert_eq(setup(1 << 30, &out), 0, "a larger map is fine: %s", out);
	free(out);
}

/* ---- format versions -------------------------------------------------- */

Test(check, newer_store_format_is_refused)
{
	struct store	*st;
	char		 err[1024], want[1024], *out;

	fresh_store();
	set_store_format(STORE_FORMAT + 1);
	snprintf(want, sizeof(want), "%s/data.mdb: store format %d is newer "
	    "than this idmint reads (formats 1 to %d); run the idmint that "
	    "wrote it, or a newer one", fx_db, STORE_FORMAT + 1, STORE_FORMAT);
	cr_assert_eq(store_open(&st, fx_db, 0, err, sizeof(err)),
	    STORE_CORRUPT);
	cr_assert_str_eq(err, want);
	cr_assert_eq(setup(0, &out), 1, "%s", out);
	cr_assert(strstr(out, want) != NULL, "%s", out);
	free(out);
	set_store_format(STORE_FORMAT);
	st = fx_store(0);
	store_close(st);
}

Test(check, newer_table_format_is_refused_not_replaced)
{
	struct usage	*u;
	struct stat	 a, b;
	char		 err[1024], want[1024], path[512], *out;

	fresh_store();
	path_of(path, sizeof(path), SHM_FILE);
	set_table_version(SHM_VERSION + 1);
	cr_assert_eq(stat(path, &a), 0);
	snprintf(want, sizeof(want), "%s: shared table format %d is newer than "
	    "this idmint understands (%d); stop every newer idmint, then "
	    "remove the file", path, SHM_VERSION + 1, SHM_VERSION);
	cr_assert_eq(usage_open(fx_db, NULL, &u, err, sizeof(err)), -1);
	cr_assert_str_eq(err, want);
	cr_assert_eq(stat(path, &b), 0);
	cr_assert(a.st_ino == b.st_ino && table_version() == SHM_VERSION + 1,
	    "the newer file is left alone");
	cr_assert_eq(setup(0, &out), 1, "%s", out);
	cr_assert(strstr(out, want) != NULL, "%s", out);
	free(out);
}

Test(check, older_table_is_made_anew)
{
	struct usage	*u;
	char		 err[1024], *out;

	fresh_store();
	set_table_version(SHM_VERSION - 1);
	cr_assert_eq(setup(0, &out), 0, "stale, not a problem: %s", out);
	free(out);
	cr_assert_eq(usage_open(fx_db, NULL, &u, err, sizeof(err)), 0, "%s",
	    err);
	usage_close(u);
	cr_assert_eq(table_version(), SHM_VERSION);
}

/* ---- the format 1 fixture --------------------------------------------- */

struct seen {
	char	 text[1024];
};

static int
key_line(void *arg, const struct key *k)
{
	struct seen	*s = arg;
	size_t		 n = strlen(s->text);

	snprintf(s->text + n, sizeof(s->text) - n, "%s %s %u %llu %s %s|",
	    k->user, k->plan, (unsigned)k->rate, (unsigned long long)k->quota,
	    k->status == KEY_ACTIVE ? "active" : "suspended", k->label);
	return 0;
}

static int
usage_line(void *arg, const char *user, uint32_t month, const char *type,
    uint64_t count)
{
	struct seen	*s = arg;
	size_t		 n = strlen(s->text);

	snprintf(s->text + n, sizeof(s->text) - n, "%s %u %s %llu|", user,
	    (unsigned)month, type, (unsigned long long)count);
	return 0;
}

Test(check, fixture_store_v1)
{
	struct store	*st;
	struct store_info in;
	struct seen	 keys = { "" }, usage = { "" };
	char		 cmd[2048], *out;
	const char	*src = getenv("srcdir");

	cr_assert_not_null(src, "make check sets srcdir");
	cr_assert_eq(mkdir(fx_db, 0700), 0);
	snprintf(cmd, sizeof(cmd), "cp '%s/tests/fixtures/store-v1/data.mdb' "
	    "'%s/data.mdb' && chmod 600 '%s/data.mdb'", src, fx_db, fx_db);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	st = fx_store(0);
	cr_assert_eq(store_key_each(st, key_line, &keys), STORE_OK);
	cr_assert_str_eq(keys.text,
	    "alice pro 20 186000 active fixture: pro plan|"
	    "bob custom 5 1000 active fixture: custom|"
	    "carol free 2 1540 suspended |");
	cr_assert_eq(store_usage_each(st, NULL, usage_line, &usage), STORE_OK);
	cr_assert_str_eq(usage.text,
	    "alice 202612 nanoid 2|alice 202612 uuid 3|bob 202612 encode 1|"
	    "dave 202612 words 1|");
	store_close(st);
	/* Opening it brought it up to this idmint's format. */
	cr_assert_eq(store_inspect(fx_db, 0, &in, cmd, sizeof(cmd)), STORE_OK,
	    "%s", cmd);
	cr_assert_eq(in.format, STORE_FORMAT);
	cr_assert_eq(setup(0, &out), 0, "%s", out);
	free(out);
}

/* ---- idmint -t itself ------------------------------------------------- */

/* Run `idmint -t` on fx_db: its exit status; what it said in out. */
static int
idmint_t(char *out, size_t len)
{
	char	 cmd[2048];
	FILE	*p;
	size_t	 n;
	int	 st;

	snprintf(cmd, sizeof(cmd), "IDMINT_CONF=/dev/null IDMINT_DB='%s' "
	    "'%s' -t 2>&1", fx_db, getenv("IDMINT_BIN"));
	cr_assert_not_null(p = popen(cmd, "r"));
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(check, idmint_t)
{
	char	 out[4096], want[1024];

	cr_assert_not_null(getenv("IDMINT_BIN"), "make check sets IDMINT_BIN");
	fresh_store();
	snprintf(want, sizeof(want), "idmint: configuration and store %s are "
	    "good\n", fx_db);
	cr_assert_eq(idmint_t(out, sizeof(out)), 0, "%s", out);
	cr_assert_str_eq(out, want);
	cr_assert_eq(chmod(fx_db, 0777), 0);
	set_store_format(STORE_FORMAT + 1);
	cr_assert_eq(idmint_t(out, sizeof(out)), 1, "%s", out);
	cr_assert_eq(lines(out), 1, "the directory first, alone: %s", out);
	cr_assert(strstr(out, "is writable by others (mode 0777)"), "%s", out);
	cr_assert_eq(chmod(fx_db, 0700), 0);
	snprintf(want, sizeof(want), "store format %d is newer than this "
	    "idmint reads (formats 1 to %d)", STORE_FORMAT + 1, STORE_FORMAT);
	cr_assert_eq(idmint_t(out, sizeof(out)), 1, "%s", out);
	cr_assert(strstr(out, want) != NULL && lines(out) == 1, "%s", out);
}
