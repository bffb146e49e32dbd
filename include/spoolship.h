/*
 * spoolship.h - the producer library: a durable, disk-spooled event queue.
 *
 * Applications append JSON events to a spool (an LMDB environment on local
 * disk); the `spoolship run` daemon ships them to an HTTP Events API.  This
 * header is the whole public contract.  It never pulls in libcurl or
 * libmicrohttpd: linking it costs LMDB, cJSON, zlib, libcrypto (OpenSSL,
 * for encryption at rest) and pthreads (pkg-config --libs --static
 * spoolship lists them).  The library defines no global symbol outside
 * the spoolship_ prefix, so its internals never clash with a program's.
 *
 * Errors
 *   Every function that can fail returns an int: 0 on success, or a negative
 *   code.  Codes from SPOOLSHIP_E_FIRST to SPOOLSHIP_E_LAST are the library's
 *   own (enum spoolship_err); any other negative value is -errno.
 *   spoolship_strerror() maps both.  No function returns a value and an error
 *   in one number: results go through out-parameters.
 *
 * Durability
 *   With sync mode SPOOLSHIP_SYNC_FULL (the default) an append that returned
 *   0 is on stable storage: it survives kill -9 and power loss.  With
 *   SPOOLSHIP_SYNC_BATCH it survives a process crash, and a power loss may
 *   take back at most the appends of the last sync_interval_ms.  With
 *   SPOOLSHIP_SYNC_NONE it survives a process crash only.  The spool itself
 *   stays consistent in every mode.
 *
 * Thread safety
 *   A spoolship_spool handle may be used from several threads at once: every
 *   function taking one is thread-safe unless its comment says otherwise.
 *   Any number of processes may open the same spool and append at once
 *   (LMDB serialises writers).  A process must open a given spool directory
 *   only once (an LMDB rule): share the handle between threads instead.
 *
 * Growing structs
 *   struct spoolship_options, spoolship_producer_options and
 *   spoolship_stats begin with `size`: the sizeof of the struct the
 *   program was compiled with.  The _init functions set it (for stats,
 *   spoolship_stats_init() before spoolship_spool_stats()).  Fields are
 *   only ever added at the end, each layout larger than the one before
 *   (never only into tail padding), so a program built against an older
 *   header keeps working: the library accepts every layout it has
 *   published, from the first (ABI 0) to its own; fields an older
 *   caller's struct lacks get their defaults (options) or are not
 *   written (stats).  A size smaller than the first layout, larger than
 *   the library's or in between two layouts is refused with
 *   SPOOLSHIP_EINVAL.
 *
 * Versions and ABI
 *   The shared library's soname is libspoolship.so.0.  ABI 0 begins with
 *   the first release (nothing earlier was published).  Functions may be
 *   added; a change to an existing function's signature, or to a
 *   struct's layout other than by the rule above, raises the soname's
 *   number.  spoolship_version() tells which library a program runs with.
 *
 * Caveats
 *   - Do not open a spool on a network filesystem (LMDB needs working
 *     mmap and POSIX locks).
 *   - Do not fork() with a spool open and use it in the child.
 *   - Events buffered in a spoolship_producer are in memory until the
 *     producer flushes them: see spoolship_producer_append().
 */
#ifndef SPOOLSHIP_H
#define SPOOLSHIP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SPOOLSHIP_VERSION_STRING "0.1.0"
/* The same version as one number: major * 10000 + minor * 100 + patch. */
#define SPOOLSHIP_VERSION_NUMBER 100

/* Marks the library's public functions; everything else in the shared
 * library is hidden (it is built with -fvisibility=hidden). */
#if defined(__GNUC__) || defined(__clang__)
#define SPOOLSHIP_API __attribute__((visibility("default")))
#else
#define SPOOLSHIP_API
#endif

/* The spool's on-disk format version this library writes and reads. */
#define SPOOLSHIP_FORMAT_VERSION 1

/* Largest event accepted, in bytes after minification (the Events API's
 * 1 MB request limit: one event must fit in one request). */
