/*
 * spool_room.c - room for deletes when the filesystem or the budget is
 * full.  LMDB writes copy-on-write: a delete needs fresh pages as much as
 * an append does, and a page beyond the last one in use is a new block of
 * the data file.  On a full filesystem that block cannot be had, so the
 * shipper could not delete what the receiver acknowledged and the spool
 * would never drain.  Hence a reserve: data.mdb's blocks are kept
 * allocated (fallocate, KEEP_SIZE) at least spool_reserve() bytes beyond
 * its last page; appends may not eat into it, deletes and dead-letter
 * moves may, and the deletes' freed pages give it back.  The budget keeps
 * the same reserve above max_bytes in the map.  docs/spool-format.md.
 */
#define _GNU_SOURCE /* fallocate, FALLOC_FL_KEEP_SIZE */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RESERVE_MIN (4ull << 20)
#define RESERVE_MAX (64ull << 20)

uint64_t spool_reserve(const spoolship_spool *s)
{
	uint64_t r = s->o.max_bytes / 100;

	if (r < RESERVE_MIN)
		r = RESERVE_MIN;
	return r > RESERVE_MAX ? RESERVE_MAX : r;
}

int spool_room_enough(uint64_t avail, uint64_t need, uint64_t reserve)
{
	return avail >= need && avail - need >= reserve;
}

/* The end of the file as the map may ever reach it: budget + reserve. */
static uint64_t room_cap(const spoolship_spool *s)
{
	uint64_t ps = s->psize;

	return (s->o.max_bytes + spool_reserve(s)) / ps * ps;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Collects the oldest snapshot a reader holds from mdb_reader_list's
 * lines ("pid thread txnid"); a line that does not parse is skipped. */
static int oldest_line(const char *msg, void *ctx)
{
	size_t *oldest = ctx;
	unsigned long tid;
	size_t txnid;
	int pid;

	if (sscanf(msg, "%d %lx %zu", &pid, &tid, &txnid) == 3 &&
	    txnid < *oldest)
		*oldest = txnid;
	return 0;
}

/*
 * Bytes of the pages LMDB may hand out again in this write txn: those of
 * freelist records older than the previous txn and than every reader's
 * snapshot (mdb_page_alloc's rule).  The freelist is read as `mdb_stat
 * -f` does, in a read txn (LMDB refuses a cursor on it in a write txn):
 * each record's value starts with its count of page numbers.
 */
static int free_bytes(spoolship_spool *s, MDB_txn *wtxn, uint64_t *out)
{
	size_t cut = mdb_txn_id(wtxn) - 1, id, n;
	uint64_t pages = 0;
	MDB_txn *rt;
	MDB_cursor *c;
	MDB_val k, d;
	int rc;

	*out = 0;
	mdb_reader_list(s->env, oldest_line, &cut);
	/* The map lock is held already (by the write txn): not again. */
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &rt)) != 0)
		return spool_err(rc);
	if ((rc = mdb_cursor_open(rt, 0, &c)) != 0) {
		mdb_txn_abort(rt);
		return spool_err(rc);
	}
	for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
		if (k.mv_size != sizeof(id) || d.mv_size < sizeof(n))
			continue;
		memcpy(&id, k.mv_data, sizeof(id));
		if (id >= cut)
			break; /* integer keys: the rest are newer */
		memcpy(&n, d.mv_data, sizeof(n));
		pages += n;
	}
	mdb_cursor_close(c);
	mdb_txn_abort(rt);
	*out = pages * s->psize;
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : spool_err(rc);
}

/* Bytes of data.mdb allocated beyond `tail` (st_blocks; a hole below the
 * tail only makes it smaller, i.e. more careful). */
static uint64_t allocated_beyond(int fd, uint64_t tail)
{
	struct stat st;
	uint64_t have;

	if (fstat(fd, &st) != 0)
		return 0;
	have = (uint64_t)st.st_blocks * 512;
	return have > tail ? have - tail : 0;
}

/* fallocate [tail, end) keeping the file size: 0, or -errno. */
static int prealloc(int fd, uint64_t tail, uint64_t end)
{
	if (end <= tail)
		return 0;
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)tail,
		      (off_t)(end - tail)) == 0)
		return 0;
	return -errno;
}

/*
 * Keeps the reserve allocated beyond the last page: up to want (tail +
 * reserve + need), and when it can, a further reserve at once, so that
 * most txns make no syscall.  0 when [tail, want) is allocated; -ENOSPC
 * or -EDQUOT when the filesystem cannot give it; 1 when this filesystem
 * cannot preallocate (then LMDB goes on as without the reserve).
 */
static int keep_allocated(spoolship_spool *s, int fd, uint64_t tail,
			  uint64_t want)
{
	uint64_t more = min64(room_cap(s), want + spool_reserve(s));
	int rc;

	if (want <= s->alloc_end)
		return 0;
	if ((rc = prealloc(fd, tail, more)) == 0) {
		s->alloc_end = more;
		return 0;
	}
	if (rc == -ENOSPC || rc == -EDQUOT)
		rc = prealloc(fd, tail, want);
	if (rc == 0) {
		s->alloc_end = want;
		return 0;
	}
	if (rc == -ENOSPC || rc == -EDQUOT)
		return rc;
	s->no_prealloc = 1; /* EOPNOTSUPP (or odd): as without a reserve */
	return 1;
}

/* Once a delete grew the map into the reserve above the budget, an
 * append may not take the pages of that reserve: it fits only if reused
 * pages, less what the tail already took beyond the budget, cover it. */
static int budget_room(spoolship_spool *s, MDB_txn *txn, uint64_t tail,
		       uint64_t need)
{
	uint64_t end = s->o.max_bytes / s->psize * s->psize, avail, map;
	int rc;

	pthread_mutex_lock(&s->mu);
	map = s->map_size;
	pthread_mutex_unlock(&s->mu);
	if (map <= end || tail + need <= end)
		return 0;
	if ((rc = free_bytes(s, txn, &avail)) != 0)
		return rc;
	/* What deletes may take is avail + the reserve: what the tail took
	 * of the reserve already is owed by the pages reused first. */
	if (tail > end)
		avail = avail > tail - end ? avail - (tail - end) : 0;
	else
		avail += end - tail;
	return spool_room_enough(avail, need, 0) ? 0 : SPOOLSHIP_ESPOOL_FULL;
}

int spool_room(spoolship_spool *s, MDB_txn *txn, int for_delete,
	       uint64_t need)
{
	uint64_t tail, want, avail;
	MDB_envinfo info;
	int fd, rc;

	if (mdb_env_info(s->env, &info) != 0)
		return 0; /* LMDB will tell */
	tail = ((uint64_t)info.me_last_pgno + 1) * s->psize;
	if (!s->no_prealloc && mdb_env_get_fd(s->env, &fd) == 0) {
		want = min64(room_cap(s), tail + spool_reserve(s) + need);
		rc = keep_allocated(s, fd, tail, want);
		if (rc < 0 && !for_delete) {
			/* Short: do the reused pages and what is allocated
			 * still leave the reserve whole? */
			if ((rc = free_bytes(s, txn, &avail)) != 0)
				return rc;
			avail += allocated_beyond(fd, tail);
			if (!spool_room_enough(avail, need,
					       spool_reserve(s)))
				return -ENOSPC;
		}
	}
	return for_delete ? 0 : budget_room(s, txn, tail, need);
}
