/*
 * ingest.c - the local Events-API endpoint (see ingest.h, docs/ingest.md).
 * libmicrohttpd's workers parse, validate and encode; the spool's commit
 * pipeline (spool_commit.c) commits what every waiting request brought in
 * one txn, then resumes them.  It must never answer 200 before the txn
 * holding the events is durable.
 */
#define _GNU_SOURCE
#include "ingest.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cjson/cJSON.h>

#include "array.h"
#include "auth.h"
#include "clock.h"
#include "http_server.h"
#include "spool.h"
#include "spool_commit.h"
#include "strbuf.h"
#include "validate.h"

#ifndef INGEST_THREADS
#define INGEST_THREADS 2       /* MHD workers; they validate, never wait */
#endif
#define CRON_MS 100            /* deadline sweep and health probe tick */
#define PROBE_MS 1000          /* unwritable spool: probe this often */
#define RETRY_AFTER "5"        /* seconds, with every 503 */
#define ERRORS_LISTED 1000     /* bad lines named in one answer */
#define CONN_MEMORY (64u << 10)/* MHD's buffers per connection */
#define DROP_BYTES (128u << 20)/* a refused body announced up to this
				* long is read and dropped before the
				* answer: a client writing it all first
				* then reads the answer */
#define REFUSED_LOG_BURST 10   /* "request refused" lines per ... */
#define REFUSED_LOG_MS 10000   /* ... this long, then counted only */
#define DIGEST_LEN 32

/* ---- types -------------------------------------------------------------- */

enum route { R_OTHER = 0, R_EVENTS, R_HEALTH };

/* One client connection as the deadline sweep sees it (MHD socket
 * context).  deadline: monotonic ms by which the request being received
 * must be complete; 0 while one is being processed. */
struct iconn {
	struct iconn *prev, *next;
	int fd;
	int64_t deadline;
	int cut;
};

/* One HTTP request (MHD's con_cls).  Owned by the connection's worker
 * thread, except r->req while the connection is suspended (the pipe's
 * until it resumes the connection, never after). */
struct ireq {
	struct ingest *ig;
	struct MHD_Connection *conn;
	int route;
	unsigned status;        /* the answer once decided, else 0 */
	const char *allow;      /* Allow header of a 405 */
	int retry;              /* add Retry-After */
	struct strbuf msg;      /* answer body */
	char stream[SPOOLSHIP_MAX_TABLE_LEN + 1];
	int gzip;
	char *body;             /* gzip: the whole body; plain: the line
				 * being received (complete ones are
				 * validated as they arrive) */
	size_t len, cap;
	size_t got;             /* body bytes received */
	int over;               /* body over the limit: the rest is dropped */
	size_t line;            /* lines of the body validated so far */
	struct validate_opts vo;
	int queued;             /* handed to the commit pipe */
	/* what validation made of the body */
	char *arena;
	size_t alen, acap;
	struct spool_item *items;
	size_t n, icap;
	size_t bad;
	struct strbuf errs;     /* entries of the answer's errors array */
	struct spool_commit_req req;
	int64_t t0_us;          /* monotonic: when its headers were in */
};

struct ingest {
	spoolship_spool *s;
	struct logger *log;
	struct http_server *srv;
	/* settings copied from the config at the start */
	int has_token;
	unsigned char token_digest[DIGEST_LEN];
	size_t max_body;
	int reject_all;
	int64_t timeout_ms;
	size_t nmap;
	char **map_id, **map_name;  /* [table NAME] id -> NAME */
	/* the commit pipe, the health state and the cron thread */
	struct spool_pipe *pipe;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t cron_th;
	int cron_running;
	int stopping;
	int health_rc;              /* 0: the last commit or probe worked */
	size_t probe_bytes;         /* what the last failed commit needed */
	int64_t next_probe;
	/* connections, for the deadline sweep */
	pthread_mutex_t cmu;
	struct iconn *conns;
	_Atomic uint64_t requests, accepted, rejected, commits, cut_off;
	_Atomic uint64_t by_code[INGEST_NCODES + 1];
	_Atomic uint64_t rejected_by[INGEST_NREASONS];
	_Atomic uint64_t request_bytes, commit_sum_us;
	_Atomic uint64_t commit_buckets[INGEST_NBUCKETS + 1];
	struct log_limit refused_log; /* "ingest request refused" lines */
};

/* ---- small helpers ----------------------------------------------------- */

/* s as a JSON string.  Bytes of a reason that is not valid UTF-8 (a
 * quoted piece of a bad event, or one cut short) become '?'. */
static void sb_json_str(struct strbuf *b, const char *s)
{
	size_t n = strlen(s);
	int utf8 = validate_utf8(s, n);

	strbuf_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			strbuf_add(b, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			strbuf_add(b, esc, 6);
		} else if (c >= 0x80 && !utf8) {
			strbuf_add(b, "?", 1);
		} else {
			strbuf_add(b, s + i, 1);
		}
	}
	strbuf_add(b, "\"", 1);
}

static int digest(const char *s, size_t n, unsigned char out[DIGEST_LEN])
{
	unsigned int len = 0;

	if (EVP_Digest(s, n, out, &len, EVP_sha256(), NULL) != 1 ||
	    len != DIGEST_LEN)
		return -1;
	return 0;
}

const unsigned ingest_codes[INGEST_NCODES] = {
	200, 400, 401, 404, 405, 411, 413, 415, 417, 500, 503,
};

/* Stable label values: metrics.md and dashboards name them. */
const char *const ingest_reasons[INGEST_NREASONS] = {
	"bad_json", "not_object", "missing_time", "bad_time", "too_old",
	"too_big", "bad_utf8", "invalid", "reject_all",
};
#define REASON_INVALID 7
#define REASON_REJECT_ALL 8

/* 0.5 ms to 10 s: a commit is a sync (about a millisecond on an SSD) and
 * a request waits for its group's txn. */
const uint32_t ingest_bucket_us[INGEST_NBUCKETS] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
	500000, 1000000, 2500000, 5000000, 10000000,
};

/* The validation errors in ingest_reasons' order (the /metrics label),
 * each with its "code" in the answer; any other is "invalid". */
