/*
 * fuzz_answer.c - libFuzzer target for what the receiver answers: the
 * header lines curl hands to answer_header_cb() (status lines, Retry-After,
 * Date, RateLimit-*), the classification and pause built on them
 * (src/daemon/answer.c), the body excerpt kept for logs and the dead store, and
 * the OAuth token endpoint's JSON answer (auth_refresh_complete() in
 * src/daemon/auth.c).  Input: an HTTP answer as received, header lines, a blank
 * line, the body.
 */
#include "fuzz.h"

#include <errno.h>
#include <strings.h>

#include "answer.h"
#include "auth.h"
#include "spoolship.h"
#include "validate.h"

#define SECRET "s3cret-Zq9-client"

/* Feeds one header line to the callback from its own buffer of exactly
 * its length, as curl does (not NUL-terminated). */
static void feed(struct answer *a, const char *p, size_t n)
{
	char *line = malloc(n ? n : 1);

	FUZZ_CHECK(line != NULL);
	memcpy(line, p, n);
	FUZZ_CHECK(answer_header_cb(line, 1, n, a) == n);
	free(line);
}

/* The header lines of p[0..len); returns where the body starts.  After a
 * blank line, another status line (100 Continue, a redirect) starts a
 * new block, as curl passes them. */
static size_t headers(struct answer *a, const char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(p + i, '\n', len - i);
		size_t n = nl != NULL ? (size_t)(nl - p) - i + 1 : len - i;
		int blank = n == 1 || (n == 2 && p[i] == '\r');

		feed(a, p + i, n);
		i += n;
		if (blank && !(len - i >= 5 && strncasecmp(p + i, "HTTP/",
							   5) == 0))
			break;
	}
	return i;
}

static void check_answer(const struct answer *a)
{
	static const CURLcode codes[] = { CURLE_OK,
					  CURLE_HTTP_RETURNED_ERROR,
					  CURLE_OPERATION_TIMEDOUT };
	static const int64_t nows[] = { 0, FUZZ_NOW_MS,
					INT64_C(253402300799999) };

	FUZZ_CHECK(a->http_status == 0 ||
		   (a->http_status >= 100 && a->http_status <= 999));
	FUZZ_CHECK(a->retry_after_ms >= -1 &&
		   a->retry_after_ms <= ANSWER_PAUSE_MAX_MS);
	FUZZ_CHECK(a->rl_reset_ms >= -1 &&
		   a->rl_reset_ms <= ANSWER_PAUSE_MAX_MS);
	FUZZ_CHECK(a->rl_remaining >= -1 && a->rl_limit >= -1);
	FUZZ_CHECK(a->xrl_remaining_minute >= -1 &&
		   a->xrl_limit_minute >= -1);
	for (size_t i = 0; i < sizeof(codes) / sizeof(*codes); i++) {
		struct answer b = *a;
		const struct answer_rule *r;

		answer_finish(&b, codes[i], 0);
		r = answer_classify(&b);
		FUZZ_CHECK(r != NULL && r->action < ANSWER_ACTION_COUNT &&
			   r->token_action < ANSWER_ACTION_COUNT);
		FUZZ_CHECK(answer_class_of(r->action) < ANSWER_CLASS_COUNT);
		for (size_t j = 0; j < sizeof(nows) / sizeof(*nows); j++) {
			int64_t p = answer_pause_ms(&b, nows[j]);

			FUZZ_CHECK(p >= 0 && p <= ANSWER_PAUSE_MAX_MS);
		}
	}
}

/* Printable, valid UTF-8, within its buffer. */
static void check_excerpt(const char *body, size_t len)
{
	static const size_t caps[] = { 1, 2, 4, 5, 17, ANSWER_EXCERPT_MAX };
	char out[ANSWER_EXCERPT_MAX];

	for (size_t i = 0; i < sizeof(caps) / sizeof(*caps); i++) {
		size_t n = answer_excerpt(body, len, out, caps[i]);

		FUZZ_CHECK(n < caps[i] && out[n] == '\0');
		FUZZ_CHECK(strlen(out) == n);
		FUZZ_CHECK(validate_utf8(out, n));
		for (size_t k = 0; k < n; k++)
			FUZZ_CHECK((unsigned char)out[k] >= 0x20 &&
				   out[k] != 0x7f);
	}
}

/* The body as the token endpoint's answer: a secret never shows in the
 * message, a token taken is one that can go into a header. */
static void check_token(long status, const char *body, size_t len)
{
	struct auth_params p = {
		.mode = "oauth",
		.token_url = "https://auth.example.com/oauth/token",
		.client_id = "spoolship",
		.client_secret = SECRET,
		.refresh_margin_ms = 30000,
	};
	char err[512] = "";
	const char *hdr;
	struct auth *a;
	uint64_t gen;
	int rc;

	FUZZ_CHECK(auth_new(&p, &a, err, sizeof(err)) == 0);
	rc = auth_refresh_complete(a, status, body, len, 1000, err,
				   sizeof(err));
	FUZZ_CHECK(strstr(err, SECRET) == NULL);
	if (rc == 0) {
		FUZZ_CHECK(status >= 200 && status <= 299);
		FUZZ_CHECK(auth_header(a, 1000, &hdr, &gen) == 0);
		FUZZ_CHECK(strncmp(hdr, "Bearer ", 7) == 0);
		for (const char *c = hdr; *c != '\0'; c++)
			FUZZ_CHECK((unsigned char)*c >= 0x20 &&
				   *c != 0x7f);
		FUZZ_CHECK(!auth_needs_refresh(a, 1000));
	} else {
		FUZZ_CHECK(rc == SPOOLSHIP_EINVAL);
		FUZZ_CHECK(auth_header(a, 1000, &hdr, &gen) == -EAGAIN);
	}
	auth_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct answer a;
	size_t body;

	answer_init(&a);
	body = headers(&a, p, size);
	answer_finish(&a, CURLE_OK, 0);
	check_answer(&a);
	check_excerpt(p + body, size - body);
	check_token(a.http_status, p + body, size - body);
	return 0;
}
