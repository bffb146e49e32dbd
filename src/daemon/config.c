/*
 * config.c - loads the INI file of `spoolship run` through one option
 * table (its values parsed by config_parse.c, checked across keys by
 * config_check.c; config_docs.c writes the example and the docs from it).
 * It must never stop at the first problem, nor put a secret in a message.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "array.h"
#include "auth.h"
#include "config_int.h"
#include "log.h"
#include "names.h"
#include "validate.h"

/* ---- the table ---------------------------------------------------------- */

/* The enums of this file only; the others' names come from the code that
 * parses them too (names.h, auth.h, log.h): one list each. */
static const char *const tls_names[] = { "1.2", "1.3", NULL };
static const char *const partial_names[] = { "accept_valid", "reject_all",
					     NULL };

#define OFF(f) offsetof(struct config, f)

#define STR(sec, k, def, f, fl, d) \
	{ sec, k, CONFIG_STRING, def, 0, 0, NULL, OFF(f), fl, NULL, d }
#define BOOL(sec, k, def, f, d) \
	{ sec, k, CONFIG_BOOL, def, 0, 1, NULL, OFF(f), 0, NULL, d }
#define INT(sec, k, def, lo, hi, f, d) \
	{ sec, k, CONFIG_INT, def, lo, hi, NULL, OFF(f), 0, NULL, d }
#define SIZE(sec, k, def, lo, hi, f, d) \
	{ sec, k, CONFIG_SIZE, def, lo, hi, NULL, OFF(f), 0, NULL, d }
#define DUR(sec, k, def, lo, hi, f, d) \
	{ sec, k, CONFIG_DURATION, def, lo, hi, NULL, OFF(f), 0, NULL, d }
#define ENUM(sec, k, def, names, f, d) \
	{ sec, k, CONFIG_ENUM, def, 0, 0, names, OFF(f), 0, NULL, d }

static const struct config_section sections[] = {
	{ "spool", "[spool]",
	  "The local spool: an LMDB environment directory that holds every "
	  "event until the receiver has acknowledged it." },
	{ "ship", "[ship]",
	  "Shipping to the Events API: batching, concurrency, retries and "
	  "age-out." },
	{ "auth", "[auth]",
	  "Credentials sent to the Events API. A secret may be written here, "
	  "taken from the environment with ${NAME}, or (best) read from a "
	  "*_file that only its owner can read." },
	{ "tls", "[tls]", "TLS for https:// URLs." },
	{ "log", "[log]",
	  "Log lines on stderr: one line per event, stable wording, a "
	  "key=value tail. Secrets are never written." },
	{ "ingest", "[ingest]",
	  "A local Events-API endpoint inside spoolship run: applications "
	  "POST to http://HOST:PORT/v1/events/{table} and get 200 once their "
	  "events are durable in the spool." },
	{ "metrics", "[metrics]", "Prometheus metrics." },
	{ "run", "[run]", "The daemon process." },
	{ "table", "[table NAME]",
	  "Maps spool stream NAME (1 to 255 of A-Z a-z 0-9 . _ -) to the "
	  "table id or connection name that {table} in the url becomes, e.g. "
	  "[table clicks] then id = 0a1b2c3d-1111-2222-3333-444455556666. One "
	  "section per stream; a stream without one ships to the table of its "
	  "own name." },
};
#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

