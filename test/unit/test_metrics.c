/*
 * test_metrics.c - unit tests of metrics.c: the exposition text is well
 * formed (every sample under its # TYPE, histogram buckets cumulative
 * with +Inf = _count), status codes and per-table gauges come out as
 * they went in, no text can become markup or leak a secret, every
 * metric is documented in docs/metrics.md, and the server answers.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "spoolship.h"

#define NOW_MS INT64_C(1795640400123)
#define DOCS "docs/metrics.md"

/* A shipper's counters with some of everything. */
static void fill_counters(struct ship_counters *c)
{
	memset(c, 0, sizeof(*c));
	c->requests = 17;
	c->by_class[2] = 10;
	c->by_class[4] = 2;
	c->by_class[5] = 3;
	c->by_code[0] = (struct ship_code_count){ 200, 10 };
	c->by_code[1] = (struct ship_code_count){ 500, 3 };
	c->by_code[2] = (struct ship_code_count){ 400, 2 };
	c->transport_errors = 2;
	c->retries = 5;
	c->bytes_raw = 1000;
	c->bytes_sent = 300;
	c->expired = 4;
	c->dead_rejected = 1;
	c->alarms = 3;
	c->alarms_credentials = 1;
	c->rl_remaining = 42;
	c->in_flight = 2;
	c->latency_buckets[0] = 1;   /* < 1 ms */
	c->latency_buckets[3] = 5;   /* 4..7 ms */
	c->latency_buckets[10] = 4;  /* 512..1023 ms */
	c->latency_buckets[31] = 2;  /* beyond 2^30 ms */
	c->latency_sum_ms = 123456;
}

static struct spoolship_stream_stats streams[2];

static void fill_stats(struct spoolship_stats *st)
{
	memset(st, 0, sizeof(*st));
	memset(streams, 0, sizeof(streams));
	snprintf(streams[0].name, sizeof(streams[0].name), "clicks");
	streams[0].pending_events = 7;
	streams[0].pending_bytes = 700;
	streams[0].oldest_event_ms = NOW_MS - 90000;
	streams[0].oldest_append_ms = NOW_MS - 1000;
	snprintf(streams[1].name, sizeof(streams[1].name), "wiki");
	st->streams = streams;
	st->nstreams = 2;
	st->pending_events = 7;
	st->pending_bytes = 700;
	st->oldest_event_ms = NOW_MS - 90000;
	st->oldest_append_ms = NOW_MS - 1000;
	st->appended_total = 100;
	st->shipped_total = 90;
	st->dead_total = 3;
	st->max_bytes = 1 << 30;
	st->used_bytes = 1 << 20;
	st->map_bytes = 1 << 26;
}

static char *render(const struct metrics_view *v, int json)
{
	struct strbuf b = { 0 };

	if (json)
		assert_int_equal(metrics_write_status_json(v, &b), 0);
	else
		assert_int_equal(metrics_write_prometheus(v, &b), 0);
	assert_non_null(b.p);
	return b.p;
}

