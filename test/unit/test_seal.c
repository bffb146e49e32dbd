/*
 * test_seal.c - encryption at rest: the key file's checks, events sealed
 * on disk and opened on the way out, a wrong or missing key named as such,
 * tampering found by the tag even when the CRC was recomputed.
 */
#define _GNU_SOURCE /* memmem */
#include "spool_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seal.h"

#define MARK "SEALTEST_PLAINTEXT_MARKER"

static void key_path(struct fixture *f, const char *name, char *out)
{
	/* Beside, not inside, the spool directory. */
	snprintf(out, 4200, "%s.%s", f->dir, name);
}

/* The two keys every test gets: DIR.k1 and DIR.k2. */
static const char *key(struct fixture *f, int which)
{
	static char paths[2][4200];

	key_path(f, which == 1 ? "k1" : "k2", paths[which - 1]);
	return paths[which - 1];
}

static int setup_keys(void **state)
{
	struct fixture *f;

	setup(state);
	f = *state;
	assert_int_equal(spoolship_key_generate(key(f, 1), NULL, 0), 0);
	assert_int_equal(spoolship_key_generate(key(f, 2), NULL, 0), 0);
	return 0;
}

static int teardown_keys(void **state)
{
	struct fixture *f = *state;

	unlink(key(f, 1));
	unlink(key(f, 2));
	return teardown(state);
}

static int open_with(struct fixture *f, const char *key, int readonly)
{
	struct spoolship_options o;

	spoolship_options_init(&o);
	o.key_file = key;
	o.readonly = readonly;
	if (f->s != NULL)
		spoolship_spool_close(f->s);
	f->s = NULL;
	return spoolship_spool_open(f->dir, &o, &f->s);
}

static void append_marked(struct fixture *f, long first, size_t n)
{
	char ev[256];

	for (size_t i = 0; i < n; i++) {
		char t[VALIDATE_TIME_LEN + 1];
		int len;

		validate_time_format(clock_wall_ms(), t);
		len = snprintf(ev, sizeof(ev), "{\"__time\":\"%s\",\"id\":%ld,"
			       "\"m\":\"" MARK "\"}", t, first + (long)i);
		assert_int_equal(spoolship_append(f->s, "t", ev, (size_t)len,
						  NULL, 0), 0);
	}
}

/* 1 when the data file holds the marker in the clear. */
static int file_has_marker(struct fixture *f)
{
	char path[4200], *buf;
	struct stat st;
	FILE *fp;
	int found = 0;

	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	assert_int_equal(stat(path, &st), 0);
	buf = malloc((size_t)st.st_size);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(buf, 1, (size_t)st.st_size, fp),
			 (size_t)st.st_size);
	fclose(fp);
	for (off_t i = 0; i + (off_t)strlen(MARK) <= st.st_size; i++)
		if (memcmp(buf + i, MARK, strlen(MARK)) == 0) {
			found = 1;
			break;
		}
	free(buf);
	return found;
}

static void no_problem(void *arg, const char *db, const char *key,
		       const char *why)
{
	int *n = arg;

	(void)db;
	(void)key;
	if (strstr(why, "authentication") != NULL)
		(*n)++;
}

