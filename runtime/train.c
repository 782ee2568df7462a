/*
 * train.c: the training loop.
 *
 * A trainer owns the parameters (in the model's real type), the gradient
 * buffers, the optimizer and the row order; everything a step touches is
 * allocated by sg_trainer_new or when a new data table is first seen, so
 * the per-sample path never allocates.  The arithmetic lives in
 * train_tmpl.h, instantiated for double and float models.
 *
 * Steps: batch 1 is the lecture's per-sample SGD (through the model's
 * sgd_epoch when it has one and nothing needs the runtime between two
 * rows: plain SGD without weight decay or clipping, no step hook; see
 * inline_ok in train_tmpl.h); a batch of k rows uses
 * the summed gradient divided by k, summed by sg_batch_grad in the
 * canonical block order (blocks of SG_BLOCK_ROWS rows through the model's
 * backward_batch, folded in block order), on o.threads threads made once
 * with the trainer, the same bits for any number; batch 0 is the whole
 * table.  The
 * epoch's loss is the mean over its rows of each row's loss computed
 * before the update that uses it.  A non-finite loss or gradient stops
 * training before the update; an update that makes a parameter non-finite
 * is undone: the parameters are always the last finite ones.
 *
 * Around the epochs, sg_trainer_run steps the learning-rate schedule,
 * evaluates the validation table, and stops early on patience or a target
 * loss; with patience, the parameters of the best validation loss are
 * copied aside and put back at the end.  Each step's gradient norm is
 * measured (and clipped with clip_norm) between the hook and the update.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symgrad.h"

struct sg_trainer {
	const sg_model *m;
	sg_train_opts o;
	sg_optim *opt;
	int is_float;         /* real_size == sizeof(float) */
	size_t rs;            /* real size in bytes */
	void *p, *p_prev;     /* parameters, and before the last update */
	void *g, *g_tmp;      /* step gradient, one row's gradient */
	void *io;             /* n_inputs + n_outputs reals for predict */
	const sg_data *d;     /* table the buffers below were made for */
	size_t d_rows;
	size_t *order;        /* row order of the epoch */
	float *xf;            /* float copy of the table (float models) */
	sg_batch *batch;      /* batch gradients, on o.threads threads */
	sg_dist *dist;        /* with o.comm: batches split across processes */
	/* with a shared table (each process holds a share of the rows,
	 * share.c): sx holds rows fetched for the steps, either every row of
	 * order[win_first .. win_first + win_n) (win_all: steps of
	 * SG_BLOCK_ROWS rows or fewer, which every process computes) or the
	 * rows of this process's blocks of the step at win_first of win_n
	 * rows, sorder[i] being row i's place in sx */
	char *sx;
	size_t sx_rows, *sorder, win_first, win_n;
	int win_all, sx_valid;
	const size_t **ids;   /* for sg_share_gather: per process */
	size_t *counts;
	int bad_rank;         /* with dist: who summed the row reported */
	long first_epoch;     /* epochs done before (a checkpoint's) */
	double ck_lr, ck_best_val; /* the checkpoint's stats */
	long ck_best_epoch;
	sg_rng rng;
	double last_loss;     /* last step's mean loss before its update */
	sg_epoch_stats stats; /* of the last epoch */
	void *p_best;         /* parameters of the best validation loss */
	double *eval_out;     /* n_outputs doubles for sg_trainer_evaluate */
};

static int report_nonfinite(const sg_trainer *t, const sg_data *d, long epoch,
			    size_t row, double loss, int bad, double g,
			    sg_error *err);
static int report_diverged(const sg_trainer *t, const sg_data *d, long epoch,
			   size_t row, int bad, double v, sg_error *err);
static void step_hook(const sg_trainer *t, long epoch, size_t first, size_t k,
		      double loss);

/* Rows a window of a shared table holds at most (more when a step needs
 * more): 8 MiB of them. */
#define WINDOW_BYTES ((size_t)8 << 20)

/* Makes room for n rows in t->sx; -1 when out of memory. */
static int sx_reserve(sg_trainer *t, size_t n)
{
	size_t rb = (size_t)t->m->n_inputs * t->rs;
	char *x;

	if (n <= t->sx_rows)
		return 0;
	if (!(x = realloc(t->sx, n * rb + 1)))
		return -1;
	t->sx = x;
	t->sx_rows = n;
	return 0;
}

/* Fetches rows order[first + lo_q .. first + hi_q) for every process q
 * into sx (this process's own run).  Out of memory ends the job: the
 * others would wait for this process's rows. */
