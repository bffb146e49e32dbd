/*
 * spool.c - opening, closing and sizing the LMDB environment, its counters
 * and its stream table.  Every txn of the process goes through
 * spool_txn_begin/commit so that a map resize never races an open txn.
 *
 * The bottom of the spool's files: they call it, it calls none of them.
 * In particular spool_seal.c may call spool.c, never the reverse: the
 * key an open needs is loaded and checked here, with seal.c.
 */
#define _DEFAULT_SOURCE /* madvise, realpath */
#define _POSIX_C_SOURCE 200809L
#include "seal.h"
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "array.h"
#include "clock.h"
#include "layout.h"

#define MAP_INITIAL (64ull << 20)
#define MAP_MIN (256ull << 10)

void spoolship_options_init(struct spoolship_options *o)
{
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->sync = SPOOLSHIP_SYNC_FULL;
	o->sync_interval_ms = 200;
	o->max_bytes = 1ull << 30;
	o->full_policy = SPOOLSHIP_FULL_REJECT;
	o->block_timeout_ms = 5000;
	o->max_age_ms = SPOOLSHIP_DEFAULT_MAX_AGE_MS -
			SPOOLSHIP_DEFAULT_AGE_MARGIN_MS;
}

int spool_err(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_MAP_FULL:
		return SPOOLSHIP_ESPOOL_FULL;
	case MDB_NOTFOUND:
		return SPOOLSHIP_ENOTFOUND;
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_BAD_TXN:
		return SPOOLSHIP_ECORRUPT;
	case MDB_VERSION_MISMATCH:
		return SPOOLSHIP_EVERSION;
	case MDB_PANIC:
		/* A write of a meta page failed earlier (I/O): LMDB refuses
		 * every later txn of this handle.  Reopening recovers. */
		return -EIO;
	case EACCES:
	case EROFS:
	case ENOMEM:
	case ENOSPC:
	case EIO:
	case ENOENT:
	case EAGAIN:
	case EINVAL:
		return -rc;
	default:
		return rc > 0 ? -rc : SPOOLSHIP_ELMDB;
	}
}

int spool_norm(int rc)
{
	if (rc == 0 || (rc >= SPOOLSHIP_E_FIRST && rc <= SPOOLSHIP_E_LAST))
		return rc;
	if (rc < 0 && rc > -4096)
		return rc; /* -errno */
	return spool_err(rc);
}

static uint64_t page_round(uint64_t v)
{
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);

	return v / pg * pg;
}

/* ---- transactions and the map ----------------------------------------- */

static int adopt_map(spoolship_spool *s)
{
	MDB_envinfo info;
	int rc;

	pthread_rwlock_wrlock(&s->maplock);
	rc = mdb_env_set_mapsize(s->env, 0);
	if (rc == 0 && mdb_env_info(s->env, &info) == 0) {
		pthread_mutex_lock(&s->mu);
		s->map_size = info.me_mapsize;
		pthread_mutex_unlock(&s->mu);
	}
	pthread_rwlock_unlock(&s->maplock);
	return rc;
}

int spool_txn_begin(spoolship_spool *s, int rdonly, MDB_txn **txn)
{
	unsigned flags = rdonly ? MDB_RDONLY : 0;
	int rc;

	if (!rdonly && s->o.readonly)
		return SPOOLSHIP_EREADONLY;
	for (int tries = 0; tries < 3; tries++) {
		pthread_rwlock_rdlock(&s->maplock);
		rc = mdb_txn_begin(s->env, NULL, flags, txn);
		if (rc == 0)
			return 0;
		pthread_rwlock_unlock(&s->maplock);
		if (rc != MDB_MAP_RESIZED)
			break;
		/* Another process grew the map: take its size and retry. */
		rc = adopt_map(s);
		if (rc != 0)
			break;
	}
	return spool_err(rc);
}

