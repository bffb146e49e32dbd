/*
 * config.h - the INI configuration of `spoolship run`: one option table
 * drives parsing, defaults, validation, config.example.ini and
 * docs/configuration.md.  Loading never stops at the first problem, and no
 * error message ever holds a secret's value.
 */
#ifndef SPOOLSHIP_CONFIG_H
#define SPOOLSHIP_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "spoolship.h"

/* ---- the option table ------------------------------------------------- */

enum config_type {
	CONFIG_STRING,   /* char *, owned by the config, "" when unset */
	CONFIG_BOOL,     /* int 0/1: true/false yes/no on/off 1/0 */
	CONFIG_INT,      /* int64_t, decimal, within [min, max] */
	CONFIG_SIZE,     /* uint64_t bytes: 1000, 64K, 10M, 1G, 2T */
	CONFIG_DURATION, /* int64_t ms: 250ms, 30s, 5m, 2h, 7d, 1h30m */
	CONFIG_ENUM      /* int: index of the value in names[] */
};

/* config_option.flags */
#define CONFIG_SECRET 0x1u /* value never printed, masked in logs */
#define CONFIG_PATH   0x2u /* a file name (docs only) */

struct config_option {
	const char *section;     /* "spool", ...; "table" for [table NAME] */
	const char *key;
	int type;                /* enum config_type */
	const char *def;         /* default as written in the file; "" none */
	int64_t min, max;        /* INT, SIZE (bytes), DURATION (ms) */
	const char *const *names;/* ENUM: allowed values, NULL-terminated */
	size_t offset;           /* of the field in struct config (or in
				  * struct config_table for "table") */
	unsigned flags;          /* CONFIG_SECRET, CONFIG_PATH */
	const char *example;     /* a value config.example.ini sets, or NULL */
	const char *doc;         /* one paragraph, plain text */
};

struct config_section {
	const char *name;        /* "spool", ..., "table" */
	const char *header;      /* as written: "[spool]", "[table NAME]" */
	const char *doc;
};

/* The table, in file order, and its sections.  Static; never NULL. */
const struct config_option *config_options(size_t *n);
const struct config_section *config_sections(size_t *n);

/* The name of value v of enum option [section] key (config_enum_name(
 * "auth", "mode", c->auth.mode) is "bearer"), or NULL when there is no
 * such option or value.  Static string. */
const char *config_enum_name(const char *section, const char *key, int v);

/* ---- the loaded configuration ------------------------------------------ */

enum config_tls_version { CONFIG_TLS_1_2 = 0, CONFIG_TLS_1_3 };
enum config_log_format { CONFIG_LOG_TEXT = 0, CONFIG_LOG_JSON };
enum config_partial {
	CONFIG_PARTIAL_ACCEPT_VALID = 0, /* 200 for the valid lines */
	CONFIG_PARTIAL_REJECT_ALL        /* one bad line fails the request */
};

/* One [table NAME] section. */
struct config_table {
	char *name;  /* the spool stream, a valid spoolship_table_name_ok() */
	char *id;    /* the table id or connection in the URL; "" = name */
	int line;    /* of the section header */
};

/* Every string is owned by the config and never NULL after a successful
 * load ("" when unset).  Durations are in ms, sizes in bytes. */
struct config {
	char *file;                    /* the path loaded, NULL for defaults */
	struct {
		char *path;
		int sync;              /* enum spoolship_sync */
		int64_t sync_interval_ms;
		uint64_t max_bytes;
		int full_policy;       /* enum spoolship_full_policy */
		int64_t block_timeout_ms;
		int fill_time;
		char *encryption_key_file; /* "" = none */
	} spool;
	struct {
		char *url;             /* template holding {table} */
		int64_t max_events;
		uint64_t max_bytes;
		int64_t linger_ms;
		int64_t max_in_flight;
		int64_t timeout_ms;
		int64_t connect_timeout_ms;
		int64_t max_age_ms;    /* 0 = no age-out */
		int64_t age_margin_ms;
		int gzip;
		int64_t requests_per_minute; /* 0 = no client-side limit */
		int64_t backoff_min_ms;
		int64_t backoff_max_ms;
		int64_t alarm_backoff_ms;
		int64_t shutdown_timeout_ms;
		char *user_agent;      /* {version} already substituted */
	} ship;
	struct {
		int mode;              /* enum auth_mode (auth.h) */
		char *token;           /* secret; from token_file if set */
		char *token_file;
		char *token_url;
		char *client_id;
		char *client_secret;   /* secret; from client_secret_file */
		char *client_secret_file;
		char *api_key;         /* secret; from api_key_file */
		char *api_key_file;
		int64_t refresh_margin_ms;
		char *scope;
	} auth;
	struct {
		int verify;
		char *ca_file;
		char *cert_file;
		char *key_file;
		int min_version;       /* enum config_tls_version */
	} tls;
	struct {
		int level;             /* enum log_level (log.h) */
		int format;            /* enum config_log_format */
		int64_t progress_interval_ms; /* 0: no progress lines */
	} log;
	struct {
		char *listen;          /* host:port, "" = off */
		int allow_remote;
		char *token;           /* secret; from token_file if set */
		char *token_file;
		uint64_t max_body_bytes;
		int partial;           /* enum config_partial */
		int64_t max_connections;
		int64_t connection_timeout_ms;
	} ingest;
	struct {
		char *listen;          /* host:port, "" = off */
	} metrics;
	struct {
		char *pid_file;        /* "" = none */
	} run;
	size_t ntables;
	struct config_table *tables; /* in file order */
};

/* ---- errors ------------------------------------------------------------ */

#define CONFIG_MAX_ERRORS 32
#define CONFIG_ERROR_LEN 256

