/* tir_test.c: the tensor IR: lowering once, reverse mode once, the canonical
 * order of adjoint sums, elements that do not exist, and the expansion. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "helpers.h"

/* The IR value of the binding or tensor called name. */
static TVal *val(Unit *u, const char *name)
{
	Symbol *s = parse_lookup(u->c.model, name, strlen(name));
	cr_assert(not(eq(ptr, s, NULL)), "no symbol %s", name);
	return s->tval;
}

/* The scalar node of element i of tensor name, unrolled. */
static Node *elem(Unit *u, const char *name, int i)
{
	return val(u, name)->elems[i];
}

static TVal *adj(Unit *u, const char *name)
{
	return u->c.tir->adj[val(u, name)->id];
}

Test(tir, operands_are_lowered_in_source_order)
{
	/* C leaves a call's argument order open: x * x must come before x * w1 */
	Unit *u = unit_ok("input x\nparam w2 = 1, w1 = 1\nloss = x^2 * w2 + x * w1\n");
	TVal *sum = val(u, "loss");
	cr_assert(eq(int, sum->kind, T_MAP));
	cr_assert(lt(int, sum->args[0]->id, sum->args[1]->id));
}

Test(tir, vector_at_vector_is_dot)
{
	Unit *u = unit_ok("input x[3]\nparam v[3] = 1\na = v @ x\nb = dot(v, x)\nloss = a * b\n");
	cr_assert(eq(ptr, val(u, "a"), val(u, "b")));
	cr_assert(eq(int, val(u, "a")->kind, T_FOLD));
}

Test(tir, a_row_beside_the_whole_product_is_its_element)
{
	/* W[0] @ x beside h = W @ x, in either order: one value, h's element 0,
	 * so both forms compute it once and dW has one term per element */
	const char *models[] = {
		"input x[3]\nparam W[2, 3] = 1\nh = W @ x\na = W[0] @ x\nloss = sum(h) * a\n",
		"input x[3]\nparam W[2, 3] = 1\na = W[0] @ x\nh = W @ x\nloss = sum(h) * a\n"};
	for (int k = 0; k < 2; k++) {
		Unit *u = unit_ok(models[k]);
		TVal *h = val(u, "h"), *a = val(u, "a");
		cr_assert(eq(int, a->kind, T_VIEW));
		cr_assert(eq(ptr, a->args[0], h), "model %d: a = %%%d of %%%d, h = %%%d", k, a->id, a->args[0]->id, h->id);
		cr_assert(eq(int, a->off, 0));
		TVal *dw = adj(u, "W");
		cr_assert(eq(int, dw->kind, T_MATMUL)); /* dh @ x^T, dh summing both uses */
		cr_assert(dw->ty);
		cr_assert(eq(ptr, h->elems[0], a->elems[0]));
		Node *g = unit_grad(u, "W[0,1]");
		cr_assert(eq(int, g->op, OP_MUL));
	}
}

Test(tir, a_row_alone_stays_a_dot)
{
	Unit *u = unit_ok("input x[3]\nparam W[2, 3] = 1\na = W[1] @ x\nloss = a * a\n");
	cr_assert(eq(int, val(u, "a")->kind, T_FOLD));
	cr_assert(eq(ptr, unit_grad(u, "W[0,0]"), u->c.dag->zero));
}

Test(tir, an_element_no_term_reaches_does_not_exist)
{
	Unit *u = unit_ok("input x[3]\nparam W[2, 3] = 1\nh = W @ x\nloss = h[1]\n");
	TVal *dw = adj(u, "W");
	cr_assert(not(eq(ptr, (void *)dw->has, NULL)));
	cr_assert(eq(int, dw->n_has, 3));
	for (int i = 0; i < 6; i++)
		cr_assert(eq(int, tir_has(dw, i), i >= 3));
	cr_assert(eq(ptr, unit_grad(u, "W[0,2]"), u->c.dag->zero));
	cr_assert(eq(ptr, unit_grad(u, "W[1,2]"), elem(u, "x", 2)));
}