int64_t spool_max_age(spoolship_spool *s)
{
	int64_t ms;

	pthread_mutex_lock(&s->mu);
	ms = s->o.max_age_ms;
	pthread_mutex_unlock(&s->mu);
	return ms;
}

void spool_set_max_age(spoolship_spool *s, int64_t ms)
{
	pthread_mutex_lock(&s->mu);
	s->o.max_age_ms = ms;
	pthread_mutex_unlock(&s->mu);
}

#define FS_FULL_SLACK (1ull << 20)
int spool_fs_low(const spoolship_spool *s, uint64_t need)
{
	struct statvfs v;

	return s->dir != NULL && statvfs(s->dir, &v) == 0 &&
	       (uint64_t)v.f_bavail * v.f_frsize < need + FS_FULL_SLACK;
}

int spool_txn_commit(spoolship_spool *s, MDB_txn *txn)
{
	int rc = mdb_txn_commit(txn);

	pthread_rwlock_unlock(&s->maplock);
	if (rc == 0)
		spool_note_commit(s);
	/* LMDB reports a short write, which is what a full filesystem
	 * gives, as EIO: with (almost) no room left, call it ENOSPC. */
	else if (rc == EIO && spool_fs_low(s, 0))
		rc = ENOSPC;
	return spool_err(rc);
}

void spool_txn_abort(spoolship_spool *s, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&s->maplock);
}

int spool_grow(spoolship_spool *s, int for_delete)
{
	uint64_t cap = page_round(s->o.max_bytes +
				  (for_delete ? spool_reserve(s) : 0));
	uint64_t want;
	MDB_envinfo info;
	int rc;

	pthread_rwlock_wrlock(&s->maplock);
	/* Another process may have grown it already: adopt first. */
	rc = mdb_env_set_mapsize(s->env, 0);
	if (rc == 0)
		rc = mdb_env_info(s->env, &info);
	if (rc != 0)
		goto out;
	pthread_mutex_lock(&s->mu);
	if (info.me_mapsize > s->map_size) {
		s->map_size = info.me_mapsize;
		pthread_mutex_unlock(&s->mu);
		goto out;
	}
	pthread_mutex_unlock(&s->mu);
	if (info.me_mapsize >= cap) {
		rc = MDB_MAP_FULL;
		goto out;
	}
	want = info.me_mapsize * 2;
	if (want > cap)
		want = cap;
	rc = mdb_env_set_mapsize(s->env, want);
	if (rc == 0) {
		pthread_mutex_lock(&s->mu);
		s->map_size = want;
		pthread_mutex_unlock(&s->mu);
	}
out:
	pthread_rwlock_unlock(&s->maplock);
	return spool_err(rc);
}

static int full_because(spoolship_spool *s, int why)
{
	pthread_mutex_lock(&s->mu);
	s->full_why = why;
	pthread_mutex_unlock(&s->mu);
	return SPOOLSHIP_ESPOOL_FULL;
}

const char *spool_full_limit(spoolship_spool *s)
{
	int why;

	pthread_mutex_lock(&s->mu);
	why = s->full_why;
	pthread_mutex_unlock(&s->mu);
	return why == SPOOL_FULL_FS ? "filesystem" : "budget";
}

#define NEED_MIN (64ull << 10)
int spool_write_need(spoolship_spool *s, int for_delete, uint64_t need,
		     spool_txn_fn *fn, void *arg)
{
	MDB_txn *txn;
	int rc;

	if (need < NEED_MIN)
		need = NEED_MIN;
	for (;;) {
		rc = spool_txn_begin(s, 0, &txn);
		if (rc != 0)
			return rc;
		rc = spool_room(s, txn, for_delete, need);
		if (rc == 0)
			rc = fn(s, txn, arg);
		if (rc == 0)
			rc = spool_txn_commit(s, txn);
		else
			spool_txn_abort(s, txn);
		/* A full filesystem is a full spool to the producer (503,
		 * exit 4, the full_policy), but a larger map cannot help. */
		if (rc == -ENOSPC || rc == -EDQUOT)
			return full_because(s, SPOOL_FULL_FS);
		if (rc != SPOOLSHIP_ESPOOL_FULL)
			return rc;
		rc = spool_grow(s, for_delete);
		if (rc == SPOOLSHIP_ESPOOL_FULL)
			return full_because(s, SPOOL_FULL_BUDGET);
		if (rc != 0)
			return rc;
	}
}

