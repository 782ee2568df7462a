/*
 * second.c: the functions beyond the gradient (Jacobian, Hessian) at one
 * point, and training with curvature: damped Newton on the Hessian.
 *
 * Newton minimizes the mean loss over the rows, f(p) = (1/n) sum_r loss_r,
 * with g and H the means of the rows' gradients and Hessians summed in row
 * order.  Each iteration solves (H + lambda I) step = -g by Cholesky and
 * takes the step when it lowers f; otherwise (H + lambda I not positive
 * definite, or f not lower) lambda grows (from 0 to 1e-6 (1 + max |H|), then
 * tenfold) and the iteration tries again; after a successful step it shrinks
 * tenfold (to 0 below 1e-12).
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

int sg_model_jvp(const sg_model *m, const double *p, const double *x, const double *dp,
		 const double *dx, double *loss, double *out, double *dout, double *dloss,
		 sg_error *err)
{
	size_t np = (size_t)m->n_params, ni = (size_t)m->n_inputs, no = (size_t)m->n_outputs;
	if (need(m, m->jvp_d != NULL, m->jvp_f != NULL, "forward mode", "gen --jvp", err) < 0)
		return -1;
	if (m->real_size == (int)sizeof(double)) {
		*loss = m->jvp_d(p, x, dp, dx, out, dout, dloss);
		return 0;
	}
	float *f = calloc(2 * (np + ni + no) + 1, sizeof *f), fl;
	if (!f)
		return sg_errorf(err, "out of memory");
	float *fx = f + np, *fdp = fx + ni, *fdx = fdp + np, *fo = fdx + ni, *fdo = fo + no;
	narrow(f, p, np);
	narrow(fx, x, ni);
	narrow(fdp, dp, np);
	narrow(fdx, dx, ni);
	*loss = (double)m->jvp_f(f, fx, fdp, fdx, fo, fdo, &fl);
	*dloss = (double)fl;
	widen(out, fo, no);
	widen(dout, fdo, no);
	free(f);
	return 0;
}

int sg_model_hvp(const sg_model *m, const double *p, const double *x, const double *v,
		 double *loss, double *grad, double *hv, sg_error *err)
{
	size_t np = (size_t)m->n_params, ni = (size_t)m->n_inputs;
	if (need(m, m->hvp_d != NULL, m->hvp_f != NULL, "Hessian-vector product", "gen --hvp",
		 err) < 0)
		return -1;
	if (m->real_size == (int)sizeof(double)) {
		*loss = m->hvp_d(p, x, v, grad, hv);
		return 0;
	}
	float *f = calloc(4 * np + ni + 1, sizeof *f);
	if (!f)
		return sg_errorf(err, "out of memory");
	float *fx = f + np, *fv = fx + ni, *fg = fv + np, *fh = fg + np;
	narrow(f, p, np);
	narrow(fx, x, ni);
	narrow(fv, v, np);
	*loss = (double)m->hvp_f(f, fx, fv, fg, fh);
	widen(grad, fg, np);
	widen(hv, fh, np);
	free(f);
	return 0;
}

int sg_model_vjp(const sg_model *m, const double *p, const double *x, double dloss,
		 const double *dout, double *loss, double *gp, double *gx, sg_error *err)
{
	size_t np = (size_t)m->n_params, ni = (size_t)m->n_inputs, no = (size_t)m->n_outputs;
	if (need(m, m->vjp_d != NULL, m->vjp_f != NULL, "reverse mode from any cotangent",
		 "gen --vjp", err) < 0)
		return -1;
	if (m->real_size == (int)sizeof(double)) {
		*loss = m->vjp_d(p, x, dloss, dout, gp, gx);
		return 0;
	}
	float *f = calloc(2 * (np + ni) + no + 1, sizeof *f);
	if (!f)
		return sg_errorf(err, "out of memory");
	float *fx = f + np, *fdo = fx + ni, *fgp = fdo + no, *fgx = fgp + np;
	narrow(f, p, np);
	narrow(fx, x, ni);
	narrow(fdo, dout, no);
	*loss = (double)m->vjp_f(f, fx, (float)dloss, fdo, fgp, fgx);
	widen(gp, fgp, np);
	widen(gx, fgx, ni);
	free(f);
	return 0;
}

/* ---- damped Newton ---- */

sg_newton_opts sg_newton_defaults(void)
{
	sg_newton_opts o = {100, 1e-10, 1e-12, 0};
	return o;
}

/* The data file's line of row r, for messages. */
static long line_of(const sg_data *d, size_t r)
{
	return d->line ? d->line[r] : (long)r + 1;
}

