/*
 * test_answer.c - unit tests of answer.c: the classification table for
 * every status class and the curl codes that matter, the header parsers
 * on good, bad and hostile lines, pauses, backoff bounds, and excerpts of
 * binary garbage.  Header lines are fed from exact-size heap copies so
 * ASan catches any read past what curl would hand over.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "spoolship.h"

/* Wed, 21 Oct 2015 07:28:00 GMT */
#define OCT21_MS INT64_C(1445412480000)
#define NUM_SAT (INT64_C(1) << 40)

/* Feeds one header line of exactly len bytes (no NUL after it). */
static void feed_n(struct answer *a, const char *line, size_t len)
{
	char *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	memcpy(copy, line, len);
	assert_int_equal(answer_header_cb(copy, 1, len, a), len);
	free(copy);
}

static void feed(struct answer *a, const char *line)
{
	feed_n(a, line, strlen(line));
}

/* A fresh answer after "HTTP/1.1 <status>" and the given header lines. */
static struct answer parsed(int status, const char *const *lines)
{
	struct answer a;
	char st[64];

	answer_init(&a);
	snprintf(st, sizeof(st), "HTTP/1.1 %d X\r\n", status);
	feed(&a, st);
	for (; lines != NULL && *lines != NULL; lines++)
		feed(&a, *lines);
	feed(&a, "\r\n");
	return a;
}

static struct answer one(int status, const char *line)
{
	const char *lines[2] = { line, NULL };

	return parsed(status, lines);
}

static enum answer_action status_action(int st)
{
	return answer_rule_for_status(st)->action;
}

static enum answer_action curl_action(CURLcode c)
{
	return answer_rule_for_curl(c)->action;
}

/* ---- the table --------------------------------------------------------- */

static void test_status_classes(void **state)
{
	int st;

	(void)state;
	for (st = 200; st <= 299; st++) {
		assert_int_equal(status_action(st), ANSWER_ACK);
		assert_string_equal(answer_rule_for_status(st)->word, "ok");
	}
	assert_int_equal(status_action(400), ANSWER_BISECT);
	assert_int_equal(status_action(401), ANSWER_AUTH_REFRESH);
	assert_int_equal(status_action(403), ANSWER_ALARM);
	assert_int_equal(status_action(404), ANSWER_ALARM);
	assert_int_equal(status_action(413), ANSWER_SPLIT);
	assert_int_equal(status_action(429), ANSWER_RATE_LIMITED);
	assert_int_equal(status_action(408), ANSWER_RETRY);
	for (st = 500; st <= 599; st++) {
		if (st == 501 || st == 505 || st == 511)
			assert_int_equal(status_action(st), ANSWER_ALARM);
		else
			assert_int_equal(status_action(st), ANSWER_RETRY);
	}
	for (st = 300; st <= 399; st++)
		assert_int_equal(status_action(st), ANSWER_ALARM);
	for (st = 100; st <= 199; st++)
		assert_int_equal(status_action(st), ANSWER_RETRY);
}

/* Other 4xx are chosen one by one: a refusal of the request as a whole
 * must never bisect (it would bury good events) nor be dropped. */
static void test_other_4xx_deliberate(void **state)
{
	static const int alarm[] = { 402, 405, 406, 407, 410, 411, 412,
				     414, 415, 416, 417, 418, 422, 426,
				     428, 431, 451, 499 };
	static const int retry[] = { 408, 409, 421, 423, 424, 425 };
	size_t i;
	int st;

	(void)state;
	for (i = 0; i < sizeof(alarm) / sizeof(alarm[0]); i++)
		assert_int_equal(status_action(alarm[i]), ANSWER_ALARM);
	for (i = 0; i < sizeof(retry) / sizeof(retry[0]); i++)
		assert_int_equal(status_action(retry[i]), ANSWER_RETRY);
	for (st = 400; st <= 499; st++) {
		enum answer_action act = status_action(st);

		if (st != 400)
			assert_int_not_equal(act, ANSWER_BISECT);
		if (st != 413)
			assert_int_not_equal(act, ANSWER_SPLIT);
		assert_int_not_equal(act, ANSWER_ACK);
		assert_int_not_equal(act, ANSWER_FATAL);
	}
	assert_string_equal(answer_rule_for_status(415)->word,
			    "unsupported_media_type");
	assert_string_equal(answer_rule_for_status(418)->word,
			    "client_error");
}

static void test_nonsense_status(void **state)
{
	static const int bad[] = { 0, -1, 99, 600, 999, 1000, INT_MIN,
				   INT_MAX };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(status_action(bad[i]), ANSWER_ALARM);
		assert_string_equal(answer_rule_for_status(bad[i])->word,
				    "bad_status");
	}
}

static void test_token_actions(void **state)
{
	int st;

	(void)state;
	assert_int_equal(answer_rule_for_status(200)->token_action,
			 ANSWER_ACK);
	assert_int_equal(answer_rule_for_status(400)->token_action,
			 ANSWER_ALARM);
	assert_int_equal(answer_rule_for_status(401)->token_action,
			 ANSWER_ALARM);
	assert_int_equal(answer_rule_for_status(413)->token_action,
			 ANSWER_ALARM);
	assert_int_equal(answer_rule_for_status(429)->token_action,
			 ANSWER_RATE_LIMITED);
	assert_int_equal(answer_rule_for_status(503)->token_action,
			 ANSWER_RETRY);
	for (st = -1; st <= 1000; st++) {
		enum answer_action t;

		t = answer_rule_for_status(st)->token_action;

		assert_int_not_equal(t, ANSWER_BISECT);
		assert_int_not_equal(t, ANSWER_SPLIT);
		assert_int_not_equal(t, ANSWER_AUTH_REFRESH);
	}
}

