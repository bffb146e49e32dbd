/*
 * salvage.h - `spoolship salvage SRC DST` (spool_salvage.c): copies every
 * sound record of a damaged spool into a new one.  It never writes to
 * SRC, not even its lock file, and never needs the encryption key.
 */
#ifndef SPOOLSHIP_SALVAGE_H
#define SPOOLSHIP_SALVAGE_H

#include <stddef.h>
#include <stdint.h>

enum salvage_kind {
	SALVAGE_BAD_EVENT,  /* a pending record with no sound copy: lost */
	SALVAGE_BAD_DEAD,   /* a dead record with no sound copy: lost */
	SALVAGE_BAD_PAGE,   /* a page of data.mdb that could not be read */
	SALVAGE_RECOVERED,  /* a damaged record of the tree whose sound older
			     * copy was found in a free page and copied */
	SALVAGE_NOTE        /* anything else the operator should know */
};

/* One line of the report, handed to a salvage_report_fn. */
struct salvage_problem {
	enum salvage_kind kind;
	const char *table;  /* events: the stream's name, NULL if unknown */
	uint32_t stream;    /* events: the stream id */
	uint64_t seq;       /* events: the sequence; dead: the dead seq */
	uint64_t page;      /* pages: the page number */
	const char *why;    /* the reason, or the note */
};
typedef void salvage_report_fn(void *arg, const struct salvage_problem *p);

struct salvage_opts {
	/* 1: scan every page of data.mdb even when the tree walk is clean
	 * (it may bring back events that were already delivered). */
	int scan;
};

/* What a salvage did.  damaged() below says whether SRC was. */
struct salvage_info {
	int walked;              /* the tree walk reached the end, sound */
	int scanned;             /* every page of data.mdb was scanned */
	char walk_error[256];    /* why the walk did not do for it all */
	uint64_t events;         /* pending records copied */
	uint64_t dead;           /* dead records copied */
	uint64_t streams;        /* stream rows written */
	uint64_t bad_records;    /* records lost: no sound copy found */
	uint64_t bad_pages;      /* pages that could not be read */
	uint64_t bad_rows;       /* stream rows damaged or lost */
	uint64_t recovered;      /* damaged in the tree, older copy found */
	uint64_t duplicates;     /* second copies of a key, not copied */
	uint64_t page_size;      /* of data.mdb, as found */
	uint64_t pages;          /* pages scanned */
};

/* 1 when the salvage found SRC damaged: the tree walk failed or was
 * incomplete, or a record, page or stream row was bad. */
static inline int salvage_damaged(const struct salvage_info *i)
{
	return !i->walked || i->bad_records > 0 || i->bad_pages > 0 ||
	       i->bad_rows > 0;
}

/*
 * Copies the sound records of the spool in directory src into a new
 * spool in dst, which must not exist or be an empty directory.  First
 * a walk of LMDB's B-trees, in a child process (a damaged page can make
 * LMDB fail or crash); when it fails, or finds records fewer than LMDB
 * counted, a scan of every page of src/data.mdb.  A record is copied
 * byte for byte when its header and CRC are sound; stream ids, names
 * and counters follow (docs/spool-format.md, "Salvage").  src is opened
 * read-only, without LMDB's lock file, and only while no other process
 * has it open (its spool.lock is taken exclusively meanwhile).
 *
 * fn (may be NULL) gets every bad record, bad page and note as found.
 * Forks: call only from a single-threaded process (the CLI).
 * Returns 0 with *info filled (see salvage_damaged()), SPOOLSHIP_EINVAL
 * when dst is refused (not empty, or inside src), -EBUSY when src is in
 * use, -ENOENT when src holds no spool, or another error with a reason
 * in errbuf; on an error a dst that salvage created is removed again.
 */
int spool_salvage(const char *src, const char *dst,
		  const struct salvage_opts *o, salvage_report_fn *fn,
		  void *arg, struct salvage_info *info, char *errbuf,
		  size_t errlen);

#endif