static void share_fetch(sg_trainer *t, const sg_data *d, const void *local,
			size_t first, const size_t *lo, const size_t *hi)
{
	const sg_comm *c = t->o.comm;
	int q;

	for (q = 0; q < c->size; q++) {
		t->ids[q] = t->order + first + lo[q];
		t->counts[q] = hi[q] - lo[q];
	}
	if (sx_reserve(t, t->counts[c->rank]) < 0)
		sg_comm_fatal(c, "out of memory for the rows of other ranks");
	sg_share_gather(c, d, local, (size_t)t->m->n_inputs * t->rs,
			(const size_t *const *)t->ids, t->counts, t->sx);
}

/* The rows order[first .. first + k) of a shared table, every process
 * holding them all (a step of SG_BLOCK_ROWS rows or fewer, or a step
 * reported row by row): from sx, fetched a window of steps at a time. */
static const void *share_rows(sg_trainer *t, const sg_data *d, const void *local,
			      size_t first, size_t k)
{
	size_t n = d->total, rb = (size_t)t->m->n_inputs * t->rs, w;
	const sg_comm *c = t->o.comm;
	size_t *l = t->counts + c->size, *h = l + c->size;
	int q;

	if (!(t->sx_valid && t->win_all && first >= t->win_first &&
	      first + k <= t->win_first + t->win_n)) {
		w = WINDOW_BYTES / (rb ? rb : 1) / k * k;
		w = w > k ? w : k;
		w = w < n - first ? w : n - first;
		for (q = 0; q < c->size; q++)
			l[q] = 0, h[q] = w;
		share_fetch(t, d, local, first, l, h);
		t->win_first = first;
		t->win_n = w;
		t->win_all = 1;
		t->sx_valid = 1;
	}
	return t->sx + (first - t->win_first) * rb;
}

/* The rows of this process's blocks of the k-row step at first (k >
 * SG_BLOCK_ROWS), in sx, with sorder mapping the step's rows to them. */
static const void *share_blocks(sg_trainer *t, const sg_data *d, const void *local,
				size_t first, size_t k)
{
	const sg_comm *c = t->o.comm;
	size_t nb = (k + SG_BLOCK_ROWS - 1) / SG_BLOCK_ROWS, P = (size_t)c->size, i;
	size_t *l = t->counts + c->size, *h = l + c->size;
	int q;

	if (t->sx_valid && !t->win_all && t->win_first == first && t->win_n == k)
		return t->sx;
	for (q = 0; q < c->size; q++) { /* dist.c's runs of blocks */
		l[q] = nb * (size_t)q / P * SG_BLOCK_ROWS;
		h[q] = nb * (size_t)(q + 1) / P * SG_BLOCK_ROWS;
		l[q] = l[q] < k ? l[q] : k;
		h[q] = h[q] < k ? h[q] : k;
	}
	share_fetch(t, d, local, first, l, h);
	for (i = l[c->rank]; i < h[c->rank]; i++)
		t->sorder[i] = i - l[c->rank];
	t->win_first = first;
	t->win_n = k;
	t->win_all = 0;
	t->sx_valid = 1;
	return t->sx;
}

/* The file and line of global row `row` of d, for a message: with a
 * shared table, its holder tells every process (each reports the same
 * row at the same time). */
static void locate(const sg_trainer *t, const sg_data *d, size_t row,
		   const char **file, long *line)
{
	const sg_comm *c = t->o.comm;
	struct {
		long line;
		int part;
	} v = {0, 0};
	int q = 0;

	if (!d->shared) {
		*file = sg_data_file(d, row);
		*line = sg_data_line(d, row);
		return;
	}
	while (q + 1 < d->n_ranks && d->offs[q + 1] <= row)
		q++;
	if (q == c->rank) {
		v.line = sg_data_line(d, row - d->offset);
		v.part = d->part ? d->part[row - d->offset] : 0;
	}
	if (c->bcast(c->ctx, &v, sizeof v, q) < 0)
		sg_comm_fatal(c, "cannot exchange a row's line");
	*file = d->part ? d->parts[v.part] : d->source;
	*line = v.line;
}

/* The table in the trainer's real type. */
static const void *data_of_d(const sg_trainer *t, const sg_data *d)
{
	(void)t;
	return d->x;
}

static const void *data_of_f(const sg_trainer *t, const sg_data *d)
{
	(void)d;
	return t->xf;
}

#define REAL double
#define SFX d
#define BACKWARD backward_d
#define PREDICT predict_d
#define FORWARD forward_d
#define SGD_EPOCH sgd_epoch_d
#include "train_tmpl.h"
#undef SGD_EPOCH
#undef REAL
#undef SFX
#undef BACKWARD
#undef PREDICT
#undef FORWARD

