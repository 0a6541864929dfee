/*
 * main.c: start-up, then either one CGI request or the FastCGI loop.
 * Everything that can be wrong with the set-up is found here, before the
 * first request, and stops the program with a message.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "conf.h"
#include "io.h"
#include "log.h"
#include "serve.h"
#include "sync.h"

/* A build may stamp its own version (tests build a second responder). */
#ifndef IDMINT_VERSION
#define IDMINT_VERSION	PACKAGE_VERSION
#endif

/* Each asks a worker to finish the request in hand and exit. */
static const int	 stops[] = { SIGTERM, SIGUSR1, SIGINT };
static sigset_t		 stopsigs;

static void
on_stop(int sig)
{
	(void)sig;
	io_fcgi_shutdown();
}

/* SIGALRM only cuts a bounded accept short (io.c). */
static void
on_alarm(int sig)
{
	(void)sig;
}

static int
signals_init(void)
{
	struct sigaction sa;
	size_t		 i;

	/* No SA_RESTART: a wait for a request must return so the loop ends. */
	sigemptyset(&stopsigs);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
		sigaddset(&stopsigs, stops[i]);
		if (sigaction(stops[i], &sa, NULL) == -1)
			goto fail;
	}
	sigaddset(&stopsigs, SIGALRM);
	sa.sa_handler = on_alarm;
	if (sigaction(SIGALRM, &sa, NULL) == -1)
		goto fail;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == 0)
		return 0;
fail:
	log_err("sigaction: %s", strerror(errno));
	return -1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: idmint [-tV] [-c file] [--sync]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct conf	 conf;
	struct server	 srv;
	struct io	 io;
	sigset_t	 waitmask;
	const char	*path = NULL;
	char		 err[512];
	size_t		 i;
	int		 ch, rc, test_only = 0, sync = 0;
	static const struct option longopts[] = {
		{ "sync", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};

	while ((ch = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sync = 1;
			break;
		case 'c':
			path = optarg;
			break;
		case 't':
			test_only = 1;
			break;
		case 'V':
			printf("idmint %s\n", IDMINT_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	conf_defaults(&conf);
	if (conf_load(&conf, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "idmint: %s\n", err);
		return 1;
	}
	log_init(sync ? "idmint-sync" : "idmint", conf.log_level);
	if (log_target(conf.log) == -1) {
		fprintf(stderr, "idmint: log %s: %s\n", conf.log, strerror(errno));
		return 1;
	}
	if (sodium_init() < 0) {
		log_err("libsodium failed to initialise");
		return 1;
	}
	if (harden_process(&conf) == -1) {
		log_err("cannot turn core dumps off: %s", strerror(errno));
		return 1;
	}
	if (sync && conf.cluster[0] == '\0') {
		log_err("--sync needs the cluster setting (see idmint.conf(5))");
		return 1;
	}
	/* The node's sync process: same binary, same configuration. */
	if (sync && !test_only)
		return sync_main(&conf);
	if (server_init(&srv, &conf) == -1)
		return 1;
	srv.version = IDMINT_VERSION;
	if (test_only) {
		if (check_setup(&conf, stderr) > 0)
			return 1;
		fprintf(stderr, "idmint: configuration and store %s are good\n",
		    conf.db);
		return 0;
	}
	if (io_is_cgi()) {
		if (signals_init() == -1)
			return 1;
		io_cgi(&io);
		serve(&srv, &io);
		io_cgi_finish();
		/* The answer is complete once stdout closes: the web server
		 * need not wait for the counts to reach the disk. */
		close(STDOUT_FILENO);
		server_free(&srv);
		return 0;
	}
	if (io_fcgi_open() == -1) {
		log_err("cannot set up FastCGI");
		return 1;
	}
	/* A worker opens its own store after the fork that made it. */
	if (server_open(&srv, err, sizeof(err)) == -1) {
		log_err("%s", err);
		return 1;
	}
	/*
	 * The stop signals are caught from here on, past start-up: until
	 * now one simply ends the worker, which holds nothing yet.  So a
	 * supervisor can tell a worker is ready by its caught signals
	 * (SigCgt in /proc/PID/status, which even a non-dumpable process
	 * shows its owner): idmint-reload waits for that.
	 */
	if (signals_init() == -1)
		return 1;
	/*
	 * A stop signal may interrupt only the wait for a request: while one
	 * is read, served and written it stays pending (a read or write cut
	 * short by EINTR would lose the answer), and is taken in the next
	 * wait (io.c).  An idle worker flushes its counts when they are due
	 * and records its snowflake slot's last millisecond (server_idle).
	 */
	sigprocmask(SIG_BLOCK, &stopsigs, &waitmask);
	for (i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		sigdelset(&waitmask, stops[i]);
	sigdelset(&waitmask, SIGALRM);
	for (;;) {
		if ((rc = io_fcgi_wait(&io, &waitmask,
		    (int)srv.conf.flush_ms)) == -1)
			break;
		if (rc == 0) {
			server_idle(&srv);
			continue;
		}
		serve(&srv, &io);
		io_fcgi_finish();
	}
	server_free(&srv);
	log_info("stopping");
	return 0;
}
