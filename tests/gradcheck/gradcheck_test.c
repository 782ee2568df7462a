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
#include "sgmath.h"

/* The models, generated at build time (meson.build). */
extern const sg_model gc_add_model, gc_sub_model, gc_mul_model, gc_div_model, gc_neg_model,
	gc_pow_const_model, gc_pow_var_model, gc_exp_model, gc_log_model, gc_sqrt_model,
	gc_sin_model, gc_cos_model, gc_tan_model, gc_tanh_model, gc_sigmoid_model,
	gc_softplus_model, gc_softsign_model, gc_relu_model, gc_abs_model, gc_min_model, gc_max_model,
	gc_ipow2_model, gc_ipow3_model, gc_ipow4_model, gc_ipowm1_model, gc_ipowm2_model,
	gc_names_model, gc_bce_model, gc_bce_target_model, gc_bce_p_model, gc_bce_mean_model, gc_conditions_model, gc_where_model, gc_shapes_model,
	gc_conv_model,
	linear_model, ex4_1_model, ex4_2_model, ex4_4_model, mm_model,
	gc_atan_model, gc_asin_model, gc_acos_model, gc_sinh_model, gc_cosh_model,
	gc_asinh_model, gc_acosh_model, gc_atanh_model, gc_log1p_model, gc_expm1_model, gc_log2_model,
	gc_exp2_model, gc_erf_model, gc_erfc_model, gc_cbrt_model, gc_square_model, gc_gelu_model,
	gc_silu_model, gc_elu_model, gc_logsigmoid_model, gc_atan2_model, gc_hypot_model,
	gc_leaky_relu_model, gc_scan_model, gc_transpose_model, gc_embed_model, gc_columns_model,
	gc_stackdiag_model, gc_broadcast_model, gc_loss_broadcast_model;

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
static bool ok_conditions(const double *p, const double *in)
{
	return AWAY(W * X, V) && AWAY(W * X, 0.25) && AWAY(W * X, 1) && AWAY(W * X, 0);
}
static bool ok_where(const double *p, const double *in)
{
	return AWAY(W * X, V) && AWAY(W * X, -V) && AWAY(X, 0) && AWAY(X, W) && AWAY(X, 2);
}
static bool ok_m1(const double *p, const double *in) { return fabs(W * X + V) > 0.5 && fabs(W) > 0.5; }
static bool ok_m2(const double *p, const double *in) { return fabs(W * X + V) > 0.5 && fabs(V) > 0.5; }
static bool ok_elu(const double *p, const double *in) { return AWAY(W * X, -V) && AWAY(W, 0); }
static bool ok_hypot(const double *p, const double *in) { (void)in; return fabs(W) > 0.1; }

/* gc_bce's p = sigmoid(w x + v), as the generated code computes it. */
static double bce_p(const double *p, const double *in) { return 1.0 / (1.0 + sg_exp(-(W * X + V))); }
/* Where (1 - p) p < 1e-12 the bce rule is PyTorch's, not the derivative of
 * the clamped forward; below 1e-4 the difference quotient of log(1 - p) is
 * already noise (1 - p carries p's rounding, 1e-16, divided by h = 1e-6).
 * bce_clamped_region checks the formula there. */
static bool fd_exempt_bce(const double *p, const double *in)
{
	double s = bce_p(p, in);
	return (1 - s) * s < 1e-4;
}

/* Points finite differences skip: where the rule is by design not the
 * derivative of the forward, or the difference quotient is noise. */
