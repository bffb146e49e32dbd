/*
 * test_validate.c - unit tests of validate.c: what the door accepts, the
 * exact bytes it stores, and why it refuses the rest.  Inputs and outputs
 * live in exact-size heap buffers so ASan catches any read or write past
 * them.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spoolship.h"
#include "validate.h"

#define NOW_MS   INT64_C(1710072000000)  /* 2024-03-10T12:00:00.000Z */
#define DAY_MS   INT64_C(86400000)
#define MIN_MS   INT64_C(-62167219200000) /* 0000-01-01T00:00:00.000Z */
#define MAX_MS   INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */
#define T_NOW    "2024-03-10T12:00:00.000Z"

/* The result of one validate_event() call, copied out of the heap. */
struct res {
	int rc;
	char out[2048];
	size_t outlen;
	int64_t ms;
	char err[256];
};

static struct validate_opts opts(void)
{
	struct validate_opts o = { NOW_MS, 7 * DAY_MS, 0,
				   SPOOLSHIP_MAX_EVENT_BYTES };
	return o;
}

static struct res run_n(const char *in, size_t len,
			const struct validate_opts *o)
{
	struct res r;
	char *copy = malloc(len ? len : 1);
	size_t cap = len + VALIDATE_SLACK;
	char *out = malloc(cap);

	memset(&r, 0, sizeof(r));
	assert_non_null(copy);
	assert_non_null(out);
	assert_true(cap <= sizeof(r.out));
	memcpy(copy, in, len);
	r.outlen = (size_t)-1;
	r.rc = validate_event(copy, len, o, out, cap, &r.outlen, &r.ms,
			      r.err, sizeof(r.err));
	if (r.rc == 0)
		memcpy(r.out, out, r.outlen);
	free(copy);
	free(out);
	return r;
}

static struct res run_o(const char *in, const struct validate_opts *o)
{
	return run_n(in, strlen(in), o);
}

static struct res run(const char *in)
{
	struct validate_opts o = opts();

	return run_o(in, &o);
}

static void check_ok(const struct res *r, const char *in, const char *want)
{
	if (r->rc != 0)
		fail_msg("'%s': rc %d (%s)", in, r->rc, r->err);
	if (r->outlen != strlen(want) || memcmp(r->out, want, r->outlen))
		fail_msg("'%s':\n got  '%.*s'\n want '%s'", in,
			 (int)r->outlen, r->out, want);
}

static void expect_ok(const char *in, const char *want)
{
	struct res r = run(in);

	check_ok(&r, in, want);
}

static void check_fail(const struct res *r, const char *in, int code,
		       const char *msg)
{
	if (r->rc != code)
		fail_msg("'%s': rc %d, want %d (%s)", in, r->rc, code,
			 r->err);
	if (msg != NULL && strstr(r->err, msg) == NULL)
		fail_msg("'%s': message '%s' lacks '%s'", in, r->err, msg);
}

static void expect_fail(const char *in, int code, const char *msg)
{
	struct res r = run(in);

	check_fail(&r, in, code, msg);
}

static void expect_fail_n(const char *in, size_t len, int code,
			  const char *msg)
{
	struct validate_opts o = opts();
	struct res r = run_n(in, len, &o);

	check_fail(&r, in, code, msg);
}

/* ---- accepted events ------------------------------------------------ */

static void test_valid_event_minified(void **state)
{
	struct res r = run("  { \"__time\" : \"2024-03-10T11:00:00.000Z\" ,\n"
			   "\t\"a\" : [ 1 , 2 , { } ] ,\r\n \"b\" : { \"c\" :"
			   " null , \"d\" : true , \"e\" : false } }\n");

	(void)state;
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.ms, NOW_MS - 3600000);
	check_ok(&r, "valid",
		 "{\"__time\":\"2024-03-10T11:00:00.000Z\",\"a\":[1,2,{}],"
		 "\"b\":{\"c\":null,\"d\":true,\"e\":false}}");
}

static void test_whitespace_in_strings_kept(void **state)
{
	(void)state;
	expect_ok("{\"__time\":\"2024-03-10\", \"m\" : \"  a \\t b , } \","
		  " \"k y\" : \"say \\\" hi \\\\\" , \"x\":\" [ { \"}",
		  "{\"__time\":\"2024-03-10T00:00:00.000Z\","
		  "\"m\":\"  a \\t b , } \",\"k y\":\"say \\\" hi \\\\\","
		  "\"x\":\" [ { \"}");
}

static void test_numbers_and_escapes_kept(void **state)
{
	(void)state;
	expect_ok("{\"n\": 9007199254740993, \"s\": \"caf\\u00e9\\u00E9\","
		  " \"f\": 1.10, \"e\": -0.5E+02, \"z\": 0, \"p\": \"\\/\","
		  " \"__time\": \"2024-03-10T11:00:00.000Z\","
		  " \"u\": \"\\ud83d\\ude00 \xc3\xa9\xe2\x82\xac"
		  "\xf0\x9f\x98\x80\"}",
		  "{\"n\":9007199254740993,\"s\":\"caf\\u00e9\\u00E9\","
		  "\"f\":1.10,\"e\":-0.5E+02,\"z\":0,\"p\":\"\\/\","
		  "\"__time\":\"2024-03-10T11:00:00.000Z\","
		  "\"u\":\"\\ud83d\\ude00 \xc3\xa9\xe2\x82\xac"
		  "\xf0\x9f\x98\x80\"}");
}

static void test_leading_bom_dropped(void **state)
{
	(void)state;
	expect_ok("\xef\xbb\xbf{\"__time\":\"2024-03-10\"}",
		  "{\"__time\":\"2024-03-10T00:00:00.000Z\"}");
}

/* ---- __time normalisation --------------------------------------------- */

