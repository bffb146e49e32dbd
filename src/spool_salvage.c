/*
 * spool_salvage.c - `spoolship salvage SRC DST`: copy every sound record
 * of a damaged spool into a new one.  It must never write to SRC (not
 * even lock.mdb), never trust a page of SRC, and never lose a record
 * whose header and CRC are sound.
 *
 * Two passes.  The tree walk reads SRC through LMDB cursors in a child
 * process, since LMDB trusts page pointers and a damaged page can crash
 * it; the child streams what it reads to the parent over a pipe, and
 * the parent, which alone writes DST, checks every record again.  When
 * the walk fails, or reaches fewer records than LMDB counted, the raw
 * scan reads data.mdb page by page with pread(2) (never mapped), takes
 * the leaf pages of the spool's databases and follows their overflow
 * pages.  It sees free pages too, so it may find stale copies of
 * records: a key is copied once (all copies of a key hold the same
 * bytes), and events that were already delivered may come back.
 */
#define _DEFAULT_SOURCE /* flock, strsignal */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "array.h"
#include "errf.h"
#include "durable.h"
#include "salvage.h"
#include "spool.h"

#ifndef META_ENC_KEY_ID
#define META_ENC_KEY_ID "enc_key_id" /* an encrypted spool's key id */
#endif

#define PATHLEN 4096
#define VALUE_MAX (8u << 20)   /* larger than any record spoolship writes */
#define SINK_ITEMS 4096        /* records per DST transaction ... */
#define SINK_BYTES (16u << 20) /* ... or bytes */
#define WHYLEN 128

/* ---- LMDB's on-disk layout ------------------------------------------------
 * Read from liblmdb's mdb.c (0.9, data format version 1, 64-bit build:
 * pgno_t and size_t are 8 bytes, host byte order).  A page starts with
 * a 16-byte header: page number (8), pad (2), flags (2), then lower and
 * upper bounds of the free space (2 + 2), or for an overflow page the
 * number of pages (4).  A branch or leaf page has an array of 2-byte
 * node offsets after the header.  A leaf node is data size (lo 2, hi 2),
 * flags (2), key size (2), the key, then the data, or with F_BIGDATA the
 * 8-byte number of the overflow page whose header is followed by the
 * data.  Pages 0 and 1 are meta pages: after the page header, magic
 * (4), version (4), address (8), map size (8), two 48-byte database
 * records (the first's first 4 bytes hold the page size), last page (8),
 * txn id (8).
 */
#define PG_HDR 16
#define PG_FLAGS 10
#define PG_LOWER 12
#define PG_UPPER 14
#define P_BRANCH 0x01u
#define P_LEAF 0x02u
#define P_OVERFLOW 0x04u
#define P_META 0x08u
#define P_LEAF2 0x20u
#define P_SUBP 0x40u
#define P_KNOWN 0x0bfu /* branch .. subp and the dirty bit */
#define F_BIGDATA 0x01u
#define F_SUBDATA 0x02u
#define F_DUPDATA 0x04u
#define NODE_HDR 8
#define MM_MAGIC 0xBEEFC0DEu
#define MM_VERSION 1u
#define MM_MAGIC_AT (PG_HDR + 0)
#define MM_VERSION_AT (PG_HDR + 4)
#define MM_PSIZE_AT (PG_HDR + 24)
#define MM_LASTPG_AT (PG_HDR + 24 + 2 * 48)
#define MM_TXNID_AT (MM_LASTPG_AT + 8)
#define MM_LEN (MM_TXNID_AT + 8)

static unsigned le16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v)); /* host order, as LMDB wrote it */
	return v;
}

static uint32_t le32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

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
#define NMETA (sizeof(meta_keys) / sizeof(meta_keys[0]))

struct ctx {
	spoolship_spool *s; /* DST */
	salvage_report_fn *fn;
	void *arg;
	struct salvage_info *info;
	/* records waiting for the next DST transaction */
	struct sink_item *it;
	size_t nit, itcap;
	unsigned char *buf;
	size_t buflen, bufcap;
	uint64_t t_events, t_dead, t_dups; /* of the transaction being run */
	/* what SRC says of itself */
	struct srow *rows;
	size_t nrows, rowcap;
	uint64_t meta[NMETA];
	int have_meta[NMETA];
	unsigned char *enc;
	size_t enclen;
	int enc_have;
	int newer; /* format_version above ours: said once */
	/* records found damaged, resolved at the end */
	struct bad *bad;
	size_t nbad, badcap;
	size_t ntree_bad; /* sorted prefix: the walk's, for the scan */
	int restricted;   /* scan only for the keys of that prefix */
};

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
static void note(struct ctx *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit(x, SALVAGE_NOTE, 0, fmt, ap);
	va_end(ap);
}

/* A page of data.mdb that could not be read (or only in part). */
__attribute__((format(printf, 3, 4)))
static void bad_page(struct ctx *x, uint64_t pgno, const char *fmt, ...)
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
static int merge_stream(struct ctx *x, const void *k, size_t klen,
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
		note(x, "a damaged stream row skipped (a name of %zu "
		     "bytes, a value of %zu)", klen, vlen);
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
		note(x, "a stream row '%s' with id %u disagrees with the "
		     "rows already found: skipped", name, id);
		return 0;
	}
	return row_add(x, name, id, next, 0);
}

