/*
 * cli_help.c - help where people look for it: `spoolship help [COMMAND]`,
 * `spoolship --help`, `spoolship COMMAND --help|-h` (stdout, exit 0), and
 * `--version` with the versions of the libraries it runs with.
 */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>
#include <curl/curl.h>
#include <lmdb.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <zlib.h>

#include "cli.h"

/* The options every command that opens a spool takes: -s and -c before
 * or after the command (cli.c, cli_config.c), -k before it. */
#define COMMON \
	"  -s, --spool DIR          the spool directory (default ./spool)\n" \
	"  -c, --config FILE        run's config: its [spool] (path,\n" \
	"                           relative to FILE's directory, key\n" \
	"                           file, sync ...), [ship] max_age and\n" \
	"                           age_margin\n" \
	"  -k, --key-file FILE      before the command only: the spool's\n" \
	"                           encryption key, or $SPOOLSHIP_KEY_FILE\n" \
	"  -h, --help               this text\n"

#define SEE "\nspoolship(1) and docs/cli.md say more.\n"

static const struct {
	const char *name;
	const char *text;
} helps[] = {
	{ "append",
	  "usage: spoolship [-s DIR] append [-t TABLE] [--sync MODE] "
	  "[--fill-time]\n"
	  "       [--max-age DURATION] [--age-margin DURATION] "
	  "[--max-bytes SIZE]\n"
	  "       [--full-policy POLICY] [-c FILE] [FILE...]\n"
	  "\n"
	  "Appends NDJSON events (one JSON object per line, __time an "
	  "ISO-8601\n"
	  "string) from each FILE, or stdin when none or -, to stream "
	  "TABLE.\n"
	  "Each rejected line is reported as FILE:LINE: reason; then\n"
	  "\"accepted N, rejected M\".\n"
	  "\n"
	  "  -t, --table TABLE        the stream (default \"default\")\n"
	  "  --sync full|batch|none   when a commit is durable (default "
	  "full)\n"
	  "  --fill-time              give an event without __time the "
	  "time now\n"
	  "  --max-age DURATION       refuse events older than max-age less\n"
	  "  --age-margin DURATION    age-margin (default 7d and 10m; 0: "
	  "off)\n"
	  "  --max-bytes SIZE         the spool's disk budget (default 1G)\n"
	  "  --full-policy reject|drop_oldest|block\n"
	  "                           what to do when the spool is full\n"
	  COMMON
	  "\n"
	  "exit: 0 ok, 1 error, 2 usage, 3 some lines rejected, 4 spool "
	  "full,\n"
	  "      6 encryption key\n" SEE },
	{ "stats",
	  "usage: spoolship [-s DIR] stats [--json]\n"
	  "       spoolship [-s DIR] stats --watch [--interval DURATION] "
	  "[--count N]\n"
	  "\n"
	  "Pending events and bytes per stream and in total, the oldest\n"
	  "pending event, the totals kept in the spool, the dead store.\n"
	  "\n"
	  "  --json                   one JSON object, for scripts\n"
	  "  -w, --watch              refresh, with the rates in and out\n"
	  "  -i, --interval DURATION  --watch's period (default 1s)\n"
	  "  -n, --count N            --watch: stop after N refreshes\n"
	  COMMON
	  "\n"
	  "exit: 0 ok, 1 error, 2 usage, 5 spool too damaged to open,\n"
	  "      6 encryption key\n" SEE },
	{ "peek",
	  "usage: spoolship [-s DIR] peek [-t TABLE] [-n N]\n"
	  "\n"
	  "Prints pending events as NDJSON, oldest first.\n"
	  "\n"
	  "  -t, --table TABLE        only this stream\n"
	  "  -n N                     at most N events (default 10; 0: "
	  "all)\n"
	  COMMON
	  "\n"
	  "exit: 0 ok, 1 error, 2 usage, 5 spool too damaged to open,\n"
	  "      6 encryption key\n" SEE },
	{ "verify",
	  "usage: spoolship [-s DIR] verify\n"
	  "\n"
	  "Checks every record's header and CRC, and each stream's "
	  "counters.\n"
	  "\n"
	  COMMON
	  "\n"
	  "exit: 0 ok (nothing bad), 1 error, 2 usage, 5 damaged "
	  "records,\n"
	  "      6 encryption key\n" SEE },
	{ "dead",
	  "usage: spoolship [-s DIR] dead list [--json] [-t TABLE] "
	  "[--reason R] [-n N]\n"
	  "       spoolship [-s DIR] dead export [-o FILE] [-t TABLE] "
	  "[--reason R]\n"
	  "       spoolship [-s DIR] dead requeue [--reason R] [-t TABLE] "
	  "[--seq N]...\n"
	  "       spoolship [-s DIR] dead purge [--older-than DURATION] "
	  "[--reason R]\n"
	  "                                [-t TABLE] [--yes]\n"
	  "\n"
	  "Shows, saves, resends or deletes the events that could not be\n"
	  "delivered (the dead store).\n"
	  "\n"
	  "  -t, --table TABLE        only events of this stream\n"
	  "  --reason R               expired, rejected, too_big or "
	  "corrupt\n"
	  "  --json                   list: one JSON object per line\n"
	  "  -n N                     list: at most N (default 0: all)\n"
	  "  -o FILE                  export: to FILE, atomically\n"
	  "  --seq N                  requeue: this dead sequence "
	  "(repeatable)\n"
	  "  --older-than DURATION    purge: died more than DURATION ago\n"
	  "  --yes                    purge without --older-than\n"
	  COMMON
	  "\n"
	  "exit: 0 ok, 1 error (requeue: some refused), 2 usage,\n"
	  "      5 spool too damaged to open, 6 encryption key\n" SEE },
	{ "compact",
	  "usage: spoolship [-s DIR] compact\n"
	  "\n"
	  "Rewrites the data file without its free pages, checked record "
	  "by\n"
	  "record; only while no other process has the spool open.\n"
	  "\n"
	  COMMON
	  "\n"
	  "exit: 0 ok, 1 error or spool in use, 2 usage\n" SEE },
	{ "run",
	  "usage: spoolship run -c FILE [--check-config]\n"
	  "                     [--until-empty [--timeout DURATION]] "
	  "[--foreground]\n"
	  "\n"
	  "The shipper: ships the spool [spool] path (relative to FILE's\n"
	  "directory) to [ship] url, in the foreground, until SIGTERM; "
	  "SIGHUP\n"
	  "reloads FILE.  Logs go to stderr.\n"
	  "\n"
	  "  -c, --config FILE        the configuration (spoolship.ini(5))\n"
	  "  -n, --check-config       check FILE, print \"configuration "
	  "OK\"\n"
	  "  --until-empty            stop once nothing is pending\n"
	  "  --timeout DURATION       --until-empty: stop after DURATION\n"
	  "  -f, --foreground         accepted; it never daemonises\n"
	  "  -h, --help               this text\n"
	  "\n"
	  "exit: 0 ok, 1 error, 2 usage or configuration, 6 encryption "
	  "key,\n"
	  "      7 --until-empty stopped with events pending,\n"
	  "      8 another spoolship run serves the spool\n" SEE },
	{ "salvage",
	  "usage: spoolship salvage [--json] [--scan] SRC DST\n"
	  "       spoolship salvage [--json] [--scan] -c FILE DST\n"
	  "\n"
	  "Copies every sound record of a damaged spool SRC into a new "
	  "spool\n"
	  "DST; never writes to SRC.  With -c, SRC is FILE's [spool] "
	  "path.\n"
	  "\n"
	  "  --json                   the report as one JSON object\n"
	  "  --scan                   scan data.mdb page by page even "
	  "after a\n"
	  "                           clean tree walk\n"
	  "  -c, --config FILE        take SRC from FILE's [spool] path\n"
	  "  -h, --help               this text\n"
	  "\n"
	  "exit: 0 ok, 1 error, 2 DST refused or usage, 5 SRC was "
	  "damaged\n" SEE },
	{ "keygen",
	  "usage: spoolship keygen FILE\n"
	  "\n"
	  "Writes 32 random bytes to FILE (mode 0600, never overwriting): "
	  "an\n"
	  "encryption-at-rest key for [spool] encryption_key_file or -k "
	  "FILE.\n"
	  "\n"
	  "  -h, --help               this text\n"
	  "\n"
	  "exit: 0 ok, 1 error (FILE exists), 2 usage\n" SEE },
};

