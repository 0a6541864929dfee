/*
 * metrics.h: Prometheus metrics, served at GET /metrics when the setting
 * `metrics` is on.
 *
 * The counters are totals over every process that maps the shared table
 * (FastCGI workers and CGI runs alike): they live in the table's metrics
 * region (usage_metrics()) and move by relaxed atomic adds, so counting
 * takes no lock and no system call.  Gauges (the table's fill, counts
 * waiting for a flush, snowflake slots held) are read when scraped.  The
 * region is zero when the table is made (at boot), which Prometheus takes
 * as a counter reset.
 *
 * Names follow Prometheus conventions: the idmint_ prefix, _total on
 * counters, base units (seconds).  doc/api.md lists them all.
 */
#ifndef IDMINT_METRICS_H
#define IDMINT_METRICS_H

#include <stdint.h>

struct buf;
struct conf;
struct ctx;
struct store;
struct usage;

#define METRICS_CTYPE	"text/plain; version=0.0.4; charset=utf-8"

/* Count one request, answered in dur_ns; after the answer is sent. */
void	 metrics_count(struct usage *, const struct ctx *, uint64_t dur_ns);
/*
 * Write every metric in the text exposition format (0.0.4) to b.  st may
 * be NULL (no slot count then).  -1 when the region is laid out by
 * another build of idmint (see metrics.c).
 */
int	 metrics_write(struct usage *, struct store *, const struct conf *,
	    struct buf *);

#endif
