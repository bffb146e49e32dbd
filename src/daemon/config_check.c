/*
 * config_check.c - the checks of a loaded configuration that look at
 * more than one key or outside the file: url and token_url, backoff_min
 * against backoff_max, age_margin against max_age, each auth mode's keys,
 * a secret and its *_file (read here), the TLS and encryption key files,
 * and listen addresses against allow_remote and the ingest token.  Each
 * problem is added to the errors, with the line of the key it concerns.
 */
#define _XOPEN_SOURCE 700 /* O_CLOEXEC */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "config_int.h"

/* A secret file larger than this is not a token. */
#define SECRET_FILE_MAX 65536

/* Why u is no good as a URL, or NULL.  want_table: u must hold {table}. */
static const char *url_problem(const char *u, int want_table)
{
	const char *host;
	int tables = 0;

	if (strncasecmp(u, "http://", 7) == 0)
		host = u + 7;
	else if (strncasecmp(u, "https://", 8) == 0)
		host = u + 8;
	else
		return "must start with http:// or https://";
	if (*host == '\0' || *host == '/' || *host == '?' || *host == '#')
		return "has no host";
	for (const char *p = u; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return "must not hold spaces or control characters";
		if (*p == '{') {
			if (!want_table || strncmp(p, "{table}", 7) != 0)
				return "holds a '{' that is not {table}";
			tables++;
		}
	}
	if (want_table && tables == 0)
		return "must hold {table}, where each stream's table id goes";
	return NULL;
}

/* Why s is no good as HOST:PORT, or NULL; *loopback tells whether only
 * this host can reach it. */
static const char *listen_problem(const char *s, int *loopback)
{
	char host[256];
	const char *port;
	unsigned char a[16];
	size_t hl;
	long p = 0;

	*loopback = 0;
	if (s[0] == '[') {
		const char *e = strchr(s, ']');

		if (e == NULL || e[1] != ':')
			return "must be [IPV6]:PORT";
		hl = (size_t)(e - s - 1);
		if (hl >= sizeof(host))
			return "has too long a host";
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET6, host, a) != 1)
			return "has an invalid IPv6 address";
		*loopback = IN6_IS_ADDR_LOOPBACK((struct in6_addr *)a);
		port = e + 2;
	} else {
		const char *c = strrchr(s, ':');

		if (c == NULL)
			return "must be HOST:PORT, e.g. 127.0.0.1:8081";
		hl = (size_t)(c - s);
		if (hl >= sizeof(host))
			return "has too long a host";
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (strchr(host, ':') != NULL)
			return "must write an IPv6 address in brackets, "
			       "e.g. [::1]:8081";
		for (size_t i = 0; i < hl; i++) {
			char ch = host[i];

			if (!(config_is_name_char((unsigned char)ch, 0) ||
			      ch == '.' || ch == '-'))
				return "has an invalid host name";
		}
		if (inet_pton(AF_INET, host, a) == 1)
			*loopback = a[0] == 127;
		else
			*loopback = strcasecmp(host, "localhost") == 0;
		port = c + 1;
	}
	if (*port == '\0' || strlen(port) > 5)
		return "has an invalid port";
	for (const char *q = port; *q != '\0'; q++) {
		if (!config_is_digit(*q))
			return "has an invalid port";
		p = p * 10 + (*q - '0');
	}
	if (p > 65535)
		return "has an invalid port";
	return NULL;
}

/* Reads a secret file into *out (malloc'ed), refusing one that group or
 * others could read.  Returns 0 or adds an error and returns non-zero. */