static const struct {
	int err;
	const char *code;
} verrs[REASON_INVALID] = {
	{ SPOOLSHIP_EJSON, "json" },
	{ SPOOLSHIP_ENOTOBJECT, "not_object" },
	{ SPOOLSHIP_ENOTIME, "no_time" },
	{ SPOOLSHIP_EBADTIME, "bad_time" },
	{ SPOOLSHIP_ETOOOLD, "too_old" },
	{ SPOOLSHIP_ETOOBIG, "too_big" },
	{ SPOOLSHIP_EUTF8, "utf8" },
};

/* Index into ingest_reasons of a validation error. */
static size_t reason_of(int err)
{
	size_t i = 0;

	while (i < REASON_INVALID && verrs[i].err != err)
		i++;
	return i;
}

/* Short names of the validation errors, for the answer's "code". */
static const char *code_name(int err)
{
	size_t i = reason_of(err);

	return i < REASON_INVALID ? verrs[i].code : "invalid";
}

/* ---- connections and their deadlines ---------------------------------- */

static struct iconn *iconn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

static void conn_open(struct ingest *ig, struct MHD_Connection *c,
		      void **ctx)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct iconn *ic;

	/* Untracked (no memory): MHD's idle timeout still applies. */
	if (ci == NULL || (ic = calloc(1, sizeof(*ic))) == NULL)
		return;
	ic->fd = ci->connect_fd;
	pthread_mutex_lock(&ig->cmu);
	ic->deadline = clock_mono_ms() + ig->timeout_ms;
	ic->next = ig->conns;
	if (ig->conns != NULL)
		ig->conns->prev = ic;
	ig->conns = ic;
	pthread_mutex_unlock(&ig->cmu);
	*ctx = ic;
}

/* MHD calls this before it closes the socket: once ic is unlinked under
 * cmu, the sweep can no longer shut down a descriptor number reused by a
 * newer connection. */
static void conn_close(struct ingest *ig, struct iconn *ic)
{
	if (ic == NULL)
		return;
	pthread_mutex_lock(&ig->cmu);
	if (ic->prev != NULL)
		ic->prev->next = ic->next;
	else
		ig->conns = ic->next;
	if (ic->next != NULL)
		ic->next->prev = ic->prev;
	pthread_mutex_unlock(&ig->cmu);
	free(ic);
}

/* 0: no deadline (a request is being processed); else ms from now. */
static void conn_deadline(struct ingest *ig, struct MHD_Connection *c,
			  int64_t in_ms)
{
	struct iconn *ic = iconn_of(c);

	if (ic == NULL)
		return;
	pthread_mutex_lock(&ig->cmu);
	ic->deadline = in_ms > 0 ? clock_mono_ms() + in_ms : 0;
	pthread_mutex_unlock(&ig->cmu);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct ingest *ig = cls;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		conn_open(ig, c, ctx);
	} else {
		conn_close(ig, *ctx);
		*ctx = NULL;
	}
}

/* A request must arrive whole within timeout_ms of the connection's
 * start or of the previous answer.  MHD's own timeout only counts idle
 * time, which a client sending a byte a second never reaches. */
static void conns_sweep(struct ingest *ig, int64_t now)
{
	unsigned cut = 0;

	pthread_mutex_lock(&ig->cmu);
	for (struct iconn *ic = ig->conns; ic != NULL; ic = ic->next) {
		if (ic->cut || ic->deadline == 0 || now < ic->deadline)
			continue;
		shutdown(ic->fd, SHUT_RDWR); /* MHD sees EOF and closes */
		ic->cut = 1;
		cut++;
	}
	pthread_mutex_unlock(&ig->cmu);
	if (cut == 0)
		return;
	atomic_fetch_add(&ig->cut_off, cut);
	log_info(ig->log, "ingest closed connections that did not send a "
		 "whole request in time connections=%u timeout_ms=%lld", cut,
		 (long long)ig->timeout_ms);
}

/* ---- commits and the health probe --------------------------------------- */

static int spool_broken(int rc)
{
	return rc != 0 && rc != SPOOLSHIP_EINVAL;
}

/* rc of a commit (or probe) that needed `bytes` of room. */
static void health_set(struct ingest *ig, int rc, size_t bytes)
{
	int was;

	pthread_mutex_lock(&ig->mu);
	was = ig->health_rc;
	ig->health_rc = rc;
	if (rc != 0)
		ig->probe_bytes = bytes;
	pthread_mutex_unlock(&ig->mu);
	if (was == 0 && rc == SPOOLSHIP_ESPOOL_FULL)
		log_error(ig->log, "ingest: the spool is not writable, "
			  "answering 503 error=\"%s\" limit=%s",
			  spoolship_strerror(rc), spool_full_limit(ig->s));
	else if (was == 0 && rc != 0)
		log_error(ig->log, "ingest: the spool is not writable, "
			  "answering 503 error=\"%s\"", spoolship_strerror(rc));
	else if (was != 0 && rc == 0)
		log_info(ig->log, "ingest: the spool is writable again");
}

/* While the spool is not writable: would what the last failed commit
 * needed fit now (full), or does a commit work again (I/O)? */
static void probe(struct ingest *ig, int was, size_t bytes)
{
	health_set(ig, spool_room_probe(ig->s, was, bytes), bytes);
}

static void refused_summary(struct ingest *ig, int64_t now);

static void cron(struct ingest *ig, int64_t now)
{
	size_t bytes;
	int rc;

	conns_sweep(ig, now);
	refused_summary(ig, now);
	pthread_mutex_lock(&ig->mu);
	rc = ig->health_rc;
	bytes = ig->probe_bytes;
	pthread_mutex_unlock(&ig->mu);
	if (rc == 0 || now < ig->next_probe)
		return;
	ig->next_probe = now + PROBE_MS;
	probe(ig, rc, bytes);
}

/* Bytes n events of `bytes` take in the spool, about. */
static size_t room_for(size_t n, size_t bytes)
{
	return bytes + n * (RECORD_HDR_LEN + EVENT_KEY_LEN + 8);
}

/* The pipe's callback: r's events are durable, or failed. */
static void commit_done(struct spool_commit_req *req, void *arg)
{
	struct ireq *r = arg;

	health_set(r->ig, spool_broken(req->rc) ? req->rc : 0,
		   room_for(r->n, r->alen));
	/* After MHD_resume_connection r may be freed at any time. */
	MHD_resume_connection(r->conn);
}

