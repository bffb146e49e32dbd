/*
 * fuzz_ingest.c - libFuzzer target for the ingest endpoint's request path
 * (src/daemon/ingest.c through ingest_dry_run()): routing of /v1/events/{table},
 * Authorization, Content-Length, Content-Encoding, the body taken in
 * pieces, gunzip within the size limit, line splitting and validation,
 * and the JSON answer.  Input: an HTTP/1.1 request as sent.  Two test
 * headers pick the setup: "X-Fuzz-Config: strict" (a token, reject_all,
 * a 1 KiB body limit) and "X-Fuzz-Chunk: N" (the body in N-byte pieces).
 */
#include "fuzz.h"

#include <cjson/cJSON.h>
#include <strings.h>

#include "config.h"
#include "ingest.h"
#include "spool.h"
#include "spoolship.h"
#include "validate.h"

#define MAX_HEADERS 32

static const char loose_ini[] =
	"[ingest]\nmax_body_bytes = 64K\npartial = accept_valid\n"
	"[table clicks]\nid = tbl_0123\n[table views]\n";
static const char strict_ini[] =
	"[ingest]\ntoken = fuzz-token-0123456789\nmax_body_bytes = 1K\n"
	"partial = reject_all\n[table clicks]\nid = tbl_0123\n";

static struct config loose, strict;
static spoolship_spool *spool;
static int verbose; /* FUZZ_VERBOSE=1: print what each input got */

/* One request, parsed the lenient way: fields are NUL-terminated
 * copies. */
struct req {
	char *method, *url;
	struct ingest_headers h;
	int strict;
	size_t chunk;
	const char *body;
	size_t len;
	char *copy;
};

static void load(const char *dir, const char *name, const char *text,
		 struct config *c)
{
	char path[512];
	struct config_errors e;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	FUZZ_CHECK(f != NULL && fputs(text, f) >= 0 && fclose(f) == 0);
	if (config_load(path, c, &e) != 0) {
		config_errors_print(&e, path, stderr);
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_scratch();
	struct spoolship_options o;
	char path[512];

	(void)argc;
	(void)argv;
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	load(dir, "loose.ini", loose_ini, &loose);
	load(dir, "strict.ini", strict_ini, &strict);
	spoolship_options_init(&o);
	o.sync = SPOOLSHIP_SYNC_NONE;
	o.fill_time = 1;
	o.max_age_ms = 0; /* "too old" depends on the day: fuzz_validate */
	o.max_bytes = 16u << 20;
	snprintf(path, sizeof(path), "%s/spool", dir);
	FUZZ_CHECK(spoolship_spool_open(path, &o, &spool) == 0);
	return 0;
}

static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
			 s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* Cuts the next line out of *p (NUL-terminated copy); NULL at the end
 * of the head. */
static char *next_line(char **p, char *end)
{
	char *s = *p, *nl;

	if (s >= end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(end - s));
	if (nl == NULL)
		nl = end;
	*nl = '\0';
	*p = nl + (nl < end);
	return s;
}

static void header(struct req *q, char *line)
{
	char *colon = strchr(line, ':'), *v;
	const char **slot = NULL;

	if (colon == NULL)
		return;
	*colon = '\0';
	v = trim(colon + 1);
	line = trim(line);
	if (strcasecmp(line, "authorization") == 0)
		slot = &q->h.authorization;
	else if (strcasecmp(line, "content-length") == 0)
		slot = &q->h.content_length;
	else if (strcasecmp(line, "transfer-encoding") == 0)
		slot = &q->h.transfer_encoding;
	else if (strcasecmp(line, "content-encoding") == 0)
		slot = &q->h.content_encoding;
	else if (strcasecmp(line, "expect") == 0)
		slot = &q->h.expect;
	else if (strcasecmp(line, "x-fuzz-config") == 0)
		q->strict = strcmp(v, "strict") == 0;
	else if (strcasecmp(line, "x-fuzz-chunk") == 0)
		q->chunk = strtoul(v, NULL, 10) % 65536;
	/* libmicrohttpd hands out the first of repeated headers */
	if (slot != NULL && *slot == NULL)
		*slot = v;
}

static void parse(struct req *q, const uint8_t *data, size_t size)
{
	const char *hdr_end;
	char *p, *end, *line, *sp;
	size_t head;

	memset(q, 0, sizeof(*q));
	hdr_end = memmem(data, size, "\r\n\r\n", 4);
	head = hdr_end != NULL ? (size_t)(hdr_end - (const char *)data) + 4
			       : size;
	q->body = (const char *)data + head;
	q->len = size - head;
	q->copy = malloc(head + 1);
	FUZZ_CHECK(q->copy != NULL);
	memcpy(q->copy, data, head);
	q->copy[head] = '\0';
	p = q->copy;
	end = q->copy + strlen(q->copy); /* a NUL ends the head too */
	line = next_line(&p, end);
	q->method = line != NULL ? trim(line) : "";
	q->url = "/";
	if ((sp = strchr(q->method, ' ')) != NULL) {
		*sp = '\0';
		q->url = sp + 1;
		if ((sp = strchr(q->url, ' ')) != NULL)
			*sp = '\0';
		/* libmicrohttpd passes the path without the query */
		if ((sp = strchr(q->url, '?')) != NULL)
			*sp = '\0';
	}
	for (int i = 0; i < MAX_HEADERS; i++) {
		if ((line = next_line(&p, end)) == NULL || *trim(line) == '\0')
			break;
		header(q, line);
	}
}

static int known_status(unsigned s)
{
	static const unsigned ok[] = { 200, 400, 401, 404, 405, 413, 415,
				       500, 503 };

	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++)
		if (s == ok[i])
			return 1;
	return 0;
}

