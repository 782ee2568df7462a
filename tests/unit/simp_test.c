/*
 * simp_test.c: the simplifying constructors.  Each identity of gen/simp.c
 * is checked twice: for its structure (what node comes out) and for its
 * exactness (the simplified node and the unsimplified one evaluate to the
 * same bits for every pair of special operands: ±0, ±Inf, NaN, subnormals,
 * huge values), in double and in float.  The identities that are not exact
 * (x*0, x+0, x-x, x/x) must not be applied.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "helpers.h"
#include "sgmath.h"

typedef struct Env {
	Arena *a;
	Dag *d;
	Node *x, *y;
} Env;

static Symbol *sym(Arena *a, const char *name, int index)
{
	Symbol *s = arena_alloc(a, sizeof *s);
	s->kind = SYM_INPUT;
	s->name = s->ident = name;
	s->index = index;
	s->size = 1;
	return s;
}

static Env env(Dtype dt)
{
	Env e;
	e.a = unit_arena();
	e.d = dag_new(e.a, dt);
	e.x = dag_leaf(e.d, OP_INPUT, sym(e.a, "x", 0));
	e.y = dag_leaf(e.d, OP_INPUT, sym(e.a, "y", 1));
	return e;
}

/* A node as prefix text: (MUL x (NEG y)), constants with %g. */
static void show_into(Buf *b, const Node *n)
{
	switch (n->op) {
	case OP_CONST: buf_printf(b, "%g", n->value); return;
	case OP_INPUT: case OP_PARAM: buf_puts(b, n->sym->name); return;
	default: break;
	}
	buf_printf(b, "(%s", op_info[n->op].name);
	for (int k = 0; k < n->nargs; k++) {
		buf_puts(b, " ");
		show_into(b, n->args[k]);
	}
	buf_puts(b, ")");
}

static char *show(const Node *n)
{
	Buf b = {0};
	show_into(&b, n);
	buf_put(&b, "", 1);
	return unit_keep(b.data);
}

static Node *C(Env *e, double v) { return dag_const(e->d, v); }

/* ---- structure ---- */

Test(simp, multiplicative_identities)
{
	Env e = env(DT_DOUBLE);
	cr_assert(eq(ptr, simp_mul(e.d, e.x, C(&e, 1)), e.x));
	cr_assert(eq(ptr, simp_mul(e.d, C(&e, 1), e.x), e.x));
	cr_assert(eq(ptr, simp_div(e.d, e.x, C(&e, 1)), e.x));
	cr_assert(eq(str, show(simp_mul(e.d, e.x, C(&e, -1))), "(NEG x)"));
	cr_assert(eq(str, show(simp_mul(e.d, C(&e, -1), e.x)), "(NEG x)"));
	cr_assert(eq(str, show(simp_div(e.d, e.x, C(&e, -1))), "(NEG x)"));
	/* 1/x is not x */
	cr_assert(eq(str, show(simp_div(e.d, C(&e, 1), e.x)), "(DIV 1 x)"));
	cr_assert(eq(str, show(simp_div(e.d, C(&e, -1), e.x)), "(DIV -1 x)"));
}

Test(simp, additive_identities)
{
	Env e = env(DT_DOUBLE);
	cr_assert(eq(ptr, simp_add(e.d, e.x, C(&e, -0.0)), e.x));
	cr_assert(eq(ptr, simp_add(e.d, C(&e, -0.0), e.x), e.x));
	cr_assert(eq(ptr, simp_sub(e.d, e.x, C(&e, 0.0)), e.x));
	cr_assert(eq(str, show(simp_sub(e.d, C(&e, -0.0), e.x)), "(NEG x)"));
	/* x - (-0) = x + 0 and 0 - x are not identities (x = -0) */
	cr_assert(eq(str, show(simp_sub(e.d, e.x, C(&e, -0.0))), "(SUB x -0)"));
	cr_assert(eq(str, show(simp_sub(e.d, C(&e, 0.0), e.x)), "(SUB 0 x)"));
}