int spool_write(spoolship_spool *s, int for_delete, spool_txn_fn *fn,
		void *arg)
{
	return spool_write_need(s, for_delete, 0, fn, arg);
}

/* Finds this process's mapping of the data file in /proc/self/maps
 * (LMDB does not tell its address unless MDB_FIXEDMAP is used). */
static int find_map(const char *path, uintptr_t *lo, uintptr_t *hi)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096 + 256];
	size_t plen = strlen(path);
	int found = 0;

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		size_t n = strcspn(line, "\n");
		unsigned long a, b;

		line[n] = '\0';
		if (n < plen || strcmp(line + n - plen, path) != 0 ||
		    sscanf(line, "%lx-%lx", &a, &b) != 2)
			continue;
		*lo = a;
		*hi = b;
		found = 1;
	}
	fclose(f);
	return found;
}

void spool_release_pages(spoolship_spool *s)
{
	char path[4096 + 16];
	uintptr_t lo, hi;

	if (s->realdir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/data.mdb", s->realdir);
	pthread_rwlock_rdlock(&s->maplock); /* no remap meanwhile */
	if (find_map(path, &lo, &hi))
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
	pthread_rwlock_unlock(&s->maplock);
}

/* ---- the SYNC_BATCH syncer ------------------------------------------- */

void spool_note_commit(spoolship_spool *s)
{
	if (!s->syncer_running)
		return;
	pthread_mutex_lock(&s->mu);
	s->dirty = 1;
	pthread_mutex_unlock(&s->mu);
}

static void *syncer_main(void *arg)
{
	spoolship_spool *s = arg;
	struct timespec ts;

	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		clock_deadline(&ts, s->o.sync_interval_ms);
		pthread_cond_timedwait(&s->sync_cv, &s->mu, &ts);
		if (!s->dirty)
			continue;
		s->dirty = 0;
		pthread_mutex_unlock(&s->mu);
		int rc = mdb_env_sync(s->env, 1);
		pthread_mutex_lock(&s->mu);
		if (rc != 0)
			s->sync_err = spool_err(rc);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int spoolship_spool_sync(spoolship_spool *s)
{
	if (s == NULL)
		return SPOOLSHIP_EINVAL;
	if (s->o.readonly)
		return 0;
	return spool_err(mdb_env_sync(s->env, 1));
}

/* ---- meta -------------------------------------------------------------- */

int meta_get(spoolship_spool *s, MDB_txn *txn, const char *key, uint64_t *v)
{
	MDB_val k = { strlen(key), (void *)key }, d;
	int rc = mdb_get(txn, s->meta, &k, &d);

	*v = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return spool_err(rc);
	if (d.mv_size != 8)
		return SPOOLSHIP_ECORRUPT;
	*v = get_be64(d.mv_data);
	return 0;
}

int meta_set(spoolship_spool *s, MDB_txn *txn, const char *key,
		    uint64_t v)
{
	unsigned char buf[8];
	MDB_val k = { strlen(key), (void *)key }, d = { 8, buf };

	put_be64(buf, v);
	return spool_err(mdb_put(txn, s->meta, &k, &d, 0));
}

int meta_add(spoolship_spool *s, MDB_txn *txn, const char *key, uint64_t d)
{
	uint64_t v;
	int rc;

	if (d == 0)
		return 0;
	rc = meta_get(s, txn, key, &v);
	return rc != 0 ? rc : meta_set(s, txn, key, v + d);
}

/* ---- streams ------------------------------------------------------------ */

int spoolship_table_name_ok(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;

	if (n == 0 || n > SPOOLSHIP_MAX_TABLE_LEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return 0;
	}
	return 1;
}

static int row_decode(const MDB_val *d, struct stream_row *row)
{
	const unsigned char *p = d->mv_data;

	if (d->mv_size != STREAM_ROW_LEN)
		return SPOOLSHIP_ECORRUPT;
	row->id = get_be32(p);
	row->next_seq = get_be64(p + 4);
	row->pending_events = get_be64(p + 12);
	row->pending_bytes = get_be64(p + 20);
	return 0;
}

int stream_get(spoolship_spool *s, MDB_txn *txn, const char *name,
	       struct stream_row *row)
{
	MDB_val k = { strlen(name), (void *)name }, d;
	int rc = mdb_get(txn, s->streams, &k, &d);

	return rc != 0 ? spool_err(rc) : row_decode(&d, row);
}

int stream_put(spoolship_spool *s, MDB_txn *txn, const char *name,
	       const struct stream_row *row)
{
	unsigned char buf[STREAM_ROW_LEN];
	MDB_val k = { strlen(name), (void *)name }, d = { sizeof(buf), buf };

	put_be32(buf, row->id);
	put_be64(buf + 4, row->next_seq);
	put_be64(buf + 12, row->pending_events);
	put_be64(buf + 20, row->pending_bytes);
	return spool_err(mdb_put(txn, s->streams, &k, &d, 0));
}

int stream_get_or_create(spoolship_spool *s, MDB_txn *txn, const char *name,
			 struct stream_row *row)
{
	uint64_t next;
	int rc = stream_get(s, txn, name, row);

	if (rc != SPOOLSHIP_ENOTFOUND)
		return rc;
	rc = meta_get(s, txn, META_NEXT_STREAM, &next);
	if (rc != 0)
		return rc;
	if (next == 0)
		next = 1;
	if (next > UINT32_MAX)
		return SPOOLSHIP_EINVAL;
	memset(row, 0, sizeof(*row));
	row->id = (uint32_t)next;
	row->next_seq = 1;
	rc = meta_set(s, txn, META_NEXT_STREAM, next + 1);
	return rc != 0 ? rc : stream_put(s, txn, name, row);
}

/* ---- walks ---------------------------------------------------------- */

int spool_db_each(MDB_txn *txn, MDB_dbi dbi, spool_kv_fn *fn, void *arg)
{
	MDB_cursor *c;
	MDB_val k, d;
	int res = 0, rc = mdb_cursor_open(txn, dbi, &c);

	if (rc != 0)
		return spool_err(rc);
	for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT))
		if ((res = fn(arg, &k, &d)) != 0)
			break;
	mdb_cursor_close(c);
	if (res != 0)
		return res;
	return rc == MDB_NOTFOUND ? 0 : spool_err(rc);
}

