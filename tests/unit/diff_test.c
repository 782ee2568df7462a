/*
 * diff_test.c: one test per derivative rule of gen/diff.c, for its
 * structure (which forward nodes the rule reuses) and its value (through
 * dag_eval, the emitted C's arithmetic), and the non-smooth points of the
 * README's table: relu'(0) = 0, abs'(0) = 0, max/min ties to the first
 * argument, NaN in the second argument selects the first.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <math.h>
#include <string.h>

#include "helpers.h"
#include "sgmath.h"

/* A model "input x\nparam w = 1, v = 1\nloss = EXPR". */
static Unit *model(const char *expr)
{
	Buf b = {0};
	buf_printf(&b, "input x\nparam w = 1, v = 1\nloss = %s\n", expr);
	buf_put(&b, "", 1);
	Unit *u = unit_compile(b.data, DT_DOUBLE);
	buf_free(&b);
	if (u->failed)
		cr_fatal("'%s' failed:\n%s", expr, u->err);
	return u;
}

/* d loss / d param at a point. */
static double grad_at(Unit *u, const char *param, const char *at)
{
	double *v = unit_eval(u, at);
	return VAL(v, unit_grad(u, param));
}

static double loss_at(Unit *u, const char *at)
{
	double *v = unit_eval(u, at);
	return VAL(v, u->c.model->loss->node);
}

/* A value the C compiler cannot see: libm calls on it run at run time, as
 * in dag_eval, instead of being folded (correctly rounded) by the compiler. */
static double rt(double x)
{
	volatile double v = x;
	return v;
}

/* Is n a forward node (made before the differentiator ran)? */
static bool forward(const Unit *u, const Node *n)
{
	return n->id < u->c.grad->n_forward;
}

/* Does the subgraph under n contain node m? */
static bool uses(const Node *n, const Node *m)
{
	if (n == m)
		return true;
	for (int k = 0; k < n->nargs; k++)
		if (uses(n->args[k], m))
			return true;
	return false;
}

/* ---- structure: each rule reuses the forward value ---- */

Test(diff, exp_reuses_the_exp_node)
{
	Unit *u = model("exp(w) * x");
	Node *e = unit_node(u, "loss")->args[0]->op == OP_EXP ? unit_node(u, "loss")->args[0]
							      : unit_node(u, "loss")->args[1];
	cr_assert(eq(int, e->op, OP_EXP));
	cr_assert(forward(u, e));
	Node *g = unit_grad(u, "w");
	cr_assert(eq(int, g->op, OP_MUL));
	cr_assert(uses(g, e));
	cr_assert(eq(int, unit_count(u->c.dag, OP_EXP), 1));
	/* exp(w) alone: the gradient is the loss node itself */
	u = model("exp(w)");
	cr_assert(eq(ptr, unit_grad(u, "w"), unit_node(u, "loss")));
	cr_assert(eq(dbl, grad_at(u, "w", "w=0.5"), exp(rt(0.5))));
}

Test(diff, sigmoid_reuses_s)
{
	Unit *u = model("sigmoid(w)");
	Node *s = unit_node(u, "loss");
	Node *g = unit_grad(u, "w");
	/* s * (1 - s) */
	cr_assert(eq(int, g->op, OP_MUL));
	cr_assert(eq(ptr, g->args[0], s));
	cr_assert(eq(int, g->args[1]->op, OP_SUB));
	cr_assert(eq(ptr, g->args[1]->args[0], u->c.dag->one));
	cr_assert(eq(ptr, g->args[1]->args[1], s));
	cr_assert(eq(int, unit_count(u->c.dag, OP_SIGMOID), 1));
	cr_assert(eq(int, unit_count(u->c.dag, OP_EXP), 0));
	double sw = 1 / (1 + exp(rt(-0.3)));
	cr_assert(eq(dbl, grad_at(u, "w", "w=0.3"), sw * (1 - sw)));
}

Test(diff, tanh_reuses_t)
{
	Unit *u = model("tanh(w)");
	Node *t = unit_node(u, "loss");
	Node *g = unit_grad(u, "w");
	/* 1 - t*t */
	cr_assert(eq(int, g->op, OP_SUB));
	cr_assert(eq(ptr, g->args[0], u->c.dag->one));
	cr_assert(eq(int, g->args[1]->op, OP_MUL));
	cr_assert(eq(ptr, g->args[1]->args[0], t));
	cr_assert(eq(ptr, g->args[1]->args[1], t));
	cr_assert(eq(int, unit_count(u->c.dag, OP_TANH), 1));
	cr_assert(eq(dbl, grad_at(u, "w", "w=0.7"), 1 - sg_tanh(rt(0.7)) * sg_tanh(rt(0.7))));
}

