/*
 * test_log.c - unit tests of log.c: the exact text and JSON lines, level
 * filtering, splitting of the key=value tail, and above all that no
 * registered secret or Bearer/Basic credential is ever written.
 */
#include "testutil.h"

#include <pthread.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "spoolship.h"

#define T_MS   INT64_C(1795640400123) /* 2026-11-25T21:00:00.123Z */
#define T_TEXT "2026-11-25T21:00:00.123Z"

static int64_t fixed_clock(void)
{
	return T_MS;
}

/* A logger writing into memory, with the clock pinned. */
struct cap {
	struct logger lg;
	FILE *f;
	char *buf;
	size_t len;
};

static int cap_setup(void **state)
{
	struct cap *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
	assert_int_equal(log_init(&c->lg, c->f), 0);
	c->lg.now_ms = fixed_clock;
	*state = c;
	return 0;
}

static int cap_teardown(void **state)
{
	struct cap *c = *state;

	log_fini(&c->lg);
	fclose(c->f);
	free(c->buf);
	free(c);
	return 0;
}

/* Everything written so far, then forgets it. */
static char *taken(struct cap *c)
{
	static char out[65536];

	fflush(c->f);
	assert_true(c->len < sizeof(out));
	memcpy(out, c->buf, c->len);
	out[c->len] = '\0';
	rewind(c->f);
	fflush(c->f);
	c->len = 0;
	return out;
}

/* The one JSON line written so far, parsed. */
static cJSON *json_line(struct cap *c)
{
	char *s = taken(c);
	size_t n = strlen(s);
	cJSON *o;

	assert_true(n > 0 && s[n - 1] == '\n');
	assert_null(memchr(s, '\n', n - 1));
	o = cJSON_Parse(s);
	assert_non_null(o);
	return o;
}

static const char *jstr(cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static void test_level_names(void **state)
{
	static const char *const names[] = { "debug", "info", "warn",
					     "error" };
	int v = -1, json = -1;

	(void)state;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(log_level_parse(names[i], &v), 0);
		assert_int_equal(v, i);
		assert_string_equal(log_level_name(i), names[i]);
	}
	assert_int_equal(log_level_parse("warning", &v), SPOOLSHIP_EINVAL);
	assert_int_equal(log_level_parse("INFO", &v), SPOOLSHIP_EINVAL);
	assert_int_equal(log_level_parse(NULL, &v), SPOOLSHIP_EINVAL);
	assert_string_equal(log_level_name(42), "error");
	assert_int_equal(log_format_parse("text", &json), 0);
	assert_int_equal(json, 0);
	assert_int_equal(log_format_parse("json", &json), 0);
	assert_int_equal(json, 1);
	assert_int_equal(log_format_parse("logfmt", &json), SPOOLSHIP_EINVAL);
}

static void test_text_line(void **state)
{
	struct cap *c = *state;

	log_warn(&c->lg, "batch failed table=%s status=%d events=%d",
		 "clicks", 503, 60);
	assert_string_equal(taken(c), T_TEXT " warn  batch failed "
			    "table=clicks status=503 events=60\n");
	log_error(&c->lg, "spool full");
	assert_string_equal(taken(c), T_TEXT " error spool full\n");
	log_info(&c->lg, "started");
	assert_string_equal(taken(c), T_TEXT " info  started\n");
	/* A line that is only a tail. */
	log_info(&c->lg, "a=1 b=2");
	assert_string_equal(taken(c), T_TEXT " info  a=1 b=2\n");
}

static void test_levels_filter(void **state)
{
	struct cap *c = *state;

	log_debug(&c->lg, "hidden");
	assert_string_equal(taken(c), "");
	log_configure(&c->lg, LOG_LVL_ERROR, 0);
	log_warn(&c->lg, "hidden too");
	assert_string_equal(taken(c), "");
	log_error(&c->lg, "shown");
	assert_string_equal(taken(c), T_TEXT " error shown\n");
	log_configure(&c->lg, LOG_LVL_DEBUG, 0);
	log_debug(&c->lg, "now shown");
	assert_string_equal(taken(c), T_TEXT " debug now shown\n");
	/* A NULL logger discards. */
	log_error(NULL, "nowhere");
}

