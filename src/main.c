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

#include "conf.h"
#include "io.h"
#include "log.h"
#include "serve.h"
#include "sync.h"

static volatile sig_atomic_t stopping;
static sigset_t		 stopsigs;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
	io_fcgi_shutdown();
}

static int
signals_init(void)
{
	struct sigaction sa;

	/* No SA_RESTART: the blocked accept() must return so the loop ends. */
	sigemptyset(&stopsigs);
	sigaddset(&stopsigs, SIGTERM);
	sigaddset(&stopsigs, SIGUSR1);
	sigaddset(&stopsigs, SIGINT);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGUSR1, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		return -1;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
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
	const char	*path = NULL;
	char		 err[512];
	int		 ch, test_only = 0, sync = 0;
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
			printf("idmint %s\n", PACKAGE_VERSION);
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
	if (test_only) {
		fprintf(stderr, "idmint: configuration is good\n");
		return 0;
	}
	if (signals_init() == -1) {
		log_err("sigaction: %s", strerror(errno));
		return 1;
	}

	if (io_is_cgi()) {
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
	 * A stop signal may interrupt only the wait for a request: during one
	 * it stays pending (a read or write cut short by EINTR would lose the
	 * answer), and is taken as soon as the next wait begins.
	 */
	for (;;) {
		sigprocmask(SIG_UNBLOCK, &stopsigs, NULL);
		if (stopping || io_fcgi_accept(&io) == -1)
			break;
		sigprocmask(SIG_BLOCK, &stopsigs, NULL);
		serve(&srv, &io);
		io_fcgi_finish();
	}
	server_free(&srv);
	log_info("stopping");
	return 0;
}
