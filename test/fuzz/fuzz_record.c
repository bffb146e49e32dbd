/*
 * fuzz_record.c - libFuzzer target for the spool record decoders
 * (src/lib/record.c through record.h): record_decode(), the batch reader's
 * record_decode_to_open(), record_peek_time(), dead_record_decode() and
 * event_key_parse() on any bytes, and on the same bytes with a correct
 * CRC, so the checks after the CRC are reached too.  What decodes must
 * lie inside the value and encode back to it.
 */
#include "fuzz.h"

#include "record.h"
#include "spoolship.h"

static int inside(const void *p, size_t n, const unsigned char *v,
		  size_t vlen)
{
	const unsigned char *c = p;

	return c >= v && n <= vlen && c - v <= (ptrdiff_t)(vlen - n);
}

/* 1 when a decoder refused its input, with one of its two codes and a
 * reason; 0 when it accepted it. */
static int refused(int rc, const char *why)
{
	if (rc == 0)
		return 0;
	FUZZ_CHECK(rc == SPOOLSHIP_ECORRUPT || rc == SPOOLSHIP_EVERSION);
	FUZZ_CHECK(why[0] != '\0');
	return 1;
}

static void check_pending(const unsigned char *v, size_t vlen)
{
	struct record r;
	unsigned char *again;
	char why[128] = "";
	int64_t t;

	if (refused(record_decode(v, vlen, &r, why, sizeof(why)), why))
		return;
	FUZZ_CHECK(r.version >= 1 && r.version <= RECORD_VERSION);
	FUZZ_CHECK((r.flags & ~RECORD_F_KNOWN) == 0);
	FUZZ_CHECK(r.len > 0);
	FUZZ_CHECK(record_stored_len(&r) == vlen - RECORD_HDR_LEN);
	FUZZ_CHECK(inside(r.data, record_stored_len(&r), v, vlen));
	FUZZ_CHECK(record_peek_time(v, vlen, &t) == 0 && t == r.event_ms);
	/* An unsealed record with its reserved bytes zero is what the
	 * encoder writes. */
	if (r.flags != 0 || v[28] | v[29] | v[30] | v[31])
		return;
	again = malloc(vlen);
	FUZZ_CHECK(again != NULL);
	record_encode(again, r.event_ms, r.append_ms, r.data, r.len);
	FUZZ_CHECK(memcmp(again, v, vlen) == 0);
	free(again);
}

/* The batch reader's decoder (record_decode_to_open) differs from
 * record_decode() only by leaving a sealed record's CRC to its tag and
 * requiring its reserved bytes to be zero. */
static void check_to_open(const unsigned char *v, size_t vlen)
{
	struct record full, r;
	char why[128] = "", why2[128] = "";
	int rc = record_decode(v, vlen, &full, why, sizeof(why));
	int rc2 = record_decode_to_open(v, vlen, &r, why2, sizeof(why2));
	int sealed = vlen > 1 && (v[1] & RECORD_F_SEALED);

	if (refused(rc2, why2)) {
		FUZZ_CHECK(rc != 0 || (sealed && (v[28] | v[29] | v[30] |
						  v[31])));
		return;
	}
	FUZZ_CHECK(rc == 0 || (sealed && strcmp(why, "CRC mismatch") == 0));
	FUZZ_CHECK((r.flags & ~RECORD_F_KNOWN) == 0 && r.len > 0);
	FUZZ_CHECK(record_stored_len(&r) == vlen - RECORD_HDR_LEN);
	FUZZ_CHECK(inside(r.data, record_stored_len(&r), v, vlen));
	if (rc == 0)
		FUZZ_CHECK(r.event_ms == full.event_ms &&
			   r.append_ms == full.append_ms &&
			   r.len == full.len && r.data == full.data);
}

static void check_dead(const unsigned char *v, size_t vlen)
{
	struct dead_record d;
	unsigned char *again;
	char why[128] = "";
	size_t stored;

	if (refused(dead_record_decode(v, vlen, &d, why, sizeof(why)), why))
		return;
	stored = record_stored_len(&d.r);
	FUZZ_CHECK(d.reason >= 1 && d.reason <= DEAD_REASON_MAX);
	FUZZ_CHECK(strcmp(dead_reason_name(d.reason), "unknown") != 0);
	FUZZ_CHECK(dead_reason_parse(dead_reason_name(d.reason)) ==
		   d.reason);
	FUZZ_CHECK(inside(d.excerpt, d.excerpt_len, v, vlen));
	FUZZ_CHECK(inside(d.r.data, stored, v, vlen));
	FUZZ_CHECK(dead_record_size(stored, d.excerpt_len) == vlen);
	if (d.r.version != RECORD_VERSION || v[51] != 0)
		return;
	again = malloc(vlen);
	FUZZ_CHECK(again != NULL);
	dead_record_encode(again, &d);
	FUZZ_CHECK(memcmp(again, v, vlen) == 0);
	free(again);
}

