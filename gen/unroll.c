/*
 * unroll.c: the tensor IR, element by element, as the scalar DAG.
 *
 * Every value of the forward and the gradient program is expanded in id
 * order: element i of a map is simp_make3(op, a[i], b[i], c[i]), a product's
 * element is its left fold of simp_mul terms, and so on, exactly the
 * operations and order sg.h gives each kind, so the straight-line program
 * sched.c makes of the DAG computes what loop.c's loops compute, bit for
 * bit.  The simplifying constructors only apply exact identities, and
 * hash-consing finds the scalars two values share (h[0] and W[0] @ x beside
 * h = W @ x are one node here, with the same value in both forms).
 *
 * For the program's names and chain-rule comments (sched.c) and explain,
 * each reverse-mode step also becomes scalar contributions: element by
 * element for a map, through each product for a matrix product.
 */
#include <stdlib.h>
#include <string.h>

#include "sg.h"

static Node *at(const TVal *v, int i)
{
	return v->elems[v->size == 1 ? 0 : i];
}

/* A left fold with op over the nodes that exist; NULL when none does. */
static Node *fold_in(Dag *d, Op op, Node *acc, Node *x)
{
	if (!x)
		return acc;
	return acc ? simp_make(d, op, acc, x) : x;
}

static Node *matmul_elem(Dag *d, const TVal *v, int i, int j)
{
	const TVal *x = v->args[0], *y = v->args[1];
	Node *acc = NULL;
	for (int t = 0; t < v->k; t++) {
		Node *a = x->elems[v->tx ? t * v->m + i : i * v->k + t];
		Node *b = y->elems[v->ty ? j * v->k + t : t * v->n + j];
		if (a && b)
			acc = fold_in(d, OP_ADD, acc, simp_mul(d, a, b));
	}
	return acc;
}

static void expand(Dag *d, TVal *v)
{
	TVal *a = v->args[0], *b = v->args[1];
	if (v->kind == T_VIEW) {
		v->elems = a->elems + v->off;
		return;
	}
	Node **e = arena_alloc(d->arena, (size_t)v->size * sizeof *e);
	v->elems = e;
	switch (v->kind) {
	case T_LEAF:
		for (int i = 0; i < v->size; i++)
			e[i] = dag_leaf(d, v->sym->kind == SYM_PARAM ? OP_PARAM : OP_INPUT,
					v->sym->elems ? v->sym->elems[i] : v->sym);
		return;
	case T_CONST: e[0] = dag_const(d, v->value); return;
	case T_IOTA:
		for (int i = 0; i < v->size; i++)
			e[i] = dag_const(d, i);
		return;
	case T_MAP:
		for (int i = 0; i < v->size; i++)
			if (tir_has(v, i))
				e[i] = simp_make3(d, v->op, at(a, i), b ? at(b, i) : NULL,
						  v->nargs > 2 ? at(v->args[2], i) : NULL);
		return;
	case T_MATMUL:
		for (int i = 0; i < v->m; i++)
			for (int j = 0; j < v->n; j++)
				e[i * v->n + j] = matmul_elem(d, v, i, j);
		return;
	case T_FOLD:
		e[0] = b ? b->elems[0] : NULL;
		for (int i = 0; i < a->size; i++)
			e[0] = fold_in(d, v->op, e[0], a->elems[i]);
		return;
	case T_SCATTER:
		memcpy(e + v->off, a->elems, (size_t)a->size * sizeof *e);
		return;
	case T_BCAST:
		for (int i = 0; i < v->size; i++)
			e[i] = a->elems[0];
		return;
	case T_ACC:
		for (int i = 0; i < v->size; i++)
			e[i] = !a->elems[i] ? b->elems[i] : !b->elems[i] ? a->elems[i]
					  : simp_add(d, a->elems[i], b->elems[i]);
		return;
	case T_GATHER: /* the operand's nodes, as a view's */
		for (int i = 0; i < v->size; i++)
			e[i] = v->idx[i] >= 0 ? at(a, v->idx[i]) : NULL;
		return;
	case T_GATHER_ADD: /* i ascending: each out[j] a left fold of its terms */
		for (int i = 0; i < v->n_idx; i++)
			if (v->idx[i] >= 0)
				e[v->idx[i]] = fold_in(d, OP_ADD, e[v->idx[i]], at(a, i));
		return;
	case T_VIEW:
		break;
	}
	unreachable();
}