static int read_secret(struct config_ctx *x, int line, const char *lbl,
		       const char *path, char **out)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int fd, rc = SPOOLSHIP_EINVAL;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		config_add_err(x->errs, line, "%s: cannot open '%.128s': %s",
			       lbl, path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		config_add_err(x->errs, line, "%s: '%.128s' is not a regular "
			       "file", lbl, path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		config_add_err(x->errs, line, "%s: '%.128s' is accessible by "
			       "group or others (mode %04o): chmod 600 it",
			       lbl, path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_size > SECRET_FILE_MAX) {
		config_add_err(x->errs, line, "%s: '%.128s' is larger than %d "
			       "bytes", lbl, path, SECRET_FILE_MAX);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		x->oom = 1;
		goto out;
	}
	while (n < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + n, (size_t)st.st_size - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	if (n == 0) {
		config_add_err(x->errs, line, "%s: '%.128s' is empty", lbl,
			       path);
	} else if (strlen(buf) != n || config_has_control(buf)) {
		config_add_err(x->errs, line, "%s: '%.128s' holds more than "
			       "one line or a control character", lbl, path);
	} else {
		*out = buf;
		buf = NULL;
		rc = 0;
	}
out:
	if (buf != NULL) {
		memset(buf, 0, n);
		free(buf);
	}
	close(fd);
	return rc;
}

/* A secret and the key naming a file that may hold it instead. */
static const struct {
	const char *section, *key, *file_key;
} secret_files[] = {
	{ "auth", "token", "token_file" },
	{ "auth", "client_secret", "client_secret_file" },
	{ "auth", "api_key", "api_key_file" },
	{ "ingest", "token", "token_file" },
};

static void load_secret_files(struct config_ctx *x)
{
	size_t nopt;
	const struct config_option *opt = config_options(&nopt);

	for (size_t i = 0; i < sizeof(secret_files) / sizeof(*secret_files);
	     i++) {
		int s = config_find_option(secret_files[i].section,
					   secret_files[i].key);
		int f = config_find_option(secret_files[i].section,
					   secret_files[i].file_key);
		char **val = config_field(&x->cfg, &opt[s]);
		const char *path = *(char **)config_field(&x->cfg, &opt[f]);
		char lbl[64], *got = NULL;

		if (*path == '\0')
			continue;
		config_label(&opt[f], NULL, lbl, sizeof(lbl));
		if (**val != '\0') {
			config_add_err(x->errs, x->lines[f], "set [%s] %s or "
				       "%s, not both", opt[s].section,
				       opt[s].key, opt[f].key);
			continue;
		}
		if (read_secret(x, x->lines[f], lbl, path, &got) == 0) {
			free(*val);
			*val = got;
		}
	}
}

static void check_file(struct config_ctx *x, const char *key, const char *path,
		       int others_ok)
{
	struct stat st;
	int fd, line = config_line_of(x, "tls", key);

	if (*path == '\0')
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		config_add_err(x->errs, line, "[tls] %s: cannot open "
			       "'%.128s': %s", key, path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) == 0 && !others_ok && (st.st_mode & 07) != 0)
		config_add_err(x->errs, line, "[tls] %s: '%.128s' is "
			       "accessible by others (mode %04o): chmod 600 "
			       "or 640 it", key, path,
			       (unsigned)(st.st_mode & 07777));
	close(fd);
}

static void check_key_file(struct config_ctx *x)
{
	const char *path = x->cfg.spool.encryption_key_file;
	int line = config_line_of(x, "spool", "encryption_key_file");
	char why[300];

	if (*path != '\0' && spoolship_key_check(path, why, sizeof(why)) != 0)
		config_add_err(x->errs, line,
			       "[spool] encryption_key_file: %s", why);
}

static void check_auth(struct config_ctx *x)
{
	const struct config *c = &x->cfg;
	int line = config_line_of(x, "auth", "mode");
	const char *p;

	switch (c->auth.mode) {
	case AUTH_BEARER:
		if (*c->auth.token == '\0' && *c->auth.token_file == '\0')
			config_add_err(x->errs, line, "[auth] mode = bearer "
				       "needs token or token_file");
		break;
	case AUTH_OAUTH:
		if (*c->auth.token_url == '\0')
			config_add_err(x->errs, line, "[auth] mode = oauth "
				       "needs token_url");
		if (*c->auth.client_id == '\0')
			config_add_err(x->errs, line, "[auth] mode = oauth "
				       "needs client_id");
		if (*c->auth.client_secret == '\0' &&
		    *c->auth.client_secret_file == '\0')
			config_add_err(x->errs, line, "[auth] mode = oauth "
				       "needs client_secret or "
				       "client_secret_file");
		break;
	case AUTH_APIKEY:
		if (*c->auth.api_key == '\0' && *c->auth.api_key_file == '\0')
			config_add_err(x->errs, line, "[auth] mode = apikey "
				       "needs api_key or api_key_file");
		break;
	}
	if (*c->auth.token_url != '\0' &&
	    (p = url_problem(c->auth.token_url, 0)) != NULL)
		config_add_err(x->errs, config_line_of(x, "auth", "token_url"),
			"[auth] token_url %s", p);
}

static void check_listen(struct config_ctx *x, const char *section,
			 const char *value, int remote_needs_token)
{
	int line = config_line_of(x, section, "listen"), loopback;
	const char *p;

	if (*value == '\0')
		return;
	p = listen_problem(value, &loopback);
	if (p != NULL) {
		config_add_err(x->errs, line, "[%s] listen '%.64s' %s",
			       section, value, p);
		return;
	}
	if (loopback || !remote_needs_token)
		return;
	if (!x->cfg.ingest.allow_remote)
		config_add_err(x->errs, line, "[ingest] listen '%.64s' is not "
			       "a loopback address: set allow_remote = true "
			       "to allow that", value);
	if (*x->cfg.ingest.token == '\0' &&
	    *x->cfg.ingest.token_file == '\0')
		config_add_err(x->errs, line, "[ingest] listen '%.64s' is not "
			       "a loopback address: set a token (or "
			       "token_file)", value);
}

void config_check_keys(struct config_ctx *x)
{
	struct config *c = &x->cfg;
	const char *p;

	if (*c->ship.url != '\0' && (p = url_problem(c->ship.url, 1)) != NULL)
		config_add_err(x->errs, config_line_of(x, "ship", "url"),
			       "[ship] url %s", p);
	if (c->ship.backoff_min_ms > c->ship.backoff_max_ms)
		config_add_err(x->errs,
			       config_line_of(x, "ship", "backoff_min"),
			       "[ship] backoff_min is larger than "
			       "backoff_max");
	if (c->ship.max_age_ms > 0 &&
	    c->ship.age_margin_ms >= c->ship.max_age_ms)
		config_add_err(x->errs,
			       config_line_of(x, "ship", "age_margin"),
			       "[ship] age_margin must be smaller than "
			       "max_age");
	load_secret_files(x);
	check_auth(x);
	if (*c->tls.key_file != '\0' && *c->tls.cert_file == '\0')
		config_add_err(x->errs, config_line_of(x, "tls", "key_file"),
			"[tls] key_file needs cert_file");
	check_file(x, "ca_file", c->tls.ca_file, 1);
	check_file(x, "cert_file", c->tls.cert_file, 1);
	check_file(x, "key_file", c->tls.key_file, 0);
	check_key_file(x);
	check_listen(x, "ingest", c->ingest.listen, 1);
	check_listen(x, "metrics", c->metrics.listen, 0);
}

int config_check_run(const struct config *c, struct config_errors *errs)
{
	if (c->ship.url == NULL || *c->ship.url == '\0') {
		if (errs != NULL)
			config_add_err(errs, 0, "[ship] url is required by "
				"spoolship run");
		return SPOOLSHIP_EINVAL;
	}
	return 0;
}
