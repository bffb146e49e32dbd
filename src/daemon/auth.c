/*
 * auth.c - the Authorization header of each Events API request, and the
 * OAuth2 client-credentials token behind it.  It never performs I/O (the
 * caller runs the token request it sets up), never writes a secret into a
 * message, and wipes every secret it holds before freeing it.
 */
#define _POSIX_C_SOURCE 200809L
#include "auth.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "answer.h"
#include "errf.h"
#include "names.h"
#include "spoolship.h"

/* Longest OAuth "error" / "error_description" quoted in a message. */
#define QUOTE_ERROR 64
#define QUOTE_DESC 160

struct auth {
	enum auth_mode mode;
	char *static_token;   /* bearer */
	char *api_key;        /* apikey */
	char *api_key_b64;    /* base64("KEY:"), points into header */
	char *token_url;      /* oauth */
	char *client_secret;  /* oauth */
	char *secret_esc;     /* its percent-encoded form when it differs */
	char *body;           /* the token request's form */
	size_t body_len;
	struct curl_slist *req_headers;
	int64_t margin_ms;
	/* The header value in use: fixed for bearer and apikey, the current
	 * token's for oauth (then NULL while there is none). */
	char *header;
	/* oauth token state */
	int64_t started_ms;   /* when the pending token request started */
	int started;
	int64_t expiry_ms;
	int64_t refresh_at_ms;
	uint64_t gen;         /* moves on with every token stored */
	int after_401;        /* the next/current token replaces one a 401
			       * refused */
	int confirmed;        /* the current token was accepted once */
};

const char *const auth_mode_names[] = { "none", "bearer", "oauth", "apikey",
					NULL };
#define NMODES (sizeof(auth_mode_names) / sizeof(auth_mode_names[0]) - 1)

static int is_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static void wipe_free(char *s)
{
	if (s != NULL) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

/* NULL when t can go into a header as a token, else what is wrong. */
static const char *token_problem(const char *t, int is_key)
{
	size_t i, len = strlen(t);

	if (len == 0)
		return "is empty";
	if (len > AUTH_MAX_TOKEN_LEN)
		return "is longer than 16384 bytes";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c < 0x21 || c > 0x7E)
			return "holds a character not allowed in an HTTP "
			       "header (space, control or non-ASCII)";
		if (is_key && c == ':')
			return "holds ':', which a Basic user name cannot";
	}
	return NULL;
}

/* "PREFIX" + s, freshly allocated; NULL on ENOMEM. */
static char *prefixed(const char *prefix, const char *s, size_t slen)
{
	size_t plen = strlen(prefix);
	char *h = malloc(plen + slen + 1);

	if (h == NULL)
		return NULL;
	memcpy(h, prefix, plen);
	memcpy(h + plen, s, slen);
	h[plen + slen] = '\0';
	return h;
}

/* ---- construction ------------------------------------------------------- */

static int ascii_ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;

		if (x != *b)
			return 0;
	}
	return *a == *b;
}

static int is_loopback(const char *host)
{
	size_t i;

	if (ascii_ieq(host, "localhost") || strcmp(host, "[::1]") == 0)
		return 1;
	if (strncmp(host, "127.", 4) != 0)
		return 0;
	for (i = 4; host[i]; i++) {
		if (!(host[i] == '.' || (host[i] >= '0' && host[i] <= '9')))
			return 0;
	}
	return 1;
}

/* The token URL carries the client secret: TLS, except to this host (the
 * mock receiver in tests), and no credentials inside the URL itself.  The
 * URL is never quoted: it might hold a secret by mistake. */
static int check_token_url(const char *url, char *errbuf, size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL, *pass = NULL;
	int rc = 0;

	if (u == NULL)
		return errf(errbuf, errlen, -ENOMEM, "auth: out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		rc = errf(errbuf, errlen, SPOOLSHIP_EINVAL,
			  "auth: token_url is not a valid absolute URL");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK) {
		rc = errf(errbuf, errlen, SPOOLSHIP_EINVAL,
			  "auth: token_url must not carry credentials "
			  "(user:password@)");
		goto out;
	}
	if (!ascii_ieq(scheme, "https") &&
	    !(ascii_ieq(scheme, "http") && is_loopback(host))) {
		rc = errf(errbuf, errlen, SPOOLSHIP_EINVAL,
			  "auth: token_url must be https:// (http:// only "
			  "to a loopback host)");
		goto out;
	}
