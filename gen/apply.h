/*
 * apply.h: one operation of ops.h in the type REAL, as the generated code
 * computes it.  dag.c includes it once per dtype, with REAL, M(f) (the
 * <math.h> function of that type), C(x) (a constant of that type) and
 * APPLY (the function's name) defined.
 */
static REAL APPLY(Op op, REAL a, REAL b, REAL c)
{
	(void)c;
	switch (op) {
#define OP(id, sp, ar, k, fl, rule, value, tex) \
	case OP_##id:                           \
		return (REAL)(value);
#include "ops.h"
#undef OP
	default:
		break;
	}
	unreachable();
}
