/*
 * cli_run.c - `spoolship run`: the daemon.  Loads the config, opens the
 * spool and ships it until told to stop.  Signal handlers only set flags
 * (and poke the shipper's wake-up descriptor); the loop acts on them.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "cli.h"
#include "clock.h"
#include "config.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "pidfile.h"
#include "run_lock.h"
#include "ship.h"
#include "ship_auth.h"
#include "spool.h"
#include "validate.h"

static volatile sig_atomic_t got_stop, got_hup;
/* The one shipper of this process, for the handlers' wake-up poke. */
static struct shipper *running;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_stop = 1;
	if (running != NULL)
		ship_wakeup(running); /* write(2) on an eventfd */
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

struct daemon {
	struct config cfg;
	struct logger log;
	struct auth *auth;
	struct ship_creds creds;
	struct ship_auth hooks;
	spoolship_spool *spool;
	struct shipper *sh;
	struct ingest *ingest;     /* NULL when [ingest] listen is empty */
	struct metrics *metrics;   /* NULL when [metrics] listen is empty */
	const char *cfg_path;
	int until_empty;
	int64_t until_ms;          /* --timeout: the monotonic end, 0: none */
	int lock_fd;               /* DIR/ship.lock, held while we run */
	struct notify notify;      /* sd_notify: READY, WATCHDOG, STATUS */
	char pid_path[4096];       /* the pid file we wrote, "" for none */
	int64_t progress_from;     /* monotonic ms of the last progress */
	uint64_t progress_shipped; /* events_shipped then */
};

static int url_for(void *arg, const char *stream, char *out, size_t len)
{
	return config_url_for(arg, stream, out, len);
}

static void ship_opts_of(const struct config *c, struct ship_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_events = (size_t)c->ship.max_events;
	o->max_bytes = (size_t)c->ship.max_bytes;
	o->linger_ms = c->ship.linger_ms;
	o->max_in_flight = (unsigned)c->ship.max_in_flight;
	o->timeout_ms = c->ship.timeout_ms;
	o->connect_timeout_ms = c->ship.connect_timeout_ms;
	o->max_age_ms = c->ship.max_age_ms > 0 ? c->ship.max_age_ms
					       : INT64_MAX / 2;
	o->age_margin_ms = c->ship.max_age_ms > 0 ? c->ship.age_margin_ms : 0;
	o->gzip = c->ship.gzip;
	o->requests_per_minute = (unsigned)c->ship.requests_per_minute;
	o->backoff_min_ms = c->ship.backoff_min_ms;
	o->backoff_max_ms = c->ship.backoff_max_ms;
	o->alarm_backoff_ms = c->ship.alarm_backoff_ms;
	o->tls_verify = c->tls.verify;
	o->ca_file = c->tls.ca_file;
	o->cert_file = c->tls.cert_file;
	o->key_file = c->tls.key_file;
	o->tls_min_13 = c->tls.min_version == CONFIG_TLS_1_3;
	o->user_agent = c->ship.user_agent;
	o->url_for = url_for;
	o->url_arg = (void *)c;
}

static int make_auth(const struct config *c, struct auth **out, char *why,
		     size_t whylen)
{
	struct auth_params p;

	memset(&p, 0, sizeof(p));
	p.mode = auth_mode_names[c->auth.mode];
	p.token = c->auth.token;
	p.token_url = c->auth.token_url;
	p.client_id = c->auth.client_id;
	p.client_secret = c->auth.client_secret;
	p.scope = c->auth.scope;
	p.api_key = c->auth.api_key;
	p.refresh_margin_ms = c->auth.refresh_margin_ms;
	return auth_new(&p, out, why, whylen);
}

static void register_config_secrets(struct logger *lg, const struct config *c)
{
	const char *sec[16];
	size_t n = 0;

	if (config_secrets(c, sec, 16, &n) == 0)
		for (size_t i = 0; i < n; i++)
			log_secret_add(lg, sec[i]);
}

