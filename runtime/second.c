/*
 * second.c: the functions beyond the gradient (Jacobian, Hessian) at one
 * point, and training with curvature: damped Newton on the Hessian.
 *
 * Newton minimizes the mean loss over the rows, f(p) = (1/n) sum_r loss_r,
 * with g and H the means of the rows' gradients and Hessians.  Each iteration solves (H + lambda I) step = -g by Cholesky and
 * takes the step when it lowers f; otherwise (H + lambda I not positive
 * definite, or f not lower) lambda grows (from 0 to 1e-6 (1 + max |H|), then
 * tenfold) and the iteration tries again; after a successful step it shrinks
 * tenfold (to 0 below 1e-12).
 * Stops when max |g| <= tol_grad, when max |step| <= tol_step (1 +
 * max |p|), after max_iter iterations, or when lambda exceeds 1e12 (no
 * step lowers f).  A quadratic loss with positive definite H reaches its
 * minimum in one step.
 *
 * The sums over the rows (Newton's loss, gradient and Hessian, and
 * Levenberg-Marquardt's J^T J, J^T r and sum of squares) are in one order,
 * sg_dist_sum's: blocks of SG_BLOCK_ROWS rows, each summed from zero in
 * row order, the block sums folded left in block order; L-BFGS's mean loss
 * and gradient are sg_batch_grad's, the same order through the batch
 * function.  With opts.comm, the blocks are split across processes with
 * the bits of one (dist_sum.c, dist.c).  A table of at most SG_BLOCK_ROWS
 * rows is one block: the plain sum in row order.
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

/* The Jacobian at p, x with no allocation: f is scratch of np + ni + no +
 * no (np + ni) floats for a float model (unused for a double one). */
static void jacobian_into(const sg_model *m, const double *p, const double *x, double *out,
			  double *jp, double *jx, float *f)
{
	size_t np = (size_t)m->n_params, ni = (size_t)m->n_inputs, no = (size_t)m->n_outputs;
	if (m->real_size == (int)sizeof(double)) {
		m->jacobian_d(p, x, out, jp, jx);
		return;
	}
	float *fx = f + np, *fo = fx + ni, *fjp = fo + no, *fjx = fjp + no * np;
	narrow(f, p, np);
	narrow(fx, x, ni);
	m->jacobian_f(f, fx, fo, fjp, fjx);
	widen(out, fo, no);
	widen(jp, fjp, no * np);
	widen(jx, fjx, no * ni);
}

/* Floats of jacobian_into's scratch. */
static size_t jacobian_scratch(const sg_model *m)
{
	size_t np = (size_t)m->n_params, ni = (size_t)m->n_inputs, no = (size_t)m->n_outputs;
	return np + ni + no + no * (np + ni) + 1;
}

int sg_model_jacobian(const sg_model *m, const double *p, const double *x, double *out,
		      double *jp, double *jx, sg_error *err)
{
	float *f = NULL;
	if (need(m, m->jacobian_d != NULL, m->jacobian_f != NULL, "Jacobian",
		 "gen --jacobian", err) < 0)
		return -1;
	if (m->real_size != (int)sizeof(double) &&
	    !(f = calloc(jacobian_scratch(m), sizeof *f)))
		return sg_errorf(err, "out of memory");
	jacobian_into(m, p, x, out, jp, jx, f);
	free(f);
	return 0;
}

/* The loss, gradient and Hessian at p, x with no allocation: f is scratch
 * of 2 np + ni + np^2 floats for a float model. */
static double hessian_into(const sg_model *m, const double *p, const double *x, double *grad,
			   double *hess, float *f)
{
	size_t np = (size_t)m->n_params, ni = (size_t)m->n_inputs;
	if (m->real_size == (int)sizeof(double))
		return m->hessian_d(p, x, grad, hess);
	float *fx = f + np, *fg = fx + ni, *fh = fg + np;
	narrow(f, p, np);
	narrow(fx, x, ni);
	double loss = (double)m->hessian_f(f, fx, fg, fh);
	widen(grad, fg, np);
	widen(hess, fh, np * np);
	return loss;
}

