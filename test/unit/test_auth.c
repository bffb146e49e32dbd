/*
 * test_auth.c - unit tests of auth.c: the header of every mode (base64 of
 * "KEY:" checked exactly), parameter checks, token answers good and bad,
 * refresh timing on a fake monotonic clock, the 401 rules, and that no
 * secret ever reaches an error message.  One test runs a real token
 * request through libcurl against a one-shot server on 127.0.0.1.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "answer.h"
#include "auth.h"
#include "spoolship.h"

#define SECRET "s3cr3t-Zq9"
#define TOKEN_URL "https://id.imply.io/auth/realms/org/protocol/" \
		  "openid-connect/token"
#define GOOD "{\"access_token\": \"tok-AAA\", \"expires_in\": 300, " \
	     "\"token_type\": \"bearer\"}"

static struct auth_params oauth_params(void)
{
	struct auth_params p;

	memset(&p, 0, sizeof(p));
	p.mode = "oauth";
	p.token_url = TOKEN_URL;
	p.client_id = "spoolship";
	p.client_secret = SECRET;
	p.refresh_margin_ms = 30000;
	return p;
}

static struct auth *make(const struct auth_params *p)
{
	struct auth *a = NULL;
	char err[256] = "";

	if (auth_new(p, &a, err, sizeof(err)) != 0)
		fail_msg("auth_new: %s", err);
	return a;
}

/* auth_new that must fail; its message must not hold any of the secrets
 * given (NULL-terminated). */
static void make_fails(const struct auth_params *p, const char *want,
		       const char *const *secrets)
{
	struct auth *a = NULL;
	char err[256] = "";

	assert_int_equal(auth_new(p, &a, err, sizeof(err)), SPOOLSHIP_EINVAL);
	assert_null(a);
	if (strstr(err, want) == NULL)
		fail_msg("'%s' does not say '%s'", err, want);
	for (; secrets != NULL && *secrets != NULL; secrets++)
		if (**secrets != '\0' && strstr(err, *secrets) != NULL)
			fail_msg("'%s' holds a secret", err);
}

/* Feeds a token answer from an exact-size heap copy. */
static int complete(struct auth *a, long status, const char *body,
		    int64_t now, char *err, size_t errlen)
{
	size_t len = body ? strlen(body) : 0;
	char *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	if (len)
		memcpy(copy, body, len);
	rc = auth_refresh_complete(a, status, body ? copy : NULL, len, now,
				   err, errlen);
	free(copy);
	return rc;
}

static void good_token(struct auth *a, const char *body, int64_t now)
{
	char err[256] = "";

	if (complete(a, 200, body, now, err, sizeof(err)) != 0)
		fail_msg("refresh: %s", err);
}

/* ---- modes ------------------------------------------------------------- */

static void test_mode_none(void **state)
{
	struct auth_params p;
	struct auth *a;
	const char *v = "x";
	uint64_t gen = 7;

	(void)state;
	memset(&p, 0, sizeof(p));
	a = make(&p); /* no mode at all is none */
	assert_int_equal(auth_mode(a), AUTH_NONE);
	assert_int_equal(auth_header(a, 0, &v, &gen), 0);
	assert_null(v);
	assert_int_equal(gen, 0);
	assert_int_equal(auth_needs_refresh(a, 0), 0);
	assert_true(auth_refresh_due_ms(a) == INT64_MAX);
	assert_int_equal(auth_invalidate(a, 0), AUTH_401_ALARM);
	assert_int_equal(auth_secrets(a, NULL, 0), 0);
	auth_free(a);
	p.mode = "none";
	a = make(&p);
	assert_int_equal(auth_mode(a), AUTH_NONE);
	auth_free(a);
	auth_free(NULL);
	assert_string_equal(auth_mode_name(AUTH_APIKEY), "apikey");
	assert_string_equal(auth_mode_name((enum auth_mode)9), "unknown");
}

