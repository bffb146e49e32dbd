/*
 * cli_config.c - `-c FILE` for the subcommands that open a spool: the
 * same INI file as `spoolship run`, so that append, stats, dead ...
 * find the spool run ships, with its key, and append under the window
 * run sends within.  Options given on the command line win over it.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <string.h>

/* The value of -c/--config at argv[*i] (advancing *i past a separate
 * value), "" when it is missing, or NULL when argv[*i] is not it. */
static const char *config_arg(int argc, char **argv, int *i)
{
	const char *a = argv[*i];

	if (strncmp(a, "--config=", 9) == 0)
		return a + 9;
	if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
		if (*i + 1 >= argc)
			return "";
		return argv[++*i];
	}
	if (strncmp(a, "-c", 2) == 0)
		return a + 2;
	return NULL;
}

void cli_config_take(struct cli_common *c, int *argc, char **argv)
{
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		int at = i;
		const char *v;

		if (strcmp(argv[i], "--") == 0) {
			/* operands from here on: keep them all */
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		v = config_arg(*argc, argv, &i);
		if (v == NULL) {
			argv[out++] = argv[at];
			continue;
		}
		c->config = v;
	}
	*argc = out;
	argv[out] = NULL;
}

int cli_config_load(struct cli_common *c, struct config *cfg)
{
	struct config_errors errs;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (c->config == NULL)
		return EXIT_OK;
	if (c->config[0] == '\0') {
		fprintf(stderr, "spoolship: -c needs a FILE\n");
		return EXIT_USAGE;
	}
	rc = config_load(c->config, cfg, &errs);
	if (rc != 0) {
		config_errors_print(&errs, c->config, stderr);
		config_free(cfg);
		return EXIT_USAGE;
	}
	config_spool_options(cfg, &c->opts);
	c->max_age_ms = cfg->ship.max_age_ms;
	c->age_margin_ms = cfg->ship.age_margin_ms;
	if (!c->spool_given)
		c->spool = cfg->spool.path;
	if (!c->key_given)
		c->key_file = c->opts.key_file;
	return EXIT_OK;
}
