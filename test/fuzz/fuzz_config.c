/*
 * fuzz_config.c - libFuzzer target for the INI configuration
 * (src/daemon/config.c): config_load() through libinih and the option table,
 * with every check across keys, then what `spoolship run` derives from a
 * loaded file (URLs per table, spool options, secrets).  config_load()
 * reads a path, so each input is written to one memfd first.
 */
#include "fuzz.h"

#include <errno.h>
#include <sys/mman.h>

#include "config.h"
#include "spoolship.h"

static int fd = -1;
static char path[64];

static void check_errors(const struct config_errors *e)
{
	char buf[CONFIG_ERROR_LEN + 128];

	FUZZ_CHECK(e->n <= CONFIG_MAX_ERRORS);
	for (size_t i = 0; i < e->n; i++) {
		FUZZ_CHECK(memchr(e->v[i].msg, '\0', CONFIG_ERROR_LEN) !=
			   NULL);
		FUZZ_CHECK(e->v[i].line >= 0);
		FUZZ_CHECK(config_error_format(e, i, "f.ini", buf,
					       sizeof(buf)) == 0);
		/* in file order, errors of no particular line (0) last */
		FUZZ_CHECK(i == 0 || (unsigned)e->v[i - 1].line - 1 <=
					     (unsigned)e->v[i].line - 1);
	}
}

/* What cli_run does with a file that loaded. */
static void use(const struct config *c)
{
	static const char *const streams[] = { "default", "a", "x.y-z_1" };
	struct spoolship_options o;
	struct config_errors e;
	const char *sec[16], *id;
	char url[512];
	size_t n;

	memset(&e, 0, sizeof(e));
	config_check_run(c, &e);
	spoolship_options_init(&o);
	config_spool_options(c, &o);
	FUZZ_CHECK(config_secrets(c, sec, 16, &n) == 0);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(sec[i] != NULL && *sec[i] != '\0');
	for (size_t i = 0; i < c->ntables; i++) {
		FUZZ_CHECK(spoolship_table_name_ok(c->tables[i].name));
		FUZZ_CHECK(config_table_id(c, c->tables[i].name, &id) == 0);
		if (config_url_for(c, c->tables[i].name, url,
				   sizeof(url)) == 0)
			FUZZ_CHECK(strlen(url) < sizeof(url));
	}
	for (size_t i = 0; i < sizeof(streams) / sizeof(*streams); i++)
		if (config_url_for(c, streams[i], url, sizeof(url)) == 0)
			FUZZ_CHECK(strlen(url) < sizeof(url));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct config_errors e;
	int rc;

	if (fd < 0) {
		fd = memfd_create("fuzz_config.ini", MFD_CLOEXEC);
		FUZZ_CHECK(fd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	FUZZ_CHECK(size == 0 ||
		   pwrite(fd, data, size, 0) == (ssize_t)size);
	rc = config_load(path, &c, &e);
	check_errors(&e);
	if (rc == 0) {
		FUZZ_CHECK(e.n == 0);
		use(&c);
	} else {
		FUZZ_CHECK(rc == SPOOLSHIP_EINVAL || rc == -ENOMEM);
		FUZZ_CHECK(e.n > 0 || rc == -ENOMEM);
	}
	config_free(&c);
	return 0;
}