#define SPOOLSHIP_MAX_EVENT_BYTES 1000000

/* Longest stream (table) name, in bytes, without the terminating NUL. */
#define SPOOLSHIP_MAX_TABLE_LEN 255

/* The version of the library the program runs with (it may differ from
 * the header's SPOOLSHIP_VERSION_STRING and _NUMBER it was built with):
 * a static string such as "0.1.0", and the same as one number. */
SPOOLSHIP_API const char *spoolship_version(void);
SPOOLSHIP_API int spoolship_version_number(void);

/* Library error codes.  Reserved range: -39999 .. -39900. */
enum spoolship_err {
	SPOOLSHIP_E_FIRST = -39999,
	SPOOLSHIP_EINVAL = SPOOLSHIP_E_FIRST, /* invalid argument */
	SPOOLSHIP_EJSON,        /* event is not valid JSON */
	SPOOLSHIP_ENOTOBJECT,   /* event is JSON but not an object */
	SPOOLSHIP_ENOTIME,      /* event has no __time */
	SPOOLSHIP_EBADTIME,     /* __time is not an ISO-8601 string */
	SPOOLSHIP_ETOOOLD,      /* __time is older than the age window */
	SPOOLSHIP_ETOOBIG,      /* event larger than SPOOLSHIP_MAX_EVENT_BYTES */
	SPOOLSHIP_EUTF8,        /* event is not valid UTF-8 (or holds NUL) */
	SPOOLSHIP_ESPOOL_FULL,  /* the disk budget, or the filesystem, is
				 * full */
	SPOOLSHIP_EVERSION,     /* spool written by a newer format version */
	SPOOLSHIP_ECORRUPT,     /* a record or the environment is damaged */
	SPOOLSHIP_ELMDB,        /* another LMDB failure */
	SPOOLSHIP_ENOTFOUND,    /* no such stream, record or batch */
	SPOOLSHIP_EREADONLY,    /* spool opened read-only */
	SPOOLSHIP_EKEY,         /* key file unusable: missing, not 32 bytes,
				 * not ours or readable by others */
	SPOOLSHIP_EKEYWRONG,    /* the spool was sealed with another key */
	SPOOLSHIP_EKEYNEEDED,   /* the spool is encrypted and no key given */
	SPOOLSHIP_E_LAST = SPOOLSHIP_EKEYNEEDED
};

/* Returns a static, human-readable message for any code a function of this
 * library returned: a library code, -errno, or 0.  Never NULL. */
SPOOLSHIP_API const char *spoolship_strerror(int err);

/* True (1) when err is a per-event validation error (EJSON .. EUTF8): the
 * event is bad, the spool is fine, the next event may well succeed. */
SPOOLSHIP_API int spoolship_err_is_event(int err);

/* Returns 1 when name is a valid stream (table) name: 1 to 255 bytes of
 * A-Z a-z 0-9 '.' '_' '-' (it is placed in a URL path), else 0. */
SPOOLSHIP_API int spoolship_table_name_ok(const char *name);

enum spoolship_sync {
	SPOOLSHIP_SYNC_FULL = 0, /* fsync before an append returns (default) */
	SPOOLSHIP_SYNC_BATCH,    /* fsync at most every sync_interval_ms */
	SPOOLSHIP_SYNC_NONE      /* leave flushing to the OS */
};

enum spoolship_full_policy {
	SPOOLSHIP_FULL_REJECT = 0, /* append fails with ESPOOL_FULL (default) */
	SPOOLSHIP_FULL_DROP_OLDEST,/* delete the oldest pending events, count
				    * them in dropped_total, then append */
	SPOOLSHIP_FULL_BLOCK       /* wait up to block_timeout_ms for space */
};

/* `spoolship run`'s defaults for [ship] max_age (the receiver's late-event
 * window) and age_margin (the safety margin under it): an event older
 * than their difference is dead-lettered by the shipper, and so refused
 * at append time. */
#define SPOOLSHIP_DEFAULT_MAX_AGE_MS (7LL * 24 * 3600 * 1000)
#define SPOOLSHIP_DEFAULT_AGE_MARGIN_MS (10LL * 60 * 1000)

