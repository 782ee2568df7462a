/*
 * gradcheck_test.c: the generated C (double) against central finite
 * differences, one model per derivative rule and every lecture-4 example,
 * through each model's sg_model descriptor.  Also, per model: backward's
 * loss is forward's loss bit for bit, predict's outputs are forward's,
 * backward_batch is the row sum in row order, and the compiled C computes
 * exactly what the generator's own evaluator (dag_eval) says it does.
 * Last, the lecture's hand derivations, compared bit for bit.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"

/* The models, generated at build time (meson.build). */
extern const sg_model gc_add_model, gc_sub_model, gc_mul_model, gc_div_model, gc_neg_model,
	gc_pow_const_model, gc_pow_var_model, gc_exp_model, gc_log_model, gc_sqrt_model,
	gc_sin_model, gc_cos_model, gc_tan_model, gc_tanh_model, gc_sigmoid_model,
	gc_softplus_model, gc_relu_model, gc_abs_model, gc_min_model, gc_max_model,
	gc_ipow2_model, gc_ipow3_model, gc_ipow4_model, gc_ipowm1_model, gc_ipowm2_model,
	gc_names_model,
	linear_model, ex4_1_model, ex4_2_model, ex4_4_model;

/* Kinks, avoided by a margin: p[0] = w, p[1] = v, in[0] = x in every rule model. */
#define W p[0]
#define V p[1]
#define X in[0]
#define AWAY(a, b) (fabs((a) - (b)) > 0.05)
static bool ok_div(const double *p, const double *in) { (void)in; return fabs(V) > 0.5; }
static bool ok_relu(const double *p, const double *in) { return AWAY(W * X, -V) && AWAY(V, 1); }
static bool ok_abs(const double *p, const double *in) { return AWAY(W * X, V) && AWAY(V, 0); }
static bool ok_min(const double *p, const double *in) { return AWAY(W * X, V) && AWAY(W, 1); }
static bool ok_max(const double *p, const double *in) { return AWAY(W * X, V) && AWAY(V, 1); }
static bool ok_m1(const double *p, const double *in) { return fabs(W * X + V) > 0.5 && fabs(W) > 0.5; }
static bool ok_m2(const double *p, const double *in) { return fabs(W * X + V) > 0.5 && fabs(V) > 0.5; }

