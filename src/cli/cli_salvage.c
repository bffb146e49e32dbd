/*
 * cli_salvage.c - `spoolship salvage [--json] [--scan] SRC DST`: the
 * report of spool_salvage() (salvage.h), one line per bad record, page
 * or note, then the counts.  It never writes to SRC.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "salvage.h"

#define SALVAGE_USAGE "usage: spoolship salvage [--json] [--scan] SRC DST\n" \
	"       spoolship salvage [--json] [--scan] -c FILE DST\n"

struct out {
	int json;
	cJSON *bad, *notes; /* --json: filled as reported */
};

static const char *kind_name(enum salvage_kind k)
{
	switch (k) {
	case SALVAGE_BAD_EVENT:
		return "event";
	case SALVAGE_BAD_DEAD:
		return "dead";
	case SALVAGE_BAD_PAGE:
		return "page";
	case SALVAGE_RECOVERED:
		return "recovered";
	default:
		return "note";
	}
}

static void text_line(const struct salvage_problem *p)
{
	char stream[300];

	if (p->table != NULL)
		snprintf(stream, sizeof(stream), "%s", p->table);
	else
		snprintf(stream, sizeof(stream), "#%u", p->stream);
	switch (p->kind) {
	case SALVAGE_BAD_EVENT:
		printf("bad key stream=%s seq=%llu: %s\n", stream,
		       (unsigned long long)p->seq, p->why);
		break;
	case SALVAGE_BAD_DEAD:
		printf("bad dead key dead_seq=%llu: %s\n",
		       (unsigned long long)p->seq, p->why);
		break;
	case SALVAGE_BAD_PAGE:
		printf("bad page %llu: %s\n", (unsigned long long)p->page,
		       p->why);
		break;
	case SALVAGE_RECOVERED:
		printf("recovered key stream=%s seq=%llu from an older copy "
		       "(the tree's copy: %s)\n", stream,
		       (unsigned long long)p->seq, p->why);
		break;
	default:
		printf("note: %s\n", p->why);
	}
}

