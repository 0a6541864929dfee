/*
 * sync.c: a node's sync process, `idmint --sync`: the one process of a
 * node that talks to PostgreSQL, so that no worker ever does.
 *
 * Every sync_ms (a round), and at once on a notification:
 *   keys    changes after the last version seen, into the store's keys
 *           and tokens (in full after each connect);
 *   usage   the shared table flushed, then every total that moved since
 *           the last push, as absolute values;
 *   remote  the other nodes' sums of the (user, month) pairs that moved;
 *   beat    seen now; how many nodes are live; the node-id lease kept
 *           or taken; all of it written to the store for the workers.
 *
 * PostgreSQL down: the workers go on with what the store holds; the
 * lease's fence (its end minus a margin, on the monotonic clock) stops
 * their snowflakes before anyone else may take the id.  Reconnecting
 * backs off from 100 ms to 2 s.  The log gets one line per change of
 * state (connected, down, schema missing, lease taken or lost), never
 * one per retry.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "pg.h"
#include "sync.h"
#include "usage.h"

#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	2000
#define RELEASE_SLACK_MS 1000	/* requests in flight at a release */

enum link { LINK_START, LINK_UP, LINK_DOWN, LINK_NO_SCHEMA };

struct vec {
	void	*a;
	size_t	 n, cap, size;
};

struct sync {
	const struct conf *c;
	struct store	*st;
	struct usage	*u;
	struct pg	*pg;
	unsigned char	 store_id[STORE_ID_LEN];
	char		 app[USER_MAX + 16];
	enum link	 link;
	int		 fatal;
	uint64_t	 backoff_ms, retry_at;	/* monotonic ms */
	uint64_t	 key_version;
	int		 keys_full;
	uint64_t	 usage_seq;
	struct vec	 pushed;		/* usage_total, as last pushed */
	struct cluster_state cs;
	int		 lease;			/* node id held, -1: none */
	int		 lease_said;		/* "no free id" logged */
	uint64_t	 not_before;
};

static volatile sig_atomic_t stop;

static void
on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
mono_ms(void)
{
	return clock_mono_ns() / NS_PER_MS;
}

/* ---- growable arrays -------------------------------------------------- */

static void *
vec_push(struct vec *v)
{
	void	*p;

	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 64;
		if ((p = reallocarray(v->a, v->cap, v->size)) == NULL)
			return NULL;
		v->a = p;
	}
	return (char *)v->a + v->n++ * v->size;
}

static int
vec_add(void *arg, const void *item)
{
	struct vec	*v = arg;
	void		*p;

	if ((p = vec_push(v)) == NULL)
		return -1;
	memcpy(p, item, v->size);
	return 0;
}

static void
vec_free(struct vec *v)
{
	free(v->a);
	v->a = NULL;
	v->n = v->cap = 0;
}

static int
add_key(void *arg, const struct key_change *c)
{
	return vec_add(arg, c);
}

static int
add_remote(void *arg, const struct remote_count *c)
{
	return vec_add(arg, c);
}

static int
add_total(void *arg, const char *user, uint32_t month, const char *type,
    uint64_t count)
{
	struct usage_total	 t;

	memset(&t, 0, sizeof(t));
	snprintf(t.user, sizeof(t.user), "%s", user);
	snprintf(t.type, sizeof(t.type), "%s", type);
	t.month = month;
	t.count = count;
	return vec_add(arg, &t);
}

/* ---- state changes, said once ----------------------------------------- */

static void
link_to(struct sync *s, enum link to, const char *why)
{
	if (s->link == to)
		return;
	switch (to) {
	case LINK_UP:
		log_info("connected to PostgreSQL as node \"%s\"",
		    s->c->node_name);
		break;
	case LINK_DOWN:
		log_warn("%s; serving on with what the store holds, "
		    "retrying", why);
		break;
	case LINK_NO_SCHEMA:
		log_err("%s", why);
		break;
	case LINK_START:
		break;
	}
	s->link = to;
}

/* ---- one round -------------------------------------------------------- */