#define REAL float
#define SFX f
#define BACKWARD backward_f
#define PREDICT predict_f
#define FORWARD forward_f
#define SGD_EPOCH sgd_epoch_f
#include "train_tmpl.h"
#undef SGD_EPOCH
#undef REAL
#undef SFX
#undef BACKWARD
#undef PREDICT
#undef FORWARD

/* The defaults: SGD, lr 0.01, 10 epochs, batch 1, no shuffle. */
sg_train_opts sg_train_defaults(void)
{
	sg_train_opts o;

	memset(&o, 0, sizeof o);
	o.optim = sg_optim_defaults();
	o.epochs = 10;
	o.batch = 1;
	return o;
}

/* Checks that m is a model this runtime can train; -1 with *err if not. */
static int check_model(const sg_model *m, sg_error *err)
{
	if (m->abi != SG_MODEL_ABI)
		return sg_errorf(err, "model '%s' has ABI %d, runtime has %d",
				 m->name, m->abi, SG_MODEL_ABI);
	if (m->real_size == (int)sizeof(double) && m->backward_d)
		return 0;
	if (m->real_size == (int)sizeof(float) && m->backward_f)
		return 0;
	return sg_errorf(err, "model '%s': no backward function for real size %d",
			 m->name, m->real_size);
}

/* Allocates n reals of t's type (zeroed); NULL when out of memory. */
static void *reals(const sg_trainer *t, size_t n)
{
	return calloc(n ? n : 1, t->rs);
}

/* A trainer for m with options o, parameters from m->param_init. */
sg_trainer *sg_trainer_new(const sg_model *m, const sg_train_opts *o,
			   sg_error *err)
{
	sg_trainer *t;
	size_t np = (size_t)m->n_params;

	if (check_model(m, err) < 0)
		return NULL;
	if (!(t = calloc(1, sizeof *t))) {
		sg_errorf(err, "out of memory");
		return NULL;
	}
	t->m = m;
	t->o = *o;
	t->is_float = m->real_size == (int)sizeof(float);
	t->rs = (size_t)m->real_size;
	t->p = reals(t, np);
	t->p_prev = reals(t, np);
	t->g = reals(t, np);
	t->g_tmp = reals(t, np);
	t->io = reals(t, (size_t)m->n_inputs + (size_t)m->n_outputs);
	t->p_best = reals(t, np);
	t->eval_out = calloc((size_t)m->n_outputs + 1, sizeof *t->eval_out);
	t->opt = sg_optim_new(&o->optim, m->n_params, m->real_size, err);
	if (t->opt)
		t->batch = sg_batch_new(m, o->threads > 1 ? o->threads : 1, err);
	if (t->batch && o->comm && !(t->dist = sg_dist_new(o->comm, m, err)))
		sg_batch_free(t->batch), t->batch = NULL;
	if (!t->p || !t->p_prev || !t->g || !t->g_tmp || !t->io || !t->opt ||
	    !t->batch || !t->p_best || !t->eval_out) {
		if (t->opt && t->batch && (t->dist || !o->comm))
			sg_errorf(err, "out of memory");
		sg_trainer_free(t);
		return NULL;
	}
	sg_rng_seed(&t->rng, o->seed);
	sg_trainer_set_params(t, m->param_init);
	return t;
}

/* Frees t and everything it owns; NULL is ignored. */
void sg_trainer_free(sg_trainer *t)
{
	if (!t)
		return;
	sg_optim_free(t->opt);
	sg_batch_free(t->batch);
	sg_dist_free(t->dist);
	free(t->p);
	free(t->p_prev);
	free(t->g);
	free(t->g_tmp);
	free(t->io);
	free(t->p_best);
	free(t->eval_out);
	free(t->order);
	free(t->xf);
	free(t->sx);
	free(t->sorder);
	free(t->ids);
	free(t->counts);
	free(t);
}

/* The model t trains. */
const sg_model *sg_trainer_model(const sg_trainer *t)
{
	return t->m;
}

/* Sets the parameters from doubles (rounded to float for float models). */
void sg_trainer_set_params(sg_trainer *t, const double *p)
{
	int i;

	for (i = 0; i < t->m->n_params; i++)
		if (t->is_float)
			((float *)t->p)[i] = (float)p[i];
		else
			((double *)t->p)[i] = p[i];
}

/* Copies the parameters, widened, into p. */
void sg_trainer_get_params(const sg_trainer *t, double *p)
{
	int i;

	for (i = 0; i < t->m->n_params; i++)
		p[i] = t->is_float ? (double)((const float *)t->p)[i]
				   : ((const double *)t->p)[i];
}

