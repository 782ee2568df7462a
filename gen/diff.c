/*
 * diff.c: symbolic reverse mode, once, on the tensor IR.
 *
 * The adjoint of a value is dloss/dvalue.  Starting from dloss/dloss = 1,
 * values are visited by descending id; each value that depends on a param
 * passes a term, adj(value) * dvalue/doperand, to every operand that also
 * depends on one, and an operand's adjoint is the sum of its terms in the
 * order they are made (tir_acc; sg.h, "the canonical order").  A map's term
 * is its operator's rule below, applied to the map's own pattern, so each
 * element's term is exactly the scalar rule's; a product's terms are
 * products; a fold passes its adjoint to every element; a view scatters it
 * back.  Every term is built through the simplifying constructors, and each
 * local derivative reuses forward values (exp' is the exp value itself,
 * sigmoid' = s*(1-s) reuses s), so the gradient program is a constant
 * factor of the forward program: no expression swell.  The rules are also
 * what explain shows (diff_local, on the unrolled scalar DAG).
 *
 * Non-smooth points, one table for every spelling (README "Derivatives"):
 *   relu'(0) = 0, |x|'(0) = 0 (sign(0) = 0),
 *   max(a, b) at a tie: the whole derivative goes to a (the first operand),
 *   min(a, b) at a tie: likewise to a,
 *   leaky_relu(a, s): d/da at a = 0 is s (the left slope, as relu'(0) = 0),
 *   elu(a) (alpha = 1) has no kink: elu'(0) = 1 from both sides.
 * Domain edges follow IEEE arithmetic of the formula: sqrt'(0) = 1/(2*0) = +Inf,
 * log'(0) = 1/0 = +Inf, d(a/b)/db at b = 0 is -Inf or NaN.  One rule is not
 * the derivative of its forward formula: bce's, which is PyTorch's (d_bce).
 */
#include <math.h>
#include <string.h>

#include "sg.h"

/* One derivative rule per operator: the term adj * d(n)/d(arg k), or NULL
 * when none flows to that operand. */
typedef Node *Rule(Dag *d, Node *n, int k, Node *adj);

/* d(a+b)/da = 1, d(a+b)/db = 1 */
static Node *d_add(Dag *d, Node *n, int k, Node *adj)
{
	(void)d, (void)n, (void)k;
	return adj;
}

/* d(a-b)/da = 1, d(a-b)/db = -1 */
static Node *d_sub(Dag *d, Node *n, int k, Node *adj)
{
	(void)n;
	return k == 0 ? adj : simp_neg(d, adj);
}

/* d(a*b)/da = b, d(a*b)/db = a */
static Node *d_mul(Dag *d, Node *n, int k, Node *adj)
{
	return simp_mul(d, adj, n->args[1 - k]);
}

/* d(a/b)/da = 1/b, d(a/b)/db = -(a/b)/b: reuses the quotient */
static Node *d_div(Dag *d, Node *n, int k, Node *adj)
{
	Node *da = simp_div(d, adj, n->args[1]);
	return k == 0 ? da : simp_neg(d, simp_mul(d, da, n));
}

/* d(-a)/da = -1 */
static Node *d_neg(Dag *d, Node *n, int k, Node *adj)
{
	(void)n, (void)k;
	return simp_neg(d, adj);
}

/* d(a^b)/da = b * a^(b-1), d(a^b)/db = a^b * log(a) */
static Node *d_pow(Dag *d, Node *n, int k, Node *adj)
{
	Node *a = n->args[0], *b = n->args[1];
	if (k == 1)
		return simp_mul(d, adj, simp_mul(d, n, simp_make(d, OP_LOG, a, NULL)));
	Node *bm1 = simp_sub(d, b, d->one);
	return simp_mul(d, adj, simp_mul(d, b, simp_pow(d, a, bm1)));
}

/* d exp(a)/da = exp(a): the node itself */
static Node *d_exp(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_mul(d, adj, n);
}

/* d log(a)/da = 1/a */
static Node *d_log(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_div(d, adj, n->args[0]);
}

/* d sqrt(a)/da = 1/(2 sqrt(a)): reuses the root; 2r = r + r exactly */
static Node *d_sqrt(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_div(d, adj, simp_add(d, n, n));
}

/* d sin(a)/da = cos(a) */
static Node *d_sin(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_mul(d, adj, simp_make(d, OP_COS, n->args[0], NULL));
}

/* d cos(a)/da = -sin(a) */
static Node *d_cos(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_neg(d, simp_mul(d, adj, simp_make(d, OP_SIN, n->args[0], NULL)));
}

/* d tan(a)/da = 1 + tan(a)^2: reuses the tangent */
static Node *d_tan(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_mul(d, adj, simp_add(d, d->one, simp_mul(d, n, n)));
}

/* d tanh(a)/da = 1 - tanh(a)^2: reuses t */
static Node *d_tanh(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_mul(d, adj, simp_sub(d, d->one, simp_mul(d, n, n)));
}

/* d sigmoid(a)/da = s * (1 - s): reuses s */
static Node *d_sigmoid(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_mul(d, adj, simp_mul(d, n, simp_sub(d, d->one, n)));
}

/* d softplus(a)/da = sigmoid(a) */
static Node *d_softplus(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_mul(d, adj, simp_make(d, OP_SIGMOID, n->args[0], NULL));
}

