/*
 * rnd.h: libsodium's randomness, drawn a few KiB at a time.
 *
 * randombytes_buf() is one getrandom(2) system call per call with the
 * libsodium Debian ships, which costs more than minting most IDs.  IDs
 * and request ids take their bytes from a small pool that libsodium
 * refills; each byte is handed out once and wiped, and a fork empties the
 * pool so that parent and child never share bytes.  Long-term secrets
 * (tokens, keypairs) keep calling libsodium directly.
 */
#ifndef IDMINT_RND_H
#define IDMINT_RND_H

#include <stddef.h>

void	 rnd_bytes(void *, size_t);

#endif