static void merge_meta(struct ctx *x, const void *k, size_t klen,
		       const unsigned char *v, size_t vlen)
{
	if (klen == strlen(META_ENC_KEY_ID) &&
	    memcmp(k, META_ENC_KEY_ID, klen) == 0) {
		if (x->enc_have && (vlen != x->enclen ||
				    memcmp(v, x->enc, vlen) != 0)) {
			note(x, "two different values of meta %s found: "
			     "the first kept", META_ENC_KEY_ID);
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
		note(x, "SRC was written by a newer spoolship (format %llu): "
		     "its records of that format are reported, not copied",
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

static int bad_add(struct ctx *x, int dead, const void *key, size_t klen,
		   const char *why, int from_tree)
{
	struct bad *b;

	if (klen != (dead ? DEAD_KEY_LEN : EVENT_KEY_LEN)) {
		note(x, "%s: a key of %zu bytes skipped",
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
static int bad_wanted(const struct ctx *x, int dead, const void *key,
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

/* ---- a record found, by either pass ------------------------------------- */

/* Checks a record found under key and queues it for DST, or notes it as
 * damaged (hint, when not empty, says what else looked wrong).  The
 * walk's records are checked again here: the child is the process that
 * read damaged pages. */
static int take_record(struct ctx *x, int dead, const void *key,
		       size_t klen, const void *v, size_t vlen, int from_tree,
		       const char *hint)
{
	char why[WHYLEN], full[2 * WHYLEN + 4];
	struct dead_record d;
	struct record r;
	int rc;

	if (x->restricted && !bad_wanted(x, dead, key, klen))
		return 0;
	if (klen != (dead ? DEAD_KEY_LEN : EVENT_KEY_LEN))
		return bad_add(x, dead, key, klen, "", from_tree);
	if (dead)
		rc = dead_record_decode(v, vlen, &d, why, sizeof(why));
	else
		rc = record_decode(v, vlen, &r, why, sizeof(why));
	if (rc == 0)
		return sink_add(x, dead, key, klen, v, vlen);
	if (hint != NULL && hint[0] != '\0') {
		snprintf(full, sizeof(full), "%s (%s)", why, hint);
		return bad_add(x, dead, key, klen, full, from_tree);
	}
	return bad_add(x, dead, key, klen, why, from_tree);
}

/* ---- paths, SRC and DST ------------------------------------------------- */

static int path_of(char *out, const char *a, const char *b)
{
	int n = snprintf(out, PATHLEN, "%s/%s", a, b);

	return n < 0 || n >= PATHLEN ? -ENAMETOOLONG : 0;
}

/*
 * Nobody else may have SRC open: its spool.lock is taken exclusively
 * without waiting (opened read-only, never created: flock needs no write
 * access) and held until the end, so no shipper starts meanwhile; and
 * LMDB's own lock on byte 0 of lock.mdb, which every process with the
 * environment open holds, is tested without being taken.
 */
static int src_claim(const char *src, int *lockfd)
{
	char path[PATHLEN];
	struct flock fl;
	int fd, rc = 0;

	*lockfd = -1;
	if (path_of(path, src, SPOOL_LOCK_NAME) != 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
			close(fd);
			return rc;
		}
		*lockfd = fd;
	}
	if (path_of(path, src, "lock.mdb") != 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 1;
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
		rc = -EBUSY;
	close(fd); /* we hold no fcntl lock on it to lose */
	return rc;
}

static int dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int empty = 1;

	if (d == NULL)
		return 0;
	while (empty && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

/* Where dst will be, resolved, whether it exists yet or not. */
static int dst_real(const char *dst, int exists, char *out)
{
	char a[PATHLEN], b[PATHLEN], *parent;

	if (exists)
		return realpath(dst, out) != NULL ? 0 : -errno;
	if (snprintf(a, sizeof(a), "%s", dst) >= (int)sizeof(a))
		return -ENAMETOOLONG;
	memcpy(b, a, sizeof(a));
	if ((parent = realpath(dirname(a), NULL)) == NULL)
		return -errno;
	if (snprintf(out, PATHLEN, "%s/%s", parent, basename(b)) >= PATHLEN) {
		free(parent);
		return -ENAMETOOLONG;
	}
	free(parent);
	return 0;
}

/* DST must not exist, or be an empty directory, and not lie in SRC. */
static int dst_check(const char *src, const char *dst, int *exists,
		     char *errbuf, size_t errlen)
{
	char rs[PATHLEN], rd[PATHLEN];
	struct stat st;
	size_t n;
	int rc;

	*exists = 0;
	if (stat(dst, &st) == 0) {
		if (!S_ISDIR(st.st_mode) || !dir_empty(dst))
			return errf(errbuf, errlen, SPOOLSHIP_EINVAL,
				    "%s exists and is not an empty directory: "
				    "salvage writes only into a new spool",
				    dst);
		*exists = 1;
	} else if (errno != ENOENT) {
		return errf(errbuf, errlen, -errno, "cannot look at %s", dst);
	}
	if (realpath(src, rs) == NULL)
		return errf(errbuf, errlen, -errno, "cannot resolve %s", src);
	if ((rc = dst_real(dst, *exists, rd)) != 0)
		return errf(errbuf, errlen, rc, "cannot create %s", dst);
	n = strlen(rs);
	if (strncmp(rd, rs, n) == 0 && (rd[n] == '\0' || rd[n] == '/'))
		return errf(errbuf, errlen, SPOOLSHIP_EINVAL,
			    "%s is inside %s: salvage never writes there",
			    dst, src);
	return 0;
}

/* Undoes what an unfinished salvage wrote into DST. */
static void dst_remove(const char *dst, int existed)
{
	static const char *const files[] = { "data.mdb", "lock.mdb",
					     SPOOL_LOCK_NAME };
	char p[PATHLEN];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (path_of(p, dst, files[i]) == 0)
			unlink(p);
	if (!existed)
		rmdir(dst);
}

static int dst_open(const char *dst, int existed, uint64_t src_bytes,
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

/* ---- the meta pages ----------------------------------------------------- */

struct geometry {
	uint64_t psize, fsize, npages;
	int meta_ok[2];
	uint64_t last_pg, txnid; /* of the newer sound meta page */
};

static int psize_ok(uint64_t p)
{
	return p >= 512 && p <= 65536 && (p & (p - 1)) == 0;
}

/* Reads the meta page at off: 1 and *psize, *last, *txnid when sound. */
static int meta_read(int fd, uint64_t off, uint64_t *psize, uint64_t *last,
		     uint64_t *txnid)
{
	unsigned char m[MM_LEN];

	if (pread(fd, m, sizeof(m), (off_t)off) != (ssize_t)sizeof(m))
		return 0;
	if (!(le16(m + PG_FLAGS) & P_META) ||
	    le32(m + MM_MAGIC_AT) != MM_MAGIC ||
	    le32(m + MM_VERSION_AT) != MM_VERSION ||
	    !psize_ok(le32(m + MM_PSIZE_AT)))
		return 0;
	*psize = le32(m + MM_PSIZE_AT);
	*last = le64(m + MM_LASTPG_AT);
	*txnid = le64(m + MM_TXNID_AT);
	return 1;
}

/* Finds the page size: meta page 0 says it; else meta page 1, which sits
 * one page in, is looked for at each possible size. */
static void geometry_read(int fd, uint64_t fsize, struct geometry *g)
{
	static const uint64_t sizes[] = { 4096, 8192, 16384, 32768, 65536,
					  512, 1024, 2048 };
	uint64_t ps[2] = { 0, 0 }, last[2] = { 0, 0 }, txn[2] = { 0, 0 };

	memset(g, 0, sizeof(*g));
	g->fsize = fsize;
	g->meta_ok[0] = meta_read(fd, 0, &ps[0], &last[0], &txn[0]);
	if (g->meta_ok[0]) {
		g->meta_ok[1] = meta_read(fd, ps[0], &ps[1], &last[1],
					  &txn[1]) && ps[1] == ps[0];
	} else {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]) &&
				   !g->meta_ok[1]; i++)
			g->meta_ok[1] = meta_read(fd, sizes[i], &ps[1],
						  &last[1], &txn[1]) &&
					ps[1] == sizes[i];
	}
	g->psize = g->meta_ok[0] ? ps[0] : g->meta_ok[1] ? ps[1] : 0;
	for (int i = 0; i < 2; i++) {
		if (g->meta_ok[i] && (g->txnid == 0 || txn[i] > g->txnid)) {
			g->txnid = txn[i];
			g->last_pg = last[i];
		}
	}
	if (g->psize == 0)
		g->psize = (uint64_t)sysconf(_SC_PAGESIZE);
	g->npages = (fsize + g->psize - 1) / g->psize;
}

/* ---- pass 1: the tree walk (in a child process) ----------------------------
 * Frames on the pipe: a header, the key, the value.  The child sends the
 * streams and meta rows, each record (FR_BAD with the reason for one
 * that fails its check), and FR_END (db 0: complete, else the reason in
 * the value).  A child that dies leaves no FR_END. */

enum { FR_STREAM = 1, FR_META, FR_EVENT, FR_DEAD, FR_BAD, FR_END };

struct frame {
	uint8_t type;
	uint8_t db; /* FR_BAD: 1 dead; FR_END: 0 complete */
	uint16_t pad;
	uint32_t klen, vlen;
};

#define FRAME_KEY_MAX 511

static void put_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(1); /* the parent is gone */
		c += w;
		n -= (size_t)w;
	}
}

static void frame_send(int fd, unsigned type, unsigned db, const void *k,
		       size_t klen, const void *v, size_t vlen)
{
	struct frame f;

	memset(&f, 0, sizeof(f));
	f.type = (uint8_t)type;
	f.db = (uint8_t)db;
	f.klen = (uint32_t)klen;
	f.vlen = (uint32_t)vlen;
	put_all(fd, &f, sizeof(f));
	put_all(fd, k, klen);
	put_all(fd, v, vlen);
}

struct walker {
	MDB_txn *txn;
	int fd;
	char *msg;
	size_t msglen;
};

static int walk_fail(struct walker *w, const char *db, int rc)
{
	return errf(w->msg, w->msglen, SPOOLSHIP_ECORRUPT, "%s: %s", db,
		    mdb_strerror(rc));
}

/* Sends every row of a small database as it is. */
static int walk_rows(struct walker *w, const char *name, unsigned type)
{
	MDB_cursor *c;
	MDB_val k, d;
	MDB_dbi dbi;
	int rc;

	if ((rc = mdb_dbi_open(w->txn, name, 0, &dbi)) != 0 ||
	    (rc = mdb_cursor_open(w->txn, dbi, &c)) != 0)
		return walk_fail(w, name, rc);
	for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT))
		if (k.mv_size <= FRAME_KEY_MAX && d.mv_size <= VALUE_MAX)
			frame_send(w->fd, type, 0, k.mv_data, k.mv_size,
				   d.mv_data, d.mv_size);
	return rc == MDB_NOTFOUND ? 0 : walk_fail(w, name, rc);
}

/* Sends every record of events or dead, checked, in key order; stops at
 * the first LMDB error, at a key out of order (a damaged branch page)
 * and when the walk reached fewer records than LMDB counted. */
static int walk_records(struct walker *w, const char *name, int dead)
{
	unsigned char last[FRAME_KEY_MAX + 1];
	MDB_val k, d, prev = { 0, last };
	char why[WHYLEN];
	struct dead_record dr;
	struct record r;
	MDB_cursor *c;
	MDB_stat st;
	MDB_dbi dbi;
	size_t n = 0;
	int rc;

	if ((rc = mdb_dbi_open(w->txn, name, 0, &dbi)) != 0 ||
	    (rc = mdb_stat(w->txn, dbi, &st)) != 0 ||
	    (rc = mdb_cursor_open(w->txn, dbi, &c)) != 0)
		return walk_fail(w, name, rc);
	for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT), n++) {
		if (k.mv_size > FRAME_KEY_MAX || d.mv_size > VALUE_MAX)
			return errf(w->msg, w->msglen, SPOOLSHIP_ECORRUPT,
				    "%s: a key of %zu bytes with a value of "
				    "%zu bytes after %zu records", name,
				    k.mv_size, d.mv_size, n);
		if (n > 0 && mdb_cmp(w->txn, dbi, &prev, &k) >= 0)
			return errf(w->msg, w->msglen, SPOOLSHIP_ECORRUPT,
				    "%s: keys out of order after %zu records "
				    "(a damaged branch page)", name, n);
		memcpy(last, k.mv_data, k.mv_size);
		prev.mv_size = k.mv_size;
		rc = dead ? dead_record_decode(d.mv_data, d.mv_size, &dr,
					       why, sizeof(why))
			  : record_decode(d.mv_data, d.mv_size, &r, why,
					  sizeof(why));
		if (rc == 0)
			frame_send(w->fd, dead ? FR_DEAD : FR_EVENT, 0,
				   k.mv_data, k.mv_size, d.mv_data,
				   d.mv_size);
		else
			frame_send(w->fd, FR_BAD, (unsigned)dead, k.mv_data,
				   k.mv_size, why, strlen(why));
	}
	if (rc != MDB_NOTFOUND)
		return walk_fail(w, name, rc);
	if (n != st.ms_entries)
		return errf(w->msg, w->msglen, SPOOLSHIP_ECORRUPT,
			    "%s: LMDB counts %zu records, the walk reached "
			    "%zu", name, st.ms_entries, n);
	return 0;
}

static int walk(struct walker *w, const char *src)
{
	MDB_env *env;
	int rc;

	/* Read-only and without the lock file: nothing in SRC changes. */
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, 8)) != 0 ||
	    (rc = mdb_env_open(env, src, MDB_RDONLY | MDB_NOLOCK |
				       MDB_NOTLS | MDB_NORDAHEAD,
			       0600)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &w->txn)) != 0)
		return walk_fail(w, "environment", rc);
	if ((rc = walk_rows(w, "streams", FR_STREAM)) != 0 ||
	    (rc = walk_rows(w, "meta", FR_META)) != 0 ||
	    (rc = walk_records(w, "events", 0)) != 0 ||
	    (rc = walk_records(w, "dead", 1)) != 0)
		return rc;
	return 0; /* the process ends: no need to close anything */
}

