/*
 * clock.h: the one source of time.
 *
 * Wall-clock time in milliseconds since the Unix epoch comes from one
 * replaceable function, so tests can step it; the calendar (UTC months)
 * is computed here and nowhere else.  Durations that must not jump with
 * the wall clock use clock_mono_ns().
 */
#ifndef IDMINT_CLOCK_H
#define IDMINT_CLOCK_H

#include <stdint.h>

#define MS_PER_S	UINT64_C(1000)
#define NS_PER_MS	UINT64_C(1000000)
#define NS_PER_S	UINT64_C(1000000000)

/* Milliseconds since the Unix epoch, UTC. */
uint64_t	 now_ms(void);
/* Replace the wall clock (tests); NULL puts the real one back. */
void		 clock_set(uint64_t (*)(void));
/* Monotonic nanoseconds (CLOCK_MONOTONIC), for durations. */
uint64_t	 clock_mono_ns(void);
/* Sleep ms milliseconds; a signal does not cut it short. */
void		 clock_sleep_ms(unsigned ms);
/* Replace the sleep (tests); NULL puts the real one back. */
void		 clock_set_sleep(void (*)(unsigned));

/* The UTC month of a time in ms, as yyyymm (202611). */
uint32_t	 month_of(uint64_t ms);
/* Milliseconds from ms to the start of the next UTC month. */
uint64_t	 month_left_ms(uint64_t ms);
/* The month before yyyymm. */
uint32_t	 month_before(uint32_t yyyymm);
/* Unix seconds of the first instant of month yyyymm (UTC). */
int64_t		 month_start_s(uint32_t yyyymm);

/*
 * Unix seconds of a UTC date as people write it: "YYYY-MM-DD" (its
 * first second) or "YYYY-MM-DDTHH:MM:SSZ", from 1970 on.  0, or -1 when
 * s is neither or names no such day ("2027-02-30").
 */
int		 clock_parse_date(const char *s, int64_t *out);
/* A span of time: a whole number >= 1 and a unit, s, m (minutes), h, d,
 * w or y (365 days): "30d" is 2592000.  0, or -1. */
int		 clock_parse_span(const char *s, int64_t *out);

#endif
