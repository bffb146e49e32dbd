/*
 * spool.h - the spool's private interface: what the append path, the
 * shipper, the CLI and the tests use beyond the public header.  All of it
 * works on one LMDB environment laid out as docs/spool-format.md says.
 */
#ifndef SPOOLSHIP_SPOOL_H
#define SPOOLSHIP_SPOOL_H

#include <lmdb.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "spoolship.h"

struct spoolship_spool {
	MDB_env *env;
	MDB_dbi events, streams, meta, dead;
	struct spoolship_options o;
	char *dir;
	char *realdir;               /* dir resolved, to find the map */
	/* Held shared by every txn of this process, exclusively to resize
	 * the map (LMDB forbids a resize while a txn is open). */
	pthread_rwlock_t maplock;
	pthread_mutex_t mu;          /* guards the fields below */
	uint64_t map_size;
	uint64_t rejected_unsaved;   /* rejections not yet in meta */
	/* SYNC_BATCH: a thread syncs when dirty, every sync_interval_ms. */
	pthread_t syncer;
	pthread_cond_t sync_cv;
	int syncer_running, stopping, dirty;
	int sync_err;
	/* DIR/spool.lock, held LOCK_SH from before the environment is
	 * opened until after it is closed; `compact` takes it LOCK_EX to
	 * swap the data file (spool_compact.c).  -1: none (a read-only
	 * view of a directory it may not write to). */
	int lockfd;
	/* Encryption at rest (spool_seal.c; loaded and checked at open in
	 * spool.c): the sealer of o.key_file, or NULL; encrypted: the
	 * spool holds a key fingerprint. */
	struct sealer *sealer;
	int encrypted;
	/* The room reserved for deletes (spool_room.c).  alloc_end: data.mdb
	 * is known allocated up to here (touched in write txns only, which
	 * LMDB serialises); no_prealloc: the filesystem cannot fallocate. */
	unsigned psize;
	uint64_t alloc_end;
	int no_prealloc;
	int full_why; /* SPOOL_FULL_*: the last ESPOOL_FULL's limit (mu) */
};
#define SPOOL_FULL_BUDGET 1
#define SPOOL_FULL_FS 2

/* One stream's row in the `streams` database. */
struct stream_row {
	uint32_t id;
	uint64_t next_seq;
	uint64_t pending_events;
	uint64_t pending_bytes;
};
#define STREAM_ROW_LEN 28

/* Maps an LMDB or errno code to a spoolship code (see spoolship.h). */
int spool_err(int mdb_rc);
/* Like spool_err, but passes codes that are spoolship's already (library
 * codes and -errno) through unchanged: for results of mixed origin. */
int spool_norm(int rc);

/* Transactions: begin takes the map lock shared and adopts a map grown by
 * another process; end (commit or abort) releases it. */
int spool_txn_begin(spoolship_spool *s, int rdonly, MDB_txn **txn);
int spool_txn_commit(spoolship_spool *s, MDB_txn *txn);
void spool_txn_abort(spoolship_spool *s, MDB_txn *txn);
/* After a MDB_MAP_FULL: grow the map towards the budget (for_delete: up
 * to the budget plus a small reserve, since even a delete needs a few
 * fresh pages in a copy-on-write tree).  Returns 0 when it grew (or
 * another process had grown it), SPOOLSHIP_ESPOOL_FULL at the limit. */
int spool_grow(spoolship_spool *s, int for_delete);
/* The acceptance window (o.max_age_ms) appends check, and its change by
 * a reload of `run` (so that the ingest endpoint refuses what the
 * shipper would expire): both thread-safe, under mu. */
int64_t spool_max_age(spoolship_spool *s);
void spool_set_max_age(spoolship_spool *s, int64_t ms);
/* The validation options of an append now: this window, fill_time, the
 * per-event limit, the wall clock.  One place for every door (library,
 * producer, ingest). */
struct validate_opts;
void spool_validate_opts(spoolship_spool *s, struct validate_opts *vo);
/* 1 when the spool's filesystem has less than need bytes (plus 1 MiB)
 * free for unprivileged writes. */
int spool_fs_low(const spoolship_spool *s, uint64_t need);
/* The room kept for deletes and dead-letter moves (spool_room.c): above
 * the budget in the map, and allocated beyond data.mdb's last page on the
 * filesystem.  max(4 MiB, 1% of the budget), at most 64 MiB. */