static bool fd_exempt(const Case *c, const double *p, const double *in)
{
	return c->m == &gc_bce_model && fd_exempt_bce(p, in);
}

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
	{&gc_softsign_model, RULES "softsign.sg", "w=-2:2,v=0.2:2,x=-2:2", NULL},
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
	{&gc_bce_model, RULES "bce.sg", "x=-20:20,y=0:1", NULL},
	{&gc_bce_target_model, RULES "bce_target.sg", "", NULL},
	{&gc_bce_p_model, RULES "bce_p.sg", "p=0.05:0.95,y=0:1", NULL},
	{&gc_bce_mean_model, RULES "bce_mean.sg",
	 "p[0]=0.05:0.95,p[1]=0.05:0.95,p[2]=0.05:0.95,p[3]=0.05:0.95,"
	 "y[0]=0:1,y[1]=0:1,y[2]=0:1,y[3]=0:1", NULL},
	{&gc_conditions_model, RULES "conditions.sg", "", ok_conditions},
	{&gc_where_model, RULES "where.sg", "", ok_where},
	{&gc_shapes_model, RULES "shapes.sg", "", NULL},
	{&gc_conv_model, RULES "conv.sg", "", NULL},
	{&gc_atan_model, RULES "atan.sg", "", NULL},
	{&gc_asin_model, RULES "asin.sg", "w=-0.4:0.4,v=-0.4:0.4,x=-1:1", NULL},
	{&gc_acos_model, RULES "acos.sg", "w=-0.4:0.4,v=-0.4:0.4,x=-1:1", NULL},
	{&gc_sinh_model, RULES "sinh.sg", "", NULL},
	{&gc_cosh_model, RULES "cosh.sg", "", NULL},
	{&gc_asinh_model, RULES "asinh.sg", "", NULL},
	{&gc_acosh_model, RULES "acosh.sg", "w=0.5:2,v=1.5:3,x=0:2", NULL},
	{&gc_atanh_model, RULES "atanh.sg", "w=-0.4:0.4,v=-0.4:0.4,x=-1:1", NULL},
	{&gc_log1p_model, RULES "log1p.sg", "w=0.5:2,v=0:2,x=0:2", NULL},
	{&gc_expm1_model, RULES "expm1.sg", "", NULL},
	{&gc_log2_model, RULES "log2.sg", "w=0.5:3,v=0.5:3,x=0.5:3", NULL},
	{&gc_exp2_model, RULES "exp2.sg", "", NULL},
	{&gc_erf_model, RULES "erf.sg", "", NULL},
	{&gc_erfc_model, RULES "erfc.sg", "", NULL},
	{&gc_cbrt_model, RULES "cbrt.sg", "w=0.5:2,v=0.5:2,x=0:2", NULL},
	{&gc_square_model, RULES "square.sg", "", NULL},
	{&gc_gelu_model, RULES "gelu.sg", "", NULL},
	{&gc_silu_model, RULES "silu.sg", "", NULL},
	{&gc_elu_model, RULES "elu.sg", "", ok_elu},
	{&gc_logsigmoid_model, RULES "logsigmoid.sg", "", NULL},
	{&gc_atan2_model, RULES "atan2.sg", "v=0.2:2", NULL},
	{&gc_hypot_model, RULES "hypot.sg", "", ok_hypot},
	{&gc_leaky_relu_model, RULES "leaky_relu.sg", "", ok_elu},
	{&gc_scan_model, RULES "scan.sg", "", NULL},
	{&gc_transpose_model, RULES "transpose.sg", "", NULL},
	{&gc_embed_model, RULES "embed.sg", "", NULL},
	{&gc_columns_model, RULES "columns.sg", "", NULL},
	{&gc_stackdiag_model, RULES "stackdiag.sg", "", NULL},
	{&gc_broadcast_model, RULES "broadcast.sg", "", NULL},
	{&gc_loss_broadcast_model, RULES "loss_broadcast.sg", "", NULL},
	{&linear_model, "examples/lecture04/linear.sg", "", NULL},
	{&ex4_1_model, "examples/exercises/ex4_1.sg", "", NULL},
	{&ex4_2_model, "examples/exercises/ex4_2.sg", "", NULL},
	{&ex4_4_model, "examples/exercises/ex4_4.sg", "", NULL},
	{&mm_model, "examples/michaelis_menten/mm.sg", "vmax=0.5:3,km=0.5:3,s=0.1:3,v=0:2", NULL},
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
	int checked = 0;
	for (int t = 0; t < POINTS; t++) {
		random_point(c, &rng, &pt);
		double loss = m->backward_d(pt.p, pt.in, pt.g);
		cr_assert(eq(dbl, loss, m->forward_d(pt.p, pt.in, NULL)),
			  "%s: backward's loss is not forward's at point %d", m->name, t);
		if (fd_exempt(c, pt.p, pt.in))
			continue;
		checked++;
		for (int i = 0; i < m->n_params; i++) {
			double fd = central_difference(m, &pt, i);
			double tol = 1e-6 * fmax(1.0, fmax(fabs(fd), fabs(pt.g[i])));
			cr_expect(le(dbl, fabs(fd - pt.g[i]), tol),
				  "%s: dloss/d%s at %s: backward %.17g, finite difference %.17g",
				  m->name, m->param_names[i], point_text(m, &pt), pt.g[i], fd);
		}
	}
	cr_assert(ge(int, checked, POINTS / 4), "%s: only %d points checked", m->name, checked);
}

ParameterizedTestParameters(gradcheck, functions_agree)
{
	return indices();
}

/* forward, backward, predict and backward_batch agree bit for bit, at
 * several points (each with its own params and ROWS rows of inputs); the
 * batch on the first n rows for n in `counts`: a short last block done row
 * by row (1, 3), one of 4 to 15 rows in a block's lanes (4, 7), whole blocks
 * (16) and both (21). */
ParameterizedTest(int *ci, gradcheck, functions_agree)
{
	const Case *c = &cases[*ci];
	const sg_model *m = c->m;
	enum { ROWS = 21, SETS = 6 };
	static const int counts[] = {1, 3, 4, 7, 16, 21};
	Point pt;
	Rng rng = {77};
	for (int set = 0; set < SETS; set++) {
		double rows[ROWS][MAXV], flat[ROWS * MAXV];
		double sum_g[MAXV] = {0}, batch_g[MAXV], sum_loss = 0;
		int next = 0;
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
			if (r + 1 != counts[next])
				continue;
			next++;
			for (int i = 0; i < MAXV; i++)
				batch_g[i] = NAN; /* backward_batch must set every gradient */
			double batch_loss = m->backward_batch_d(r + 1, pt.p, flat, batch_g);
			cr_assert(eq(dbl, batch_loss, sum_loss), "%s: batch loss, %d rows", m->name, r + 1);
			for (int i = 0; i < m->n_params; i++)
				cr_assert(eq(dbl, batch_g[i], sum_g[i]), "%s: batch gradient %s at %s, %d rows",
					  m->name, m->param_names[i], point_text(m, &pt), r + 1);
		}
		cr_assert(eq(int, next, (int)(sizeof counts / sizeof counts[0])));
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
	reference_free(ref);
}