struct config_error {
	int line;                  /* 1-based; 0 = not tied to one line */
	char msg[CONFIG_ERROR_LEN];
};

/* Filled by config_load(); lives wherever the caller puts it (it needs no
 * freeing).  Errors past CONFIG_MAX_ERRORS are counted in dropped. */
struct config_errors {
	size_t n;
	size_t dropped;
	struct config_error v[CONFIG_MAX_ERRORS];
};

/*
 * Prints every error as "FILE:LINE: message" (or "FILE: message" for line
 * 0), one per line, then "FILE: N more errors" when some were dropped.
 */
void config_errors_print(const struct config_errors *e, const char *file,
			 FILE *f);

/* Formats error i the same way into buf.  Returns 0, or SPOOLSHIP_EINVAL
 * when i is out of range. */
int config_error_format(const struct config_errors *e, size_t i,
			const char *file, char *buf, size_t len);

/* ---- loading ------------------------------------------------------------ */

/*
 * Fills *out with every default.  The caller owns the strings: release
 * them with config_free().  Returns 0 or -ENOMEM (*out is then empty).
 */
int config_defaults(struct config *out);

/*
 * Loads the INI file at path over the defaults, expanding ${NAME} and
 * ${NAME:-default} from the environment ($$ is a dollar), checking every
 * value, every cross-key rule, and reading each *_file secret (which must
 * not be accessible by group or others).  Relative paths are relative to
 * the working directory.
 *
 * Every problem found is added to *errs (may be NULL), which is reset
 * first: syntax, unknown sections and keys, bad values, unset variables,
 * files.  Returns 0 and fills *out, which the caller then owns (release
 * with config_free()); or SPOOLSHIP_EINVAL when errs holds the problems,
 * -errno when the file cannot be read (also described in errs), -ENOMEM.
 * On error *out is zeroed, so config_free(out) is still safe.
 *
 * Lines longer than 196 bytes are refused (libinih's limit): long secrets
 * belong in a *_file or an environment variable anyway.
 *
 * For a reload, load into a new struct and swap it in only on success.
 * Not thread-safe against setenv() by another thread.
 */
int config_load(const char *path, struct config *out,
		struct config_errors *errs);

/*
 * What `spoolship run` needs beyond a valid file: [ship] url.  Adds the
 * problems to *errs without resetting it.  Returns 0 or SPOOLSHIP_EINVAL.
 */
int config_check_run(const struct config *c, struct config_errors *errs);

/* Frees every string and the table array and zeroes *c.  NULL-safe. */
void config_free(struct config *c);

/* ---- using it ----------------------------------------------------------- */

/* The [spool] section (and the [ship] age-out window minus its margin, the
 * oldest event worth accepting) as spool options. */
void config_spool_options(const struct config *c, struct spoolship_options *o);

/*
 * Stores in *id the table id that stream ships to: the [table NAME] id, or
 * the stream name itself when it has none.  *id points into c or is
 * stream.  Returns 0, or SPOOLSHIP_EINVAL for an invalid stream name.
 */
int config_table_id(const struct config *c, const char *stream,
		    const char **id);

/*
 * Writes the URL for stream into out: [ship] url with each {table}
 * replaced by the stream's table id, percent-encoded as one path segment
 * (every byte outside A-Z a-z 0-9 - . _ ~ becomes %XX; a stream name is
 * never changed by that).  Returns 0, or SPOOLSHIP_EINVAL when the stream
 * name is invalid, no url is set, or out is too small.
 */
int config_url_for(const struct config *c, const char *stream, char *out,
		   size_t outlen);

/*
 * Stores in out[0..*n) the values of the secret options that are set
 * (tokens, client secret, API key), for log_secret_add().  The pointers
 * point into c.  Returns 0, or SPOOLSHIP_EINVAL when cap is too small.
 */
int config_secrets(const struct config *c, const char **out, size_t cap,
		   size_t *n);

/* ---- value parsers (also for the command line) -------------------------- */

/* Each returns 0 and stores the value, or SPOOLSHIP_EINVAL.  Ranges are the
 * caller's business; overflow is an error. */
int config_parse_bool(const char *s, int *out);
int config_parse_int(const char *s, int64_t *out);
/* "1000", "64K", "10M", "1G", "2T" (also k, KB, KiB ...): powers of 1024. */
int config_parse_size(const char *s, uint64_t *out);
/* "500ms", "30s", "5m", "2h", "7d", "1h30m"; a bare number is ms. */
int config_parse_duration(const char *s, int64_t *out_ms);

/* ---- the documents written from the table (config_docs.c) -------------- */

/*
 * Write config.example.ini, the option tables of docs/configuration.md
 * and the option list of docs/man/spoolship.ini.5 (mdoc) from the table.
 * Return 0 or -EIO.
 */
int config_write_example(FILE *f);
int config_write_markdown(FILE *f);
int config_write_manpage(FILE *f);

/* A committed file that holds text written from the table: all of it
 * (begin NULL), or the lines after the line holding begin up to the next
 * line starting with end. */
struct config_doc {
	const char *path;        /* from the repository root */
	const char *begin, *end; /* marker lines, or NULL */
	int (*write)(FILE *f);   /* config_write_example(), ... */
};

/* The three files above, in that order.  Static; never NULL. */
const struct config_doc *config_docs(size_t *n);

/*
 * Stores in *out (malloc'd) what d's file must hold when it now holds
 * old: old with its generated part written anew.  `make docs`
 * (tools/gen-docs.c) writes that; the unit tests fail when a file
 * differs from it.  Returns 0, -ENOMEM, -EIO, or SPOOLSHIP_EINVAL with
 * the reason in why when a marker line is missing.
 */
int config_doc_render(const struct config_doc *d, const char *old,
		      char **out, char *why, size_t len);

#endif
