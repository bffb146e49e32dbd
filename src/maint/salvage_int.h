/*
 * salvage_int.h - what the four files of `spoolship salvage` share:
 * spool_salvage.c (the entry point), salvage_walk.c (pass 1),
 * salvage_scan.c (pass 2) and salvage_sink.c (where both passes hand
 * what they find; DST and the end).  Private to them: the CLI includes
 * salvage.h.
 *
 * Calls go one way, down: spool_salvage.c -> salvage_walk.c and
 * salvage_scan.c -> salvage_sink.c, and spool_salvage.c -> salvage_sink.c.
 * The passes do not call each other and the sink calls none of the
 * three (test 0011 checks it on the objects).
 */
#ifndef SPOOLSHIP_SALVAGE_INT_H
#define SPOOLSHIP_SALVAGE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "salvage.h"
#include "spool.h"

#define VALUE_MAX (8u << 20)   /* larger than any record spoolship writes */
#define WHYLEN 128
#define NMETA 12 /* meta counters kept (salvage_sink.c's meta_keys) */

struct srow;
struct bad;
struct sink_item;

/* The state of one salvage (set up by spool_salvage.c).  The passes use
 * s, info and restricted, spool_salvage.c also fn, arg and nbad; the
 * rest is salvage_sink.c's alone. */
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

/* What the meta pages of data.mdb say (salvage_scan.c). */
struct geometry {
	uint64_t psize, fsize, npages;
	int meta_ok[2];
	uint64_t last_pg, txnid; /* of the newer sound meta page */
};

/* ---- salvage_sink.c: where both passes hand what they find ------------- */

__attribute__((format(printf, 2, 3)))
void salvage_note(struct ctx *x, const char *fmt, ...);
__attribute__((format(printf, 3, 4)))
void salvage_bad_page(struct ctx *x, uint64_t pgno, const char *fmt, ...);
int salvage_merge_stream(struct ctx *x, const void *k, size_t klen,
			 const unsigned char *v, size_t vlen);
void salvage_merge_meta(struct ctx *x, const void *k, size_t klen,
			const unsigned char *v, size_t vlen);
int salvage_meta_name(const void *key, size_t klen);
int salvage_bad_add(struct ctx *x, int dead, const void *key, size_t klen,
		    const char *why, int from_tree);
int salvage_bad_wanted(const struct ctx *x, int dead, const void *key,
		       size_t klen);
int salvage_take_record(struct ctx *x, int dead, const void *key,
			size_t klen, const void *v, size_t vlen,
			int from_tree, const char *hint);
int salvage_dst_open(const char *dst, int existed, uint64_t src_bytes,
		     spoolship_spool **s);
/* Sorts the damaged keys found so far (the walk's) and restricts what
 * salvage_take_record takes to them. */
void salvage_bad_restrict(struct ctx *x);
/* Writes the last batch, DST's stream rows and meta, then reports each
 * damaged key once: 0 or an error writing DST. */
int salvage_sink_finish(struct ctx *x);
/* Frees what the sink holds (not DST). */
void salvage_sink_free(struct ctx *x);

/* ---- salvage_walk.c: pass 1 --------------------------------------------- */

/* Walks SRC in a child; *s gets DST, opened here meanwhile.  0 (with
 * info->walked set when the walk was complete) or an error writing DST. */
int salvage_walk_run(struct ctx *x, const char *src, const char *dst,
		     int existed, uint64_t fsize, spoolship_spool **s);

/* ---- salvage_scan.c: the meta pages and pass 2 -------------------------- */

/* Fills *g from the meta pages (a page size is always found). */
void salvage_geometry_read(int fd, uint64_t fsize, struct geometry *g);
/* Reads every page of data.mdb after the meta pages (with x->restricted
 * only for the walk's damaged keys): 0, or an error (memory, I/O, DST). */
int salvage_scan_run(struct ctx *x, int fd, const struct geometry *g);

#endif