uint64_t spool_reserve(const spoolship_spool *s);
/* 1 when avail bytes hold need and still leave reserve. */
int spool_room_enough(uint64_t avail, uint64_t need, uint64_t reserve);
/* In a write txn, before it writes: keeps the reserve allocated beyond
 * the last page.  Returns 0 when the txn may go on, -ENOSPC when an
 * append (not for_delete) of about need bytes would have to eat into the
 * filesystem's reserve, SPOOLSHIP_ESPOOL_FULL when it would take the
 * budget's reserve, or an error.  A delete always may go on. */
int spool_room(spoolship_spool *s, MDB_txn *txn, int for_delete,
	       uint64_t need);
/* Runs fn in a write txn and commits it.  On MDB_MAP_FULL (from fn or the
 * commit) the txn is aborted, the map grown and fn run again, so fn must
 * be re-runnable.  Returns fn's error, or SPOOLSHIP_ESPOOL_FULL once the
 * map cannot grow further or the filesystem is full (spool_full_limit
 * says which).  Only for_delete txns may use the reserve; need (at least
 * 64 KiB) is what the txn is expected to add. */
typedef int spool_txn_fn(spoolship_spool *s, MDB_txn *txn, void *arg);
int spool_write(spoolship_spool *s, int for_delete, spool_txn_fn *fn,
		void *arg);
int spool_write_need(spoolship_spool *s, int for_delete, uint64_t need,
		     spool_txn_fn *fn, void *arg);
/* What an append of `bytes` of records (keys and headers included) is
 * taken to need: twice that, for the tree's own pages, and 64 KiB. */
static inline uint64_t spool_need_of(uint64_t bytes)
{
	return bytes * 2 + 65536;
}
/* Which limit refused the last ESPOOL_FULL of this handle: "filesystem"
 * or "budget". */
const char *spool_full_limit(spoolship_spool *s);
/* Drops this process's mapping of the data file's pages (they stay in
 * the page cache): a reader that walks a large backlog through the map
 * would otherwise keep every page it touched resident, so its RSS would
 * grow with the backlog.  Safe at any time; a later read faults the page
 * back in. */
void spool_release_pages(spoolship_spool *s);
/* Note a commit for the SYNC_BATCH syncer. */
void spool_note_commit(spoolship_spool *s);

/* meta counters: read one (0 when absent), add to one inside a txn. */
int meta_get(spoolship_spool *s, MDB_txn *txn, const char *key,
	     uint64_t *v);
int meta_add(spoolship_spool *s, MDB_txn *txn, const char *key, uint64_t d);
int meta_set(spoolship_spool *s, MDB_txn *txn, const char *key, uint64_t v);

#define META_VERSION "format_version"
#define META_CREATED "created_ms"
#define META_APPENDED "appended_total"
#define META_SHIPPED "shipped_total"
#define META_EXPIRED "expired_total"
#define META_DEAD "dead_total"
#define META_REJECTED "rejected_total"
#define META_DROPPED "dropped_total"
#define META_FULL_HITS "full_hits"
#define META_NEXT_STREAM "next_stream_id"
#define META_NEXT_DEAD "next_dead_seq"

/* ---- encryption at rest (spool_seal.c) ------------------------------- */

/* The key is loaded and checked against the spool's fingerprint at open
 * (spool.c); these use the handle's sealer. */
/* Size of a record holding an event of len bytes, as this handle writes
 * it (sealed when it has a key). */
size_t spool_record_size(const spoolship_spool *s, size_t len);
/* Encodes a record into out (spool_record_size() bytes), sealing the
 * event when the handle has a key.  Returns 0 or SPOOLSHIP_EKEY. */
int spool_record_write(spoolship_spool *s, unsigned char *out,
		       int64_t event_ms, int64_t append_ms, const char *data,
		       size_t len);
/* Copies r's event into out (r->len bytes), opening it when sealed.
 * Returns 0, SPOOLSHIP_ECORRUPT (tag mismatch: tampered) or
 * SPOOLSHIP_EKEYNEEDED (sealed and the handle has no key). */
int spool_payload(spoolship_spool *s, const struct record *r, void *out);
/* A buffer for opened events; zero it, free with spool_plain_free()
 * (which wipes it). */
struct spool_plain {
	char *buf;
	size_t cap;
};
/* When r is sealed: opens it into p and points r at the plaintext (flags
 * cleared); a record in the clear is left alone.  Errors as
 * spool_payload(). */
int spool_unseal(spoolship_spool *s, struct record *r, struct spool_plain *p);
void spool_plain_free(struct spool_plain *p);

/* Streams.  Names are checked with spoolship_table_name_ok(). */
int stream_get(spoolship_spool *s, MDB_txn *txn, const char *name,
	       struct stream_row *row);
int stream_put(spoolship_spool *s, MDB_txn *txn, const char *name,
	       const struct stream_row *row);
