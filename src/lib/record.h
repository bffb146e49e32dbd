/*
 * record.h - the byte layout of spool records (docs/spool-format.md): the
 * versioned header with its CRC32, for pending and dead events.  Encoding
 * and decoding only; never touches LMDB or the disk.
 */
#ifndef SPOOLSHIP_RECORD_H
#define SPOOLSHIP_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define RECORD_VERSION 1
#define RECORD_HDR_LEN 32   /* pending event header */
#define DEAD_HDR_LEN 56     /* dead event header */
#define EVENT_KEY_LEN 12    /* stream id (4) || sequence (8), big-endian */
#define DEAD_KEY_LEN 8      /* dead sequence, big-endian */

/* Flags: a reader refuses what it cannot decode instead of shipping sealed
 * or compressed bytes as JSON.  SEALED: the payload is nonce (12) ||
 * AES-256-GCM ciphertext (len) || tag (16), with the header as associated
 * data (record_aad); the CRC covers the stored bytes, so checking it needs
 * no key. */
#define RECORD_F_GZIP 0x01u
#define RECORD_F_SEALED 0x02u
#define RECORD_F_KNOWN RECORD_F_SEALED /* flags this build can decode */
#define RECORD_SEAL_OVERHEAD 28
#define RECORD_AAD_LEN 24

enum dead_reason {
	DEAD_EXPIRED = 1,  /* aged past max_age before delivery */
	DEAD_REJECTED = 2, /* the receiver refused it alone (400 bisection) */
	DEAD_CORRUPT = 3,  /* its record failed the CRC check */
	DEAD_TOOBIG = 4,   /* refused with 413 even alone */
	DEAD_REASON_MAX = DEAD_TOOBIG
};

struct record {
	unsigned version;
	unsigned flags;
	int64_t event_ms;
	int64_t append_ms;
	const char *data; /* the payload as stored (sealed when flags say so),
			   * pointing into the encoded value */
	size_t len;       /* the event's length (before sealing) */
};

/* Bytes the payload takes in the record: len, plus the nonce and tag of a
 * sealed one. */
size_t record_stored_len(const struct record *r);
/* The associated data a sealed payload is bound to: version, flags and
 * the header's times and length, in the pending record's layout (so a
 * sealed payload moved to the dead store still opens). */
void record_aad(const struct record *r, unsigned char aad[RECORD_AAD_LEN]);

struct dead_record {
	struct record r;
	uint32_t stream;
	uint64_t seq;        /* its sequence in the stream it came from */
	int64_t dead_ms;
	unsigned status;     /* HTTP status, 0 when none */
	unsigned reason;     /* enum dead_reason */
	const char *excerpt; /* response excerpt, not NUL-terminated */
	size_t excerpt_len;
};

void put_be32(unsigned char *p, uint32_t v);
void put_be64(unsigned char *p, uint64_t v);
uint32_t get_be32(const unsigned char *p);
uint64_t get_be64(const unsigned char *p);

void event_key(unsigned char k[EVENT_KEY_LEN], uint32_t stream, uint64_t seq);
/* Returns 0, or SPOOLSHIP_ECORRUPT when klen is not EVENT_KEY_LEN. */
int event_key_parse(const void *k, size_t klen, uint32_t *stream,
		    uint64_t *seq);

/* Writes header + payload into out (RECORD_HDR_LEN + len bytes). */
void record_encode(unsigned char *out, int64_t event_ms, int64_t append_ms,
		   const char *data, size_t len);
/* For a sealed record (spool_append.c): the header of a record of flags
 * whose event is len bytes; the caller writes the payload after it, then
 * record_finish() sets the CRC over all total bytes. */
void record_encode_hdr(unsigned char *out, unsigned flags, int64_t event_ms,
		       int64_t append_ms, size_t len);
void record_finish(unsigned char *out, size_t total);

/* Decodes and checks a pending record: version, header length, payload
 * length, flags and CRC.  Returns 0, SPOOLSHIP_EVERSION (newer record) or
 * SPOOLSHIP_ECORRUPT with a reason in why (may be NULL). */
int record_decode(const void *v, size_t vlen, struct record *r,
		  char *why, size_t whylen);

/* record_decode() for a reader that opens every sealed record it keeps
 * (spool_payload()): a sealed record's CRC is not computed, its GCM tag
 * covers the same bytes but the CRC field and the reserved bytes 28..31,
 * which must be zero.  Checking both cost the shipper as much CPU as the
 * cipher.  A clear record is checked in full.  Same returns. */
int record_decode_to_open(const void *v, size_t vlen, struct record *r,
			  char *why, size_t whylen);

/* Reads a pending record's event time after checking only its version
 * and header length (no CRC): for scans that decode the few records they
 * select with record_decode().  Returns 0 or SPOOLSHIP_ECORRUPT. */
int record_peek_time(const void *v, size_t vlen, int64_t *event_ms);

/* stored_len: record_stored_len() of the record that dies. */
size_t dead_record_size(size_t stored_len, size_t excerpt_len);
void dead_record_encode(unsigned char *out, const struct dead_record *d);
int dead_record_decode(const void *v, size_t vlen, struct dead_record *d,
		       char *why, size_t whylen);

const char *dead_reason_name(unsigned reason);
/* Returns the reason code for a name ("expired", ...), or 0. */
unsigned dead_reason_parse(const char *name);

#endif
