/*
 * cli.h - the `spoolship` command's subcommands and what they share.
 * Exit codes are part of the interface: see docs/cli.md.
 */
#ifndef SPOOLSHIP_CLI_H
#define SPOOLSHIP_CLI_H

#include <stdio.h>

#include "config.h"
#include "spoolship.h"

enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,    /* I/O, LMDB, anything else */
	EXIT_USAGE = 2,    /* bad command line or config */
	EXIT_REJECTED = 3, /* some input lines were rejected */
	EXIT_FULL = 4,     /* the spool is full */
	EXIT_CORRUPT = 5,  /* verify or salvage found damaged records */
	EXIT_KEY = 6,      /* encryption key missing, wrong or unusable */
	EXIT_PENDING = 7,  /* run --until-empty stopped with events pending */
	EXIT_SERVED = 8    /* run: another `spoolship run` serves the spool */
};

struct cli_common {
	const char *spool;  /* -s/--spool, default "./spool" */
	const char *prog;
	/* -k/--key-file or $SPOOLSHIP_KEY_FILE: the spool's encryption key
	 * (NULL: none) */
	const char *key_file;
	/* -c/--config FILE of a subcommand that opens a spool: its [spool]
	 * and [ship] max_age, age_margin (NULL: run's defaults) */
	const char *config;
	int spool_given;    /* -s given: it wins over [spool] path */
	int key_given;      /* -k or the environment: wins over the file */
	/* what opening the spool takes: the file's (or the defaults), then
	 * the command line's own options over them */
	struct spoolship_options opts;
	/* [ship] max_age and age_margin (the file's, or run's defaults),
	 * for append's --max-age and --age-margin to combine with */
	int64_t max_age_ms, age_margin_ms;
};

int cli_append(struct cli_common *c, int argc, char **argv);
int cli_stats(struct cli_common *c, int argc, char **argv);
int cli_peek(struct cli_common *c, int argc, char **argv);
int cli_verify(struct cli_common *c, int argc, char **argv);
int cli_run(struct cli_common *c, int argc, char **argv);
/* `dead list|export|requeue|purge` (cli_dead.c), `compact`
 * (cli_compact.c). */
int cli_dead(struct cli_common *c, int argc, char **argv);
int cli_compact(struct cli_common *c, int argc, char **argv);
/* `salvage SRC DST` (cli_salvage.c): copies every sound record of a
 * damaged spool into a new one, never writing to SRC. */
int cli_salvage(struct cli_common *c, int argc, char **argv);
/* `keygen FILE` (cli_keygen.c): writes a random spool encryption key. */
int cli_keygen(struct cli_common *c, int argc, char **argv);
/* `stats --watch` (cli_watch.c): cli_stats() hands over when
 * cli_watch_wanted() finds --watch among the arguments. */
int cli_watch(struct cli_common *c, int argc, char **argv);
int cli_watch_wanted(int argc, char **argv);

/* cli_help.c: prints the usage of command `name` to f; -1 when there
 * is no such command. */
int cli_help_command(const char *name, FILE *f);
/* 1 when -h or --help is among argv[1..argc) (up to a "--"). */
int cli_help_wanted(int argc, char **argv);
/* The version, and the versions of the libraries it runs with. */
void cli_version(FILE *f);

/* Takes -c FILE, --config FILE, --config=FILE out of a subcommand's
 * argv[1..*argc) (up to a "--"), into c->config; every subcommand that
 * opens a spool takes it, wherever it stands among its options. */
void cli_config_take(struct cli_common *c, int *argc, char **argv);
/* Loads c->config, when set, and takes from it the spool path (unless
 * -s), the key file (unless -k or $SPOOLSHIP_KEY_FILE) and the spool
 * options (config_spool_options(): [spool], and [ship] max_age less
 * age_margin as the age window).  Prints each problem as FILE:LINE:
 * message and returns EXIT_USAGE; else EXIT_OK.  c's strings then
 * point into *cfg, which the caller frees with config_free() after the
 * subcommand (it is zeroed when no file was named). */
int cli_config_load(struct cli_common *c, struct config *cfg);

/* Opens c->spool for inspection: refuses (with a message) a directory
 * that holds no spool instead of creating one. */
int cli_open_existing(struct cli_common *c, spoolship_spool **s);
/* Opens c->spool, which must exist (else a message and EXIT_ERROR), read
 * only when readonly is 1; returns EXIT_OK or cli_open_failed()'s code. */
int cli_open_spool(struct cli_common *c, int readonly, spoolship_spool **s);
/* Prints why the spool at dir could not be opened ("cannot open spool
 * DIR: reason", with the key file's own reason for SPOOLSHIP_EKEY) and
 * returns the exit code for it. */
int cli_open_failed(const struct cli_common *c, const char *dir, int err);
/* Maps a library error to an exit code. */
int cli_exit_of(int err);
/* Prints "spoolship: what: message" to stderr. */
void cli_err(const char *what, int err);
/* Formats ms since the epoch as ISO-8601 UTC ("-" for 0). */
void cli_time(int64_t ms, char out[32]);
/* 1 when the flag lng or shrt ("--watch", "-w") stands alone among
 * argv[1..argc), before any "--"; a subcommand's getopt parses it
 * later. */
int cli_flag_given(int argc, char **argv, const char *lng,
		   const char *shrt);
/* Parses "1000", "64K", "10M", "2G" into bytes. */
int cli_parse_size(const char *s, uint64_t *out);
/* Parses "500ms", "30s", "5m", "2h", "7d" (bare number = ms). */
int cli_parse_duration(const char *s, int64_t *out_ms);

#endif