static void test_mode_bearer(void **state)
{
	struct auth_params p;
	struct auth *a;
	const char *v, *sec[AUTH_MAX_SECRETS];

	(void)state;
	memset(&p, 0, sizeof(p));
	p.mode = "bearer";
	p.token = "static-TOKEN.123";
	a = make(&p);
	assert_int_equal(auth_header(a, 0, &v, NULL), 0);
	assert_string_equal(v, "Bearer static-TOKEN.123");
	assert_int_equal(auth_needs_refresh(a, INT64_MAX), 0);
	/* Nothing to refresh: a 401 is an alarm at once. */
	assert_int_equal(auth_invalidate(a, 0), AUTH_401_ALARM);
	assert_int_equal(auth_header(a, 0, &v, NULL), 0);
	assert_int_equal(auth_secrets(a, sec, AUTH_MAX_SECRETS), 1);
	assert_string_equal(sec[0], "static-TOKEN.123");
	auth_free(a);
}

static void check_apikey(const char *key, const char *want)
{
	struct auth_params p;
	struct auth *a;
	const char *v, *sec[AUTH_MAX_SECRETS];

	memset(&p, 0, sizeof(p));
	p.mode = "apikey";
	p.api_key = key;
	a = make(&p);
	assert_int_equal(auth_header(a, 12345, &v, NULL), 0);
	assert_string_equal(v, want);
	assert_int_equal(auth_secrets(a, sec, AUTH_MAX_SECRETS), 2);
	assert_string_equal(sec[0], key);
	assert_string_equal(sec[1], want + strlen("Basic "));
	auth_free(a);
}

static void test_mode_apikey(void **state)
{
	(void)state;
	/* base64("KEY:"): the key as user name, an empty password. */
	check_apikey("abc", "Basic YWJjOg==");
	check_apikey("a", "Basic YTo=");
	check_apikey("ab", "Basic YWI6");
	check_apikey("abcd", "Basic YWJjZDo=");
	check_apikey("pok_7Hq2", "Basic cG9rXzdIcTI6");
}

/* ---- parameter checks --------------------------------------------------- */

static void test_bad_params(void **state)
{
	const char *const secrets[] = { SECRET, "tok en", "k:ey", NULL };
	struct auth_params p;
	struct auth *a = NULL;
	char err[128];

	(void)state;
	memset(&p, 0, sizeof(p));
	p.mode = "Bearer-" SECRET;
	make_fails(&p, "unknown mode", secrets);
	p.mode = "bearer";
	make_fails(&p, "needs a token", secrets);
	p.token = "tok en";
	make_fails(&p, "not allowed in an HTTP header", secrets);
	p.token = "tok\r\nX-Evil: 1";
	make_fails(&p, "not allowed in an HTTP header", secrets);
	p.token = "ok";
	p.client_secret = SECRET;
	make_fails(&p, "client_secret is set but mode is bearer", secrets);

	memset(&p, 0, sizeof(p));
	p.mode = "apikey";
	make_fails(&p, "needs an api_key", secrets);
	p.api_key = "k:ey";
	make_fails(&p, "':'", secrets);
	p.api_key = "k\x01y";
	make_fails(&p, "not allowed", secrets);
	p.api_key = "key";
	p.token = SECRET;
	make_fails(&p, "token is set but mode is apikey", secrets);

	memset(&p, 0, sizeof(p));
	p.mode = "none";
	p.api_key = SECRET;
	make_fails(&p, "api_key is set but mode is none", secrets);

	p = oauth_params();
	p.token_url = "";
	make_fails(&p, "needs a token_url", secrets);
	p = oauth_params();
	p.client_id = NULL;
	make_fails(&p, "needs a client_id", secrets);
	p = oauth_params();
	p.client_secret = "";
	make_fails(&p, "needs a client_secret", secrets);
	p = oauth_params();
	p.refresh_margin_ms = -1;
	make_fails(&p, "refresh_margin_ms", secrets);
	p = oauth_params();
	p.api_key = "x";
	make_fails(&p, "api_key is set but mode is oauth", secrets);

	/* NULLs */
	assert_int_equal(auth_new(NULL, &a, err, sizeof(err)),
			 SPOOLSHIP_EINVAL);
	p = oauth_params();
	assert_int_equal(auth_new(&p, NULL, NULL, 0), SPOOLSHIP_EINVAL);
}

