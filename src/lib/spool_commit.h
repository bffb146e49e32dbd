/*
 * spool_commit.h - the one commit pipeline every door into the spool uses
 * (the library's appends, the buffered producer, the ingest endpoint,
 * `spoolship append`): events validated by the caller, sealed outside
 * the write txn (encryption at rest), many callers' requests in one write
 * txn with the budget policy, and each caller told its own outcome.
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

/* One caller's events.  Zero it, set the caller's fields; the sealed
 * records are kept in recs between uses (free with
 * spool_commit_req_free()). */
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
	int sealed;                   /* recs holds the sealed records */
	unsigned char *recs;          /* sealed records, back to back */
	size_t recs_cap;
	int64_t append_ms;            /* their append time */
	struct spool_commit_req *next;
};

/* Seals r's events into r->recs now, in the caller's thread, when the
 * spool has a key (else nothing to do); the commit then only copies
 * them.  Returns 0, -ENOMEM or SPOOLSHIP_EKEY (also left in r->rc). */
int spool_commit_seal(spoolship_spool *s, struct spool_commit_req *r);
/* Forgets r's seal (the next use of r seals again) and frees recs. */
void spool_commit_req_free(struct spool_commit_req *r);

/*
 * Commits the requests of the list `reqs` (linked by next), in order, in
 * one write txn with the budget policy: each not sealed yet is sealed
 * first, outside the txn.  Each gets its outcome in rc: all committed, or
 * all failed with the txn's error.  When a txn of several is refused
 * with SPOOLSHIP_ESPOOL_FULL each is tried alone, so that those that fit
 * get in.  A request whose chain failed is not tried.  *txns (may be
 * NULL) gets how many write txns were run.  Returns the first request's
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
/* A sealer thread seals requests while the committer's txn runs (else
 * the committer seals what comes unsealed, still outside the txn). */
#define SPOOL_PIPE_SEALER 0x1u

/* Starts a pipe on s: a committer thread (and with SPOOL_PIPE_SEALER and
 * a key, a sealer thread) that commits what was submitted, one txn for
 * all requests waiting, up to max_events events or max_bytes bytes (at
 * least one request).  Returns 0, -ENOMEM or -errno. */
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

/* ---- the room probe ------------------------------------------------------ */

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
