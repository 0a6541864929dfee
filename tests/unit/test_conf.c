#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "conf.h"

Test(conf, defaults)
{
	struct conf c;

	conf_defaults(&c);
	cr_assert_str_eq(c.db, "/var/lib/idmint");
	cr_assert_eq(c.max_body, 65536);
	cr_assert_eq(c.snowflake_epoch, 1288834974657ULL);
	cr_assert_eq(c.node_bits, 5);
	cr_assert_eq(c.count_usage, 1);
	cr_assert_eq(c.metrics, 0);
	cr_assert_str_eq(c.log, "stderr");
}

/* Switches take yes/no, on/off and 1/0; anything else names the choices. */
Test(conf, switches)
{
	static const struct { const char *text; int want; } ok[] = {
		{ "metrics = on", 1 }, { "metrics = off", 0 },
		{ "metrics = yes", 1 }, { "metrics = no", 0 },
		{ "metrics = 1", 1 }, { "metrics = 0", 0 },
	};
	struct conf c;
	char err[256] = "";
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		conf_defaults(&c);
		c.metrics = !ok[i].want;
		cr_assert_eq(conf_parse(&c, "f", ok[i].text, err, sizeof(err)),
		    0, "%s: %s", ok[i].text, err);
		cr_assert_eq(c.metrics, ok[i].want, "%s", ok[i].text);
	}
	cr_assert_eq(conf_parse(&c, "f", "metrics = true", err, sizeof(err)),
	    -1);
	cr_assert_str_eq(err, "f:1: metrics: bad value \"true\": must be "
	    "yes, no, on or off");
}

Test(conf, good_file)
{
	struct conf c;
	char err[256] = "";

	conf_defaults(&c);
	cr_assert_eq(conf_parse(&c, "t.conf",
	    "# comment\n\n  db = /tmp/x  \nmax_body=1M\r\nlog_level = debug\n"
	    "count_usage = no\nnode_id = 3\nlog = syslog\n", err, sizeof(err)),
	    0, "%s", err);
	cr_assert_str_eq(c.log, "syslog");
	cr_assert_str_eq(c.db, "/tmp/x");
	cr_assert_eq(c.max_body, 1 << 20);
	cr_assert_eq(c.log_level, LL_DEBUG);
	cr_assert_eq(c.count_usage, 0);
	cr_assert_eq(c.node_id, 3);
}

Test(conf, unknown_setting_names_file_line_and_key)
{
	struct conf c;
	char err[256] = "";

	conf_defaults(&c);
	cr_assert_eq(conf_parse(&c, "/etc/idmint/idmint.conf",
	    "db = /tmp\nmax_boddy = 5\n", err, sizeof(err)), -1);
	cr_assert_str_eq(err,
	    "/etc/idmint/idmint.conf:2: unknown setting \"max_boddy\"");
}

Test(conf, bad_values)
{
	static const char *const bad[] = {
		"max_body = 0", "max_body = 33M", "max_body = -1",
		"max_body = 12x", "max_body =", "log_level = loud",
		"db = relative/path", "count_usage = maybe",
		"node_bits = 10", "flush_ms = 99999999999999999999999",
		"log = somewhere", "log = relative/file",
		"just words",
	};
	struct conf c;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		conf_defaults(&c);
		err[0] = '\0';
		cr_assert_eq(conf_parse(&c, "f", bad[i], err, sizeof(err)), -1,
		    "accepted: %s", bad[i]);
		cr_assert(strncmp(err, "f:1: ", 5) == 0, "message: %s", err);
	}
}

Test(conf, bad_value_message)
{
	struct conf c;
	char err[256];

	conf_defaults(&c);
	conf_parse(&c, "f", "\n\nmax_body = lots\n", err, sizeof(err));
	cr_assert_str_eq(err, "f:3: max_body: bad value \"lots\": must be a "
	    "whole number from 1 to 33554432 (K, M, G suffixes allowed)");
}

Test(conf, file_then_environment)
{
	struct conf c;
	char path[] = "/tmp/idmint-conf-XXXXXX", err[256] = "";
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	cr_assert(write(fd, "max_body = 100\nflush_ms = 7\n", 28) == 28);
	close(fd);
	setenv("IDMINT_FLUSH_MS", "9", 1);
	conf_defaults(&c);
	cr_assert_eq(conf_load(&c, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.max_body, 100);
	cr_assert_eq(c.flush_ms, 9);
	setenv("IDMINT_MAX_BODY", "nope", 1);
	cr_assert_eq(conf_load(&c, path, err, sizeof(err)), -1);
	cr_assert(strstr(err, "IDMINT_MAX_BODY") != NULL, "%s", err);
	unsetenv("IDMINT_MAX_BODY");
	unsetenv("IDMINT_FLUSH_MS");
	unlink(path);
}

Test(conf, missing_named_file_is_an_error)
{
	struct conf c;
	char err[256] = "";

	conf_defaults(&c);
	cr_assert_eq(conf_load(&c, "/nonexistent/idmint.conf", err,
	    sizeof(err)), -1);
	cr_assert(strstr(err, "/nonexistent/idmint.conf") != NULL);
}

/* Cluster mode's settings: unset by default (one machine), names folded
 * and checked, and the settings that must agree checked together. */
Test(conf, cluster_settings)
{
	static const char *const bad[] = {
		"node_name = a/b", "node_name =", "sync_ms = 10",
		"lease_ms = 999", "node_name = "
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	struct conf c;
	char err[256] = "";
	size_t i;

	conf_defaults(&c);
	cr_assert_str_eq(c.cluster, "", "off unless set");
	cr_assert_eq(c.sync_ms, 1000);
	cr_assert_eq(c.lease_ms, 10000);
	cr_assert_eq(conf_check(&c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(conf_parse(&c, "f", "cluster = host=/run/pg dbname=idmint "
	    "user=idmint\nnode_name = Web-3.example\nsync_ms = 300\n",
	    err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.cluster, "host=/run/pg dbname=idmint user=idmint");
	cr_assert_str_eq(c.node_name, "web-3.example");
	cr_assert_eq(c.sync_ms, 300);
	cr_assert_eq(conf_check(&c, err, sizeof(err)), 0, "%s", err);
	c.lease_ms = 1200;
	cr_assert_eq(conf_check(&c, err, sizeof(err)), 0, "%s", err);
	c.lease_ms = 1199;
	cr_assert_eq(conf_check(&c, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "lease_ms (1199) must be at least four times "
	    "sync_ms (300)");
	c.lease_ms = 10000;
	c.node_name[0] = '\0';
	cr_assert_eq(conf_check(&c, err, sizeof(err)), -1);
	cr_assert(strstr(err, "set node_name") != NULL, "%s", err);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		conf_defaults(&c);
		cr_assert_eq(conf_parse(&c, "f", bad[i], err, sizeof(err)), -1,
		    "accepted: %s", bad[i]);
	}
	conf_parse(&c, "f", "node_name = a b", err, sizeof(err));
	cr_assert_str_eq(err, "f:1: node_name: bad value \"a b\": must be 1 to "
	    "63 of a-z, 0-9, '.', '_', '-'");
}