/* d relu(a)/da = (a > 0 ? 1 : 0); 0 at a = 0 */
static Node *d_relu(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_mul(d, adj, simp_make(d, OP_GT, n->args[0], d->zero));
}

/* d |a|/da = sign(a); 0 at a = 0 */
static Node *d_abs(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_mul(d, adj, simp_make(d, OP_SIGN, n->args[0], NULL));
}

/* d softsign(a)/da = 1 / (1 + |a|)^2 */
static Node *d_softsign(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	Node *q = simp_add(d, d->one, simp_make(d, OP_ABS, n->args[0], NULL));
	return simp_div(d, adj, simp_mul(d, q, q));
}

/* a^2 in a rule: the product a * a */
static Node *square(Dag *d, Node *a)
{
	return simp_mul(d, a, a);
}

/* d atan(a)/da = 1 / (a^2 + 1) */
static Node *d_atan(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_div(d, adj, simp_add(d, square(d, n->args[0]), d->one));
}

/* asin's term, adj / sqrt(1 - a^2): ±Inf at a = ±1 */
static Node *d_asin_of(Dag *d, Node *a, Node *adj)
{
	Node *q = simp_sub(d, d->one, square(d, a));
	return simp_div(d, adj, simp_make(d, OP_SQRT, q, NULL));
}

/* d asin(a)/da = 1 / sqrt(1 - a^2) */
static Node *d_asin(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return d_asin_of(d, n->args[0], adj);
}

/* d acos(a)/da = -1 / sqrt(1 - a^2) */
static Node *d_acos(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_neg(d, d_asin_of(d, n->args[0], adj));
}

/* d sinh(a)/da = cosh(a) */
static Node *d_sinh(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_mul(d, adj, simp_make(d, OP_COSH, n->args[0], NULL));
}

/* d cosh(a)/da = sinh(a) */
static Node *d_cosh(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_mul(d, adj, simp_make(d, OP_SINH, n->args[0], NULL));
}

/* d asinh(a)/da = 1 / sqrt(a^2 + 1) */
static Node *d_asinh(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	Node *q = simp_add(d, square(d, n->args[0]), d->one);
	return simp_div(d, adj, simp_make(d, OP_SQRT, q, NULL));
}

/* d acosh(a)/da = 1 / sqrt(a^2 - 1): +Inf at a = 1 */
static Node *d_acosh(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	Node *q = simp_sub(d, square(d, n->args[0]), d->one);
	return simp_div(d, adj, simp_make(d, OP_SQRT, q, NULL));
}

/* d atanh(a)/da = 1 / (1 - a^2): +Inf at a = ±1 */
static Node *d_atanh(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_div(d, adj, simp_sub(d, d->one, square(d, n->args[0])));
}

/* d log1p(a)/da = 1 / (a + 1) */
static Node *d_log1p(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_div(d, adj, simp_add(d, n->args[0], d->one));
}

/* d expm1(a)/da = exp(a) = expm1(a) + 1: reuses the node, as PyTorch does
 * (for a < 0 accurate to 1e-16 absolute, not relative: 0 below a = -37) */
static Node *d_expm1(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_mul(d, adj, simp_add(d, n, d->one));
}

/* d log2(a)/da = 1 / (a ln 2) */
static Node *d_log2(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_div(d, adj, simp_mul(d, n->args[0], dag_const(d, 0.6931471805599453)));
}

/* d exp2(a)/da = exp2(a) ln 2: reuses the node */
static Node *d_exp2(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_mul(d, adj, simp_mul(d, n, dag_const(d, 0.6931471805599453)));
}

/* d erf(a)/da = 2/sqrt(pi) exp(-a^2), PyTorch's constant and order */
static Node *d_erf(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	Node *e = simp_make(d, OP_EXP, simp_neg(d, square(d, n->args[0])), NULL);
	return simp_mul(d, adj, simp_mul(d, dag_const(d, 1.1283791670955126), e));
}

/* d erfc(a)/da = -2/sqrt(pi) exp(-a^2) */
static Node *d_erfc(Dag *d, Node *n, int k, Node *adj)
{
	return simp_neg(d, d_erf(d, n, k, adj));
}

/* d cbrt(a)/da = 1 / (3 cbrt(a)^2): reuses the root; +Inf at a = 0 */
static Node *d_cbrt(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_div(d, adj, simp_mul(d, square(d, n), dag_const(d, 3.0)));
}

/* d (a a)/da = 2a; 2a = a + a exactly */
static Node *d_square(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_mul(d, adj, simp_add(d, n->args[0], n->args[0]));
}

/*
 * gelu(a) = a Phi(a), Phi(a) = 0.5 (1 + erf(a / sqrt(2))), the normal CDF:
 * d/da = Phi(a) + a phi(a), phi(a) = exp(-a^2 / 2) / sqrt(2 pi), PyTorch's
 * GeluBackward terms, constants and order.  Phi cannot come from the node
 * (gelu / a is 0/0 at a = 0), so erf is computed again.
 */
static Node *d_gelu(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	Node *a = n->args[0], *half = dag_const(d, 0.5);
	Node *z = simp_mul(d, a, dag_const(d, 0.70710678118654752440));
	Node *cdf = simp_mul(d, half, simp_add(d, d->one, simp_make(d, OP_ERF, z, NULL)));
	Node *e = simp_make(d, OP_EXP, simp_mul(d, square(d, a), dag_const(d, -0.5)), NULL);
	Node *pdf = simp_mul(d, dag_const(d, 0.3989422804014327), e);
	return simp_mul(d, adj, simp_add(d, cdf, simp_mul(d, a, pdf)));
}