struct stream_walk {
	int strict;
	stream_each_fn *fn;
	void *arg;
};

static int stream_row_each(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct stream_walk *w = arg;
	char name[SPOOLSHIP_MAX_TABLE_LEN + 1];
	struct stream_row row;

	if (k->mv_size > SPOOLSHIP_MAX_TABLE_LEN || row_decode(d, &row) != 0)
		return w->strict ? SPOOLSHIP_ECORRUPT : 0;
	memcpy(name, k->mv_data, k->mv_size);
	name[k->mv_size] = '\0';
	return w->fn(w->arg, name, &row);
}

int stream_each(spoolship_spool *s, MDB_txn *txn, int strict,
		stream_each_fn *fn, void *arg)
{
	struct stream_walk w = { strict, fn, arg };

	return spool_db_each(txn, s->streams, stream_row_each, &w);
}

struct stream_list {
	struct spool_stream *v;
	size_t n, cap;
};

static int stream_list_add(void *arg, const char *name,
			   const struct stream_row *row)
{
	struct stream_list *l = arg;
	struct spool_stream *e;
	int rc = array_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));

	if (rc != 0)
		return rc;
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->id = row->id;
	e->next_seq = row->next_seq;
	e->pending_events = row->pending_events;
	e->pending_bytes = row->pending_bytes;
	return 0;
}

