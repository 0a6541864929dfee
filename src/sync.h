/*
 * sync.h: a node's sync process, `idmint --sync` (doc/cluster.md).
 */
#ifndef IDMINT_SYNC_H
#define IDMINT_SYNC_H

#include "conf.h"

/*
 * Run in the foreground until SIGTERM, SIGINT or SIGUSR1: mirror keys
 * from PostgreSQL into the store, push this node's counts, pull the
 * others', hold the snowflake node-id lease.  Returns the exit status:
 * 0 after a stop signal, 1 when the set-up is wrong (said in the log).
 */
int	 sync_main(const struct conf *);

#endif