static const struct config_option options[] = {
	STR("spool", "path", "./spool", spool.path, CONFIG_PATH,
	    "Directory of the spool, created with mode 0700 when missing. "
	    "A relative path is taken from this file's directory (the "
	    "default ./spool, not given here, from the working directory); "
	    "run logs it absolute. Use a local filesystem, never NFS."),
	ENUM("spool", "sync", "full", spoolship_sync_names, spool.sync,
	     "When an append is durable. full: fsync before an append "
	     "returns (survives power loss). batch: fsync every sync_interval "
	     "(a power loss may take back that much). none: leave flushing "
	     "to the OS (survives a crash of the process only)."),
	DUR("spool", "sync_interval", "200ms", 1 * MS, 1 * MIN,
	    spool.sync_interval_ms,
	    "Flush period of sync = batch: the longest stretch of appends a "
	    "power loss can take back."),
	SIZE("spool", "max_bytes", "1G", 1 * MIB, 64 * TIB, spool.max_bytes,
	     "Disk budget of the spool's data file. When it is used up, "
	     "full_policy decides."),
	ENUM("spool", "full_policy", "reject", spoolship_full_policy_names,
	     spool.full_policy,
	     "What an append does when the spool is full. reject: the "
	     "producer gets a 'spool full' error and nothing accepted is "
	     "touched. drop_oldest: the oldest pending events are deleted "
	     "(and counted) to make room. block: wait up to block_timeout for "
	     "space, then reject."),
	DUR("spool", "block_timeout", "5s", 0, 1 * HOUR,
	    spool.block_timeout_ms, "Longest wait of full_policy = block."),
	BOOL("spool", "fill_time", "false", spool.fill_time,
	     "Give an event without __time the time of its append instead of "
	     "rejecting it."),
	STR("spool", "encryption_key_file", "", spool.encryption_key_file,
	    CONFIG_PATH,
	    "Encryption at rest: a file of 32 random bytes (make one with "
	    "`spoolship keygen FILE`), owned by the user spoolship runs as, "
	    "mode 0600 or 0400. Each event is then sealed with AES-256-GCM in "
	    "the spool. Every process that appends to or reads the spool "
	    "needs the same key. Empty: events are stored in the clear. See "
	    "docs/security.md."),

	{ "ship", "url", CONFIG_STRING, "", 0, 0, NULL, OFF(ship.url), 0,
	  "http://127.0.0.1:8080/v1/events/{table}",
	  "Events API endpoint, required by spoolship run. {table} is "
	  "replaced by each stream's table id (its [table NAME] id, or the "
	  "stream name), percent-encoded. Polaris: "
	  "https://ORG.REGION.CLOUD.api.imply.io/v1/projects/PROJECT_ID/"
	  "events/{table} or https://ORG.api.imply.io/v1/events/{table}. The "
	  "example points at a local mock receiver." },
	INT("ship", "max_events", "60", 1, 10000, ship.max_events,
	    "Most events in one request (Polaris recommends about 60)."),
	SIZE("ship", "max_bytes", "1000000", 1 * KIB, 10 * MIB, ship.max_bytes,
	     "Largest request body, before compression (Polaris refuses "
	     "requests over 1,000,000 bytes)."),
	DUR("ship", "linger", "500ms", 0, 1 * MIN, ship.linger_ms,
	    "How long the oldest unsent event may wait for its batch to fill; "
	    "a full batch goes at once."),
	INT("ship", "max_in_flight", "4", 1, 256, ship.max_in_flight,
	    "Requests in flight at once, over all streams."),
	DUR("ship", "timeout", "30s", 100 * MS, 1 * HOUR, ship.timeout_ms,
	    "Longest time for one whole request, from connecting to the last "
	    "byte of the answer."),
	DUR("ship", "connect_timeout", "10s", 100 * MS, 10 * MIN,
	    ship.connect_timeout_ms,
	    "Longest time to set up a connection (TCP and TLS)."),
	DUR("ship", "max_age", "7d", 0, 365 * DAY, ship.max_age_ms,
	    "The receiver's late-event window: it never ingests an event "
	    "whose __time is older (Polaris: 7 days unless the table says "
	    "otherwise). 0 turns age-out off."),
	DUR("ship", "age_margin", "10m", 0, 1 * DAY, ship.age_margin_ms,
	    "Safety margin under max_age: an event older than max_age minus "
	    "age_margin is refused at append time, and one that gets that old "
	    "in the spool moves to the dead store (reason expired) instead of "
	    "being sent."),
	BOOL("ship", "gzip", "false", ship.gzip,
	     "Compress request bodies (Content-Encoding: gzip)."),
	INT("ship", "requests_per_minute", "83334", 0, 100000000,
	    ship.requests_per_minute,
	    "Client-side limit on requests per minute over all streams "
	    "(Polaris allows 83,334 per organisation); 0 turns it off. 429 "
	    "answers are honoured either way."),
	DUR("ship", "backoff_min", "100ms", 1 * MS, 1 * HOUR,
	    ship.backoff_min_ms,
	    "First delay before retrying a failed request (5xx, timeout, "
	    "connection error); it doubles on each failure, with full "
	    "jitter."),
	DUR("ship", "backoff_max", "60s", 1 * MS, 1 * DAY, ship.backoff_max_ms,
	    "Cap of the retry delay."),
	DUR("ship", "alarm_backoff", "5m", 1 * SEC, 1 * DAY,
	    ship.alarm_backoff_ms,
	    "Delay between attempts while the receiver answers 401 even after "
	    "a token refresh, 403 or 404 (a credentials or configuration "
	    "alarm). The data is kept."),
	DUR("ship", "shutdown_timeout", "10s", 0, 1 * HOUR,
	    ship.shutdown_timeout_ms,
	    "On SIGTERM or SIGINT, how long to wait for the requests in "
	    "flight before exiting. Unacknowledged events stay in the "
	    "spool."),
	STR("ship", "user_agent", "spoolship/{version}", ship.user_agent, 0,
	    "User-Agent header; {version} becomes the spoolship version."),

	ENUM("auth", "mode", "none", auth_mode_names, auth.mode,
	     "none: no Authorization header. bearer: a static Bearer token. "
	     "oauth: OAuth2 client credentials from token_url, renewed before "
	     "they expire. apikey: an API key, sent as Basic base64(KEY:)."),
	STR("auth", "token", "", auth.token, CONFIG_SECRET,
	    "Bearer token of mode = bearer."),
	STR("auth", "token_file", "", auth.token_file, CONFIG_PATH,
	    "File holding the Bearer token instead (one trailing newline is "
	    "dropped). It must not be accessible by group or others. Read at "
	    "start and on SIGHUP."),
	STR("auth", "token_url", "", auth.token_url, 0,
	    "OAuth2 token endpoint of mode = oauth, e.g. https://id.imply.io/"
	    "auth/realms/ORG/protocol/openid-connect/token."),
	STR("auth", "client_id", "", auth.client_id, 0, "OAuth2 client id."),
	STR("auth", "client_secret", "", auth.client_secret, CONFIG_SECRET,
	    "OAuth2 client secret."),
	STR("auth", "client_secret_file", "", auth.client_secret_file,
	    CONFIG_PATH, "File holding the client secret, as token_file."),
	STR("auth", "api_key", "", auth.api_key, CONFIG_SECRET,
	    "API key of mode = apikey."),
	STR("auth", "api_key_file", "", auth.api_key_file, CONFIG_PATH,
	    "File holding the API key, as token_file."),
	DUR("auth", "refresh_margin", "30s", 0, 1 * HOUR,
	    auth.refresh_margin_ms,
	    "Fetch a new OAuth2 token this long before the current one "
	    "expires (Polaris tokens live 5 minutes)."),
	STR("auth", "scope", "", auth.scope, 0,
	    "OAuth2 scope to ask for; empty asks for none."),

	BOOL("tls", "verify", "true", tls.verify,
	     "Verify the server's certificate and host name. Turn it off only "
	     "to test against a receiver with a self-signed certificate."),
	STR("tls", "ca_file", "", tls.ca_file, CONFIG_PATH,
	    "CA certificates (PEM) to verify the server with, instead of the "
	    "system's."),
	STR("tls", "cert_file", "", tls.cert_file, CONFIG_PATH,
	    "Client certificate (PEM) for mutual TLS."),
	STR("tls", "key_file", "", tls.key_file, CONFIG_PATH,
	    "Private key of cert_file (PEM). It must not be accessible by "
	    "others than its owner and group."),
	ENUM("tls", "min_version", "1.2", tls_names, tls.min_version,
	     "Lowest TLS version accepted."),

	ENUM("log", "level", "info", log_level_names, log.level,
	     "Least severe level written."),
	ENUM("log", "format", "text", log_format_names, log.format,
	     "text: '2026-11-25T21:00:00.123Z warn  message key=value'. json: "
	     "one object per line with ts, level, msg and each key=value "
	     "field as a string."),
	DUR("log", "progress_interval", "60s", 0, 1 * DAY,
	    log.progress_interval_ms,
	    "Period of the info line 'progress shipped=N pending=N "
	    "events_per_s=X in_flight=N' while there is work (events pending "
	    "or shipped in the period); nothing while idle. 0 turns it "
	    "off."),

	STR("ingest", "listen", "", ingest.listen, 0,
	    "Address of the endpoint, HOST:PORT ([::1]:PORT for IPv6; port 0 "
	    "picks a free one); empty turns it off. An address other hosts "
	    "can reach needs allow_remote and a token."),
	BOOL("ingest", "allow_remote", "false", ingest.allow_remote,
	     "Allow listen on an address other hosts can reach."),
	STR("ingest", "token", "", ingest.token, CONFIG_SECRET,
	    "Bearer token clients must send; empty accepts every request "
	    "(loopback only)."),
	STR("ingest", "token_file", "", ingest.token_file, CONFIG_PATH,
	    "File holding the token instead, as [auth] token_file."),
	SIZE("ingest", "max_body_bytes", "16M", 1 * KIB, 64 * MIB,
	     ingest.max_body_bytes,
	     "Largest request body accepted (and after gzip, largest "
	     "inflated body); a larger one is answered 413. Each event stays "
	     "limited to 1,000,000 bytes. The default takes what upstream "
	     "shippers send (Fluent Bit's json_lines requests are ~2 MB). "
	     "Memory: a plain body is validated as it arrives and its events "
	     "held once (about 1.25 x its size), a gzip body is kept whole "
	     "until it ends (up to 3 x); max_connections clients sending "
	     "bodies this large at once hold max_connections times that."),
	ENUM("ingest", "partial", "accept_valid", partial_names,
	     ingest.partial,
	     "A request holding some invalid lines. accept_valid: the valid "
	     "lines are appended and the others reported. reject_all: nothing "
	     "is appended and the request is answered 400."),
	INT("ingest", "max_connections", "512", 1, 65536,
	    ingest.max_connections, "Most client connections at once."),
	DUR("ingest", "connection_timeout", "30s", 1 * SEC, 1 * HOUR,
	    ingest.connection_timeout_ms,
	    "A client connection is closed when it stays idle this long, "
	    "or when one request takes longer than this to arrive (slow "
	    "clients cannot hold connections)."),

	STR("metrics", "listen", "", metrics.listen, 0,
	    "Address serving Prometheus text at /metrics, HOST:PORT; empty "
	    "turns it off."),

	STR("run", "pid_file", "", run.pid_file, CONFIG_PATH,
	    "File the daemon writes its process id to; empty writes none."),

	{ "table", "id", CONFIG_STRING, "", 0, 0, NULL,
	  offsetof(struct config_table, id), 0, NULL,
	  "Table id or connection name of stream NAME: any printable text "
	  "(it is percent-encoded in the URL). Empty: the stream name." },
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

const struct config_option *config_options(size_t *n)
{
	*n = NOPTIONS;
	return options;
}

const struct config_section *config_sections(size_t *n)
{
	*n = NSECTIONS;
	return sections;
}

int config_is_table(const struct config_option *o)
{
	return strcmp(o->section, "table") == 0;
}

void *config_field(void *base, const struct config_option *o)
{
	return (char *)base + o->offset;
}

int config_find_section(const char *name)
{
	for (size_t i = 0; i < NSECTIONS; i++)
		if (strcmp(sections[i].name, name) == 0)
			return (int)i;
	return -1;
}

int config_find_option(const char *section, const char *key)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (strcmp(options[i].section, section) == 0 &&
		    strcmp(options[i].key, key) == 0)
			return (int)i;
	return -1;
}

