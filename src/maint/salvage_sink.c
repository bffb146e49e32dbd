/*
 * salvage_sink.c - where both passes of `spoolship salvage` hand what they
 * find, and DST: every record checked again and queued for DST (written
 * in batches, a key once), the damaged ones listed, the stream rows and
 * meta of SRC merged, and at the end DST's stream rows and meta written
 * and each damaged key reported once.  It must never copy a record whose
 * header or CRC is unsound.
 *
 * The bottom of the salvage files: spool_salvage.c calls salvage_walk.c
 * and salvage_scan.c, all three call this file, and it calls none of
 * them (test 0011 checks it on the objects).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "array.h"
#include "salvage_int.h"

#ifndef META_ENC_KEY_ID
#define META_ENC_KEY_ID "enc_key_id" /* an encrypted spool's key id */
#endif

#define SINK_ITEMS 4096        /* records per DST transaction ... */
#define SINK_BYTES (16u << 20) /* ... or bytes */

/* ---- the state of one salvage ------------------------------------------- */

struct srow {
	char name[SPOOLSHIP_MAX_TABLE_LEN + 1];
	uint32_t id;
	uint64_t next_seq;
	int unnamed; /* made up for events whose stream row was lost */
};

struct bad {
	unsigned char key[EVENT_KEY_LEN];
	unsigned char klen;
	unsigned char dead;      /* 1: of the dead store */
	unsigned char from_tree; /* found by the walk (else by the scan) */
	char why[WHYLEN];
};

struct sink_item {
	unsigned char key[EVENT_KEY_LEN];
	unsigned char klen;
	unsigned char dead;
	size_t off, len;
};

/* Counters kept as they were: history of the spool (docs). */
static const char *const meta_keys[] = {
	META_CREATED, META_APPENDED, META_SHIPPED, META_EXPIRED, META_DEAD,
	META_REJECTED, META_DROPPED, META_REQUEUED, META_PURGED,
	META_FULL_HITS, META_NEXT_STREAM, META_NEXT_DEAD,
};
_Static_assert(sizeof(meta_keys) / sizeof(meta_keys[0]) == NMETA,
	       "NMETA (salvage_int.h) counts meta_keys");

static void vemit(struct ctx *x, enum salvage_kind kind, uint64_t page,
		  const char *fmt, va_list ap)
{
	struct salvage_problem p;
	char why[512];

	vsnprintf(why, sizeof(why), fmt, ap);
	if (kind == SALVAGE_BAD_PAGE)
		x->info->bad_pages++;
	if (x->fn == NULL)
		return;
	memset(&p, 0, sizeof(p));
	p.kind = kind;
	p.page = page;
	p.why = why;
	x->fn(x->arg, &p);
}

/* A note for the operator. */
__attribute__((format(printf, 2, 3)))
void salvage_note(struct ctx *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit(x, SALVAGE_NOTE, 0, fmt, ap);
	va_end(ap);
}

/* A page of data.mdb that could not be read (or only in part). */
__attribute__((format(printf, 3, 4)))
void salvage_bad_page(struct ctx *x, uint64_t pgno, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit(x, SALVAGE_BAD_PAGE, pgno, fmt, ap);
	va_end(ap);
}

/* ---- DST: the records, in batches --------------------------------------- */

static int sink_txn(spoolship_spool *s, MDB_txn *txn, void *arg)
{
	struct ctx *x = arg;

	x->t_events = x->t_dead = x->t_dups = 0;
	for (size_t i = 0; i < x->nit; i++) {
		struct sink_item *e = &x->it[i];
		MDB_val k = { e->klen, e->key };
		MDB_val v = { e->len, x->buf + e->off };
		int rc = mdb_put(txn, e->dead ? s->dead : s->events, &k, &v,
				 MDB_NOOVERWRITE);

		if (rc == MDB_KEYEXIST) { /* a second copy of the key */
			x->t_dups++;
			continue;
		}
		if (rc != 0)
			return spool_err(rc);
		if (e->dead)
			x->t_dead++;
		else
			x->t_events++;
	}
	return 0;
}

static int sink_flush(struct ctx *x)
{
	int rc;

	if (x->nit == 0)
		return 0;
	rc = spool_write(x->s, 0, sink_txn, x);
	if (rc != 0)
		return rc;
	x->info->events += x->t_events;
	x->info->dead += x->t_dead;
	x->info->duplicates += x->t_dups;
	x->nit = 0;
	x->buflen = 0;
	return 0;
}