/*
 * The generated functions called directly with an index that matches no row
 * (out of range, fractional, NaN; the runtime rejects these in data): the
 * row reads as zeros (-0) and no gradient reaches any row through it.  In
 * gc_embed (E[3, 2] = params 0..5, w, u; inputs tok, toks[3]), with every
 * token 1, a bad tok is tok = 0 with row E[0] all zeros, except that E[0]'s
 * gradient is exactly 0.
 */
Test(gradcheck, embed_bad_index)
{
	const sg_model *m = &gc_embed_model;
	cr_assert(eq(int, m->n_params, 8));
	cr_assert(eq(int, m->input_classes[0], 3));
	double p[8] = {0, 0, 0.3, -0.7, 1.1, 0.4, 0.9, -0.6}, in[4] = {0, 1, 1, 1};
	double g0[8], g[8];
	double want = m->backward_d(p, in, g0);
	static const double bad[] = {3, -1, 0.5, 1e9, NAN};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		double q[8] = {9, -9, 0.3, -0.7, 1.1, 0.4, 0.9, -0.6}, x[4] = {bad[k], 1, 1, 1};
		double loss = m->backward_d(q, x, g);
		cr_assert(eq(dbl, loss, want), "tok %g: loss %.17g, want %.17g", bad[k], loss, want);
		cr_assert(eq(dbl, m->forward_d(q, x, NULL), want));
		for (int i = 0; i < 8; i++)
			cr_assert(eq(dbl, g[i], i < 2 ? 0.0 : g0[i]), "tok %g: d%s %.17g", bad[k],
				  m->param_names[i], g[i]);
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

/* ---- bce: PyTorch's gradient, where finite differences are exempt ---- */

/* gc_bce's gradient by PyTorch's rule, dloss/dp = (p - y) / max((1 - p) p, 1e-12)
 * (1e-12 is PyTorch's float EPSILON), through p = sigmoid(z): dp/dz = p (1 - p),
 * the generated code's operations in its order. */
static void bce_by_formula(const double *p, const double *in, double *g)
{
	double s = bce_p(p, in), y = in[1], eps = (double)1e-12f;
	double q = (1.0 - s) * s;
	double dz = (s - y) / (eps > q ? eps : q) * q;
	g[0] = dz * X;
	g[1] = dz;
}

/* Issue 12: at p = 1 (a confident, correct sample: z above 37 in double)
 * the clamped forward's derivative was 0 * log'(0) = NaN.  Now every
 * gradient is finite there and is PyTorch's, to the bit. */
Test(gradcheck, bce_clamped_region)
{
	const Case c = {&gc_bce_model, RULES "bce.sg", "x=-50:50,y=0:1", NULL};
	Rng rng = {12};
	Point pt;
	int clamped = 0, saturated = 0;
	for (int t = 0; t < 400; t++) {
		random_point(&c, &rng, &pt);
		if (t < 4) { /* p exactly 0 or 1, y at both ends */
			pt.p[0] = 1.0, pt.p[1] = 0.0;
			pt.in[0] = t < 2 ? 40.0 : -800.0, pt.in[1] = t % 2;
		}
		if (!fd_exempt_bce(pt.p, pt.in))
			continue;
		double s = bce_p(pt.p, pt.in), want[2];
		clamped += (1 - s) * s < 1e-12;
		saturated += s == 1.0 || s == 0.0;
		gc_bce_model.backward_d(pt.p, pt.in, pt.g);
		bce_by_formula(pt.p, pt.in, want);
		for (int i = 0; i < 2; i++) {
			cr_assert(isfinite(pt.g[i]), "d/d%s = %g at %s", gc_bce_model.param_names[i],
				  pt.g[i], point_text(&gc_bce_model, &pt));
			cr_assert(same_bits(pt.g[i], want[i]), "d/d%s = %a, PyTorch's rule %a at %s",
				  gc_bce_model.param_names[i], pt.g[i], want[i],
				  point_text(&gc_bce_model, &pt));
		}
	}
	cr_assert(ge(int, clamped, 20));
	cr_assert(ge(int, saturated, 4));
	/* a correct, confident sample: no gradient */
	double p[2] = {1.0, 0.0}, in[2] = {40.0, 1.0}, g[2];
	gc_bce_model.backward_d(p, in, g);
	cr_assert(eq(dbl, g[0], 0.0));
	cr_assert(eq(dbl, g[1], 0.0));
}

/* gc_bce_p (one element) and gc_bce_mean (four) against PyTorch's numbers:
 * the gradient bit for bit; the loss too, but for the sign of a zero (PyTorch's
 * mean adds to +0, so (1 - 1) * -100 - 1 * log(1) = -0 is +0 there) and for
 * the mean of four, which PyTorch sums in another order (within 2 ulp). */
Test(gradcheck, bce_matches_pytorch)
{
	BceCase cs[200];
	int n = bce_torch_cases("double", cs, 200);
	cr_assert(ge(int, n, 50));
	for (int k = 0; k < n; k++) {
		const BceCase *c = &cs[k];
		const sg_model *m = c->n == 1 ? &gc_bce_p_model : &gc_bce_mean_model;
		cr_assert(eq(int, m->n_params, c->n));
		double g[4];
		double loss = m->backward_d(c->p, c->y, g);
		if (c->n == 1)
			cr_assert(eq(dbl, loss, c->loss), "bce(%a, %a) = %a, PyTorch %a", c->p[0],
				  c->y[0], loss, c->loss);
		else
			cr_assert(le(dbl, fabs(loss - c->loss), 0x1p-51 * fabs(c->loss)),
				  "case %d: loss %a, PyTorch %a", k, loss, c->loss);
		for (int i = 0; i < c->n; i++)
			cr_assert(same_bits(g[i], c->grad[i]),
				  "case %d: d/dp[%d] at p = %a, y = %a: %a, PyTorch %a", k, i,
				  c->p[i], c->y[i], g[i], c->grad[i]);
	}
}

/* bce's batch with hard labels (gradcheck.c bce_hard_labels) */
Test(gradcheck, bce_hard_labels)
{
	bce_hard_labels(&gc_bce_p_model, &gc_bce_mean_model);
}

/* gc_loss_broadcast (mse, bce and bce_logits of operands of different shapes,
 * each the mean over the broadcast shape) against PyTorch's float64 numbers
 * (tests/torch/loss_broadcast_reference.py), within 4 ulp: PyTorch sums the
 * terms and the broadcast dimensions' gradients in its own order. */
Test(gradcheck, loss_broadcast_matches_pytorch)
{
	static const double p[11] = {0.3, -0.2, 0.5, 0.1, 0.4, -0.6, 0.5, -0.25, 0.2, -0.1, 0.3};
	static const double in[5] = {0.5, -1.0, 2.0, 0.3, -0.7};
	static const double want[11] = {
		-0x1.bd5d99af2d2a4p-6, 0x1.025eb6d4a4038p-5, 0x1.a34a66bd765d8p-2,
		0x1.fe5d5f14e3948p-5, 0x1.0c66b09472976p-2, -0x1.d36d3c9ff458cp-1,
		0x1.b48a0605dcf98p-5, 0x1.0af418a254071p-2,
		0x1.8cd4869379567p-5, -0x1.e222f667b3f94p-4, 0x1.12a66503209a0p-2};
	const sg_model *m = &gc_loss_broadcast_model;
	cr_assert(eq(int, m->n_params, 11));
	cr_assert(eq(int, m->n_inputs, 5));
	cr_assert(eq(str, (char *)m->param_names[6], "c[0,0]"));
	double g[11];
	double loss = m->backward_d(p, in, g);
	cr_assert(le(dbl, fabs(loss - 0x1.d73db59a9b554p+0), 0x1p-50 * 0x1.d73db59a9b554p+0),
		  "loss %a, PyTorch %a", loss, 0x1.d73db59a9b554p+0);
	for (int i = 0; i < 11; i++)
		cr_expect(le(dbl, fabs(g[i] - want[i]), 0x1p-50 * fabs(want[i])),
			  "d/d%s: %a, PyTorch %a", m->param_names[i], g[i], want[i]);
}

/* ---- the elementwise functions against PyTorch ---- */

extern const sg_model gc_torch_model;

/*
 * Relative tolerance of each function against PyTorch 1.13's float64 numbers
 * (tests/torch/functions_torch.txt), for the value and each derivative.
 * Both sides call glibc's <math.h>; the largest differences seen are an ulp,
 * from PyTorch's order of operations (atan, asin, acos, expm1, silu,
 * logsigmoid: at most 3.4e-16), so TORCH_TOL, 1.8 ulp, unless listed.
 */
#define TORCH_TOL 4e-16
static const struct {
	const char *name;
	double tol;
} torch_tol[] = {
	/* PyTorch has no cbrt: its reference is sign(x) |x|^(1/3) by pow,
	 * itself 2 ulp off (1/3 is rounded), and glibc's cbrt is within an
	 * ulp: 1.05e-15 seen (the derivative at 1e-9) */
	{"cbrt", 2e-15},
};

static double torch_tol_of(const char *name)
{
	for (size_t i = 0; i < sizeof torch_tol / sizeof torch_tol[0]; i++)
		if (!strcmp(torch_tol[i].name, name))
			return torch_tol[i].tol;
	return TORCH_TOL;
}

/* got is PyTorch's want: NaN for NaN, the same infinity, a zero for a zero
 * (of either sign: PyTorch's elu(-0) is +0, expm1(-0) here is -0), else
 * within tol of it, relative. */
static bool torch_close(double got, double want, double tol)
{
	if (isnan(want) || isinf(want) || want == 0)
		return isnan(want) ? isnan(got) : got == want;
	return fabs(got - want) <= tol * fabs(want);
}

/* Where symgrad differs from PyTorch by design (README "Derivatives"):
 * elu'(NaN) is NaN here, exp(min(NaN, 0)); PyTorch's is 1 (x <= 0 is false). */
static bool torch_deliberate(const FnCase *c, double got)
{
	return !strcmp(c->name, "elu") && isnan(c->x[0]) && isnan(got);
}

/* The index of "NAME_suffix" in names[0..n). */
static int name_index(const char *const *names, int n, const char *name, const char *suffix)
{
	char want[64];
	snprintf(want, sizeof want, "%s%s", name, suffix);
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], want))
			return i;
	cr_fatal("gc_torch has no %s", want);
	return -1;
}