static void test_token_url(void **state)
{
	static const char *const ok[] = {
		TOKEN_URL, "HTTPS://id.example/token",
		"http://127.0.0.1:8080/token", "http://localhost/token",
		"http://[::1]:9/t", "http://127.1.2.3/t",
	};
	static const char *const bad[] = {
		"http://id.example/token", "ftp://id.example/token",
		"id.example/token", "not a url", "http://127.0.0.1.evil/t",
		"http://localhost.evil.example/t",
	};
	const char *const secrets[] = { SECRET, "pw-Q7", NULL };
	struct auth_params p = oauth_params();
	struct auth *a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		p.token_url = ok[i];
		a = make(&p);
		auth_free(a);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p.token_url = bad[i];
		make_fails(&p, "token_url", secrets);
	}
	p.token_url = "https://user:pw-Q7@id.example/token";
	make_fails(&p, "must not carry credentials", secrets);
}

/* ---- tokens ------------------------------------------------------------- */

static void test_refresh_timing(void **state)
{
	struct auth_params p = oauth_params();
	struct auth *a = make(&p);
	CURL *easy = curl_easy_init();
	const char *v;
	uint64_t gen;

	(void)state;
	assert_non_null(easy);
	/* No token yet. */
	assert_int_equal(auth_needs_refresh(a, 0), 1);
	assert_true(auth_refresh_due_ms(a) == INT64_MIN);
	assert_int_equal(auth_header(a, 0, &v, &gen), -EAGAIN);
	assert_null(v);
	/* The request leaves at 1000, the answer comes at 1500: the
	 * lifetime counts from 1000. */
	assert_int_equal(auth_refresh_request(a, easy, 5000, 1000), 0);
	good_token(a, GOOD, 1500);
	assert_int_equal(auth_header(a, 1500, &v, &gen), 0);
	assert_string_equal(v, "Bearer tok-AAA");
	assert_int_equal(gen, 1);
	assert_true(auth_refresh_due_ms(a) == 271000);
	assert_int_equal(auth_needs_refresh(a, 270999), 0);
	assert_int_equal(auth_needs_refresh(a, 271000), 1);
	/* Still usable inside the margin, not at expiry. */
	assert_int_equal(auth_header(a, 300999, &v, NULL), 0);
	assert_int_equal(auth_header(a, 301000, &v, NULL), -EAGAIN);
	/* Without a request start, the answer's time is the base. */
	good_token(a, "{\"access_token\":\"tok-BBB\",\"expires_in\":60}",
		   400000);
	assert_int_equal(auth_header(a, 400000, &v, &gen), 0);
	assert_string_equal(v, "Bearer tok-BBB");
	assert_int_equal(gen, 2);
	assert_true(auth_refresh_due_ms(a) == 430000); /* margin 30 s */
	/* A margin longer than half the lifetime is cut to half: a short
	 * token is not refreshed in a loop. */
	good_token(a, "{\"access_token\":\"tok-C\",\"expires_in\":10}", 0);
	assert_true(auth_refresh_due_ms(a) == 5000);
	assert_int_equal(auth_needs_refresh(a, 4999), 0);
	curl_easy_cleanup(easy);
	auth_free(a);
}

static void test_token_variants(void **state)
{
	struct auth_params p = oauth_params();
	struct auth *a = make(&p);
	const char *v;

	(void)state;
	/* expires_in as a string (some IdPs), token_type in capitals. */
	good_token(a, "{\"access_token\":\"t1\",\"expires_in\":\"120\","
		      "\"token_type\":\"Bearer\"}", 0);
	assert_true(auth_refresh_due_ms(a) == 90000);
	/* No expires_in: the default lifetime; no token_type: fine. */
	good_token(a, "{\"access_token\":\"t2\"}", 0);
	assert_true(auth_refresh_due_ms(a) ==
		    AUTH_DEFAULT_LIFETIME_MS - 30000);
	/* Fractions are cut, extra members ignored. */
	good_token(a, "{\"access_token\":\"t3\",\"expires_in\":100.9,"
		      "\"scope\":\"x\",\"refresh_token\":\"r\"}", 0);
	assert_true(auth_refresh_due_ms(a) == 70000);
	assert_int_equal(auth_header(a, 0, &v, NULL), 0);
	assert_string_equal(v, "Bearer t3");
	auth_free(a);
}