/* Queues a sound record for DST (its bytes copied). */
static int sink_add(struct ctx *x, int dead, const void *key, size_t klen,
		    const void *v, size_t vlen)
{
	struct sink_item *e;
	int rc;

	if (x->nit >= SINK_ITEMS || x->buflen + vlen > SINK_BYTES) {
		if ((rc = sink_flush(x)) != 0)
			return rc;
	}
	if (array_grow((void **)&x->it, &x->itcap, x->nit + 1,
		       sizeof(*x->it)) != 0 ||
	    array_grow((void **)&x->buf, &x->bufcap, x->buflen + vlen, 1))
		return -ENOMEM;
	e = &x->it[x->nit++];
	memcpy(e->key, key, klen);
	e->klen = (unsigned char)klen;
	e->dead = (unsigned char)dead;
	e->off = x->buflen;
	e->len = vlen;
	memcpy(x->buf + x->buflen, v, vlen);
	x->buflen += vlen;
	return 0;
}

/* ---- what SRC says of itself: streams, meta, damaged records ------------ */

static struct srow *row_by_name(struct ctx *x, const char *name)
{
	for (size_t i = 0; i < x->nrows; i++)
		if (strcmp(x->rows[i].name, name) == 0)
			return &x->rows[i];
	return NULL;
}

static struct srow *row_by_id(struct ctx *x, uint32_t id)
{
	for (size_t i = 0; i < x->nrows; i++)
		if (x->rows[i].id == id)
			return &x->rows[i];
	return NULL;
}

static int row_add(struct ctx *x, const char *name, uint32_t id,
		   uint64_t next_seq, int unnamed)
{
	struct srow *r;

	if (array_grow((void **)&x->rows, &x->rowcap, x->nrows + 1,
		       sizeof(*x->rows)) != 0)
		return -ENOMEM;
	r = &x->rows[x->nrows++];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->id = id;
	r->next_seq = next_seq;
	r->unnamed = unnamed;
	return 0;
}

/* A stream row as found (the walk's first, then the scan's, which may
 * be stale: next_seq only grows, so the largest is kept).  A row that
 * disagrees with one already kept is noted and dropped. */
int salvage_merge_stream(struct ctx *x, const void *k, size_t klen,
			 const unsigned char *v, size_t vlen)
{
	char name[SPOOLSHIP_MAX_TABLE_LEN + 1];
	struct srow *byname, *byid;
	uint32_t id;
	uint64_t next;

	if (klen == 0 || klen > SPOOLSHIP_MAX_TABLE_LEN)
		return 0;
	memcpy(name, k, klen);
	name[klen] = '\0';
	if (!spoolship_table_name_ok(name) || vlen != STREAM_ROW_LEN) {
		x->info->bad_rows++;
		salvage_note(x, "a damaged stream row skipped (a name of "
			     "%zu bytes, a value of %zu)", klen, vlen);
		return 0;
	}
	id = get_be32(v);
	next = get_be64(v + 4);
	byname = row_by_name(x, name);
	byid = row_by_id(x, id);
	if (byname != NULL && byname == byid) {
		if (next > byname->next_seq)
			byname->next_seq = next;
		return 0;
	}
	if (byname != NULL || byid != NULL || id == 0) {
		x->info->bad_rows++;
		salvage_note(x, "a stream row '%s' with id %u disagrees "
			     "with the rows already found: skipped", name,
			     id);
		return 0;
	}
	return row_add(x, name, id, next, 0);
}

void salvage_merge_meta(struct ctx *x, const void *k, size_t klen,
		        const unsigned char *v, size_t vlen)
{
	if (klen == strlen(META_ENC_KEY_ID) &&
	    memcmp(k, META_ENC_KEY_ID, klen) == 0) {
		if (x->enc_have && (vlen != x->enclen ||
				    memcmp(v, x->enc, vlen) != 0)) {
			salvage_note(x, "two different values of meta %s "
				     "found: the first kept",
				     META_ENC_KEY_ID);
			return;
		}
		if (x->enc_have || (x->enc = malloc(vlen ? vlen : 1)) == NULL)
			return;
		memcpy(x->enc, v, vlen);
		x->enclen = vlen;
		x->enc_have = 1;
		return;
	}
	if (vlen != 8)
		return;
	if (klen == strlen(META_VERSION) &&
	    memcmp(k, META_VERSION, klen) == 0 &&
	    get_be64(v) > SPOOLSHIP_FORMAT_VERSION && !x->newer) {
		x->newer = 1;
		salvage_note(x, "SRC was written by a newer spoolship "
			     "(format %llu): its records of that format are "
			     "reported, not copied",
			     (unsigned long long)get_be64(v));
	}
	for (size_t i = 0; i < NMETA; i++) {
		uint64_t val = get_be64(v);

		if (klen != strlen(meta_keys[i]) ||
		    memcmp(k, meta_keys[i], klen) != 0)
			continue;
		/* Totals only grow: of stale copies the largest is the
		 * latest.  The creation time never changes. */
		if (!x->have_meta[i] ||
		    (strcmp(meta_keys[i], META_CREATED) != 0 &&
		     val > x->meta[i]))
			x->meta[i] = val;
		x->have_meta[i] = 1;
	}
}