Test(diff, sqrt_reuses_r)
{
	Unit *u = model("sqrt(w)");
	Node *r = unit_node(u, "loss");
	Node *g = unit_grad(u, "w");
	/* 1 / (r + r) */
	cr_assert(eq(int, g->op, OP_DIV));
	cr_assert(eq(ptr, g->args[0], u->c.dag->one));
	cr_assert(eq(int, g->args[1]->op, OP_ADD));
	cr_assert(eq(ptr, g->args[1]->args[0], r));
	cr_assert(eq(ptr, g->args[1]->args[1], r));
	cr_assert(eq(int, unit_count(u->c.dag, OP_SQRT), 1));
	cr_assert(eq(dbl, grad_at(u, "w", "w=2"), 1 / (2 * sqrt(rt(2.0)))));
	/* the domain edge: sqrt'(0) = 1/(2*0) = +Inf */
	double g0 = grad_at(u, "w", "w=0");
	cr_assert(eq(int, isinf(g0) && g0 > 0, 1));
}

Test(diff, quotient_rule_reuses_the_quotient)
{
	Unit *u = model("x / w");
	Node *q = unit_node(u, "loss");
	Node *g = unit_grad(u, "w");
	/* -((1/w) * q) */
	cr_assert(eq(int, g->op, OP_NEG));
	cr_assert(uses(g, q));
	cr_assert(eq(int, unit_count(u->c.dag, OP_DIV), 2));
	cr_assert(eq(dbl, grad_at(u, "w", "x=3,w=2"), -((1.0 / 2) * (3.0 / 2))));
	/* d(w/x)/dw = 1/x */
	u = model("w / x");
	cr_assert(eq(dbl, grad_at(u, "w", "x=4,w=2"), 0.25));
}

Test(diff, log_is_one_over_a)
{
	Unit *u = model("log(w)");
	Node *g = unit_grad(u, "w");
	cr_assert(eq(int, g->op, OP_DIV));
	cr_assert(eq(ptr, g->args[0], u->c.dag->one));
	cr_assert(eq(ptr, g->args[1], unit_node(u, "w")));
	cr_assert(eq(dbl, grad_at(u, "w", "w=4"), 0.25));
	double g0 = grad_at(u, "w", "w=0");
	cr_assert(eq(int, isinf(g0) && g0 > 0, 1));
}

Test(diff, sin_cos_tan)
{
	Unit *u = model("sin(w)");
	cr_assert(eq(int, unit_grad(u, "w")->op, OP_COS));
	cr_assert(eq(dbl, grad_at(u, "w", "w=0.4"), cos(rt(0.4))));
	u = model("cos(w)");
	Node *g = unit_grad(u, "w");
	cr_assert(eq(int, g->op, OP_NEG));
	cr_assert(eq(int, g->args[0]->op, OP_SIN));
	cr_assert(eq(dbl, grad_at(u, "w", "w=0.4"), -sin(rt(0.4))));
	/* tan' = 1 + t*t, reusing t */
	u = model("tan(w)");
	Node *t = unit_node(u, "loss");
	g = unit_grad(u, "w");
	cr_assert(eq(int, g->op, OP_ADD));
	cr_assert(eq(int, g->args[1]->op, OP_MUL));
	cr_assert(eq(ptr, g->args[1]->args[0], t));
	cr_assert(eq(int, unit_count(u->c.dag, OP_TAN), 1));
	cr_assert(eq(dbl, grad_at(u, "w", "w=0.4"), 1 + tan(rt(0.4)) * tan(rt(0.4))));
}

Test(diff, softplus_is_sigmoid)
{
	Unit *u = model("softplus(w)");
	Node *g = unit_grad(u, "w");
	cr_assert(eq(int, g->op, OP_SIGMOID));
	cr_assert(eq(ptr, g->args[0], unit_node(u, "w")));
	cr_assert(eq(dbl, grad_at(u, "w", "w=-1.5"), 1 / (1 + exp(rt(1.5)))));
	/* a model that has sigmoid(w) already shares it */
	u = model("softplus(w) + sigmoid(w)");
	cr_assert(eq(int, unit_count(u->c.dag, OP_SIGMOID), 1));
	/* softplus never overflows */
	cr_assert(eq(dbl, loss_at(model("softplus(w)"), "w=1000"), 1000.0));
}

