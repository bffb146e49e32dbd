/*
 * answer.c - the one table that says what each answer of the receiver
 * means (STYLE rule 4), and the parsers of the headers that say when to
 * send again.  Everything here is pure: no I/O, no clock, no allocation.
 * It must never trust a header: values are bounded, lines may be garbage.
 */
#define _POSIX_C_SOURCE 200809L
#include "answer.h"
#include "validate.h"

#include <limits.h>
#include <string.h>
#include <time.h>

#include "spoolship.h"

#define MS_PER_SEC INT64_C(1000)
/* Header numbers saturate here: far above any real quota, far below
 * anything that could overflow once turned into milliseconds. */
#define NUM_SAT (INT64_C(1) << 40)
/* Years 0000..9999, the range of the strict parser, in seconds: dates
 * curl_getdate() makes of odd input stay as bounded (found by fuzzing: a
 * time_t far out overflowed once turned into milliseconds). */
#define DATE_MIN_S INT64_C(-62167219200)
#define DATE_MAX_S INT64_C(253402300799)

/* ---- the table ---------------------------------------------------------
 *
 * Why each row, briefly (docs/events-api.md gives the main ones):
 * - 4xx other than 400, 401, 413 and 429 refuse the request as a whole,
 *   whatever events it holds, so bisecting would wrongly bury good events
 *   in the dead store: they are destination alarms that keep the data,
 *   unless the status says the same request may pass later (408, 409,
 *   421, 423, 424, 425), which is a plain retry.
 * - 5xx are the service's transient failures and are retried, except 501
 *   and 505 (the server does not do what we ask: a wrong URL or protocol)
 *   and 511 (a captive portal): alarms.
 * - A curl failure is retried when the network or the peer may recover
 *   (DNS, refused or reset connections, timeouts, TLS handshakes), is a
 *   destination alarm when the peer is reachable but unacceptable
 *   (certificate verification, pinned key, redirect loop), and is fatal
 *   only when our own setup is broken in a way no retry can fix (URL
 *   syntax, CA or client certificate file, unknown option, no support
 *   built in).  An unknown future curl code is retried: that keeps the
 *   data and the daemon.
 * - On the OAuth token request the event-specific actions make no sense:
 *   400 and 401 there mean the IdP refuses our client credentials
 *   (RFC 6749 §5.2 allows both), 413 cannot come from a form of a few
 *   hundred bytes: all three are credentials/configuration alarms.
 */
#define S ANSWER_BY_STATUS
#define C ANSWER_BY_CURL
#define ACK ANSWER_ACK
#define BISECT ANSWER_BISECT
#define REFRESH ANSWER_AUTH_REFRESH
#define ALARM ANSWER_ALARM
#define SPLIT ANSWER_SPLIT
#define RATE ANSWER_RATE_LIMITED
#define RETRY ANSWER_RETRY
#define FATAL ANSWER_FATAL

