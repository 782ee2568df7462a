/*
 * sha256.h: SHA-256 (FIPS 180-4) of a byte stream (sha256.c).
 */
#ifndef SG_SHA256_H
#define SG_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct sg_sha256 {
	uint32_t h[8];
	uint64_t len;           /* bytes hashed */
	unsigned char buf[64];  /* a partial block */
	size_t n;               /* bytes in buf */
} sg_sha256;

void sg_sha256_init(sg_sha256 *s);
/* Adds n bytes. */
void sg_sha256_update(sg_sha256 *s, const void *data, size_t n);
/* Finishes: 64 lowercase hex digits and a NUL into hex. */
void sg_sha256_hex(sg_sha256 *s, char hex[65]);

#endif
