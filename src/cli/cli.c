/*
 * cli.c - `spoolship` entry point: global options, dispatch to the
 * subcommands, and the helpers they share.  Usage errors exit 2.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "validate.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: spoolship [-s DIR] [-c FILE] [-k FILE] COMMAND "
		"[OPTIONS] [ARGS]\n"
		"       spoolship help [COMMAND] | COMMAND --help | "
		"--version\n"
		"\n"
		"  append [-t TABLE] [--sync MODE] [--fill-time] [FILE...]\n"
		"                 append NDJSON events from files or stdin\n"
		"  stats [--json] pending events, totals, streams\n"
		"  stats --watch [--interval DURATION]\n"
		"                 the same, live: rates in and out\n"
		"  peek [-t TABLE] [-n N]\n"
		"                 print pending events as NDJSON, oldest first\n"
		"  verify         check every record's CRC and header\n"
		"  dead list [--json] [-t TABLE] [--reason R] [-n N]\n"
		"  dead export [-o FILE] [-t TABLE] [--reason R]\n"
		"  dead requeue [--reason R] [-t TABLE] [--seq N]...\n"
		"  dead purge [--older-than DURATION] [--reason R] [--yes]\n"
		"                 show, save, resend or delete dead events\n"
		"  compact        rewrite the data file without free pages\n"
		"                 (only while no other process has it open)\n"
		"  run -c FILE [--check-config]\n"
		"      [--until-empty [--timeout DURATION]]\n"
		"                 ship the spool to the Events API (daemon)\n"
		"  salvage [--json] [--scan] SRC DST\n"
		"                 copy every sound record of a damaged spool\n"
		"                 into a new one (never writes to SRC)\n"
		"  keygen FILE    write a new encryption key (mode 0600)\n"
		"\n"
		"  -s, --spool DIR  spool directory (default ./spool); accepted\n"
		"                   before or after COMMAND\n"
		"  -c, --config FILE\n"
		"                   run's config for the commands that open\n"
		"                   a spool: its [spool], [ship] max_age and\n"
		"                   age_margin; before or after COMMAND\n"
		"  -k, --key-file FILE\n"
		"                   the spool's encryption key (also\n"
		"                   $SPOOLSHIP_KEY_FILE); see keygen\n"
		"  -h, --help       this text; `spoolship COMMAND --help` or\n"
		"                   `spoolship help COMMAND`: the command's\n"
		"  -V, --version    the version, and those of the libraries\n"
		"                   it runs with\n"
		"\n"
		"exit codes: 0 ok, 1 error, 2 usage, 3 some lines rejected,\n"
		"            4 spool full, 5 verify/salvage found damage,\n"
		"            6 encryption key missing, wrong or unusable,\n"
		"            7 run --until-empty stopped, events pending,\n"
		"            8 run: another run serves the spool\n");
}

int cli_exit_of(int err)
{
	if (err == 0)
		return EXIT_OK;
	if (err == SPOOLSHIP_ESPOOL_FULL)
		return EXIT_FULL;
	if (err == SPOOLSHIP_EINVAL)
		return EXIT_USAGE;
	if (err == SPOOLSHIP_ECORRUPT)
		return EXIT_CORRUPT;
	if (err == SPOOLSHIP_EKEY || err == SPOOLSHIP_EKEYWRONG ||
	    err == SPOOLSHIP_EKEYNEEDED)
		return EXIT_KEY;
	if (spoolship_err_is_event(err))
		return EXIT_REJECTED;
	return EXIT_ERROR;
}

void cli_err(const char *what, int err)
{
	fprintf(stderr, "spoolship: %s: %s\n", what, spoolship_strerror(err));
}

void cli_time(int64_t ms, char out[32])
{
	if (ms == 0)
		snprintf(out, 32, "-");
	else
		validate_time_format(ms, out);
}

int cli_open_spool(struct cli_common *c, int readonly, spoolship_spool **s)
{
	char path[4096];
	struct stat st;
	int rc;

	snprintf(path, sizeof(path), "%s/data.mdb", c->spool);
	if (stat(path, &st) != 0) {
		fprintf(stderr, "spoolship: no spool at %s: %s\n", c->spool,
			strerror(errno));
		return EXIT_ERROR;
	}
	struct spoolship_options o;

	o = c->opts; /* -c's [spool] (sync, budget, policy), or the defaults */
	if (readonly)
		o.readonly = 1; /* inspection never writes, nor resizes the map */
	o.key_file = c->key_file;
	rc = spoolship_spool_open(c->spool, &o, s);
	if (rc != 0)
		return cli_open_failed(c, c->spool, rc);
	return EXIT_OK;
}

