/*
 * seal.h - encryption at rest: AES-256-GCM sealing of record payloads
 * (OpenSSL EVP) and the key file that holds the key.  See
 * docs/security.md for what it protects against and what it does not.
 * Never writes a key or a plaintext anywhere but the caller's buffers.
 */
#ifndef SPOOLSHIP_SEAL_H
#define SPOOLSHIP_SEAL_H

#include <stddef.h>

#define SEAL_KEY_LEN 32
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_OVERHEAD (SEAL_NONCE_LEN + SEAL_TAG_LEN)
#define SEAL_KEY_ID_LEN 16

struct sealer;

/* Makes a sealer for key (copied; the caller may wipe its copy).  The
 * caller owns *out and frees it with sealer_free(), which wipes the key.
 * Returns 0, -ENOMEM, or SPOOLSHIP_EKEY when OpenSSL refuses (no
 * AES-256-GCM in this libcrypto). */
int sealer_new(const unsigned char key[SEAL_KEY_LEN], struct sealer **out);
void sealer_free(struct sealer *s);

/* The key's fingerprint, stored in the spool's meta so that a wrong key is
 * named as such at open time: the first 16 bytes of HMAC-SHA256(key,
 * "spoolship key id v1").  It does not reveal the key. */
void sealer_key_id(const struct sealer *s, unsigned char id[SEAL_KEY_ID_LEN]);

/* Seals in[0..len) into out: nonce (12) || ciphertext (len) || tag (16),
 * len + SEAL_OVERHEAD bytes, authenticating aad[0..aadlen) as well.  The
 * nonce is a random 64-bit prefix drawn per sealer (and again every 2^32
 * records) followed by a 32-bit counter, so no two records sealed under one
 * key share a nonce unless two prefixes collide (about n^2 / 2^65 for n
 * sealers over the key's life).  Thread-safe.  Returns 0 or SPOOLSHIP_EKEY
 * when OpenSSL fails. */
int sealer_seal(struct sealer *s, const unsigned char *aad, size_t aadlen,
		const void *in, size_t len, unsigned char *out);

/* Opens what sealer_seal() made: in is len + SEAL_OVERHEAD bytes, out gets
 * len bytes.  Returns 0, or SPOOLSHIP_ECORRUPT when the tag does not match
 * (tampered record, or a key other than the one it was sealed with); out is
 * wiped then.  Thread-safe. */
int sealer_open(struct sealer *s, const unsigned char *aad, size_t aadlen,
		const unsigned char *in, size_t len, void *out);

/* Reads a key file: exactly 32 bytes, a regular file owned by the effective
 * user with mode 0600 or 0400.  Returns 0, or SPOOLSHIP_EKEY with the
 * reason (naming the file) in why. */
int seal_key_load(const char *path, unsigned char key[SEAL_KEY_LEN],
		  char *why, size_t whylen);

/* Writes a new random key to path, created 0600 and never overwriting an
 * existing file.  Returns 0, or SPOOLSHIP_EKEY / -errno with the reason in
 * why. */
int seal_key_generate(const char *path, char *why, size_t whylen);

#endif
