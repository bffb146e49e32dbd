/*
 * spool_append.c - the library's appends: validate, then one request
 * through the commit pipeline (spool_commit.c); and the disk budget's
 * policy that pipeline's txns run under when the map is full.  An
 * append that returns 0 is committed; nothing here ever deletes an event
 * except drop_oldest, which counts each one.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "spool.h"
#include "spool_commit.h"
#include "validate.h"

/* ---- drop_oldest ------------------------------------------------------ */

struct drop_job {
	uint64_t need;  /* bytes of values to free */
	uint64_t dropped;
};

/* Finds the stream whose first pending event was appended earliest. */
static int oldest_stream(spoolship_spool *s, MDB_txn *txn, uint32_t *id)
{
	MDB_cursor *c;
	MDB_val k, d;
	int64_t best = INT64_MAX;
	int rc = mdb_cursor_open(txn, s->events, &c), found = 0;

	if (rc != 0)
		return spool_err(rc);
	rc = mdb_cursor_get(c, &k, &d, MDB_FIRST);
	while (rc == 0) {
		uint32_t sid;
		uint64_t seq;
		unsigned char next[EVENT_KEY_LEN];
		struct record r;

		if (event_key_parse(k.mv_data, k.mv_size, &sid, &seq) != 0)
			break;
		if (record_decode(d.mv_data, d.mv_size, &r, NULL, 0) != 0)
			r.append_ms = INT64_MIN; /* a bad record goes first */
		if (r.append_ms < best) {
			best = r.append_ms;
			*id = sid;
			found = 1;
		}
		if (sid == UINT32_MAX)
			break;
		event_key(next, sid + 1, 0);
		k.mv_size = sizeof(next);
		k.mv_data = next;
		rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE);
	}
	mdb_cursor_close(c);
	return found ? 0 : SPOOLSHIP_ENOTFOUND;
}

static int drop_txn(spoolship_spool *s, MDB_txn *txn, void *arg)
{
	struct drop_job *j = arg;
	unsigned char key[EVENT_KEY_LEN];
	uint64_t freed = 0, n = 0, bytes = 0;
	uint32_t id = 0, sid;
	uint64_t seq;
	MDB_cursor *c;
	MDB_val k = { sizeof(key), key }, d;
	int rc = oldest_stream(s, txn, &id);

	if (rc != 0)
		return rc;
	rc = mdb_cursor_open(txn, s->events, &c);
	if (rc != 0)
		return spool_err(rc);
	event_key(key, id, 0);
	rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE);
	while (rc == 0 && freed < j->need && n < 65536 &&
	       event_key_parse(k.mv_data, k.mv_size, &sid, &seq) == 0 &&
	       sid == id) {
		freed += d.mv_size + k.mv_size;
		bytes += d.mv_size > RECORD_HDR_LEN ?
				 d.mv_size - RECORD_HDR_LEN : 0;
		n++;
		rc = mdb_cursor_del(c, 0);
		if (rc == 0) { /* re-seek: see del_range in spool_batch.c */
			event_key(key, id, seq + 1);
			k.mv_size = sizeof(key);
			k.mv_data = key;
			rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE);
		}
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return spool_err(rc);
	j->dropped = n;
	if ((rc = stream_sub_pending(s, txn, id, n, bytes)) != 0)
		return rc;
	return meta_add(s, txn, META_DROPPED, n);
}

/* ---- the policy loop ---------------------------------------------------- */

/* LMDB reuses a page only two txns after the one that freed it (the
 * previous snapshot must survive a crash).  When a full map is met, one
 * small txn makes the space of the latest deletes usable, and counts the
 * event. */
static int nudge_txn(spoolship_spool *s, MDB_txn *txn, void *arg)
{
	(void)arg;
	return meta_add(s, txn, META_FULL_HITS, 1);
}

int spool_write_policy(spoolship_spool *s, uint64_t need, spool_txn_fn *fn,
		       void *arg)
{
	int64_t deadline = -1;
	unsigned wait_ms = 5;
	int rc;

	for (int round = 0;; round++) {
		rc = spool_write_need(s, 0, need, fn, arg);
		if (rc != SPOOLSHIP_ESPOOL_FULL)
			return rc;
		rc = spool_write(s, 1, nudge_txn, NULL);
		if (rc != 0)
			return rc;
		rc = spool_write_need(s, 0, need, fn, arg);
		if (rc != SPOOLSHIP_ESPOOL_FULL)
			return rc;
		if (s->o.full_policy == SPOOLSHIP_FULL_DROP_OLDEST) {
			struct drop_job dj = { need, 0 };

			if (round >= 1024)
				return SPOOLSHIP_ESPOOL_FULL;
			rc = spool_write(s, 1, drop_txn, &dj);
			if (rc == SPOOLSHIP_ENOTFOUND)
				return SPOOLSHIP_ESPOOL_FULL; /* it alone is
								* too big */
			if (rc != 0)
				return rc;
		} else if (s->o.full_policy == SPOOLSHIP_FULL_BLOCK) {
			int64_t now = clock_mono_ms();
			struct timespec ts = { 0, (long)wait_ms * 1000000L };

			if (deadline < 0)
				deadline = now + s->o.block_timeout_ms;
			if (now >= deadline)
				return SPOOLSHIP_ESPOOL_FULL;
			/* No cross-process signal says "space freed": poll,
			 * backing off to 200 ms. */
			nanosleep(&ts, NULL);
			wait_ms = wait_ms * 2 > 200 ? 200 : wait_ms * 2;
		} else {
			return SPOOLSHIP_ESPOOL_FULL;
		}
	}
}

