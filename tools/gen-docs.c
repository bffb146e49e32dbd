/*
 * gen-docs.c - `make docs`: rewrites the files written from the option
 * table (src/daemon/config_docs.c: config.example.ini, the key tables of
 * docs/configuration.md, the option list of docs/man/spoolship.ini.5)
 * after a change to the table.
 *
 *   gen-docs [--check] [DIR]    DIR: the repository root (default .)
 *
 * Writes each file that differs from what the table gives (through a
 * temporary file, renamed over it) and names it.  --check writes nothing
 * and exits 1 when a file differs.  Exit 2 on an error.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* The whole file at path into *out (malloc'd).  Returns 0 or -errno. */
static int read_file(const char *path, char **out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int rc = 0;

	if (f == NULL)
		return -errno;
	do {
		if (cap - len < 4096) {
			char *p = realloc(buf, cap + 65536);

			if (p == NULL) {
				rc = -ENOMEM;
				break;
			}
			buf = p;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	if (rc == 0 && ferror(f))
		rc = -EIO;
	fclose(f);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/* text into path, through path.tmp renamed over it.  0 or -errno. */
static int write_file(const char *path, const char *text)
{
	char tmp[4200];
	FILE *f;
	int rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "wb");
	if (f == NULL)
		return -errno;
	if (fputs(text, f) < 0)
		rc = -EIO;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0)
		remove(tmp);
	return rc;
}

/* One file: 0 when it is as the table writes it (or now is), 1 when it
 * differs and check is set, 2 on an error (said on stderr). */
static int one(const struct config_doc *d, const char *dir, int check)
{
	char path[4096], why[512], *old = NULL, *want = NULL;
	int rc, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, d->path);
	rc = read_file(path, &old);
	if (rc != 0) {
		fprintf(stderr, "gen-docs: %s: %s\n", path, strerror(-rc));
		return 2;
	}
	rc = config_doc_render(d, old, &want, why, sizeof(why));
	if (rc != 0) {
		fprintf(stderr, "gen-docs: %s\n",
			rc == SPOOLSHIP_EINVAL ? why : strerror(-rc));
		ret = 2;
	} else if (strcmp(old, want) == 0) {
		ret = 0;
	} else if (check) {
		fprintf(stderr, "gen-docs: %s differs from the option table "
			"(src/daemon/config.c): run `make docs`\n", d->path);
		ret = 1;
	} else if ((rc = write_file(path, want)) != 0) {
		fprintf(stderr, "gen-docs: %s: %s\n", path, strerror(-rc));
		ret = 2;
	} else {
		printf("gen-docs: wrote %s\n", d->path);
	}
	free(old);
	free(want);
	return ret;
}

int main(int argc, char **argv)
{
	const struct config_doc *docs;
	const char *dir = ".";
	int check = 0, ret = 0, i = 1;
	size_t n;

	if (i < argc && strcmp(argv[i], "--check") == 0) {
		check = 1;
		i++;
	}
	if (i < argc)
		dir = argv[i++];
	if (i < argc || dir[0] == '-') {
		fprintf(stderr, "usage: gen-docs [--check] [DIR]\n");
		return 2;
	}
	docs = config_docs(&n);
	for (size_t k = 0; k < n; k++) {
		int r = one(&docs[k], dir, check);

		if (r > ret)
			ret = r;
	}
	return ret;
}
