/*
 * rng.c: xoshiro256** seeded by splitmix64 (Blackman and Vigna), the
 * published reference algorithms, so a seed means the same stream
 * everywhere.
 */
#include "symgrad.h"

/* Rotates x left by k bits (0 < k < 64). */
static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* One splitmix64 output; advances *x. */
uint64_t sg_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* Seeds the four state words from splitmix64(seed). */
void sg_rng_seed(sg_rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = sg_splitmix64(&seed);
}

/* Next output of xoshiro256**. */
uint64_t sg_rng_next(sg_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, n): rejects the low 2^64 mod n values that would bias
 * the modulo. */
uint64_t sg_rng_below(sg_rng *r, uint64_t n)
{
	uint64_t threshold = (0 - n) % n;
	uint64_t x;

	do
		x = sg_rng_next(r);
	while (x < threshold);
	return x % n;
}

/* Uniform double in [0, 1) from the top 53 bits. */
double sg_rng_double(sg_rng *r)
{
	return (double)(sg_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Fisher-Yates, from the end: swaps idx[i] with idx[below(i+1)]. */
void sg_rng_shuffle(sg_rng *r, size_t *idx, size_t n)
{
	size_t i, j, tmp;

	for (i = n; i > 1; i--) {
		j = (size_t)sg_rng_below(r, i);
		tmp = idx[i - 1];
		idx[i - 1] = idx[j];
		idx[j] = tmp;
	}
}