out:
	curl_free(scheme);
	curl_free(host);
	if (user != NULL)
		OPENSSL_cleanse(user, strlen(user));
	if (pass != NULL)
		OPENSSL_cleanse(pass, strlen(pass));
	curl_free(user);
	curl_free(pass);
	curl_url_cleanup(u);
	return rc;
}

/* Percent-encodes s into a fresh string the caller wipes and curl_free()s;
 * NULL on ENOMEM. */
static char *escape(const char *s)
{
	/* The handle argument is unused since curl 7.82.0. */
	return curl_easy_escape(NULL, s, (int)strlen(s));
}

static void wipe_curl_free(char *s)
{
	if (s != NULL) {
		OPENSSL_cleanse(s, strlen(s));
		curl_free(s);
	}
}

/* The token request's form, RFC 6749 §4.4.2 with the client's
 * credentials in the body (§2.3.1), as Polaris documents it. */
static int build_form(struct auth *a, const struct auth_params *p)
{
	char *id = escape(p->client_id);
	char *sec = escape(p->client_secret);
	char *scope = is_set(p->scope) ? escape(p->scope) : NULL;
	size_t n;
	int rc = -ENOMEM;

	if (id == NULL || sec == NULL || (is_set(p->scope) && scope == NULL))
		goto out;
	n = strlen("grant_type=client_credentials&client_id=") + strlen(id) +
	    strlen("&client_secret=") + strlen(sec) +
	    (scope ? strlen("&scope=") + strlen(scope) : 0) + 1;
	a->body = malloc(n);
	if (a->body == NULL)
		goto out;
	a->body_len = (size_t)snprintf(
		a->body, n,
		"grant_type=client_credentials&client_id=%s"
		"&client_secret=%s%s%s",
		id, sec, scope ? "&scope=" : "", scope ? scope : "");
	if (strcmp(sec, p->client_secret) != 0) {
		a->secret_esc = dup_str(sec);
		if (a->secret_esc == NULL)
			goto out;
	}
	a->req_headers = curl_slist_append(NULL, "Accept: application/json");
	if (a->req_headers == NULL)
		goto out;
	if (!curl_slist_append(a->req_headers, "Content-Type: "
				"application/x-www-form-urlencoded") ||
	    !curl_slist_append(a->req_headers, "Expect:"))
		goto out;
	rc = 0;
out:
	curl_free(id);
	wipe_curl_free(sec);
	curl_free(scope);
	return rc;
}

static int new_bearer(struct auth *a, const struct auth_params *p,
		      char *errbuf, size_t errlen)
{
	const char *why;

	if (!is_set(p->token))
		return errf(errbuf, errlen, SPOOLSHIP_EINVAL,
			    "auth: mode bearer needs a token");
	why = token_problem(p->token, 0);
	if (why != NULL)
		return errf(errbuf, errlen, SPOOLSHIP_EINVAL,
			    "auth: token %s", why);
	a->static_token = dup_str(p->token);
	a->header = prefixed("Bearer ", p->token, strlen(p->token));
	if (a->static_token == NULL || a->header == NULL)
		return errf(errbuf, errlen, -ENOMEM, "auth: out of memory");
	return 0;
}

static int new_apikey(struct auth *a, const struct auth_params *p,
		      char *errbuf, size_t errlen)
{
	size_t klen, b64len;
	unsigned char *in;
	const char *why;

	if (!is_set(p->api_key))
		return errf(errbuf, errlen, SPOOLSHIP_EINVAL,
			    "auth: mode apikey needs an api_key");
	why = token_problem(p->api_key, 1);
	if (why != NULL)
		return errf(errbuf, errlen, SPOOLSHIP_EINVAL,
			    "auth: api_key %s", why);
	klen = strlen(p->api_key);
	b64len = 4 * ((klen + 1 + 2) / 3);
	in = malloc(klen + 1);
	a->api_key = dup_str(p->api_key);
	a->header = calloc(1, strlen("Basic ") + b64len + 1);
	if (in == NULL || a->api_key == NULL || a->header == NULL) {
		free(in);
		return errf(errbuf, errlen, -ENOMEM, "auth: out of memory");
	}
	/* docs/events-api.md: the key as user name, an empty password. */
	memcpy(in, p->api_key, klen);
	in[klen] = ':';
	memcpy(a->header, "Basic ", 6);
	EVP_EncodeBlock((unsigned char *)a->header + 6, in, (int)(klen + 1));
	a->api_key_b64 = a->header + 6;
	OPENSSL_cleanse(in, klen + 1);
	free(in);
	return 0;
}