/* A fault in the child ends it quietly by that signal, without a core
 * or a sanitizer's report: the parent says what happened. */
static void child_fault(int sig)
{
	signal(sig, SIG_DFL);
	raise(sig);
}

__attribute__((noreturn)) static void walk_child(const char *src, int fd)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL,
				    SIGABRT };
	struct rlimit nocore = { 0, 0 };
	struct walker w;
	char msg[256] = "";
	int rc;

	setrlimit(RLIMIT_CORE, &nocore);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], child_fault);
	signal(SIGPIPE, SIG_DFL);
	memset(&w, 0, sizeof(w));
	w.fd = fd;
	w.msg = msg;
	w.msglen = sizeof(msg);
	rc = walk(&w, src);
	frame_send(fd, FR_END, rc == 0 ? 0 : 1, NULL, 0, msg, strlen(msg));
	_exit(0);
}

/* Reads one frame into *k and *v (grown as needed): 1, 0 at the end of
 * the stream, or an error. */
static int frame_recv(FILE *in, struct frame *f, unsigned char **v,
		      size_t *vcap, unsigned char *k)
{
	size_t n = fread(f, 1, sizeof(*f), in);

	if (n == 0 && feof(in))
		return 0;
	if (n != sizeof(*f) || f->klen > FRAME_KEY_MAX ||
	    f->vlen > VALUE_MAX)
		return SPOOLSHIP_ECORRUPT;
	if (array_grow((void **)v, vcap, (size_t)f->vlen + 1, 1) != 0)
		return -ENOMEM;
	if (fread(k, 1, f->klen, in) != f->klen ||
	    fread(*v, 1, f->vlen, in) != f->vlen)
		return SPOOLSHIP_ECORRUPT;
	(*v)[f->vlen] = '\0';
	return 1;
}

