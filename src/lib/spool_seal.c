/*
 * spool_seal.c - encryption at rest, as the spool uses it: the key files
 * of the public API, and record payloads sealed on the way in and opened
 * on the way out with the handle's sealer.  A sealed payload is never
 * handed out as an event without its tag checked.
 *
 * One way only: this file may call spool.c, spool.c never calls this
 * one.  Opening a spool loads its key and checks it against the spool's
 * fingerprint there (spool.c, with seal.c), before any record is read.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "array.h"
#include "seal.h"
#include "spool.h"

int spoolship_key_check(const char *path, char *errbuf, size_t errlen)
{
	unsigned char key[SEAL_KEY_LEN];
	int rc;

	if (path == NULL)
		return SPOOLSHIP_EINVAL;
	rc = seal_key_load(path, key, errbuf, errlen);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int spoolship_key_generate(const char *path, char *errbuf, size_t errlen)
{
	if (path == NULL)
		return SPOOLSHIP_EINVAL;
	return seal_key_generate(path, errbuf, errlen);
}

size_t spool_record_size(const spoolship_spool *s, size_t len)
{
	return RECORD_HDR_LEN + len + (s->sealer ? RECORD_SEAL_OVERHEAD : 0);
}

int spool_record_write(spoolship_spool *s, unsigned char *out,
		       int64_t event_ms, int64_t append_ms, const char *data,
		       size_t len)
{
	struct record r = { RECORD_VERSION, RECORD_F_SEALED, event_ms,
			    append_ms, NULL, len };
	unsigned char aad[RECORD_AAD_LEN];
	int rc;

	if (s->sealer == NULL) {
		record_encode(out, event_ms, append_ms, data, len);
		return 0;
	}
	record_encode_hdr(out, RECORD_F_SEALED, event_ms, append_ms, len);
	record_aad(&r, aad);
	rc = sealer_seal(s->sealer, aad, sizeof(aad), data, len,
			 out + RECORD_HDR_LEN);
	if (rc == 0)
		record_finish(out, spool_record_size(s, len));
	return rc;
}

int spool_payload(spoolship_spool *s, const struct record *r, void *out)
{
	unsigned char aad[RECORD_AAD_LEN];

	if (!(r->flags & RECORD_F_SEALED)) {
		memcpy(out, r->data, r->len);
		return 0;
	}
	if (s->sealer == NULL)
		return SPOOLSHIP_EKEYNEEDED;
	record_aad(r, aad);
	return sealer_open(s->sealer, aad, sizeof(aad),
			   (const unsigned char *)r->data, r->len, out);
}

int spool_unseal(spoolship_spool *s, struct record *r, struct spool_plain *p)
{
	int rc;

	if (!(r->flags & RECORD_F_SEALED))
		return 0;
	if ((rc = array_grow((void **)&p->buf, &p->cap, r->len, 1)) != 0 ||
	    (rc = spool_payload(s, r, p->buf)) != 0)
		return rc;
	r->data = p->buf;
	r->flags &= ~RECORD_F_SEALED;
	return 0;
}

void spool_plain_free(struct spool_plain *p)
{
	if (p->buf != NULL)
		OPENSSL_cleanse(p->buf, p->cap);
	free(p->buf);
	p->buf = NULL;
	p->cap = 0;
}
