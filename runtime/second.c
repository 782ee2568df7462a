/*
 * second.c: the functions beyond the gradient (Jacobian, Hessian) at one
 * point, and training with curvature: damped Newton on the Hessian.
 *
 * Newton minimizes the mean loss over the rows, f(p) = (1/n) sum_r loss_r,
 * with g and H the means of the rows' gradients and Hessians summed in row
 * order.  Each iteration solves (H + lambda I) step = -g by Cholesky and
 * takes the step when it lowers f; otherwise (H + lambda I not positive
 * definite, or f not lower) lambda grows tenfold and the iteration tries
 * again, and after a successful step it shrinks tenfold (to 0 below 1e-12).
 * Stops when max |g| <= tol_grad, when max |step| <= tol_step (1 +
 * max |p|), after max_iter iterations, or when lambda exceeds 1e12 (no
 * step lowers f).  A quadratic loss with positive definite H reaches its
 * minimum in one step.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "symgrad.h"

/* The model's values in double, or in float widened: buf holds the float
 * copies.  Copies n doubles into floats. */
static void narrow(float *f, const double *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		f[i] = (float)d[i];
}

static void widen(double *d, const float *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		d[i] = (double)f[i];
}

static int need(const sg_model *m, bool has_d, bool has_f, const char *what, const char *flag,
		sg_error *err)
{
	if (m->abi != SG_MODEL_ABI)
		return sg_errorf(err, "model '%s' has ABI %d, runtime has %d", m->name, m->abi,
				 SG_MODEL_ABI);
	if (m->real_size == (int)sizeof(double) ? has_d : has_f)
		return 0;
	return sg_errorf(err, "model '%s' has no %s (generate it with %s)", m->name, what, flag);
}

int sg_model_jacobian(const sg_model *m, const double *p, const double *x, double *out,
		      double *jp, double *jx, sg_error *err)
{
	size_t np = (size_t)m->n_params, ni = (size_t)m->n_inputs, no = (size_t)m->n_outputs;
	if (need(m, m->jacobian_d != NULL, m->jacobian_f != NULL, "Jacobian",
		 "gen --jacobian", err) < 0)
		return -1;
	if (m->real_size == (int)sizeof(double)) {
		m->jacobian_d(p, x, out, jp, jx);
		return 0;
	}
	float *f = calloc(np + ni + no + no * (np + ni) + 1, sizeof *f);
	if (!f)
		return sg_errorf(err, "out of memory");
	float *fx = f + np, *fo = fx + ni, *fjp = fo + no, *fjx = fjp + no * np;
	narrow(f, p, np);
	narrow(fx, x, ni);
	m->jacobian_f(f, fx, fo, fjp, fjx);
	widen(out, fo, no);
	widen(jp, fjp, no * np);
	widen(jx, fjx, no * ni);
	free(f);
	return 0;
}

int sg_model_hessian(const sg_model *m, const double *p, const double *x, double *loss,
		     double *grad, double *hess, sg_error *err)
{
	size_t np = (size_t)m->n_params, ni = (size_t)m->n_inputs;
	if (need(m, m->hessian_d != NULL, m->hessian_f != NULL, "Hessian",
		 "gen --hessian", err) < 0)
		return -1;
	if (m->real_size == (int)sizeof(double)) {
		*loss = m->hessian_d(p, x, grad, hess);
		return 0;
	}
	float *f = calloc(np + ni + np + np * np + 1, sizeof *f);
	if (!f)
		return sg_errorf(err, "out of memory");
	float *fx = f + np, *fg = fx + ni, *fh = fg + np;
	narrow(f, p, np);
	narrow(fx, x, ni);
	*loss = (double)m->hessian_f(f, fx, fg, fh);
	widen(grad, fg, np);
	widen(hess, fh, np * np);
	free(f);
	return 0;
}

/* ---- damped Newton ---- */

sg_newton_opts sg_newton_defaults(void)
{
	sg_newton_opts o = {100, 1e-10, 1e-12, 0};
	return o;
}

/* The mean loss, gradient and (when hess) Hessian over d's rows, summed in
 * row order; -1 on a non-finite value or a bad model. */
static int mean_over_rows(const sg_model *m, const sg_data *d, const double *p, double *loss,
			  double *grad, double *hess, double *g1, double *h1, sg_error *err)
{
	size_t np = (size_t)m->n_params, n = d->n_rows;
	*loss = 0;
	memset(grad, 0, np * sizeof *grad);
	if (hess)
		memset(hess, 0, np * np * sizeof *hess);
	for (size_t r = 0; r < n; r++) {
		double l;
		if (sg_model_hessian(m, p, sg_data_row(d, r), &l, g1, h1, err) < 0)
			return -1;
		*loss += l;
		for (size_t i = 0; i < np; i++)
			grad[i] += g1[i];
		for (size_t i = 0; hess && i < np * np; i++)
			hess[i] += h1[i];
	}
	*loss /= (double)n;
	for (size_t i = 0; i < np; i++)
		grad[i] /= (double)n;
	for (size_t i = 0; hess && i < np * np; i++)
		hess[i] /= (double)n;
	return 0;
}

