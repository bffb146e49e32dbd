/*
 * auth.h - the credentials the shipper puts on each Events API request
 * (docs/events-api.md "Authentication"): none, a static Bearer token, an
 * OAuth2 client-credentials token kept fresh, or an API key sent as Basic.
 * The logic is split from the I/O: auth_refresh_request() only sets up a
 * curl easy handle, the caller performs it, auth_refresh_complete() takes
 * the answer.  Time is the caller's monotonic clock (clock_mono_ms()), so
 * tests run on a fake one.
 *
 * Secrets (client secret, API key, static and fetched tokens) never appear
 * in an error message this module writes; auth_secrets() lists what a
 * logger must mask besides.  Every copy of a secret it owns is wiped with
 * OPENSSL_cleanse() before its memory is freed.
 *
 * Thread safety
 *   None: one struct auth belongs to the shipper's event loop.
 *
 * Caveats
 *   - The easy handle set up by auth_refresh_request() points into the
 *     struct auth (POST body, header list): free the auth only after that
 *     transfer is finished or the handle reset.
 *   - Copies the caller makes (a curl_slist holding "Authorization: ...")
 *     are the caller's to wipe.
 */
#ifndef SPOOLSHIP_AUTH_H
#define SPOOLSHIP_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

/* Suggested refresh margin: Polaris tokens live 5 minutes. */
#define AUTH_DEFAULT_MARGIN_MS INT64_C(30000)
/* Lifetime assumed when the token answer has no expires_in (RFC 6749
 * makes it optional); a 401 still forces a refresh earlier. */
#define AUTH_DEFAULT_LIFETIME_MS INT64_C(300000)
/* expires_in accepted: 1 s .. 1 year. */
#define AUTH_MAX_LIFETIME_S INT64_C(31536000)
/* Longest token or API key accepted, in bytes. */
#define AUTH_MAX_TOKEN_LEN 16384
/* Largest token endpoint answer parsed, in bytes. */
#define AUTH_MAX_ANSWER_LEN 65536
/* Most strings auth_secrets() can list. */
#define AUTH_MAX_SECRETS 6

enum auth_mode {
	AUTH_NONE = 0,   /* no Authorization header */
	AUTH_BEARER,     /* "Bearer TOKEN", TOKEN given */
	AUTH_OAUTH,      /* "Bearer TOKEN", TOKEN from client credentials */
	AUTH_APIKEY      /* "Basic base64(KEY:)" */
};

/* The plain strings a struct auth is made from (the config module fills
 * them).  NULL and "" both mean "not set".  Nothing is kept by reference:
 * auth_new() copies what the mode needs. */
struct auth_params {
	const char *mode;          /* "none", "bearer", "oauth", "apikey" */
	const char *token;         /* bearer */
	const char *token_url;     /* oauth: https://, or http:// to a
				    * loopback host only */
	const char *client_id;     /* oauth */
	const char *client_secret; /* oauth */
	const char *scope;         /* oauth, optional */
	const char *api_key;       /* apikey */
	int64_t refresh_margin_ms; /* oauth: refresh this long before the
				    * token expires; >= 0 (cut to half the
				    * token's lifetime) */
};

/* What the events API's 401 means for the caller: auth_invalidate(). */
enum auth_401 {
	AUTH_401_RETRY = 0, /* refresh the token (when auth_needs_refresh
			     * says so) and send the batch again now */
	AUTH_401_ALARM      /* credentials alarm: back off, keep the data;
			     * the next attempt fetches a new token */
};

struct auth;

/*
 * Checks p and makes a struct auth the caller owns (free with
 * auth_free()).  A secret given for a mode that does not use it is an
 * error (a likely mix-up in the configuration), as is a missing one, a
 * token or key with characters not allowed in a header, an API key with
 * ':' (it is the Basic user name), or a token_url that is not https (or
 * http to a loopback host) or carries credentials.  Returns 0,
 * SPOOLSHIP_EINVAL with a reason in errbuf (which never quotes a
 * secret), or -ENOMEM.  *out is set only on success.
 */
int auth_new(const struct auth_params *p, struct auth **out, char *errbuf,
	     size_t errlen);

/* Wipes every secret and frees a.  NULL is a no-op. */
void auth_free(struct auth *a);

enum auth_mode auth_mode(const struct auth *a);
/* "none", "bearer", "oauth", "apikey". */
const char *auth_mode_name(enum auth_mode mode);

/* Those names in enum order, NULL-terminated: the one list auth_new()
 * and the option table ([auth] mode) parse and document. */