const char *config_enum_name(const char *section, const char *key, int v)
{
	int i = config_find_option(section, key);

	if (i < 0 || options[i].type != CONFIG_ENUM || v < 0)
		return NULL;
	for (int k = 0; k <= v; k++)
		if (options[i].names[k] == NULL)
			return NULL;
	return options[i].names[v];
}

/* "[ship] linger", "[table clicks] id" */
void config_label(const struct config_option *o, const char *table,
		  char *buf, size_t len)
{
	if (table != NULL)
		snprintf(buf, len, "[table %.64s] %s", table, o->key);
	else
		snprintf(buf, len, "[%s] %s", o->section, o->key);
}

/* ---- errors ------------------------------------------------------------- */

void config_add_err(struct config_errors *e, int line, const char *fmt,
		    ...)
{
	va_list ap;

	if (e->n == CONFIG_MAX_ERRORS) {
		e->dropped++;
		return;
	}
	e->v[e->n].line = line;
	va_start(ap, fmt);
	vsnprintf(e->v[e->n].msg, sizeof(e->v[e->n].msg), fmt, ap);
	va_end(ap);
	e->n++;
}

/* File order; errors of no particular line last.  Stable. */
static void sort_errors(struct config_errors *e)
{
	for (size_t i = 1; i < e->n; i++) {
		struct config_error t = e->v[i];
		unsigned key = (unsigned)t.line - 1; /* 0 sorts last */
		size_t j = i;

		while (j > 0 && (unsigned)e->v[j - 1].line - 1 > key) {
			e->v[j] = e->v[j - 1];
			j--;
		}
		e->v[j] = t;
	}
}

