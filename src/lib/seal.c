/*
 * seal.c - AES-256-GCM for record payloads and the key file (seal.h).
 * OpenSSL does the cryptography and the randomness; this file only frames
 * nonces and checks the key file.  It must never log or keep a plaintext.
 */
#define _GNU_SOURCE
#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "errf.h"
#include "spoolship.h"

struct sealer {
	pthread_mutex_t mu;          /* guards both contexts and the nonce */
	/* Fetched once: OpenSSL 3 looks EVP_aes_256_gcm() up in its
	 * provider on every init, ~20% of a record's cost. */
	EVP_CIPHER *cipher;
	EVP_CIPHER_CTX *enc, *dec;   /* keyed once; only the IV changes */
	unsigned char key[SEAL_KEY_LEN];
	unsigned char prefix[8];
	uint32_t counter;
	int have_prefix;
};

static int keyed(const EVP_CIPHER *cipher, EVP_CIPHER_CTX **ctx,
		 const unsigned char *key, int enc)
{
	*ctx = EVP_CIPHER_CTX_new();
	if (*ctx == NULL)
		return -ENOMEM;
	if (EVP_CipherInit_ex(*ctx, cipher, NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(*ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN,
				NULL) != 1 ||
	    EVP_CipherInit_ex(*ctx, NULL, NULL, key, NULL, enc) != 1)
		return SPOOLSHIP_EKEY;
	return 0;
}

int sealer_new(const unsigned char key[SEAL_KEY_LEN], struct sealer **out)
{
	struct sealer *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL)
		return -ENOMEM;
	memcpy(s->key, key, SEAL_KEY_LEN);
	pthread_mutex_init(&s->mu, NULL);
	s->cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	if (s->cipher == NULL) {
		sealer_free(s);
		return SPOOLSHIP_EKEY;
	}
	if ((rc = keyed(s->cipher, &s->enc, key, 1)) != 0 ||
	    (rc = keyed(s->cipher, &s->dec, key, 0)) != 0) {
		sealer_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void sealer_free(struct sealer *s)
{
	if (s == NULL)
		return;
	EVP_CIPHER_CTX_free(s->enc);
	EVP_CIPHER_CTX_free(s->dec);
	EVP_CIPHER_free(s->cipher);
	OPENSSL_cleanse(s->key, sizeof(s->key));
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void sealer_key_id(const struct sealer *s, unsigned char id[SEAL_KEY_ID_LEN])
{
	static const char label[] = "spoolship key id v1";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	HMAC(EVP_sha256(), s->key, SEAL_KEY_LEN, (const unsigned char *)label,
	     sizeof(label) - 1, mac, &len);
	memcpy(id, mac, SEAL_KEY_ID_LEN);
}

/* The next nonce; called with s->mu held. */
static int next_nonce(struct sealer *s, unsigned char nonce[SEAL_NONCE_LEN])
{
	if (!s->have_prefix || s->counter == UINT32_MAX) {
		if (RAND_bytes(s->prefix, sizeof(s->prefix)) != 1)
			return SPOOLSHIP_EKEY;
		s->counter = 0;
		s->have_prefix = 1;
	}
	memcpy(nonce, s->prefix, sizeof(s->prefix));
	nonce[8] = (unsigned char)(s->counter >> 24);
	nonce[9] = (unsigned char)(s->counter >> 16);
	nonce[10] = (unsigned char)(s->counter >> 8);
	nonce[11] = (unsigned char)s->counter;
	s->counter++;
	return 0;
}

/* One update of either direction (the context knows which).  EVP takes
 * int lengths; a record is at most a few MB. */
static int gcm_update(EVP_CIPHER_CTX *c, unsigned char *out,
		      const unsigned char *in, size_t len)
{
	int n = 0;

	return len <= INT32_MAX &&
	       EVP_CipherUpdate(c, out, &n, in, (int)len) == 1 &&
	       (size_t)n == len ? 0 : -1;
}

int sealer_seal(struct sealer *s, const unsigned char *aad, size_t aadlen,
		const void *in, size_t len, unsigned char *out)
{
	unsigned char *nonce = out, *ct = out + SEAL_NONCE_LEN;
	int n, rc = SPOOLSHIP_EKEY;

	pthread_mutex_lock(&s->mu);
	if (next_nonce(s, nonce) != 0 ||
	    EVP_EncryptInit_ex(s->enc, NULL, NULL, NULL, nonce) != 1 ||
	    gcm_update(s->enc, NULL, aad, aadlen) != 0 ||
	    gcm_update(s->enc, ct, in, len) != 0 ||
	    EVP_EncryptFinal_ex(s->enc, ct + len, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(s->enc, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN,
				ct + len) != 1)
		goto out;
	rc = 0;
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int sealer_open(struct sealer *s, const unsigned char *aad, size_t aadlen,
		const unsigned char *in, size_t len, void *out)
{
	const unsigned char *ct = in + SEAL_NONCE_LEN;
	unsigned char tag[SEAL_TAG_LEN];
	int n, rc = SPOOLSHIP_ECORRUPT;

	memcpy(tag, ct + len, sizeof(tag));
	pthread_mutex_lock(&s->mu);
	if (EVP_DecryptInit_ex(s->dec, NULL, NULL, NULL, in) != 1 ||
	    gcm_update(s->dec, NULL, aad, aadlen) != 0 ||
	    gcm_update(s->dec, out, ct, len) != 0 ||
	    EVP_CIPHER_CTX_ctrl(s->dec, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN,
				tag) != 1 ||
	    EVP_DecryptFinal_ex(s->dec, (unsigned char *)out + len, &n) != 1)
		goto out;
	rc = 0;
out:
	pthread_mutex_unlock(&s->mu);
	if (rc != 0)
		OPENSSL_cleanse(out, len);
	return rc;
}

int seal_key_load(const char *path, unsigned char key[SEAL_KEY_LEN],
		  char *why, size_t whylen)
{
	unsigned char buf[SEAL_KEY_LEN + 1];
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd, rc = SPOOLSHIP_EKEY;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return errf(why, whylen, SPOOLSHIP_EKEY,
			    "encryption key file '%.200s': %s", path,
			    strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		errf(why, whylen, rc, "encryption key file '%.200s' is not a "
		     "regular file", path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		errf(why, whylen, rc, "encryption key file '%.200s' belongs to "
		     "uid %u, not to this user (uid %u)", path,
		     (unsigned)st.st_uid, (unsigned)geteuid());
		goto out;
	}
	if ((st.st_mode & 07777) != 0600 && (st.st_mode & 07777) != 0400) {
		errf(why, whylen, rc, "encryption key file '%.200s' has mode "
		     "%04o: it must be 0600 or 0400", path,
		     (unsigned)(st.st_mode & 07777));
		goto out;
	}
	while (got < sizeof(buf)) {
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errf(why, whylen, rc, "encryption key file '%.200s': "
			     "%s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != SEAL_KEY_LEN) {
		errf(why, whylen, rc, "encryption key file '%.200s' holds %s "
		     "bytes, not 32 (make one with `spoolship keygen`)",
		     path, got > SEAL_KEY_LEN ? "more than 32" :
		     got == 0 ? "no" : "fewer than 32");
		goto out;
	}
	memcpy(key, buf, SEAL_KEY_LEN);
	rc = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return rc;
}

int seal_key_generate(const char *path, char *why, size_t whylen)
{
	unsigned char key[SEAL_KEY_LEN];
	size_t done = 0;
	int fd, rc = 0;

	if (RAND_bytes(key, sizeof(key)) != 1)
		return errf(why, whylen, SPOOLSHIP_EKEY,
			    "no randomness from OpenSSL");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		rc = -errno;
		errf(why, whylen, rc, "cannot create '%.200s': %s", path,
		     strerror(errno));
		goto out;
	}
	while (done < sizeof(key)) {
		ssize_t n = write(fd, key + done, sizeof(key) - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	/* The key must survive a power cut as surely as the events do. */
	if (rc == 0 && (fchmod(fd, 0600) != 0 || fsync(fd) != 0))
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc != 0) {
		errf(why, whylen, rc, "cannot write '%.200s': %s", path,
		     strerror(-rc));
		unlink(path);
	}
out:
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}
