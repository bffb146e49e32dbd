/*
 * validate.h - validation at the door (docs/architecture.md): is this line an
 * event we may accept, and what exactly do we store?  Pure functions: no I/O,
 * no global state, no allocation beyond cJSON's parse tree.
 */
#ifndef SPOOLSHIP_VALIDATE_H
#define SPOOLSHIP_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

/* Bytes an event can grow by when normalised (a shorter __time rewritten,
 * or a missing one filled in): size `out` as len + VALIDATE_SLACK. */
#define VALIDATE_SLACK 64

/* Length of a normalised time, "2022-04-16T00:46:58.771Z". */
#define VALIDATE_TIME_LEN 24

struct validate_opts {
	int64_t now_ms;     /* current time, ms since the epoch (UTC) */
	int64_t max_age_ms; /* reject __time < now_ms - max_age_ms; 0 = off:
			     * the age window, validate_window_ms() */
	int fill_time;      /* 1: insert "__time":now when it is missing */
	size_t max_bytes;   /* largest accepted event after minification */
};

/*
 * Validates the event in[0..len) and writes what is to be stored into out
 * (capacity outcap, which must be at least len + VALIDATE_SLACK): the
 * event minified (whitespace outside strings removed, every other byte as
 * written: numbers and escapes are never re-printed) with the value of the
 * top-level "__time" replaced by its normalised form when it differs.
 *
 * On success returns 0 and sets *outlen and *event_ms.  On failure returns
 * one of SPOOLSHIP_EJSON, ENOTOBJECT, ENOTIME, EBADTIME, ETOOOLD, ETOOBIG,
 * EUTF8 (or EINVAL for a too-small outcap) and writes a one-line reason to
 * errbuf (when errbuf is not NULL), e.g. "__time '2022-13-01' is not an
 * ISO-8601 time".  Never reads past in[len-1]; `in` need not be
 * NUL-terminated.
 */
int validate_event(const char *in, size_t len, const struct validate_opts *o,
		   char *out, size_t outcap, size_t *outlen, int64_t *event_ms,
		   char *errbuf, size_t errlen);

/*
 * The age window, the one rule for "too old" everywhere: `spoolship
 * append`, the library, the ingest endpoint and the shipper's age-out
 * all take an event as too old when its __time is more than
 * max_age - age_margin before now ([ship] max_age, age_margin), so that
 * what the spool accepts is what `spoolship run` sends.  Returns that
 * window in ms, or 0 (no limit) when max_age_ms is 0.  A margin not
 * below max_age (which the config refuses) leaves 1 ms.
 */
int64_t validate_window_ms(int64_t max_age_ms, int64_t age_margin_ms);

/*
 * Parses an ISO-8601 date-time s[0..len) into milliseconds since the epoch
 * (UTC).  Accepted: YYYY-MM-DD, then optionally T (or t or one space)
 * HH:MM[:SS[.fraction]] and a zone Z, z, +HH, +HHMM or +HH:MM (or -).  A
 * time without a zone is taken as UTC.  Digits beyond milliseconds are
 * truncated.  Years 0000-9999; fields range-checked (Feb 29 only in leap
 * years, second 60 not accepted).  Returns 0 or SPOOLSHIP_EBADTIME.
 */
int validate_time_parse(const char *s, size_t len, int64_t *ms);

/* Formats ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" plus a NUL into out. */
void validate_time_format(int64_t ms, char out[VALIDATE_TIME_LEN + 1]);

/*
 * NDJSON framing, the one both `spoolship append` and the ingest endpoint
 * use: the first line of p[0..len).  Returns the bytes it takes, its '\n'
 * included, or 0 when p[0..len) holds no '\n' and !last (the line is not
 * complete yet); with last, a line without '\n' takes the rest.  Sets
 * *event_len to the length of the event text at p: the line without its
 * '\n' and one '\r' before it, or 0 when the line is blank (spaces, tabs
 * and CRs only), which is no event and no error.
 */
size_t validate_line(const char *p, size_t len, int last, size_t *event_len);

/* Length of the well-formed UTF-8 sequence at s[0..n) (1 for ASCII,
 * NUL included), or 0 when it is malformed or cut short. */
size_t validate_utf8_seq(const unsigned char *s, size_t n);

/* Returns 1 when s[0..len) is well-formed UTF-8 without NUL bytes (no
 * overlongs, no surrogates, nothing above U+10FFFF), else 0. */
int validate_utf8(const char *s, size_t len);

#endif
