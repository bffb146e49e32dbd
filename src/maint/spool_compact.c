/*
 * spool_compact.c - `spoolship compact`: rewrite the data file without its
 * free pages, check the copy record by record, and swap it in.  It must
 * never swap a file that another process has open, and never leave the
 * spool without a complete data.mdb, whatever moment it dies at.
 */
#define _DEFAULT_SOURCE /* flock */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errf.h"
#include "durable.h"
#include "spool.h"

#define TMP_PREFIX ".compact-"

struct paths {
	char data[4096];  /* DIR/data.mdb */
	char old[4096];   /* DIR/data.mdb.old */
	char lock[4096];  /* DIR/lock.mdb (LMDB's) */
	char tmp[4096];   /* DIR/.compact-XXXXXX */
	char copy[4096];  /* DIR/.compact-XXXXXX/data.mdb */
};

/* out (4096 bytes) = a "/" b */
static int path_of(char *out, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la + 1 + lb + 1 > 4096)
		return -ENAMETOOLONG;
	memcpy(out, a, la);
	out[la] = '/';
	memcpy(out + la + 1, b, lb + 1);
	return 0;
}

static int file_size(const char *path, uint64_t *out)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -errno;
	*out = (uint64_t)st.st_size;
	return 0;
}

/* Removes a copy directory and what LMDB and spoolship put in it. */
static void tmp_remove(const char *tmp)
{
	static const char *const files[] = { "data.mdb", "lock.mdb",
					     SPOOL_LOCK_NAME };
	char p[4096];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (path_of(p, tmp, files[i]) == 0)
			unlink(p);
	rmdir(tmp);
}

/* Left by a compact that died: copies, and an old file beside a whole
 * data.mdb.  Called only with the lock held exclusively. */
static void stale_remove(const char *dir, const struct paths *p)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char t[4096];

	unlink(p->old);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0 ||
		    path_of(t, dir, e->d_name) != 0)
			continue;
		tmp_remove(t);
	}
	closedir(d);
}

/* ---- the check of the copy --------------------------------------------- */

/* Compares one named database of the two environments record by record:
 * same count, same keys, same bytes (so the same CRCs). */
static int compare_db(MDB_txn *ta, MDB_dbi da, MDB_txn *tb, const char *name,
		      uint64_t *records, char *errbuf, size_t errlen)
{
	MDB_cursor *ca = NULL, *cb = NULL;
	MDB_val ka, va, kb, vb;
	MDB_dbi db;
	uint64_t n = 0;
	int ra, rb, rc;

	if ((rc = mdb_dbi_open(tb, name, 0, &db)) != 0)
		return errf(errbuf, errlen, spool_err(rc),
			    "the copy has no '%s' database", name);
	if ((rc = mdb_cursor_open(ta, da, &ca)) != 0 ||
	    (rc = mdb_cursor_open(tb, db, &cb)) != 0) {
		rc = spool_err(rc);
		goto out;
	}
	ra = mdb_cursor_get(ca, &ka, &va, MDB_FIRST);
	rb = mdb_cursor_get(cb, &kb, &vb, MDB_FIRST);
	while (ra == 0 && rb == 0) {
		if (ka.mv_size != kb.mv_size || va.mv_size != vb.mv_size ||
		    memcmp(ka.mv_data, kb.mv_data, ka.mv_size) != 0 ||
		    memcmp(va.mv_data, vb.mv_data, va.mv_size) != 0)
			break;
		n++;
		ra = mdb_cursor_get(ca, &ka, &va, MDB_NEXT);
		rb = mdb_cursor_get(cb, &kb, &vb, MDB_NEXT);
	}
	if (ra == MDB_NOTFOUND && rb == MDB_NOTFOUND) {
		*records += n;
		rc = 0;
	} else if ((ra == 0 || ra == MDB_NOTFOUND) &&
		   (rb == 0 || rb == MDB_NOTFOUND)) {
		rc = errf(errbuf, errlen, SPOOLSHIP_ECORRUPT,
			  "the copy differs from the spool in '%s' after "
			  "%llu records", name, (unsigned long long)n);
	} else {
		rc = ra != 0 && ra != MDB_NOTFOUND ? ra : rb;
		rc = errf(errbuf, errlen, spool_err(rc),
			  "reading '%s' for the check failed", name);
	}
out:
	if (ca != NULL)
		mdb_cursor_close(ca);
	if (cb != NULL)
		mdb_cursor_close(cb);
	return rc;
}