static int new_oauth(struct auth *a, const struct auth_params *p,
		     char *errbuf, size_t errlen)
{
	const struct {
		const char *name;
		const char *v;
	} need[] = {
		{ "token_url", p->token_url },
		{ "client_id", p->client_id },
		{ "client_secret", p->client_secret },
	};
	const char *v;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		v = need[i].v;
		if (!is_set(v))
			return errf(errbuf, errlen, SPOOLSHIP_EINVAL,
				    "auth: mode oauth needs a %s",
				    need[i].name);
		if (strlen(v) > AUTH_MAX_TOKEN_LEN)
			return errf(errbuf, errlen, SPOOLSHIP_EINVAL,
				    "auth: %s is longer than 16384 bytes",
				    need[i].name);
	}
	if (is_set(p->scope) && strlen(p->scope) > AUTH_MAX_TOKEN_LEN)
		return errf(errbuf, errlen, SPOOLSHIP_EINVAL,
			    "auth: scope is longer than 16384 bytes");
	if (p->refresh_margin_ms < 0)
		return errf(errbuf, errlen, SPOOLSHIP_EINVAL,
			    "auth: refresh_margin_ms must be >= 0");
	rc = check_token_url(p->token_url, errbuf, errlen);
	if (rc != 0)
		return rc;
	a->margin_ms = p->refresh_margin_ms;
	a->token_url = dup_str(p->token_url);
	a->client_secret = dup_str(p->client_secret);
	if (a->token_url == NULL || a->client_secret == NULL ||
	    build_form(a, p) != 0)
		return errf(errbuf, errlen, -ENOMEM, "auth: out of memory");
	return 0;
}

/* A secret given for a mode that does not use it is a likely mix-up. */
static int check_unused(const struct auth_params *p, int mode, char *errbuf,
			size_t errlen)
{
	const struct {
		const char *name;
		const char *v;
		enum auth_mode mode;
	} uses[] = {
		{ "token", p->token, AUTH_BEARER },
		{ "token_url", p->token_url, AUTH_OAUTH },
		{ "client_id", p->client_id, AUTH_OAUTH },
		{ "client_secret", p->client_secret, AUTH_OAUTH },
		{ "scope", p->scope, AUTH_OAUTH },
		{ "api_key", p->api_key, AUTH_APIKEY },
	};
	size_t i;

	for (i = 0; i < sizeof(uses) / sizeof(uses[0]); i++) {
		if (is_set(uses[i].v) && (int)uses[i].mode != mode)
			return errf(errbuf, errlen, SPOOLSHIP_EINVAL,
				    "auth: %s is set but mode is %s",
				    uses[i].name, auth_mode_names[mode]);
	}
	return 0;
}

