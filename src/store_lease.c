/*
 * store_lease.c: snowflake slot leases.
 *
 *   workers  slot(u32 BE) -> pid u64, start time u64, last ms u64
 *
 * A lease names its holder by pid and the start time the kernel gives in
 * /proc/PID/stat, so a pid reused by a younger process is no holder; a
 * free slot keeps pid 0.  The last millisecond its holders issued a
 * snowflake in stays with the slot, so that after a clock steps back the
 * next holder (a restarted worker, any CGI request) cannot issue an ID an
 * earlier holder issued.  (Leases of 16 bytes, without it, are read as 0.)
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "store_int.h"

#define SLOT_BITS_MAX	16
#define NO_SLOT		(~0u)

struct lease {
	uint64_t	 pid, start, last_ms;
};

static void
lease_read(const MDB_val *v, struct lease *l)
{
	memset(l, 0, sizeof(*l));
	if (v->mv_size != 16 && v->mv_size != 24)
		return;
	l->pid = get_le(v->mv_data, 8);
	l->start = get_le((const unsigned char *)v->mv_data + 8, 8);
	if (v->mv_size == 24)
		l->last_ms = get_le((const unsigned char *)v->mv_data + 16, 8);
}

static int
lease_put(struct store *st, MDB_txn *txn, unsigned slot,
    const struct lease *l)
{
	unsigned char	 kb[4], vb[24];
	MDB_val		 k = { 4, kb }, v = { 24, vb };

	put_be32(kb, slot);
	put_le(vb, l->pid, 8);
	put_le(vb + 8, l->start, 8);
	put_le(vb + 16, l->last_ms, 8);
	return mdb_put(txn, st->workers, &k, &v, 0);
}

/* The slot to take in txn, or NO_SLOT; *rc for a store error. */
static unsigned
pick_slot(struct store *st, MDB_txn *txn, unsigned nslots, pid_t pid,
    uint64_t start, struct lease *got, int *rc)
{
	unsigned char	 kb[4];
	MDB_val		 k = { 4, kb }, v;
	struct lease	 l;
	unsigned	 i, pick = NO_SLOT;

	for (i = 0; i < nslots; i++) {
		put_be32(kb, i);
		if ((*rc = mdb_get(txn, st->workers, &k, &v)) == MDB_NOTFOUND) {
			*rc = 0;
			if (pick == NO_SLOT) {
				pick = i;
				memset(got, 0, sizeof(*got));
			}
			continue;
		}
		if (*rc != 0)
			return NO_SLOT;
		lease_read(&v, &l);
		if (l.pid == (uint64_t)pid && l.start == start) {
			*got = l;
			return i;	/* ours already */
		}
		if (pick == NO_SLOT && (l.pid == 0 ||
		    !proc_alive((pid_t)l.pid, l.start))) {
			pick = i;
			*got = l;
		}
	}
	return pick;
}

enum store_rc
store_lease_claim(struct store *st, unsigned slot_bits, pid_t pid,
    unsigned *slot, uint64_t *last_ms)
{
	MDB_txn		*txn;
	struct lease	 l;
	uint64_t	 start = 0;
	unsigned	 nslots, pick;
	enum store_rc	 r;
	int		 rc = 0;

	*last_ms = 0;
	if (slot_bits > SLOT_BITS_MAX) {
		snprintf(st->err, sizeof(st->err), "slot_bits %u is above %d",
		    slot_bits, SLOT_BITS_MAX);
		return STORE_INVALID;
	}
	nslots = 1u << slot_bits;
	proc_starttime(pid, &start);
	if ((rc = store_wr_begin(st, &txn)) != 0)
		return store_fail(st, rc, "claiming a snowflake slot");
	pick = pick_slot(st, txn, nslots, pid, start, &l, &rc);
	if (rc == 0 && pick == NO_SLOT) {
		mdb_txn_abort(txn);
		snprintf(st->err, sizeof(st->err), "all %u snowflake slots of "
		    "the store in %s are held by live processes; stop one, or "
		    "give slots more bits", nslots, st->path);
		return STORE_BUSY;
	}
	if (rc == 0) {
		l.pid = (uint64_t)pid;
		l.start = start;
		rc = lease_put(st, txn, pick, &l);
	}
	if ((r = store_commit(st, txn, rc, "claiming a snowflake slot")) ==
	    STORE_OK) {
		*slot = pick;
		*last_ms = l.last_ms;
	}
	return r;
}

/* Read-modify-write of the lease of slot, if pid holds it. */
static enum store_rc
lease_update(struct store *st, unsigned slot, pid_t pid, uint64_t last_ms,
    int release, const char *what)
{
	unsigned char	 kb[4];
	MDB_val		 k = { 4, kb }, v;
	MDB_txn		*txn;
	struct lease	 l;
	int		 rc;

	put_be32(kb, slot);
	if ((rc = store_wr_begin(st, &txn)) != 0)
		return store_fail(st, rc, what);
	rc = mdb_get(txn, st->workers, &k, &v);
	if (rc == 0) {
		lease_read(&v, &l);
		if (l.pid == (uint64_t)pid) {
			if (last_ms > l.last_ms)
				l.last_ms = last_ms;
			if (release)
				l.pid = l.start = 0;
			rc = lease_put(st, txn, slot, &l);
		}
	} else if (rc == MDB_NOTFOUND)
		rc = 0;
	return store_commit(st, txn, rc, what);
}

enum store_rc
store_lease_record(struct store *st, unsigned slot, pid_t pid,
    uint64_t last_ms)
{
	return lease_update(st, slot, pid, last_ms, 0,
	    "recording a snowflake slot's last millisecond");
}

enum store_rc
store_lease_release(struct store *st, unsigned slot, pid_t pid,
    uint64_t last_ms)
{
	return lease_update(st, slot, pid, last_ms, 1,
	    "releasing a snowflake slot");
}

enum store_rc
store_lease_held(struct store *st, unsigned *held)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	struct lease	 l;
	enum store_rc	 r;
	int		 own, rc;

	*held = 0;
	if ((r = store_rd_enter(st, &own)) != STORE_OK)
		return r;
	if ((rc = mdb_cursor_open(st->rtxn, st->workers, &c)) != 0) {
		store_rd_leave(st, own);
		return store_fail(st, rc, "listing snowflake slots");
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		lease_read(&v, &l);
		if (l.pid != 0 && proc_alive((pid_t)l.pid, l.start))
			(*held)++;
	}
	mdb_cursor_close(c);
	store_rd_leave(st, own);
	return rc == MDB_NOTFOUND ? STORE_OK :
	    store_fail(st, rc, "listing snowflake slots");
}
