/*
 * load-ingest.c - load generator for the local Events-API endpoint: N
 * keep-alive connections (one libcurl multi handle) each posting NDJSON
 * requests of E events with unique ids; prints one summary line with the
 * events/s.  A measuring tool: it never retries a failed request.
 *
 *   load-ingest [-c CONNS] [-n REQUESTS | -d SECONDS] [-e EVENTS]
 *               [-i FIRST_ID] [-p PAD] [-t TOKEN] [-z] [-x] [-o FILE] URL
 *
 * -o FILE gets "FIRST_ID COUNT" for each request answered 200 (the ids a
 * test must then find in the spool); -x stops sending after a failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

struct opts {
	const char *url;
	long conns;
	long requests;     /* 0: run for seconds instead */
	double seconds;
	long events;
	long long first_id;
	long pad;
	const char *token;
	int gzip;
	int stop_on_failure;
	const char *ok_file;
};

struct conn {
	CURL *easy;
	char *body;        /* the request being sent (plain or gzip) */
	size_t len;
	long long first_id;
	char answer[256];  /* start of the last answer, for the report */
	size_t alen;
};

struct load {
	struct opts o;
	CURLM *multi;
	struct curl_slist *hdrs;
	struct conn *c;
	char *plain;       /* scratch for one body */
	size_t plain_cap;
	char *padding;
	long long next_id;
	long started, done, ok, failed, connects;
	long by_status[600];
	double t0;
	FILE *ok_out;
	char last_bad[512];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "load-ingest: %s\n", what);
	exit(2);
}

static void usage(void)
{
	fprintf(stderr, "usage: load-ingest [-c CONNS] [-n REQUESTS | -d "
		"SECONDS] [-e EVENTS] [-i FIRST_ID] [-p PAD] [-t TOKEN] [-z] "
		"[-x] [-o FILE] URL\n");
	exit(2);
}

static long num(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		usage();
	return v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->conns = 8;
	o->requests = 1000;
	o->events = 60;
	o->first_id = 1;
	o->pad = 0;
	while ((ch = getopt(argc, argv, "c:n:d:e:i:p:t:zxo:")) != -1) {
		switch (ch) {
		case 'c': o->conns = num(optarg, 1, 20000); break;
		case 'n': o->requests = num(optarg, 1, 1000000000); break;
		case 'd':
			o->seconds = (double)num(optarg, 1, 86400);
			o->requests = 0;
			break;
		case 'e': o->events = num(optarg, 1, 100000); break;
		case 'i': o->first_id = num(optarg, 0, 2000000000); break;
		case 'p': o->pad = num(optarg, 0, 1000000); break;
		case 't': o->token = optarg; break;
		case 'z': o->gzip = 1; break;
		case 'x': o->stop_on_failure = 1; break;
		case 'o': o->ok_file = optarg; break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	o->url = argv[optind];
}

static void iso_now(char out[96])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, 96, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

/* One body of o.events events with the next ids, in l->plain: the
 * shape of bench-append's events (~200 bytes), plus "pad" if asked. */
static size_t make_plain(struct load *l)
{
	char t[96];
	size_t len = 0;

	iso_now(t);
	for (long i = 0; i < l->o.events; i++) {
		size_t room = l->plain_cap - len;
		long long id = l->next_id++;
		int n = snprintf(l->plain + len, room,
				 "{\"__time\":\"%s\",\"id\":%lld,\"channel\":"
				 "\"#en.wikipedia\",\"user\":\"GELongstreet%04lld\","
				 "\"page\":\"Battle_of_Gettysburg\",\"added\":%lld,"
				 "\"deleted\":%lld,\"delta\":0,\"isRobot\":false,"
				 "\"comment\":\"typo fix\"%s%s%s}\n", t, id,
				 id % 10000, id % 100, id % 50,
				 l->o.pad > 0 ? ",\"pad\":\"" : "",
				 l->padding, l->o.pad > 0 ? "\"" : "");

		if (n < 0 || (size_t)n >= room)
			die("body buffer too small");
		len += (size_t)n;
	}
	return len;
}

static void gzip_into(struct conn *c, const char *in, size_t len)
{
	z_stream z;
	size_t cap = compressBound((uLong)len) + 64;

	memset(&z, 0, sizeof(z));
	if ((c->body = malloc(cap)) == NULL ||
	    deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		die("out of memory");
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)c->body;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		die("deflate failed");
	c->len = cap - z.avail_out;
	deflateEnd(&z);
}

static void next_body(struct load *l, struct conn *c)
{
	size_t len;

	c->first_id = l->next_id;
	len = make_plain(l);

	free(c->body);
	c->body = NULL;
	if (l->o.gzip) {
		gzip_into(c, l->plain, len);
	} else {
		if ((c->body = malloc(len)) == NULL)
			die("out of memory");
		memcpy(c->body, l->plain, len);
		c->len = len;
	}
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct conn *c = arg;
	size_t len = size * n, room = sizeof(c->answer) - 1 - c->alen;

	if (room > len)
		room = len;
	memcpy(c->answer + c->alen, p, room);
	c->alen += room;
	c->answer[c->alen] = '\0';
	return len;
}

static int more_to_send(struct load *l)
{
	if (l->o.stop_on_failure && l->failed > 0)
		return 0;
	if (l->o.requests > 0)
		return l->started < l->o.requests;
	return now_s() - l->t0 < l->o.seconds;
}

static void send_one(struct load *l, struct conn *c)
{
	next_body(l, c);
	c->alen = 0;
	c->answer[0] = '\0';
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)c->len);
	curl_multi_add_handle(l->multi, c->easy);
	l->started++;
}