static void check(const struct ingest_dry *d, const struct config *c)
{
	FUZZ_CHECK(known_status(d->status));
	FUZZ_CHECK(strlen(d->answer) == d->answer_len);
	if (d->answer_len > 0) {
		cJSON *j = cJSON_ParseWithLength(d->answer, d->answer_len);

		FUZZ_CHECK(validate_utf8(d->answer, d->answer_len));
		FUZZ_CHECK(cJSON_IsObject(j));
		cJSON_Delete(j);
	}
	if (!d->to_spool) {
		/* only /healthz says 200 without events */
		FUZZ_CHECK(d->status != 200 ||
			   strcmp(d->answer, "{\"status\":\"ok\"}") == 0);
		return;
	}
	if (d->status == 200)
		FUZZ_CHECK(d->rejected == 0 && d->answer_len == 0);
	FUZZ_CHECK(d->n > 0 && spoolship_table_name_ok(d->stream));
	FUZZ_CHECK(d->status == 200 ||
		   (d->status == 400 && d->rejected > 0 &&
		    c->ingest.partial == CONFIG_PARTIAL_ACCEPT_VALID));
	for (size_t i = 0; i < d->n; i++) {
		const struct spool_item *it = &d->items[i];
		struct validate_opts o = { .now_ms = it->event_ms,
					   .max_bytes =
						SPOOLSHIP_MAX_EVENT_BYTES };
		char *out = malloc(it->len + VALIDATE_SLACK);
		size_t len;
		int64_t ms;

		FUZZ_CHECK(out != NULL);
		FUZZ_CHECK(validate_event(it->data, it->len, &o, out,
					  it->len + VALIDATE_SLACK, &len, &ms,
					  NULL, 0) == 0);
		FUZZ_CHECK(len == it->len &&
			   memcmp(out, it->data, len) == 0);
		FUZZ_CHECK(ms == it->event_ms);
		free(out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_dry a, b;
	const struct config *c;
	struct req q;

	parse(&q, data, size);
	c = q.strict ? &strict : &loose;
	FUZZ_CHECK(ingest_dry_run(c, spool, NULL, q.method, q.url, &q.h,
				  q.body, q.len, q.chunk, &a) == 0);
	if (verbose)
		fprintf(stderr, "%s %s: %u events=%zu rejected=%zu %s\n",
			q.method, q.url, a.status, a.n, a.rejected, a.answer);
	check(&a, c);
	/* The pieces libmicrohttpd happens to hand over change nothing. */
	if (q.chunk != 0 && q.chunk < q.len) {
		FUZZ_CHECK(ingest_dry_run(c, spool, NULL, q.method, q.url,
					  &q.h, q.body, q.len, 0, &b) == 0);
		FUZZ_CHECK(a.status == b.status && a.n == b.n &&
			   a.rejected == b.rejected &&
			   a.answer_len == b.answer_len &&
			   memcmp(a.answer, b.answer, a.answer_len) == 0);
		ingest_dry_free(&b);
	}
	ingest_dry_free(&a);
	free(q.copy);
	return 0;
}