static void bad_answer(struct auth *a, long status, const char *body,
		       const char *want)
{
	char err[256] = "";
	const char *v;

	assert_int_equal(complete(a, status, body, 0, err, sizeof(err)),
			 SPOOLSHIP_EINVAL);
	if (strstr(err, want) == NULL)
		fail_msg("'%s' does not say '%s'", err, want);
	assert_null(strstr(err, SECRET));
	assert_null(strstr(err, "tok-AAA"));
	assert_int_equal(auth_header(a, 0, &v, NULL), -EAGAIN);
}

static void test_token_bad(void **state)
{
	struct auth_params p = oauth_params();
	struct auth *a = make(&p);
	char *big;

	(void)state;
	bad_answer(a, 200, "", "empty body");
	bad_answer(a, 200, NULL, "empty body");
	bad_answer(a, 200, "<html>tok-AAA</html>", "not JSON");
	bad_answer(a, 200, "[\"tok-AAA\"]", "not a JSON object");
	bad_answer(a, 200, "{}", "no access_token");
	bad_answer(a, 200, "{\"access_token\":42}", "not a string");
	bad_answer(a, 200, "{\"access_token\":null}", "not a string");
	bad_answer(a, 200, "{\"access_token\":\"\"}", "is empty");
	bad_answer(a, 200, "{\"access_token\":\"a\\r\\nX-Evil: 1\"}",
		   "not allowed in an HTTP header");
	bad_answer(a, 200, "{\"access_token\":\"a b\"}", "not allowed");
	bad_answer(a, 200, "{\"access_token\":\"tok-AAA\","
			   "\"expires_in\":\"abc\"}", "expires_in");
	bad_answer(a, 200, "{\"access_token\":\"tok-AAA\","
			   "\"expires_in\":\"\"}", "expires_in");
	bad_answer(a, 200, "{\"access_token\":\"tok-AAA\","
			   "\"expires_in\":-5}", "out of range");
	bad_answer(a, 200, "{\"access_token\":\"tok-AAA\","
			   "\"expires_in\":0}", "out of range");
	bad_answer(a, 200, "{\"access_token\":\"tok-AAA\","
			   "\"expires_in\":1e12}", "out of range");
	bad_answer(a, 200, "{\"access_token\":\"tok-AAA\","
			   "\"expires_in\":1e999}", "out of range");
	bad_answer(a, 200, "{\"access_token\":\"tok-AAA\","
			   "\"expires_in\":\"99999999999999999999999\"}",
		   "expires_in");
	bad_answer(a, 200, "{\"access_token\":\"tok-AAA\","
			   "\"expires_in\":true}", "not a number");
	bad_answer(a, 200, "{\"access_token\":\"tok-AAA\","
			   "\"expires_in\":[300]}", "not a number");
	bad_answer(a, 200, "{\"access_token\":\"tok-AAA\","
			   "\"token_type\":\"mac\"}", "token_type 'mac'");
	bad_answer(a, 200, "{\"access_token\":\"tok-AAA\","
			   "\"token_type\":7}", "token_type");
	bad_answer(a, 200, "{\"error\":\"invalid_grant\"}",
		   "OAuth error: invalid_grant");
	bad_answer(a, 0, NULL, "no answer");
	bad_answer(a, 401, "{\"error\":\"invalid_client\","
			   "\"error_description\":\"Invalid client "
			   "credentials\"}",
		   "HTTP 401: invalid_client (Invalid client credentials)");
	bad_answer(a, 400, "{\"error\":\"invalid_scope\"}",
		   "HTTP 400: invalid_scope");
	bad_answer(a, 502, "<html>Bad Gateway</html>",
		   "HTTP 502 (body is not JSON)");
	bad_answer(a, 503, "", "HTTP 503");
	/* An error description full of control bytes stays one line. */
	bad_answer(a, 400, "{\"error\":\"x\",\"error_description\":"
			   "\"a\\nb\\u0007c\"}", "x (a b?c)");
	big = malloc(AUTH_MAX_ANSWER_LEN + 2);
	assert_non_null(big);
	memset(big, ' ', AUTH_MAX_ANSWER_LEN + 1);
	big[AUTH_MAX_ANSWER_LEN + 1] = '\0';
	bad_answer(a, 200, big, "over 65536 bytes");
	free(big);
	/* Not an oauth auth. */
	{
		struct auth_params q;
		struct auth *b;
		char err[64];

		memset(&q, 0, sizeof(q));
		b = make(&q);
		assert_int_equal(auth_refresh_complete(b, 200, GOOD,
						       strlen(GOOD), 0, err,
						       sizeof(err)),
				 SPOOLSHIP_EINVAL);
		assert_int_equal(auth_refresh_request(b, NULL, 1000, 0),
				 SPOOLSHIP_EINVAL);
		auth_free(b);
	}
	auth_free(a);
}