Test(simp, negation)
{
	Env e = env(DT_DOUBLE);
	cr_assert(eq(ptr, simp_neg(e.d, simp_neg(e.d, e.x)), e.x));
	cr_assert(eq(str, show(simp_neg(e.d, e.x)), "(NEG x)"));
	cr_assert(eq(str, show(simp_add(e.d, e.x, simp_neg(e.d, e.y))), "(SUB x y)"));
	cr_assert(eq(str, show(simp_add(e.d, simp_neg(e.d, e.x), e.y)), "(SUB y x)"));
	cr_assert(eq(str, show(simp_sub(e.d, e.x, simp_neg(e.d, e.y))), "(ADD x y)"));
	cr_assert(eq(str, show(simp_sub(e.d, e.x, C(&e, -3))), "(ADD x 3)"));
	cr_assert(eq(str, show(simp_sub(e.d, e.x, C(&e, 3))), "(SUB x 3)"));
}

Test(simp, sign_rules)
{
	Env e = env(DT_DOUBLE);
	Node *nx = simp_neg(e.d, e.x), *ny = simp_neg(e.d, e.y);
	cr_assert(eq(str, show(simp_mul(e.d, nx, e.y)), "(NEG (MUL x y))"));
	cr_assert(eq(str, show(simp_mul(e.d, e.x, ny)), "(NEG (MUL x y))"));
	cr_assert(eq(str, show(simp_mul(e.d, nx, ny)), "(MUL x y)"));
	cr_assert(eq(str, show(simp_div(e.d, nx, e.y)), "(NEG (DIV x y))"));
	cr_assert(eq(str, show(simp_div(e.d, e.x, ny)), "(NEG (DIV x y))"));
	cr_assert(eq(str, show(simp_div(e.d, nx, ny)), "(DIV x y)"));
	cr_assert(eq(str, show(simp_mul(e.d, nx, C(&e, 3))), "(NEG (MUL x 3))"));
	/* -(x*y) and (-x)*y are one node */
	cr_assert(eq(ptr, simp_mul(e.d, nx, e.y), simp_neg(e.d, simp_mul(e.d, e.x, e.y))));
}

Test(simp, non_identities_are_not_applied)
{
	Env e = env(DT_DOUBLE);
	cr_assert(eq(str, show(simp_mul(e.d, e.x, C(&e, 0))), "(MUL x 0)"));
	Env f = env(DT_DOUBLE); /* fresh: 0*x would find x*0 above, the same value */
	cr_assert(eq(str, show(simp_mul(f.d, dag_const(f.d, 0), f.x)), "(MUL 0 x)"));
	cr_assert(eq(str, show(simp_mul(e.d, e.x, C(&e, -0.0))), "(MUL x -0)"));
	cr_assert(eq(str, show(simp_add(e.d, e.x, C(&e, 0))), "(ADD x 0)"));
	cr_assert(eq(str, show(simp_add(f.d, dag_const(f.d, 0), f.x)), "(ADD 0 x)"));
	cr_assert(eq(str, show(simp_sub(e.d, e.x, e.x)), "(SUB x x)"));
	cr_assert(eq(str, show(simp_div(e.d, e.x, e.x)), "(DIV x x)"));
	cr_assert(eq(str, show(simp_div(e.d, C(&e, 0), e.x)), "(DIV 0 x)"));
	cr_assert(eq(str, show(simp_add(e.d, e.x, e.x)), "(ADD x x)"));
	cr_assert(eq(str, show(simp_mul(e.d, e.x, C(&e, 2))), "(MUL x 2)"));
}

