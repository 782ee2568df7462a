/*
 * init_test.c: the initializers of `param ... ~ dist`.  Their distributions
 * are checked over many draws (bounds, mean, variance, each within a margin
 * far wider than chance: 5 standard errors), and the exact values for the
 * default seed are pinned, so a wrong bound (1/fan_in for 1/sqrt(fan_in)), an
 * ignored argument or a changed stream fails.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <math.h>
#include <string.h>

#include "helpers.h"

enum { N = 40000 };

typedef struct Stats {
	double min, max, mean, var;
} Stats;

/* The initial values of the N elements of param "p" in a model whose param
 * line is decl. */
static Stats stats_of(const char *decl)
{
	char text[256];
	snprintf(text, sizeof text, "input x\nparam %s\nloss = sum(p) * x\n", decl);
	Unit *u = unit_ok(text);
	const Model *m = u->c.model;
	cr_assert(eq(int, m->n_params, N));
	Stats s = {INFINITY, -INFINITY, 0, 0};
	for (int i = 0; i < N; i++) {
		double v = m->params[i]->init;
		s.min = fmin(s.min, v);
		s.max = fmax(s.max, v);
		s.mean += v;
	}
	s.mean /= N;
	for (int i = 0; i < N; i++) {
		double d = m->params[i]->init - s.mean;
		s.var += d * d;
	}
	s.var /= N - 1;
	return s;
}

/* Uniform on [lo, hi): inside, reaching near both ends, mean and variance
 * within 5 standard errors. */
static void expect_uniform(const char *decl, double lo, double hi)
{
	Stats s = stats_of(decl);
	double w = hi - lo, var = w * w / 12;
	cr_assert(ge(dbl, s.min, lo), "%s: min %g", decl, s.min);
	cr_assert(lt(dbl, s.max, hi), "%s: max %g", decl, s.max);
	cr_assert(lt(dbl, s.min, lo + w * 1e-3), "%s: min %g not near %g", decl, s.min, lo);
	cr_assert(gt(dbl, s.max, hi - w * 1e-3), "%s: max %g not near %g", decl, s.max, hi);
	cr_assert(lt(dbl, fabs(s.mean - (lo + hi) / 2), 5 * sqrt(var / N)), "%s: mean %g", decl,
		  s.mean);
	/* the variance of a sample variance of a uniform: var^2 * 0.8 / N */
	cr_assert(lt(dbl, fabs(s.var - var), 5 * var * sqrt(0.8 / N)), "%s: variance %g, not %g",
		  decl, s.var, var);
}

Test(init, uniform)
{
	expect_uniform("p[40000] ~ uniform(-1, 3)", -1, 3);
}

/* nn.Linear's default: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in
 * the matrix's columns, or the argument for a bias. */
Test(init, linear_bound_is_one_over_sqrt_fan_in)
{
	expect_uniform("p[100, 400] ~ linear", -0.05, 0.05);
	expect_uniform("p[40000] ~ linear(16)", -0.25, 0.25);
}

Test(init, normal_mean_and_std)
{
	Stats s = stats_of("p[40000] ~ normal(2, 3)");
	cr_assert(lt(dbl, fabs(s.mean - 2), 5 * 3 / sqrt(N)), "mean %g", s.mean);
	/* the sample variance of a normal has standard error var * sqrt(2/N) */
	cr_assert(lt(dbl, fabs(s.var - 9), 5 * 9 * sqrt(2.0 / N)), "variance %g", s.var);
	cr_assert(lt(dbl, s.min, 2 - 3 * 3.5), "no tail below: min %g", s.min);
	cr_assert(gt(dbl, s.max, 2 + 3 * 3.5), "no tail above: max %g", s.max);
}

/* The stream is part of the interface (a seed reproduces a model): the
 * first values for the default seed, exactly. */
Test(init, exact_values_for_the_default_seed)
{
	Unit *u = unit_ok("input x\nparam a[3] ~ uniform(0, 1), b[2] ~ normal(0, 1)\n"
			  "param W[2, 4] ~ linear\nloss = (sum(a) + sum(b) + sum(W)) * x\n");
	const Model *m = u->c.model;
	static const double want[] = {
#include "init_values.inc"
	};
	cr_assert(eq(int, m->n_params, 13));
	for (int i = 0; i < 13; i++)
		cr_assert(eq(dbl, m->params[i]->init, want[i]), "%s = %a, expected %a",
			  m->params[i]->name, m->params[i]->init, want[i]);
}
