/*
 * cli_dead.c - `spoolship dead list|export|requeue|purge`: the operator's
 * hands on the dead store.  list and export only read; none of them
 * creates a spool where there is none, and export never prints a damaged
 * record as if it were an event.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "cli.h"
#include "durable.h"
#include "clock.h"
#include "spool.h"
#include "validate.h"

#define EXCERPT_SHOWN 60 /* bytes of the response excerpt in a text line */
#define EVENT_SHOWN 100  /* bytes of the event in a text line */

enum dead_cmd { D_LIST, D_EXPORT, D_REQUEUE, D_PURGE };

static const char *const dead_usage[] = {
	[D_LIST] = "dead list [--json] [-t TABLE] [--reason R] [-n N]",
	[D_EXPORT] = "dead export [-o FILE] [-t TABLE] [--reason R]",
	[D_REQUEUE] = "dead requeue [--reason R] [-t TABLE] [--seq N]...",
	[D_PURGE] = ("dead purge [--older-than DURATION] [--reason R] "
		     "[-t TABLE] [--yes]"),
};

struct dead_args {
	struct dead_filter f;
	uint64_t *seqs;   /* --seq, owned */
	size_t seq_cap;
	long max;         /* list -n; 0 = all */
	int json, yes;
	const char *out;  /* export -o */
	int64_t older_ms; /* purge --older-than; -1 = not given */
};

enum { O_REASON = 1000, O_SEQ, O_OLDER, O_YES, O_JSON };

static int bad_usage(enum dead_cmd cmd)
{
	fprintf(stderr, "usage: spoolship [-s DIR] %s\n", dead_usage[cmd]);
	return EXIT_USAGE;
}

static int add_seq(struct dead_args *a, const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0 || s[0] == '-')
		return -1;
	if (array_grow((void **)&a->seqs, &a->seq_cap, a->f.nseqs + 1,
		       sizeof(*a->seqs)) != 0)
		return -1;
	a->seqs[a->f.nseqs++] = v;
	a->f.seqs = a->seqs;
	return 0;
}

/* Which options each subcommand takes. */
static int allowed(enum dead_cmd cmd, int ch)
{
	switch (ch) {
	case 's':
	case 't':
	case O_REASON:
		return 1;
	case O_JSON:
	case 'n':
		return cmd == D_LIST;
	case 'o':
		return cmd == D_EXPORT;
	case O_SEQ:
		return cmd == D_REQUEUE;
	case O_OLDER:
	case O_YES:
		return cmd == D_PURGE;
	default:
		return 0;
	}
}

/* Parses the subcommand's options (argv[0] is its name); returns EXIT_OK
 * or EXIT_USAGE after saying what is wrong. */