int config_error_format(const struct config_errors *e, size_t i,
			const char *file, char *buf, size_t len)
{
	if (e == NULL || i >= e->n)
		return SPOOLSHIP_EINVAL;
	if (e->v[i].line > 0)
		snprintf(buf, len, "%s:%d: %s", file, e->v[i].line,
			 e->v[i].msg);
	else
		snprintf(buf, len, "%s: %s", file, e->v[i].msg);
	return 0;
}

void config_errors_print(const struct config_errors *e, const char *file,
			 FILE *f)
{
	char buf[CONFIG_ERROR_LEN + 512];

	for (size_t i = 0; i < e->n; i++) {
		config_error_format(e, i, file, buf, sizeof(buf));
		fprintf(f, "%s\n", buf);
	}
	if (e->dropped > 0)
		fprintf(f, "%s: %zu more errors\n", file, e->dropped);
}

/* ---- loading: state ----------------------------------------------------- */

enum { SECT_NONE = -1, SECT_BAD = -2 };

static int *line_slot(struct config_ctx *x, size_t opt)
{
	if (config_is_table(&options[opt]))
		return &x->tlines[x->table * NOPTIONS + opt];
	return &x->lines[opt];
}

/* Line that set [section] key, 0 when it kept its default. */
int config_line_of(const struct config_ctx *x, const char *section,
		   const char *key)
{
	int i = config_find_option(section, key);

	return i < 0 ? 0 : x->lines[i];
}

/* ---- loading: values ---------------------------------------------------- */