static void json_item(struct out *o, const struct salvage_problem *p)
{
	cJSON *j;

	if (p->kind == SALVAGE_NOTE) {
		cJSON_AddItemToArray(o->notes, cJSON_CreateString(p->why));
		return;
	}
	if ((j = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddStringToObject(j, "kind", kind_name(p->kind));
	if (p->kind == SALVAGE_BAD_PAGE) {
		cJSON_AddNumberToObject(j, "page", (double)p->page);
	} else if (p->kind == SALVAGE_BAD_DEAD) {
		cJSON_AddNumberToObject(j, "dead_seq", (double)p->seq);
	} else {
		if (p->table != NULL)
			cJSON_AddStringToObject(j, "table", p->table);
		else
			cJSON_AddNullToObject(j, "table");
		cJSON_AddNumberToObject(j, "stream", p->stream);
		cJSON_AddNumberToObject(j, "seq", (double)p->seq);
	}
	cJSON_AddStringToObject(j, "why", p->why);
	cJSON_AddItemToArray(o->bad, j);
}

static void on_problem(void *arg, const struct salvage_problem *p)
{
	struct out *o = arg;

	if (o->json)
		json_item(o, p);
	else
		text_line(p);
}

static const char *method(const struct salvage_info *i)
{
	if (i->walked && i->scanned)
		return "tree walk and raw scan";
	if (i->walked)
		return "tree walk";
	return "raw scan";
}

static void summary_text(const char *dst, const struct salvage_info *i)
{
	printf("salvaged into %s by %s: %llu events and %llu dead events "
	       "copied in %llu streams; %llu bad records, %llu bad pages, "
	       "%llu bad stream rows, %llu recovered from older copies, "
	       "%llu duplicates skipped\n", dst, method(i),
	       (unsigned long long)i->events, (unsigned long long)i->dead,
	       (unsigned long long)i->streams,
	       (unsigned long long)i->bad_records,
	       (unsigned long long)i->bad_pages,
	       (unsigned long long)i->bad_rows,
	       (unsigned long long)i->recovered,
	       (unsigned long long)i->duplicates);
}

static int summary_json(struct out *o, const char *dst,
			const struct salvage_info *i)
{
	cJSON *j = cJSON_CreateObject();
	char *text;
	const struct {
		const char *k;
		uint64_t v;
	} f[] = {
		{ "events", i->events },
		{ "dead", i->dead },
		{ "streams", i->streams },
		{ "bad_records", i->bad_records },
		{ "bad_pages", i->bad_pages },
		{ "bad_rows", i->bad_rows },
		{ "recovered", i->recovered },
		{ "duplicates", i->duplicates },
		{ "page_size", i->page_size },
		{ "pages_scanned", i->pages },
	};

	if (j == NULL)
		return -ENOMEM;
	cJSON_AddStringToObject(j, "dst", dst);
	cJSON_AddStringToObject(j, "method", method(i));
	cJSON_AddBoolToObject(j, "walked", i->walked);
	cJSON_AddBoolToObject(j, "scanned", i->scanned);
	if (i->walk_error[0] != '\0')
		cJSON_AddStringToObject(j, "walk_error", i->walk_error);
	else
		cJSON_AddNullToObject(j, "walk_error");
	for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
		cJSON_AddNumberToObject(j, f[k].k, (double)f[k].v);
	cJSON_AddBoolToObject(j, "damaged", salvage_damaged(i));
	cJSON_AddItemToObject(j, "bad", o->bad);
	cJSON_AddItemToObject(j, "notes", o->notes);
	o->bad = o->notes = NULL; /* j owns them now */
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (text == NULL)
		return -ENOMEM;
	printf("%s\n", text);
	free(text);
	return 0;
}

static int salvage_args(int argc, char **argv, struct out *o,
			struct salvage_opts *so)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "scan", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'j')
			o->json = 1;
		else if (ch == 'S')
			so->scan = 1;
		else
			return -1;
	}
	return argc - optind == 2 || argc - optind == 1 ? 0 : -1;
}

int cli_salvage(struct cli_common *c, int argc, char **argv)
{
	struct salvage_opts so = { 0 };
	struct salvage_info info;
	struct out o = { 0, NULL, NULL };
	const char *src, *dst;
	char why[512] = "";
	int rc;

	/* SRC is named, or -c's [spool] path: never the default spool */
	if (salvage_args(argc, argv, &o, &so) != 0 ||
	    (argc - optind == 1 && c->config == NULL)) {
		fputs(SALVAGE_USAGE, stderr);
		return EXIT_USAGE;
	}
	src = argc - optind == 2 ? argv[optind] : c->spool;
	dst = argv[argc - 1];
	if (o.json && ((o.bad = cJSON_CreateArray()) == NULL ||
		       (o.notes = cJSON_CreateArray()) == NULL)) {
		rc = -ENOMEM;
		goto err;
	}
	rc = spool_salvage(src, dst, &so, on_problem, &o, &info, why,
			   sizeof(why));
	if (rc != 0)
		goto err;
	if (o.json)
		rc = summary_json(&o, dst, &info);
	else
		summary_text(dst, &info);
	cJSON_Delete(o.bad);
	cJSON_Delete(o.notes);
	if (rc != 0)
		return EXIT_ERROR;
	return salvage_damaged(&info) ? EXIT_CORRUPT : EXIT_OK;
err:
	cJSON_Delete(o.bad);
	cJSON_Delete(o.notes);
	if (rc == -EBUSY) {
		fprintf(stderr, "spoolship: salvage: %s is in use (by "
			"`spoolship run`, an appender or a reader): stop it "
			"and try again; nothing was written\n", src);
		return EXIT_ERROR;
	}
	fprintf(stderr, "spoolship: salvage: %s: %s\n",
		why[0] != '\0' ? why : src, spoolship_strerror(rc));
	return rc == SPOOLSHIP_EINVAL ? EXIT_USAGE : EXIT_ERROR;
}
