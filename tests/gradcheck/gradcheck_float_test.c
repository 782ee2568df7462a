/*
 * gradcheck_float_test.c: models generated with --dtype float.  Their
 * gradient is checked bit for bit against the generator's evaluator in
 * float arithmetic (dag_eval, DT_FLOAT), and against the same model's
 * gradient in double (dag_eval, DT_DOUBLE, which gradcheck_test.c checks
 * against finite differences and against the double C) within float
 * accuracy.  Backward's loss is forward's, bit for bit.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"

extern const sg_model linear_model, ex4_4_model, gc_sigmoid_model, gc_tanh_model,
	gc_exp_model, gc_log_model, gc_relu_model, gc_div_model, gc_softplus_model, gc_bce_model,
	gc_bce_target_model, gc_bce_p_model, gc_bce_mean_model, gc_conditions_model, gc_where_model, gc_conv_model,
	gc_atan_model, gc_asin_model, gc_acos_model, gc_sinh_model, gc_cosh_model,
	gc_asinh_model, gc_acosh_model, gc_atanh_model, gc_log1p_model, gc_expm1_model, gc_log2_model,
	gc_exp2_model, gc_erf_model, gc_erfc_model, gc_cbrt_model, gc_square_model, gc_gelu_model,
	gc_silu_model, gc_elu_model, gc_logsigmoid_model, gc_atan2_model, gc_hypot_model,
	gc_leaky_relu_model, gc_scan_model, gc_transpose_model, gc_embed_model, gc_columns_model,
	gc_stackdiag_model, gc_broadcast_model, gc_loss_broadcast_model;

#define W p[0]
#define V p[1]
#define X in[0]
static bool ok_div(const double *p, const double *in) { (void)in; return fabs(V) > 0.5; }
static bool ok_conditions(const double *p, const double *in)
{
	double z = W * X;
	return fabs(z - V) > 0.05 && fabs(z - 0.25) > 0.05 && fabs(z - 1) > 0.05 && fabs(z) > 0.05;
}
static bool ok_where(const double *p, const double *in)
{
	double z = W * X;
	return fabs(z - V) > 0.05 && fabs(z + V) > 0.05 && fabs(X) > 0.05 && fabs(X - W) > 0.05 &&
	       fabs(X - 2) > 0.05;
}
static bool ok_relu(const double *p, const double *in)
{
	return fabs(W * X + V) > 0.05 && fabs(V - 1) > 0.05;
}

#define AWAY(a, b) (fabs((a) - (b)) > 0.05)
static bool ok_elu(const double *p, const double *in) { return AWAY(W * X, -V) && AWAY(W, 0); }
static bool ok_hypot(const double *p, const double *in) { (void)in; return fabs(W) > 0.1; }

#define RULES "tests/gradcheck/models/"
static const Case cases[] = {
	{&linear_model, "examples/lecture04/linear.sg", "", NULL},
	{&ex4_4_model, "examples/exercises/ex4_4.sg", "", NULL},
	{&gc_sigmoid_model, RULES "sigmoid.sg", "", NULL},
	{&gc_tanh_model, RULES "tanh.sg", "", NULL},
	{&gc_exp_model, RULES "exp.sg", "", NULL},
	{&gc_log_model, RULES "log.sg", "w=0.5:3,v=0.5:3,x=0.5:3", NULL},
	{&gc_relu_model, RULES "relu.sg", "", ok_relu},
	{&gc_div_model, RULES "div.sg", "", ok_div},
	{&gc_softplus_model, RULES "softplus.sg", "", NULL},
	{&gc_bce_model, RULES "bce.sg", "y=0:1", NULL},
	{&gc_bce_target_model, RULES "bce_target.sg", "", NULL},
	{&gc_bce_p_model, RULES "bce_p.sg", "p=0.05:0.95,y=0:1", NULL},
	{&gc_bce_mean_model, RULES "bce_mean.sg",
	 "p[0]=0.05:0.95,p[1]=0.05:0.95,p[2]=0.05:0.95,p[3]=0.05:0.95,"
	 "y[0]=0:1,y[1]=0:1,y[2]=0:1,y[3]=0:1", NULL},
	{&gc_conditions_model, RULES "conditions.sg", "", ok_conditions},
	{&gc_where_model, RULES "where.sg", "", ok_where},
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
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

static struct criterion_test_params indices(void)
{
	static int index[N_CASES];
	for (int i = 0; i < N_CASES; i++)
		index[i] = i;
	return cr_make_param_array(int, index, N_CASES);
}

ParameterizedTestParameters(gradcheck_float, against_the_evaluator)
{
	return indices();
}

ParameterizedTest(int *ci, gradcheck_float, against_the_evaluator)
{
	const Case *c = &cases[*ci];
	const sg_model *m = c->m;
	cr_assert(eq(int, m->real_size, (int)sizeof(float)));
	cr_assert(m->backward_d == NULL);
	Reference *rf = reference_new(c->file, DT_FLOAT), *rd = reference_new(c->file, DT_DOUBLE);
	Rng rng = {2024};
	Point pt;
	for (int t = 0; t < POINTS; t++) {
		random_point(c, &rng, &pt);
		float p[MAXV], in[MAXV], g[MAXV], out[MAXV];
		double pr[MAXV], inr[MAXV], want_f[MAXV], want_d[MAXV];
		for (int i = 0; i < m->n_params; i++)
			pr[i] = p[i] = (float)pt.p[i];
		for (int i = 0; i < m->n_inputs; i++)
			inr[i] = in[i] = (float)pt.in[i];
		float loss = m->backward_f(p, in, g);
		cr_assert(eq(flt, loss, m->forward_f(p, in, out)), "%s: backward's loss", m->name);
		double lf = reference_eval(rf, pr, inr, want_f);
		double ld = reference_eval(rd, pr, inr, want_d);
		cr_assert(eq(dbl, (double)loss, lf), "%s: float loss at %s", m->name, point_text(m, &pt));
		cr_assert(le(dbl, fabs(loss - ld), 1e-5 * fmax(1, fabs(ld))), "%s: loss %.9g vs double %.17g",
			  m->name, loss, ld);
		for (int i = 0; i < m->n_params; i++) {
			cr_assert(eq(dbl, (double)g[i], want_f[i]), "%s: d/d%s at %s", m->name,
				  m->param_names[i], point_text(m, &pt));
			cr_expect(le(dbl, fabs(g[i] - want_d[i]), 1e-5 * fmax(1, fabs(want_d[i]))),
				  "%s: d/d%s float %.9g, double %.17g at %s", m->name, m->param_names[i],
				  g[i], want_d[i], point_text(m, &pt));
		}
	}
	reference_free(rf);
	reference_free(rd);
}

/* The lecture's first step in float, as PyTorch's float32 gives it. */
Test(gradcheck_float, lecture_first_step)
{
	float p[1] = {1.0f}, in[2] = {1.0f, 2.0f}, g[1];
	float loss = linear_model.backward_f(p, in, g);
	cr_assert(eq(flt, loss, 1.0f));
	cr_assert(eq(flt, g[0], -2.0f));
	in[0] = 3.0f, in[1] = 6.0f, p[0] = 1.26f;
	linear_model.backward_f(p, in, g);
	float yhat = 3.0f * 1.26f;
	cr_assert(eq(flt, g[0], 2 * (yhat - 6.0f) * 3.0f));
}

