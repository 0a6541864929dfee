/*
 * clock.c: wall clock, monotonic clock, sleeping and the UTC calendar.
 *
 * The calendar is Hinnant's days-from-civil algorithms (proleptic
 * Gregorian), so no call here takes a lock or reads the time zone.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "parse.h"

static uint64_t
real_ms(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * MS_PER_S + (uint64_t)ts.tv_nsec / NS_PER_MS;
}

static void
real_sleep(unsigned ms)
{
	struct timespec	 ts, rem;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	/* A signal must not cut the wait short: callers rely on it. */
	while (nanosleep(&ts, &rem) == -1 && errno == EINTR)
		ts = rem;
}

static uint64_t	(*wall)(void) = real_ms;
static void	(*nap)(unsigned) = real_sleep;

uint64_t
now_ms(void)
{
	return wall();
}

void
clock_set(uint64_t (*fn)(void))
{
	wall = fn != NULL ? fn : real_ms;
}

uint64_t
clock_mono_ns(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

void
clock_sleep_ms(unsigned ms)
{
	nap(ms);
}

void
clock_set_sleep(void (*fn)(unsigned))
{
	nap = fn != NULL ? fn : real_sleep;
}

/* ---- calendar --------------------------------------------------------- */

static void
civil(int64_t days, int64_t *y, unsigned *m)
{
	int64_t		 z = days + 719468, era, yoe, doy, mp;

	era = (z >= 0 ? z : z - 146096) / 146097;
	yoe = z - era * 146097;
	yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
	doy = z - era * 146097 - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t
days_of(int64_t y, unsigned m)		/* of the 1st of month m */
{
	int64_t		 era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5;
	return era * 146097 + 365 * yoe + yoe / 4 - yoe / 100 + doy - 719468;
}

uint32_t
month_of(uint64_t ms)
{
	int64_t		 y;
	unsigned	 m;

	civil((int64_t)(ms / MS_PER_S / 86400), &y, &m);
	return (uint32_t)(y * 100 + m);
}

uint64_t
month_left_ms(uint64_t ms)
{
	int64_t		 y, next;
	unsigned	 m;

	civil((int64_t)(ms / MS_PER_S / 86400), &y, &m);
	next = m == 12 ? days_of(y + 1, 1) : days_of(y, m + 1);
	return (uint64_t)next * 86400 * MS_PER_S - ms;
}

uint32_t
month_before(uint32_t m)
{
	return m % 100 == 1 ? (m / 100 - 1) * 100 + 12 : m - 1;
}

int64_t
month_start_s(uint32_t m)
{
	return days_of((int64_t)(m / 100), m % 100) * 86400;
}

/* ---- dates and spans as people write them ------------------------------ */

/* n digits of s as a number, or -1. */
static int64_t
digits(const char *s, size_t n)
{
	uint64_t	 v;

	if (parse_uint(s, n, UINT32_MAX, &v) != PARSE_OK)
		return -1;
	return (int64_t)v;
}

int
clock_parse_date(const char *s, int64_t *out)
{
	size_t		 len = strlen(s);
	int64_t		 y, m, d, hh = 0, mm = 0, ss = 0, first, next;

	if ((len != 10 && len != 20) || s[4] != '-' || s[7] != '-')
		return -1;
	if (len == 20 && (s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    s[19] != 'Z' || (hh = digits(s + 11, 2)) < 0 || hh > 23 ||
	    (mm = digits(s + 14, 2)) < 0 || mm > 59 ||
	    (ss = digits(s + 17, 2)) < 0 || ss > 59))
		return -1;
	if ((y = digits(s, 4)) < 1970 || (m = digits(s + 5, 2)) < 1 ||
	    m > 12 || (d = digits(s + 8, 2)) < 1)
		return -1;
	first = days_of(y, (unsigned)m);
	next = m == 12 ? days_of(y + 1, 1) : days_of(y, (unsigned)m + 1);
	if (d > next - first)
		return -1;
	*out = ((first + d - 1) * 86400) + hh * 3600 + mm * 60 + ss;
	return 0;
}

int
clock_parse_span(const char *s, int64_t *out)
{
	static const struct {
		char	 unit;
		int64_t	 secs;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 },
	    { 'd', 86400 }, { 'w', 7 * 86400 }, { 'y', 365 * 86400 } };
	size_t		 len = strlen(s), i;
	int64_t		 n;

	if (len < 2 || (n = digits(s, len - 1)) < 1)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (units[i].unit == s[len - 1]) {
			*out = n * units[i].secs;
			return 0;
		}
	return -1;
}