static int dead_parse(struct cli_common *c, enum dead_cmd cmd, int argc,
		      char **argv, struct dead_args *a)
{
	static const struct option opts[] = {
		{ "spool", required_argument, NULL, 's' },
		{ "table", required_argument, NULL, 't' },
		{ "reason", required_argument, NULL, O_REASON },
		{ "json", no_argument, NULL, O_JSON },
		{ "output", required_argument, NULL, 'o' },
		{ "seq", required_argument, NULL, O_SEQ },
		{ "older-than", required_argument, NULL, O_OLDER },
		{ "yes", no_argument, NULL, O_YES },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int ch;

	a->older_ms = -1;
	while ((ch = getopt_long(argc, argv, "s:t:n:o:", opts, NULL)) != -1) {
		if (!allowed(cmd, ch))
			return bad_usage(cmd);
		switch (ch) {
		case 's':
			c->spool = optarg;
			break;
		case 't':
			if (!spoolship_table_name_ok(optarg)) {
				fprintf(stderr, "spoolship: bad table name "
					"'%s'\n", optarg);
				return EXIT_USAGE;
			}
			a->f.table = optarg;
			break;
		case O_REASON:
			a->f.reason = dead_reason_parse(optarg);
			if (a->f.reason == 0) {
				fprintf(stderr, "spoolship: unknown reason "
					"'%s' (expired, rejected, corrupt or "
					"too_big)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_JSON:
			a->json = 1;
			break;
		case 'n':
			errno = 0;
			a->max = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    a->max < 0)
				return bad_usage(cmd);
			break;
		case 'o':
			a->out = optarg;
			break;
		case O_SEQ:
			if (add_seq(a, optarg) != 0) {
				fprintf(stderr, "spoolship: bad dead sequence "
					"'%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_OLDER:
			if (cli_parse_duration(optarg, &a->older_ms) != 0 ||
			    a->older_ms < 0) {
				fprintf(stderr, "spoolship: bad duration '%s'"
					"\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_YES:
			a->yes = 1;
			break;
		}
	}
	if (optind < argc)
		return bad_usage(cmd);
	return EXIT_OK;
}

/* Opens an existing spool for writing: never creates one. */
static int open_rw(struct cli_common *c, spoolship_spool **s)
{
	int rc = cli_open_spool(c, 0, s);

	return rc == EXIT_OK || rc == EXIT_KEY ? rc : EXIT_ERROR;
}

/* ---- printing ----------------------------------------------------------- */

/* Writes the short escape of ch that both printers below share ('"' and
 * '\\' when quoted, \n, \t, \r) and returns 1; 0 when ch has none. */
static int put_escape(FILE *f, unsigned char ch, int quoted)
{
	if (quoted && (ch == '"' || ch == '\\'))
		fprintf(f, "\\%c", ch);
	else if (ch == '\n')
		fputs("\\n", f);
	else if (ch == '\t')
		fputs("\\t", f);
	else if (ch == '\r')
		fputs("\\r", f);
	else
		return 0;
	return 1;
}

/* Writes at most max bytes of p as readable text on one line: printable
 * ASCII and well-formed UTF-8 as they are ('"' and '\' escaped when
 * quoted), anything else as \n, \t, \r or \xNN; "..." when cut. */
static void put_text(FILE *f, const char *p, size_t n, size_t max,
		     int quoted)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0;

	while (i < n && i < max) {
		size_t l = validate_utf8_seq(u + i, n - i);

		if (put_escape(f, u[i], quoted)) {
			i++; /* one ASCII byte */
			continue;
		}
		if (u[i] >= 0x20 && u[i] < 0x7f)
			fputc(u[i], f);
		else if (l > 1 && i + l <= max)
			fwrite(u + i, 1, l, f);
		else if (l > 1)
			break; /* a character cut by max */
		else
			fprintf(f, "\\x%02x", u[i]);
		i += l > 1 ? l : 1;
	}
	if (i < n)
		fputs("...", f);
}

/* Writes p as a JSON string: escapes as RFC 8259 requires, and a byte
 * that is not well-formed UTF-8 as U+FFFD. */
static void put_json_string(FILE *f, const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;

	fputc('"', f);
	for (size_t i = 0; i < n;) {
		size_t l = validate_utf8_seq(u + i, n - i);

		if (l == 0) {
			fputs("\\ufffd", f);
			i++;
			continue;
		}
		if (put_escape(f, u[i], 1)) {
			i++; /* one ASCII byte */
			continue;
		}
		if (u[i] < 0x20)
			fprintf(f, "\\u%04x", u[i]);
		else
			fwrite(u + i, 1, l, f);
		i += l;
	}
	fputc('"', f);
}

static void put_base64(FILE *f, const unsigned char *p, size_t n)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";

	fputc('"', f);
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		fputc(b64[v >> 18 & 63], f);
		fputc(b64[v >> 12 & 63], f);
		fputc(i + 1 < n ? b64[v >> 6 & 63] : '=', f);
		fputc(i + 2 < n ? b64[v & 63] : '=', f);
	}
	fputc('"', f);
}

/* 1 when p can be embedded in an NDJSON line as it is: one JSON object,
 * nothing after it, well-formed UTF-8, no control bytes (so no newline).
 * Embedding the bytes, rather than re-printing a parse tree, keeps big
 * numbers and escapes exactly as the producer wrote them. */
static int embeddable(const char *p, size_t n)
{
	const char *end = NULL;
	cJSON *j;
	int ok;

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20)
			return 0;
	if (n == 0 || !validate_utf8(p, n))
		return 0;
	j = cJSON_ParseWithLengthOpts(p, n, &end, 0);
	ok = j != NULL && cJSON_IsObject(j) && end == p + n;
	cJSON_Delete(j);
	return ok;
}

static void put_time_json(FILE *f, const char *key, int64_t ms)
{
	char t[32];

	if (ms == 0) {
		fprintf(f, ",\"%s\":null", key);
		return;
	}
	cli_time(ms, t);
	fprintf(f, ",\"%s\":\"%s\"", key, t);
}

static void list_json(uint64_t dseq, const struct dead_record *d,
		      const char *table)
{
	FILE *f = stdout;

	fprintf(f, "{\"dead_seq\":%llu,\"table\":", (unsigned long long)dseq);
	put_json_string(f, table, strlen(table));
	fprintf(f, ",\"seq\":%llu,\"reason\":\"%s\",",
		(unsigned long long)d->seq, dead_reason_name(d->reason));
	if (d->status != 0)
		fprintf(f, "\"status\":%u", d->status);
	else
		fputs("\"status\":null", f);
	put_time_json(f, "dead_time", d->dead_ms);
	put_time_json(f, "time", d->r.event_ms);
	put_time_json(f, "append_time", d->r.append_ms);
	fprintf(f, ",\"bytes\":%zu,\"excerpt\":", d->r.len);
	put_json_string(f, d->excerpt, d->excerpt_len);
	if (embeddable(d->r.data, d->r.len)) {
		fputs(",\"event\":", f);
		fwrite(d->r.data, 1, d->r.len, f);
	} else if (validate_utf8(d->r.data, d->r.len)) {
		fputs(",\"event\":", f);
		put_json_string(f, d->r.data, d->r.len);
	} else {
		fputs(",\"event_base64\":", f);
		put_base64(f, (const unsigned char *)d->r.data, d->r.len);
	}
	fputs("}\n", f);
}

static void list_text(uint64_t dseq, const struct dead_record *d,
		      const char *table)
{
	char died[32], t[32], status[16];

	cli_time(d->dead_ms, died);
	cli_time(d->r.event_ms, t);
	if (d->status != 0)
		snprintf(status, sizeof(status), "%u", d->status);
	else
		snprintf(status, sizeof(status), "-");
	printf("dead=%llu table=%s seq=%llu reason=%s status=%s died=%s "
	       "time=%s excerpt=\"", (unsigned long long)dseq, table,
	       (unsigned long long)d->seq, dead_reason_name(d->reason),
	       status, died, t);
	put_text(stdout, d->excerpt, d->excerpt_len, EXCERPT_SHOWN, 1);
	fputs("\" event=", stdout);
	put_text(stdout, d->r.data, d->r.len, EVENT_SHOWN, 0);
	putchar('\n');
}

/* ---- list --------------------------------------------------------------- */

static int list_one(void *arg, uint64_t dseq, const struct dead_record *d,
		    const char *table)
{
	const struct dead_args *a = arg;

	if (a->json)
		list_json(dseq, d, table);
	else
		list_text(dseq, d, table);
	return ferror(stdout) ? -EIO : 0;
}

static int dead_list(spoolship_spool *s, struct dead_args *a)
{
	int rc = spool_dead_select(s, &a->f, (size_t)a->max, list_one, a);

	if (fflush(stdout) != 0 && rc == 0)
		rc = -errno;
	if (rc != 0)
		cli_err("dead list", rc);
	return rc == 0 ? EXIT_OK : EXIT_ERROR;
}

/* ---- export ------------------------------------------------------------- */

struct export_state {
	FILE *f;
	uint64_t written, skipped;
	spoolship_spool *s;
	struct spool_plain plain;
};

static int export_one(void *arg, uint64_t dseq, const struct dead_record *d,
		      const char *table)
{
	struct export_state *x = arg;
	const char *data;
	size_t len;
	int64_t ms;
	char why[160];
	int rc = spool_dead_event(x->s, d, &x->plain, &data, &len, &ms, why,
				  sizeof(why));

	(void)table;
	if (rc == SPOOLSHIP_ECORRUPT) {
		fprintf(stderr, "spoolship: dead %llu (corrupt) not exported: "
			"%s\n", (unsigned long long)dseq, why);
		x->skipped++;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (fwrite(data, 1, len, x->f) != len || fputc('\n', x->f) == EOF)
		return -EIO;
	x->written++;
	return 0;
}

/* Writes FILE.tmp, syncs it, renames it to FILE: a reader of FILE never
 * sees half an export, and a crash leaves the old FILE (or none). */
static int dead_export(spoolship_spool *s, struct dead_args *a)
{
	struct export_state x = { stdout, 0, 0, s, { NULL, 0 } };
	char tmp[4096];
	int fd = -1, rc, n;

	if (a->out != NULL) {
		n = snprintf(tmp, sizeof(tmp), "%s.tmp", a->out);
		if (n < 0 || (size_t)n >= sizeof(tmp)) {
			rc = -ENAMETOOLONG;
			goto out;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || (x.f = fdopen(fd, "w")) == NULL) {
			rc = -errno;
			fprintf(stderr, "spoolship: %s: %s\n", tmp,
				strerror(errno));
			if (fd >= 0)
				close(fd);
			unlink(tmp);
			return EXIT_ERROR;
		}
	}
	rc = spool_dead_select(s, &a->f, 0, export_one, &x);
	spool_plain_free(&x.plain);
	if (fflush(x.f) != 0 && rc == 0)
		rc = -errno;
	if (a->out != NULL) {
		if (rc == 0 && fsync(fileno(x.f)) != 0)
			rc = -errno;
		if (fclose(x.f) != 0 && rc == 0)
			rc = -errno;
		if (rc == 0 && rename(tmp, a->out) != 0)
			rc = -errno;
		if (rc == 0)
			rc = durable_sync_parent(a->out);
		else
			unlink(tmp);
	}
out:
	if (rc != 0) {
		cli_err(a->out != NULL ? a->out : "dead export", rc);
		return EXIT_ERROR;
	}
	fprintf(stderr, "exported %llu events", (unsigned long long)x.written);
	if (x.skipped > 0)
		fprintf(stderr, ", %llu corrupt skipped",
			(unsigned long long)x.skipped);
	fputc('\n', stderr);
	return EXIT_OK;
}

/* ---- requeue ------------------------------------------------------------ */

struct seen {
	const uint64_t *seqs;
	size_t n;
	char *found;
};

static int mark_seen(void *arg, uint64_t dseq, const struct dead_record *d,
		     const char *table)
{
	struct seen *w = arg;

	(void)d;
	(void)table;
	for (size_t i = 0; i < w->n; i++)
		if (w->seqs[i] == dseq)
			w->found[i] = 1;
	return 0;
}

/* Names each --seq that is no dead event at all (a typo, or requeued
 * already): not an error, but worth a word. */
static int report_missing(spoolship_spool *s, const struct dead_args *a)
{
	struct dead_filter f = { 0, NULL, a->f.seqs, a->f.nseqs, 0 };
	struct seen w = { a->f.seqs, a->f.nseqs, calloc(a->f.nseqs, 1) };
	int rc;

	if (w.found == NULL)
		return -ENOMEM;
	rc = spool_dead_select(s, &f, 0, mark_seen, &w);
	for (size_t i = 0; rc == 0 && i < w.n; i++)
		if (!w.found[i])
			fprintf(stderr, "spoolship: no dead event %llu\n",
				(unsigned long long)w.seqs[i]);
	free(w.found);
	return rc;
}

static void refused(void *arg, uint64_t dseq, const char *why)
{
	(void)arg;
	fprintf(stderr, "spoolship: dead %llu not requeued: %s\n",
		(unsigned long long)dseq, why);
}

static int dead_requeue(spoolship_spool *s, struct dead_args *a)
{
	uint64_t moved = 0, nref = 0;
	int rc = 0;

	if (a->f.nseqs > 0)
		rc = report_missing(s, a);
	if (rc == 0)
		rc = spool_dead_requeue(s, &a->f, refused, NULL, &moved,
					&nref);
	/* What committed before an error stays requeued: say how much. */
	printf("%llu requeued", (unsigned long long)moved);
	if (nref > 0)
		printf(", %llu refused", (unsigned long long)nref);
	putchar('\n');
	if (rc != 0) {
		cli_err("dead requeue", rc);
		return EXIT_ERROR;
	}
	return nref > 0 ? EXIT_ERROR : EXIT_OK;
}

/* ---- purge -------------------------------------------------------------- */

static int dead_purge(spoolship_spool *s, struct dead_args *a)
{
	uint64_t n = 0;
	int rc;

	if (a->older_ms >= 0)
		a->f.died_before_ms = clock_wall_ms() - a->older_ms;
	rc = spool_dead_purge(s, &a->f, &n);
	printf("%llu purged\n", (unsigned long long)n);
	if (rc != 0) {
		cli_err("dead purge", rc);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* ---- dispatch ----------------------------------------------------------- */

int cli_dead(struct cli_common *c, int argc, char **argv)
{
	static const char *const names[] = {
		[D_LIST] = "list",
		[D_EXPORT] = "export",
		[D_REQUEUE] = "requeue",
		[D_PURGE] = "purge",
	};
	struct dead_args a;
	spoolship_spool *s = NULL;
	int cmd = -1, ex;

	for (int i = 0; argc > 1 && i <= D_PURGE; i++)
		if (strcmp(argv[1], names[i]) == 0)
			cmd = i;
	if (cmd < 0) {
		if (argc > 1)
			fprintf(stderr, "spoolship: unknown dead command "
				"'%s'\n", argv[1]);
		fputs("usage:\n", stderr);
		for (int i = 0; i <= D_PURGE; i++)
			fprintf(stderr, "  spoolship [-s DIR] %s\n",
				dead_usage[i]);
		return EXIT_USAGE;
	}
	memset(&a, 0, sizeof(a));
	ex = dead_parse(c, cmd, argc - 1, argv + 1, &a);
	if (ex == EXIT_OK && cmd == D_PURGE && a.older_ms < 0 && !a.yes) {
		fprintf(stderr, "spoolship: dead purge without --older-than "
			"deletes every dead event selected: add --yes\n");
		ex = EXIT_USAGE;
	}
	if (ex != EXIT_OK)
		goto out;
	if (cmd == D_LIST || cmd == D_EXPORT)
		ex = cli_open_existing(c, &s);
	else
		ex = open_rw(c, &s);
	if (ex != EXIT_OK)
		goto out;
	switch (cmd) {
	case D_LIST:
		ex = dead_list(s, &a);
		break;
	case D_EXPORT:
		ex = dead_export(s, &a);
		break;
	case D_REQUEUE:
		ex = dead_requeue(s, &a);
		break;
	default:
		ex = dead_purge(s, &a);
		break;
	}
	spoolship_spool_close(s);
out:
	free(a.seqs);
	return ex;
}
