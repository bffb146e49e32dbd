/*
 * log.c - formats, redacts and writes log lines for the daemon.  All state
 * is in the caller's struct logger.  It must never write a registered
 * secret or a Bearer/Basic credential, whatever the caller formatted.
 */
#define _POSIX_C_SOURCE 200809L
#include "log.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "array.h"
#include "clock.h"
#include "names.h"
#include "spoolship.h"
#include "strbuf.h"
#include "validate.h"

/* Longest message vsnprintf is asked for; lines are cut far below this
 * (LOG_LINE_MAX) but only after redaction, so a secret straddling the cut
 * is masked whole. */
#define LOG_FMT_MAX (1u << 20)

const char *const log_level_names[] = { "debug", "info", "warn", "error",
					NULL };
const char *const log_format_names[] = { "text", "json", NULL };

/* Key names whose values are always masked (also as a "_name" suffix). */
static const char *const secret_keys[] = {
	"token", "secret", "password", "passwd", "authorization", "api_key",
	"apikey", "cookie", "credentials",
};

/* ---- levels and formats ------------------------------------------------- */

int log_level_parse(const char *name, int *out)
{
	return spoolship_name_parse(name, log_level_names, out);
}

const char *log_level_name(int level)
{
	if (level < LOG_LVL_DEBUG || level > LOG_LVL_ERROR)
		return "error";
	return log_level_names[level];
}

int log_format_parse(const char *name, int *json)
{
	return spoolship_name_parse(name, log_format_names, json);
}

int log_init(struct logger *lg, FILE *out)
{
	int rc;

	memset(lg, 0, sizeof(*lg));
	rc = pthread_mutex_init(&lg->mu, NULL);
	if (rc != 0)
		return -rc;
	lg->level = LOG_LVL_INFO;
	lg->out = out != NULL ? out : stderr;
	lg->now_ms = clock_wall_ms;
	return 0;
}

void log_fini(struct logger *lg)
{
	log_secrets_clear(lg);
	pthread_mutex_destroy(&lg->mu);
}

void log_configure(struct logger *lg, int level, int json)
{
	pthread_mutex_lock(&lg->mu);
	lg->level = level;
	lg->json = json != 0;
	pthread_mutex_unlock(&lg->mu);
}

/* ---- secrets ------------------------------------------------------------ */

int log_secret_add(struct logger *lg, const char *s)
{
	char **v, *copy;
	void *p;
	size_t i, n;

	if (s == NULL || *s == '\0')
		return 0;
	n = strlen(s);
	copy = strdup(s);
	if (copy == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&lg->mu);
	p = lg->secrets;
	if (array_grow(&p, &lg->secrets_cap, lg->nsecrets + 1,
		       sizeof(*v)) != 0) {
		pthread_mutex_unlock(&lg->mu);
		free(copy);
		return -ENOMEM;
	}
	lg->secrets = v = p;
	/* Longest first: a secret that contains another is masked whole. */
	for (i = lg->nsecrets; i > 0 && strlen(v[i - 1]) < n; i--)
		v[i] = v[i - 1];
	v[i] = copy;
	lg->nsecrets++;
	pthread_mutex_unlock(&lg->mu);
	return 0;
}

/* Frees a list of secrets, wiping them first: no secret is left in freed
 * heap memory. */
static void free_secrets(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		volatile char *p = v[i];

		while (*p != '\0')
			*p++ = '\0';
		free(v[i]);
	}
	free(v);
}

void log_secrets_clear(struct logger *lg)
{
	char **old;
	size_t n;

	pthread_mutex_lock(&lg->mu);
	old = lg->secrets;
	n = lg->nsecrets;
	lg->secrets = NULL;
	lg->nsecrets = 0;
	lg->secrets_cap = 0;
	pthread_mutex_unlock(&lg->mu);
	free_secrets(old, n);
}