/* Gradient of parameter i from the last step, widened. */
double sg_trainer_grad(const sg_trainer *t, int i)
{
	return t->is_float ? (double)((const float *)t->g)[i]
			   : ((const double *)t->g)[i];
}

/* Model outputs at inputs with the current parameters. */
void sg_trainer_predict(sg_trainer *t, const double *inputs, double *out)
{
	if (t->is_float)
		predict_f(t, inputs, out);
	else
		predict_d(t, inputs, out);
}

/* Makes the row order and float copy for table d; -1 with
 * *err.  Does nothing when d was seen last time. */
static int prepare(sg_trainer *t, const sg_data *d, sg_error *err)
{
	size_t n = sg_data_total(d), ni = (size_t)t->m->n_inputs, i, nl = d->n_rows;
	const sg_comm *c = t->o.comm;

	if (d->n_cols != t->m->n_inputs)
		return sg_errorf(err, "%s: error: %d columns, model '%s' has %d "
				 "inputs", d->source, d->n_cols, t->m->name,
				 t->m->n_inputs);
	if (n == 0)
		return sg_errorf(err, "%s: error: no data rows", d->source);
	if (d->shared && (!c || !t->dist || !c->sendrecv || c->size != d->n_ranks))
		return sg_errorf(err, "%s: a table shared by %d processes needs a trainer "
				 "across as many (sg_train_opts.comm)", d->source, d->n_ranks);
	if (t->d == d && t->d_rows == n)
		return 0;
	free(t->order);
	free(t->xf);
	free(t->sorder);
	free(t->ids);
	free(t->counts);
	t->xf = NULL;
	t->sorder = t->counts = NULL;
	t->ids = NULL;
	t->sx_valid = 0;
	t->d = NULL;
	t->order = malloc(n * sizeof *t->order);
	if (t->is_float)
		t->xf = malloc(nl * ni * sizeof *t->xf + 1);
	if (d->shared) {
		t->sorder = malloc(n * sizeof *t->sorder);
		t->ids = malloc((size_t)c->size * sizeof *t->ids);
		t->counts = malloc(3 * (size_t)c->size * sizeof *t->counts);
	}
	if (!t->order || (t->is_float && !t->xf) ||
	    (d->shared && (!t->sorder || !t->ids || !t->counts)))
		return sg_errorf(err, "out of memory");
	for (i = 0; i < n; i++)
		t->order[i] = i;
	for (i = 0; t->is_float && i < nl * ni; i++)
		t->xf[i] = (float)d->x[i];
	t->d = d;
	t->d_rows = n;
	return 0;
}

/* Runs epoch number `epoch` (0-based) over d. */
int sg_trainer_epoch(sg_trainer *t, const sg_data *d, long epoch,
		     double *mean_loss, sg_error *err)
{
	size_t i;

	if (prepare(t, d, err) < 0)
		return -1;
	if (t->o.shuffle) {
		for (i = 0; i < t->d_rows; i++)
			t->order[i] = i;
		sg_rng_shuffle(&t->rng, t->order, t->d_rows);
		t->sx_valid = 0;
	}
	if (t->is_float)
		return epoch_f(t, d, epoch, mean_loss, err);
	return epoch_d(t, d, epoch, mean_loss, err);
}

/* Trains opts.epochs epochs on d, calling on_epoch after each. */
/* Every class index of d in range (data read by sg_data_read_csv already
 * is; a table made by hand may not be); -1 with *err naming the row. */
static int check_classes(const sg_model *m, const sg_data *d, sg_error *err)
{
	for (int i = 0; i < m->n_inputs && i < d->n_cols; i++) {
		int k = sg_class_input(m, i);
		for (size_t r = 0; k > 0 && r < d->n_rows; r++) {
			double v = sg_data_row(d, r)[i];
			if (!sg_class_ok(v, k))
				return sg_errorf(err, "%s:%ld: error: index input '%s' (a class, "
						 "a row or an element) is %.17g, not a whole "
						 "number from 0 to %d",
						 sg_data_file(d, r), sg_data_line(d, r),
						 m->input_names[i], v, k - 1);
		}
	}
	return 0;
}

/* A shared table's sums in row order (the loss and each metric's sum and
 * count, as one process adds them row after row) go from process to
 * process in rank order: dir -1 receives them from the process before
 * (none for the first), +1 sends them to the next, and the last process
 * gives them to all.  The same bits as one process. */