/* The deadline sweep and the health probe, every CRON_MS. */
static void *cron_main(void *arg)
{
	struct ingest *ig = arg;
	struct timespec ts;

	pthread_mutex_lock(&ig->mu);
	while (!ig->stopping) {
		pthread_mutex_unlock(&ig->mu);
		cron(ig, clock_mono_ms());
		pthread_mutex_lock(&ig->mu);
		clock_deadline(&ts, CRON_MS);
		if (!ig->stopping)
			pthread_cond_timedwait(&ig->cv, &ig->mu, &ts);
	}
	pthread_mutex_unlock(&ig->mu);
	return NULL;
}

/* ---- answers ------------------------------------------------------------ */

static void set_answer(struct ireq *r, unsigned status, const char *message)
{
	r->status = status;
	r->msg.len = 0;
	strbuf_str(&r->msg, "{\"message\":");
	sb_json_str(&r->msg, message);
	strbuf_str(&r->msg, "}");
}

/* 400 naming each bad line (up to ERRORS_LISTED) and the count kept. */
static void set_bad_answer(struct ireq *r, size_t accepted)
{
	size_t total = r->n + r->bad;

	r->status = MHD_HTTP_BAD_REQUEST;
	r->msg.len = 0;
	strbuf_printf(&r->msg, "{\"message\":\"%zu of %zu events rejected, ",
		      r->bad, total);
	if (accepted > 0)
		strbuf_printf(&r->msg, "%zu accepted\"", accepted);
	else if (r->n > 0)
		strbuf_str(&r->msg, "none accepted (partial = reject_all)\"");
	else
		strbuf_str(&r->msg, "none accepted\"");
	strbuf_printf(&r->msg, ",\"accepted\":%zu,\"rejected\":%zu,"
		      "\"errors\":[", accepted, r->bad);
	if (r->errs.len > 0) /* without the first entry's ',' */
		strbuf_add(&r->msg, r->errs.p + 1, r->errs.len - 1);
	strbuf_str(&r->msg, "]}");
}

static void set_health_answer(struct ireq *r)
{
	struct ingest *ig = r->ig;
	int rc, stopping;

	pthread_mutex_lock(&ig->mu);
	rc = ig->health_rc;
	stopping = ig->stopping;
	pthread_mutex_unlock(&ig->mu);
	r->msg.len = 0;
	if (rc == 0 && !stopping) {
		r->status = MHD_HTTP_OK;
		strbuf_str(&r->msg, "{\"status\":\"ok\"}");
		return;
	}
	r->status = MHD_HTTP_SERVICE_UNAVAILABLE;
	r->retry = 1;
	strbuf_str(&r->msg, "{\"status\":\"unavailable\",\"error\":");
	sb_json_str(&r->msg, stopping ? "shutting down"
				      : spoolship_strerror(rc));
	strbuf_str(&r->msg, "}");
}

/* "ADDR:PORT" of the client (IPv6 in brackets), "-" when unknown. */
static void client_of(struct MHD_Connection *c, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;
	char host[NI_MAXHOST], port[NI_MAXSERV];
	socklen_t sl = sa != NULL && sa->sa_family == AF_INET6 ?
		sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

	if (sa == NULL || getnameinfo(sa, sl, host, sizeof(host), port,
				      sizeof(port),
				      NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(out, len, "-");
	else
		snprintf(out, len, sa->sa_family == AF_INET6 ? "[%s]:%s"
							     : "%s:%s",
			 host, port);
}

/* Why r was refused, from its answer: the message, and for bad events
 * the first one named (the client got them all). */
static void refused_reason(const struct ireq *r, char *out, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(r->msg.p, r->msg.len);
	const cJSON *m = cJSON_GetObjectItem(j, "message");
	const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "errors"),
					    0);
	const cJSON *line = cJSON_GetObjectItem(e, "line");
	const cJSON *why = cJSON_GetObjectItem(e, "error");

	if (cJSON_IsString(m) && cJSON_IsNumber(line) && cJSON_IsString(why))
		snprintf(out, len, "%s; line %.0f: %s", m->valuestring,
			 line->valuedouble, why->valuestring);
	else if (cJSON_IsString(m))
		snprintf(out, len, "%s", m->valuestring);
	else
		snprintf(out, len, "-");
	cJSON_Delete(j);
}

/*
 * A refused request (4xx, 5xx) at info: who, what and why, so that an
 * operator sees what a client was told.  A client can send refusals as
 * fast as it likes: REFUSED_LOG_BURST lines per REFUSED_LOG_MS, the
 * others counted (suppressed=N on the next line, or refused_summary()).
 */
static void log_refused(struct ireq *r)
{
	char client[NI_MAXHOST + NI_MAXSERV + 4], why[320], q[1300];
	uint64_t held;

	if (r->status < 400 || r->route == R_HEALTH ||
	    !log_limit_take(&r->ig->refused_log, clock_mono_ms(), 0, &held))
		return;
	client_of(r->conn, client, sizeof(client));
	refused_reason(r, why, sizeof(why));
	log_quote(why, q, sizeof(q));
	log_info(r->ig->log, "ingest request refused client=%s status=%u "
		 "reason=%s table=%s suppressed=%llu", client, r->status, q,
		 r->stream[0] ? r->stream : "-", (unsigned long long)held);
}

/* Refusals held back by the rate limit, once a line may go again. */
static void refused_summary(struct ingest *ig, int64_t now)
{
	uint64_t held;

	if (log_limit_take(&ig->refused_log, now, 1, &held))
		log_info(ig->log, "ingest requests refused without a line "
			 "of their own suppressed=%llu period_ms=%d",
			 (unsigned long long)held, REFUSED_LOG_MS);
}

/* Every answer by status; an events request's body bytes too. */
static void count_request(struct ireq *r)
{
	size_t i = 0;

	while (i < INGEST_NCODES && ingest_codes[i] != r->status)
		i++;
	atomic_fetch_add(&r->ig->by_code[i], 1);
	if (r->route == R_EVENTS)
		atomic_fetch_add(&r->ig->request_bytes, r->got);
}