static int take_frame(struct ctx *x, const struct frame *f,
		      const unsigned char *key, const unsigned char *v)
{
	switch (f->type) {
	case FR_STREAM:
		return merge_stream(x, key, f->klen, v, f->vlen);
	case FR_META:
		merge_meta(x, key, f->klen, v, f->vlen);
		return 0;
	case FR_EVENT:
	case FR_DEAD:
		return take_record(x, f->type == FR_DEAD, key, f->klen, v,
				   f->vlen, 1, NULL);
	case FR_BAD:
		return bad_add(x, f->db != 0, key, f->klen, (const char *)v,
			       1);
	case FR_END:
		x->info->walked = f->db == 0;
		snprintf(x->info->walk_error, sizeof(x->info->walk_error),
			 "%s", (const char *)v);
		return 0;
	default:
		return SPOOLSHIP_ECORRUPT;
	}
}

/* Takes in what the child sends, up to FR_END or the end of the pipe.
 * Returns 0 (info->walked set when the walk was complete) or an error
 * writing DST. */
static int walk_consume(struct ctx *x, FILE *in)
{
	unsigned char key[FRAME_KEY_MAX + 1], *v = NULL;
	size_t vcap = 0;
	struct frame f;
	int rc;

	while ((rc = frame_recv(in, &f, &v, &vcap, key)) == 1) {
		if ((rc = take_frame(x, &f, key, v)) != 0 || f.type == FR_END)
			break;
	}
	free(v);
	if (rc == SPOOLSHIP_ECORRUPT) { /* garbled: the walk failed */
		x->info->walked = 0;
		snprintf(x->info->walk_error, sizeof(x->info->walk_error),
			 "the tree walk's output was cut short");
		rc = 0;
	}
	return rc;
}

