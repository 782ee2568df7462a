/*
 * ops.c: the operator table (ops.h) as data, its C spelling and its
 * evaluator: each operation computed as the generated code computes it, in
 * the dtype's arithmetic, for constant folding and symgrad's own evaluation.
 */
#include <math.h>
#include <string.h>

#include "sg.h"

const OpInfo op_info[OP_COUNT] = {
#define OP(id, sp, ar, k, fl, rule, value, tex) {#id, sp, ar, k, fl, #value, tex},
#include "ops.h"
#undef OP
};

/* One token of a value column: M(f) and C(x) as in dtype dt, a, b and c as
 * %0, %1 and %2, REAL as the type; anything else as written. */
static const char *c_token(Buf *b, const char *s, Dtype dt)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789");
	if (n == 1 && (s[0] == 'M' || s[0] == 'C') && s[1] == '(') {
		const char *end = strchr(s, ')');
		sg_check(end);
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
	static char *text[OP_COUNT][2];
	if (!text[op][dt]) {
		Buf b = {0};
		for (const char *s = op_info[op].value; *s;)
			s = c_token(&b, s, dt);
		buf_put(&b, "", 1);
		text[op][dt] = b.data; /* once per operator and dtype, for the process */
	}
	return text[op][dt];
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

/* Each operation in double and in float: ops.h's value column, compiled. */
#define REAL double
#define M(f) f
#define C(x) x
#define APPLY apply_double
#include "apply.h"
#undef REAL
#undef M
#undef C
#undef APPLY
#define REAL float
#define M(fn) fn##f
#define C(x) x##f
#define APPLY apply_float
#include "apply.h"
#undef REAL
#undef M
#undef C
#undef APPLY

double op_apply(Dtype dt, Op op, double a, double b, double c)
{
	if (dt == DT_FLOAT)
		return apply_float(op, (float)a, (float)b, (float)c);
	return apply_double(op, a, b, c);
}


bool op_fold(Dtype dt, Op op, double a, double b, double *out)
{
	if (!(op_info[op].flags & OPF_FOLD)) /* ops.h: exact to fold */
		return false;
	*out = op_apply(dt, op, a, b, 0.0);
	return true;
}