/* Looks a stream up by name, creating it (write txn) when absent. */
int stream_get_or_create(spoolship_spool *s, MDB_txn *txn, const char *name,
			 struct stream_row *row);
/* Calls fn with each key/value pair of dbi in txn, in key order; fn
 * returning non-zero stops the walk and becomes the result.  Returns 0,
 * fn's result or the cursor's error.  The one cursor walk of a whole
 * database (stream_each, verify, salvage's tallies). */
typedef int spool_kv_fn(void *arg, const MDB_val *k, const MDB_val *d);
int spool_db_each(MDB_txn *txn, MDB_dbi dbi, spool_kv_fn *fn, void *arg);
/* Calls fn with each stream's name and row, in name order, in txn; fn
 * returning non-zero stops the walk and becomes the result.  A row that
 * cannot be a stream's (a name longer than SPOOLSHIP_MAX_TABLE_LEN, a
 * value not STREAM_ROW_LEN bytes) is passed over (STREAM_EACH_SKIP:
 * verify names it) or fails the walk with SPOOLSHIP_ECORRUPT
 * (STREAM_EACH_STRICT). */
#define STREAM_EACH_SKIP 0
#define STREAM_EACH_STRICT 1
typedef int stream_each_fn(void *arg, const char *name,
			   const struct stream_row *row);
int stream_each(spoolship_spool *s, MDB_txn *txn, int strict,
		stream_each_fn *fn, void *arg);
/* One stream as a list of them has it. */
struct spool_stream {
	char name[SPOOLSHIP_MAX_TABLE_LEN + 1];
	uint32_t id;
	uint64_t next_seq;
	uint64_t pending_events;
	uint64_t pending_bytes;
};
/* The streams in txn, in name order (stream_each's strict or not): *rows
 * (the caller frees it; NULL when there is none or on error) gets *n. */
int stream_list(spoolship_spool *s, MDB_txn *txn, int strict,
		struct spool_stream **rows, size_t *n);
/* The same in a read txn of its own, strict (a damaged row fails it, as
 * it fails spoolship_spool_stats()): the stream table alone, for the
 * shipper, which lists streams and asks whether anything is pending,
 * without the counters, heads and environment info of the stats. */
int spool_streams(spoolship_spool *s, struct spool_stream **rows, size_t *n);
/* What a walk over the events counts per stream (verify, salvage). */
struct stream_tally {
	uint32_t id;
	uint64_t events, bytes, max_seq;
};
struct stream_tallies {
	struct stream_tally *v;
	size_t n, cap;
};
/* The tally of stream id, added (zero) when new; NULL when out of
 * memory.  Looked for from the last one added: a walk in key order meets
 * one stream's events together. */
struct stream_tally *stream_tally_of(struct stream_tallies *t, uint32_t id);
/* Finds the name of stream id; name holds SPOOLSHIP_MAX_TABLE_LEN + 1. */
int stream_name_of(spoolship_spool *s, MDB_txn *txn, uint32_t id,
		   char *name);
/* Adjusts a stream's pending counters by id (after deletes). */
int stream_sub_pending(spoolship_spool *s, MDB_txn *txn, uint32_t id,
		       uint64_t events, uint64_t bytes);

/* ---- reader primitives for the shipper -------------------------------- */

struct spool_rec {
	uint64_t seq;
	int64_t event_ms;
	int64_t append_ms;
	size_t off;  /* offset of the event in the batch body */
	size_t len;
};

/* A batch read out of the spool.  The caller owns it: zero it once, reuse
 * it across calls, release its buffers with spool_batch_free(). */
struct spool_batch {
	uint32_t stream;
	size_t n;
	struct spool_rec *recs;
	size_t recs_cap;
	char *body;       /* the events joined by '\n' (no trailing one) */
	size_t body_len;
	size_t body_cap;
	uint64_t corrupt_seq; /* set when spool_batch_next returns ECORRUPT */
};

/*
 * Reads the next batch of stream `stream` after sequence after_seq
 * (0 = from the start): at most max_events events whose body (events joined
 * by '\n') is at most max_bytes.  An event alone larger than max_bytes is
 * returned as a batch of one.  b->n == 0 when nothing is pending.  A record
 * that fails its check ends the batch before it; when it is the first,
 * returns SPOOLSHIP_ECORRUPT with b->corrupt_seq set so the caller can
 * dead-letter it (spool_dead_move with DEAD_CORRUPT).
 */
int spool_batch_next(spoolship_spool *s, uint32_t stream, uint64_t after_seq,
		     size_t max_events, size_t max_bytes,
		     struct spool_batch *b);
