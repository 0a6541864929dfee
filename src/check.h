/*
 * check.h: what `idmint -t` looks at beyond the settings: the store
 * directory's owner and mode (shm_trust, shm.h), the store's format and
 * free map space, and the shared table's state.
 */
#ifndef IDMINT_CHECK_H
#define IDMINT_CHECK_H

#include <stddef.h>
#include <stdio.h>

struct conf;

/* Above this share of the map in use, -t says the store is filling up. */
#define CHECK_MAP_FULL_PCT	90

/*
 * Look at the store and the shared table the settings name, creating
 * nothing.  Each problem is one line "idmint: ..." on out; returns how
 * many there were.
 */
int	 check_setup(const struct conf *, FILE *out);

#endif
