/*
 * salvage_scan.c - pass 2 of `spoolship salvage`: data.mdb read page by
 * page with pread(2), LMDB's on-disk layout decoded by hand, the records
 * of its leaf and overflow pages handed on.  It must never write to SRC,
 * never map data.mdb, and never read past a bound it has not checked.
 *
 * Called by spool_salvage.c; hands what it finds to salvage_sink.c and
 * calls nothing else of salvage (test 0011 checks it on the objects).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "errf.h"
#include "salvage_int.h"

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

/* ---- the meta pages ----------------------------------------------------- */

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
void salvage_geometry_read(int fd, uint64_t fsize, struct geometry *g)
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
		if (!(e->flags & F_BIGDATA) && e->dlen == 8 &&
		    salvage_meta_name(e->key, e->klen))
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
			salvage_bad_page(sc->x, pgno, "a node with a key of "
					 "%zu bytes among %s records",
					 e->klen, dead ? "dead" : "pending");
		return 0;
	}
	if (sc->x->restricted &&
	    !salvage_bad_wanted(sc->x, dead, e->key, e->klen))
		return 0;
	rc = node_value(sc, e, &v, why, sizeof(why));
	if (rc == -ENOMEM)
		return rc;
	if (rc != 0)
		return salvage_bad_add(sc->x, dead, e->key, e->klen, why, 0);
	return salvage_take_record(sc->x, dead, e->key, e->klen, v, e->dlen,
				   0, why);
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
		salvage_merge_meta(sc->x, e->key, e->klen, e->data, e->dlen);
		return 0;
	}
	if (e->dlen == STREAM_ROW_LEN)
		return salvage_merge_stream(sc->x, e->key, e->klen, e->data,
					    e->dlen);
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
			salvage_bad_page(sc->x, pgno, "unknown page flags "
					 "0x%x; read as a leaf page", flags);
		return 1;
	}
	if (!sane) {
		if (named && !quiet)
			salvage_bad_page(sc->x, pgno, "leaf page header "
					 "damaged (lower %u, upper %u)",
					 lower, upper);
		return 0;
	}
	if (!named && !quiet)
		salvage_bad_page(sc->x, pgno, "its header names page %llu; "
				 "its records are read anyway",
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
		salvage_bad_page(sc->x, pgno, "%zu of its %zu nodes lie "
				 "outside the page%s", lost, nkeys,
				 avail < sc->g.psize ?
				 " (cut short by the end of data.mdb)" : "");
	kind = page_kind(sc, sc->nodes, n);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = scan_node(sc, pgno, kind, &sc->nodes[i]);
	return rc;
}

int salvage_scan_run(struct ctx *x, int fd, const struct geometry *g)
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
