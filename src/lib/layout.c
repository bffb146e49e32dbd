/*
 * layout.c - the size rule of the public structs (see layout.h): a program
 * built against an older spoolship.h keeps working with a newer library,
 * and a struct the library does not know is refused rather than misread.
 */
#include "layout.h"

#include <string.h>

#include "errf.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The published layouts, oldest first.  ABI 0 (the first release) ends
 * at the fields named here; a field added later goes at the end of its
 * struct, and its layout's end is appended to the list.  Each layout
 * must be larger than the one before: a field that fits in the old
 * struct's tail padding (an unsigned after linger_ms) leaves sizeof
 * alone, so the library could not tell the layouts apart and would take
 * an old caller's padding for the new field; add explicit room then.
 */
static const size_t options_sizes[] = {
	LAYOUT_END(struct spoolship_options, key_file),
};
static const size_t producer_sizes[] = {
	LAYOUT_END(struct spoolship_producer_options, linger_ms),
};
static const size_t stats_sizes[] = {
	LAYOUT_END(struct spoolship_stats, purged_total),
};

/* The last published layout is the library's own. */
_Static_assert(LAYOUT_END(struct spoolship_options, key_file) ==
		       sizeof(struct spoolship_options),
	       "spoolship_options grew: add its layout to options_sizes");
_Static_assert(LAYOUT_END(struct spoolship_producer_options, linger_ms) ==
		       sizeof(struct spoolship_producer_options),
	       "producer options grew: add its layout to producer_sizes");
_Static_assert(LAYOUT_END(struct spoolship_stats, purged_total) ==
		       sizeof(struct spoolship_stats),
	       "spoolship_stats grew: add its layout to stats_sizes");

int layout_check(size_t size, const size_t *sizes, size_t n,
		 const char *what, char *errbuf, size_t errlen)
{
	for (size_t i = 0; i < n; i++)
		if (sizes[i] == size)
			return 0;
	return errf(errbuf, errlen, SPOOLSHIP_EINVAL,
		    "struct %s: size %zu is not a layout this library "
		    "knows (%zu to %zu bytes): fill the struct with its "
		    "_init function", what, size, sizes[0], sizes[n - 1]);
}

int layout_import(void *full, const void *in, const size_t *sizes,
		  size_t n, const char *what, char *errbuf, size_t errlen)
{
	size_t size;
	int rc;

	memcpy(&size, in, sizeof(size));
	if ((rc = layout_check(size, sizes, n, what, errbuf, errlen)) != 0)
		return rc;
	memcpy(full, in, size);
	size = sizes[n - 1];
	memcpy(full, &size, sizeof(size));
	return 0;
}

void layout_export(void *out, const void *full)
{
	size_t size;

	memcpy(&size, out, sizeof(size));
	memcpy(out, full, size);
	memcpy(out, &size, sizeof(size));
}

int options_import(const struct spoolship_options *in,
		   struct spoolship_options *out, char *errbuf,
		   size_t errlen)
{
	spoolship_options_init(out);
	if (in == NULL)
		return 0;
	return layout_import(out, in, options_sizes, COUNT(options_sizes),
			     "spoolship_options", errbuf, errlen);
}

int producer_options_import(const struct spoolship_producer_options *in,
			    struct spoolship_producer_options *out,
			    char *errbuf, size_t errlen)
{
	spoolship_producer_options_init(out);
	if (in == NULL)
		return 0;
	return layout_import(out, in, producer_sizes, COUNT(producer_sizes),
			     "spoolship_producer_options", errbuf, errlen);
}

int stats_check(const struct spoolship_stats *st, char *errbuf,
		size_t errlen)
{
	return layout_check(st->size, stats_sizes, COUNT(stats_sizes),
			    "spoolship_stats", errbuf, errlen);
}

void spoolship_stats_init(struct spoolship_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
}