/* A request whose events are durable: its time since the headers. */
static void count_commit(struct ireq *r)
{
	int64_t us = clock_mono_us() - r->t0_us;
	size_t i = 0;

	if (us < 0)
		us = 0;
	while (i < INGEST_NBUCKETS && (uint64_t)us > ingest_bucket_us[i])
		i++;
	atomic_fetch_add(&r->ig->commit_buckets[i], 1);
	atomic_fetch_add(&r->ig->commit_sum_us, (uint64_t)us);
}

static void log_request(struct ireq *r)
{
	count_request(r);
	if (r->route != R_EVENTS)
		return;
	atomic_fetch_add(&r->ig->requests, 1);
	log_debug(r->ig->log, "ingest request table=%s status=%u events=%zu "
		  "rejected=%zu bytes=%zu", r->stream[0] ? r->stream : "-",
		  r->status, r->n, r->bad, r->got);
}

/* Queues r's answer.  An answer queued before the body was read makes
 * MHD close the connection afterwards instead of reading it. */
/* An answer body that could not be built: a 500 without one. */
static void answer_oom(struct ireq *r)
{
	if (r->msg.oom) {
		strbuf_free(&r->msg);
		r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

static enum MHD_Result deliver(struct ireq *r)
{
	struct MHD_Response *rsp;
	enum MHD_Result ret;

	answer_oom(r);
	rsp = MHD_create_response_from_buffer(r->msg.len,
					      r->msg.len ? r->msg.p : "",
					      MHD_RESPMEM_MUST_COPY);
	if (rsp == NULL)
		return MHD_NO;
	if (r->msg.len > 0)
		MHD_add_response_header(rsp, MHD_HTTP_HEADER_CONTENT_TYPE,
					"application/json");
	if (r->retry)
		MHD_add_response_header(rsp, MHD_HTTP_HEADER_RETRY_AFTER,
					RETRY_AFTER);
	if (r->allow != NULL)
		MHD_add_response_header(rsp, MHD_HTTP_HEADER_ALLOW, r->allow);
	ret = MHD_queue_response(r->conn, r->status, rsp);
	MHD_destroy_response(rsp);
	log_request(r);
	log_refused(r);
	return ret;
}

/* ---- routing and headers ------------------------------------------------ */

/* The stream a table id or connection name in the path stands for: the
 * NAME of a [table NAME] with that id, else the segment itself.  Returns
 * 0, or -1 when the segment is no valid stream name. */
static int stream_of(struct ireq *r, const char *seg, size_t len)
{
	struct ingest *ig = r->ig;

	for (size_t i = 0; i < ig->nmap; i++)
		if (strlen(ig->map_id[i]) == len &&
		    memcmp(ig->map_id[i], seg, len) == 0) {
			snprintf(r->stream, sizeof(r->stream), "%s",
				 ig->map_name[i]);
			return 0;
		}
	if (len == 0 || len > SPOOLSHIP_MAX_TABLE_LEN)
		return -1;
	memcpy(r->stream, seg, len);
	r->stream[len] = '\0';
	return spoolship_table_name_ok(r->stream) ? 0 : -1;
}

/* Returns the table segment of an events path and its length, or NULL:
 * /v1/events/{table} or /v1/projects/{project}/events/{connection}. */
static const char *events_segment(const char *url, size_t *len)
{
	const char *p = NULL, *slash;

	if (strncmp(url, "/v1/events/", 11) == 0) {
		p = url + 11;
	} else if (strncmp(url, "/v1/projects/", 13) == 0) {
		slash = strchr(url + 13, '/');
		if (slash != NULL && slash > url + 13 &&
		    strncmp(slash, "/events/", 8) == 0)
			p = slash + 8;
	}
	if (p == NULL || *p == '\0' || strchr(p, '/') != NULL)
		return NULL;
	*len = strlen(p);
	return p;
}

/* The request headers that matter here (NULL when absent). */
static void headers_of(struct MHD_Connection *c, struct ingest_headers *h)
{
	h->authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_AUTHORIZATION);
	h->content_length = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_CONTENT_LENGTH);
	h->transfer_encoding = MHD_lookup_connection_value(c,
		MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	h->content_encoding = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_CONTENT_ENCODING);
	h->expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_EXPECT);
}

/* h: the Authorization header, or NULL. */
static int auth_ok(struct ingest *ig, const char *h)
{
	unsigned char d[DIGEST_LEN];
	size_t n;

	if (!ig->has_token)
		return 1; /* any Authorization header, or none */
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	for (h += 7; *h == ' '; h++)
		;
	n = strlen(h);
	while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
		n--;
	/* Digests of equal length: the comparison leaks nothing, not even
	 * the token's length. */
	if (digest(h, n, d) != 0)
		return 0;
	return CRYPTO_memcmp(d, ig->token_digest, DIGEST_LEN) == 0;
}

/* 1 when the request announces a body (Content-Length > 0 or chunked);
 * *clen gets the announced length (0 when chunked). */
static int announced_body(const struct ingest_headers *h, uint64_t *clen)
{
	const char *cl = h->content_length, *te = h->transfer_encoding;
	char *end;

	*clen = 0;
	if (cl != NULL) {
		errno = 0;
		*clen = strtoull(cl, &end, 10);
		if (errno != 0 || end == cl)
			*clen = UINT64_MAX;
	}
	return *clen > 0 || te != NULL;
}

/* Content-Encoding h (NULL: none): 0 none, 1 gzip, -1 something else. */
static int encoding_of(const char *h)
{
	if (h == NULL || *h == '\0' || strcasecmp(h, "identity") == 0)
		return 0;
	if (strcasecmp(h, "gzip") == 0 || strcasecmp(h, "x-gzip") == 0)
		return 1;
	return -1;
}