/* Is key the name of a meta row that spoolship writes?  (The raw scan
 * tells the meta database's leaf pages by their keys.) */
int salvage_meta_name(const void *key, size_t klen)
{
	if (klen == strlen(META_VERSION) &&
	    memcmp(key, META_VERSION, klen) == 0)
		return 1;
	for (size_t i = 0; i < NMETA; i++)
		if (klen == strlen(meta_keys[i]) &&
		    memcmp(key, meta_keys[i], klen) == 0)
			return 1;
	return 0;
}

int salvage_bad_add(struct ctx *x, int dead, const void *key, size_t klen,
		    const char *why, int from_tree)
{
	struct bad *b;

	if (klen != (dead ? DEAD_KEY_LEN : EVENT_KEY_LEN)) {
		salvage_note(x, "%s: a key of %zu bytes skipped",
			     dead ? "dead" : "events", klen);
		return 0;
	}
	if (array_grow((void **)&x->bad, &x->badcap, x->nbad + 1,
		       sizeof(*x->bad)) != 0)
		return -ENOMEM;
	b = &x->bad[x->nbad++];
	memset(b, 0, sizeof(*b));
	memcpy(b->key, key, klen);
	b->klen = (unsigned char)klen;
	b->dead = (unsigned char)dead;
	b->from_tree = (unsigned char)from_tree;
	snprintf(b->why, sizeof(b->why), "%s", why);
	return 0;
}

static int bad_cmp(const void *a, const void *b)
{
	const struct bad *p = a, *q = b;
	int c;

	if (p->dead != q->dead)
		return p->dead - q->dead;
	c = memcmp(p->key, q->key, p->klen < q->klen ? p->klen : q->klen);
	if (c != 0)
		return c;
	if (p->klen != q->klen)
		return p->klen - q->klen;
	return q->from_tree - p->from_tree; /* the walk's first */
}

static int same_key(const struct bad *p, const struct bad *q)
{
	return p->dead == q->dead && p->klen == q->klen &&
	       memcmp(p->key, q->key, p->klen) == 0;
}

/* Is this key among the walk's damaged records (restricted scan)? */
int salvage_bad_wanted(const struct ctx *x, int dead, const void *key,
		       size_t klen)
{
	struct bad probe;

	if (klen > EVENT_KEY_LEN)
		return 0;
	memset(&probe, 0, sizeof(probe));
	memcpy(probe.key, key, klen);
	probe.klen = (unsigned char)klen;
	probe.dead = (unsigned char)dead;
	probe.from_tree = 1;
	return bsearch(&probe, x->bad, x->ntree_bad, sizeof(*x->bad),
		       bad_cmp) != NULL;
}

/* The walk's damaged keys, sorted: the restricted scan looks them up. */
void salvage_bad_restrict(struct ctx *x)
{
	qsort(x->bad, x->nbad, sizeof(*x->bad), bad_cmp);
	x->ntree_bad = x->nbad;
	x->restricted = 1;
}

/* ---- a record found, by either pass ------------------------------------- */

/* Checks a record found under key and queues it for DST, or notes it as
 * damaged (hint, when not empty, says what else looked wrong).  The
 * walk's records are checked again here: the child is the process that
 * read damaged pages. */
int salvage_take_record(struct ctx *x, int dead, const void *key,
		        size_t klen, const void *v, size_t vlen, int from_tree,
		        const char *hint)
{
	char why[WHYLEN], full[2 * WHYLEN + 4];
	struct dead_record d;
	struct record r;
	int rc;

	if (x->restricted && !salvage_bad_wanted(x, dead, key, klen))
		return 0;
	if (klen != (dead ? DEAD_KEY_LEN : EVENT_KEY_LEN))
		return salvage_bad_add(x, dead, key, klen, "", from_tree);
	if (dead)
		rc = dead_record_decode(v, vlen, &d, why, sizeof(why));
	else
		rc = record_decode(v, vlen, &r, why, sizeof(why));
	if (rc == 0)
		return sink_add(x, dead, key, klen, v, vlen);
	if (hint != NULL && hint[0] != '\0') {
		snprintf(full, sizeof(full), "%s (%s)", why, hint);
		return salvage_bad_add(x, dead, key, klen, full, from_tree);
	}
	return salvage_bad_add(x, dead, key, klen, why, from_tree);
}