extern const char *const auth_mode_names[];

/*
 * The Authorization header value to send now: "Bearer TOKEN",
 * "Basic base64(KEY:)", or NULL for mode none.  *value points into a
 * (valid until the next auth_refresh_complete(), auth_invalidate() or
 * auth_free()); *gen (may be NULL) gets the token's generation, which the
 * caller keeps with the request and hands back to auth_invalidate() or
 * auth_accepted().  Returns 0, or -EAGAIN in oauth mode when there is no
 * token or it has expired at now_ms: refresh first.
 */
int auth_header(const struct auth *a, int64_t now_ms, const char **value,
		uint64_t *gen);

/* 1 in oauth mode when there is no token or now_ms has reached its expiry
 * less the refresh margin; else 0. */
int auth_needs_refresh(const struct auth *a, int64_t now_ms);

/* The monotonic time at which the current token should be refreshed, for
 * the caller's timer; INT64_MAX when no refresh is ever due (other modes),
 * INT64_MIN when one is due now (no token). */
int64_t auth_refresh_due_ms(const struct auth *a);

/*
 * Sets up easy for the token request: POST to token_url with the form
 * grant_type=client_credentials&client_id=..&client_secret=..[&scope=..]
 * (values percent-encoded), Content-Type
 * application/x-www-form-urlencoded, Accept: application/json, no
 * redirects, http(s) only, the given total timeout.  It replaces the
 * handle's CURLOPT_HTTPHEADER; TLS options, the header callback (use
 * answer_header_cb) and the body callback are the caller's.  now_ms is
 * when the request starts: the token's lifetime counts from then.
 * Returns 0, SPOOLSHIP_EINVAL (not oauth mode, bad timeout), or -EIO
 * when curl refused an option.
 */
int auth_refresh_request(struct auth *a, CURL *easy, long timeout_ms,
			 int64_t now_ms);

/*
 * Takes the token endpoint's answer: HTTP status (0 when the transfer
 * failed), body[0..len), and the monotonic time now.  A 2xx holding
 * {"access_token": "...", "expires_in": N, "token_type": "bearer"}
 * becomes the current token (expires_in may be missing: then
 * AUTH_DEFAULT_LIFETIME_MS; token_type may be missing, else it must be
 * bearer), and the generation moves on.  Anything else keeps the current
 * token, if any, until its own expiry (a refresh that fails early costs
 * nothing) and returns SPOOLSHIP_EINVAL with a reason in errbuf: the
 * status, the OAuth "error" and "error_description" when the body has
 * them (as a printable excerpt, secrets masked), or what is wrong with a
 * 2xx body.  How to go on after a failure (retry, alarm, pause) is the
 * token_action of answer_classify() for the transfer; a SPOOLSHIP_EINVAL
 * for a 2xx means the token URL is not answering tokens: an alarm.
 * Returns -ENOMEM when a copy failed.  The body holds the token: the
 * caller wipes its buffer afterwards.
 */
int auth_refresh_complete(struct auth *a, long status, const char *body,
			  size_t len, int64_t now_ms, char *errbuf,
			  size_t errlen);

/*
 * The events API answered 401 to a request sent with the token of
 * generation gen.  In oauth mode the token is dropped (so
 * auth_needs_refresh() turns true) and AUTH_401_RETRY returned, unless
 * this token itself was fetched because of a 401 and has not been
 * accepted since: then AUTH_401_ALARM (a fresh token is refused too: the
 * credentials are wrong).  A 401 for an older generation only says the
 * request raced a refresh: AUTH_401_RETRY, nothing dropped.  In the
 * other modes there is nothing to refresh: AUTH_401_ALARM.
 */
enum auth_401 auth_invalidate(struct auth *a, uint64_t gen);

/* The events API accepted a request sent with generation gen (any answer
 * but 401): the token is good, the 401 alarm state clears. */
void auth_accepted(struct auth *a, uint64_t gen);

/*
 * Stores into out[0..max) the strings a logger must mask, and returns
 * how many there are (at most AUTH_MAX_SECRETS; may exceed max, like
 * snprintf): the static token, the API key and its base64 form, the
 * client secret and its percent-encoded form, the current access token.
 * The pointers are valid until the next auth_refresh_complete(),
 * auth_invalidate() or auth_free().
 */
size_t auth_secrets(const struct auth *a, const char **out, size_t max);

/* Overwrites, in the NUL-terminated msg, every occurrence of a secret of
 * a with "***" (in place: the text only shrinks). */
void auth_mask(const struct auth *a, char *msg);

#endif
