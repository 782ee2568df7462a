/*
 * train_tmpl.h: the per-step training loop for one real type, included by
 * train.c once per type with REAL, SFX (d or f) and the model's function
 * names BACKWARD, PREDICT, FORWARD, SGD_EPOCH.  Nothing here
 * allocates.
 */
#define SG_CAT_(a, b) a##_##b
#define SG_CAT(a, b) SG_CAT_(a, b)
#define FN(name) SG_CAT(name, SFX)

/* The training rows in REAL: the data itself, or its float copy. */
static const REAL *FN(rows)(const sg_trainer *t, const sg_data *d)
{
	return (const REAL *)FN(data_of)(t, d);
}

/* Loss of the step's k rows (summed) and their gradient in t->g: the
 * summed gradient with *mean = 1 (the caller divides it by k), or the
 * one row's with *mean = 0. */
static REAL FN(step_grad)(sg_trainer *t, const sg_data *d, const REAL *x, size_t first,
			  size_t k, int *mean)
{
	const sg_model *m = t->m;
	REAL *g = t->g, loss;

	*mean = 0;

	/* a shared table: the step's rows, fetched (share_rows: every process
	 * computes a small step; share_blocks: this process's blocks) */
	if (d->shared && k == 1)
		return m->BACKWARD((const REAL *)t->p,
				   (const REAL *)share_rows(t, d, x, first, k), g);
	if (d->shared && k <= SG_BLOCK_ROWS)
		loss = (REAL)sg_batch_grad(t->batch, k, t->p, share_rows(t, d, x, first, k),
					   NULL, g);
	else if (d->shared)
		loss = (REAL)sg_dist_grad(t->dist, t->batch, k, t->p,
					  share_blocks(t, d, x, first, k), t->sorder, g);
	else if (k == 1)
		return m->BACKWARD((const REAL *)t->p,
				   x + t->order[first] * (size_t)m->n_inputs, g);
	/* in the canonical block order, on the trainer's threads (and split
	 * across the processes when there are any, with the same bits) */
	else if (t->dist && k > SG_BLOCK_ROWS)
		loss = (REAL)sg_dist_grad(t->dist, t->batch, k, t->p,
					  t->o.shuffle ? x : x + first * (size_t)m->n_inputs,
					  t->o.shuffle ? t->order + first : NULL, g);
	else if (t->o.shuffle)
		loss = (REAL)sg_batch_grad(t->batch, k, t->p, x, t->order + first, g);
	else
		loss = (REAL)sg_batch_grad(t->batch, k, t->p,
					   x + first * (size_t)m->n_inputs, NULL, g);
	*mean = 1;
	return loss;
}

/* Entries a pass over the parameters takes at a time: loops of this
 * constant length the compiler vectorizes at -O2, where it leaves a loop
 * of unknown length scalar. */
#define SG_LANES 8

/* 1 when x and all of v[0..n) are finite: x - x is 0 for a finite x and
 * NaN otherwise, so the sum is NaN exactly when something is not finite,
 * in whatever order it is taken (one branch per step instead of one per
 * value; SG_LANES sums side by side). */
static int FN(all_finite)(REAL x, const REAL *v, int n)
{
	REAL acc[SG_LANES] = {0}, a = x - x;
	int i = 0, c;

	for (; i + SG_LANES <= n; i += SG_LANES)
		for (c = 0; c < SG_LANES; c++)
			acc[c] = acc[c] + (v[i + c] - v[i + c]);
	for (; i < n; i++)
		a = a + (v[i] - v[i]);
	for (c = 0; c < SG_LANES; c++)
		a = a + acc[c];
	return a == a;
}

/* g[i] = g[i] / k for every i < n (each quotient rounded once, as alone),
 * and all_finite(loss, g, n) of the quotients, in one pass. */