static void test_tail_values(void **state)
{
	struct cap *c = *state;
	cJSON *o;

	/* A value runs to the next key=: it may hold spaces. */
	log_warn(&c->lg, "send failed err=%s table=t", "connection refused");
	assert_string_equal(taken(c), T_TEXT " warn  send failed "
			    "err=\"connection refused\" table=t\n");
	/* '=' inside a value is not a new key. */
	log_info(&c->lg, "x url=http://h/p?a=b&c=d n=1");
	assert_string_equal(taken(c), T_TEXT " info  x "
			    "url=\"http://h/p?a=b&c=d\" n=1\n");
	log_configure(&c->lg, LOG_LVL_INFO, 1);
	log_warn(&c->lg, "send failed err=%s table=t", "connection refused");
	o = json_line(c);
	assert_string_equal(jstr(o, "ts"), T_TEXT);
	assert_string_equal(jstr(o, "level"), "warn");
	assert_string_equal(jstr(o, "msg"), "send failed");
	assert_string_equal(jstr(o, "err"), "connection refused");
	assert_string_equal(jstr(o, "table"), "t");
	assert_int_equal(cJSON_GetArraySize(o), 5);
	cJSON_Delete(o);
	/* Keys that collide keep their values. */
	log_info(&c->lg, "m msg=a level=b msg=c");
	o = json_line(c);
	assert_string_equal(jstr(o, "msg"), "m");
	assert_string_equal(jstr(o, "_msg"), "a");
	assert_string_equal(jstr(o, "_level"), "b");
	assert_string_equal(jstr(o, "__msg"), "c");
	cJSON_Delete(o);
}

static void test_quote_roundtrip(void **state)
{
	struct cap *c = *state;
	const char *body = "{\"message\": \"bad\\n\"}\nline 2 a=b";
	char q[256], small[8];
	cJSON *o;

	assert_int_equal(log_quote("plain", q, sizeof(q)), 0);
	assert_string_equal(q, "plain");
	assert_int_equal(log_quote("", q, sizeof(q)), 0);
	assert_string_equal(q, "\"\"");
	assert_int_equal(log_quote("a b", q, sizeof(q)), 0);
	assert_string_equal(q, "\"a b\"");
	assert_int_equal(log_quote(body, q, sizeof(q)), 0);
	assert_string_equal(q, "\"{\\\"message\\\": \\\"bad\\\\n\\\"}\\nline "
			    "2 a=b\"");
	assert_int_equal(log_quote("abcdefghijk", small, sizeof(small)),
			 SPOOLSHIP_EINVAL);
	assert_int_equal(log_quote("a bcdefghijk", small, sizeof(small)),
			 SPOOLSHIP_EINVAL);
	assert_string_equal(small, "\"a bcd\"");

	log_quote(body, q, sizeof(q));
	log_warn(&c->lg, "batch rejected body=%s status=400", q);
	assert_string_equal(taken(c), T_TEXT " warn  batch rejected body="
			    "\"{\\\"message\\\": \\\"bad\\\\n\\\"}\\nline "
			    "2 a=b\" status=400\n");
	log_configure(&c->lg, LOG_LVL_INFO, 1);
	log_warn(&c->lg, "batch rejected body=%s status=400", q);
	o = json_line(c);
	assert_string_equal(jstr(o, "body"), body);
	assert_string_equal(jstr(o, "status"), "400");
	cJSON_Delete(o);
}

static void test_one_line_per_event(void **state)
{
	struct cap *c = *state;
	char bad[] = { 'a', (char)0xff, 'b', '\0' };
	cJSON *o;

	log_info(&c->lg, "two\nlines\r\tand\x01 more");
	assert_string_equal(taken(c), T_TEXT " info  two\\nlines\\r\\tand"
			    "\\x01 more\n");
	log_configure(&c->lg, LOG_LVL_INFO, 1);
	log_info(&c->lg, "two\nlines v=%s", bad);
	o = json_line(c);
	assert_string_equal(jstr(o, "msg"), "two\nlines");
	assert_string_equal(jstr(o, "v"), "a?b");
	cJSON_Delete(o);
}

static void test_secret_masked(void **state)
{
	struct cap *c = *state;
	const char *tok = "s3cr3t-T0ken-value";
	cJSON *o;
	char *s;

	assert_int_equal(log_secret_add(&c->lg, tok), 0);
	assert_int_equal(log_secret_add(&c->lg, ""), 0); /* ignored */
	log_warn(&c->lg, "got %s back status=401 header=x-%s-y", tok, tok);
	s = taken(c);
	assert_null(strstr(s, "s3cr3t"));
	assert_string_equal(s, T_TEXT " warn  got *** back status=401 "
			    "header=x-***-y\n");
	log_configure(&c->lg, LOG_LVL_INFO, 1);
	log_warn(&c->lg, "got %s back v=%s", tok, tok);
	o = json_line(c);
	assert_string_equal(jstr(o, "msg"), "got *** back");
	assert_string_equal(jstr(o, "v"), "***");
	cJSON_Delete(o);
	/* After clearing, nothing is masked any more. */
	log_secrets_clear(&c->lg);
	log_configure(&c->lg, LOG_LVL_INFO, 0);
	log_info(&c->lg, "v=%s", tok);
	assert_string_equal(taken(c), T_TEXT " info  v=s3cr3t-T0ken-value\n");
}