/* The value of the sample line that starts with "series " exactly. */
static int value_of(const char *text, const char *series, double *out)
{
	size_t n = strlen(series);

	for (const char *p = text; p != NULL && *p != '\0';) {
		if (strncmp(p, series, n) == 0 && p[n] == ' ') {
			*out = strtod(p + n + 1, NULL);
			return 1;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return 0;
}

static double must_value(const char *text, const char *series)
{
	double v = -1;

	if (!value_of(text, series, &v))
		fail_msg("no sample %s", series);
	return v;
}

/* Every sample follows the # TYPE of its family; names are unique. */
static void check_well_formed(const char *text)
{
	char family[128] = "", type[32] = "";
	char *copy = strdup(text), *save = NULL;
	int lines = 0;

	assert_non_null(copy);
	for (char *l = strtok_r(copy, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		char name[128];
		size_t n = strcspn(l, "{ ");

		lines++;
		if (strncmp(l, "# HELP ", 7) == 0)
			continue;
		if (sscanf(l, "# TYPE %127s %31s", family, type) == 2) {
			assert_null(strstr(text + (l - copy) + 1, l));
			continue;
		}
		assert_true(n > 0 && n < sizeof(name));
		memcpy(name, l, n);
		name[n] = '\0';
		if (strcmp(type, "histogram") == 0) {
			size_t fl = strlen(family);

			assert_int_equal(strncmp(name, family, fl), 0);
			assert_true(strcmp(name + fl, "_bucket") == 0 ||
				    strcmp(name + fl, "_sum") == 0 ||
				    strcmp(name + fl, "_count") == 0);
		} else {
			if (strcmp(name, family) != 0)
				fail_msg("%s outside its family (%s)", name,
					 family);
		}
		if (strcmp(type, "counter") == 0)
			assert_non_null(strstr(family, "_total"));
		assert_non_null(strchr(l, ' '));
	}
	assert_true(lines > 50);
	free(copy);
}

static void test_prometheus_text(void **state)
{
	struct ship_counters c;
	struct spoolship_stats st;
	struct metrics_view v = { 0 };
	char *t;

	(void)state;
	fill_counters(&c);
	fill_stats(&st);
	v.c = &c;
	v.published_ms = NOW_MS - 100;
	v.st = &st;
	v.now_ms = NOW_MS;
	v.start_ms = NOW_MS - 60000;
	v.max_age_ms = 7 * 86400000LL;
	t = render(&v, 0);
	check_well_formed(t);
	assert_true(must_value(t, "spoolship_up") == 1);
	assert_true(must_value(t, "spoolship_http_requests_total{code=\"500\","
			       "class=\"5xx\"}") == 3);
	assert_true(must_value(t, "spoolship_http_requests_total{code=\"200\","
			       "class=\"2xx\"}") == 10);
	assert_true(must_value(t, "spoolship_http_requests_total{code=\"400\","
			       "class=\"4xx\"}") == 2);
	assert_true(must_value(t, "spoolship_events_shipped_total") == 90);
	assert_true(must_value(t, "spoolship_table_pending_events{table="
			       "\"clicks\"}") == 7);
	assert_true(must_value(t, "spoolship_table_pending_events{table="
			       "\"wiki\"}") == 0);
	assert_true(must_value(t, "spoolship_table_oldest_event_age_seconds"
			       "{table=\"clicks\"}") == 90);
	assert_true(must_value(t, "spoolship_spool_oldest_event_age_seconds")
		    == 90);
	assert_true(must_value(t, "spoolship_max_age_seconds") == 604800);
	assert_true(must_value(t, "spoolship_alarms_total{kind="
			       "\"credentials\"}") == 1);
	assert_true(must_value(t, "spoolship_alarms_total{kind="
			       "\"destination\"}") == 2);
	assert_true(must_value(t, "spoolship_events_dead_lettered_total"
			       "{reason=\"expired\"}") == 4);
	assert_true(must_value(t, "spoolship_ratelimit_remaining") == 42);
	assert_true(must_value(t, "spoolship_process_start_time_seconds") ==
		    (double)(NOW_MS - 60000) / 1000.0);
	assert_null(strstr(t, "{code=\"other\""));
	free(t);
}

static void test_histogram(void **state)
{
	struct ship_counters c;
	struct metrics_view v = { 0 };
	double prev = 0, inf, count;
	char *t;
	int buckets = 0;

	(void)state;
	fill_counters(&c);
	v.c = &c;
	v.now_ms = NOW_MS;
	t = render(&v, 0);
	/* Bucket i holds whole ms below 2^i: le = 2^i ms. */
	assert_true(must_value(t, "spoolship_ack_latency_seconds_bucket"
			       "{le=\"0.001\"}") == 1);
	assert_true(must_value(t, "spoolship_ack_latency_seconds_bucket"
			       "{le=\"0.004\"}") == 1);
	assert_true(must_value(t, "spoolship_ack_latency_seconds_bucket"
			       "{le=\"0.008\"}") == 6);
	assert_true(must_value(t, "spoolship_ack_latency_seconds_bucket"
			       "{le=\"1.024\"}") == 10);
	assert_true(must_value(t, "spoolship_ack_latency_seconds_bucket"
			       "{le=\"1073741.824\"}") == 10);
	for (const char *p = strstr(t, "_bucket{le=\""); p != NULL;
	     p = strstr(p + 1, "_bucket{le=\"")) {
		double v2 = strtod(strchr(p, '}') + 2, NULL);

		assert_true(v2 >= prev);
		prev = v2;
		buckets++;
	}
	assert_int_equal(buckets, 32);
	inf = must_value(t, "spoolship_ack_latency_seconds_bucket"
			 "{le=\"+Inf\"}");
	count = must_value(t, "spoolship_ack_latency_seconds_count");
	assert_true(inf == 12 && count == inf);
	assert_true(must_value(t, "spoolship_ack_latency_seconds_sum") ==
		    123.456);
	free(t);
}

/* More distinct codes than rows: the rest is code="other" per class. */
static void test_codes_other(void **state)
{
	struct ship_counters c;
	struct metrics_view v = { 0 };
	char *t;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.rl_remaining = -1;
	for (int i = 0; i < SHIP_CODES; i++)
		c.by_code[i] = (struct ship_code_count){ 500 + i, 1 };
	c.by_class[5] = SHIP_CODES + 5;
	c.by_class[0] = 2;
	v.c = &c;
	t = render(&v, 0);
	check_well_formed(t);
	assert_true(must_value(t, "spoolship_http_requests_total{code="
			       "\"other\",class=\"5xx\"}") == 5);
	assert_true(must_value(t, "spoolship_http_requests_total{code="
			       "\"other\",class=\"other\"}") == 2);
	assert_true(must_value(t, "spoolship_http_requests_total{code="
			       "\"523\",class=\"5xx\"}") == 1);
	/* Unknown: no sample rather than a made-up one. */
	assert_null(strstr(t, "spoolship_ratelimit_remaining"));
	free(t);
}

/* Before the first publish and without the spool: still valid text. */
static void test_nothing_yet(void **state)
{
	struct metrics_view v = { 0 };
	char *t;

	(void)state;
	v.now_ms = NOW_MS;
	t = render(&v, 0);
	check_well_formed(t);
	assert_true(must_value(t, "spoolship_up") == 1);
	assert_true(must_value(t, "spoolship_spool_stats_ok") == 0);
	assert_null(strstr(t, "spoolship_spool_pending_events"));
	assert_null(strstr(t, "spoolship_max_age_seconds"));
	assert_true(must_value(t, "spoolship_ack_latency_seconds_count") == 0);
	assert_true(must_value(t, "spoolship_shipper_last_publish_timestamp"
			       "_seconds") == 0);
	free(t);
	t = render(&v, 1);
	cJSON *j = cJSON_Parse(t);
	assert_non_null(j);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "spool_ok")));
	cJSON_Delete(j);
	free(t);
}