Test(simp, folding)
{
	Env e = env(DT_DOUBLE);
	cr_assert(eq(dbl, simp_add(e.d, C(&e, 2), C(&e, 3))->value, 5.0));
	cr_assert(eq(dbl, simp_add(e.d, C(&e, 0.1), C(&e, 0.2))->value, 0.1 + 0.2));
	cr_assert(eq(dbl, simp_sub(e.d, C(&e, 0.3), C(&e, 0.1))->value, 0.3 - 0.1));
	cr_assert(eq(dbl, simp_mul(e.d, C(&e, 0.1), C(&e, 3))->value, 0.1 * 3));
	cr_assert(eq(dbl, simp_div(e.d, C(&e, 1), C(&e, 3))->value, 1.0 / 3));
	cr_assert(eq(dbl, simp_neg(e.d, C(&e, 2))->value, -2.0));
	Node *inf = simp_div(e.d, C(&e, 1), C(&e, 0));
	cr_assert(eq(int, inf->op, OP_CONST));
	cr_assert(eq(int, isinf(inf->value) && inf->value > 0, 1));
	Node *minf = simp_div(e.d, C(&e, -1), C(&e, 0));
	cr_assert(eq(int, isinf(minf->value) && minf->value < 0, 1));
	cr_assert(eq(int, isnan(simp_div(e.d, C(&e, 0), C(&e, 0))->value), 1));
	Node *nz = simp_add(e.d, C(&e, -0.0), C(&e, -0.0));
	cr_assert(eq(int, nz->op, OP_CONST));
	cr_assert(eq(int, signbit(nz->value) != 0, 1));
	cr_assert(eq(dbl, simp_make(e.d, OP_SQRT, C(&e, 2), NULL)->value, sqrt(2.0)));
	cr_assert(eq(dbl, simp_make(e.d, OP_ABS, C(&e, -3), NULL)->value, 3.0));
	cr_assert(eq(dbl, simp_make(e.d, OP_RELU, C(&e, -2), NULL)->value, 0.0));
	cr_assert(eq(dbl, simp_make(e.d, OP_RELU, C(&e, 2.5), NULL)->value, 2.5));
	cr_assert(eq(dbl, simp_make(e.d, OP_MIN, C(&e, 4), C(&e, -1))->value, -1.0));
	cr_assert(eq(dbl, simp_make(e.d, OP_MAX, C(&e, 4), C(&e, -1))->value, 4.0));
	/* folding goes through the other identities: 2*(x*1) + 0*3 */
	cr_assert(eq(str, show(simp_add(e.d, simp_mul(e.d, C(&e, 2), simp_mul(e.d, e.x, C(&e, 1))),
					simp_mul(e.d, C(&e, -0.0), C(&e, 3)))), "(MUL 2 x)"));
}

Test(simp, libm_functions_are_not_folded)
{
	Env e = env(DT_DOUBLE);
	/* under --math libm, every function with a <math.h> call but sqrt (exact) */
	op_set_math(SG_MATH_LIBM);
	static const Op ops[] = {OP_TAN, OP_ASINH, OP_ERFC, OP_ATANH, OP_EXP, OP_SIN};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		cr_assert(eq(int, simp_make(e.d, ops[i], C(&e, 0.5), NULL)->op, ops[i]), "%s",
			  op_info[ops[i]].name);
	bool r;
	double out;
	r = op_fold(DT_DOUBLE, OP_TAN, 1, 0, &out);
	cr_assert(not(r));
	r = op_fold(DT_DOUBLE, OP_POW, 2, 3, &out);
	cr_assert(not(r));
	r = op_fold(DT_DOUBLE, OP_EXP, 1, 0, &out);
	cr_assert(not(r));
	op_set_math(SG_MATH_OWN);
	r = op_fold(DT_DOUBLE, OP_TAN, 1, 0, &out);
	cr_assert(r);
}

/* The functions symgrad computes itself (gen/sgmath.h), and those written
 * over them, fold: the generated code computes the same bits. */
static const Op own_ops[] = {OP_EXP, OP_LOG, OP_TANH, OP_SIGMOID, OP_SOFTPLUS, OP_LOG1P,
			     OP_EXPM1, OP_SILU, OP_ELU, OP_LOGSIGMOID, OP_SIN, OP_COS, OP_POW,
			     OP_ERF, OP_GELU, OP_ATAN, OP_ASIN, OP_ACOS, OP_ATAN2, OP_LOG2,
			     OP_EXP2, OP_CBRT, OP_HYPOT, OP_SINH, OP_COSH, OP_TAN, OP_ASINH,
			     OP_ACOSH, OP_ATANH, OP_ERFC};

static bool is_own(Op op)
{
	for (size_t i = 0; i < sizeof own_ops / sizeof own_ops[0]; i++)
		if (own_ops[i] == op)
			return true;
	return false;
}

