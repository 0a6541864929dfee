/*
 * buf.h: a growable byte buffer, the one way text is built in idmint.
 *
 * A buffer never fails silently: once an allocation fails or the cap is
 * passed, `err` is set and later appends do nothing, so a caller checks
 * once at the end instead of after every append.
 */
#ifndef IDMINT_BUF_H
#define IDMINT_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	char	*data;	/* always NUL-terminated when len > 0 or after buf_cstr */
	size_t	 len;
	size_t	 cap;
	size_t	 max;	/* 0: no cap */
	int	 err;
};

void	 buf_init(struct buf *, size_t max);
void	 buf_free(struct buf *);
void	 buf_reset(struct buf *);
/* Zero what the buffer holds (a secret), then empty it. */
void	 buf_wipe(struct buf *);
int	 buf_reserve(struct buf *, size_t extra);
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_adds(struct buf *, const char *);
void	 buf_addc(struct buf *, char);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_add_u64(struct buf *, uint64_t);
void	 buf_add_hex(struct buf *, const unsigned char *, size_t);
/* A JSON string literal, quotes included; invalid UTF-8 becomes U+FFFD. */
void	 buf_add_jstr(struct buf *, const char *, size_t);
const char *buf_cstr(struct buf *);

/* Append a string literal, its length counted by the compiler. */
#define buf_addl(b, lit)	buf_add((b), "" lit, sizeof(lit) - 1)

#define UUID_STR_LEN	36
/*
 * Set the RFC 9562 version and variant bits of b, then write it as
 * lowercase 8-4-4-4-12 hex and a NUL: the one UUID formatter.
 */
void	 uuid_fmt(char out[UUID_STR_LEN + 1], unsigned char b[16],
	    unsigned version);

#endif