Test(tir, a_broadcast_scalar_adds_each_term_in_turn)
{
	Unit *u = unit_ok("input x[3]\nparam s = 1, w = 2\nloss = sum(s * x) + w * s\n");
	/* w * s is visited first (higher id): its term starts the sum, then the
	 * three elements' terms are added to it in order */
	TVal *ds = adj(u, "s");
	cr_assert(eq(int, ds->kind, T_FOLD));
	cr_assert(eq(int, ds->nargs, 2));
	cr_assert(eq(int, ds->args[1]->kind, T_LEAF)); /* d(w*s)/ds = w */
	Node *g = unit_grad(u, "s");                    /* ((w + x0) + x1) + x2 */
	cr_assert(eq(ptr, g->args[1], elem(u, "x", 2)));
	cr_assert(eq(ptr, g->args[0]->args[0]->args[0], unit_node(u, "w")));
}

Test(tir, a_broadcast_row_sums_its_terms_row_by_row)
{
	/* b [3] along the rows of M [2, 3], c [2, 1] along the columns: b's
	 * gradient at j is x[j] + x[j] row 0 then row 1; c's at i is the left
	 * fold of row i, column 0 first */
	Unit *u = unit_ok("input X[2, 3]\nparam M[2, 3] = 1, b[3] = 0, c[2, 1] = 1\n"
			  "loss = sum(flatten((M + b) * X)) + sum(flatten(M * c))\n");
	cr_assert(eq(int, adj(u, "b")->kind, T_GATHER_ADD));
	Node *g = unit_grad(u, "b[1]"); /* X[0,1] + X[1,1] */
	cr_assert(eq(int, g->op, OP_ADD));
	cr_assert(eq(ptr, g->args[0], elem(u, "X", 1)));
	cr_assert(eq(ptr, g->args[1], elem(u, "X", 4)));
	g = unit_grad(u, "c[1,0]"); /* (M[1,0] + M[1,1]) + M[1,2] */
	cr_assert(eq(int, g->op, OP_ADD));
	cr_assert(eq(ptr, g->args[1], elem(u, "M", 5)));
	cr_assert(eq(ptr, g->args[0]->args[0], elem(u, "M", 3)));
	cr_assert(eq(ptr, g->args[0]->args[1], elem(u, "M", 4)));
}

Test(tir, an_element_of_a_row_from_data_is_the_row_indexed)
{
	/* E[tok, 1] is E[tok][1], E[tok, 0:2] is E[tok]: the same values */
	Unit *u = unit_ok("input tok\nparam E[3, 2] = 1\na = E[tok, 1]\nb = E[tok][1]\n"
			  "c = E[tok, 0:2]\nd = E[tok]\nloss = a * b + sum(c * d)\n");
	cr_assert(eq(ptr, val(u, "a"), val(u, "b")));
	cr_assert(eq(ptr, val(u, "c"), val(u, "d")));
	cr_assert(eq(int, val(u, "a")->kind, T_VIEW));
}

Test(tir, the_gradient_program_follows_the_forward_program)
{
	Unit *u = unit_ok("input x[4]\nparam W[3, 4] = 1, b[3] = 0\n"
			  "loss = sum(sigmoid(W @ x + b))\n");
	Tir *t = u->c.tir;
	cr_assert(gt(int, t->n_forward, 0));
	cr_assert(gt(int, t->n, t->n_forward));
	for (int i = 0; i < t->n; i++) {
		cr_assert(eq(int, t->vals[i]->id, i));
		cr_assert(eq(int, t->vals[i]->grad, i >= t->n_forward));
		for (int k = 0; k < t->vals[i]->nargs; k++)
			cr_assert(lt(int, t->vals[i]->args[k]->id, i));
	}
	cr_assert(eq(int, adj(u, "W")->kind, T_MATMUL));
	cr_assert(gt(int, t->n_steps, 0));
}
