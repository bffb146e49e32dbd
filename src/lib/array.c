/* array.c - see array.h. */
#include "array.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int array_grow_max(void **p, size_t *cap, size_t need, size_t elem,
		   size_t max)
{
	size_t nc = *cap ? *cap : 16;
	void *np;

	if (need <= *cap)
		return 0;
	if (need > max || max > SIZE_MAX / elem)
		return -ENOMEM;
	while (nc < need) {
		if (nc > SIZE_MAX / 2 / elem)
			return -ENOMEM;
		nc *= 2;
	}
	if (nc > max)
		nc = max;
	np = realloc(*p, nc * elem);
	if (np == NULL)
		return -ENOMEM;
	*p = np;
	*cap = nc;
	return 0;
}

int array_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	return array_grow_max(p, cap, need, elem, SIZE_MAX / elem);
}