Test(simp, own_functions_fold_to_their_bits)
{
	Env e = env(DT_DOUBLE);
	for (size_t i = 0; i < sizeof own_ops / sizeof own_ops[0]; i++)
		cr_assert(eq(int, simp_make(e.d, own_ops[i], C(&e, 0.5), NULL)->op, OP_CONST), "%s",
			  op_info[own_ops[i]].name);
	cr_assert(eq(dbl, simp_make(e.d, OP_EXP, C(&e, 0.3), NULL)->value, sg_exp(0.3)));
	cr_assert(eq(dbl, simp_make(e.d, OP_LOG, C(&e, 3), NULL)->value, sg_log(3)));
	cr_assert(eq(dbl, simp_make(e.d, OP_TANH, C(&e, 0.7), NULL)->value, sg_tanh(0.7)));
	cr_assert(eq(dbl, simp_make(e.d, OP_EXPM1, C(&e, -0.2), NULL)->value, sg_expm1(-0.2)));
	cr_assert(eq(dbl, simp_make(e.d, OP_LOG1P, C(&e, 1e-5), NULL)->value, sg_log1p(1e-5)));
	cr_assert(eq(dbl, simp_make(e.d, OP_SIN, C(&e, 1e22), NULL)->value, sg_sin(1e22)));
	cr_assert(eq(dbl, simp_make(e.d, OP_COS, C(&e, 0.3), NULL)->value, sg_cos(0.3)));
	cr_assert(eq(dbl, simp_make(e.d, OP_POW, C(&e, 2), C(&e, 0.5))->value, sg_pow(2, 0.5)));
	cr_assert(eq(dbl, simp_make(e.d, OP_ERF, C(&e, 1.5), NULL)->value, sg_erf(1.5)));
	cr_assert(eq(dbl, simp_make(e.d, OP_ATAN2, C(&e, 1), C(&e, -2))->value, sg_atan2(1, -2)));
	cr_assert(eq(dbl, simp_make(e.d, OP_TAN, C(&e, 1e22), NULL)->value, sg_tan(1e22)));
	cr_assert(eq(dbl, simp_make(e.d, OP_ERFC, C(&e, 1.11), NULL)->value, sg_erfc(1.11)));
	cr_assert(eq(dbl, simp_make(e.d, OP_ATANH, C(&e, 0.3), NULL)->value, sg_atanh(0.3)));
	Env f = env(DT_FLOAT);
	cr_assert(eq(flt, (float)simp_make(f.d, OP_EXP, C(&f, 0.3f), NULL)->value, sg_expf(0.3f)));
}

/* ops.h's OPF_FOLD decides, for every function: one with a <math.h> call
 * that is not correctly rounded is never folded (the generating machine's
 * libm need not be the running one's); square and leaky_relu are; and so
 * are symgrad's own. */
Test(simp, functions_fold_only_when_exact)
{
	Env e = env(DT_DOUBLE);
	for (int i = 0; i < OP_COUNT; i++) {
		const OpInfo *o = &op_info[i];
		if (o->kind != K_FUNC)
			continue;
		Node *b = o->arity == 2 ? C(&e, 0.25) : NULL;
		Node *n = simp_make(e.d, (Op)i, C(&e, 0.5), b);
		cr_assert(eq(int, n->op == OP_CONST, (o->flags & OPF_FOLD) != 0 || is_own((Op)i)), "%s",
			  o->name);
	}
	static const Op calls[] = {OP_ATAN, OP_ASIN, OP_ACOS, OP_SINH, OP_COSH, OP_ASINH,
				   OP_ACOSH, OP_ATANH, OP_LOG1P, OP_EXPM1, OP_LOG2, OP_EXP2,
				   OP_ERF, OP_ERFC, OP_CBRT, OP_GELU, OP_SILU, OP_ELU,
				   OP_LOGSIGMOID, OP_ATAN2, OP_HYPOT};
	for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
		cr_assert(eq(int, op_info[calls[i]].flags, OPF_CALL), "%s", op_info[calls[i]].name);
	cr_assert(eq(dbl, simp_make(e.d, OP_SQUARE, C(&e, -3), NULL)->value, 9.0));
	cr_assert(eq(dbl, simp_make(e.d, OP_LEAKY_RELU, C(&e, -2), C(&e, 0.25))->value, -0.5));
	cr_assert(eq(dbl, simp_make(e.d, OP_LEAKY_RELU, C(&e, 3), C(&e, 0.25))->value, 3.0));
}

Test(simp, folding_in_float)
{
	Env e = env(DT_FLOAT);
	float third = 1.0f / 3.0f, sum = 0.1f + 0.2f;
	cr_assert(eq(dbl, simp_div(e.d, C(&e, 1), C(&e, 3))->value, (double)third));
	cr_assert(eq(dbl, simp_add(e.d, C(&e, 0.1), C(&e, 0.2))->value, (double)sum));
	cr_assert(ne(dbl, simp_add(e.d, C(&e, 0.1), C(&e, 0.2))->value, 0.1 + 0.2));
	/* 1e30 * 1e30 overflows in float */
	cr_assert(eq(int, isinf(simp_mul(e.d, C(&e, 1e30), C(&e, 1e30))->value) != 0, 1));
}

