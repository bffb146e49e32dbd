/*
 * mock-polaris: a loopback stand-in for the Imply Polaris Events API that
 * spoolship's tests and `make demo` ship to.  It enforces the contract in
 * docs/events-api.md (auth, token endpoint, size limit, __time window, rate
 * limit and its headers), injects faults on request and counts what it got.
 * It must never forward data anywhere, listen beyond loopback unless told
 * so with --bind, or hold more than --max-body (+1) bytes of one body.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <zlib.h>

#define MAX_LIST	   16	   /* --token, --api-key, --fail-status */
#define MAX_TABLES	   256	   /* distinct names in accepted_by_table */
#define MAX_NAME	   255	   /* table / connection name */
#define MSG_MAX		   512	   /* small answer bodies */
#define TOKEN_BODY_LIMIT   65536   /* token endpoint form body */
#define MAX_BODY_CEILING   (1L << 30)
#define RATE_WINDOW_MS	   60000

#define EXPIRED_MSG \
	"Token claims invalid: [\\\"exp\\\"]=\\\"token expired\\\""

/* ------------------------------------------------------------------ */
/* Options                                                              */

struct fail_status {
	int	code;
	double	p;
};

struct opts {
	long		 port;
	const char	*bind;
	const char	*port_file;
	const char	*tokens[MAX_LIST];
	size_t		 ntokens;
	char		*key_forms[MAX_LIST * 3];   /* accepted Basic creds */
	size_t		 nkey_forms;
	const char	*client_id;
	const char	*client_secret;
	long		 token_lifetime;
	long		 max_body;
	long long	 max_age_s;
	int		 strict;
	long		 rpm;
	double		 p500, p503, p429, p_drop_before, p_drop_after;
	long		 retry_after;
	long		 delay_ms, jitter_ms;
	uint64_t	 seed;
	int		 have_seed;
	struct fail_status fail[MAX_LIST];
	size_t		 nfail;
	const char	*outage_file;
	int		 outage_refuse;
	const char	*poison;
	char		*tables[MAX_TABLES];
	size_t		 ntables;
	long		 threads;
	long		 idle_timeout;
	int		 verbose;
};

static struct opts O = {
	.bind = "127.0.0.1",
	.token_lifetime = 300,
	.max_body = 1000000,
	.max_age_s = 7LL * 24 * 3600,
	.rpm = 83334,
	.retry_after = 1,
	.threads = 2,
	.idle_timeout = 60,
};

/* ------------------------------------------------------------------ */
/* Shared state: everything below is guarded by S.mu                    */

struct table_count {
	char		name[MAX_NAME + 1];
	uint64_t	n;
};

struct counters {
	uint64_t requests, events_accepted, bytes_received, duplicates;
	uint64_t events_without_id, late_dropped, unparseable_dropped;
	uint64_t tokens_issued, max_events_per_request, max_body_bytes_seen;
	uint64_t gzip_requests, connections_dropped, id_tracking_failures;
	uint64_t by_status[600];
	struct table_count tables[MAX_TABLES];
	size_t	 ntables;
	uint64_t other_tables;
};

/*
 * Ids seen, as an open-addressing set.  Keys live in `arena` as "id\n"
 * records in arrival order (which is also the GET /ids answer); a slot
 * holds the record's offset + 1 in its low 40 bits and the top 24 bits
 * of the key's hash, 0 meaning empty.  The slot index is taken from the
 * hash's top bits too, so growing up to 2^24 slots needs no rehashing of
 * keys (that stalled every request for ~0.3 s at a few million ids).
 */
struct idset {
	uint64_t	*slot;
	size_t		 cap, count;
	unsigned	 bits;		/* cap == 1 << bits */
	char		*arena;
	size_t		 alen, acap;
};

#define SLOT_OFF_BITS 40
#define SLOT_OFF_MASK ((UINT64_C(1) << SLOT_OFF_BITS) - 1)

struct issued {
	char	tok[65];
	int64_t	expires_ms;
};

static struct {
	pthread_mutex_t	 mu;
	struct counters	 c;
	struct idset	 ids;
	struct issued	*tok;
	size_t		 ntok, captok;
	int64_t		 win_start_ms;
	uint64_t	 win_count;
	int		 win_open;
	uint64_t	 rng;
} S = { .mu = PTHREAD_MUTEX_INITIALIZER };

static atomic_int outage_switch;

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

static void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
fatal(const char *fmt, ...)
{
	va_list ap;

	fputs("mock-polaris: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void
lock(void)
{
	pthread_mutex_lock(&S.mu);
}

static void
unlock(void)
{
	pthread_mutex_unlock(&S.mu);
}

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long
parse_ll(const char *opt, const char *s, long long min, long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		fatal("--%s: expected an integer in [%lld, %lld], got \"%s\"",
		    opt, min, max, s);
	return v;
}

static double
parse_prob(const char *opt, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0 && v <= 1.0))
		fatal("--%s: expected a probability in [0, 1], got \"%s\"",
		    opt, s);
	return v;
}

/* An integer of seconds with an optional s, m, h or d suffix. */
static long long
parse_duration(const char *opt, const char *s)
{
	char buf[32];
	size_t n = strlen(s);
	long long mult = 0;

	if (n == 0 || n >= sizeof buf)
		fatal("--%s: bad duration \"%s\"", opt, s);
	memcpy(buf, s, n + 1);
	switch (buf[n - 1]) {
	case 'd': mult = 86400; break;
	case 'h': mult = 3600; break;
	case 'm': mult = 60; break;
	case 's': mult = 1; break;
	}
	if (mult != 0)
		buf[n - 1] = '\0';
	else
		mult = 1;
	return parse_ll(opt, buf, 0, 100LL * 365 * 86400 / mult) * mult;
}