void spool_batch_free(struct spool_batch *b);

struct spool_range {
	uint32_t stream;
	uint64_t first_seq;
	uint64_t last_seq;
};

/* Deletes every event in the n ranges in one txn and counts them in
 * shipped_total.  *deleted (may be NULL) gets how many existed. */
int spool_batch_delete(spoolship_spool *s, const struct spool_range *r,
		       size_t n, uint64_t *deleted);

struct dead_info {
	unsigned reason;      /* enum dead_reason */
	unsigned status;      /* HTTP status or 0 */
	const char *excerpt;  /* response excerpt or NULL */
	size_t excerpt_len;   /* capped at 1024 when stored */
};

/* Moves events (stream, seqs[0..n)) to the dead store (spool_dead.c),
 * counting dead_total (and expired_total for DEAD_EXPIRED), in txns that
 * close once half the reserve of bytes went in (so at most that plus one
 * event), so that each fits in the room kept for it on a full disk.
 * Missing seqs are skipped; *moved (may be NULL) gets how many moved, also
 * by the txns before an error.  A corrupt record is moved with its bytes
 * as they are. */
int spool_dead_move(spoolship_spool *s, uint32_t stream, const uint64_t *seqs,
		    size_t n, const struct dead_info *di, uint64_t *moved);

/* Scans at most max_scan events of stream after sequence after_seq
 * (0 = to the end), oldest first, calling fn for each whose __time is
 * before cutoff_ms; fn returning non-zero stops the walk and becomes the
 * result.  *last (may be NULL) gets the last sequence scanned when the
 * scan stopped at max_scan, or 0 when it reached the stream's end: pass it
 * back as after_seq to go on. */
typedef int spool_walk_fn(void *arg, uint64_t seq, const struct record *r);
int spool_walk_older(spoolship_spool *s, uint32_t stream, uint64_t after_seq,
		     int64_t cutoff_ms, size_t max_scan, spool_walk_fn *fn,
		     void *arg, uint64_t *last);

/* Moves the events older than cutoff_ms among at most max_scan events
 * of stream after after_seq (0 = to the end) to the dead store as
 * expired, 1024 per txn; *moved gets the count, *last (may be NULL) as
 * for spool_walk_older.  The shipper passes the last sequence it handed
 * out as after_seq: events in flight are aged out by the batch that
 * carries them, never behind its back; and it scans a bounded slice per
 * turn, so a backlog of millions never stalls the loop. */
int spool_expire(spoolship_spool *s, uint32_t stream, uint64_t after_seq,
		 int64_t cutoff_ms, size_t max_scan, uint64_t *moved,
		 uint64_t *last);

/* ---- inspection ------------------------------------------------------- */

/* Calls fn with each pending event, merged over streams (or of stream
 * `table` when not NULL) by append time, oldest first, up to max (0 = all).
 * fn gets the stream name; returning non-zero stops the walk. */
typedef int spool_peek_fn(void *arg, const char *table, uint64_t seq,
			  const struct record *r);
int spool_peek(spoolship_spool *s, const char *table, size_t max,
	       spool_peek_fn *fn, void *arg);

/* Called by spool_verify for each problem: the database, the key (hex) and
 * the reason. */
typedef void spool_problem_fn(void *arg, const char *db, const char *key,
			      const char *why);
/* Walks every record of events and dead and the stream counters; returns 0
 * and sets *records and *bad. */
int spool_verify(spoolship_spool *s, spool_problem_fn *fn, void *arg,
		 uint64_t *records, uint64_t *bad);

/* Calls fn with each dead event, oldest first: spool_dead_select()
 * with no filter (spool_dead.c). */
typedef int spool_dead_fn(void *arg, uint64_t dseq,
			  const struct dead_record *d, const char *table);
int spool_dead_walk(spoolship_spool *s, spool_dead_fn *fn, void *arg);

/* ---- the append path (spool_append.c) ---------------------------------- */

/* A validated event ready for the spool. */
struct spool_item {
	const char *data;
	size_t len;
	int64_t event_ms;
};

/* Appends items to table in one txn, applying the disk budget policy
 * (one request through spool_commit_run(), spool_commit.h).
 * extra_rejected is added to rejected_total in the same txn. */
int spool_append_items(spoolship_spool *s, const char *table,
		       const struct spool_item *it, size_t n,
		       uint64_t extra_rejected);
/* Runs fn (an append of about need bytes) with spool_write_need() under
 * the disk budget's policy (o.full_policy): at the budget one tiny txn
 * first (LMDB reuses freed pages two txns later), then reject, drop the
 * oldest events (counted) or block up to block_timeout_ms.  fn is run
 * again each round. */