static void pass_sums(const sg_comm *c, int dir, double *sum, sg_metric *mt, int n_mt)
{
	int i, n = 1 + 2 * n_mt, bad = 0;
	double v[n];

	v[0] = *sum;
	for (i = 0; i < n_mt; i++)
		v[1 + 2 * i] = mt[i].sum, v[2 + 2 * i] = (double)mt[i].count;
	if (dir < 0 && c->rank > 0)
		bad = c->recv(c->ctx, v, (size_t)n * sizeof *v, c->rank - 1) < 0;
	if (dir > 0 && c->rank + 1 < c->size)
		bad = c->send(c->ctx, v, (size_t)n * sizeof *v, c->rank + 1) < 0;
	if (dir > 0 && !bad)
		bad = c->bcast(c->ctx, v, (size_t)n * sizeof *v, c->size - 1) < 0;
	if (bad)
		sg_comm_fatal(c, "cannot pass on the sums");
	*sum = v[0];
	for (i = 0; i < n_mt; i++)
		mt[i].sum = v[1 + 2 * i], mt[i].count = (size_t)v[2 + 2 * i];
}

/* Mean loss of d and its metrics at the current parameters. */
int sg_trainer_evaluate(sg_trainer *t, const sg_data *d, sg_metric *mt,
			int n_mt, double *mean_loss, sg_error *err)
{
	const sg_model *m = t->m;
	double sum = 0;
	size_t r;
	int i;

	if (d->n_cols != m->n_inputs)
		return sg_errorf(err, "%s: error: %d columns, model '%s' has %d "
				 "inputs", d->source, d->n_cols, m->name, m->n_inputs);
	if (sg_data_total(d) == 0)
		return sg_errorf(err, "%s: error: no data rows", d->source);
	if (t->is_float ? !m->forward_f : !m->forward_d)
		return sg_errorf(err, "model '%s' has no forward function", m->name);
	if (d->shared && (!t->o.comm || t->o.comm->size != d->n_ranks))
		return sg_errorf(err, "%s: a table shared by %d processes needs a trainer "
				 "across as many (sg_train_opts.comm)", d->source, d->n_ranks);
	if (check_classes(m, d, err) < 0)
		return -1;
	for (i = 0; i < n_mt; i++)
		sg_metric_reset(&mt[i]);
	if (d->shared) /* the sums so far, from the process before */
		pass_sums(t->o.comm, -1, &sum, mt, n_mt);
	for (r = 0; r < d->n_rows; r++) {
		const double *x = sg_data_row(d, r);
		sum += t->is_float ? eval_row_f(t, x, t->eval_out)
				   : eval_row_d(t, x, t->eval_out);
		for (i = 0; i < n_mt; i++)
			sg_metric_add(&mt[i], x, t->eval_out);
	}
	if (d->shared) /* on to the next process; the last one's to all */
		pass_sums(t->o.comm, +1, &sum, mt, n_mt);
	*mean_loss = sum / (double)sg_data_total(d);
	return 0;
}

const sg_epoch_stats *sg_trainer_stats(const sg_trainer *t)
{
	return &t->stats;
}

/* Sets the learning rate of epoch e from the schedule. */
static void schedule(sg_trainer *t, long e)
{
	double lr = e == 0 ? t->o.optim.lr
			   : sg_lr_sched_next(&t->o.sched, t->o.optim.lr,
					      t->stats.lr, e);

	t->stats.epoch = e;
	t->stats.lr = lr;
	sg_optim_set_lr(t->opt, lr);
}

/* After epoch e with training loss mean: the validation loss, the best
 * parameters, and whether to stop (stats.last, stats.stop). */
static int after_epoch(sg_trainer *t, long e, double mean, sg_error *err)
{
	sg_epoch_stats *s = &t->stats;
	double loss = mean;

	s->epoch = e;
	if (t->o.val) {
		if (sg_trainer_evaluate(t, t->o.val, t->o.val_metrics,
					t->o.n_val_metrics, &s->val_loss, err) < 0)
			return -1;
		loss = s->val_loss;
		if (s->best_epoch < 0 || s->val_loss < s->best_val_loss) {
			s->best_epoch = e;
			s->best_val_loss = s->val_loss;
			memcpy(t->p_best, t->p, (size_t)t->m->n_params * t->rs);
		}
	}
	s->last = 1;
	if (t->o.use_target_loss && loss <= t->o.target_loss)
		s->stop = SG_STOP_TARGET;
	else if (t->o.val && t->o.patience > 0 && e - s->best_epoch >= t->o.patience)
		s->stop = SG_STOP_PATIENCE;
	else if (e + 1 >= t->o.epochs)
		s->stop = SG_STOP_EPOCHS;
	else
		s->last = 0;
	return 0;
}