static void check_key(const unsigned char *v, size_t vlen)
{
	unsigned char k[EVENT_KEY_LEN];
	uint32_t stream;
	uint64_t seq;

	if (event_key_parse(v, vlen, &stream, &seq) != 0) {
		FUZZ_CHECK(vlen != EVENT_KEY_LEN);
		return;
	}
	event_key(k, stream, seq);
	FUZZ_CHECK(memcmp(k, v, EVENT_KEY_LEN) == 0);
}

/* ---- seeds: FUZZ_RECORD_SEEDS=DIR fuzz_record writes them and exits --- */

static void put(const char *dir, const char *name, const void *v, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	FUZZ_CHECK(f != NULL && fwrite(v, 1, n, f) == n && fclose(f) == 0);
}

static void seed_pending(const char *dir)
{
	static const char ev[] =
		"{\"__time\":\"2022-04-16T00:46:58.771Z\",\"id\":1}";
	unsigned char b[RECORD_HDR_LEN + sizeof(ev) + RECORD_SEAL_OVERHEAD];
	size_t n = RECORD_HDR_LEN + sizeof(ev) - 1;

	record_encode(b, FUZZ_NOW_MS, FUZZ_NOW_MS + 5, ev, sizeof(ev) - 1);
	put(dir, "pending", b, n);
	record_encode(b, -62167219200000, INT64_MAX, "{}", 2);
	put(dir, "pending-extreme-times", b, RECORD_HDR_LEN + 2);
	/* sealed: nonce, ciphertext, tag as the decoder sees them */
	record_encode_hdr(b, RECORD_F_SEALED, FUZZ_NOW_MS, FUZZ_NOW_MS,
			  sizeof(ev) - 1);
	for (size_t i = RECORD_HDR_LEN; i < sizeof(b); i++)
		b[i] = (unsigned char)(i * 37);
	record_finish(b, sizeof(b));
	put(dir, "pending-sealed", b, sizeof(b));
	record_encode(b, FUZZ_NOW_MS, FUZZ_NOW_MS, ev, sizeof(ev) - 1);
	b[1] = RECORD_F_GZIP;
	record_finish(b, n);
	put(dir, "pending-unknown-flag", b, n);
	b[1] = 0;
	b[0] = RECORD_VERSION + 1;
	record_finish(b, n);
	put(dir, "pending-newer-version", b, n);
	b[0] = RECORD_VERSION;
	b[n - 3] ^= 0x20;
	put(dir, "pending-bad-crc", b, n);
	put(dir, "pending-truncated", b, 20);
}

static void seed_dead(const char *dir)
{
	static const char ev[] = "{\"__time\":\"2022-04-16T00:46:58.771Z\"}";
	static const char ex[] = "{\"message\":\"invalid event\"}";
	unsigned char b[DEAD_HDR_LEN + sizeof(ex) + sizeof(ev) +
			RECORD_SEAL_OVERHEAD];
	char sealed[sizeof(ev) + RECORD_SEAL_OVERHEAD];
	struct dead_record d = {
		.r = { RECORD_VERSION, 0, FUZZ_NOW_MS, FUZZ_NOW_MS + 1, ev,
		       sizeof(ev) - 1 },
		.stream = 3, .seq = 77, .dead_ms = FUZZ_NOW_MS + 60000,
	};
	char name[64];

	for (unsigned r = 1; r <= DEAD_REASON_MAX; r++) {
		d.reason = r;
		d.status = r == DEAD_REJECTED ? 400 : r == DEAD_TOOBIG ? 413
								      : 0;
		d.excerpt = r == DEAD_REJECTED ? ex : NULL;
		d.excerpt_len = r == DEAD_REJECTED ? sizeof(ex) - 1 : 0;
		dead_record_encode(b, &d);
		snprintf(name, sizeof(name), "dead-%s", dead_reason_name(r));
		put(dir, name, b, dead_record_size(d.r.len, d.excerpt_len));
	}
	for (size_t i = 0; i < sizeof(sealed); i++)
		sealed[i] = (char)(i * 53);
	d.r.flags = RECORD_F_SEALED;
	d.r.data = sealed;
	dead_record_encode(b, &d);
	put(dir, "dead-sealed", b, dead_record_size(record_stored_len(&d.r),
						    d.excerpt_len));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_RECORD_SEEDS");
	unsigned char k[EVENT_KEY_LEN];

	(void)argc;
	(void)argv;
	if (dir == NULL)
		return 0;
	seed_pending(dir);
	seed_dead(dir);
	event_key(k, 3, 77);
	put(dir, "event-key", k, sizeof(k));
	exit(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *v;
	int64_t t;

	check_pending(data, size);
	check_to_open(data, size);
	check_dead(data, size);
	check_key(data, size);
	(void)record_peek_time(data, size, &t);
	if (size < 8)
		return 0;
	/* The same bytes with the CRC they need: a copy of exactly their
	 * size, so ASan sees a read past the end. */
	v = malloc(size);
	FUZZ_CHECK(v != NULL);
	memcpy(v, data, size);
	record_finish(v, size);
	check_pending(v, size);
	check_to_open(v, size);
	check_dead(v, size);
	free(v);
	return 0;
}