static int set_string(char **slot, const char *v)
{
	char *copy = strdup(v);

	if (copy == NULL)
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

/* Sets option o in base from text v.  Returns 0, -ENOMEM, or
 * SPOOLSHIP_EINVAL with the reason (naming lbl) in why. */
static int set_value(const struct config_option *o, void *base,
		     const char *v, const char *lbl, char *why, size_t len)
{
	char lo[32], hi[32], names[160];
	int64_t n = 0;
	uint64_t u = 0;
	int b, rc;

	switch (o->type) {
	case CONFIG_STRING:
		if (config_has_control(v)) {
			snprintf(why, len, "%s holds a control character",
				 lbl);
			return SPOOLSHIP_EINVAL;
		}
		return set_string(config_field(base, o), v);
	case CONFIG_BOOL:
		if (config_parse_bool(v, &b) != 0) {
			snprintf(why, len, "invalid value '%.64s' for %s: "
				 "expected true or false", v, lbl);
			return SPOOLSHIP_EINVAL;
		}
		*(int *)config_field(base, o) = b;
		return 0;
	case CONFIG_ENUM:
		if (spoolship_name_parse(v, o->names, &b) != 0) {
			config_show_names(o->names, names, sizeof(names));
			snprintf(why, len, "invalid value '%.64s' for %s: "
				 "expected %s", v, lbl, names);
			return SPOOLSHIP_EINVAL;
		}
		*(int *)config_field(base, o) = b;
		return 0;
	case CONFIG_INT:
		rc = config_parse_int(v, &n);
		break;
	case CONFIG_SIZE:
		rc = config_parse_size(v, &u);
		n = (int64_t)u;
		break;
	default:
		rc = config_parse_duration(v, &n);
		break;
	}
	if (rc != 0) {
		snprintf(why, len, "invalid value '%.64s' for %s: expected %s",
			 v, lbl, o->type == CONFIG_INT ? "an integer" :
			 o->type == CONFIG_SIZE ?
			 "a size such as 1000, 64K, 10M or 1G" :
			 "a duration such as 500ms, 30s, 5m, 2h or 7d");
		return SPOOLSHIP_EINVAL;
	}
	if (n < o->min || n > o->max) {
		config_show_value(o, o->min, lo, sizeof(lo));
		config_show_value(o, o->max, hi, sizeof(hi));
		snprintf(why, len, "%s = %.64s is out of range %s .. %s", lbl,
			 v, lo, hi);
		return SPOOLSHIP_EINVAL;
	}
	if (o->type == CONFIG_SIZE)
		*(uint64_t *)config_field(base, o) = (uint64_t)n;
	else
		*(int64_t *)config_field(base, o) = n;
	return 0;
}

/*
 * Expands ${NAME}, ${NAME:-default} (used when NAME is unset or empty) and
 * $$ in v into a new string in *out.  Returns 0, -ENOMEM, or
 * SPOOLSHIP_EINVAL with the reason in why.  Never copies a value into why.
 */
static int expand(const char *v, const char *lbl, char **out, char *why,
		  size_t len)
{
	size_t cap = strlen(v) + 1, n = 0;
	char *r = malloc(cap);
	const char *p = v;

	if (r == NULL)
		return -ENOMEM;
	while (*p != '\0') {
		const char *add = p, *name, *end, *val;
		size_t alen = 1, nlen;

		if (*p == '$' && p[1] == '$') {
			p += 2;
		} else if (*p == '$') {
			if (p[1] != '{') {
				snprintf(why, len, "%s: a '$' must start "
					 "${NAME} (write $$ for a dollar)",
					 lbl);
				goto bad;
			}
			name = p + 2;
			for (end = name;
			     config_is_name_char((unsigned char)*end,
						 end == name); end++)
				;
			nlen = (size_t)(end - name);
			if (nlen == 0 || nlen > 127 || (*end != '}' &&
					  strncmp(end, ":-", 2) != 0)) {
				snprintf(why, len, "%s: invalid variable "
					 "reference (expected ${NAME} or "
					 "${NAME:-default})", lbl);
				goto bad;
			}
			{
				char nm[128];

				snprintf(nm, sizeof(nm), "%.*s", (int)nlen,
					 name);
				val = getenv(nm);
				if (*end == ':') {
					const char *d = end + 2;

					end = strchr(d, '}');
					if (end == NULL) {
						snprintf(why, len, "%s: "
							 "unterminated ${",
							 lbl);
						goto bad;
					}
					if (val == NULL || *val == '\0') {
						val = d;
						alen = (size_t)(end - d);
					} else {
						alen = strlen(val);
					}
				} else if (val == NULL) {
					snprintf(why, len, "%s: environment "
						 "variable %s is not set", lbl,
						 nm);
					goto bad;
				} else {
					alen = strlen(val);
				}
			}
			add = val;
			p = end + 1;
		} else {
			p++;
		}
		if (array_grow((void **)&r, &cap, n + alen + 1, 1) != 0) {
			free(r);
			return -ENOMEM;
		}
		memcpy(r + n, add, alen);
		n += alen;
	}
	r[n] = '\0';
	*out = r;
	return 0;
bad:
	free(r);
	return SPOOLSHIP_EINVAL;
}

/* ---- loading: suggestions ----------------------------------------------- */

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Case-blind edit distance of a and b, for "did you mean"; short strings
 * only. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65];

	if (la > 64 || lb > 64)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag +
				(lower((unsigned char)a[i - 1]) !=
				 lower((unsigned char)b[j - 1]));

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* Whether typed is close enough to name to suggest it: one edit for a
 * short name, two for a longer one. */
static int close_to(const char *typed, const char *name)
{
	return distance(typed, name) <= (strlen(name) >= 6 ? 2u : 1u);
}

static void unknown_key(struct config_ctx *x, const char *key)
{
	const char *sect = sections[x->sect].name, *best = NULL;
	char elsewhere[128] = "", tsect[300];
	size_t used = 0, bestd = 99;

	for (size_t i = 0; i < NOPTIONS; i++) {
		const struct config_option *o = &options[i];

		if (strcmp(o->section, sect) == 0) {
			size_t d = distance(key, o->key);

			if (d < bestd && close_to(key, o->key)) {
				bestd = d;
				best = o->key;
			}
		} else if (strcmp(o->key, key) == 0 && used < 100) {
			int s = config_find_section(o->section);
			int k = snprintf(elsewhere + used,
					 sizeof(elsewhere) - used, "%s%s",
					 used ? " or " : "",
					 sections[s].header);

			used += k > 0 ? (size_t)k : 0;
		}
	}
	if (x->sect == config_find_section("table")) {
		snprintf(tsect, sizeof(tsect), "table %s",
			 x->cfg.tables[x->table].name);
		sect = tsect;
	}
	if (used > 0)
		config_add_err(x->errs, x->line, "unknown key '%.64s' in [%s] "
			       "(it belongs in %s)", key, sect, elsewhere);
	else if (best != NULL)
		config_add_err(x->errs, x->line, "unknown key '%.64s' in [%s] "
			       "(did you mean '%s'?)", key, sect, best);
	else
		config_add_err(x->errs, x->line, "unknown key '%.64s' in [%s]",
			       key, sect);
}

/* ---- loading: lines ----------------------------------------------------- */

static int new_table(struct config_ctx *x, const char *name)
{
	struct config *c = &x->cfg;
	struct config_table *t;

	if (array_grow((void **)&c->tables, &x->tcap, c->ntables + 1,
		       sizeof(*c->tables)) != 0 ||
	    array_grow((void **)&x->tlines, &x->tlcap, c->ntables + 1,
		       NOPTIONS * sizeof(*x->tlines)) != 0)
		return -ENOMEM;
	t = &c->tables[c->ntables];
	memset(t, 0, sizeof(*t));
	memset(&x->tlines[c->ntables * NOPTIONS], 0,
	       NOPTIONS * sizeof(*x->tlines));
	t->line = x->line;
	t->name = strdup(name);
	c->ntables++;
	if (t->name == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < NOPTIONS; i++) {
		char why[8];

		if (config_is_table(&options[i]) &&
		    set_value(&options[i], t, options[i].def, "", why,
			      sizeof(why)) != 0)
			return -ENOMEM; /* the defaults are valid */
	}
	return 0;
}

