/*
 * ingest.h - the local Events-API endpoint inside `spoolship run`
 * (docs/ingest.md): POST /v1/events/{table} into the spool.
 * It never answers 200 before the events are durable per the sync mode.
 */
#ifndef SPOOLSHIP_INGEST_H
#define SPOOLSHIP_INGEST_H

#include <stdint.h>

#include "config.h"
#include "log.h"
#include "spoolship.h"

struct ingest;

/* The statuses counted one by one in ingest_stats.by_code (the row after
 * them counts any other), the reasons of rejected events (validation's
 * error classes, then "reject_all": valid events refused with their
 * request under partial = reject_all), and the upper bounds in
 * microseconds of the commit-time histogram's buckets (the bucket after
 * them is +Inf).  For /metrics (docs/metrics.md). */
#define INGEST_NCODES 11
#define INGEST_NREASONS 9
#define INGEST_NBUCKETS 14
extern const unsigned ingest_codes[INGEST_NCODES];
extern const char *const ingest_reasons[INGEST_NREASONS];
extern const uint32_t ingest_bucket_us[INGEST_NBUCKETS];

/* Figures since the start, for logs, metrics and tests.  Read by
 * ingest_stats(). */
struct ingest_stats {
	uint64_t requests;        /* events requests answered */
	uint64_t events_accepted; /* durable in the spool */
	uint64_t events_rejected; /* lines refused by validation */
	uint64_t commits;         /* group txns run */
	uint64_t cut_off;         /* connections closed by the deadline */
	/* every request answered (any path), by ingest_codes[]; the last
	 * row: any other status */
	uint64_t by_code[INGEST_NCODES + 1];
	uint64_t rejected_by[INGEST_NREASONS]; /* events, by reason */
	uint64_t request_bytes;   /* body bytes received, as sent */
	/* request start (headers in) to its events durable, per request
	 * that committed: counts per bucket (not cumulative) */
	uint64_t commit_buckets[INGEST_NBUCKETS + 1];
	uint64_t commit_sum_us, commit_count;
};

/*
 * Starts the endpoint described by c->ingest when [ingest] listen is set,
 * appending to spool s and logging to lg; stores the handle in *out, or
 * NULL when listen is empty (then nothing runs).  Everything needed from c
 * is copied: c may be freed or swapped (SIGHUP) while the endpoint runs,
 * and its [ingest] and [table] settings stay those of the start.  s and lg
 * must outlive the handle.  Logs the address it listens on (with the port
 * picked when the configured port is 0).  Returns 0, SPOOLSHIP_EINVAL for
 * an address that cannot be used, -errno (EADDRINUSE, ...) or -ENOMEM;
 * the reason is logged.
 */
int ingest_start(const struct config *c, spoolship_spool *s,
		 struct logger *lg, struct ingest **out);

/* The port it listens on (0 for NULL). */
unsigned ingest_port(const struct ingest *ig);

/* Copies the counters into *st (zeroes for NULL).  Thread-safe. */
void ingest_stats(struct ingest *ig, struct ingest_stats *st);

/*
 * Stops accepting connections, commits and answers every request already
 * validated, then closes every connection and frees ig.  A request that
 * completes after that point is answered 503.  Must not race with other
 * calls on ig.  NULL is a no-op.
 */
void ingest_stop(struct ingest *ig);

/* ---- one request without a socket (the fuzzer, tests) ------------------- */

/* The request headers the endpoint looks at; NULL when absent. */
struct ingest_headers {
	const char *authorization;
	const char *content_length;
	const char *transfer_encoding;
	const char *content_encoding;
	const char *expect;
};

struct spool_item;

/* What the endpoint made of one request, up to the spool. */
struct ingest_dry {
	unsigned status;      /* the answer's status, as if the commit of
			       * the events (when any) worked */
	const char *answer;   /* its body, NUL-terminated; "" for none */
	size_t answer_len;
	int to_spool;         /* 1: the events would be committed */
	const char *stream;   /* the table they go to ("" if none) */
	const struct spool_item *items; /* the valid events, n of them */
	size_t n, rejected;   /* valid events, bad lines */
	void *priv;           /* for ingest_dry_free() */
};

/*
 * Runs one request through everything the endpoint does before the spool
 * - routing, header checks, the body read in pieces of `chunk` bytes (0:
 * one piece) as libmicrohttpd hands it over, gunzip within the size
 * limit, line splitting and validation - with the settings of c (as
 * ingest_start() takes them) and the validation options of s, which is
 * never written (only its count of rejected events moves on).  Nothing
 * listens and nothing is committed.  Fills *out, to be released with
 * ingest_dry_free().  Returns 0 or -ENOMEM.
 */
int ingest_dry_run(const struct config *c, spoolship_spool *s,
		   struct logger *lg, const char *method, const char *url,
		   const struct ingest_headers *h, const char *body,
		   size_t len, size_t chunk, struct ingest_dry *out);
void ingest_dry_free(struct ingest_dry *d);

#endif