int spool_write_policy(spoolship_spool *s, uint64_t need, spool_txn_fn *fn,
		       void *arg);
/* Counts rejections to add to meta with the next commit. */
void spool_count_rejected(spoolship_spool *s, uint64_t n);

/* ======================================================================
 * Dead-letter operations and compaction (spool_dead.c, spool_compact.c).
 * ====================================================================== */

/* meta counters of the dead store's ways out.  dead_total stays
 * monotonic (events ever moved to dead), so at every commit
 *   dead events now = dead_total - requeued_total - purged_total. */
#define META_REQUEUED "requeued_total"
#define META_PURGED "purged_total"

/* Which dead events an operation applies to: every field that is set
 * must match. */
struct dead_filter {
	unsigned reason;        /* enum dead_reason; 0 = any */
	const char *table;      /* stream name; NULL = any */
	const uint64_t *seqs;   /* dead sequences; NULL (or nseqs 0) = any */
	size_t nseqs;
	int64_t died_before_ms; /* moved to dead before this; 0 = any */
};

/* Calls fn with each sound dead event that matches f (NULL: all), oldest
 * first, up to max (0 = all), in one read txn; table is the name of the
 * stream it came from ("#ID" if that stream is gone).  A damaged dead
 * record is skipped (verify names it).  fn returning non-zero stops the
 * walk and becomes the result. */
int spool_dead_select(spoolship_spool *s, const struct dead_filter *f,
		      size_t max, spool_dead_fn *fn, void *arg);

/* The event a dead record holds, as it would be shipped.  For reasons
 * other than corrupt that is its payload.  A corrupt record was moved
 * with its damaged bytes, header and all: its event is usable only when
 * those bytes now pass record_decode() (e.g. flags a later build reads),
 * or when the payload is itself an event in stored form.  Returns 0 with
 * *data (pointing into d), *len and *event_ms set, or SPOOLSHIP_ECORRUPT
 * with the reason in why, or -ENOMEM. */
int spool_dead_event(spoolship_spool *s, const struct dead_record *d,
		     struct spool_plain *p, const char **data, size_t *len,
		     int64_t *event_ms, char *why, size_t whylen);

/* Called for each dead event a requeue leaves where it is, after the txn
 * that looked at it committed: its dead sequence and why. */
typedef void spool_refuse_fn(void *arg, uint64_t dseq, const char *why);

/*
 * Moves the dead events matching f (NULL: all) back to the end of their
 * streams: new sequence numbers, the original __time, the requeue time as
 * append time; in txns of at most 1024 events.  Counts requeued_total
 * (dead_total and expired_total stay: they count what happened).  An
 * event spool_dead_event() cannot give back (corrupt), or whose stream is
 * gone, stays and is reported through on_refuse (may be NULL).
 * *requeued and *refused (may be NULL) get the counts, also on error
 * (what committed before it).
 */
int spool_dead_requeue(spoolship_spool *s, const struct dead_filter *f,
		       spool_refuse_fn *on_refuse, void *arg,
		       uint64_t *requeued, uint64_t *refused);

/* Deletes the dead events matching f (NULL: all), 1024 per txn, counting
 * purged_total.  A damaged dead record (its reason and time unknown) is
 * deleted only when f sets no reason, table nor time.  *purged (may be
 * NULL) gets the count, also on error. */
int spool_dead_purge(spoolship_spool *s, const struct dead_filter *f,
		     uint64_t *purged);

/* The lock file every open holds shared (see struct spoolship_spool). */
#define SPOOL_LOCK_NAME "spool.lock"

struct spool_compact_info {
	uint64_t before_bytes; /* data.mdb before */
	uint64_t after_bytes;  /* data.mdb after */
	uint64_t records;      /* key/value pairs copied and compared */
};

/*
 * Rewrites the spool in dir compactly: mdb_env_copy2(MDB_CP_COMPACT)
 * into dir/.compact-XXXXXX, fsync, compare every record of the four
 * databases with the original, then swap the copy in (data.mdb kept as
 * data.mdb.old until the rename succeeded).  Only while no other process
 * has the spool open: spool.lock taken LOCK_EX without waiting, and
 * LMDB's own lock on lock.mdb free.  Returns 0 with *info filled, -EBUSY
 * when the spool is in use, SPOOLSHIP_ECORRUPT when the copy differs, or
 * another error; a reason goes to errbuf.  On any error the spool is as
 * it was and the copy is removed.
 */
int spool_compact(const char *dir, struct spool_compact_info *info,
		  char *errbuf, size_t errlen);

#endif