int stream_list(spoolship_spool *s, MDB_txn *txn, int strict,
		struct spool_stream **rows, size_t *n)
{
	struct stream_list l = { NULL, 0, 0 };
	int rc = stream_each(s, txn, strict, stream_list_add, &l);

	if (rc != 0) {
		free(l.v);
		l.v = NULL;
		l.n = 0;
	}
	*rows = l.v;
	*n = l.n;
	return rc;
}

int spool_streams(spoolship_spool *s, struct spool_stream **rows, size_t *n)
{
	MDB_txn *txn;
	int rc;

	*rows = NULL;
	*n = 0;
	if ((rc = spool_txn_begin(s, 1, &txn)) != 0)
		return rc;
	rc = stream_list(s, txn, STREAM_EACH_STRICT, rows, n);
	spool_txn_abort(s, txn);
	return rc;
}

struct stream_tally *stream_tally_of(struct stream_tallies *t, uint32_t id)
{
	for (size_t i = t->n; i > 0; i--)
		if (t->v[i - 1].id == id)
			return &t->v[i - 1];
	if (array_grow((void **)&t->v, &t->cap, t->n + 1, sizeof(*t->v)) != 0)
		return NULL;
	memset(&t->v[t->n], 0, sizeof(*t->v));
	t->v[t->n].id = id;
	return &t->v[t->n++];
}

struct find_id {
	uint32_t id;
	char *name;
	struct stream_row *row;
};

static int find_id_one(void *arg, const char *name,
		       const struct stream_row *row)
{
	struct find_id *f = arg;

	if (row->id != f->id)
		return 0;
	snprintf(f->name, SPOOLSHIP_MAX_TABLE_LEN + 1, "%s", name);
	*f->row = *row;
	return 1; /* found: the walk stops */
}

/* Walks the stream table for the row with this id. */
static int stream_find_id(spoolship_spool *s, MDB_txn *txn, uint32_t id,
			  char *name, struct stream_row *row)
{
	struct find_id f = { id, name, row };
	int rc = stream_each(s, txn, STREAM_EACH_SKIP, find_id_one, &f);

	return rc == 1 ? 0 : rc == 0 ? SPOOLSHIP_ENOTFOUND : rc;
}

int stream_name_of(spoolship_spool *s, MDB_txn *txn, uint32_t id,
		   char *name)
{
	struct stream_row row;

	return stream_find_id(s, txn, id, name, &row);
}

int stream_sub_pending(spoolship_spool *s, MDB_txn *txn, uint32_t id,
		       uint64_t events, uint64_t bytes)
{
	char name[SPOOLSHIP_MAX_TABLE_LEN + 1];
	struct stream_row row;
	int rc;

	if (events == 0)
		return 0;
	rc = stream_find_id(s, txn, id, name, &row);
	if (rc != 0)
		return rc;
	row.pending_events -= events < row.pending_events ?
				      events : row.pending_events;
	row.pending_bytes -= bytes < row.pending_bytes ?
				     bytes : row.pending_bytes;
	return stream_put(s, txn, name, &row);
}

/* ---- the key (encryption at rest) ------------------------------------ */

#define META_KEY_ID "enc_key_id"

/* Reads o.key_file (if any) into s->sealer.  Returns 0 or SPOOLSHIP_EKEY. */
static int key_load(spoolship_spool *s)
{
	unsigned char key[SEAL_KEY_LEN];
	int rc;

	if (s->o.key_file == NULL || *s->o.key_file == '\0')
		return 0;
	rc = seal_key_load(s->o.key_file, key, NULL, 0);
	if (rc == 0)
		rc = sealer_new(key, &s->sealer);
	OPENSSL_cleanse(key, sizeof(key));
	s->o.key_file = NULL; /* the caller's string: not kept */
	return rc;
}

