/*
 * Finite-difference check of the vector and matrix operations and of the
 * course's models: backward's gradient against central differences of
 * forward, at 20 random points per model, through each model's descriptor.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <math.h>
#include <stdlib.h>

#include "sg_model.h"

extern const sg_model allops_model, diabetes_model, digits_model, logistic_model,
	linreg_model;

static double urand(unsigned long long *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (double)(*s >> 11) * 0x1p-53;
}

/* Inputs: class-like inputs (named label or c) get whole numbers 0..k-1. */
static void random_point(const sg_model *m, unsigned long long *seed, double *p, double *in)
{
	for (int i = 0; i < m->n_params; i++)
		p[i] = m->param_init[i] + 0.2 * (urand(seed) - 0.5);
	for (int i = 0; i < m->n_inputs; i++) {
		const char *name = m->input_names[i];
		if (!strcmp(name, "label") || !strcmp(name, "c"))
			in[i] = floor(urand(seed) * 3);
		else if (!strcmp(name, "y"))
			in[i] = urand(seed) > 0.5;
		else
			in[i] = urand(seed) * 2 - 0.5;
	}
}

static void check_model(const sg_model *m)
{
	double *p = malloc(sizeof(double) * (size_t)m->n_params);
	double *g = malloc(sizeof(double) * (size_t)m->n_params);
	double *in = malloc(sizeof(double) * (size_t)m->n_inputs);
	unsigned long long seed = 42;
	for (int t = 0; t < 20; t++) {
		random_point(m, &seed, p, in);
		double loss = m->backward_d(p, in, g);
		cr_assert(eq(dbl, loss, m->forward_d(p, in, NULL)), "%s: backward's loss", m->name);
		for (int i = 0; i < m->n_params; i++) {
			double h = 1e-6 * fmax(1, fabs(p[i])), keep = p[i];
			p[i] = keep + h;
			double up = m->forward_d(p, in, NULL);
			p[i] = keep - h;
			double down = m->forward_d(p, in, NULL);
			p[i] = keep;
			double fd = (up - down) / (2 * h);
			double err = fabs(fd - g[i]) / fmax(1e-3, fmax(fabs(fd), fabs(g[i])));
			cr_assert(le(dbl, err, 1e-5), "%s: d/d%s at point %d: backward %.17g, "
				  "finite difference %.17g", m->name, m->param_names[i], t, g[i], fd);
		}
	}
	free(p), free(g), free(in);
}

Test(tensor, all_operations) { check_model(&allops_model); }
Test(tensor, lecture05_linear) { check_model(&linreg_model); }
Test(tensor, lecture06_logistic) { check_model(&logistic_model); }
Test(tensor, lecture07_diabetes) { check_model(&diabetes_model); }
Test(tensor, lecture09_softmax, .timeout = 60) { check_model(&digits_model); }

/* The batched gradient is the per-sample gradients summed in row order. */
Test(tensor, batch_equals_sum_of_rows)
{
	const sg_model *m = &diabetes_model;
	enum { ROWS = 17 };
	double in[ROWS * 9], g[87], sum[87] = {0}, row[87], loss = 0;
	unsigned long long seed = 7;
	double p[87];
	for (int r = 0; r < ROWS; r++)
		random_point(m, &seed, p, in + r * 9);
	for (int r = 0; r < ROWS; r++) {
		loss += m->backward_d(m->param_init, in + r * 9, row);
		for (int k = 0; k < 87; k++)
			sum[k] += row[k];
	}
	cr_assert(eq(dbl, m->backward_batch_d(ROWS, m->param_init, in, g), loss));
	for (int k = 0; k < 87; k++)
		cr_assert(eq(dbl, g[k], sum[k]), "grad %d", k);
}