int auth_new(const struct auth_params *p, struct auth **out, char *errbuf,
	     size_t errlen)
{
	struct auth *a;
	int mode = -1, rc;

	if (p == NULL || out == NULL)
		return errf(errbuf, errlen, SPOOLSHIP_EINVAL,
			    "auth: no parameters");
	if (!is_set(p->mode))
		mode = AUTH_NONE;
	else /* mode stays -1 for an unknown name */
		spoolship_name_parse(p->mode, auth_mode_names, &mode);
	/* The mode is not quoted: a mistaken "${SECRET}" could sit there. */
	if (mode < 0)
		return errf(errbuf, errlen, SPOOLSHIP_EINVAL,
			    "auth: unknown mode (expected none, bearer, "
			    "oauth or apikey)");
	rc = check_unused(p, mode, errbuf, errlen);
	if (rc != 0)
		return rc;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return errf(errbuf, errlen, -ENOMEM, "auth: out of memory");
	a->mode = (enum auth_mode)mode;
	if (mode == AUTH_BEARER)
		rc = new_bearer(a, p, errbuf, errlen);
	else if (mode == AUTH_APIKEY)
		rc = new_apikey(a, p, errbuf, errlen);
	else if (mode == AUTH_OAUTH)
		rc = new_oauth(a, p, errbuf, errlen);
	if (rc != 0) {
		auth_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

void auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	wipe_free(a->static_token);
	wipe_free(a->api_key);
	wipe_free(a->token_url);
	wipe_free(a->client_secret);
	wipe_free(a->secret_esc);
	if (a->body != NULL) {
		OPENSSL_cleanse(a->body, a->body_len);
		free(a->body);
	}
	curl_slist_free_all(a->req_headers);
	wipe_free(a->header);
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

enum auth_mode auth_mode(const struct auth *a)
{
	return a != NULL ? a->mode : AUTH_NONE;
}

const char *auth_mode_name(enum auth_mode mode)
{
	if ((unsigned)mode >= NMODES)
		return "unknown";
	return auth_mode_names[mode];
}

/* ---- using the token ---------------------------------------------------- */

int auth_header(const struct auth *a, int64_t now_ms, const char **value,
		uint64_t *gen)
{
	if (a == NULL || value == NULL)
		return SPOOLSHIP_EINVAL;
	*value = NULL;
	if (gen != NULL)
		*gen = a->gen;
	if (a->mode == AUTH_OAUTH &&
	    (a->header == NULL || now_ms >= a->expiry_ms))
		return -EAGAIN;
	*value = a->header; /* NULL for mode none */
	return 0;
}

int auth_needs_refresh(const struct auth *a, int64_t now_ms)
{
	if (a == NULL || a->mode != AUTH_OAUTH)
		return 0;
	return a->header == NULL || now_ms >= a->refresh_at_ms;
}

int64_t auth_refresh_due_ms(const struct auth *a)
{
	if (a == NULL || a->mode != AUTH_OAUTH)
		return INT64_MAX;
	return a->header == NULL ? INT64_MIN : a->refresh_at_ms;
}

static void drop_token(struct auth *a)
{
	wipe_free(a->header);
	a->header = NULL;
}

enum auth_401 auth_invalidate(struct auth *a, uint64_t gen)
{
	if (a == NULL || a->mode != AUTH_OAUTH)
		return AUTH_401_ALARM;
	if (gen != a->gen || a->header == NULL)
		return AUTH_401_RETRY; /* raced a refresh or another 401 */
	drop_token(a);
	if (a->after_401 && !a->confirmed)
		return AUTH_401_ALARM;
	a->after_401 = 1;
	return AUTH_401_RETRY;
}

void auth_accepted(struct auth *a, uint64_t gen)
{
	if (a == NULL || a->mode != AUTH_OAUTH || gen != a->gen ||
	    a->header == NULL)
		return;
	a->confirmed = 1;
	a->after_401 = 0;
}

/* ---- refreshing --------------------------------------------------------- */

int auth_refresh_request(struct auth *a, CURL *easy, long timeout_ms,
			 int64_t now_ms)
{
	int bad = 0;

	if (a == NULL || easy == NULL || a->mode != AUTH_OAUTH ||
	    timeout_ms <= 0)
		return SPOOLSHIP_EINVAL;
	bad |= curl_easy_setopt(easy, CURLOPT_URL, a->token_url) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_POST, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
				(curl_off_t)a->body_len) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_POSTFIELDS, a->body) !=
	       CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_HTTPHEADER, a->req_headers) !=
	       CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms) !=
	       CURLE_OK;
	bad |= curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500
	bad |= curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") !=
	       CURLE_OK;
#else
	bad |= curl_easy_setopt(easy, CURLOPT_PROTOCOLS,
				(long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) !=
	       CURLE_OK;
#endif
	if (bad)
		return -EIO;
	a->started_ms = now_ms;
	a->started = 1;
	return 0;
}

/* s with every secret of a masked, cut to a printable excerpt of at most
 * cap - 1 bytes.  Masking comes first, on the whole string, so a cut can
 * never leave half a secret behind. */
static void quote_masked(const struct auth *a, const char *s, char *out,
			 size_t cap)
{
	char *copy = dup_str(s);

	if (copy == NULL) {
		snprintf(out, cap, "?");
		return;
	}
	auth_mask(a, copy);
	answer_excerpt(copy, strlen(copy), out, cap);
	wipe_free(copy);
}

/* The reason a non-2xx token answer gives, as "error (description)". */
static void oauth_error(const struct auth *a, const cJSON *root, char *out,
			size_t cap)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *d =
		cJSON_GetObjectItemCaseSensitive(root, "error_description");
	char eq[QUOTE_ERROR + 1] = "", dq[QUOTE_DESC + 1] = "";

	if (cJSON_IsString(e) && e->valuestring != NULL)
		quote_masked(a, e->valuestring, eq, sizeof(eq));
	if (cJSON_IsString(d) && d->valuestring != NULL)
		quote_masked(a, d->valuestring, dq, sizeof(dq));
	if (eq[0] != '\0' && dq[0] != '\0')
		snprintf(out, cap, ": %s (%s)", eq, dq);
	else if (eq[0] != '\0' || dq[0] != '\0')
		snprintf(out, cap, ": %s", eq[0] != '\0' ? eq : dq);
	else
		out[0] = '\0';
}