/* ---- contributions, for names, comments and explain ---- */

static void contrib(Dag *d, Grad *g, Node *parent, Node *child, Node *term, Node *sum, int first)
{
	if (!parent || !child || !term)
		return;
	Contrib *c = arena_alloc(d->arena, sizeof *c);
	*c = (Contrib){parent, child, term, sum, g->contribs[child->id], first, d->n};
	g->contribs[child->id] = c;
	if ((g->n_steps & (g->n_steps - 1)) == 0) {
		Contrib **grown = arena_alloc(d->arena, (size_t)(g->n_steps ? g->n_steps * 2 : 1) * sizeof *grown);
		if (g->n_steps)
			memcpy(grown, g->steps, (size_t)g->n_steps * sizeof *grown);
		g->steps = grown;
	}
	g->steps[g->n_steps++] = c;
}

/* A product's terms: through each product node of each element of C. */
static void matmul_contribs(Dag *d, Grad *g, const TStep *s, int first)
{
	/* the term (diff.c matmul_term) is dC @ Y^T or Y @ dC^T (k = 0, X stored
	 * transposed), X^T @ dC or dC^T @ X (k = 1, Y stored transposed) */
	const TVal *v = s->parent, *x = v->args[0], *y = v->args[1];
	int at = s->k == 0 ? v->tx : !v->ty;
	const TVal *adj = s->term->args[at];
	for (int i = 0; i < v->m; i++)
		for (int j = 0; j < v->n; j++) {
			Node *dc = adj->elems[i * v->n + j];
			if (!dc)
				continue;
			for (int t = 0; t < v->k; t++) {
				int xi = v->tx ? t * v->m + i : i * v->k + t;
				int yi = v->ty ? j * v->k + t : t * v->n + j;
				if (!x->elems[xi] || !y->elems[yi]) /* padding: no product */
					continue;
				Node *prod = simp_mul(d, x->elems[xi], y->elems[yi]);
				if (prod->id < g->n_forward && !g->adj[prod->id])
					g->adj[prod->id] = dc;
				Node *other = s->k == 0 ? y->elems[yi] : x->elems[xi];
				int ci = s->k == 0 ? xi : yi;
				Node *child = s->child->elems[ci];
				contrib(d, g, prod, child, simp_mul(d, dc, other), s->sum->elems[ci], first);
			}
		}
}

static void step_contribs(Dag *d, Grad *g, const TStep *s, int first)
{
	const TVal *p = s->parent, *c = s->child;
	switch (p->kind) {
	case T_MAP: {
		const TVal *term = s->term; /* per element, also for a broadcast operand */
		for (int i = 0; i < p->size; i++)
			if (tir_has(term, i))
				contrib(d, g, p->elems[i], at(c, i), at(term, i), at(s->sum, i), first);
		return;
	}
	case T_MATMUL:
		matmul_contribs(d, g, s, first);
		return;
	case T_FOLD:
		for (int i = 0; i < c->size; i++)
			contrib(d, g, p->elems[0], c->elems[i], s->term->elems[i], s->sum->elems[i], first);
		return;
	default:
		return; /* a view's elements are its root's: their terms are already theirs */
	}
}

/* ---- beyond the gradient ---- */

/* Which of the model's tensors scalar s belongs to. */
static int tensor_slot(const Model *m, const Symbol *s)
{
	const Symbol *whole = s->tensor ? s->tensor : s;
	for (int i = 0; i < m->n_tensors; i++)
		if (m->tensors[i] == whole)
			return i;
	unreachable();
}

/* Scalar s's element of v (s's tensor's value, or s's own), or 0 where it
 * is absent. */
static Node *element(Dag *d, const TVal *v, const Symbol *s)
{
	Node *n = v ? v->elems[v->size == 1 ? 0 : s->tensor ? s->offset : 0] : NULL;
	return n ? n : d->zero;
}

