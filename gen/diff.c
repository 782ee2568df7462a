/*
 * diff.c: symbolic reverse mode.
 *
 * The adjoint of a node is dloss/dnode.  Starting from dloss/dloss = 1, nodes
 * are visited in reverse topological order (descending id); each node that
 * depends on a parameter passes adj(node) * dnode/darg to every operand that
 * also depends on one, and an operand's adjoint is the sum of what it
 * receives.  Every term is built through the simplifying constructors in the
 * same hash-consed DAG, and each local derivative reuses forward nodes (exp'
 * is the exp node itself, sigmoid' = s*(1-s) reuses s), so the gradient
 * program is a constant factor of the forward program: no expression swell.
 *
 * Non-smooth points, one table for every spelling (README "Derivatives"):
 *   relu'(0) = 0, |x|'(0) = 0 (sign(0) = 0),
 *   max(a, b) at a tie: the whole derivative goes to a (the first operand),
 *   min(a, b) at a tie: likewise to a.
 * Domain edges follow IEEE arithmetic of the formula: sqrt'(0) = 1/(2*0) = +Inf,
 * log'(0) = 1/0 = +Inf, d(a/b)/db at b = 0 is -Inf or NaN.  One rule is not
 * the derivative of its forward formula: bce's, which is PyTorch's (d_bce).
 */
#include <string.h>

#include "sg.h"

/* One derivative rule per operator: the term adj * d(n)/d(arg k). */
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

static Rule *rule_for(Op op)
{
	switch (op) {
	case OP_ADD: return d_add;
	case OP_SUB: return d_sub;
	case OP_MUL: return d_mul;
	case OP_DIV: return d_div;
	case OP_NEG: return d_neg;
	case OP_POW: return d_pow;
	case OP_EXP: return d_exp;
	case OP_LOG: return d_log;
	case OP_SQRT: return d_sqrt;
	case OP_SIN: return d_sin;
	case OP_COS: return d_cos;
	case OP_TAN: return d_tan;
	case OP_TANH: return d_tanh;
	case OP_SIGMOID: return d_sigmoid;
	case OP_SOFTPLUS: return d_softplus;
	case OP_RELU: return d_relu;
	case OP_ABS: return d_abs;
	case OP_MIN: return d_min;
	case OP_MAX: return d_max;
	case OP_BCE: return d_bce;
	default: return NULL; /* leaves; sign/gt/ngt/eq are piecewise constant; detach */
	}
}

Node *diff_local(Dag *d, Node *n, int k)
{
	Rule *rule = rule_for(n->op);
	return rule ? rule(d, n, k, d->one) : d->zero;
}

Node *diff_term(Dag *d, Node *n, int k, Node *adj)
{
	Rule *rule = rule_for(n->op);
	return rule ? rule(d, n, k, adj) : NULL;
}

/* Marks the forward nodes the loss reads, and which depend on a param. */
static void mark(Dag *d, Node *loss, bool *reach)
{
	reach[loss->id] = true;
	for (int i = loss->id; i >= 0; i--) {
		Node *n = d->nodes[i];
		if (!reach[i])
			continue;
		for (int k = 0; k < n->nargs; k++)
			reach[n->args[k]->id] = true;
	}
	for (int i = 0; i <= loss->id; i++) {
		Node *n = d->nodes[i];
		n->needs_grad = n->op == OP_PARAM;
		for (int k = 0; k < n->nargs; k++)
			n->needs_grad |= n->args[k]->needs_grad;
		n->needs_grad &= reach[i] && n->op != OP_DETACH;
	}
}

static void push_step(Arena *a, Grad *g, Contrib *c)
{
	if ((g->n_steps & (g->n_steps - 1)) == 0) {
		Contrib **grown = arena_alloc(a, (size_t)(g->n_steps ? g->n_steps * 2 : 1) * sizeof *grown);
		if (g->n_steps)
			memcpy(grown, g->steps, (size_t)g->n_steps * sizeof *grown);
		g->steps = grown;
	}
	g->steps[g->n_steps++] = c;
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

Grad *diff_reverse(Dag *d, Model *m)
{
	Arena *a = d->arena;
	Grad *g = arena_alloc(a, sizeof *g);
	Node *loss = m->loss->node;
	g->n_forward = d->n;
	d->first_backward = d->n;
	bool *reach = arena_alloc(a, (size_t)d->n * sizeof *reach);
	Node **adj = arena_alloc(a, (size_t)d->n * sizeof *adj);
	g->contribs = arena_alloc(a, (size_t)d->n * sizeof *g->contribs);
	g->adj = adj;
	mark(d, loss, reach);
	if (!loss->needs_grad)
		diag_error(m->loss->loc, "the loss does not depend on any parameter");
	adj[loss->id] = d->one;
	for (int i = loss->id; i >= 0; i--) {
		Node *n = d->nodes[i];
		Rule *rule = rule_for(n->op);
		if (!n->needs_grad || !adj[i] || !rule)
			continue;
		for (int k = 0; k < n->nargs; k++) {
			Node *arg = n->args[k];
			if (!arg->needs_grad)
				continue;
			int first = d->n;
			Node *term = rule(d, n, k, adj[i]);
			adj[arg->id] = adj[arg->id] ? simp_add(d, adj[arg->id], term) : term;
			Contrib *c = arena_alloc(a, sizeof *c);
			*c = (Contrib){n, arg, term, adj[arg->id], g->contribs[arg->id], first, d->n};
			g->contribs[arg->id] = c;
			push_step(a, g, c);
		}
	}
	g->param_grad = arena_alloc(a, (size_t)m->n_params * sizeof *g->param_grad);
	bool *unused = arena_alloc(a, (size_t)m->n_params + 1);
	for (int i = 0; i < m->n_params; i++) {
		Symbol *p = m->params[i];
		Node *pg = p->node->id < g->n_forward ? adj[p->node->id] : NULL;
		g->param_grad[i] = pg ? pg : d->zero;
		unused[i] = !pg;
	}
	/* a tensor's elements are consecutive params, from its first one's index */
	for (int i = 0; i < m->n_tensors; i++) {
		Symbol *t = m->tensors[i];
		if (t->kind == SYM_PARAM)
			diff_warn_unused(t, unused + (t->elems ? t->elems[0]->index : t->index));
	}
	return g;
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