static int
keys_round(struct sync *s)
{
	struct vec	 v = { NULL, 0, 0, sizeof(struct key_change) };
	uint64_t	 ver = s->keys_full ? 0 : s->key_version;
	enum store_rc	 r;

	if ((r = pg_key_changes(s->pg, &ver, add_key, &v)) != STORE_OK) {
		vec_free(&v);
		return -1;
	}
	if (store_cluster_keys(s->st, v.a, v.n, s->keys_full) != STORE_OK) {
		log_err("%s", store_error(s->st));
		vec_free(&v);
		return 0;		/* the next round tries again */
	}
	if (s->keys_full)
		log_info("mirrored every key, up to version %llu",
		    (unsigned long long)ver);
	s->keys_full = 0;
	s->key_version = ver;
	vec_free(&v);
	return 0;
}

static int
total_cmp(const struct usage_total *a, const struct usage_total *b)
{
	int	 c;

	if ((c = strcmp(a->user, b->user)) != 0)
		return c;
	if (a->month != b->month)
		return a->month < b->month ? -1 : 1;
	return strcmp(a->type, b->type);
}

/* The rows of cur (sorted as the store walks them) not as last pushed. */
static void
changed(const struct vec *old, const struct vec *cur, struct vec *out)
{
	const struct usage_total *o = old->a, *c = cur->a;
	size_t	 i = 0, j;
	int	 d = 1;

	for (j = 0; j < cur->n; j++) {
		while (i < old->n && (d = total_cmp(&o[i], &c[j])) < 0)
			i++;
		if (i >= old->n || d != 0 || o[i].count != c[j].count)
			vec_add(out, &c[j]);
	}
}

static int
usage_round(struct sync *s)
{
	struct vec	 cur = { NULL, 0, 0, sizeof(struct usage_total) };
	struct vec	 diff = { NULL, 0, 0, sizeof(struct usage_total) };
	int		 rc = 0;

	if (usage_flush(s->u, s->st) == -1)
		log_err("usage flush: %s", usage_error(s->u));
	if (store_usage_each(s->st, NULL, add_total, &cur) != STORE_OK) {
		log_err("%s", store_error(s->st));
		vec_free(&cur);
		return 0;
	}
	changed(&s->pushed, &cur, &diff);
	if (diff.n > 0 && pg_usage_push(s->pg, s->c->node_name, diff.a,
	    diff.n) != STORE_OK)
		rc = -1;
	if (rc == 0) {
		vec_free(&s->pushed);
		s->pushed = cur;
	} else
		vec_free(&cur);
	vec_free(&diff);
	return rc;
}

static int
remote_round(struct sync *s)
{
	struct vec	 v = { NULL, 0, 0, sizeof(struct remote_count) };
	uint64_t	 seq = s->usage_seq;
	uint32_t	 from = month_before(month_of(now_ms()));

	if (pg_usage_remote(s->pg, s->c->node_name, from, &seq, add_remote,
	    &v) != STORE_OK) {
		vec_free(&v);
		return -1;
	}
	if (store_cluster_set_remote(s->st, v.a, v.n) != STORE_OK)
		log_err("%s", store_error(s->st));
	else
		s->usage_seq = seq;
	vec_free(&v);
	return 0;
}

/* Keep or take the node-id lease; into s->cs for the workers. */
static int
lease_round(struct sync *s)
{
	const struct conf *c = s->c;
	uint64_t	 margin = c->lease_ms / 4, t_mono = mono_ms();
	uint64_t	 nb = s->not_before, until = now_ms() + c->lease_ms -
			     margin;
	int		 id = s->lease, was = s->lease;
	enum store_rc	 r;

	r = pg_lease_take(s->pg, c->node_name, (unsigned)c->node_bits,
	    c->lease_ms, until, &id, &nb);
	if (r != STORE_OK && r != STORE_BUSY)
		return -1;
	if (r == STORE_BUSY) {
		if (was >= 0 || !s->lease_said)
			log_warn("%s: no snowflakes on this node until one is "
			    "free", pg_error(s->pg));
		s->lease_said = 1;
		s->lease = -1;
		s->cs.leased = 0;
		return 0;
	}
	/* Taken anew (even our own id back, maybe held by another node
	 * meanwhile): its last holder's time; renewed: unchanged. */
	s->not_before = nb;
	if (id != was)
		log_info("snowflake node id %d leased%s", id, was >= 0 ?
		    " (the last one had expired)" : "");
	s->lease = id;
	s->lease_said = 0;
	s->cs.leased = 1;
	s->cs.node_id = (uint32_t)id;
	s->cs.fence_ms = t_mono + c->lease_ms - margin;
	s->cs.not_before_ms = s->not_before;
	return 0;
}

