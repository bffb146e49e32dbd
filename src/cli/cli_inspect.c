/*
 * cli_inspect.c - `spoolship stats`, `peek` and `verify`: read-only views
 * of a spool.  They never create a spool where there is none and never
 * write to one.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "spool.h"

static int simple_args(struct cli_common *c, int argc, char **argv,
		       const char *usage, const char **table, long *n,
		       int *json)
{
	static const struct option opts[] = {
		{ "spool", required_argument, NULL, 's' },
		{ "table", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int ch;

	while ((ch = getopt_long(argc, argv, "s:t:n:", opts, NULL)) != -1) {
		if (ch == 's') {
			c->spool = optarg;
		} else if (ch == 't' && table != NULL) {
			*table = optarg;
		} else if (ch == 'j' && json != NULL) {
			*json = 1;
		} else if (ch == 'n' && n != NULL) {
			errno = 0;
			*n = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || *n < 0)
				goto bad;
		} else {
			goto bad;
		}
	}
	if (optind < argc)
		goto bad;
	return EXIT_OK;
bad:
	fprintf(stderr, "usage: spoolship [-s DIR] %s\n", usage);
	return EXIT_USAGE;
}

/* ---- stats ---------------------------------------------------------------- */

static double age_s(int64_t ms)
{
	return ms == 0 ? 0.0 : (double)(clock_wall_ms() - ms) / 1000.0;
}

static void stats_text(const char *dir, const struct spoolship_stats *st)
{
	char t1[32], t2[32];

	cli_time(st->created_ms, t1);
	printf("spool %s (format %u, created %s)\n", dir, st->format_version,
	       t1);
	cli_time(st->oldest_event_ms, t1);
	cli_time(st->oldest_append_ms, t2);
	printf("pending   %llu events, %llu bytes\n",
	       (unsigned long long)st->pending_events,
	       (unsigned long long)st->pending_bytes);
	if (st->pending_events > 0)
		printf("oldest    __time %s, appended %s (%.1f s ago)\n", t1,
		       t2, age_s(st->oldest_append_ms));
	printf("totals    appended %llu, shipped %llu, expired %llu, "
	       "dead %llu, rejected %llu, dropped %llu\n",
	       (unsigned long long)st->appended_total,
	       (unsigned long long)st->shipped_total,
	       (unsigned long long)st->expired_total,
	       (unsigned long long)st->dead_total,
	       (unsigned long long)st->rejected_total,
	       (unsigned long long)st->dropped_total);
	printf("dead      %llu events in the dead store (requeued %llu, "
	       "purged %llu)\n", (unsigned long long)st->dead_events,
	       (unsigned long long)st->requeued_total,
	       (unsigned long long)st->purged_total);
	printf("disk      %llu bytes used of a %llu-byte map, budget %llu\n",
	       (unsigned long long)st->used_bytes,
	       (unsigned long long)st->map_bytes,
	       (unsigned long long)st->max_bytes);
	for (size_t i = 0; i < st->nstreams; i++) {
		const struct spoolship_stream_stats *ss = &st->streams[i];

		cli_time(ss->oldest_event_ms, t1);
		printf("stream    %-24s %llu events, %llu bytes, oldest %s\n",
		       ss->name, (unsigned long long)ss->pending_events,
		       (unsigned long long)ss->pending_bytes, t1);
	}
}