int sg_trainer_run(sg_trainer *t, const sg_data *d, sg_error *err)
{
	double mean;
	long e;
	int rc = 0;

	if (check_classes(t->m, d, err) < 0 ||
	    (t->o.val && check_classes(t->m, t->o.val, err) < 0))
		return -1;
	memset(&t->stats, 0, sizeof t->stats);
	t->stats.val_loss = t->stats.best_val_loss = NAN;
	t->stats.best_epoch = -1;
	t->stats.stop = SG_STOP_EPOCHS;
	if (t->first_epoch > 0) { /* resumed: the schedule and the best epoch go on */
		t->stats.epoch = t->first_epoch - 1;
		t->stats.lr = t->ck_lr;
		t->stats.best_epoch = t->ck_best_epoch;
		t->stats.best_val_loss = t->ck_best_val;
	}
	for (e = t->first_epoch; e < t->o.epochs && !t->stats.last && rc == 0; e++) {
		schedule(t, e);
		rc = sg_trainer_epoch(t, d, e, &mean, err);
		if (rc == 0)
			rc = after_epoch(t, e, mean, err);
		if (rc == 0 && t->o.on_epoch)
			t->o.on_epoch(t->o.ctx, t, e, mean, t->last_loss);
	}
	/* with patience, the best parameters are kept, even after a failure */
	if (t->o.val && t->o.patience > 0 && t->stats.best_epoch >= 0)
		memcpy(t->p, t->p_best, (size_t)t->m->n_params * t->rs);
	return rc;
}

/* Calls the step hook for rows order[first..first+k). */
static void step_hook(const sg_trainer *t, long epoch, size_t first, size_t k,
		      double loss)
{
	sg_step_info s;

	s.epoch = epoch;
	s.first = first;
	s.n = k;
	s.rows = t->order + first;
	s.loss = loss;
	t->o.on_step(t->o.ctx, t, &s);
}

/* Reports a non-finite loss or gradient of data row `row`; -1.  Across
 * processes, the message names the rank that summed the row (t->bad_rank;
 * every rank computes a batch of one block).  Every rank has the same
 * gradient, so every rank stops here with the same message; one prints. */
static int report_nonfinite(const sg_trainer *t, const sg_data *d, long epoch,
			    size_t row, double loss, int bad, double g,
			    sg_error *err)
{
	char lbuf[SG_REPR_MAX], gbuf[SG_REPR_MAX], rbuf[32] = "";
	const char *file;
	long line;

	locate(t, d, row, &file, &line);
	if (t->dist && t->bad_rank >= 0)
		snprintf(rbuf, sizeof rbuf, " on rank %d", t->bad_rank);
	else if (t->dist)
		snprintf(rbuf, sizeof rbuf, " on every rank");
	sg_fmt_repr(lbuf, sizeof lbuf, loss);
	if (bad < 0)
		return sg_errorf(err,
				 "non-finite loss at epoch %ld, row %zu (%s:%ld)%s: "
				 "loss = %s",
				 epoch + 1, row + 1, file, line, rbuf, lbuf);
	sg_fmt_repr(gbuf, sizeof gbuf, g);
	return sg_errorf(err,
			 "non-finite gradient at epoch %ld, row %zu (%s:%ld)%s: "
			 "dloss/d%s = %s (loss = %s)",
			 epoch + 1, row + 1, file, line, rbuf,
			 t->m->param_names[bad], gbuf, lbuf);
}

/* Reports an update that made parameter `bad` non-finite (value v); -1. */
static int report_diverged(const sg_trainer *t, const sg_data *d, long epoch,
			   size_t row, int bad, double v, sg_error *err)
{
	char vbuf[SG_REPR_MAX];
	const char *file;
	long line;

	locate(t, d, row, &file, &line);
	sg_fmt_repr(vbuf, sizeof vbuf, v);
	return sg_errorf(err,
			 "parameter %s became %s at epoch %ld, row %zu (%s:%ld) "
			 "(learning rate too large?)",
			 t->m->param_names[bad], vbuf, epoch + 1, row + 1, file, line);
}

/* Evaluates m once at parameters p and inputs x (doubles): *loss, the
 * outputs (n_outputs) and dloss/dparams (n_params), widened to double.
 * Float models compute in float.  -1 with *err on a bad model or when out
 * of memory. */