static const struct {
	const char *in, *want;
} norm_cases[] = {
	{ "2024-03-10T11:00:00.000Z", "2024-03-10T11:00:00.000Z" },
	{ "2024-03-10T13:00:00+02:00", "2024-03-10T11:00:00.000Z" },
	{ "2024-03-10T05:30:00-0530", "2024-03-10T11:00:00.000Z" },
	{ "2024-03-10T16:00:00+05", "2024-03-10T11:00:00.000Z" },
	{ "2024-03-10T11:00:00-00:00", "2024-03-10T11:00:00.000Z" },
	{ "2024-03-10T11:00:00", "2024-03-10T11:00:00.000Z" },
	{ "2024-03-10T11:00", "2024-03-10T11:00:00.000Z" },
	{ "2024-03-10T11:00Z", "2024-03-10T11:00:00.000Z" },
	{ "2024-03-10", "2024-03-10T00:00:00.000Z" },
	{ "2024-03-10t11:00:00z", "2024-03-10T11:00:00.000Z" },
	{ "2024-03-10 11:00:00Z", "2024-03-10T11:00:00.000Z" },
	{ "2024-03-10T11:00:00Z", "2024-03-10T11:00:00.000Z" },
	{ "2024-03-10T11:00:00.1Z", "2024-03-10T11:00:00.100Z" },
	{ "2024-03-10T11:00:00.12Z", "2024-03-10T11:00:00.120Z" },
	{ "2024-03-10T11:00:00.123Z", "2024-03-10T11:00:00.123Z" },
	{ "2024-03-10T11:00:00.1234Z", "2024-03-10T11:00:00.123Z" },
	{ "2024-03-10T11:00:00.12345Z", "2024-03-10T11:00:00.123Z" },
	{ "2024-03-10T11:00:00.123456Z", "2024-03-10T11:00:00.123Z" },
	{ "2024-03-10T11:00:00.1234567Z", "2024-03-10T11:00:00.123Z" },
	{ "2024-03-10T11:00:00.12345678Z", "2024-03-10T11:00:00.123Z" },
	{ "2024-03-10T11:00:00.123456789Z", "2024-03-10T11:00:00.123Z" },
	/* truncation, never rounding into the next day */
	{ "2024-03-09T23:59:59.999999999Z", "2024-03-09T23:59:59.999Z" },
	{ "2024-03-10T11:00:00.5+01:00", "2024-03-10T10:00:00.500Z" },
	{ "2024-03-01T01:00:00+02:00", "2024-02-29T23:00:00.000Z" },
	{ "2024-02-29", "2024-02-29T00:00:00.000Z" },
	{ "2024-02-28T23:00:00-01:00", "2024-02-29T00:00:00.000Z" },
	{ "2023-12-31T23:30:00-01:00", "2024-01-01T00:30:00.000Z" },
};

static void test_time_normalised(void **state)
{
	struct validate_opts o = opts();
	char in[128], want[128];
	struct res r;
	size_t i;

	(void)state;
	o.max_age_ms = 0;
	for (i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
		snprintf(in, sizeof(in),
			 "{\"a\":1,\"__time\":\"%s\",\"z\":[]}",
			 norm_cases[i].in);
		snprintf(want, sizeof(want),
			 "{\"a\":1,\"__time\":\"%s\",\"z\":[]}",
			 norm_cases[i].want);
		r = run_o(in, &o);
		check_ok(&r, in, want);
	}
}

static void test_time_normalised_event_ms(void **state)
{
	struct res r = run("{\"__time\":\"2024-03-10T13:00:00.250+02:00\"}");

	(void)state;
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.ms, NOW_MS - 3600000 + 250);
}

static const char *const bad_times[] = {
	"2023-02-29", "2100-02-29", "2024-13-01", "2024-00-10", "2024-03-00",
	"2024-03-32", "2024-04-31", "2024-03-10T24:00:00Z",
	"2024-03-10T23:60:00Z", "2024-03-10T23:59:60Z",
	"2024-03-10T11:00:00Zjunk", "2024-03-10T11:00:00Z ",
	"2024-03-10T11:00:00 Z", "2024-03-10T11:00:00+02:0",
	"2024-03-10T11:00:00+02:", "2024-03-10T11:00:00+2",
	"2024-03-10T11:00:00+",
	"2024-03-10T11:00:00+24:00", "2024-03-10T11:00:00+02:60",
	"2024-03-10T11:00:00+02:00:00", "2024-03-10T11:00:00.",
	"2024-03-10T11:00:00.Z", "2024-03-10T11:00.5Z", "2024-03-10T11",
	"2024-03-10T1:00", "2024-03-10T", "2024-03-10Z", "2024-03-10  11:00",
	"2024-03-10_11:00", "2024-3-10", "24-03-10", "+2024-03-10",
	" 2024-03-10", "2024/03/10", "", "now", "1710072000000",
	"2024-03-10T11:00:00\\u005a", "\\u0032024-03-10",
};

static void test_time_rejected(void **state)
{
	struct validate_opts o = opts();
	char in[128];
	struct res r;
	size_t i;

	(void)state;
	o.max_age_ms = 0;
	for (i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
		snprintf(in, sizeof(in), "{\"__time\":\"%s\"}", bad_times[i]);
		r = run_o(in, &o);
		check_fail(&r, in, SPOOLSHIP_EBADTIME,
			   "is not an ISO-8601 time");
	}
}

static void test_time_rejected_message(void **state)
{
	struct res r = run("{\"__time\":\"2022-13-01\"}");

	(void)state;
	assert_int_equal(r.rc, SPOOLSHIP_EBADTIME);
	assert_string_equal(r.err,
			    "__time '2022-13-01' is not an ISO-8601 time");
}

