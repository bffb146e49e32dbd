/*
 * test_manpage.c - docs/man/spoolship.ini.5 cannot drift from the option
 * table: every key of config_options() has its ".It Cm key" entry under
 * its section, and config_write_manpage()'s escapes keep any doc string
 * plain text.  That the generated block is exactly what the table writes
 * is test_config's test_generated_files_in_sync (`make docs` rewrites
 * it).  Run from the repository root (make check does).
 */
#include "testutil.h"

#include <errno.h>

#include "config.h"
#include "config_int.h"

#define PAGE "docs/man/spoolship.ini.5"
#define BEGIN_MARK ".\\\" BEGIN generated from the option table"
#define END_MARK ".\\\" END generated"
#define TEXT_COLS 72 /* where config_man_text() wraps */

/* ---- helpers ----------------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b = { NULL, 0, 0 };
	char chunk[4096];
	size_t n;

	if (f == NULL)
		fail_msg("%s: %s (run from the repository root)", path,
			 strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		put(&b, chunk, n);
	fclose(f);
	if (b.p == NULL)
		put(&b, "", 0);
	return b.p;
}

/* Finds the generated block of page: *from at its first line, *to at
 * the END marker line. */
static void block(char *page, char **from, char **to)
{
	char *b = strstr(page, BEGIN_MARK), *e;

	if (b == NULL)
		fail_msg(PAGE ": no line starting '%s'", BEGIN_MARK);
	e = strstr(b, "\n" END_MARK);
	if (e == NULL)
		fail_msg(PAGE ": no line starting '%s'", END_MARK);
	*from = strchr(b, '\n') + 1;
	*to = e + 1;
}

/* What fn writes for s, into *b (reset first). */
static void man(struct buf *b, void (*fn)(FILE *, const char *),
		const char *s)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	fn(f, s);
	assert_int_equal(fclose(f), 0);
	b->len = 0;
	put(b, out, len);
	free(out);
}

/* ---- tests ------------------------------------------------------------- */

/* Every key of the table is listed under its section, in the block. */
static void test_every_key_listed(void **state)
{
	size_t n, ns, missing = 0;
	const struct config_option *o = config_options(&n);
	const struct config_section *sec = config_sections(&ns);
	char *page, *from, *to;

	(void)state;
	page = read_all(PAGE);
	block(page, &from, &to);
	to[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char ss[160], it[160];
		const char *s = NULL, *next, *k;

		for (size_t j = 0; j < ns; j++)
			if (strcmp(sec[j].name, o[i].section) == 0)
				snprintf(ss, sizeof(ss), ".Ss \"\\&%s\\&\"\n",
					 sec[j].header);
		snprintf(it, sizeof(it), "\n.It Cm %s\n", o[i].key);
		s = strstr(from, ss);
		next = s != NULL ? strstr(s + 1, "\n.Ss ") : NULL;
		k = s != NULL ? strstr(s, it) : NULL;
		if (k == NULL || (next != NULL && k > next)) {
			print_error("%s: [%s] %s is not listed\n", PAGE,
				    o[i].section, o[i].key);
			missing++;
		}
	}
	free(page);
	if (missing > 0)
		fail_msg("%zu keys missing from %s: run `make docs`",
			 missing, PAGE);
}

/* The generator's escapes: what a doc string could hold must not turn
 * into a macro, a lost backslash or a sentence run-on. */
static void test_escapes(void **state)
{
	struct buf b = { NULL, 0, 0 };
	char word[TEXT_COLS + 1], in[TEXT_COLS + 16], want[TEXT_COLS + 16];

	(void)state;
	man(&b, config_man_text,
	    ".x 'y' a\\b. Next one, e.g. this. full: 2 (i.e. 3)");
	assert_string_equal(b.p, "\\&.x 'y' a\\eb.\nNext one, e.g. this.\n"
			    "full: 2 (i.e. 3)\n");
	memset(word, 'a', TEXT_COLS);
	word[TEXT_COLS] = '\0';
	snprintf(in, sizeof(in), "%s .x y", word);
	snprintf(want, sizeof(want), "%s\n\\&.x y\n", word);
	man(&b, config_man_text, in);
	assert_string_equal(b.p, want);
	man(&b, config_man_arg, "say \"Li\" \\");
	assert_string_equal(b.p, "\"\\&say \\(dqLi\\(dq \\e\\&\"");
	free(b.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_listed),
		cmocka_unit_test(test_escapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
