/*
 * store.h: the LMDB store of keys, token hashes, usage counts, flush marks
 * and snowflake slot leases.  store.c is the only file that sees lmdb.h.
 *
 * One store per process, opened after fork (an LMDB environment must not
 * cross a fork).  Single-threaded use: the process keeps one read
 * transaction, renewed by store_rd_begin() and reset by store_rd_end(), so
 * the request path takes no lock.  Writers (idmintctl, the usage flusher,
 * slot leases) take LMDB's write lock for one short transaction each, and
 * every commit is durable: the store is never opened with MDB_NOSYNC.
 *
 * Calls return an enum store_rc; after anything but STORE_OK and
 * STORE_NOTFOUND, store_error() says what went wrong, in words a person can
 * act on.  The two calls fixed by the usage interface (/tmp/iface.md)
 * return 0 / -1 with the message in their err argument instead.
 */
#ifndef IDMINT_STORE_H
#define IDMINT_STORE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "token.h"		/* TOKEN_HASH_LEN, TOKEN_STR_LEN */

#define USER_MAX 64		/* usernames: 1..64 of a-z 0-9 . _ - */
#define TYPE_MAX 15		/* "uuid", "nanoid", "snowflake", "encode-hex", ... */
#define LABEL_MAX 256		/* bytes of UTF-8, no control characters */
#define PLAN_NAME_MAX 15	/* "unlimited", "custom", ... */

#define STORE_DIR_DEFAULT "/var/lib/idmint"
#define STORE_MAPSIZE_DEFAULT ((size_t)1 << 30)	/* 1 GiB */

enum store_rc {
	STORE_OK = 0,
	STORE_NOTFOUND,		/* no such key (not an error) */
	STORE_DENIED,		/* auth: unknown user, wrong token or suspended */
	STORE_EXISTS,		/* a key with that name already exists */
	STORE_INVALID,		/* bad username, label, or argument */
	STORE_FULL,		/* MDB_MAP_FULL: the map size is too small */
	STORE_BUSY,		/* no free reader or snowflake slot */
	STORE_CORRUPT,		/* a record we cannot read */
	STORE_ERROR,		/* I/O and everything else */
	STORE__MAX
};

enum key_status {
	KEY_ACTIVE = 0,
	KEY_SUSPENDED = 1
};

struct key {
	char		 user[USER_MAX + 1];	/* lowercased */
	unsigned char	 hash[TOKEN_HASH_LEN];	/* BLAKE2b-256 of the token */
	char		 label[LABEL_MAX + 1];
	char		 plan[PLAN_NAME_MAX + 1];	/* a named plan or "custom" */
	uint32_t	 rate;		/* requests per second, 0 = unlimited */
	uint64_t	 quota;		/* calls per UTC month, 0 = unlimited */
	enum key_status	 status;
	int64_t		 created;	/* Unix seconds */
	int64_t		 rotated;	/* Unix seconds, 0 = never rotated */
};

struct store;
struct plan;

/* ---- opening ---------------------------------------------------------- */

/* The directory to use: opt if set, else $IDMINT_DB, else the default. */
const char	*store_dir(const char *opt);

/*
 * Open (creating if needed: directory 0700, files 0600) the store in dir.
 * mapsize 0 means STORE_MAPSIZE_DEFAULT; a store already larger keeps its
 * size.  Runs mdb_reader_check and opens every sub-database once.
 */
enum store_rc	 store_open(struct store **, const char *dir, size_t mapsize,
		    char *err, size_t errlen);
void		 store_close(struct store *);
const char	*store_error(const struct store *);
const char	*store_path(const struct store *);

/* ---- names ------------------------------------------------------------ */

/*
 * Lowercase and check a username: 1..64 of a-z 0-9 . _ - (upper case is
 * folded).  Returns 0, or -1 with a message naming the first bad
 * character, e.g. `invalid character '!' in username "bo!b"`.
 */
int		 store_user_norm(const char *in, size_t len,
		    char out[USER_MAX + 1], char *err, size_t errlen);
/* A label: at most LABEL_MAX bytes of UTF-8 without control characters. */
int		 store_label_check(const char *, char *err, size_t errlen);
/* The UTC month of t as yyyymm, e.g. 202611. */
uint32_t	 store_month(time_t t);

/* ---- the request path: one reused read transaction -------------------- */

enum store_rc	 store_rd_begin(struct store *);
void		 store_rd_end(struct store *);

/*
 * Lookups see the snapshot of the current read transaction (or, outside
 * store_rd_begin/end, a fresh one of their own).  STORE_OK with *out
 * filled, STORE_NOTFOUND, or an error.  by_user lowercases; an invalid
 * name is simply not found.  by_token hashes the token and looks the hash
 * up in `tokens`.
 */
