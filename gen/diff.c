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
 * log'(0) = 1/0 = +Inf, d(a/b)/db at b = 0 is -Inf or NaN.
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
	for (int i = 0; i < m->n_params; i++) {
		Symbol *p = m->params[i];
		Node *pg = p->node->id < g->n_forward ? adj[p->node->id] : NULL;
		g->param_grad[i] = pg ? pg : d->zero;
		if (!pg)
			diag_warning(p->loc, "parameter '%s' does not affect the loss "
					     "(its gradient is always 0)", p->name);
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