int sg_model_eval(const sg_model *m, const double *p, const double *x,
		  double *loss, double *out, double *grad, sg_error *err)
{
	size_t np = (size_t)m->n_params, ni = (size_t)m->n_inputs;
	size_t no = (size_t)m->n_outputs, i;
	float *f;

	if (check_model(m, err) < 0)
		return -1;
	if (m->real_size == (int)sizeof(double)) {
		*loss = m->backward_d(p, x, grad);
		if (m->predict_d)
			m->predict_d(p, x, out);
		else
			m->forward_d(p, x, out);
		return 0;
	}
	if (!(f = calloc(2 * np + ni + no + 1, sizeof *f)))
		return sg_errorf(err, "out of memory");
	for (i = 0; i < np; i++)
		f[i] = (float)p[i];
	for (i = 0; i < ni; i++)
		f[np + i] = (float)x[i];
	*loss = (double)m->backward_f(f, f + np, f + np + ni);
	if (m->predict_f)
		m->predict_f(f, f + np, f + 2 * np + ni);
	else
		m->forward_f(f, f + np, f + 2 * np + ni);
	for (i = 0; i < np; i++)
		grad[i] = (double)f[np + ni + i];
	for (i = 0; i < no; i++)
		out[i] = (double)f[2 * np + ni + i];
	free(f);
	return 0;
}

/* ---- checkpoints ---- */

/* The format's first line; the number changes with the format. */
#define CK_MAGIC "symgrad checkpoint 1"

static const char *const optim_names[] = {"sgd", "momentum", "adam", "adamw"};

static const char *optim_name(sg_optim_kind k)
{
	return (unsigned)k < sizeof optim_names / sizeof *optim_names
		       ? optim_names[k] : "?";
}

/* Real i of array a (t's type), widened. */
static double real_at(const sg_trainer *t, const void *a, size_t i)
{
	return t->is_float ? (double)((const float *)a)[i] : ((const double *)a)[i];
}

static void set_real(const sg_trainer *t, void *a, size_t i, double v)
{
	if (t->is_float)
		((float *)a)[i] = (float)v;
	else
		((double *)a)[i] = v;
}

/* Writes n reals of a, one a line, in hexadecimal (exact). */
static void put_reals(FILE *f, const sg_trainer *t, const void *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%a\n", real_at(t, a, i));
}

int sg_trainer_save_checkpoint(const sg_trainer *t, const char *path,
			       sg_error *err)
{
	size_t np = (size_t)t->m->n_params;
	long steps;
	int na, i;
	void *st = sg_optim_state(t->opt, &na, &steps);
	sg_out *o = sg_out_open(path, err);
	FILE *f;

	if (!o)
		return -1;
	f = sg_out_stream(o);
	fprintf(f, "%s\nmodel %s\nreal %s\nparams %zu\noptimizer %s\n", CK_MAGIC,
		t->m->name, t->is_float ? "float" : "double", np,
		optim_name(t->o.optim.kind));
	fprintf(f, "epochs %ld\nsteps %ld\nrng", t->stats.epoch + 1, steps);
	for (i = 0; i < 4; i++)
		fprintf(f, " %016llx", (unsigned long long)t->rng.s[i]);
	fprintf(f, "\nlr %a\nbest_epoch %ld\nbest_val_loss %a\n", t->stats.lr,
		t->stats.best_epoch, t->stats.best_val_loss);
	fprintf(f, "arrays %d\n", 2 + na);
	put_reals(f, t, t->p, np);
	put_reals(f, t, st, (size_t)na * np);
	put_reals(f, t, t->p_best, np);
	return sg_out_commit(&o, 1, err);
}

/* A checkpoint being read: its name and line number, for messages. */
typedef struct ck_reader {
	FILE *f;
	const char *path;
	long line;
	char buf[512];
	sg_error *err;
} ck_reader;

static int ck_fail(ck_reader *r, const char *what, const char *got)
{
	return sg_errorf(r->err, "%s:%ld: error: %s%s%s%s", r->path, r->line, what,
			 got ? " (not '" : "", got ? got : "", got ? "')" : "");
}

/* Reads the next line (no newline) into r->buf; -1 at the end. */
static int ck_line(ck_reader *r)
{
	size_t n;

	r->line++;
	if (!fgets(r->buf, sizeof r->buf, r->f))
		return ck_fail(r, "the checkpoint ends here", NULL);
	n = strlen(r->buf);
	if (n && r->buf[n - 1] == '\n')
		r->buf[--n] = 0;
	return 0;
}

/* Reads "KEY VALUE" into *v (the value's text); -1 with a message. */
static int ck_field(ck_reader *r, const char *key, const char **v)
{
	size_t n = strlen(key);

	if (ck_line(r) < 0)
		return -1;
	if (strncmp(r->buf, key, n) != 0 || r->buf[n] != ' ') {
		char want[64];
		snprintf(want, sizeof want, "expected '%s ...'", key);
		return ck_fail(r, want, r->buf);
	}
	*v = r->buf + n + 1;
	return 0;
}

/* Reads "KEY N" as a whole number (>= lo). */
static int ck_long(ck_reader *r, const char *key, long lo, long *out)
{
	const char *v;
	char *end;

	if (ck_field(r, key, &v) < 0)
		return -1;
	errno = 0;
	*out = strtol(v, &end, 10);
	if (end == v || *end || errno || *out < lo)
		return ck_fail(r, "bad number", v);
	return 0;
}