static void test_failed_refresh_keeps_token(void **state)
{
	struct auth_params p = oauth_params();
	struct auth *a = make(&p);
	const char *v;
	char err[128];
	uint64_t gen;

	(void)state;
	good_token(a, GOOD, 0);
	assert_int_equal(auth_needs_refresh(a, 280000), 1);
	assert_int_equal(complete(a, 503, "", 280000, err, sizeof(err)),
			 SPOOLSHIP_EINVAL);
	/* The old token serves until its own expiry. */
	assert_int_equal(auth_header(a, 280000, &v, &gen), 0);
	assert_string_equal(v, "Bearer tok-AAA");
	assert_int_equal(gen, 1);
	assert_int_equal(auth_needs_refresh(a, 280000), 1);
	assert_int_equal(auth_header(a, 300000, &v, NULL), -EAGAIN);
	auth_free(a);
}

/* ---- 401 ---------------------------------------------------------------- */

static void test_401_rules(void **state)
{
	struct auth_params p = oauth_params();
	struct auth *a = make(&p);
	const char *v;
	uint64_t g1, g2, g3;

	(void)state;
	good_token(a, GOOD, 0);
	assert_int_equal(auth_header(a, 10, &v, &g1), 0);
	/* Expired or revoked at the server: refresh once and retry. */
	assert_int_equal(auth_invalidate(a, g1), AUTH_401_RETRY);
	assert_int_equal(auth_needs_refresh(a, 10), 1);
	assert_int_equal(auth_header(a, 10, &v, NULL), -EAGAIN);
	/* Another request that carried the same token: no alarm. */
	assert_int_equal(auth_invalidate(a, g1), AUTH_401_RETRY);
	good_token(a, GOOD, 20);
	assert_int_equal(auth_header(a, 20, &v, &g2), 0);
	assert_true(g2 > g1);
	/* Refused again right after the refresh: credentials alarm. */
	assert_int_equal(auth_invalidate(a, g2), AUTH_401_ALARM);
	assert_int_equal(auth_needs_refresh(a, 20), 1);
	/* After the backoff a new token is fetched; refused again: still
	 * an alarm, never a tight refresh loop. */
	good_token(a, GOOD, 30);
	assert_int_equal(auth_header(a, 30, &v, &g3), 0);
	assert_int_equal(auth_invalidate(a, g3), AUTH_401_ALARM);
	/* Credentials fixed: accepted, and the next 401 is routine. */
	good_token(a, GOOD, 40);
	assert_int_equal(auth_header(a, 40, &v, &g3), 0);
	auth_accepted(a, g3);
	assert_int_equal(auth_invalidate(a, g3), AUTH_401_RETRY);
	auth_free(a);
}

