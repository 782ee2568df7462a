/*
 * simp.c: simplifying constructors.
 *
 * Every node the parser and the differentiator make goes through here, so
 * simplification happens once, as the DAG is built.  Only identities that
 * give the same IEEE-754 result for every operand (NaN, ±Inf and -0 included)
 * are applied; each is listed with the reason it is exact:
 *
 *   c1 op c2 -> c      for + - * / neg sqrt abs relu min max square leaky_relu
 *                      and the derivative helpers (ops.h's OPF_FOLD): correctly
 *                      rounded in the dtype, as at run time.
 *                      exp, log, sin, ... and pow are never folded: libm may
 *                      differ between the generating and the running machine.
 *   x * 1, 1 * x -> x  multiplying by one is exact for every x.
 *   x / 1 -> x         likewise.
 *   x * -1, x / -1 -> -x   negation is exact; the rounding is sign-symmetric.
 *   x + -0, -0 + x -> x    x + (-0) is x for every x, also x = -0.
 *   x - 0 -> x         x - (+0) is x for every x, also x = -0.
 *   -0 - x -> -x       (-0) - x = -(0 + x) rounds symmetrically.
 *   -(-x) -> x         negation is exact.
 *   x + (-y) -> x - y, x - (-y) -> x + y   subtraction is addition of the
 *                      negation, by definition.
 *   x - c -> x + (-c)  for a constant c < 0, the same identity, for reading.
 *   (-x) * y -> -(x * y), (-x) / y -> -(x / y) and the mirrored forms:
 *                      round-to-nearest is symmetric under negation.
 *
 * Not applied, because they are not exact: x * 0 -> 0 (NaN, Inf, -0),
 * x + 0 -> x (x = -0 gives +0), x - x -> 0 (Inf, NaN), x / x -> 1.
 *
 * Small integer powers become multiplications (x^2 = x*x, x^3 = x*x*x,
 * x^4 = (x*x)*(x*x), x^-1 = 1/x, x^-2 = 1/(x*x)); x^0 -> 1 and x^1 -> x are
 * exact (C99 F.9.4.4: pow(x, 0) is 1 even for NaN).  x^2 and x^-1 are a single
 * correctly rounded operation; x^3 and x^4 take two roundings where pow()
 * is within an ulp, so they may differ from pow() in the last bit: a choice
 * for speed, documented in the README.
 */
#include <math.h>

#include "sg.h"

static bool is_const(const Node *n, double v)
{
	return n->op == OP_CONST && n->value == v && signbit(n->value) == signbit(v);
}

/* Folds an operation whose operands are all constants, when exact. */
static Node *fold(Dag *d, Op op, Node *a, Node *b)
{
	double r;
	if (a->op != OP_CONST || (b && b->op != OP_CONST))
		return NULL;
	if (!op_fold(d->dtype, op, a->value, b ? b->value : 0.0, &r))
		return NULL;
	return dag_const(d, r);
}

Node *simp_neg(Dag *d, Node *a)
{
	Node *c = fold(d, OP_NEG, a, NULL);
	if (c)
		return c;
	if (a->op == OP_NEG)
		return a->args[0];
	return dag_make(d, OP_NEG, a, NULL);
}

Node *simp_add(Dag *d, Node *a, Node *b)
{
	Node *c = fold(d, OP_ADD, a, b);
	if (c)
		return c;
	if (is_const(a, -0.0))
		return b;
	if (is_const(b, -0.0))
		return a;
	if (b->op == OP_NEG)
		return simp_sub(d, a, b->args[0]);
	if (a->op == OP_NEG)
		return simp_sub(d, b, a->args[0]);
	return dag_make(d, OP_ADD, a, b);
}

Node *simp_sub(Dag *d, Node *a, Node *b)
{
	Node *c = fold(d, OP_SUB, a, b);
	if (c)
		return c;
	if (is_const(b, 0.0))
		return a;
	if (is_const(a, -0.0))
		return simp_neg(d, b);
	if (b->op == OP_NEG)
		return simp_add(d, a, b->args[0]);
	if (b->op == OP_CONST && b->value < 0)
		return dag_make(d, OP_ADD, a, dag_const(d, -b->value));
	return dag_make(d, OP_SUB, a, b);
}

/* Shared by * and /: the sign rules, then the node. */
static Node *mul_like(Dag *d, Op op, Node *a, Node *b)
{
	Node *c = fold(d, op, a, b);
	if (c)
		return c;
	if (is_const(b, 1.0))
		return a;
	if (is_const(b, -1.0))
		return simp_neg(d, a);
	if (op == OP_MUL && is_const(a, 1.0))
		return b;
	if (op == OP_MUL && is_const(a, -1.0))
		return simp_neg(d, b);
	if (a->op == OP_NEG && b->op == OP_NEG)
		return mul_like(d, op, a->args[0], b->args[0]);
	if (a->op == OP_NEG)
		return simp_neg(d, mul_like(d, op, a->args[0], b));
	if (b->op == OP_NEG)
		return simp_neg(d, mul_like(d, op, a, b->args[0]));
	return dag_make(d, op, a, b);
}

Node *simp_mul(Dag *d, Node *a, Node *b)
{
	return mul_like(d, OP_MUL, a, b);
}

Node *simp_div(Dag *d, Node *a, Node *b)
{
	return mul_like(d, OP_DIV, a, b);
}

Node *simp_pow(Dag *d, Node *a, Node *b)
{
	Node *c = fold(d, OP_POW, a, b); /* symgrad's own pow only */
	if (c)
		return c;
	if (b->op == OP_CONST && b->value == floor(b->value) && fabs(b->value) <= 4) {
		int n = (int)b->value;
		Node *sq = n == 2 || n == 3 || n == 4 || n == -2 ? simp_mul(d, a, a) : NULL;
		switch (n) {
		case 0: return d->one;
		case 1: return a;
		case 2: return sq;
		case 3: return simp_mul(d, sq, a);
		case 4: return simp_mul(d, sq, sq);
		case -1: return simp_div(d, d->one, a);
		case -2: return simp_div(d, d->one, sq);
		default: break; /* -3, -4: pow() is more accurate than 1/(x*x*x) */
		}
	}
	return dag_make(d, OP_POW, a, b);
}

/* where(c, a, b): a constant condition picks its branch (exact whatever the
 * branches hold), and where(c, a, a) is a. */
Node *simp_where(Dag *d, Node *c, Node *a, Node *b)
{
	if (c->op == OP_CONST)
		return c->value != 0.0 ? a : b; /* a NaN is true, as in the C */
	if (a == b)
		return a;
	return dag_make3(d, OP_WHERE, c, a, b);
}

Node *simp_make3(Dag *d, Op op, Node *a, Node *b, Node *c)
{
	if (op == OP_WHERE)
		return simp_where(d, a, b, c);
	sg_check(!c);
	return simp_make(d, op, a, b);
}

Node *simp_make(Dag *d, Op op, Node *a, Node *b)
{
	switch (op) {
	case OP_ADD: return simp_add(d, a, b);
	case OP_SUB: return simp_sub(d, a, b);
	case OP_MUL: return simp_mul(d, a, b);
	case OP_DIV: return simp_div(d, a, b);
	case OP_NEG: return simp_neg(d, a);
	case OP_POW: return simp_pow(d, a, b);
	default: break;
	}
	Node *c = fold(d, op, a, b);
	return c ? c : dag_make(d, op, a, b);
}