static int
beat_round(struct sync *s)
{
	uint32_t	 live;
	enum store_rc	 r;

	r = pg_node_beat(s->pg, s->c->node_name, s->key_version,
	    s->c->lease_ms, &live);
	if (r == STORE_NOTFOUND) {
		/* Forgotten by the cluster: join again, in full. */
		if (pg_node_join(s->pg, s->c->node_name, s->store_id,
		    (unsigned)s->c->node_bits, s->c->snowflake_epoch) !=
		    STORE_OK)
			return -1;
		live = s->cs.nodes;
	} else if (r != STORE_OK)
		return -1;
	if (live != s->cs.nodes && s->cs.nodes != 0)
		log_info("%u live nodes", live);
	s->cs.nodes = live;
	if (lease_round(s) == -1)
		return -1;
	s->cs.synced_ms = now_ms();
	if (store_cluster_set_state(s->st, &s->cs) != STORE_OK)
		log_err("%s", store_error(s->st));
	return 0;
}

#define R_KEYS		0x1
#define R_REMOTE	0x2
#define R_ALL		0xff

static int
round_run(struct sync *s, int what)
{
	if ((what & R_KEYS) && keys_round(s) == -1)
		return -1;
	if (what == R_ALL && usage_round(s) == -1)
		return -1;
	if ((what & R_REMOTE) && remote_round(s) == -1)
		return -1;
	if (what == R_ALL && beat_round(s) == -1)
		return -1;
	return 0;
}

/* ---- connecting ------------------------------------------------------- */

static void
drop(struct sync *s)
{
	char	 why[600];

	snprintf(why, sizeof(why), "%s", s->pg != NULL ? pg_error(s->pg) :
	    "PostgreSQL: not connected");
	pg_close(s->pg);
	s->pg = NULL;
	link_to(s, LINK_DOWN, why);
	s->retry_at = mono_ms() + s->backoff_ms;
	s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    s->backoff_ms * 2;
}

static unsigned
timeout_ms(const struct conf *c)
{
	uint64_t	 t = c->lease_ms / 4;

	return (unsigned)(t < 1000 ? 1000 : t > 5000 ? 5000 : t);
}

static void
connect_round(struct sync *s)
{
	char		 err[600];
	int		 v;
	enum store_rc	 r;

	if (pg_open(&s->pg, s->c->cluster, s->app, timeout_ms(s->c), err,
	    sizeof(err)) == -1) {
		link_to(s, LINK_DOWN, err);
		s->pg = NULL;
		drop(s);
		return;
	}
	if (pg_schema_version(s->pg, &v) != STORE_OK)
		goto fail;
	if (v != PG_SCHEMA_VERSION) {
		snprintf(err, sizeof(err), "the cluster's schema is at version "
		    "%d, this idmint needs %d: run idmintctl cluster init", v,
		    PG_SCHEMA_VERSION);
		link_to(s, LINK_NO_SCHEMA, err);
		pg_close(s->pg);
		s->pg = NULL;
		s->retry_at = mono_ms() + BACKOFF_MAX_MS;
		return;
	}
	r = pg_node_join(s->pg, s->c->node_name, s->store_id,
	    (unsigned)s->c->node_bits, s->c->snowflake_epoch);
	if (r == STORE_EXISTS || r == STORE_INVALID) {
		log_err("%s", pg_error(s->pg));
		s->fatal = 1;
		return;
	}
	if (r != STORE_OK || pg_listen(s->pg) != STORE_OK)
		goto fail;
	/* Anything may have changed meanwhile: everything again. */
	s->keys_full = 1;
	s->usage_seq = 0;
	vec_free(&s->pushed);
	if (round_run(s, R_ALL) == -1)
		goto fail;
	link_to(s, LINK_UP, NULL);
	s->backoff_ms = BACKOFF_MIN_MS;
	return;
fail:
	drop(s);
}

/* ---- the loop --------------------------------------------------------- */

static int
signals(sigset_t *waitmask)
{
	struct sigaction sa;
	sigset_t	 block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	/* Taken only while waiting (ppoll), never mid-query. */
	if (sigprocmask(SIG_BLOCK, &block, waitmask) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGUSR1, &sa, NULL) == -1)
		return -1;
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGUSR1);
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

