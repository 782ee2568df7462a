/* sched_test.c: the straight-line program (names, order, the three
 * functions) and canonical forms (canon.c). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "helpers.h"

/* The statement of func f that computes node n, or NULL. */
static const PStmt *stmt_of(const Func *f, const Node *n)
{
	for (int i = 0; i < f->n; i++)
		if (f->stmts[i].node == n)
			return &f->stmts[i];
	return NULL;
}

Test(sched, bindings_keep_their_names_and_adjoints_are_d_names)
{
	Unit *u = unit_ok("input x, y\nparam w = 1\nyhat = x * w\nloss = (yhat - y)^2\n");
	const Prog *p = u->c.prog;
	cr_assert(eq(str, (char *)p->names[unit_node(u, "yhat")->id], "yhat"));
	cr_assert(eq(str, (char *)sched_operand(p, unit_grad(u, "w")), "d_w"));
	const PStmt *s = stmt_of(&p->backward, unit_node(u, "yhat"));
	cr_assert(not(eq(ptr, (void *)s, NULL)));
	cr_assert(not(s->backward));
	cr_assert(eq(int, s->line, 3));
}

Test(sched, a_c_keyword_or_libm_name_gets_an_underscore)
{
	Unit *u = unit_ok("input x\nparam w = 1\nint = x * w\nexp_ = int + 1\nloss = exp_ * exp_\n");
	const Prog *p = u->c.prog;
	cr_assert(eq(str, (char *)p->names[unit_node(u, "int")->id], "int_"));
	/* exp_ is the model's own name: it stays, and C's exp is untouched */
	cr_assert(eq(str, (char *)p->names[unit_node(u, "exp_")->id], "exp_"));
	for (int i = 0; i < p->backward.n; i++)
		cr_assert(not(sched_is_reserved(p->backward.stmts[i].name)), "%s",
			  p->backward.stmts[i].name);
}

Test(sched, each_function_computes_what_it_needs_in_id_order)
{
	Unit *u = unit_ok("input x\nparam w = 1, v = 2\no = v * x\nloss = (x * w)^2\noutput o\n");
	const Prog *p = u->c.prog;
	/* predict: the output only; backward: no output */
	cr_assert(eq(int, p->predict.n, 1));
	cr_assert(eq(ptr, (void *)stmt_of(&p->backward, unit_node(u, "o")), NULL));
	cr_assert(not(eq(ptr, (void *)stmt_of(&p->forward, unit_node(u, "o")), NULL)));
	const Func *fs[] = {&p->forward, &p->backward, &p->predict};
	for (int k = 0; k < 3; k++)
		for (int i = 1; i < fs[k]->n; i++)
			cr_assert(lt(int, fs[k]->stmts[i - 1].node->id, fs[k]->stmts[i].node->id));
	/* backward: the forward statements first, then the gradient's */
	int i = 0;
	while (i < p->backward.n && !p->backward.stmts[i].backward)
		i++;
	for (; i < p->backward.n; i++)
		cr_assert(p->backward.stmts[i].backward);
}

Test(sched, backward_comments_state_the_chain_rule)
{
	Unit *u = unit_ok("input x, y\nparam w = 1\nyhat = x * w\nloss = (yhat - y)^2\n");
	const PStmt *s = stmt_of(&u->c.prog->backward, unit_grad(u, "w"));
	cr_assert(eq(str, (char *)s->comment, "dloss/dw = dloss/dyhat * dyhat/dw"));
}

/* ---- canonical forms ---- */

static const char *canon(Unit *u, const char *param)
{
	Canon *c = canon_of(u->c.arena, u->c.dag, unit_grad(u, param));
	cr_assert(not(eq(ptr, c, NULL)));
	return canon_text(u->c.arena, c, false);
}

Test(canon, the_lecture_gradient_expands_to_monomials)
{
	Unit *u = unit_ok("input x, y\nparam w = 1\nloss = (x * w - y)^2\n");
	cr_assert(eq(str, (char *)canon(u, "w"), "-2*x*y + 2*w*x^2"));
}

Test(canon, equal_forms_are_equal_texts)
{
	Unit *u = unit_ok("input x\nparam w = 1, v = 1\nloss = (x + w) * (x + w) + v * (w - w)\n");
	Unit *h = unit_ok("input x\nparam w = 1, v = 1\nloss = x * x + 2 * x * w + w^2 + v\n");
	cr_assert(eq(str, (char *)canon(u, "w"), (char *)canon(h, "w")));
}

Test(canon, a_function_is_an_opaque_atom)
{
	Unit *u = unit_ok("input x\nparam w = 1\nloss = exp(x * w)\n");
	cr_assert(eq(str, (char *)canon(u, "w"), "exp(w*x)*x"));
}
