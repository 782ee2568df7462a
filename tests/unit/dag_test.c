/* dag_test.c: hash-consing and the topological order of node ids. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <math.h>
#include <string.h>

#include "helpers.h"

#define HEAD "input a, b, x\nparam w = 1\n"

/* Every node's operands have smaller ids, and nodes[i]->id == i. */
static void assert_topological(const Dag *d)
{
	for (int i = 0; i < d->n; i++) {
		const Node *n = d->nodes[i];
		cr_assert(eq(int, n->id, i));
		cr_assert(eq(int, n->nargs, op_info[n->op].arity));
		for (int k = 0; k < n->nargs; k++)
			cr_assert(lt(int, n->args[k]->id, n->id), "node %d uses %d", i, n->args[k]->id);
	}
}

Test(dag, same_subexpression_is_one_node)
{
	Unit *u = unit_ok(HEAD "p = x * w\nq = x * w\nr = (x * w) + (x * w)\nloss = p + q + r\n");
	Node *p = unit_node(u, "p"), *q = unit_node(u, "q"), *r = unit_node(u, "r");
	cr_assert(eq(ptr, p, q));
	cr_assert(eq(int, r->op, OP_ADD));
	cr_assert(eq(ptr, r->args[0], p));
	cr_assert(eq(ptr, r->args[1], p));
	int fwd_mul = 0;
	for (int i = 0; i < u->c.grad->n_forward; i++)
		fwd_mul += u->c.dag->nodes[i]->op == OP_MUL;
	cr_assert(eq(int, fwd_mul, 1));
}

Test(dag, one_node_per_distinct_forward_value)
{
	Unit *u = unit_compile(HEAD "p = exp(x * w) + exp(w * x)\nloss = p\n", DT_DOUBLE);
	cr_assert(not(u->failed));
	/* forward: x*w (= w*x), exp of it, the sum */
	int fwd_mul = 0, fwd_exp = 0;
	for (int i = 0; i < u->c.grad->n_forward; i++) {
		fwd_mul += u->c.dag->nodes[i]->op == OP_MUL;
		fwd_exp += u->c.dag->nodes[i]->op == OP_EXP;
	}
	cr_assert(eq(int, fwd_mul, 1));
	cr_assert(eq(int, fwd_exp, 1));
}

Test(dag, commutative_operators_share_a_node)
{
	Unit *u = unit_ok(HEAD "p = a + b\nq = b + a\nr = a * b\ns = b * a\nloss = w * p * q * r * s\n");
	cr_assert(eq(ptr, unit_node(u, "p"), unit_node(u, "q")));
	cr_assert(eq(ptr, unit_node(u, "r"), unit_node(u, "s")));
}

Test(dag, non_commutative_operators_do_not)
{
	Unit *u = unit_ok(HEAD "p = a - b\nq = b - a\nr = a / b\ns = b / a\nt = pow(a, b)\nv = pow(b, a)\n"
			  "m1 = max(a, b)\nm2 = max(b, a)\nloss = w * p * q * r * s * t * v * m1 * m2\n");
	cr_assert(ne(ptr, unit_node(u, "p"), unit_node(u, "q")));
	cr_assert(ne(ptr, unit_node(u, "r"), unit_node(u, "s")));
	cr_assert(ne(ptr, unit_node(u, "t"), unit_node(u, "v")));
	/* max is not commutative at NaN and for the derivative at a tie */
	cr_assert(ne(ptr, unit_node(u, "m1"), unit_node(u, "m2")));
}

Test(dag, constants)
{
	Arena *a = arena_new();
	Dag *d = dag_new(a, DT_DOUBLE);
	cr_assert(eq(ptr, dag_const(d, 2.0), dag_const(d, 2.0)));
	cr_assert(eq(ptr, dag_const(d, 1.0), d->one));
	cr_assert(eq(ptr, dag_const(d, 0.0), d->zero));
	/* -0 and +0 are different values to the simplifier */
	cr_assert(ne(ptr, dag_const(d, -0.0), d->zero));
	cr_assert(eq(ptr, dag_const(d, 0.1), dag_const(d, 0.1)));
	cr_assert(ne(ptr, dag_const(d, 0.1), dag_const(d, (float)0.1)));
	cr_assert(eq(ptr, dag_const(d, NAN), dag_const(d, NAN)));
	arena_free(a);
}

Test(dag, float_constants_are_rounded)
{
	Arena *a = arena_new();
	Dag *d = dag_new(a, DT_FLOAT);
	Node *c = dag_const(d, 0.1);
	cr_assert(eq(dbl, c->value, (double)0.1f));
	cr_assert(eq(ptr, c, dag_const(d, (double)0.1f)));
	cr_assert(eq(dbl, dag_round(d, 1.0 / 3.0), (double)(1.0f / 3.0f)));
	arena_free(a);
}

Test(dag, ids_are_topological)
{
	Unit *u = unit_ok(HEAD "h = sigmoid(x * w + a) * tanh(b / w)\ng = h^2 - max(h, a) + sqrt(abs(w))\n"
			  "loss = g * exp(h) + log(1 + w^2)\n");
	assert_topological(u->c.dag);
	/* the differentiator made the nodes after the forward ones */
	/* Criterion 2.4.1's gt() is >= in C: compare with lt(), swapped */
	cr_assert(lt(int, u->c.grad->n_forward, u->c.dag->n));
	cr_assert(eq(int, u->c.dag->first_backward, u->c.grad->n_forward));
	/* every gradient node is in the DAG */
	Node *g = unit_grad(u, "w");
	cr_assert(eq(ptr, u->c.dag->nodes[g->id], g));
}