static const struct answer_rule rules[] = {
	/* HTTP statuses: specific rows first, then the ranges. */
	{ S, 200, 299, ACK, ACK, "ok",
	  "the receiver took the batch" },
	{ S, 400, 400, BISECT, ALARM, "bad_request",
	  "an event in the batch is refused: isolate it by bisection" },
	{ S, 401, 401, REFRESH, ALARM, "unauthorized",
	  "token expired or credentials wrong: refresh once, then alarm" },
	{ S, 402, 402, ALARM, ALARM, "payment_required",
	  "an account or billing matter: no retry changes it" },
	{ S, 403, 403, ALARM, ALARM, "forbidden",
	  "the credentials lack the permission" },
	{ S, 404, 404, ALARM, ALARM, "not_found",
	  "unknown table or connection: a URL or table name mistake" },
	{ S, 405, 405, ALARM, ALARM, "method_not_allowed",
	  "the URL is not an Events API endpoint" },
	{ S, 406, 406, ALARM, ALARM, "not_acceptable",
	  "the server cannot answer in a form we accept" },
	{ S, 407, 407, ALARM, ALARM, "proxy_auth",
	  "a proxy wants credentials we do not have" },
	{ S, 408, 408, RETRY, RETRY, "request_timeout",
	  "the server tired of waiting for the request: transient" },
	{ S, 409, 409, RETRY, RETRY, "conflict",
	  "a state conflict at the receiver that may clear" },
	{ S, 410, 410, ALARM, ALARM, "gone",
	  "the table or connection was deleted" },
	{ S, 411, 411, ALARM, ALARM, "length_required",
	  "the receiver refuses chunked bodies: sender configuration" },
	{ S, 412, 412, ALARM, ALARM, "precondition_failed",
	  "we send no preconditions: something between us rewrites" },
	{ S, 413, 413, SPLIT, ALARM, "too_large",
	  "the body is over the size limit: split the batch" },
	{ S, 414, 414, ALARM, ALARM, "uri_too_long",
	  "the URL template or table name is too long" },
	{ S, 415, 415, ALARM, ALARM, "unsupported_media_type",
	  "Content-Type or Content-Encoding (gzip) refused: configuration" },
	{ S, 417, 417, ALARM, ALARM, "expectation_failed",
	  "Expect: 100-continue refused: send without it" },
	{ S, 421, 421, RETRY, RETRY, "misdirected",
	  "a reused connection the server cannot serve: a new one may" },
	{ S, 422, 422, ALARM, ALARM, "unprocessable",
	  "the request's content refused as a whole (schema, table "
	  "setup), not one event: keep the data" },
	{ S, 423, 423, RETRY, RETRY, "locked",
	  "the resource is locked for now" },
	{ S, 424, 424, RETRY, RETRY, "failed_dependency",
	  "an earlier request it depends on failed: transient" },
	{ S, 425, 425, RETRY, RETRY, "too_early",
	  "TLS early data refused: the retry goes after the handshake" },
	{ S, 426, 426, ALARM, ALARM, "upgrade_required",
	  "another protocol or TLS version needed: configuration" },
	{ S, 428, 428, ALARM, ALARM, "precondition_required",
	  "the receiver wants conditional requests we never send" },
	{ S, 429, 429, RATE, RATE, "rate_limited",
	  "over the rate limit: pause Retry-After, else RateLimit-Reset" },
	{ S, 431, 431, ALARM, ALARM, "headers_too_large",
	  "our request headers (a huge token?) are refused" },
	{ S, 451, 451, ALARM, ALARM, "legal",
	  "unavailable for legal reasons" },
	{ S, 400, 499, ALARM, ALARM, "client_error",
	  "another refusal of the request as a whole: keep the data" },
	{ S, 501, 501, ALARM, ALARM, "not_implemented",
	  "the server does not do POST here: a wrong URL, not an outage" },
	{ S, 505, 505, ALARM, ALARM, "http_version",
	  "HTTP version refused: configuration" },
	{ S, 511, 511, ALARM, ALARM, "network_auth",
	  "a captive portal wants a login" },
	{ S, 500, 599, RETRY, RETRY, "server_error",
	  "a transient failure of the service or its gateway" },
	{ S, 300, 399, ALARM, ALARM, "redirect",
	  "the URL moved; a POST is never followed: fix the URL" },
	{ S, 100, 199, RETRY, RETRY, "informational",
	  "a 1xx as final answer is a protocol slip: try again" },
	{ S, INT_MIN, INT_MAX, ALARM, ALARM, "bad_status",
	  "no status, or one outside 100..599: not an Events API" },

	/* curl results: our own setup, no retry can fix it. */
	{ C, CURLE_UNSUPPORTED_PROTOCOL, CURLE_UNSUPPORTED_PROTOCOL,
	  FATAL, FATAL, "url_scheme", "the URL's scheme is not supported" },
	{ C, CURLE_FAILED_INIT, CURLE_FAILED_INIT, FATAL, FATAL,
	  "curl_init", "curl could not initialise" },
	{ C, CURLE_URL_MALFORMAT, CURLE_URL_MALFORMAT, FATAL, FATAL,
	  "url", "the URL is malformed" },
	{ C, CURLE_NOT_BUILT_IN, CURLE_NOT_BUILT_IN, FATAL, FATAL,
	  "not_built_in", "a feature asked for is not built into libcurl" },
	{ C, CURLE_HTTP_POST_ERROR, CURLE_HTTP_POST_ERROR, FATAL, FATAL,
	  "curl_usage", "the POST was set up wrongly" },
	{ C, CURLE_FILE_COULDNT_READ_FILE, CURLE_FILE_COULDNT_READ_FILE,
	  FATAL, FATAL, "local_file",
	  "a local file curl needs is unreadable" },
	{ C, CURLE_FUNCTION_NOT_FOUND, CURLE_FUNCTION_NOT_FOUND, FATAL, FATAL,
	  "curl_usage", "curl could not find a function it needs" },
	{ C, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_BAD_FUNCTION_ARGUMENT,
	  FATAL, FATAL, "curl_usage", "curl was called wrongly" },
	{ C, CURLE_UNKNOWN_OPTION, CURLE_SETOPT_OPTION_SYNTAX, FATAL, FATAL,
	  "curl_option", "an option this libcurl does not know or refuses" },
	{ C, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
	  FATAL, FATAL, "tls_engine", "the TLS engine cannot be used" },
	{ C, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CERTPROBLEM, FATAL, FATAL,
	  "client_cert_file", "our client certificate or key is unusable" },
	{ C, CURLE_SSL_CIPHER, CURLE_SSL_CIPHER, FATAL, FATAL,
	  "tls_cipher", "the configured cipher list is unusable" },
	{ C, CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_ENGINE_INITFAILED,
	  FATAL, FATAL, "tls_engine", "the TLS engine did not initialise" },
	{ C, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CACERT_BADFILE, FATAL, FATAL,
	  "ca_file", "the CA file is missing or unreadable" },
	{ C, CURLE_SSL_CRL_BADFILE, CURLE_SSL_CRL_BADFILE, FATAL, FATAL,
	  "crl_file", "the CRL file is missing or unreadable" },
	{ C, CURLE_RECURSIVE_API_CALL, CURLE_RECURSIVE_API_CALL, FATAL, FATAL,
	  "curl_usage", "curl called from inside a curl callback" },
	{ C, CURLE_UNRECOVERABLE_POLL, CURLE_UNRECOVERABLE_POLL, FATAL, FATAL,
	  "poll", "poll() failed for good in curl" },

	/* curl results: the peer is reachable but not acceptable. */
	{ C, CURLE_REMOTE_ACCESS_DENIED, CURLE_REMOTE_ACCESS_DENIED,
	  ALARM, ALARM, "access_denied", "the server denied access" },
	{ C, CURLE_TOO_MANY_REDIRECTS, CURLE_TOO_MANY_REDIRECTS, ALARM, ALARM,
	  "redirect_loop", "the URL redirects in a loop" },
	{ C, CURLE_PEER_FAILED_VERIFICATION, CURLE_PEER_FAILED_VERIFICATION,
	  ALARM, ALARM, "tls_verify",
	  "the server's certificate does not verify: keep data, alarm" },
	{ C, CURLE_BAD_CONTENT_ENCODING, CURLE_BAD_CONTENT_ENCODING,
	  ALARM, ALARM, "content_encoding",
	  "the answer's encoding cannot be decoded, every time" },
	{ C, CURLE_FILESIZE_EXCEEDED, CURLE_FILESIZE_EXCEEDED, ALARM, ALARM,
	  "answer_too_large", "the answer is over the configured size" },
	{ C, CURLE_USE_SSL_FAILED, CURLE_USE_SSL_FAILED, ALARM, ALARM,
	  "tls_required", "TLS was required and the server did not do it" },
	{ C, CURLE_LOGIN_DENIED, CURLE_LOGIN_DENIED, ALARM, ALARM,
	  "login_denied", "the server refused the login" },
	{ C, CURLE_REMOTE_FILE_NOT_FOUND, CURLE_REMOTE_FILE_NOT_FOUND,
	  ALARM, ALARM, "not_found", "the resource does not exist" },
	{ C, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_ISSUER_ERROR, ALARM, ALARM,
	  "tls_issuer", "the server certificate's issuer check failed" },
	{ C, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
	  ALARM, ALARM, "tls_pin", "the server's key is not the pinned one" },
	{ C, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_INVALIDCERTSTATUS,
	  ALARM, ALARM, "tls_cert_status", "the certificate status is bad" },
	{ C, CURLE_AUTH_ERROR, CURLE_AUTH_ERROR, ALARM, ALARM,
	  "auth_error", "curl's authentication step failed" },
	{ C, CURLE_SSL_CLIENTCERT, CURLE_SSL_CLIENTCERT, ALARM, ALARM,
	  "tls_client_cert", "the server refused our client certificate" },

	/* curl results: the network or the peer may recover. */
	{ C, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_RESOLVE_PROXY,
	  RETRY, RETRY, "dns_proxy", "the proxy's name does not resolve" },
	{ C, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_HOST,
	  RETRY, RETRY, "dns", "the host name does not resolve (yet)" },
	{ C, CURLE_COULDNT_CONNECT, CURLE_COULDNT_CONNECT, RETRY, RETRY,
	  "connect", "connection refused or unreachable" },
	{ C, CURLE_WEIRD_SERVER_REPLY, CURLE_WEIRD_SERVER_REPLY, RETRY, RETRY,
	  "weird_reply", "the server's reply made no sense" },
	{ C, CURLE_HTTP2, CURLE_HTTP2, RETRY, RETRY,
	  "http2", "an HTTP/2 framing error" },
	{ C, CURLE_PARTIAL_FILE, CURLE_PARTIAL_FILE, RETRY, RETRY,
	  "partial", "the answer was cut off" },
	{ C, CURLE_WRITE_ERROR, CURLE_WRITE_ERROR, RETRY, RETRY,
	  "write_callback", "our body callback stopped the transfer" },
	{ C, CURLE_UPLOAD_FAILED, CURLE_UPLOAD_FAILED, RETRY, RETRY,
	  "upload", "sending the body failed" },
	{ C, CURLE_READ_ERROR, CURLE_READ_ERROR, RETRY, RETRY,
	  "read_callback", "our read callback failed" },
	{ C, CURLE_OUT_OF_MEMORY, CURLE_OUT_OF_MEMORY, RETRY, RETRY,
	  "out_of_memory", "curl ran out of memory" },
	{ C, CURLE_OPERATION_TIMEDOUT, CURLE_OPERATION_TIMEDOUT, RETRY, RETRY,
	  "timeout", "the request timed out" },
	{ C, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CONNECT_ERROR, RETRY, RETRY,
	  "tls_handshake", "the TLS handshake failed" },
	{ C, CURLE_ABORTED_BY_CALLBACK, CURLE_ABORTED_BY_CALLBACK,
	  RETRY, RETRY, "aborted", "we aborted the transfer (shutdown)" },
	{ C, CURLE_INTERFACE_FAILED, CURLE_INTERFACE_FAILED, RETRY, RETRY,
	  "interface", "the outgoing interface is not usable (yet)" },
	{ C, CURLE_GOT_NOTHING, CURLE_GOT_NOTHING, RETRY, RETRY,
	  "empty_reply", "the server closed without answering" },
	{ C, CURLE_SEND_ERROR, CURLE_RECV_ERROR, RETRY, RETRY,
	  "connection_reset", "sending or receiving failed" },
	{ C, CURLE_SEND_FAIL_REWIND, CURLE_SEND_FAIL_REWIND, RETRY, RETRY,
	  "rewind", "the body could not be sent again" },
	{ C, CURLE_SSL_SHUTDOWN_FAILED, CURLE_AGAIN, RETRY, RETRY,
	  "tls_shutdown", "the TLS connection did not close cleanly" },
	{ C, CURLE_NO_CONNECTION_AVAILABLE, CURLE_NO_CONNECTION_AVAILABLE,
	  RETRY, RETRY, "no_connection", "no connection free in the pool" },
	{ C, CURLE_HTTP2_STREAM, CURLE_HTTP2_STREAM, RETRY, RETRY,
	  "http2_stream", "the HTTP/2 stream was reset" },
	{ C, CURLE_HTTP3, CURLE_QUIC_CONNECT_ERROR, RETRY, RETRY,
	  "http3", "an HTTP/3 or QUIC failure" },
	{ C, CURLE_PROXY, CURLE_PROXY, RETRY, RETRY,
	  "proxy", "the proxy handshake failed" },
	{ C, INT_MIN, INT_MAX, RETRY, RETRY, "curl_error",
	  "another curl failure: retrying keeps the data and the daemon" },
};

