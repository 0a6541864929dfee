/*
 * proc.h: who a process is, from /proc: its start time, so that a pid
 * the kernel gave to a younger process is not taken for the old one.
 */
#ifndef IDMINT_PROC_H
#define IDMINT_PROC_H

#include <sys/types.h>

#include <stdint.h>

/* Field 22 of /proc/PID/stat: start time in clock ticks since boot. */
int	 proc_starttime(pid_t, uint64_t *);
/* Is pid alive and, when start is not 0, the process that started then? */
int	 proc_alive(pid_t, uint64_t start);
/* This process's pid, kept (getpid() is a system call); reset by fork. */
pid_t	 proc_self(void);

#endif