/* Element s of row (values by tensor), or 0 where it is absent. */
static Node *entry(Dag *d, TVal *const *row, const Symbol *s, const int *slot)
{
	return element(d, row ? row[slot[s->index]] : NULL, s);
}

/* Entry (i, j) of the Hessian, i <= j: row i's sweep, read at param j. */
static Node *hess_entry(Dag *d, Tir *t, Model *m, int i, int j, const int *pslot)
{
	return entry(d, t->hess[i], m->params[j], pslot);
}

/* The Hessian's entries that are not 0 by structure (absent: no term
 * reached them; or the constant 0, which only exact identities make), in
 * compressed sparse columns, both triangles, each entry the dense form's
 * node. */
static void sparse_hessian(Dag *d, Tir *t, Model *m, Grad *g, const int *pslot)
{
	int np = m->n_params, cap = 16;
	g->hess_colptr = arena_alloc(d->arena, (size_t)(np + 1) * sizeof *g->hess_colptr);
	g->hess_rowidx = xrealloc(NULL, (size_t)cap * sizeof *g->hess_rowidx);
	Node **vals = xrealloc(NULL, (size_t)cap * sizeof *vals);
	int nnz = 0;
	for (int j = 0; j < np; j++) {
		g->hess_colptr[j] = nnz;
		for (int i = 0; i < np; i++) {
			Node *n = i <= j ? hess_entry(d, t, m, i, j, pslot) : hess_entry(d, t, m, j, i, pslot);
			if (n->op == OP_CONST && n->value == 0.0)
				continue;
			if (nnz == cap) {
				cap *= 2;
				g->hess_rowidx = xrealloc(g->hess_rowidx, (size_t)cap * sizeof *g->hess_rowidx);
				vals = xrealloc(vals, (size_t)cap * sizeof *vals);
			}
			g->hess_rowidx[nnz] = i;
			vals[nnz++] = n;
		}
	}
	g->hess_colptr[np] = nnz;
	g->hess_nnz = nnz;
	int *idx = arena_alloc(d->arena, (size_t)(nnz + 1) * sizeof *idx);
	g->hess_sparse = arena_alloc(d->arena, (size_t)(nnz + 1) * sizeof *g->hess_sparse);
	memcpy(idx, g->hess_rowidx, (size_t)nnz * sizeof *idx);
	memcpy(g->hess_sparse, vals, (size_t)nnz * sizeof *vals);
	free(g->hess_rowidx);
	free(vals);
	g->hess_rowidx = idx;
}

/* row's entry for each of the n scalars syms, by tensor slot. */
static Node **entries(Dag *d, TVal *const *row, Symbol *const *syms, int n, const int *slot)
{
	Node **out = arena_alloc(d->arena, (size_t)(n + 1) * sizeof *out);
	for (int i = 0; i < n; i++)
		out[i] = entry(d, row, syms[i], slot);
	return out;
}

/* The scalar nodes of the programs diff_jacobian, diff_hessian and
 * diff_hvp made, as Grad's row-major arrays.  The Hessian's entry (i, j)
 * for i > j is entry (j, i): the two sweeps compute the same derivative in
 * different orders, so taking one of them makes it symmetric to the bit. */