/* A "[...]" line: s is trimmed on the left. */
static void on_section(struct config_ctx *x, char *s)
{
	char *end = strchr(s, ']'), *name = s + 1, *rest;
	size_t n;
	int i;

	x->sect = SECT_BAD;
	if (end == NULL) {
		config_add_err(x->errs, x->line, "section header without ']'");
		return;
	}
	for (rest = end + 1; *rest == ' ' || *rest == '\t'; rest++)
		;
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		config_add_err(x->errs, x->line, "text after the section "
			       "header");
		return;
	}
	*end = '\0';
	while (*name == ' ' || *name == '\t')
		name++;
	for (n = strlen(name); n > 0 && (name[n - 1] == ' ' ||
					 name[n - 1] == '\t'); n--)
		name[n - 1] = '\0';
	if (strncmp(name, "table", 5) == 0 &&
	    (name[5] == '\0' || name[5] == ' ' || name[5] == '\t')) {
		char *t = name + 5;

		while (*t == ' ' || *t == '\t')
			t++;
		if (*t == '\0') {
			config_add_err(x->errs, x->line, "[table] needs a "
				       "stream name: [table NAME]");
			return;
		}
		if (!spoolship_table_name_ok(t)) {
			config_add_err(x->errs, x->line, "invalid stream name "
				"'%.64s' in [table ...]: use 1 to 255 of "
				"A-Z a-z 0-9 . _ -", t);
			return;
		}
		for (size_t k = 0; k < x->cfg.ntables; k++) {
			if (strcmp(x->cfg.tables[k].name, t) == 0) {
				config_add_err(x->errs, x->line, "[table "
					       "%.64s] appears twice (first "
					       "on line %d)", t,
					       x->cfg.tables[k].line);
				return;
			}
		}
		if (new_table(x, t) != 0) {
			x->oom = 1;
			return;
		}
		x->table = x->cfg.ntables - 1;
		x->sect = config_find_section("table");
		return;
	}
	i = config_find_section(name);
	if (i >= 0) {
		x->sect = i;
		return;
	}
	{
		const char *best = NULL;
		size_t bestd = 99;

		for (size_t k = 0; k < NSECTIONS; k++) {
			size_t d = distance(name, sections[k].name);

			if (d < bestd && close_to(name, sections[k].name)) {
				bestd = d;
				best = sections[k].header;
			}
		}
		if (best != NULL)
			config_add_err(x->errs, x->line, "unknown section "
				       "[%.64s] (did you mean %s?)", name,
				       best);
		else
			config_add_err(x->errs, x->line, "unknown section "
				       "[%.64s]", name);
	}
}

/*
 * libinih's line reader.  It counts lines (inih cannot tell its handler
 * which line it is on), handles section headers itself (inih cuts their
 * names at 50 bytes), strips indentation (so an indented key is never
 * taken for inih's continuation of the previous value), and replaces each
 * line it finds wrong by an empty one after recording why, so that every
 * problem is reported, each with its line.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct config_ctx *x = stream;
	ssize_t n = getline(&x->buf, &x->bufcap, x->fp);
	char *s = x->buf, *sep;
	size_t len;

	if (n < 0) {
		if (ferror(x->fp))
			x->io_err = errno != 0 ? errno : EIO;
		return NULL;
	}
	x->line++;
	str[0] = '\0';
	if (x->line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		n -= 3;
	}
	if ((size_t)n != strlen(s)) {
		config_add_err(x->errs, x->line, "NUL byte in the line");
		return str;
	}
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || *s == ';' || *s == '#')
		return str;
	if (*s == '[') {
		on_section(x, s);
		return str;
	}
	len = strlen(s);
	if (num < 4 || len > (size_t)num - 4) {
		config_add_err(x->errs, x->line, "line too long (%zu bytes, "
			       "at most %d): put a long value in a *_file or "
			       "an environment variable", len, num - 4);
		return str;
	}
	/* inih splits at the first '=' or ':' unless a " ;" comes first. */
	for (sep = s; *sep != '\0' && *sep != '=' && *sep != ':'; sep++)
		if (*sep == ';' && sep > s &&
		    (sep[-1] == ' ' || sep[-1] == '\t'))
			break;
	if (*sep != '=' && *sep != ':') {
		config_add_err(x->errs, x->line, "expected 'key = value', "
			"'[section]' or a comment");
		return str;
	}
	if (sep == s) {
		config_add_err(x->errs, x->line, "missing key before '%c'",
			       *sep);
		return str;
	}
	memcpy(str, s, len + 1);
	return str;
}

