/*
 * spool_salvage.c - `spoolship salvage SRC DST`: copy every sound record
 * of a damaged spool into a new one.  It must never write to SRC (not
 * even lock.mdb), never trust a page of SRC, and never lose a record
 * whose header and CRC are sound.
 *
 * Two passes.  The tree walk (salvage_walk.c) reads SRC through LMDB
 * cursors in a child process, since LMDB trusts page pointers and a
 * damaged page can crash it; the child streams what it reads to the
 * parent over a pipe, and the parent, which alone writes DST, checks
 * every record again.  When the walk fails, or reaches fewer records
 * than LMDB counted, the raw scan (salvage_scan.c) reads data.mdb page
 * by page with pread(2) (never mapped), takes the leaf pages of the
 * spool's databases and follows their overflow pages.  It sees free
 * pages too, so it may find stale copies of records: a key is copied
 * once (all copies of a key hold the same bytes), and events that were
 * already delivered may come back.  This file holds the entry point:
 * SRC claimed, DST checked, the passes run in turn, DST synced (or
 * removed when the salvage failed).
 *
 * The top of the salvage files: it calls the passes (salvage_walk.c,
 * salvage_scan.c) and the sink (salvage_sink.c), where both passes hand
 * what they find and which writes DST; none of them calls back up here
 * (test 0011 checks it on the objects).
 */
#define _DEFAULT_SOURCE /* flock */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errf.h"
#include "durable.h"
#include "salvage_int.h"

#define PATHLEN 4096

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

/* ---- the entry point ---------------------------------------------------- */

static int scan_pass(struct ctx *x, const struct salvage_opts *o, int fd,
		     const struct geometry *g)
{
	int rc;

	if (!x->info->walked || o->scan) {
		if (sizeof(size_t) != 8)
			return -ENOTSUP; /* the layout read is 64-bit's */
		for (int i = 0; i < 2; i++)
			if (!g->meta_ok[i])
				salvage_bad_page(x, (uint64_t)i,
						 "meta page damaged");
		x->info->scanned = 1;
		return salvage_scan_run(x, fd, g);
	}
	if (x->nbad == 0)
		return 0;
	/* Only the records the walk found damaged: an older copy of one
	 * may sit in a free page, the same bytes under the same key. */
	salvage_bad_restrict(x);
	rc = salvage_scan_run(x, fd, g);
	x->restricted = 0;
	return rc;
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
	salvage_geometry_read(fd, (uint64_t)st.st_size, &g);
	x->info->page_size = g.psize;
	if ((g.meta_ok[0] || g.meta_ok[1]) &&
	    (g.last_pg + 1) * g.psize > g.fsize) {
		/* LMDB would fault on the missing pages: no walk. */
		snprintf(x->info->walk_error, sizeof(x->info->walk_error),
			 "data.mdb is %llu bytes but its meta page says %llu:"
			 " truncated", (unsigned long long)g.fsize,
			 (unsigned long long)((g.last_pg + 1) * g.psize));
		rc = salvage_dst_open(dst, existed, g.fsize, &x->s);
	} else {
		rc = salvage_walk_run(x, src, dst, existed, g.fsize, &x->s);
	}
	if (rc != 0)
		return errf(errbuf, errlen, rc, "salvage into %s failed", dst);
	if (!x->info->walked)
		salvage_note(x, "tree walk failed (%s): scanning data.mdb "
			     "page by page", x->info->walk_error);
	if ((rc = scan_pass(x, o, fd, &g)) != 0)
		return errf(errbuf, errlen, rc, "scanning %s/data.mdb", src);
	if ((rc = salvage_sink_finish(x)) != 0)
		return errf(errbuf, errlen, rc, "cannot write %s", dst);
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
	salvage_sink_free(&x);
	return rc;
}
