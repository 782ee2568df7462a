/*
 * test_rng.c: the seeded generator is the published xoshiro256** with
 * splitmix64 seeding (values from data/gen_rng_ref.py), deterministic, and
 * its shuffle is a permutation.
 */
#include <stdlib.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "symgrad.h"

Test(rng, reference_stream)
{
	static const uint64_t want0[4] = {
		0x99ec5f36cb75f2b4u, 0xbf6e1f784956452au, 0x1a5f849d4933e6e0u,
		0x6aa594f1262d2d2cu};
	static const uint64_t want42[4] = {
		0x15780b2e0c2ec716u, 0x6104d9866d113a7eu, 0xae17533239e499a1u,
		0xecb8ad4703b360a1u};
	sg_rng r;
	int i;

	sg_rng_seed(&r, 0);
	for (i = 0; i < 4; i++)
		cr_assert(eq(u64, sg_rng_next(&r), want0[i]));
	sg_rng_seed(&r, 42);
	for (i = 0; i < 4; i++)
		cr_assert(eq(u64, sg_rng_next(&r), want42[i]));
}

Test(rng, same_seed_same_stream)
{
	sg_rng a, b, c;
	int i, differ = 0;

	sg_rng_seed(&a, 12345);
	sg_rng_seed(&b, 12345);
	sg_rng_seed(&c, 12346);
	for (i = 0; i < 1000; i++) {
		uint64_t x = sg_rng_next(&a);
		cr_assert(eq(u64, x, sg_rng_next(&b)));
		differ += x != sg_rng_next(&c);
	}
	cr_assert(lt(int, 990, differ)); /* Criterion 2.4.1 gt() is >= in C */
}

Test(rng, shuffle_reference_and_permutation)
{
	static const size_t want[10] = {3, 8, 0, 9, 2, 5, 6, 4, 1, 7};
	size_t idx[10], seen[10] = {0};
	sg_rng r;
	size_t i;

	for (i = 0; i < 10; i++)
		idx[i] = i;
	sg_rng_seed(&r, 1);
	sg_rng_shuffle(&r, idx, 10);
	for (i = 0; i < 10; i++) {
		cr_assert(eq(sz, idx[i], want[i]));
		seen[idx[i]]++;
	}
	for (i = 0; i < 10; i++)
		cr_assert(eq(sz, seen[i], 1));
}

Test(rng, below_and_double_ranges)
{
	int count[7] = {0}, i;
	sg_rng r;

	sg_rng_seed(&r, 7);
	for (i = 0; i < 70000; i++) {
		uint64_t k = sg_rng_below(&r, 7);
		double u = sg_rng_double(&r);
		cr_assert(lt(u64, k, 7));
		cr_assert(ge(dbl, u, 0.0));
		cr_assert(lt(dbl, u, 1.0));
		count[k]++;
	}
	for (i = 0; i < 7; i++) /* 10000 expected, sd ~93 */
		cr_assert(lt(int, abs(count[i] - 10000), 600), "bucket %d: %d", i,
			  count[i]);
	cr_assert(eq(u64, sg_rng_below(&r, 1), 0));
}