/* -1 with "FILE:LINE: what is not finite" when any of v[0..n) is not. */
static int finite_or_fail(const double *v, size_t n, const sg_data *d, size_t r, const char *what,
			  sg_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return sg_errorf(err, "%s:%ld: %s is not finite at this row (%g)", d->source,
					 line_of(d, r), what, v[i]);
	return 0;
}

/* The mean loss, gradient and (when hess) Hessian over d's rows, summed in
 * row order; -1 on a non-finite value (naming the row) or a bad model.
 * Without hess, only the loss and gradient are computed (trial steps); f
 * is scratch of 2 n_params + n_inputs floats for a float model. */
/* One row's loss and gradient through backward, which gives the same bits
 * as the Hessian function's (tests/gradcheck: hessian), without its work. */
static double row_loss(const sg_model *m, const double *p, const double *x, double *g1,
		       float *f)
{
	size_t np = (size_t)m->n_params, ni = (size_t)m->n_inputs;
	if (m->real_size == (int)sizeof(double))
		return m->backward_d(p, x, g1);
	narrow(f, p, np);
	narrow(f + np, x, ni);
	double l = (double)m->backward_f(f, f + np, f + np + ni);
	widen(g1, f + np + ni, np);
	return l;
}

static int mean_over_rows(const sg_model *m, const sg_data *d, const double *p, double *loss,
			  double *grad, double *hess, double *g1, double *h1, float *f,
			  sg_error *err)
{
	size_t np = (size_t)m->n_params, n = d->n_rows;
	*loss = 0;
	memset(grad, 0, np * sizeof *grad);
	if (hess)
		memset(hess, 0, np * np * sizeof *hess);
	for (size_t r = 0; r < n; r++) {
		double l;
		if (!hess) /* a trial step's loss: no Hessian needed */
			l = row_loss(m, p, sg_data_row(d, r), g1, f);
		else if (sg_model_hessian(m, p, sg_data_row(d, r), &l, g1, h1, err) < 0)
			return -1;
		if (finite_or_fail(&l, 1, d, r, "the loss", err) < 0 ||
		    finite_or_fail(g1, np, d, r, "the gradient", err) < 0 ||
		    (hess && finite_or_fail(h1, np * np, d, r, "the Hessian", err) < 0))
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
	float *f = calloc(2 * np + (size_t)m->n_inputs + 1, sizeof *f);
	if (!buf || !f) {
		free(buf);
		free(f);
		return sg_errorf(err, "out of memory");
	}
	double *g = buf, *step = g + np, *trial = step + np, *g1 = trial + np, *tg = g1 + np;
	double *minus_g = tg + np, *h = minus_g + np, *h1 = h + np * np;
	double *l = h1 + np * np;
	double loss, lambda = o->lambda, tl;
	int rc = -1;
	memset(rep, 0, sizeof *rep);
	if (mean_over_rows(m, d, p, &loss, g, h, g1, h1, f, err) < 0)
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
				sg_error ignored; /* a trial step may overflow: damp more */
				taken = mean_over_rows(m, d, trial, &tl, tg, NULL, g1, h1, f, &ignored) == 0 &&
					tl <= loss;
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
		if (mean_over_rows(m, d, p, &loss, g, h, g1, h1, f, err) < 0)
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
	free(f);
	return rc;
}

/* ---- Levenberg-Marquardt ---- */

sg_lm_opts sg_lm_defaults(void)
{
	sg_lm_opts o = {100, 1e-10, 1e-10, 1e-15, 1e-3};
	return o;
}

/* The residuals of every row at p, in row order, into r (n_rows *
 * n_residuals); RSS returned through *rss.  -1 on a non-finite residual. */
static int residuals(const sg_model *m, const sg_data *d, const double *p, double *r, double *out,
		     double *rss, sg_error *err)
{
	size_t k = (size_t)m->n_residuals;
	float *f = NULL;
	*rss = 0;
	if (m->real_size != (int)sizeof(double) &&
	    !(f = calloc((size_t)(m->n_params + m->n_inputs + m->n_outputs) + 1, sizeof *f)))
		return sg_errorf(err, "out of memory");
	for (size_t row = 0; row < d->n_rows; row++) {
		const double *x = sg_data_row(d, row);
		if (f) {
			narrow(f, p, (size_t)m->n_params);
			narrow(f + m->n_params, x, (size_t)m->n_inputs);
			m->predict_f(f, f + m->n_params, f + m->n_params + m->n_inputs);
			widen(out, f + m->n_params + m->n_inputs, (size_t)m->n_outputs);
		} else {
			m->predict_d(p, x, out);
		}
		for (size_t i = 0; i < k; i++) {
			double v = out[m->residual_first + (int)i];
			if (!isfinite(v)) {
				free(f);
				return sg_errorf(err, "%s:%ld: residual '%s' is not finite (%g)", d->source,
						 line_of(d, row),
						 m->output_names[m->residual_first + (int)i], v);
			}
			r[row * k + i] = v;
			*rss += v * v;
		}
	}
	free(f);
	return 0;
}

/* J^T J (a) and J^T r (b) over every row's residuals, in row order. */
static int normal_equations(const sg_model *m, const sg_data *d, const double *p, double *a,
			    double *b, double *rss, double *out, double *jp, double *jx, sg_error *err)
{
	size_t np = (size_t)m->n_params, k = (size_t)m->n_residuals;
	memset(a, 0, np * np * sizeof *a);
	memset(b, 0, np * sizeof *b);
	*rss = 0;
	for (size_t row = 0; row < d->n_rows; row++) {
		if (sg_model_jacobian(m, p, sg_data_row(d, row), out, jp, jx, err) < 0)
			return -1;
		for (size_t e = 0; e < k; e++)
			if (finite_or_fail(out + m->residual_first + e, 1, d, row,
					   m->output_names[m->residual_first + (int)e], err) < 0 ||
			    finite_or_fail(jp + ((size_t)m->residual_first + e) * np, np, d, row,
					   "the residual's Jacobian", err) < 0)
				return -1;
		for (size_t e = 0; e < k; e++) {
			size_t o = (size_t)m->residual_first + e;
			const double *j = jp + o * np;
			double r = out[o];
			*rss += r * r;
			for (size_t u = 0; u < np; u++) {
				b[u] += j[u] * r;
				for (size_t v = 0; v < np; v++)
					a[u * np + v] += j[u] * j[v];
			}
		}
	}
	return 0;
}

int sg_lm_fit(const sg_model *m, const sg_data *d, double *p, double *se, const sg_lm_opts *o,
	      sg_lm_report *rep, void (*on_iter)(void *ctx, const sg_lm_report *rep), void *ctx,
	      sg_error *err)
{
	size_t np = (size_t)m->n_params, ni = (size_t)m->n_inputs, no = (size_t)m->n_outputs;
	size_t k = (size_t)m->n_residuals, n = d->n_rows * k;
	if (need(m, m->jacobian_d != NULL, m->jacobian_f != NULL, "Jacobian", "gen --jacobian",
		 err) < 0)
		return -1;
	if (!k)
		return sg_errorf(err, "model '%s' names no residual ('residual r' with loss = "
				 "sum(r^2)): Levenberg-Marquardt fits least squares", m->name);
	if ((int)d->n_cols != m->n_inputs || d->n_rows == 0)
		return sg_errorf(err, "%s: no rows of %d inputs to fit", d->source, m->n_inputs);
	double *buf = calloc(6 * np + 3 * np * np + no * (1 + np + ni) + n + 1, sizeof *buf);
	if (!buf)
		return sg_errorf(err, "out of memory");
	double *b = buf, *step = b + np, *trial = step + np, *minus_b = trial + np;
	double *scaled = minus_b + np, *unit = scaled + np, *a = unit + np, *l = a + np * np;
	double *c = l + np * np, *out = c + np * np, *jp = out + no, *jx = jp + no * np;
	double *r = jx + no * ni;
	double rss, trss, lambda = o->lambda;
	int rc = -1;
	memset(rep, 0, sizeof *rep);
	if (normal_equations(m, d, p, a, b, &rss, out, jp, jx, err) < 0)
		goto out;
	rep->nfev = rep->njev = 1;
	rep->rss = rss;
	rep->grad_max = max_abs(b, np);
	rep->lambda = lambda;
	if (on_iter)
		on_iter(ctx, rep);
	for (;;) {
		if (!isfinite(rss) || !isfinite(rep->grad_max)) {
			rc = sg_errorf(err, "iteration %ld: the sum of squared residuals or J^T r "
				       "overflows", rep->iter);
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
			minus_b[i] = -b[i];
		bool taken = false;
		while (!taken && lambda <= 1e16) {
			/* Marquardt's scaling: J^T J + lambda diag(J^T J) */
			for (size_t i = 0; i < np; i++)
				scaled[i] = lambda * (a[i * np + i] > 0 ? a[i * np + i] : 1);
			memcpy(l, a, np * np * sizeof *l);
			for (size_t i = 0; i < np; i++)
				l[i * np + i] += scaled[i];
			if (cholesky_solve(l, 0, minus_b, step, c, np)) {
				for (size_t i = 0; i < np; i++)
					trial[i] = p[i] + step[i];
				if (residuals(m, d, trial, r, out, &trss, err) < 0)
					trss = HUGE_VAL;
				rep->nfev++;
				taken = trss < rss;
			}
			if (!taken)
				lambda *= 10;
		}
		if (!taken) {
			rep->stop = "no step lowers the sum of squares";
			break;
		}
		memcpy(p, trial, np * sizeof *p);
		rep->iter++;
		rep->step_max = max_abs(step, np);
		double drop = (rss - trss) / rss;
		lambda /= 10;
		if (normal_equations(m, d, p, a, b, &rss, out, jp, jx, err) < 0)
			goto out;
		rep->njev++;
		rep->rss = rss;
		rep->grad_max = max_abs(b, np);
		rep->lambda = lambda;
		if (on_iter)
			on_iter(ctx, rep);
		if (rep->step_max <= o->tol_step * (1 + max_abs(p, np))) {
			rep->stop = "step below tolerance";
			break;
		}
		if (drop <= o->tol_rss) {
			rep->stop = "sum of squares no longer decreasing";
			break;
		}
	}
	/* standard errors: sqrt(diag(sigma^2 (J^T J)^-1)), sigma^2 = RSS / (n - p) */
	rep->dof = (long)n - (long)np;
	for (size_t i = 0; se && i < np; i++) {
		memset(unit, 0, np * sizeof *unit);
		unit[i] = 1;
		if (rep->dof <= 0 || !cholesky_solve(a, 0, unit, step, c, np))
			se[i] = NAN;
		else
			se[i] = sqrt(rss / (double)rep->dof * step[i]);
	}
	rep->rss = rss;
	rc = 0;
out:
	free(buf);
	return rc;
}

/* ---- L-BFGS, torch.optim.LBFGS's algorithm without line search ---- */

sg_lbfgs_opts sg_lbfgs_defaults(void)
{
	sg_lbfgs_opts o = {1.0, 20, 25, 100, 1e-7, 1e-9};
	return o;
}

/* The mean loss and gradient over d's rows (the batch function: summed in
 * row order, then divided by the row count). */
static int closure(const sg_model *m, const sg_data *d, const double *p, double *loss, double *g,
		   float *f, sg_error *err)
{
	size_t np = (size_t)m->n_params, nx = d->n_rows * (size_t)m->n_inputs;
	if (m->real_size == (int)sizeof(double)) {
		*loss = m->backward_batch_d((int)d->n_rows, p, d->x, g);
	} else {
		narrow(f, p, np);
		narrow(f + 2 * np, d->x, nx);
		*loss = (double)m->backward_batch_f((int)d->n_rows, f, f + 2 * np, f + np);
		widen(g, f + np, np);
	}
	*loss /= (double)d->n_rows;
	for (size_t i = 0; i < np; i++)
		g[i] /= (double)d->n_rows;
	if (!isfinite(*loss))
		return sg_errorf(err, "%s: the mean loss is not finite (%g)", d->source, *loss);
	return finite_or_fail(g, np, d, 0, "the gradient", err) < 0 ? -1 : 0;
}

static double dot(const double *a, const double *b, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

int sg_lbfgs_fit(const sg_model *m, const sg_data *d, double *p, const sg_lbfgs_opts *o,
		 long steps, void (*on_step)(void *ctx, long step, double loss), void *ctx,
		 sg_error *err)
{
	size_t np = (size_t)m->n_params, h = (size_t)(o->history > 0 ? o->history : 1);
	if (need(m, m->backward_batch_d != NULL, m->backward_batch_f != NULL, "batch gradient",
		 "the c template", err) < 0)
		return -1;
	if ((int)d->n_cols != m->n_inputs || d->n_rows == 0)
		return sg_errorf(err, "%s: no rows of %d inputs to fit", d->source, m->n_inputs);
	if (d->n_rows > 0x7fffffff)
		return sg_errorf(err, "%s: more rows than the batch function takes", d->source);
	size_t nf = m->real_size == (int)sizeof(double) ? 0 : 2 * np + d->n_rows * (size_t)m->n_inputs;
	double *buf = calloc(6 * np + 2 * h * np + 2 * h + 1, sizeof *buf);
	float *f = nf ? calloc(nf + 1, sizeof *f) : NULL;
	if (!buf || (nf && !f)) {
		free(buf);
		free(f);
		return sg_errorf(err, "out of memory");
	}
	double *g = buf, *prev_g = g + np, *dir = prev_g + np, *q = dir + np, *y = q + np;
	double *s = y + np, *dirs = s + np, *stps = dirs + h * np, *ro = stps + h * np, *al = ro + h;
	double t = 0, h_diag = 1, loss, prev_loss;
	long n_total = 0;
	size_t n_old = 0;
	int rc = -1;
	for (long step = 0; step < steps; step++) {
		if (closure(m, d, p, &loss, g, f, err) < 0)
			goto out;
		double orig = loss;
		long evals = 1;
		if (on_step)
			on_step(ctx, step, orig);
		if (max_abs(g, np) <= o->tol_grad)
			continue;
		for (long it = 1; it <= o->max_iter; it++) {
			n_total++;
			if (n_total == 1) {
				for (size_t i = 0; i < np; i++)
					dir[i] = -g[i];
				n_old = 0;
				h_diag = 1;
			} else {
				for (size_t i = 0; i < np; i++) {
					y[i] = g[i] - prev_g[i];
					s[i] = dir[i] * t;
				}
				double ys = dot(y, s, np);
				if (ys > 1e-10) {
					if (n_old == h) { /* forget the oldest pair */
						memmove(dirs, dirs + np, (h - 1) * np * sizeof *dirs);
						memmove(stps, stps + np, (h - 1) * np * sizeof *stps);
						memmove(ro, ro + 1, (h - 1) * sizeof *ro);
						n_old--;
					}
					memcpy(dirs + n_old * np, y, np * sizeof *y);
					memcpy(stps + n_old * np, s, np * sizeof *s);
					ro[n_old++] = 1.0 / ys;
					h_diag = ys / dot(y, y, np);
				}
				/* the two-loop recursion */
				for (size_t i = 0; i < np; i++)
					q[i] = -g[i];
				for (size_t k = n_old; k-- > 0;) {
					al[k] = dot(stps + k * np, q, np) * ro[k];
					for (size_t i = 0; i < np; i++)
						q[i] += dirs[k * np + i] * -al[k];
				}
				for (size_t i = 0; i < np; i++)
					dir[i] = q[i] * h_diag;
				for (size_t k = 0; k < n_old; k++) {
					double be = dot(dirs + k * np, dir, np) * ro[k];
					for (size_t i = 0; i < np; i++)
						dir[i] += stps[k * np + i] * (al[k] - be);
				}
			}
			memcpy(prev_g, g, np * sizeof *g);
			prev_loss = loss;
			if (n_total == 1) {
				double l1 = 0;
				for (size_t i = 0; i < np; i++)
					l1 += fabs(g[i]);
				t = (1.0 / l1 < 1.0 ? 1.0 / l1 : 1.0) * o->lr;
			} else {
				t = o->lr;
			}
			if (dot(g, dir, np) > -o->tol_change)
				break;
			for (size_t i = 0; i < np; i++)
				p[i] += dir[i] * t;
			bool opt = false;
			if (it != o->max_iter) {
				if (closure(m, d, p, &loss, g, f, err) < 0)
					goto out;
				opt = max_abs(g, np) <= o->tol_grad;
				evals++;
			}
			if (it == o->max_iter || evals >= o->max_eval || opt)
				break;
			double moved = 0;
			for (size_t i = 0; i < np; i++)
				moved = fabs(dir[i] * t) > moved ? fabs(dir[i] * t) : moved;
			if (moved <= o->tol_change || fabs(loss - prev_loss) < o->tol_change)
				break;
		}
	}
	rc = 0;
out:
	free(buf);
	free(f);
	return rc;
}

int sg_model_eval_mean(const sg_model *m, const sg_data *d, const double *p, double *loss,
		       double *grad, sg_error *err)
{
	size_t np = (size_t)m->n_params;
	size_t nf = m->real_size == (int)sizeof(double) ? 0 : 2 * np + d->n_rows * (size_t)m->n_inputs;
	float *f = nf ? calloc(nf + 1, sizeof *f) : NULL;
	if (need(m, m->backward_batch_d != NULL, m->backward_batch_f != NULL, "batch gradient",
		 "the c template", err) < 0)
		return free(f), -1;
	if (nf && !f)
		return sg_errorf(err, "out of memory");
	int rc = closure(m, d, p, loss, grad, f, err);
	free(f);
	return rc;
}
