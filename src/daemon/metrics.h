/*
 * metrics.h - Prometheus text at GET /metrics and a status page at GET /
 * (its figures at GET /status.json), served by libmicrohttpd inside
 * `spoolship run` on [metrics] listen.  The shipper's thread only ever
 * publishes a copy of its counters: it never waits for this server.
 * Nothing served here may hold a secret (no token, the URL only as
 * metrics_destination()): table names, status codes and counts; the
 * last error is redacted.
 */
#ifndef SPOOLSHIP_METRICS_H
#define SPOOLSHIP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ingest.h"
#include "log.h"
#include "ship.h"
#include "strbuf.h"
#include "spoolship.h"

/* The status page's charts: a sample every METRICS_SAMPLE_MS, an hour. */
#define METRICS_SAMPLE_MS 10000
#define METRICS_RING 360

/* One point of the charts, taken from the spool's figures. */
struct metrics_sample {
	int64_t t_ms;              /* wall clock */
	uint64_t pending_events;
	uint64_t pending_bytes;
	uint64_t appended;         /* appended_total */
	uint64_t shipped;          /* shipped_total */
	uint64_t dead;             /* dead_total */
	int64_t oldest_event_ms;   /* __time of the oldest pending; 0: none */
};

/*
 * Everything one scrape or one page shows, gathered by the server (or a
 * test) so that the writers below are pure functions of it.  Pointers
 * are borrowed for the call.
 */
struct metrics_view {
	const struct ship_counters *c;    /* NULL: nothing published yet */
	int64_t published_ms;             /* wall clock of c */
	const struct spoolship_stats *st; /* NULL: reading the spool failed */
	int64_t now_ms;                   /* wall clock */
	int64_t start_ms;                 /* when the process started */
	int64_t max_age_ms;               /* [ship] max_age; 0: none */
	const struct metrics_sample *ring; /* oldest first */
	size_t nring;
	struct logger *log;  /* for log_redact() of the last error; may be
			      * NULL (then only URL credentials and
			      * Bearer/Basic values are masked here) */
	const struct ingest_stats *ingest; /* NULL: no ingest endpoint */
	const char *destination; /* metrics_destination() of [ship] url;
				  * NULL or "": unknown */
};

/* A growing text buffer.  Zero it to start; free p when done. */
/*
 * Writes the Prometheus text exposition (format 0.0.4) of v to out.
 * Returns 0, or -ENOMEM (out->p then holds what fitted; free it anyway).
 */
int metrics_write_prometheus(const struct metrics_view *v,
			     struct strbuf *out);

/* Writes the status page's JSON (see docs/metrics.md).  As above. */
int metrics_write_status_json(const struct metrics_view *v,
			      struct strbuf *out);

/*
 * Copies in to out (capacity len > 0, always NUL-terminated) with the
 * user:password of any "scheme://user:password@host" and the credential
 * after "Bearer " or "Basic " masked as "***", then, when lg is not NULL,
 * every secret lg knows (log_redact()).
 */
void metrics_redact(struct logger *lg, const char *in, char *out,
		    size_t len);

/*
 * The destination as the page shows it: scheme://host:port/path of
 * url as the logs write it (log_url_dest), without user:password@, query
 * or fragment (where a key may sit).
 * out (capacity len > 0) is always NUL-terminated; "" for NULL.
 */
void metrics_destination(const char *url, char *out, size_t len);

/*
 * The status page's state badge for v (docs/metrics.md): "alarm",
 * "rate-limited", "retrying", "delivering", "idle", or "starting" before
 * the shipper published anything.
 */
const char *metrics_state(const struct metrics_view *v);

/* The status page (text/html), a static NUL-terminated string. */
const char *metrics_status_page(void);

struct metrics;

/*
 * Starts the server described by c->metrics.listen, reading figures from
 * spool s (shared with the shipper: every call on it is thread-safe) and
 * logging to lg; stores the handle in *out, or NULL when listen is empty.
 * Port 0 picks a free port; "metrics listening ... port=N" is logged
 * either way.  The address is used as config.c checked it (loopback or
 * not, as written).  c is not kept.  s and lg must outlive the handle.
 * Returns 0, SPOOLSHIP_EINVAL for an address that cannot be used, -errno
 * (EADDRINUSE, ...) or -ENOMEM; the reason is logged.
 */
int metrics_start(const struct config *c, spoolship_spool *s,
		  struct logger *lg, struct metrics **out);

/* The port it listens on (0 for NULL). */
unsigned metrics_port(const struct metrics *m);

/*
 * Called by the shipper's thread after each ship_step(): copies *c (and
 * the time) for the server, and every METRICS_SAMPLE_MS reads the spool's
 * figures for the charts.  Never waits for the server: when a request is
 * copying the previous snapshot at that moment, this one is skipped (the
 * next step publishes again).  m NULL is a no-op.  One thread only.
 */
void metrics_publish(struct metrics *m, const struct ship_counters *c);

/* The ingest endpoint whose figures /metrics and the page show (NULL:
 * none); it must outlive m or be unset before it stops.  Call before
 * serving matters, from the thread that owns m. */
void metrics_set_ingest(struct metrics *m, struct ingest *ig);

/* The [ship] url the page names (metrics_destination(): no secret), at
 * the start and after a reload.  m NULL is a no-op. */
void metrics_set_destination(struct metrics *m, const char *url);

/* The [ship] max_age shown next to the oldest event's age (SIGHUP);
 * 0 for none.  Thread-safe; m NULL is a no-op. */
void metrics_set_max_age(struct metrics *m, int64_t max_age_ms);

/* Stops the server (waiting for requests being answered) and frees m.
 * Call before the spool is closed.  NULL is a no-op. */
void metrics_stop(struct metrics *m);

#endif