int log_secrets_set(struct logger *lg, const char *const *v, size_t n)
{
	char **nv = calloc(n + 1, sizeof(*nv)), **old;
	size_t k = 0, oldn;

	if (nv == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t len, j;

		if (v[i] == NULL || *v[i] == '\0')
			continue;
		len = strlen(v[i]);
		for (j = k; j > 0 && strlen(nv[j - 1]) < len; j--)
			nv[j] = nv[j - 1];
		nv[j] = strdup(v[i]);
		k++;
		if (nv[j] == NULL) {
			memmove(nv + j, nv + j + 1, (k - j - 1) * sizeof(*nv));
			free_secrets(nv, k - 1);
			return -ENOMEM;
		}
	}
	pthread_mutex_lock(&lg->mu);
	old = lg->secrets;
	oldn = lg->nsecrets;
	lg->secrets = nv;
	lg->nsecrets = k;
	lg->secrets_cap = n + 1;
	pthread_mutex_unlock(&lg->mu);
	free_secrets(old, oldn);
	return 0;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int is_cred_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=' ||
	       c == '.' || c == '_' || c == '-' || c == '~';
}

/* When s starts with "Bearer X" or "Basic X" (any case) and X looks like a
 * credential, returns the length of the scheme and its blanks, and the
 * length of X in *cred; else 0.  Eight characters at least, so that prose
 * such as "basic auth failed" survives. */
static size_t auth_scheme(const char *s, size_t *cred)
{
	static const char *const schemes[] = { "bearer", "basic" };

	for (int k = 0; k < 2; k++) {
		size_t n = strlen(schemes[k]), i, c = 0;

		for (i = 0; i < n && lower((unsigned char)s[i]) ==
		     schemes[k][i]; i++)
			;
		if (i < n || (s[n] != ' ' && s[n] != '\t'))
			continue;
		while (s[i] == ' ' || s[i] == '\t')
			i++;
		while (is_cred_char((unsigned char)s[i + c]))
			c++;
		if (c >= 8) {
			*cred = c;
			return i;
		}
	}
	return 0;
}

/* Appends in to b with secrets and credentials masked.  Caller holds mu. */
static void redact_into(const struct logger *lg, const char *in,
			struct strbuf *b)
{
	size_t i = 0, start = 0;

	while (in[i] != '\0') {
		size_t skip = 0, keep = 0, cred;

		for (size_t k = 0; k < lg->nsecrets; k++) {
			size_t n = strlen(lg->secrets[k]);

			if (strncmp(in + i, lg->secrets[k], n) == 0) {
				skip = n;
				break;
			}
		}
		if (skip == 0 && (i == 0 || !is_cred_char(
				  (unsigned char)in[i - 1]))) {
			keep = auth_scheme(in + i, &cred);
			if (keep > 0)
				skip = keep + cred;
		}
		if (skip == 0) {
			i++;
			continue;
		}
		strbuf_add(b, in + start, i - start + keep);
		strbuf_str(b, "***");
		i += skip;
		start = i;
	}
	strbuf_add(b, in + start, i - start);
}

int log_redact(struct logger *lg, const char *in, char *out, size_t outlen)
{
	struct strbuf b = { 0 };
	int rc = 0;

	if (outlen == 0)
		return 0;
	pthread_mutex_lock(&lg->mu);
	redact_into(lg, in != NULL ? in : "", &b);
	pthread_mutex_unlock(&lg->mu);
	strbuf_add(&b, "", 0);
	if (b.oom) {
		out[0] = '\0';
		rc = -ENOMEM;
	} else {
		size_t n = b.len < outlen - 1 ? b.len : outlen - 1;

		memcpy(out, b.p, n);
		out[n] = '\0';
	}
	free(b.p);
	return rc;
}

/* ---- quoting ------------------------------------------------------------ */

static int needs_quote(const char *s)
{
	if (*s == '\0')
		return 1;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c == 0x7f || c == '"' || c == '=' || c == '\\')
			return 1;
	}
	return 0;
}

/* The escaped form of c into e (at most 5 bytes), its length returned.
 * in_quotes: '"' needs a backslash too. */
static size_t escape_char(unsigned char c, int in_quotes, char e[5])
{
	static const char hex[] = "0123456789abcdef";

	switch (c) {
	case '\n': memcpy(e, "\\n", 2); return 2;
	case '\r': memcpy(e, "\\r", 2); return 2;
	case '\t': memcpy(e, "\\t", 2); return 2;
	case '\\':
		if (!in_quotes)
			break;
		memcpy(e, "\\\\", 2);
		return 2;
	case '"':
		if (!in_quotes)
			break;
		memcpy(e, "\\\"", 2);
		return 2;
	default:
		if (c < 0x20 || c == 0x7f) {
			e[0] = '\\';
			e[1] = 'x';
			e[2] = hex[c >> 4];
			e[3] = hex[c & 15];
			return 4;
		}
	}
	e[0] = (char)c;
	return 1;
}