Test(diff, arithmetic_rules)
{
	cr_assert(eq(dbl, grad_at(model("w + x"), "w", "w=2,x=3"), 1.0));
	cr_assert(eq(dbl, grad_at(model("x - w"), "w", "w=2,x=3"), -1.0));
	cr_assert(eq(dbl, grad_at(model("-w"), "w", "w=2"), -1.0));
	cr_assert(eq(dbl, grad_at(model("x * w"), "w", "w=2,x=3"), 3.0));
	Unit *u = model("w * v");
	cr_assert(eq(dbl, grad_at(u, "w", "w=2,v=5"), 5.0));
	cr_assert(eq(dbl, grad_at(u, "v", "w=2,v=5"), 2.0));
	/* w*w: two terms, 2w */
	u = model("w * w");
	cr_assert(eq(dbl, grad_at(u, "w", "w=3"), 6.0));
	/* a value used twice sums its adjoints */
	u = model("w * x + w / x");
	cr_assert(eq(dbl, grad_at(u, "w", "w=3,x=4"), 4.0 + 1.0 / 4));
}

Test(diff, powers)
{
	/* constant exponent: b * a^(b-1) */
	Unit *u = model("pow(w, 2.5)");
	cr_assert(eq(dbl, grad_at(u, "w", "w=3"), 2.5 * pow(rt(3), 1.5)));
	/* variable exponent: a^b * log(a), reusing the pow node */
	u = model("pow(x, w)");
	Node *p = unit_node(u, "loss");
	Node *g = unit_grad(u, "w");
	cr_assert(uses(g, p));
	cr_assert(eq(int, unit_count(u->c.dag, OP_POW), 1));
	cr_assert(eq(dbl, grad_at(u, "w", "x=3,w=1.5"), pow(rt(3), 1.5) * sg_log(rt(3))));
	/* both */
	u = model("pow(w, v)");
	cr_assert(ieee_ulp_eq(dbl, grad_at(u, "w", "w=2,v=3"), 12.0, 1));
	cr_assert(ieee_ulp_eq(dbl, grad_at(u, "v", "w=2,v=3"), 8 * sg_log(rt(2.0)), 1));
	/* small integer powers are multiplications, so are their derivatives */
	cr_assert(eq(dbl, grad_at(model("w^2"), "w", "w=3"), 6.0));
	cr_assert(eq(dbl, grad_at(model("w^3"), "w", "w=3"), 27.0));
	cr_assert(eq(dbl, grad_at(model("w^4"), "w", "w=3"), 108.0));
	cr_assert(eq(dbl, grad_at(model("w^-1"), "w", "w=2"), -0.25));
	cr_assert(eq(dbl, grad_at(model("w^-2"), "w", "w=2"), -0.25));
	cr_assert(eq(int, unit_count(model("w^3")->c.dag, OP_POW), 0));
}

Test(diff, relu_at_zero_is_zero)
{
	Unit *u = model("relu(w)");
	cr_assert(eq(dbl, grad_at(u, "w", "w=0"), 0.0));
	cr_assert(eq(dbl, grad_at(u, "w", "w=-0"), 0.0));
	cr_assert(eq(dbl, grad_at(u, "w", "w=2"), 1.0));
	cr_assert(eq(dbl, grad_at(u, "w", "w=-2"), 0.0));
	cr_assert(eq(dbl, grad_at(u, "w", "w=1e-300"), 1.0));
	/* relu(NaN) = NaN, relu'(NaN) = 0 */
	cr_assert(eq(int, isnan(loss_at(u, "w=nan")) != 0, 1));
	cr_assert(eq(dbl, grad_at(u, "w", "w=nan"), 0.0));
}

Test(diff, abs_at_zero_is_zero)
{
	Unit *u = model("abs(w)");
	Node *g = unit_grad(u, "w");
	cr_assert(eq(int, g->op, OP_SIGN));
	cr_assert(eq(dbl, grad_at(u, "w", "w=0"), 0.0));
	cr_assert(eq(dbl, grad_at(u, "w", "w=-0"), 0.0));
	cr_assert(eq(dbl, grad_at(u, "w", "w=3"), 1.0));
	cr_assert(eq(dbl, grad_at(u, "w", "w=-3"), -1.0));
	/* abs(NaN) is NaN */
	cr_assert(eq(int, isnan(loss_at(u, "w=nan")) != 0, 1));
}

