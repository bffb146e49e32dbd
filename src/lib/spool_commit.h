/*
 * spool_commit.h - the one commit pipeline every door into the spool uses
 * (the library's appends, the buffered producer, the ingest endpoint,
 * `spoolship append`): events validated by the caller, encoded into
 * records (sealed, with encryption at rest) outside the write txn, many
 * callers' requests in one write txn with the budget policy, and each
 * caller told its own outcome.
 */
#ifndef SPOOLSHIP_SPOOL_COMMIT_H
#define SPOOLSHIP_SPOOL_COMMIT_H

#include <stddef.h>
#include <stdint.h>

#include "spool.h"

/* "Also write this key/value in the same txn": a later input commits its
 * file checkpoint with its events.  Written into the meta database under
 * key as given (it must not be one of the META_* counters). */
struct spool_commit_extra {
	const char *key;
	const void *val;
	size_t len;
};

/* Requests of one caller that must commit in order: once one of them
 * failed, the later ones are failed with the same error, not committed
 * (`spoolship append`: the input from a failed batch on is not
 * appended).  Zero it; the pipeline writes err. */
struct spool_commit_chain {
	int err;
};

struct spool_commit_req;
/* Called by the pipeline's committer thread with the request's outcome
 * in r->rc; r may be freed from then on. */
typedef void spool_commit_done_fn(struct spool_commit_req *r, void *arg);

/* One caller's events.  Zero it, set the caller's fields; the encoded
 * records are kept in recs between uses (free with
 * spool_commit_req_free(); set encoded to 0 when the events change). */
struct spool_commit_req {
	/* the caller's */
	const char *table;
	const struct spool_item *it;  /* validated events */
	size_t n;
	uint64_t rejected;            /* added to rejected_total with it */
	const struct spool_commit_extra *extra; /* may be NULL */
	size_t nextra;
	struct spool_commit_chain *chain;       /* may be NULL */
	spool_commit_done_fn *done;   /* pipe only */
	void *arg;
	/* the pipeline's */
	int rc;                       /* the outcome: 0 committed */
	int encoded;                  /* recs holds the records */
	unsigned char *recs;          /* the records, back to back (sealed
				       * when the spool has a key) */
	size_t recs_cap;
	int64_t append_ms;            /* their append time */
	struct spool_commit_req *next;
};

/* Encodes r's events into records in r->recs now, in the caller's
 * thread, sealed when the spool has a key; the commit then only copies
 * them.  After it the txn needs the events' lengths only (it[i].len),
 * not their bytes.  Returns 0, -ENOMEM or SPOOLSHIP_EKEY (also left in
 * r->rc). */
int spool_commit_encode(spoolship_spool *s, struct spool_commit_req *r);
/* Forgets r's records (the next use of r encodes again), frees recs. */
void spool_commit_req_free(struct spool_commit_req *r);

/*
 * Commits the requests of the list `reqs` (linked by next), in order, in
 * one write txn with the budget policy: in a keyed spool each not
 * encoded yet is encoded and sealed first, outside the txn (in the clear
 * the txn encodes what comes unencoded straight into LMDB's pages).
 * Each gets its outcome in rc: all committed, or all failed with the
 * txn's error.  When a txn of several is refused with
 * SPOOLSHIP_ESPOOL_FULL each is tried alone, so that those that fit get
 * in.  A request whose chain failed is not tried.  *txns (may be NULL)
 * gets how many write txns were run.  Returns the first request's
 * outcome.
 */
int spool_commit_run(spoolship_spool *s, struct spool_commit_req *reqs,
		     unsigned *txns);

/* ---- the pipe: group commit across threads ----------------------------- */

struct spool_pipe;
/* What one group txn of the daemon's and the producer's pipes takes at
 * most (or one request). */
#define SPOOL_GROUP_EVENTS 65536
#define SPOOL_GROUP_BYTES (32u << 20)
/* SEALER: in a keyed spool, a thread seals requests while the
 * committer's txn runs (else the committer seals what comes unsealed,
 * still outside the txn).  ENCODER: the same thread, in the clear too
 * (record headers and CRCs computed outside the txn). */
#define SPOOL_PIPE_SEALER 0x1u
#define SPOOL_PIPE_ENCODER 0x2u

/* Starts a pipe on s: a committer thread (and with SPOOL_PIPE_SEALER and
 * a key, or SPOOL_PIPE_ENCODER, an encoder thread) that commits what was
 * submitted, one txn for all requests waiting, up to max_events events
 * or max_bytes bytes (at least one request).  Returns 0, -ENOMEM or
 * -errno. */
int spool_pipe_new(spoolship_spool *s, unsigned flags, size_t max_events,
		   size_t max_bytes, struct spool_pipe **out);
/* Queues r (its done callback set); r must stay valid until done is
 * called with its outcome.  Never blocks on the spool. */
void spool_pipe_submit(struct spool_pipe *p, struct spool_commit_req *r);
/* Write txns the pipe ran so far. */
uint64_t spool_pipe_txns(struct spool_pipe *p);
/* Commits everything submitted, calls its callbacks, stops the threads
 * and frees p.  Returns the write txns it ran in all.  NULL: 0. */
uint64_t spool_pipe_close(struct spool_pipe *p);

/* ---- the room probe ----------------------------------------------------- */

/*
 * Whether the spool is writable again after a commit failed with `was`,
 * which needed about `bytes` of events.  Full (SPOOLSHIP_ESPOOL_FULL):
 * would that much fit now, in the map and on the filesystem (a txn
 * reserves it and is aborted; on an almost full filesystem a real write
 * and its removal)?  Another error (I/O): does a tiny commit, synced,
 * work?  Returns 0 or the error that still stands.
 */
int spool_room_probe(spoolship_spool *s, int was, size_t bytes);

#endif
