/*
 * version.c - which library a program runs with: the version it was
 * built as, which may differ from the header the program was compiled
 * against (include/spoolship.h, "Versions and ABI").
 */
#include "spoolship.h"

const char *spoolship_version(void)
{
	return SPOOLSHIP_VERSION_STRING;
}

int spoolship_version_number(void)
{
	return SPOOLSHIP_VERSION_NUMBER;
}