/* At open, in the txn that opened the databases: compares the key with
 * the fingerprint in meta (EKEYWRONG); the first writable open with a key
 * records it.  A writable open without the key of an encrypted spool is
 * refused (EKEYNEEDED): it would append events in the clear. */
static int key_match(spoolship_spool *s, MDB_txn *txn)
{
	unsigned char id[SEAL_KEY_ID_LEN];
	MDB_val k = { sizeof(META_KEY_ID) - 1, (void *)META_KEY_ID }, d;
	int rc = mdb_get(txn, s->meta, &k, &d);

	if (rc != 0 && rc != MDB_NOTFOUND)
		return spool_err(rc);
	if (rc == 0 && d.mv_size != SEAL_KEY_ID_LEN)
		return SPOOLSHIP_ECORRUPT;
	s->encrypted = rc == 0;
	if (s->sealer == NULL)
		return s->encrypted && !s->o.readonly ?
			       SPOOLSHIP_EKEYNEEDED : 0;
	sealer_key_id(s->sealer, id);
	if (s->encrypted)
		return memcmp(id, d.mv_data, sizeof(id)) == 0 ?
			       0 : SPOOLSHIP_EKEYWRONG;
	if (s->o.readonly)
		return 0;
	d.mv_size = sizeof(id);
	d.mv_data = id;
	s->encrypted = 1;
	return spool_err(mdb_put(txn, s->meta, &k, &d, 0));
}

/* ---- open and close ----------------------------------------------------- */

static int make_dir(const char *dir, int readonly)
{
	struct stat st;

	/* Several processes may create the same spool at once: EEXIST from
	 * mkdir is fine, what it made is checked below. */
	if (!readonly && mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	if (stat(dir, &st) != 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (!readonly && access(dir, W_OK | X_OK) != 0)
		return -errno;
	return 0;
}

static uint64_t initial_map(const char *dir, uint64_t budget)
{
	char path[4096];
	struct stat st;
	uint64_t m = budget < MAP_INITIAL ? budget : MAP_INITIAL;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &st) == 0 && (uint64_t)st.st_size > m)
		m = (uint64_t)st.st_size;
	return page_round(m + (uint64_t)sysconf(_SC_PAGESIZE) - 1);
}