static void test_label_escaping(void **state)
{
	struct spoolship_stats st;
	struct metrics_view v = { 0 };
	char *t;

	(void)state;
	fill_stats(&st);
	/* Not a valid table name, but the writer must not trust that. */
	snprintf(streams[1].name, sizeof(streams[1].name), "a\"b\\c\nd");
	v.st = &st;
	v.now_ms = NOW_MS;
	t = render(&v, 0);
	assert_non_null(strstr(t, "spoolship_table_pending_events{table="
			       "\"a\\\"b\\\\c\\nd\"} 0\n"));
	free(t);
	/* The longest name there can be, in both writers. */
	memset(streams[1].name, 'n', SPOOLSHIP_MAX_TABLE_LEN);
	streams[1].name[SPOOLSHIP_MAX_TABLE_LEN] = '\0';
	t = render(&v, 0);
	check_well_formed(t);
	assert_non_null(strstr(t, streams[1].name));
	free(t);
	t = render(&v, 1);
	assert_non_null(strstr(t, streams[1].name));
	free(t);
}

/* The last error as JSON: no markup character survives raw, bad UTF-8
 * becomes U+FFFD, and it parses back to the same text. */
static void test_json_escaping(void **state)
{
	struct ship_counters c;
	struct metrics_view v = { 0 };
	const char *evil = "</script><img src=x onerror=alert(1)> & \"q\" "
			   "\x01 caf\xc3\xa9 \xff";
	cJSON *j, *e;
	char *t;

	(void)state;
	fill_counters(&c);
	snprintf(c.last_error, sizeof(c.last_error), "%s", evil);
	v.c = &c;
	v.now_ms = NOW_MS;
	t = render(&v, 1);
	assert_null(strchr(t, '<'));
	assert_null(strchr(t, '>'));
	assert_null(strstr(t, " & "));
	j = cJSON_Parse(t);
	assert_non_null(j);
	e = cJSON_GetObjectItem(j, "last_error");
	assert_true(cJSON_IsString(e));
	assert_string_equal(e->valuestring,
			    "</script><img src=x onerror=alert(1)> & \"q\" "
			    "\x01 caf\xc3\xa9 \xef\xbf\xbd");
	cJSON_Delete(j);
	free(t);
}