/* libinih's handler: one key = value of the current section. */
static int on_value(void *user, const char *section, const char *key,
		    const char *value)
{
	struct config_ctx *x = user;
	const struct config_table *t = NULL;
	char lbl[128], why[512];
	char *v = NULL;
	int opt, *slot, rc;
	void *base = &x->cfg;

	(void)section; /* ours is in x->sect, uncut */
	if (x->sect == SECT_BAD)
		return 1;
	if (x->sect == SECT_NONE) {
		config_add_err(x->errs, x->line, "key '%.64s' outside any "
			       "section", key);
		return 1;
	}
	opt = config_find_option(sections[x->sect].name, key);
	if (opt < 0) {
		unknown_key(x, key);
		return 1;
	}
	if (config_is_table(&options[opt])) {
		t = &x->cfg.tables[x->table];
		base = &x->cfg.tables[x->table];
	}
	config_label(&options[opt], t != NULL ? t->name : NULL, lbl,
		     sizeof(lbl));
	slot = line_slot(x, (size_t)opt);
	if (*slot != 0) {
		config_add_err(x->errs, x->line, "%s is set twice (first on "
			       "line %d)", lbl, *slot);
		return 1;
	}
	*slot = x->line;
	rc = expand(value, lbl, &v, why, sizeof(why));
	if (rc == 0)
		rc = set_value(&options[opt], base, v,
			       lbl, why, sizeof(why));
	if (rc == -ENOMEM)
		x->oom = 1;
	else if (rc != 0)
		config_add_err(x->errs, x->line, "%s", why);
	if (v != NULL && (options[opt].flags & CONFIG_SECRET)) {
		volatile char *p = v;

		while (*p != '\0')
			*p++ = '\0';
	}
	free(v);
	return 1;
}

static int expand_version(char **ua)
{
	const char *at = strstr(*ua, "{version}");
	size_t vl = strlen(SPOOLSHIP_VERSION_STRING), n;
	char *r;

	if (at == NULL)
		return 0;
	n = strlen(*ua) - 9 + vl;
	r = malloc(n + 1);
	if (r == NULL)
		return -ENOMEM;
	snprintf(r, n + 1, "%.*s%s%s", (int)(at - *ua), *ua,
		 SPOOLSHIP_VERSION_STRING, at + 9);
	free(*ua);
	*ua = r;
	return expand_version(ua);
}

/* ---- loading: relative paths -------------------------------------------- */

/* The config file's directory, absolute (malloc'd), or NULL with errno. */
static char *file_dir(const char *file)
{
	const char *slash = strrchr(file, '/');
	char *dir, *abs;

	if (slash == NULL)
		return realpath(".", NULL);
	if (slash == file)
		return strdup("/");
	dir = strndup(file, (size_t)(slash - file));
	if (dir == NULL)
		return NULL;
	abs = realpath(dir, NULL);
	free(dir);
	return abs;
}

/* base/v into *slot, v's leading "./" dropped so that the log reads
 * cleanly.  Returns 0 or -ENOMEM. */
static int join_path(const char *base, const char *v, char **slot)
{
	size_t n;
	char *p;

	while (v[0] == '.' && v[1] == '/')
		for (v += 2; *v == '/'; v++)
			;
	if (strcmp(v, ".") == 0)
		v = "";
	n = strlen(base) + strlen(v) + 2;
	p = malloc(n);
	if (p == NULL)
		return -ENOMEM;
	snprintf(p, n, "%s%s%s", base,
		 *v == '\0' || strcmp(base, "/") == 0 ? "" : "/", v);
	free(*slot);
	*slot = p;
	return 0;
}

/*
 * A relative file name in the file is taken from the file's directory,
 * as users expect of a config file: systemd starts a service in /, and
 * `spoolship stats -c FILE` must find the spool `run -c FILE` ships,
 * from any directory.  The default spool path, which the file does not
 * give, stays the working directory's, as -s's default; it is made
 * absolute too, so that the log names the spool wherever it was.
 */
static void resolve_paths(struct config_ctx *x)
{
	char *dir = file_dir(x->cfg.file), *cwd = realpath(".", NULL);

	for (size_t i = 0; i < NOPTIONS && !x->oom; i++) {
		const struct config_option *o = &options[i];
		char **slot;
		const char *base;

		if (config_is_table(o) || !(o->flags & CONFIG_PATH))
			continue;
		slot = (char **)config_field(&x->cfg, o);
		if (*slot == NULL || **slot == '\0' || **slot == '/')
			continue;
		base = x->lines[i] != 0 ? dir : cwd;
		if (base == NULL)
			config_add_err(x->errs, x->lines[i], "[%s] %s: cannot "
				       "make '%.128s' absolute: %s",
				       o->section, o->key, *slot,
				       strerror(errno));
		else if (join_path(base, *slot, slot) != 0)
			x->oom = 1;
	}
	free(dir);
	free(cwd);
}

/* ---- loading: entry points ---------------------------------------------- */

int config_defaults(struct config *out)
{
	char why[CONFIG_ERROR_LEN];

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < NOPTIONS; i++) {
		int rc;

		if (config_is_table(&options[i]))
			continue;
		rc = set_value(&options[i], out, options[i].def, "", why,
			       sizeof(why));
		if (rc != 0) {
			config_free(out);
			return rc;
		}
	}
	if (expand_version(&out->ship.user_agent) != 0) {
		config_free(out);
		return -ENOMEM;
	}
	return 0;
}

int config_load(const char *path, struct config *out,
		struct config_errors *errs)
{
	struct config_errors local;
	struct config_ctx x;
	int rc, r;