static void test_secrets_set(void **state)
{
	struct cap *c = *state;
	const char *const first[] = { "old-secret-1", "", NULL };
	const char *const second[] = { "new", "new-secret-22" };
	char *s;

	assert_int_equal(log_secrets_set(&c->lg, first, 2), 0);
	assert_int_equal((int)c->lg.nsecrets, 1);
	log_info(&c->lg, "a=old-secret-1 b=new-secret-22");
	assert_string_equal(taken(c), T_TEXT " info  a=*** b=new-secret-22\n");
	/* The new list replaces the old one, longest first. */
	assert_int_equal(log_secrets_set(&c->lg, second, 2), 0);
	log_info(&c->lg, "a=old-secret-1 b=new-secret-22 c=new");
	s = taken(c);
	assert_string_equal(s, T_TEXT " info  a=old-secret-1 b=*** c=***\n");
	assert_int_equal(log_secrets_set(&c->lg, NULL, 0), 0);
	assert_int_equal((int)c->lg.nsecrets, 0);
}

static void test_secret_longest_first(void **state)
{
	struct cap *c = *state;

	assert_int_equal(log_secret_add(&c->lg, "abc"), 0);
	assert_int_equal(log_secret_add(&c->lg, "abcdef"), 0);
	assert_int_equal(log_secret_add(&c->lg, "abcd"), 0);
	log_info(&c->lg, "x abcdefg abcx");
	assert_string_equal(taken(c), T_TEXT " info  x ***g ***x\n");
}

static void test_secret_rules(void **state)
{
	struct cap *c = *state;
	char *s;

	log_info(&c->lg, "x token=abc client_secret=def access-token=ghi "
		 "Api_Key=jkl token_url=https://id/t token_file=/run/t");
	assert_string_equal(taken(c), T_TEXT " info  x token=*** "
			    "client_secret=*** access-token=*** Api_Key=*** "
			    "token_url=https://id/t token_file=/run/t\n");
	log_info(&c->lg, "sent Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30."
		 "abc and basic auth failed");
	s = taken(c);
	assert_null(strstr(s, "eyJ"));
	assert_string_equal(s, T_TEXT " info  sent Authorization: Bearer "
			    "*** and basic auth failed\n");
	log_info(&c->lg, "h=\"Basic a2V5OjEyMzQ1Njc4\" n=1");
	assert_string_equal(taken(c), T_TEXT " info  h=\"Basic ***\" n=1\n");
}

static void test_redact_buffer(void **state)
{
	struct cap *c = *state;
	char out[12];

	assert_int_equal(log_secret_add(&c->lg, "hunter2hunter2"), 0);
	assert_int_equal(log_redact(&c->lg, "pw hunter2hunter2 end", out,
				    sizeof(out)), 0);
	assert_string_equal(out, "pw *** end");
	/* The cut comes after masking: no prefix of the secret survives. */
	assert_int_equal(log_redact(&c->lg, "abcdefgh hunter2hunter2", out,
				    sizeof(out)), 0);
	assert_string_equal(out, "abcdefgh **");
	assert_null(strstr(out, "hun"));
}

static void test_long_line_cut(void **state)
{
	struct cap *c = *state;
	size_t n = LOG_LINE_MAX + 5000;
	char *big = malloc(n + 1), *s;

	assert_non_null(big);
	memset(big, 'x', n);
	/* A secret right across the cut is still masked whole. */
	memcpy(big + LOG_LINE_MAX - 4, "SECRETVALUE", 11);
	big[n] = '\0';
	assert_int_equal(log_secret_add(&c->lg, "SECRETVALUE"), 0);
	log_info(&c->lg, "big %s", big);
	s = taken(c);
	assert_null(strstr(s, "SECR"));
	assert_true(strlen(s) < LOG_LINE_MAX + 64);
	assert_non_null(strstr(s, "...\n"));
	free(big);
}

