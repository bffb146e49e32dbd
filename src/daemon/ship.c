/*
 * ship.c - the shipper's loop (see ship.h).  One thread, one curl multi
 * handle; batches are read from the spool only when they can be sent, so
 * memory stays bounded by max_in_flight whatever the backlog.  What to do
 * with an answer is decided by answer.h's table, never here by status.
 */
#define _GNU_SOURCE
#include "ship.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <zlib.h>

#include "answer.h"
#include "array.h"
#include "clock.h"
#include "ship_delete.h"
#include "strbuf.h"
#include "validate.h"
#include "wake.h"

#define SCAN_EVERY_MS 1000     /* look for new streams without a wake-up */
#define EXPIRE_EVERY_MS 60000  /* age-out sweep of what is not in flight */
#define SWEEP_SLICE 4096       /* events scanned per stream per slice */
#define SWEEP_PAUSE_MS 100     /* between slices of one sweep */
#define SWEEP_FIRST_MS 1000    /* first sweep after a start */
#define RESP_KEEP 1024         /* bytes of a response body kept */
#define URL_MAX 2048
#define RELEASE_EVERY (1u << 20) /* bytes read between page releases */
/* Acknowledged batches waiting for the deleter, per max_in_flight: with
 * one window's worth a slow fsync stalls sending; two keep it going and
 * the crash bound small (docs/delivery.md). */
#define UNDELETED_PER_SLOT 2
/* While the destination gives no answer at all (answer_unanswered), one
 * request at a time goes out, this often, a little jittered so that
 * shippers restarted together do not probe in step; the interval does
 * not grow with the outage, so delivery resumes within about a second
 * of the receiver's return whatever the outage's length. */
#define PROBE_MS 1000
#define PROBE_JITTER_MS 100    /* +- */
#define PROBE_LOG_EVERY 60     /* failed probes per "still" line */
#define LOG_BODY_MAX 256       /* bytes of an answer body in a log line */

struct sstream;

/* A batch on its way: waiting to be sent (again) or in flight. */
struct sbatch {
	struct sstream *st;
	struct sbatch *next;       /* in st->waiting */
	struct sbatch *fly_prev, *fly_next; /* in sh->flying */
	struct spool_batch b;      /* owned: records and body */
	unsigned attempt;          /* failures so far */
	int64_t not_before;        /* monotonic ms */
	uint64_t auth_gen;         /* credential it was sent with */
	CURL *easy;
	struct curl_slist *hdrs;
	struct answer ans;
	char *gz;
	size_t gzlen;
	char resp[RESP_KEEP];
	size_t resp_len;
};

struct sstream {
	char name[SPOOLSHIP_MAX_TABLE_LEN + 1];
	uint32_t id;
	char url[URL_MAX];
	char dest[URL_MAX];        /* url as logged: no user, no query */
	int url_ok;
	uint64_t read_seq;         /* last sequence handed to a batch */
	uint64_t sweep_seq;        /* where the age-out sweep goes on */
	struct sbatch *waiting;    /* FIFO of batches to send again */
	unsigned inflight;
	unsigned attempt;          /* consecutive transient failures */
	int64_t paused_until;      /* monotonic ms */
	int alarmed;               /* since an alarm, until a 2xx or reload */
	/* The partial batch lingering: its first sequence and when (mono)
	 * the shipper first saw it, so that linger holds whatever the wall
	 * clock does (append times are wall-clock times). */
	uint64_t linger_seq;
	int64_t linger_since;
	/* Failed attempts since the last 2xx, and since when (monotonic
	 * ms): the "delivery resumed" line says both. */
	unsigned fails;
	int64_t fail_since;
};

struct shipper {
	spoolship_spool *s;
	char *dir;
	struct ship_opts o;
	struct ship_auth auth;
	struct logger *log;
	CURLM *multi;
	struct wake wake;
	int efd;                   /* eventfd for ship_wakeup() */
	struct sstream **streams;  /* each allocated alone: batches point
				    * at them */
	size_t nstreams, rr;       /* rr: round-robin start */
	size_t streams_cap;
	struct sbatch *flying;     /* requests in flight */
	unsigned inflight;
	int64_t pause_until;       /* all streams: 429, RateLimit */
	/* Probe mode: the destination gave no answer (refused, reset,
	 * timed out, no DNS).  One request at a time, each probe_next at
	 * the earliest, until an answer arrives (docs/delivery.md). */
	int probing;
	int64_t probe_since;       /* monotonic ms of the first silence */
	int64_t probe_next;        /* monotonic ms the next probe may go */
	unsigned probe_fails;      /* requests unanswered since then */
	double tokens;             /* client-side requests-per-minute */
	int64_t tokens_ms;
	int stop_reading;
	uint64_t rng;
	int64_t next_scan, next_expire, next_auth;
	unsigned auth_attempt;     /* failed token requests in a row */
	int auth_alarm;            /* the last one refused the credentials */
	size_t read_bytes;         /* since the last spool_release_pages */
	int64_t recheck_at;        /* second look after a wake-up */
	int64_t wake_at;           /* earliest timer found by fill() */
	struct spool_range *acks;  /* acknowledged, not yet handed over */
	size_t nacks, acks_cap;
	struct deleter del;        /* deletes them off this thread */
	/* Acknowledged batches whose delete has not committed (a crash
	 * sends them again): see slot_free(), docs/delivery.md. */
	size_t undeleted;
	struct spool_batch tmp;    /* read buffer reused across reads */
	struct ship_counters c;
	int fatal;
};

/* ---- small helpers ------------------------------------------------------- */

static uint64_t rnd(struct shipper *sh)
{
	/* xorshift64*: jitter only, not security. */
	sh->rng ^= sh->rng >> 12;
	sh->rng ^= sh->rng << 25;
	sh->rng ^= sh->rng >> 27;
	return sh->rng * 0x2545F4914F6CDD1DULL;
}

static void earliest(struct shipper *sh, int64_t t)
{
	if (t < sh->wake_at)
		sh->wake_at = t;
}