#define NHELPS (sizeof(helps) / sizeof(helps[0]))

int cli_help_command(const char *name, FILE *f)
{
	for (size_t i = 0; i < NHELPS; i++) {
		if (strcmp(helps[i].name, name) == 0) {
			fputs(helps[i].text, f);
			return 0;
		}
	}
	return -1;
}

int cli_help_wanted(int argc, char **argv)
{
	/* anywhere among the options, as git and systemctl take it; a
	 * "--" ends them (`append -- -h` appends a file named -h) */
	return cli_flag_given(argc, argv, "--help", "-h");
}

void cli_version(FILE *f)
{
	const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
	int maj = 0, min = 0, patch = 0;

	/* the libraries it runs with, not those it was built against: a
	 * bug report needs what the package manager installed since */
	mdb_version(&maj, &min, &patch);
	fprintf(f, "spoolship %s (spool format %d)\n",
		SPOOLSHIP_VERSION_STRING, SPOOLSHIP_FORMAT_VERSION);
	fprintf(f, "LMDB %d.%d.%d\n", maj, min, patch);
	fprintf(f, "libcurl %s\n", cv != NULL ? cv->version : "?");
	fprintf(f, "libmicrohttpd %s\n", MHD_get_version());
	fprintf(f, "cJSON %s\n", cJSON_Version());
	fprintf(f, "zlib %s\n", zlibVersion());
	fprintf(f, "OpenSSL %s\n", OpenSSL_version(OPENSSL_VERSION_STRING));
}
