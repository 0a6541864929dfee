/*
 * shm.h: the shared table's file, DIR/idmint.shm: made, checked, trusted,
 * mapped, and replaced.  What lives inside it is usage.c's and limit.c's.
 *
 * The file is made whole under a temporary name (posix_fallocate, so a
 * full tmpfs fails here rather than killing a worker with SIGBUS on first
 * touch) and put in place atomically.  A file made before the last boot,
 * or of another magic, an older version or another size, is replaced; so
 * is one an operator deleted (every mapping notices, see shm_stale).  A
 * file of a newer version is refused, never replaced: newer workers may
 * be counting in it.  A directory or
 * file not owned by the effective user, or writable by group or others,
 * is refused: whoever can write it can corrupt every worker's memory.
 */
#ifndef IDMINT_SHM_H
#define IDMINT_SHM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SHM_FILE	"idmint.shm"
#define SHM_MAGIC	0x314d48535453494dULL	/* "MISTSHM1" */
#define SHM_VERSION	2
#define SHM_HDR_SIZE	4096

/* The table sizes, each a power of two; 0 asks for the default. */
struct shm_sizes {
	uint32_t	 count;		/* (user, month, type) call counters */
	uint32_t	 quota;		/* (user, month) quota cells */
	uint32_t	 rate;		/* user rate cells */
	uint32_t	 procs;		/* processes holding reservations */
	uint32_t	 ovf;		/* the overflow ring */
};

#define SHM_COUNT_DEFAULT	32768
#define SHM_QUOTA_DEFAULT	131072
#define SHM_RATE_DEFAULT	131072
#define SHM_PROCS_DEFAULT	1024
#define SHM_OVF_DEFAULT		4096
#define SHM_CELLS_MAX		(1u << 24)
#define SHM_METRICS_SIZE	16384	/* the region metrics.c lays out */

/*
 * The header, first page of the file.  The fields up to boot_id keep the
 * offsets of version 1, so a file of any version is recognised.
 */
struct shm_hdr {
	uint64_t	 magic;
	uint32_t	 version;
	uint32_t	 hdr_size;
	uint64_t	 size;
	uint64_t	 generation;	/* random, never 0: names this file */
	uint32_t	 ncount, nquota, nrate, nresv;
	char		 boot_id[40];	/* the kernel's boot id when made */
	uint32_t	 nprocs, novf;
	unsigned char	 hkey[16];	/* key of the name hash */
	/* Shared counters, updated with atomics. */
	_Alignas(64) _Atomic uint64_t last_flush_ms;	/* monotonic */
	_Atomic uint64_t flushes;	/* flushes committed */
	_Atomic uint64_t overflows;	/* calls counted in the ring */
	_Atomic uint64_t sync_commits;	/* calls committed one by one */
	_Atomic uint64_t lost;		/* calls that could not be counted */
	_Atomic uint64_t ovf_batch;	/* the ring's last flush batch */
	_Atomic uint32_t nclaimed;	/* entries in the claimed list */
	_Atomic uint32_t used[3];	/* cells taken per table */
	_Atomic uint32_t reclaim_month;	/* month of the last reclaim pass */
	_Atomic uint32_t ovf_next;	/* where the ring's next search starts */
	_Atomic uint64_t metrics_off;	/* reserved for metrics */
};

struct shm {
	int		 fd;
	unsigned char	*map;
	size_t		 size;
	struct shm_hdr	*h;
	char		 path[4096];
};

/*
 * Open (making it if needed) DIR/idmint.shm, sized by sz for a new file
 * (an existing valid file keeps its own sizes).  0, or -1 with a message.
 */
int	 shm_open_table(struct shm *, const char *dir,
	    const struct shm_sizes *sz, char *err, size_t errlen);
void	 shm_close_table(struct shm *);
/* 1 if the file at the path is no longer the one mapped (deleted or
 * replaced), so the caller should flush and move to the new one. */
int	 shm_stale(const struct shm *);
/* The byte size of a table of these sizes. */
size_t	 shm_bytes(const struct shm_sizes *);
/* Fill sz with defaults where 0, rounded up to powers of two; -1 if one
 * is past SHM_CELLS_MAX. */
int	 shm_sizes_norm(struct shm_sizes *);

/*
 * May a file or directory be trusted: owned by the effective user, not
 * writable by group or others?  0, or -1 with a message naming the path.
 */
int	 shm_trust(const char *path, int is_dir, char *err, size_t errlen);

/*
 * What the open table file fd at path is, changing nothing (idmint -t):
 * in use (*h read from it), stale (none of ours, an older version or
 * another size, or made before the last boot: the first worker makes it
 * anew), or newer than this idmint (refused, with a line in err naming
 * the path and both versions).
 */
enum shm_state { SHM_OK, SHM_STALE, SHM_NEWER };
enum shm_state shm_file_state(int fd, const char *path, struct shm_hdr *h,
	    char *err, size_t errlen);

#endif
