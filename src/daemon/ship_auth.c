/*
 * ship_auth.c - the shipper's credentials (struct ship_auth) over auth.c:
 * fetches OAuth tokens with a blocking request bounded by its timeout
 * (one every few minutes, so the loop can afford it), and never lets a
 * secret reach a log line unmasked.
 */
#define _GNU_SOURCE
#include "ship_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "clock.h"

#define TOKEN_BODY_MAX 65536

struct body {
	char *p;
	size_t len;
};

static size_t keep_body(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n, room = TOKEN_BODY_MAX - b->len;

	if (len < room)
		room = len;
	memcpy(b->p + b->len, p, room);
	b->len += room;
	return len;
}

static void register_secrets(struct ship_creds *c)
{
	const char *sec[AUTH_MAX_SECRETS];
	size_t n = auth_secrets(c->auth, sec, AUTH_MAX_SECRETS);

	for (size_t i = 0; i < n && i < AUTH_MAX_SECRETS; i++)
		log_secret_add(c->log, sec[i]);
}

/* One token request: returns 0 or an error with the reason in why. */
static int fetch_token(struct ship_creds *c, char *why, size_t whylen)
{
	struct body b = { malloc(TOKEN_BODY_MAX), 0 };
	struct answer ans;
	CURL *e = curl_easy_init();
	CURLcode res;
	long status = 0;
	int rc = SHIP_AUTH_RETRY;

	if (e == NULL || b.p == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	answer_init(&ans);
	if (auth_refresh_request(c->auth, e, (long)c->timeout_ms,
				 clock_mono_ms()) != 0) {
		snprintf(why, whylen, "cannot set up the token request");
		goto out;
	}
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, answer_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, &ans);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
	if (c->ca_file != NULL && *c->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	res = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	answer_finish(&ans, res, status);
	/* What to do about a failure is the table's token_action. */
	rc = answer_classify(&ans)->token_action == ANSWER_RETRY ?
		     SHIP_AUTH_RETRY : SHIP_AUTH_ALARM;
	if (res != CURLE_OK) {
		snprintf(why, whylen, "token request failed: %s",
			 curl_easy_strerror(res));
		goto out;
	}
	if (auth_refresh_complete(c->auth, status, b.p, b.len,
				  clock_mono_ms(), why, whylen) == 0)
		rc = 0;
	if (rc == 0) {
		c->refreshes++;
		register_secrets(c);
		log_info(c->log, "token refreshed status=%ld", status);
	}
out:
	if (b.p != NULL) {
		explicit_bzero(b.p, TOKEN_BODY_MAX);
		free(b.p);
	}
	if (e != NULL)
		curl_easy_cleanup(e);
	return rc;
}

static int prepare(void *arg, char *why, size_t whylen)
{
	struct ship_creds *c = arg;

	if (!auth_needs_refresh(c->auth, clock_mono_ms()))
		return 0;
	return fetch_token(c, why, whylen);
}

static void header(void *arg, char *out, size_t outlen, uint64_t *gen)
{
	struct ship_creds *c = arg;
	const char *v = NULL;

	*gen = 0;
	out[0] = '\0';
	if (auth_header(c->auth, clock_mono_ms(), &v, gen) == 0 && v != NULL)
		snprintf(out, outlen, "Authorization: %s", v);
}

static int rejected(void *arg, uint64_t gen)
{
	struct ship_creds *c = arg;

	return auth_invalidate(c->auth, gen) == AUTH_401_ALARM;
}

static void accepted(void *arg, uint64_t gen)
{
	struct ship_creds *c = arg;

	auth_accepted(c->auth, gen);
}

void ship_creds_bind(struct ship_creds *c, struct ship_auth *out)
{
	register_secrets(c);
	out->arg = c;
	out->prepare = prepare;
	out->header = header;
	out->rejected = rejected;
	out->accepted = accepted;
}
