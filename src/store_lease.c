/*
 * store_lease.c: snowflake slot leases.
 *
 *   workers  slot(u32 BE) -> pid u64, start time u64
 *
 * A lease names its holder by pid and the start time the kernel gives in
 * /proc/PID/stat, so a pid reused by a younger process is no holder.
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

/* The slot to take in txn, or NO_SLOT; *rc for a store error. */
static unsigned
pick_slot(struct store *st, MDB_txn *txn, unsigned nslots, pid_t pid,
    uint64_t start, int *rc)
{
	unsigned char	 kb[4];
	MDB_val		 k = { 4, kb }, v;
	uint64_t	 hpid, hstart;
	unsigned	 i, pick = NO_SLOT;

	for (i = 0; i < nslots; i++) {
		put_be32(kb, i);
		if ((*rc = mdb_get(txn, st->workers, &k, &v)) == MDB_NOTFOUND) {
			*rc = 0;
			if (pick == NO_SLOT)
				pick = i;
			continue;
		}
		if (*rc != 0)
			return NO_SLOT;
		hpid = hstart = 0;
		if (v.mv_size == 16) {
			hpid = get_le(v.mv_data, 8);
			hstart = get_le((const unsigned char *)v.mv_data + 8, 8);
		}
		if (hpid == (uint64_t)pid && hstart == start)
			return i;	/* ours already */
		if (pick == NO_SLOT && !proc_alive((pid_t)hpid, hstart))
			pick = i;
	}
	return pick;
}

enum store_rc
store_lease_claim(struct store *st, unsigned slot_bits, pid_t pid,
    unsigned *slot)
{
	unsigned char	 kb[4], vb[16];
	MDB_val		 k = { 4, kb }, v;
	MDB_txn		*txn;
	uint64_t	 start = 0;
	unsigned	 nslots, pick;
	enum store_rc	 r;
	int		 rc = 0;

	if (slot_bits > SLOT_BITS_MAX) {
		snprintf(st->err, sizeof(st->err), "slot_bits %u is above %d",
		    slot_bits, SLOT_BITS_MAX);
		return STORE_INVALID;
	}
	nslots = 1u << slot_bits;
	proc_starttime(pid, &start);
	if ((rc = store_wr_begin(st, &txn)) != 0)
		return store_fail(st, rc, "claiming a snowflake slot");
	pick = pick_slot(st, txn, nslots, pid, start, &rc);
	if (rc == 0 && pick == NO_SLOT) {
		mdb_txn_abort(txn);
		snprintf(st->err, sizeof(st->err), "all %u snowflake slots of "
		    "the store in %s are held by live processes; stop one, or "
		    "give slots more bits", nslots, st->path);
		return STORE_BUSY;
	}
	if (rc == 0) {
		put_be32(kb, pick);
		put_le(vb, (uint64_t)pid, 8);
		put_le(vb + 8, start, 8);
		v.mv_size = 16;
		v.mv_data = vb;
		rc = mdb_put(txn, st->workers, &k, &v, 0);
	}
	if ((r = store_commit(st, txn, rc, "claiming a snowflake slot")) ==
	    STORE_OK)
		*slot = pick;
	return r;
}

enum store_rc
store_lease_release(struct store *st, unsigned slot, pid_t pid)
{
	unsigned char	 kb[4];
	MDB_val		 k = { 4, kb }, v;
	MDB_txn		*txn;
	int		 rc;

	put_be32(kb, slot);
	if ((rc = store_wr_begin(st, &txn)) != 0)
		return store_fail(st, rc, "releasing a snowflake slot");
	rc = mdb_get(txn, st->workers, &k, &v);
	if (rc == 0 && v.mv_size == 16 &&
	    get_le(v.mv_data, 8) == (uint64_t)pid)
		rc = mdb_del(txn, st->workers, &k, NULL);
	else if (rc == MDB_NOTFOUND || rc == 0)
		rc = 0;
	return store_commit(st, txn, rc, "releasing a snowflake slot");
}

enum store_rc
store_lease_held(struct store *st, unsigned *held)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
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
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		if (v.mv_size == 16 && proc_alive((pid_t)get_le(v.mv_data, 8),
		    get_le((const unsigned char *)v.mv_data + 8, 8)))
			(*held)++;
	mdb_cursor_close(c);
	store_rd_leave(st, own);
	return rc == MDB_NOTFOUND ? STORE_OK :
	    store_fail(st, rc, "listing snowflake slots");
}