static void extra_nodes(Dag *d, Tir *t, Model *m, Grad *g)
{
	int np = m->n_params, ni = m->n_inputs;
	int *pslot = arena_alloc(d->arena, (size_t)(np + 1) * sizeof *pslot);
	int *islot = arena_alloc(d->arena, (size_t)(ni + 1) * sizeof *islot);
	for (int i = 0; i < np; i++)
		pslot[i] = tensor_slot(m, m->params[i]);
	for (int i = 0; i < ni; i++)
		islot[i] = tensor_slot(m, m->inputs[i]);
	if (t->jac) {
		g->jac_params = arena_alloc(d->arena, (size_t)(m->n_outputs * np + 1) * sizeof(Node *));
		g->jac_inputs = arena_alloc(d->arena, (size_t)(m->n_outputs * ni + 1) * sizeof(Node *));
		for (int o = 0; o < m->n_outputs; o++) {
			for (int j = 0; j < np; j++)
				g->jac_params[o * np + j] = entry(d, t->jac[o], m->params[j], pslot);
			for (int j = 0; j < ni; j++)
				g->jac_inputs[o * ni + j] = entry(d, t->jac[o], m->inputs[j], islot);
		}
	}
	if (t->hess && t->hess_dense) {
		g->hess = arena_alloc(d->arena, (size_t)np * (size_t)np * sizeof(Node *));
		for (int i = 0; i < np; i++)
			for (int j = 0; j < np; j++)
				g->hess[i * np + j] = j >= i ? hess_entry(d, t, m, i, j, pslot)
							     : g->hess[j * np + i];
	}
	if (t->hess && t->hess_sparse)
		sparse_hessian(d, t, m, g, pslot);
	if (t->hvp)
		g->hvp = entries(d, t->hvp, m->params, np, pslot);
	if (t->gnvp)
		g->gnvp = entries(d, t->gnvp, m->params, np, pslot);
	if (t->jvp) {
		g->jvp_loss = element(d, t->jvp_loss, m->loss);
		g->jvp = arena_alloc(d->arena, (size_t)(m->n_outputs + 1) * sizeof *g->jvp);
		for (int o = 0; o < m->n_outputs; o++)
			g->jvp[o] = element(d, t->jvp[o], m->outputs[o]);
	}
	if (t->vjp) {
		g->vjp_params = entries(d, t->vjp, m->params, np, pslot);
		g->vjp_inputs = entries(d, t->vjp, m->inputs, ni, islot);
	}
}

Grad *unroll(Dag *d, Tir *t, Model *m)
{
	for (int i = 0; i < t->n_forward; i++)
		expand(d, t->vals[i]);
	Grad *g = arena_alloc(d->arena, sizeof *g);
	g->n_forward = d->n;
	d->first_backward = d->n;
	g->adj = arena_alloc(d->arena, (size_t)d->n * sizeof *g->adj);
	g->contribs = arena_alloc(d->arena, (size_t)d->n * sizeof *g->contribs);
	int next = t->n_forward;
	for (int s = 0; s < t->n_steps; s++) {
		const TStep *st = &t->steps[s];
		int first = d->n;
		for (; next < st->end; next++)
			expand(d, t->vals[next]);
		step_contribs(d, g, st, first);
	}
	for (; next < t->n; next++)
		expand(d, t->vals[next]);
	/* each forward scalar's adjoint: the first value's that holds it */
	for (int i = 0; i < t->n_forward; i++) {
		TVal *v = t->vals[i], *a = t->adj[i];
		for (int e = 0; a && e < v->size; e++)
			if (a->elems[e] && v->elems[e] && v->elems[e]->id < g->n_forward &&
			    !g->adj[v->elems[e]->id])
				g->adj[v->elems[e]->id] = a->elems[e];
	}
	for (int i = 0; i < g->n_forward; i++)
		d->nodes[i]->needs_grad = g->adj[i] && d->nodes[i]->op != OP_CONST;
	g->param_grad = arena_alloc(d->arena, (size_t)m->n_params * sizeof *g->param_grad);
	for (int i = 0; i < m->n_params; i++) {
		Symbol *p = m->params[i];
		TVal *a = t->adj[p->tval->id];
		Node *n = a ? a->elems[p->tensor ? p->offset : 0] : NULL;
		g->param_grad[i] = n ? n : d->zero;
	}
	extra_nodes(d, t, m, g);
	for (int i = 0; i < m->n_tensors; i++)
		for (int e = 0; e < m->tensors[i]->size; e++) {
			Symbol *s = m->tensors[i]->elems ? m->tensors[i]->elems[e] : m->tensors[i];
			s->node = s->tval->elems[e];
		}
	for (int k = 0; k < m->n_lets; k++) {
		Symbol *s = m->lets[k];
		s->node = s->tval->elems[s->tensor ? s->offset : 0];
	}
	return g;
}

Node *unroll_expr(Dag *d, Tir *t, Expr *e)
{
	int first = t->n;
	TVal *v = tir_lower(t, e);
	for (int i = first; i < t->n; i++)
		expand(d, t->vals[i]);
	sg_check(v->size == 1);
	return v->elems[0];
}