int salvage_dst_open(const char *dst, int existed, uint64_t src_bytes,
		     spoolship_spool **s)
{
	struct spoolship_options o;

	spoolship_options_init(&o);
	o.sync = SPOOLSHIP_SYNC_NONE; /* synced once, at the close */
	o.max_age_ms = 0;
	/* Room for everything SRC holds, whatever budget it had. */
	if (o.max_bytes < src_bytes * 2 + (64u << 20))
		o.max_bytes = src_bytes * 2 + (64u << 20);
	if (existed && chmod(dst, 0700) != 0)
		return -errno;
	return spoolship_spool_open(dst, &o, s);
}

/* ---- the end: stream rows, meta, the damaged records -------------------- */

/* The streams DST's records belong to, as finish_txn tallies them. */
struct tallies {
	struct stream_tallies t;
	uint64_t last_dead; /* the last dead sequence */
};

static int tally_event(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct tallies *ts = arg;
	struct stream_tally *e;
	uint32_t id;
	uint64_t seq;

	if (event_key_parse(k->mv_data, k->mv_size, &id, &seq) != 0 ||
	    d->mv_size < RECORD_HDR_LEN)
		return 0; /* never: only checked records went in */
	if ((e = stream_tally_of(&ts->t, id)) == NULL)
		return -ENOMEM;
	e->events++;
	/* Stored payload bytes, as the append path counts them (a sealed
	 * record's nonce and tag included). */
	e->bytes += d->mv_size - RECORD_HDR_LEN;
	e->max_seq = seq; /* keys sorted */
	return 0;
}

/* The last dead sequence, and the streams dead events came from (their
 * rows are kept or made up too: a requeue needs them). */
static int tally_dead(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct tallies *ts = arg;
	uint32_t id;

	if (k->mv_size != DEAD_KEY_LEN || d->mv_size < DEAD_HDR_LEN)
		return 0; /* never: only checked records went in */
	ts->last_dead = get_be64(k->mv_data);
	id = get_be32((unsigned char *)d->mv_data + 28);
	return stream_tally_of(&ts->t, id) == NULL ? -ENOMEM : 0;
}

/* A name for events whose stream row was lost. */
static int name_unnamed(struct ctx *x, uint32_t id)
{
	char name[64];

	snprintf(name, sizeof(name), "salvaged-%u", id);
	for (unsigned i = 2; row_by_name(x, name) != NULL; i++)
		snprintf(name, sizeof(name), "salvaged-%u-%u", id, i);
	return row_add(x, name, id, 0, 1);
}

static int write_rows(struct ctx *x, MDB_txn *txn,
		      const struct stream_tally *t, size_t nt, uint32_t *max_id)
{
	int rc;

	for (size_t i = 0; i < nt; i++)
		if (row_by_id(x, t[i].id) == NULL &&
		    (rc = name_unnamed(x, t[i].id)) != 0)
			return rc;
	*max_id = 0;
	for (size_t i = 0; i < x->nrows; i++) {
		struct srow *r = &x->rows[i];
		struct stream_row row = { r->id, r->next_seq, 0, 0 };

		for (size_t j = 0; j < nt; j++) {
			if (t[j].id != r->id)
				continue;
			row.pending_events = t[j].events;
			row.pending_bytes = t[j].bytes;
			if (row.next_seq <= t[j].max_seq)
				row.next_seq = t[j].max_seq + 1;
		}
		if (row.next_seq == 0)
			row.next_seq = 1;
		if (r->id > *max_id)
			*max_id = r->id;
		if ((rc = stream_put(x->s, txn, r->name, &row)) != 0)
			return rc;
	}
	return 0;
}