/* gc_torch (models/torch_functions.sg): each function of its own params,
 * output NAME_v; its gradient in NAME_x and NAME_y is the derivative. */
Test(gradcheck, functions_match_pytorch)
{
	static FnCase cs[512];
	const sg_model *m = &gc_torch_model;
	int n = functions_torch_cases(cs, 512), points[64] = {0};
	cr_assert(ge(int, n, 300));
	cr_assert(m->n_params <= 64 && m->n_outputs <= 64);
	for (int k = 0; k < n; k++) {
		const FnCase *c = &cs[k];
		double p[64], g[64], out[64], in[1] = {0}, tol = torch_tol_of(c->name);
		int ix[2], o = name_index(m->output_names, m->n_outputs, c->name, "_v");
		memcpy(p, m->param_init, (size_t)m->n_params * sizeof *p);
		for (int i = 0; i < c->arity; i++) {
			ix[i] = name_index(m->param_names, m->n_params, c->name, i ? "_y" : "_x");
			p[ix[i]] = c->x[i];
		}
		m->forward_d(p, in, out);
		m->backward_d(p, in, g);
		points[o]++;
		cr_expect(torch_close(out[o], c->value, tol), "%s(%.17g, %.17g) = %.17g, PyTorch %.17g",
			  c->name, c->x[0], c->x[1], out[o], c->value);
		for (int i = 0; i < c->arity; i++)
			cr_expect(torch_close(g[ix[i]], c->d[i], tol) || torch_deliberate(c, g[ix[i]]),
				  "d%s/d%s at (%.17g, %.17g) = %.17g, PyTorch %.17g", c->name,
				  i ? "y" : "x", c->x[0], c->x[1], g[ix[i]], c->d[i]);
	}
	for (int o = 0; o < m->n_outputs; o++)
		cr_expect(ge(int, points[o], 8), "%s: %d points from PyTorch", m->output_names[o], points[o]);
}