Test(diff, max_tie_goes_to_the_first_argument)
{
	Unit *u = model("max(w, v)");
	cr_assert(eq(dbl, grad_at(u, "w", "w=1,v=1"), 1.0));
	cr_assert(eq(dbl, grad_at(u, "v", "w=1,v=1"), 0.0));
	u = model("max(v, w)");
	cr_assert(eq(dbl, grad_at(u, "v", "w=1,v=1"), 1.0));
	cr_assert(eq(dbl, grad_at(u, "w", "w=1,v=1"), 0.0));
	/* +0 and -0 tie too */
	u = model("max(w, v)");
	cr_assert(eq(dbl, grad_at(u, "w", "w=0,v=-0"), 1.0));
	cr_assert(eq(dbl, grad_at(u, "v", "w=0,v=-0"), 0.0));
	/* away from the tie */
	cr_assert(eq(dbl, grad_at(u, "w", "w=2,v=1"), 1.0));
	cr_assert(eq(dbl, grad_at(u, "v", "w=2,v=1"), 0.0));
	cr_assert(eq(dbl, grad_at(u, "w", "w=1,v=2"), 0.0));
	cr_assert(eq(dbl, grad_at(u, "v", "w=1,v=2"), 1.0));
	/* a NaN in b selects a, with a's derivative */
	cr_assert(eq(dbl, loss_at(u, "w=3,v=nan"), 3.0));
	cr_assert(eq(dbl, grad_at(u, "w", "w=3,v=nan"), 1.0));
	cr_assert(eq(dbl, grad_at(u, "v", "w=3,v=nan"), 0.0));
}

Test(diff, min_tie_goes_to_the_first_argument)
{
	Unit *u = model("min(w, v)");
	cr_assert(eq(dbl, grad_at(u, "w", "w=1,v=1"), 1.0));
	cr_assert(eq(dbl, grad_at(u, "v", "w=1,v=1"), 0.0));
	u = model("min(v, w)");
	cr_assert(eq(dbl, grad_at(u, "v", "w=1,v=1"), 1.0));
	cr_assert(eq(dbl, grad_at(u, "w", "w=1,v=1"), 0.0));
	u = model("min(w, v)");
	cr_assert(eq(dbl, grad_at(u, "w", "w=2,v=1"), 0.0));
	cr_assert(eq(dbl, grad_at(u, "v", "w=2,v=1"), 1.0));
	cr_assert(eq(dbl, grad_at(u, "w", "w=1,v=2"), 1.0));
	cr_assert(eq(dbl, grad_at(u, "v", "w=1,v=2"), 0.0));
	cr_assert(eq(dbl, loss_at(u, "w=3,v=nan"), 3.0));
	cr_assert(eq(dbl, grad_at(u, "w", "w=3,v=nan"), 1.0));
	cr_assert(eq(dbl, grad_at(u, "v", "w=3,v=nan"), 0.0));
}

Test(diff, the_same_function_has_one_kink_rule_whatever_the_spelling)
{
	/* max(w, 0) and relu(w) agree at the kink; so do abs(w) and max(w, -w) */
	cr_assert(eq(dbl, grad_at(model("max(w, 0)"), "w", "w=0"), 1.0));
	cr_assert(eq(dbl, grad_at(model("relu(w)"), "w", "w=0"), 0.0));
}

Test(diff, chain_through_bindings)
{
	Unit *u = unit_ok("input x, y\nparam w = 1\nyhat = x * w\nloss = (yhat - y)^2\n");
	/* 2(yhat - y) x, computed as (t + t) * x */
	double x = 3, w = 0.7, y = 2;
	double r = x * w - y;
	cr_assert(eq(dbl, grad_at(u, "w", "x=3,w=0.7,y=2"), (r + r) * x));
	cr_assert(eq(dbl, grad_at(u, "w", "x=3,w=0.7,y=2"), 2 * r * x));
}