Test(dag, leaves_follow_the_source_order)
{
	Unit *u = unit_ok("param w = 1\ninput x\nparam b = 0\ninput y, z\nloss = w*x + b*y*z\n");
	Dag *d = u->c.dag;
	const char *order[] = {"w", "x", "b", "y", "z"};
	int k = 0;
	for (int i = 0; i < d->n; i++)
		if (d->nodes[i]->op == OP_INPUT || d->nodes[i]->op == OP_PARAM)
			cr_assert(eq(str, (char *)d->nodes[i]->sym->name, (char *)order[k++]));
	cr_assert(eq(int, k, 5));
}

Test(dag, bindings_name_their_nodes)
{
	Unit *u = unit_ok(HEAD "yhat = x * w\nalias = yhat\nloss = (yhat - a)^2\n");
	Node *y = unit_node(u, "yhat");
	cr_assert(eq(int, y->op, OP_MUL));
	cr_assert(eq(ptr, unit_node(u, "alias"), y));
	cr_assert(eq(ptr, unit_node(u, "loss")->args[0]->args[0], y));
}

Test(dag, eval_matches_c_arithmetic)
{
	Unit *u = unit_ok(HEAD "loss = (x * w + a) / b - sqrt(w)\n");
	double *v = unit_eval(u, "x=3,w=0.1,a=0.2,b=7");
	double want = (3 * 0.1 + 0.2) / 7 - sqrt(0.1);
	cr_assert(eq(dbl, VAL(v, unit_node(u, "loss")), want));
}

Test(dag, eval_in_float)
{
	Unit *u = unit_compile(HEAD "loss = (x * w + a) / b\n", DT_FLOAT);
	cr_assert(not(u->failed));
	double *v = unit_eval(u, "x=3,w=0.1,a=0.2,b=7");
	float want = (3.0f * 0.1f + 0.2f) / 7.0f;
	cr_assert(eq(dbl, VAL(v, unit_node(u, "loss")), (double)want));
}

/* Conditions are 1 or 0 as C compares: a NaN makes every comparison 0
 * except !=; and, or, not read a NaN as true (it is not 0).  sign(NaN) is
 * 0, as PyTorch's. */
Test(dag, conditions_at_the_edges)
{
	const double nan = NAN, inf = INFINITY;
	for (int dt = 0; dt < 2; dt++) {
		Dtype d = dt ? DT_FLOAT : DT_DOUBLE;
		cr_assert(eq(dbl, op_apply(d, OP_LT, nan, 1, 0), 0));
		cr_assert(eq(dbl, op_apply(d, OP_LE, nan, nan, 0), 0));
		cr_assert(eq(dbl, op_apply(d, OP_GT, 1, nan, 0), 0));
		cr_assert(eq(dbl, op_apply(d, OP_GE, inf, inf, 0), 1));
		cr_assert(eq(dbl, op_apply(d, OP_EQ, nan, nan, 0), 0));
		cr_assert(eq(dbl, op_apply(d, OP_NE, nan, nan, 0), 1));
		cr_assert(eq(dbl, op_apply(d, OP_EQ, -0.0, 0.0, 0), 1));
		cr_assert(eq(dbl, op_apply(d, OP_LT, -inf, 1e300, 0), 1));
		cr_assert(eq(dbl, op_apply(d, OP_AND, nan, 1, 0), 1));
		cr_assert(eq(dbl, op_apply(d, OP_AND, 2, -0.0, 0), 0));
		cr_assert(eq(dbl, op_apply(d, OP_OR, 0, -0.0, 0), 0));
		cr_assert(eq(dbl, op_apply(d, OP_OR, 0, nan, 0), 1));
		cr_assert(eq(dbl, op_apply(d, OP_NOT, nan, 0, 0), 0));
		cr_assert(eq(dbl, op_apply(d, OP_NOT, -0.0, 0, 0), 1));
		cr_assert(eq(dbl, op_apply(d, OP_SIGN, nan, 0, 0), 0));
		cr_assert(eq(dbl, op_apply(d, OP_SIGN, -inf, 0, 0), -1));
		cr_assert(eq(dbl, op_apply(d, OP_SIGN, -0.0, 0, 0), 0));
	}
}

/* not binds looser than a comparison and tighter than and; and tighter
 * than or: not a < b and c or d is ((not (a < b)) and c) or d. */
Test(dag, condition_precedence)
{
	Unit *u = unit_ok(HEAD "c = not a < b and x or w\nloss = c * w\n");
	Node *c = unit_node(u, "c");
	cr_assert(eq(int, c->op, OP_OR));
	cr_assert(eq(int, c->args[0]->op, OP_AND));
	cr_assert(eq(int, c->args[0]->args[0]->op, OP_NOT));
	cr_assert(eq(int, c->args[0]->args[0]->args[0]->op, OP_LT));
}
