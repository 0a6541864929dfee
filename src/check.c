/*
 * check.c: idmint -t past the settings.  Is the store directory the
 * effective user's and closed to others (shm_trust, the one rule the
 * workers apply too); can the store be read, is its format one this
 * idmint knows, has its map room left; what state is the shared table
 * in.  Nothing is created or changed: workers may be running on the same
 * store, and -t may be run by another user than theirs.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "conf.h"
#include "shm.h"
#include "store.h"

/* The table refuses new cells past 7/8 full (usage.c keeps probe runs
 * short); the header's used[] counts them per table: count, quota, rate. */
#define TABLE_FULL(used, cells)	((uint64_t)(used) * 8 >= (uint64_t)(cells) * 7)

static const char *
user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd	*pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, len, "%s (uid %lu)", pw->pw_name,
		    (unsigned long)uid);
	else
		snprintf(buf, len, "uid %lu", (unsigned long)uid);
	return buf;
}

static int
problem(FILE *out, const char *fmt, ...)
{
	va_list	 ap;

	fputs("idmint: ", out);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	return 1;
}

/* A missing directory is fine if the first worker can make it. */
static int
check_dir(const char *db, FILE *out)
{
	struct stat	 sb;
	char		 parent[PATH_MAX], me[96], err[1024], *slash;

	if (lstat(db, &sb) == 0) {
		if (shm_trust(db, 1, err, sizeof(err)) == -1)
			return problem(out, "%s", err);
		return 0;
	}
	if (errno != ENOENT)
		return problem(out, "store directory %s: %s", db,
		    strerror(errno));
	snprintf(parent, sizeof(parent), "%s", db);
	if ((slash = strrchr(parent, '/')) != NULL)
		*(slash == parent ? slash + 1 : slash) = '\0';
	if (access(parent, W_OK | X_OK) == -1)
		return problem(out, "store directory %s does not exist, and %s "
		    "cannot make it in %s: %s", db, user_name(geteuid(), me,
		    sizeof(me)), parent, strerror(errno));
	return 0;
}

/* The files a worker opens: each, where it exists, must be trusted too. */
static int
check_files(const char *db, FILE *out)
{
	static const char *const files[] = { "data.mdb", "lock.mdb",
	    SHM_FILE };
	char		 path[PATH_MAX], err[1024];
	size_t		 i;
	int		 n = 0;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", db, files[i]);
		if (access(path, F_OK) == -1 && errno == ENOENT)
			continue;
		if (shm_trust(path, 0, err, sizeof(err)) == -1)
			n += problem(out, "%s", err);
	}
	return n;
}

static int
check_store(const struct conf *c, FILE *out)
{
	struct store_info in;
	enum store_rc	 r;
	char		 err[1024];

	r = store_inspect(c->db, (size_t)c->map_size, &in, err, sizeof(err));
	if (r == STORE_NOTFOUND)
		return 0;		/* the first worker makes it */
	if (r != STORE_OK)
		return problem(out, "%s", err);
	if (in.map_size > 0 && in.used * 100 > in.map_size * CHECK_MAP_FULL_PCT)
		return problem(out, "store %s: %llu of its %llu MiB map in use; "
		    "raise map_size (idmint.conf(5)) before it is full", c->db,
		    (unsigned long long)(in.used >> 20),
		    (unsigned long long)(in.map_size >> 20));
	return 0;
}

static int
check_table(const char *db, FILE *out)
{
	struct shm_hdr	 h;
	char		 path[PATH_MAX], err[1024];
	int		 fd, n = 0;

	snprintf(path, sizeof(path), "%s/%s", db, SHM_FILE);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return errno == ENOENT ? 0 :
		    problem(out, "shared table %s: %s", path, strerror(errno));
	switch (shm_file_state(fd, path, &h, err, sizeof(err))) {
	case SHM_NEWER:
		n += problem(out, "%s", err);
		break;
	case SHM_STALE:			/* made anew by the first worker */
		break;
	case SHM_OK:
		if (TABLE_FULL(h.used[0], h.ncount))
			n += problem(out, "shared table %s: %u of %u count "
			    "cells taken; new counts go to the overflow ring "
			    "and the store (slower)", path, h.used[0], h.ncount);
		if (TABLE_FULL(h.used[1], h.nquota) ||
		    TABLE_FULL(h.used[2], h.nrate))
			n += problem(out, "shared table %s: quota cells %u of "
			    "%u, rate cells %u of %u taken; new keys' limited "
			    "requests get 503", path, h.used[1], h.nquota,
			    h.used[2], h.nrate);
		if (h.lost > 0)
			n += problem(out, "shared table %s: %llu calls could "
			    "not be counted (see the log)", path,
			    (unsigned long long)h.lost);
		break;
	}
	close(fd);
	return n;
}

int
check_setup(const struct conf *c, FILE *out)
{
	int	 n;

	if ((n = check_dir(c->db, out)) > 0)
		return n;
	n += check_files(c->db, out);
	n += check_store(c, out);
	n += check_table(c->db, out);
	return n;
}