/* Runs the walk in a child and DST's writes here.  *s gets DST, opened
 * once the child runs (LMDB: no environment open across a fork). */
static int walk_run(struct ctx *x, const char *src, const char *dst,
		    int existed, uint64_t fsize, spoolship_spool **s)
{
	int p[2], rc, st = 0;
	pid_t pid;
	FILE *in;

	if (pipe(p) != 0)
		return -errno;
	fflush(NULL);
	if ((pid = fork()) < 0) {
		rc = -errno;
		close(p[0]);
		close(p[1]);
		return rc;
	}
	if (pid == 0) {
		close(p[0]);
		walk_child(src, p[1]);
	}
	close(p[1]);
	if ((in = fdopen(p[0], "rb")) == NULL) {
		close(p[0]);
		rc = -errno;
	} else if ((rc = dst_open(dst, existed, fsize, s)) == 0) {
		x->s = *s;
		rc = walk_consume(x, in);
	}
	if (in != NULL)
		fclose(in); /* a child still writing dies of SIGPIPE */
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!x->info->walked && x->info->walk_error[0] == '\0') {
		if (WIFSIGNALED(st))
			snprintf(x->info->walk_error,
				 sizeof(x->info->walk_error),
				 "the tree walk died of signal %d (%s)",
				 WTERMSIG(st), strsignal(WTERMSIG(st)));
		else
			snprintf(x->info->walk_error,
				 sizeof(x->info->walk_error),
				 "the tree walk ended without finishing");
	}
	return rc;
}

/* ---- pass 2: the raw scan of data.mdb ----------------------------------- */

/* A leaf node, bounds checked against the page. */
struct node {
	const unsigned char *key;
	size_t klen;
	unsigned flags;
	size_t dlen;
	const unsigned char *data; /* inline data */
	uint64_t ovpg;             /* F_BIGDATA: its overflow page */
};

struct scan {
	struct ctx *x;
	int fd;
	struct geometry g;
	unsigned char *big; /* an overflow value */
	size_t bigcap;
	struct node *nodes; /* of the page being read */
	size_t ncap;
};

static int node_at(const unsigned char *p, size_t avail, unsigned upper,
		   unsigned off, struct node *n)
{
	size_t ks;

	if (off < upper || (off & 1) || off + NODE_HDR > avail)
		return -1;
	n->dlen = le16(p + off) | (size_t)le16(p + off + 2) << 16;
	n->flags = le16(p + off + 4);
	ks = le16(p + off + 6);
	n->key = p + off + NODE_HDR;
	n->klen = ks;
	n->data = n->key + ks;
	n->ovpg = 0;
	if (off + NODE_HDR + ks > avail)
		return -1;
	if (n->flags & F_BIGDATA) {
		if (off + NODE_HDR + ks + 8 > avail)
			return -1;
		n->ovpg = le64(n->data);
		return 0;
	}
	return off + NODE_HDR + ks + n->dlen > avail ? -1 : 0;
}

/* The node's value: inline, or read from its overflow pages. */
static int node_value(struct scan *sc, const struct node *n,
		      const unsigned char **v, char *why, size_t wl)
{
	uint64_t off = n->ovpg * sc->g.psize;
	size_t need = PG_HDR + n->dlen;
	unsigned flags;

	if (!(n->flags & F_BIGDATA)) {
		*v = n->data;
		return 0;
	}
	if (n->dlen > VALUE_MAX)
		return errf(why, wl, SPOOLSHIP_ECORRUPT,
			    "value of %zu bytes, too large", n->dlen);
	if (n->ovpg < 2 || n->ovpg >= sc->g.npages ||
	    off + need > sc->g.fsize)
		return errf(why, wl, SPOOLSHIP_ECORRUPT,
			    "its value on page %llu is past the end of "
			    "data.mdb", (unsigned long long)n->ovpg);
	if (array_grow((void **)&sc->big, &sc->bigcap, need, 1) != 0)
		return -ENOMEM;
	if (pread(sc->fd, sc->big, need, (off_t)off) != (ssize_t)need)
		return errf(why, wl, -EIO, "cannot read page %llu",
			    (unsigned long long)n->ovpg);
	flags = le16(sc->big + PG_FLAGS);
	if (!(flags & P_OVERFLOW) || le64(sc->big) != n->ovpg)
		snprintf(why, wl, "overflow page %llu holds something "
			 "else: damaged, or a stale node whose pages were "
			 "reused", (unsigned long long)n->ovpg);
	*v = sc->big + PG_HDR;
	return 0;
}

