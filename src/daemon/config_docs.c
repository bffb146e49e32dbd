/*
 * config_docs.c - the documents written from the option table:
 * config.example.ini, the key tables of docs/configuration.md and the
 * option section of docs/man/spoolship.ini.5.  tools/gen-docs.c (make
 * docs) rewrites them; test_config fails when a committed one differs
 * from what the table writes.
 */
#define _XOPEN_SOURCE 700 /* open_memstream */
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
	      "differ: run\n"
	      "# `make docs` after changing the table.\n"
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

/* ---- the man page's option list ----------------------------------------- */

#define TEXT_COLS 72

/* 1 when the '.' at dot ends an abbreviation ("e.g.") rather than a
 * sentence. */
static int abbrev(const char *start, const char *dot)
{
	static const char *const words[] = { "e.g", "i.e", "etc", "vs" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t n = strlen(words[i]);

		if ((size_t)(dot - start) >= n &&
		    strncmp(dot - n, words[i], n) == 0 &&
		    (dot - n == start || dot[-(long)n - 1] == ' ' ||
		     dot[-(long)n - 1] == '('))
			return 1;
	}
	return 0;
}

void config_man_text(FILE *f, const char *s)
{
	const char *start = s;
	size_t col = 0;

	for (; *s != '\0'; s++) {
		if (col == 0 && (*s == '.' || *s == '\''))
			fputs("\\&", f);
		if (*s == '\\') {
			fputs("\\e", f);
			col += 2;
		} else if (s[0] == '.' && s[1] == ' ' && !abbrev(start, s)) {
			fputs(".\n", f);
			s++;
			col = 0;
		} else if (*s == ' ' && col >= TEXT_COLS) {
			fputc('\n', f);
			col = 0;
		} else {
			fputc(*s, f);
			col++;
		}
	}
	fputc('\n', f);
}

void config_man_arg(FILE *f, const char *s)
{
	fputs("\"\\&", f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputs("\\(dq", f);
		else if (*s == '\\')
			fputs("\\e", f);
		else
			fputc(*s, f);
	}
	fputs("\\&\"", f);
}

static void man_section(FILE *f, const struct config_section *s, int first)
{
	if (!first)
		fputs(".El\n", f);
	fputs(".Ss ", f);
	config_man_arg(f, s->header);
	fputc('\n', f);
	config_man_text(f, s->doc);
	fputs(".Bl -tag -width Ds\n", f);
}

/* One option's ".It" entry: its type and default, then its text. */
static void man_option(FILE *f, const struct config_option *o)
{
	char type[200];

	describe(o, type, sizeof(type));
	fprintf(f, ".It Cm %s\n.Pq ", o->key);
	config_man_arg(f, type);
	if (*o->def != '\0') {
		fputs(" ; default Ql ", f);
		config_man_arg(f, o->def);
	} else {
		fputs(" ; empty by default", f);
	}
	fputc('\n', f);
	config_man_text(f, o->doc);
}

static void man_end(FILE *f)
{
	fputs(".El\n", f);
}

int config_write_manpage(FILE *f)
{
	static const struct writer w = { man_section, man_option, man_end };

	return write_table(f, &w);
}

/* ---- the files ---------------------------------------------------------- */

static const struct config_doc docs[] = {
	{ "config.example.ini", NULL, NULL, config_write_example },
	{ "docs/configuration.md", "<!-- BEGIN config_write_markdown",
	  "<!-- END config_write_markdown -->", config_write_markdown },
	{ "docs/man/spoolship.ini.5",
	  ".\\\" BEGIN generated from the option table", ".\\\" END generated",
	  config_write_manpage },
};

const struct config_doc *config_docs(size_t *n)
{
	*n = sizeof(docs) / sizeof(docs[0]);
	return docs;
}

/* What d->write writes, NUL-terminated, into *out (malloc'd). */
static int generate(const struct config_doc *d, char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);
	int rc;

	if (f == NULL)
		return -ENOMEM;
	rc = d->write(f);
	if (fclose(f) != 0 && rc == 0)
		rc = -ENOMEM;
	if (rc != 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* The part of old that d generates: [*from, *to).  Returns 0, or
 * SPOOLSHIP_EINVAL with the reason in why when a marker line is missing. */
static int generated_part(const struct config_doc *d, const char *old,
			  const char **from, const char **to, char *why,
			  size_t len)
{
	const char *b, *e;

	*from = old;
	*to = old + strlen(old);
	if (d->begin == NULL)
		return 0;
	b = strstr(old, d->begin);
	e = b != NULL ? strchr(b, '\n') : NULL;
	if (e == NULL) {
		snprintf(why, len, "%s: no line holding '%s'", d->path,
			 d->begin);
		return SPOOLSHIP_EINVAL;
	}
	*from = e + 1;
	while (e != NULL && strncmp(e + 1, d->end, strlen(d->end)) != 0)
		e = strchr(e + 1, '\n');
	if (e == NULL) {
		snprintf(why, len, "%s: no line starting '%s' after '%s'",
			 d->path, d->end, d->begin);
		return SPOOLSHIP_EINVAL;
	}
	*to = e + 1;
	return 0;
}

int config_doc_render(const struct config_doc *d, const char *old,
		      char **out, char *why, size_t len)
{
	const char *from, *to;
	char *gen = NULL;
	size_t glen = 0, head, tail;
	int rc;

	rc = generated_part(d, old, &from, &to, why, len);
	if (rc == 0)
		rc = generate(d, &gen, &glen);
	if (rc != 0)
		return rc;
	head = (size_t)(from - old);
	tail = strlen(to);
	*out = malloc(head + glen + tail + 1);
	if (*out == NULL) {
		free(gen);
		return -ENOMEM;
	}
	memcpy(*out, old, head);
	memcpy(*out + head, gen, glen);
	memcpy(*out + head + glen, to, tail + 1);
	free(gen);
	return 0;
}