struct thr {
	struct logger *lg;
	int id;
};

static void *spam(void *arg)
{
	struct thr *t = arg;

	for (int i = 0; i < 300; i++)
		log_info(t->lg, "line thread=%d i=%d pad=%s", t->id, i,
			 "0123456789012345678901234567890123456789");
	return NULL;
}

static void test_threads_whole_lines(void **state)
{
	struct cap *c = *state;
	pthread_t th[4];
	struct thr a[4];
	char *s, *line, *save = NULL;
	int n = 0;

	log_configure(&c->lg, LOG_LVL_INFO, 1);
	for (int i = 0; i < 4; i++) {
		a[i].lg = &c->lg;
		a[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, spam, &a[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	fflush(c->f);
	s = malloc(c->len + 1);
	assert_non_null(s);
	memcpy(s, c->buf, c->len);
	s[c->len] = '\0';
	for (line = strtok_r(s, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(line);

		assert_non_null(o);
		assert_string_equal(jstr(o, "msg"), "line");
		cJSON_Delete(o);
		n++;
	}
	assert_int_equal(n, 1200);
	free(s);
}

/* A destination as logged: scheme, host, port (the default one too) and
 * path; never a user, a password, a query or a fragment. */
static void test_url_dest(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(log_url_dest("https://u:pw@api.example.com/v1/"
				      "events/t?sig=SECRET#frag", out,
				      sizeof(out)), 0);
	assert_string_equal(out, "https://api.example.com:443/v1/events/t");
	assert_int_equal(log_url_dest("http://127.0.0.1:9/v1/events/t", out,
				      sizeof(out)), 0);
	assert_string_equal(out, "http://127.0.0.1:9/v1/events/t");
	assert_int_equal(log_url_dest("http://[::1]:8080/x", out,
				      sizeof(out)), 0);
	assert_string_equal(out, "http://[::1]:8080/x");
	/* The url template of the start line. */
	assert_int_equal(log_url_dest("http://h/v1/events/{table}?k=v", out,
				      sizeof(out)), 0);
	assert_string_equal(out, "http://h:80/v1/events/{table}");
	assert_int_equal(log_url_dest("not a url", out, sizeof(out)),
			 SPOOLSHIP_EINVAL);
	assert_string_equal(out, "-");
	assert_int_equal(log_url_dest("http://host/long/path", out, 12),
			 SPOOLSHIP_EINVAL);
	assert_true(strlen(out) < 12);
}

/* The token bucket: burst lines at once, then one a period/burst; what
 * was held back is counted and handed to the next line let through, and
 * a summary (only_held) goes only when something was held back. */
static void test_limit(void **state)
{
	struct log_limit l;
	uint64_t held = 99;
	int64_t t = 1000;

	(void)state;
	assert_int_equal(log_limit_init(&l, 3, 3000), 0);
	l.last_ms = t;
	assert_int_equal(log_limit_take(&l, t, 1, &held), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(log_limit_take(&l, t, 0, &held), 1);
		assert_int_equal(held, 0);
	}
	for (int i = 0; i < 1000; i++)
		assert_int_equal(log_limit_take(&l, t + 10, 0, &held), 0);
	/* One token a second comes back. */
	assert_int_equal(log_limit_take(&l, t + 500, 1, &held), 0);
	assert_int_equal(log_limit_take(&l, t + 1000, 1, &held), 1);
	assert_int_equal(held, 1000);
	assert_int_equal(log_limit_take(&l, t + 5000, 1, &held), 0);
	assert_int_equal(log_limit_take(&l, t + 5000, 0, &held), 1);
	assert_int_equal(held, 0);
	log_limit_fini(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_names),
		cmocka_unit_test_setup_teardown(test_text_line, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup_teardown(test_levels_filter, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup_teardown(test_tail_values, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup_teardown(test_quote_roundtrip,
						cap_setup, cap_teardown),
		cmocka_unit_test_setup_teardown(test_one_line_per_event,
						cap_setup, cap_teardown),
		cmocka_unit_test_setup_teardown(test_secret_masked, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup_teardown(test_secrets_set, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup_teardown(test_secret_longest_first,
						cap_setup, cap_teardown),
		cmocka_unit_test_setup_teardown(test_secret_rules, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup_teardown(test_redact_buffer, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup_teardown(test_long_line_cut, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup_teardown(test_threads_whole_lines,
						cap_setup, cap_teardown),
		cmocka_unit_test(test_url_dest),
		cmocka_unit_test(test_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