/* Wait for a notification or the next round; what to run then. */
static int
wait_next(struct sync *s, uint64_t next, const sigset_t *mask)
{
	struct pollfd	 pfd;
	struct timespec	 ts;
	uint64_t	 now = mono_ms(), left = next > now ? next - now : 0;
	int		 n, notes;

	ts.tv_sec = (time_t)(left / 1000);
	ts.tv_nsec = (long)(left % 1000) * 1000000;
	pfd.fd = s->pg != NULL ? pg_socket(s->pg) : -1;
	pfd.events = POLLIN;
	n = ppoll(&pfd, 1, &ts, mask);
	if (n <= 0 || s->pg == NULL)
		return 0;
	if ((notes = pg_notes(s->pg, s->c->node_name)) == -1)
		return -1;
	return ((notes & PG_NOTE_KEYS) ? R_KEYS : 0) |
	    ((notes & PG_NOTE_USAGE) ? R_REMOTE : 0);
}

static void
sync_loop(struct sync *s, const sigset_t *mask)
{
	uint64_t	 next = 0, now;
	int		 what;

	while (!stop && !s->fatal) {
		now = mono_ms();
		if (s->pg == NULL && now >= s->retry_at) {
			connect_round(s);
			next = mono_ms() + s->c->sync_ms;
		} else if (s->pg != NULL && now >= next) {
			if (round_run(s, R_ALL) == -1)
				drop(s);
			next = now + s->c->sync_ms;
		}
		if (stop || s->fatal)
			break;
		what = wait_next(s, s->pg != NULL ? next : s->retry_at, mask);
		if (what == -1 || (what > 0 && round_run(s, what) == -1))
			drop(s);
	}
}

/* Stopping: the last counts out, and the lease given back, the workers
 * told first so that none mints under an id another node may take. */
static void
sync_stop(struct sync *s)
{
	if (s->lease >= 0) {
		s->cs.leased = 0;
		if (store_cluster_set_state(s->st, &s->cs) != STORE_OK)
			log_err("%s", store_error(s->st));
	}
	if (s->pg != NULL && usage_round(s) == -1)
		log_warn("last push: %s", pg_error(s->pg));
	if (s->pg != NULL && s->lease >= 0 && pg_lease_release(s->pg,
	    s->c->node_name, (unsigned)s->lease, now_ms() +
	    RELEASE_SLACK_MS) != STORE_OK)
		log_warn("releasing the node id: %s", pg_error(s->pg));
}

static int
sync_open(struct sync *s, const struct conf *c)
{
	struct shm_sizes sz;
	char	 err[512];

	memset(s, 0, sizeof(*s));
	s->c = c;
	s->lease = -1;
	s->backoff_ms = BACKOFF_MIN_MS;
	s->pushed.size = sizeof(struct usage_total);
	s->keys_full = 1;
	snprintf(s->app, sizeof(s->app), "idmint-sync %s", c->node_name);
	if (store_open(&s->st, c->db, (size_t)c->map_size, err,
	    sizeof(err)) != STORE_OK) {
		log_err("%s", err);
		return -1;
	}
	conf_sizes(c, &sz);
	if (usage_open(c->db, &sz, &s->u, err, sizeof(err)) == -1) {
		log_err("%s", err);
		return -1;
	}
	usage_set_flush_ms(s->u, c->flush_ms);
	if (store_cluster_bind(s->st, c->node_name, s->store_id) !=
	    STORE_OK) {
		log_err("%s", store_error(s->st));
		return -1;
	}
	/* What an earlier run left: the workers keep it until we know more. */
	(void)store_cluster_state(s->st, &s->cs);
	s->cs.leased = 0;
	return 0;
}

int
sync_main(const struct conf *c)
{
	struct sync	 s;
	sigset_t	 mask;
	int		 rc = 1;

	if (signals(&mask) == -1) {
		log_err("sigaction: %s", strerror(errno));
		return 1;
	}
	if (sync_open(&s, c) == 0) {
		log_info("syncing node \"%s\" every %llu ms", c->node_name,
		    (unsigned long long)c->sync_ms);
		sync_loop(&s, &mask);
		if (!s.fatal) {
			sync_stop(&s);
			rc = 0;
		}
	}
	pg_close(s.pg);
	vec_free(&s.pushed);
	if (s.u != NULL)
		usage_close(s.u);
	store_close(s.st);
	log_info("stopping");
	return rc;
}