static void test_curl_codes(void **state)
{
	static const CURLcode retry[] = {
		CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY,
		CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT,
		CURLE_SSL_CONNECT_ERROR, CURLE_GOT_NOTHING, CURLE_SEND_ERROR,
		CURLE_RECV_ERROR, CURLE_PARTIAL_FILE, CURLE_HTTP2,
		CURLE_HTTP2_STREAM, CURLE_WEIRD_SERVER_REPLY, CURLE_AGAIN,
		CURLE_WRITE_ERROR, CURLE_ABORTED_BY_CALLBACK,
		CURLE_OUT_OF_MEMORY, CURLE_PROXY,
	};
	static const CURLcode fatal[] = {
		CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL,
		CURLE_FAILED_INIT, CURLE_NOT_BUILT_IN,
		CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM,
		CURLE_SSL_CIPHER, CURLE_SSL_CRL_BADFILE,
		CURLE_UNKNOWN_OPTION, CURLE_BAD_FUNCTION_ARGUMENT,
	};
	static const CURLcode alarm[] = {
		CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
		CURLE_TOO_MANY_REDIRECTS, CURLE_SSL_CLIENTCERT,
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(retry) / sizeof(retry[0]); i++)
		assert_int_equal(curl_action(retry[i]), ANSWER_RETRY);
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		assert_int_equal(curl_action(fatal[i]), ANSWER_FATAL);
	for (i = 0; i < sizeof(alarm) / sizeof(alarm[0]); i++)
		assert_int_equal(curl_action(alarm[i]), ANSWER_ALARM);
	assert_string_equal(answer_rule_for_curl(CURLE_COULDNT_RESOLVE_HOST)
				    ->word, "dns");
	assert_string_equal(answer_rule_for_curl(CURLE_OPERATION_TIMEDOUT)
				    ->word, "timeout");
	assert_string_equal(answer_rule_for_curl(CURLE_SSL_CACERT_BADFILE)
				    ->word, "ca_file");
	/* A code from a newer curl keeps the data and the daemon. */
	assert_int_equal(curl_action((CURLcode)12345), ANSWER_RETRY);
	assert_string_equal(answer_rule_for_curl((CURLcode)12345)->word,
			    "curl_error");
	assert_int_equal(curl_action((CURLcode)-3), ANSWER_RETRY);
}

static void test_classify_precedence(void **state)
{
	struct answer a;

	(void)state;
	/* A 200 whose body was cut off: resend (a duplicate, no loss). */
	a = one(200, NULL);
	answer_finish(&a, CURLE_RECV_ERROR, 200);
	assert_int_equal(answer_classify(&a)->action, ANSWER_RETRY);
	/* FAILONERROR's code still classifies by the status. */
	a = one(404, NULL);
	answer_finish(&a, CURLE_HTTP_RETURNED_ERROR, 404);
	assert_int_equal(answer_classify(&a)->action, ANSWER_ALARM);
	a = one(429, NULL);
	answer_finish(&a, CURLE_OK, 429);
	assert_int_equal(answer_classify(&a)->action, ANSWER_RATE_LIMITED);
	/* No status at all from a "successful" transfer. */
	answer_init(&a);
	answer_finish(&a, CURLE_OK, 0);
	assert_string_equal(answer_classify(&a)->word, "bad_status");
	assert_non_null(answer_classify(NULL));
	answer_init(&a);
	answer_finish(&a, CURLE_COULDNT_CONNECT, 0);
	assert_string_equal(answer_classify(&a)->word, "connect");
}

static int word_ok(const char *w)
{
	if (w == NULL || *w == '\0')
		return 0;
	for (; *w; w++) {
		if (!((*w >= 'a' && *w <= 'z') || (*w >= '0' && *w <= '9') ||
		      *w == '_'))
			return 0;
	}
	return 1;
}

static void test_table_well_formed(void **state)
{
	size_t n, i;
	const struct answer_rule *r = answer_rules(&n);
	int last_status = -1, last_curl = -1;

	(void)state;
	assert_true(n > 40);
	for (i = 0; i < n; i++) {
		assert_true(r[i].lo <= r[i].hi);
		assert_true((unsigned)r[i].action < ANSWER_ACTION_COUNT);
		assert_true((unsigned)r[i].token_action < ANSWER_ACTION_COUNT);
		assert_true(word_ok(r[i].word));
		assert_non_null(r[i].why);
		assert_true(strlen(r[i].why) > 10);
		if (r[i].by == ANSWER_BY_STATUS)
			last_status = (int)i;
		else
			last_curl = (int)i;
	}
	/* Each kind ends with a catch-all, so no lookup can miss. */
	assert_true(last_status >= 0 && last_curl >= 0);
	assert_int_equal(r[last_status].lo, INT_MIN);
	assert_int_equal(r[last_status].hi, INT_MAX);
	assert_int_equal(r[last_curl].lo, INT_MIN);
	assert_int_equal(r[last_curl].hi, INT_MAX);
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(answer_class_of(ANSWER_ACK), ANSWER_CLASS_OK);
	assert_int_equal(answer_class_of(ANSWER_BISECT), ANSWER_CLASS_POISON);
	assert_int_equal(answer_class_of(ANSWER_SPLIT), ANSWER_CLASS_POISON);
	assert_int_equal(answer_class_of(ANSWER_AUTH_REFRESH),
			 ANSWER_CLASS_DESTINATION);
	assert_int_equal(answer_class_of(ANSWER_ALARM),
			 ANSWER_CLASS_DESTINATION);
	assert_int_equal(answer_class_of(ANSWER_RATE_LIMITED),
			 ANSWER_CLASS_RETRIABLE);
	assert_int_equal(answer_class_of(ANSWER_RETRY),
			 ANSWER_CLASS_RETRIABLE);
	assert_int_equal(answer_class_of(ANSWER_FATAL), ANSWER_CLASS_FATAL);
	assert_string_equal(answer_class_name(ANSWER_CLASS_RETRIABLE),
			    "retriable");
	assert_string_equal(answer_class_name(ANSWER_CLASS_POISON), "poison");
	assert_string_equal(answer_class_name(ANSWER_CLASS_DESTINATION),
			    "destination");
	assert_string_equal(answer_class_name(ANSWER_CLASS_FATAL), "fatal");
	assert_string_equal(answer_class_name(ANSWER_CLASS_OK), "ok");
	assert_string_equal(answer_class_name((enum answer_class)99),
			    "unknown");
	assert_string_equal(answer_action_name(ANSWER_RATE_LIMITED),
			    "rate_limited");
	assert_string_equal(answer_action_name(ANSWER_AUTH_REFRESH),
			    "auth_refresh");
	assert_string_equal(answer_action_name((enum answer_action)-1),
			    "unknown");
}