static int FN(mean_finite)(REAL *g, int n, REAL k, REAL loss)
{
	REAL acc[SG_LANES] = {0}, a = loss - loss;
	int i = 0, c;

	for (; i + SG_LANES <= n; i += SG_LANES)
		for (c = 0; c < SG_LANES; c++) {
			REAL q = g[i + c] / k;
			g[i + c] = q;
			acc[c] = acc[c] + (q - q);
		}
	for (; i < n; i++) {
		g[i] = g[i] / k;
		a = a + (g[i] - g[i]);
	}
	for (c = 0; c < SG_LANES; c++)
		a = a + acc[c];
	return a == a;
}

/* Copies n reals from src to dst (small n: no call to memcpy). */
static void FN(copy)(REAL *dst, const REAL *src, int n)
{
	int i;

	for (i = 0; i < n; i++)
		dst[i] = src[i];
}

/* Index of the first non-finite value of v[0..n), or -1. */
static int FN(first_bad)(const REAL *v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return i;
	return -1;
}

/* Finds the first of the step's rows whose own loss or gradient is not
 * finite (using t->g_tmp) and reports it; -1. */
static int FN(report_bad)(sg_trainer *t, const sg_data *d, long epoch,
			  size_t first, size_t k, REAL step_loss, sg_error *err)
{
	const sg_model *m = t->m;
	const REAL *x = FN(rows)(t, d), *xs = NULL;
	REAL *gt = t->g_tmp, loss = 0;
	size_t r, row = t->order[first], ni = (size_t)m->n_inputs;
	int bad = -1;

	if (d->shared) /* every process looks at every row of the step */
		xs = share_rows(t, d, x, first, k);
	for (r = 0; r < k; r++) {
		row = t->order[first + r];
		loss = m->BACKWARD((const REAL *)t->p, xs ? xs + r * ni : x + row * ni, gt);
		bad = FN(first_bad)(gt, m->n_params);
		if (bad >= 0 || !isfinite(loss))
			break;
	}
	if (t->dist)
		t->bad_rank = sg_dist_owner(t->dist, k, r == k ? 0 : r);
	if (r == k) { /* only the sum overflowed: blame the step */
		row = t->order[first];
		loss = step_loss;
		bad = FN(first_bad)((REAL *)t->g, m->n_params);
		if (bad >= 0)
			gt[bad] = ((REAL *)t->g)[bad];
	}
	return report_nonfinite(t, d, epoch, row, (double)loss, bad,
				bad >= 0 ? (double)gt[bad] : 0.0, err);
}

/* The 2-norm of g[0..n), summed in double; with clip_norm > 0, scales g
 * by clip_norm / (norm + 1e-6) when that is below 1 (clip_grad_norm_). */
static double FN(norm_and_clip)(REAL *g, int n, double clip_norm)
{
	double sum = 0, norm, coef;
	REAL c;
	int i;

	for (i = 0; i < n; i++)
		sum += (double)g[i] * (double)g[i];
	norm = sqrt(sum);
	if (clip_norm > 0 && (coef = clip_norm / (norm + 1e-6)) < 1) {
		c = (REAL)coef;
		for (i = 0; i < n; i++)
			g[i] = g[i] * c;
	}
	return norm;
}

/* 1 when per-sample steps may go through the model's SGD_EPOCH, the
 * backward pass inlined in the loop over rows (the lecture's loop without
 * a call per row): batch 1, plain SGD (the update the generated loop
 * does), no clipping, and nothing to call between rows (no step hook, as
 * --trace lecture uses).  It does this function's operations in the same
 * order, so the bits are the same either way; per_row_calls forces the
 * call per row, to compare. */
static int FN(inline_ok)(const sg_trainer *t, size_t bs, double *lr)
{
	return bs == 1 && t->m->SGD_EPOCH && !t->o.per_row_calls && !t->d->shared &&
	       !t->o.on_step && !(t->o.clip_norm > 0) &&
	       sg_optim_plain_sgd(t->opt, lr);
}

/* Per-sample SGD through SGD_EPOCH from row first on: the rows it took
 * (it stops before a row whose loss, gradient or update is not finite,
 * which the caller then steps and reports as usual).  acc is the running
 * loss sum, norm sum and last loss; *steps the steps taken. */