int cli_open_existing(struct cli_common *c, spoolship_spool **s)
{
	return cli_open_spool(c, 1, s);
}

int cli_open_failed(const struct cli_common *c, const char *dir, int err)
{
	char why[300];

	if (err == SPOOLSHIP_EKEY && c->key_file != NULL &&
	    spoolship_key_check(c->key_file, why, sizeof(why)) != 0)
		fprintf(stderr, "spoolship: cannot open spool %s: %s\n", dir,
			why);
	else
		fprintf(stderr, "spoolship: cannot open spool %s: %s%s\n",
			dir, spoolship_strerror(err),
			err == SPOOLSHIP_EKEYNEEDED ?
			" (give it with -k FILE)" : "");
	return err == SPOOLSHIP_EVERSION ? EXIT_ERROR : cli_exit_of(err);
}

int cli_flag_given(int argc, char **argv, const char *lng,
		   const char *shrt)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], lng) == 0 || strcmp(argv[i], shrt) == 0)
			return 1;
	}
	return 0;
}

int cli_parse_size(const char *s, uint64_t *out)
{
	return config_parse_size(s, out);
}

int cli_parse_duration(const char *s, int64_t *out_ms)
{
	return config_parse_duration(s, out_ms);
}

/* `help [COMMAND]`: what --help prints, on stdout, exit 0. */
static int help(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc == 2 && cli_help_command(argv[1], stdout) == 0)
		return EXIT_OK;
	fprintf(stderr, "spoolship: help: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}

/* opens_spool: takes -c FILE (run reads its own -c; keygen opens
 * none). */
static const struct {
	const char *name;
	int (*fn)(struct cli_common *, int, char **);
	int opens_spool;
} commands[] = {
	{ "append", cli_append, 1 },
	{ "stats", cli_stats, 1 },
	{ "peek", cli_peek, 1 },
	{ "verify", cli_verify, 1 },
	{ "run", cli_run, 0 },
	{ "dead", cli_dead, 1 },
	{ "compact", cli_compact, 1 },
	{ "salvage", cli_salvage, 1 },
	{ "keygen", cli_keygen, 0 },
};

/* Runs command i with -c's file loaded first, so that the subcommand's
 * own options, parsed after, win over the file. */
static int dispatch(struct cli_common *c, size_t i, int argc, char **argv)
{
	struct config cfg;
	int ex;

	if (!commands[i].opens_spool)
		return commands[i].fn(c, argc, argv);
	cli_config_take(c, &argc, argv);
	ex = cli_config_load(c, &cfg);
	if (ex == EXIT_OK)
		ex = commands[i].fn(c, argc, argv);
	config_free(&cfg);
	return ex;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "spool", required_argument, NULL, 's' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common c;
	const char *env = getenv("SPOOLSHIP_KEY_FILE");
	int ch;

	memset(&c, 0, sizeof(c));
	c.spool = "./spool";
	c.prog = "spoolship";
	spoolship_options_init(&c.opts); /* run's defaults, age window too */
	c.max_age_ms = SPOOLSHIP_DEFAULT_MAX_AGE_MS;
	c.age_margin_ms = SPOOLSHIP_DEFAULT_AGE_MARGIN_MS;
	if (env != NULL && *env != '\0') {
		c.key_file = env;
		c.key_given = 1;
	}
	/* '+': stop at the command; its own options follow it. */
	while ((ch = getopt_long(argc, argv, "+s:k:c:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			c.spool = optarg;
			c.spool_given = 1;
			break;
		case 'k':
			c.key_file = optarg;
			c.key_given = 1;
			break;
		case 'c':
			c.config = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			cli_version(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0)
		return help(argc - optind, argv + optind);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			char **sub = argv + optind;
			int subc = argc - optind;

			/* before -c's file is loaded: help needs none */
			if (cli_help_wanted(subc, sub))
				return cli_help_command(commands[i].name,
							stdout) == 0 ?
				       EXIT_OK : EXIT_ERROR;
			optind = 0; /* re-initialise getopt for the subcommand */
			return dispatch(&c, i, subc, sub);
		}
	}
	fprintf(stderr, "spoolship: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return EXIT_USAGE;
}