static void test_key_file_checks(void **state)
{
	struct fixture *f = *state;
	char path[4200], why[300];
	unsigned char buf[40] = { 0 };
	struct stat st;
	int fd;

	key_path(f, "k3", path);
	assert_int_equal(spoolship_key_generate(path, why, sizeof(why)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, SEAL_KEY_LEN);
	/* Never overwritten. */
	assert_int_equal(spoolship_key_generate(path, why, sizeof(why)),
			 -EEXIST);
	assert_int_equal(spoolship_key_check(path, why, sizeof(why)), 0);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(spoolship_key_check(path, why, sizeof(why)), 0);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(spoolship_key_check(path, why, sizeof(why)),
			 SPOOLSHIP_EKEY);
	assert_non_null(strstr(why, "mode 0640"));
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(spoolship_key_check(path, why, sizeof(why)),
			 SPOOLSHIP_EKEY);
	assert_int_equal(chmod(path, 0600), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 4242, 4242), 0);
		assert_int_equal(spoolship_key_check(path, why, sizeof(why)),
				 SPOOLSHIP_EKEY);
		assert_non_null(strstr(why, "belongs to uid 4242"));
		assert_int_equal(chown(path, 0, 0), 0);
	}
	/* Too short, too long. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, 31), 31);
	close(fd);
	assert_int_equal(spoolship_key_check(path, why, sizeof(why)),
			 SPOOLSHIP_EKEY);
	assert_non_null(strstr(why, "fewer than 32"));
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, buf, 33), 33);
	close(fd);
	assert_int_equal(spoolship_key_check(path, why, sizeof(why)),
			 SPOOLSHIP_EKEY);
	assert_non_null(strstr(why, "more than 32"));
	/* A symlink is not followed; a missing file is named. */
	{
		char link[4300];

		snprintf(link, sizeof(link), "%s.lnk", path);
		assert_int_equal(symlink(path, link), 0);
		assert_int_equal(spoolship_key_check(link, why, sizeof(why)),
				 SPOOLSHIP_EKEY);
		unlink(link);
	}
	unlink(path);
	assert_int_equal(spoolship_key_check(path, why, sizeof(why)),
			 SPOOLSHIP_EKEY);
	assert_non_null(strstr(why, path));
	/* A spool opened with an unusable key is refused. */
	assert_int_equal(open_with(f, path, 0), SPOOLSHIP_EKEY);
}

static void test_sealed_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct spool_batch b;
	uint64_t records, bad;
	int auth = 0;

	assert_int_equal(open_with(f, key(f, 1), 0), 0);
	append_marked(f, 1, 20);
	assert_int_equal(spoolship_spool_sync(f->s), 0);
	assert_false(file_has_marker(f));
	memset(&b, 0, sizeof(b));
	assert_int_equal(spool_batch_next(f->s, stream_id(f, "t"), 0, 60,
					  1000000, &b), 0);
	assert_int_equal(b.n, 20);
	assert_non_null(strstr(b.body, MARK));
	assert_non_null(strstr(b.body, "\"id\":20,"));
	spool_batch_free(&b);
	assert_int_equal(spool_verify(f->s, no_problem, &auth, &records,
				      &bad), 0);
	assert_int_equal(records, 20);
	assert_int_equal(bad, 0);
	assert_int_equal(auth, 0);
}

static void test_wrong_or_missing_key(void **state)
{
	struct fixture *f = *state;
	struct spool_batch b;

	assert_int_equal(open_with(f, key(f, 1), 0), 0);
	append_marked(f, 1, 3);
	assert_int_equal(open_with(f, key(f, 2), 0), SPOOLSHIP_EKEYWRONG);
	assert_int_equal(open_with(f, key(f, 2), 1), SPOOLSHIP_EKEYWRONG);
	/* Writing without the key would add events in the clear. */
	assert_int_equal(open_with(f, NULL, 0), SPOOLSHIP_EKEYNEEDED);
	/* Reading counters is fine; reading an event is not. */
	assert_int_equal(open_with(f, NULL, 1), 0);
	memset(&b, 0, sizeof(b));
	assert_int_equal(spool_batch_next(f->s, stream_id(f, "t"), 0, 60,
					  1000000, &b), SPOOLSHIP_EKEYNEEDED);
	assert_int_equal(b.n, 0);
	spool_batch_free(&b);
	assert_int_equal(open_with(f, key(f, 1), 0), 0);
}

/* Flips bit (at % 8) of byte at of record seq of stream t; with crc, then
 * writes a fresh CRC, as an attacker who knows the format would. */
static void flip(struct fixture *f, uint64_t seq, size_t at, int crc)
{
	unsigned char key[EVENT_KEY_LEN], *copy;
	MDB_val k = { sizeof(key), key }, d;
	MDB_txn *txn;

	event_key(key, stream_id(f, "t"), seq);
	assert_int_equal(spool_txn_begin(f->s, 0, &txn), 0);
	assert_int_equal(mdb_get(txn, f->s->events, &k, &d), 0);
	copy = malloc(d.mv_size);
	memcpy(copy, d.mv_data, d.mv_size);
	assert_true(at < d.mv_size);
	copy[at] ^= (unsigned char)(1u << (at % 8));
	if (crc)
		record_finish(copy, d.mv_size);
	d.mv_data = copy;
	assert_int_equal(mdb_put(txn, f->s->events, &k, &d, 0), 0);
	assert_int_equal(spool_txn_commit(f->s, txn), 0);
	free(copy);
}