#undef S
#undef C
#undef ACK
#undef BISECT
#undef REFRESH
#undef ALARM
#undef SPLIT
#undef RATE
#undef RETRY
#undef FATAL

#define NRULES (sizeof(rules) / sizeof(rules[0]))

static const struct {
	const char *name;
	enum answer_class cls;
} actions[ANSWER_ACTION_COUNT] = {
	[ANSWER_ACK] = { "ack", ANSWER_CLASS_OK },
	[ANSWER_BISECT] = { "bisect", ANSWER_CLASS_POISON },
	[ANSWER_AUTH_REFRESH] = { "auth_refresh", ANSWER_CLASS_DESTINATION },
	[ANSWER_ALARM] = { "alarm", ANSWER_CLASS_DESTINATION },
	[ANSWER_SPLIT] = { "split", ANSWER_CLASS_POISON },
	[ANSWER_RATE_LIMITED] = { "rate_limited", ANSWER_CLASS_RETRIABLE },
	[ANSWER_RETRY] = { "retry", ANSWER_CLASS_RETRIABLE },
	[ANSWER_FATAL] = { "fatal", ANSWER_CLASS_FATAL },
};

static const char *const class_names[ANSWER_CLASS_COUNT] = {
	[ANSWER_CLASS_OK] = "ok",
	[ANSWER_CLASS_RETRIABLE] = "retriable",
	[ANSWER_CLASS_POISON] = "poison",
	[ANSWER_CLASS_DESTINATION] = "destination",
	[ANSWER_CLASS_FATAL] = "fatal",
};

