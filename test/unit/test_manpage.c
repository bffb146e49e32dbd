/*
 * test_manpage.c - docs/man/spoolship.ini.5 cannot drift from the option
 * table: every key of config_options() has its ".It Cm key" entry under
 * its section, and the generated block is exactly what the table (with
 * config_write_markdown()'s type column) gives.  Run from the repository
 * root (make check does).
 *
 * SPOOLSHIP_REGEN_DOCS=1 rewrites the generated block from the table
 * instead of comparing.
 */
#include "testutil.h"

#include <errno.h>

#include "config.h"

#define PAGE "docs/man/spoolship.ini.5"
#define BEGIN_MARK ".\\\" BEGIN generated from the option table"
#define END_MARK ".\\\" END generated"

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

static void puts_b(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
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

/* config_write_markdown()'s output, where the type column comes from. */
static char *markdown(void)
{
	FILE *f = tmpfile();
	struct buf b = { NULL, 0, 0 };
	char chunk[4096];
	size_t n;

	assert_non_null(f);
	assert_int_equal(config_write_markdown(f), 0);
	rewind(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		put(&b, chunk, n);
	fclose(f);
	assert_non_null(b.p);
	return b.p;
}

/* The type cell of key under "### `header`" in md, unescaped, into out. */
static void type_of(const char *md, const char *header, const char *key,
		    char *out, size_t len)
{
	char h[128], k[128];
	const char *sec, *row, *end;
	size_t n = 0;

	snprintf(h, sizeof(h), "### `%s`\n", header);
	snprintf(k, sizeof(k), "\n| `%s` | ", key);
	sec = strstr(md, h);
	if (sec == NULL)
		fail_msg("config_write_markdown() has no section %s", header);
	end = strstr(sec + 1, "\n### ");
	row = strstr(sec, k);
	if (row == NULL || (end != NULL && row > end))
		fail_msg("config_write_markdown() has no row %s %s", header,
			 key);
	for (row += strlen(k); *row != '\0' && *row != '\n'; row++) {
		if (row[0] == ' ' && row[1] == '|')
			break;
		if (row[0] == '\\' && row[1] == '|')
			row++;
		if (n + 1 < len)
			out[n++] = *row;
	}
	out[n] = '\0';
}

#define TEXT_COLS 72

/* 1 when the '.' at dot ends an abbreviation ("e.g.") rather than a
 * sentence. */
static int abbrev(const char *start, const char *dot)
{
	static const char *const words[] = { "e.g", "i.e", "etc", "vs" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t n = strlen(words[i]);

		if ((size_t)(dot - start) >= n &&
		    strncmp(dot - n, words[i], n) == 0 &&
		    (dot - n == start || dot[-(long)n - 1] == ' ' ||
		     dot[-(long)n - 1] == '('))
			return 1;
	}
	return 0;
}

/* Writes text as mdoc text lines: one sentence a line (mdoc's rule),
 * longer ones wrapped at blanks after TEXT_COLS columns, a backslash as
 * \e, and \& before a line that would start with a control character. */
static void text_lines(struct buf *b, const char *s)
{
	const char *start = s;
	size_t col = 0;

	for (; *s != '\0'; s++) {
		if (col == 0 && (*s == '.' || *s == '\''))
			puts_b(b, "\\&");
		if (*s == '\\') {
			puts_b(b, "\\e");
			col += 2;
		} else if (s[0] == '.' && s[1] == ' ' && !abbrev(start, s)) {
			puts_b(b, ".\n");
			s++;
			col = 0;
		} else if (*s == ' ' && col >= TEXT_COLS) {
			puts_b(b, "\n");
			col = 0;
		} else {
			put(b, s, 1);
			col++;
		}
	}
	puts_b(b, "\n");
}

/* A macro argument: quoted, with \(dq for a quote and \e for a
 * backslash, \& so that it is never taken for a macro name nor its last
 * character for a delimiter. */
static void arg(struct buf *b, const char *s)
{
	puts_b(b, "\"\\&");
	for (; *s != '\0'; s++) {
		if (*s == '"')
			puts_b(b, "\\(dq");
		else if (*s == '\\')
			puts_b(b, "\\e");
		else
			put(b, s, 1);
	}
	puts_b(b, "\\&\"");
}

/* The block between the markers, as the option table writes it. */
static char *generated(void)
{
	size_t n, ns;
	const struct config_option *o = config_options(&n);
	const struct config_section *sec = config_sections(&ns);
	char *md = markdown();
	struct buf b = { NULL, 0, 0 };
	const char *cur = "";

	for (size_t i = 0; i < n; i++) {
		const char *header = NULL;
		char type[256];

		for (size_t j = 0; j < ns; j++)
			if (strcmp(sec[j].name, o[i].section) == 0)
				header = sec[j].header;
		assert_non_null(header);
		if (strcmp(o[i].section, cur) != 0) {
			if (*cur != '\0')
				puts_b(&b, ".El\n");
			puts_b(&b, ".Ss ");
			arg(&b, header);
			puts_b(&b, "\n");
			for (size_t j = 0; j < ns; j++)
				if (strcmp(sec[j].name, o[i].section) == 0)
					text_lines(&b, sec[j].doc);
			puts_b(&b, ".Bl -tag -width Ds\n");
			cur = o[i].section;
		}
		type_of(md, header, o[i].key, type, sizeof(type));
		puts_b(&b, ".It Cm ");
		puts_b(&b, o[i].key);
		puts_b(&b, "\n.Pq ");
		arg(&b, type);
		if (*o[i].def != '\0') {
			puts_b(&b, " ; default Ql ");
			arg(&b, o[i].def);
		} else {
			puts_b(&b, " ; empty by default");
		}
		puts_b(&b, "\n");
		text_lines(&b, o[i].doc);
	}
	if (*cur != '\0')
		puts_b(&b, ".El\n");
	free(md);
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

static void regen(void)
{
	char *page = read_all(PAGE), *from, *to, *gen = generated();
	FILE *f;

	block(page, &from, &to);
	f = fopen(PAGE, "wb");
	assert_non_null(f);
	fwrite(page, 1, (size_t)(from - page), f);
	fputs(gen, f);
	fputs(to, f);
	assert_int_equal(fclose(f), 0);
	free(gen);
	free(page);
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
	if (getenv("SPOOLSHIP_REGEN_DOCS") != NULL)
		regen();
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
		fail_msg("%zu keys missing from %s: run "
			 "SPOOLSHIP_REGEN_DOCS=1 build/test/test_manpage "
			 "from the repository root", missing, PAGE);
}

/* The block is exactly what the table writes: types, defaults and
 * descriptions cannot drift either. */
static void test_block_matches_table(void **state)
{
	char *page = read_all(PAGE), *from, *to, *gen = generated();

	(void)state;
	block(page, &from, &to);
	to[0] = '\0';
	if (strcmp(from, gen) != 0) {
		size_t i = 0;

		while (from[i] != '\0' && from[i] == gen[i])
			i++;
		fail_msg("%s differs from the option table at byte %zu of "
			 "its generated block (page: '%.40s', table: "
			 "'%.40s'): run SPOOLSHIP_REGEN_DOCS=1 build/test/"
			 "test_manpage from the repository root", PAGE, i,
			 from + i, gen + i);
	}
	free(gen);
	free(page);
}

/* The generator's escapes: what a doc string could hold must not turn
 * into a macro, a lost backslash or a sentence run-on. */
static void test_escapes(void **state)
{
	struct buf b = { NULL, 0, 0 };
	char word[TEXT_COLS + 1], in[TEXT_COLS + 16], want[TEXT_COLS + 16];

	(void)state;
	text_lines(&b, ".x 'y' a\\b. Next one, e.g. this. full: 2 (i.e. 3)");
	assert_string_equal(b.p, "\\&.x 'y' a\\eb.\nNext one, e.g. this.\n"
			    "full: 2 (i.e. 3)\n");
	b.len = 0;
	memset(word, 'a', TEXT_COLS);
	word[TEXT_COLS] = '\0';
	snprintf(in, sizeof(in), "%s .x y", word);
	snprintf(want, sizeof(want), "%s\n\\&.x y\n", word);
	text_lines(&b, in);
	assert_string_equal(b.p, want);
	b.len = 0;
	arg(&b, "say \"Li\" \\");
	assert_string_equal(b.p, "\"\\&say \\(dqLi\\(dq \\e\\&\"");
	free(b.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_listed),
		cmocka_unit_test(test_block_matches_table),
		cmocka_unit_test(test_escapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
