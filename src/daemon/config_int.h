/*
 * config_int.h - what the files of the configuration share and nobody
 * else uses: config.c (the option table, reading the INI file),
 * config_parse.c (the value parsers and how values are shown),
 * config_check.c (the checks across keys) and config_docs.c (the
 * generated example and docs).
 */
#ifndef SPOOLSHIP_CONFIG_INT_H
#define SPOOLSHIP_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define MS   INT64_C(1)
#define SEC  (1000 * MS)
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)
#define DAY  (24 * HOUR)
#define KIB  INT64_C(1024)
#define MIB  (1024 * KIB)
#define GIB  (1024 * MIB)
#define TIB  (1024 * GIB)

/* ---- config.c: the table and the loading state -------------------------- */

struct config_ctx {
	struct config cfg;
	struct config_errors *errs;
	FILE *fp;
	char *buf;
	size_t bufcap;
	int line;
	int sect;        /* index into the sections, SECT_NONE or SECT_BAD */
	size_t table;    /* the current [table NAME] in cfg.tables */
	int *lines;      /* per option: line that set it, 0 = default */
	int *tlines;     /* per table and option: same for table options */
	size_t tcap;     /* of cfg.tables */
	size_t tlcap;    /* of tlines, in tables */
	int oom;
	int io_err;
};

/* Whether o is a [table NAME] option (its field is in struct
 * config_table). */
int config_is_table(const struct config_option *o);

/* o's field in base (a struct config, or a struct config_table). */
void *config_field(void *base, const struct config_option *o);

/* Index of section name or of option [section] key in the tables, or
 * -1. */
int config_find_section(const char *name);
int config_find_option(const char *section, const char *key);

/* Line that set [section] key, 0 when it kept its default. */
int config_line_of(const struct config_ctx *x, const char *section,
		   const char *key);

/* "[ship] linger", or "[table clicks] id" when table is not NULL. */
void config_label(const struct config_option *o, const char *table,
		  char *buf, size_t len);

/* Adds an error of line (0: none in particular), or counts it dropped
 * past CONFIG_MAX_ERRORS. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
void config_add_err(struct config_errors *e, int line, const char *fmt,
		    ...);

/* ---- config_parse.c: characters and values ------------------------------ */

int config_is_digit(int c);
/* A-Z a-z _, and 0-9 unless first. */
int config_is_name_char(int c, int first);
/* Whether s holds a byte below 0x20 or DEL. */
int config_has_control(const char *s);

/* v as the option's values are written: "64M" for a size, "5m" for a
 * duration, "42" for an integer. */
void config_show_value(const struct config_option *o, int64_t v, char *buf,
		       size_t len);
/* "full, batch or none" */
void config_show_names(const char *const *names, char *buf, size_t len);

/* ---- config_docs.c: mdoc text (test_manpage tests the escapes) ---------- */

/* s as mdoc text lines: one sentence a line (mdoc's rule), longer ones
 * wrapped at blanks after 72 columns, a backslash as \e, and \& before a
 * line that would start with a control character. */
void config_man_text(FILE *f, const char *s);
/* s as a macro argument: quoted, with \(dq for a quote and \e for a
 * backslash, \& so that it is never taken for a macro name nor its last
 * character for a delimiter. */
void config_man_arg(FILE *f, const char *s);

/* ---- config_check.c ----------------------------------------------------- */

/* Every check that looks at more than one key, the secret files read
 * into their keys, and the files named checked; adds what it finds to
 * x->errs (x->oom on ENOMEM). */
void config_check_keys(struct config_ctx *x);

#endif
