/*
 * record.c - encode and check spool records.  The CRC32 (zlib) covers every
 * byte but its own four, so a flipped bit anywhere in a record is found;
 * a record that fails any check is never handed out as an event.
 */
#include "record.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "errf.h"
#include "spoolship.h"

void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

void put_be64(unsigned char *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

uint64_t get_be64(const unsigned char *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

void event_key(unsigned char k[EVENT_KEY_LEN], uint32_t stream, uint64_t seq)
{
	put_be32(k, stream);
	put_be64(k + 4, seq);
}

int event_key_parse(const void *k, size_t klen, uint32_t *stream,
		    uint64_t *seq)
{
	if (klen != EVENT_KEY_LEN)
		return SPOOLSHIP_ECORRUPT;
	*stream = get_be32(k);
	*seq = get_be64((const unsigned char *)k + 4);
	return 0;
}

/* CRC of a whole record v[0..n) except the CRC field at bytes 4..7. */
static uint32_t crc_of(const unsigned char *v, size_t n)
{
	uLong c = crc32(crc32(0L, Z_NULL, 0), v, 4);
	const unsigned char *p = v + 8;

	n -= 8;
	/* zlib takes uInt lengths: feed large buffers in pieces. */
	while (n > 0) {
		uInt chunk = n > 0x40000000u ? 0x40000000u : (uInt)n;

		c = crc32(c, p, chunk);
		p += chunk;
		n -= chunk;
	}
	return (uint32_t)c;
}

size_t record_stored_len(const struct record *r)
{
	return r->len +
	       (r->flags & RECORD_F_SEALED ? RECORD_SEAL_OVERHEAD : 0);
}

void record_aad(const struct record *r, unsigned char aad[RECORD_AAD_LEN])
{
	aad[0] = (unsigned char)r->version;
	aad[1] = (unsigned char)r->flags;
	aad[2] = 0;
	aad[3] = RECORD_HDR_LEN;
	put_be64(aad + 4, (uint64_t)r->event_ms);
	put_be64(aad + 12, (uint64_t)r->append_ms);
	put_be32(aad + 20, (uint32_t)r->len);
}

/* Common first 32 bytes of both kinds of record. */
static void hdr_encode(unsigned char *o, unsigned hdrlen, unsigned flags,
		       int64_t event_ms, int64_t append_ms, size_t len)
{
	o[0] = RECORD_VERSION;
	o[1] = (unsigned char)flags;
	o[2] = (unsigned char)(hdrlen >> 8);
	o[3] = (unsigned char)hdrlen;
	put_be64(o + 8, (uint64_t)event_ms);
	put_be64(o + 16, (uint64_t)append_ms);
	put_be32(o + 24, (uint32_t)len);
}

void record_encode_hdr(unsigned char *out, unsigned flags, int64_t event_ms,
		       int64_t append_ms, size_t len)
{
	hdr_encode(out, RECORD_HDR_LEN, flags, event_ms, append_ms, len);
	put_be32(out + 28, 0);
}

void record_finish(unsigned char *out, size_t total)
{
	put_be32(out + 4, crc_of(out, total));
}

void record_encode(unsigned char *out, int64_t event_ms, int64_t append_ms,
		   const char *data, size_t len)
{
	record_encode_hdr(out, 0, event_ms, append_ms, len);
	memcpy(out + RECORD_HDR_LEN, data, len);
	record_finish(out, RECORD_HDR_LEN + len);
}

/* Checks what both kinds share; fills r except data.  With tag_checks,
 * a sealed record's CRC is left to the caller's tag check. */
static int hdr_decode(const unsigned char *p, size_t vlen, unsigned want_hdr,
		      int tag_checks, struct record *r, char *why,
		      size_t whylen)
{
	unsigned hdrlen;

	if (vlen < 8)
		return errf(why, whylen, SPOOLSHIP_ECORRUPT, "record too short");
	if (p[0] == 0)
		return errf(why, whylen, SPOOLSHIP_ECORRUPT, "bad version 0");
	if (p[0] > RECORD_VERSION)
		return errf(why, whylen, SPOOLSHIP_EVERSION,
			    "record of a newer format version");
	hdrlen = (unsigned)p[2] << 8 | p[3];
	if (hdrlen != want_hdr || vlen < hdrlen)
		return errf(why, whylen, SPOOLSHIP_ECORRUPT,
			    "bad header length");
	if (!(tag_checks && (p[1] & RECORD_F_SEALED)) &&
	    get_be32(p + 4) != crc_of(p, vlen))
		return errf(why, whylen, SPOOLSHIP_ECORRUPT, "CRC mismatch");
	if ((p[1] & ~RECORD_F_KNOWN) != 0)
		return errf(why, whylen, SPOOLSHIP_ECORRUPT,
			    "record flags this build cannot decode");
	r->version = p[0];
	r->flags = p[1];
	r->event_ms = (int64_t)get_be64(p + 8);
	r->append_ms = (int64_t)get_be64(p + 16);
	r->len = get_be32(p + 24);
	return 0;
}

static int pending_decode(const void *v, size_t vlen, int tag_checks,
			  struct record *r, char *why, size_t whylen)
{
	const unsigned char *p = v;
	int rc = hdr_decode(p, vlen, RECORD_HDR_LEN, tag_checks, r, why,
			    whylen);

	if (rc != 0)
		return rc;
	if (record_stored_len(r) != vlen - RECORD_HDR_LEN || r->len == 0)
		return errf(why, whylen, SPOOLSHIP_ECORRUPT,
			    "payload length does not match");
	/* Outside the tag's associated data: checked here instead. */
	if (tag_checks && (r->flags & RECORD_F_SEALED) &&
	    get_be32(p + 28) != 0)
		return errf(why, whylen, SPOOLSHIP_ECORRUPT,
			    "reserved header bytes are not zero");
	r->data = (const char *)p + RECORD_HDR_LEN;
	return 0;
}

int record_decode(const void *v, size_t vlen, struct record *r, char *why,
		  size_t whylen)
{
	return pending_decode(v, vlen, 0, r, why, whylen);
}

int record_decode_to_open(const void *v, size_t vlen, struct record *r,
			  char *why, size_t whylen)
{
	return pending_decode(v, vlen, 1, r, why, whylen);
}

int record_peek_time(const void *v, size_t vlen, int64_t *event_ms)
{
	const unsigned char *p = v;

	if (vlen < RECORD_HDR_LEN || p[0] == 0 || p[0] > RECORD_VERSION ||
	    ((unsigned)p[2] << 8 | p[3]) != RECORD_HDR_LEN)
		return SPOOLSHIP_ECORRUPT;
	*event_ms = (int64_t)get_be64(p + 8);
	return 0;
}

size_t dead_record_size(size_t stored_len, size_t excerpt_len)
{
	return DEAD_HDR_LEN + excerpt_len + stored_len;
}

void dead_record_encode(unsigned char *o, const struct dead_record *d)
{
	size_t stored = record_stored_len(&d->r);
	size_t total = dead_record_size(stored, d->excerpt_len);

	hdr_encode(o, DEAD_HDR_LEN, d->r.flags, d->r.event_ms, d->r.append_ms,
		   d->r.len);
	put_be32(o + 28, d->stream);
	put_be64(o + 32, (uint64_t)d->dead_ms);
	put_be64(o + 40, d->seq);
	o[48] = (unsigned char)(d->status >> 8);
	o[49] = (unsigned char)d->status;
	o[50] = (unsigned char)d->reason;
	o[51] = 0;
	put_be32(o + 52, (uint32_t)d->excerpt_len);
	if (d->excerpt_len > 0)
		memcpy(o + DEAD_HDR_LEN, d->excerpt, d->excerpt_len);
	memcpy(o + DEAD_HDR_LEN + d->excerpt_len, d->r.data, stored);
	put_be32(o + 4, crc_of(o, total));
}

int dead_record_decode(const void *v, size_t vlen, struct dead_record *d,
		       char *why, size_t whylen)
{
	const unsigned char *p = v;
	int rc = hdr_decode(p, vlen, DEAD_HDR_LEN, 0, &d->r, why, whylen);

	if (rc != 0)
		return rc;
	d->stream = get_be32(p + 28);
	d->dead_ms = (int64_t)get_be64(p + 32);
	d->seq = get_be64(p + 40);
	d->status = (unsigned)p[48] << 8 | p[49];
	d->reason = p[50];
	d->excerpt_len = get_be32(p + 52);
	if (d->reason == 0 || d->reason > DEAD_REASON_MAX)
		return errf(why, whylen, SPOOLSHIP_ECORRUPT, "bad dead reason");
	if (d->excerpt_len > vlen - DEAD_HDR_LEN ||
	    record_stored_len(&d->r) != vlen - DEAD_HDR_LEN - d->excerpt_len)
		return errf(why, whylen, SPOOLSHIP_ECORRUPT,
			    "payload length does not match");
	d->excerpt = (const char *)p + DEAD_HDR_LEN;
	d->r.data = d->excerpt + d->excerpt_len;
	return 0;
}

static const char *const reason_names[] = {
	[DEAD_EXPIRED] = "expired",
	[DEAD_REJECTED] = "rejected",
	[DEAD_CORRUPT] = "corrupt",
	[DEAD_TOOBIG] = "too_big",
};

const char *dead_reason_name(unsigned reason)
{
	if (reason == 0 || reason > DEAD_REASON_MAX)
		return "unknown";
	return reason_names[reason];
}

unsigned dead_reason_parse(const char *name)
{
	for (unsigned i = 1; i <= DEAD_REASON_MAX; i++)
		if (strcmp(name, reason_names[i]) == 0)
			return i;
	return 0;
}
