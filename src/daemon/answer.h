/*
 * answer.h - what the receiver answered, and what the shipper does about it
 * (docs/events-api.md "Answers").  Every failure the shipper can see - an HTTP
 * status or a libcurl result - is classified here, once, in one table.
 * Pure functions: no I/O, no clock, no allocation, no global state.
 *
 * Use
 *   struct answer a;
 *   answer_init(&a);
 *   curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, answer_header_cb);
 *   curl_easy_setopt(easy, CURLOPT_HEADERDATA, &a);
 *   ... the transfer runs ...
 *   answer_finish(&a, result, response_code);
 *   rule = answer_classify(&a);          act on rule->action
 *   pause = answer_pause_ms(&a, clock_wall_ms());
 *
 * Caveats
 *   - The body write callback must never abort the transfer (by returning
 *     short) because a body is large: keep the first bytes, drop the rest.
 *     An aborted transfer is CURLE_WRITE_ERROR, which is retried, so a 2xx
 *     with a big body would be sent again for ever.
 *   - Do not set CURLOPT_FAILONERROR: it hides the answer's headers.
 *   - Do not let curl follow redirects for POSTs: a 3xx is a destination
 *     alarm here, on purpose.
 */
#ifndef SPOOLSHIP_ANSWER_H
#define SPOOLSHIP_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

/* Longest pause any header can ask for; larger values are cut to this. */
#define ANSWER_PAUSE_MAX_MS INT64_C(3600000)
/* Pause after a 429 that says neither Retry-After nor RateLimit-Reset, or
 * after a 2xx with RateLimit-Remaining: 0 but no RateLimit-Reset. */
#define ANSWER_PAUSE_DEFAULT_MS INT64_C(1000)
/* Suggested size of an answer_excerpt() buffer (dead store, logs). */
#define ANSWER_EXCERPT_MAX 512

/* What the shipper does with the batch (or token request) it sent. */
enum answer_action {
	ANSWER_ACK = 0,      /* 2xx: delete the batch, count it */
	ANSWER_BISECT,       /* 400: split the batch; a single event still
			      * refused goes to the dead store */
	ANSWER_AUTH_REFRESH, /* 401: refresh the token once and retry; again
			      * right after a refresh: credentials alarm
			      * (auth_invalidate() tells which) */
	ANSWER_ALARM,        /* configuration alarm: long backoff, keep data */
	ANSWER_SPLIT,        /* 413: split in half; a single event goes to
			      * the dead store as too big */
	ANSWER_RATE_LIMITED, /* 429: pause all sending answer_pause_ms() */
	ANSWER_RETRY,        /* transient: exponential backoff, full jitter */
	ANSWER_FATAL,        /* local setup error retrying cannot fix: stop */
	ANSWER_ACTION_COUNT
};

/* The four failure classes of STYLE rule 4, plus success.  A pure function
 * of the action: see answer_class_of(). */
enum answer_class {
	ANSWER_CLASS_OK = 0,      /* "ok" */
	ANSWER_CLASS_RETRIABLE,   /* "retriable": the same request may pass */
	ANSWER_CLASS_POISON,      /* "poison": permanent for one event */
	ANSWER_CLASS_DESTINATION, /* "destination": permanent for the
				   * destination until someone fixes it */
	ANSWER_CLASS_FATAL,       /* "fatal": the shipper cannot run */
	ANSWER_CLASS_COUNT
};

/* What one row of the table matches. */
enum answer_match {
	ANSWER_BY_STATUS = 0,     /* lo..hi are HTTP statuses */
	ANSWER_BY_CURL            /* lo..hi are CURLcode values */
};

/* One row of the classification table.  Rows are tried in order; the
 * first whose range holds the value wins, and the last rows of each kind
 * catch everything, so a lookup never fails. */
struct answer_rule {
	enum answer_match by;
	int lo, hi;                      /* inclusive range */
	enum answer_action action;       /* for an Events API request */
	enum answer_action token_action; /* for the OAuth token request:
					  * BISECT, SPLIT and AUTH_REFRESH
					  * make no sense there */
	const char *word;  /* short stable log word: "rate_limited" */
	const char *why;   /* one line saying why this action */
};

/*
 * What the receiver answered.  Fill with answer_init(), let
 * answer_header_cb() parse the headers, then answer_finish().  The numeric
 * header fields are -1 when the header was absent or refused.
 */
struct answer {
	int http_status;        /* of the last status line; 0 = none */
	CURLcode curl_code;     /* result of the transfer */
	int64_t retry_after_ms; /* Retry-After as delta-seconds, in ms,
				 * capped at ANSWER_PAUSE_MAX_MS */
	int64_t retry_at_ms;    /* Retry-After as an HTTP-date, ms since
				 * the epoch */
	int64_t date_ms;        /* Date, ms since the epoch */
	int64_t rl_reset_ms;    /* RateLimit-Reset (seconds until the
				 * window resets), in ms, capped */
	int64_t rl_remaining;   /* RateLimit-Remaining */
	int64_t rl_limit;       /* RateLimit-Limit */
	int64_t xrl_remaining_minute; /* X-RateLimit-Remaining-Minute */
	int64_t xrl_limit_minute;     /* X-RateLimit-Limit-Minute */
	unsigned status_lines;  /* header blocks seen (100-continue, ...) */
	unsigned bad_headers;   /* known headers whose value was refused,
				 * plus lines that are not headers */
	int complete;           /* 1 once the blank line ending the last
				 * header block arrived */
};

/* Resets *a: no status, CURLE_OK, every header field -1. */
void answer_init(struct answer *a);