static const struct answer_rule *lookup(enum answer_match by, int v)
{
	size_t i;

	for (i = 0; i < NRULES; i++) {
		if (rules[i].by == by && v >= rules[i].lo && v <= rules[i].hi)
			return &rules[i];
	}
	/* Unreachable: each kind ends with an INT_MIN..INT_MAX row. */
	return &rules[NRULES - 1];
}

const struct answer_rule *answer_rule_for_status(int status)
{
	return lookup(ANSWER_BY_STATUS, status);
}

const struct answer_rule *answer_rule_for_curl(CURLcode code)
{
	return lookup(ANSWER_BY_CURL, (int)code);
}

const struct answer_rule *answer_classify(const struct answer *a)
{
	if (a == NULL)
		return answer_rule_for_status(0);
	if (a->curl_code != CURLE_OK &&
	    a->curl_code != CURLE_HTTP_RETURNED_ERROR)
		return answer_rule_for_curl(a->curl_code);
	return answer_rule_for_status(a->http_status);
}

const struct answer_rule *answer_rules(size_t *n)
{
	if (n != NULL)
		*n = NRULES;
	return rules;
}

enum answer_class answer_class_of(enum answer_action action)
{
	if ((unsigned)action >= ANSWER_ACTION_COUNT)
		return ANSWER_CLASS_FATAL;
	return actions[action].cls;
}

