/*
 * ship.h - the shipper: reads batches out of the spool, POSTs them with
 * libcurl's multi interface, and acts on every answer per answer.h's
 * table.  An event leaves the spool only after a 2xx (deleted) or into the
 * dead store (counted); nothing here keeps an event only in memory.
 */
#ifndef SPOOLSHIP_SHIP_H
#define SPOOLSHIP_SHIP_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "spool.h"

/* How the shipper authenticates, supplied by the daemon (auth.c behind
 * it), so this module never sees a secret's source. */
#define SHIP_AUTH_RETRY 1
#define SHIP_AUTH_ALARM 2

struct ship_auth {
	void *arg;
	/* Makes sure a usable credential exists (may block for a token
	 * request, bounded by its timeout).  Returns 0, SHIP_AUTH_RETRY
	 * (transient: back off and try again) or SHIP_AUTH_ALARM (the
	 * credentials or the token URL are wrong: long backoff), with a
	 * message in why.  NULL when nothing ever needs preparing. */
	int (*prepare)(void *arg, char *why, size_t whylen);
	/* Writes the Authorization header line ("Authorization: Bearer x")
	 * into out, or "" for none; *gen gets the credential's generation,
	 * kept with the request. */
	void (*header)(void *arg, char *out, size_t outlen, uint64_t *gen);
	/* A request sent with generation gen got a 401.  Returns 1 when
	 * refreshing will not help (credentials alarm), 0 to retry now. */
	int (*rejected)(void *arg, uint64_t gen);
	/* A request sent with generation gen got any other answer. */
	void (*accepted)(void *arg, uint64_t gen);
};

struct ship_opts {
	size_t max_events;         /* per request; 60 */
	size_t max_bytes;          /* request body before gzip; 1,000,000 */
	int64_t linger_ms;         /* wait for a fuller batch; 500 */
	unsigned max_in_flight;    /* requests at once, all streams */
	int64_t timeout_ms;        /* one request */
	int64_t connect_timeout_ms;
	int64_t max_age_ms;        /* the receiver's window; 7 days */
	int64_t age_margin_ms;     /* expire this long before the window */
	int gzip;
	unsigned requests_per_minute; /* client-side limit; 0 = none */
	int64_t backoff_min_ms, backoff_max_ms;
	int64_t alarm_backoff_ms;  /* after 401-again, 403, 404, ... */
	int tls_verify;
	const char *ca_file, *cert_file, *key_file;
	int tls_min_13;            /* 1: TLS 1.3 at least, else 1.2 */
	const char *user_agent;
	/* The URL for a stream ({table} substituted).  Returns 0, or an
	 * error when the stream has no valid URL. */
	int (*url_for)(void *arg, const char *stream, char *out, size_t len);
	void *url_arg;
};

/* What the shipper is doing, worst first wins (docs/metrics.md): a
 * stream paused by an alarm, all sending paused by the receiver's rate
 * limit, probing a silent destination or backing off after a failed
 * answer, requests in flight; else idle. */
enum ship_state {
	SHIP_STATE_IDLE = 0,
	SHIP_STATE_DELIVERING,
	SHIP_STATE_RETRYING,
	SHIP_STATE_RATE_LIMITED,
	SHIP_STATE_ALARM,
};

/* Rows of ship_counters.by_code. */
#define SHIP_CODES 24

/* Figures for stats, metrics and benchmarks.  Monotonic counters. */
struct ship_counters {
	uint64_t requests;
	uint64_t by_class[6];      /* 1xx .. 5xx by first digit; [0] none */
	uint64_t transport_errors; /* no HTTP answer at all */
	uint64_t retries;
	uint64_t events_shipped;
	uint64_t batches_acked;
	uint64_t bytes_raw, bytes_sent;
	uint64_t dead_rejected, dead_too_big, dead_corrupt, expired;
	uint64_t splits, bisections;
	uint64_t rate_limited, alarms, auth_refreshes;
	uint64_t alarms_credentials; /* of alarms: 401 again, token refused */
	int64_t rl_remaining;      /* last RateLimit-Remaining; -1 unknown */
	unsigned in_flight;
	/* append -> acknowledgement latency, log2 buckets of ms: bucket i
	 * counts latencies in [2^(i-1), 2^i) ms, bucket 0 is < 1 ms */
	uint64_t latency_buckets[32];
	uint64_t latency_sum_ms;   /* of the latencies counted above */
	/* Answers by HTTP status (for metrics): the first SHIP_CODES
	 * distinct statuses seen get a row each, in order of arrival; a
	 * later new status counts in by_class only. */
	struct ship_code_count {
		int code;          /* 100..599; 0: row unused */
		uint64_t n;
	} by_code[SHIP_CODES];
	char last_error[256];
	int64_t last_error_ms;     /* wall clock of last_error; 0: none */
	int64_t last_ack_ms;       /* wall clock of the last 2xx; 0: none */
	int state;                 /* enum ship_state, after each step */
};

struct shipper;

/*
 * Creates a shipper over spool s (which must outlive it).  opts and auth
 * are copied (their strings must outlive the shipper); log may be NULL.
 * Returns 0, SPOOLSHIP_EINVAL, -ENOMEM, or an error of curl set-up.
 */
int ship_new(spoolship_spool *s, const char *spool_dir,
	     const struct ship_opts *opts, const struct ship_auth *auth,
	     struct logger *log, struct shipper **out);

/* Replaces the options (SIGHUP).  Requests in flight finish under the old
 * ones.  A reload also ends every stream's alarm and backoff and the
 * credential timer, so that all are tried at once (the receiver's own
 * Retry-After or rate-limit pause stays).  Returns 0 or
 * SPOOLSHIP_EINVAL (then nothing changed). */
int ship_set_opts(struct shipper *sh, const struct ship_opts *opts);

/*
 * One turn of the loop: starts what may start, waits up to max_wait_ms for
 * an answer, new data or a timer, and acts on every answer.  Returns 0, or
 * a fatal error (an answer of class fatal, or the spool failing).
 */
int ship_step(struct shipper *sh, int64_t max_wait_ms);

/* Stops taking new batches (shutdown); in-flight requests go on. */
void ship_stop_reading(struct shipper *sh);

/* 1 when nothing is in flight or waiting for a retry and the spool holds
 * no pending event. */
int ship_idle(struct shipper *sh);
unsigned ship_in_flight(const struct shipper *sh);

/* Interrupts a ship_step() wait from a signal handler or another thread. */
void ship_wakeup(struct shipper *sh);

const struct ship_counters *ship_counters(const struct shipper *sh);

/*
 * Hands over the last acknowledged batches and waits until they are
 * deleted (one attempt; what fails stays in the spool and is sent again
 * after a restart), so that the counters are final.  For shutdown: after
 * it, acknowledgements are deleted on the calling thread.
 */
void ship_finish(struct shipper *sh);

/* Finishes (ship_finish) and aborts whatever is still in flight (it stays in the spool) and frees. */
void ship_free(struct shipper *sh);

#endif