/* The checks an events request passes before its body is read. */
static void check_events_headers(struct ireq *r,
				 const struct ingest_headers *h,
				 const char *seg, size_t seglen, uint64_t clen)
{
	struct ingest *ig = r->ig;
	char m[128];
	int enc;

	if (!auth_ok(ig, h->authorization)) {
		set_answer(r, MHD_HTTP_UNAUTHORIZED, "Unauthorized");
		return;
	}
	if (stream_of(r, seg, seglen) != 0) {
		r->stream[0] = '\0';
		set_answer(r, MHD_HTTP_NOT_FOUND, "unknown table: a table "
			   "name is 1 to 255 of A-Z a-z 0-9 . _ - (or the id "
			   "of a [table NAME] section)");
		return;
	}
	if ((enc = encoding_of(h->content_encoding)) < 0) {
		set_answer(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
			   "unsupported Content-Encoding: use gzip or none");
		return;
	}
	r->gzip = enc;
	if (clen > ig->max_body) {
		snprintf(m, sizeof(m), "request body over %zu bytes",
			 ig->max_body);
		set_answer(r, MHD_HTTP_CONTENT_TOO_LARGE, m);
		return;
	}
	if (clen == 0)
		return;
	/* Sized once from Content-Length: a gzip body is kept whole, a
	 * plain one validated into the arena as it arrives. */
	if (r->gzip && (r->body = malloc((size_t)clen)) != NULL)
		r->cap = (size_t)clen;
	else if (!r->gzip && (r->arena = malloc((size_t)clen + 4096)) != NULL)
		r->acap = (size_t)clen + 4096;
}

/* Decides what it can from the request line and headers. */
static void route_request(struct ireq *r, const struct ingest_headers *h,
			  const char *url, const char *method, uint64_t clen)
{
	const char *seg;
	size_t seglen = 0;

	if (strcmp(url, "/healthz") == 0) {
		r->route = R_HEALTH;
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
			r->allow = "GET, HEAD";
			set_answer(r, MHD_HTTP_METHOD_NOT_ALLOWED,
				   "method not allowed");
		}
		return;
	}
	if ((seg = events_segment(url, &seglen)) == NULL) {
		set_answer(r, MHD_HTTP_NOT_FOUND, "not found");
		return;
	}
	r->route = R_EVENTS;
	if (strcmp(method, "POST") != 0) {
		r->allow = "POST";
		set_answer(r, MHD_HTTP_METHOD_NOT_ALLOWED,
			   "method not allowed");
		return;
	}
	check_events_headers(r, h, seg, seglen, clen);
}

/* The request line and headers are in.  Returns 1 when a refusal goes
 * out now, before the body, and MHD closes the connection after it: when
 * the client waits for "100 Continue" (it then never sends the body), or
 * announces more than DROP_BYTES.  Otherwise the body is read and
 * dropped and the refusal answered after it: a client that writes the
 * whole body before it reads (Fluent Bit, Python's http.client) would
 * see a reset instead of an answer sent early. */
static int request_begin(struct ireq *r, const struct ingest_headers *h,
			 const char *url, const char *method)
{
	uint64_t clen;
	int body = announced_body(h, &clen);

	spool_validate_opts(r->ig->s, &r->vo);
	route_request(r, h, url, method, clen);
	if (r->status == 0 || !body)
		return 0;
	return (h->expect != NULL &&
		strcasecmp(h->expect, "100-continue") == 0) ||
	       clen > DROP_BYTES;
}

/* ---- the body ----------------------------------------------------------- */

static int take_lines(struct ireq *r, const char *p, size_t len, int last,
		      size_t *done);

/* The body passed the limit: nothing of it is kept, what follows is read
 * and dropped. */
static void drop_body(struct ireq *r)
{
	r->over = 1;
	free(r->body);
	free(r->arena);
	free(r->items);
	r->body = r->arena = NULL;
	r->items = NULL;
	r->len = r->cap = r->alen = r->acap = r->n = r->icap = r->bad = 0;
	r->errs.len = 0;
}

/* Appends data[0..n) to r->body (len + n is within max_body).  Returns 0
 * or -ENOMEM. */
static int keep(struct ireq *r, const char *data, size_t n)
{
	if (array_grow_max((void **)&r->body, &r->cap, r->len + n, 1,
			   r->ig->max_body) != 0)
		return -ENOMEM;
	memcpy(r->body + r->len, data, n);
	r->len += n;
	return 0;
}

/* Validates the complete lines of a plain body received so far and keeps
 * only the line still arriving: the body is never held whole beside its
 * validated events.  Returns 0 or -ENOMEM. */
static int take_complete(struct ireq *r)
{
	size_t done;
	int rc = take_lines(r, r->body, r->len, 0, &done);

	memmove(r->body, r->body + done, r->len - done);
	r->len -= done;
	return rc;
}