static void sb_escaped(struct strbuf *b, const char *s, int in_quotes)
{
	char e[5];

	for (; *s != '\0'; s++)
		strbuf_add(b, e, escape_char((unsigned char)*s, in_quotes, e));
}

int log_quote(const char *s, char *out, size_t outlen)
{
	size_t n = 0;
	char e[5];

	if (outlen == 0)
		return SPOOLSHIP_EINVAL;
	if (!needs_quote(s)) {
		size_t len = strlen(s);

		if (len + 1 > outlen)
			return SPOOLSHIP_EINVAL;
		memcpy(out, s, len + 1);
		return 0;
	}
	if (outlen < 3) {
		out[0] = '\0';
		return SPOOLSHIP_EINVAL;
	}
	out[n++] = '"';
	for (; *s != '\0'; s++) {
		size_t k = escape_char((unsigned char)*s, 1, e);

		if (n + k + 2 > outlen)
			break;
		memcpy(out + n, e, k);
		n += k;
	}
	out[n++] = '"';
	out[n] = '\0';
	return *s == '\0' ? 0 : SPOOLSHIP_EINVAL;
}

/* ---- splitting "message key=value ..." ---------------------------------- */

struct field {
	char *key;
	char *val;
};

/* Length of the key when s starts a "key=" word, else 0. */
static size_t key_at(const char *s)
{
	size_t i = 0;
	unsigned char c = (unsigned char)s[0];

	if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'))
		return 0;
	for (;;) {
		c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			break;
		i++;
	}
	return s[i] == '=' ? i : 0;
}

/* The next word at or after p (p > base) that starts a key, or NULL. */
static char *next_key(char *base, char *p)
{
	for (; *p != '\0'; p++) {
		if (p > base && p[-1] == ' ' && key_at(p) > 0)
			return p;
	}
	return NULL;
}

static void rtrim(char *s, char *end)
{
	while (end > s && end[-1] == ' ')
		*--end = '\0';
}

/* Undoes log_quote() in place when v is one quoted string. */
static void unquote(char *v)
{
	size_t n = strlen(v), i, o = 0;

	if (n < 2 || v[0] != '"' || v[n - 1] != '"')
		return;
	for (i = 1; i + 1 < n; i++) {
		if (v[i] == '\\' && i + 2 < n) {
			char c = v[++i];

			v[o++] = c == 'n' ? '\n' : c == 't' ? '\t' :
				 c == 'r' ? '\r' : c;
			if (c != 'n' && c != 't' && c != 'r' && c != '"' &&
			    c != '\\') {
				v[o - 1] = '\\';
				v[o++] = c;
			}
		} else {
			v[o++] = v[i];
		}
	}
	v[o] = '\0';
}

/* Splits s in place into a message and up to max fields. */
static size_t split(char *s, const char **msg, struct field *f, size_t max)
{
	char *p = key_at(s) > 0 ? s : next_key(s, s);
	size_t n = 0;

	*msg = s;
	if (p == NULL) {
		rtrim(s, s + strlen(s));
		return 0;
	}
	if (p == s) {
		*msg = "";
	} else {
		p[-1] = '\0';
		rtrim(s, p - 1);
	}
	while (p != NULL) {
		size_t kl = key_at(p);
		char *v = p + kl + 1, *from = v, *next;

		p[kl] = '\0';
		if (*v == '"') {
			/* Skip a quoted value's spaces: they bound nothing. */
			for (from = v + 1; *from != '\0' && *from != '"';
			     from++)
				if (*from == '\\' && from[1] != '\0')
					from++;
		}
		next = n + 1 < max ? next_key(s, from) : NULL;
		if (next != NULL)
			next[-1] = '\0';
		rtrim(v, v + strlen(v));
		unquote(v);
		f[n].key = p;
		f[n].val = v;
		n++;
		p = next;
	}
	return n;
}

static int is_secret_key(const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; i < sizeof(secret_keys) / sizeof(*secret_keys);
	     i++) {
		size_t n = strlen(secret_keys[i]), j;

		if (kl < n)
			continue;
		for (j = 0; j < n && lower((unsigned char)key[kl - n + j]) ==
		     secret_keys[i][j]; j++)
			;
		if (j == n && (kl == n || key[kl - n - 1] == '_' ||
			       key[kl - n - 1] == '-' ||
			       key[kl - n - 1] == '.'))
			return 1;
	}
	return 0;
}