/* ---- header parsing ----------------------------------------------------- */

static void test_init(void **state)
{
	struct answer a;

	(void)state;
	memset(&a, 0x5a, sizeof(a));
	answer_init(&a);
	assert_int_equal(a.http_status, 0);
	assert_int_equal(a.curl_code, CURLE_OK);
	assert_int_equal(a.retry_after_ms, -1);
	assert_int_equal(a.retry_at_ms, -1);
	assert_int_equal(a.date_ms, -1);
	assert_int_equal(a.rl_reset_ms, -1);
	assert_int_equal(a.rl_remaining, -1);
	assert_int_equal(a.rl_limit, -1);
	assert_int_equal(a.xrl_remaining_minute, -1);
	assert_int_equal(a.xrl_limit_minute, -1);
	assert_int_equal(a.complete, 0);
	answer_init(NULL);
}

static void test_status_lines(void **state)
{
	struct answer a;

	(void)state;
	answer_init(&a);
	feed(&a, "HTTP/1.1 200 OK\r\n");
	assert_int_equal(a.http_status, 200);
	feed(&a, "HTTP/2 429 \r\n");
	assert_int_equal(a.http_status, 429);
	feed(&a, "HTTP/2 503");
	assert_int_equal(a.http_status, 503);
	feed(&a, "HTTP/1.0 404 Not Found\n");
	assert_int_equal(a.http_status, 404);
	assert_int_equal(a.status_lines, 4);
	/* Not status lines: the last good one stays. */
	feed(&a, "HTTP/1.1 20 OK\r\n");
	feed(&a, "HTTP/1.1 2000\r\n");
	feed(&a, "HTTP/1.1 099 low\r\n");
	feed(&a, "HTTP/1.1  200 OK\r\n");
	feed(&a, "HTTP/ 200 OK\r\n");
	feed(&a, "HTTP/1.1\r\n");
	feed(&a, "HTTP/1.1 2x0 OK\r\n");
	feed(&a, "HTTP/");
	assert_int_equal(a.http_status, 404);
	assert_int_equal(a.status_lines, 4);
	assert_int_equal(a.bad_headers, 8);
}

static void test_new_block_resets(void **state)
{
	struct answer a;

	(void)state;
	answer_init(&a);
	feed(&a, "HTTP/1.1 100 Continue\r\n");
	feed(&a, "Retry-After: 5\r\n");
	feed(&a, "RateLimit-Remaining: 0\r\n");
	feed(&a, "\r\n");
	assert_int_equal(a.complete, 1);
	assert_int_equal(a.retry_after_ms, 5000);
	feed(&a, "HTTP/1.1 200 OK\r\n");
	assert_int_equal(a.complete, 0);
	assert_int_equal(a.retry_after_ms, -1);
	assert_int_equal(a.rl_remaining, -1);
	feed(&a, "RateLimit-Remaining: 7\r\n");
	feed(&a, "\r\n");
	assert_int_equal(a.http_status, 200);
	assert_int_equal(a.rl_remaining, 7);
	assert_int_equal(a.status_lines, 2);
	assert_int_equal(a.complete, 1);
	/* A blank line with a bare LF ends the block too. */
	feed(&a, "HTTP/1.1 204 No Content\r\n");
	feed(&a, "\n");
	assert_int_equal(a.complete, 1);
}

static void test_retry_after_seconds(void **state)
{
	struct answer a;

	(void)state;
	a = one(429, "Retry-After: 120\r\n");
	assert_int_equal(a.retry_after_ms, 120000);
	assert_int_equal(a.bad_headers, 0);
	a = one(429, "Retry-After: 0\r\n");
	assert_int_equal(a.retry_after_ms, 0);
	a = one(429, "retry-after: 3\r\n");
	assert_int_equal(a.retry_after_ms, 3000);
	a = one(429, "RETRY-AFTER:3");
	assert_int_equal(a.retry_after_ms, 3000);
	a = one(429, "Retry-After: \t 7 \t\r\n");
	assert_int_equal(a.retry_after_ms, 7000);
	a = one(429, "Retry-After: 007\r\n");
	assert_int_equal(a.retry_after_ms, 7000);
	a = one(429, "Retry-After: 3600\r\n");
	assert_int_equal(a.retry_after_ms, ANSWER_PAUSE_MAX_MS);
	a = one(429, "Retry-After: 3601\r\n");
	assert_int_equal(a.retry_after_ms, ANSWER_PAUSE_MAX_MS);
}

static void test_retry_after_hostile(void **state)
{
	static const char *const bad[] = {
		"Retry-After: -5\r\n", "Retry-After: \r\n", "Retry-After:\r\n",
		"Retry-After: 1.5\r\n", "Retry-After: 120s\r\n",
		"Retry-After: +5\r\n", "Retry-After: 5 5\r\n",
		"Retry-After: 0x10\r\n", "Retry-After: soon\r\n",
		"Retry-After: tomorrow\r\n", "Retry-After: Wed\r\n",
		"Retry-After: 1 hour\r\n", "Retry-After: \xff\xfe\r\n",
		("Retry-After: Wed, 32 Oct 2015 07:28:00 GMT garbage and more "
		 "garbage that is longer than any date\r\n"),
	};
	struct answer a;
	size_t i;

	(void)state;
	a = one(429, "Retry-After: 99999999999999999999\r\n");
	assert_int_equal(a.retry_after_ms, ANSWER_PAUSE_MAX_MS);
	assert_int_equal(a.bad_headers, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = one(429, bad[i]);
		assert_int_equal(a.retry_after_ms, -1);
		assert_int_equal(a.retry_at_ms, -1);
		assert_int_equal(a.bad_headers, 1);
	}
	/* An embedded NUL: the value is refused, nothing read past it. */
	answer_init(&a);
	feed_n(&a, "Retry-After: 1\0 2\r\n", 19);
	assert_int_equal(a.retry_after_ms, -1);
	assert_int_equal(a.bad_headers, 1);
	/* 100,000 digits in one line. */
	{
		size_t n = 100000, pre = strlen("Retry-After: ");
		char *big = malloc(pre + n);

		assert_non_null(big);
		memcpy(big, "Retry-After: ", pre);
		memset(big + pre, '9', n);
		answer_init(&a);
		feed_n(&a, big, pre + n);
		assert_int_equal(a.retry_after_ms, ANSWER_PAUSE_MAX_MS);
		free(big);
	}
}

