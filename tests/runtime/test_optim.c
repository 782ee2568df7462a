/*
 * test_optim.c: the optimizers against numbers PyTorch computed
 * (data/optim_ref.h, made by data/gen_optim_ref.py with Debian's
 * python3-torch): 10 parameters, 25 steps of fixed gradients, in float64
 * and float32.  Every value must be bit-identical.
 */
#include <math.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "symgrad.h"
#include "data/optim_ref.h"

/* Runs kind on the reference gradients and compares each step with ref;
 * float models when is_float.  Returns the number of differing values. */
static int run(sg_optim_kind kind, const double (*ref)[OPT_N], int is_float,
	       int max_ulp)
{
	sg_optim_opts o = sg_optim_defaults();
	sg_optim *opt;
	double pd[OPT_N], gd[OPT_N];
	float pf[OPT_N], gf[OPT_N];
	int t, i, bad = 0;

	o.kind = kind;
	opt = sg_optim_new(&o, OPT_N, is_float ? (int)sizeof(float)
					       : (int)sizeof(double), NULL);
	cr_assert(ne(ptr, opt, NULL));
	for (i = 0; i < OPT_N; i++) {
		pd[i] = opt_p0[i];
		pf[i] = (float)opt_p0[i];
	}
	for (t = 0; t < OPT_STEPS; t++) {
		for (i = 0; i < OPT_N; i++) {
			gd[i] = opt_grad[t][i];
			gf[i] = (float)opt_grad[t][i];
		}
		if (is_float)
			sg_optim_step_f(opt, pf, gf);
		else
			sg_optim_step_d(opt, pd, gd);
		for (i = 0; i < OPT_N; i++) {
			double got = is_float ? (double)pf[i] : pd[i];
			double scale = fabs(ref[t][i]) > 1 ? fabs(ref[t][i]) : 1;
			double tol = max_ulp * ldexp(scale, is_float ? -23 : -52);
			if (fabs(got - ref[t][i]) > tol && bad++ < 5)
				cr_log_error("step %d param %d: %a, PyTorch %a", t + 1,
					     i, got, ref[t][i]);
		}
		if (is_float) /* the optimizer must keep p in float */
			for (i = 0; i < OPT_N; i++)
				pd[i] = pf[i];
	}
	sg_optim_free(opt);
	return bad;
}

Test(optim, sgd_lecture_update_double) { cr_assert(zero(int, run(SG_OPTIM_SGD, opt_sgd_d, 0, 0))); }
Test(optim, sgd_lecture_update_float) { cr_assert(zero(int, run(SG_OPTIM_SGD, opt_sgd_f, 1, 0))); }
Test(optim, momentum_double) { cr_assert(zero(int, run(SG_OPTIM_MOMENTUM, opt_momentum_d, 0, 0))); }
Test(optim, momentum_float) { cr_assert(zero(int, run(SG_OPTIM_MOMENTUM, opt_momentum_f, 1, 0))); }
Test(optim, adam_double) { cr_assert(zero(int, run(SG_OPTIM_ADAM, opt_adam_d, 0, 0))); }
Test(optim, adam_float) { cr_assert(zero(int, run(SG_OPTIM_ADAM, opt_adam_f, 1, 0))); }

/* torch.optim.SGD fuses lr*g into the update (one rounding): the lecture's
 * two-step update stays within a few units in the last place of 1 of it. */
Test(optim, sgd_close_to_torch_optim_sgd)
{
	cr_assert(zero(int, run(SG_OPTIM_SGD, opt_torch_sgd_d, 0, 4)));
	cr_assert(zero(int, run(SG_OPTIM_SGD, opt_torch_sgd_f, 1, 4)));
}

Test(optim, defaults_are_pytorch_defaults)
{
	sg_optim_opts o = sg_optim_defaults();

	cr_assert(eq(int, o.kind, SG_OPTIM_SGD));
	cr_assert(eq(dbl, o.lr, 0.01));
	cr_assert(eq(dbl, o.momentum, 0.9));
	cr_assert(eq(dbl, o.beta1, 0.9));
	cr_assert(eq(dbl, o.beta2, 0.999));
	cr_assert(eq(dbl, o.eps, 1e-8));
}

Test(optim, parse_kind)
{
	sg_optim_kind k;

	cr_assert(eq(int, sg_optim_parse_kind("adam", &k), 0));
	cr_assert(eq(int, k, SG_OPTIM_ADAM));
	cr_assert(eq(int, sg_optim_parse_kind("momentum", &k), 0));
	cr_assert(eq(int, k, SG_OPTIM_MOMENTUM));
	cr_assert(eq(int, sg_optim_parse_kind("sgd", &k), 0));
	cr_assert(eq(int, k, SG_OPTIM_SGD));
	cr_assert(eq(int, sg_optim_parse_kind("rmsprop", &k), -1));
}

Test(optim, reset_restarts_from_step_one)
{
	sg_optim_opts o = sg_optim_defaults();
	double a[1] = {1}, b[1] = {1}, c[1] = {1}, g[1] = {0.5};
	sg_optim *opt, *fresh;

	o.kind = SG_OPTIM_ADAM;
	opt = sg_optim_new(&o, 1, (int)sizeof(double), NULL);
	sg_optim_step_d(opt, a, g);
	sg_optim_step_d(opt, a, g);
	sg_optim_reset(opt);
	sg_optim_step_d(opt, b, g);
	fresh = sg_optim_new(&o, 1, (int)sizeof(double), NULL);
	sg_optim_step_d(fresh, c, g);
	cr_assert(eq(dbl, b[0], c[0]));
	cr_assert(ne(dbl, a[0], c[0]));
	sg_optim_free(opt);
	sg_optim_free(fresh);
}

Test(optim, bad_real_size)
{
	sg_optim_opts o = sg_optim_defaults();
	sg_error err;

	cr_assert(eq(ptr, sg_optim_new(&o, 1, 2, &err), NULL));
	cr_assert(eq(str, err.msg, "unsupported real size 2"));
}
