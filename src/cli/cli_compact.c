/*
 * cli_compact.c - `spoolship compact`: the operator's hand on the data
 * file (spool_compact.c does the work).  It changes nothing while another
 * process has the spool open.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "spool.h"

int cli_compact(struct cli_common *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "spool", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct spool_compact_info info;
	char why[512] = "";
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "s:", opts, NULL)) != -1) {
		if (ch != 's') {
			fprintf(stderr, "usage: spoolship [-s DIR] compact\n");
			return EXIT_USAGE;
		}
		c->spool = optarg;
	}
	if (optind < argc) {
		fprintf(stderr, "usage: spoolship [-s DIR] compact\n");
		return EXIT_USAGE;
	}
	rc = spool_compact(c->spool, &info, why, sizeof(why));
	if (rc == -EBUSY) {
		fprintf(stderr, "spoolship: compact: %s is in use (by "
			"`spoolship run`, an appender or a reader): stop it "
			"and try again; nothing was changed\n", c->spool);
		return EXIT_ERROR;
	}
	if (rc != 0) {
		fprintf(stderr, "spoolship: compact: %s: %s\n",
			why[0] != '\0' ? why : c->spool,
			spoolship_strerror(rc));
		return EXIT_ERROR;
	}
	printf("compacted %s: %llu -> %llu bytes, %llu records copied and "
	       "checked\n", c->spool, (unsigned long long)info.before_bytes,
	       (unsigned long long)info.after_bytes,
	       (unsigned long long)info.records);
	return EXIT_OK;
}