	memset(&x, 0, sizeof(x));
	memset(out, 0, sizeof(*out));
	x.errs = errs != NULL ? errs : &local;
	memset(x.errs, 0, sizeof(*x.errs));
	x.sect = SECT_NONE;
	if (path == NULL)
		return SPOOLSHIP_EINVAL;
	rc = config_defaults(&x.cfg);
	if (rc != 0)
		return rc;
	x.cfg.file = strdup(path);
	x.lines = calloc(NOPTIONS, sizeof(*x.lines));
	if (x.cfg.file == NULL || x.lines == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	x.fp = fopen(path, "r");
	if (x.fp == NULL) {
		rc = -errno;
		config_add_err(x.errs, 0, "cannot open: %s", strerror(errno));
		goto out;
	}
	r = ini_parse_stream(read_line, &x, on_value, &x);
	if (x.io_err != 0) {
		rc = -x.io_err;
		config_add_err(x.errs, 0, "cannot read: %s",
			       strerror(x.io_err));
		goto out;
	}
	if (r > 0 && x.errs->n == 0)
		config_add_err(x.errs, r, "syntax error");
	if (r == -2)
		x.oom = 1;
	if (!x.oom)
		resolve_paths(&x);
	if (!x.oom) {
		if (expand_version(&x.cfg.ship.user_agent) != 0)
			x.oom = 1;
		config_check_keys(&x);
	}
	rc = x.oom ? -ENOMEM : x.errs->n > 0 ? SPOOLSHIP_EINVAL : 0;
out:
	sort_errors(x.errs);
	if (x.fp != NULL)
		fclose(x.fp);
	free(x.buf);
	free(x.lines);
	free(x.tlines);
	if (rc == 0)
		*out = x.cfg;
	else
		config_free(&x.cfg);
	return rc;
}

static void free_string(char **s, int secret)
{
	if (*s != NULL && secret) {
		volatile char *p = *s;

		while (*p != '\0')
			*p++ = '\0';
	}
	free(*s);
	*s = NULL;
}

void config_free(struct config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < NOPTIONS; i++) {
		const struct config_option *o = &options[i];

		if (o->type != CONFIG_STRING)
			continue;
		if (!config_is_table(o)) {
			free_string(config_field(c, o),
				    o->flags & CONFIG_SECRET);
			continue;
		}
		for (size_t t = 0; t < c->ntables; t++)
			free_string(config_field(&c->tables[t], o),
				    o->flags & CONFIG_SECRET);
	}
	for (size_t t = 0; t < c->ntables; t++)
		free(c->tables[t].name);
	free(c->tables);
	free(c->file);
	memset(c, 0, sizeof(*c));
}

/* ---- using it ----------------------------------------------------------- */

void config_spool_options(const struct config *c, struct spoolship_options *o)
{
	spoolship_options_init(o);
	o->sync = c->spool.sync;
	o->sync_interval_ms = (unsigned)c->spool.sync_interval_ms;
	o->max_bytes = c->spool.max_bytes;
	o->full_policy = c->spool.full_policy;
	o->block_timeout_ms = (unsigned)c->spool.block_timeout_ms;
	o->fill_time = c->spool.fill_time;
	if (*c->spool.encryption_key_file != '\0')
		o->key_file = c->spool.encryption_key_file;
	o->max_age_ms = validate_window_ms(c->ship.max_age_ms,
					   c->ship.age_margin_ms);
}

int config_table_id(const struct config *c, const char *stream,
		    const char **id)
{
	if (!spoolship_table_name_ok(stream))
		return SPOOLSHIP_EINVAL;
	*id = stream;
	for (size_t i = 0; i < c->ntables; i++) {
		if (strcmp(c->tables[i].name, stream) == 0) {
			const char *t = c->tables[i].id;

			if (t != NULL && *t != '\0')
				*id = t;
			break;
		}
	}
	return 0;
}

int config_url_for(const struct config *c, const char *stream, char *out,
		   size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *id, *u = c->ship.url;
	size_t n = 0;

	if (config_table_id(c, stream, &id) != 0 || u == NULL || *u == '\0')
		return SPOOLSHIP_EINVAL;
	while (*u != '\0') {
		if (strncmp(u, "{table}", 7) != 0) {
			if (n + 1 >= outlen)
				return SPOOLSHIP_EINVAL;
			out[n++] = *u++;
			continue;
		}
		for (const char *p = id; *p != '\0'; p++) {
			unsigned char ch = (unsigned char)*p;
			int plain = config_is_name_char(ch, 0) || ch == '-' ||
				    ch == '.' || ch == '~';

			if (n + (plain ? 1 : 3) >= outlen)
				return SPOOLSHIP_EINVAL;
			if (plain) {
				out[n++] = (char)ch;
			} else {
				out[n++] = '%';
				out[n++] = hex[ch >> 4];
				out[n++] = hex[ch & 15];
			}
		}
		u += 7;
	}
	if (n >= outlen)
		return SPOOLSHIP_EINVAL;
	out[n] = '\0';
	return 0;
}

int config_secrets(const struct config *c, const char **out, size_t cap,
		   size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < NOPTIONS; i++) {
		const struct config_option *o = &options[i];
		const char *v;

		if (!(o->flags & CONFIG_SECRET) || config_is_table(o))
			continue;
		v = *(char *const *)((const char *)c + o->offset);
		if (v == NULL || *v == '\0')
			continue;
		if (*n == cap)
			return SPOOLSHIP_EINVAL;
		out[(*n)++] = v;
	}
	return 0;
}