static void test_retry_after_date(void **state)
{
	struct answer a;

	(void)state;
	a = one(429, "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n");
	assert_int_equal(a.retry_at_ms, OCT21_MS);
	assert_int_equal(a.retry_after_ms, -1);
	assert_int_equal(a.bad_headers, 0);
	a = one(503, "retry-after:Wed, 21 Oct 2015 07:28:00 GMT  ");
	assert_int_equal(a.retry_at_ms, OCT21_MS);
	/* Obsolete forms, through curl_getdate(). */
	a = one(429, "Retry-After: Wednesday, 21-Oct-15 07:28:00 GMT\r\n");
	assert_int_equal(a.retry_at_ms, OCT21_MS);
	a = one(429, "Retry-After: Wed Oct 21 07:28:00 2015\r\n");
	assert_int_equal(a.retry_at_ms, OCT21_MS);
	a = one(200, "Date: Wed, 21 Oct 2015 07:27:00 GMT\r\n");
	assert_int_equal(a.date_ms, OCT21_MS - 60000);
	a = one(200, "Date: yesterday\r\n");
	assert_int_equal(a.date_ms, -1);
	assert_int_equal(a.bad_headers, 1);
}

static void test_http_date(void **state)
{
	int64_t ms = 42;

	(void)state;
	assert_int_equal(answer_http_date("Sun, 06 Nov 1994 08:49:37 GMT", 29,
					  &ms), 0);
	assert_int_equal(ms, INT64_C(784111777000));
	assert_int_equal(answer_http_date("Tue, 29 Feb 2000 00:00:00 GMT", 29,
					  &ms), 0);
	assert_int_equal(ms, INT64_C(951782400000));
	assert_int_equal(answer_http_date("Thu, 01 Jan 1970 00:00:00 GMT", 29,
					  &ms), 0);
	assert_int_equal(ms, 0);
	/* Only the bytes given are read: no NUL needed. */
	assert_int_equal(answer_http_date("Sun, 06 Nov 1994 08:49:37 GMTxx",
					  29, &ms), 0);
	ms = 42;
	assert_int_not_equal(answer_http_date("", 0, &ms), 0);
	assert_int_not_equal(answer_http_date("Sun", 3, &ms), 0);
	assert_int_not_equal(answer_http_date("12345", 5, &ms), 0);
	assert_int_not_equal(answer_http_date("hello world", 11, &ms), 0);
	assert_int_not_equal(answer_http_date("Sun, 06 Nov 1994 08:49:37 GMT",
					      29, NULL), 0);
	assert_int_not_equal(answer_http_date(NULL, 0, &ms), 0);
	/* curl_getdate() reads this as a year far past 9999: its seconds
	 * overflowed once in ms (fuzz_answer, crash-http-date-overflow). */
	assert_int_not_equal(answer_http_date("Sun, 06 Nov 1994208150: GMT",
					      27, &ms), 0);
	assert_int_equal(ms, 42);
}

static void test_ratelimit_headers(void **state)
{
	static const char *const lines[] = {
		"RateLimit-Limit: 83334\r\n",
		"RateLimit-Remaining: 12\r\n",
		"RateLimit-Reset: 30\r\n",
		"X-RateLimit-Limit-Minute: 1000\r\n",
		"X-RateLimit-Remaining-Minute: 999\r\n",
		"Content-Type: application/json\r\n",
		"X-Unknown: whatever\r\n",
		NULL
	};
	struct answer a = parsed(200, lines);

	(void)state;
	assert_int_equal(a.rl_limit, 83334);
	assert_int_equal(a.rl_remaining, 12);
	assert_int_equal(a.rl_reset_ms, 30000);
	assert_int_equal(a.xrl_limit_minute, 1000);
	assert_int_equal(a.xrl_remaining_minute, 999);
	assert_int_equal(a.bad_headers, 0);
	a = one(200, "ratelimit-remaining:0");
	assert_int_equal(a.rl_remaining, 0);
	a = one(200, "x-ratelimit-remaining-minute: 0\r\n");
	assert_int_equal(a.xrl_remaining_minute, 0);
}

static void test_ratelimit_hostile(void **state)
{
	static const char *const bad[] = {
		"RateLimit-Remaining: -1\r\n", "RateLimit-Remaining: \r\n",
		"RateLimit-Remaining: ten\r\n", "RateLimit-Remaining: 1e3\r\n",
		"RateLimit-Remaining: 5, x\r\n",
		"RateLimit-Remaining: ;w=1\r\n",
		"RateLimit-Reset: -30\r\n", "RateLimit-Reset: 3.5\r\n",
		"RateLimit-Limit: 0x10\r\n",
		"X-RateLimit-Limit-Minute: many\r\n",
	};
	struct answer a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = one(200, bad[i]);
		assert_int_equal(a.bad_headers, 1);
		assert_int_equal(a.rl_remaining, -1);
		assert_int_equal(a.rl_reset_ms, -1);
		assert_int_equal(a.rl_limit, -1);
		assert_int_equal(a.xrl_limit_minute, -1);
	}
	a = one(200, "RateLimit-Remaining: 99999999999999999999999\r\n");
	assert_int_equal(a.rl_remaining, NUM_SAT);
	a = one(429, "RateLimit-Reset: 99999999999999999999999\r\n");
	assert_int_equal(a.rl_reset_ms, ANSWER_PAUSE_MAX_MS);
}