int sg_model_hessian(const sg_model *m, const double *p, const double *x, double *loss,
		     double *grad, double *hess, sg_error *err)
{
	size_t np = (size_t)m->n_params, ni = (size_t)m->n_inputs;
	float *f = NULL;
	if (need(m, m->hessian_d != NULL, m->hessian_f != NULL, "Hessian",
		 "gen --hessian", err) < 0)
		return -1;
	if (m->real_size != (int)sizeof(double) &&
	    !(f = calloc(np + ni + np + np * np + 1, sizeof *f)))
		return sg_errorf(err, "out of memory");
	*loss = hessian_into(m, p, x, grad, hess, f);
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
	sg_newton_opts o = {100, 1e-10, 1e-12, 0, NULL};
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

/* One row's loss and gradient through backward, which gives the same bits
 * as the Hessian function's (tests/gradcheck: hessian), without its work;
 * f is scratch of 2 n_params + n_inputs floats for a float model. */
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

/* What Newton sums over the rows at p: the loss, the gradient and, with
 * hess, the Hessian (sg_rows_fn's vector: loss, then grad, then hess). */
typedef struct newton_rows {
	const sg_model *m;
	const sg_data *d;
	const double *p;
	bool hess;
	double *g1, *h1; /* one row's */
	float *f;        /* scratch of 2 np + ni + np^2 floats */
	sg_error *err;   /* why a row is refused */
} newton_rows;

static int newton_row_sums(void *ctx, size_t r0, size_t r1, double *sum, size_t *bad)
{
	const newton_rows *w = ctx;
	size_t np = (size_t)w->m->n_params;
	for (size_t r = r0; r < r1; r++) {
		const double *x = sg_data_row(w->d, r);
		double l = w->hess ? hessian_into(w->m, w->p, x, w->g1, w->h1, w->f)
				   : row_loss(w->m, w->p, x, w->g1, w->f);
		if (finite_or_fail(&l, 1, w->d, r, "the loss", w->err) < 0 ||
		    finite_or_fail(w->g1, np, w->d, r, "the gradient", w->err) < 0 ||
		    (w->hess && finite_or_fail(w->h1, np * np, w->d, r, "the Hessian", w->err) < 0)) {
			*bad = r;
			return -1;
		}
		sum[0] += l;
		for (size_t i = 0; i < np; i++)
			sum[1 + i] += w->g1[i];
		for (size_t i = 0; w->hess && i < np * np; i++)
			sum[1 + np + i] += w->h1[i];
	}
	return 0;
}

/* Sums fn's vectors over n rows (sg_dist_sum); fn writes why it refuses a
 * row into err.  On a refused row fn runs again on that row alone, on
 * every rank, so that each has the message one process would give. */
static int sum_rows(const sg_comm *c, size_t n, size_t len, sg_rows_fn fn, void *ctx,
		    double *sum, sg_error *err)
{
	size_t bad;
	int rc = sg_dist_sum(c, n, len, fn, ctx, sum, &bad, err);
	if (rc <= 0)
		return rc;
	memset(sum, 0, len * sizeof *sum);
	if (fn(ctx, bad, bad + 1, sum, &bad) == 0) /* cannot happen: same bits */
		sg_errorf(err, "row %zu: not finite on another rank only", bad + 1);
	return -1;
}

/* The mean loss, gradient and (when hess) Hessian over d's rows at p,
 * summed in the canonical order (sg_dist_sum) across c's ranks; -1 on a
 * non-finite value (naming the first such row).  Without hess only the
 * loss and gradient are computed (trial steps).  sum is scratch of
 * 1 + np + np^2 numbers. */
static int mean_over_rows(const sg_comm *c, newton_rows *w, const double *p, double *loss,
			  double *grad, double *hess, double *sum, sg_error *err)
{
	size_t np = (size_t)w->m->n_params, n = w->d->n_rows;
	w->p = p;
	w->hess = hess != NULL;
	w->err = err;
	if (sum_rows(c, n, 1 + np + (hess ? np * np : 0), newton_row_sums, w, sum, err) < 0)
		return -1;
	*loss = sum[0] / (double)n;
	for (size_t i = 0; i < np; i++)
		grad[i] = sum[1 + i] / (double)n;
	for (size_t i = 0; hess && i < np * np; i++)
		hess[i] = sum[1 + np + i] / (double)n;
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
	double *buf = calloc(7 * np + 4 * np * np + 2, sizeof *buf);
	float *f = calloc(2 * np + (size_t)m->n_inputs + np * np + 1, sizeof *f);
	if (!buf || !f) {
		free(buf);
		free(f);
		return sg_errorf(err, "out of memory");
	}
	double *g = buf, *step = g + np, *trial = step + np, *g1 = trial + np, *tg = g1 + np;
	double *minus_g = tg + np, *h = minus_g + np, *h1 = h + np * np;
	double *l = h1 + np * np, *sum = l + np * np;
	double loss, lambda = o->lambda, tl;
	newton_rows w = {m, d, p, true, g1, h1, f, err};
	int rc = -1;
	memset(rep, 0, sizeof *rep);
	if (mean_over_rows(o->comm, &w, p, &loss, g, h, sum, err) < 0)
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
				taken = mean_over_rows(o->comm, &w, trial, &tl, tg, NULL, sum,
						       &ignored) == 0 &&
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
		if (mean_over_rows(o->comm, &w, p, &loss, g, h, sum, err) < 0)
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
	sg_lm_opts o = {100, 1e-10, 1e-10, 1e-15, 1e-3, NULL};
	return o;
}

/* What Levenberg-Marquardt sums over the rows at p (sg_rows_fn's vector):
 * the sum of squared residuals, then (normal_row_sums) J^T r and J^T J. */
typedef struct lm_rows {
	const sg_model *m;
	const sg_data *d;
	const double *p;
	double *out, *jp, *jx; /* one row's outputs and Jacobians */
	float *f;              /* scratch: jacobian_scratch(m) floats */
	sg_error *err;         /* why a row is refused */
} lm_rows;

/* The outputs at p and row x into w->out, through predict. */
static void predict_row(const lm_rows *w, const double *x)
{
	const sg_model *m = w->m;
	size_t np = (size_t)m->n_params, ni = (size_t)m->n_inputs;
	if (m->real_size == (int)sizeof(double)) {
		m->predict_d(w->p, x, w->out);
		return;
	}
	narrow(w->f, w->p, np);
	narrow(w->f + np, x, ni);
	m->predict_f(w->f, w->f + np, w->f + np + ni);
	widen(w->out, w->f + np + ni, (size_t)m->n_outputs);
}

/* The sum of the residuals' squares (a trial step's). */
static int residual_row_sums(void *ctx, size_t r0, size_t r1, double *sum, size_t *bad)
{
	const lm_rows *w = ctx;
	const sg_model *m = w->m;
	for (size_t row = r0; row < r1; row++) {
		predict_row(w, sg_data_row(w->d, row));
		for (int i = 0; i < m->n_residuals; i++) {
			double v = w->out[m->residual_first + i];
			if (!isfinite(v)) {
				*bad = row;
				return sg_errorf(w->err, "%s:%ld: residual '%s' is not finite (%g)",
						 w->d->source, line_of(w->d, row),
						 m->output_names[m->residual_first + i], v);
			}
			sum[0] += v * v;
		}
	}
	return 0;
}

/* The sum of squares, J^T r and J^T J over every row's residuals. */
static int normal_row_sums(void *ctx, size_t r0, size_t r1, double *sum, size_t *bad)
{
	const lm_rows *w = ctx;
	const sg_model *m = w->m;
	size_t np = (size_t)m->n_params, k = (size_t)m->n_residuals;
	double *b = sum + 1, *a = b + np;
	for (size_t row = r0; row < r1; row++) {
		jacobian_into(m, w->p, sg_data_row(w->d, row), w->out, w->jp, w->jx, w->f);
		for (size_t e = 0; e < k; e++)
			if (finite_or_fail(w->out + m->residual_first + e, 1, w->d, row,
					   m->output_names[m->residual_first + (int)e], w->err) < 0 ||
			    finite_or_fail(w->jp + ((size_t)m->residual_first + e) * np, np, w->d, row,
					   "the residual's Jacobian", w->err) < 0) {
				*bad = row;
				return -1;
			}
		for (size_t e = 0; e < k; e++) {
			size_t o = (size_t)m->residual_first + e;
			const double *j = w->jp + o * np;
			double r = w->out[o];
			sum[0] += r * r;
			for (size_t u = 0; u < np; u++) {
				b[u] += j[u] * r;
				for (size_t v = 0; v < np; v++)
					a[u * np + v] += j[u] * j[v];
			}
		}
	}
	return 0;
}

/* The sum of squared residuals at p into *rss, across c's ranks; -1 on a
 * non-finite residual.  sum is scratch of 1 + np + np^2 numbers. */
static int residuals(const sg_comm *c, lm_rows *w, const double *p, double *rss, double *sum,
		     sg_error *err)
{
	w->p = p;
	w->err = err;
	if (sum_rows(c, w->d->n_rows, 1, residual_row_sums, w, sum, err) < 0)
		return -1;
	*rss = sum[0];
	return 0;
}

/* J^T J (a), J^T r (b) and the sum of squares at p over every row's
 * residuals, in the canonical order across c's ranks. */
static int normal_equations(const sg_comm *c, lm_rows *w, const double *p, double *a,
			    double *b, double *rss, double *sum, sg_error *err)
{
	size_t np = (size_t)w->m->n_params;
	w->p = p;
	w->err = err;
	if (sum_rows(c, w->d->n_rows, 1 + np + np * np, normal_row_sums, w, sum, err) < 0)
		return -1;
	*rss = sum[0];
	memcpy(b, sum + 1, np * sizeof *b);
	memcpy(a, sum + 1 + np, np * np * sizeof *a);
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
	double *buf = calloc(7 * np + 4 * np * np + no * (1 + np + ni) + 2, sizeof *buf);
	float *f = calloc(jacobian_scratch(m), sizeof *f);
	if (!buf || !f) {
		free(buf);
		free(f);
		return sg_errorf(err, "out of memory");
	}
	double *b = buf, *step = b + np, *trial = step + np, *minus_b = trial + np;
	double *scaled = minus_b + np, *unit = scaled + np, *a = unit + np, *l = a + np * np;
	double *c = l + np * np, *out = c + np * np, *jp = out + no, *jx = jp + no * np;
	double *sum = jx + no * ni;
	double rss, trss, lambda = o->lambda;
	lm_rows w = {m, d, p, out, jp, jx, f, err};
	int rc = -1;
	memset(rep, 0, sizeof *rep);
	if (normal_equations(o->comm, &w, p, a, b, &rss, sum, err) < 0)
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
				sg_error ignored; /* a trial step may overflow: damp more */
				if (residuals(o->comm, &w, trial, &trss, sum, &ignored) < 0)
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
		if (normal_equations(o->comm, &w, p, a, b, &rss, sum, err) < 0)
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
	free(f);
	return rc;
}

/* ---- L-BFGS, torch.optim.LBFGS's algorithm without line search ---- */

sg_lbfgs_opts sg_lbfgs_defaults(void)
{
	sg_lbfgs_opts o = {1.0, 20, 25, 100, 1e-7, 1e-9, NULL};
	return o;
}

/* The mean loss and gradient over a table through the batch function, in
 * sg_batch_grad's canonical order (blocks of SG_BLOCK_ROWS rows, their
 * sums folded in block order), split across the ranks of comm by
 * sg_dist_grad: the same bits for any number of ranks. */
typedef struct mean_grad {
	const sg_model *m;
	const sg_data *d;
	sg_batch *b;
	sg_dist *dist;   /* NULL in one process */
	const void *x;   /* the table in the model's real type */
	void *pr, *gr;   /* params and gradient in it */
	float *fx;       /* a float model's copy of the table */
} mean_grad;

static void mean_grad_free(mean_grad *e)
{
	sg_batch_free(e->b);
	sg_dist_free(e->dist);
	free(e->pr);
	free(e->fx);
}

static int mean_grad_init(mean_grad *e, const sg_model *m, const sg_data *d,
			  const sg_comm *c, sg_error *err)
{
	size_t np = (size_t)m->n_params, nx = d->n_rows * (size_t)m->n_inputs;
	bool is_f = m->real_size != (int)sizeof(double);
	memset(e, 0, sizeof *e);
	e->m = m;
	e->d = d;
	e->x = d->x;
	if (!(e->b = sg_batch_new(m, 1, err)) ||
	    (c && c->size > 1 && !(e->dist = sg_dist_new(c, m, err))))
		return mean_grad_free(e), -1;
	e->pr = calloc(2 * np + 1, (size_t)m->real_size);
	if (is_f && (e->fx = calloc(nx + 1, sizeof *e->fx))) {
		narrow(e->fx, d->x, nx);
		e->x = e->fx;
	}
	if (!e->pr || (is_f && !e->fx))
		return mean_grad_free(e), sg_errorf(err, "out of memory");
	e->gr = (char *)e->pr + np * (size_t)m->real_size;
	return 0;
}

/* The mean loss and gradient at p; -1 when either is not finite. */
static int closure(mean_grad *e, const double *p, double *loss, double *g, sg_error *err)
{
	size_t np = (size_t)e->m->n_params, n = e->d->n_rows;
	bool is_f = e->m->real_size != (int)sizeof(double);
	if (is_f)
		narrow(e->pr, p, np);
	else
		memcpy(e->pr, p, np * sizeof *p);
	*loss = e->dist && n > SG_BLOCK_ROWS
			? sg_dist_grad(e->dist, e->b, n, e->pr, e->x, NULL, e->gr)
			: sg_batch_grad(e->b, n, e->pr, e->x, NULL, e->gr);
	if (is_f)
		widen(g, e->gr, np);
	else
		memcpy(g, e->gr, np * sizeof *g);
	*loss /= (double)n;
	for (size_t i = 0; i < np; i++)
		g[i] /= (double)n;
	if (!isfinite(*loss))
		return sg_errorf(err, "%s: the mean loss is not finite (%g)", e->d->source, *loss);
	return finite_or_fail(g, np, e->d, 0, "the gradient", err) < 0 ? -1 : 0;
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
	mean_grad e;
	if (mean_grad_init(&e, m, d, o->comm, err) < 0)
		return -1;
	double *buf = calloc(6 * np + 2 * h * np + 2 * h + 1, sizeof *buf);
	if (!buf) {
		mean_grad_free(&e);
		return sg_errorf(err, "out of memory");
	}
	double *g = buf, *prev_g = g + np, *dir = prev_g + np, *q = dir + np, *y = q + np;
	double *s = y + np, *dirs = s + np, *stps = dirs + h * np, *ro = stps + h * np, *al = ro + h;
	double t = 0, h_diag = 1, loss, prev_loss;
	long n_total = 0;
	size_t n_old = 0;
	int rc = -1;
	for (long step = 0; step < steps; step++) {
		if (closure(&e, p, &loss, g, err) < 0)
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
				if (closure(&e, p, &loss, g, err) < 0)
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
	mean_grad_free(&e);
	return rc;
}

int sg_model_eval_mean(const sg_model *m, const sg_data *d, const sg_comm *c, const double *p,
		       double *loss, double *grad, sg_error *err)
{
	mean_grad e;
	if (need(m, m->backward_batch_d != NULL, m->backward_batch_f != NULL, "batch gradient",
		 "the c template", err) < 0 ||
	    mean_grad_init(&e, m, d, c, err) < 0)
		return -1;
	int rc = closure(&e, p, loss, grad, err);
	mean_grad_free(&e);
	return rc;
}
