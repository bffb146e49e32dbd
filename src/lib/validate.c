/*
 * validate.c - the door of the spool (docs/architecture.md): decides whether
 * one input line is an event we accept and produces the exact bytes stored for
 * it. It must never re-print an event through cJSON (numbers and escapes would
 * change), never read past in[len-1], and never depend on TZ or locale.
 */
#include "validate.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "errf.h"
#include "spoolship.h"

#define MS_PER_SEC  INT64_C(1000)
#define MS_PER_MIN  INT64_C(60000)
#define MS_PER_HOUR INT64_C(3600000)
#define MS_PER_DAY  INT64_C(86400000)

/* 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the range the
 * fixed four-digit year of the normalised form can say. */
#define TIME_MIN_MS INT64_C(-62167219200000)
#define TIME_MAX_MS INT64_C(253402300799999)

/* Longest piece of a bad __time quoted back in an error message. */
#define QUOTE_MAX 64

static const char time_key[] = "\"__time\"";
#define TIME_KEY_LEN (sizeof(time_key) - 1)

/* What the minifier learnt about the top-level object on its way. */
struct mini {
	char *out;      /* the caller's buffer */
	size_t len;     /* bytes written to out */
	size_t nkeys;   /* plain "__time" keys at depth 1 */
	size_t vbeg;    /* the first one's value in out, quotes included */
	size_t vend;
	int has_value;  /* 1 when vbeg..vend is set */
	size_t bad;     /* input offset of a lexical error */
	const char *why;
};

/* ---- UTF-8 ------------------------------------------------------------ */

/* The second byte's range is what rules out overlongs, surrogates and
 * > U+10FFFF. */
size_t validate_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned lo = 0x80, hi = 0xBF;
	size_t k, j;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		k = 2;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		k = 3;
		lo = s[0] == 0xE0 ? 0xA0 : lo;
		hi = s[0] == 0xED ? 0x9F : hi;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		k = 4;
		lo = s[0] == 0xF0 ? 0x90 : lo;
		hi = s[0] == 0xF4 ? 0x8F : hi;
	} else {
		return 0;
	}
	if (n < k || s[1] < lo || s[1] > hi)
		return 0;
	for (j = 2; j < k; j++)
		if ((s[j] & 0xC0) != 0x80)
			return 0;
	return k;
}

/* Word-at-a-time byte tests (eight bytes in a uint64_t): nonzero when some
 * byte of v is below n (n <= 128), or equals c. */
#define ONES  UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

static uint64_t has_less(uint64_t v, unsigned n)
{
	return (v - ONES * n) & ~v & HIGHS;
}

static uint64_t has_byte(uint64_t v, unsigned char c)
{
	return has_less(v ^ (ONES * c), 1);
}

/* Offset of the first byte that breaks UTF-8 (or is NUL), len if none.
 * Events are mostly ASCII, hence the word-at-a-time skip. */
static size_t utf8_bad(const unsigned char *s, size_t len)
{
	size_t i = 0, k;
	uint64_t v;

	while (i < len) {
		while (i + 8 <= len) {
			memcpy(&v, s + i, 8);
			if ((v & HIGHS) | has_less(v, 1))
				break;
			i += 8;
		}
		if (i >= len)
			break;
		if (s[i] < 0x80) {
			if (s[i] == 0)
				return i;
			i++;
			continue;
		}
		k = validate_utf8_seq(s + i, len - i);
		if (k == 0)
			return i;
		i += k;
	}
	return len;
}

int validate_utf8(const char *s, size_t len)
{
	if (s == NULL)
		return len == 0;
	return utf8_bad((const unsigned char *)s, len) == len;
}

/* ---- time ------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): no TZ, no locale, no libc time functions. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(int y, int m)
{
	static const unsigned char dim[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return dim[m - 1] + (unsigned)(m == 2 && leap);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads exactly n digits at s[i..]; 0 when they are not all there. */
static int num(const char *s, size_t len, size_t i, size_t n, int *v)
{
	int x = 0;
	size_t j;

	if (i + n > len)
		return 0;
	for (j = i; j < i + n; j++) {
		if (!is_digit(s[j]))
			return 0;
		x = x * 10 + (s[j] - '0');
	}
	*v = x;
	return 1;
}