/* Options for spoolship_spool_open().  Always fill with
 * spoolship_options_init() first, then change what you need: fields may be
 * added at the end in later versions ("Growing structs" above). */
struct spoolship_options {
	size_t size;                /* sizeof(struct spoolship_options) */
	int sync;                   /* enum spoolship_sync */
	unsigned sync_interval_ms;  /* SYNC_BATCH flush period; default 200 */
	uint64_t max_bytes;         /* disk budget of the data file; 1 GiB */
	int full_policy;            /* enum spoolship_full_policy */
	unsigned block_timeout_ms;  /* FULL_BLOCK wait; default 5000 */
	int64_t max_age_ms;         /* the age window: reject events older
				     * than this at append time; 0 = no
				     * limit.  Default: the shipper's,
				     * SPOOLSHIP_DEFAULT_MAX_AGE_MS less
				     * SPOOLSHIP_DEFAULT_AGE_MARGIN_MS
				     * (7 d - 10 min), so an event the
				     * library accepts is one `spoolship
				     * run` with the default [ship] max_age
				     * and age_margin sends rather than
				     * dead-letters on arrival */
	int fill_time;              /* 1: give an event without __time the
				     * current time instead of rejecting it */
	int readonly;               /* 1: open for reading only */
	const char *key_file;       /* encryption at rest: a file of 32 random
				     * bytes (spoolship keygen), owned by this
				     * user, mode 0600 or 0400; read at open.
				     * NULL (default): records are stored in
				     * the clear.  See docs/security.md. */
};

/* Fills *o with the defaults above and sets its size.  Never fails. */
SPOOLSHIP_API void spoolship_options_init(struct spoolship_options *o);

/* Sync mode and policy names as used in configs and on the command line
 * ("full", "batch", "none"; "reject", "drop_oldest", "block").  Return 0 and
 * store the value, or SPOOLSHIP_EINVAL for an unknown name. */
SPOOLSHIP_API int spoolship_sync_parse(const char *name, int *out);
SPOOLSHIP_API int spoolship_full_policy_parse(const char *name, int *out);

typedef struct spoolship_spool spoolship_spool;

/*
 * Opens (creating when needed) the spool in directory dir.  The directory is
 * created with mode 0700 and the files with 0600.  Stale reader slots left by
 * dead processes are cleared.  opts may be NULL for the defaults.
 *
 * On success stores a handle the caller owns in *out; release it with
 * spoolship_spool_close().  Errors: SPOOLSHIP_EVERSION (the spool was written
 * by a newer spoolship), SPOOLSHIP_ECORRUPT (not a spool, or damaged),
 * SPOOLSHIP_EINVAL (bad options, or opts->size not a layout this library
 * knows), -EACCES/-EROFS (not writable),
 * SPOOLSHIP_EKEY (opts->key_file unusable; spoolship_key_check() tells
 * why), SPOOLSHIP_EKEYWRONG (another key sealed this spool),
 * SPOOLSHIP_EKEYNEEDED (an encrypted spool opened for writing without
 * its key: a read-only open is allowed and reads counters, but every
 * event read fails with EKEYNEEDED), other -errno.  *out is left
 * untouched on error.
 *
 * Encryption (opts->key_file): records appended through this handle are
 * sealed with AES-256-GCM; records stored in the clear before the key was
 * first used stay readable.  The first open with a key records the key's
 * fingerprint in the spool, so a later open with another key fails.
 */
SPOOLSHIP_API
int spoolship_spool_open(const char *dir, const struct spoolship_options *opts,
			 spoolship_spool **out);

/* Checks that path is a usable key file (see key_file above) without
 * opening a spool.  Returns 0, or SPOOLSHIP_EKEY with the reason, naming
 * the file, in errbuf (may be NULL).  Thread-safe. */
SPOOLSHIP_API int spoolship_key_check(const char *path, char *errbuf,
				      size_t errlen);

