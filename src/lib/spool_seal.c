/*
 * spool_seal.c - encryption at rest, as the spool uses it: the key read at
 * open and checked against the fingerprint the spool keeps in meta, and
 * record payloads sealed on the way in and opened on the way out.  A
 * sealed payload is never handed out as an event without its tag checked.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "array.h"
#include "seal.h"
#include "spool.h"

#define META_KEY_ID "enc_key_id"

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

int spool_key_load(spoolship_spool *s)
{
	unsigned char key[SEAL_KEY_LEN];
	int rc;

	if (s->o.key_file == NULL || *s->o.key_file == '\0')
		return 0;
	rc = seal_key_load(s->o.key_file, key, NULL, 0);
	if (rc == 0)
		rc = sealer_new(key, &s->sealer);
	OPENSSL_cleanse(key, sizeof(key));
	s->o.key_file = NULL; /* the caller's string: not kept */
	return rc;
}

/* Compares the key with the fingerprint in meta; the first writable open
 * with a key records it.  A writable open without the key of an encrypted
 * spool is refused: it would append events in the clear. */
int spool_key_match(spoolship_spool *s, MDB_txn *txn)
{
	unsigned char id[SEAL_KEY_ID_LEN];
	MDB_val k = { sizeof(META_KEY_ID) - 1, (void *)META_KEY_ID }, d;
	int rc = mdb_get(txn, s->meta, &k, &d);

	if (rc != 0 && rc != MDB_NOTFOUND)
		return spool_err(rc);
	if (rc == 0 && d.mv_size != SEAL_KEY_ID_LEN)
		return SPOOLSHIP_ECORRUPT;
	s->encrypted = rc == 0;
	if (s->sealer == NULL)
		return s->encrypted && !s->o.readonly ?
			       SPOOLSHIP_EKEYNEEDED : 0;
	sealer_key_id(s->sealer, id);
	if (s->encrypted)
		return memcmp(id, d.mv_data, sizeof(id)) == 0 ?
			       0 : SPOOLSHIP_EKEYWRONG;
	if (s->o.readonly)
		return 0;
	d.mv_size = sizeof(id);
	d.mv_data = id;
	s->encrypted = 1;
	return spool_err(mdb_put(txn, s->meta, &k, &d, 0));
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

int spool_dead_open(spoolship_spool *s, const MDB_val *d,
		    struct dead_record *dr, struct spool_plain *p)
{
	int rc;

	if (dead_record_decode(d->mv_data, d->mv_size, dr, NULL, 0) != 0)
		return 1;
	/* A corrupt one keeps its bytes as they were: not opened. */
	if (dr->reason == DEAD_CORRUPT)
		return 0;
	rc = spool_unseal(s, &dr->r, p);
	return rc == SPOOLSHIP_ECORRUPT ? 1 : rc;
}

void spool_plain_free(struct spool_plain *p)
{
	if (p->buf != NULL)
		OPENSSL_cleanse(p->buf, p->cap);
	free(p->buf);
	p->buf = NULL;
	p->cap = 0;
}