/* splitmix64: tiny, seedable, good enough for fault dice. */
static uint64_t
rng_next(void)
{
	uint64_t z;

	lock();
	z = (S.rng += UINT64_C(0x9e3779b97f4a7c15));
	unlock();
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static double
rng_unit(void)
{
	return (double)(rng_next() >> 11) * 0x1.0p-53;
}

/* {"message": "..."} with quotes and backslashes already escaped. */
static void
json_msg(char *dst, size_t n, const char *escaped)
{
	snprintf(dst, n, "{\"message\": \"%s\"}", escaped);
}

/* ------------------------------------------------------------------ */
/* Base64 (API keys as Basic credentials, client credentials)           */

static const char b64abc[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *
b64_encode(const char *in, size_t n)
{
	const unsigned char *p = (const unsigned char *)in;
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	if (out == NULL)
		fatal("out of memory");
	for (i = 0; i + 2 < n; i += 3) {
		*o++ = b64abc[p[i] >> 2];
		*o++ = b64abc[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = b64abc[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		*o++ = b64abc[p[i + 2] & 63];
	}
	if (i < n) {
		*o++ = b64abc[p[i] >> 2];
		if (i + 1 < n) {
			*o++ = b64abc[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
			*o++ = b64abc[(p[i + 1] & 15) << 2];
		} else {
			*o++ = b64abc[(p[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* Decodes NUL-terminated `in` into out (NUL-terminated); -1 if invalid. */
static int
b64_decode(const char *in, char *out, size_t outlen)
{
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0;
	const char *q;

	for (; *in != '\0' && *in != '='; in++) {
		q = strchr(b64abc, *in);
		if (q == NULL)
			return -1;
		acc = (acc << 6) | (uint32_t)(q - b64abc);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	return 0;
}

/* ------------------------------------------------------------------ */
/* ISO-8601 __time                                                      */

static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	for (; n > 0; n--, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
days_in_month(int y, int m)
{
	static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

/* Zone: Z, +HH:MM, +HHMM or +HH (and -). */
static int
parse_zone(const char *p, int *off_min)
{
	int sign, hh, mm = 0;

	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		*off_min = 0;
		return 0;
	}
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (digits(&p, 2, &hh) != 0 || hh > 23)
		return -1;
	if (*p == ':')
		p++;
	if (*p != '\0' && (digits(&p, 2, &mm) != 0 || mm > 59))
		return -1;
	if (*p != '\0')
		return -1;
	*off_min = sign * (hh * 60 + mm);
	return 0;
}

/* YYYY-MM-DDTHH:MM:SS[.fff...](Z|+-HH[:MM]) to ms since the epoch. */
static int
iso8601_ms(const char *s, int64_t *out)
{
	const char *p = s;
	int y, mo, d, h, mi, sec, ms = 0, scale = 100, off;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
	    *p++ != ':' || digits(&p, 2, &sec))
		return -1;
	if (*p == '.' || *p == ',') {
		if (*++p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
			ms += (*p - '0') * scale;
	}
	if (parse_zone(p, &off) != 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	*out = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi - off) *
	    60000 + (int64_t)sec * 1000 + ms;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Id set                                                               */

static uint64_t
hash_bytes(const char *p, size_t n)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	while (n-- > 0)
		h = (h ^ (unsigned char)*p++) * UINT64_C(0x100000001b3);
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	return h ^ (h >> 33);
}

static size_t
idset_keylen(const struct idset *s, size_t off)
{
	const char *p = s->arena + off;

	return (size_t)((const char *)memchr(p, '\n', s->alen - off) - p);
}

static void
idset_place(uint64_t *slot, unsigned bits, uint64_t h, uint64_t v)
{
	size_t mask = ((size_t)1 << bits) - 1, i = (size_t)(h >> (64 - bits));

	while (slot[i] != 0)
		i = (i + 1) & mask;
	slot[i] = v;
}

static int
idset_grow(struct idset *s)
{
	unsigned nbits = s->bits ? s->bits + 1 : 12;
	size_t ncap = (size_t)1 << nbits, i, off;
	uint64_t *ns = calloc(ncap, sizeof *ns), v, h;

	if (ns == NULL)
		return -1;
	for (i = 0; i < s->cap; i++) {
		if ((v = s->slot[i]) == 0)
			continue;
		/* The stored top 24 bits place a key while nbits <= 24. */
		h = (v >> SLOT_OFF_BITS) << SLOT_OFF_BITS;
		if (nbits > 64 - SLOT_OFF_BITS) {
			off = (size_t)(v & SLOT_OFF_MASK) - 1;
			h = hash_bytes(s->arena + off, idset_keylen(s, off));
		}
		idset_place(ns, nbits, h, v);
	}
	free(s->slot);
	s->slot = ns;
	s->cap = ncap;
	s->bits = nbits;
	return 0;
}

static int
idset_append(struct idset *s, const char *k, size_t n)
{
	size_t ncap;
	char *na;

	if (s->alen + n + 1 > s->acap) {
		ncap = s->acap ? s->acap : 65536;
		while (ncap < s->alen + n + 1)
			ncap *= 2;
		if (ncap > SLOT_OFF_MASK || (na = realloc(s->arena, ncap)) ==
		    NULL)
			return -1;
		s->arena = na;
		s->acap = ncap;
	}
	memcpy(s->arena + s->alen, k, n);
	s->arena[s->alen + n] = '\n';
	s->alen += n + 1;
	return 0;
}

/* 1: new id, 0: seen before, -1: out of memory.  k holds no '\n'. */
static int
idset_add(struct idset *s, const char *k, size_t n)
{
	uint64_t h, tag, v;
	size_t i, off;

	if ((s->count + 1) * 4 > s->cap * 3 && idset_grow(s) != 0)
		return -1;
	h = hash_bytes(k, n);
	tag = h >> SLOT_OFF_BITS;
	for (i = (size_t)(h >> (64 - s->bits)); (v = s->slot[i]) != 0;
	    i = (i + 1) & (s->cap - 1)) {
		if (v >> SLOT_OFF_BITS != tag)
			continue;
		off = (size_t)(v & SLOT_OFF_MASK) - 1;
		if (idset_keylen(s, off) == n &&
		    memcmp(s->arena + off, k, n) == 0)
			return 0;
	}
	off = s->alen;
	if (idset_append(s, k, n) != 0)
		return -1;
	s->slot[i] = (tag << SLOT_OFF_BITS) | (uint64_t)(off + 1);
	s->count++;
	return 1;
}

static void
idset_clear(struct idset *s)
{
	free(s->slot);
	free(s->arena);
	memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------ */
/* Rate limit: fixed 60-second window opened by its first request      */

struct rl {
	long limit, remaining, reset_s;
};

static void
rate_view_locked(int64_t now, struct rl *v)
{
	int64_t left;

	if (S.win_open && now - S.win_start_ms >= RATE_WINDOW_MS)
		S.win_open = 0;
	v->limit = O.rpm;
	if (!S.win_open) {
		v->remaining = O.rpm;
		v->reset_s = RATE_WINDOW_MS / 1000;
		return;
	}
	left = S.win_start_ms + RATE_WINDOW_MS - now;
	v->reset_s = (long)((left + 999) / 1000);
	v->remaining = S.win_count >= (uint64_t)O.rpm ? 0 :
	    O.rpm - (long)S.win_count;
}

/* 1 if the request fits in the window, 0 if it is over the limit. */
static int
rate_take(void)
{
	int64_t now = clock_ms(CLOCK_MONOTONIC);
	struct rl v;
	int ok = 1;

	if (O.rpm <= 0)
		return 1;
	lock();
	rate_view_locked(now, &v);
	if (!S.win_open) {
		S.win_open = 1;
		S.win_start_ms = now;
		S.win_count = 0;
	}
	if (S.win_count >= (uint64_t)O.rpm)
		ok = 0;
	else
		S.win_count++;
	unlock();
	return ok;
}

/* ------------------------------------------------------------------ */
/* Counters                                                             */

static void
count_request(void)
{
	lock();
	S.c.requests++;
	unlock();
}

static void
count_drop(void)
{
	lock();
	S.c.connections_dropped++;
	unlock();
}

static void
count_wire(uint64_t wire, int gzip)
{
	lock();
	S.c.bytes_received += wire;
	if (wire > S.c.max_body_bytes_seen)
		S.c.max_body_bytes_seen = wire;
	S.c.gzip_requests += gzip != 0;
	unlock();
}

/* Counts an events-path answer (status != 0) and reads the rate view. */
static void
count_answer(unsigned status, struct rl *v)
{
	lock();
	if (status > 0 && status < 600)
		S.c.by_status[status]++;
	rate_view_locked(clock_ms(CLOCK_MONOTONIC), v);
	unlock();
}

static void
table_add_locked(const char *name, uint64_t n)
{
	struct table_count *t;
	size_t i;

	for (i = 0; i < S.c.ntables; i++)
		if (strcmp(S.c.tables[i].name, name) == 0) {
			S.c.tables[i].n += n;
			return;
		}
	if (S.c.ntables == MAX_TABLES) {
		S.c.other_tables += n;
		return;
	}
	t = &S.c.tables[S.c.ntables++];
	snprintf(t->name, sizeof t->name, "%s", name);
	t->n = n;
}

static void
counters_reset(void)
{
	lock();
	memset(&S.c, 0, sizeof S.c);
	idset_clear(&S.ids);
	S.win_open = 0;
	unlock();
}

/* ------------------------------------------------------------------ */
/* Tokens                                                               */

static void
token_random(char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[32];
	size_t i;

	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		for (i = 0; i < sizeof raw; i++)
			raw[i] = (unsigned char)rng_next();
	for (i = 0; i < sizeof raw; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[64] = '\0';
}

static int
token_issue(char out[65])
{
	struct issued *nt;
	size_t ncap;

	token_random(out);
	lock();
	if (S.ntok == S.captok) {
		ncap = S.captok ? S.captok * 2 : 16;
		nt = realloc(S.tok, ncap * sizeof *nt);
		if (nt == NULL) {
			unlock();
			return -1;
		}
		S.tok = nt;
		S.captok = ncap;
	}
	memcpy(S.tok[S.ntok].tok, out, 65);
	S.tok[S.ntok++].expires_ms = clock_ms(CLOCK_MONOTONIC) +
	    O.token_lifetime * 1000;
	S.c.tokens_issued++;
	unlock();
	return 0;
}

enum auth { AUTH_OK, AUTH_MISSING, AUTH_INVALID, AUTH_EXPIRED };

static enum auth
token_lookup(const char *t)
{
	enum auth res = AUTH_INVALID;
	int64_t now = clock_ms(CLOCK_MONOTONIC);
	size_t i;

	lock();
	for (i = 0; i < S.ntok; i++)
		if (strcmp(S.tok[i].tok, t) == 0) {
			res = now >= S.tok[i].expires_ms ? AUTH_EXPIRED :
			    AUTH_OK;
			break;
		}
	unlock();
	return res;
}

/* ------------------------------------------------------------------ */
/* Authentication                                                       */

static int
auth_required(void)
{
	return O.ntokens > 0 || O.nkey_forms > 0 || O.client_id != NULL;
}

static const char *
after_scheme(const char *h, const char *scheme)
{
	size_t n = strlen(scheme);

	if (strncasecmp(h, scheme, n) != 0 || h[n] != ' ')
		return NULL;
	for (h += n; *h == ' '; h++)
		;
	return h;
}

static enum auth
auth_check(struct MHD_Connection *c)
{
	const char *h, *cred;
	size_t i;

	if (!auth_required())
		return AUTH_OK;
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (h == NULL || *h == '\0')
		return AUTH_MISSING;
	if ((cred = after_scheme(h, "Bearer")) != NULL) {
		for (i = 0; i < O.ntokens; i++)
			if (strcmp(O.tokens[i], cred) == 0)
				return AUTH_OK;
		return O.client_id ? token_lookup(cred) : AUTH_INVALID;
	}
	if ((cred = after_scheme(h, "Basic")) != NULL)
		for (i = 0; i < O.nkey_forms; i++)
			if (strcmp(O.key_forms[i], cred) == 0)
				return AUTH_OK;
	return AUTH_INVALID;
}

/* ------------------------------------------------------------------ */
/* Requests                                                             */

enum route {
	R_NOTFOUND, R_EVENTS, R_TOKEN, R_STATS, R_IDS, R_RESET, R_OUTAGE
};

/* What a request is answered with once decided. */
struct outcome {
	unsigned	 status;
	int		 close;		/* close without an answer */
	long		 retry_after;	/* < 0: no Retry-After */
	const char	*allow;		/* Allow header for 405 */
	char		 body[MSG_MAX];
};

struct req {
	struct MHD_Connection	*conn;
	enum route		 route;
	int			 method_ok;
	int			 table_ok;
	char			 table[MAX_NAME + 1];
	char			*buf;
	size_t			 len, cap, limit;
	uint64_t		 wire;
	int			 over;
	int			 oom;
	int			 decided;
	struct outcome		 out;
	int64_t			 wake_ms;
};

/* Copies one path segment of p into out; returns the rest or NULL. */
static const char *
path_seg(const char *p, char *out, size_t outlen)
{
	size_t n = strcspn(p, "/");

	if (n == 0 || n >= outlen)
		return NULL;
	memcpy(out, p, n);
	out[n] = '\0';
	return p + n;
}

static int
table_known(const char *name)
{
	size_t i;

	if (O.ntables == 0)
		return 1;
	for (i = 0; i < O.ntables; i++)
		if (strcmp(O.tables[i], name) == 0)
			return 1;
	return 0;
}

static enum route
route_of(const char *url, char *table)
{
	char org[MAX_NAME + 1];
	const char *p;

	if (strncmp(url, "/v1/events/", 11) == 0) {
		p = path_seg(url + 11, table, MAX_NAME + 1);
		return p != NULL && *p == '\0' ? R_EVENTS : R_NOTFOUND;
	}
	if (strncmp(url, "/v1/projects/", 13) == 0) {
		p = path_seg(url + 13, org, sizeof org);
		if (p == NULL || strncmp(p, "/events/", 8) != 0)
			return R_NOTFOUND;
		p = path_seg(p + 8, table, MAX_NAME + 1);
		return p != NULL && *p == '\0' ? R_EVENTS : R_NOTFOUND;
	}
	if (strcmp(url, "/oauth/token") == 0)
		return R_TOKEN;
	if (strncmp(url, "/auth/realms/", 13) == 0) {
		p = path_seg(url + 13, org, sizeof org);
		if (p != NULL &&
		    strcmp(p, "/protocol/openid-connect/token") == 0)
			return R_TOKEN;
		return R_NOTFOUND;
	}
	if (strcmp(url, "/stats") == 0)
		return R_STATS;
	if (strcmp(url, "/ids") == 0)
		return R_IDS;
	if (strcmp(url, "/control/reset") == 0)
		return R_RESET;
	if (strcmp(url, "/control/outage") == 0)
		return R_OUTAGE;
	return R_NOTFOUND;
}

static int
method_allowed(enum route r, const char *method, const char **allow)
{
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	switch (r) {
	case R_STATS:
	case R_IDS:
		*allow = "GET, HEAD";
		return get;
	case R_NOTFOUND:
		*allow = NULL;
		return 1;
	default:
		*allow = "POST";
		return strcmp(method, "POST") == 0;
	}
}

static int
outage_active(void)
{
	struct stat st;

	if (atomic_load(&outage_switch))
		return 1;
	return O.outage_file != NULL && stat(O.outage_file, &st) == 0;
}

static uint64_t
content_length(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;
	unsigned long long v;

	if (h == NULL)
		return 0;
	errno = 0;
	v = strtoull(h, &end, 10);
	return errno != 0 || end == h ? 0 : (uint64_t)v;
}

static int
expects_continue(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_EXPECT);

	return h != NULL && strcasecmp(h, "100-continue") == 0;
}

static void
set_outcome(struct outcome *o, unsigned status, const char *escaped_msg)
{
	o->status = status;
	o->close = 0;
	json_msg(o->body, sizeof o->body, escaped_msg);
}

/* Keeps at most r->limit bytes; past that only counts the wire bytes. */
static void
req_absorb(struct req *r, const char *data, size_t n)
{
	size_t ncap;
	char *nb;

	r->wire += n;
	if (r->over)
		return;
	if (r->wire > r->limit) {
		r->over = 1;
		free(r->buf);
		r->buf = NULL;
		r->len = r->cap = 0;
		return;
	}
	if (r->len + n + 1 > r->cap) {
		ncap = r->cap ? r->cap : 16384;
		while (ncap < r->len + n + 1)
			ncap *= 2;
		if ((nb = realloc(r->buf, ncap)) == NULL) {
			r->oom = r->over = 1;
			return;
		}
		r->buf = nb;
		r->cap = ncap;
	}
	memcpy(r->buf + r->len, data, n);
	r->len += n;
	r->buf[r->len] = '\0';
}

/* ------------------------------------------------------------------ */
/* Answers                                                              */

static void
add_rate_headers(struct MHD_Response *rsp, const struct rl *v)
{
	char b[32];

	snprintf(b, sizeof b, "%ld", v->limit);
	MHD_add_response_header(rsp, "RateLimit-Limit", b);
	MHD_add_response_header(rsp, "X-RateLimit-Limit-Minute", b);
	snprintf(b, sizeof b, "%ld", v->remaining);
	MHD_add_response_header(rsp, "RateLimit-Remaining", b);
	MHD_add_response_header(rsp, "X-RateLimit-Remaining-Minute", b);
	snprintf(b, sizeof b, "%ld", v->reset_s);
	MHD_add_response_header(rsp, "RateLimit-Reset", b);
}

/*
 * Queues an answer.  With `take`, body was malloc'd and is handed to MHD;
 * otherwise it is copied.  `counted` adds the status to by_status.
 */
static enum MHD_Result
send_answer(struct MHD_Connection *c, unsigned status, const char *ctype,
    char *body, size_t len, int take, int counted, long retry_after,
    const char *allow)
{
	struct MHD_Response *rsp;
	struct rl v;
	enum MHD_Result ret;
	char b[32];

	rsp = MHD_create_response_from_buffer(len, body,
	    take ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
	if (rsp == NULL) {
		if (take)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(rsp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	count_answer(counted ? status : 0, &v);
	if (O.rpm > 0)
		add_rate_headers(rsp, &v);
	if (retry_after >= 0) {
		snprintf(b, sizeof b, "%ld", retry_after);
		MHD_add_response_header(rsp, MHD_HTTP_HEADER_RETRY_AFTER, b);
	}
	if (allow != NULL && status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(rsp, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, status, rsp);
	MHD_destroy_response(rsp);
	return ret;
}

static enum MHD_Result
deliver(struct MHD_Connection *c, struct req *r, const char *url)
{
	struct outcome *o = &r->out;
	int counted = r->route == R_EVENTS;

	if (O.verbose)
		fprintf(stderr, "mock-polaris: %s status=%u%s bytes=%" PRIu64
		    "\n", url, o->status, o->close ? " closed=1" : "",
		    r->wire);
	if (o->close) {
		count_drop();
		return MHD_NO;
	}
	return send_answer(c, o->status, "application/json", o->body,
	    strlen(o->body), 0, counted, o->retry_after, o->allow);
}

/* ------------------------------------------------------------------ */
/* Events: body checks                                                  */

static int
json_content_type(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen("application/json");

	if (h == NULL || strncasecmp(h, "application/json", n) != 0)
		return 0;
	return h[n] == '\0' || h[n] == ';' || h[n] == ' ' || h[n] == '\t';
}

/* 0: identity, 1: gzip, -1: something we do not take. */
static int
content_encoding(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_ENCODING);

	if (h == NULL || *h == '\0' || strcasecmp(h, "identity") == 0)
		return 0;
	if (strcasecmp(h, "gzip") == 0 || strcasecmp(h, "x-gzip") == 0)
		return 1;
	return -1;
}

static int
grow_out(char **out, size_t *cap, size_t limit)
{
	size_t ncap = *cap * 2 > limit ? limit : *cap * 2;
	char *n = realloc(*out, ncap + 1);

	if (n == NULL)
		return -1;
	*out = n;
	*cap = ncap;
	return 0;
}

/*
 * Inflates a gzip body (members may be concatenated) into *out, never
 * producing more than limit + 1 bytes.  0: ok, 1: over limit,
 * -1: corrupt, -2: out of memory.
 */
static int
gunzip_bounded(const char *in, size_t inlen, size_t limit, char **out,
    size_t *outlen)
{
	z_stream zs;
	size_t cap = inlen * 4 + 4096, olen = 0;
	int rc, res = 0;

	if (cap > limit + 1)
		cap = limit + 1;
	memset(&zs, 0, sizeof zs);
	if ((*out = malloc(cap + 1)) == NULL)
		return -2;
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
		free(*out);
		return -2;
	}
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)inlen;
	for (;;) {
		if (olen == cap && (cap == limit + 1 ||
		    grow_out(out, &cap, limit + 1) != 0)) {
			res = cap == limit + 1 ? 1 : -2;
			break;
		}
		zs.next_out = (Bytef *)*out + olen;
		zs.avail_out = (uInt)(cap - olen);
		rc = inflate(&zs, Z_NO_FLUSH);
		olen = cap - zs.avail_out;
		if (olen > limit) {
			res = 1;
			break;
		}
		if (rc == Z_STREAM_END) {
			if (zs.avail_in == 0)
				break;
			inflateReset(&zs);
			continue;
		}
		if ((rc != Z_OK && rc != Z_BUF_ERROR) ||
		    (zs.avail_in == 0 && zs.avail_out != 0)) {
			res = -1;
			break;
		}
	}
	inflateEnd(&zs);
	if (res != 0) {
		free(*out);
		*out = NULL;
		return res;
	}
	(*out)[olen] = '\0';
	*outlen = olen;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Events: lines                                                        */

/* What one request's lines amount to, before anything is counted. */
struct batch {
	uint64_t	 lines, ok, late, bad, noid;
	char		*ids;		/* "id\n" records */
	size_t		 idlen, idcap;
	int		 oom;
};

enum verdict { V_OK, V_LATE, V_BAD, V_POISON };

/* Appends s (n bytes) with '\n' and '\r' escaped, then a '\n'. */
static void
batch_add_id(struct batch *b, const char *s, size_t n)
{
	size_t need = b->idlen + 2 * n + 2, ncap;
	char *nb;

	if (need > b->idcap) {
		ncap = b->idcap ? b->idcap * 2 : 4096;
		while (ncap < need)
			ncap *= 2;
		if ((nb = realloc(b->ids, ncap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->ids = nb;
		b->idcap = ncap;
	}
	for (; n > 0; n--, s++) {
		if (*s == '\n' || *s == '\r') {
			b->ids[b->idlen++] = '\\';
			b->ids[b->idlen++] = *s == '\n' ? 'n' : 'r';
		} else
			b->ids[b->idlen++] = *s;
	}
	b->ids[b->idlen++] = '\n';
}

/* The id as text: a string as is, a number as its shortest exact text. */
static void
batch_take_id(struct batch *b, const cJSON *id)
{
	char num[40];
	double d;
	long long ll;

	if (cJSON_IsString(id) && id->valuestring != NULL) {
		batch_add_id(b, id->valuestring, strlen(id->valuestring));
		return;
	}
	if (!cJSON_IsNumber(id)) {
		b->noid++;
		return;
	}
	d = id->valuedouble;
	ll = (long long)d;
	if (d > -9007199254740992.0 && d < 9007199254740992.0 &&
	    (double)ll == d)
		snprintf(num, sizeof num, "%lld", ll);
	else
		snprintf(num, sizeof num, "%.17g", d);
	batch_add_id(b, num, strlen(num));
}

static int
json_tail_blank(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t')
			return 0;
	return 1;
}

static enum verdict
line_judge(const char *line, size_t n, int64_t oldest_ms, struct batch *b,
    const char **why)
{
	const char *end = NULL;
	const cJSON *t;
	cJSON *ev;
	enum verdict v = V_BAD;
	int64_t ms;

	ev = cJSON_ParseWithLengthOpts(line, n, &end, 0);
	if (ev == NULL || end == NULL || !json_tail_blank(end, line + n)) {
		*why = "not valid JSON";
		goto out;
	}
	if (!cJSON_IsObject(ev)) {
		*why = "not a JSON object";
		goto out;
	}
	if (O.poison != NULL &&
	    cJSON_GetObjectItemCaseSensitive(ev, O.poison) != NULL) {
		*why = "poison event";
		v = V_POISON;
		goto out;
	}
	t = cJSON_GetObjectItemCaseSensitive(ev, "__time");
	if (t == NULL)
		*why = "missing __time";
	else if (!cJSON_IsString(t) || t->valuestring == NULL)
		*why = "__time is not a string";
	else if (iso8601_ms(t->valuestring, &ms) != 0)
		*why = "__time is not an ISO-8601 timestamp";
	else if (ms < oldest_ms) {
		*why = "__time is older than the late-event window";
		v = V_LATE;
	} else {
		v = V_OK;
		batch_take_id(b, cJSON_GetObjectItemCaseSensitive(ev, "id"));
	}
out:
	cJSON_Delete(ev);
	return v;
}

/* Records the request's events under the lock: counts and ids. */
static void
batch_commit(const char *table, const struct batch *b)
{
	const char *p = b->ids, *end = b->ids + b->idlen, *nl;
	int rc;

	lock();
	S.c.events_accepted += b->ok;
	S.c.late_dropped += b->late;
	S.c.unparseable_dropped += b->bad;
	S.c.events_without_id += b->noid;
	if (b->lines > S.c.max_events_per_request)
		S.c.max_events_per_request = b->lines;
	if (b->ok > 0)
		table_add_locked(table, b->ok);
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		rc = idset_add(&S.ids, p, (size_t)(nl - p));
		if (rc == 0)
			S.c.duplicates++;
		else if (rc < 0)
			S.c.id_tracking_failures++;
	}
	unlock();
}

/* Judges every line; 0 if the batch may be committed, else o is set. */
static int
batch_judge(const char *body, size_t len, struct batch *b,
    struct outcome *o)
{
	const char *p = body, *end = body + len, *nl, *why = "";
	int64_t oldest = clock_ms(CLOCK_REALTIME) - O.max_age_s * 1000;
	size_t n;
	long lineno = 0;
	enum verdict v;
	char msg[MSG_MAX / 2];

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		lineno++;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (json_tail_blank(p, p + n))
			continue;
		b->lines++;
		v = line_judge(p, n, oldest, b, &why);
		if (v == V_POISON || (O.strict && v != V_OK)) {
			snprintf(msg, sizeof msg, "line %ld: %s", lineno, why);
			set_outcome(o, MHD_HTTP_BAD_REQUEST, msg);
			return -1;
		}
		b->ok += v == V_OK;
		b->late += v == V_LATE;
		b->bad += v == V_BAD;
	}
	if (b->lines == 0) {
		set_outcome(o, MHD_HTTP_BAD_REQUEST, "no events in request");
		return -1;
	}
	if (b->oom) {
		set_outcome(o, 500, "out of memory");
		return -1;
	}
	return 0;
}

static void
events_ingest(struct req *r, const char *body, size_t len)
{
	struct batch b;

	memset(&b, 0, sizeof b);
	if (batch_judge(body, len, &b, &r->out) == 0) {
		batch_commit(r->table, &b);
		r->out.status = MHD_HTTP_OK;
		snprintf(r->out.body, sizeof r->out.body,
		    "{\"accepted\": %" PRIu64 ", \"dropped\": %" PRIu64 "}",
		    b.ok, b.late + b.bad);
	}
	free(b.ids);
}

/* ------------------------------------------------------------------ */
/* Events: faults and the decision                                      */

enum fault {
	F_NONE, F_DROP_BEFORE, F_500, F_503, F_429, F_STATUS, F_DROP_AFTER
};

/* One die per request; the probabilities are exclusive slices of it. */
static enum fault
fault_draw(unsigned *status)
{
	double r = rng_unit(), acc = 0.0;
	size_t i;

	if ((acc += O.p_drop_before) > r)
		return F_DROP_BEFORE;
	if ((acc += O.p500) > r)
		return F_500;
	if ((acc += O.p503) > r)
		return F_503;
	if ((acc += O.p429) > r)
		return F_429;
	for (i = 0; i < O.nfail; i++)
		if ((acc += O.fail[i].p) > r) {
			*status = (unsigned)O.fail[i].code;
			return F_STATUS;
		}
	if ((acc += O.p_drop_after) > r)
		return F_DROP_AFTER;
	return F_NONE;
}

/* Sets r->out for a fault that answers in place of the service. */
static int
fault_answer(struct req *r, enum fault f, unsigned code)
{
	char msg[64];

	switch (f) {
	case F_DROP_BEFORE:
		r->out.close = 1;
		return 1;
	case F_500:
		set_outcome(&r->out, 500, "internal server error (injected)");
		return 1;
	case F_503:
		set_outcome(&r->out, 503, "service unavailable (injected)");
		return 1;
	case F_429:
		set_outcome(&r->out, 429, "API rate limit exceeded");
		r->out.retry_after = O.retry_after;
		return 1;
	case F_STATUS:
		snprintf(msg, sizeof msg, "injected status %u", code);
		set_outcome(&r->out, code, msg);
		return 1;
	default:
		return 0;
	}
}

/* Gateway checks, in the order a gateway makes them; 1 if answered. */
static int
events_gate(struct MHD_Connection *c, struct req *r)
{
	struct rl v;

	if (!r->method_ok)
		set_outcome(&r->out, 405, "method not allowed");
	else if (!r->table_ok)
		set_outcome(&r->out, 404, "not found");
	else if (outage_active()) {
		set_outcome(&r->out, 503, "service unavailable (outage)");
		r->out.close = O.outage_refuse;
	} else
		switch (auth_check(c)) {
		case AUTH_MISSING:
			set_outcome(&r->out, 401, "Unauthorized");
			return 1;
		case AUTH_INVALID:
			set_outcome(&r->out, 401, "Invalid credentials");
			return 1;
		case AUTH_EXPIRED:
			set_outcome(&r->out, 401, EXPIRED_MSG);
			return 1;
		case AUTH_OK:
			if (rate_take())
				return 0;
			set_outcome(&r->out, 429, "API rate limit exceeded");
			lock();
			rate_view_locked(clock_ms(CLOCK_MONOTONIC), &v);
			unlock();
			r->out.retry_after = v.reset_s;
			return 1;
		}
	return 1;
}

/* Size, type and encoding; 1 if answered.  *body is set otherwise. */
static int
events_body(struct MHD_Connection *c, struct req *r, char **inflated,
    const char **body, size_t *len)
{
	int enc = content_encoding(c), rc;

	*inflated = NULL;
	if (!json_content_type(c)) {
		set_outcome(&r->out, 415, "Content-Type must be "
		    "application/json");
		return 1;
	}
	if (enc < 0) {
		set_outcome(&r->out, 415, "unsupported Content-Encoding");
		return 1;
	}
	if (r->over && !r->oom) {
		set_outcome(&r->out, 413, "request body too large");
		return 1;
	}
	if (r->oom) {
		set_outcome(&r->out, 500, "out of memory");
		return 1;
	}
	*body = r->buf ? r->buf : "";
	*len = r->len;
	if (enc == 0)
		return 0;
	rc = gunzip_bounded(*body, *len, (size_t)O.max_body, inflated, len);
	if (rc == 0) {
		*body = *inflated;
		return 0;
	}
	if (rc == 1)
		set_outcome(&r->out, 413, "request body too large "
		    "after decompression");
	else if (rc == -1)
		set_outcome(&r->out, 400, "invalid gzip body");
	else
		set_outcome(&r->out, 500, "out of memory");
	return 1;
}

static void
events_decide(struct MHD_Connection *c, struct req *r)
{
	enum fault f;
	unsigned code = 0;
	char *inflated = NULL;
	const char *body;
	size_t len;

	count_wire(r->wire, content_encoding(c) == 1);
	if (events_gate(c, r) || events_body(c, r, &inflated, &body, &len))
		goto out;
	f = fault_draw(&code);
	if (fault_answer(r, f, code))
		goto out;
	events_ingest(r, body, len);
	if (f == F_DROP_AFTER)
		r->out.close = 1;
out:
	free(inflated);
}

/* ------------------------------------------------------------------ */
/* Delays: a parked connection is suspended until its wake time         */

static struct {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	pthread_t	 th;
	struct req	**v;
	size_t		 n, cap;
	int		 stop;
} DQ = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* 0 if r was parked (its connection suspended), -1 to answer now. */
static int
delay_park(struct req *r)
{
	struct req **nv;
	size_t ncap;
	long ms = O.delay_ms;

	if (O.jitter_ms > 0)
		ms += (long)(rng_next() % (uint64_t)(O.jitter_ms + 1));
	if (ms <= 0)
		return -1;
	r->wake_ms = clock_ms(CLOCK_MONOTONIC) + ms;
	pthread_mutex_lock(&DQ.mu);
	if (DQ.stop)
		goto no;
	if (DQ.n == DQ.cap) {
		ncap = DQ.cap ? DQ.cap * 2 : 64;
		if ((nv = realloc(DQ.v, ncap * sizeof *nv)) == NULL)
			goto no;
		DQ.v = nv;
		DQ.cap = ncap;
	}
	MHD_suspend_connection(r->conn);
	DQ.v[DQ.n++] = r;
	pthread_cond_signal(&DQ.cv);
	pthread_mutex_unlock(&DQ.mu);
	return 0;
no:
	pthread_mutex_unlock(&DQ.mu);
	return -1;
}

static size_t
delay_earliest(void)
{
	size_t i, best = 0;

	for (i = 1; i < DQ.n; i++)
		if (DQ.v[i]->wake_ms < DQ.v[best]->wake_ms)
			best = i;
	return best;
}

static void *
delay_main(void *arg)
{
	struct timespec ts;
	struct req *r;
	size_t i;

	(void)arg;
	pthread_mutex_lock(&DQ.mu);
	while (!DQ.stop) {
		if (DQ.n == 0) {
			pthread_cond_wait(&DQ.cv, &DQ.mu);
			continue;
		}
		i = delay_earliest();
		r = DQ.v[i];
		if (r->wake_ms <= clock_ms(CLOCK_MONOTONIC)) {
			DQ.v[i] = DQ.v[--DQ.n];
			pthread_mutex_unlock(&DQ.mu);
			MHD_resume_connection(r->conn);
			pthread_mutex_lock(&DQ.mu);
			continue;
		}
		ts.tv_sec = (time_t)(r->wake_ms / 1000);
		ts.tv_nsec = (long)(r->wake_ms % 1000) * 1000000;
		pthread_cond_timedwait(&DQ.cv, &DQ.mu, &ts);
	}
	for (i = 0; i < DQ.n; i++)
		MHD_resume_connection(DQ.v[i]->conn);
	DQ.n = 0;
	pthread_mutex_unlock(&DQ.mu);
	return NULL;
}

static void
delay_start(void)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&DQ.cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&DQ.th, NULL, delay_main, NULL) != 0)
		fatal("cannot start the delay thread");
}

static void
delay_stop(void)
{
	pthread_mutex_lock(&DQ.mu);
	DQ.stop = 1;
	pthread_cond_signal(&DQ.cv);
	pthread_mutex_unlock(&DQ.mu);
	pthread_join(DQ.th, NULL);
	free(DQ.v);
}

/* ------------------------------------------------------------------ */
/* Token endpoint                                                       */

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* application/x-www-form-urlencoded decoding; -1 if out is too small. */
static int
url_decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (o + 1 >= outlen)
			return -1;
		if (s[i] == '+')
			out[o++] = ' ';
		else if (s[i] == '%' && i + 2 < n &&
		    (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else
			out[o++] = s[i];
	}
	out[o] = '\0';
	return 0;
}

/* Finds form field `key`; 0 and out set if present, -1 otherwise. */
static int
form_get(const char *body, size_t len, const char *key, char *out,
    size_t outlen)
{
	const char *p = body, *end = body + len, *amp, *eq;
	char name[64];

	for (; p < end; p = amp + 1) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq != NULL &&
		    url_decode(p, (size_t)(eq - p), name, sizeof name) == 0 &&
		    strcmp(name, key) == 0)
			return url_decode(eq + 1, (size_t)(amp - eq - 1), out,
			    outlen);
	}
	return -1;
}

/* Client credentials from HTTP Basic, if given that way. */
static void
basic_client(struct MHD_Connection *c, char *id, char *secret, size_t n)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	char dec[1024], *colon;

	if (h == NULL || (h = after_scheme(h, "Basic")) == NULL ||
	    b64_decode(h, dec, sizeof dec) != 0 ||
	    (colon = strchr(dec, ':')) == NULL)
		return;
	*colon = '\0';
	if (url_decode(dec, strlen(dec), id, n) != 0 ||
	    url_decode(colon + 1, strlen(colon + 1), secret, n) != 0)
		*id = *secret = '\0';
}

static enum MHD_Result
token_endpoint(struct MHD_Connection *c, struct req *r)
{
	char grant[64] = "", id[512] = "", secret[512] = "", tok[65];
	char body[MSG_MAX];
	const char *b = r->buf ? r->buf : "";
	unsigned st = 200;

	form_get(b, r->len, "grant_type", grant, sizeof grant);
	basic_client(c, id, secret, sizeof id);
	if (*id == '\0') {
		form_get(b, r->len, "client_id", id, sizeof id);
		form_get(b, r->len, "client_secret", secret, sizeof secret);
	}
	if (O.client_id == NULL) {
		st = 404;
		json_msg(body, sizeof body, "not found");
	} else if (r->over) {
		st = 413;
		json_msg(body, sizeof body, "request body too large");
	} else if (strcmp(grant, "client_credentials") != 0) {
		st = 400;
		snprintf(body, sizeof body, "{\"error\": "
		    "\"unsupported_grant_type\"}");
	} else if (strcmp(id, O.client_id) != 0 ||
	    strcmp(secret, O.client_secret) != 0) {
		st = 401;
		snprintf(body, sizeof body, "{\"error\": "
		    "\"unauthorized_client\", \"error_description\": "
		    "\"Invalid client credentials\"}");
	} else if (token_issue(tok) != 0) {
		st = 500;
		json_msg(body, sizeof body, "out of memory");
	} else
		snprintf(body, sizeof body, "{\"access_token\": \"%s\", "
		    "\"expires_in\": %ld, \"token_type\": \"bearer\", "
		    "\"scope\": \"\"}", tok, O.token_lifetime);
	return send_answer(c, st, "application/json", body, strlen(body), 0,
	    0, -1, NULL);
}

/* ------------------------------------------------------------------ */
/* Introspection and control                                            */

static cJSON *
stats_json(const struct counters *k, uint64_t unique, int outage)
{
	cJSON *o = cJSON_CreateObject(), *st, *tb;
	char code[8];
	size_t i;

#define NUM(name, v) cJSON_AddNumberToObject(o, name, (double)(v))
	NUM("requests", k->requests);
	st = cJSON_AddObjectToObject(o, "by_status");
	for (i = 0; i < 600; i++)
		if (k->by_status[i] != 0) {
			snprintf(code, sizeof code, "%zu", i);
			cJSON_AddNumberToObject(st, code,
			    (double)k->by_status[i]);
		}
	NUM("events_accepted", k->events_accepted);
	NUM("bytes_received", k->bytes_received);
	NUM("unique_ids", unique);
	NUM("duplicates", k->duplicates);
	NUM("events_without_id", k->events_without_id);
	NUM("late_dropped", k->late_dropped);
	NUM("unparseable_dropped", k->unparseable_dropped);
	NUM("tokens_issued", k->tokens_issued);
	tb = cJSON_AddObjectToObject(o, "accepted_by_table");
	for (i = 0; i < k->ntables; i++)
		cJSON_AddNumberToObject(tb, k->tables[i].name,
		    (double)k->tables[i].n);
	if (k->other_tables != 0)
		cJSON_AddNumberToObject(tb, "(other)",
		    (double)k->other_tables);
	NUM("max_events_per_request", k->max_events_per_request);
	NUM("max_body_bytes_seen", k->max_body_bytes_seen);
	NUM("gzip_requests", k->gzip_requests);
	NUM("connections_dropped", k->connections_dropped);
	NUM("id_tracking_failures", k->id_tracking_failures);
#undef NUM
	cJSON_AddBoolToObject(o, "outage", outage);
	return o;
}

static enum MHD_Result
stats_endpoint(struct MHD_Connection *c)
{
	struct counters *k = malloc(sizeof *k);
	uint64_t unique;
	cJSON *j;
	char *txt, *body;
	size_t n;

	if (k == NULL)
		return MHD_NO;
	lock();
	memcpy(k, &S.c, sizeof *k);
	unique = S.ids.count;
	unlock();
	j = stats_json(k, unique, outage_active());
	free(k);
	txt = j ? cJSON_PrintUnformatted(j) : NULL;
	cJSON_Delete(j);
	if (txt == NULL)
		return MHD_NO;
	n = strlen(txt);
	if ((body = realloc(txt, n + 2)) == NULL) {
		free(txt);
		return MHD_NO;
	}
	body[n] = '\n';
	return send_answer(c, 200, "application/json", body, n + 1, 1, 0, -1,
	    NULL);
}

static enum MHD_Result
ids_endpoint(struct MHD_Connection *c)
{
	char *copy;
	size_t n;

	lock();
	n = S.ids.alen;
	copy = malloc(n + 1);
	if (copy != NULL && n > 0)
		memcpy(copy, S.ids.arena, n);
	unlock();
	if (copy == NULL)
		return MHD_NO;
	return send_answer(c, 200, "text/plain", copy, n, 1, 0, -1, NULL);
}

static enum MHD_Result
outage_endpoint(struct MHD_Connection *c)
{
	const char *on = MHD_lookup_connection_value(c,
	    MHD_GET_ARGUMENT_KIND, "on");
	char body[MSG_MAX];

	if (on == NULL || (strcmp(on, "0") != 0 && strcmp(on, "1") != 0)) {
		json_msg(body, sizeof body, "use ?on=1 or ?on=0");
		return send_answer(c, 400, "application/json", body,
		    strlen(body), 0, 0, -1, NULL);
	}
	atomic_store(&outage_switch, on[0] == '1');
	snprintf(body, sizeof body, "{\"outage\": %s}",
	    outage_active() ? "true" : "false");
	return send_answer(c, 200, "application/json", body, strlen(body), 0,
	    0, -1, NULL);
}

static enum MHD_Result
control_answer(struct MHD_Connection *c, struct req *r)
{
	char body[MSG_MAX];

	if (!r->method_ok) {
		json_msg(body, sizeof body, "method not allowed");
		return send_answer(c, 405, "application/json", body,
		    strlen(body), 0, 0, -1, r->out.allow);
	}
	switch (r->route) {
	case R_TOKEN:
		return token_endpoint(c, r);
	case R_STATS:
		return stats_endpoint(c);
	case R_IDS:
		return ids_endpoint(c);
	case R_OUTAGE:
		return outage_endpoint(c);
	case R_RESET:
		counters_reset();
		snprintf(body, sizeof body, "{\"reset\": true}");
		return send_answer(c, 200, "application/json", body,
		    strlen(body), 0, 0, -1, NULL);
	default:
		json_msg(body, sizeof body, "not found");
		return send_answer(c, 404, "application/json", body,
		    strlen(body), 0, 0, -1, NULL);
	}
}

/* ------------------------------------------------------------------ */
/* libmicrohttpd callbacks                                              */

static enum MHD_Result
req_begin(struct MHD_Connection *c, const char *url, const char *method,
    void **con_cls)
{
	struct req *r = calloc(1, sizeof *r);
	uint64_t clen = content_length(c);

	if (r == NULL)
		return MHD_NO;
	*con_cls = r;
	r->conn = c;
	r->out.retry_after = -1;
	r->route = route_of(url, r->table);
	r->method_ok = method_allowed(r->route, method, &r->out.allow);
	r->table_ok = r->route == R_EVENTS && table_known(r->table);
	r->limit = r->route == R_EVENTS ? (size_t)O.max_body :
	    r->route == R_TOKEN ? TOKEN_BODY_LIMIT : 0;
	if (r->route != R_EVENTS)
		return MHD_YES;
	count_request();
	if (r->method_ok && O.outage_refuse && outage_active()) {
		r->out.close = 1;
		return deliver(c, r, url);
	}
	if (r->method_ok && clen > r->limit && expects_continue(c)) {
		/* Answer before the body is sent: the client asked. */
		set_outcome(&r->out, 413, "request body too large");
		r->decided = 1;
		return deliver(c, r, url);
	}
	if (clen > 0 && clen <= r->limit &&
	    (r->buf = malloc((size_t)clen + 1)) != NULL)
		r->cap = (size_t)clen + 1;
	return MHD_YES;
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)version;
	if (r == NULL)
		return req_begin(c, url, method, con_cls);
	if (*upload_size != 0) {
		req_absorb(r, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->decided)
		return deliver(c, r, url);
	if (r->route != R_EVENTS)
		return control_answer(c, r);
	events_decide(c, r);
	r->decided = 1;
	if (delay_park(r) == 0)
		return MHD_YES;
	return deliver(c, r, url);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (r == NULL)
		return;
	free(r->buf);
	free(r);
	*con_cls = NULL;
}

/* ------------------------------------------------------------------ */
/* Command line                                                         */

static const char usage[] =
"usage: mock-polaris [options]\n"
"A loopback Imply Polaris Events API receiver for tests.\n"
"\n"
"Listening\n"
"  --port N              port, 0 picks a free one (default 0)\n"
"  --bind ADDR           address to bind (default 127.0.0.1)\n"
"  --port-file FILE      write the actual port there once listening\n"
"  --threads N           epoll worker threads (default 2)\n"
"  --idle-timeout SECS   close idle connections after SECS (default 60,\n"
"                        0 = never)\n"
"Authentication (none of these: no auth required)\n"
"  --token T             accept Authorization: Bearer T (repeatable)\n"
"  --api-key K           accept Authorization: Basic base64(\"K:\"),\n"
"                        base64(K) or K itself (repeatable)\n"
"  --client-id ID        enable the token endpoint (POST /oauth/token and\n"
"  --client-secret S       /auth/realms/ORG/protocol/openid-connect/token)\n"
"  --token-lifetime SECS lifetime of issued tokens (default 300)\n"
"Contract\n"
"  --max-body BYTES      body limit on the wire and after gunzip\n"
"                        (default 1000000) -> 413\n"
"  --max-age DURATION    late-event window, e.g. 604800, 7d, 12h\n"
"                        (default 7d)\n"
"  --strict              a late or unparseable line fails the whole\n"
"                        request with 400 \"line N: reason\"\n"
"  --rpm N               requests per minute, fixed window (default\n"
"                        83334, 0 = off and no RateLimit headers)\n"
"  --tables a,b,c        known tables/connections, others -> 404\n"
"  --poison-field NAME   a line with top-level key NAME fails the whole\n"
"                        request with 400 \"line N: poison event\"\n"
"Faults (probabilities per events POST, after the body is read;\n"
"        they are exclusive slices of one die, so they must sum <= 1)\n"
"  --p500 P, --p503 P    answer 500 / 503\n"
"  --p429 P              answer 429 with Retry-After\n"
"  --retry-after SECS    Retry-After of --p429 answers (default 1)\n"
"  --fail-status CODE:P  answer CODE with probability P (repeatable)\n"
"  --p-drop-before P     close the connection, events not accepted\n"
"  --p-drop-after P      accept the events, then close unanswered\n"
"  --delay-ms N          delay every events answer by N ms\n"
"  --delay-jitter-ms N   plus a uniform 0..N ms\n"
"  --seed N              seed for the fault dice (default: random)\n"
"  --outage-file PATH    while PATH exists, events requests get 503\n"
"  --outage-mode MODE    503 (default) or refuse (close at once)\n"
"Other\n"
"  -v, --verbose         log every events request to stderr\n"
"  -h, --help            this text\n"
"\n"
"Endpoints: POST /v1/events/TABLE, POST /v1/projects/P/events/CONN,\n"
"GET /stats, GET /ids, POST /control/reset, POST /control/outage?on=1|0\n";

enum {
	OPT_PORT = 256, OPT_BIND, OPT_PORT_FILE, OPT_TOKEN, OPT_API_KEY,
	OPT_CLIENT_ID, OPT_CLIENT_SECRET, OPT_TOKEN_LIFETIME, OPT_MAX_BODY,
	OPT_MAX_AGE, OPT_STRICT, OPT_RPM, OPT_P500, OPT_P503, OPT_P429,
	OPT_RETRY_AFTER, OPT_DROP_BEFORE, OPT_DROP_AFTER, OPT_DELAY,
	OPT_JITTER, OPT_SEED, OPT_FAIL_STATUS, OPT_OUTAGE_FILE,
	OPT_OUTAGE_MODE, OPT_POISON, OPT_TABLES, OPT_THREADS, OPT_IDLE
};

static const struct option longopts[] = {
	{ "port", required_argument, NULL, OPT_PORT },
	{ "bind", required_argument, NULL, OPT_BIND },
	{ "port-file", required_argument, NULL, OPT_PORT_FILE },
	{ "token", required_argument, NULL, OPT_TOKEN },
	{ "api-key", required_argument, NULL, OPT_API_KEY },
	{ "client-id", required_argument, NULL, OPT_CLIENT_ID },
	{ "client-secret", required_argument, NULL, OPT_CLIENT_SECRET },
	{ "token-lifetime", required_argument, NULL, OPT_TOKEN_LIFETIME },
	{ "max-body", required_argument, NULL, OPT_MAX_BODY },
	{ "max-age", required_argument, NULL, OPT_MAX_AGE },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "rpm", required_argument, NULL, OPT_RPM },
	{ "p500", required_argument, NULL, OPT_P500 },
	{ "p503", required_argument, NULL, OPT_P503 },
	{ "p429", required_argument, NULL, OPT_P429 },
	{ "retry-after", required_argument, NULL, OPT_RETRY_AFTER },
	{ "p-drop-before", required_argument, NULL, OPT_DROP_BEFORE },
	{ "p-drop-after", required_argument, NULL, OPT_DROP_AFTER },
	{ "delay-ms", required_argument, NULL, OPT_DELAY },
	{ "delay-jitter-ms", required_argument, NULL, OPT_JITTER },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "fail-status", required_argument, NULL, OPT_FAIL_STATUS },
	{ "outage-file", required_argument, NULL, OPT_OUTAGE_FILE },
	{ "outage-mode", required_argument, NULL, OPT_OUTAGE_MODE },
	{ "poison-field", required_argument, NULL, OPT_POISON },
	{ "tables", required_argument, NULL, OPT_TABLES },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
add_api_key(const char *k)
{
	size_t n = strlen(k);
	char *withcolon;

	if (O.nkey_forms + 3 > MAX_LIST * 3)
		fatal("--api-key: at most %d keys", MAX_LIST);
	if ((withcolon = malloc(n + 2)) == NULL)
		fatal("out of memory");
	snprintf(withcolon, n + 2, "%s:", k);
	O.key_forms[O.nkey_forms++] = b64_encode(withcolon, n + 1);
	O.key_forms[O.nkey_forms++] = b64_encode(k, n);
	if ((O.key_forms[O.nkey_forms++] = strdup(k)) == NULL)
		fatal("out of memory");
	free(withcolon);
}

static void
add_fail_status(const char *s)
{
	const char *colon = strchr(s, ':');
	char code[8];
	size_t n;

	if (colon == NULL || (n = (size_t)(colon - s)) == 0 ||
	    n >= sizeof code)
		fatal("--fail-status: expected CODE:P, got \"%s\"", s);
	if (O.nfail == MAX_LIST)
		fatal("--fail-status: at most %d", MAX_LIST);
	memcpy(code, s, n);
	code[n] = '\0';
	O.fail[O.nfail].code = (int)parse_ll("fail-status", code, 100, 599);
	O.fail[O.nfail++].p = parse_prob("fail-status", colon + 1);
}

static void
add_tables(const char *list)
{
	char *copy = strdup(list), *save = NULL, *t;

	if (copy == NULL)
		fatal("out of memory");
	for (t = strtok_r(copy, ",", &save); t != NULL;
	    t = strtok_r(NULL, ",", &save)) {
		if (O.ntables == MAX_TABLES)
			fatal("--tables: at most %d", MAX_TABLES);
		if ((O.tables[O.ntables++] = strdup(t)) == NULL)
			fatal("out of memory");
	}
	free(copy);
}

static void
parse_opt(int ch, const char *a)
{
	switch (ch) {
	case OPT_PORT: O.port = (long)parse_ll("port", a, 0, 65535); break;
	case OPT_BIND: O.bind = a; break;
	case OPT_PORT_FILE: O.port_file = a; break;
	case OPT_TOKEN:
		if (O.ntokens == MAX_LIST)
			fatal("--token: at most %d", MAX_LIST);
		O.tokens[O.ntokens++] = a;
		break;
	case OPT_API_KEY: add_api_key(a); break;
	case OPT_CLIENT_ID: O.client_id = a; break;
	case OPT_CLIENT_SECRET: O.client_secret = a; break;
	case OPT_TOKEN_LIFETIME:
		O.token_lifetime = (long)parse_ll("token-lifetime", a, 1,
		    86400 * 365);
		break;
	case OPT_MAX_BODY:
		O.max_body = (long)parse_ll("max-body", a, 1,
		    MAX_BODY_CEILING);
		break;
	case OPT_MAX_AGE: O.max_age_s = parse_duration("max-age", a); break;
	case OPT_STRICT: O.strict = 1; break;
	case OPT_RPM: O.rpm = (long)parse_ll("rpm", a, 0, 1000000000); break;
	case OPT_P500: O.p500 = parse_prob("p500", a); break;
	case OPT_P503: O.p503 = parse_prob("p503", a); break;
	case OPT_P429: O.p429 = parse_prob("p429", a); break;
	case OPT_RETRY_AFTER:
		O.retry_after = (long)parse_ll("retry-after", a, 0, 86400);
		break;
	case OPT_DROP_BEFORE:
		O.p_drop_before = parse_prob("p-drop-before", a);
		break;
	case OPT_DROP_AFTER:
		O.p_drop_after = parse_prob("p-drop-after", a);
		break;
	case OPT_DELAY:
		O.delay_ms = (long)parse_ll("delay-ms", a, 0, 3600000);
		break;
	case OPT_JITTER:
		O.jitter_ms = (long)parse_ll("delay-jitter-ms", a, 0, 3600000);
		break;
	case OPT_SEED:
		O.seed = (uint64_t)parse_ll("seed", a, 0, INT64_MAX);
		O.have_seed = 1;
		break;
	case OPT_FAIL_STATUS: add_fail_status(a); break;
	case OPT_OUTAGE_FILE: O.outage_file = a; break;
	case OPT_OUTAGE_MODE:
		if (strcmp(a, "refuse") != 0 && strcmp(a, "503") != 0)
			fatal("--outage-mode: 503 or refuse");
		O.outage_refuse = strcmp(a, "refuse") == 0;
		break;
	case OPT_POISON: O.poison = a; break;
	case OPT_TABLES: add_tables(a); break;
	case OPT_THREADS:
		O.threads = (long)parse_ll("threads", a, 1, 64);
		break;
	case OPT_IDLE:
		O.idle_timeout = (long)parse_ll("idle-timeout", a, 0, 86400);
		break;
	case 'v': O.verbose = 1; break;
	case 'h': fputs(usage, stdout); exit(0);
	default: fputs(usage, stderr); exit(2);
	}
}

static void
check_opts(void)
{
	double sum = O.p500 + O.p503 + O.p429 + O.p_drop_before +
	    O.p_drop_after;
	size_t i;

	for (i = 0; i < O.nfail; i++)
		sum += O.fail[i].p;
	if (sum > 1.0 + 1e-9)
		fatal("fault probabilities add up to %g, more than 1", sum);
	if ((O.client_id == NULL) != (O.client_secret == NULL))
		fatal("--client-id and --client-secret go together");
}

static void
parse_args(int argc, char **argv)
{
	int ch;

	while ((ch = getopt_long(argc, argv, "vh", longopts, NULL)) != -1)
		parse_opt(ch, optarg);
	if (optind != argc)
		fatal("unexpected argument \"%s\" (see --help)", argv[optind]);
	check_opts();
}

/* ------------------------------------------------------------------ */
/* Startup and shutdown                                                 */

/* MHD's error log, less the line it prints for every deliberate drop. */
static void mhd_log(void *, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	static const char drop[] = "Application reported internal error";
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof line, fmt, ap);
	if (!O.verbose && strncmp(line, drop, sizeof drop - 1) == 0)
		return;
	fprintf(stderr, "mock-polaris: libmicrohttpd: %s%s", line,
	    strchr(line, '\n') ? "" : "\n");
}

static struct MHD_Daemon *
daemon_start(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
	    MHD_ALLOW_SUSPEND_RESUME;
	/* A pool of one draws a warning: leave the option out then. */
	struct MHD_OptionItem pool[] = {
		{ O.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
		    (intptr_t)O.threads, NULL },
		{ MHD_OPTION_END, 0, NULL }
	};

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, O.bind, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)O.port);
	} else if (inet_pton(AF_INET6, O.bind, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)O.port);
		flags |= MHD_USE_IPv6;
	} else
		fatal("--bind: not a numeric IPv4 or IPv6 address: %s",
		    O.bind);
	return MHD_start_daemon(flags, (uint16_t)O.port, NULL, NULL,
	    on_access, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_ARRAY, pool,
	    MHD_OPTION_CONNECTION_LIMIT, 1000U,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)O.idle_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
	    MHD_OPTION_END);
}

/* Atomically: written to a temporary name, then renamed. */
static void
write_port_file(unsigned port)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", O.port_file,
	    (long)getpid()) >= (int)sizeof tmp)
		fatal("--port-file: path too long");
	if ((f = fopen(tmp, "w")) == NULL)
		fatal("%s: %s", tmp, strerror(errno));
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0 || rename(tmp, O.port_file) != 0)
		fatal("%s: %s", O.port_file, strerror(errno));
}