static void set_error(struct shipper *sh, const char *what)
{
	size_t n = strlen(what);

	if (n >= sizeof(sh->c.last_error))
		n = sizeof(sh->c.last_error) - 1;
	memcpy(sh->c.last_error, what, n);
	sh->c.last_error[n] = '\0';
	sh->c.last_error_ms = clock_wall_ms();
}

static void batch_free(struct sbatch *sb)
{
	if (sb == NULL)
		return;
	if (sb->easy != NULL)
		curl_easy_cleanup(sb->easy);
	curl_slist_free_all(sb->hdrs);
	free(sb->gz);
	spool_batch_free(&sb->b);
	free(sb);
}

static uint64_t first_seq(const struct sbatch *sb)
{
	return sb->b.recs[0].seq;
}

static uint64_t last_seq(const struct sbatch *sb)
{
	return sb->b.recs[sb->b.n - 1].seq;
}

/* Copies records idx[0..n) of src (with their bytes) into a new batch. */
static struct sbatch *batch_pick(struct sstream *st,
				 const struct spool_batch *src,
				 const size_t *idx, size_t n)
{
	struct sbatch *sb = calloc(1, sizeof(*sb));
	size_t body = 0;

	if (sb == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		body += src->recs[idx[i]].len + 1;
	sb->st = st;
	sb->b.stream = src->stream;
	sb->b.recs = malloc((n ? n : 1) * sizeof(*sb->b.recs));
	sb->b.body = malloc(body ? body : 1);
	if (sb->b.recs == NULL || sb->b.body == NULL) {
		batch_free(sb);
		return NULL;
	}
	sb->b.recs_cap = n;
	sb->b.body_cap = body;
	for (size_t i = 0; i < n; i++) {
		struct spool_rec r = src->recs[idx[i]];

		if (i > 0)
			sb->b.body[sb->b.body_len++] = '\n';
		memcpy(sb->b.body + sb->b.body_len, src->body + r.off, r.len);
		r.off = sb->b.body_len;
		sb->b.body_len += r.len;
		sb->b.recs[sb->b.n++] = r;
	}
	return sb;
}

/* A new batch of records [lo, hi) of src. */
static struct sbatch *batch_range(struct sstream *st,
				  const struct spool_batch *src, size_t lo,
				  size_t hi)
{
	size_t *idx = malloc((hi - lo) * sizeof(*idx));
	struct sbatch *sb;

	if (idx == NULL)
		return NULL;
	for (size_t i = lo; i < hi; i++)
		idx[i - lo] = i;
	sb = batch_pick(st, src, idx, hi - lo);
	free(idx);
	return sb;
}

static void queue_front(struct sstream *st, struct sbatch *sb)
{
	sb->next = st->waiting;
	st->waiting = sb;
}

/* ---- streams -------------------------------------------------------------- */

static struct sstream *stream_by_id(struct shipper *sh, uint32_t id)
{
	for (size_t i = 0; i < sh->nstreams; i++)
		if (sh->streams[i]->id == id)
			return sh->streams[i];
	return NULL;
}

/* The stream's URL from the template, and how log lines name it. */
static void stream_url(const struct ship_opts *o, struct sstream *st)
{
	st->url_ok = o->url_for(o->url_arg, st->name, st->url,
				sizeof(st->url)) == 0;
	if (st->url_ok)
		log_url_dest(st->url, st->dest, sizeof(st->dest));
	else
		snprintf(st->dest, sizeof(st->dest), "-");
}

static int stream_add(struct shipper *sh, const char *name, uint32_t id)
{
	struct sstream *st = calloc(1, sizeof(*st));

	if (st == NULL || array_grow((void **)&sh->streams, &sh->streams_cap,
				     sh->nstreams + 1, sizeof(st)) != 0) {
		free(st);
		return -ENOMEM;
	}
	sh->streams[sh->nstreams++] = st;
	snprintf(st->name, sizeof(st->name), "%s", name);
	st->id = id;
	stream_url(&sh->o, st);
	if (!st->url_ok)
		log_error(sh->log, "no valid URL for stream, its events are "
			  "kept table=%s", name);
	return 0;
}

/* The stream table alone (spool_streams), not the full stats: this
 * runs every second and on every wake-up. */
static int scan_streams(struct shipper *sh)
{
	struct spool_stream *rows;
	size_t n;
	int rc = spool_streams(sh->s, &rows, &n);

	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (stream_by_id(sh, rows[i].id) == NULL)
			rc = stream_add(sh, rows[i].name, rows[i].id);
	}
	free(rows);
	return rc;
}

/* ---- sending -------------------------------------------------------------- */

static size_t body_cb(char *p, size_t size, size_t n, void *arg)
{
	struct sbatch *sb = arg;
	size_t len = size * n, keep = RESP_KEEP - sb->resp_len;

	if (keep > len)
		keep = len;
	memcpy(sb->resp + sb->resp_len, p, keep);
	sb->resp_len += keep;
	return len; /* never abort: see answer.h's caveats */
}

static int gzip_body(struct sbatch *sb)
{
	z_stream z;
	uLong cap = compressBound((uLong)sb->b.body_len) + 32;
	int rc;

	free(sb->gz);
	sb->gz = malloc(cap);
	if (sb->gz == NULL)
		return -ENOMEM;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)sb->b.body;
	z.avail_in = (uInt)sb->b.body_len;
	z.next_out = (Bytef *)sb->gz;
	z.avail_out = (uInt)cap;
	rc = deflate(&z, Z_FINISH);
	sb->gzlen = z.total_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -EIO;
}

static int set_tls(struct shipper *sh, CURL *e)
{
	long v = sh->o.tls_verify ? 1L : 0L;

	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, v);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, v ? 2L : 0L);
	curl_easy_setopt(e, CURLOPT_SSLVERSION,
			 sh->o.tls_min_13 ? CURL_SSLVERSION_TLSv1_3
					  : CURL_SSLVERSION_TLSv1_2);
	if (sh->o.ca_file != NULL && *sh->o.ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, sh->o.ca_file);
	if (sh->o.cert_file != NULL && *sh->o.cert_file)
		curl_easy_setopt(e, CURLOPT_SSLCERT, sh->o.cert_file);
	if (sh->o.key_file != NULL && *sh->o.key_file)
		curl_easy_setopt(e, CURLOPT_SSLKEY, sh->o.key_file);
	return 0;
}