/* Milliseconds of ".fffffffff" at s[*i..], digits past the third dropped
 * (truncation, never rounding: rounding could carry into the next day). */
static int parse_fraction(const char *s, size_t len, size_t *i, int *frac)
{
	size_t j = *i + 1, n = 0;
	int f = 0;

	for (; j < len && is_digit(s[j]); j++, n++)
		if (n < 3)
			f = f * 10 + (s[j] - '0');
	if (n == 0)
		return 0;
	for (; n < 3; n++)
		f *= 10;
	*frac = f;
	*i = j;
	return 1;
}

/* HH:MM[:SS[.fff]] at s[*i..] into ms past midnight. */
static int parse_clock(const char *s, size_t len, size_t *i, int64_t *ms)
{
	int h, mi, sec = 0, frac = 0;
	size_t j = *i;

	if (!num(s, len, j, 2, &h) || j + 2 >= len || s[j + 2] != ':' ||
	    !num(s, len, j + 3, 2, &mi) || h > 23 || mi > 59)
		return 0;
	j += 5;
	if (j < len && s[j] == ':') {
		if (!num(s, len, j + 1, 2, &sec) || sec > 59)
			return 0;
		j += 3;
		if (j < len && s[j] == '.' &&
		    !parse_fraction(s, len, &j, &frac))
			return 0;
	}
	*ms = h * MS_PER_HOUR + mi * MS_PER_MIN + sec * MS_PER_SEC + frac;
	*i = j;
	return 1;
}

/* Z, +HH, +HHMM or +HH:MM (or -) at s[*i..] into ms east of UTC; none
 * at all is UTC too. */
static int parse_zone(const char *s, size_t len, size_t *i, int64_t *off)
{
	size_t j = *i;
	int sign, h, m = 0;

	*off = 0;
	if (j == len)
		return 1;
	if (s[j] == 'Z' || s[j] == 'z') {
		*i = j + 1;
		return 1;
	}
	if (s[j] != '+' && s[j] != '-')
		return 0;
	sign = s[j] == '-' ? -1 : 1;
	if (!num(s, len, j + 1, 2, &h) || h > 23)
		return 0;
	j += 3;
	if (j < len) {
		if (s[j] == ':')
			j++;
		if (!num(s, len, j, 2, &m) || m > 59)
			return 0;
		j += 2;
	}
	*off = sign * (h * MS_PER_HOUR + m * MS_PER_MIN);
	*i = j;
	return 1;
}

int validate_time_parse(const char *s, size_t len, int64_t *ms)
{
	int y, mo, d;
	int64_t clock = 0, off = 0, t;
	size_t i = 10;

	if (s == NULL || ms == NULL || len < 10)
		return SPOOLSHIP_EBADTIME;
	if (!num(s, len, 0, 4, &y) || s[4] != '-' ||
	    !num(s, len, 5, 2, &mo) || s[7] != '-' ||
	    !num(s, len, 8, 2, &d) || mo < 1 || mo > 12 || d < 1 ||
	    (unsigned)d > days_in_month(y, mo))
		return SPOOLSHIP_EBADTIME;
	if (i < len) {
		if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
			return SPOOLSHIP_EBADTIME;
		i++;
		if (!parse_clock(s, len, &i, &clock) ||
		    !parse_zone(s, len, &i, &off))
			return SPOOLSHIP_EBADTIME;
	}
	if (i != len)
		return SPOOLSHIP_EBADTIME;
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * MS_PER_DAY +
	    clock - off;
	/* An offset can push year 0000 or 9999 out of what we can print. */
	if (t < TIME_MIN_MS || t > TIME_MAX_MS)
		return SPOOLSHIP_EBADTIME;
	*ms = t;
	return 0;
}

