/*
 * shm.c: the shared table's file (see shm.h).
 */
#include "config.h"

#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "shm.h"
#include "table.h"

_Static_assert(sizeof(struct shm_hdr) <= SHM_HDR_SIZE, "header too large");
_Static_assert(offsetof(struct shm_hdr, boot_id) == 48,
    "the header's first fields keep their places");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");

static uint32_t
pow2(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

int
shm_sizes_norm(struct shm_sizes *sz)
{
	static const struct shm_sizes def = { SHM_COUNT_DEFAULT,
	    SHM_QUOTA_DEFAULT, SHM_RATE_DEFAULT, SHM_PROCS_DEFAULT,
	    SHM_OVF_DEFAULT };
	uint32_t	*v = &sz->count;
	const uint32_t	*d = &def.count;
	size_t		 i;

	for (i = 0; i < sizeof(*sz) / sizeof(*v); i++) {
		if (v[i] == 0)
			v[i] = d[i];
		if (v[i] > SHM_CELLS_MAX)
			return -1;
		v[i] = pow2(v[i] < 8 ? 8 : v[i]);
	}
	return 0;
}

size_t
shm_bytes(const struct shm_sizes *sz)
{
	struct layout	 l;

	table_layout(sz, &l);
	return l.end;
}

int
shm_trust(const char *path, int is_dir, char *err, size_t errlen)
{
	struct stat	 sb;

	if (lstat(path, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (is_dir ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s is not a %s", path, is_dir ?
		    "directory" : "regular file");
		return -1;
	}
	if (sb.st_uid != geteuid()) {
		snprintf(err, errlen, "%s belongs to uid %ld, not to this "
		    "process's uid %ld: refusing to trust it", path,
		    (long)sb.st_uid, (long)geteuid());
		return -1;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s is writable by %s (mode %04o): "
		    "refusing to trust it; chmod go-w %s", path,
		    (sb.st_mode & S_IWOTH) ? "others" : "its group",
		    (unsigned)(sb.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

/*
 * The boot id, so that a table file left on a disk by an earlier boot
 * (its pages possibly older than the store's marks) is never trusted:
 * it is made anew, with a new generation, as on a tmpfs.
 */
static void
boot_id(char id[40])
{
	ssize_t	 n = 0;
	int	 fd;

	memset(id, 0, 40);
	if ((fd = open("/proc/sys/kernel/random/boot_id",
	    O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, id, 39);
		close(fd);
	}
	if (n <= 0)
		memset(id, 0, 40);
}

/* The sizes of a header, if it is one of ours of this version. */
static int
hdr_sizes(const struct shm_hdr *h, struct shm_sizes *sz)
{
	struct shm_sizes n;

	if (h->magic != SHM_MAGIC || h->version != SHM_VERSION ||
	    h->hdr_size != SHM_HDR_SIZE || h->generation == 0 ||
	    h->nresv != RESV_BITS)
		return -1;
	sz->count = h->ncount;
	sz->quota = h->nquota;
	sz->rate = h->nrate;
	sz->procs = h->nprocs;
	sz->ovf = h->novf;
	n = *sz;
	/* Every size a power of two within bounds, as this code makes them. */
	if (shm_sizes_norm(&n) == -1 || memcmp(&n, sz, sizeof(n)) != 0 ||
	    h->size != shm_bytes(sz))
		return -1;
	return 0;
}

/* Is the open file one of ours, whole, made since boot? */
static int
file_ok(int fd, struct shm_sizes *sz)
{
	struct stat	 sb;
	struct shm_hdr	 h;
	char		 id[40];

	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    hdr_sizes(&h, sz) == -1 || (uint64_t)sb.st_size != h.size ||
	    atomic_load(&h.nclaimed) > h.ncount)
		return 0;
	boot_id(id);
	return memcmp(id, h.boot_id, sizeof(id)) == 0;
}

/*
 * A file of our magic but a newer version: refused, never replaced,
 * since newer workers may be counting in it (a rolling downgrade).
 */
static int
file_newer(int fd, const char *path, char *err, size_t errlen)
{
	struct shm_hdr	 h;

	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    h.magic != SHM_MAGIC || h.version <= SHM_VERSION)
		return 0;
	snprintf(err, errlen, "%s: shared table format %u is newer than this "
	    "idmint understands (%u); stop every newer idmint, then remove "
	    "the file", path, (unsigned)h.version, (unsigned)SHM_VERSION);
	return 1;
}

enum shm_state
shm_file_state(int fd, const char *path, struct shm_hdr *h, char *err,
    size_t errlen)
{
	struct shm_sizes sz;

	if (file_newer(fd, path, err, errlen))
		return SHM_NEWER;
	if (!file_ok(fd, &sz) ||
	    pread(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h))
		return SHM_STALE;
	return SHM_OK;
}

/*
 * Make a whole new file under a temporary name, then put it in place:
 * link(2) when there was none (if another process won the race, its file
 * stays), rename(2) to replace a bad one.  Either way no process ever
 * opens a half-made file at path.
 */
static int
file_make(const char *path, const struct shm_sizes *sz, int replace,
    char *err, size_t errlen)
{
	char		 tmp[PATH_MAX];
	struct shm_hdr	 h;
	int		 fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "creating %s: %s", tmp, strerror(errno));
		return -1;
	}
	memset(&h, 0, sizeof(h));
	h.magic = SHM_MAGIC;
	h.version = SHM_VERSION;
	h.hdr_size = SHM_HDR_SIZE;
	h.size = shm_bytes(sz);
	h.ncount = sz->count;
	h.nquota = sz->quota;
	h.nrate = sz->rate;
	h.nprocs = sz->procs;
	h.novf = sz->ovf;
	h.nresv = RESV_BITS;
	boot_id(h.boot_id);
	randombytes_buf(h.hkey, sizeof(h.hkey));
	do
		randombytes_buf(&h.generation, sizeof(h.generation));
	while (h.generation == 0);
	/* Every page allocated now: a full file system fails here, not with
	 * SIGBUS in a worker that touches a page later. */
	if (fchmod(fd, 0600) == -1)
		rc = errno;
	else
		rc = posix_fallocate(fd, 0, (off_t)h.size);
	if (rc == 0 && pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		rc = errno != 0 ? errno : EIO;
	close(fd);
	if (rc == 0 && replace && rename(tmp, path) == -1)
		rc = errno;
	else if (rc == 0 && !replace && link(tmp, path) == -1 &&
	    errno != EEXIST)	/* EEXIST: another process made it first */
		rc = errno;
	if (rc != 0)
		snprintf(err, errlen, "creating %s (%zu MiB): %s", path,
		    (size_t)(h.size >> 20), strerror(rc));
	(void)unlink(tmp);
	return rc == 0 ? 0 : -1;
}

/* Replace a bad file, unless another process did so meanwhile. */
static int
file_replace(const char *path, int fd, const struct shm_sizes *want,
    char *err, size_t errlen)
{
	struct shm_sizes sz;
	struct stat	 a, b;
	int		 rc = 0;

	if (flock(fd, LOCK_EX) == -1) {
		snprintf(err, errlen, "locking %s: %s", path, strerror(errno));
		return -1;
	}
	if (stat(path, &a) == 0 && fstat(fd, &b) == 0 &&
	    a.st_ino == b.st_ino && a.st_dev == b.st_dev && !file_ok(fd, &sz))
		rc = file_make(path, want, 1, err, errlen);
	(void)flock(fd, LOCK_UN);
	return rc;
}

int
shm_open_table(struct shm *t, const char *dir, const struct shm_sizes *want,
    char *err, size_t errlen)
{
	struct shm_sizes sz, w = want != NULL ? *want : (struct shm_sizes){ 0 };
	int		 tries, ok = 0;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (shm_sizes_norm(&w) == -1) {
		snprintf(err, errlen, "a shared table size is past %u cells",
		    SHM_CELLS_MAX);
		return -1;
	}
	if (snprintf(t->path, sizeof(t->path), "%s/%s", dir, SHM_FILE) >=
	    (int)sizeof(t->path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if (shm_trust(dir, 1, err, errlen) == -1)
		return -1;
	for (tries = 0; tries < 8; tries++) {
		if ((t->fd = open(t->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) ==
		    -1) {
			if (errno != ENOENT) {
				snprintf(err, errlen, "opening %s: %s", t->path,
				    strerror(errno));
				return -1;
			}
			if (file_make(t->path, &w, 0, err, errlen) == -1)
				return -1;
			continue;
		}
		if (shm_trust(t->path, 0, err, errlen) == -1)
			break;
		if ((ok = file_ok(t->fd, &sz)))
			break;
		if (file_newer(t->fd, t->path, err, errlen))
			break;
		if (file_replace(t->path, t->fd, &w, err, errlen) == -1)
			break;
		close(t->fd);
		t->fd = -1;
	}
	if (!ok) {
		if (tries == 8)
			snprintf(err, errlen, "%s: cannot open a valid table",
			    t->path);
		shm_close_table(t);
		return -1;
	}
	t->size = shm_bytes(&sz);
	if ((t->map = mmap(NULL, t->size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    t->fd, 0)) == MAP_FAILED) {
		t->map = NULL;
		snprintf(err, errlen, "mapping %s: %s", t->path, strerror(errno));
		shm_close_table(t);
		return -1;
	}
	t->h = (struct shm_hdr *)(void *)t->map;
	return 0;
}

void
shm_close_table(struct shm *t)
{
	if (t->map != NULL)
		munmap(t->map, t->size);
	if (t->fd != -1)
		close(t->fd);
	t->map = NULL;
	t->h = NULL;
	t->fd = -1;
}

int
shm_stale(const struct shm *t)
{
	struct stat	 a, b;

	if (fstat(t->fd, &b) == -1)
		return 0;
	return stat(t->path, &a) == -1 || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev;
}