/* Which database a leaf page belongs to, from what its nodes look like:
 * records carry their header length, meta keys are known names. */
enum pkind { PK_OTHER, PK_EVENTS, PK_DEAD, PK_META };

static int meta_name(const struct node *n)
{
	if (n->klen == strlen(META_VERSION) &&
	    memcmp(n->key, META_VERSION, n->klen) == 0)
		return 1;
	for (size_t i = 0; i < NMETA; i++)
		if (n->klen == strlen(meta_keys[i]) &&
		    memcmp(n->key, meta_keys[i], n->klen) == 0)
			return 1;
	return 0;
}

static unsigned hdr_len_of(struct scan *sc, const struct node *n)
{
	unsigned char h[4];

	if (!(n->flags & F_BIGDATA))
		return n->dlen >= 4 ? (unsigned)n->data[2] << 8 | n->data[3]
				    : 0;
	if (n->ovpg < 2 || n->ovpg >= sc->g.npages ||
	    pread(sc->fd, h, sizeof(h),
		  (off_t)(n->ovpg * sc->g.psize + PG_HDR)) != sizeof(h))
		return 0;
	return (unsigned)h[2] << 8 | h[3];
}

static enum pkind page_kind(struct scan *sc, const struct node *nd,
			    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct node *e = &nd[i];

		if (e->flags & (F_SUBDATA | F_DUPDATA))
			continue;
		if (e->klen == EVENT_KEY_LEN &&
		    hdr_len_of(sc, e) == RECORD_HDR_LEN)
			return PK_EVENTS;
		if (e->klen == DEAD_KEY_LEN &&
		    hdr_len_of(sc, e) == DEAD_HDR_LEN)
			return PK_DEAD;
		if (!(e->flags & F_BIGDATA) && e->dlen == 8 && meta_name(e))
			return PK_META;
	}
	return PK_OTHER;
}

/* A pending or dead record's node of a page of them. */
static int scan_record(struct scan *sc, uint64_t pgno, int dead,
		       const struct node *e)
{
	char why[WHYLEN] = "";
	const unsigned char *v = NULL;
	int rc;

	if (e->klen != (dead ? DEAD_KEY_LEN : EVENT_KEY_LEN)) {
		if (!sc->x->restricted)
			bad_page(sc->x, pgno, "a node with a key of %zu bytes "
				 "among %s records", e->klen,
				 dead ? "dead" : "pending");
		return 0;
	}
	if (sc->x->restricted && !bad_wanted(sc->x, dead, e->key, e->klen))
		return 0;
	rc = node_value(sc, e, &v, why, sizeof(why));
	if (rc == -ENOMEM)
		return rc;
	if (rc != 0)
		return bad_add(sc->x, dead, e->key, e->klen, why, 0);
	return take_record(sc->x, dead, e->key, e->klen, v, e->dlen, 0, why);
}

static int scan_node(struct scan *sc, uint64_t pgno, enum pkind kind,
		     const struct node *e)
{
	if (e->flags & (F_SUBDATA | F_DUPDATA))
		return 0;
	if (kind == PK_EVENTS || kind == PK_DEAD)
		return scan_record(sc, pgno, kind == PK_DEAD, e);
	if (sc->x->restricted || (e->flags & F_BIGDATA))
		return 0;
	if (kind == PK_META) {
		merge_meta(sc->x, e->key, e->klen, e->data, e->dlen);
		return 0;
	}
	if (e->dlen == STREAM_ROW_LEN)
		return merge_stream(sc->x, e->key, e->klen, e->data, e->dlen);
	return 0;
}

/* The page types LMDB writes (P_DIRTY, 0x10, may linger on a page). */
static int flags_known(unsigned flags)
{
	flags &= ~0x10u;
	return flags == P_BRANCH || flags == P_LEAF || flags == P_OVERFLOW ||
	       flags == P_META || flags == (P_LEAF | P_LEAF2) ||
	       flags == (P_LEAF | P_SUBP);
}

/* Is p a leaf page of ours?  A page whose number or flags were damaged
 * is still read as one when its bounds make sense (the records' CRCs
 * decide); other pages are branch, overflow or free pages, or no page
 * header at all (the rest of an overflow value). */
static int leaf_header(struct scan *sc, uint64_t pgno, const unsigned char *p)
{
	unsigned flags = le16(p + PG_FLAGS), lower = le16(p + PG_LOWER);
	unsigned upper = le16(p + PG_UPPER);
	int named = le64(p) == pgno, quiet = sc->x->restricted;
	int sane = lower >= PG_HDR && lower <= upper &&
		   upper <= sc->g.psize && ((lower - PG_HDR) & 1) == 0;

	if (flags_known(flags) && (flags & ~0x10u) != P_LEAF)
		return 0;
	if (!flags_known(flags)) {
		if (!named || !sane)
			return 0;
		if (!quiet)
			bad_page(sc->x, pgno, "unknown page flags 0x%x; read "
				 "as a leaf page", flags);
		return 1;
	}
	if (!sane) {
		if (named && !quiet)
			bad_page(sc->x, pgno, "leaf page header damaged "
				 "(lower %u, upper %u)", lower, upper);
		return 0;
	}
	if (!named && !quiet)
		bad_page(sc->x, pgno, "its header names page %llu; its "
			 "records are read anyway",
			 (unsigned long long)le64(p));
	return 1;
}

