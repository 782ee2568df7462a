/*
 * test_optim.c: the optimizers against numbers PyTorch computed
 * (data/optim_ref.h, made by data/gen_optim_ref.py with Debian's
 * python3-torch): 10 parameters, 25 steps of fixed gradients, in float64
 * and float32.  Every value must be bit-identical.  Also weight decay
 * and the learning-rate schedules (lr per epoch from PyTorch's
 * schedulers).
 */
#include <math.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "symgrad.h"
#include "data/optim_ref.h"

/* Set by tests that expect differences: Criterion fails a test run
 * that logged an error, so those are not logged. */
static int expect_diffs;

/* Runs kind on the reference gradients and compares each step with ref;
 * float models when is_float.  Returns the number of differing values. */
static int run_wd(sg_optim_kind kind, double wd, const double (*ref)[OPT_N],
		  int is_float, int max_ulp)
{
	sg_optim_opts o = sg_optim_defaults();
	sg_optim *opt;
	double pd[OPT_N], gd[OPT_N];
	float pf[OPT_N], gf[OPT_N];
	int t, i, bad = 0;

	o.kind = kind;
	o.weight_decay = wd;
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
			if (fabs(got - ref[t][i]) > tol && bad++ < 5 && !expect_diffs)
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

/* The same without weight decay. */
static int run(sg_optim_kind kind, const double (*ref)[OPT_N], int is_float,
	       int max_ulp)
{
	return run_wd(kind, 0, ref, is_float, max_ulp);
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

/* Weight decay with PyTorch's definitions (weight_decay=0.1; AdamW also
 * at its default 0.01): momentum, Adam and AdamW bit for bit; plain SGD
 * within a few ulp, as without decay. */
Test(optim, momentum_weight_decay)
{
	cr_assert(zero(int, run_wd(SG_OPTIM_MOMENTUM, 0.1, opt_momentum_wd_d, 0, 0)));
	cr_assert(zero(int, run_wd(SG_OPTIM_MOMENTUM, 0.1, opt_momentum_wd_f, 1, 0)));
}

Test(optim, adam_weight_decay_is_l2)
{
	cr_assert(zero(int, run_wd(SG_OPTIM_ADAM, 0.1, opt_adam_wd_d, 0, 0)));
	cr_assert(zero(int, run_wd(SG_OPTIM_ADAM, 0.1, opt_adam_wd_f, 1, 0)));
}

Test(optim, adamw_decoupled_decay)
{
	cr_assert(zero(int, run_wd(SG_OPTIM_ADAMW, 0.1, opt_adamw_wd_d, 0, 0)));
	cr_assert(zero(int, run_wd(SG_OPTIM_ADAMW, 0.1, opt_adamw_wd_f, 1, 0)));
	cr_assert(zero(int, run_wd(SG_OPTIM_ADAMW, 0.01, opt_adamw_d, 0, 0)));
	cr_assert(zero(int, run_wd(SG_OPTIM_ADAMW, 0.01, opt_adamw_f, 1, 0)));
}

Test(optim, sgd_weight_decay_close_to_torch)
{
	cr_assert(zero(int, run_wd(SG_OPTIM_SGD, 0.1, opt_torch_sgd_wd_d, 0, 4)));
	cr_assert(zero(int, run_wd(SG_OPTIM_SGD, 0.1, opt_torch_sgd_wd_f, 1, 4)));
}

/* Decay changes the result (the references above would catch a decay
 * that is ignored only if they differ from the plain runs). */
Test(optim, weight_decay_is_not_ignored)
{
	expect_diffs = 1;
	cr_assert(ne(int, run(SG_OPTIM_ADAM, opt_adam_wd_d, 0, 0), 0));
	cr_assert(ne(int, run_wd(SG_OPTIM_ADAM, 0.1, opt_adamw_wd_d, 0, 0), 0));
}

/* Runs schedule s from base lr 0.1 for SCHED_EPOCHS epochs against the
 * learning rates PyTorch's scheduler gave; the number that differ. */
static int run_sched(const char *spec, const double *ref)
{
	sg_lr_sched s;
	double lr = 0.1;
	int e, bad = 0;

	cr_assert(eq(int, sg_lr_sched_parse(spec, &s, NULL), 0), "%s", spec);
	for (e = 0; e < SCHED_EPOCHS; e++) {
		if (e > 0)
			lr = sg_lr_sched_next(&s, 0.1, lr, e);
		if (lr != ref[e] && bad++ < 5 && !expect_diffs)
			cr_log_error("%s epoch %d: %a, PyTorch %a", spec, e, lr, ref[e]);
	}
	return bad;
}

Test(optim, schedules_bit_identical_to_pytorch)
{
	cr_assert(zero(int, run_sched("step:3:0.5", sched_step_3_0_5)));
	cr_assert(zero(int, run_sched("exp:0.9", sched_exp_0_9)));
	cr_assert(zero(int, run_sched("cosine:10:0.001", sched_cosine_10_0_001)));
	cr_assert(zero(int, run_sched("cosine:7", sched_cosine_7)));
}

Test(optim, schedule_eta_min_is_not_ignored)
{
	expect_diffs = 1;
	cr_assert(ne(int, run_sched("cosine:7:0.001", sched_cosine_7), 0));
}

/* By hand from PyTorch's documented closed forms. */
Test(optim, schedules_by_hand)
{
	sg_lr_sched s;

	sg_lr_sched_parse("step:2:0.1", &s, NULL);
	cr_assert(eq(dbl, sg_lr_sched_next(&s, 1, 1, 1), 1));
	cr_assert(ieee_ulp_eq(dbl, sg_lr_sched_next(&s, 1, 1, 2), 0.1, 0));
	sg_lr_sched_parse("cosine:4", &s, NULL);
	/* eta_t = (1 + cos(pi t / T)) / 2 at t = 2: 0.5 */
	cr_assert(epsilon_eq(dbl, sg_lr_sched_next(&s, 1, 0.5 * (1 + cos(3.141592653589793 / 4)), 2),
			     0.5, 1e-15));
}

Test(optim, schedule_parse_errors)
{
	static const char *const bad[] = {"step", "step:0:0.5", "step:2", "step:2.5:0.5",
					  "step:2:0", "exp:-1", "exp:0.9:1", "cosine:0",
					  "cosine:5:-1", "cosine:x", "linear:3", ""};
	sg_lr_sched s;
	sg_error err;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		cr_assert(eq(int, sg_lr_sched_parse(bad[i], &s, &err), -1), "%s", bad[i]);
	sg_lr_sched_parse("linear:3", &s, &err);
	cr_assert(eq(str, err.msg, "unknown schedule 'linear:3' (step:STEP_SIZE:GAMMA, "
		     "exp:GAMMA, cosine:T_MAX[:ETA_MIN])"));
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
	cr_assert(eq(dbl, o.weight_decay, 0));
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
	cr_assert(eq(int, sg_optim_parse_kind("adamw", &k), 0));
	cr_assert(eq(int, k, SG_OPTIM_ADAMW));
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