/* Opens the copy on its own (read-only, no lock file: nobody else knows
 * it) and compares it with the spool. */
static int check_copy(spoolship_spool *s, const char *tmp, uint64_t *records,
		      char *errbuf, size_t errlen)
{
	const struct {
		const char *name;
		MDB_dbi dbi;
	} dbs[] = { { "events", s->events },
		    { "streams", s->streams },
		    { "meta", s->meta },
		    { "dead", s->dead } };
	MDB_env *env = NULL;
	MDB_txn *ta = NULL, *tb = NULL;
	int rc;

	*records = 0;
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, 8)) != 0 ||
	    (rc = mdb_env_open(env, tmp, MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS,
			       0600)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &tb)) != 0) {
		rc = errf(errbuf, errlen, spool_err(rc),
			  "cannot open the copy in %s", tmp);
		goto out;
	}
	if ((rc = spool_txn_begin(s, 1, &ta)) != 0) {
		errf(errbuf, errlen, rc, "cannot read the spool");
		goto out;
	}
	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]) && rc == 0; i++)
		rc = compare_db(ta, dbs[i].dbi, tb, dbs[i].name, records,
				errbuf, errlen);
out:
	if (ta != NULL)
		spool_txn_abort(s, ta);
	if (tb != NULL)
		mdb_txn_abort(tb);
	if (env != NULL)
		mdb_env_close(env);
	return rc;
}

/* ---- exclusion and the swap ------------------------------------------- */

/* LMDB's own lock: every process with the environment open holds a
 * record lock on byte 0 of lock.mdb.  Taking it for writing proves that
 * none does, even one that never took spool.lock (an older spoolship);
 * held until *fd is closed, it also makes a new opener wait, which then
 * finds itself first and re-reads the lock table from the new file. */
static int lmdb_lock_free(const char *lockpath, int *fd)
{
	struct flock fl;

	*fd = open(lockpath, O_RDWR | O_CLOEXEC);
	if (*fd < 0)
		return errno == ENOENT ? 0 : -errno;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 1;
	while (fcntl(*fd, F_SETLK, &fl) != 0) {
		if (errno == EINTR)
			continue;
		return errno == EACCES || errno == EAGAIN ? -EBUSY : -errno;
	}
	return 0;
}

/* data.mdb is whole at every moment: linked to data.mdb.old, replaced by
 * rename(2), then the old name removed; the directory synced after each
 * step that must last. */
static int swap_in(const char *dir, const struct paths *p, char *errbuf,
		   size_t errlen)
{
	int rc;

	if (link(p->data, p->old) != 0)
		return errf(errbuf, errlen, -errno, "cannot link %s to %s",
			    p->data, p->old);
	if (rename(p->copy, p->data) != 0) {
		rc = errf(errbuf, errlen, -errno, "cannot rename %s to %s",
			  p->copy, p->data);
		unlink(p->old);
		return rc;
	}
	if ((rc = durable_sync_path(dir, O_RDONLY | O_DIRECTORY)) != 0)
		return errf(errbuf, errlen, rc, "cannot sync %s", dir);
	if (unlink(p->old) != 0)
		return errf(errbuf, errlen, -errno, "cannot remove %s",
			    p->old);
	return durable_sync_path(dir, O_RDONLY | O_DIRECTORY);
}

/* Makes the copy in p->tmp, beside the spool (the same file system, so
 * rename(2) can swap it in), and syncs it. */
