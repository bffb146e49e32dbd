/*
 * layout.h - the public structs' size rule (include/spoolship.h, "Growing
 * structs"): which sizes of struct spoolship_options, spoolship_producer_
 * options and spoolship_stats this library accepts, and how a struct of
 * an older, smaller layout is read or written.
 */
#ifndef SPOOLSHIP_LAYOUT_H
#define SPOOLSHIP_LAYOUT_H

#include <stddef.h>

#include "spoolship.h"

/* The end of a layout whose last field is f, padded as a compiler pads
 * the whole struct: what sizeof gave a program built with that header. */
#define LAYOUT_END(type, f)                                                \
	((offsetof(type, f) + sizeof(((type *)0)->f) + _Alignof(type) - 1) / \
	 _Alignof(type) * _Alignof(type))

/*
 * The generic rule, on structs whose first member is a size_t size:
 * sizes[0..n) are the published sizes, oldest first, the library's own
 * last.  A size not among them is refused: SPOOLSHIP_EINVAL, and a
 * message naming `what` in errbuf (may be NULL).
 *
 * layout_import: full holds the defaults of the library's layout; the
 * caller's struct in (its own size bytes) is copied over them, so the
 * fields an older caller lacks keep their defaults.  full's size is then
 * the library's.
 * layout_export: copies the first out->size bytes of full to out (the
 * fields an older caller lacks are not written); out->size is kept.
 * Only for a size layout_check accepted.
 */
int layout_check(size_t size, const size_t *sizes, size_t n,
		 const char *what, char *errbuf, size_t errlen);
int layout_import(void *full, const void *in, const size_t *sizes,
		  size_t n, const char *what, char *errbuf, size_t errlen);
void layout_export(void *out, const void *full);

/* The rule for each public struct.  in may be NULL (the defaults).
 * Return 0 or SPOOLSHIP_EINVAL with the reason in errbuf (may be NULL). */
int options_import(const struct spoolship_options *in,
		   struct spoolship_options *out, char *errbuf,
		   size_t errlen);
int producer_options_import(const struct spoolship_producer_options *in,
			    struct spoolship_producer_options *out,
			    char *errbuf, size_t errlen);
int stats_check(const struct spoolship_stats *st, char *errbuf,
		size_t errlen);

#endif