static void json_time(cJSON *o, const char *key, int64_t ms)
{
	char t[32];

	if (ms == 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	cli_time(ms, t);
	cJSON_AddStringToObject(o, key, t);
}

static int stats_json(const struct spoolship_stats *st)
{
	cJSON *o = cJSON_CreateObject(), *streams;
	char *text;
	const struct {
		const char *k;
		uint64_t v;
	} f[] = {
		{ "pending_events", st->pending_events },
		{ "pending_bytes", st->pending_bytes },
		{ "appended_total", st->appended_total },
		{ "shipped_total", st->shipped_total },
		{ "expired_total", st->expired_total },
		{ "dead_total", st->dead_total },
		{ "rejected_total", st->rejected_total },
		{ "dropped_total", st->dropped_total },
		{ "requeued_total", st->requeued_total },
		{ "purged_total", st->purged_total },
		{ "dead_events", st->dead_events },
		{ "used_bytes", st->used_bytes },
		{ "map_bytes", st->map_bytes },
		{ "max_bytes", st->max_bytes },
		{ "format_version", st->format_version },
	};

	if (o == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		cJSON_AddNumberToObject(o, f[i].k, (double)f[i].v);
	json_time(o, "oldest_event_time", st->oldest_event_ms);
	json_time(o, "oldest_append_time", st->oldest_append_ms);
	cJSON_AddNumberToObject(o, "oldest_age_seconds",
				age_s(st->oldest_append_ms));
	streams = cJSON_AddObjectToObject(o, "streams");
	for (size_t i = 0; streams != NULL && i < st->nstreams; i++) {
		const struct spoolship_stream_stats *ss = &st->streams[i];
		cJSON *so = cJSON_AddObjectToObject(streams, ss->name);

		if (so == NULL)
			break;
		cJSON_AddNumberToObject(so, "pending_events",
					(double)ss->pending_events);
		cJSON_AddNumberToObject(so, "pending_bytes",
					(double)ss->pending_bytes);
		cJSON_AddNumberToObject(so, "next_seq", (double)ss->next_seq);
		json_time(so, "oldest_event_time", ss->oldest_event_ms);
		json_time(so, "oldest_append_time", ss->oldest_append_ms);
	}
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text == NULL)
		return -ENOMEM;
	printf("%s\n", text);
	cJSON_free(text);
	return 0;
}

int cli_stats(struct cli_common *c, int argc, char **argv)
{
	struct spoolship_stats st;
	spoolship_spool *s;
	int json = 0, ex, rc;

	if (cli_watch_wanted(argc, argv)) /* the live view: cli_watch.c */
		return cli_watch(c, argc, argv);
	ex = simple_args(c, argc, argv, "stats [--json] | stats --watch "
			 "[--interval DURATION]", NULL, NULL, &json);
	if (ex != EXIT_OK || (ex = cli_open_existing(c, &s)) != EXIT_OK)
		return ex;
	spoolship_stats_init(&st);
	rc = spoolship_spool_stats(s, &st);
	if (rc == 0) {
		if (json)
			rc = stats_json(&st);
		else
			stats_text(c->spool, &st);
		spoolship_stats_free(&st);
	}
	spoolship_spool_close(s);
	if (rc != 0)
		cli_err("stats", rc);
	return rc == 0 ? EXIT_OK : EXIT_ERROR;
}

/* ---- peek ------------------------------------------------------------------ */

static int peek_one(void *arg, const char *table, uint64_t seq,
		    const struct record *r)
{
	(void)arg;
	(void)table;
	(void)seq;
	if (fwrite(r->data, 1, r->len, stdout) != r->len ||
	    putchar('\n') == EOF)
		return -EIO;
	return 0;
}

int cli_peek(struct cli_common *c, int argc, char **argv)
{
	const char *table = NULL;
	spoolship_spool *s;
	long n = 10;
	int ex, rc;

	ex = simple_args(c, argc, argv, "peek [-t TABLE] [-n N (0 = all)]",
			 &table, &n, NULL);
	if (ex != EXIT_OK || (ex = cli_open_existing(c, &s)) != EXIT_OK)
		return ex;
	rc = spool_peek(s, table, (size_t)n, peek_one, NULL);
	spoolship_spool_close(s);
	if (fflush(stdout) != 0 && rc == 0)
		rc = -errno;
	if (rc != 0)
		cli_err("peek", rc);
	if (rc == SPOOLSHIP_EKEYNEEDED || rc == SPOOLSHIP_ECORRUPT)
		return cli_exit_of(rc);
	return rc == 0 ? EXIT_OK : EXIT_ERROR;
}

/* ---- verify ---------------------------------------------------------------- */

static void report(void *arg, const char *db, const char *key,
		   const char *why)
{
	(void)arg;
	printf("bad %s key %s: %s\n", db, key, why);
}

int cli_verify(struct cli_common *c, int argc, char **argv)
{
	spoolship_spool *s;
	uint64_t records = 0, bad = 0;
	int ex, rc;

	ex = simple_args(c, argc, argv, "verify", NULL, NULL, NULL);
	if (ex != EXIT_OK)
		return ex;
	if ((ex = cli_open_existing(c, &s)) != EXIT_OK)
		return ex == EXIT_CORRUPT ? EXIT_CORRUPT : ex;
	rc = spool_verify(s, report, NULL, &records, &bad);
	/* Without the key a sealed record's CRC is checked, not its tag. */
	if (s->encrypted && s->sealer == NULL)
		fprintf(stderr, "spoolship: verify: the spool is encrypted and "
			"no key was given (-k FILE): sealed events were "
			"checked by CRC only, not authenticated\n");
	spoolship_spool_close(s);
	if (rc != 0) {
		/* LMDB itself found a damaged page: that is damage too. */
		cli_err("verify", rc);
		return rc == SPOOLSHIP_ECORRUPT ? EXIT_CORRUPT : EXIT_ERROR;
	}
	printf("%llu records checked, %llu bad\n",
	       (unsigned long long)records, (unsigned long long)bad);
	return bad == 0 ? EXIT_OK : EXIT_CORRUPT;
}