static void test_redaction(void **state)
{
	struct ship_counters c;
	struct metrics_view v = { 0 };
	struct logger lg;
	char out[256];
	char *t;

	(void)state;
	metrics_redact(NULL, "token URL https://me:pa55@auth.example/t "
		       "refused, Authorization: Bearer abc.DEF-123 sent",
		       out, sizeof(out));
	assert_null(strstr(out, "pa55"));
	assert_null(strstr(out, "abc.DEF"));
	assert_non_null(strstr(out, "https://***@auth.example/t"));
	assert_non_null(strstr(out, "Bearer ***"));
	metrics_redact(NULL, "http://host/a@b is fine", out, sizeof(out));
	assert_string_equal(out, "http://host/a@b is fine");
	metrics_redact(NULL, "cut short Basic", out, 8);
	assert_string_equal(out, "cut sho");

	assert_int_equal(log_init(&lg, stderr), 0);
	assert_int_equal(log_secret_add(&lg, "s3cr3t-value"), 0);
	fill_counters(&c);
	snprintf(c.last_error, sizeof(c.last_error),
		 "token endpoint said s3cr3t-value is wrong");
	v.c = &c;
	v.log = &lg;
	v.now_ms = NOW_MS;
	t = render(&v, 1);
	assert_null(strstr(t, "s3cr3t"));
	assert_non_null(strstr(t, "token endpoint said *** is wrong"));
	free(t);
	log_fini(&lg);
}

/* Rates over the newest sample at least 5 s old; the samples as sent. */
static void test_status_json(void **state)
{
	struct ship_counters c;
	struct spoolship_stats st;
	struct metrics_sample ring[3] = {
		{ NOW_MS - 30000, 5, 500, 40, 30, 0, 0 },
		{ NOW_MS - 10000, 9, 900, 60, 50, 1, NOW_MS - 20000 },
		{ NOW_MS - 1000, 8, 800, 99, 89, 3, NOW_MS - 20000 },
	};
	struct metrics_view v = { 0 };
	cJSON *j, *s, *tb;
	char *t;

	(void)state;
	fill_counters(&c);
	fill_stats(&st);
	v.c = &c;
	v.st = &st;
	v.now_ms = NOW_MS;
	v.max_age_ms = 3600000;
	v.ring = ring;
	v.nring = 3;
	t = render(&v, 1);
	j = cJSON_Parse(t);
	assert_non_null(j);
	/* (100 - 60) appended and (90 - 50) shipped in 10 s. */
	assert_true(cJSON_GetObjectItem(j, "rate_in")->valuedouble == 4.0);
	assert_true(cJSON_GetObjectItem(j, "rate_out")->valuedouble == 4.0);
	assert_true(cJSON_GetObjectItem(j, "pending_events")->valuedouble ==
		    7);
	assert_true(cJSON_GetObjectItem(j, "oldest_age_s")->valuedouble ==
		    90);
	assert_true(cJSON_GetObjectItem(j, "max_age_s")->valuedouble == 3600);
	assert_true(cJSON_GetObjectItem(j, "http_5xx")->valuedouble == 3);
	assert_true(cJSON_GetObjectItem(j, "rl_remaining")->valuedouble ==
		    42);
	tb = cJSON_GetObjectItem(j, "tables");
	assert_int_equal(cJSON_GetArraySize(tb), 2);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(tb, 0),
						"name")->valuestring,
			    "clicks");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(
		cJSON_GetArrayItem(tb, 1), "oldest_age_s")));
	s = cJSON_GetObjectItem(j, "samples");
	assert_int_equal(cJSON_GetArraySize(s), 3);
	assert_true(cJSON_IsNull(cJSON_GetArrayItem(cJSON_GetArrayItem(s, 0),
						    6)));
	assert_true(cJSON_GetArrayItem(cJSON_GetArrayItem(s, 1), 6)
		    ->valuedouble == 10);
	assert_true(cJSON_GetArrayItem(cJSON_GetArrayItem(s, 2), 3)
		    ->valuedouble == 99);
	cJSON_Delete(j);
	free(t);
}