/* silu(a) = a s, s = sigmoid(a): d/da = s + a s (1 - s) = s + silu(a) (1 - s),
 * reusing the node */
static Node *d_silu(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	Node *s = simp_make(d, OP_SIGMOID, n->args[0], NULL);
	return simp_mul(d, adj, simp_add(d, s, simp_mul(d, n, simp_sub(d, d->one, s))));
}

/* elu(a) = (a > 0 ? a : expm1(a)): d/da = (a > 0 ? 1 : exp(a)) = exp(min(a, 0)),
 * PyTorch's; not elu(a) + 1, which cancels for a < 0 (below -37 it is 0);
 * 1 at a = 0 from both sides (alpha = 1: no kink) */
static Node *d_elu(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	Node *neg = simp_make(d, OP_MIN, n->args[0], d->zero);
	return simp_mul(d, adj, simp_make(d, OP_EXP, neg, NULL));
}

/* d logsigmoid(a)/da = sigmoid(-a) = 1 - exp(logsigmoid(a)) = -expm1(node):
 * reuses the node, and stays accurate where sigmoid(-a) is tiny */
static Node *d_logsigmoid(Dag *d, Node *n, int k, Node *adj)
{
	(void)k;
	return simp_mul(d, adj, simp_neg(d, simp_make(d, OP_EXPM1, n, NULL)));
}

/* atan2(y, x): d/dy = x / (y^2 + x^2), d/dx = -y / (y^2 + x^2); NaN at (0, 0) */
static Node *d_atan2(Dag *d, Node *n, int k, Node *adj)
{
	Node *y = n->args[0], *x = n->args[1];
	Node *r2 = simp_add(d, square(d, y), square(d, x));
	Node *t = simp_div(d, simp_mul(d, adj, k == 0 ? x : y), r2);
	return k == 0 ? t : simp_neg(d, t);
}

/* hypot(a, b): d/da = a / hypot(a, b), d/db = b / hypot(a, b): reuses the
 * node; NaN at (0, 0) */
static Node *d_hypot(Dag *d, Node *n, int k, Node *adj)
{
	return simp_mul(d, adj, simp_div(d, n->args[k], n));
}

/* leaky_relu(a, s) = (a > 0 ? a : a s): d/da = (a > 0 ? 1 : s), s at a = 0
 * as relu'(0) = 0, as a where (so an infinite slope s never meets a 0);
 * d/ds = (a > 0 ? 0 : a) = min(a, 0) */
static Node *d_leaky_relu(Dag *d, Node *n, int k, Node *adj)
{
	Node *a = n->args[0], *s = n->args[1];
	if (k == 1)
		return simp_mul(d, adj, simp_make(d, OP_MIN, a, d->zero));
	return simp_where(d, simp_make(d, OP_GT, a, d->zero), adj, simp_mul(d, adj, s));
}

/* min(a,b) = (b < a ? b : a): d/da = !(a > b), d/db = (a > b); a tie goes to a */
static Node *d_min(Dag *d, Node *n, int k, Node *adj)
{
	Node *a = n->args[0], *b = n->args[1];
	return simp_mul(d, adj, simp_make(d, k == 0 ? OP_NGT : OP_GT, a, b));
}

/* max(a,b) = (b > a ? b : a): d/da = !(b > a), d/db = (b > a); a tie goes to a */
static Node *d_max(Dag *d, Node *n, int k, Node *adj)
{
	Node *a = n->args[0], *b = n->args[1];
	return simp_mul(d, adj, simp_make(d, k == 0 ? OP_NGT : OP_GT, b, a));
}

/* where(c, a, b): the adjoint goes to the selected branch only, as
 * where(c, adj, 0) or where(c, 0, adj) (the other branch's value is never
 * read, so a NaN there cannot reach the gradient); none to the condition. */
static Node *d_where(Dag *d, Node *n, int k, Node *adj)
{
	if (k == 0)
		return NULL;
	return k == 1 ? simp_where(d, n->args[0], adj, d->zero)
		      : simp_where(d, n->args[0], d->zero, adj);
}

/*
 * bce(p, y) = (y - 1) max(log(1 - p), -100) - y max(log(p), -100), PyTorch's
 * BCELoss term.  Its derivative in p is PyTorch's rule, not the derivative of
 * the clamped formula, which is 0 * log'(0) = NaN at p = 0 or 1 and which the
 * clamp would stop: d/dp = (p - y) / max((1 - p) p, 1e-12), computed as
 * adj * (p - y) / max(...) in PyTorch's order, 1e-12 being PyTorch's float
 * EPSILON in both dtypes.  The term is linear in y, so in y the derivative
 * of the clamped formula is exact and finite:
 * d/dy = max(log(1 - p), -100) - max(log(p), -100).
 */
static Node *d_bce(Dag *d, Node *n, int k, Node *adj)
{
	Node *p = n->args[0], *y = n->args[1];
	if (k == 1) {
		Node *floor100 = dag_const(d, -100.0);
		Node *log_q = simp_make(d, OP_LOG, simp_sub(d, d->one, p), NULL);
		Node *log_p = simp_make(d, OP_LOG, p, NULL);
		return simp_mul(d, adj, simp_sub(d, simp_make(d, OP_MAX, log_q, floor100),
						 simp_make(d, OP_MAX, log_p, floor100)));
	}
	Node *var = simp_mul(d, simp_sub(d, d->one, p), p);
	Node *den = simp_make(d, OP_MAX, var, dag_const(d, (double)1e-12f));
	return simp_div(d, simp_mul(d, adj, simp_sub(d, p, y)), den);
}