/* ---- second order: NAME_hessian, NAME_hvp and NAME_jacobian ---- */

ParameterizedTestParameters(gradcheck, hessian)
{
	return indices();
}

/* d(grad_j)/dp_i by central differences of backward, h = 1e-6 max(1, |p_i|) */
static double gradient_difference(const sg_model *m, const Point *pt, int i, int j)
{
	double p[MAXV], g[MAXV];
	memcpy(p, pt->p, sizeof p);
	double h = 1e-6 * fmax(1.0, fabs(p[i]));
	double up = pt->p[i] + h, down = pt->p[i] - h;
	p[i] = up;
	m->backward_d(p, pt->in, g);
	double gu = g[j];
	p[i] = down;
	m->backward_d(p, pt->in, g);
	return (gu - g[j]) / (up - down);
}

/*
 * NAME_hessian against central differences of NAME_backward (second
 * differences of the loss), symmetric to the bit; its loss and gradient are
 * backward's to the bit; NAME_hvp's H v is the dense H times v within
 * rounding, and its loss and gradient are backward's to the bit.
 */
ParameterizedTest(int *ci, gradcheck, hessian)
{
	const Case *c = &cases[*ci];
	const sg_model *m = c->m;
	int np = m->n_params;
	cr_assert(m->hessian_d && m->hvp_d, "%s: no hessian or hvp", m->name);
	Point pt;
	Rng rng = {0x4e55u + (unsigned)np};
	int checked = 0;
	for (int t = 0; t < POINTS; t++) {
		random_point(c, &rng, &pt);
		double h[MAXV * MAXV], g[MAXV], v[MAXV], hv[MAXV], g2[MAXV];
		double loss = m->hessian_d(pt.p, pt.in, g, h);
		double bl = m->backward_d(pt.p, pt.in, pt.g);
		cr_assert(same_bits(loss, bl), "%s: hessian's loss is not backward's", m->name);
		for (int i = 0; i < np; i++) {
			cr_assert(same_bits(g[i], pt.g[i]), "%s: hessian's gradient is not backward's",
				  m->name);
			for (int j = 0; j < np; j++)
				cr_assert(same_bits(h[i * np + j], h[j * np + i]),
					  "%s: H[%d][%d] = %.17g, H[%d][%d] = %.17g", m->name, i, j,
					  h[i * np + j], j, i, h[j * np + i]);
		}
		for (int i = 0; i < np; i++)
			v[i] = uniform(&rng, -1, 1);
		cr_assert(same_bits(m->hvp_d(pt.p, pt.in, v, g2, hv), bl));
		for (int i = 0; i < np; i++) {
			double want = 0, size = 0;
			for (int j = 0; j < np; j++) {
				want += h[i * np + j] * v[j];
				size += fabs(h[i * np + j] * v[j]);
			}
			cr_assert(same_bits(g2[i], pt.g[i]), "%s: hvp's gradient is not backward's",
				  m->name);
			cr_expect(le(dbl, fabs(hv[i] - want), 1e-12 * fmax(1.0, size)),
				  "%s: (H v)[%s] at %s: hvp %.17g, H times v %.17g", m->name,
				  m->param_names[i], point_text(m, &pt), hv[i], want);
		}
		if (fd_exempt(c, pt.p, pt.in))
			continue;
		checked++;
		for (int i = 0; i < np; i++)
			for (int j = 0; j < np; j++) {
				double fd = gradient_difference(m, &pt, i, j), x = h[i * np + j];
				double tol = 1e-5 * fmax(1.0, fmax(fabs(fd), fabs(x)));
				cr_expect(le(dbl, fabs(fd - x), tol),
					  "%s: d2loss/d%s d%s at %s: hessian %.17g, difference %.17g",
					  m->name, m->param_names[i], m->param_names[j],
					  point_text(m, &pt), x, fd);
			}
	}
	cr_assert(ge(int, checked, POINTS / 4), "%s: only %d points checked", m->name, checked);
}