/* Every family the writer can emit is described in docs/metrics.md. */
static void test_documented(void **state)
{
	struct ingest_stats in;
	struct ship_counters c;
	struct spoolship_stats st;
	struct metrics_view v = { 0 };
	FILE *f = fopen(DOCS, "r");
	char *doc = NULL, *t, *save = NULL;
	size_t cap = 0;
	ssize_t n;

	(void)state;
	assert_non_null(f);
	n = getdelim(&doc, &cap, '\0', f);
	assert_true(n > 0);
	fclose(f);
	fill_counters(&c);
	fill_stats(&st);
	v.c = &c;
	v.st = &st;
	v.now_ms = NOW_MS;
	v.max_age_ms = 1000;
	v.ingest = &in;
	memset(&in, 0, sizeof(in));
	t = render(&v, 0);
	for (char *l = strtok_r(t, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		char fam[128], type[32], want[160];

		if (sscanf(l, "# TYPE %127s %31s", fam, type) != 2)
			continue;
		snprintf(want, sizeof(want), "`%s`", fam);
		if (strstr(doc, want) == NULL)
			fail_msg("%s is not described in %s", fam, DOCS);
	}
	free(t);
	free(doc);
}

/* The ingest endpoint's families: codes, results by reason, bytes, and
 * the commit histogram (cumulative, +Inf = _count, le in seconds). */
static void test_ingest(void **state)
{
	struct ingest_stats in;
	struct metrics_view v = { 0 };
	char *t;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.by_code[0] = 3;               /* 200 */
	in.by_code[1] = 2;               /* 400 */
	in.by_code[INGEST_NCODES] = 1;   /* other */
	in.events_accepted = 30;
	in.rejected_by[2] = 4;           /* missing_time */
	in.request_bytes = 4096;
	in.commit_buckets[0] = 1;        /* <= 0.5 ms */
	in.commit_buckets[3] = 2;        /* <= 5 ms */
	in.commit_buckets[INGEST_NBUCKETS] = 1;
	in.commit_sum_us = 12002500;
	in.commit_count = 4;
	v.now_ms = NOW_MS;
	v.ingest = &in;
	t = render(&v, 0);
	check_well_formed(t);
	assert_true(must_value(t, "spoolship_ingest_requests_total"
			       "{code=\"200\"}") == 3);
	assert_true(must_value(t, "spoolship_ingest_requests_total"
			       "{code=\"413\"}") == 0);
	assert_true(must_value(t, "spoolship_ingest_requests_total"
			       "{code=\"other\"}") == 1);
	assert_true(must_value(t, "spoolship_ingest_events_total"
			       "{result=\"accepted\"}") == 30);
	assert_true(must_value(t, "spoolship_ingest_events_total{result="
			       "\"rejected\",reason=\"missing_time\"}") == 4);
	assert_true(must_value(t, "spoolship_ingest_request_bytes_total") ==
		    4096);
	assert_true(must_value(t, "spoolship_ingest_commit_seconds_bucket"
			       "{le=\"0.0005\"}") == 1);
	assert_true(must_value(t, "spoolship_ingest_commit_seconds_bucket"
			       "{le=\"0.005\"}") == 3);
	assert_true(must_value(t, "spoolship_ingest_commit_seconds_bucket"
			       "{le=\"10\"}") == 3);
	assert_true(must_value(t, "spoolship_ingest_commit_seconds_bucket"
			       "{le=\"+Inf\"}") == 4);
	assert_true(must_value(t, "spoolship_ingest_commit_seconds_count") ==
		    4);
	assert_non_null(strstr(t, "spoolship_ingest_commit_seconds_sum "
			       "12.0025\n"));
	free(t);
	v.ingest = NULL; /* no endpoint: no ingest family */
	t = render(&v, 0);
	assert_null(strstr(t, "spoolship_ingest_"));
	free(t);
}

/* The badge: the worst thing true, then pending or a recent 2xx. */
static void test_state(void **state)
{
	struct ship_counters c;
	struct spoolship_stats st;
	struct metrics_view v = { 0 };

	(void)state;
	v.now_ms = NOW_MS;
	assert_string_equal(metrics_state(&v), "starting");
	memset(&c, 0, sizeof(c));
	v.c = &c;
	assert_string_equal(metrics_state(&v), "idle");
	fill_stats(&st);
	v.st = &st;  /* 7 pending */
	assert_string_equal(metrics_state(&v), "delivering");
	st.pending_events = 0;
	c.last_ack_ms = NOW_MS - 2000;
	assert_string_equal(metrics_state(&v), "delivering");
	c.last_ack_ms = NOW_MS - 60000;
	assert_string_equal(metrics_state(&v), "idle");
	c.state = SHIP_STATE_RETRYING;
	assert_string_equal(metrics_state(&v), "retrying");
	c.state = SHIP_STATE_RATE_LIMITED;
	assert_string_equal(metrics_state(&v), "rate-limited");
	c.state = SHIP_STATE_ALARM;
	assert_string_equal(metrics_state(&v), "alarm");
}

/* The destination: no user:password, no query, no fragment. */
static void test_destination(void **state)
{
	char out[128];

	(void)state;
	metrics_destination("https://u:p%40ss@api.example.com:8443/v1/events/"
			    "{table}?key=s3cret#x", out, sizeof(out));
	assert_string_equal(out, "https://api.example.com:8443/v1/events/"
			    "{table}");
	/* As the logs write it (log_url_dest): the port always named. */
	metrics_destination("http://h/p", out, sizeof(out));
	assert_string_equal(out, "http://h:80/p");
	metrics_destination("http://user@h?token=t", out, sizeof(out));
	assert_string_equal(out, "http://h:80/");
	metrics_destination(NULL, out, sizeof(out));
	assert_string_equal(out, "");
}

/* The page is one self-contained document. */
static void test_page(void **state)
{
	const char *p = metrics_status_page();

	(void)state;
	assert_int_equal(strncmp(p, "<!doctype html>", 15), 0);
	assert_non_null(strstr(p, "id=\"pending-total\""));
	assert_non_null(strstr(p, "status.json"));
	assert_null(strstr(p, "<link"));
	assert_null(strstr(p, " src="));
	assert_null(strstr(p, "innerHTML"));
	assert_null(strstr(p, "https://"));
}

/* ---- the server --------------------------------------------------------- */

struct body {
	char buf[262144];
	size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n, room = sizeof(b->buf) - 1 - b->len;

	if (len < room)
		room = len;
	memcpy(b->buf + b->len, p, room);
	b->len += room;
	b->buf[b->len] = '\0';
	return len;
}

static long get(unsigned port, const char *path, const char *method,
		struct body *b)
{
	char url[128];
	CURL *e = curl_easy_init();
	long code = 0;

	assert_non_null(e);
	b->len = 0;
	b->buf[0] = '\0';
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
	if (method != NULL) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "x=1");
	}
	assert_int_equal(curl_easy_perform(e), CURLE_OK);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(e);
	return code;
}