static int start(struct shipper *sh, struct sbatch *sb)
{
	char auth[4096];
	const char *body = sb->b.body;
	size_t len = sb->b.body_len;
	CURL *e = curl_easy_init();
	struct curl_slist *h = NULL;

	if (e == NULL)
		return -ENOMEM;
	if (sh->o.gzip) {
		if (gzip_body(sb) != 0) {
			curl_easy_cleanup(e);
			return -ENOMEM;
		}
		body = sb->gz;
		len = sb->gzlen;
		h = curl_slist_append(h, "Content-Encoding: gzip");
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
	sh->auth.header(sh->auth.arg, auth, sizeof(auth), &sb->auth_gen);
	if (auth[0] != '\0')
		h = curl_slist_append(h, auth);
	explicit_bzero(auth, sizeof(auth));
	answer_init(&sb->ans);
	sb->resp_len = 0;
	sb->hdrs = h;
	sb->easy = e;
	curl_easy_setopt(e, CURLOPT_URL, sb->st->url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, answer_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, &sb->ans);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, sb);
	curl_easy_setopt(e, CURLOPT_PRIVATE, sb);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)sh->o.timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)sh->o.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, sh->o.user_agent);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	set_tls(sh, e);
	if (curl_multi_add_handle(sh->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		curl_slist_free_all(h);
		sb->easy = NULL;
		sb->hdrs = NULL;
		return -ENOMEM;
	}
	sb->fly_prev = NULL;
	sb->fly_next = sh->flying;
	if (sh->flying != NULL)
		sh->flying->fly_prev = sb;
	sh->flying = sb;
	sb->st->inflight++;
	sh->inflight++;
	sh->c.requests++;
	sh->c.bytes_raw += sb->b.body_len;
	sh->c.bytes_sent += len;
	if (sb->attempt > 0)
		sh->c.retries++;
	return 0;
}

/* ---- age-out --------------------------------------------------------------- */

static int64_t cutoff_ms(const struct shipper *sh)
{
	return clock_wall_ms() - validate_window_ms(sh->o.max_age_ms,
						    sh->o.age_margin_ms);
}

/*
 * Moves the records of sb that would arrive too late to the dead store
 * and returns a batch of the rest (sb itself when none was too old, NULL
 * when none is left; sb is freed when replaced).  On an error sb is
 * returned untouched, *err set, for the caller to try again later.
 */
static struct sbatch *age_out(struct shipper *sh, struct sbatch *sb,
			      int *err)
{
	int64_t cut = cutoff_ms(sh);
	struct dead_info di = { DEAD_EXPIRED, 0, NULL, 0 };
	uint64_t *old = NULL, moved = 0;
	size_t *keep = NULL, nold = 0, nkeep = 0;
	struct sbatch *nb = NULL;

	*err = 0;
	for (size_t i = 0; i < sb->b.n; i++)
		nold += sb->b.recs[i].event_ms < cut;
	if (nold == 0)
		return sb;
	old = malloc(nold * sizeof(*old));
	keep = malloc(sb->b.n * sizeof(*keep));
	if (old == NULL || keep == NULL) {
		*err = -ENOMEM;
		goto out;
	}
	nold = 0;
	for (size_t i = 0; i < sb->b.n; i++) {
		if (sb->b.recs[i].event_ms < cut)
			old[nold++] = sb->b.recs[i].seq;
		else
			keep[nkeep++] = i;
	}
	*err = spool_dead_move(sh->s, sb->st->id, old, nold, &di, &moved);
	if (*err != 0)
		goto out;
	sh->c.expired += moved;
	log_warn(sh->log, "events expired before delivery, moved to the dead "
		 "store table=%s events=%llu", sb->st->name,
		 (unsigned long long)moved);
	if (nkeep > 0) {
		nb = batch_pick(sb->st, &sb->b, keep, nkeep);
		if (nb == NULL) {
			*err = -ENOMEM;
			goto out;
		}
		nb->attempt = sb->attempt;
	}
	batch_free(sb);
	sb = nb;
out:
	free(old);
	free(keep);
	return sb;
}

/* One slice of the age-out sweep over what is not in flight: a bounded
 * scan per stream per turn, so a backlog of millions never stalls the
 * loop (nor the first request after a start). */
static void expire_sweep(struct shipper *sh, int64_t now)
{
	int64_t cut = cutoff_ms(sh);
	int more = 0;

	for (size_t i = 0; i < sh->nstreams; i++) {
		struct sstream *st = sh->streams[i];
		uint64_t moved = 0, last = 0;
		uint64_t from = st->sweep_seq > st->read_seq ? st->sweep_seq
							     : st->read_seq;
		int rc = spool_expire(sh->s, st->id, from, cut, SWEEP_SLICE,
				      &moved, &last);

		if (rc != 0)
			log_error(sh->log, "age-out sweep failed table=%s "
				  "error=\"%s\"", st->name,
				  spoolship_strerror(rc));
		st->sweep_seq = rc == 0 ? last : 0;
		more |= st->sweep_seq != 0;
		if (moved > 0) {
			sh->c.expired += moved;
			log_warn(sh->log, "events expired in the backlog, moved "
				 "to the dead store table=%s events=%llu",
				 st->name, (unsigned long long)moved);
		}
	}
	sh->next_expire = now + (more ? SWEEP_PAUSE_MS : EXPIRE_EVERY_MS);
}

/* ---- choosing what to send -------------------------------------------------- */

/* 1 when the client-side requests-per-minute limit lets a request go
 * now (a token bucket holding one second's worth), else sets a timer. */
static int token_ready(struct shipper *sh, int64_t now)
{
	double rate, cap;

	if (sh->o.requests_per_minute == 0)
		return 1;
	rate = sh->o.requests_per_minute / 60000.0; /* per ms */
	cap = sh->o.requests_per_minute / 60.0;
	if (cap < 1.0)
		cap = 1.0;
	sh->tokens += (double)(now - sh->tokens_ms) * rate;
	sh->tokens_ms = now;
	if (sh->tokens > cap)
		sh->tokens = cap;
	if (sh->tokens >= 1.0)
		return 1;
	earliest(sh, now + (int64_t)((1.0 - sh->tokens) / rate) + 1);
	return 0;
}