ParameterizedTestParameters(gradcheck, jacobian)
{
	return indices();
}

/* d outputs[o] / d x by central differences of predict, x a param
 * (inputs == NULL) or an input */
static double output_difference(const sg_model *m, const Point *pt, bool input, int i, int o)
{
	double p[MAXV], in[MAXV], out[MAXV];
	memcpy(p, pt->p, sizeof p);
	memcpy(in, pt->in, sizeof in);
	double *x = input ? &in[i] : &p[i];
	double x0 = *x, h = 1e-6 * fmax(1.0, fabs(x0)), up = x0 + h, down = x0 - h;
	*x = up;
	m->predict_d(p, in, out);
	double fu = out[o];
	*x = down;
	m->predict_d(p, in, out);
	return (fu - out[o]) / (up - down);
}

/* NAME_jacobian against central differences of NAME_predict, in the params
 * and in the inputs; its outputs are predict's to the bit. */
ParameterizedTest(int *ci, gradcheck, jacobian)
{
	const Case *c = &cases[*ci];
	const sg_model *m = c->m;
	int np = m->n_params, ni = m->n_inputs, no = m->n_outputs;
	if (!no) {
		cr_assert(m->jacobian_d == NULL);
		return;
	}
	cr_assert(m->jacobian_d != NULL, "%s: no jacobian", m->name);
	Point pt;
	Rng rng = {0x1ac0u + (unsigned)np};
	for (int t = 0; t < POINTS; t++) {
		random_point(c, &rng, &pt);
		double out[MAXV], pred[MAXV], jp[MAXV * MAXV], jx[MAXV * MAXV];
		m->jacobian_d(pt.p, pt.in, out, jp, jx);
		m->predict_d(pt.p, pt.in, pred);
		for (int o = 0; o < no; o++) {
			cr_assert(same_bits(out[o], pred[o]), "%s: jacobian's outputs are not predict's",
				  m->name);
			for (int k = 0; k < np + ni; k++) {
				bool input = k >= np;
				int i = input ? k - np : k;
				double x = input ? jx[o * ni + i] : jp[o * np + i];
				double fd = output_difference(m, &pt, input, i, o);
				double tol = 1e-6 * fmax(1.0, fmax(fabs(fd), fabs(x)));
				cr_expect(le(dbl, fabs(fd - x), tol),
					  "%s: d%s/d%s at %s: jacobian %.17g, difference %.17g", m->name,
					  m->output_names[o],
					  input ? m->input_names[i] : m->param_names[i],
					  point_text(m, &pt), x, fd);
			}
		}
	}
}

/* ---- the sparse Hessian, forward mode, reverse mode from any cotangent,
 * and the Gauss-Newton product ---- */

ParameterizedTestParameters(gradcheck, hessian_sparse)
{
	return indices();
}

/* NAME_hessian_sparse: its pattern is every entry the dense Hessian can
 * make other than 0 (an entry outside it is 0 at every point), and its
 * values are the dense entries to the bit; the pattern is symmetric and
 * each column's rows ascend. */
