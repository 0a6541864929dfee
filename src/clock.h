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

#endif
