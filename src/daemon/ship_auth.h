/*
 * ship_auth.h - binds a struct auth (auth.h) to the shipper's credential
 * hooks (struct ship_auth in ship.h).
 */
#ifndef SPOOLSHIP_SHIP_AUTH_H
#define SPOOLSHIP_SHIP_AUTH_H

#include "auth.h"
#include "log.h"
#include "ship.h"

struct ship_creds {
	struct auth *auth;   /* not owned */
	struct logger *log;  /* secrets are registered with it */
	int64_t timeout_ms;  /* of a token request */
	int tls_verify;
	const char *ca_file;
	uint64_t refreshes;
};

/* Fills *out with hooks over c; c must outlive the shipper. */
void ship_creds_bind(struct ship_creds *c, struct ship_auth *out);

#endif