static void test_ratelimit_lists_and_duplicates(void **state)
{
	static const char *const dup[] = {
		"RateLimit-Remaining: 5\r\n", "RateLimit-Remaining: 3\r\n",
		"RateLimit-Remaining: 9\r\n", "RateLimit-Reset: 10\r\n",
		"RateLimit-Reset: 40\r\n", "RateLimit-Reset: 20\r\n",
		"Retry-After: 2\r\n", "Retry-After: 8\r\n",
		"Retry-After: 4\r\n", NULL
	};
	struct answer a;

	(void)state;
	a = parsed(429, dup);
	assert_int_equal(a.rl_remaining, 3);
	assert_int_equal(a.rl_reset_ms, 40000);
	assert_int_equal(a.retry_after_ms, 8000);
	a = one(200, "RateLimit-Remaining: 5, 0\r\n");
	assert_int_equal(a.rl_remaining, 0);
	a = one(200, "RateLimit-Reset: 10 , 20,\r\n");
	assert_int_equal(a.rl_reset_ms, 20000);
	a = one(200, "RateLimit-Limit: 10, 10;w=1, 1000;w=3600\r\n");
	assert_int_equal(a.rl_limit, 10);
	assert_int_equal(a.bad_headers, 0);
}

static void test_malformed_lines(void **state)
{
	struct answer a;

	(void)state;
	answer_init(&a);
	feed(&a, "Retry-After 5\r\n");           /* no colon */
	feed(&a, "Retry-After : 5\r\n");         /* space before colon */
	feed(&a, ": 5\r\n");                     /* no name */
	feed(&a, " Retry-After: 5\r\n");         /* obs-fold */
	feed(&a, "Retry\x01-After: 5\r\n");      /* control in name */
	feed(&a, "garbage\r\n");
	assert_int_equal(a.retry_after_ms, -1);
	assert_int_equal(a.bad_headers, 6);
	/* Near misses of known names are other headers, not ours. */
	feed(&a, "Retry-Afterr: 5\r\n");
	feed(&a, "Retry-Afte: 5\r\n");
	feed(&a, "RateLimit-Reset-Extra: 5\r\n");
	assert_int_equal(a.retry_after_ms, -1);
	assert_int_equal(a.rl_reset_ms, -1);
	assert_int_equal(a.bad_headers, 6);
}

static void test_callback_edges(void **state)
{
	struct answer a;
	char line[] = "Retry-After: 5\r\n";

	(void)state;
	answer_init(&a);
	/* size and nmemb in the other order count the same. */
	assert_int_equal(answer_header_cb(line, strlen(line), 1, &a),
			 strlen(line));
	assert_int_equal(a.retry_after_ms, 5000);
	assert_int_equal(answer_header_cb(line, 0, 0, &a), 0);
	assert_int_equal(answer_header_cb(line, 1, strlen(line), NULL),
			 strlen(line));
	assert_int_equal(answer_header_cb(NULL, 1, 0, &a), 0);
	/* An impossible size * nmemb is refused without reading. */
	assert_int_equal(answer_header_cb(line, SIZE_MAX, 2, &a), 0);
}

static void test_finish(void **state)
{
	struct answer a;

	(void)state;
	a = one(200, NULL);
	answer_finish(&a, CURLE_OK, 0);
	assert_int_equal(a.http_status, 200);
	answer_finish(&a, CURLE_OK, 503);
	assert_int_equal(a.http_status, 503);
	answer_finish(&a, CURLE_OK, 99);
	assert_int_equal(a.http_status, 503);
	answer_finish(&a, CURLE_OPERATION_TIMEDOUT, 1000);
	assert_int_equal(a.http_status, 503);
	assert_int_equal(a.curl_code, CURLE_OPERATION_TIMEDOUT);
	answer_finish(NULL, CURLE_OK, 200);
}

/* ---- pauses ------------------------------------------------------------ */

static int64_t pause_of(int status, const char *const *lines, int64_t now)
{
	struct answer a = parsed(status, lines);

	answer_finish(&a, CURLE_OK, status);
	return answer_pause_ms(&a, now);
}

static void test_pause_429(void **state)
{
	const char *none[] = { NULL };
	const char *ra[] = { "Retry-After: 5\r\n", NULL };
	const char *both[] = { "Retry-After: 5\r\n", "RateLimit-Reset: 10\r\n",
			       NULL };
	const char *both2[] = { "Retry-After: 50\r\n",
				"RateLimit-Reset: 10\r\n", NULL };
	const char *reset[] = { "RateLimit-Reset: 12\r\n", NULL };
	const char *zero[] = { "Retry-After: 0\r\n", NULL };
	const char *huge[] = { "Retry-After: 99999999999999999999\r\n",
			       NULL };
	const char *badra[] = { "Retry-After: -5\r\n", NULL };

	(void)state;
	assert_int_equal(pause_of(429, none, 0), ANSWER_PAUSE_DEFAULT_MS);
	assert_int_equal(pause_of(429, ra, 0), 5000);
	/* Retry-After is this answer's instruction; a Reset beside it
	 * says when the window ends, not when to send again. */
	assert_int_equal(pause_of(429, both, 0), 5000);
	assert_int_equal(pause_of(429, both2, 0), 50000);
	assert_int_equal(pause_of(429, reset, 0), 12000);
	assert_int_equal(pause_of(429, zero, 0), 0);
	assert_int_equal(pause_of(429, huge, 0), ANSWER_PAUSE_MAX_MS);
	assert_int_equal(pause_of(429, badra, 0), ANSWER_PAUSE_DEFAULT_MS);
}

static void test_pause_dates(void **state)
{
	const char *with_date[] = {
		"Date: Wed, 21 Oct 2015 07:27:30 GMT\r\n",
		"Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n", NULL
	};
	const char *no_date[] = {
		"Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n", NULL
	};
	const char *far[] = {
		"Retry-After: Fri, 31 Dec 9999 23:59:59 GMT\r\n", NULL
	};

	(void)state;
	/* Against the server's own Date: our clock does not matter. */
	assert_int_equal(pause_of(429, with_date, 0), 30000);
	assert_int_equal(pause_of(429, with_date, INT64_MAX / 2), 30000);
	/* Against our clock otherwise. */
	assert_int_equal(pause_of(429, no_date, OCT21_MS - 2000), 2000);
	/* In the past: nothing to wait for. */
	assert_int_equal(pause_of(503, no_date, OCT21_MS + 2000), 0);
	assert_int_equal(pause_of(429, far, OCT21_MS), ANSWER_PAUSE_MAX_MS);
}