static void setup(struct load *l)
{
	static char auth[1024];
	size_t one = 256 + (size_t)l->o.pad;

	l->next_id = l->o.first_id;
	l->plain_cap = one * (size_t)l->o.events + 1;
	l->plain = malloc(l->plain_cap);
	l->padding = malloc((size_t)l->o.pad + 1);
	l->c = calloc((size_t)l->o.conns, sizeof(*l->c));
	if (l->plain == NULL || l->padding == NULL || l->c == NULL)
		die("out of memory");
	memset(l->padding, 'x', (size_t)l->o.pad);
	l->padding[l->o.pad] = '\0';
	l->multi = curl_multi_init();
	curl_multi_setopt(l->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, l->o.conns);
	curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, l->o.conns);
	l->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	l->hdrs = curl_slist_append(l->hdrs, "Expect:");
	if (l->o.gzip)
		l->hdrs = curl_slist_append(l->hdrs, "Content-Encoding: gzip");
	if (l->o.token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
			 l->o.token);
		l->hdrs = curl_slist_append(l->hdrs, auth);
	}
	for (long i = 0; i < l->o.conns; i++) {
		CURL *e = curl_easy_init();

		if (e == NULL)
			die("curl_easy_init failed");
		l->c[i].easy = e;
		curl_easy_setopt(e, CURLOPT_URL, l->o.url);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, l->hdrs);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &l->c[i]);
		curl_easy_setopt(e, CURLOPT_PRIVATE, &l->c[i]);
		curl_easy_setopt(e, CURLOPT_TIMEOUT, 120L);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	}
}

static void account(struct load *l, CURL *e, CURLcode res)
{
	struct conn *c = NULL;
	long status = 0, connects = 0;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&c);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
	l->done++;
	l->connects += connects;
	if (res == CURLE_OK && status > 0 && status < 600)
		l->by_status[status]++;
	if (res == CURLE_OK && status == 200) {
		l->ok++;
		if (l->ok_out != NULL && c != NULL) {
			fprintf(l->ok_out, "%lld %ld\n", c->first_id,
				l->o.events);
			fflush(l->ok_out);
		}
		return;
	}
	l->failed++;
	snprintf(l->last_bad, sizeof(l->last_bad), "status=%ld curl=\"%.100s\" "
		 "answer=%.255s", status, curl_easy_strerror(res),
		 c != NULL ? c->answer : "");
}

static void reap(struct load *l)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(l->multi, &left)) != NULL) {
		struct conn *c = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		CURL *e = m->easy_handle;
		CURLcode res = m->data.result;

		account(l, e, res);
		curl_multi_remove_handle(l->multi, e);
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&c);
		if (more_to_send(l))
			send_one(l, c);
	}
}

static void report(struct load *l, double secs)
{
	long events = l->ok * l->o.events;

	printf("load-ingest: requests=%ld ok=%ld failed=%ld events=%ld "
	       "connections=%ld seconds=%.3f events_per_s=%.0f", l->done,
	       l->ok, l->failed, events, l->connects, secs,
	       secs > 0 ? (double)events / secs : 0.0);
	for (int s = 100; s < 600; s++)
		if (l->by_status[s] > 0)
			printf(" status_%d=%ld", s, l->by_status[s]);
	printf("\n");
	if (l->failed > 0)
		fprintf(stderr, "load-ingest: last failure: %s\n",
			l->last_bad);
}

int main(int argc, char **argv)
{
	struct load l;
	int running = 0;
	double secs;

	memset(&l, 0, sizeof(l));
	parse_opts(argc, argv, &l.o);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("curl_global_init failed");
	setup(&l);
	if (l.o.ok_file != NULL &&
	    (l.ok_out = fopen(l.o.ok_file, "w")) == NULL)
		die("cannot write the -o file");
	l.t0 = now_s();
	for (long i = 0; i < l.o.conns && more_to_send(&l); i++)
		send_one(&l, &l.c[i]);
	while (l.started > l.done) {
		curl_multi_perform(l.multi, &running);
		reap(&l);
		if (l.started > l.done)
			curl_multi_poll(l.multi, NULL, 0, 100, NULL);
	}
	secs = now_s() - l.t0;
	report(&l, secs);
	for (long i = 0; i < l.o.conns; i++) {
		curl_easy_cleanup(l.c[i].easy);
		free(l.c[i].body);
	}
	curl_multi_cleanup(l.multi);
	curl_slist_free_all(l.hdrs);
	curl_global_cleanup();
	if (l.ok_out != NULL)
		fclose(l.ok_out);
	free(l.c);
	free(l.plain);
	free(l.padding);
	return l.failed == 0 ? 0 : 1;
}