/* Loads and checks path; prints every problem.  Returns 0 or EXIT_USAGE. */
static int load_config(const char *path, struct config *c)
{
	struct config_errors errs;
	int rc = config_load(path, c, &errs);

	if (rc == 0)
		rc = config_check_run(c, &errs);
	if (rc != 0) {
		config_errors_print(&errs, path, stderr);
		config_free(c);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* One shipper per spool: a second one would send everything twice.  The
 * lock is taken before the spool is opened, ingest binds or a request
 * goes out, so a refused run sends nothing. */
static int take_lock(struct daemon *d)
{
	char where[4096];
	pid_t holder;
	int rc = run_lock_take(d->cfg.spool.path, &d->lock_fd, &holder,
			       where, sizeof(where));

	if (rc == -EWOULDBLOCK) {
		log_error(&d->log, "the spool is served by another spoolship "
			  "run, not starting spool=%s pid=%ld", where,
			  (long)holder);
		return EXIT_SERVED;
	}
	if (rc != 0) {
		log_error(&d->log, "cannot lock the spool spool=%s "
			  "lock=%s error=\"%s\"", where, RUN_LOCK_NAME,
			  spoolship_strerror(rc));
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* [run] pid_file: a live spoolship named there means a second shipper,
 * most likely on the same spool (ship.lock, taken first, catches that
 * one whatever its config). */
static int check_pid(struct daemon *d)
{
	const char *p = d->cfg.run.pid_file;
	pid_t live, stale;
	int rc;

	if (p == NULL || p[0] == '\0')
		return EXIT_OK;
	rc = pidfile_check(p, &live, &stale);
	if (rc == -EEXIST) {
		log_error(&d->log, "another spoolship is running, not "
			  "starting pid_file=%s pid=%ld", p, (long)live);
		return EXIT_ERROR;
	}
	if (rc != 0) {
		log_error(&d->log, "cannot read the pid file pid_file=%s "
			  "error=\"%s\"", p, spoolship_strerror(rc));
		return EXIT_ERROR;
	}
	if (stale != 0)
		log_warn(&d->log, "replacing a stale pid file pid_file=%s "
			 "pid=%ld", p, (long)stale);
	return EXIT_OK;
}

/* Written once everything started; removed by cli_run() on exit. */
static int write_pid(struct daemon *d)
{
	const char *p = d->cfg.run.pid_file;
	int rc;

	if (p == NULL || p[0] == '\0')
		return EXIT_OK;
	if (strlen(p) >= sizeof(d->pid_path))
		rc = -ENAMETOOLONG;
	else
		rc = pidfile_write(p);
	if (rc != 0) {
		log_error(&d->log, "cannot write the pid file pid_file=%s "
			  "error=\"%s\"", p, spoolship_strerror(rc));
		return EXIT_ERROR;
	}
	snprintf(d->pid_path, sizeof(d->pid_path), "%s", p);
	return EXIT_OK;
}

static void reload(struct daemon *d)
{
	struct config nc;
	struct auth *na = NULL;
	struct ship_opts so;
	char why[256];

	got_hup = 0;
	if (load_config(d->cfg_path, &nc) != EXIT_OK) {
		log_error(&d->log, "reload failed, keeping the running "
			  "configuration file=%s", d->cfg_path);
		return;
	}
	if (make_auth(&nc, &na, why, sizeof(why)) != 0) {
		log_error(&d->log, "reload failed, keeping the running "
			  "configuration error=\"%s\"", why);
		config_free(&nc);
		return;
	}
	if (strcmp(nc.spool.path, d->cfg.spool.path) != 0)
		log_warn(&d->log, "the spool path changes only on restart "
			 "running=%s configured=%s", d->cfg.spool.path,
			 nc.spool.path);
	ship_opts_of(&nc, &so);
	if (ship_set_opts(d->sh, &so) != 0) {
		log_error(&d->log, "reload failed: invalid [ship] options");
		auth_free(na);
		config_free(&nc);
		return;
	}
	{
		const char *sec[16];
		size_t n = 0;

		/* One swap: no moment without the secrets masked. */
		if (config_secrets(&nc, sec, 16, &n) == 0)
			log_secrets_set(&d->log, sec, n);
	}
	log_configure(&d->log, nc.log.level, nc.log.format == CONFIG_LOG_JSON);
	auth_free(d->auth);
	d->auth = na;
	d->creds.auth = na;
	d->creds.timeout_ms = nc.ship.timeout_ms;
	d->creds.tls_verify = nc.tls.verify;
	config_free(&d->cfg);
	d->cfg = nc;
	d->creds.ca_file = d->cfg.tls.ca_file;
	ship_creds_bind(&d->creds, &d->hooks);
	metrics_set_max_age(d->metrics, d->cfg.ship.max_age_ms);
	metrics_set_destination(d->metrics, d->cfg.ship.url);
	/* The doors (ingest) refuse by the shipper's new window at once. */
	spool_set_max_age(d->spool,
			  validate_window_ms(d->cfg.ship.max_age_ms,
					     d->cfg.ship.age_margin_ms));
	log_info(&d->log, "configuration reloaded file=%s", d->cfg_path);
}

/* Stops reading, lets what is in flight finish (bounded), then returns. */
static void drain(struct daemon *d)
{
	int64_t end = clock_mono_ms() + d->cfg.ship.shutdown_timeout_ms;

	ship_stop_reading(d->sh);
	log_info(&d->log, "stopping: waiting for requests in flight "
		 "in_flight=%u timeout_ms=%lld", ship_in_flight(d->sh),
		 (long long)d->cfg.ship.shutdown_timeout_ms);
	while (ship_in_flight(d->sh) > 0 && clock_mono_ms() < end) {
		ship_step(d->sh, 100);
		metrics_publish(d->metrics, ship_counters(d->sh));
	}
	if (ship_in_flight(d->sh) > 0)
		log_warn(&d->log, "shutdown timeout: unanswered requests stay "
			 "in the spool and will be sent again in_flight=%u",
			 ship_in_flight(d->sh));
	/* The deletes of what was acknowledged, before the last counts. */
	ship_finish(d->sh);
	metrics_publish(d->metrics, ship_counters(d->sh));
}

/* --until-empty promises an empty spool: exit 0 only then.  Stopped
 * with events still pending (a signal, --timeout, a fatal answer), the
 * exit code says so instead of the reason's own. */
static int until_empty_exit(struct daemon *d, int ex)
{
	struct spoolship_stats st;
	uint64_t pending;

	if (!d->until_empty)
		return ex;
	spoolship_stats_init(&st);
	if (spoolship_spool_stats(d->spool, &st) != 0)
		return EXIT_ERROR;
	pending = st.pending_events;
	spoolship_stats_free(&st);
	if (pending == 0)
		return ex;
	log_warn(&d->log, "stopped with events pending pending=%llu",
		 (unsigned long long)pending);
	return EXIT_PENDING;
}

/* [log] progress_interval: one line a period while there is work, so
 * that the log answers "is it working?"; none while idle. */
static void progress(struct daemon *d)
{
	int64_t now = clock_mono_ms(), every = d->cfg.log.progress_interval_ms;
	uint64_t total = ship_counters(d->sh)->events_shipped, shipped;
	uint64_t pending = 0;
	struct spoolship_stats st;

	if (every <= 0 || now - d->progress_from < every)
		return;
	shipped = total - d->progress_shipped;
	spoolship_stats_init(&st);
	if (spoolship_spool_stats(d->spool, &st) == 0) {
		pending = st.pending_events;
		spoolship_stats_free(&st);
	}
	if (shipped > 0 || pending > 0)
		log_info(&d->log, "progress shipped=%llu pending=%llu "
			 "events_per_s=%.1f in_flight=%u shipped_total=%llu",
			 (unsigned long long)shipped,
			 (unsigned long long)pending,
			 (double)shipped * 1000.0 / (double)(now -
							    d->progress_from),
			 ship_in_flight(d->sh), (unsigned long long)total);
	d->progress_from = now;
	d->progress_shipped = total;
}

static int run_loop(struct daemon *d)
{
	int rc = 0;

	while (!got_stop) {
		if (got_hup) {
			notify_reloading(&d->notify);
			reload(d);
			notify_ready(&d->notify, "shipping");
		}
		notify_cron(&d->notify, d->spool, ship_counters(d->sh));
		rc = ship_step(d->sh, notify_wait_ms(&d->notify, 250));
		/* A copy for /metrics; never waits for the server. */
		metrics_publish(d->metrics, ship_counters(d->sh));
		progress(d);
		if (rc != 0) {
			log_error(&d->log, "stopping on a fatal error: %s",
				  ship_counters(d->sh)->last_error);
			break;
		}
		if (d->until_empty && ship_idle(d->sh))
			break;
		if (d->until_ms > 0 && clock_mono_ms() >= d->until_ms) {
			log_warn(&d->log, "stopping: --timeout reached");
			break;
		}
	}
	notify_stopping(&d->notify);
	drain(d);
	return until_empty_exit(d, rc == 0 ? EXIT_OK : EXIT_ERROR);
}

/* The first line: which spool (its absolute path, whatever the config
 * says: a relative one depends on the working directory) ships where
 * (the url as failure lines name it: no user, password or query). */
static void log_start(struct daemon *d)
{
	char *abs = realpath(d->cfg.spool.path, NULL);
	char dest[2048];

	log_url_dest(d->cfg.ship.url, dest, sizeof(dest));
	log_info(&d->log, "shipping spool=%s url=%s progress_interval_ms=%lld",
		 abs != NULL ? abs : d->cfg.spool.path, dest,
		 (long long)d->cfg.log.progress_interval_ms);
	free(abs);
}

static void run_usage(void)
{
	fprintf(stderr, "usage: spoolship run -c FILE [--check-config] "
		"[--until-empty [--timeout DURATION]] [--foreground]\n");
}

static int start(struct daemon *d)
{
	struct spoolship_options so;
	struct ship_opts o;
	char why[256];
	int rc;

	config_spool_options(&d->cfg, &so);
	rc = spoolship_spool_open(d->cfg.spool.path, &so, &d->spool);
	if (rc != 0) {
		log_error(&d->log, "cannot open the spool path=%s error=\"%s\"",
			  d->cfg.spool.path, spoolship_strerror(rc));
		return cli_exit_of(rc) == EXIT_KEY ? EXIT_KEY : EXIT_ERROR;
	}
	if (make_auth(&d->cfg, &d->auth, why, sizeof(why)) != 0) {
		log_error(&d->log, "bad [auth] configuration: %s", why);
		return EXIT_USAGE;
	}
	d->creds.auth = d->auth;
	d->creds.log = &d->log;
	d->creds.timeout_ms = d->cfg.ship.timeout_ms;
	d->creds.tls_verify = d->cfg.tls.verify;
	d->creds.ca_file = d->cfg.tls.ca_file;
	ship_creds_bind(&d->creds, &d->hooks);
	ship_opts_of(&d->cfg, &o);
	rc = ship_new(d->spool, d->cfg.spool.path, &o, &d->hooks, &d->log,
		      &d->sh);
	if (rc != 0) {
		log_error(&d->log, "cannot start the shipper error=\"%s\"",
			  spoolship_strerror(rc));
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

int cli_run(struct cli_common *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "until-empty", no_argument, NULL, 'u' },
		{ "timeout", required_argument, NULL, 't' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d;
	int64_t timeout_ms = 0;
	int ch, check = 0, ex;

	memset(&d, 0, sizeof(d));
	d.lock_fd = -1;
	d.cfg_path = c->config; /* spoolship -c FILE run */
	while ((ch = getopt_long(argc, argv, "c:nfh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': d.cfg_path = optarg; break;
		case 'n': check = 1; break;
		case 'u': d.until_empty = 1; break;
		case 't':
			if (cli_parse_duration(optarg, &timeout_ms) != 0 ||
			    timeout_ms <= 0) {
				run_usage();
				return EXIT_USAGE;
			}
			break;
		case 'f': break; /* always in the foreground */
		case 'h': run_usage(); return EXIT_OK;
		default: run_usage(); return EXIT_USAGE;
		}
	}
	if (d.cfg_path == NULL || optind < argc ||
	    (timeout_ms > 0 && !d.until_empty)) {
		run_usage();
		return EXIT_USAGE;
	}
	if ((ex = load_config(d.cfg_path, &d.cfg)) != EXIT_OK)
		return ex;
	if (check) {
		printf("configuration OK\n");
		config_free(&d.cfg);
		return EXIT_OK;
	}
	log_init(&d.log, stderr);
	log_configure(&d.log, d.cfg.log.level,
		      d.cfg.log.format == CONFIG_LOG_JSON);
	notify_open(&d.notify, &d.log);
	register_config_secrets(&d.log, &d.cfg);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	install_signals();
	ex = take_lock(&d);
	if (ex == EXIT_OK)
		ex = check_pid(&d);
	if (ex == EXIT_OK)
		ex = start(&d);
	/* The local Events-API endpoint: after the spool, before the loop. */
	if (ex == EXIT_OK &&
	    ingest_start(&d.cfg, d.spool, &d.log, &d.ingest) != 0)
		ex = EXIT_ERROR;
	if (ex == EXIT_OK &&
	    metrics_start(&d.cfg, d.spool, &d.log, &d.metrics) != 0)
		ex = EXIT_ERROR;
	metrics_set_ingest(d.metrics, d.ingest);
	if (ex == EXIT_OK)
		ex = write_pid(&d);
	if (ex == EXIT_OK) {
		if (timeout_ms > 0)
			d.until_ms = clock_mono_ms() + timeout_ms;
		running = d.sh;
		d.progress_from = clock_mono_ms();
		log_start(&d);
		notify_ready(&d.notify, "shipping");
		ex = run_loop(&d);
		running = NULL;
		if (d.pid_path[0] != '\0')
			pidfile_remove(d.pid_path);
		log_info(&d.log, "stopped events_shipped=%llu",
			 (unsigned long long)ship_counters(d.sh)->events_shipped);
	}
	metrics_set_ingest(d.metrics, NULL); /* no scrape of a freed one */
	ingest_stop(d.ingest); /* answers what it holds; before the close */
	metrics_stop(d.metrics); /* reads the spool: before the close too */
	ship_free(d.sh);
	auth_free(d.auth);
	if (spoolship_spool_close(d.spool) != 0 && ex == EXIT_OK)
		ex = EXIT_ERROR;
	run_lock_release(d.lock_fd); /* after the spool's close */
	curl_global_cleanup();
	config_free(&d.cfg);
	notify_close(&d.notify);
	log_fini(&d.log);
	return ex;
}