static int open_dbs(spoolship_spool *s)
{
	unsigned cf = s->o.readonly ? 0 : MDB_CREATE;
	uint64_t ver;
	MDB_txn *txn;
	int rc = spool_txn_begin(s, s->o.readonly, &txn);

	if (rc != 0)
		return rc;
	if ((rc = mdb_dbi_open(txn, "events", cf, &s->events)) != 0 ||
	    (rc = mdb_dbi_open(txn, "streams", cf, &s->streams)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", cf, &s->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "dead", cf, &s->dead)) != 0) {
		rc = rc == MDB_NOTFOUND ? -ENOENT : spool_err(rc);
		goto err;
	}
	rc = meta_get(s, txn, META_VERSION, &ver);
	if (rc != 0)
		goto err;
	if (ver > SPOOLSHIP_FORMAT_VERSION) {
		rc = SPOOLSHIP_EVERSION;
		goto err;
	}
	if (ver == 0 && !s->o.readonly) {
		if ((rc = meta_set(s, txn, META_VERSION,
				   SPOOLSHIP_FORMAT_VERSION)) != 0 ||
		    (rc = meta_set(s, txn, META_CREATED,
				   (uint64_t)clock_wall_ms())) != 0)
			goto err;
	}
	if ((rc = key_match(s, txn)) != 0)
		goto err;
	/* Commit even a read txn: handles opened in one that aborts close. */
	return spool_txn_commit(s, txn);
err:
	spool_txn_abort(s, txn);
	return rc;
}

/*
 * LMDB sizes lock.mdb with ftruncate and then writes to it through a
 * shared map: on a full filesystem the first store to a page that has no
 * block yet is a SIGBUS.  Give the file its blocks first (the size LMDB
 * gives a new one, 126 readers; an existing file keeps its size, which
 * every process reads its reader count from), so that a full disk is an
 * error, not a crash.
 */
#define LOCK_FILE_BYTES 8192
static int lock_file_alloc(const char *dir)
{
	char path[4096];
	struct stat st;
	int fd, n, rc;

	n = snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = fstat(fd, &st) != 0 ? errno :
	     posix_fallocate(fd, 0, st.st_size > LOCK_FILE_BYTES ?
				    st.st_size : LOCK_FILE_BYTES);
	close(fd);
	/* Anything else (no fallocate here, ...): LMDB goes on as ever. */
	return rc == ENOSPC || rc == EDQUOT ? SPOOLSHIP_ESPOOL_FULL : 0;
}

static int env_open(spoolship_spool *s, const char *dir)
{
	unsigned flags = MDB_NOTLS;
	MDB_envinfo info;
	MDB_stat st;
	int rc, dead;

	if (s->o.sync != SPOOLSHIP_SYNC_FULL)
		flags |= MDB_NOSYNC;
	if (s->o.readonly)
		flags |= MDB_RDONLY;
	else if ((rc = lock_file_alloc(dir)) != 0)
		return rc;
	s->map_size = initial_map(dir, s->o.max_bytes);
	if ((rc = mdb_env_create(&s->env)) != 0)
		return spool_err(rc);
	if ((rc = mdb_env_set_maxdbs(s->env, 8)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, s->map_size)) != 0)
		return spool_err(rc);
	rc = mdb_env_open(s->env, dir, flags, 0600);
	if (rc != 0)
		return spool_err(rc);
	/* Keep a map another process grew: the larger of its size and ours
	 * (a read-only view just takes the size on disk). */
	if ((rc = mdb_env_set_mapsize(s->env, 0)) != 0 ||
	    (rc = mdb_env_info(s->env, &info)) != 0)
		return spool_err(rc);
	if (!s->o.readonly && info.me_mapsize < s->map_size) {
		if ((rc = mdb_env_set_mapsize(s->env, s->map_size)) != 0)
			return spool_err(rc);
	} else {
		s->map_size = info.me_mapsize;
	}
	/* Slots of readers that died hold old pages hostage: free them. */
	mdb_reader_check(s->env, &dead);
	if ((rc = mdb_env_stat(s->env, &st)) != 0)
		return spool_err(rc);
	s->psize = st.ms_psize;
	return 0;
}

/*
 * The spool lock (added for `spoolship compact`): DIR/spool.lock is held
 * LOCK_SH by every open handle, from before LMDB opens anything until
 * after it closed everything.  Compact takes it LOCK_EX (without waiting)
 * to swap the data file, so it never swaps a file that some process has
 * mapped; an open that arrives meanwhile waits here and then maps the
 * new file.  A read-only view of a directory it may not write to, where
 * no lock file exists yet, goes without (lockfd -1).
 */
static int lock_take(spoolship_spool *s, const char *dir)
{
	char path[4096];
	int fd, n;

	n = snprintf(path, sizeof(path), "%s/%s", dir, SPOOL_LOCK_NAME);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 && s->o.readonly)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return s->o.readonly && (errno == ENOENT || errno == EACCES ||
					 errno == EROFS) ? 0 : -errno;
	while (flock(fd, LOCK_SH) != 0) {
		if (errno != EINTR) {
			n = -errno;
			close(fd);
			return n;
		}
	}
	s->lockfd = fd;
	return 0;
}

/* Releases all a handle holds: a failed open's part and a close's whole
 * (the env may not be open yet after a failed open). */
static void spool_free(spoolship_spool *s)
{
	if (s->env != NULL)
		mdb_env_close(s->env);
	if (s->lockfd >= 0)
		close(s->lockfd); /* after the env: see lock_take */
	pthread_cond_destroy(&s->sync_cv);
	pthread_mutex_destroy(&s->mu);
	pthread_rwlock_destroy(&s->maplock);
	sealer_free(s->sealer);
	free(s->dir);
	free(s->realdir);
	free(s);
}