/* Writes a new key file at path: 32 bytes from OpenSSL's generator, mode
 * 0600, never overwriting an existing file.  Returns 0, or SPOOLSHIP_EKEY /
 * -errno with the reason in errbuf (may be NULL). */
SPOOLSHIP_API int spoolship_key_generate(const char *path, char *errbuf,
					 size_t errlen);

/* Flushes pending counters and, in SYNC_BATCH/NONE, syncs the data file, then
 * frees the handle.  Must not be called while another thread uses it.
 * Returns 0, or the error of that last sync (the handle is freed anyway).
 * NULL is a no-op returning 0. */
SPOOLSHIP_API int spoolship_spool_close(spoolship_spool *s);

/*
 * Validates one event and appends it to stream `table` (created on first
 * use).  The event is `len` bytes of JSON text, not NUL-terminated, without
 * a trailing newline (surrounding whitespace is allowed).  What is stored is
 * the event minified, with __time normalised to UTC milliseconds
 * ("2022-04-16T00:46:58.771Z"); all other bytes are kept as written.
 *
 * Returns 0 once the event is durable per the sync mode, a validation error
 * (see spoolship_err_is_event()) with a reason written to errbuf (may be
 * NULL), SPOOLSHIP_ESPOOL_FULL, or another error.  One commit per call: use
 * spoolship_append_many() or a producer for throughput.
 */
SPOOLSHIP_API
int spoolship_append(spoolship_spool *s, const char *table, const char *event,
		     size_t len, char *errbuf, size_t errlen);

struct spoolship_event {
	const char *data; /* JSON text, not NUL-terminated */
	size_t len;
};

/* Called once for each event that failed validation in append_many: index
 * into the caller's array, the error code and a reason naming the problem. */
typedef void spoolship_reject_fn(void *arg, size_t index, int err,
				 const char *reason);

/* Flag for spoolship_append_many(): any invalid event fails the whole call
 * and nothing is appended. */
#define SPOOLSHIP_ALL_OR_NOTHING 0x1u

/*
 * Validates n events and appends the valid ones to `table` in one
 * transaction (one fsync).  Invalid events are reported through on_reject
 * (may be NULL) and counted in rejected_total; they never stop the valid
 * ones unless flags has SPOOLSHIP_ALL_OR_NOTHING.  *accepted (may be NULL)
 * receives the number appended.
 *
 * Returns 0 when the commit succeeded (even if some events were rejected:
 * compare *accepted with n), the first validation error under
 * ALL_OR_NOTHING, SPOOLSHIP_ESPOOL_FULL (nothing of this call appended), or
 * another error (nothing appended).
 */
SPOOLSHIP_API int spoolship_append_many(spoolship_spool *s, const char *table,
			  const struct spoolship_event *ev, size_t n,
			  unsigned flags, spoolship_reject_fn *on_reject,
			  void *arg, size_t *accepted);

/* Per-stream figures of spoolship_spool_stats(). */
struct spoolship_stream_stats {
	char name[SPOOLSHIP_MAX_TABLE_LEN + 1];
	uint32_t id;
	uint64_t pending_events;
	uint64_t pending_bytes;    /* sum of stored event lengths */
	int64_t oldest_event_ms;   /* __time of the oldest pending; 0 if none */
	int64_t oldest_append_ms;  /* when it was appended; 0 if none */
	uint64_t next_seq;         /* sequence the next append gets */
};

/* Fill with spoolship_stats_init() before spoolship_spool_stats(). */
struct spoolship_stats {
	size_t size;               /* sizeof(struct spoolship_stats) */
	uint64_t pending_events;
	uint64_t pending_bytes;
	int64_t oldest_event_ms;   /* over all streams; 0 if none pending */
	int64_t oldest_append_ms;
	uint64_t appended_total;   /* events ever accepted */
	uint64_t shipped_total;    /* acknowledged by the receiver, deleted */
	uint64_t expired_total;    /* aged out into the dead store */
	uint64_t dead_total;       /* ever moved to the dead store */
	uint64_t rejected_total;   /* refused at the door by validation */
	uint64_t dropped_total;    /* deleted by full_policy = drop_oldest */
	uint64_t dead_events;      /* now in the dead store */
	uint64_t map_bytes;        /* current LMDB map size */
	uint64_t used_bytes;       /* pages in use (data + free list) */
	uint64_t max_bytes;        /* the disk budget */
	int64_t created_ms;
	unsigned format_version;
	size_t nstreams;
	struct spoolship_stream_stats *streams; /* nstreams entries, by name */
	/* The dead store's ways out (`spoolship dead requeue|purge`);
	 * dead_events = dead_total - requeued_total - purged_total. */
	uint64_t requeued_total;   /* moved back to their streams */
	uint64_t purged_total;     /* deleted from the dead store */
};