Test(diff, only_what_depends_on_a_param_is_differentiated)
{
	Unit *u = unit_ok("input x, y\nparam w = 1\nc = exp(x) * sin(y)\nloss = w * c\n");
	/* no derivative of exp or sin is needed: c is data */
	cr_assert(eq(ptr, unit_grad(u, "w"), unit_node(u, "c")));
	cr_assert(eq(int, unit_count(u->c.dag, OP_COS), 0));
	cr_assert(eq(ptr, u->c.grad->adj[unit_node(u, "c")->id], NULL));
}

Test(diff, unused_param_warns_and_gets_zero)
{
	Unit *u = unit_compile("input x\nparam w = 1, v = 2\nloss = x * w\n", DT_DOUBLE);
	cr_assert(not(u->failed));
	cr_assert(eq(ptr, unit_grad(u, "v"), u->c.dag->zero));
	cr_assert(eq(str, u->err, "t.sg:2:14: warning: parameter 'v' does not affect the loss (its gradient is always 0)\n"
				  "param w = 1, v = 2\n"
				  "             ^\n"));
	/* a param used only by an output, not by the loss */
	u = unit_compile("input x\nparam w = 1, v = 2\no = v * x\nloss = x * w\noutput o\n", DT_DOUBLE);
	cr_assert(not(u->failed));
	cr_assert(eq(ptr, unit_grad(u, "v"), u->c.dag->zero));
}

Test(diff, loss_without_param_is_an_error)
{
	Unit *u = unit_compile("input x\nparam w = 1\nh = w * x\nloss = x^2\noutput h\n", DT_DOUBLE);
	cr_assert(u->failed);
	cr_assert(eq(str, u->err, "t.sg:4:1: error: the loss does not depend on any parameter\n"
				  "loss = x^2\n"
				  "^~~~\n"));
}

Test(diff, loss_without_param_exits_1, .exit_code = 1)
{
	Arena *a = arena_new();
	const char *text = "input x\nparam w = 1\nloss = x^2\n";
	Source src = {"t.sg", text, strlen(text)};
	int n;
	fclose(stderr);
	Token *t = lex_tokenize(a, &src, &n);
	Model *m = parse_model(a, &src, t, 0);
	Tir *ir = tir_new(a, m, DT_DOUBLE);
	tir_build(ir, m);
	diff_tensor(ir, m);
}

Test(diff, loss_that_is_a_param)
{
	Unit *u = model("w");
	cr_assert(eq(ptr, unit_grad(u, "w"), u->c.dag->one));
}

Test(diff, diff_local_gives_each_rule)
{
	Unit *u = model("exp(w)");
	Node *e = unit_node(u, "loss");
	cr_assert(eq(ptr, diff_local(u->c.dag, e, 0), e));
	cr_assert(eq(ptr, diff_local(u->c.dag, unit_node(u, "w"), 0), u->c.dag->zero));
}

/* bce's rule is PyTorch's, (p - y) / max((1 - p) p, 1e-12f) with adj * (p - y)
 * first, not the derivative of the clamped logs: no NaN at p = 0 or 1. */
Test(diff, bce_is_pytorchs_rule)
{
	Unit *u = model("bce(w, x)");
	cr_assert(eq(int, unit_node(u, "loss")->op, OP_BCE));
	cr_assert(eq(int, unit_count(u->c.dag, OP_LOG), 0));
	Node *g = unit_grad(u, "w");
	cr_assert(eq(int, g->op, OP_DIV));
	cr_assert(eq(int, g->args[0]->op, OP_SUB));
	cr_assert(eq(int, g->args[1]->op, OP_MAX));
	double eps = (double)1e-12f;
	cr_assert(eq(dbl, grad_at(u, "w", "w=1,x=1"), 0.0));
	cr_assert(eq(dbl, grad_at(u, "w", "w=1,x=0"), 1 / eps));
	cr_assert(eq(dbl, grad_at(u, "w", "w=0,x=1"), -1 / eps));
	cr_assert(eq(dbl, grad_at(u, "w", "w=0,x=0"), 0.0));
	double p = rt(0.3), q = (1 - p) * p;
	cr_assert(eq(dbl, grad_at(u, "w", "w=0.3,x=0.25"), (p - 0.25) / (eps > q ? eps : q)));
	cr_assert(eq(dbl, loss_at(u, "w=0.5,x=1"), -log(rt(0.5))));
	cr_assert(eq(dbl, loss_at(u, "w=0,x=1"), 100.0));
	cr_assert(eq(int, isnan(loss_at(u, "w=1.5,x=1")), 1));
	/* in y the term is linear: max(log(1 - p), -100) - max(log(p), -100), finite at the ends */
	u = model("bce(x, w)");
	cr_assert(eq(dbl, grad_at(u, "w", "x=1,w=0.5"), -100.0));
	cr_assert(eq(dbl, grad_at(u, "w", "x=0,w=0.5"), 100.0));
	cr_assert(eq(dbl, grad_at(u, "w", "x=0.25,w=0.5"), log(rt(0.75)) - log(rt(0.25))));
}