static void test_401_stale_generation(void **state)
{
	struct auth_params p = oauth_params();
	struct auth *a = make(&p);
	const char *v;
	uint64_t old, cur;

	(void)state;
	good_token(a, GOOD, 0);
	assert_int_equal(auth_header(a, 0, &v, &old), 0);
	good_token(a, GOOD, 100);
	assert_int_equal(auth_header(a, 100, &v, &cur), 0);
	/* A request with the previous token raced the refresh: retry,
	 * keep the new token. */
	assert_int_equal(auth_invalidate(a, old), AUTH_401_RETRY);
	assert_int_equal(auth_header(a, 100, &v, NULL), 0);
	assert_int_equal(auth_needs_refresh(a, 100), 0);
	/* An accept of an old generation does not confirm the new one. */
	auth_accepted(a, old);
	assert_int_equal(auth_invalidate(a, cur), AUTH_401_RETRY);
	good_token(a, GOOD, 200);
	assert_int_equal(auth_header(a, 200, &v, &cur), 0);
	auth_accepted(a, old);
	assert_int_equal(auth_invalidate(a, cur), AUTH_401_ALARM);
	/* Startup: the very first token refused, retried once. */
	auth_free(a);
	a = make(&p);
	good_token(a, GOOD, 0);
	assert_int_equal(auth_header(a, 0, &v, &cur), 0);
	assert_int_equal(auth_invalidate(a, cur), AUTH_401_RETRY);
	auth_free(a);
}

/* ---- secrets ------------------------------------------------------------ */

static void test_secrets_and_mask(void **state)
{
	struct auth_params p = oauth_params();
	struct auth *a;
	const char *sec[AUTH_MAX_SECRETS], *one[1];
	char msg[256];
	size_t n, i;
	int saw_esc = 0, saw_tok = 0;

	(void)state;
	p.client_secret = "pa ss&word=" SECRET;
	a = make(&p);
	n = auth_secrets(a, sec, AUTH_MAX_SECRETS);
	assert_int_equal(n, 2); /* the secret and its encoded form */
	good_token(a, GOOD, 0);
	n = auth_secrets(a, sec, AUTH_MAX_SECRETS);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		saw_esc |= strcmp(sec[i], "pa%20ss%26word%3D" SECRET) == 0;
		saw_tok |= strcmp(sec[i], "tok-AAA") == 0;
	}
	assert_true(saw_esc && saw_tok);
	/* More than max: the count is still the total. */
	assert_int_equal(auth_secrets(a, one, 1), 3);
	snprintf(msg, sizeof(msg), "x %s y tok-AAA z %s", p.client_secret,
		 "pa%20ss%26word%3D" SECRET);
	auth_mask(a, msg);
	assert_string_equal(msg, "x *** y *** z ***");
	auth_mask(a, NULL);
	auth_free(a);

	/* Secrets shorter than the mask are overwritten in place. */
	{
		struct auth_params q;

		memset(&q, 0, sizeof(q));
		q.mode = "bearer";
		q.token = "ab";
		a = make(&q);
		snprintf(msg, sizeof(msg), "cab abc");
		auth_mask(a, msg);
		assert_string_equal(msg, "c** **c");
		auth_free(a);
	}
}

/* The IdP echoes the secret back in its error: it must be masked, also
 * when the message is cut short right inside the secret. */