/* Issue 12: in float, sigmoid reaches 1 for inputs above 17; bce's gradient
 * there was 0 * log'(0) = NaN and stopped training.  It is PyTorch's now:
 * (p - y) / max((1 - p) p, 1e-12f), through dp/dz = p (1 - p). */
Test(gradcheck_float, bce_saturated)
{
	for (int t = 0; t < 4; t++) {
		float p[2] = {1.0f, 0.0f}, in[2] = {t < 2 ? 20.0f : -120.0f, (float)(t % 2)}, g[2];
		float s = 1.0f / (1.0f + expf(-(p[0] * in[0] + p[1])));
		cr_assert(s == 1.0f || s == 0.0f);
		gc_bce_model.backward_f(p, in, g);
		float q = (1.0f - s) * s;
		float dz = (s - in[1]) / (1e-12f > q ? 1e-12f : q) * q;
		cr_assert(isfinite(g[0]) && isfinite(g[1]), "x = %g, y = %g: %g %g", in[0], in[1],
			  g[0], g[1]);
		cr_assert(eq(flt, g[0], dz * in[0]));
		cr_assert(eq(flt, g[1], dz));
	}
}

/* bce's batch with hard labels in float (gradcheck.c bce_hard_labels) */
Test(gradcheck_float, bce_hard_labels)
{
	bce_hard_labels(&gc_bce_p_model, &gc_bce_mean_model);
}

/* gc_bce_p and gc_bce_mean in float against PyTorch's float32 numbers. */
Test(gradcheck_float, bce_matches_pytorch)
{
	BceCase cs[200];
	int n = bce_torch_cases("float", cs, 200);
	cr_assert(ge(int, n, 50));
	for (int k = 0; k < n; k++) {
		const BceCase *c = &cs[k];
		const sg_model *m = c->n == 1 ? &gc_bce_p_model : &gc_bce_mean_model;
		float p[4], y[4], g[4];
		for (int i = 0; i < c->n; i++)
			p[i] = (float)c->p[i], y[i] = (float)c->y[i];
		float loss = m->backward_f(p, y, g);
		if (c->n == 1)
			cr_assert(eq(dbl, loss, c->loss), "bce(%a, %a) = %a, PyTorch %a", c->p[0],
				  c->y[0], (double)loss, c->loss);
		else
			cr_assert(le(dbl, fabs(loss - c->loss), 0x1p-22 * fabs(c->loss)),
				  "case %d: loss %a, PyTorch %a", k, (double)loss, c->loss);
		for (int i = 0; i < c->n; i++)
			cr_assert(same_bits(g[i], c->grad[i]),
				  "case %d: d/dp[%d] at p = %a, y = %a: %a, PyTorch %a", k, i,
				  c->p[i], c->y[i], (double)g[i], c->grad[i]);
	}
}