/* One page of data.mdb (avail bytes of it were in the file). */
static int scan_page(struct scan *sc, uint64_t pgno, const unsigned char *p,
		     size_t avail)
{
	unsigned lower = le16(p + PG_LOWER), upper = le16(p + PG_UPPER);
	size_t n = 0, nkeys, lost = 0;
	enum pkind kind;
	int rc = 0;

	if (avail < PG_HDR || !leaf_header(sc, pgno, p))
		return 0;
	nkeys = (lower - PG_HDR) / 2;
	for (size_t i = 0; i < nkeys && i < sc->ncap; i++) {
		if (node_at(p, avail, upper, le16(p + PG_HDR + 2 * i),
			    &sc->nodes[n]) == 0)
			n++;
		else
			lost++;
	}
	if (lost > 0 && !sc->x->restricted)
		bad_page(sc->x, pgno, "%zu of its %zu nodes lie outside the "
			 "page%s", lost, nkeys, avail < sc->g.psize ?
			 " (cut short by the end of data.mdb)" : "");
	kind = page_kind(sc, sc->nodes, n);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = scan_node(sc, pgno, kind, &sc->nodes[i]);
	return rc;
}

static int scan_run(struct ctx *x, int fd, const struct geometry *g)
{
	struct scan sc;
	size_t chunk = (1u << 20) / g->psize * g->psize; /* psize <= 64K */
	unsigned char *buf = malloc(chunk);
	int rc = 0;

	if (buf == NULL)
		return -ENOMEM;
	memset(&sc, 0, sizeof(sc));
	sc.x = x;
	sc.fd = fd;
	sc.g = *g;
	sc.ncap = (g->psize - PG_HDR) / 2;
	if ((sc.nodes = calloc(sc.ncap, sizeof(*sc.nodes))) == NULL) {
		free(buf);
		return -ENOMEM;
	}
	for (uint64_t off = 2 * g->psize; off < g->fsize && rc == 0;
	     off += chunk) {
		ssize_t got = pread(fd, buf, chunk, (off_t)off);

		if (got < 0) {
			rc = -errno;
			break;
		}
		for (size_t at = 0; at < (size_t)got && rc == 0;
		     at += g->psize) {
			size_t avail = (size_t)got - at;

			if (avail > g->psize)
				avail = g->psize;
			rc = scan_page(&sc, (off + at) / g->psize, buf + at,
				       avail);
			x->info->pages++;
		}
		if (got == 0)
			break;
	}
	free(sc.nodes);
	free(sc.big);
	free(buf);
	return rc;
}

/* ---- the end: stream rows, meta, the damaged records -------------------- */

struct tally {
	uint32_t id;
	uint64_t events, bytes, max_seq;
};

static struct tally *tally_of(struct tally **t, size_t *nt, size_t *cap,
			      uint32_t id)
{
	for (size_t i = *nt; i > 0; i--)
		if ((*t)[i - 1].id == id)
			return &(*t)[i - 1];
	if (array_grow((void **)t, cap, *nt + 1, sizeof(**t)) != 0)
		return NULL;
	memset(&(*t)[*nt], 0, sizeof(**t));
	(*t)[*nt].id = id;
	return &(*t)[(*nt)++];
}

static int tally_events(spoolship_spool *s, MDB_txn *txn, struct tally **t,
			size_t *nt, size_t *cap)
{
	MDB_cursor *c;
	MDB_val k, d;
	int rc = mdb_cursor_open(txn, s->events, &c);

	if (rc != 0)
		return spool_err(rc);
	for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
		struct tally *e;
		uint32_t id;
		uint64_t seq;

		if (event_key_parse(k.mv_data, k.mv_size, &id, &seq) != 0 ||
		    d.mv_size < RECORD_HDR_LEN)
			continue; /* never: only checked records went in */
		if ((e = tally_of(t, nt, cap, id)) == NULL) {
			rc = -ENOMEM;
			break;
		}
		e->events++;
		e->bytes += get_be32((unsigned char *)d.mv_data + 24);
		e->max_seq = seq; /* keys sorted */
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : spool_norm(rc);
}

/* The last dead sequence, and the streams dead events came from (their
 * rows are kept or made up too: a requeue needs them). */