/* ops.h's rule column */
static Rule *const rules[OP_COUNT] = {
#define OP(id, sp, ar, k, fl, rule, value, tex) rule,
#include "ops.h"
#undef OP
};

static Rule *rule_for(Op op)
{
	return rules[op];
}

Node *diff_local(Dag *d, Node *n, int k)
{
	Rule *rule = rule_for(n->op);
	Node *local = rule ? rule(d, n, k, d->one) : NULL;
	return local ? local : d->zero;
}

Node *diff_term(Dag *d, Node *n, int k, Node *adj)
{
	Rule *rule = rule_for(n->op);
	return rule ? rule(d, n, k, adj) : NULL;
}

/* ---- params the loss does not read: one warning per declaration ---- */

#define WARN_MAX_RUNS 8 /* runs of elements a warning lists, then "and N more" */

/* Elements lo..hi (row-major, a run) of tensor t as the model writes them:
 * "z[3]", "z[0..20]", "W[1,0..4]", "W[0..1,0..7]" (whole rows), "W[0,6]..W[1,2]". */
static void put_run(Buf *b, const Symbol *t, int lo, int hi)
{
	if (lo == hi) {
		buf_puts(b, t->elems[lo]->name);
		return;
	}
	if (t->shape.rank == 1) {
		buf_printf(b, "%s[%d..%d]", t->name, lo, hi);
		return;
	}
	if (t->shape.rank > 2) { /* an image or a kernel: the run's ends */
		buf_printf(b, "%s..%s", t->elems[lo]->name, t->elems[hi]->name);
		return;
	}
	int cols = t->shape.dim[1];
	int r0 = lo / cols, c0 = lo % cols, r1 = hi / cols, c1 = hi % cols;
	if (r0 == r1)
		buf_printf(b, "%s[%d,%d..%d]", t->name, r0, c0, c1);
	else if (c0 == 0 && c1 == cols - 1)
		buf_printf(b, "%s[%d..%d,0..%d]", t->name, r0, r1, cols - 1);
	else
		buf_printf(b, "%s..%s", t->elems[lo]->name, t->elems[hi]->name);
}

/*
 * Warns that the params declared as t (a scalar, or a tensor's elements
 * where unused[e]) do not affect the loss: one warning for the declaration,
 * listing the elements by runs, rather than one per element (21 warnings
 * for z[21]).  diff_reverse and loop.c's loop program both call it.
 */
void diff_warn_unused(const Symbol *t, const bool *unused)
{
	int n = 0, runs = 0;
	for (int e = 0; e < t->size; e++)
		if (unused[e]) {
			n++;
			runs += e == 0 || !unused[e - 1];
		}
	if (n == 0)
		return;
	if (!t->elems) {
		diag_warning(t->loc, "parameter '%s' does not affect the loss "
				     "(its gradient is always 0)", t->name);
		return;
	}
	Buf list = {0};
	int listed = 0;
	for (int e = 0; e < t->size && listed < WARN_MAX_RUNS; e++) {
		if (!unused[e] || (e > 0 && unused[e - 1]))
			continue;
		int end = e;
		while (end + 1 < t->size && unused[end + 1])
			end++;
		buf_puts(&list, listed++ ? ", " : "");
		put_run(&list, t, e, end);
	}
	if (runs > listed)
		buf_printf(&list, " and %d more run%s", runs - listed, runs - listed > 1 ? "s" : "");
	if (n == t->size && n > 1)
		diag_warning(t->loc, "parameter '%s' does not affect the loss (the gradients of all "
				     "its %d elements, %s, are always 0)", t->name, n, list.data);
	else if (n == t->size)
		diag_warning(t->loc, "parameter '%s' does not affect the loss (the gradient of %s "
				     "is always 0)", t->name, list.data);
	else
		diag_warning(t->loc, "%d of the %d elements of parameter '%s' do%s not affect the loss "
				     "(the gradient%s of %s %s always 0)", n, t->size, t->name,
			     n > 1 ? "" : "es", n > 1 ? "s" : "", list.data, n > 1 ? "are" : "is");
	buf_free(&list);
}

/* ---- reverse mode on the tensor IR ---- */

/* Marks the values the roots read, and which of them depend on a variable:
 * a param, or with inputs also an input (a Jacobian's, a tangent's or a
 * cotangent's sweep); a detach stops the dependence.  Returns the largest
 * root id. */
static int mark(Tir *t, TVal *const *roots, int nroots, bool inputs)
{
	int top = 0;
	for (int r = 0; r < nroots; r++)
		if (roots[r] && roots[r]->id > top)
			top = roots[r]->id;
	bool *reach = arena_alloc(t->arena, (size_t)top + 1);
	for (int r = 0; r < nroots; r++)
		if (roots[r])
			reach[roots[r]->id] = true;
	for (int i = top; i >= 0; i--)
		if (reach[i])
			for (int k = 0; k < t->vals[i]->nargs; k++)
				reach[t->vals[i]->args[k]->id] = true;
	for (int i = 0; i <= top; i++) {
		TVal *v = t->vals[i];
		v->needs_grad = v->kind == T_LEAF &&
				(v->sym->kind == SYM_PARAM || (inputs && v->sym->kind == SYM_INPUT));
		for (int k = 0; k < v->nargs; k++)
			v->needs_grad |= v->args[k]->needs_grad;
		v->needs_grad &= reach[i] && !(v->kind == T_MAP && v->op == OP_DETACH);
	}
	return top;
}

