/*
 * salvage_walk.c - pass 1 of `spoolship salvage`: LMDB's B-trees of SRC
 * walked with cursors in a forked child (a damaged page may crash LMDB),
 * what it reads sent to the parent as frames over a pipe.  It must never
 * write to SRC, nor trust what the child sends: the parent checks again.
 *
 * Called by spool_salvage.c; hands what it reads to salvage_sink.c and
 * calls nothing else of salvage (test 0011 checks it on the objects).
 */
#define _DEFAULT_SOURCE /* strsignal */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "array.h"
#include "errf.h"
#include "salvage_int.h"

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
		return salvage_merge_stream(x, key, f->klen, v, f->vlen);
	case FR_META:
		salvage_merge_meta(x, key, f->klen, v, f->vlen);
		return 0;
	case FR_EVENT:
	case FR_DEAD:
		return salvage_take_record(x, f->type == FR_DEAD, key,
					   f->klen, v, f->vlen, 1, NULL);
	case FR_BAD:
		return salvage_bad_add(x, f->db != 0, key, f->klen,
				       (const char *)v, 1);
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
int salvage_walk_run(struct ctx *x, const char *src, const char *dst,
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
	} else if ((rc = salvage_dst_open(dst, existed, fsize, s)) == 0) {
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