static int tally_dead(spoolship_spool *s, MDB_txn *txn, struct tally **t,
		      size_t *nt, size_t *cap, uint64_t *last)
{
	MDB_cursor *c;
	MDB_val k, d;
	int rc = mdb_cursor_open(txn, s->dead, &c);

	*last = 0;
	if (rc != 0)
		return spool_err(rc);
	for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
		if (k.mv_size != DEAD_KEY_LEN || d.mv_size < DEAD_HDR_LEN)
			continue; /* never: only checked records went in */
		*last = get_be64(k.mv_data);
		if (tally_of(t, nt, cap,
			     get_be32((unsigned char *)d.mv_data + 28)) ==
		    NULL) {
			rc = -ENOMEM;
			break;
		}
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : spool_norm(rc);
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

static int write_rows(struct ctx *x, MDB_txn *txn, const struct tally *t,
		      size_t nt, uint32_t *max_id)
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
	struct tally *t = NULL;
	size_t nt = 0, cap = 0;
	uint64_t last_dead;
	uint32_t max_id;
	int rc;

	if ((rc = tally_events(s, txn, &t, &nt, &cap)) == 0 &&
	    (rc = tally_dead(s, txn, &t, &nt, &cap, &last_dead)) == 0 &&
	    (rc = write_rows(x, txn, t, nt, &max_id)) == 0)
		rc = write_meta(x, txn, max_id, last_dead);
	free(t);
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

/* ---- the entry point ---------------------------------------------------- */

/* The walk's damaged keys, sorted: the restricted scan looks them up. */
static void restrict_to_tree_bad(struct ctx *x)
{
	qsort(x->bad, x->nbad, sizeof(*x->bad), bad_cmp);
	x->ntree_bad = x->nbad;
	x->restricted = 1;
}

static int scan_pass(struct ctx *x, const struct salvage_opts *o, int fd,
		     const struct geometry *g)
{
	int rc;

	if (!x->info->walked || o->scan) {
		if (sizeof(size_t) != 8)
			return -ENOTSUP; /* the layout read is 64-bit's */
		for (int i = 0; i < 2; i++)
			if (!g->meta_ok[i])
				bad_page(x, (uint64_t)i, "meta page damaged");
		x->info->scanned = 1;
		return scan_run(x, fd, g);
	}
	if (x->nbad == 0)
		return 0;
	/* Only the records the walk found damaged: an older copy of one
	 * may sit in a free page, the same bytes under the same key. */
	restrict_to_tree_bad(x);
	rc = scan_run(x, fd, g);
	x->restricted = 0;
	return rc;
}

static void notes_after(struct ctx *x)
{
	for (size_t i = 0; i < x->nrows; i++) {
		if (!x->rows[i].unnamed)
			continue;
		x->info->bad_rows++;
		note(x, "the row of stream id %u was lost: its events are in "
		     "stream %s", x->rows[i].id, x->rows[i].name);
	}
	if (x->info->scanned)
		note(x, "a raw scan reads free pages too: events that were "
		     "already delivered may be back (%llu second copies "
		     "skipped)", (unsigned long long)x->info->duplicates);
}

static int salvage_into(struct ctx *x, const char *src, const char *dst,
			const struct salvage_opts *o, int existed, int fd,
			char *errbuf, size_t errlen)
{
	struct geometry g;
	struct stat st;
	int rc;

	if (fstat(fd, &st) != 0)
		return errf(errbuf, errlen, -errno, "cannot stat data.mdb");
	geometry_read(fd, (uint64_t)st.st_size, &g);
	x->info->page_size = g.psize;
	if ((g.meta_ok[0] || g.meta_ok[1]) &&
	    (g.last_pg + 1) * g.psize > g.fsize) {
		/* LMDB would fault on the missing pages: no walk. */
		snprintf(x->info->walk_error, sizeof(x->info->walk_error),
			 "data.mdb is %llu bytes but its meta page says %llu:"
			 " truncated", (unsigned long long)g.fsize,
			 (unsigned long long)((g.last_pg + 1) * g.psize));
		rc = dst_open(dst, existed, g.fsize, &x->s);
	} else {
		rc = walk_run(x, src, dst, existed, g.fsize, &x->s);
	}
	if (rc != 0)
		return errf(errbuf, errlen, rc, "salvage into %s failed", dst);
	if (!x->info->walked)
		note(x, "tree walk failed (%s): scanning data.mdb page by "
		     "page", x->info->walk_error);
	if ((rc = scan_pass(x, o, fd, &g)) != 0)
		return errf(errbuf, errlen, rc, "scanning %s/data.mdb", src);
	if ((rc = sink_flush(x)) != 0 ||
	    (rc = spool_write(x->s, 0, finish_txn, x)) != 0 ||
	    (rc = bad_resolve(x)) != 0)
		return errf(errbuf, errlen, rc, "cannot write %s", dst);
	x->info->streams = x->nrows;
	notes_after(x);
	return 0;
}

int spool_salvage(const char *src, const char *dst,
		  const struct salvage_opts *o, salvage_report_fn *fn,
		  void *arg, struct salvage_info *info, char *errbuf,
		  size_t errlen)
{
	static const struct salvage_opts defaults = { 0 };
	char path[PATHLEN];
	struct ctx x;
	int existed, lockfd = -1, fd = -1, rc;

	memset(info, 0, sizeof(*info));
	memset(&x, 0, sizeof(x));
	x.fn = fn;
	x.arg = arg;
	x.info = info;
	if (o == NULL)
		o = &defaults;
	if (path_of(path, src, "data.mdb") != 0)
		return errf(errbuf, errlen, -ENAMETOOLONG, "path too long");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errf(errbuf, errlen, -errno, "no spool at %s", src);
	if ((rc = dst_check(src, dst, &existed, errbuf, errlen)) != 0)
		goto out;
	if ((rc = src_claim(src, &lockfd)) != 0) {
		errf(errbuf, errlen, rc, "%s is in use by another process",
		     src);
		goto out;
	}
	rc = salvage_into(&x, src, dst, o, existed, fd, errbuf, errlen);
out:
	if (x.s != NULL) {
		int rc2 = spoolship_spool_close(x.s); /* syncs DST */

		if (rc == 0 && rc2 == 0)
			rc2 = durable_sync_path(dst, O_RDONLY | O_DIRECTORY);
		if (rc == 0 && rc2 == 0 && !existed)
			rc2 = durable_sync_parent(dst);
		if (rc == 0 && rc2 != 0)
			rc = errf(errbuf, errlen, rc2, "cannot sync %s", dst);
		if (rc != 0)
			dst_remove(dst, existed);
	}
	if (lockfd >= 0)
		close(lockfd);
	close(fd);
	free(x.it);
	free(x.buf);
	free(x.rows);
	free(x.bad);
	free(x.enc);
	return rc;
}