Test(simp, small_integer_powers)
{
	Env e = env(DT_DOUBLE);
	cr_assert(eq(str, show(simp_pow(e.d, e.x, C(&e, 2))), "(MUL x x)"));
	cr_assert(eq(str, show(simp_pow(e.d, e.x, C(&e, 3))), "(MUL (MUL x x) x)"));
	cr_assert(eq(str, show(simp_pow(e.d, e.x, C(&e, 4))), "(MUL (MUL x x) (MUL x x))"));
	cr_assert(eq(str, show(simp_pow(e.d, e.x, C(&e, -1))), "(DIV 1 x)"));
	cr_assert(eq(str, show(simp_pow(e.d, e.x, C(&e, -2))), "(DIV 1 (MUL x x))"));
	cr_assert(eq(ptr, simp_pow(e.d, e.x, C(&e, 0)), e.d->one));
	cr_assert(eq(ptr, simp_pow(e.d, e.x, C(&e, -0.0)), e.d->one));
	cr_assert(eq(ptr, simp_pow(e.d, e.x, C(&e, 1)), e.x));
	/* x^4 shares x*x */
	Node *p4 = simp_pow(e.d, e.x, C(&e, 4));
	cr_assert(eq(ptr, p4->args[0], p4->args[1]));
	/* the rest stay pow() */
	cr_assert(eq(str, show(simp_pow(e.d, e.x, C(&e, 5))), "(POW x 5)"));
	cr_assert(eq(str, show(simp_pow(e.d, e.x, C(&e, -3))), "(POW x -3)"));
	cr_assert(eq(str, show(simp_pow(e.d, e.x, C(&e, 0.5))), "(POW x 0.5)"));
	cr_assert(eq(str, show(simp_pow(e.d, e.x, C(&e, 2.5))), "(POW x 2.5)"));
	cr_assert(eq(str, show(simp_pow(e.d, e.x, e.y)), "(POW x y)"));
	cr_assert(eq(str, show(simp_pow(e.d, e.x, C(&e, NAN))), "(POW x nan)"));
	cr_assert(eq(str, show(simp_pow(e.d, e.x, C(&e, INFINITY))), "(POW x inf)"));
	/* through the parser: x^2, pow(x, 2) and -x^2 */
	Unit *u = unit_ok("input x\nparam w = 1\np = w^2\nq = pow(w, 2)\nr = -w^2\nloss = p * q * r * x\n");
	cr_assert(eq(str, show(unit_node(u, "p")), "(MUL w w)"));
	cr_assert(eq(ptr, unit_node(u, "p"), unit_node(u, "q")));
	cr_assert(eq(str, show(unit_node(u, "r")), "(NEG (MUL w w))"));
}

/* ---- exactness ---- */

static const double specials[] = {
	0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 0.1, 1.0 / 3.0, 1e-310, -1e-310, 1e308, -1e308,
	DBL_MAX, -DBL_MAX, DBL_MIN, INFINITY, -INFINITY, NAN, 7.0e15, 1.5e-200,
};
#define N_SPECIALS (int)(sizeof specials / sizeof specials[0])

/* Same bits, or both NaN (IEEE leaves the sign and payload of a NaN result open). */
static bool same_value(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return memcmp(&a, &b, sizeof a) == 0;
}

typedef Node *Build(Env *e, bool simplify);

/* Evaluates the raw and the simplified form at every pair of specials. */
static void check_exact(const char *what, Build *build, Dtype dt)
{
	Env e = env(dt);
	Node *raw = build(&e, false), *simp = build(&e, true);
	double *vals = calloc((size_t)e.d->n, sizeof *vals);
	for (int i = 0; i < N_SPECIALS; i++)
		for (int j = 0; j < N_SPECIALS; j++) {
			double in[2] = {specials[i], specials[j]};
			dag_eval(e.d, NULL, in, vals);
			cr_expect(same_value(vals[raw->id], vals[simp->id]),
				  "%s (%s) at x=%a y=%a: %a (raw) vs %a (simplified)", what,
				  dt == DT_FLOAT ? "float" : "double", in[0], in[1], vals[raw->id],
				  vals[simp->id]);
		}
	free(vals);
}