static void test_server(void **state)
{
	char *dir = tu_tmpdir(), ev[256];
	struct config cfg;
	struct logger lg;
	struct metrics *m = NULL;
	struct ship_counters c;
	spoolship_spool *s;
	static struct body b;
	size_t len;

	(void)state;
	assert_int_equal(spoolship_spool_open(dir, NULL, &s), 0);
	for (long i = 0; i < 3; i++) {
		len = tu_event(ev, sizeof(ev), i, 10);
		assert_int_equal(spoolship_append(s, "wiki", ev, len, NULL, 0),
				 0);
	}
	assert_int_equal(log_init(&lg, stderr), 0);
	log_configure(&lg, LOG_LVL_WARN, 0);
	assert_int_equal(config_defaults(&cfg), 0);
	/* Off when listen is empty. */
	assert_int_equal(metrics_start(&cfg, s, &lg, &m), 0);
	assert_null(m);
	metrics_publish(NULL, &c);
	free(cfg.metrics.listen);
	cfg.metrics.listen = strdup("127.0.0.1:0");
	assert_int_equal(metrics_start(&cfg, s, &lg, &m), 0);
	assert_non_null(m);
	assert_true(metrics_port(m) > 0);
	fill_counters(&c);
	metrics_publish(m, &c);

	assert_int_equal(get(metrics_port(m), "/metrics", NULL, &b), 200);
	check_well_formed(b.buf);
	assert_true(must_value(b.buf, "spoolship_table_pending_events{table="
			       "\"wiki\"}") == 3);
	assert_true(must_value(b.buf, "spoolship_http_requests_total{code="
			       "\"500\",class=\"5xx\"}") == 3);
	assert_int_equal(get(metrics_port(m), "/status.json", NULL, &b), 200);
	cJSON *j = cJSON_Parse(b.buf);
	assert_non_null(j);
	assert_true(cJSON_GetObjectItem(j, "pending_events")->valuedouble ==
		    3);
	/* The first publish took a sample for the charts. */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j,
							       "samples")), 1);
	cJSON_Delete(j);
	assert_int_equal(get(metrics_port(m), "/", NULL, &b), 200);
	assert_non_null(strstr(b.buf, "id=\"pending-total\""));
	assert_int_equal(get(metrics_port(m), "/nope", NULL, &b), 404);
	assert_int_equal(get(metrics_port(m), "/metrics", "POST", &b), 405);
	metrics_set_max_age(m, 5000);
	assert_int_equal(get(metrics_port(m), "/metrics", NULL, &b), 200);
	assert_true(must_value(b.buf, "spoolship_max_age_seconds") == 5);
	metrics_stop(m);
	metrics_stop(NULL);

	/* A port in use is an error, not a silent nothing. */
	{
		struct metrics *a = NULL, *d = NULL;
		char addr[64];

		assert_int_equal(metrics_start(&cfg, s, &lg, &a), 0);
		snprintf(addr, sizeof(addr), "127.0.0.1:%u", metrics_port(a));
		free(cfg.metrics.listen);
		cfg.metrics.listen = strdup(addr);
		assert_true(metrics_start(&cfg, s, &lg, &d) < 0);
		assert_null(d);
		metrics_stop(a);
	}
	config_free(&cfg);
	log_fini(&lg);
	assert_int_equal(spoolship_spool_close(s), 0);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prometheus_text),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_codes_other),
		cmocka_unit_test(test_nothing_yet),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_json_escaping),
		cmocka_unit_test(test_redaction),
		cmocka_unit_test(test_status_json),
		cmocka_unit_test(test_documented),
		cmocka_unit_test(test_ingest),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_destination),
		cmocka_unit_test(test_page),
		cmocka_unit_test(test_server),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