enum store_rc	 store_key_by_user(struct store *, const char *user,
		    size_t len, struct key *out);
enum store_rc	 store_key_by_token(struct store *, const char *token,
		    size_t len, struct key *out);

/*
 * Authentication as the request path needs it.  STORE_OK with *out filled
 * when the key exists, is active and the token matches; STORE_DENIED for
 * an unknown user, a wrong token or a suspended key, with the same work
 * done in each case (the token is always hashed and compared, against a
 * dummy hash when the user is missing, with sodium_memcmp); or an error.
 * On STORE_DENIED *out is cleared.
 */
enum store_rc	 store_auth_user(struct store *, const char *user, size_t ulen,
		    const char *token, size_t tlen, struct key *out);
enum store_rc	 store_auth_token(struct store *, const char *token,
		    size_t tlen, struct key *out);

/* ---- keys (idmintctl) ------------------------------------------------- */

/*
 * Add a key on plan p (NULL: unlimited) and write its new token, shown
 * this once, to token (TOKEN_STR_LEN + 1 bytes, see token.h).
 * STORE_EXISTS if the name is taken, STORE_INVALID for a bad name/label.
 */
enum store_rc	 store_key_add(struct store *, const char *user,
		    const char *label, const struct plan *p, char *token);
/* New token; the old one stops working in the same transaction. */
enum store_rc	 store_key_rotate(struct store *, const char *user, char *token);
enum store_rc	 store_key_set_status(struct store *, const char *user,
		    enum key_status);
enum store_rc	 store_key_set_plan(struct store *, const char *user,
		    const struct plan *);
/* Removes the key and its token mapping; its usage counts are kept. */
enum store_rc	 store_key_remove(struct store *, const char *user);
/* Every key in name order; a non-zero return from cb stops the walk. */
enum store_rc	 store_key_each(struct store *,
		    int (*cb)(void *, const struct key *), void *arg);

/* ---- usage (the interface with usage.c, see /tmp/iface.md) ------------ */

struct usage_cell {
	char	 user[USER_MAX + 1];
	uint32_t month;			/* yyyymm, UTC, e.g. 202611 */
	char	 type[TYPE_MAX + 1];	/* ID type, or hashids endpoint name */
	uint32_t slot;			/* index of the cell in the shared table */
	uint64_t counter;		/* monotonic count of calls in that cell */
};

/*
 * In ONE LMDB write transaction: for each cell, read the durable mark
 * stored for (generation, slot) (0 if none, or if stored under another
 * generation), add counter - mark to the durable count of
 * (user, month, type), and store mark = counter.  Commit.  Repeating the
 * same call adds nothing; a crash at any point loses nothing.
 * Returns 0, or -1 with a message in err (MDB_MAP_FULL etc.).
 */
int	 store_usage_apply(struct store *, uint64_t generation,
	    const struct usage_cell *, size_t n, char *err, size_t errlen);

/* Durable count of (user, month) over all types, in the current read txn. */
int	 store_usage_month(struct store *, const char *user, uint32_t month,
	    uint64_t *total);

/* ---- usage reports (idmintctl) ---------------------------------------- */

struct usage_count {
	char	 name[USER_MAX + 1];	/* a type, or a username */
	uint64_t month;			/* in the summary's month */
	uint64_t total;			/* all time */
};

struct usage_summary {
	uint32_t		 month;
	uint64_t		 month_total;
	uint64_t		 all_total;
	struct usage_count	*types;		/* by type name */
	size_t			 ntypes;
	struct usage_count	*users;		/* busiest first (month, then
						   all time); only for all keys */
	size_t			 nusers;
};

/* Counts of one user (user != NULL) or of every user, for month and all
 * time, per type; free with store_usage_summary_free. */
enum store_rc	 store_usage_summary(struct store *, const char *user,
		    uint32_t month, struct usage_summary *);
void		 store_usage_summary_free(struct usage_summary *);

/* ---- snowflake slot leases -------------------------------------------- */

/*
 * Take the lowest of the 2^slot_bits slots whose lease is free or whose
 * holder is dead (no such pid, or a pid reused by a younger process: its
 * start time in /proc/PID/stat differs from the one recorded), and record
 * (pid, start time).  A pid that already holds a slot gets it again.
 * Returns 0, or -1 with a message in err when every slot is held by a
 * live process or on a store error.
 */
int	 store_worker_claim(struct store *, unsigned slot_bits, pid_t pid,
	    unsigned *slot, char *err, size_t errlen);
/* Give the slot back, if pid holds it. */
int	 store_worker_release(struct store *, unsigned slot, pid_t pid,
	    char *err, size_t errlen);

#endif
