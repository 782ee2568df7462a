/*
 * ops.c: the operator table (ops.h) as data, its C spelling and its
 * evaluator: each operation computed as the generated code computes it, in
 * the dtype's arithmetic, for constant folding and symgrad's own evaluation.
 */
#include <math.h>
#include <string.h>

#include "sg.h"
#include "sgmath.h"

/* --math: symgrad's own functions (gen/sgmath.h) or <math.h>'s, for the
 * compilation under way (op_set_math). */
static SgMath math_mode = SG_MATH_OWN;

void op_set_math(SgMath m)
{
	math_mode = m;
}

const OpInfo op_info[OP_COUNT] = {
#define OP(id, sp, ar, k, fl, rule, value, tex) {#id, sp, ar, k, fl, #value, tex},
#include "ops.h"
#undef OP
};

/* One token of a value column: M(f), S(f) and C(x) as in dtype dt and math
 * mode m, a, b and c as %0, %1 and %2, REAL as the type; anything else as
 * written. */
static const char *c_token(Buf *b, const char *s, Dtype dt, SgMath m)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789");
	if (n == 1 && (s[0] == 'M' || s[0] == 'C' || s[0] == 'S') && s[1] == '(') {
		const char *end = strchr(s, ')');
		sg_check(end);
		if (s[0] == 'S' && m == SG_MATH_OWN)
			buf_puts(b, "sg_");
		buf_put(b, s + 2, (size_t)(end - s - 2));
		buf_puts(b, dt == DT_FLOAT ? "f" : "");
		return end + 1;
	}
	if (n == 1 && s[0] >= 'a' && s[0] <= 'c')
		buf_printf(b, "%%%d", s[0] - 'a');
	else if (n == 4 && !strncmp(s, "REAL", 4))
		buf_puts(b, dt == DT_FLOAT ? "float" : "double");
	else
		buf_put(b, s, n ? n : 1);
	return s + (n ? n : 1);
}

const char *op_c(Op op, Dtype dt)
{
	static char *text[OP_COUNT][2][2];
	char **t = &text[op][dt][math_mode];
	if (!*t) {
		Buf b = {0};
		for (const char *s = op_info[op].value; *s;)
			s = c_token(&b, s, dt, math_mode);
		buf_put(&b, "", 1);
		*t = b.data; /* once per operator, dtype and mode, for the process */
	}
	return *t;
}

/* Whether the value column calls no <math.h> function but fabs (exact):
 * with symgrad's own functions, such an operation folds to the bits the
 * generated code computes. */
static bool own_only(Op op)
{
	for (const char *s = strstr(op_info[op].value, "M("); s; s = strstr(s + 2, "M("))
		if (strncmp(s, "M(fabs)", 7))
			return false;
	return true;
}


bool op_lookup_func(const char *name, size_t len, Op *op)
{
	for (int i = 0; i < OP_COUNT; i++) {
		const OpInfo *o = &op_info[i];
		if (o->kind == K_FUNC && strlen(o->spelling) == len && !memcmp(o->spelling, name, len)) {
			*op = (Op)i;
			return true;
		}
	}
	return false;
}

/* Each operation in double and in float, with symgrad's functions and with
 * <math.h>'s: ops.h's value column, compiled four times. */
#define REAL double
#define M(f) f
#define C(x) x
#define S(f) sg_##f
#define APPLY apply_double
#include "apply.h"
#undef S
#undef APPLY
#define S(f) f
#define APPLY apply_double_libm
#include "apply.h"
#undef REAL
#undef M
#undef C
#undef S
#undef APPLY
#define REAL float
#define M(fn) fn##f
#define C(x) x##f
#define S(fn) sg_##fn##f
#define APPLY apply_float
#include "apply.h"
#undef S
#undef APPLY
#define S(fn) fn##f
#define APPLY apply_float_libm
#include "apply.h"
#undef REAL
#undef M
#undef C
#undef S
#undef APPLY

double op_apply(Dtype dt, Op op, double a, double b, double c)
{
	if (math_mode == SG_MATH_LIBM)
		return dt == DT_FLOAT ? apply_float_libm(op, (float)a, (float)b, (float)c)
				      : apply_double_libm(op, a, b, c);
	if (dt == DT_FLOAT)
		return apply_float(op, (float)a, (float)b, (float)c);
	return apply_double(op, a, b, c);
}


bool op_fold(Dtype dt, Op op, double a, double b, double *out)
{
	/* ops.h: exact to fold; or computed by symgrad's own functions, which
	 * the generated code computes to the same bit */
	bool exact = op_info[op].flags & OPF_FOLD ||
		     (math_mode == SG_MATH_OWN && op_info[op].flags & OPF_CALL && own_only(op));
	if (!exact)
		return false;
	*out = op_apply(dt, op, a, b, 0.0);
	return true;
}