/* Whether adj is where(c, g, 0) (*side 1) or where(c, 0, g) (*side 2): an
 * adjoint that is 0 where a where did not select the branch. */
static bool masked(const TVal *adj, TVal **c, TVal **g, int *side)
{
	if (adj->kind != T_MAP || adj->op != OP_WHERE)
		return false;
	for (*side = 1; *side <= 2; ++*side) {
		const TVal *z = adj->args[3 - *side];
		if (z->kind == T_CONST && z->value == 0.0 && !signbit(z->value)) {
			*c = adj->args[0];
			*g = adj->args[*side];
			return true;
		}
	}
	return false;
}

static TVal *map_term(Tir *t, TVal *v, int k, TVal *adj);

/* The term of a map whose adjoint is masked: where(c, term of g, 0), so
 * the unselected branch's terms are 0 however its local derivatives come
 * out there (sqrt's at a negative is NaN, and 0 * NaN would be NaN): the
 * mask goes down the branch, map by map, for as long as it is the whole
 * adjoint. */
static TVal *masked_term(Tir *t, TVal *v, int k, TVal *c, TVal *g, int side)
{
	TVal *term = map_term(t, v, k, g), *zero = tir_const(t, 0.0);
	if (!term)
		return NULL;
	return side == 1 ? tir_map3(t, OP_WHERE, c, term, zero) : tir_map3(t, OP_WHERE, c, zero, term);
}

/* A map's term: diff.c's scalar rule, applied to the map's own pattern
 * (so each element's term is the scalar rule's), as values.  An operand
 * broadcast to the map's elements has a term per element, which
 * diff_tensor adds to its adjoint one by one, ascending. */
static TVal *map_term(Tir *t, TVal *v, int k, TVal *adj)
{
	Rule *rule = rule_for(v->op);
	TVal *c, *g;
	int side;
	if (!rule)
		return NULL;
	if (masked(adj, &c, &g, &side))
		return masked_term(t, v, k, c, g, side);
	TVal *bind[4] = {NULL, NULL, NULL, adj};
	Node *arg[3] = {NULL, NULL, NULL};
	for (int i = 0; i < v->nargs; i++) {
		TVal *a = v->args[i];
		int same = i > 0 && a == v->args[0] ? 0 : i > 1 && a == v->args[1] ? 1 : -1;
		if (a->kind == T_CONST)
			arg[i] = dag_const(t->scratch, a->value);
		else if (same >= 0)
			arg[i] = arg[same];
		else
			bind[i] = a, arg[i] = t->ph[i];
	}
	Node *n = v->nargs == 3 ? dag_make3(t->scratch, v->op, arg[0], arg[1], arg[2])
				: dag_make(t->scratch, v->op, arg[0], arg[1]);
	Node *a = adj->kind == T_CONST ? dag_const(t->scratch, adj->value) : t->ph[3];
	Node *term = rule(t->scratch, n, k, a);
	return term ? tir_from_pattern(t, term, bind) : NULL;
}

/*
 * C = X @ Y: dX(i, t) = sum over j of dC(i, j) Y(t, j), dY(t, j) = sum over i
 * of X(i, t) dC(i, j), each a product whose sum runs over the other axis
 * of dC, ascending.
 */
static TVal *matmul_term(Tir *t, TVal *v, int k, TVal *adj)
{
	TVal *x = v->args[0], *y = v->args[1];
	if (k == 0 && !v->tx) /* dX = dC @ Y^T */
		return tir_matmul(t, adj, y, v->m, v->n, v->k, false, !v->ty);
	if (k == 0) /* X stored transposed: its term is (dC @ Y^T)^T = Y @ dC^T */
		return tir_matmul(t, y, adj, v->k, v->n, v->m, v->ty, true);
	if (!v->ty) /* dY = X^T @ dC */
		return tir_matmul(t, x, adj, v->k, v->m, v->n, !v->tx, false);
	return tir_matmul(t, adj, x, v->n, v->m, v->k, true, v->tx); /* (X^T @ dC)^T */
}

/* The gather whose adjoint v (a GATHER_ADD) is, over x (v's size): x[idx[i]]. */
static TVal *gather_again(Tir *t, TVal *x, const TVal *v)
{
	return tir_gather(t, x, v->idx, v->args[0]->shape);
}

/* The term adj(v) * dv/d(operand k), or NULL when no gradient flows. */
static TVal *term_for(Tir *t, TVal *v, int k, TVal *adj)
{
	switch (v->kind) {
	case T_MAP: return map_term(t, v, k, adj);
	case T_MATMUL: return matmul_term(t, v, k, adj);
	case T_FOLD: /* a[i] each get the adjoint; so does a gradient's sum so far */
		if (v->op != OP_ADD)
			return NULL;
		return k == 0 ? tir_bcast(t, adj, v->args[0]) : adj;
	case T_BCAST: return tir_fold(t, OP_ADD, adj); /* second order: a sum's adjoint */
	case T_VIEW: return tir_scatter(t, adj, v->off, v->args[0]);
	case T_SCATTER: return tir_view(t, adj, v->off, v->args[0]->shape); /* concat's pieces */
	case T_ACC: return adj;
	case T_GATHER: return tir_gather_add(t, adj, v->idx, v->args[0]); /* each a[j] gets its readers' adjoints */
	case T_GATHER_ADD: /* second order: each a[i] gets the adjoint of out[idx[i]] */
		return gather_again(t, adj, v);
	default: return NULL;
	}
}