/* expires_in in seconds: a JSON number, or a string of digits (some
 * identity providers send "3599"). */
static int expires_in(const cJSON *x, double *secs, char *why, size_t wlen)
{
	const char *s;
	double v = 0;

	if (x == NULL || cJSON_IsNull(x)) {
		*secs = (double)(AUTH_DEFAULT_LIFETIME_MS / 1000);
		return 0;
	}
	if (cJSON_IsNumber(x)) {
		v = x->valuedouble;
	} else if (cJSON_IsString(x) && x->valuestring != NULL &&
		   x->valuestring[0] != '\0') {
		for (s = x->valuestring; *s; s++) {
			if (*s < '0' || *s > '9' || v > 1e12) {
				snprintf(why, wlen, "expires_in is not a "
					 "number of seconds");
				return -1;
			}
			v = v * 10 + (*s - '0');
		}
	} else {
		snprintf(why, wlen, "expires_in is not a number");
		return -1;
	}
	if (!(v >= 1 && v <= (double)AUTH_MAX_LIFETIME_S)) {
		snprintf(why, wlen, "expires_in %.6g is out of range "
			 "(1..%lld seconds)", v,
			 (long long)AUTH_MAX_LIFETIME_S);
		return -1;
	}
	*secs = v;
	return 0;
}

/* Checks a 2xx answer; on success stores a fresh "Bearer ..." in *header.
 * Otherwise writes the reason to why and returns SPOOLSHIP_EINVAL. */
static int token_answer(const struct auth *a, const cJSON *root,
			char **header, double *secs, char *why, size_t wlen)
{
	const cJSON *tok, *type;
	const char *problem;
	char q[QUOTE_ERROR + QUOTE_DESC + 8];

	if (!cJSON_IsObject(root)) {
		snprintf(why, wlen, "is not a JSON object");
		return SPOOLSHIP_EINVAL;
	}
	if (cJSON_GetObjectItemCaseSensitive(root, "error") != NULL) {
		oauth_error(a, root, q, sizeof(q));
		snprintf(why, wlen, "is an OAuth error%s", q);
		return SPOOLSHIP_EINVAL;
	}
	tok = cJSON_GetObjectItemCaseSensitive(root, "access_token");
	if (tok == NULL) {
		snprintf(why, wlen, "has no access_token");
		return SPOOLSHIP_EINVAL;
	}
	if (!cJSON_IsString(tok) || tok->valuestring == NULL) {
		snprintf(why, wlen, "has an access_token that is not a "
			 "string");
		return SPOOLSHIP_EINVAL;
	}
	problem = token_problem(tok->valuestring, 0);
	if (problem != NULL) {
		snprintf(why, wlen, "has an access_token that %s", problem);
		return SPOOLSHIP_EINVAL;
	}
	type = cJSON_GetObjectItemCaseSensitive(root, "token_type");
	if (type != NULL && !cJSON_IsNull(type)) {
		if (!cJSON_IsString(type) || type->valuestring == NULL) {
			snprintf(why, wlen, "has a token_type that is not a "
				 "string");
			return SPOOLSHIP_EINVAL;
		}
		if (!ascii_ieq(type->valuestring, "bearer")) {
			quote_masked(a, type->valuestring, q, 32);
			snprintf(why, wlen, "has token_type '%s', not bearer",
				 q);
			return SPOOLSHIP_EINVAL;
		}
	}
	if (expires_in(cJSON_GetObjectItemCaseSensitive(root, "expires_in"),
		       secs, why, wlen) != 0)
		return SPOOLSHIP_EINVAL;
	*header = prefixed("Bearer ", tok->valuestring,
			   strlen(tok->valuestring));
	return *header != NULL ? 0 : -ENOMEM;
}

/* Wipes the token strings in cJSON's tree before it is freed. */
static void wipe_tree(cJSON *root)
{
	cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "access_token");
	cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "refresh_token");

	if (cJSON_IsString(t) && t->valuestring != NULL)
		OPENSSL_cleanse(t->valuestring, strlen(t->valuestring));
	if (cJSON_IsString(r) && r->valuestring != NULL)
		OPENSSL_cleanse(r->valuestring, strlen(r->valuestring));
	cJSON_Delete(root);
}

