/*
 * log.h - the daemon's log lines: one line per event, stable wording, a
 * key=value tail, as text or JSON.  State lives only in a struct logger
 * the caller owns and passes down; a secret never reaches the output.
 */
#ifndef SPOOLSHIP_LOG_H
#define SPOOLSHIP_LOG_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Not LOG_DEBUG/LOG_INFO: <syslog.h> owns those names. */
enum log_level {
	LOG_LVL_DEBUG = 0,
	LOG_LVL_INFO,
	LOG_LVL_WARN,
	LOG_LVL_ERROR
};

/* Longest message kept, in bytes after redaction; the rest is cut and
 * "..." appended. */
#define LOG_LINE_MAX 8192

/* Most key=value fields one line is split into; the rest stays in the
 * last field's value. */
#define LOG_MAX_FIELDS 32

/*
 * A logger.  Set it up with log_init() and change it only through the
 * functions below once other threads may log: every one of them takes mu.
 * now_ms may be replaced before the logger is shared (tests pin the clock).
 */
struct logger {
	pthread_mutex_t mu;
	int level;               /* enum log_level: lines below are dropped */
	int json;                /* 1: one JSON object per line */
	FILE *out;               /* not owned; stderr by default */
	int64_t (*now_ms)(void); /* wall clock for "ts" */
	size_t nsecrets;
	char **secrets;          /* owned copies, longest first */
	size_t secrets_cap;      /* room in secrets (array_grow) */
};

/*
 * Prepares lg: level info, text format, output out (stderr when NULL), the
 * wall clock, no secrets.  Returns 0 or -errno of pthread_mutex_init.
 * Release with log_fini().
 */
int log_init(struct logger *lg, FILE *out);

/* Frees the secrets and the mutex.  lg must not be in use. */
void log_fini(struct logger *lg);

/* Changes the level and the format (SIGHUP reload).  Thread-safe. */
void log_configure(struct logger *lg, int level, int json);

/*
 * Level names "debug", "info", "warn", "error".  log_level_parse() stores
 * the level and returns 0, or SPOOLSHIP_EINVAL for another name.
 * log_level_name() returns a static string ("error" for an unknown level).
 */
int log_level_parse(const char *name, int *out);
const char *log_level_name(int level);

/* "text" -> 0, "json" -> 1; SPOOLSHIP_EINVAL for anything else. */
int log_format_parse(const char *name, int *json);

/* The names above in value order, NULL-terminated: the one list the
 * option table ([log] level, format) parses and documents too. */
extern const char *const log_level_names[];
extern const char *const log_format_names[];

/*
 * Registers a secret: from now on every occurrence of it in a line, in the
 * message or in any value, is written as "***".  The logger keeps its own
 * copy, so the caller may free s.  An empty s is ignored.  Returns 0 or
 * -ENOMEM.  Thread-safe.
 *
 * Besides registered secrets, two rules always apply: the value of a key
 * named token, secret, password, authorization, api_key, cookie or
 * credentials (or ending in "_token", "_secret", ...) is masked, and so is
 * the credential after the word "Bearer" or "Basic".
 */
int log_secret_add(struct logger *lg, const char *s);

/* Forgets every registered secret.  Thread-safe. */
void log_secrets_clear(struct logger *lg);

/*
 * Replaces the registered secrets by v[0..n) in one step, so that no line
 * logged meanwhile goes unmasked (a SIGHUP reload: clear-then-add would
 * leave a gap).  Empty strings are skipped.  Returns 0, or -ENOMEM with
 * the old secrets still in place.  Thread-safe.
 */
int log_secrets_set(struct logger *lg, const char *const *v, size_t n);

/*
 * Copies in to out (capacity outlen, always NUL-terminated when outlen > 0)
 * with every registered secret and every Bearer/Basic credential masked:
 * for text that leaves the process by another way than a log line (an
 * error message printed by the CLI, a metrics label).  A cut never leaves
 * part of a secret behind: masking happens before the cut.  Returns 0 or
 * -ENOMEM (out is then "").  Thread-safe.
 */
