/*
 * cli_keygen.c - `spoolship keygen FILE`: a new encryption-at-rest key,
 * 32 random bytes in a file of mode 0600.  Never overwrites a file: a lost
 * key makes every sealed event in its spool unreadable.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_keygen(struct cli_common *c, int argc, char **argv)
{
	char why[300];
	int rc;

	(void)c;
	if (argc == 2 && (strcmp(argv[1], "-h") == 0 ||
			  strcmp(argv[1], "--help") == 0)) {
		printf("usage: spoolship keygen FILE\n"
		       "writes 32 random bytes to FILE (mode 0600, never "
		       "overwriting);\nuse it as [spool] encryption_key_file "
		       "or with -k FILE\n");
		return EXIT_OK;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: spoolship keygen FILE\n");
		return EXIT_USAGE;
	}
	rc = spoolship_key_generate(argv[1], why, sizeof(why));
	if (rc != 0) {
		fprintf(stderr, "spoolship: keygen: %s\n", why);
		return EXIT_ERROR;
	}
	printf("wrote a new encryption key to %s (mode 0600): keep a copy "
	       "apart from the spool; without it the events sealed with it "
	       "cannot be read\n", argv[1]);
	return EXIT_OK;
}