static void test_pause_other(void **state)
{
	const char *ra[] = { "Retry-After: 7\r\n", NULL };
	const char *none[] = { NULL };
	const char *empty_reset[] = { "RateLimit-Remaining: 0\r\n",
				      "RateLimit-Reset: 12\r\n", NULL };
	const char *empty[] = { "RateLimit-Remaining: 0\r\n", NULL };
	const char *xempty[] = { "X-RateLimit-Remaining-Minute: 0\r\n",
				 "RateLimit-Reset: 3\r\n", NULL };
	const char *left[] = { "RateLimit-Remaining: 3\r\n",
			       "RateLimit-Reset: 12\r\n", NULL };
	struct answer a;

	(void)state;
	assert_int_equal(pause_of(503, ra, 0), 7000);
	assert_int_equal(pause_of(503, none, 0), 0);
	assert_int_equal(pause_of(500, ra, 0), 0);
	assert_int_equal(pause_of(200, empty_reset, 0), 12000);
	assert_int_equal(pause_of(204, empty, 0), ANSWER_PAUSE_DEFAULT_MS);
	assert_int_equal(pause_of(200, xempty, 0), 3000);
	assert_int_equal(pause_of(200, left, 0), 0);
	assert_int_equal(pause_of(200, none, 0), 0);
	/* A spent window pauses after any answer: the next request
	 * would only be refused. */
	assert_int_equal(pause_of(404, empty_reset, 0), 12000);
	assert_int_equal(pause_of(404, left, 0), 0);
	/* A failed transfer has no answer to obey. */
	a = parsed(429, ra);
	answer_finish(&a, CURLE_RECV_ERROR, 429);
	assert_int_equal(answer_pause_ms(&a, 0), 0);
	assert_int_equal(answer_pause_ms(NULL, 0), 0);
}

/* A 429 as a gateway sends it: Retry-After plus the window's headers,
 * which it sends on every answer. */
static void test_pause_429_ratelimit(void **state)
{
	/* Polaris-like: a 429 thrown with plenty of quota left. */
	const char *gateway[] = { "Retry-After: 1\r\n",
				  "RateLimit-Limit: 83334\r\n",
				  "RateLimit-Remaining: 83000\r\n",
				  "RateLimit-Reset: 45\r\n",
				  "X-RateLimit-Limit-Minute: 83334\r\n",
				  "X-RateLimit-Remaining-Minute: 83000\r\n",
				  NULL };
	/* The window really is spent: its end wins over a shorter
	 * Retry-After (waiting less would only earn another 429). */
	const char *spent[] = { "Retry-After: 1\r\n",
				"RateLimit-Remaining: 0\r\n",
				"RateLimit-Reset: 45\r\n", NULL };
	const char *spent_longer_ra[] = { "Retry-After: 90\r\n",
					  "RateLimit-Remaining: 0\r\n",
					  "RateLimit-Reset: 45\r\n", NULL };
	const char *spent_no_reset[] = { "RateLimit-Remaining: 0\r\n", NULL };
	/* The two headers disagree: the one saying 0 decides. */
	const char *disagree[] = { "Retry-After: 2\r\n",
				   "RateLimit-Remaining: 500\r\n",
				   "X-RateLimit-Remaining-Minute: 0\r\n",
				   "RateLimit-Reset: 30\r\n", NULL };
	const char *disagree2[] = { "Retry-After: 2\r\n",
				    "RateLimit-Remaining: 0\r\n",
				    "X-RateLimit-Remaining-Minute: 9\r\n",
				    "RateLimit-Reset: 30\r\n", NULL };
	/* X- headers only: the minute counter and no Reset. */
	const char *x_only[] = { "X-RateLimit-Limit-Minute: 100\r\n",
				 "X-RateLimit-Remaining-Minute: 40\r\n",
				 "Retry-After: 3\r\n", NULL };
	const char *x_only_spent[] = { "X-RateLimit-Limit-Minute: 100\r\n",
				       "X-RateLimit-Remaining-Minute: 0\r\n",
				       NULL };
	/* No Retry-After: the window's end is all there is. */
	const char *reset_left[] = { "RateLimit-Remaining: 10\r\n",
				     "RateLimit-Reset: 20\r\n", NULL };
	const char *date_ra[] = {
		"Date: Wed, 21 Oct 2015 07:27:58 GMT\r\n",
		"Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n",
		"RateLimit-Remaining: 7000\r\n", "RateLimit-Reset: 50\r\n",
		NULL
	};
	const char *date_ra_spent[] = {
		"Date: Wed, 21 Oct 2015 07:27:58 GMT\r\n",
		"Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n",
		"RateLimit-Remaining: 0\r\n", "RateLimit-Reset: 50\r\n", NULL
	};

	const struct {
		int status;
		const char *const *lines;
		int64_t want;
	} cases[] = {
		{ 429, gateway, 1000 },
		{ 429, spent, 45000 },
		{ 429, spent_longer_ra, 90000 },
		{ 429, spent_no_reset, ANSWER_PAUSE_DEFAULT_MS },
		{ 429, disagree, 30000 },
		{ 429, disagree2, 30000 },
		{ 429, x_only, 3000 },
		{ 429, x_only_spent, ANSWER_PAUSE_DEFAULT_MS },
		{ 429, reset_left, 20000 },
		{ 429, date_ra, 2000 },
		{ 429, date_ra_spent, 50000 },
		/* The same headers on other answers: only a spent window
		 * or a 503's Retry-After pause. */
		{ 200, gateway, 0 },
		{ 500, gateway, 0 },
		{ 503, gateway, 1000 },
		{ 200, spent, 45000 },
		{ 500, spent, 45000 },
		{ 200, x_only, 0 },
		{ 201, x_only_spent, ANSWER_PAUSE_DEFAULT_MS },
		{ 200, reset_left, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(pause_of(cases[i].status, cases[i].lines, 0),
				 cases[i].want);
}

/* ---- no answer ----------------------------------------------------------- */

/* answer_unanswered() after a transfer that ended with c and status. */
static int unanswered_of(CURLcode c, long status)
{
	struct answer a;

	answer_init(&a);
	answer_finish(&a, c, status);
	return answer_unanswered(&a);
}

static void test_unanswered(void **state)
{
	static const CURLcode silent[] = {
		CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST,
		CURLE_COULDNT_RESOLVE_PROXY, CURLE_OPERATION_TIMEDOUT,
		CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING,
		CURLE_SSL_CONNECT_ERROR,
	};
	struct answer a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(silent) / sizeof(silent[0]); i++)
		assert_int_equal(unanswered_of(silent[i], 0), 1);
	/* A status line arrived, then the connection broke: it answered. */
	a = one(200, NULL);
	answer_finish(&a, CURLE_RECV_ERROR, 200);
	assert_int_equal(answer_unanswered(&a), 0);
	assert_int_equal(unanswered_of(CURLE_OPERATION_TIMEDOUT, 503), 0);
	/* Answers, and failures that are not the peer's silence. */
	assert_int_equal(unanswered_of(CURLE_OK, 503), 0);
	assert_int_equal(unanswered_of(CURLE_HTTP_RETURNED_ERROR, 500), 0);
	assert_int_equal(unanswered_of(CURLE_PEER_FAILED_VERIFICATION, 0), 0);
	assert_int_equal(unanswered_of(CURLE_URL_MALFORMAT, 0), 0);
	assert_int_equal(unanswered_of(CURLE_OK, 0), 0);
	assert_int_equal(answer_unanswered(NULL), 0);
}

/* ---- backoff ------------------------------------------------------------ */

static uint64_t cap_of(unsigned attempt, uint64_t min, uint64_t max)
{
	/* The reference, without shifts: doubling with a ceiling. */
	uint64_t c = min;
	unsigned i;

	if (c > max)
		return max;
	for (i = 0; i < attempt && c < max; i++)
		c = c > max / 2 ? max : c * 2;
	return c < max ? c : max;
}

static void test_backoff_values(void **state)
{
	(void)state;
	assert_int_equal(backoff_full_jitter(0, 100, 10000, 0), 0);
	assert_int_equal(backoff_full_jitter(0, 100, 10000, 100), 100);
	assert_int_equal(backoff_full_jitter(0, 100, 10000, 101), 0);
	assert_int_equal(backoff_full_jitter(3, 100, 10000, 800), 800);
	assert_int_equal(backoff_full_jitter(3, 100, 10000, 801), 0);
	assert_int_equal(backoff_full_jitter(10, 100, 10000, 10000), 10000);
	assert_int_equal(backoff_full_jitter(10, 100, 10000, 10001), 0);
	/* min above max: max is the ceiling. */
	assert_int_equal(backoff_full_jitter(0, 500, 300, 300), 300);
	assert_int_equal(backoff_full_jitter(0, 0, 300, 12345), 0);
	assert_int_equal(backoff_full_jitter(5, 100, 0, 12345), 0);
}

static void test_backoff_overflow(void **state)
{
	static const unsigned attempts[] = { 62, 63, 64, 65, 100, 1000,
					     UINT_MAX };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
		assert_int_equal(backoff_full_jitter(attempts[i], 100, 60000,
						     60000), 60000);
		if (attempts[i] >= 64)
			assert_true(backoff_full_jitter(attempts[i], 1,
							UINT64_MAX,
							UINT64_MAX - 1) ==
				    UINT64_MAX - 1);
		else
			assert_true(backoff_full_jitter(attempts[i], 1,
							UINT64_MAX,
							UINT64_MAX - 1) <=
				    UINT64_C(1) << attempts[i]);
	}
	/* 2^62 * 8 would wrap to 0 with a naive shift. */
	assert_true(backoff_full_jitter(3, UINT64_C(1) << 62, UINT64_MAX,
					UINT64_MAX) == UINT64_MAX);
	assert_true(backoff_full_jitter(1, UINT64_C(1) << 63,
					UINT64_MAX - 1, UINT64_MAX - 1) ==
		    UINT64_MAX - 1);
}