static void test_secret_never_in_errors(void **state)
{
	struct auth_params p = oauth_params();
	struct auth *a = make(&p);
	char err[512], small[40];
	const char *body = "{\"error\":\"invalid_client\","
			   "\"error_description\":\"secret " SECRET
			   " is wrong\"}";
	size_t cut;

	(void)state;
	assert_int_equal(complete(a, 401, body, 0, err, sizeof(err)),
			 SPOOLSHIP_EINVAL);
	assert_null(strstr(err, SECRET));
	assert_non_null(strstr(err, "secret *** is wrong"));
	for (cut = 1; cut < sizeof(small); cut++) {
		assert_int_equal(complete(a, 401, body, 0, small, cut),
				 SPOOLSHIP_EINVAL);
		assert_null(strstr(small, "s3cr"));
	}
	/* A long description cut to an excerpt right inside the secret:
	 * masking must come before the cut. */
	{
		char longbody[512];
		char pad[151];

		memset(pad, 'x', 150);
		pad[150] = '\0';
		snprintf(longbody, sizeof(longbody),
			 "{\"error\":\"invalid_client\","
			 "\"error_description\":\"%s%s%s\"}", pad, SECRET,
			 "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
		assert_int_equal(complete(a, 401, longbody, 0, err,
					  sizeof(err)), SPOOLSHIP_EINVAL);
		assert_null(strstr(err, "s3cr"));
		assert_non_null(strstr(err, "x***y"));
	}
	/* The error member itself, in a 2xx answer. */
	body = "{\"error\":\"" SECRET "\"}";
	assert_int_equal(complete(a, 200, body, 0, err, sizeof(err)),
			 SPOOLSHIP_EINVAL);
	assert_null(strstr(err, SECRET));
	auth_free(a);
}

/* ---- a real token request over loopback ------------------------------- */

struct server {
	pid_t pid;
	int port;
	int req_fd; /* read end: the request the server saw */
};

/* Forks a server that accepts one connection on 127.0.0.1, sends the
 * request it read back through a pipe, and answers with `response`. */
static void serve_once(struct server *sv, const char *response)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int ls, fds[2], one = 1;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(ls >= 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(ls, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(ls, 1), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sin, &sl), 0);
	sv->port = ntohs(sin.sin_port);
	assert_int_equal(pipe(fds), 0);
	sv->pid = fork();
	assert_true(sv->pid >= 0);
	if (sv->pid == 0) {
		char req[8192];
		size_t got = 0;
		ssize_t r;
		char *hdr_end, *cl;
		size_t want = 0;
		int c;

		alarm(10);
		close(fds[0]);
		c = accept(ls, NULL, NULL);
		if (c < 0)
			_exit(1);
		for (;;) {
			r = read(c, req + got, sizeof(req) - 1 - got);
			if (r <= 0)
				break;
			got += (size_t)r;
			req[got] = '\0';
			hdr_end = strstr(req, "\r\n\r\n");
			if (hdr_end == NULL)
				continue;
			cl = strstr(req, "Content-Length: ");
			want = (size_t)(hdr_end + 4 - req);
			if (cl != NULL)
				want += strtoul(cl + 16, NULL, 10);
			if (got >= want)
				break;
		}
		if (write(fds[1], req, got) < 0 ||
		    write(c, response, strlen(response)) < 0)
			_exit(1);
		close(c);
		_exit(0);
	}
	close(ls);
	close(fds[1]);
	sv->req_fd = fds[0];
}