/* ---- where: the derivative flows through the selected branch only ---- */

/* The classic trap: the unselected branch's local derivative is NaN
 * (sqrt's at a negative), and 0 * NaN would poison the gradient.  The
 * adjoint's mask goes down the branch instead. */
Test(diff, where_keeps_the_unselected_branch_out)
{
	Unit *u = model("where(w * x > 0, sqrt(w * x), 0) + where(v > 0, v, log(v))");
	cr_assert(eq(dbl, loss_at(u, "x=-2,w=1,v=2"), 2));
	cr_assert(eq(dbl, grad_at(u, "w", "x=-2,w=1,v=2"), 0));
	cr_assert(eq(dbl, grad_at(u, "v", "x=-2,w=1,v=2"), 1));
	cr_assert(eq(dbl, grad_at(u, "w", "x=4,w=1,v=2"), 4 / (2 * sqrt(rt(4.0)))));
	/* the other side: v <= 0 reads log(v), which is NaN below 0 */
	cr_assert(eq(dbl, grad_at(u, "v", "x=4,w=1,v=-1"), 1 / -1.0));
	cr_assert(isnan(loss_at(u, "x=4,w=1,v=-1")));
}

/* Down a chain of maps, through a sum of terms, and with a NaN condition
 * (true: the first branch). */
Test(diff, where_mask_follows_the_branch)
{
	Unit *u = model("where(x > 0, exp(sqrt(log(w * x))), -1) * v");
	cr_assert(eq(dbl, grad_at(u, "w", "x=-3,w=2,v=1"), 0));
	cr_assert(eq(dbl, grad_at(u, "v", "x=-3,w=2,v=1"), -1));
	cr_assert(eq(dbl, grad_at(u, "v", "x=-3,w=2,v=1"), -1));
	Unit *n = model("where(x, w, 2 * w)");
	cr_assert(eq(dbl, grad_at(n, "w", "x=nan,w=1"), 1));
	cr_assert(eq(dbl, grad_at(n, "w", "x=0,w=1"), 2));
}

/* clamp(x, lo, hi) is PyTorch's: min(max(x, lo), hi) in value; the
 * gradient goes to x inside [lo, hi] (ties included), to lo below, to hi
 * above (and to hi alone when lo > hi). */
Test(diff, clamp_is_pytorchs)
{
	Unit *u = model("clamp(x, w, v) * 3");
	const char *at[] = {"x=0,w=1,v=2", "x=1,w=1,v=2", "x=1.5,w=1,v=2", "x=2,w=1,v=2",
			    "x=3,w=1,v=2", "x=1,w=3,v=2"};
	double loss[] = {3, 3, 4.5, 6, 6, 6}, dw[] = {3, 0, 0, 0, 0, 0}, dv[] = {0, 0, 0, 0, 3, 3};
	for (int i = 0; i < 6; i++) {
		cr_assert(eq(dbl, loss_at(u, at[i]), loss[i]), "%s", at[i]);
		cr_assert(eq(dbl, grad_at(u, "w", at[i]), dw[i]), "%s", at[i]);
		cr_assert(eq(dbl, grad_at(u, "v", at[i]), dv[i]), "%s", at[i]);
	}
}

/* leaky_relu's d/dx is a where: 1 for x > 0 even with an infinite slope
 * (a product [x > 0] + [x <= 0] * a would be 0 * Inf = NaN there). */
Test(diff, leaky_relu_slope_never_meets_a_zero)
{
	Unit *u = model("leaky_relu(w * x, v)");
	cr_assert(eq(dbl, grad_at(u, "w", "x=1,w=2,v=inf"), 1));
	cr_assert(eq(dbl, grad_at(u, "w", "x=1,w=-2,v=0.5"), 0.5));
	cr_assert(eq(dbl, grad_at(u, "w", "x=1,w=0,v=0.5"), 0.5));
}