static void put_digits(char *p, unsigned v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* Hand-rolled rather than snprintf: this runs once per event. */
void validate_time_format(int64_t ms, char out[VALIDATE_TIME_LEN + 1])
{
	int64_t days, rem, y;
	unsigned m, d;

	/* Out-of-range input would need a fifth year digit: clamp instead. */
	if (ms < TIME_MIN_MS)
		ms = TIME_MIN_MS;
	if (ms > TIME_MAX_MS)
		ms = TIME_MAX_MS;
	days = ms / MS_PER_DAY;
	rem = ms % MS_PER_DAY;
	if (rem < 0) {
		days--;
		rem += MS_PER_DAY;
	}
	civil_from_days(days, &y, &m, &d);
	memcpy(out, "0000-00-00T00:00:00.000Z", VALIDATE_TIME_LEN + 1);
	put_digits(out, (unsigned)y, 4);
	put_digits(out + 5, m, 2);
	put_digits(out + 8, d, 2);
	put_digits(out + 11, (unsigned)(rem / MS_PER_HOUR), 2);
	put_digits(out + 14, (unsigned)(rem / MS_PER_MIN % 60), 2);
	put_digits(out + 17, (unsigned)(rem / MS_PER_SEC % 60), 2);
	put_digits(out + 20, (unsigned)(rem % MS_PER_SEC), 3);
}

/* ---- minifier ------------------------------------------------------- */

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_ws(const char *s, size_t i, size_t len)
{
	while (i < len && is_ws(s[i]))
		i++;
	return i;
}

static int is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static size_t digits_end(const char *s, size_t i, size_t len)
{
	while (i < len && is_digit(s[i]))
		i++;
	return i;
}

static int is_number_char(char c)
{
	return is_digit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' ||
	       c == '-';
}

/* End of the RFC 8259 number at s[i..], or i when it is not one.  cJSON
 * hands numbers to strtod and so takes 01, 1. and -.5; the receiver's
 * parser would bounce them later, one dead-lettered event at a time. */
static size_t number_end(const char *s, size_t i, size_t len)
{
	size_t j = i, k;

	if (j < len && s[j] == '-')
		j++;
	if (j < len && s[j] == '0')
		j++;
	else if (j < len && s[j] >= '1' && s[j] <= '9')
		j = digits_end(s, j, len);
	else
		return i;
	if (j < len && s[j] == '.') {
		k = digits_end(s, j + 1, len);
		if (k == j + 1)
			return i;
		j = k;
	}
	if (j < len && (s[j] == 'e' || s[j] == 'E')) {
		j++;
		if (j < len && (s[j] == '+' || s[j] == '-'))
			j++;
		k = digits_end(s, j, len);
		if (k == j)
			return i;
		j = k;
	}
	return j < len && is_number_char(s[j]) ? i : j;
}

static size_t lex_error(struct mini *m, size_t at, const char *why)
{
	m->bad = at;
	m->why = why;
	return 0;
}

static int is_special_in_string(char c)
{
	return c == '"' || c == '\\' || (unsigned char)c < 0x20;
}

/* Copies string content free of quotes, backslashes and control bytes
 * eight at a time: most of an event is such text.  The output never runs
 * ahead of the input, so the stores stay within the caller's buffer. */
static void copy_plain_words(const char *in, size_t *i, size_t len,
			     char *out, size_t *o)
{
	uint64_t v;

	while (*i + 8 <= len) {
		memcpy(&v, in + *i, 8);
		if (has_less(v, 0x20) | has_byte(v, '"') | has_byte(v, '\\'))
			return;
		memcpy(out + *o, &v, 8);
		*i += 8;
		*o += 8;
	}
}

/* 1 when the escape at in[i] == '\\' is \u without four hex digits,
 * which cJSON would quietly decode as U+0000; else 0. */
static int bad_escape(const char *in, size_t i, size_t len)
{
	size_t k;

	if (i + 1 >= len || in[i + 1] != 'u')
		return 0;
	for (k = 2; k < 6; k++)
		if (i + k >= len || !is_hex(in[i + k]))
			return 1;
	return 0;
}

/* Copies the string token at in[i] == '"' to the output as written and
 * returns the offset past its closing quote, or 0 with m->bad set.  Also
 * refuses raw control characters, which cJSON lets through. */
static size_t copy_string(const char *in, size_t i, size_t len,
			  struct mini *m)
{
	char *out = m->out;
	size_t o = m->len;

	out[o++] = in[i++];
	for (;;) {
		copy_plain_words(in, &i, len, out, &o);
		while (i < len && !is_special_in_string(in[i]))
			out[o++] = in[i++];
		if (i >= len || in[i] == '"')
			break;
		if (in[i] != '\\')
			return lex_error(m, i, "control character in a "
					 "string");
		if (bad_escape(in, i, len))
			return lex_error(m, i, "bad \\u escape");
		out[o++] = in[i++];
		if (i < len)
			out[o++] = in[i++];
	}
	if (i >= len)  /* cJSON found the end; stay safe regardless */
		return lex_error(m, i, "unterminated string");
	out[o++] = in[i++];
	m->len = o;
	return i;
}

/* A string just copied to out[beg..m->len) at depth 1: counts "__time"
 * keys and notes where the first one's value is, if it is a string. */
static void note_string(struct mini *m, size_t beg, int *want_key,
			int *at_time)
{
	if (*want_key) {
		*want_key = 0;
		*at_time = m->len - beg == TIME_KEY_LEN &&
			   memcmp(m->out + beg, time_key, TIME_KEY_LEN) == 0;
		m->nkeys += (size_t)*at_time;
		*at_time = *at_time && m->nkeys == 1;
	} else if (*at_time) {
		*at_time = 0;
		m->vbeg = beg;
		m->vend = m->len;
		m->has_value = 1;
	}
}

/* Copies a number token; 0 with m->bad set when it is not strict JSON. */
static size_t copy_number(const char *in, size_t i, size_t len,
			  struct mini *m)
{
	size_t j = number_end(in, i, len);

	if (j == i)
		return lex_error(m, i, "not a valid JSON number");
	memcpy(m->out + m->len, in + i, j - i);
	m->len += j - i;
	return j;
}

/*
 * Copies in[0..len), already accepted by cJSON as one object, to m->out
 * without insignificant whitespace, every other byte as written.  Depth
 * tracking finds the top-level "__time" in the same pass.  Returns 0, or
 * -1 with m->bad and m->why set.
 */
static int minify(const char *in, size_t len, struct mini *m)
{
	size_t i = 0, beg;
	int depth = 0, want_key = 0, at_time = 0;
	char c;

	/* cJSON skips a leading BOM: it is not part of the JSON text. */
	if (len >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < len) {
		c = in[i];
		if (is_ws(c)) {
			i++;
		} else if (c == '"') {
			beg = m->len;
			if ((i = copy_string(in, i, len, m)) == 0)
				return -1;
			if (depth == 1)
				note_string(m, beg, &want_key, &at_time);
		} else if (c == '-' || is_digit(c)) {
			if ((i = copy_number(in, i, len, m)) == 0)
				return -1;
		} else if ((unsigned char)c < 0x20) {
			/* cJSON skips every byte <= 32 as whitespace */
			lex_error(m, i, "control character outside a string");
			return -1;
		} else {
			if (c == '{' || c == '[')
				want_key = ++depth == 1;
			else if (c == '}' || c == ']')
				depth--;
			else if (c == ',')
				want_key = depth == 1;
			m->out[m->len++] = c;
			i++;
		}
	}
	return 0;
}

/* ---- the event ------------------------------------------------------ */

static const char *type_name(const cJSON *v)
{
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	return "null";
}

static int check_args(const char *in, size_t len,
		      const struct validate_opts *o, const char *out,
		      size_t outcap, const size_t *outlen,
		      const int64_t *event_ms, char *errbuf, size_t errlen)
{
	if ((in == NULL && len > 0) || o == NULL || out == NULL ||
	    outlen == NULL || event_ms == NULL)
		return errf(errbuf, errlen, SPOOLSHIP_EINVAL,
			    "validate_event: NULL argument");
	if (len > SIZE_MAX - VALIDATE_SLACK || outcap < len + VALIDATE_SLACK)
		return errf(errbuf, errlen, SPOOLSHIP_EINVAL,
			    "output buffer of %zu bytes too small for a "
			    "%zu-byte event", outcap, len);
	return 0;
}

/*
 * The hints for the usual mistakes, appended to the reason here so that
 * every door (append, the library's errbuf, the ingest endpoint's 400)
 * says the same words.  docs/cli.md ("Event times") shows the
 * conversion of epoch times that HINT_EPOCH points at.
 */
#define HINT_NDJSON "send NDJSON: one object per line"
#define HINT_PRETTY "; a line of just '%c' is pretty-printed JSON: " \
	HINT_NDJSON
#define HINT_QUOTES "; JSON strings take double quotes, not single"
#define HINT_FILL " (add it, or use --fill-time / [spool] fill_time)"
#define HINT_EPOCH "; for converting epoch times see \"Event times\" in " \
	"spoolship(1) or docs/cli.md"

/* strchr() would find a NUL as the set's terminator. */
static int one_of(char c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

/* The one character of a line that holds nothing else, or 0: a lone
 * '{' or '}' is the usual sign of a pretty-printed object, which
 * arrives one line at a time. */
static char lone_char(const char *in, size_t len)
{
	size_t b = skip_ws(in, 0, len), e = len;

	while (e > b && is_ws(in[e - 1]))
		e--;
	return e - b == 1 && one_of(in[b], "{}[]") ? in[b] : 0;
}

/* cJSON stops at, or just after, a single quote where a string should
 * start. */
static int single_quote_at(const char *in, size_t len, size_t at)
{
	return (at < len && in[at] == '\'') || (at > 0 && at <= len &&
						in[at - 1] == '\'');
}

static int parse_failed(const char *in, size_t len, size_t at,
			char *errbuf, size_t errlen)
{
	char c = lone_char(in, len);

	if (c != 0)
		return errf(errbuf, errlen, SPOOLSHIP_EJSON,
			    "not valid JSON near byte %zu" HINT_PRETTY, at, c);
	return errf(errbuf, errlen, SPOOLSHIP_EJSON,
		    "not valid JSON near byte %zu%s", at,
		    single_quote_at(in, len, at) ? HINT_QUOTES : "");
}

/* The one cJSON parse: valid JSON, nothing after it, and an object. */
static int parse(const char *in, size_t len, cJSON **root, char *errbuf,
		 size_t errlen)
{
	const char *end = NULL;
	size_t at;

	*root = cJSON_ParseWithLengthOpts(in, len, &end, 0);
	if (*root == NULL)
		return parse_failed(in, len,
				    end != NULL ? (size_t)(end - in) : 0,
				    errbuf, errlen);
	at = skip_ws(in, (size_t)(end - in), len);
	/* a value followed by another, a ',' or a ':' is a line of a
	 * pretty-printed object ("user": "a",), an array's element
	 * ({...},) or several objects on one line: NDJSON framing */
	if (at != len)
		return errf(errbuf, errlen, SPOOLSHIP_EJSON,
			    "unexpected data after the JSON value at byte "
			    "%zu%s", at, one_of(in[at], "{[,:") ?
			    "; " HINT_NDJSON : "");
	if (cJSON_IsArray(*root))
		return errf(errbuf, errlen, SPOOLSHIP_ENOTOBJECT,
			    "event is an array, not an object; "
			    HINT_NDJSON);
	if (!cJSON_IsObject(*root))
		return errf(errbuf, errlen, SPOOLSHIP_ENOTOBJECT,
			    "event is %s, not an object", type_name(*root));
	return 0;
}

/*
 * Reconciles cJSON's view of the top-level "__time" members (keys decoded)
 * with the minifier's (keys as written).  Returns 0 when there is exactly
 * one, written plainly, with a string value at m->vbeg; SPOOLSHIP_ENOTIME,
 * without a message, when there is none; else EBADTIME with a message.
 */
static int find_time(const cJSON *root, const struct mini *m, char *errbuf,
		     size_t errlen)
{
	const cJSON *it, *first = NULL;
	size_t n = 0;

	cJSON_ArrayForEach(it, root) {
		if (it->string != NULL && strcmp(it->string, "__time") == 0) {
			first = first != NULL ? first : it;
			n++;
		}
	}
	if (n == 0)
		return SPOOLSHIP_ENOTIME;
	if (n > 1)
		return errf(errbuf, errlen, SPOOLSHIP_EBADTIME,
			    "duplicate __time key");
	if (m->nkeys == 0)
		/* rewriting an escaped key in place is not worth the code */
		return errf(errbuf, errlen, SPOOLSHIP_EBADTIME,
			    "__time key is written with escapes; "
			    "write it as plain \"__time\"");
	if (cJSON_IsNumber(first))
		return errf(errbuf, errlen, SPOOLSHIP_EBADTIME,
			    "__time is a number, an ISO-8601 string expected "
			    "(e.g. 2022-04-16T00:46:58.771Z)" HINT_EPOCH);
	if (!cJSON_IsString(first) || !m->has_value)
		return errf(errbuf, errlen, SPOOLSHIP_EBADTIME,
			    "__time must be an ISO-8601 string");
	return 0;
}

/* Replaces out[beg..end) by with[0..n); the caller made sure it fits. */
static void splice(struct mini *m, size_t beg, size_t end, const char *with,
		   size_t n)
{
	memmove(m->out + beg + n, m->out + end, m->len - end);
	memcpy(m->out + beg, with, n);
	m->len = m->len - (end - beg) + n;
}

/* How much of s[0..n) to quote: at most QUOTE_MAX bytes, cut between
 * characters so the message stays valid UTF-8. */
static int quote_len(const char *s, size_t n)
{
	if (n <= QUOTE_MAX)
		return (int)n;
	n = QUOTE_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return (int)n;
}

/* "1700000000" or "1700000000.5": an epoch time written as a string. */
static int all_digits(const char *s, size_t n)
{
	size_t i = 0, dots = 0;

	for (; i < n && (is_digit(s[i]) || (s[i] == '.' && !dots++)); i++)
		;
	return n > 0 && i == n && is_digit(s[0]);
}

/* Parses the __time value at out[vbeg..vend) and rewrites it in the
 * normalised form unless it is written that way already.  Growth is at
 * most 14 bytes ("YYYY-MM-DD" is the shortest accepted form). */
static int normalise_time(struct mini *m, int64_t *ms, char *errbuf,
			  size_t errlen)
{
	const char *v = m->out + m->vbeg + 1;
	size_t vlen = m->vend - m->vbeg - 2;
	char norm[VALIDATE_TIME_LEN + 3];
	int q;

	if (validate_time_parse(v, vlen, ms) != 0) {
		q = quote_len(v, vlen);
		return errf(errbuf, errlen, SPOOLSHIP_EBADTIME,
			    "__time '%.*s%s' is not an ISO-8601 time%s", q, v,
			    (size_t)q < vlen ? "..." : "",
			    all_digits(v, vlen) ? HINT_EPOCH : "");
	}
	validate_time_format(*ms, norm + 1);
	if (vlen == VALIDATE_TIME_LEN &&
	    memcmp(v, norm + 1, VALIDATE_TIME_LEN) == 0)
		return 0;
	norm[0] = '"';
	norm[VALIDATE_TIME_LEN + 1] = '"';
	splice(m, m->vbeg, m->vend, norm, VALIDATE_TIME_LEN + 2);
	return 0;
}

/* Inserts "__time":"<now>" as the first member: 36 bytes at most. */
static void fill_time(struct mini *m, int64_t now_ms)
{
	static const char head[] = "\"__time\":\"";
	char ins[sizeof(head) - 1 + VALIDATE_TIME_LEN + 2];
	size_t n = sizeof(head) - 1;

	memcpy(ins, head, n);
	validate_time_format(now_ms, ins + n);
	n += VALIDATE_TIME_LEN;
	ins[n++] = '"';
	if (m->out[1] != '}')
		ins[n++] = ',';
	splice(m, 1, 1, ins, n);
}

/* Finds, checks and normalises __time, or fills it in. */
static int take_time(const cJSON *root, struct mini *m,
		     const struct validate_opts *o, int64_t *ms,
		     char *errbuf, size_t errlen)
{
	int err = find_time(root, m, errbuf, errlen);

	if (err == 0)
		return normalise_time(m, ms, errbuf, errlen);
	if (err != SPOOLSHIP_ENOTIME)
		return err;
	if (!o->fill_time)
		return errf(errbuf, errlen, SPOOLSHIP_ENOTIME,
			    "missing __time" HINT_FILL);
	fill_time(m, o->now_ms);
	*ms = o->now_ms;
	return 0;
}

/* "7d", "6d23h50m", "90s", "1s500ms": each unit that is not zero, so the
 * window reads the same as the durations of the config it came from. */
static void format_window(int64_t ms, char *buf, size_t n)
{
	static const struct {
		int64_t unit;
		const char *name;
	} units[] = {
		{ MS_PER_DAY, "d" }, { MS_PER_HOUR, "h" }, { MS_PER_MIN, "m" },
		{ MS_PER_SEC, "s" }, { 1, "ms" },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		int64_t k = ms / units[i].unit;
		int w;

		if (k == 0 || used >= n)
			continue;
		ms -= k * units[i].unit;
		w = snprintf(buf + used, n - used, "%" PRId64 "%s", k,
			     units[i].name);
		used += w > 0 ? (size_t)w : 0;
	}
}

int64_t validate_window_ms(int64_t max_age_ms, int64_t age_margin_ms)
{
	if (max_age_ms <= 0)
		return 0;
	if (age_margin_ms <= 0)
		return max_age_ms;
	/* a margin as wide as the window would refuse every event: the
	 * config refuses it; here it leaves the smallest window, 1 ms */
	return age_margin_ms < max_age_ms ? max_age_ms - age_margin_ms : 1;
}

static int check_limits(const struct mini *m, int64_t ms,
			const struct validate_opts *o, char *errbuf,
			size_t errlen)
{
	/* 0 would refuse every event: take it as "the default limit" */
	size_t limit = o->max_bytes ? o->max_bytes : SPOOLSHIP_MAX_EVENT_BYTES;
	char when[VALIDATE_TIME_LEN + 1], window[32];

	/* the middle test keeps now_ms - max_age_ms from overflowing */
	if (o->max_age_ms > 0 && o->now_ms > INT64_MIN + o->max_age_ms &&
	    ms < o->now_ms - o->max_age_ms) {
		validate_time_format(ms, when);
		format_window(o->max_age_ms, window, sizeof(window));
		return errf(errbuf, errlen, SPOOLSHIP_ETOOOLD,
			    "__time %s is older than the age window of %s "
			    "(max_age less age_margin)", when, window);
	}
	if (m->len > limit)
		return errf(errbuf, errlen, SPOOLSHIP_ETOOBIG,
			    "event is %zu bytes after minification, over the "
			    "%zu-byte limit", m->len, limit);
	return 0;
}

static int check_text(const char *in, size_t len, char *errbuf,
		      size_t errlen)
{
	size_t bad;

	if (skip_ws(in, 0, len) == len)
		return errf(errbuf, errlen, SPOOLSHIP_EJSON, "empty event");
	bad = utf8_bad((const unsigned char *)in, len);
	if (bad < len && in[bad] == '\0')
		return errf(errbuf, errlen, SPOOLSHIP_EUTF8,
			    "NUL byte at byte %zu", bad);
	if (bad < len)
		return errf(errbuf, errlen, SPOOLSHIP_EUTF8,
			    "invalid UTF-8 at byte %zu", bad);
	return 0;
}

int validate_event(const char *in, size_t len, const struct validate_opts *o,
		   char *out, size_t outcap, size_t *outlen, int64_t *event_ms,
		   char *errbuf, size_t errlen)
{
	struct mini m = { .out = out };
	cJSON *root = NULL;
	int64_t ms = 0;
	int err;

	err = check_args(in, len, o, out, outcap, outlen, event_ms, errbuf,
			 errlen);
	if (err == 0)
		err = check_text(in, len, errbuf, errlen);
	if (err == 0)
		err = parse(in, len, &root, errbuf, errlen);
	if (err != 0)
		goto out;
	if (minify(in, len, &m) != 0) {
		err = errf(errbuf, errlen, SPOOLSHIP_EJSON,
			   "not valid JSON: %s at byte %zu", m.why, m.bad);
		goto out;
	}
	err = take_time(root, &m, o, &ms, errbuf, errlen);
	if (err == 0)
		err = check_limits(&m, ms, o, errbuf, errlen);
	if (err == 0) {
		*outlen = m.len;
		*event_ms = ms;
	}
out:
	cJSON_Delete(root);
	return err;
}

/* ---- NDJSON lines ---------------------------------------------------- */

size_t validate_line(const char *p, size_t len, int last, size_t *event_len)
{
	const char *nl = len > 0 ? memchr(p, '\n', len) : NULL;
	size_t used = nl != NULL ? (size_t)(nl - p) + 1 : len;
	size_t n = nl != NULL ? (size_t)(nl - p) : len;

	*event_len = 0;
	if (nl == NULL && !last)
		return 0;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') {
			*event_len = n;
			break;
		}
	return used;
}
