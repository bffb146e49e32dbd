/*
 * config_docs.c - the documents written from the option table:
 * config.example.ini and the key tables of docs/configuration.md.
 * test_config fails when a committed one differs from what the table
 * writes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

/* "duration, 1ms .. 1m", "one of full, batch or none", ... */
static void describe(const struct config_option *o, char *buf, size_t len)
{
	char lo[32], hi[32], names[160];

	switch (o->type) {
	case CONFIG_BOOL:
		snprintf(buf, len, "boolean");
		break;
	case CONFIG_ENUM:
		config_show_names(o->names, names, sizeof(names));
		snprintf(buf, len, "one of %s", names);
		break;
	case CONFIG_STRING:
		snprintf(buf, len, "%s",
			 o->flags & CONFIG_SECRET ? "string, secret" :
			 o->flags & CONFIG_PATH ? "file name" : "string");
		break;
	default:
		config_show_value(o, o->min, lo, sizeof(lo));
		config_show_value(o, o->max, hi, sizeof(hi));
		snprintf(buf, len, "%s, %s .. %s",
			 o->type == CONFIG_INT ? "integer" :
			 o->type == CONFIG_SIZE ? "size" : "duration", lo, hi);
	}
}

/* Writes text as "# "-prefixed lines of at most 78 columns. */
static void wrap(FILE *f, const char *text)
{
	const char *p = text;

	while (*p != '\0') {
		const char *end = p, *brk = NULL;

		while (*end != '\0' && end - p <= 76) {
			if (*end == ' ')
				brk = end;
			end++;
		}
		if (*end != '\0' && brk != NULL)
			end = brk;
		fprintf(f, "# %.*s\n", (int)(end - p), p);
		p = *end == ' ' ? end + 1 : end;
	}
}

/* How a document shows the table: each section's start (first: no
 * section before it), each option, the end (after the last section). */
struct writer {
	void (*section)(FILE *f, const struct config_section *s, int first);
	void (*option)(FILE *f, const struct config_option *o);
	void (*end)(FILE *f);    /* or NULL */
};

/* Walks the table in file order through w.  Returns 0 or -EIO. */
static int write_table(FILE *f, const struct writer *w)
{
	size_t n, ns;
	const struct config_option *opt = config_options(&n);
	const struct config_section *sec = config_sections(&ns);
	const char *cur = "";

	for (size_t i = 0; i < n; i++) {
		if (strcmp(opt[i].section, cur) != 0) {
			int k = config_find_section(opt[i].section);

			w->section(f, &sec[k], *cur == '\0');
			cur = opt[i].section;
		}
		w->option(f, &opt[i]);
	}
	if (w->end != NULL && *cur != '\0')
		w->end(f);
	return ferror(f) ? -EIO : 0;
}

/* ---- config.example.ini ------------------------------------------------- */

static void ini_section(FILE *f, const struct config_section *s, int first)
{
	(void)first;
	fputs("\n", f);
	/* [table NAME] is commented out: NAME is the reader's. */
	fprintf(f, "%s%s\n", strcmp(s->name, "table") == 0 ? ";" : "",
		s->header);
	wrap(f, s->doc);
}

static void ini_option(FILE *f, const struct config_option *o)
{
	char type[200];

	describe(o, type, sizeof(type));
	fputs("\n", f);
	wrap(f, o->doc);
	fprintf(f, "# (%s)\n", type);
	fprintf(f, ";%s =%s%s\n", o->key, *o->def ? " " : "", o->def);
	if (o->example != NULL)
		fprintf(f, "%s = %s\n", o->key, o->example);
}

int config_write_example(FILE *f)
{
	static const struct writer w = { ini_section, ini_option, NULL };

	fputs("# config.example.ini - every spoolship option, with its "
	      "default.\n"
	      "#\n"
	      "# Written by config_write_example() from the option table in "
	      "src/daemon/config.c;\n"
	      "# test/unit/test_config.c fails when this file and the table "
	      "differ.\n"
	      "# A line \";key = value\" shows a default: remove the ';' and "
	      "change the\n"
	      "# value to set it.  Values may use ${NAME} or ${NAME:-default} "
	      "from the\n"
	      "# environment; write $$ for a dollar.  Durations: 250ms 30s 5m "
	      "2h 7d 1h30m\n"
	      "# (a bare number is ms); sizes: 1000 64K 10M 1G (powers of "
	      "1024).  A ';'\n"
	      "# after a blank ends the value.  Lines hold at most 196 "
	      "bytes.\n"
	      "#\n"
	      "# As it is, this file ships without authentication to a mock "
	      "receiver on\n"
	      "# 127.0.0.1:8080: build/mock-polaris --port 8080 (see "
	      "docs/mock-polaris.md).\n", f);
	return write_table(f, &w);
}

/* ---- docs/configuration.md's tables ------------------------------------ */

/* Markdown table cells: '|' would end the cell. */
static void cell(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s, f);
	}
}

static void md_section(FILE *f, const struct config_section *s, int first)
{
	fprintf(f, "%s### `%s`\n\n%s\n\n", first ? "" : "\n", s->header,
		s->doc);
	fputs("| key | type | default | description |\n"
	      "|---|---|---|---|\n", f);
}

static void md_option(FILE *f, const struct config_option *o)
{
	char type[200];

	describe(o, type, sizeof(type));
	fprintf(f, "| `%s` | ", o->key);
	cell(f, type);
	if (*o->def != '\0')
		fprintf(f, " | `%s` | ", o->def);
	else
		fputs(" | (empty) | ", f);
	cell(f, o->doc);
	fputs(" |\n", f);
}

int config_write_markdown(FILE *f)
{
	static const struct writer w = { md_section, md_option, NULL };

	return write_table(f, &w);
}