static void test_backoff_bounds(void **state)
{
	static const uint64_t mins[] = { 0, 1, 100, 1000, UINT64_C(1) << 40 };
	static const uint64_t maxs[] = { 0, 1, 5000, 300000, UINT64_MAX };
	uint64_t x = UINT64_C(0x9E3779B97F4A7C15), r, c;
	unsigned att;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(mins) / sizeof(mins[0]); i++)
		for (j = 0; j < sizeof(maxs) / sizeof(maxs[0]); j++)
			for (att = 0; att < 200; att++) {
				/* xorshift64 for the random input */
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				c = cap_of(att, mins[i], maxs[j]);
				r = backoff_full_jitter(att, mins[i], maxs[j],
							x);
				assert_true(r <= c);
				assert_true(backoff_full_jitter(
						    att, mins[i], maxs[j],
						    c) == c);
			}
}

/* ---- excerpts ----------------------------------------------------------- */

static int utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0, k, j;

	while (i < n) {
		unsigned char c = s[i];
		unsigned lo = 0x80, hi = 0xBF;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			k = 2;
		else if (c >= 0xE0 && c <= 0xEF)
			k = 3, lo = c == 0xE0 ? 0xA0 : lo,
			hi = c == 0xED ? 0x9F : hi;
		else if (c >= 0xF0 && c <= 0xF4)
			k = 4, lo = c == 0xF0 ? 0x90 : lo,
			hi = c == 0xF4 ? 0x8F : hi;
		else
			return 0;
		if (i + k > n || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (j = 2; j < k; j++)
			if (s[i + j] < 0x80 || s[i + j] > 0xBF)
				return 0;
		i += k;
	}
	return 1;
}

static void check_clean(const char *out, size_t n, size_t cap)
{
	size_t i;

	assert_true(n < cap);
	assert_int_equal(strlen(out), n);
	assert_true(utf8_ok((const unsigned char *)out, n));
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];

		assert_true(c >= 0x20 && c != 0x7F);
		if (c == 0xC2 && i + 1 < n)
			assert_true((unsigned char)out[i + 1] >= 0xA0);
	}
}