static int make_copy(spoolship_spool *s, struct paths *p, char *errbuf,
		     size_t errlen)
{
	int rc;

	pthread_rwlock_rdlock(&s->maplock);
	rc = mdb_env_copy2(s->env, p->tmp, MDB_CP_COMPACT);
	pthread_rwlock_unlock(&s->maplock);
	if (rc != 0)
		return errf(errbuf, errlen, spool_err(rc),
			    "copying the spool into %s failed", p->tmp);
	/* LMDB creates the copy 0666 & ~umask: make it the spool's 0600. */
	if (chmod(p->copy, 0600) != 0 ||
	    (rc = durable_sync_path(p->copy, O_RDONLY)) != 0 ||
	    (rc = durable_sync_path(p->tmp, O_RDONLY | O_DIRECTORY)) != 0)
		return errf(errbuf, errlen, rc != 0 ? rc : -errno,
			    "cannot sync the copy %s", p->copy);
	return 0;
}

int spool_compact(const char *dir, struct spool_compact_info *info,
		  char *errbuf, size_t errlen)
{
	struct spoolship_options o;
	spoolship_spool *s = NULL;
	struct paths p;
	int lockfd = -1, lmfd = -1, have_tmp = 0, rc;

	memset(info, 0, sizeof(*info));
	if ((rc = path_of(p.data, dir, "data.mdb")) != 0 ||
	    (rc = path_of(p.old, dir, "data.mdb.old")) != 0 ||
	    (rc = path_of(p.lock, dir, "lock.mdb")) != 0 ||
	    (rc = path_of(p.tmp, dir, TMP_PREFIX "XXXXXX")) != 0 ||
	    (rc = path_of(p.copy, p.tmp, "data.mdb")) != 0) /* length */
		return errf(errbuf, errlen, rc, "path too long");
	if ((rc = file_size(p.data, &info->before_bytes)) != 0)
		return errf(errbuf, errlen, rc, "no spool at %s", dir);
	spoolship_options_init(&o);
	o.readonly = 1; /* the original is only read, whatever happens */
	if ((rc = spoolship_spool_open(dir, &o, &s)) != 0)
		return errf(errbuf, errlen, rc, "cannot open the spool %s",
			    dir);
	if (s->lockfd < 0) {
		rc = errf(errbuf, errlen, -ENOLCK, "cannot take %s/%s", dir,
			  SPOOL_LOCK_NAME);
		goto out;
	}
	/* From shared to exclusive, without waiting: held by anyone else,
	 * the spool is in use.  (A failed conversion may drop our shared
	 * lock; we give up then anyway.) */
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		errf(errbuf, errlen, rc, "the spool is in use by another "
		     "process");
		goto out;
	}
	/* Measured now: nobody can write any more. */
	if ((rc = file_size(p.data, &info->before_bytes)) != 0) {
		errf(errbuf, errlen, rc, "cannot stat %s", p.data);
		goto out;
	}
	stale_remove(dir, &p);
	if (mkdtemp(p.tmp) == NULL) {
		rc = errf(errbuf, errlen, -errno, "cannot create %s", p.tmp);
		goto out;
	}
	have_tmp = 1;
	path_of(p.copy, p.tmp, "data.mdb"); /* now with the real name */
	if ((rc = make_copy(s, &p, errbuf, errlen)) != 0 ||
	    (rc = check_copy(s, p.tmp, &info->records, errbuf, errlen)) != 0)
		goto out;
	/* Close the spool but keep its lock: take the descriptor over. */
	lockfd = s->lockfd;
	s->lockfd = -1;
	spoolship_spool_close(s);
	s = NULL;
	if ((rc = lmdb_lock_free(p.lock, &lmfd)) != 0) {
		errf(errbuf, errlen, rc, "the spool is in use by another "
		     "process (it holds LMDB's lock on %s)", p.lock);
		goto out;
	}
	if ((rc = swap_in(dir, &p, errbuf, errlen)) != 0)
		goto out;
	rc = file_size(p.data, &info->after_bytes);
out:
	if (have_tmp)
		tmp_remove(p.tmp);
	if (s != NULL)
		spoolship_spool_close(s);
	if (lmfd >= 0)
		close(lmfd);
	if (lockfd >= 0)
		close(lockfd);
	return rc;
}