static void test_long_bad_time_quoted_short(void **state)
{
	char in[512];
	struct res r;
	char *p;
	int i;

	(void)state;
	/* 2-byte characters after one ASCII byte: QUOTE_MAX lands inside
	 * one, and the cut must fall between them */
	p = in + snprintf(in, sizeof(in), "{\"__time\":\"x");
	for (i = 0; i < 36; i++)
		p += snprintf(p, 3, "\xc3\xa9");
	snprintf(p, 3, "\"}");
	r = run(in);
	assert_int_equal(r.rc, SPOOLSHIP_EBADTIME);
	assert_non_null(strstr(r.err, "...' is not"));
	assert_true(strlen(r.err) < 120);
	assert_true(validate_utf8(r.err, strlen(r.err)));
}

static void test_numeric_time(void **state)
{
	(void)state;
	expect_fail("{\"__time\":1710072000000}", SPOOLSHIP_EBADTIME,
		    "__time is a number, an ISO-8601 string expected");
	expect_fail("{\"__time\":null}", SPOOLSHIP_EBADTIME,
		    "must be an ISO-8601 string");
	expect_fail("{\"__time\":{\"t\":\"2024-03-10\"}}", SPOOLSHIP_EBADTIME,
		    "must be an ISO-8601 string");
	expect_fail("{\"__time\":[\"2024-03-10\"]}", SPOOLSHIP_EBADTIME,
		    "must be an ISO-8601 string");
	expect_fail("{\"__time\":true}", SPOOLSHIP_EBADTIME,
		    "must be an ISO-8601 string");
}

static void test_unparseable_time(void **state)
{
	struct res r = run("{\"__time\":\"yesterday\",\"a\":1}");

	(void)state;
	assert_int_equal(r.rc, SPOOLSHIP_EBADTIME);
	assert_string_equal(r.err,
			    "__time 'yesterday' is not an ISO-8601 time");
}

/* Only the top-level key counts; the same bytes elsewhere are data. */
static void test_time_found_only_at_top_level(void **state)
{
	(void)state;
	expect_ok("{\"a\":{\"__time\":\"x\"},\"k\":\"__time\","
		  "\"l\":[\"__time\",{\"__time\":1}],"
		  "\"__time\":\"2024-03-10\","
		  "\"m\":\"\\\"__time\\\"\"}",
		  "{\"a\":{\"__time\":\"x\"},\"k\":\"__time\","
		  "\"l\":[\"__time\",{\"__time\":1}],"
		  "\"__time\":\"2024-03-10T00:00:00.000Z\","
		  "\"m\":\"\\\"__time\\\"\"}");
	expect_fail("{\"a\":{\"__time\":\"2024-03-10\"}}", SPOOLSHIP_ENOTIME,
		    "missing __time");
	expect_fail("{\"__time\":{\"__time\":\"2024-03-10\"}}",
		    SPOOLSHIP_EBADTIME, "must be an ISO-8601 string");
}

static void test_duplicate_time(void **state)
{
	(void)state;
	expect_fail("{\"__time\":\"2024-03-10\",\"__time\":\"2024-03-10\"}",
		    SPOOLSHIP_EBADTIME, "duplicate __time key");
	expect_fail("{\"__time\":\"2024-03-10\",\"a\":1,\"__time\":5}",
		    SPOOLSHIP_EBADTIME, "duplicate __time key");
	/* one written plainly, one with an escape: still two */
	expect_fail("{\"__time\":\"2024-03-10\",\"\\u005f_time\":\"x\"}",
		    SPOOLSHIP_EBADTIME, "duplicate __time key");
}

static void test_escaped_time_key(void **state)
{
	(void)state;
	expect_fail("{\"\\u005f_time\":\"2024-03-10\"}", SPOOLSHIP_EBADTIME,
		    "__time key is written with escapes");
	expect_fail("{\"_\\u005ftime\":\"2024-03-10\",\"a\":1}",
		    SPOOLSHIP_EBADTIME, "written with escapes");
}

/* ---- missing __time and fill_time -------------------------------------- */

static void test_missing_time(void **state)
{
	struct res r = run("{\"a\":1}");

	(void)state;
	assert_int_equal(r.rc, SPOOLSHIP_ENOTIME);
	assert_string_equal(r.err, "missing __time (add it, or use "
			    "--fill-time / [spool] fill_time)");
	expect_fail("{}", SPOOLSHIP_ENOTIME, "missing __time");
	expect_fail("{\"__Time\":\"2024-03-10\"}", SPOOLSHIP_ENOTIME, NULL);
}

static void test_fill_time_empty_object(void **state)
{
	struct validate_opts o = opts();
	struct res r;

	(void)state;
	o.fill_time = 1;
	r = run_o("{}", &o);
	assert_int_equal(r.ms, NOW_MS);
	check_ok(&r, "{}", "{\"__time\":\"" T_NOW "\"}");
	r = run_o(" {\n} \n", &o);
	check_ok(&r, " {\\n} ", "{\"__time\":\"" T_NOW "\"}");
}

static void test_fill_time_with_members(void **state)
{
	struct validate_opts o = opts();
	struct res r;

	(void)state;
	o.fill_time = 1;
	r = run_o("{ \"a\" : 1 , \"b\" : { \"__time\" : 2 } }", &o);
	assert_int_equal(r.ms, NOW_MS);
	check_ok(&r, "members",
		 "{\"__time\":\"" T_NOW "\",\"a\":1,\"b\":{\"__time\":2}}");
}

static void test_fill_time_keeps_given_time(void **state)
{
	struct validate_opts o = opts();
	struct res r;

	(void)state;
	o.fill_time = 1;
	r = run_o("{\"__time\":\"2024-03-10T10:00:00Z\"}", &o);
	assert_int_equal(r.ms, NOW_MS - 2 * 3600000);
	check_ok(&r, "given", "{\"__time\":\"2024-03-10T10:00:00.000Z\"}");
	/* fill_time fills a missing time; it does not excuse a bad one */
	r = run_o("{\"__time\":\"soon\"}", &o);
	check_fail(&r, "bad", SPOOLSHIP_EBADTIME, NULL);
	r = run_o("{\"__time\":null}", &o);
	check_fail(&r, "null", SPOOLSHIP_EBADTIME, NULL);
}