static int write_meta(struct ctx *x, MDB_txn *txn, uint32_t max_id,
		      uint64_t last_dead)
{
	int rc;

	for (size_t i = 0; i < NMETA; i++) {
		uint64_t v = x->have_meta[i] ? x->meta[i] : 0;

		/* Never hand out an id or a dead sequence again. */
		if (strcmp(meta_keys[i], META_NEXT_STREAM) == 0 &&
		    v <= max_id)
			v = (uint64_t)max_id + 1;
		if (strcmp(meta_keys[i], META_NEXT_DEAD) == 0 &&
		    v <= last_dead)
			v = last_dead + 1;
		if (v == 0 && !x->have_meta[i])
			continue;
		if ((rc = meta_set(x->s, txn, meta_keys[i], v)) != 0)
			return rc;
	}
	if (x->enc_have) {
		MDB_val k = { strlen(META_ENC_KEY_ID), META_ENC_KEY_ID };
		MDB_val v = { x->enclen, x->enc };

		if ((rc = mdb_put(txn, x->s->meta, &k, &v, 0)) != 0)
			return spool_err(rc);
	}
	return 0;
}

static int finish_txn(spoolship_spool *s, MDB_txn *txn, void *arg)
{
	struct ctx *x = arg;
	struct tallies ts = { { NULL, 0, 0 }, 0 };
	uint32_t max_id;
	int rc;

	if ((rc = spool_db_each(txn, s->events, tally_event, &ts)) == 0 &&
	    (rc = spool_db_each(txn, s->dead, tally_dead, &ts)) == 0 &&
	    (rc = write_rows(x, txn, ts.t.v, ts.t.n, &max_id)) == 0)
		rc = write_meta(x, txn, max_id, ts.last_dead);
	free(ts.t.v);
	return rc;
}

static int in_dst(struct ctx *x, MDB_txn *txn, const struct bad *b)
{
	MDB_val k = { b->klen, (void *)b->key }, d;

	return mdb_get(txn, b->dead ? x->s->dead : x->s->events, &k, &d) == 0;
}

/* Reports each damaged key once: lost when DST has no sound copy of it,
 * recovered when the walk's damaged record was found sound elsewhere;
 * a damaged stale copy of a key that DST has is no news. */
static int bad_resolve(struct ctx *x)
{
	struct salvage_problem p;
	MDB_txn *txn;
	int rc;

	if (x->nbad == 0)
		return 0;
	qsort(x->bad, x->nbad, sizeof(*x->bad), bad_cmp);
	if ((rc = spool_txn_begin(x->s, 1, &txn)) != 0)
		return rc;
	for (size_t i = 0; i < x->nbad; i++) {
		const struct bad *b = &x->bad[i];
		const struct srow *r;

		if (i > 0 && same_key(&x->bad[i - 1], b))
			continue; /* the same key again */
		memset(&p, 0, sizeof(p));
		p.why = b->why;
		if (in_dst(x, txn, b)) {
			if (!b->from_tree)
				continue;
			p.kind = SALVAGE_RECOVERED;
			x->info->recovered++;
		} else {
			p.kind = b->dead ? SALVAGE_BAD_DEAD
					 : SALVAGE_BAD_EVENT;
			x->info->bad_records++;
		}
		if (b->dead) {
			p.seq = get_be64(b->key);
		} else {
			event_key_parse(b->key, b->klen, &p.stream, &p.seq);
			r = row_by_id(x, p.stream);
			p.table = r != NULL ? r->name : NULL;
		}
		if (x->fn != NULL)
			x->fn(x->arg, &p);
	}
	spool_txn_abort(x->s, txn);
	return 0;
}

static void notes_after(struct ctx *x)
{
	for (size_t i = 0; i < x->nrows; i++) {
		if (!x->rows[i].unnamed)
			continue;
		x->info->bad_rows++;
		salvage_note(x, "the row of stream id %u was lost: its "
			     "events are in stream %s", x->rows[i].id,
			     x->rows[i].name);
	}
	if (x->info->scanned)
		salvage_note(x, "a raw scan reads free pages too: events "
			     "that were already delivered may be back (%llu "
			     "second copies skipped)",
			     (unsigned long long)x->info->duplicates);
}

/* The last batch, then stream rows and meta, then the damaged keys. */
int salvage_sink_finish(struct ctx *x)
{
	int rc;

	if ((rc = sink_flush(x)) != 0 ||
	    (rc = spool_write(x->s, 0, finish_txn, x)) != 0 ||
	    (rc = bad_resolve(x)) != 0)
		return rc;
	x->info->streams = x->nrows;
	notes_after(x);
	return 0;
}

void salvage_sink_free(struct ctx *x)
{
	free(x->it);
	free(x->buf);
	free(x->rows);
	free(x->bad);
	free(x->enc);
}