/* Reads the stream's next new batch, or returns NULL (nothing, or it
 * should linger: then a timer is set). */
static struct sbatch *next_new(struct shipper *sh, struct sstream *st,
			       int *err)
{
	struct spool_batch *t = &sh->tmp;
	struct sbatch *sb;
	int64_t due, mono;

	*err = spool_batch_next(sh->s, st->id, st->read_seq,
				sh->o.max_events, sh->o.max_bytes, t);
	if (*err == SPOOLSHIP_ECORRUPT) {
		struct dead_info di = { DEAD_CORRUPT, 0, NULL, 0 };

		log_error(sh->log, "damaged record moved to the dead store "
			  "table=%s seq=%llu", st->name,
			  (unsigned long long)t->corrupt_seq);
		*err = spool_dead_move(sh->s, st->id, &t->corrupt_seq, 1, &di,
				       NULL);
		if (*err == 0)
			sh->c.dead_corrupt++;
		return NULL;
	}
	if (*err != 0 || t->n == 0)
		return NULL;
	/* A batch that is not full waits for more, up to linger after its
	 * oldest event was appended, and never longer than linger after
	 * the shipper first saw it: a wall clock set back (or a producer's
	 * clock ahead) must not hold events back for the difference. */
	mono = clock_mono_ms();
	if (st->linger_seq != t->recs[0].seq) {
		st->linger_seq = t->recs[0].seq;
		st->linger_since = mono;
	}
	/* When it is due, on the monotonic clock. */
	due = mono + t->recs[0].append_ms + sh->o.linger_ms - clock_wall_ms();
	if (due > st->linger_since + sh->o.linger_ms)
		due = st->linger_since + sh->o.linger_ms;
	if (t->n < sh->o.max_events &&
	    t->body_len + 256 < sh->o.max_bytes && !sh->stop_reading &&
	    due > mono) {
		earliest(sh, due);
		return NULL;
	}
	sb = calloc(1, sizeof(*sb));
	if (sb == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	sb->st = st;
	sb->b = *t; /* take the buffers; tmp gets new ones next time */
	memset(t, 0, sizeof(*t));
	st->read_seq = last_seq(sb);
	/* Keep RSS independent of the backlog: see spool_release_pages. */
	sh->read_bytes += sb->b.body_len;
	if (sh->read_bytes >= RELEASE_EVERY) {
		spool_release_pages(sh->s);
		sh->read_bytes = 0;
	}
	return sb;
}

/* The next batch of st that may go now: a retry that is due, else new. */
static struct sbatch *next_batch(struct shipper *sh, struct sstream *st,
				 int64_t now, int *err)
{
	struct sbatch *sb = st->waiting;

	*err = 0;
	if (sb != NULL) {
		if (sb->not_before > now) {
			earliest(sh, sb->not_before);
			return NULL;
		}
		st->waiting = sb->next;
		sb->next = NULL;
		return sb;
	}
	if (sh->stop_reading)
		return NULL;
	return next_new(sh, st, err);
}

/* A request may start: fewer than max_in_flight in flight (one while
 * probing a silent destination), and fewer than UNDELETED_PER_SLOT x
 * max_in_flight acknowledged batches waiting for their delete, so that
 * what a crash sends again stays bounded. */
static int slot_free(const struct shipper *sh)
{
	unsigned window = sh->probing ? 1 : sh->o.max_in_flight;

	return sh->inflight < window &&
	       sh->undeleted < UNDELETED_PER_SLOT * sh->o.max_in_flight;
}

static int fill_stream(struct shipper *sh, struct sstream *st, int64_t now)
{
	int err = 0;

	if (!st->url_ok)
		return 0;
	if (st->paused_until > now) {
		earliest(sh, st->paused_until);
		return 0;
	}
	while (slot_free(sh) && token_ready(sh, now)) {
		struct sbatch *sb = next_batch(sh, st, now, &err);

		if (sb == NULL)
			break;
		sb = age_out(sh, sb, &err);
		if (err != 0) {
			sb->not_before = now + sh->o.backoff_max_ms;
			queue_front(st, sb);
			break;
		}
		if (sb == NULL)
			continue; /* all of it expired */
		err = start(sh, sb);
		if (err != 0) {
			queue_front(st, sb);
			break;
		}
		if (sh->o.requests_per_minute > 0)
			sh->tokens -= 1.0;
	}
	return err;
}

static int fill(struct shipper *sh, int64_t now)
{
	int rc = 0;

	if (now < sh->pause_until) {
		earliest(sh, sh->pause_until);
		return 0;
	}
	if (sh->probing && now < sh->probe_next) {
		earliest(sh, sh->probe_next);
		return 0;
	}
	if (now < sh->next_auth) {
		earliest(sh, sh->next_auth);
		return 0;
	}
	if (sh->auth.prepare != NULL && slot_free(sh)) {
		char why[256];

		rc = sh->auth.prepare(sh->auth.arg, why, sizeof(why));
		if (rc != 0) {
			int64_t d = rc == SHIP_AUTH_ALARM ?
				sh->o.alarm_backoff_ms :
				(int64_t)backoff_full_jitter(
					sh->auth_attempt++, sh->o.backoff_min_ms,
					sh->o.backoff_max_ms, rnd(sh));

			sh->next_auth = now + d;
			sh->auth_alarm = rc == SHIP_AUTH_ALARM;
			log_error(sh->log, "cannot get a credential, sending "
				  "paused error=\"%s\" alarm=%s retry_ms=%lld",
				  why, rc == SHIP_AUTH_ALARM ? "yes" : "no",
				  (long long)d);
			set_error(sh, why);
			sh->c.alarms += rc == SHIP_AUTH_ALARM;
			sh->c.alarms_credentials += rc == SHIP_AUTH_ALARM;
			return 0;
		}
		sh->auth_attempt = 0;
		sh->auth_alarm = 0;
	}
	for (size_t k = 0; k < sh->nstreams && rc == 0; k++) {
		struct sstream *st = sh->streams[(sh->rr + k) % sh->nstreams];

		rc = fill_stream(sh, st, now);
	}
	if (sh->nstreams > 0)
		sh->rr = (sh->rr + 1) % sh->nstreams;
	return rc;
}

/* ---- answers ------------------------------------------------------------------- */

static void ack(struct shipper *sh, struct sbatch *sb)
{
	int64_t now = clock_wall_ms();

	if (array_grow((void **)&sh->acks, &sh->acks_cap, sh->nacks + 1,
		       sizeof(*sh->acks)) != 0) {
		/* Not deleted: it will be sent again, never lost. */
		log_error(sh->log, "out of memory recording an ack");
		return;
	}
	sh->acks[sh->nacks++] = (struct spool_range){ sb->st->id,
						      first_seq(sb),
						      last_seq(sb) };
	for (size_t i = 0; i < sb->b.n; i++) {
		int64_t ms = now - sb->b.recs[i].append_ms;
		unsigned bucket = 0;

		if (ms > 0)
			sh->c.latency_sum_ms += (uint64_t)ms;
		while (ms > 0 && bucket < 31) {
			ms >>= 1;
			bucket++;
		}
		sh->c.latency_buckets[bucket]++;
	}
	sh->c.batches_acked++;
	sh->c.last_ack_ms = clock_wall_ms();
	sb->st->attempt = 0;
	sb->st->alarmed = 0;
}

/* Hands the acknowledged batches to the deleter, or deletes them here
 * when it does not run.  Until they are deleted they stay in the spool
 * (after a crash they are sent again); never lost. */
static int flush_acks(struct shipper *sh)
{
	uint64_t deleted = 0;
	int rc;

	if (sh->nacks == 0)
		return 0;
	if (sh->del.started) {
		rc = deleter_add(&sh->del, sh->acks, sh->nacks);
		if (rc == 0)
			sh->undeleted += sh->nacks;
	} else
		rc = spool_batch_delete(sh->s, sh->acks, sh->nacks, &deleted);
	if (rc != 0) {
		log_error(sh->log, "deleting acknowledged batches failed "
			  "batches=%zu error=\"%s\"", sh->nacks,
			  spoolship_strerror(rc));
		return rc;
	}
	sh->c.events_shipped += deleted;
	sh->nacks = 0;
	return 0;
}

/* Counts what the deleter did since the last look and reports its
 * failures (it tries them again by itself). */
static void collect_deletes(struct shipper *sh)
{
	uint64_t deleted;
	size_t ranges, batches;
	int err;

	if (!sh->del.inited)
		return;
	deleter_collect(&sh->del, &deleted, &ranges, &err, &batches);
	sh->undeleted -= ranges < sh->undeleted ? ranges : sh->undeleted;
	sh->c.events_shipped += deleted;
	if (err != 0)
		log_error(sh->log, "deleting acknowledged batches failed, "
			  "trying again batches=%zu error=\"%s\"", batches,
			  spoolship_strerror(err));
}

static int to_dead(struct shipper *sh, struct sbatch *sb, unsigned reason)
{
	char ex[ANSWER_EXCERPT_MAX], q[ANSWER_EXCERPT_MAX * 4 + 8];
	size_t exlen = answer_excerpt(sb->resp, sb->resp_len, ex, sizeof(ex));
	struct dead_info di = { reason, (unsigned)sb->ans.http_status, ex,
				exlen };
	uint64_t seq = first_seq(sb), moved = 0;
	int rc = spool_dead_move(sh->s, sb->st->id, &seq, 1, &di, &moved);

	log_quote(ex, q, sizeof(q));
	if (rc != 0) {
		log_error(sh->log, "moving a refused event to the dead store "
			  "failed, will try again table=%s seq=%llu "
			  "error=\"%s\"", sb->st->name,
			  (unsigned long long)seq, spoolship_strerror(rc));
		return rc;
	}
	if (reason == DEAD_TOOBIG)
		sh->c.dead_too_big += moved;
	else
		sh->c.dead_rejected += moved;
	log_warn(sh->log, "event refused alone, moved to the dead store "
		 "table=%s seq=%llu status=%d reason=%s body=%s dest=%s",
		 sb->st->name, (unsigned long long)seq, sb->ans.http_status,
		 dead_reason_name(reason), q, sb->st->dest);
	return 0;
}

static void retry_later(struct sbatch *sb, int64_t delay)
{
	sb->attempt++;
	sb->not_before = clock_mono_ms() + delay;
	queue_front(sb->st, sb);
}

/* Splits sb in two halves queued first; a single event goes dead. */
static void split(struct shipper *sh, struct sbatch *sb, unsigned reason)
{
	struct sbatch *a, *b;
	size_t half = sb->b.n / 2;

	if (sb->b.n == 1) {
		if (to_dead(sh, sb, reason) == 0) {
			batch_free(sb);
			return;
		}
		/* Still pending: keep it in hand and try again later. */
		retry_later(sb, sh->o.backoff_max_ms);
		return;
	}
	a = batch_range(sb->st, &sb->b, 0, half);
	b = batch_range(sb->st, &sb->b, half, sb->b.n);
	if (a == NULL || b == NULL) {
		batch_free(a);
		batch_free(b);
		sb->not_before = clock_mono_ms() + sh->o.backoff_min_ms;
		queue_front(sb->st, sb);
		return;
	}
	if (reason == DEAD_TOOBIG)
		sh->c.splits++;
	else
		sh->c.bisections++;
	queue_front(sb->st, b);
	queue_front(sb->st, a);
	batch_free(sb);
}


static void note_error(struct shipper *sh, const struct sbatch *sb,
		       const struct answer_rule *r)
{
	char e[sizeof(sh->c.last_error) + 320];

	if (sb->ans.curl_code != CURLE_OK)
		snprintf(e, sizeof(e), "%s: %s (status %d, %s)", sb->st->name,
			 r->word, sb->ans.http_status,
			 curl_easy_strerror(sb->ans.curl_code));
	else
		snprintf(e, sizeof(e), "%s: %s (status %d)", sb->st->name,
			 r->word, sb->ans.http_status);
	set_error(sh, e);
}

/*
 * The tail of every failure and alarm line: where the request went
 * (scheme, host, port and path; never a user, a password or a query
 * string, where secrets and signatures sit), an excerpt of the answer's
 * body, and curl's word only when curl itself failed.
 */
static const char *fail_tail(const struct sbatch *sb, struct strbuf *b)
{
	char ex[LOG_BODY_MAX], q[LOG_BODY_MAX * 4 + 8];

	strbuf_printf(b, " dest=%s", sb->st->dest);
	if (sb->resp_len > 0) {
		answer_excerpt(sb->resp, sb->resp_len, ex, sizeof(ex));
		log_quote(ex, q, sizeof(q));
		strbuf_printf(b, " body=%s", q);
	}
	if (sb->ans.curl_code != CURLE_OK)
		strbuf_printf(b, " curl=\"%s\"",
			      curl_easy_strerror(sb->ans.curl_code));
	return b->p != NULL ? b->p : "";
}

/* A failed attempt of st: no answer, a 5xx, a 429, an alarm (not a
 * bisection or a token refresh, which are how things work). */
static void failed(struct sstream *st, int64_t now)
{
	if (st->fails++ == 0)
		st->fail_since = now;
}

/* The first 2xx of st after failed attempts, whatever they were: one
 * line says how many and for how long (one mechanism for the end of an
 * outage, of a 5xx spell, of a 429 pause and of an alarm). */
static void delivered(struct shipper *sh, struct sstream *st, int status,
		      int64_t now)
{
	if (st->fails == 0)
		return;
	log_info(sh->log, "delivery resumed after failures table=%s "
		 "attempts=%u down_ms=%lld status=%d dest=%s", st->name,
		 st->fails, (long long)(now - st->fail_since), status,
		 st->dest);
	st->fails = 0;
}

/* By class, and by code in the first free or matching by_code row. */
static void count_status(struct ship_counters *c, int status)
{
	int ok = status >= 100 && status < 600;

	c->by_class[ok ? status / 100 : 0]++;
	for (size_t i = 0; ok && i < SHIP_CODES; i++) {
		if (c->by_code[i].code == 0)
			c->by_code[i].code = status;
		if (c->by_code[i].code == status) {
			c->by_code[i].n++;
			return;
		}
	}
}

/* No answer at all: probe mode (one request at a time, every PROBE_MS)
 * instead of a backoff that grows with the outage.  The batch waits in
 * its stream's queue; the next probe may be it or another one. */
static void unanswered(struct shipper *sh, struct sbatch *sb,
		       const struct answer_rule *r, int64_t now)
{
	int64_t d = PROBE_MS - PROBE_JITTER_MS +
		    (int64_t)(rnd(sh) % (2 * PROBE_JITTER_MS + 1));
	struct strbuf tail = { 0 };
	const char *tl;

	note_error(sh, sb, r);
	failed(sb->st, now);
	tl = fail_tail(sb, &tail);
	if (!sh->probing) {
		sh->probing = 1;
		sh->probe_since = now;
		sh->probe_fails = 0;
		log_warn(sh->log, "destination unreachable, probing one "
			 "request at a time table=%s answer=%s "
			 "interval_ms=%d%s", sb->st->name, r->word, PROBE_MS,
			 tl);
	}
	sh->probe_fails++;
	sh->probe_next = now + d;
	if (sh->probe_fails % PROBE_LOG_EVERY == 0)
		log_warn(sh->log, "destination still unreachable, probing "
			 "table=%s answer=%s attempts=%u down_ms=%lld%s",
			 sb->st->name, r->word, sh->probe_fails,
			 (long long)(now - sh->probe_since), tl);
	strbuf_free(&tail);
	retry_later(sb, 0);
}

/* An answer arrived while probing: the destination is back, every
 * stream may fill the whole in-flight window again at once.  The
 * first 2xx of each stream says so (delivered()). */
static void answered(struct shipper *sh)
{
	sh->probing = 0;
}

static void on_answer(struct shipper *sh, struct sbatch *sb)
{
	const struct answer_rule *r = answer_classify(&sb->ans);
	struct sstream *st = sb->st;
	int64_t now = clock_mono_ms();
	int64_t pause = answer_pause_ms(&sb->ans, clock_wall_ms());
	int status = sb->ans.http_status;
	uint64_t delay;
	struct strbuf tail = { 0 };
	const char *tl;

	if (sb->ans.curl_code != CURLE_OK)
		sh->c.transport_errors++;
	else
		count_status(&sh->c, status);
	if (sb->ans.rl_remaining >= 0)
		sh->c.rl_remaining = sb->ans.rl_remaining;
	if (status > 0 && status != 401 && sh->auth.accepted != NULL)
		sh->auth.accepted(sh->auth.arg, sb->auth_gen);
	if (answer_unanswered(&sb->ans)) {
		unanswered(sh, sb, r, now);
		return;
	}
	answered(sh);
	if (pause > 0 && now + pause > sh->pause_until) {
		sh->pause_until = now + pause;
		sh->c.rate_limited++;
		log_warn(sh->log, "rate limited, pausing all sending "
			 "table=%s status=%d dest=%s pause_ms=%lld", st->name,
			 status, st->dest, (long long)pause);
	}
	switch (r->action) {
	case ANSWER_ACK:
		delivered(sh, st, status, now);
		ack(sh, sb);
		batch_free(sb);
		return;
	case ANSWER_BISECT:
		split(sh, sb, DEAD_REJECTED);
		return;
	case ANSWER_SPLIT:
		split(sh, sb, DEAD_TOOBIG);
		return;
	case ANSWER_AUTH_REFRESH:
		sh->c.auth_refreshes++;
		if (sh->auth.rejected != NULL &&
		    sh->auth.rejected(sh->auth.arg, sb->auth_gen)) {
			sh->c.alarms++;
			sh->c.alarms_credentials++;
			failed(st, now);
			tl = fail_tail(sb, &tail);
			set_error(sh, "credentials refused right after a "
				      "refresh");
			log_error(sh->log, "credentials alarm: refused right "
				  "after a refresh; backing off, data kept "
				  "table=%s status=%d backoff_ms=%lld%s",
				  st->name, status,
				  (long long)sh->o.alarm_backoff_ms, tl);
			strbuf_free(&tail);
			st->paused_until = now + sh->o.alarm_backoff_ms;
			st->alarmed = 1;
		}
		retry_later(sb, 0);
		return;
	case ANSWER_ALARM:
	case ANSWER_FATAL:
		sh->c.alarms++;
		failed(st, now);
		note_error(sh, sb, r);
		tl = fail_tail(sb, &tail);
		log_error(sh->log, "destination alarm, backing off, data kept "
			  "table=%s status=%d answer=%s backoff_ms=%lld%s",
			  st->name, status, r->word,
			  (long long)sh->o.alarm_backoff_ms, tl);
		strbuf_free(&tail);
		st->paused_until = now + sh->o.alarm_backoff_ms;
		st->alarmed = 1;
		if (r->action == ANSWER_FATAL)
			sh->fatal = 1;
		retry_later(sb, sh->o.alarm_backoff_ms);
		return;
	case ANSWER_RATE_LIMITED:
		failed(st, now);
		retry_later(sb, pause);
		return;
	case ANSWER_RETRY:
	default:
		delay = backoff_full_jitter(st->attempt, sh->o.backoff_min_ms,
					    sh->o.backoff_max_ms, rnd(sh));
		st->attempt++;
		failed(st, now);
		note_error(sh, sb, r);
		tl = fail_tail(sb, &tail);
		log_warn(sh->log, "request failed, will retry table=%s "
			 "status=%d answer=%s attempt=%u delay_ms=%llu%s",
			 st->name, status, r->word, sb->attempt + 1,
			 (unsigned long long)delay, tl);
		strbuf_free(&tail);
		retry_later(sb, (int64_t)delay);
		return;
	}
}

static void reap(struct shipper *sh)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(sh->multi, &left)) != NULL) {
		struct sbatch *sb = NULL;
		long status = 0;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
				  (char **)&sb);
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE,
				  &status);
		answer_finish(&sb->ans, m->data.result, status);
		curl_multi_remove_handle(sh->multi, m->easy_handle);
		curl_easy_cleanup(m->easy_handle);
		curl_slist_free_all(sb->hdrs);
		sb->easy = NULL;
		sb->hdrs = NULL;
		if (sb->fly_prev != NULL)
			sb->fly_prev->fly_next = sb->fly_next;
		else
			sh->flying = sb->fly_next;
		if (sb->fly_next != NULL)
			sb->fly_next->fly_prev = sb->fly_prev;
		sb->st->inflight--;
		sh->inflight--;
		on_answer(sh, sb);
	}
}