/* ---- rendering ---------------------------------------------------------- */

static void render_text(struct strbuf *b, const char *ts, int level,
			const char *msg, const struct field *f, size_t n)
{
	char head[64];

	snprintf(head, sizeof(head), "%s %-5s", ts, log_level_name(level));
	strbuf_str(b, head);
	if (*msg != '\0') {
		strbuf_str(b, " ");
		sb_escaped(b, msg, 0);
	}
	for (size_t i = 0; i < n; i++) {
		strbuf_str(b, " ");
		strbuf_str(b, f[i].key);
		strbuf_str(b, "=");
		if (needs_quote(f[i].val)) {
			strbuf_str(b, "\"");
			sb_escaped(b, f[i].val, 1);
			strbuf_str(b, "\"");
		} else {
			strbuf_str(b, f[i].val);
		}
	}
	strbuf_str(b, "\n");
}

/* JSON strings must be UTF-8: a value that is not loses its high bytes. */
static void make_utf8(char *s)
{
	if (validate_utf8(s, strlen(s)))
		return;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			*s = '?';
}

static void render_json(struct strbuf *b, const char *ts, int level,
			const char *msg, const struct field *f, size_t n)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;
	int ok = o != NULL;

	ok = ok && cJSON_AddStringToObject(o, "ts", ts) != NULL;
	ok = ok && cJSON_AddStringToObject(o, "level",
					   log_level_name(level)) != NULL;
	ok = ok && cJSON_AddStringToObject(o, "msg", msg) != NULL;
	for (size_t i = 0; ok && i < n; i++) {
		char key[80];

		snprintf(key, sizeof(key), "%s", f[i].key);
		while (cJSON_GetObjectItemCaseSensitive(o, key) != NULL &&
		       strlen(key) + 2 < sizeof(key)) {
			memmove(key + 1, key, strlen(key) + 1);
			key[0] = '_';
		}
		ok = cJSON_AddStringToObject(o, key, f[i].val) != NULL;
	}
	if (ok)
		text = cJSON_PrintUnformatted(o);
	if (text != NULL) {
		strbuf_str(b, text);
		strbuf_str(b, "\n");
	} else {
		b->oom = 1;
	}
	cJSON_free(text);
	cJSON_Delete(o);
}

/* Cuts s at max bytes, on a UTF-8 character boundary, and marks the cut. */
static void cut(struct strbuf *s, size_t max)
{
	size_t n = max;

	if (s->len <= max)
		return;
	while (n > 0 && ((unsigned char)s->p[n] & 0xc0) == 0x80)
		n--;
	s->len = n;
	s->p[n] = '\0';
	strbuf_str(s, "...");
}

static void write_line(FILE *out, const char *p, size_t n)
{
	flockfile(out);
	fwrite(p, 1, n, out);
	fflush(out);
	funlockfile(out);
}

void log_vemit(struct logger *lg, int level, const char *fmt, va_list ap)
{
	struct field f[LOG_MAX_FIELDS];
	struct strbuf red = { 0 }, line = { 0 };
	char ts[VALIDATE_TIME_LEN + 1], *raw = NULL;
	const char *msg;
	char masked[] = "***";
	size_t n;
	va_list aq;
	int len;

	if (lg == NULL || fmt == NULL)
		return;
	pthread_mutex_lock(&lg->mu);
	if (level < lg->level)
		goto out;
	if (level > LOG_LVL_ERROR)
		level = LOG_LVL_ERROR;
	validate_time_format(lg->now_ms != NULL ? lg->now_ms() :
			     clock_wall_ms(), ts);
	va_copy(aq, ap);
	len = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (len < 0)
		len = 0;
	if ((size_t)len >= LOG_FMT_MAX)
		len = LOG_FMT_MAX - 1;
	raw = malloc((size_t)len + 1);
	if (raw == NULL)
		goto oom;
	vsnprintf(raw, (size_t)len + 1, fmt, ap);
	redact_into(lg, raw, &red);
	strbuf_add(&red, "", 0);
	if (red.oom)
		goto oom;
	cut(&red, LOG_LINE_MAX);
	if (lg->json)
		make_utf8(red.p);
	n = split(red.p, &msg, f, LOG_MAX_FIELDS);
	for (size_t i = 0; i < n; i++)
		if (is_secret_key(f[i].key))
			f[i].val = masked;
	if (lg->json)
		render_json(&line, ts, level, msg, f, n);
	else
		render_text(&line, ts, level, msg, f, n);
	if (line.oom)
		goto oom;
	write_line(lg->out, line.p, line.len);
	goto out;
oom:
	{
		char fixed[128];
		int k = snprintf(fixed, sizeof(fixed), lg->json ?
			"{\"ts\":\"%s\",\"level\":\"error\",\"msg\":"
			"\"log line dropped: out of memory\"}\n" :
			"%s error log line dropped: out of memory\n", ts);

		if (k > 0)
			write_line(lg->out, fixed, (size_t)k);
	}
out:
	pthread_mutex_unlock(&lg->mu);
	free(raw);
	free(red.p);
	free(line.p);
}