static void push_step(Tir *t, TStep s)
{
	if ((t->n_steps & (t->n_steps - 1)) == 0) {
		TStep *grown = arena_alloc(t->arena, (size_t)(t->n_steps ? 2 * t->n_steps : 1) * sizeof *grown);
		if (t->n_steps)
			memcpy(grown, t->steps, (size_t)t->n_steps * sizeof *grown);
		t->steps = grown;
	}
	t->steps[t->n_steps++] = s;
}

/* Warns of inputs the model never names, and of params the loss does not
 * read (an element no term reaches); after the model passed every check. */
static void warn_unused(Tir *t, Model *m)
{
	for (int i = 0; i < m->n_tensors; i++) {
		Symbol *s = m->tensors[i];
		if (s->kind == SYM_INPUT && !s->used)
			diag_warning(s->loc, "input '%s' is not used by the model (its values are read "
				     "and ignored)", s->name);
		if (s->kind != SYM_PARAM)
			continue;
		TVal *g = t->adj[s->tval->id];
		bool *unused = arena_alloc(t->arena, (size_t)s->size);
		for (int e = 0; e < s->size; e++)
			unused[e] = !g || !tir_has(g, e);
		diff_warn_unused(s, unused);
	}
}

/* sum + term, in the canonical order; two terms masked by the same where
 * stay masked: where(c, a, 0) + where(c, b, 0) is where(c, a + b, 0) to the
 * bit (0 + 0 = 0), and keeps the mask going down (second order: the
 * derivative of sqrt's term, masked, reaches 2 sqrt(x) twice). */
static TVal *add_term(Tir *t, TVal *sum, TVal *term)
{
	TVal *c1, *g1, *c2, *g2;
	int s1, s2;
	if (!sum || !masked(sum, &c1, &g1, &s1) || !masked(term, &c2, &g2, &s2) || c1 != c2 ||
	    s1 != s2 || g1->size != g2->size)
		return tir_acc(t, sum, term);
	TVal *g = tir_acc(t, g1, g2), *zero = tir_const(t, 0.0);
	return s1 == 1 ? tir_map3(t, OP_WHERE, c1, g, zero) : tir_map3(t, OP_WHERE, c1, zero, g);
}

/*
 * One reverse sweep: the adjoint of every value the roots read, from each
 * root's adjoint seed, by id (NULL where none reaches); values by
 * descending id, terms added in the canonical order (a root's seed comes
 * first in its sum).  record: the steps are the gradient's, kept for
 * comments and explain.
 */
static TVal **sweep_from(Tir *t, TVal *const *roots, TVal *const *seeds, int nroots, bool inputs,
			 bool record)
{
	TVal **adjs = arena_alloc(t->arena, (size_t)t->n * sizeof *adjs);
	int top = mark(t, roots, nroots, inputs);
	for (int r = 0; r < nroots; r++)
		if (roots[r] && seeds[r])
			adjs[roots[r]->id] = add_term(t, adjs[roots[r]->id], seeds[r]);
	for (int i = top; i >= 0; i--) {
		TVal *v = t->vals[i];
		TVal *adj = adjs[i];
		if (!v->needs_grad || !adj || !adj->n_has)
			continue;
		t->line = v->line;
		for (int k = 0; k < v->nargs; k++) {
			TVal *c = v->args[k];
			if (!c->needs_grad)
				continue;
			int first = t->n;
			TVal *term = term_for(t, v, k, adj), **sum = &adjs[c->id];
			if (!term)
				continue;
			if (c->size == 1 && term->size > 1) /* broadcast: each element's term in turn */
				*sum = *sum ? tir_fold_onto(t, *sum, term) : tir_fold(t, OP_ADD, term);
			else
				*sum = add_term(t, *sum, term);
			if (record)
				push_step(t, (TStep){v, c, k, term, adjs[c->id], first, t->n});
		}
	}
	return adjs;
}

static TVal **sweep(Tir *t, TVal *root, TVal *seed, bool inputs, bool record)
{
	return sweep_from(t, &root, &seed, 1, inputs, record);
}

void diff_tensor(Tir *t, Model *m)
{
	TVal *loss = m->loss->tval;
	t->n_forward = t->n;
	t->loss = loss;
	mark(t, &loss, 1, false);
	if (!loss->needs_grad)
		diag_error(m->loss->loc, "the loss does not depend on any parameter");
	t->adj = sweep(t, loss, tir_const(t, 1.0), false, true);
	warn_unused(t, m);
}

void diff_dump(FILE *out, const Dag *d, const Model *m, const Grad *g)
{
	dag_dump(out, d, m);
	for (int i = 0; i < m->n_params; i++) {
		const Node *n = g->param_grad[i];
		if (n->op == OP_CONST)
			fprintf(out, "d%s/d%s = %g\n", m->loss->name, m->params[i]->name, n->value);
		else
			fprintf(out, "d%s/d%s = %%%d\n", m->loss->name, m->params[i]->name, n->id);
	}
}

/* ---- beyond the gradient: more sweeps over the same IR ---- */