/* ---- the loop ------------------------------------------------------------------- */

/* The state the status page's badge shows (enum ship_state): the worst
 * thing true now, so that a process that runs but delivers nothing never
 * looks healthy. */
static int state_of(const struct shipper *sh, int64_t now)
{
	int alarm = sh->auth_alarm, retry = 0;

	/* An alarm holds through the retries after its backoff, until a
	 * 2xx (or a reload): the retry in flight is no delivery yet. */
	for (size_t i = 0; i < sh->nstreams; i++) {
		alarm |= sh->streams[i]->alarmed;
		retry |= sh->streams[i]->attempt > 0;
	}
	if (alarm)
		return SHIP_STATE_ALARM;
	if (now < sh->pause_until)
		return SHIP_STATE_RATE_LIMITED;
	if (sh->probing || retry || now < sh->next_auth)
		return SHIP_STATE_RETRYING;
	return sh->inflight > 0 ? SHIP_STATE_DELIVERING : SHIP_STATE_IDLE;
}

int ship_step(struct shipper *sh, int64_t max_wait_ms)
{
	struct curl_waitfd fds[2];
	unsigned nfds = 0;
	int64_t now = clock_mono_ms(), wait;
	int running, rc = 0, woken = 0;

	collect_deletes(sh); /* frees the slots of what was deleted */
	if (now >= sh->next_scan) {
		rc = scan_streams(sh);
		sh->next_scan = now + SCAN_EVERY_MS;
	}
	if (rc == 0 && now >= sh->next_expire && !sh->stop_reading)
		expire_sweep(sh, now);
	sh->wake_at = now + max_wait_ms;
	earliest(sh, sh->next_scan);
	if (sh->recheck_at > now)
		earliest(sh, sh->recheck_at);
	if (rc == 0)
		rc = fill(sh, now);
	if (rc != 0) {
		char e[128];

		log_error(sh->log, "reading the spool failed error=\"%s\"",
			  spoolship_strerror(rc));
		/* Ends the run (cli_run.c): say why in last_error. */
		snprintf(e, sizeof(e), "spool: %s", spoolship_strerror(rc));
		set_error(sh, e);
	}
	sh->c.in_flight = sh->inflight;
	wait = sh->wake_at - clock_mono_ms();
	if (wait < 0)
		wait = 0;
	if (sh->wake.fd >= 0)
		fds[nfds++] = (struct curl_waitfd){ sh->wake.fd, CURL_WAIT_POLLIN,
						    0 };
	if (sh->efd >= 0)
		fds[nfds++] = (struct curl_waitfd){ sh->efd, CURL_WAIT_POLLIN,
						    0 };
	curl_multi_poll(sh->multi, fds, nfds, (int)wait, NULL);
	for (unsigned i = 0; i < nfds; i++)
		woken |= fds[i].revents != 0;
	if (woken) {
		uint64_t v;

		wake_drain(&sh->wake);
		if (sh->efd >= 0 && read(sh->efd, &v, sizeof(v)) < 0)
			(void)0; /* nothing was pending */
		/* New data may be a new stream. */
		sh->next_scan = 0;
		/* inotify fires on LMDB's meta-page write, a moment before the
		 * new snapshot is published: look again shortly, or a batch
		 * could wait for the next timer (a lost wake-up). */
		sh->recheck_at = clock_mono_ms() + 3;
	}
	curl_multi_perform(sh->multi, &running);
	reap(sh);
	/* A failure is logged; the acks stay and are handed over again. */
	(void)flush_acks(sh);
	collect_deletes(sh);
	sh->c.in_flight = sh->inflight;
	sh->c.state = state_of(sh, clock_mono_ms());
	if (sh->fatal)
		return SPOOLSHIP_EINVAL;
	return rc;
}