/* Reads a number (hexadecimal floating point, or nan) from text v. */
static int ck_num(ck_reader *r, const char *v, double *out)
{
	char *end;

	*out = strtod(v, &end);
	if (end == v || *end)
		return ck_fail(r, "bad number", v);
	return 0;
}

/* Reads "KEY TEXT" and checks TEXT is want. */
static int ck_same(ck_reader *r, const char *key, const char *want)
{
	const char *v;
	char msg[160];

	if (ck_field(r, key, &v) < 0)
		return -1;
	if (strcmp(v, want) == 0)
		return 0;
	snprintf(msg, sizeof msg, "the checkpoint's %s is '%s', this run's is '%s'",
		 key, v, want);
	return ck_fail(r, msg, NULL);
}

/* Reads n finite reals, one a line, into a (t's type). */
static int ck_reals(ck_reader *r, const sg_trainer *t, void *a, size_t n)
{
	size_t i;
	double v;

	for (i = 0; i < n; i++) {
		if (ck_line(r) < 0 || ck_num(r, r->buf, &v) < 0)
			return -1;
		if (!isfinite(v))
			return ck_fail(r, "not a finite number", r->buf);
		set_real(t, a, i, v);
	}
	return 0;
}

/* The header after the magic line: the model and optimizer must be
 * this run's; the rest into t. */
static int ck_header(ck_reader *r, sg_trainer *t, long *steps)
{
	char np[32];
	const char *v;
	char *end;
	long arrays;
	int i, na;

	snprintf(np, sizeof np, "%d", t->m->n_params);
	if (ck_same(r, "model", t->m->name) < 0 ||
	    ck_same(r, "real", t->is_float ? "float" : "double") < 0 ||
	    ck_same(r, "params", np) < 0 ||
	    ck_same(r, "optimizer", optim_name(t->o.optim.kind)) < 0 ||
	    ck_long(r, "epochs", 1, &t->first_epoch) < 0 ||
	    ck_long(r, "steps", 0, steps) < 0 || ck_field(r, "rng", &v) < 0)
		return -1;
	for (i = 0; i < 4; i++) {
		errno = 0;
		t->rng.s[i] = (uint64_t)strtoull(v, &end, 16);
		if (end == v || errno || (*end && *end != ' '))
			return ck_fail(r, "bad generator state", v);
		v = end;
	}
	if (*v)
		return ck_fail(r, "bad generator state", v);
	if (ck_field(r, "lr", &v) < 0 || ck_num(r, v, &t->ck_lr) < 0 ||
	    ck_long(r, "best_epoch", -1, &t->ck_best_epoch) < 0 ||
	    ck_field(r, "best_val_loss", &v) < 0 || ck_num(r, v, &t->ck_best_val) < 0)
		return -1;
	sg_optim_state(t->opt, &na, &arrays);
	if (ck_long(r, "arrays", 0, &arrays) < 0)
		return -1;
	if (arrays != 2 + na)
		return ck_fail(r, "the optimizer's state does not fit this optimizer",
			       NULL);
	return 0;
}

int sg_trainer_load_checkpoint(sg_trainer *t, const char *path, sg_error *err)
{
	ck_reader r = {.path = path, .err = err};
	size_t np = (size_t)t->m->n_params;
	long steps, ignored;
	int na, rc = -1;
	void *st;

	if (!(r.f = fopen(path, "r")))
		return sg_errorf(err, "%s: error: cannot read: %s", path,
				 strerror(errno));
	st = sg_optim_state(t->opt, &na, &ignored);
	if (ck_line(&r) < 0)
		;
	else if (strcmp(r.buf, CK_MAGIC) != 0)
		ck_fail(&r, "not a symgrad checkpoint of this version (" CK_MAGIC ")",
			r.buf);
	else if (ck_header(&r, t, &steps) == 0 &&
		 ck_reals(&r, t, t->p, np) == 0 &&
		 ck_reals(&r, t, st, (size_t)na * np) == 0 &&
		 ck_reals(&r, t, t->p_best, np) == 0) {
		r.line++;
		if (fgets(r.buf, sizeof r.buf, r.f))
			ck_fail(&r, "text after the last number", NULL);
		else
			rc = 0;
	}
	fclose(r.f);
	if (rc < 0) {
		t->first_epoch = 0;
		return -1;
	}
	sg_optim_set_steps(t->opt, steps);
	return 0;
}

long sg_trainer_first_epoch(const sg_trainer *t)
{
	return t->first_epoch;
}