int log_redact(struct logger *lg, const char *in, char *out, size_t outlen);

/*
 * Writes value s to out as a log value that survives any content: s
 * itself when it holds no space, quote, '=', backslash or control
 * character, else "..." with \" \\ \n \r \t \xNN escapes.  For free text
 * (a response excerpt) in a key=value tail:
 *     log_quote(body, q, sizeof(q));
 *     log_warn(lg, "batch rejected table=%s body=%s", t, q);
 * Returns 0, or SPOOLSHIP_EINVAL when out is too small (out then holds a
 * valid quoted prefix of s, still closed by a quote).
 */
int log_quote(const char *s, char *out, size_t outlen);

/*
 * The destination of a request as a log value: scheme://host:port/path
 * of url, without user, password, query or fragment (a secret or a
 * signature may sit there), the port always written (the default one
 * too), so that a refused connection names host and port.  Written to
 * out (always NUL-terminated when outlen > 0).  Returns 0, or
 * SPOOLSHIP_EINVAL when url does not parse (out is then "-") or out is
 * too small (out is then cut).
 */
int log_url_dest(const char *url, char *out, size_t outlen);

/*
 * A rate limit for a line that outside input can repeat at will (a
 * refused request): a token bucket of burst lines, refilled at burst
 * lines per period_ms.  Lines held back are counted; the next line let
 * through reports how many (the caller adds suppressed=N), so a flood
 * costs a few lines and one count instead of the disk.  Thread-safe.
 */
struct log_limit {
	pthread_mutex_t mu;
	double tokens;
	double burst;
	int64_t period_ms;
	int64_t last_ms;         /* monotonic ms of the last refill */
	uint64_t suppressed;     /* held back since the last line out */
};

/* Full bucket.  Returns 0 or -errno of pthread_mutex_init. */
int log_limit_init(struct log_limit *l, unsigned burst, int64_t period_ms);
void log_limit_fini(struct log_limit *l);

/*
 * One line wants out at now_ms (monotonic).  Returns 1 when it may be
 * written: *suppressed then gets the lines held back before it (and the
 * count restarts); 0 when it is held back (counted).  With only_held,
 * a line goes only when something was held back (a summary from a
 * timer: "N lines were not written"), and nothing is counted when not.
 */
int log_limit_take(struct log_limit *l, int64_t now_ms, int only_held,
		   uint64_t *suppressed);

/*
 * Formats one line and writes it with a single write under flockfile(), so
 * lines of concurrent threads never interleave.  fmt is a printf format
 * whose result is "message words key=value key=value ...": the tail starts
 * at the first word of the form key= (key: a letter or '_' then letters,
 * digits, '_', '.', '-'); a value runs to the next " key=" word, so it may
 * hold spaces, or may be quoted with log_quote().
 *
 * Text: 2026-11-25T21:00:00.123Z warn  message key=value ...
 * JSON: {"ts":"...","level":"warn","msg":"message","key":"value",...}
 *       (values are strings; a key that collides gets a '_' prefix).
 *
 * lg NULL discards the line.  Thread-safe.  Never fails: a line that cannot
 * be formatted (out of memory) becomes a fixed line saying so.
 */
#if defined(__GNUC__) || defined(__clang__)
#define LOG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define LOG_PRINTF(f, a)
#endif
void log_emit(struct logger *lg, int level, const char *fmt, ...)
	LOG_PRINTF(3, 4);
void log_vemit(struct logger *lg, int level, const char *fmt, va_list ap)
	LOG_PRINTF(3, 0);

#define log_debug(lg, ...) log_emit((lg), LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(lg, ...)  log_emit((lg), LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(lg, ...)  log_emit((lg), LOG_LVL_WARN, __VA_ARGS__)
#define log_error(lg, ...) log_emit((lg), LOG_LVL_ERROR, __VA_ARGS__)

#endif