/* The seed of element e of v alone: 1 there, absent elsewhere, so the
 * sweep's terms exist only where that element reaches. */
static TVal *one_hot(Tir *t, TVal *v, int e)
{
	return tir_scatter(t, tir_const(t, 1.0), e, v);
}

/* adj's entry for each of the model's tensors. */
static TVal **by_tensor(Tir *t, const Model *m, TVal **adj)
{
	TVal **row = arena_alloc(t->arena, (size_t)m->n_tensors * sizeof *row);
	for (int i = 0; i < m->n_tensors; i++)
		row[i] = adj[m->tensors[i]->tval->id];
	return row;
}

void diff_jacobian(Tir *t, Model *m)
{
	t->jac = arena_alloc(t->arena, (size_t)m->n_outputs * sizeof *t->jac);
	for (int o = 0; o < m->n_outputs; o++) {
		Symbol *s = m->outputs[o];
		TVal *v = s->tval;
		t->jac[o] = by_tensor(t, m, sweep(t, v, one_hot(t, v, s->tensor ? s->offset : 0), true,
						  false));
	}
}

/* The gradient of param p, and the element of it that is p's. */
static TVal *grad_of(const Tir *t, const Symbol *p, int *e)
{
	*e = p->tensor ? p->offset : 0;
	TVal *g = t->adj[(p->tensor ? p->tensor : p)->tval->id];
	return g && tir_has(g, *e) ? g : NULL;
}

void diff_hessian(Tir *t, Model *m)
{
	t->hess = arena_alloc(t->arena, (size_t)m->n_params * sizeof *t->hess);
	for (int j = 0; j < m->n_params; j++) {
		int e;
		TVal *g = grad_of(t, m->params[j], &e);
		if (g)
			t->hess[j] = by_tensor(t, m, sweep(t, g, one_hot(t, g, e), false, false));
	}
}

/* A vector the generator adds for tensor p (a param, an input or an
 * output): PREFIX_NAME, declared like p, read from array at the index the
 * header's of constants give (sg.h, SYM_DIR). */
static Symbol *dir_sym(Arena *a, Symbol *p, const char *prefix, const char *array, const char *of)
{
	Symbol *v = arena_alloc(a, sizeof *v);
	*v = (Symbol){.kind = SYM_DIR, .name = arena_printf(a, "%s%s", prefix, p->name),
		      .ident = arena_printf(a, "%s%s", prefix, p->ident), .loc = p->loc,
		      .shape = p->shape, .size = p->size, .index = p->index, .dir_of = p,
		      .array = array, .of = of};
	if (!p->elems)
		return v;
	v->elems = arena_alloc(a, (size_t)p->size * sizeof *v->elems);
	for (int e = 0; e < p->size; e++) {
		Symbol *pe = p->elems[e], *ve = arena_alloc(a, sizeof *ve);
		*ve = (Symbol){.kind = SYM_DIR, .name = arena_printf(a, "%s%s", prefix, pe->name),
			       .ident = arena_printf(a, "%s%s", prefix, pe->ident), .loc = pe->loc,
			       .size = 1, .tensor = v, .offset = e, .index = pe->index, .dir_of = pe,
			       .array = array, .of = of};
		v->elems[e] = ve;
	}
	return v;
}

/* The directions v_W, one per param tensor, made once (the HVP and the
 * Gauss-Newton product read the same vec). */
static Symbol **directions(Tir *t, Model *m)
{
	if (!m->dirs) {
		m->dirs = arena_alloc(t->arena, (size_t)m->n_tensors * sizeof *m->dirs);
		for (int i = 0; i < m->n_tensors; i++)
			if (m->tensors[i]->kind == SYM_PARAM)
				m->dirs[i] = dir_sym(t->arena, m->tensors[i], "v_", "vec", "PARAM");
	}
	return m->dirs;
}

void diff_hvp(Tir *t, Model *m)
{
	Symbol **dirs = directions(t, m);
	TVal *dot = NULL;
	t->line = m->loss->loc.line;
	for (int i = 0; i < m->n_tensors; i++) {
		Symbol *p = m->tensors[i];
		if (p->kind != SYM_PARAM)
			continue;
		TVal *g = t->adj[p->tval->id];
		if (!g || !g->n_has)
			continue;
		TVal *gv = tir_fold(t, OP_ADD, tir_map(t, OP_MUL, g, tir_leaf(t, dirs[i])));
		dot = dot ? tir_map(t, OP_ADD, dot, gv) : gv;
	}
	t->hvp = dot ? by_tensor(t, m, sweep(t, dot, tir_const(t, 1.0), false, false))
		     : arena_alloc(t->arena, (size_t)m->n_tensors * sizeof *t->hvp);
}

/* ---- forward mode ---- */

/* The term d v / d(operand k) * tan, tan the operand's tangent; reverse
 * mode's rules where they are the same product (maps: the scalar rule with
 * the tangent in the adjoint's place), the linear map itself elsewhere. */