/*
 * CURLOPT_HEADERFUNCTION callback; CURLOPT_HEADERDATA must be a struct
 * answer filled by answer_init().  Takes one header line per call (not
 * NUL-terminated, usually ending in CRLF): a status line starts a new
 * block and clears what an earlier block (100 Continue, a redirect) left;
 * a blank line ends the block; "Name: value" lines of the headers above
 * are parsed (names case-insensitive, values trimmed), anything else is
 * ignored.  Duplicate headers merge conservatively (the longest wait, the
 * smallest remaining).  Returns size * n, so it never aborts the
 * transfer (0 only if size * n overflows, which curl never passes).
 */
size_t answer_header_cb(char *buf, size_t size, size_t n, void *answer);

/*
 * Records the transfer's result after it ended: curl_code, and the
 * status from CURLINFO_RESPONSE_CODE when it is a valid one (100..999;
 * pass 0 when unknown, the status line's value is kept).
 */
void answer_finish(struct answer *a, CURLcode curl_code, long status);

/*
 * The table row for this answer.  A transfer that failed in curl is
 * classified by curl_code, whatever status it may have seen (a 200 whose
 * body was cut off is retried: a duplicate, never a loss); otherwise, and
 * for CURLE_HTTP_RETURNED_ERROR, by http_status.  Never NULL; points into
 * a static table.
 */
const struct answer_rule *answer_classify(const struct answer *a);

/* The row for one status, or for the curl code of a failed transfer
 * (CURLE_OK and CURLE_HTTP_RETURNED_ERROR have no row of their own: the
 * status decides, see answer_classify()).  Never NULL. */
const struct answer_rule *answer_rule_for_status(int status);
const struct answer_rule *answer_rule_for_curl(CURLcode code);

/* The whole table, for documentation and tests; *n gets its length. */
const struct answer_rule *answer_rules(size_t *n);

/* The class an action belongs to, and the stable names of both
 * ("retriable", "poison", "destination", "fatal", "ok"; "ack", "bisect",
 * "auth_refresh", "alarm", "split", "rate_limited", "retry", "fatal").
 * Out-of-range values give "unknown" / ANSWER_CLASS_FATAL. */
enum answer_class answer_class_of(enum answer_action action);
const char *answer_class_name(enum answer_class cls);
const char *answer_action_name(enum answer_action action);

/*
 * How long to stop sending (all streams: the rate limit is per
 * organisation) after this answer, in ms, at most ANSWER_PAUSE_MAX_MS:
 *   429: Retry-After when present (the instruction for this answer,
 *        whatever RateLimit-Reset says), else RateLimit-Reset, else
 *        ANSWER_PAUSE_DEFAULT_MS;
 *   503: Retry-After when present (RFC 9110 §10.2.3);
 *   any answer with RateLimit-Remaining or X-RateLimit-Remaining-Minute
 *        0 (the window is spent): at least RateLimit-Reset, or
 *        ANSWER_PAUSE_DEFAULT_MS without one;
 *   anything else: 0.
 * A RateLimit-Reset with requests remaining is no reason to pause: a
 * gateway sends it on every answer (docs/delivery.md, rate limits).
 * An HTTP-date Retry-After is measured against the answer's own Date
 * header when it has one (so clock skew between the hosts cancels out),
 * else against now_wall_ms (ms since the epoch).  A date in the past
 * gives 0.  A failed transfer (curl_code set) gives 0.
 */
int64_t answer_pause_ms(const struct answer *a, int64_t now_wall_ms);

/*
 * 1 when the receiver gave no answer at all: the transfer failed in curl
 * before any status line arrived, with a code the table retries
 * (refused or reset connection, DNS, timeout, TLS handshake, empty
 * reply).  The shipper then probes one request at a time instead of
 * backing off (ship.c, docs/delivery.md); an answer that arrived (a 5xx)
 * keeps the backoff.  0 for NULL.
 */
int answer_unanswered(const struct answer *a);

/*
 * Exponential backoff with full jitter: random mod (cap + 1), where
 * cap = min(max_ms, min_ms * 2^attempt), so the result lies in
 * [0, cap].  attempt counts from 0.  The caller supplies the random
 * number (uniform over uint64_t) so that tests are deterministic.  No
 * overflow for any attempt: a cap that would pass max_ms is max_ms.
 */
uint64_t backoff_full_jitter(unsigned attempt, uint64_t min_ms,
			     uint64_t max_ms, uint64_t random);

/*
 * Writes a printable, valid UTF-8, NUL-terminated excerpt of body[0..len)
 * into out (capacity outcap): well-formed UTF-8 is kept, tab, CR and LF
 * become a space, other control characters (C0, DEL, C1) and every byte
 * of a malformed sequence become '?'.  When the body does not fit, the
 * excerpt ends with "..." and never in the middle of a character.  body
 * may be NULL when len is 0.  Returns the length written (without the
 * NUL); 0 when outcap is 0.
 */
size_t answer_excerpt(const char *body, size_t len, char *out,
		      size_t outcap);

/*
 * Parses an HTTP-date s[0..len) into ms since the epoch: the IMF-fixdate
 * form ("Sun, 06 Nov 1994 08:49:37 GMT") by a strict parser, and the two
 * obsolete forms RFC 9110 §5.6.7 says a recipient must accept (RFC 850,
 * asctime) through curl_getdate().  Returns 0, or SPOOLSHIP_EINVAL when s
 * is not a date (*ms untouched).
 */
int answer_http_date(const char *s, size_t len, int64_t *ms);

#endif