static void store_token(struct auth *a, char *header, double secs,
			int64_t base)
{
	int64_t life = (int64_t)secs * 1000;
	int64_t margin = a->margin_ms < life / 2 ? a->margin_ms : life / 2;

	drop_token(a);
	a->header = header;
	a->gen++;
	a->confirmed = 0;
	a->expiry_ms = base + life;
	a->refresh_at_ms = a->expiry_ms - margin;
}

int auth_refresh_complete(struct auth *a, long status, const char *body,
			  size_t len, int64_t now_ms, char *errbuf,
			  size_t errlen)
{
	char msg[1024], why[512], q[QUOTE_ERROR + QUOTE_DESC + 8];
	cJSON *root = NULL;
	char *header = NULL;
	double secs = 0;
	int64_t base;
	int rc = SPOOLSHIP_EINVAL;

	if (a == NULL || a->mode != AUTH_OAUTH)
		return errf(errbuf, errlen, SPOOLSHIP_EINVAL,
			    "auth: not in oauth mode");
	/* The lifetime counts from when the request left, not from when
	 * the answer came: the token was minted in between. */
	base = a->started && a->started_ms <= now_ms ? a->started_ms : now_ms;
	a->started = 0;
	if (body == NULL)
		len = 0;
	if (len > AUTH_MAX_ANSWER_LEN) {
		snprintf(msg, sizeof(msg), "auth: token endpoint answered "
			 "HTTP %ld with a body over %d bytes", status,
			 AUTH_MAX_ANSWER_LEN);
		goto out;
	}
	if (len > 0)
		root = cJSON_ParseWithLength(body, len);
	if (status == 0) {
		snprintf(msg, sizeof(msg), "auth: token request got no "
			 "answer from the token endpoint");
		goto out;
	}
	if (status < 200 || status > 299) {
		q[0] = '\0';
		if (cJSON_IsObject(root))
			oauth_error(a, root, q, sizeof(q));
		snprintf(msg, sizeof(msg), "auth: token endpoint answered "
			 "HTTP %ld%s%s", status, q,
			 q[0] == '\0' && len > 0 && root == NULL
				 ? " (body is not JSON)" : "");
		goto out;
	}
	if (root == NULL) {
		snprintf(msg, sizeof(msg), "auth: token endpoint answered "
			 "HTTP %ld with %s", status,
			 len == 0 ? "an empty body"
				  : "a body that is not JSON");
		goto out;
	}
	rc = token_answer(a, root, &header, &secs, why, sizeof(why));
	if (rc == -ENOMEM) {
		snprintf(msg, sizeof(msg), "auth: out of memory");
		goto out;
	}
	if (rc != 0) {
		snprintf(msg, sizeof(msg), "auth: token endpoint answer %s",
			 why);
		goto out;
	}
	store_token(a, header, secs, base);
out:
	if (root != NULL)
		wipe_tree(root);
	if (rc != 0) {
		auth_mask(a, msg);
		errf(errbuf, errlen, rc, "%s", msg);
	}
	return rc;
}

/* ---- secrets ------------------------------------------------------------ */

size_t auth_secrets(const struct auth *a, const char **out, size_t max)
{
	const char *list[AUTH_MAX_SECRETS];
	size_t n = 0, i;

	if (a == NULL)
		return 0;
	if (a->static_token != NULL)
		list[n++] = a->static_token;
	if (a->api_key != NULL)
		list[n++] = a->api_key;
	if (a->api_key_b64 != NULL)
		list[n++] = a->api_key_b64;
	if (a->client_secret != NULL)
		list[n++] = a->client_secret;
	if (a->secret_esc != NULL)
		list[n++] = a->secret_esc;
	if (a->mode == AUTH_OAUTH && a->header != NULL)
		list[n++] = a->header + strlen("Bearer ");
	for (i = 0; i < n && i < max && out != NULL; i++)
		out[i] = list[i];
	return n;
}

void auth_mask(const struct auth *a, char *msg)
{
	const char *sec[AUTH_MAX_SECRETS];
	size_t n, i, slen;
	char *hit, *from;

	if (a == NULL || msg == NULL)
		return;
	n = auth_secrets(a, sec, AUTH_MAX_SECRETS);
	for (i = 0; i < n; i++) {
		slen = strlen(sec[i]);
		if (slen == 0)
			continue;
		from = msg;
		while ((hit = strstr(from, sec[i])) != NULL) {
			if (slen >= 3) {
				memcpy(hit, "***", 3);
				memmove(hit + 3, hit + slen,
					strlen(hit + slen) + 1);
				from = hit + 3;
			} else {
				memset(hit, '*', slen);
				from = hit + slen;
			}
		}
	}
}