/* One request through the commit pipeline (spool_commit.c). */
int spool_append_items(spoolship_spool *s, const char *table,
		       const struct spool_item *it, size_t n,
		       uint64_t extra_rejected)
{
	struct spool_commit_req r = { 0 };
	int rc;

	if (!spoolship_table_name_ok(table))
		return SPOOLSHIP_EINVAL;
	if (s->o.readonly)
		return SPOOLSHIP_EREADONLY;
	r.table = table;
	r.it = it;
	r.n = n;
	r.rejected = extra_rejected;
	rc = spool_commit_run(s, &r, NULL);
	spool_commit_req_free(&r);
	return rc;
}

/* ---- the public entry points ------------------------------------------- */

void spool_validate_opts(spoolship_spool *s, struct validate_opts *vo)
{
	vo->now_ms = clock_wall_ms();
	vo->max_age_ms = spool_max_age(s);
	vo->fill_time = s->o.fill_time;
	vo->max_bytes = SPOOLSHIP_MAX_EVENT_BYTES;
}

int spoolship_append(spoolship_spool *s, const char *table, const char *event,
		     size_t len, char *errbuf, size_t errlen)
{
	struct validate_opts vo;
	struct spool_item it;
	char *buf;
	size_t outlen;
	int rc;

	if (s == NULL || table == NULL || (event == NULL && len > 0))
		return SPOOLSHIP_EINVAL;
	if (!spoolship_table_name_ok(table))
		return SPOOLSHIP_EINVAL;
	buf = malloc(len + VALIDATE_SLACK);
	if (buf == NULL)
		return -ENOMEM;
	spool_validate_opts(s, &vo);
	rc = validate_event(event, len, &vo, buf, len + VALIDATE_SLACK, &outlen,
			    &it.event_ms, errbuf, errlen);
	if (rc != 0) {
		spool_count_rejected(s, 1);
		goto out;
	}
	it.data = buf;
	it.len = outlen;
	rc = spool_append_items(s, table, &it, 1, 0);
out:
	free(buf);
	return rc;
}

int spoolship_append_many(spoolship_spool *s, const char *table,
			  const struct spoolship_event *ev, size_t n,
			  unsigned flags, spoolship_reject_fn *on_reject,
			  void *arg, size_t *accepted)
{
	struct validate_opts vo;
	struct spool_item *it = NULL;
	char *arena = NULL, why[256];
	size_t total = 0, off = 0, ok = 0;
	uint64_t bad = 0;
	int rc = 0;

	if (accepted != NULL)
		*accepted = 0;
	if (s == NULL || table == NULL || (ev == NULL && n > 0) ||
	    !spoolship_table_name_ok(table))
		return SPOOLSHIP_EINVAL;
	for (size_t i = 0; i < n; i++)
		total += ev[i].len + VALIDATE_SLACK;
	it = malloc((n ? n : 1) * sizeof(*it));
	arena = malloc(total ? total : 1);
	if (it == NULL || arena == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	spool_validate_opts(s, &vo);
	for (size_t i = 0; i < n; i++) {
		size_t cap = ev[i].len + VALIDATE_SLACK, len;
		int vr = validate_event(ev[i].data, ev[i].len, &vo, arena + off,
					cap, &len, &it[ok].event_ms, why,
					sizeof(why));

		if (vr != 0) {
			bad++;
			if (on_reject != NULL)
				on_reject(arg, i, vr, why);
			if (flags & SPOOLSHIP_ALL_OR_NOTHING) {
				spool_count_rejected(s, bad);
				rc = vr;
				goto out;
			}
			continue;
		}
		it[ok].data = arena + off;
		it[ok].len = len;
		ok++;
		off += len;
	}
	rc = spool_append_items(s, table, it, ok, bad);
	if (rc == 0 && accepted != NULL)
		*accepted = ok;
out:
	free(it);
	free(arena);
	return rc;
}