/* Zeroes *st and sets its size.  Never fails. */
SPOOLSHIP_API void spoolship_stats_init(struct spoolship_stats *st);

/* Reads a consistent snapshot of the spool's figures into *out, which
 * spoolship_stats_init() prepared (out->size is kept).  The caller owns
 * out->streams and releases it with spoolship_stats_free().  Returns 0,
 * SPOOLSHIP_EINVAL (out->size not a layout this library knows), -ENOMEM,
 * or an LMDB-derived error. */
SPOOLSHIP_API
int spoolship_spool_stats(spoolship_spool *s, struct spoolship_stats *out);
SPOOLSHIP_API void spoolship_stats_free(struct spoolship_stats *st);

/* Forces everything committed so far to stable storage (useful in
 * SYNC_BATCH/NONE).  Returns 0 or an error. */
SPOOLSHIP_API int spoolship_spool_sync(spoolship_spool *s);

/* ---- buffered producer: group commit ---------------------------------- */

typedef struct spoolship_producer spoolship_producer;

/* Fill with spoolship_producer_options_init() ("Growing structs"). */
struct spoolship_producer_options {
	size_t size;           /* sizeof(struct spoolship_producer_options) */
	size_t max_events;     /* flush when this many are buffered; 10000 */
	size_t max_bytes;      /* ... or this many bytes; 8 MiB */
	unsigned linger_ms;    /* ... or this long after the first; 50 */
};

SPOOLSHIP_API
void spoolship_producer_options_init(struct spoolship_producer_options *o);

/*
 * Creates a producer that appends to `table` of spool s with group commit:
 * events are validated at once, buffered, and committed together when
 * max_events or max_bytes are reached, linger_ms after the first buffered
 * event (by a background thread the producer owns), on
 * spoolship_producer_flush() and on close.  opts may be NULL.  The caller
 * owns *out; s must outlive it.  Errors: SPOOLSHIP_EINVAL (also for an
 * opts->size this library does not know), -ENOMEM, -errno of
 * pthread_create.
 */
SPOOLSHIP_API int spoolship_producer_new(spoolship_spool *s, const char *table,
			   const struct spoolship_producer_options *opts,
			   spoolship_producer **out);

/*
 * Validates the event and buffers it.  Returns 0 when buffered - the event
 * is NOT durable yet -, a validation error with a reason in errbuf, or the
 * error of an earlier background flush that failed (those buffered events
 * were not appended; the error is reported once).  Thread-safe: several
 * threads may share one producer and so share its commits.
 */
SPOOLSHIP_API
int spoolship_producer_append(spoolship_producer *p, const char *event,
			      size_t len, char *errbuf, size_t errlen);

/*
 * Returns once every event this thread buffered before the call is durable
 * (or failed): one commit serves all threads waiting at that moment.  Returns
 * 0, or the commit's error (SPOOLSHIP_ESPOOL_FULL, ...), in which case the
 * events buffered up to the call are not in the spool.  Thread-safe.
 */
SPOOLSHIP_API int spoolship_producer_flush(spoolship_producer *p);

/* Flushes, stops the background thread and frees the producer.  Returns the
 * result of that flush.  Must not race with other calls on p.  NULL is a
 * no-op returning 0. */
SPOOLSHIP_API int spoolship_producer_close(spoolship_producer *p);

#ifdef __cplusplus
}
#endif
#endif /* SPOOLSHIP_H */