void log_emit(struct logger *lg, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(lg, level, fmt, ap);
	va_end(ap);
}

/* ---- destinations and rate limits -------------------------------------- */

/* One part of u into out at *n; 0 or SPOOLSHIP_EINVAL (cut or missing). */
static int url_part(CURLU *u, CURLUPart part, unsigned flags,
		    const char *before, char *out, size_t outlen, size_t *n)
{
	char *v = NULL;
	int k, rc = 0;

	if (curl_url_get(u, part, &v, flags) != CURLUE_OK)
		return SPOOLSHIP_EINVAL;
	k = snprintf(out + *n, outlen - *n, "%s%s", before, v);
	if (k < 0 || (size_t)k >= outlen - *n) {
		*n = outlen - 1;
		rc = SPOOLSHIP_EINVAL;
	} else {
		*n += (size_t)k;
	}
	curl_free(v);
	return rc;
}

int log_url_dest(const char *url, char *out, size_t outlen)
{
	CURLU *u;
	size_t n = 0;
	int rc;

	if (outlen == 0)
		return SPOOLSHIP_EINVAL;
	out[0] = '\0';
	u = curl_url();
	if (u == NULL || url == NULL ||
	    curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		curl_url_cleanup(u);
		snprintf(out, outlen, "-");
		return SPOOLSHIP_EINVAL;
	}
	/* Part by part, never the whole URL: user, password, query and
	 * fragment are left out by construction. */
	rc = url_part(u, CURLUPART_SCHEME, 0, "", out, outlen, &n);
	if (rc == 0)
		rc = url_part(u, CURLUPART_HOST, 0, "://", out, outlen, &n);
	if (rc == 0)
		rc = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT, ":", out,
			      outlen, &n);
	if (rc == 0)
		rc = url_part(u, CURLUPART_PATH, 0, "", out, outlen, &n);
	curl_url_cleanup(u);
	return rc;
}

int log_limit_init(struct log_limit *l, unsigned burst, int64_t period_ms)
{
	memset(l, 0, sizeof(*l));
	l->burst = burst > 0 ? burst : 1;
	l->tokens = l->burst;
	l->period_ms = period_ms > 0 ? period_ms : 1;
	l->last_ms = clock_mono_ms();
	return -pthread_mutex_init(&l->mu, NULL);
}

void log_limit_fini(struct log_limit *l)
{
	pthread_mutex_destroy(&l->mu);
}

int log_limit_take(struct log_limit *l, int64_t now_ms, int only_held,
		   uint64_t *suppressed)
{
	int go = 0;

	pthread_mutex_lock(&l->mu);
	if (now_ms > l->last_ms) {
		l->tokens += (double)(now_ms - l->last_ms) * l->burst /
			     (double)l->period_ms;
		if (l->tokens > l->burst)
			l->tokens = l->burst;
		l->last_ms = now_ms;
	}
	if (only_held && l->suppressed == 0) {
		pthread_mutex_unlock(&l->mu);
		return 0;
	}
	if (l->tokens >= 1.0) {
		l->tokens -= 1.0;
		*suppressed = l->suppressed;
		l->suppressed = 0;
		go = 1;
	} else if (!only_held) {
		l->suppressed++;
	}
	pthread_mutex_unlock(&l->mu);
	return go;
}