#define RULES "tests/gradcheck/models/"
static const Case cases[] = {
	{&gc_add_model, RULES "add.sg", "", NULL},
	{&gc_sub_model, RULES "sub.sg", "", NULL},
	{&gc_mul_model, RULES "mul.sg", "", NULL},
	{&gc_div_model, RULES "div.sg", "", ok_div},
	{&gc_neg_model, RULES "neg.sg", "", NULL},
	{&gc_pow_const_model, RULES "pow_const.sg", "w=0.5:3", NULL},
	{&gc_pow_var_model, RULES "pow_var.sg", "w=0.5:3,v=0.5:2,x=-1.5:1.5", NULL},
	{&gc_exp_model, RULES "exp.sg", "", NULL},
	{&gc_log_model, RULES "log.sg", "w=0.5:3,v=0.5:3,x=0.5:3", NULL},
	{&gc_sqrt_model, RULES "sqrt.sg", "w=0.5:2,v=0.5:2,x=0.5:2", NULL},
	{&gc_sin_model, RULES "sin.sg", "", NULL},
	{&gc_cos_model, RULES "cos.sg", "", NULL},
	{&gc_tan_model, RULES "tan.sg", "w=-1:1,x=-1:1", NULL},
	{&gc_tanh_model, RULES "tanh.sg", "", NULL},
	{&gc_sigmoid_model, RULES "sigmoid.sg", "", NULL},
	{&gc_softplus_model, RULES "softplus.sg", "", NULL},
	{&gc_relu_model, RULES "relu.sg", "", ok_relu},
	{&gc_abs_model, RULES "abs.sg", "", ok_abs},
	{&gc_min_model, RULES "min.sg", "", ok_min},
	{&gc_max_model, RULES "max.sg", "", ok_max},
	{&gc_ipow2_model, RULES "ipow2.sg", "", NULL},
	{&gc_ipow3_model, RULES "ipow3.sg", "", NULL},
	{&gc_ipow4_model, RULES "ipow4.sg", "", NULL},
	{&gc_ipowm1_model, RULES "ipowm1.sg", "", ok_m1},
	{&gc_ipowm2_model, RULES "ipowm2.sg", "", ok_m2},
	{&gc_names_model, RULES "names.sg", "", NULL},
	{&linear_model, "examples/lecture04/linear.sg", "", NULL},
	{&ex4_1_model, "examples/exercises/ex4_1.sg", "", NULL},
	{&ex4_2_model, "examples/exercises/ex4_2.sg", "", NULL},
	{&ex4_4_model, "examples/exercises/ex4_4.sg", "", NULL},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

/* Parameters are indices into cases[]: Criterion copies them into each
 * test's process, where a pointer into this one would mean nothing. */
static struct criterion_test_params indices(void)
{
	static int index[N_CASES];
	for (int i = 0; i < N_CASES; i++)
		index[i] = i;
	return cr_make_param_array(int, index, N_CASES);
}

ParameterizedTestParameters(gradcheck, finite_differences)
{
	return indices();
}

/* backward against (f(p + h) - f(p - h)) / 2h, h = 1e-6 max(1, |p|) */
ParameterizedTest(int *ci, gradcheck, finite_differences)
{
	const Case *c = &cases[*ci];
	const sg_model *m = c->m;
	cr_assert(eq(int, m->real_size, (int)sizeof(double)));
	Point pt;
	Rng rng = {0x5eed0000u + (unsigned)m->n_params};
	for (int t = 0; t < POINTS; t++) {
		random_point(c, &rng, &pt);
		double loss = m->backward_d(pt.p, pt.in, pt.g);
		cr_assert(eq(dbl, loss, m->forward_d(pt.p, pt.in, NULL)),
			  "%s: backward's loss is not forward's at point %d", m->name, t);
		for (int i = 0; i < m->n_params; i++) {
			double fd = central_difference(m, &pt, i);
			double tol = 1e-6 * fmax(1.0, fmax(fabs(fd), fabs(pt.g[i])));
			cr_expect(le(dbl, fabs(fd - pt.g[i]), tol),
				  "%s: dloss/d%s at %s: backward %.17g, finite difference %.17g",
				  m->name, m->param_names[i], point_text(m, &pt), pt.g[i], fd);
		}
	}
}

ParameterizedTestParameters(gradcheck, functions_agree)
{
	return indices();
}

/* forward, backward, predict and backward_batch agree bit for bit, at
 * several points (each with its own params and ROWS rows of inputs). */
ParameterizedTest(int *ci, gradcheck, functions_agree)
{
	const Case *c = &cases[*ci];
	const sg_model *m = c->m;
	enum { ROWS = 7, SETS = 6 };
	Point pt;
	Rng rng = {77};
	for (int set = 0; set < SETS; set++) {
		double rows[ROWS][MAXV], flat[ROWS * MAXV];
		double sum_g[MAXV] = {0}, batch_g[MAXV], sum_loss = 0;
		for (int r = 0; r < ROWS; r++) {
			random_point(c, &rng, &pt); /* the params of the last row are used */
			memcpy(rows[r], pt.in, sizeof pt.in);
			memcpy(flat + r * m->n_inputs, pt.in, (size_t)m->n_inputs * sizeof(double));
		}
		for (int r = 0; r < ROWS; r++) {
			double out_f[MAXV], out_p[MAXV], g[MAXV];
			double loss = m->forward_d(pt.p, rows[r], out_f);
			cr_assert(eq(dbl, loss, m->forward_d(pt.p, rows[r], NULL)));
			cr_assert(eq(dbl, loss, m->backward_d(pt.p, rows[r], g)));
			m->predict_d(pt.p, rows[r], out_p);
			for (int k = 0; k < m->n_outputs; k++)
				cr_assert(eq(dbl, out_f[k], out_p[k]), "%s: output %s", m->name,
					  m->output_names[k]);
			sum_loss += loss;
			for (int i = 0; i < m->n_params; i++)
				sum_g[i] += g[i];
		}
		for (int i = 0; i < MAXV; i++)
			batch_g[i] = NAN; /* backward_batch must set every gradient */
		double batch_loss = m->backward_batch_d(ROWS, pt.p, flat, batch_g);
		cr_assert(eq(dbl, batch_loss, sum_loss), "%s: batch loss", m->name);
		for (int i = 0; i < m->n_params; i++)
			cr_assert(eq(dbl, batch_g[i], sum_g[i]), "%s: batch gradient %s at %s", m->name,
				  m->param_names[i], point_text(m, &pt));
		for (int i = 0; i < MAXV; i++)
			batch_g[i] = NAN;
		cr_assert(eq(dbl, m->backward_batch_d(0, pt.p, flat, batch_g), 0.0));
		for (int i = 0; i < m->n_params; i++)
			cr_assert(eq(dbl, batch_g[i], 0.0), "%s: batch of 0 rows, gradient %s", m->name,
				  m->param_names[i]);
	}
}

ParameterizedTestParameters(gradcheck, c_matches_dag_eval)
{
	return indices();
}

/* The compiled C computes exactly what dag_eval says (same operations, same order). */
ParameterizedTest(int *ci, gradcheck, c_matches_dag_eval)
{
	const Case *c = &cases[*ci];
	Reference *ref = reference_new(c->file, DT_DOUBLE);
	const sg_model *m = c->m;
	cr_assert(eq(int, ref->n_params, m->n_params));
	Point pt;
	Rng rng = {99};
	for (int t = 0; t < POINTS; t++) {
		random_point(c, &rng, &pt);
		double loss = m->backward_d(pt.p, pt.in, pt.g), want[MAXV];
		double want_loss = reference_eval(ref, pt.p, pt.in, want);
		cr_assert(eq(dbl, loss, want_loss), "%s: loss at %s", m->name, point_text(m, &pt));
		for (int i = 0; i < m->n_params; i++)
			cr_assert(eq(dbl, pt.g[i], want[i]), "%s: d/d%s at %s", m->name,
				  m->param_names[i], point_text(m, &pt));
	}
}

Test(gradcheck, descriptors)
{
	cr_assert(eq(int, linear_model.abi, SG_MODEL_ABI));
	cr_assert(eq(str, (char *)linear_model.name, "linear"));
	const char *src = linear_model.source, *want = "examples/lecture04/linear.sg";
	cr_assert(ge(sz, strlen(src), strlen(want)));
	cr_assert(eq(str, (char *)src + strlen(src) - strlen(want), (char *)want));
	cr_assert(eq(int, linear_model.n_params, 1));
	cr_assert(eq(int, linear_model.n_inputs, 2));
	cr_assert(eq(int, linear_model.n_outputs, 1));
	cr_assert(eq(str, (char *)linear_model.input_names[1], "y"));
	cr_assert(eq(dbl, linear_model.param_init[0], 1.0));
	cr_assert(linear_model.forward_f == NULL);
	cr_assert(eq(dbl, ex4_2_model.param_init[1], 2.0));
	cr_assert(eq(dbl, gc_add_model.param_init[1], 1.5));
	for (int i = 0; i < N_CASES; i++)
		cr_assert(cases[i].m->backward_d != NULL);
}

/* ---- the lecture's hand derivations, bit for bit ---- */

/* The lecture's data, then random points. */
static void hand_points(int t, Rng *rng, double *x, double *y, double *w)
{
	static const double lx[] = {1, 2, 3, 4}, ly[] = {2, 4, 6, 8};
	if (t < 4) {
		*x = lx[t], *y = ly[t], *w = 1.0;
		return;
	}
	*x = uniform(rng, -3, 3), *y = uniform(rng, -6, 6), *w = uniform(rng, -2, 2);
}

/* lecture 4: dloss/dw = 2 (yhat - y) x */
Test(hand, linear)
{
	Rng rng = {4};
	for (int t = 0; t < 50; t++) {
		double x, y, w, g[1], out[1];
		hand_points(t, &rng, &x, &y, &w);
		double in[2] = {x, y}, p[1] = {w};
		linear_model.forward_d(p, in, out);
		double yhat = out[0];
		cr_assert(eq(dbl, yhat, x * w));
		double loss = linear_model.backward_d(p, in, g);
		cr_assert(eq(dbl, loss, (yhat - y) * (yhat - y)));
		cr_assert(eq(dbl, g[0], 2 * (yhat - y) * x), "x=%a y=%a w=%a", x, y, w);
		ex4_1_model.backward_d(p, in, g);
		cr_assert(eq(dbl, g[0], 2 * (yhat - y) * x), "ex4_1 x=%a y=%a w=%a", x, y, w);
	}
	/* the lecture's first step: x = 1, y = 2, w = 1: grad -2 */
	double in[2] = {1, 2}, p[1] = {1}, g[1];
	linear_model.backward_d(p, in, g);
	cr_assert(eq(dbl, g[0], -2.0));
}

/* exercise 4-2: yhat = x w + b; dloss/dw = 2 (yhat - y) x, dloss/db = 2 (yhat - y) */
Test(hand, ex4_2)
{
	Rng rng = {42};
	for (int t = 0; t < 50; t++) {
		double x, y, w, g[2], out[1];
		hand_points(t, &rng, &x, &y, &w);
		double b = t < 4 ? 2.0 : uniform(&rng, -2, 2);
		double in[2] = {x, y}, p[2] = {w, b};
		ex4_2_model.forward_d(p, in, out);
		double yhat = out[0];
		cr_assert(eq(dbl, yhat, x * w + b));
		ex4_2_model.backward_d(p, in, g);
		cr_assert(eq(dbl, g[0], 2 * (yhat - y) * x), "x=%a y=%a w=%a b=%a", x, y, w, b);
		cr_assert(eq(dbl, g[1], 2 * (yhat - y)), "x=%a y=%a w=%a b=%a", x, y, w, b);
	}
}

/*
 * exercise 4-4: yhat = x^2 w2 + x w1 + b;
 * dloss/dw2 = 2 (yhat - y) x^2, dloss/dw1 = 2 (yhat - y) x, dloss/db = 2 (yhat - y).
 * x^2 is one value, x*x, as in the forward pass: the generated code
 * multiplies the adjoint 2 (yhat - y) by that value.  Written left to right
 * as 2 * (yhat - y) * x * x, the product rounds twice in another order and
 * may differ in the last bit, which is why the hand formula keeps (x * x).
 */
Test(hand, ex4_4)
{
	Rng rng = {44};
	for (int t = 0; t < 50; t++) {
		double x, y, w2, g[3], out[1];
		hand_points(t, &rng, &x, &y, &w2);
		double w1 = t < 4 ? 1.0 : uniform(&rng, -2, 2), b = t < 4 ? 0.0 : uniform(&rng, -2, 2);
		double in[2] = {x, y}, p[3] = {w2, w1, b};
		ex4_4_model.forward_d(p, in, out);
		double yhat = out[0];
		cr_assert(eq(dbl, yhat, (x * x) * w2 + x * w1 + b));
		ex4_4_model.backward_d(p, in, g);
		cr_assert(eq(dbl, g[0], 2 * (yhat - y) * (x * x)), "x=%a y=%a", x, y);
		cr_assert(eq(dbl, g[1], 2 * (yhat - y) * x), "x=%a y=%a", x, y);
		cr_assert(eq(dbl, g[2], 2 * (yhat - y)), "x=%a y=%a", x, y);
	}
}