static size_t excerpt(const char *in, size_t len, char *out, size_t cap)
{
	char *copy = malloc(len ? len : 1);
	size_t n;

	assert_non_null(copy);
	memcpy(copy, in, len);
	n = answer_excerpt(copy, len, out, cap);
	free(copy);
	return n;
}

static void test_excerpt_text(void **state)
{
	char out[ANSWER_EXCERPT_MAX];
	const char *t = "{\"message\": \"API rate limit exceeded\"}";
	const char *u = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";

	(void)state;
	assert_int_equal(excerpt(t, strlen(t), out, sizeof(out)), strlen(t));
	assert_string_equal(out, t);
	assert_int_equal(excerpt(u, strlen(u), out, sizeof(out)), strlen(u));
	assert_string_equal(out, u);
	excerpt("a\tb\r\nc\0d\x1b[31m\x7f", 14, out, sizeof(out));
	assert_string_equal(out, "a b  c?d?[31m?");
	/* C1 controls, bidi overrides; separators become spaces. */
	excerpt("x\xc2\x85y\xe2\x80\xaez\xe2\x81\xa6w\xe2\x80\xa8v", 16, out,
		sizeof(out));
	assert_string_equal(out, "x?y?z?w v");
	assert_int_equal(answer_excerpt(NULL, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(answer_excerpt(NULL, 5, out, sizeof(out)), 0);
	assert_int_equal(answer_excerpt("abc", 3, out, 0), 0);
	assert_int_equal(answer_excerpt("abc", 3, NULL, 10), 0);
}

static void test_excerpt_invalid_utf8(void **state)
{
	char out[64];

	(void)state;
	excerpt("a\xff" "b", 3, out, sizeof(out));
	assert_string_equal(out, "a?b");
	excerpt("\xc0\x80", 2, out, sizeof(out));         /* overlong NUL */
	assert_string_equal(out, "??");
	excerpt("\xed\xa0\x80", 3, out, sizeof(out));     /* surrogate */
	assert_string_equal(out, "???");
	excerpt("\xf4\x90\x80\x80", 4, out, sizeof(out)); /* > U+10FFFF */
	assert_string_equal(out, "????");
	excerpt("ab\xe2\x82", 4, out, sizeof(out));       /* cut short */
	assert_string_equal(out, "ab??");
	excerpt("\xe2\x82\xac", 2, out, sizeof(out));     /* len cuts it */
	assert_string_equal(out, "??");
}

static void test_excerpt_truncation(void **state)
{
	char big[1200], out[ANSWER_EXCERPT_MAX], tiny[4];
	size_t i, n;

	(void)state;
	memset(big, 'x', sizeof(big));
	n = excerpt(big, sizeof(big), out, sizeof(out));
	assert_int_equal(n, sizeof(out) - 1);
	assert_memory_equal(out + n - 3, "...", 3);
	/* Exactly fitting: no dots. */
	n = excerpt(big, sizeof(out) - 1, out, sizeof(out));
	assert_int_equal(n, sizeof(out) - 1);
	assert_int_equal(out[n - 1], 'x');
	/* Two-byte characters are never cut in half. */
	for (i = 0; i + 1 < sizeof(big); i += 2) {
		big[i] = (char)0xc3;
		big[i + 1] = (char)0xa9;
	}
	for (n = 0; n < 40; n++) {
		size_t cap = sizeof(out) - n, m;

		m = excerpt(big, sizeof(big), out, cap);
		check_clean(out, m, cap);
		assert_memory_equal(out + m - 3, "...", 3);
	}
	assert_int_equal(excerpt(big, sizeof(big), tiny, 1), 0);
	assert_int_equal(excerpt(big, sizeof(big), tiny, 3), 2);
	assert_string_equal(tiny, "..");
	assert_int_equal(excerpt("abcdef", 6, tiny, sizeof(tiny)), 3);
	assert_string_equal(tiny, "...");
	assert_int_equal(excerpt("abc", 3, tiny, sizeof(tiny)), 3);
	assert_string_equal(tiny, "abc");
}

static void test_excerpt_garbage(void **state)
{
	unsigned char buf[700];
	char out[ANSWER_EXCERPT_MAX];
	uint64_t x = 88172645463325252ULL;
	size_t round, i, len, cap, n;

	(void)state;
	for (round = 0; round < 3000; round++) {
		len = (size_t)(x % sizeof(buf));
		for (i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* Odd rounds: any byte; even ones: only bytes
			 * >= 0x80, the lead and continuation bytes. */
			buf[i] = (unsigned char)(round % 2 ? x : x | 0x80);
		}
		cap = 1 + (size_t)(x % sizeof(out));
		n = excerpt((const char *)buf, len, out, cap);
		check_clean(out, n, cap);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_classes),
		cmocka_unit_test(test_other_4xx_deliberate),
		cmocka_unit_test(test_nonsense_status),
		cmocka_unit_test(test_token_actions),
		cmocka_unit_test(test_curl_codes),
		cmocka_unit_test(test_classify_precedence),
		cmocka_unit_test(test_table_well_formed),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_status_lines),
		cmocka_unit_test(test_new_block_resets),
		cmocka_unit_test(test_retry_after_seconds),
		cmocka_unit_test(test_retry_after_hostile),
		cmocka_unit_test(test_retry_after_date),
		cmocka_unit_test(test_http_date),
		cmocka_unit_test(test_ratelimit_headers),
		cmocka_unit_test(test_ratelimit_hostile),
		cmocka_unit_test(test_ratelimit_lists_and_duplicates),
		cmocka_unit_test(test_malformed_lines),
		cmocka_unit_test(test_callback_edges),
		cmocka_unit_test(test_finish),
		cmocka_unit_test(test_pause_429),
		cmocka_unit_test(test_pause_dates),
		cmocka_unit_test(test_pause_other),
		cmocka_unit_test(test_pause_429_ratelimit),
		cmocka_unit_test(test_unanswered),
		cmocka_unit_test(test_backoff_values),
		cmocka_unit_test(test_backoff_overflow),
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_excerpt_text),
		cmocka_unit_test(test_excerpt_invalid_utf8),
		cmocka_unit_test(test_excerpt_truncation),
		cmocka_unit_test(test_excerpt_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