/* ---- age and size ----------------------------------------------------- */

static void test_too_old(void **state)
{
	struct validate_opts o = opts();
	struct res r;

	(void)state;
	r = run("{\"__time\":\"2024-03-03T11:59:59.999Z\"}");
	assert_int_equal(r.rc, SPOOLSHIP_ETOOOLD);
	assert_string_equal(r.err, "__time 2024-03-03T11:59:59.999Z is older "
			    "than the age window of 7d (max_age less "
			    "age_margin)");
	/* the edge of the window is still in it */
	r = run("{\"__time\":\"2024-03-03T12:00:00Z\"}");
	assert_int_equal(r.rc, 0);
	/* the offset counts: 13:30+02:00 is 11:30Z */
	o.max_age_ms = 36 * 3600000;
	r = run_o("{\"__time\":\"2024-03-09T01:30:00+02:00\"}", &o);
	assert_int_equal(r.rc, SPOOLSHIP_ETOOOLD);
	assert_string_equal(r.err, "__time 2024-03-08T23:30:00.000Z is older "
			    "than the age window of 1d12h (max_age less "
			    "age_margin)");
	/* the default window, 7d less a 10m margin, reads as such */
	o.max_age_ms = validate_window_ms(7 * DAY_MS, 600000);
	r = run_o("{\"__time\":\"2024-03-03T12:05:00Z\"}", &o);
	assert_int_equal(r.rc, SPOOLSHIP_ETOOOLD);
	assert_string_equal(r.err, "__time 2024-03-03T12:05:00.000Z is older "
			    "than the age window of 6d23h50m (max_age less "
			    "age_margin)");
	assert_true(validate_window_ms(0, 600000) == 0);
	assert_true(validate_window_ms(60000, 0) == 60000);
	assert_true(validate_window_ms(60000, 60000) == 1);
	o.max_age_ms = 0;
	r = run_o("{\"__time\":\"1970-01-01\"}", &o);
	check_ok(&r, "no window", "{\"__time\":\"1970-01-01T00:00:00.000Z\"}");
	/* a window reaching past the int64 range: nothing is too old, and
	 * no overflow (UBSan watches) */
	o.now_ms = INT64_MIN + 5;
	o.max_age_ms = 7 * DAY_MS;
	r = run_o("{\"__time\":\"0000-01-01\"}", &o);
	check_ok(&r, "huge window",
		 "{\"__time\":\"0000-01-01T00:00:00.000Z\"}");
}

/* The library's default window is the shipper's: an event between
 * 7d - 10m and 7d old, which `spoolship run` would dead-letter on
 * arrival, is refused at the door with the one wording. */