static int opts_ok(const struct spoolship_options *o)
{
	return o->sync >= SPOOLSHIP_SYNC_FULL && o->sync <= SPOOLSHIP_SYNC_NONE &&
	       o->full_policy >= SPOOLSHIP_FULL_REJECT &&
	       o->full_policy <= SPOOLSHIP_FULL_BLOCK &&
	       o->max_bytes >= MAP_MIN && o->max_age_ms >= 0 &&
	       (o->sync != SPOOLSHIP_SYNC_BATCH || o->sync_interval_ms > 0);
}

int spoolship_spool_open(const char *dir, const struct spoolship_options *opts,
			 spoolship_spool **out)
{
	spoolship_spool *s;
	pthread_condattr_t ca;
	int rc;

	if (dir == NULL || out == NULL)
		return SPOOLSHIP_EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->lockfd = -1;
	rc = options_import(opts, &s->o, NULL, 0);
	pthread_rwlock_init(&s->maplock, NULL);
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->sync_cv, &ca);
	pthread_condattr_destroy(&ca);
	if (rc != 0 || !opts_ok(&s->o)) {
		rc = SPOOLSHIP_EINVAL;
		goto err;
	}
	s->dir = strdup(dir);
	s->realdir = NULL;
	if (s->dir == NULL) {
		rc = -ENOMEM;
		goto err;
	}
	if ((rc = key_load(s)) != 0 ||
	    (rc = make_dir(dir, s->o.readonly)) != 0 ||
	    (rc = lock_take(s, dir)) != 0 ||
	    (rc = env_open(s, dir)) != 0 || (rc = open_dbs(s)) != 0)
		goto err;
	s->realdir = realpath(dir, NULL); /* NULL only disables a release */
	if (s->o.sync == SPOOLSHIP_SYNC_BATCH && !s->o.readonly) {
		rc = -pthread_create(&s->syncer, NULL, syncer_main, s);
		if (rc != 0)
			goto err;
		s->syncer_running = 1;
	}
	*out = s;
	return 0;
err:
	spool_free(s);
	return rc;
}

/* Saves rejections counted since the last commit. */
static int flush_rejected(spoolship_spool *s)
{
	uint64_t n;
	MDB_txn *txn;
	int rc;

	pthread_mutex_lock(&s->mu);
	n = s->rejected_unsaved;
	s->rejected_unsaved = 0;
	pthread_mutex_unlock(&s->mu);
	if (n == 0 || s->o.readonly)
		return 0;
	rc = spool_txn_begin(s, 0, &txn);
	if (rc != 0)
		return rc;
	rc = meta_add(s, txn, META_REJECTED, n);
	if (rc != 0) {
		spool_txn_abort(s, txn);
		return rc;
	}
	return spool_txn_commit(s, txn);
}

int spoolship_spool_close(spoolship_spool *s)
{
	int rc, rc2 = 0;

	if (s == NULL)
		return 0;
	rc = flush_rejected(s);
	if (s->syncer_running) {
		pthread_mutex_lock(&s->mu);
		s->stopping = 1;
		pthread_cond_signal(&s->sync_cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->syncer, NULL);
		rc2 = s->sync_err;
	}
	if (!s->o.readonly && s->o.sync != SPOOLSHIP_SYNC_FULL) {
		int r = mdb_env_sync(s->env, 1);

		if (r != 0 && rc2 == 0)
			rc2 = spool_err(r);
	}
	spool_free(s);
	return rc != 0 ? rc : rc2;
}

void spool_count_rejected(spoolship_spool *s, uint64_t n)
{
	pthread_mutex_lock(&s->mu);
	s->rejected_unsaved += n;
	pthread_mutex_unlock(&s->mu);
}