void ship_stop_reading(struct shipper *sh)
{
	sh->stop_reading = 1;
}

unsigned ship_in_flight(const struct shipper *sh)
{
	return sh->inflight;
}

int ship_idle(struct shipper *sh)
{
	struct spool_stream *rows;
	size_t n;
	int idle = 1;

	if (sh->inflight > 0 || sh->nacks > 0 || deleter_pending(&sh->del))
		return 0;
	for (size_t i = 0; i < sh->nstreams; i++)
		if (sh->streams[i]->waiting != NULL)
			return 0;
	if (spool_streams(sh->s, &rows, &n) != 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (rows[i].pending_events != 0)
			idle = 0;
	free(rows);
	return idle;
}

void ship_wakeup(struct shipper *sh)
{
	uint64_t one = 1;

	if (sh->efd >= 0 && write(sh->efd, &one, sizeof(one)) < 0)
		(void)0; /* a wake-up is already pending */
}

const struct ship_counters *ship_counters(const struct shipper *sh)
{
	return &sh->c;
}

static int opts_ok(const struct ship_opts *o)
{
	return o->max_events > 0 && o->max_bytes > 0 && o->max_in_flight > 0 &&
	       o->url_for != NULL && o->timeout_ms > 0 &&
	       o->max_age_ms > o->age_margin_ms && o->backoff_min_ms > 0 &&
	       o->backoff_max_ms >= o->backoff_min_ms;
}

/*
 * A reload is the operator saying "fixed" (a url, the credentials, a
 * [table] mapping): every stream in an alarm or a backoff, and the
 * credential timer, is due at once, and a probe goes now.  The
 * receiver's own pause (pause_until: Retry-After, a spent rate window)
 * stays: the receiver asked for it and no local change shortens it.
 */
static void resume_all(struct shipper *sh)
{
	unsigned alarmed = 0, batches = 0;

	for (size_t i = 0; i < sh->nstreams; i++) {
		struct sstream *st = sh->streams[i];

		alarmed += st->paused_until > clock_mono_ms();
		st->paused_until = 0;
		st->attempt = 0;
		st->alarmed = 0;
		for (struct sbatch *b = st->waiting; b != NULL; b = b->next) {
			b->not_before = 0;
			batches++;
		}
	}
	sh->next_auth = 0;
	sh->auth_attempt = 0;
	sh->auth_alarm = 0;
	sh->probe_next = 0;
	log_info(sh->log, "reload: alarms and backoffs cleared, every stream "
		 "is tried at once streams=%zu alarmed=%u waiting=%u",
		 sh->nstreams, alarmed, batches);
}

int ship_set_opts(struct shipper *sh, const struct ship_opts *o)
{
	if (!opts_ok(o))
		return SPOOLSHIP_EINVAL;
	sh->o = *o;
	for (size_t i = 0; i < sh->nstreams; i++)
		stream_url(o, sh->streams[i]);
	resume_all(sh);
	return 0;
}

int ship_new(spoolship_spool *s, const char *dir, const struct ship_opts *o,
	     const struct ship_auth *a, struct logger *log,
	     struct shipper **out)
{
	struct shipper *sh;
	int fd;

	if (s == NULL || o == NULL || a == NULL || a->header == NULL ||
	    !opts_ok(o))
		return SPOOLSHIP_EINVAL;
	sh = calloc(1, sizeof(*sh));
	if (sh == NULL)
		return -ENOMEM;
	sh->s = s;
	sh->o = *o;
	sh->auth = *a;
	sh->log = log;
	sh->c.rl_remaining = -1;
	sh->tokens = 1.0;
	sh->tokens_ms = clock_mono_ms();
	sh->rng = (uint64_t)clock_wall_ms() ^ ((uint64_t)getpid() << 32) ^
		  0x9E3779B97F4A7C15ULL;
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &sh->rng, sizeof(sh->rng)) < 0 || sh->rng == 0)
			sh->rng = 0x9E3779B97F4A7C15ULL;
		close(fd);
	}
	sh->next_expire = clock_mono_ms() + SWEEP_FIRST_MS;
	sh->multi = curl_multi_init();
	sh->dir = strdup(dir);
	if (sh->multi == NULL || sh->dir == NULL) {
		ship_free(sh);
		return -ENOMEM;
	}
	curl_multi_setopt(sh->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
			  (long)o->max_in_flight);
	wake_open(&sh->wake, dir);
	sh->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	/* Without the thread, deletes run on this one (flush_acks). */
	if (deleter_start(&sh->del, s, sh->efd) != 0)
		log_warn(log, "no deleter thread: acknowledged batches are "
			 "deleted between requests");
	*out = sh;
	return 0;
}

void ship_finish(struct shipper *sh)
{
	(void)flush_acks(sh);
	deleter_stop(&sh->del);
	collect_deletes(sh);
}

void ship_free(struct shipper *sh)
{
	if (sh == NULL)
		return;
	ship_finish(sh);
	deleter_free(&sh->del);
	while (sh->flying != NULL) {
		struct sbatch *sb = sh->flying;

		sh->flying = sb->fly_next;
		curl_multi_remove_handle(sh->multi, sb->easy);
		batch_free(sb);
	}
	if (sh->multi != NULL)
		curl_multi_cleanup(sh->multi);
	for (size_t i = 0; i < sh->nstreams; i++) {
		struct sbatch *b = sh->streams[i]->waiting;

		while (b != NULL) {
			struct sbatch *n = b->next;

			batch_free(b);
			b = n;
		}
		free(sh->streams[i]);
	}
	wake_close(&sh->wake);
	if (sh->efd >= 0)
		close(sh->efd);
	spool_batch_free(&sh->tmp);
	free(sh->streams);
	free(sh->acks);
	free(sh->dir);
	free(sh);
}