#define MK(s, op, a, b) ((s) ? simp_make(e->d, op, a, b) : dag_make(e->d, op, a, b))
#define X e->x
#define Y e->y
#define K(v) dag_const(e->d, v)
#define EXACT(name, expr)                                          \
	static Node *build_##name(Env *e, bool s) { return expr; } \
	Test(simp_exact, name)                                     \
	{                                                          \
		check_exact(#name ": " #expr, build_##name, DT_DOUBLE); \
		check_exact(#name ": " #expr, build_##name, DT_FLOAT);  \
	}

EXACT(mul_one, MK(s, OP_MUL, X, K(1)))
EXACT(one_mul, MK(s, OP_MUL, K(1), X))
EXACT(div_one, MK(s, OP_DIV, X, K(1)))
EXACT(mul_minus_one, MK(s, OP_MUL, X, K(-1)))
EXACT(minus_one_mul, MK(s, OP_MUL, K(-1), X))
EXACT(div_minus_one, MK(s, OP_DIV, X, K(-1)))
EXACT(add_minus_zero, MK(s, OP_ADD, X, K(-0.0)))
EXACT(minus_zero_add, MK(s, OP_ADD, K(-0.0), X))
EXACT(sub_zero, MK(s, OP_SUB, X, K(0.0)))
EXACT(minus_zero_sub, MK(s, OP_SUB, K(-0.0), X))
EXACT(neg_neg, MK(s, OP_NEG, MK(s, OP_NEG, X, NULL), NULL))
EXACT(add_neg, MK(s, OP_ADD, X, MK(s, OP_NEG, Y, NULL)))
EXACT(neg_add, MK(s, OP_ADD, MK(s, OP_NEG, X, NULL), Y))
EXACT(sub_neg, MK(s, OP_SUB, X, MK(s, OP_NEG, Y, NULL)))
EXACT(sub_negative_const, MK(s, OP_SUB, X, K(-2.5)))
EXACT(neg_mul, MK(s, OP_MUL, MK(s, OP_NEG, X, NULL), Y))
EXACT(mul_neg, MK(s, OP_MUL, X, MK(s, OP_NEG, Y, NULL)))
EXACT(neg_mul_neg, MK(s, OP_MUL, MK(s, OP_NEG, X, NULL), MK(s, OP_NEG, Y, NULL)))
EXACT(neg_div, MK(s, OP_DIV, MK(s, OP_NEG, X, NULL), Y))
EXACT(div_neg, MK(s, OP_DIV, X, MK(s, OP_NEG, Y, NULL)))
EXACT(neg_div_neg, MK(s, OP_DIV, MK(s, OP_NEG, X, NULL), MK(s, OP_NEG, Y, NULL)))
EXACT(pow_0, MK(s, OP_POW, X, K(0)))
EXACT(pow_minus_0, MK(s, OP_POW, X, K(-0.0)))
EXACT(pow_1, MK(s, OP_POW, X, K(1)))
EXACT(pow_2, MK(s, OP_POW, X, K(2)))
EXACT(pow_minus_1, MK(s, OP_POW, X, K(-1)))
EXACT(fold_then_identity, MK(s, OP_MUL, X, MK(s, OP_SUB, K(3), K(2))))

/* x^3, x^4 and x^-2 take two roundings: within an ulp or two of pow(),
 * as README "The simplifier" says (exact at the specials above except
 * where an intermediate overflows exactly as pow's result does). */
Test(simp_exact, powers_3_4_minus_2_are_close)
{
	Env e = env(DT_DOUBLE);
	Node *pairs[3][2];
	double exps[3] = {3, 4, -2};
	for (int k = 0; k < 3; k++) {
		pairs[k][0] = dag_make(e.d, OP_POW, e.x, C(&e, exps[k]));
		pairs[k][1] = simp_pow(e.d, e.x, C(&e, exps[k]));
	}
	double *vals = calloc((size_t)e.d->n, sizeof *vals);
	unsigned long long s = 12345;
	for (int i = 0; i < 2000; i++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		double x = ((double)(s >> 11) * 0x1p-53 - 0.5) * 20;
		double in[2] = {x, 0};
		dag_eval(e.d, NULL, in, vals);
		for (int k = 0; k < 3; k++)
			cr_expect(ieee_ulp_eq(dbl, vals[pairs[k][0]->id], vals[pairs[k][1]->id], 2),
				  "x=%a exponent %g", x, exps[k]);
	}
	free(vals);
}
