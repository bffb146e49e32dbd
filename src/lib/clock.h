/*
 * clock.h - wall and monotonic time in milliseconds.  Wall time stamps
 * records; monotonic time measures intervals (never the other way round, so
 * a clock jump cannot stretch a linger or a backoff).
 */
#ifndef SPOOLSHIP_CLOCK_H
#define SPOOLSHIP_CLOCK_H

#include <stdint.h>
#include <time.h>

int64_t clock_wall_ms(void);
int64_t clock_mono_ms(void);
/* The monotonic clock in microseconds, for short durations. */
int64_t clock_mono_us(void);
/* Absolute CLOCK_MONOTONIC deadline ms from now, for condvar waits. */
void clock_deadline(struct timespec *ts, int64_t ms);

#endif