const char *answer_class_name(enum answer_class cls)
{
	if ((unsigned)cls >= ANSWER_CLASS_COUNT)
		return "unknown";
	return class_names[cls];
}

const char *answer_action_name(enum answer_action action)
{
	if ((unsigned)action >= ANSWER_ACTION_COUNT)
		return "unknown";
	return actions[action].name;
}

/* ---- small lexical helpers ------------------------------------------- */

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* ASCII, locale-free: does s[0..len) equal the lower-case word w? */
static int ieq(const char *s, size_t len, const char *w)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (w[i] == '\0' || lower((unsigned char)s[i]) != w[i])
			return 0;
	}
	return w[len] == '\0';
}

/* RFC 9110 tchar: what a header name may be made of. */
static int is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       is_digit(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

static void trim(const char **s, size_t *len)
{
	while (*len > 0 && is_ows((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_ows((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

/* A non-empty run of decimal digits, saturated at NUM_SAT. */
static int parse_num(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0, d;
	size_t i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -1;
		d = s[i] - '0';
		v = v > (NUM_SAT - d) / 10 ? NUM_SAT : v * 10 + d;
	}
	*out = v;
	return 0;
}

static int64_t secs_to_capped_ms(int64_t s)
{
	if (s >= ANSWER_PAUSE_MAX_MS / MS_PER_SEC)
		return ANSWER_PAUSE_MAX_MS;
	return s * MS_PER_SEC;
}

enum merge { MERGE_MIN, MERGE_MAX, MERGE_LAST };

static void merge(int64_t *field, int64_t v, enum merge how)
{
	if (*field < 0 || how == MERGE_LAST ||
	    (how == MERGE_MIN && v < *field) ||
	    (how == MERGE_MAX && v > *field))
		*field = v;
}

/*
 * A header holding a number, or a list of them (a proxy may fold repeated
 * headers into one, and early RateLimit drafts sent "10, 10;w=1"):
 * parameters after ';' are dropped, empty elements skipped, and the list
 * merged as `how` says.  Any bad element refuses the whole header.
 */
static int parse_num_list(const char *s, size_t len, enum merge how,
			  int64_t *out)
{
	int64_t acc = -1, v;
	const char *e, *semi;
	size_t elen;

	while (len > 0) {
		e = memchr(s, ',', len);
		elen = e ? (size_t)(e - s) : len;
		semi = memchr(s, ';', elen);
		{
			const char *p = s;
			size_t plen = semi ? (size_t)(semi - s) : elen;

			trim(&p, &plen);
			if (plen > 0) {
				if (parse_num(p, plen, &v) != 0)
					return -1;
				merge(&acc, v, how);
			} else if (semi != NULL) {
				return -1; /* ";w=1" with no number */
			}
		}
		if (e == NULL)
			break;
		len -= elen + 1;
		s = e + 1;
	}
	if (acc < 0)
		return -1;
	*out = acc;
	return 0;
}

/* ---- HTTP-date ---------------------------------------------------------- */

static const char *const wdays[7] = { "Sun", "Mon", "Tue", "Wed", "Thu",
				      "Fri", "Sat" };
static const char *const months[12] = { "Jan", "Feb", "Mar", "Apr", "May",
					"Jun", "Jul", "Aug", "Sep", "Oct",
					"Nov", "Dec" };

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int month_days(int y, int m)
{
	static const int n[12] = { 31, 28, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : n[m - 1];
}

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int name_index(const char *s, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (memcmp(s, names[i], 3) == 0)
			return i;
	}
	return -1;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" exactly (RFC 9110 §5.6.7), the day
 * name checked against the date. */
static int imf_fixdate(const char *s, size_t len, int64_t *ms)
{
	int wd, d, mon, y, h, mi, sec;
	int64_t days;

	if (len != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' ||
	    s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
	    s[25] != ' ' || memcmp(s + 26, "GMT", 3) != 0)
		return -1;
	wd = name_index(s, wdays, 7);
	mon = name_index(s + 8, months, 12) + 1;
	if (wd < 0 || mon < 1 || digits(s + 5, 2, &d) ||
	    digits(s + 12, 4, &y) || digits(s + 17, 2, &h) ||
	    digits(s + 20, 2, &mi) || digits(s + 23, 2, &sec))
		return -1;
	if (d < 1 || d > month_days(y, mon) || h > 23 || mi > 59 || sec > 60)
		return -1;
	days = days_from_civil(y, mon, d);
	if (((days % 7) + 11) % 7 != wd)
		return -1;
	*ms = ((days * 24 + h) * 60 + mi) * INT64_C(60000) +
	      sec * MS_PER_SEC;
	return 0;
}

int answer_http_date(const char *s, size_t len, int64_t *ms)
{
	char buf[64];
	time_t t;
	int i;

	if (s == NULL || ms == NULL)
		return SPOOLSHIP_EINVAL;
	trim(&s, &len);
	if (imf_fixdate(s, len, ms) == 0)
		return 0;
	/* The obsolete forms (RFC 850, asctime) start with a day name too;
	 * insisting on one keeps curl_getdate()'s leniency for words such
	 * as "tomorrow" or "1 hour" out of it. */
	if (len < 4 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
		return SPOOLSHIP_EINVAL;
	for (i = 0; i < 7; i++) {
		if (lower((unsigned char)s[0]) == lower(wdays[i][0]) &&
		    lower((unsigned char)s[1]) == wdays[i][1] &&
		    lower((unsigned char)s[2]) == wdays[i][2])
			break;
	}
	if (i == 7)
		return SPOOLSHIP_EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	t = curl_getdate(buf, NULL);
	if (t == (time_t)-1 || (int64_t)t < DATE_MIN_S ||
	    (int64_t)t > DATE_MAX_S)
		return SPOOLSHIP_EINVAL;
	*ms = (int64_t)t * MS_PER_SEC;
	return 0;
}

/* ---- headers ------------------------------------------------------------ */

static int h_retry_after(struct answer *a, const char *v, size_t len)
{
	int64_t x;

	if (len > 0 && is_digit((unsigned char)v[0])) {
		if (parse_num(v, len, &x) != 0)
			return -1;
		merge(&a->retry_after_ms, secs_to_capped_ms(x), MERGE_MAX);
		return 0;
	}
	if (answer_http_date(v, len, &x) != 0)
		return -1;
	merge(&a->retry_at_ms, x, MERGE_MAX);
	return 0;
}

static int h_date(struct answer *a, const char *v, size_t len)
{
	int64_t x;

	if (answer_http_date(v, len, &x) != 0)
		return -1;
	merge(&a->date_ms, x, MERGE_LAST);
	return 0;
}

static int h_reset(struct answer *a, const char *v, size_t len)
{
	int64_t x;

	if (parse_num_list(v, len, MERGE_MAX, &x) != 0)
		return -1;
	merge(&a->rl_reset_ms, secs_to_capped_ms(x), MERGE_MAX);
	return 0;
}

#define NUM_HEADER(fn, field)                                              \
	static int fn(struct answer *a, const char *v, size_t len)          \
	{                                                                   \
		int64_t x;                                                  \
		if (parse_num_list(v, len, MERGE_MIN, &x) != 0)             \
			return -1;                                          \
		merge(&a->field, x, MERGE_MIN);                             \
		return 0;                                                   \
	}
NUM_HEADER(h_remaining, rl_remaining)
NUM_HEADER(h_limit, rl_limit)
NUM_HEADER(h_xremaining, xrl_remaining_minute)
NUM_HEADER(h_xlimit, xrl_limit_minute)
#undef NUM_HEADER

static const struct {
	const char *name; /* lower case */
	int (*parse)(struct answer *a, const char *v, size_t len);
} headers[] = {
	{ "retry-after", h_retry_after },
	{ "date", h_date },
	{ "ratelimit-reset", h_reset },
	{ "ratelimit-remaining", h_remaining },
	{ "ratelimit-limit", h_limit },
	{ "x-ratelimit-remaining-minute", h_xremaining },
	{ "x-ratelimit-limit-minute", h_xlimit },
};

static void clear_headers(struct answer *a)
{
	a->retry_after_ms = -1;
	a->retry_at_ms = -1;
	a->date_ms = -1;
	a->rl_reset_ms = -1;
	a->rl_remaining = -1;
	a->rl_limit = -1;
	a->xrl_remaining_minute = -1;
	a->xrl_limit_minute = -1;
	a->bad_headers = 0;
	a->complete = 0;
}

void answer_init(struct answer *a)
{
	if (a == NULL)
		return;
	memset(a, 0, sizeof(*a));
	a->curl_code = CURLE_OK;
	clear_headers(a);
}

void answer_finish(struct answer *a, CURLcode curl_code, long status)
{
	if (a == NULL)
		return;
	a->curl_code = curl_code;
	if (status >= 100 && status <= 999)
		a->http_status = (int)status;
}

/* "HTTP/1.1 200 OK", "HTTP/2 429": version, one space, three digits, then
 * the end or a space and any reason phrase. */
static int status_line(const char *s, size_t len, int *status)
{
	size_t i = 5;
	int st;

	while (i < len && (is_digit((unsigned char)s[i]) || s[i] == '.') &&
	       i < 9)
		i++;
	if (i == 5 || i >= len || s[i] != ' ')
		return -1;
	i++;
	if (len - i < 3 || digits(s + i, 3, &st) != 0 || st < 100)
		return -1;
	if (len - i > 3 && s[i + 3] != ' ')
		return -1;
	*status = st;
	return 0;
}

static void header_line(struct answer *a, const char *s, size_t len)
{
	const char *colon, *v;
	size_t nlen, vlen, i;

	colon = memchr(s, ':', len);
	if (colon == NULL || colon == s) {
		a->bad_headers++;
		return;
	}
	nlen = (size_t)(colon - s);
	for (i = 0; i < nlen; i++) {
		if (!is_tchar((unsigned char)s[i])) {
			a->bad_headers++; /* also "Name : v" and folding */
			return;
		}
	}
	v = colon + 1;
	vlen = len - nlen - 1;
	trim(&v, &vlen);
	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		if (ieq(s, nlen, headers[i].name)) {
			if (headers[i].parse(a, v, vlen) != 0)
				a->bad_headers++;
			return;
		}
	}
}

size_t answer_header_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t total, len;
	int st;

	if (size != 0 && n > SIZE_MAX / size)
		return 0; /* cannot happen: curl passes size 1 */
	total = size * n;
	if (a == NULL || buf == NULL)
		return total;
	len = total;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len == 0) {
		a->complete = 1;
	} else if (len >= 5 && ieq(buf, 5, "http/")) {
		if (status_line(buf, len, &st) == 0) {
			clear_headers(a);
			a->http_status = st;
			a->status_lines++;
		} else {
			a->bad_headers++;
		}
	} else {
		header_line(a, buf, len);
	}
	return total;
}

/* ---- pauses and backoff ------------------------------------------------- */

static int64_t cap_ms(int64_t v)
{
	if (v < 0)
		return 0;
	return v > ANSWER_PAUSE_MAX_MS ? ANSWER_PAUSE_MAX_MS : v;
}

/* Retry-After in ms from now, or -1 when the answer has none. */
static int64_t retry_after(const struct answer *a, int64_t now_wall_ms)
{
	int64_t best = a->retry_after_ms, ref, d;

	if (a->retry_at_ms >= 0) {
		ref = a->date_ms >= 0 ? a->date_ms : now_wall_ms;
		/* Both are bounded dates; no overflow in the difference. */
		d = cap_ms(a->retry_at_ms - ref);
		if (d > best)
			best = d;
	}
	return best;
}

/* The quota window is spent: RateLimit-Remaining (or the Kong-style
 * X-RateLimit-Remaining-Minute) says 0, so any request before
 * RateLimit-Reset would only be refused. */
static int window_spent(const struct answer *a)
{
	return a->rl_remaining == 0 || a->xrl_remaining_minute == 0;
}

int64_t answer_pause_ms(const struct answer *a, int64_t now_wall_ms)
{
	int64_t p = 0, ra, w;
	int st;

	if (a == NULL || (a->curl_code != CURLE_OK &&
			  a->curl_code != CURLE_HTTP_RETURNED_ERROR))
		return 0;
	st = a->http_status;
	ra = retry_after(a, now_wall_ms);
	/* Retry-After is the instruction for this very answer; a gateway
	 * adds RateLimit-Reset to every answer, 429 or not, and it says
	 * when the window ends, not when to send again: it counts only
	 * without a Retry-After, or when the window is spent (below). */
	if (st == 429)
		p = ra >= 0 ? ra
			    : a->rl_reset_ms >= 0 ? a->rl_reset_ms
						  : ANSWER_PAUSE_DEFAULT_MS;
	else if (st == 503 && ra > 0)
		p = ra;
	if (window_spent(a)) {
		w = a->rl_reset_ms >= 0 ? a->rl_reset_ms
					: ANSWER_PAUSE_DEFAULT_MS;
		if (w > p)
			p = w;
	}
	return cap_ms(p);
}

int answer_unanswered(const struct answer *a)
{
	if (a == NULL || a->curl_code == CURLE_OK ||
	    a->curl_code == CURLE_HTTP_RETURNED_ERROR || a->http_status != 0)
		return 0;
	return answer_rule_for_curl(a->curl_code)->action == ANSWER_RETRY;
}

uint64_t backoff_full_jitter(unsigned attempt, uint64_t min_ms,
			     uint64_t max_ms, uint64_t random)
{
	uint64_t cap;

	if (min_ms == 0)
		cap = 0;
	else if (min_ms >= max_ms || attempt >= 64 ||
		 min_ms > (max_ms >> attempt))
		cap = max_ms;
	else
		cap = min_ms << attempt;
	if (cap == UINT64_MAX)
		return random;
	return random % (cap + 1);
}

/* ---- body excerpt ------------------------------------------------------ */

/*
 * What one unit of input becomes: *adv input bytes, written as out[0..ret).
 * Bidirectional overrides (U+202A..202E, U+2066..2069) become '?' too,
 * since they can make a log line read differently from what it holds;
 * line and paragraph separators (U+2028, U+2029) become a space.
 */
static size_t unit(const unsigned char *s, size_t n, size_t *adv,
		   unsigned char out[4])
{
	size_t k = validate_utf8_seq(s, n);

	*adv = k ? k : 1;
	if (k == 0) {
		out[0] = '?';
		return 1;
	}
	if (k == 1) {
		if (s[0] == '\t' || s[0] == '\n' || s[0] == '\r')
			out[0] = ' ';
		else if (s[0] < 0x20 || s[0] == 0x7F)
			out[0] = '?';
		else
			out[0] = s[0];
		return 1;
	}
	if (k == 2 && s[0] == 0xC2 && s[1] < 0xA0) {
		out[0] = '?'; /* C1 control */
		return 1;
	}
	if (k == 3 && s[0] == 0xE2 &&
	    ((s[1] == 0x80 && s[2] >= 0xAA && s[2] <= 0xAE) ||
	     (s[1] == 0x81 && s[2] >= 0xA6 && s[2] <= 0xA9))) {
		out[0] = '?';
		return 1;
	}
	if (k == 3 && s[0] == 0xE2 && s[1] == 0x80 &&
	    (s[2] == 0xA8 || s[2] == 0xA9)) {
		out[0] = ' ';
		return 1;
	}
	memcpy(out, s, k);
	return k;
}

size_t answer_excerpt(const char *body, size_t len, char *out,
		      size_t outcap)
{
	const unsigned char *s = (const unsigned char *)body;
	unsigned char u[4];
	size_t room, need = 0, i, adv, k, o = 0, limit;
	int fits = 1;

	if (out == NULL || outcap == 0)
		return 0;
	if (s == NULL)
		len = 0;
	room = outcap - 1;
	for (i = 0; i < len; i += adv) {
		need += unit(s + i, len - i, &adv, u);
		if (need > room) {
			fits = 0;
			break;
		}
	}
	limit = fits ? room : (room >= 3 ? room - 3 : 0);
	for (i = 0; i < len; i += adv) {
		k = unit(s + i, len - i, &adv, u);
		if (o + k > limit)
			break;
		memcpy(out + o, u, k);
		o += k;
	}
	if (!fits) {
		for (k = 0; k < 3 && o < room; k++)
			out[o++] = '.';
	}
	out[o] = '\0';
	return o;
}