static void
print_summary(int sig)
{
	lock();
	fprintf(stderr, "mock-polaris: exiting on %s requests=%" PRIu64
	    " events_accepted=%" PRIu64 " unique_ids=%zu duplicates=%" PRIu64
	    " late_dropped=%" PRIu64 " unparseable_dropped=%" PRIu64
	    " connections_dropped=%" PRIu64 " tokens_issued=%" PRIu64 "\n",
	    sig == SIGINT ? "SIGINT" : "SIGTERM", S.c.requests,
	    S.c.events_accepted, S.ids.count, S.c.duplicates,
	    S.c.late_dropped, S.c.unparseable_dropped,
	    S.c.connections_dropped, S.c.tokens_issued);
	unlock();
}

static void
cleanup(void)
{
	size_t i;

	idset_clear(&S.ids);
	free(S.tok);
	for (i = 0; i < O.nkey_forms; i++)
		free(O.key_forms[i]);
	for (i = 0; i < O.ntables; i++)
		free(O.tables[i]);
}

int
main(int argc, char **argv)
{
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;
	sigset_t set;
	int sig = 0;

	parse_args(argc, argv);
	S.rng = O.have_seed ? O.seed :
	    (uint64_t)clock_ms(CLOCK_REALTIME) ^ ((uint64_t)getpid() << 32);
	/* Threads started below inherit the mask; only sigwait sees these. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	delay_start();
	if ((d = daemon_start()) == NULL)
		fatal("cannot listen on %s port %ld", O.bind, O.port);
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0)
		fatal("cannot learn the listening port");
	fprintf(stderr, "mock-polaris: listening on %s port %u\n", O.bind,
	    (unsigned)info->port);
	if (O.port_file != NULL)
		write_port_file(info->port);
	while (sigwait(&set, &sig) != 0)
		;
	delay_stop();
	MHD_stop_daemon(d);
	print_summary(sig);
	cleanup();
	return 0;
}