static size_t FN(inline_rows)(sg_trainer *t, const REAL *x, size_t first,
			      size_t n, double lr, double acc[3], long *steps)
{
	size_t done = t->m->SGD_EPOCH(n - first, t->order + first, x,
				      (REAL *)t->p, (REAL)lr, (REAL *)t->g, acc);

	*steps += (long)done;
	sg_optim_count_steps(t->opt, (long)done);
	return done;
}

/* Runs one epoch over the rows in t->order; see sg_trainer_epoch. */
static int FN(epoch)(sg_trainer *t, const sg_data *d, long epoch,
		     double *mean_loss, sg_error *err)
{
	const sg_model *m = t->m;
	const REAL *x = FN(rows)(t, d);
	REAL *p = t->p, *prev = t->p_prev;
	size_t n = t->d_rows, bs = t->o.batch && t->o.batch < n ? t->o.batch : n;
	size_t first, k;
	int np = m->n_params, bad, fast, mean;
	double sum = 0, last = 0, norms = 0, lr = 0, acc[3];
	long steps = 0;
	REAL loss;

	fast = FN(inline_ok)(t, bs, &lr);
	for (first = 0; first < n; first += k) {
		if (fast) {
			acc[0] = sum, acc[1] = norms, acc[2] = last;
			first += FN(inline_rows)(t, x, first, n, lr, acc, &steps);
			sum = acc[0], norms = acc[1], last = acc[2];
			if (first == n)
				break;
		}
		k = n - first < bs ? n - first : bs;
		loss = FN(step_grad)(t, d, x, first, k, &mean);
		if (mean ? !FN(mean_finite)(t->g, np, (REAL)k, loss)
			 : !FN(all_finite)(loss, t->g, np))
			return FN(report_bad)(t, d, epoch, first, k, loss,
						 err);
		sum += (double)loss;
		last = (double)loss / (double)k;
		if (t->o.on_step)
			step_hook(t, epoch, first, k, (double)loss);
		norms += FN(norm_and_clip)(t->g, np, t->o.clip_norm);
		steps++;
		FN(copy)(prev, p, np);
		SG_CAT(sg_optim_step, SFX)(t->opt, p, t->g);
		if (!FN(all_finite)(0, p, np)) {
			double v = (double)p[bad = FN(first_bad)(p, np)];
			FN(copy)(p, prev, np);
			return report_diverged(t, d, epoch, t->order[first + k - 1],
					       bad, v, err);
		}
	}
	*mean_loss = sum / (double)n;
	t->last_loss = last;
	t->stats.grad_norm = norms / (double)steps;
	return 0;
}

/* Loss and outputs (widened into out) of one row of doubles. */
static double FN(eval_row)(sg_trainer *t, const double *in, double *out)
{
	const sg_model *m = t->m;
	REAL *xi = t->io, *yo = xi + m->n_inputs, loss;
	int i;

	for (i = 0; i < m->n_inputs; i++)
		xi[i] = (REAL)in[i];
	loss = m->FORWARD((const REAL *)t->p, xi, yo);
	for (i = 0; i < m->n_outputs; i++)
		out[i] = (double)yo[i];
	return (double)loss;
}

/* Outputs at inputs (doubles) with the current parameters, widened. */
static void FN(predict)(sg_trainer *t, const double *in, double *out)
{
	const sg_model *m = t->m;
	REAL *xi = t->io, *yo = xi + m->n_inputs;
	int i;

	for (i = 0; i < m->n_inputs; i++)
		xi[i] = (REAL)in[i];
	if (m->PREDICT)
		m->PREDICT((const REAL *)t->p, xi, yo);
	else
		m->FORWARD((const REAL *)t->p, xi, yo);
	for (i = 0; i < m->n_outputs; i++)
		out[i] = (double)yo[i];
}

#undef FN
#undef SG_CAT
#undef SG_CAT_
#undef SG_LANES