ParameterizedTest(int *ci, gradcheck, hessian_sparse)
{
	const Case *c = &cases[*ci];
	const sg_model *m = c->m;
	int np = m->n_params, nnz = m->hess_nnz;
	cr_assert(m->hessian_sparse_d && m->hess_colptr && m->hess_rowidx, "%s: no sparse Hessian",
		  m->name);
	cr_assert(eq(int, m->hess_colptr[0], 0));
	cr_assert(eq(int, m->hess_colptr[np], nnz));
	int where[MAXV][MAXV];
	for (int i = 0; i < np; i++)
		for (int j = 0; j < np; j++)
			where[i][j] = -1;
	for (int j = 0; j < np; j++)
		for (int k = m->hess_colptr[j]; k < m->hess_colptr[j + 1]; k++) {
			int i = m->hess_rowidx[k];
			cr_assert(i >= 0 && i < np && (k == m->hess_colptr[j] || i > m->hess_rowidx[k - 1]));
			where[i][j] = k;
		}
	for (int i = 0; i < np; i++)
		for (int j = 0; j < np; j++)
			cr_assert(eq(int, where[i][j] < 0, where[j][i] < 0), "%s: pattern not symmetric",
				  m->name);
	Point pt;
	Rng rng = {0x5a11u + (unsigned)np};
	for (int t = 0; t < POINTS; t++) {
		random_point(c, &rng, &pt);
		double h[MAXV * MAXV], g[MAXV], gs[MAXV], vals[MAXV * MAXV + 1];
		double loss = m->hessian_d(pt.p, pt.in, g, h);
		cr_assert(same_bits(m->hessian_sparse_d(pt.p, pt.in, gs, vals), loss));
		for (int i = 0; i < np; i++) {
			cr_assert(same_bits(gs[i], g[i]));
			for (int j = 0; j < np; j++) {
				double want = h[i * np + j];
				if (where[i][j] < 0)
					cr_assert(want == 0.0, "%s: H[%s][%s] = %.17g is outside the pattern",
						  m->name, m->param_names[i], m->param_names[j], want);
				else
					cr_assert(same_bits(vals[where[i][j]], want),
						  "%s: sparse H[%s][%s] = %.17g, dense %.17g", m->name,
						  m->param_names[i], m->param_names[j], vals[where[i][j]], want);
			}
		}
	}
}

/* |got - want| within 1e-12 of the size of the sum want came from */
static bool dot_close(double got, double want, double size)
{
	return fabs(got - want) <= 1e-12 * fmax(1.0, size);
}

/* d loss / d inputs[i] by central differences of forward */
static double loss_input_difference(const sg_model *m, const Point *pt, int i)
{
	double in[MAXV];
	memcpy(in, pt->in, sizeof in);
	double h = 1e-6 * fmax(1.0, fabs(in[i])), up = in[i] + h, down = in[i] - h;
	in[i] = up;
	double fu = m->forward_d(pt->p, in, NULL);
	in[i] = down;
	return (fu - m->forward_d(pt->p, in, NULL)) / (up - down);
}

ParameterizedTestParameters(gradcheck, jvp_vjp)
{
	return indices();
}

/*
 * NAME_jvp and NAME_vjp against the Jacobian (itself checked against
 * differences above) and the gradient: the loss and outputs are forward's
 * to the bit; the tangents are J times the tangent, the pulled-back
 * cotangents the cotangent times J, within rounding of the sums; with
 * dloss = 1 and no output cotangent, vjp's gparams are backward's gradient
 * (equal as numbers: 1 * g and the zero terms change no bit but a zero's
 * sign) and its ginputs the loss's derivatives in the inputs, against
 * central differences of forward.
 */
