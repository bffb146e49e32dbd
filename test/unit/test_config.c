/*
 * test_config.c - unit tests of config.c: every value parser, ${ENV}
 * expansion, errors with their line numbers (all of them, not just the
 * first), secret files, [table NAME] and the URL, and that the files
 * written from the option table (config.example.ini, the key tables of
 * docs/configuration.md, the man page's option list) are what it writes:
 * `make docs` rewrites them.  Run from the repository root (make check
 * does).
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "testutil.h"

#include <errno.h>
#include <sys/stat.h>

#include "auth.h"
#include "config.h"
#include "log.h"
#include "names.h"
#include "spoolship.h"

#define EXAMPLE "config.example.ini"
#define DOCS "docs/configuration.md"

/* ---- helpers --------------------------------------------------------- */

struct fixture {
	char *dir;
	char path[4200];
	struct config c;
	struct config_errors e;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = tu_tmpdir();
	snprintf(f->path, sizeof(f->path), "%s/config.ini", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	config_free(&f->c);
	tu_rmdir(f->dir);
	free(f);
	return 0;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Writes text as config.ini and loads it. */
static int load(struct fixture *f, const char *text)
{
	config_free(&f->c);
	write_file(f->path, text, 0600);
	return config_load(f->path, &f->c, &f->e);
}

/* Error i as "config.ini:LINE: message". */
static const char *err(struct fixture *f, size_t i)
{
	static char buf[1024];

	assert_true(i < f->e.n);
	assert_int_equal(config_error_format(&f->e, i, "config.ini", buf,
					     sizeof(buf)), 0);
	return buf;
}

/* Loads text and expects exactly one error, with this text. */
static void load_one_error(struct fixture *f, const char *text,
			   const char *want)
{
	int rc = load(f, text);

	if (f->e.n != 1 || strcmp(err(f, 0), want) != 0) {
		for (size_t i = 0; i < f->e.n; i++)
			print_error("error %zu: %s\n", i, err(f, i));
		print_error("wanted: %s\n", want);
		fail();
	}
	assert_int_equal(rc, SPOOLSHIP_EINVAL);
}

static char *read_all(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	long n;

	if (fp == NULL)
		fail_msg("cannot open %s (run from the repository root)",
			 path);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* ---- value parsers ------------------------------------------------------ */

static void test_parse_bool(void **state)
{
	static const char *const yes[] = { "true", "yes", "on", "1", "TRUE",
					   "Yes" };
	static const char *const no[] = { "false", "no", "off", "0", "False",
					  "OFF" };
	static const char *const bad[] = { "", "2", "y", "n", "truee",
					   " true", "enabled" };
	int v;

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		v = -1;
		assert_int_equal(config_parse_bool(yes[i], &v), 0);
		assert_int_equal(v, 1);
		assert_int_equal(config_parse_bool(no[i], &v), 0);
		assert_int_equal(v, 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(config_parse_bool(bad[i], &v),
				 SPOOLSHIP_EINVAL);
}

static void test_parse_int(void **state)
{
	static const char *const bad[] = { "", "x", "1x", "+1", " 1", "1 ",
					   "1.0", "-", "0x10",
					   "9223372036854775808" };
	int64_t v;

	(void)state;
	assert_int_equal(config_parse_int("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(config_parse_int("83334", &v), 0);
	assert_int_equal(v, 83334);
	assert_int_equal(config_parse_int("-5", &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(config_parse_int("9223372036854775807", &v), 0);
	assert_true(v == INT64_MAX);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(config_parse_int(bad[i], &v),
				 SPOOLSHIP_EINVAL);
}

static void test_parse_size(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		{ "0", 0 }, { "1000000", 1000000 }, { "100B", 100 },
		{ "64K", 65536 }, { "64k", 65536 }, { "1KB", 1024 },
		{ "1KiB", 1024 }, { "1kib", 1024 }, { "10M", 10485760 },
		{ "1G", UINT64_C(1) << 30 }, { "2T", UINT64_C(2) << 40 },
		{ "1gb", UINT64_C(1) << 30 },
	};
	static const char *const bad[] = {
		"", "K", "-1", "-1K", "1X", "1.5M", "1 K", " 1K", "1Ki",
		"1iB", "1KK", "1P", "9999999999T", "1e6",
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		v = 12345;
		assert_int_equal(config_parse_size(good[i].s, &v), 0);
		assert_true(v == good[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (config_parse_size(bad[i], &v) != SPOOLSHIP_EINVAL)
			fail_msg("size '%s' was accepted", bad[i]);
	}
}

static void test_parse_duration(void **state)
{
	static const struct {
		const char *s;
		int64_t ms;
	} good[] = {
		{ "0", 0 }, { "500", 500 }, { "500ms", 500 }, { "30s", 30000 },
		{ "5m", 300000 }, { "2h", 7200000 }, { "7d", 604800000 },
		{ "1h30m", 5400000 }, { "1m30s", 90000 }, { "1s500ms", 1500 },
		{ "0s", 0 },
	};
	static const char *const bad[] = {
		"", "s", "-1s", "1x", "1h30", "1.5s", " 1s", "1s ", "1S",
		"1 s", "ms", "1mss", "1w", "99999999999999d",
		"9223372036854775807s",
	};
	int64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		v = -1;
		assert_int_equal(config_parse_duration(good[i].s, &v), 0);
		assert_true(v == good[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (config_parse_duration(bad[i], &v) != SPOOLSHIP_EINVAL)
			fail_msg("duration '%s' was accepted", bad[i]);
	}
}

/* ---- the table itself --------------------------------------------------- */

static void test_defaults(void **state)
{
	struct config c;
	struct spoolship_options o, d;

	(void)state;
	assert_int_equal(config_defaults(&c), 0);
	assert_string_equal(c.spool.path, "./spool");
	assert_int_equal(c.spool.sync, SPOOLSHIP_SYNC_FULL);
	assert_true(c.spool.sync_interval_ms == 200);
	assert_true(c.spool.max_bytes == UINT64_C(1) << 30);
	assert_int_equal(c.spool.full_policy, SPOOLSHIP_FULL_REJECT);
	assert_true(c.spool.block_timeout_ms == 5000);
	assert_string_equal(c.ship.url, "");
	assert_true(c.ship.max_events == 60);
	assert_true(c.ship.max_bytes == 1000000);
	assert_true(c.ship.linger_ms == 500);
	assert_true(c.ship.max_in_flight == 4);
	assert_true(c.ship.timeout_ms == 30000);
	assert_true(c.ship.connect_timeout_ms == 10000);
	assert_true(c.ship.max_age_ms == 7 * 86400000LL);
	assert_true(c.ship.age_margin_ms == 600000);
	assert_int_equal(c.ship.gzip, 0);
	assert_true(c.ship.requests_per_minute == 83334);
	assert_true(c.ship.backoff_min_ms == 100);
	assert_true(c.ship.backoff_max_ms == 60000);
	assert_true(c.ship.alarm_backoff_ms == 300000);
	assert_true(c.ship.shutdown_timeout_ms == 10000);
	assert_string_equal(c.ship.user_agent,
			    "spoolship/" SPOOLSHIP_VERSION_STRING);
	assert_int_equal(c.auth.mode, AUTH_NONE);
	assert_true(c.auth.refresh_margin_ms == 30000);
	assert_int_equal(c.tls.verify, 1);
	assert_int_equal(c.tls.min_version, CONFIG_TLS_1_2);
	assert_int_equal(c.log.level, LOG_LVL_INFO);
	assert_int_equal(c.log.format, CONFIG_LOG_TEXT);
	assert_string_equal(c.ingest.listen, "");
	assert_true(c.ingest.max_body_bytes == 16 << 20);
	assert_true(c.ingest.max_connections == 512);
	assert_true(c.ingest.connection_timeout_ms == 30000);
	assert_int_equal(c.ingest.partial, CONFIG_PARTIAL_ACCEPT_VALID);
	assert_int_equal((int)c.ntables, 0);

	/* The spool options agree with the library's own defaults, the
	 * age window included: what the library accepts, run sends. */
	config_spool_options(&c, &o);
	spoolship_options_init(&d);
	assert_int_equal(o.sync, d.sync);
	assert_int_equal(o.sync_interval_ms, d.sync_interval_ms);
	assert_true(o.max_bytes == d.max_bytes);
	assert_int_equal(o.full_policy, d.full_policy);
	assert_int_equal(o.block_timeout_ms, d.block_timeout_ms);
	assert_true(o.max_age_ms == d.max_age_ms);
	assert_true(d.max_age_ms == 7 * 86400000LL - 600000);
	assert_true(c.ship.max_age_ms == SPOOLSHIP_DEFAULT_MAX_AGE_MS);
	assert_true(c.ship.age_margin_ms == SPOOLSHIP_DEFAULT_AGE_MARGIN_MS);
	assert_int_equal(o.fill_time, 0);
	config_free(&c);
	config_free(&c); /* zeroed: harmless */
}

/* Every default parses and lies in its range; enum names agree with the
 * parsers of the library and the logger; no key appears twice. */
static void test_table_sane(void **state)
{
	size_t n, ns;
	const struct config_option *o = config_options(&n);
	const struct config_section *s = config_sections(&ns);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		int found = 0;

		assert_non_null(o[i].doc);
		assert_true(strlen(o[i].doc) > 10);
		for (size_t k = 0; k < ns; k++)
			found |= strcmp(s[k].name, o[i].section) == 0;
		assert_true(found);
		for (size_t j = 0; j < i; j++)
			assert_false(strcmp(o[i].section, o[j].section) == 0 &&
				     strcmp(o[i].key, o[j].key) == 0);
		if (o[i].type == CONFIG_INT || o[i].type == CONFIG_SIZE ||
		    o[i].type == CONFIG_DURATION) {
			int64_t v;
			uint64_t u;

			assert_true(o[i].min <= o[i].max);
			if (o[i].type == CONFIG_INT) {
				assert_int_equal(config_parse_int(o[i].def,
								  &v), 0);
			} else if (o[i].type == CONFIG_SIZE) {
				assert_int_equal(config_parse_size(o[i].def,
								   &u), 0);
				v = (int64_t)u;
			} else {
				assert_int_equal(config_parse_duration(
						 o[i].def, &v), 0);
			}
			assert_true(v >= o[i].min && v <= o[i].max);
		}
		if (o[i].flags & CONFIG_SECRET)
			assert_int_equal(o[i].type, CONFIG_STRING);
	}
	assert_string_equal(config_enum_name("auth", "mode",
					     AUTH_BEARER), "bearer");
	assert_string_equal(config_enum_name("auth", "mode",
					     AUTH_APIKEY), "apikey");
	assert_string_equal(config_enum_name("tls", "min_version",
					     CONFIG_TLS_1_3), "1.3");
	assert_string_equal(config_enum_name("ingest", "partial",
					     CONFIG_PARTIAL_REJECT_ALL),
			    "reject_all");
	assert_null(config_enum_name("auth", "mode", 4));
	assert_null(config_enum_name("auth", "mode", -1));
	assert_null(config_enum_name("auth", "token", 0));
	assert_null(config_enum_name("auth", "nope", 0));
	for (size_t i = 0; i < n; i++) {
		int (*parse)(const char *, int *) = NULL;

		if (strcmp(o[i].key, "sync") == 0)
			parse = spoolship_sync_parse;
		else if (strcmp(o[i].key, "full_policy") == 0)
			parse = spoolship_full_policy_parse;
		else if (strcmp(o[i].section, "log") == 0 &&
			 strcmp(o[i].key, "level") == 0)
			parse = log_level_parse;
		else if (strcmp(o[i].section, "log") == 0 &&
			 strcmp(o[i].key, "format") == 0)
			parse = log_format_parse;
		for (int k = 0; parse != NULL && o[i].names[k] != NULL; k++) {
			int v = -1;

			assert_int_equal(parse(o[i].names[k], &v), 0);
			assert_int_equal(v, k);
		}
	}
}

/* The names of an enum option the daemon's code parses too: one list
 * each, the parser's own, not a copy that could drift. */
static void test_enum_lists_shared(void **state)
{
	static const struct {
		const char *section, *key;
		const char *const *names;
	} shared[] = {
		{ "spool", "sync", spoolship_sync_names },
		{ "spool", "full_policy", spoolship_full_policy_names },
		{ "auth", "mode", auth_mode_names },
		{ "log", "level", log_level_names },
		{ "log", "format", log_format_names },
	};
	size_t n, found = 0;
	const struct config_option *o = config_options(&n);

	(void)state;
	for (size_t k = 0; k < sizeof(shared) / sizeof(shared[0]); k++) {
		for (size_t i = 0; i < n; i++) {
			if (strcmp(o[i].section, shared[k].section) != 0 ||
			    strcmp(o[i].key, shared[k].key) != 0)
				continue;
			assert_int_equal(o[i].type, CONFIG_ENUM);
			assert_ptr_equal(o[i].names, shared[k].names);
			found++;
		}
	}
	assert_int_equal((int)found, 5);
	for (int m = 0; auth_mode_names[m] != NULL; m++)
		assert_string_equal(auth_mode_name((enum auth_mode)m),
				    auth_mode_names[m]);
	assert_string_equal(auth_mode_name((enum auth_mode)4), "unknown");
}

/* ---- loading ---------------------------------------------------------- */

static void test_load_values(void **state)
{
	struct fixture *f = *state;
	struct spoolship_options o;

	assert_int_equal(load(f,
		"; a comment\n"
		"# another\n"
		"[spool]\n"
		"path = /var/lib/spoolship\n"
		"sync = batch\n"
		"  sync_interval = 1s   ; indented, with a comment\n"
		"max_bytes = 2G\n"
		"full_policy = block\n"
		"block_timeout = 1m\n"
		"fill_time = yes\n"
		"\n"
		"[ship]\r\n"
		"url = https://org.api.imply.io/v1/events/{table}\r\n"
		"max_events = 10000\n"
		"max_bytes = 10M\n"
		"gzip = on\n"
		"requests_per_minute = 0\n"
		"user_agent = acme {version}\n"
		"max_age = 30d\n"
		"age_margin = 1h\n"
		"[log]\n"
		"level = debug\n"
		"format = json\n"
		"[ingest]\n"
		"listen = [::1]:8081\n"
		"[metrics]\n"
		"listen = 0.0.0.0:9464\n"), 0);
	assert_int_equal((int)f->e.n, 0);
	assert_string_equal(f->c.file, f->path);
	assert_string_equal(f->c.spool.path, "/var/lib/spoolship");
	assert_int_equal(f->c.spool.sync, SPOOLSHIP_SYNC_BATCH);
	assert_true(f->c.spool.sync_interval_ms == 1000);
	assert_true(f->c.spool.max_bytes == UINT64_C(2) << 30);
	assert_int_equal(f->c.spool.full_policy, SPOOLSHIP_FULL_BLOCK);
	assert_true(f->c.ship.max_events == 10000);
	assert_true(f->c.ship.max_bytes == 10 << 20);
	assert_int_equal(f->c.ship.gzip, 1);
	assert_true(f->c.ship.requests_per_minute == 0);
	assert_string_equal(f->c.ship.user_agent,
			    "acme " SPOOLSHIP_VERSION_STRING);
	assert_int_equal(f->c.log.level, LOG_LVL_DEBUG);
	assert_int_equal(f->c.log.format, CONFIG_LOG_JSON);
	assert_string_equal(f->c.ingest.listen, "[::1]:8081");
	assert_int_equal(config_check_run(&f->c, &f->e), 0);

	config_spool_options(&f->c, &o);
	assert_int_equal(o.sync, SPOOLSHIP_SYNC_BATCH);
	assert_int_equal(o.sync_interval_ms, 1000);
	assert_int_equal(o.full_policy, SPOOLSHIP_FULL_BLOCK);
	assert_int_equal(o.block_timeout_ms, 60000);
	assert_int_equal(o.fill_time, 1);
	assert_true(o.max_age_ms == 30 * 86400000LL - 3600000);
}

static void test_ranges_and_enums(void **state)
{
	struct fixture *f = *state;

	load_one_error(f, "[ship]\nmax_events = 0\n",
		       "config.ini:2: [ship] max_events = 0 is out of range "
		       "1 .. 10000");
	load_one_error(f, "[ship]\n\nmax_events = 10001\n",
		       "config.ini:3: [ship] max_events = 10001 is out of "
		       "range 1 .. 10000");
	load_one_error(f, "[ship]\nmax_bytes = 11M\n",
		       "config.ini:2: [ship] max_bytes = 11M is out of range "
		       "1K .. 10M");
	load_one_error(f, "[ship]\nlinger = 2m\n",
		       "config.ini:2: [ship] linger = 2m is out of range "
		       "0 .. 1m");
	load_one_error(f, "[ship]\nlinger = soon\n",
		       "config.ini:2: invalid value 'soon' for [ship] linger: "
		       "expected a duration such as 500ms, 30s, 5m, 2h or 7d");
	load_one_error(f, "[spool]\nmax_bytes = lots\n",
		       "config.ini:2: invalid value 'lots' for [spool] "
		       "max_bytes: expected a size such as 1000, 64K, 10M or "
		       "1G");
	load_one_error(f, "[ship]\nmax_in_flight = four\n",
		       "config.ini:2: invalid value 'four' for [ship] "
		       "max_in_flight: expected an integer");
	load_one_error(f, "[ship]\ngzip = maybe\n",
		       "config.ini:2: invalid value 'maybe' for [ship] gzip: "
		       "expected true or false");
	load_one_error(f, "[spool]\nsync = fsync\n",
		       "config.ini:2: invalid value 'fsync' for [spool] sync: "
		       "expected full, batch or none");
	load_one_error(f, "[tls]\nmin_version = 1.1\n",
		       "config.ini:2: invalid value '1.1' for [tls] "
		       "min_version: expected 1.2 or 1.3");
}

static void test_env_expansion(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(setenv("SPOOLSHIP_T_DIR", "/srv/spool", 1), 0);
	assert_int_equal(setenv("SPOOLSHIP_T_N", "120", 1), 0);
	assert_int_equal(setenv("SPOOLSHIP_T_EMPTY", "", 1), 0);
	unsetenv("SPOOLSHIP_T_UNSET");
	assert_int_equal(load(f,
		"[spool]\n"
		"path = ${SPOOLSHIP_T_DIR}/a$$b${SPOOLSHIP_T_EMPTY}\n"
		"[ship]\n"
		"max_events = ${SPOOLSHIP_T_N}\n"
		"user_agent = ${SPOOLSHIP_T_UNSET:-dflt}/"
		"${SPOOLSHIP_T_EMPTY:-e}/${SPOOLSHIP_T_N:-x}$$\n"), 0);
	assert_string_equal(f->c.spool.path, "/srv/spool/a$b");
	assert_true(f->c.ship.max_events == 120);
	assert_string_equal(f->c.ship.user_agent, "dflt/e/120$");

	load_one_error(f, "[spool]\n\npath = /x/${SPOOLSHIP_T_UNSET}/y\n",
		       "config.ini:3: [spool] path: environment variable "
		       "SPOOLSHIP_T_UNSET is not set");
	load_one_error(f, "[spool]\npath = $HOME/x\n",
		       "config.ini:2: [spool] path: a '$' must start ${NAME} "
		       "(write $$ for a dollar)");
	load_one_error(f, "[spool]\npath = ${SPOOLSHIP_T_DIR\n",
		       "config.ini:2: [spool] path: invalid variable "
		       "reference (expected ${NAME} or ${NAME:-default})");
	load_one_error(f, "[spool]\npath = ${1X}\n",
		       "config.ini:2: [spool] path: invalid variable "
		       "reference (expected ${NAME} or ${NAME:-default})");
	load_one_error(f, "[spool]\npath = ${X:-abc\n",
		       "config.ini:2: [spool] path: unterminated ${");
	/* An expanded value is checked like a written one. */
	load_one_error(f, "[ship]\nmax_events = ${SPOOLSHIP_T_DIR}\n",
		       "config.ini:2: invalid value '/srv/spool' for [ship] "
		       "max_events: expected an integer");
}

static void test_unknown_names(void **state)
{
	struct fixture *f = *state;

	load_one_error(f,
		"[spool]\npath = ./spool\n\n\n\n\n\n\n\n\n[ship]\nfoo = 1\n",
		"config.ini:12: unknown key 'foo' in [ship]");
	load_one_error(f, "[ship]\nmax_event = 1\n",
		       "config.ini:2: unknown key 'max_event' in [ship] (did "
		       "you mean 'max_events'?)");
	load_one_error(f, "[ship]\ntoken_file = /x\n",
		       "config.ini:2: unknown key 'token_file' in [ship] (it "
		       "belongs in [auth] or [ingest])");
	load_one_error(f, "[shipping]\nurl = x\nmax_events = 2\n",
		       "config.ini:1: unknown section [shipping]");
	load_one_error(f, "[ship]\nMAX_EVENTS = 1\n",
		       "config.ini:2: unknown key 'MAX_EVENTS' in [ship] (did "
		       "you mean 'max_events'?)");
	load_one_error(f, "[SHIP]\n", "config.ini:1: unknown section [SHIP] "
		       "(did you mean [ship]?)");
	load_one_error(f, "[foo]\n", "config.ini:1: unknown section [foo]");
	load_one_error(f, "[shp]\nurl = x\n",
		       "config.ini:1: unknown section [shp] (did you mean "
		       "[ship]?)");
	load_one_error(f, "[tables]\n",
		       "config.ini:1: unknown section [tables] (did you mean "
		       "[table NAME]?)");
	load_one_error(f, "url = http://x/{table}\n[ship]\n",
		       "config.ini:1: key 'url' outside any section");
	load_one_error(f, "[ship]\nmax_events = 1\nmax_events = 2\n",
		       "config.ini:3: [ship] max_events is set twice (first "
		       "on line 2)");
}

static void test_syntax_errors(void **state)
{
	struct fixture *f = *state;
	char line[400];

	load_one_error(f, "[ship]\nmax_events\n",
		       "config.ini:2: expected 'key = value', '[section]' or "
		       "a comment");
	load_one_error(f, "[ship\n", "config.ini:1: section header without "
		       "']'");
	load_one_error(f, "[ship] x\n", "config.ini:1: text after the "
		       "section header");
	load_one_error(f, "[ship]\n= 5\n", "config.ini:2: missing key "
		       "before '='");
	snprintf(line, sizeof(line), "[ship]\nuser_agent = %0250d\n", 0);
	load_one_error(f, line, "config.ini:2: line too long (263 bytes, at "
		       "most 196): put a long value in a *_file or an "
		       "environment variable");
	/* A section line is ours, not libinih's: any length works. */
	snprintf(line, sizeof(line), "[table %0200d]\nid = x\n", 7);
	assert_int_equal(load(f, line), 0);
	assert_int_equal((int)f->c.ntables, 1);
	assert_int_equal((int)strlen(f->c.tables[0].name), 200);
}

static void test_many_errors_collected(void **state)
{
	struct fixture *f = *state;
	char big[8192];
	size_t used = 0;
	int rc;

	rc = load(f,
		"[spool]\n"                    /* 1 */
		"sync = sometimes\n"           /* 2 */
		"[ship]\n"                     /* 3 */
		"url = ftp://x/{table}\n"      /* 4 */
		"max_events = -1\n"            /* 5 */
		"bogus = 1\n"                  /* 6 */
		"backoff_min = 2m\n"           /* 7 */
		"backoff_max = 1m\n"           /* 8 */
		"[nope]\n"                     /* 9 */
		"a = b\n"                      /* 10 */
		"[auth]\n"                     /* 11 */
		"mode = bearer\n");            /* 12 */
	assert_int_equal(rc, SPOOLSHIP_EINVAL);
	assert_int_equal((int)f->e.n, 7);
	assert_string_equal(err(f, 0), "config.ini:2: invalid value "
			    "'sometimes' for [spool] sync: expected full, "
			    "batch or none");
	assert_string_equal(err(f, 1), "config.ini:4: [ship] url must start "
			    "with http:// or https://");
	assert_string_equal(err(f, 2), "config.ini:5: [ship] max_events = -1 "
			    "is out of range 1 .. 10000");
	assert_string_equal(err(f, 3), "config.ini:6: unknown key 'bogus' in "
			    "[ship]");
	assert_string_equal(err(f, 4), "config.ini:7: [ship] backoff_min is "
			    "larger than backoff_max");
	assert_string_equal(err(f, 5), "config.ini:9: unknown section [nope]");
	assert_string_equal(err(f, 6), "config.ini:12: [auth] mode = bearer "
			    "needs token or token_file");
	/* Nothing of a failed load is left to free. */
	assert_null(f->c.spool.path);

	/* More than CONFIG_MAX_ERRORS: the rest are counted. */
	used += (size_t)snprintf(big, sizeof(big), "[ship]\n");
	for (int i = 0; i < CONFIG_MAX_ERRORS + 8; i++)
		used += (size_t)snprintf(big + used, sizeof(big) - used,
					 "k%d = 1\n", i);
	assert_int_equal(load(f, big), SPOOLSHIP_EINVAL);
	assert_int_equal((int)f->e.n, CONFIG_MAX_ERRORS);
	assert_int_equal((int)f->e.dropped, 8);
	{
		char *out = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&out, &len);

		config_errors_print(&f->e, "x.ini", fp);
		fclose(fp);
		assert_non_null(strstr(out, "x.ini:2: unknown key 'k0' in "
				       "[ship]\n"));
		assert_non_null(strstr(out, "\nx.ini: 8 more errors\n"));
		free(out);
	}
}

static void test_missing_file(void **state)
{
	struct fixture *f = *state;
	char path[4300];

	snprintf(path, sizeof(path), "%s/none.ini", f->dir);
	assert_int_equal(config_load(path, &f->c, &f->e), -ENOENT);
	assert_int_equal((int)f->e.n, 1);
	assert_string_equal(err(f, 0), "config.ini: cannot open: No such "
			    "file or directory");
	assert_int_equal(config_load(path, &f->c, NULL), -ENOENT);
}

static void test_url_checks(void **state)
{
	struct fixture *f = *state;

	load_one_error(f, "[ship]\nurl = https://h/v1/events/x\n",
		       "config.ini:2: [ship] url must hold {table}, where "
		       "each stream's table id goes");
	load_one_error(f, "[ship]\nurl = http:///v1/events/{table}\n",
		       "config.ini:2: [ship] url has no host");
	load_one_error(f, "[ship]\nurl = http://h/{tabel}\n",
		       "config.ini:2: [ship] url holds a '{' that is not "
		       "{table}");
	assert_int_equal(load(f, "[ship]\n"), 0);
	assert_int_equal(config_check_run(&f->c, &f->e), SPOOLSHIP_EINVAL);
	assert_string_equal(err(f, 0), "config.ini: [ship] url is required by "
			    "spoolship run");
}

static void test_tables_and_url_for(void **state)
{
	struct fixture *f = *state;
	char url[256];
	const char *id;

	assert_int_equal(load(f,
		"[ship]\n"
		"url = https://o.api.imply.io/v1/projects/p/events/{table}\n"
		"[table clicks]\n"
		"id = 0a1b2c3d-1111-2222-3333-444455556666\n"
		"[ table  web.v2 ]\n"
		"id = Web events/2024\n"
		"[table plain]\n"), 0);
	assert_int_equal((int)f->c.ntables, 3);
	assert_string_equal(f->c.tables[0].name, "clicks");
	assert_int_equal(f->c.tables[0].line, 3);
	assert_string_equal(f->c.tables[1].name, "web.v2");

	assert_int_equal(config_table_id(&f->c, "clicks", &id), 0);
	assert_string_equal(id, "0a1b2c3d-1111-2222-3333-444455556666");
	assert_int_equal(config_table_id(&f->c, "plain", &id), 0);
	assert_string_equal(id, "plain");
	assert_int_equal(config_table_id(&f->c, "other", &id), 0);
	assert_string_equal(id, "other");
	assert_int_equal(config_table_id(&f->c, "bad name", &id),
			 SPOOLSHIP_EINVAL);

	assert_int_equal(config_url_for(&f->c, "clicks", url, sizeof(url)),
			 0);
	assert_string_equal(url, "https://o.api.imply.io/v1/projects/p/"
			    "events/0a1b2c3d-1111-2222-3333-444455556666");
	assert_int_equal(config_url_for(&f->c, "web.v2", url, sizeof(url)),
			 0);
	assert_string_equal(url, "https://o.api.imply.io/v1/projects/p/"
			    "events/Web%20events%2F2024");
	assert_int_equal(config_url_for(&f->c, "a_b-c.d", url, sizeof(url)),
			 0);
	assert_string_equal(url, "https://o.api.imply.io/v1/projects/p/"
			    "events/a_b-c.d");
	assert_int_equal(config_url_for(&f->c, "a/b", url, sizeof(url)),
			 SPOOLSHIP_EINVAL);
	/* 45 bytes and the NUL: one byte less is refused. */
	assert_int_equal(config_url_for(&f->c, "x", url, 46), 0);
	assert_int_equal((int)strlen(url), 45);
	assert_int_equal(config_url_for(&f->c, "x", url, 45),
			 SPOOLSHIP_EINVAL);
	assert_int_equal(config_url_for(&f->c, "web.v2", url, 64), 0);
	assert_int_equal(config_url_for(&f->c, "web.v2", url, 63),
			 SPOOLSHIP_EINVAL);

	load_one_error(f, "[table bad/name]\nid = x\n",
		       "config.ini:1: invalid stream name 'bad/name' in "
		       "[table ...]: use 1 to 255 of A-Z a-z 0-9 . _ -");
	load_one_error(f, "[table]\n", "config.ini:1: [table] needs a stream "
		       "name: [table NAME]");
	load_one_error(f, "[table a]\nid = 1\n[table a]\nid = 2\n",
		       "config.ini:3: [table a] appears twice (first on line "
		       "1)");
	load_one_error(f, "[table a]\nid = 1\nid = 2\n",
		       "config.ini:3: [table a] id is set twice (first on "
		       "line 2)");
	load_one_error(f, "[table a]\nname = 1\n",
		       "config.ini:2: unknown key 'name' in [table a]");
	/* Without a url there is nothing to build. */
	assert_int_equal(load(f, "[table a]\n"), 0);
	assert_int_equal(config_url_for(&f->c, "a", url, sizeof(url)),
			 SPOOLSHIP_EINVAL);
}

static void test_secret_files(void **state)
{
	struct fixture *f = *state;
	char tok[4300], text[9000], want[9000];

	snprintf(tok, sizeof(tok), "%s/token", f->dir);
	write_file(tok, "tok-from-file\n", 0600);
	snprintf(text, sizeof(text), "[auth]\nmode = bearer\n"
		 "token_file = %s\n", tok);
	assert_int_equal(load(f, text), 0);
	assert_string_equal(f->c.auth.token, "tok-from-file");
	assert_string_equal(f->c.auth.token_file, tok);

	write_file(tok, "tok\r\n", 0400);
	assert_int_equal(load(f, text), 0);
	assert_string_equal(f->c.auth.token, "tok");

	write_file(tok, "tok-from-file\n", 0644);
	snprintf(want, sizeof(want), "config.ini:3: [auth] token_file: '%s' "
		 "is accessible by group or others (mode 0644): chmod 600 it",
		 tok);
	load_one_error(f, text, want);
	assert_int_equal(chmod(tok, 0640), 0);
	snprintf(want, sizeof(want), "config.ini:3: [auth] token_file: '%s' "
		 "is accessible by group or others (mode 0640): chmod 600 it",
		 tok);
	load_one_error(f, text, want);

	write_file(tok, "\n", 0600);
	snprintf(want, sizeof(want), "config.ini:3: [auth] token_file: '%s' "
		 "is empty", tok);
	load_one_error(f, text, want);

	write_file(tok, "two\nlines\n", 0600);
	snprintf(want, sizeof(want), "config.ini:3: [auth] token_file: '%s' "
		 "holds more than one line or a control character", tok);
	load_one_error(f, text, want);

	snprintf(text, sizeof(text), "[auth]\nmode = bearer\n"
		 "token_file = %s/missing\n", f->dir);
	snprintf(want, sizeof(want), "config.ini:3: [auth] token_file: cannot "
		 "open '%s/missing': No such file or directory", f->dir);
	load_one_error(f, text, want);

	write_file(tok, "x\n", 0600);
	snprintf(text, sizeof(text), "[auth]\nmode = bearer\ntoken = t\n"
		 "token_file = %s\n", tok);
	load_one_error(f, text, "config.ini:4: set [auth] token or "
		       "token_file, not both");

	/* OAuth, API key and ingest secrets come from files the same way. */
	write_file(tok, "cs\n", 0600);
	snprintf(text, sizeof(text), "[auth]\nmode = oauth\n"
		 "token_url = https://id.imply.io/auth/realms/o/protocol/"
		 "openid-connect/token\nclient_id = c\n"
		 "client_secret_file = %s\n"
		 "[ingest]\nlisten = 127.0.0.1:0\ntoken_file = %s\n", tok,
		 tok);
	assert_int_equal(load(f, text), 0);
	assert_string_equal(f->c.auth.client_secret, "cs");
	assert_string_equal(f->c.ingest.token, "cs");
	snprintf(text, sizeof(text), "[auth]\nmode = apikey\n"
		 "api_key_file = %s\n", tok);
	assert_int_equal(load(f, text), 0);
	assert_string_equal(f->c.auth.api_key, "cs");
}

static void test_auth_rules(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "[auth]\nmode = oauth\n"), SPOOLSHIP_EINVAL);
	assert_int_equal((int)f->e.n, 3);
	assert_string_equal(err(f, 0), "config.ini:2: [auth] mode = oauth "
			    "needs token_url");
	assert_string_equal(err(f, 1), "config.ini:2: [auth] mode = oauth "
			    "needs client_id");
	assert_string_equal(err(f, 2), "config.ini:2: [auth] mode = oauth "
			    "needs client_secret or client_secret_file");
	load_one_error(f, "[auth]\nmode = apikey\n",
		       "config.ini:2: [auth] mode = apikey needs api_key or "
		       "api_key_file");
	load_one_error(f, "[auth]\nmode = oauth\ntoken_url = id.imply.io\n"
		       "client_id = c\nclient_secret = s\n",
		       "config.ini:3: [auth] token_url must start with "
		       "http:// or https://");
	assert_int_equal(load(f, "[auth]\nmode = apikey\napi_key = k\n"), 0);
	assert_int_equal(f->c.auth.mode, AUTH_APIKEY);
}

static void test_listen_rules(void **state)
{
	struct fixture *f = *state;
	struct {
		const char *listen;
		int ok;
	} cases[] = {
		{ "127.0.0.1:8081", 1 }, { "127.9.9.9:0", 1 },
		{ "localhost:8081", 1 }, { "[::1]:8081", 1 },
		{ "8081", 0 }, { "127.0.0.1:", 0 }, { "127.0.0.1:65536", 0 },
		{ "::1:8081", 0 }, { "[::1]8081", 0 }, { "[zz]:1", 0 },
		{ "ho st:1", 0 }, { "127.0.0.1:80x", 0 },
	};
	char text[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		snprintf(text, sizeof(text), "[ingest]\nlisten = %s\n",
			 cases[i].listen);
		if ((load(f, text) == 0) != cases[i].ok)
			fail_msg("listen '%s'", cases[i].listen);
	}
	assert_int_equal(load(f, "[ingest]\nlisten = 0.0.0.0:8081\n"),
			 SPOOLSHIP_EINVAL);
	assert_int_equal((int)f->e.n, 2);
	assert_string_equal(err(f, 0), "config.ini:2: [ingest] listen "
			    "'0.0.0.0:8081' is not a loopback address: set "
			    "allow_remote = true to allow that");
	assert_string_equal(err(f, 1), "config.ini:2: [ingest] listen "
			    "'0.0.0.0:8081' is not a loopback address: set a "
			    "token (or token_file)");
	load_one_error(f, "[ingest]\nlisten = :8081\nallow_remote = true\n",
		       "config.ini:2: [ingest] listen ':8081' is not a "
		       "loopback address: set a token (or token_file)");
	assert_int_equal(load(f, "[ingest]\nlisten = [::]:8081\n"
			      "allow_remote = true\ntoken = t\n"), 0);
	/* Metrics may listen anywhere. */
	assert_int_equal(load(f, "[metrics]\nlisten = 10.1.2.3:9464\n"), 0);
	load_one_error(f, "[metrics]\nlisten = nowhere\n",
		       "config.ini:2: [metrics] listen 'nowhere' must be "
		       "HOST:PORT, e.g. 127.0.0.1:8081");
}

static void test_cross_checks(void **state)
{
	struct fixture *f = *state;
	char key[4300], text[9000], want[9000];

	load_one_error(f, "[ship]\nmax_age = 1h\nage_margin = 1h\n",
		       "config.ini:3: [ship] age_margin must be smaller than "
		       "max_age");
	assert_int_equal(load(f, "[ship]\nmax_age = 0\nage_margin = 1d\n"), 0);
	/* Both problems of one key are reported. */
	assert_int_equal(load(f, "[tls]\nkey_file = /nonexistent/k\n"),
			 SPOOLSHIP_EINVAL);
	assert_int_equal((int)f->e.n, 2);
	assert_string_equal(err(f, 0), "config.ini:2: [tls] key_file needs "
			    "cert_file");
	assert_string_equal(err(f, 1), "config.ini:2: [tls] key_file: cannot "
			    "open '/nonexistent/k': No such file or "
			    "directory");
	snprintf(key, sizeof(key), "%s/key.pem", f->dir);
	write_file(key, "k\n", 0644);
	snprintf(text, sizeof(text), "[tls]\ncert_file = %s\nkey_file = %s\n",
		 key, key);
	snprintf(want, sizeof(want), "config.ini:3: [tls] key_file: '%s' is "
		 "accessible by others (mode 0644): chmod 600 or 640 it", key);
	load_one_error(f, text, want);
	assert_int_equal(chmod(key, 0640), 0);
	assert_int_equal(load(f, text), 0);
}

/* A secret from the config, registered with the logger, never reaches a
 * log line; nor does it reach an error message. */
static void test_configured_secret_masked(void **state)
{
	struct fixture *f = *state;
	const char *v[8];
	size_t n = 0;
	struct logger lg;
	char *out = NULL, *s;
	size_t len = 0;
	FILE *fp;

	assert_int_equal(setenv("SPOOLSHIP_T_TOKEN", "tk-9f8e7d6c5b4a", 1),
			 0);
	assert_int_equal(load(f, "[auth]\nmode = apikey\n"
			      "token = ${SPOOLSHIP_T_TOKEN}\n"
			      "api_key = ak-0123456789\n"
			      "[ingest]\ntoken = in-token-42\n"), 0);
	assert_int_equal(config_secrets(&f->c, v, 8, &n), 0);
	assert_int_equal((int)n, 3);
	assert_int_equal(config_secrets(&f->c, v, 2, &n), SPOOLSHIP_EINVAL);
	assert_int_equal(config_secrets(&f->c, v, 8, &n), 0);

	fp = open_memstream(&out, &len);
	assert_non_null(fp);
	assert_int_equal(log_init(&lg, fp), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(log_secret_add(&lg, v[i]), 0);
	log_warn(&lg, "auth failed header=%s/%s status=401 key=%s",
		 f->c.auth.token, f->c.ingest.token, f->c.auth.api_key);
	log_fini(&lg);
	fclose(fp);
	s = out;
	assert_null(strstr(s, "tk-9f8e"));
	assert_null(strstr(s, "ak-0123"));
	assert_null(strstr(s, "in-token"));
	assert_non_null(strstr(s, " warn  auth failed header=***/*** "
			       "status=401 key=***\n"));
	free(out);

	/* A bad secret is reported without its value. */
	assert_int_equal(setenv("SPOOLSHIP_T_TOKEN", "tk-9f8e\n7d6c", 1), 0);
	load_one_error(f, "[auth]\ntoken = ${SPOOLSHIP_T_TOKEN}\n",
		       "config.ini:2: [auth] token holds a control character");
}

/* ---- the example file and the docs -------------------------------------- */

/*
 * Reads config.example.ini the way a person would: ";key = value" lines
 * are the defaults, "key = value" lines are settings, "[x]" and ";[x]"
 * lines open sections.  Every option of the table must appear exactly
 * once as ";key = DEFAULT" in its own section, and no other key at all.
 */
static void test_example_in_sync(void **state)
{
	size_t n;
	const struct config_option *o = config_options(&n);
	int *seen = calloc(n, sizeof(*seen));
	char *text, *line, *save = NULL, sect[300] = "";
	struct config c;
	struct config_errors e;
	int lineno = 0;

	(void)state;
	text = read_all(EXAMPLE);
	assert_non_null(seen);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p = line, *eq, key[64];
		const char *val;
		int dflt = 0, found = -1;

		lineno++;
		if (*p == '#')
			continue;
		if (*p == ';') {
			dflt = 1;
			p++;
		}
		if (*p == '[') {
			char *end = strchr(p, ']');

			assert_non_null(end);
			snprintf(sect, sizeof(sect), "%.*s",
				 (int)(end - p - 1), p + 1);
			if (strncmp(sect, "table ", 6) == 0)
				sect[5] = '\0';
			continue;
		}
		eq = strstr(p, " =");
		if (eq == NULL)
			fail_msg(EXAMPLE ":%d: not a comment, section or "
				 "'key = value': %s", lineno, line);
		snprintf(key, sizeof(key), "%.*s", (int)(eq - p), p);
		val = eq[2] == '\0' ? "" : eq + 3;
		for (size_t i = 0; i < n; i++)
			if (strcmp(o[i].section, sect) == 0 &&
			    strcmp(o[i].key, key) == 0)
				found = (int)i;
		if (found < 0)
			fail_msg(EXAMPLE ":%d: [%s] %s is not in the option "
				 "table", lineno, sect, key);
		if (!dflt)
			continue;
		if (strcmp(val, o[found].def) != 0)
			fail_msg(EXAMPLE ":%d: [%s] %s shows '%s', the "
				 "default is '%s'", lineno, sect, key, val,
				 o[found].def);
		if (seen[found]++)
			fail_msg(EXAMPLE ":%d: [%s] %s shown twice", lineno,
				 sect, key);
	}
	for (size_t i = 0; i < n; i++)
		if (!seen[i])
			fail_msg(EXAMPLE " lacks ;%s = %s in [%s]", o[i].key,
				 o[i].def, o[i].section);
	free(text);
	free(seen);

	/* It is a working file as it stands. */
	assert_int_equal(config_load(EXAMPLE, &c, &e), 0);
	assert_int_equal(config_check_run(&c, &e), 0);
	assert_string_equal(c.ship.url,
			    "http://127.0.0.1:8080/v1/events/{table}");
	config_free(&c);
}

/* Every key of the table has its row in docs/configuration.md. */
static void test_docs_rows(void **state)
{
	size_t n;
	const struct config_option *o = config_options(&n);
	char *docs = read_all(DOCS);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		char row[128];

		snprintf(row, sizeof(row), "| `%s` | ", o[i].key);
		if (strstr(docs, row) == NULL)
			fail_msg(DOCS " has no row for [%s] %s", o[i].section,
				 o[i].key);
	}
	free(docs);
}

/* Each file written from the table is exactly what `make docs` would
 * write (config_doc_render(), which tools/gen-docs.c uses): a changed
 * option cannot leave a stale example, table or man page behind. */
static void test_generated_files_in_sync(void **state)
{
	size_t n, stale = 0;
	const struct config_doc *d = config_docs(&n);

	(void)state;
	assert_int_equal((int)n, 3);
	for (size_t i = 0; i < n; i++) {
		char *old = read_all(d[i].path), *want = NULL, why[512];
		size_t at = 0;

		assert_int_equal(config_doc_render(&d[i], old, &want, why,
						   sizeof(why)), 0);
		while (old[at] != '\0' && old[at] == want[at])
			at++;
		if (old[at] != want[at]) {
			print_error("%s differs from the option table at "
				    "byte %zu (file: '%.40s', table: "
				    "'%.40s')\n", d[i].path, at, old + at,
				    want + at);
			stale++;
		}
		free(old);
		free(want);
	}
	if (stale > 0)
		fail_msg("%zu files differ from the option table "
			 "(src/daemon/config.c): run `make docs`", stale);
}

/* config_doc_render() replaces the generated part only, and says which
 * marker line is missing. */
static void test_doc_render(void **state)
{
	size_t n;
	const struct config_doc *d = config_docs(&n);
	const struct config_doc *md = &d[1];
	char *out = NULL, *want = NULL, why[256] = "";
	char *gen = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&gen, &len);

	(void)state;
	assert_non_null(fp);
	assert_int_equal(config_write_markdown(fp), 0);
	assert_int_equal(fclose(fp), 0);
	assert_string_equal(md->path, DOCS);
	assert_int_equal(config_doc_render(md, "before\n<!-- BEGIN "
					   "config_write_markdown x -->\n"
					   "stale\nrows\n<!-- END "
					   "config_write_markdown -->\nafter"
					   "\n", &out, why, sizeof(why)), 0);
	want = malloc(len + 128);
	assert_non_null(want);
	snprintf(want, len + 128, "before\n<!-- BEGIN config_write_markdown "
		 "x -->\n%s<!-- END config_write_markdown -->\nafter\n", gen);
	assert_string_equal(out, want);
	free(out);
	free(want);
	assert_int_equal(config_doc_render(md, "no markers\n", &out, why,
					   sizeof(why)), SPOOLSHIP_EINVAL);
	assert_string_equal(why, DOCS ": no line holding '<!-- BEGIN "
			    "config_write_markdown'");
	assert_int_equal(config_doc_render(md, "<!-- BEGIN "
					   "config_write_markdown -->\nx\n",
					   &out, why, sizeof(why)),
			 SPOOLSHIP_EINVAL);
	assert_string_equal(why, DOCS ": no line starting '<!-- END "
			    "config_write_markdown -->' after '<!-- BEGIN "
			    "config_write_markdown'");
	/* The example is written whole. */
	assert_int_equal(config_doc_render(&d[0], "anything\n", &out, why,
					   sizeof(why)), 0);
	assert_int_equal(strncmp(out, "# config.example.ini", 20), 0);
	free(out);
	free(gen);
}

/* A relative file name in the file is taken from the file's directory,
 * made absolute; the default spool path from the working directory. */
static void test_relative_paths(void **state)
{
	struct fixture *f = *state;
	char *dir = realpath(f->dir, NULL), *cwd = realpath(".", NULL);
	char want[4400];

	assert_non_null(dir);
	assert_non_null(cwd);
	assert_int_equal(load(f, "[spool]\npath = ././/sp\n"
			      "[run]\npid_file = run/x.pid\n"), 0);
	snprintf(want, sizeof(want), "%s/sp", dir);
	assert_string_equal(f->c.spool.path, want);
	snprintf(want, sizeof(want), "%s/run/x.pid", dir);
	assert_string_equal(f->c.run.pid_file, want);
	assert_int_equal(load(f, "[spool]\npath = .\n"), 0);
	assert_string_equal(f->c.spool.path, dir);
	assert_int_equal(load(f, "[spool]\npath = /abs/sp\n"), 0);
	assert_string_equal(f->c.spool.path, "/abs/sp");
	assert_string_equal(f->c.run.pid_file, "");
	assert_int_equal(load(f, "[spool]\nsync = full\n"), 0);
	snprintf(want, sizeof(want), "%s/spool", cwd);
	assert_string_equal(f->c.spool.path, want);
	free(dir);
	free(cwd);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test(test_parse_int),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_table_sane),
		cmocka_unit_test(test_enum_lists_shared),
		T(test_load_values),
		T(test_ranges_and_enums),
		T(test_env_expansion),
		T(test_unknown_names),
		T(test_syntax_errors),
		T(test_many_errors_collected),
		T(test_missing_file),
		T(test_url_checks),
		T(test_tables_and_url_for),
		T(test_secret_files),
		T(test_auth_rules),
		T(test_listen_rules),
		T(test_cross_checks),
		T(test_configured_secret_masked),
		T(test_relative_paths),
		cmocka_unit_test(test_example_in_sync),
		cmocka_unit_test(test_docs_rows),
		cmocka_unit_test(test_generated_files_in_sync),
		cmocka_unit_test(test_doc_render),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