static TVal *tangent_term(Tir *t, TVal *v, int k, TVal *tan)
{
	switch (v->kind) {
	case T_MAP: return map_term(t, v, k, tan);
	case T_MATMUL: /* d(X @ Y) = dX @ Y + X @ dY, stored as X and Y are */
		return k == 0 ? tir_matmul(t, tan, v->args[1], v->m, v->k, v->n, v->tx, v->ty)
			      : tir_matmul(t, v->args[0], tan, v->m, v->k, v->n, v->tx, v->ty);
	case T_FOLD:
		if (v->op != OP_ADD)
			return NULL;
		return k == 0 ? tir_fold(t, OP_ADD, tan) : tan;
	case T_BCAST: return tir_bcast(t, tan, v);
	case T_VIEW: return tir_view(t, tan, v->off, v->shape);
	case T_SCATTER: return tir_scatter(t, tan, v->off, v);
	case T_ACC: return tan;
	case T_GATHER: return tir_gather(t, tan, v->idx, v->shape); /* linear: the map itself */
	case T_GATHER_ADD: return tir_gather_add(t, tan, v->idx, v);
	default: return NULL;
	}
}

/*
 * The tangent of every value the roots read, by ascending id, from the
 * leaves' tangents seed(sym) (NULL: none): a value's tangent is the sum of
 * its operands' terms, operands in order, each added to the sum so far.
 */
static TVal **tangents(Tir *t, TVal *const *roots, int nroots, bool inputs,
		       TVal *(*seed)(Tir *, Symbol *, void *), void *ctx)
{
	TVal **tan = arena_alloc(t->arena, (size_t)t->n * sizeof *tan);
	int top = mark(t, roots, nroots, inputs);
	for (int i = 0; i <= top; i++) {
		TVal *v = t->vals[i];
		if (!v->needs_grad)
			continue;
		if (v->kind == T_LEAF) {
			tan[i] = seed(t, v->sym, ctx);
			continue;
		}
		t->line = v->line;
		for (int k = 0; k < v->nargs; k++) {
			TVal *c = v->args[k], *tc = tan[c->id];
			if (!c->needs_grad || !tc || !tc->n_has)
				continue;
			TVal *term = tangent_term(t, v, k, tc);
			if (!term)
				continue;
			if (term->size == 1 && v->size > 1)
				term = tir_bcast(t, term, v);
			tan[i] = add_term(t, tan[i], term);
		}
	}
	return tan;
}

/* The tangent of a param or input tensor: dot_NAME, read from dparams or
 * dinputs. */
static TVal *dot_seed(Tir *t, Symbol *s, void *ctx)
{
	(void)ctx;
	bool param = s->kind == SYM_PARAM;
	return tir_leaf(t, dir_sym(t->arena, s, "dot_", param ? "dparams" : "dinputs",
				   param ? "PARAM" : "INPUT"));
}

void diff_jvp(Tir *t, Model *m)
{
	int no = m->n_outputs;
	TVal **roots = arena_alloc(t->arena, (size_t)(no + 1) * sizeof *roots);
	roots[0] = m->loss->tval;
	for (int o = 0; o < no; o++)
		roots[1 + o] = m->outputs[o]->tval;
	TVal **tan = tangents(t, roots, no + 1, true, dot_seed, NULL);
	t->jvp_loss = tan[roots[0]->id];
	t->jvp = arena_alloc(t->arena, (size_t)(no + 1) * sizeof *t->jvp);
	for (int o = 0; o < no; o++)
		t->jvp[o] = tan[roots[1 + o]->id];
}

/* ---- reverse mode from any cotangent ---- */

void diff_vjp(Tir *t, Model *m)
{
	int no = m->n_outputs;
	TVal **roots = arena_alloc(t->arena, (size_t)(no + 1) * sizeof *roots);
	TVal **seeds = arena_alloc(t->arena, (size_t)(no + 1) * sizeof *seeds);
	Symbol *bar_loss = dir_sym(t->arena, m->loss, "bar_", "dloss", "");
	roots[0] = m->loss->tval;
	seeds[0] = tir_leaf(t, bar_loss);
	/* an output element's cotangent, bar_NAME, at its place in its value */
	for (int o = 0; o < no; o++) {
		Symbol *s = m->outputs[o];
		Symbol *b = dir_sym(t->arena, s, "bar_", "doutputs", "OUTPUT");
		b->index = o;
		roots[1 + o] = s->tval;
		seeds[1 + o] = s->tval->size == 1 ? tir_leaf(t, b)
			       : tir_scatter(t, tir_leaf(t, b), s->tensor ? s->offset : 0, s->tval);
	}
	t->vjp = by_tensor(t, m, sweep_from(t, roots, seeds, no + 1, true, false));
}

/* ---- Gauss-Newton ---- */

static TVal *v_seed(Tir *t, Symbol *s, void *ctx)
{
	Symbol **dirs = ctx;
	if (s->kind != SYM_PARAM)
		return NULL;
	for (int i = 0; i < t->model->n_tensors; i++)
		if (t->model->tensors[i] == s)
			return tir_leaf(t, dirs[i]);
	return NULL;
}

void diff_gnvp(Tir *t, Model *m)
{
	sg_check(m->n_residuals > 0);
	TVal *r = m->outputs[m->residual_first]->tval;
	t->line = m->loss->loc.line;
	TVal *jv = tangents(t, &r, 1, false, v_seed, directions(t, m))[r->id];
	if (!jv || !jv->n_has) {
		t->gnvp = arena_alloc(t->arena, (size_t)m->n_tensors * sizeof *t->gnvp);
		return;
	}
	/* loss = sum(r^2): its Hessian without r's own curvature is 2 J'J */
	TVal *seed = tir_map(t, OP_MUL, tir_const(t, 2.0), jv);
	t->gnvp = by_tensor(t, m, sweep(t, r, seed, false, false));
}
