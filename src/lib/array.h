/*
 * array.h - growing a heap array or a bounded buffer by doubling: the
 * one helper every layer uses (its overflow check included).
 */
#ifndef SPOOLSHIP_ARRAY_H
#define SPOOLSHIP_ARRAY_H

#include <stddef.h>

/* Makes *p (capacity *cap elements of elem bytes) hold at least need
 * elements, doubling from 16.  Returns 0 or -ENOMEM (*p is unchanged). */
int array_grow(void **p, size_t *cap, size_t need, size_t elem);
/* The same for a buffer bounded by a limit: never more than max elements
 * (-ENOMEM when need is above it); doubling stops at max. */
int array_grow_max(void **p, size_t *cap, size_t need, size_t elem,
		   size_t max);

#endif