ParameterizedTest(int *ci, gradcheck, jvp_vjp)
{
	const Case *c = &cases[*ci];
	const sg_model *m = c->m;
	int np = m->n_params, ni = m->n_inputs, no = m->n_outputs;
	cr_assert(m->jvp_d && m->vjp_d, "%s: no jvp or vjp", m->name);
	Point pt;
	Rng rng = {0x7a9u + (unsigned)np};
	int checked = 0;
	for (int t = 0; t < POINTS; t++) {
		random_point(c, &rng, &pt);
		double dp[MAXV], di[MAXV], out[MAXV], dout[MAXV], fout[MAXV], dloss;
		double jp[MAXV * MAXV], jx[MAXV * MAXV], jo[MAXV], gx[MAXV], gp[MAXV];
		double cot[MAXV] = {0}, zero[MAXV] = {0}, gxl[MAXV];
		for (int i = 0; i < np; i++)
			dp[i] = uniform(&rng, -1, 1);
		for (int i = 0; i < ni; i++)
			di[i] = uniform(&rng, -1, 1);
		double loss = m->jvp_d(pt.p, pt.in, dp, di, out, dout, &dloss);
		cr_assert(same_bits(loss, m->forward_d(pt.p, pt.in, fout)));
		m->backward_d(pt.p, pt.in, pt.g);
		/* the loss's derivatives in the inputs */
		cr_assert(same_bits(m->vjp_d(pt.p, pt.in, 1.0, zero, gp, gx), loss));
		for (int i = 0; i < np; i++)
			cr_assert(gp[i] == pt.g[i], "%s: vjp's d%s = %.17g, backward's %.17g", m->name,
				  m->param_names[i], gp[i], pt.g[i]);
		double want = 0, size = 0;
		for (int i = 0; i < np; i++)
			want += pt.g[i] * dp[i], size += fabs(pt.g[i] * dp[i]);
		for (int i = 0; i < ni; i++)
			want += gx[i] * di[i], size += fabs(gx[i] * di[i]);
		memcpy(gxl, gx, sizeof gxl);
		cr_expect(dot_close(dloss, want, size), "%s: jvp's dloss %.17g, g . v %.17g at %s",
			  m->name, dloss, want, point_text(m, &pt));
		if (!fd_exempt(c, pt.p, pt.in)) {
			checked++;
			for (int i = 0; i < ni; i++) {
				if (m->input_classes && m->input_classes[i] > 0) {
					/* an index: piecewise constant, no difference to take */
					cr_expect(eq(dbl, gx[i], 0.0), "%s: dloss/d%s = %.17g", m->name,
						  m->input_names[i], gx[i]);
					continue;
				}
				double fd = loss_input_difference(m, &pt, i);
				cr_expect(le(dbl, fabs(fd - gx[i]), 1e-5 * fmax(1.0, fmax(fabs(fd), fabs(gx[i])))),
					  "%s: dloss/d%s at %s: vjp %.17g, difference %.17g", m->name,
					  m->input_names[i], point_text(m, &pt), gx[i], fd);
			}
		}
		if (!no || !m->jacobian_d)
			continue;
		m->jacobian_d(pt.p, pt.in, jo, jp, jx);
		for (int o = 0; o < no; o++) {
			cr_assert(same_bits(out[o], fout[o]), "%s: jvp's outputs are not forward's", m->name);
			want = 0, size = 0;
			for (int i = 0; i < np; i++)
				want += jp[o * np + i] * dp[i], size += fabs(jp[o * np + i] * dp[i]);
			for (int i = 0; i < ni; i++)
				want += jx[o * ni + i] * di[i], size += fabs(jx[o * ni + i] * di[i]);
			cr_expect(dot_close(dout[o], want, size), "%s: jvp's d%s %.17g, J v %.17g at %s",
				  m->name, m->output_names[o], dout[o], want, point_text(m, &pt));
		}
		/* any cotangent: dloss * g + cot . J */
		double wl = uniform(&rng, -1, 1);
		for (int o = 0; o < no; o++)
			cot[o] = uniform(&rng, -1, 1);
		cr_assert(same_bits(m->vjp_d(pt.p, pt.in, wl, cot, gp, gx), loss));
		for (int k = 0; k < np + ni; k++) {
			bool input = k >= np;
			int i = input ? k - np : k;
			want = wl * (input ? gxl[i] : pt.g[i]), size = fabs(want);
			for (int o = 0; o < no; o++) {
				double x = cot[o] * (input ? jx[o * ni + i] : jp[o * np + i]);
				want += x, size += fabs(x);
			}
			double got = input ? gx[i] : gp[i];
			cr_expect(dot_close(got, want, size), "%s: vjp's d%s %.17g, want %.17g at %s",
				  m->name, input ? m->input_names[i] : m->param_names[i], got, want,
				  point_text(m, &pt));
		}
	}
	cr_assert(ge(int, checked, POINTS / 4), "%s: only %d points checked", m->name, checked);
}

ParameterizedTestParameters(gradcheck, gnvp)
{
	return indices();
}

/* NAME_gnvp of the residual models: 2 J'(J v), J = d r / d params from
 * NAME_jacobian's rows of the residuals, within rounding; loss and gradient
 * backward's to the bit.  A model without residuals has none. */
ParameterizedTest(int *ci, gradcheck, gnvp)
{
	const Case *c = &cases[*ci];
	const sg_model *m = c->m;
	int np = m->n_params, ni = m->n_inputs, no = m->n_outputs;
	if (!m->n_residuals) {
		cr_assert(m->gnvp_d == NULL);
		return;
	}
	cr_assert(m->gnvp_d && m->jacobian_d, "%s: no gnvp or jacobian", m->name);
	Point pt;
	Rng rng = {0x6e7u + (unsigned)np};
	for (int t = 0; t < POINTS; t++) {
		random_point(c, &rng, &pt);
		double v[MAXV], g[MAXV], gnv[MAXV], jo[MAXV], jp[MAXV * MAXV], jx[MAXV * MAXV], jv[MAXV];
		for (int i = 0; i < np; i++)
			v[i] = uniform(&rng, -1, 1);
		double bl = m->backward_d(pt.p, pt.in, pt.g);
		cr_assert(same_bits(m->gnvp_d(pt.p, pt.in, v, g, gnv), bl));
		m->jacobian_d(pt.p, pt.in, jo, jp, jx);
		(void)ni, (void)no;
		for (int r = 0; r < m->n_residuals; r++) {
			int o = m->residual_first + r;
			jv[r] = 0;
			for (int i = 0; i < np; i++)
				jv[r] += jp[o * np + i] * v[i];
		}
		for (int i = 0; i < np; i++) {
			cr_assert(same_bits(g[i], pt.g[i]));
			double want = 0, size = 0;
			for (int r = 0; r < m->n_residuals; r++) {
				double x = 2 * jp[(m->residual_first + r) * np + i] * jv[r];
				want += x, size += fabs(x);
			}
			cr_expect(dot_close(gnv[i], want, size), "%s: (G v)[%s] %.17g, 2 J'J v %.17g at %s",
				  m->name, m->param_names[i], gnv[i], want, point_text(m, &pt));
		}
	}
}