static void absorb(struct ireq *r, const char *data, size_t n)
{
	if (r->status != 0 || r->over)
		return;
	if (n > r->ig->max_body - r->got) {
		drop_body(r);
		return;
	}
	r->got += n;
	/* What is kept of a plain body holds no '\n': only new data can
	 * complete a line (one long line is not scanned again and again). */
	if (keep(r, data, n) != 0 ||
	    (!r->gzip && memchr(data, '\n', n) != NULL &&
	     take_complete(r) != 0)) {
		set_answer(r, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
		r->retry = 1;
	}
}

/*
 * Inflates the gzip data in[0..len) (one or more members) into a new
 * buffer holding at most limit bytes.  Returns 0 with *out owned by the
 * caller, 1 when the data inflates beyond limit (a gzip bomb stops there),
 * -1 when it is not valid gzip, -ENOMEM.
 */
static int gunzip_bounded(const char *in, size_t len, size_t limit,
			  char **out, size_t *outlen)
{
	z_stream z;
	size_t cap = len * 4 > 65536 ? len * 4 : 65536, have = 0;
	char *buf;
	int rc = -1, zr;

	if (cap > limit + 1)
		cap = limit + 1;
	memset(&z, 0, sizeof(z));
	if ((buf = malloc(cap)) == NULL)
		return -ENOMEM;
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(buf);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	for (;;) {
		/* Doubling, up to one byte past the limit (which proves
		 * the body too big). */
		if (have == cap &&
		    (rc = array_grow_max((void **)&buf, &cap, cap + 1, 1,
					 limit + 1)) != 0)
			break;
		z.next_out = (Bytef *)buf + have;
		z.avail_out = (uInt)(cap - have);
		zr = inflate(&z, Z_NO_FLUSH);
		have = cap - z.avail_out;
		if (have > limit) {
			rc = 1;
			break;
		}
		if (zr == Z_STREAM_END && z.avail_in == 0) {
			rc = 0;
			break;
		}
		if (zr == Z_STREAM_END) {
			inflateReset(&z); /* another member follows */
			continue;
		}
		if (zr == Z_OK || (zr == Z_BUF_ERROR && z.avail_out == 0))
			continue;
		rc = -1; /* corrupt, or cut short */
		break;
	}
	inflateEnd(&z);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*outlen = have;
	return 0;
}

static void note_bad(struct ireq *r, size_t line, int err, const char *why)
{
	r->bad++;
	atomic_fetch_add(&r->ig->rejected_by[reason_of(err)], 1);
	if (r->bad > ERRORS_LISTED)
		return;
	strbuf_printf(&r->errs, ",{\"line\":%zu,\"code\":\"%s\",\"error\":",
		      line, code_name(err));
	sb_json_str(&r->errs, why);
	strbuf_str(&r->errs, "}");
}

/* Room for one more event of up to len bytes.  Returns 0 or -ENOMEM. */
static int reserve_event(struct ireq *r, size_t len)
{
	size_t need = r->alen + len + VALIDATE_SLACK;

	if (array_grow((void **)&r->items, &r->icap, r->n + 1,
		       sizeof(*r->items)) != 0)
		return -ENOMEM;
	if (need > r->acap) {
		/* A quarter more: a chunked body's arena stays close to what
		 * its events need. */
		size_t nc = need + need / 4 > 65536 ? need + need / 4 : 65536;
		char *np = realloc(r->arena, nc);

		if (np == NULL)
			return -ENOMEM;
		r->arena = np;
		r->acap = nc;
	}
	return 0;
}

/* Validates the event of one line (validate_line()'s, not blank); a
 * valid one goes into the arena (its data field holds the offset until
 * the body is done: the arena may move). */
static int take_line(struct ireq *r, const struct validate_opts *vo,
		     const char *p, size_t len, size_t line)
{
	struct spool_item *it;
	char why[256];
	size_t outlen;
	int rc;

	if ((rc = reserve_event(r, len)) != 0)
		return rc;
	it = &r->items[r->n];
	rc = validate_event(p, len, vo, r->arena + r->alen,
			    r->acap - r->alen, &outlen, &it->event_ms, why,
			    sizeof(why));
	if (rc != 0) {
		note_bad(r, line, rc, why);
		return 0;
	}
	it->data = (const char *)(uintptr_t)r->alen;
	it->len = outlen;
	r->alen += outlen;
	r->n++;
	return 0;
}

/* Validates the lines of p[0..len), the body's next bytes: the complete
 * ones, and with last the rest too.  *done: the bytes they took.
 * Returns 0 or -ENOMEM. */
static int take_lines(struct ireq *r, const char *p, size_t len, int last,
		      size_t *done)
{
	size_t start = 0, n, used;
	int rc = 0;

	while (rc == 0 && start < len &&
	       (used = validate_line(p + start, len - start, last, &n)) > 0) {
		r->line++;
		if (n > 0)
			rc = take_line(r, &r->vo, p + start, n, r->line);
		start += used;
	}
	*done = start;
	return rc;
}

/* Validates what is left of the body, p[0..len), and points the items
 * into the arena, which no longer moves.  Returns 0 or -ENOMEM. */
static int take_rest(struct ireq *r, const char *p, size_t len)
{
	size_t done;
	int rc = take_lines(r, p, len, 1, &done);

	for (size_t i = 0; i < r->n && rc == 0; i++)
		r->items[i].data = r->arena + (uintptr_t)r->items[i].data;
	return rc;
}

/* Reads the body: 0 when its events are ready for the spool, else the
 * answer is set. */
static int prepare_events(struct ireq *r)
{
	struct ingest *ig = r->ig;
	char *plain = NULL, m[128];
	const char *body = r->body != NULL ? r->body : "";
	size_t len = r->len;
	int rc = 0;

	if (r->over) {
		snprintf(m, sizeof(m), "request body over %zu bytes",
			 ig->max_body);
		set_answer(r, MHD_HTTP_CONTENT_TOO_LARGE, m);
		return -1;
	}
	if (r->gzip) {
		rc = gunzip_bounded(body, len, ig->max_body, &plain, &len);
		if (rc == 1) {
			snprintf(m, sizeof(m), "request body over %zu bytes "
				 "after decompression", ig->max_body);
			set_answer(r, MHD_HTTP_CONTENT_TOO_LARGE, m);
		} else if (rc == -1) {
			set_answer(r, MHD_HTTP_BAD_REQUEST, "invalid gzip body");
		}
		if (rc != 0)
			goto out;
		body = plain;
	}
	rc = take_rest(r, body, len);
out:
	free(plain);
	/* The events are in the arena now: a request waiting for its commit
	 * does not keep its gzip body too (docs/ingest.md, memory). */
	free(r->body);
	r->body = NULL;
	r->cap = 0;
	if (rc == -ENOMEM) {
		set_answer(r, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
		r->retry = 1;
	}
	return rc;
}

/* After validation: the request's fate when it need not reach the spool,
 * else 0. */
static int judge_events(struct ireq *r)
{
	struct ingest *ig = r->ig;

	if (r->bad > 0) {
		spool_count_rejected(ig->s, r->bad);
		atomic_fetch_add(&ig->rejected, r->bad);
	}
	if (r->n == 0 && r->bad == 0) {
		set_answer(r, MHD_HTTP_BAD_REQUEST, "no events in the "
			   "request body");
		return -1;
	}
	if (r->bad > 0 && (ig->reject_all || r->n == 0)) {
		atomic_fetch_add(&ig->rejected_by[REASON_REJECT_ALL], r->n);
		set_bad_answer(r, 0);
		return -1;
	}
	return 0;
}

/* The events' bytes once their records are encoded: only their lengths
 * are used from then on. */
static void drop_arena(struct ireq *r)
{
	for (size_t i = 0; i < r->n; i++)
		r->items[i].data = NULL;
	free(r->arena);
	r->arena = NULL;
	r->acap = 0;
}

/* Encodes the events into records (sealed in an encrypted spool) here,
 * in the worker: outside the commit's txn, the workers in parallel, and
 * the arena is freed (the records replace it).  Then hands them to the
 * commit pipe and suspends the connection until their txn is durable
 * (or failed); MHD calls on_access again then. */
static enum MHD_Result submit(struct ireq *r)
{
	struct ingest *ig = r->ig;
	struct spool_commit_req *q = &r->req;

	q->table = r->stream;
	q->it = r->items;
	q->n = r->n;
	q->done = commit_done;
	q->arg = r;
	if (spool_commit_encode(ig->s, q) == 0)
		drop_arena(r);
	/* else the pipe encodes or reports it */
	pthread_mutex_lock(&ig->mu);
	if (ig->stopping) {
		pthread_mutex_unlock(&ig->mu);
		set_answer(r, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down");
		r->retry = 1;
		return deliver(r);
	}
	/* Suspended before the pipe can see it: its resume always
	 * comes after. */
	MHD_suspend_connection(r->conn);
	r->queued = 1;
	spool_pipe_submit(ig->pipe, q);
	pthread_mutex_unlock(&ig->mu);
	return MHD_YES;
}

/* The answer once the pipe is done with r's events. */
static void set_commit_answer(struct ireq *r)
{
	int rc = r->req.rc;

	if (rc == 0) {
		atomic_fetch_add(&r->ig->accepted, r->n);
		count_commit(r);
		if (r->bad > 0) {
			set_bad_answer(r, r->n);
		} else {
			r->status = MHD_HTTP_OK;
			r->msg.len = 0;
		}
	} else if (rc == SPOOLSHIP_ESPOOL_FULL) {
		set_answer(r, MHD_HTTP_SERVICE_UNAVAILABLE, "spool full");
		r->retry = 1;
	} else {
		set_answer(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
			   spoolship_strerror(rc));
		log_error(r->ig->log, "ingest: appending to the spool failed "
			  "table=%s events=%zu error=\"%s\"", r->stream, r->n,
			  spoolship_strerror(rc));
	}
}

static enum MHD_Result answer_commit(struct ireq *r)
{
	set_commit_answer(r);
	return deliver(r);
}

/* The whole request is in: 1 when its events go to the spool, else 0
 * with the answer set. */
static int request_done(struct ireq *r)
{
	if (r->status == 0 && r->route == R_HEALTH)
		set_health_answer(r);
	return r->status == 0 && prepare_events(r) == 0 &&
	       judge_events(r) == 0;
}

static enum MHD_Result finish(struct ireq *r)
{
	conn_deadline(r->ig, r->conn, 0);
	if (request_done(r))
		return submit(r);
	return deliver(r);
}

/* ---- libmicrohttpd callbacks -------------------------------------------- */

static enum MHD_Result begin(struct ingest *ig, struct MHD_Connection *c,
			     const char *url, const char *method,
			     void **con_cls)
{
	struct ireq *r = calloc(1, sizeof(*r));
	struct ingest_headers h;

	if (r == NULL)
		return MHD_NO;
	r->ig = ig;
	r->conn = c;
	r->t0_us = clock_mono_us();
	*con_cls = r;
	headers_of(c, &h);
	if (request_begin(r, &h, url, method))
		return deliver(r);
	return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c,
				 const char *url, const char *method,
				 const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	struct ireq *r = *con_cls;

	(void)version;
	if (r == NULL)
		return begin(cls, c, url, method, con_cls);
	if (*upload_size != 0) {
		absorb(r, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->queued)
		return answer_commit(r);
	return finish(r);
}

static void req_free(struct ireq *r)
{
	free(r->body);
	free(r->arena);
	free(r->items);
	spool_commit_req_free(&r->req);
	strbuf_free(&r->msg);
	strbuf_free(&r->errs);
	free(r);
}

static void on_completed(void *cls, struct MHD_Connection *c,
			 void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct ingest *ig = cls;

	if (*con_cls != NULL)
		req_free(*con_cls);
	*con_cls = NULL;
	/* The next request on this connection has the same time. */
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		conn_deadline(ig, c, ig->timeout_ms);
}

/* ---- start and stop ----------------------------------------------------- */

static int copy_settings(struct ingest *ig, const struct config *c)
{
	const char *tok = c->ingest.token;

	ig->has_token = tok != NULL && *tok != '\0';
	if (ig->has_token && digest(tok, strlen(tok), ig->token_digest) != 0)
		return -ENOMEM;
	ig->max_body = (size_t)c->ingest.max_body_bytes;
	ig->reject_all = c->ingest.partial == CONFIG_PARTIAL_REJECT_ALL;
	ig->timeout_ms = c->ingest.connection_timeout_ms;
	ig->map_id = calloc(c->ntables + 1, sizeof(char *));
	ig->map_name = calloc(c->ntables + 1, sizeof(char *));
	if (ig->map_id == NULL || ig->map_name == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->ntables; i++) {
		const struct config_table *t = &c->tables[i];

		if (t->id == NULL || *t->id == '\0')
			continue;
		ig->map_id[ig->nmap] = strdup(t->id);
		ig->map_name[ig->nmap] = strdup(t->name);
		ig->nmap++;
		if (ig->map_id[ig->nmap - 1] == NULL ||
		    ig->map_name[ig->nmap - 1] == NULL)
			return -ENOMEM;
	}
	return 0;
}

static void ingest_free(struct ingest *ig)
{
	for (size_t i = 0; i < ig->nmap; i++) {
		free(ig->map_id[i]);
		free(ig->map_name[i]);
	}
	free(ig->map_id);
	free(ig->map_name);
	pthread_cond_destroy(&ig->cv);
	pthread_mutex_destroy(&ig->mu);
	pthread_mutex_destroy(&ig->cmu);
	log_limit_fini(&ig->refused_log);
	OPENSSL_cleanse(ig->token_digest, sizeof(ig->token_digest));
	free(ig);
}

static struct ingest *ingest_alloc(void)
{
	struct ingest *ig = calloc(1, sizeof(*ig));
	pthread_condattr_t ca;

	if (ig == NULL)
		return NULL;
	pthread_mutex_init(&ig->mu, NULL);
	pthread_mutex_init(&ig->cmu, NULL);
	log_limit_init(&ig->refused_log, REFUSED_LOG_BURST, REFUSED_LOG_MS);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ig->cv, &ca);
	pthread_condattr_destroy(&ca);
	return ig;
}

static int start_mhd(struct ingest *ig, const struct config *c)
{
	const struct http_server_conf hc = {
		.name = "ingest",
		.listen = c->ingest.listen,
		.log = ig->log,
		.flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME,
		.threads = INGEST_THREADS,
		.max_connections = (unsigned)c->ingest.max_connections,
		.timeout_s = (unsigned)((c->ingest.connection_timeout_ms +
					 999) / 1000),
		.conn_memory = CONN_MEMORY,
		.quiet_running = 1,
		.on_access = on_access,
		.on_completed = on_completed,
		.on_connection = on_connection,
		.cls = ig,
	};

	return http_server_start(&hc, &ig->srv);
}

int ingest_start(const struct config *c, spoolship_spool *s,
		 struct logger *lg, struct ingest **out)
{
	struct ingest *ig;
	int rc;

	*out = NULL;
	if (c->ingest.listen == NULL || c->ingest.listen[0] == '\0')
		return 0;
	if ((ig = ingest_alloc()) == NULL)
		return -ENOMEM;
	ig->s = s;
	ig->log = lg;
	if ((rc = copy_settings(ig, c)) != 0)
		goto err;
	if ((rc = spool_pipe_new(s, 0, SPOOL_GROUP_EVENTS, SPOOL_GROUP_BYTES,
				 &ig->pipe)) != 0)
		goto err;
	rc = -pthread_create(&ig->cron_th, NULL, cron_main, ig);
	if (rc != 0)
		goto err;
	ig->cron_running = 1;
	if ((rc = start_mhd(ig, c)) != 0)
		goto err;
	log_info(ig->log, "ingest listening listen=%s port=%u auth=%s "
		 "max_body_bytes=%zu partial=%s", c->ingest.listen,
		 http_server_port(ig->srv),
		 auth_mode_name(ig->has_token ? AUTH_BEARER : AUTH_NONE),
		 ig->max_body,
		 config_enum_name("ingest", "partial", c->ingest.partial));
	*out = ig;
	return 0;
err:
	ingest_stop(ig);
	return rc;
}

unsigned ingest_port(const struct ingest *ig)
{
	return ig != NULL ? http_server_port(ig->srv) : 0;
}

void ingest_stats(struct ingest *ig, struct ingest_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (ig == NULL)
		return;
	st->requests = atomic_load(&ig->requests);
	st->events_accepted = atomic_load(&ig->accepted);
	st->events_rejected = atomic_load(&ig->rejected);
	st->commits = atomic_load(&ig->commits) +
		      (ig->pipe != NULL ? spool_pipe_txns(ig->pipe) : 0);
	st->cut_off = atomic_load(&ig->cut_off);
	for (size_t i = 0; i <= INGEST_NCODES; i++)
		st->by_code[i] = atomic_load(&ig->by_code[i]);
	for (size_t i = 0; i < INGEST_NREASONS; i++)
		st->rejected_by[i] = atomic_load(&ig->rejected_by[i]);
	st->request_bytes = atomic_load(&ig->request_bytes);
	st->commit_sum_us = atomic_load(&ig->commit_sum_us);
	for (size_t i = 0; i <= INGEST_NBUCKETS; i++) {
		st->commit_buckets[i] = atomic_load(&ig->commit_buckets[i]);
		st->commit_count += st->commit_buckets[i];
	}
}

void ingest_stop(struct ingest *ig)
{
	struct ingest_stats st;

	if (ig == NULL)
		return;
	http_server_quiesce(ig->srv);
	/* Every request already handed over is committed and resumed
	 * before the daemon stops: MHD must not stop with a connection
	 * suspended. */
	pthread_mutex_lock(&ig->mu);
	ig->stopping = 1;
	pthread_cond_broadcast(&ig->cv);
	pthread_mutex_unlock(&ig->mu);
	if (ig->cron_running)
		pthread_join(ig->cron_th, NULL);
	atomic_fetch_add(&ig->commits, spool_pipe_close(ig->pipe));
	ig->pipe = NULL;
	if (ig->srv != NULL) {
		http_server_stop(ig->srv);
		ingest_stats(ig, &st);
		log_info(ig->log, "ingest stopped requests=%llu "
			 "events_accepted=%llu events_rejected=%llu "
			 "commits=%llu",
			 (unsigned long long)st.requests,
			 (unsigned long long)st.events_accepted,
			 (unsigned long long)st.events_rejected,
			 (unsigned long long)st.commits);
	}
	ingest_free(ig);
}

/* ---- one request without a socket --------------------------------------- */

/* The same steps as begin(), on_access() and finish(), with the commit
 * taken as done: a second path would let the fuzzer test code that
 * never runs. */
int ingest_dry_run(const struct config *c, spoolship_spool *s,
		   struct logger *lg, const char *method, const char *url,
		   const struct ingest_headers *h, const char *body,
		   size_t len, size_t chunk, struct ingest_dry *out)
{
	struct ingest *ig;
	struct ireq *r = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((ig = ingest_alloc()) == NULL)
		return -ENOMEM;
	ig->s = s;
	ig->log = lg;
	if ((rc = copy_settings(ig, c)) != 0 ||
	    (r = calloc(1, sizeof(*r))) == NULL) {
		ingest_free(ig);
		return rc != 0 ? rc : -ENOMEM;
	}
	r->ig = ig;
	out->priv = r;
	if (!request_begin(r, h, url, method)) {
		for (size_t off = 0, k; off < len; off += k) {
			k = chunk == 0 || chunk > len - off ? len - off
							     : chunk;
			absorb(r, body + off, k);
		}
		if (request_done(r)) {
			r->req.rc = 0;
			set_commit_answer(r);
			out->to_spool = 1;
		}
	}
	answer_oom(r);
	out->status = r->status;
	out->answer = r->msg.len > 0 ? r->msg.p : "";
	out->answer_len = r->msg.len;
	out->stream = r->stream;
	out->items = r->items;
	out->n = r->n;
	out->rejected = r->bad;
	return 0;
}

void ingest_dry_free(struct ingest_dry *d)
{
	struct ireq *r = d->priv;

	if (r != NULL) {
		ingest_free(r->ig);
		req_free(r);
	}
	memset(d, 0, sizeof(*d));
}
