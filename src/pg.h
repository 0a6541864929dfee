/*
 * pg.h: cluster mode's PostgreSQL side (doc/cluster.md): pg.c (connecting,
 * the schema, notifications), pg_keys.c (keys) and pg_nodes.c (usage,
 * nodes, node-id leases), the only libpq users.  The sync process
 * (sync.c) and idmintctl call them; a worker never does, so no request
 * waits on the network.
 *
 * Every call is bounded in time: connecting and each query give up after
 * the timeout given to pg_open, and a connection that failed or timed
 * out is marked broken (pg_broken), for the caller to close and open
 * again.  Calls return an enum store_rc, as the LMDB store does, with
 * the reason in pg_error() after anything but STORE_OK and
 * STORE_NOTFOUND.
 *
 * Every table lives in the schema `idmint`, created and migrated by
 * pg_schema_init (idmintctl cluster init); PG_SCHEMA_VERSION is what this
 * build reads and writes.
 */
#ifndef IDMINT_PG_H
#define IDMINT_PG_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define PG_SCHEMA_VERSION	1

/* What pg_notes saw. */
#define PG_NOTE_KEYS	0x1	/* a key changed */
#define PG_NOTE_USAGE	0x2	/* another node pushed counts */

struct pg;
struct plan;

/* A node's total of (user, month, type), as the sync process pushes it. */
struct usage_total {
	char	 user[USER_MAX + 1];
	uint32_t month;
	char	 type[TYPE_MAX + 1];
	uint64_t count;
};

/* A node as `idmintctl cluster status` shows it. */
struct node_info {
	char	 name[USER_MAX + 1];
	int	 leased;		/* holds an unexpired node id */
	uint32_t node_id;
	int64_t	 lease_left_ms;		/* until the lease expires */
	int64_t	 seen_ms;		/* since its last sync round */
	uint64_t keys_behind;		/* key changes not yet mirrored */
	int	 live;			/* seen within the live window */
};

/* ---- connecting ------------------------------------------------------- */

/* Connect to conninfo as application `app`.  -1 with the reason in err. */
int		 pg_open(struct pg **, const char *conninfo, const char *app,
		    unsigned timeout_ms, char *err, size_t errlen);
void		 pg_close(struct pg *);
const char	*pg_error(const struct pg *);
/* The connection failed or timed out: close it and open a new one. */
int		 pg_broken(const struct pg *);

/* ---- the schema ------------------------------------------------------- */

/* Create or migrate to PG_SCHEMA_VERSION, in one transaction; *from is
 * the version found (0: none).  A second run changes nothing. */
enum store_rc	 pg_schema_init(struct pg *, int *from);
/* The version in the database, 0 when there is no schema. */
enum store_rc	 pg_schema_version(struct pg *, int *version);

/* ---- pg_keys.c: keys, as store_key_* in store.h, then NOTIFY --------- */

enum store_rc	 pg_key_add(struct pg *, const char *user, const char *label,
		    const struct plan *, int64_t expires,
		    const unsigned char hash[TOKEN_HASH_LEN]);
enum store_rc	 pg_key_rotate(struct pg *, const char *user,
		    const unsigned char hash[TOKEN_HASH_LEN]);
enum store_rc	 pg_key_set_status(struct pg *, const char *user,
		    enum key_status);
enum store_rc	 pg_key_set_plan(struct pg *, const char *user,
		    const struct plan *);
enum store_rc	 pg_key_set_expires(struct pg *, const char *user,
		    int64_t expires);
enum store_rc	 pg_key_remove(struct pg *, const char *user);
/* A key as it is, from a store (idmintctl cluster import). */
enum store_rc	 pg_key_import(struct pg *, const struct key *);
enum store_rc	 pg_key_by_user(struct pg *, const char *user, struct key *);
enum store_rc	 pg_key_each(struct pg *, int (*cb)(void *, const struct key *),
		    void *);
/*
 * For the mirror: every key changed after *version (removed ones too),
 * in the order of the changes; *version moves to the last one seen.
 * Changes commit in version order, so nothing below it is ever missed.
 */
enum store_rc	 pg_key_changes(struct pg *, uint64_t *version,
		    int (*cb)(void *, const struct key_change *), void *);

/* ---- pg_nodes.c: usage ------------------------------------------------ */

/* Push node's totals as absolute values (a total never goes down, so a
 * push repeated or reordered changes nothing), then NOTIFY. */
enum store_rc	 pg_usage_push(struct pg *, const char *node,
		    const struct usage_total *, size_t n);
/*
 * The other nodes' sums for every (user, month >= from_month) whose
 * counts changed after *seq; *seq moves on.  *seq 0: all of them.
 */
enum store_rc	 pg_usage_remote(struct pg *, const char *node,
		    uint32_t from_month, uint64_t *seq,
		    int (*cb)(void *, const struct remote_count *), void *);
/* Every row of user (NULL: of every user), ordered by user, then node. */
enum store_rc	 pg_usage_each(struct pg *, const char *user,
		    int (*cb)(void *, const char *node, const char *user,
		    uint32_t month, const char *type, uint64_t count), void *);

/* ---- pg_nodes.c: nodes and node-id leases ----------------------------- */

/*
 * Join as node with this store's id.  STORE_EXISTS when another store
 * syncs under that name; STORE_INVALID when the cluster mints
 * snowflakes with another node_bits or epoch.  Messages say which.
 */
enum store_rc	 pg_node_join(struct pg *, const char *node,
		    const unsigned char id[STORE_ID_LEN], unsigned node_bits,
		    uint64_t epoch_ms);
/* A sync round done: *live is the nodes seen within live_ms, this one
 * included.  STORE_NOTFOUND when the node is no longer registered. */
enum store_rc	 pg_node_beat(struct pg *, const char *node,
		    uint64_t key_version, uint64_t live_ms, uint32_t *live);
enum store_rc	 pg_node_each(struct pg *, uint64_t live_ms,
		    int (*cb)(void *, const struct node_info *), void *);

/*
 * Keep or take a node id of 2^bits for lease_ms.  *id (in: the id held,
 * -1 for none) is renewed while it has not expired; else the node takes
 * its own last id back if free, or the lowest free one.  minted_until:
 * the latest snowflake time (wall ms) the node may mint under this
 * lease.  When the id is taken anew, *not_before is set to its previous
 * holder's minted_until (0 when that was this node); a renewal leaves it.
 * STORE_OK, or STORE_BUSY with *id -1 when every id is held.
 */
enum store_rc	 pg_lease_take(struct pg *, const char *node, unsigned bits,
		    uint64_t lease_ms, uint64_t minted_until, int *id,
		    uint64_t *not_before);
/* Let the id go now, recording minted_until for the next holder. */
enum store_rc	 pg_lease_release(struct pg *, const char *node, unsigned id,
		    uint64_t minted_until);

/* ---- notifications ---------------------------------------------------- */

enum store_rc	 pg_listen(struct pg *);
/* The socket to wait on for notifications. */
int		 pg_socket(const struct pg *);
/* Read what arrived: PG_NOTE_* bits (counts pushed by node itself are
 * not news), or -1 when the connection is gone. */
int		 pg_notes(struct pg *, const char *node);

#endif