static void tamper(struct fixture *f, uint64_t seq, size_t at)
{
	flip(f, seq, at, 1);
}

static void test_tamper_found(void **state)
{
	struct fixture *f = *state;
	struct spool_batch b;
	uint64_t records, bad;
	int auth = 0;

	assert_int_equal(open_with(f, key(f, 1), 0), 0);
	append_marked(f, 1, 4);
	/* A ciphertext byte of the 2nd, the event time of the 3rd (the
	 * header is associated data): both pass the CRC, fail the tag. */
	tamper(f, 2, RECORD_HDR_LEN + SEAL_NONCE_LEN + 3);
	tamper(f, 3, 15);
	assert_int_equal(spool_verify(f->s, no_problem, &auth, &records,
				      &bad), 0);
	assert_int_equal(bad, 2);
	assert_int_equal(auth, 2);
	/* The reader stops before a tampered event and hands it over
	 * alone to be dead-lettered; the plaintext is never shipped. */
	memset(&b, 0, sizeof(b));
	assert_int_equal(spool_batch_next(f->s, stream_id(f, "t"), 0, 60,
					  1000000, &b), 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(spool_batch_next(f->s, stream_id(f, "t"), 1, 60,
					  1000000, &b), SPOOLSHIP_ECORRUPT);
	assert_int_equal(b.corrupt_seq, 2);
	spool_batch_free(&b);
}

/* The batch reader leaves a sealed record's CRC to its tag (record.h):
 * every flipped bit still stops it before the record, but one in the CRC
 * field, where the event is intact and ships as it was appended. */
static void test_reader_finds_every_flipped_bit(void **state)
{
	struct fixture *f = *state;
	struct spool_batch b, want;
	size_t size;

	assert_int_equal(open_with(f, key(f, 1), 0), 0);
	append_marked(f, 1, 2);
	memset(&b, 0, sizeof(b));
	memset(&want, 0, sizeof(want));
	assert_int_equal(spool_batch_next(f->s, stream_id(f, "t"), 0, 60,
					  1000000, &want), 0);
	assert_int_equal(want.n, 2);
	size = RECORD_HDR_LEN + want.recs[0].len + RECORD_SEAL_OVERHEAD;
	for (size_t at = 0; at < size; at++) {
		int rc;

		flip(f, 1, at, 0);
		rc = spool_batch_next(f->s, stream_id(f, "t"), 0, 60, 1000000,
				      &b);
		if (at >= 4 && at < 8) {
			assert_int_equal(rc, 0);
			assert_int_equal(b.n, 2);
			assert_int_equal(b.body_len, want.body_len);
			assert_memory_equal(b.body, want.body, b.body_len);
		} else {
			assert_int_equal(rc, SPOOLSHIP_ECORRUPT);
			assert_int_equal(b.n, 0);
			assert_int_equal(b.corrupt_seq, 1);
		}
		flip(f, 1, at, 0);
	}
	spool_batch_free(&b);
	spool_batch_free(&want);
}

static void test_nonces_differ(void **state)
{
	struct fixture *f = *state;
	unsigned char kb[EVENT_KEY_LEN], n1[SEAL_NONCE_LEN];
	MDB_val k = { sizeof(kb), kb }, d;
	MDB_txn *txn;
	char ev[128];
	size_t len = tu_event(ev, sizeof(ev), 7, 4);

	assert_int_equal(open_with(f, key(f, 1), 0), 0);
	/* The same event twice, and once more from another handle. */
	assert_int_equal(spoolship_append(f->s, "t", ev, len, NULL, 0), 0);
	assert_int_equal(spoolship_append(f->s, "t", ev, len, NULL, 0), 0);
	assert_int_equal(open_with(f, key(f, 1), 0), 0);
	assert_int_equal(spoolship_append(f->s, "t", ev, len, NULL, 0), 0);
	assert_int_equal(spool_txn_begin(f->s, 1, &txn), 0);
	for (uint64_t seq = 1; seq <= 3; seq++) {
		event_key(kb, stream_id(f, "t"), seq);
		assert_int_equal(mdb_get(txn, f->s->events, &k, &d), 0);
		assert_int_equal(d.mv_size, RECORD_HDR_LEN + len +
					    SEAL_OVERHEAD);
		if (seq == 1)
			memcpy(n1, (char *)d.mv_data + RECORD_HDR_LEN,
			       sizeof(n1));
		else
			assert_memory_not_equal(n1, (char *)d.mv_data +
						RECORD_HDR_LEN, sizeof(n1));
	}
	spool_txn_abort(f->s, txn);
}

static int count_marked(void *arg, uint64_t dseq,
			const struct dead_record *d, const char *table)
{
	int *n = arg;

	(void)dseq;
	(void)table;
	if (memmem(d->r.data, d->r.len, MARK, strlen(MARK)) != NULL)
		(*n)++;
	return 0;
}

static void test_dead_and_requeue_stay_sealed(void **state)
{
	struct fixture *f = *state;
	struct dead_info di = { DEAD_REJECTED, 400, "bad", 3 };
	uint64_t seqs[] = { 1, 2 }, moved, refused;
	struct spool_batch b;
	int shown = 0;

	assert_int_equal(open_with(f, key(f, 1), 0), 0);
	append_marked(f, 1, 2);
	assert_int_equal(spool_dead_move(f->s, stream_id(f, "t"), seqs, 2,
					 &di, &moved), 0);
	assert_int_equal(moved, 2);
	assert_int_equal(spoolship_spool_sync(f->s), 0);
	assert_int_equal(spool_dead_walk(f->s, count_marked, &shown), 0);
	assert_int_equal(shown, 2);
	assert_int_equal(spool_dead_requeue(f->s, NULL, NULL, NULL, &moved,
					    &refused), 0);
	assert_int_equal(moved, 2);
	assert_int_equal(refused, 0);
	assert_int_equal(spoolship_spool_sync(f->s), 0);
	memset(&b, 0, sizeof(b));
	assert_int_equal(spool_batch_next(f->s, stream_id(f, "t"), 0, 60,
					  1000000, &b), 0);
	assert_int_equal(b.n, 2);
	assert_non_null(strstr(b.body, MARK));
	spool_batch_free(&b);
	/* Only freed pages could still hold the marker; live records are
	 * sealed (checked through verify: all authenticate). */
	{
		uint64_t records, bad;
		int auth = 0;

		assert_int_equal(spool_verify(f->s, no_problem, &auth,
					      &records, &bad), 0);
		assert_int_equal(bad, 0);
	}
}

static void test_clear_then_sealed(void **state)
{
	struct fixture *f = *state;
	struct spool_batch b;

	assert_int_equal(open_with(f, NULL, 0), 0);
	append_marked(f, 1, 2);
	assert_int_equal(open_with(f, key(f, 1), 0), 0);
	append_marked(f, 3, 2);
	/* Once a key was used, the spool wants it. */
	assert_int_equal(open_with(f, NULL, 0), SPOOLSHIP_EKEYNEEDED);
	assert_int_equal(open_with(f, key(f, 1), 1), 0);
	memset(&b, 0, sizeof(b));
	assert_int_equal(spool_batch_next(f->s, stream_id(f, "t"), 0, 60,
					  1000000, &b), 0);
	assert_int_equal(b.n, 4);
	assert_non_null(strstr(b.body, "\"id\":1,"));
	assert_non_null(strstr(b.body, "\"id\":4,"));
	spool_batch_free(&b);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_keys, teardown_keys)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_key_file_checks),
		T(test_sealed_roundtrip),
		T(test_wrong_or_missing_key),
		T(test_tamper_found),
		T(test_reader_finds_every_flipped_bit),
		T(test_nonces_differ),
		T(test_dead_and_requeue_stay_sealed),
		T(test_clear_then_sealed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