/* The request the server saw, NUL-terminated, into buf. */
static void server_done(struct server *sv, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t r;
	int status;

	while (got + 1 < cap &&
	       (r = read(sv->req_fd, buf + got, cap - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	close(sv->req_fd);
	assert_int_equal(waitpid(sv->pid, &status, 0), sv->pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

struct body {
	char buf[4096];
	size_t len;
};

static size_t body_cb(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n, room = sizeof(b->buf) - 1 - b->len;

	/* Keep what fits, never abort (see answer.h). */
	memcpy(b->buf + b->len, p, len < room ? len : room);
	b->len += len < room ? len : room;
	b->buf[b->len] = '\0';
	return len;
}

/* Runs a whole token request against a one-shot server; returns what
 * auth_refresh_complete() returned and fills req, ans and err. */
static int token_round(struct auth *a, const char *response, char *req,
		       size_t reqcap, struct answer *ans, char *err,
		       size_t errlen)
{
	struct server sv;
	struct body body;
	CURL *easy = curl_easy_init();
	CURLcode rc;
	long status = 0;
	int ret;

	assert_non_null(easy);
	serve_once(&sv, response);
	/* The URL given to auth_new names port 1; point it at ours. */
	{
		char url[64];

		snprintf(url, sizeof(url), "http://127.0.0.1:%d/token",
			 sv.port);
		assert_int_equal(auth_refresh_request(a, easy, 5000, 1000), 0);
		assert_int_equal(curl_easy_setopt(easy, CURLOPT_URL, url),
				 CURLE_OK);
	}
	answer_init(ans);
	body.len = 0;
	body.buf[0] = '\0';
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, answer_header_cb);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, ans);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
	rc = curl_easy_perform(easy);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	answer_finish(ans, rc, status);
	server_done(&sv, req, reqcap);
	ret = auth_refresh_complete(a, rc == CURLE_OK ? status : 0, body.buf,
				    body.len, 1200, err, errlen);
	curl_easy_cleanup(easy);
	return ret;
}

static void test_token_request_over_loopback(void **state)
{
	static const char ok[] =
		"HTTP/1.1 200 OK\r\n"
		"Content-Type: application/json\r\n"
		"Content-Length: 71\r\n"
		"Connection: close\r\n\r\n"
		"{\"access_token\": \"tok-LOOP\", \"expires_in\": 300, "
		"\"token_type\": \"bearer\"}";
	struct auth_params p = oauth_params();
	struct auth *a;
	struct answer ans;
	char req[8192], err[256] = "";
	const char *v, *b;

	(void)state;
	assert_int_equal(strlen(ok) - (size_t)(strstr(ok, "\r\n\r\n") + 4 -
					       ok), 71);
	p.token_url = "http://127.0.0.1:1/token";
	p.client_id = "my id";
	p.client_secret = "s&cr=t " SECRET;
	p.scope = "events:write";
	a = make(&p);
	if (token_round(a, ok, req, sizeof(req), &ans, err, sizeof(err)))
		fail_msg("refresh: %s", err);
	assert_int_equal(answer_classify(&ans)->token_action, ANSWER_ACK);
	assert_non_null(strstr(req, "POST /token HTTP/1.1\r\n"));
	assert_non_null(strstr(req, "\r\nAccept: application/json\r\n"));
	assert_non_null(strstr(req, "\r\nContent-Type: "
				    "application/x-www-form-urlencoded\r\n"));
	assert_null(strstr(req, "Expect:"));
	b = strstr(req, "\r\n\r\n");
	assert_non_null(b);
	assert_string_equal(b + 4, "grant_type=client_credentials"
				   "&client_id=my%20id"
				   "&client_secret=s%26cr%3Dt%20" SECRET
				   "&scope=events%3Awrite");
	assert_int_equal(auth_header(a, 1200, &v, NULL), 0);
	assert_string_equal(v, "Bearer tok-LOOP");
	assert_true(auth_refresh_due_ms(a) == 1000 + 300000 - 30000);
	auth_free(a);
}

static void test_token_refused_over_loopback(void **state)
{
	static const char refused[] =
		"HTTP/1.1 401 Unauthorized\r\n"
		"Content-Type: application/json\r\n"
		"Retry-After: 30\r\n"
		"Content-Length: 70\r\n"
		"Connection: close\r\n\r\n"
		"{\"error\":\"invalid_client\",\"error_description\":"
		"\"bad secret s3cr3t-Zq9\"}";
	struct auth_params p = oauth_params();
	struct auth *a;
	struct answer ans;
	char req[8192], err[256] = "";

	(void)state;
	p.token_url = "http://localhost:1/token";
	a = make(&p);
	assert_int_equal(token_round(a, refused, req, sizeof(req), &ans, err,
				     sizeof(err)), SPOOLSHIP_EINVAL);
	assert_int_equal(ans.http_status, 401);
	assert_int_equal(ans.retry_after_ms, 30000);
	assert_int_equal(answer_classify(&ans)->token_action, ANSWER_ALARM);
	assert_string_equal(err, "auth: token endpoint answered HTTP 401: "
				 "invalid_client (bad secret ***)");
	auth_free(a);
}

static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	curl_global_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_none),
		cmocka_unit_test(test_mode_bearer),
		cmocka_unit_test(test_mode_apikey),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_token_url),
		cmocka_unit_test(test_refresh_timing),
		cmocka_unit_test(test_token_variants),
		cmocka_unit_test(test_token_bad),
		cmocka_unit_test(test_failed_refresh_keeps_token),
		cmocka_unit_test(test_401_rules),
		cmocka_unit_test(test_401_stale_generation),
		cmocka_unit_test(test_secrets_and_mask),
		cmocka_unit_test(test_secret_never_in_errors),
		cmocka_unit_test(test_token_request_over_loopback),
		cmocka_unit_test(test_token_refused_over_loopback),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