/* Solves (H + lambda I) x = b by Cholesky into x; false when H + lambda I
 * is not (numerically) positive definite.  l is n*n scratch. */
static bool cholesky_solve(const double *h, double lambda, const double *b, double *x,
			   double *l, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		for (size_t i = j; i < n; i++) {
			double s = h[i * n + j] + (i == j ? lambda : 0);
			for (size_t k = 0; k < j; k++)
				s -= l[i * n + k] * l[j * n + k];
			if (i == j) {
				if (!(s > 0) || !isfinite(s))
					return false;
				l[j * n + j] = sqrt(s);
			} else {
				l[i * n + j] = s / l[j * n + j];
			}
		}
	}
	for (size_t i = 0; i < n; i++) { /* L y = b */
		double s = b[i];
		for (size_t k = 0; k < i; k++)
			s -= l[i * n + k] * x[k];
		x[i] = s / l[i * n + i];
	}
	for (size_t i = n; i-- > 0;) { /* L^T x = y */
		double s = x[i];
		for (size_t k = i + 1; k < n; k++)
			s -= l[k * n + i] * x[k];
		x[i] = s / l[i * n + i];
	}
	return true;
}

static double max_abs(const double *v, size_t n)
{
	double m = 0;
	for (size_t i = 0; i < n; i++)
		m = fabs(v[i]) > m ? fabs(v[i]) : m;
	return m;
}

int sg_newton_fit(const sg_model *m, const sg_data *d, double *p, const sg_newton_opts *o,
		  sg_newton_report *rep, void (*on_iter)(void *ctx, const sg_newton_report *rep),
		  void *ctx, sg_error *err)
{
	size_t np = (size_t)m->n_params;
	if (need(m, m->hessian_d != NULL, m->hessian_f != NULL, "Hessian",
		 "gen --hessian", err) < 0)
		return -1;
	if ((int)d->n_cols != m->n_inputs || d->n_rows == 0)
		return sg_errorf(err, "%s: no rows of %d inputs to fit", d->source, m->n_inputs);
	double *buf = calloc(6 * np + 3 * np * np + 1, sizeof *buf);
	if (!buf)
		return sg_errorf(err, "out of memory");
	double *g = buf, *step = g + np, *trial = step + np, *g1 = trial + np, *tg = g1 + np;
	double *minus_g = tg + np, *h = minus_g + np, *h1 = h + np * np;
	double *l = h1 + np * np;
	double loss, lambda = o->lambda, tl;
	int rc = -1;
	memset(rep, 0, sizeof *rep);
	if (mean_over_rows(m, d, p, &loss, g, h, g1, h1, err) < 0)
		goto out;
	rep->loss = loss;
	rep->grad_max = max_abs(g, np);
	if (on_iter)
		on_iter(ctx, rep);
	for (;;) {
		if (!isfinite(loss) || !isfinite(rep->grad_max)) {
			rc = sg_errorf(err, "iteration %ld: the loss or its gradient is not finite",
				       rep->iter);
			goto out;
		}
		if (rep->grad_max <= o->tol_grad) {
			rep->stop = "gradient below tolerance";
			break;
		}
		if (rep->iter >= o->max_iter) {
			rep->stop = "iterations done";
			break;
		}
		for (size_t i = 0; i < np; i++)
			minus_g[i] = -g[i];
		bool taken = false;
		while (!taken && lambda <= 1e12) {
			if (cholesky_solve(h, lambda, minus_g, step, l, np)) {
				for (size_t i = 0; i < np; i++)
					trial[i] = p[i] + step[i];
				if (mean_over_rows(m, d, trial, &tl, tg, NULL, g1, h1, err) < 0)
					goto out;
				taken = tl <= loss;
			}
			if (!taken)
				lambda = lambda > 0 ? lambda * 10 : 1e-6 * (1 + max_abs(h, np * np));
		}
		if (!taken) {
			rep->stop = "no step lowers the loss";
			break;
		}
		memcpy(p, trial, np * sizeof *p);
		rep->iter++;
		rep->step_max = max_abs(step, np);
		rep->lambda = lambda;
		lambda = lambda > 1e-12 ? lambda / 10 : 0;
		if (mean_over_rows(m, d, p, &loss, g, h, g1, h1, err) < 0)
			goto out;
		rep->loss = loss;
		rep->grad_max = max_abs(g, np);
		if (on_iter)
			on_iter(ctx, rep);
		if (rep->step_max <= o->tol_step * (1 + max_abs(p, np))) {
			rep->stop = "step below tolerance";
			break;
		}
	}
	rc = 0;
out:
	free(buf);
	return rc;
}