static void test_library_default_window(void **state)
{
	static const int64_t ago[] = { 7 * DAY_MS - 5 * 60000,
				       7 * DAY_MS - 15 * 60000 };
	char dir[] = "/tmp/spoolship-unit-XXXXXX", cmd[64], ev[96], why[256];
	char t[VALIDATE_TIME_LEN + 1];
	spoolship_spool *s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(spoolship_spool_open(dir, NULL, &s), 0);
	for (size_t i = 0; i < 2; i++) {
		struct timespec ts;
		int n, rc;

		clock_gettime(CLOCK_REALTIME, &ts);
		validate_time_format((int64_t)ts.tv_sec * 1000 - ago[i], t);
		n = snprintf(ev, sizeof(ev), "{\"__time\":\"%s\"}", t);
		why[0] = '\0';
		rc = spoolship_append(s, "t", ev, (size_t)n, why, sizeof(why));
		if (i == 0) {
			assert_int_equal(rc, SPOOLSHIP_ETOOOLD);
			assert_non_null(strstr(why, "is older than the age "
					       "window of 6d23h50m (max_age "
					       "less age_margin)"));
		} else {
			assert_int_equal(rc, 0);
		}
	}
	assert_int_equal(spoolship_spool_close(s), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_future_time_accepted(void **state)
{
	(void)state;
	expect_ok("{\"__time\":\"2030-01-01T00:00:00.000Z\"}",
		  "{\"__time\":\"2030-01-01T00:00:00.000Z\"}");
}

static void test_too_big(void **state)
{
	/* 43 bytes minified */
	const char *ev = "{\"__time\":\"2024-03-10T11:00:00.000Z\",\"a\":1}";
	struct validate_opts o = opts();
	struct res r;

	(void)state;
	assert_int_equal(strlen(ev), 43);
	o.max_bytes = 43;
	r = run_o(ev, &o);
	check_ok(&r, "43 of 43", ev);
	/* whitespace does not count */
	r = run_o("{ \"__time\" : \"2024-03-10T11:00:00.000Z\" , \"a\" : 1 }",
		  &o);
	check_ok(&r, "spaced", ev);
	o.max_bytes = 42;
	r = run_o(ev, &o);
	assert_int_equal(r.rc, SPOOLSHIP_ETOOBIG);
	assert_string_equal(r.err, "event is 43 bytes after minification, "
			    "over the 42-byte limit");
	/* the stored size counts: "2024-03-10" grows by 14 bytes */
	o.max_bytes = 40;
	r = run_o("{\"__time\":\"2024-03-10\",\"a\":1}", &o);
	check_fail(&r, "grown", SPOOLSHIP_ETOOBIG, "43 bytes");
	/* 0 means the library's limit, not "refuse everything" */
	o.max_bytes = 0;
	r = run_o(ev, &o);
	check_ok(&r, "default limit", ev);
}

/* ---- refused input ---------------------------------------------------- */

static void test_malformed_json(void **state)
{
	static const char *const bad[] = {
		"{\"__time\":\"2024-03-10\"", "{\"a\":}", "{a:1}",
		"{\"a\":1,}", "{\"a\" 1}", "{\"a\":tru}", "{\"a\":'x'}",
		"{\"a\":[1,]}", "{\"a\":\"\\x\"}", "{\"a\":\"unterminated}",
		"{\"a\":\"\\ud800\"}", "{\"a\":+1}", "{\"a\":0x10}",
		"{\"a\":NaN}", "}", "{\"a\":{}", "\xef\xbb\xbf",
		/* accepted by cJSON, refused by any strict parser */
		"{\"a\":01}", "{\"a\":1.}", "{\"a\":-.5}", "{\"a\":1.e5}",
		"{\"a\":1e}", "{\"a\":-}", "{\"a\":\"\\uZZZZ\"}",
		"{\"a\":\"\\u12\"}", "{\"a\":\"x\ty\"}", "{\x01\"a\":1}",
		"{\"a\":1\x0b}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_fail(bad[i], SPOOLSHIP_EJSON, "not valid JSON");
}

static void test_malformed_json_position(void **state)
{
	struct res r = run("{\"__time\":\"2024-03-10\", \"a\": x}");

	(void)state;
	assert_int_equal(r.rc, SPOOLSHIP_EJSON);
	assert_string_equal(r.err, "not valid JSON near byte 29");
	r = run("{\"__time\":\"2024-03-10\",\"a\":01}");
	assert_int_equal(r.rc, SPOOLSHIP_EJSON);
	assert_string_equal(r.err, "not valid JSON: not a valid JSON number "
			    "at byte 27");
	r = run("{\"a\":\"x\001\"}");
	assert_int_equal(r.rc, SPOOLSHIP_EJSON);
	assert_string_equal(r.err, "not valid JSON: control character in a "
			    "string at byte 7");
}

/* The string copier reads eight bytes at a time: put each special byte
 * at every offset of a word, and at the end of the input, to reach both
 * the word path and the byte path. */
static void test_string_specials_at_every_offset(void **state)
{
	static const struct {
		const char *mid;
		int rc;
	} cases[] = {
		{ "\\\"", 0 }, { "\\\\", 0 }, { "\\u00e9", 0 }, { "\\/", 0 },
		{ "\xc3\xa9", 0 }, { "\t", SPOOLSHIP_EJSON },
		{ "\x1f", SPOOLSHIP_EJSON }, { "\\u00g9", SPOOLSHIP_EJSON },
		{ "\\u00e", SPOOLSHIP_EJSON },
	};
	char in[256], want[256];
	struct res r;
	size_t c;
	int pre, post;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (pre = 0; pre < 18; pre++) {
			post = 17 - pre;
			snprintf(in, sizeof(in),
				 "{\"__time\":\"2024-03-10T11:00:00.000Z\","
				 "\"s\" : \"%.*s%s%.*s\" }", pre,
				 "aaaaaaaaaaaaaaaaaaaa", cases[c].mid, post,
				 "zzzzzzzzzzzzzzzzzzzz");
			r = run(in);
			if (cases[c].rc != 0) {
				check_fail(&r, in, cases[c].rc,
					   "not valid JSON");
				continue;
			}
			snprintf(want, sizeof(want),
				 "{\"__time\":\"2024-03-10T11:00:00.000Z\","
				 "\"s\":\"%.*s%s%.*s\"}", pre,
				 "aaaaaaaaaaaaaaaaaaaa", cases[c].mid, post,
				 "zzzzzzzzzzzzzzzzzzzz");
			check_ok(&r, in, want);
		}
	}
}

static void test_trailing_garbage(void **state)
{
	struct res r = run("{\"__time\":\"2024-03-10\"} x");

	(void)state;
	assert_int_equal(r.rc, SPOOLSHIP_EJSON);
	assert_string_equal(r.err,
			    "unexpected data after the JSON value at byte 24");
	expect_fail("{\"__time\":\"2024-03-10\"}{}", SPOOLSHIP_EJSON,
		    "after the JSON value");
	expect_fail("{\"__time\":\"2024-03-10\"},", SPOOLSHIP_EJSON,
		    "after the JSON value");
	expect_fail("{\"__time\":\"2024-03-10\"}\x01", SPOOLSHIP_EJSON, NULL);
	expect_fail("[1] x", SPOOLSHIP_EJSON, "after the JSON value");
	/* trailing whitespace is fine */
	expect_ok("{\"__time\":\"2024-03-10\"} \r\n\t ",
		  "{\"__time\":\"2024-03-10T00:00:00.000Z\"}");
}

static void test_not_object(void **state)
{
	struct res r = run("[{\"__time\":\"2024-03-10\"}]");

	(void)state;
	assert_int_equal(r.rc, SPOOLSHIP_ENOTOBJECT);
	assert_string_equal(r.err, "event is an array, not an object; send "
			    "NDJSON: one object per line");
	expect_fail("\"2024-03-10\"", SPOOLSHIP_ENOTOBJECT,
		    "event is a string");
	expect_fail(" 42 ", SPOOLSHIP_ENOTOBJECT, "event is a number");
	expect_fail("true", SPOOLSHIP_ENOTOBJECT, "event is a boolean");
	expect_fail("null", SPOOLSHIP_ENOTOBJECT, "event is null");
	expect_fail("[]", SPOOLSHIP_ENOTOBJECT, "array");
}

/* The usual mistakes get a hint that says what to do, in the one
 * message every door reports (issue 14). */
static void test_hints(void **state)
{
	static const char ndjson[] = "send NDJSON: one object per line";
	static const char epoch[] = "; for converting epoch times see "
		"\"Event times\" in spoolship(1) or docs/cli.md";
	struct res r;

	(void)state;
	/* a pretty-printed object arrives one line at a time */
	r = run("{");
	assert_string_equal(r.err, "not valid JSON near byte 0; a line of "
			    "just '{' is pretty-printed JSON: send NDJSON: "
			    "one object per line");
	expect_fail("  }\r", SPOOLSHIP_EJSON, "just '}' is pretty-printed");
	expect_fail("[", SPOOLSHIP_EJSON, ndjson);
	expect_fail("  \"user\": \"a\",", SPOOLSHIP_EJSON, ndjson);
	expect_fail("{\"__time\":\"2024-03-10\"},", SPOOLSHIP_EJSON, ndjson);
	expect_fail("[{\"__time\":\"2024-03-10\"}]", SPOOLSHIP_ENOTOBJECT,
		    ndjson);
	/* not guessed: a line that is merely broken */
	r = run("{\"__time\":\"2024-03-10\", \"a\": x}");
	assert_null(strstr(r.err, "NDJSON"));
	assert_null(strstr(r.err, "quotes"));
	/* single quotes, in a key or a value */
	r = run("{'__time': '2024-03-10'}");
	assert_string_equal(r.err, "not valid JSON near byte 2; JSON strings "
			    "take double quotes, not single");
	expect_fail("{\"__time\":'2024-03-10'}", SPOOLSHIP_EJSON,
		    "double quotes");
	/* epoch times, as a number or a string of digits */
	r = run("{\"__time\":1710072000000}");
	assert_int_equal(r.rc, SPOOLSHIP_EBADTIME);
	assert_non_null(strstr(r.err, "(e.g. 2022-04-16T00:46:58.771Z)"));
	assert_non_null(strstr(r.err, epoch));
	r = run("{\"__time\":\"1710072000.5\"}");
	assert_string_equal(r.err, "__time '1710072000.5' is not an ISO-8601 "
			    "time; for converting epoch times see \"Event "
			    "times\" in spoolship(1) or docs/cli.md");
	r = run("{\"__time\":\"yesterday\"}");
	assert_null(strstr(r.err, "epoch"));
	expect_fail("{\"a\":1}", SPOOLSHIP_ENOTIME, "--fill-time");
}

static void test_empty_event(void **state)
{
	(void)state;
	expect_fail_n("", 0, SPOOLSHIP_EJSON, "empty event");
	expect_fail(" \t\r\n ", SPOOLSHIP_EJSON, "empty event");
}

static void test_invalid_utf8(void **state)
{
	static const struct {
		const char *in;
		const char *msg;
	} bad[] = {
		/* overlong '/' in two and three bytes */
		{ "{\"a\":\"\xc0\xaf\"}", "invalid UTF-8 at byte 6" },
		{ "{\"a\":\"\xc1\xbf\"}", "invalid UTF-8 at byte 6" },
		{ "{\"a\":\"\xe0\x80\xaf\"}", "invalid UTF-8 at byte 6" },
		{ "{\"a\":\"\xf0\x80\x80\xaf\"}", "invalid UTF-8 at byte 6" },
		/* U+D800 and U+DFFF encoded directly */
		{ "{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8 at byte 6" },
		{ "{\"a\":\"\xed\xbf\xbf\"}", "invalid UTF-8 at byte 6" },
		/* above U+10FFFF */
		{ "{\"a\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8 at byte 6" },
		{ "{\"a\":\"\xf5\x80\x80\x80\"}", "invalid UTF-8 at byte 6" },
		/* truncated sequences, mid-text and at the very end */
		{ "{\"a\":\"\xe2\x82\"}", "invalid UTF-8 at byte 6" },
		{ "{\"a\":\"\xf0\x9f\x98\"}", "invalid UTF-8 at byte 6" },
		{ "{\"a\":\"x\"}\xc3", "invalid UTF-8 at byte 9" },
		/* lone continuation bytes and bytes never valid */
		{ "{\"a\":\"\x80\"}", "invalid UTF-8 at byte 6" },
		{ "{\"a\":\"\xff\"}", "invalid UTF-8 at byte 6" },
		{ "{\"a\":\"\xfe\"}", "invalid UTF-8 at byte 6" },
		{ "{\"abcdefghijklmnop\":\"\xff\"}",
		  "invalid UTF-8 at byte 21" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_fail(bad[i].in, SPOOLSHIP_EUTF8, bad[i].msg);
}

static void test_embedded_nul(void **state)
{
	static const char ev[] = "{\"__time\":\"2024-03-10\",\"a\":\"x\0y\"}";
	static const char ev2[] = "{\"__time\":\"2024-03-10\"}\0";

	(void)state;
	expect_fail_n(ev, sizeof(ev) - 1, SPOOLSHIP_EUTF8,
		      "NUL byte at byte 29");
	expect_fail_n(ev2, sizeof(ev2) - 1, SPOOLSHIP_EUTF8,
		      "NUL byte at byte 23");
}

static void test_validate_utf8(void **state)
{
	(void)state;
	assert_true(validate_utf8("", 0));
	assert_true(validate_utf8(NULL, 0));
	assert_false(validate_utf8(NULL, 5));
	assert_true(validate_utf8("plain ascii, longer than a word", 31));
	assert_true(validate_utf8("\xc2\x80\xdf\xbf", 4));
	assert_true(validate_utf8("\xe0\xa0\x80\xef\xbf\xbf", 6));
	assert_true(validate_utf8("\xed\x9f\xbf\xee\x80\x80", 6));
	assert_true(validate_utf8("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 8));
	assert_false(validate_utf8("abcdefgh\0", 9));
	assert_false(validate_utf8("abc\0defghijk", 12));
	assert_false(validate_utf8("\xc2", 1));
	assert_false(validate_utf8("\xc2\x41", 2));
	assert_false(validate_utf8("\xe1\x80\x41", 3));
	assert_false(validate_utf8("\xf1\x80\x80\x41", 4));
	assert_false(validate_utf8("\xc0\x80", 2));
	assert_false(validate_utf8("\xed\xa0\x80", 3));
	assert_false(validate_utf8("\xf4\x90\x80\x80", 4));
	assert_false(validate_utf8("abcdefg\xff", 8));
	/* only len bytes are looked at */
	assert_true(validate_utf8("ab\xff", 2));
}

/* ---- time functions ---------------------------------------------------- */

static void expect_time(const char *s, int64_t want)
{
	int64_t ms = 12345;
	int rc = validate_time_parse(s, strlen(s), &ms);

	if (rc != 0 || ms != want)
		fail_msg("'%s': rc %d ms %" PRId64 ", want %" PRId64, s, rc,
			 ms, want);
}

static void expect_bad_time(const char *s)
{
	int64_t ms = 12345;

	if (validate_time_parse(s, strlen(s), &ms) != SPOOLSHIP_EBADTIME)
		fail_msg("'%s' accepted as %" PRId64, s, ms);
	assert_int_equal(ms, 12345);
}

static void test_time_parse(void **state)
{
	(void)state;
	expect_time("1970-01-01T00:00:00Z", 0);
	expect_time("1970-01-01", 0);
	expect_time("1970-01-01T01:00:00+01:00", 0);
	expect_time("1969-12-31T23:59:59.999Z", -1);
	expect_time("2022-04-16T00:46:58.771Z", INT64_C(1650070018771));
	expect_time("2024-03-10T12:00:00Z", NOW_MS);
	expect_time("2000-02-29", INT64_C(951782400000));
	expect_time("1900-03-01", INT64_C(-2203891200000));
	expect_time("0000-01-01T00:00:00Z", MIN_MS);
	expect_time("0000-02-29", MIN_MS + 59 * DAY_MS);
	expect_time("9999-12-31T23:59:59.999Z", MAX_MS);
	expect_time("9999-12-31T23:59:59.9999999Z", MAX_MS);
	expect_time("0000-01-01T00:00:00-01:00", MIN_MS + 3600000);
	expect_bad_time("1900-02-29");
	expect_bad_time("2023-02-29");
	/* out of the printable range once the offset is applied */
	expect_bad_time("0000-01-01T00:00:00+01:00");
	expect_bad_time("9999-12-31T23:59:59-01:00");
	expect_bad_time("10000-01-01");
	expect_bad_time("-001-01-01");
	/* only len bytes are looked at */
	{
		int64_t ms = 0;

		assert_int_equal(validate_time_parse("1970-01-02Zjunk", 10,
						     &ms), 0);
		assert_int_equal(ms, DAY_MS);
		assert_int_equal(validate_time_parse("1970-01-02", 9, &ms),
				 SPOOLSHIP_EBADTIME);
	}
}

static void expect_format(int64_t ms, const char *want)
{
	char out[VALIDATE_TIME_LEN + 1];

	memset(out, 'x', sizeof(out));
	validate_time_format(ms, out);
	assert_string_equal(out, want);
}

static void test_time_format(void **state)
{
	(void)state;
	expect_format(0, "1970-01-01T00:00:00.000Z");
	expect_format(-1, "1969-12-31T23:59:59.999Z");
	expect_format(-DAY_MS, "1969-12-31T00:00:00.000Z");
	expect_format(INT64_C(1650070018771), "2022-04-16T00:46:58.771Z");
	expect_format(INT64_C(951782400000), "2000-02-29T00:00:00.000Z");
	expect_format(INT64_C(-2203891200001), "1900-02-28T23:59:59.999Z");
	expect_format(MIN_MS, "0000-01-01T00:00:00.000Z");
	expect_format(MAX_MS, "9999-12-31T23:59:59.999Z");
	/* clamped rather than printed with a fifth digit or a sign */
	expect_format(MIN_MS - 1, "0000-01-01T00:00:00.000Z");
	expect_format(MAX_MS + 1, "9999-12-31T23:59:59.999Z");
	expect_format(INT64_MIN, "0000-01-01T00:00:00.000Z");
	expect_format(INT64_MAX, "9999-12-31T23:59:59.999Z");
}

/* Every formatted time parses back to itself, years 0000 to 9999. */
static void test_time_roundtrip(void **state)
{
	char out[VALIDATE_TIME_LEN + 1];
	int64_t ms, back;
	const int64_t step = INT64_C(999999937);  /* prime: hits every field */

	(void)state;
	for (ms = MIN_MS; ms <= MAX_MS; ms += step) {
		validate_time_format(ms, out);
		assert_int_equal(strlen(out), VALIDATE_TIME_LEN);
		back = 0;
		assert_int_equal(validate_time_parse(out, VALIDATE_TIME_LEN,
						     &back), 0);
		if (back != ms)
			fail_msg("%" PRId64 " -> %s -> %" PRId64, ms, out,
				 back);
	}
}

/* An independent oracle: the C library's own UTC calendar. */
static void test_time_format_matches_gmtime(void **state)
{
	char out[VALIDATE_TIME_LEN + 1], want[64];
	int64_t s;
	time_t t;
	struct tm tm;
	int frac;

	(void)state;
	for (s = INT64_C(-2208988800); s < INT64_C(7258118400);
	     s += INT64_C(7919) * 3607) {
		t = (time_t)s;
		assert_non_null(gmtime_r(&t, &tm));
		frac = (int)(s & 1023) % 1000;
		snprintf(want, sizeof(want),
			 "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
		validate_time_format(s * 1000 + frac, out);
		assert_string_equal(out, want);
	}
}

/* ---- the contract's edges --------------------------------------------- */

static void test_bad_arguments(void **state)
{
	const char *ev = "{\"__time\":\"2024-03-10\"}";
	size_t len = strlen(ev), outlen = 0;
	struct validate_opts o = opts();
	char out[256], err[128];
	int64_t ms = 0;

	(void)state;
	assert_int_equal(validate_event(ev, len, &o, out, len +
					VALIDATE_SLACK - 1, &outlen, &ms, err,
					sizeof(err)), SPOOLSHIP_EINVAL);
	assert_non_null(strstr(err, "too small"));
	assert_int_equal(validate_event(ev, len, NULL, out, sizeof(out),
					&outlen, &ms, err, sizeof(err)),
			 SPOOLSHIP_EINVAL);
	assert_int_equal(validate_event(NULL, 3, &o, out, sizeof(out),
					&outlen, &ms, err, sizeof(err)),
			 SPOOLSHIP_EINVAL);
	assert_int_equal(validate_event(ev, len, &o, out, sizeof(out),
					NULL, &ms, err, sizeof(err)),
			 SPOOLSHIP_EINVAL);
	assert_int_equal(validate_event(ev, len, &o, out, len +
					VALIDATE_SLACK, &outlen, &ms, NULL,
					0), 0);
	assert_int_equal(outlen, 37);
}

static void test_errbuf_optional_and_truncated(void **state)
{
	struct validate_opts o = opts();
	char out[128], err[8];
	size_t outlen = 99;
	int64_t ms = 99;

	(void)state;
	assert_int_equal(validate_event("{}", 2, &o, out, sizeof(out),
					&outlen, &ms, NULL, 100),
			 SPOOLSHIP_ENOTIME);
	assert_int_equal(validate_event("{}", 2, &o, out, sizeof(out),
					&outlen, &ms, err, sizeof(err)),
			 SPOOLSHIP_ENOTIME);
	assert_string_equal(err, "missing");
	/* failure leaves the out-parameters alone */
	assert_int_equal(outlen, 99);
	assert_int_equal(ms, 99);
}

/* Every prefix of a valid event is refused cleanly, never read past. */
static void test_every_prefix(void **state)
{
	const char *ev = "\xef\xbb\xbf{ \"__time\" : "
			 "\"2024-03-10T13:00:00.5+02:00\", \"s\" : "
			 "\"caf\\u00e9 \xc3\xa9\\\"\", \"n\" : "
			 "[ -1.5e+3 , true , null , { \"k\" : false } ] }";
	size_t len = strlen(ev), i;
	struct validate_opts o = opts();
	struct res r;

	(void)state;
	for (i = 0; i < len; i++) {
		r = run_n(ev, i, &o);
		if (r.rc == 0)
			fail_msg("prefix of %zu bytes accepted", i);
		assert_true(r.rc == SPOOLSHIP_EJSON ||
			    r.rc == SPOOLSHIP_EUTF8 ||
			    r.rc == SPOOLSHIP_ENOTOBJECT);
		assert_true(r.err[0] != '\0');
	}
	r = run_n(ev, len, &o);
	check_ok(&r, "full",
		 "{\"__time\":\"2024-03-10T11:00:00.500Z\","
		 "\"s\":\"caf\\u00e9 \xc3\xa9\\\"\",\"n\":[-1.5e+3,"
		 "true,null,{\"k\":false}]}");
}

/* The shortest time, filled into the largest slack case, still fits. */
static void test_growth_within_slack(void **state)
{
	struct validate_opts o = opts();
	struct res r;

	(void)state;
	r = run("{\"__time\":\"2024-03-10\"}");
	assert_int_equal(r.outlen, 23 + 14);
	o.fill_time = 1;
	r = run_o("{}", &o);
	assert_int_equal(r.outlen, 2 + 35);
	r = run_o("{\"a\":1}", &o);
	assert_int_equal(r.outlen, 7 + 36);
}

/* The NDJSON framing append and ingest share (validate_line). */
static void test_line_framing(void **state)
{
	static const struct {
		const char *in;
		int last;
		size_t used, ev;
	} cases[] = {
		{ "{}\nx", 0, 3, 2 },     /* a whole line */
		{ "{}\r\nx", 0, 4, 2 },  /* CRLF: the CR is not the event's */
		{ "{}\r\r\n", 1, 5, 3 }, /* one CR only */
		{ " \t\r\n{}", 0, 4, 0 }, /* blank: no event */
		{ "\n", 0, 1, 0 },
		{ "{}", 0, 0, 0 },        /* not complete yet */
		{ "{}", 1, 2, 2 },        /* the last line, no '\n' */
		{ "{}\r", 1, 3, 2 },
		{ " ", 1, 1, 0 },
		{ "", 1, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		size_t len = strlen(cases[i].in), ev = 99;
		char *p = malloc(len ? len : 1);

		assert_non_null(p);
		memcpy(p, cases[i].in, len);
		assert_int_equal(validate_line(p, len, cases[i].last, &ev),
				 cases[i].used);
		assert_int_equal(ev, cases[i].ev);
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_event_minified),
		cmocka_unit_test(test_whitespace_in_strings_kept),
		cmocka_unit_test(test_numbers_and_escapes_kept),
		cmocka_unit_test(test_leading_bom_dropped),
		cmocka_unit_test(test_time_normalised),
		cmocka_unit_test(test_time_normalised_event_ms),
		cmocka_unit_test(test_time_rejected),
		cmocka_unit_test(test_time_rejected_message),
		cmocka_unit_test(test_long_bad_time_quoted_short),
		cmocka_unit_test(test_numeric_time),
		cmocka_unit_test(test_unparseable_time),
		cmocka_unit_test(test_time_found_only_at_top_level),
		cmocka_unit_test(test_duplicate_time),
		cmocka_unit_test(test_escaped_time_key),
		cmocka_unit_test(test_missing_time),
		cmocka_unit_test(test_fill_time_empty_object),
		cmocka_unit_test(test_fill_time_with_members),
		cmocka_unit_test(test_fill_time_keeps_given_time),
		cmocka_unit_test(test_too_old),
		cmocka_unit_test(test_future_time_accepted),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_malformed_json),
		cmocka_unit_test(test_malformed_json_position),
		cmocka_unit_test(test_string_specials_at_every_offset),
		cmocka_unit_test(test_trailing_garbage),
		cmocka_unit_test(test_not_object),
		cmocka_unit_test(test_empty_event),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_validate_utf8),
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_time_roundtrip),
		cmocka_unit_test(test_time_format_matches_gmtime),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_errbuf_optional_and_truncated),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_growth_within_slack),
		cmocka_unit_test(test_line_framing),
		cmocka_unit_test(test_hints),
		cmocka_unit_test(test_library_default_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
