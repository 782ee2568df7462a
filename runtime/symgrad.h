/*
 * symgrad.h: the runtime's public API (prefix sg_).
 *
 * The runtime trains models that symgrad generated: it reads data, runs
 * optimizers, prints traces, reads and writes parameter files, and compiles
 * generated C at run time (sg_jit).  It has no global state; every object
 * comes from a _new/_open and goes back through the matching _free/_close.
 *
 * Sections follow the source files: fmt.c, error.c, out.c, at.c, rng.c, data.c,
 * params.c, optim.c, batch.c, train.c, jit.c.
 */
#ifndef SYMGRAD_H
#define SYMGRAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "sg_model.h"

#if defined(__GNUC__)
#define SG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SG_PRINTF(f, a)
#endif

/* ---- error.c: error messages ---- */

/* An error message filled in by a failing call: either located,
 * "FILE:LINE[:COL]: error: what", or plain "what" (sg_error_print then adds
 * "symgrad: error: "). */
typedef struct sg_error {
	char msg[1024];
} sg_error;

/* Formats a message into *err (when err is not NULL); returns -1 so callers
 * can `return sg_errorf(...)`. */
int sg_errorf(sg_error *err, const char *fmt, ...) SG_PRINTF(2, 3);

/* Prints the message and a newline to stderr, after "symgrad: error: "
 * unless it is a located message. */
void sg_error_print(const sg_error *err);

/* FNV-1a 64-bit hash of n bytes, continuing from h (start with
 * SG_FNV_INIT). */
#define SG_FNV_INIT 0xcbf29ce484222325u
uint64_t sg_fnv1a(uint64_t h, const void *data, size_t n);

/* ---- out.c: writing files (see out.c for the whole contract) ---- */

/* An output being written: a regular file through a temporary file renamed
 * over it on commit, a device or FIFO in place, "-" standard output. */
typedef struct sg_out sg_out;

/* Opens path for writing; NULL and *err filled on failure. */
sg_out *sg_out_open(const char *path, sg_error *err);
/* The stream to write the output's bytes to. */
FILE *sg_out_stream(sg_out *o);
/* Flushes the n outputs to disk, then puts every one in place; frees them.
 * -1 with *err naming the file on any write error, and then no target that
 * had not been replaced yet is touched. */
int sg_out_commit(sg_out **outs, int n, sg_error *err);
/* Drops an output: its temporary file is removed, the target untouched. */
void sg_out_abort(sg_out *o);
/* Writes n texts to n paths together, all or nothing; 0 or -1 with *err. */
int sg_write_files(int n, const char *const *paths, const char *const *texts,
		   const size_t *lens, sg_error *err);
/* Writes one text to path; 0 or -1 with *err. */
int sg_write_file(const char *path, const char *text, size_t len, sg_error *err);
/* Flushes standard output; -1 with *err when anything written to it was
 * lost (a full disk, a closed pipe). */
int sg_stdout_close(sg_error *err);

/* ---- at.c: a point on the command line ---- */

/* Parses "NAME=V, x[1]=V, M=[[1,2],[3,4]], w=V*" (the grammar is at the
 * top of at.c) against the flat element names of the inputs and, when par
 * is not NULL, of the params: sets in[i] or par[i] and marks in_set[i] or
 * par_set[i].  -1 and *err (a message without location) on any error. */
int sg_at_parse(const char *list, int n_in, const char *const *in_names, double *in,
		char *in_set, int n_par, const char *const *par_names, double *par,
		char *par_set, sg_error *err);

/* ---- fmt.c: number formatting ---- */

/* Enough for any sg_fmt_repr result and its terminating NUL. */
#define SG_REPR_MAX 32

/* Writes Python's repr(float) of v: the shortest digits that read back to v,
 * fixed notation for 1e-4 <= |v| < 1e16 (with ".0" when integral), else
 * "1e-05"/"1.5e+16" form; "inf", "-inf", "nan", "-0.0".  Returns the length
 * (like snprintf: the output is truncated when n is too small). */
int sg_fmt_repr(char *buf, size_t n, double v);

/* Writes sg_fmt_repr(v) to f; returns what fputs returned. */
int sg_print_repr(FILE *f, double v);

/* ---- rng.c: seeded portable random numbers (xoshiro256**) ---- */

/* Generator state; a plain value, seeded by sg_rng_seed. */
typedef struct sg_rng {
	uint64_t s[4];
} sg_rng;

/* One output of splitmix64 (Steele, Lea and Flood), advancing *x: the one
 * splitmix of the project (the generator's random initial values too). */
uint64_t sg_splitmix64(uint64_t *x);
/* Seeds with splitmix64(seed): the same seed gives the same stream on
 * every platform. */
void sg_rng_seed(sg_rng *r, uint64_t seed);
/* Next 64 random bits. */
uint64_t sg_rng_next(sg_rng *r);
/* Uniform integer in [0, n) without modulo bias; n > 0. */
uint64_t sg_rng_below(sg_rng *r, uint64_t n);
/* Uniform double in [0, 1) with 53 random bits. */
double sg_rng_double(sg_rng *r);
/* Fisher-Yates shuffle of idx[0..n). */
void sg_rng_shuffle(sg_rng *r, size_t *idx, size_t n);

/* ---- data.c: training data ---- */

/* A table of model inputs: n_rows rows of n_cols doubles, row-major, the
 * columns in model input order.  line[i] is the 1-based line of row i in
 * its file (for messages). */
typedef struct sg_data {
	size_t n_rows;
	int n_cols;
	double *x;
	long *line;
	char *source; /* file name as given, "<stdin>" for "-" */
	/* Several files (a --data pattern, share.c): row i came from
	 * parts[part[i]]; part is NULL for one file (source). */
	int n_parts;
	char **parts;
	int *part;
	/* One process's share of a table split across processes
	 * (sg_data_read_share): shared is 1, the rows are the global rows
	 * offset .. offset + n_rows - 1 of total, and rank q holds the global
	 * rows offs[q] .. offs[q + 1] - 1 (n_ranks + 1 entries).  For a whole
	 * table shared is 0 and the rest unused. */
	int shared, n_ranks;
	size_t offset, total, *offs;
} sg_data;

/* Flags for sg_data_read_csv_ex. */
enum {
	/* with a header, a missing input column is filled with NaN instead of
	 * being an error (for predict, where the target is not needed) */
	SG_CSV_ALLOW_MISSING = 1
};

/* Reads a CSV file ("-" = stdin) of model inputs; NULL and *err filled
 * ("file:row:col: error: ...") on failure.  See data.c for the rules. */
sg_data *sg_data_read_csv(const char *path, const sg_model *m, sg_error *err);
sg_data *sg_data_read_csv_ex(const char *path, const sg_model *m,
			     unsigned flags, sg_error *err);
/* Reads CSV from an open stream; name is used in messages. */
sg_data *sg_data_read_stream(FILE *f, const char *name, const sg_model *m,
			     unsigned flags, sg_error *err);
/* The range of input i of m when it is an index (cross_entropy's class, or
 * E[tok]'s row), else 0; sg_class_ok says whether v is a valid index for
 * that many. */
int sg_class_input(const sg_model *m, int i);
int sg_class_ok(double v, int classes);
/* A new table of the n rows of d from row first (lines kept); NULL when
 * out of memory. */
sg_data *sg_data_slice(const sg_data *d, size_t first, size_t n);
/* Gives s (n_rows rows) the file names of d and the files of d's rows
 * first .. first + s->n_rows - 1; -1 when out of memory. */
int sg_data_copy_parts(sg_data *s, const sg_data *d, size_t first);
/* An empty table (rows zeroed) of n_rows rows and n_cols columns. */
sg_data *sg_data_new(size_t n_rows, int n_cols, const char *source);
/* Row i (n_cols doubles). */
const double *sg_data_row(const sg_data *d, size_t i);
void sg_data_free(sg_data *d);
/* The rows of the whole table: total when shared, else n_rows. */
size_t sg_data_total(const sg_data *d);
/* The file and line of local row i, for messages. */
const char *sg_data_file(const sg_data *d, size_t i);
long sg_data_line(const sg_data *d, size_t i);
/* For share.c: the rows of path whose lines start in bytes [from, to),
 * with the header (or the first row's cell count) read from the file's
 * start; nl_before is the number of line ends before byte from (the line
 * numbers in messages).  An empty table when no row starts there. */
sg_data *sg_data_read_range(const char *path, const sg_model *m, long long from,
			    long long to, long nl_before, sg_error *err);
/* The number of line ends in bytes [from, to) of path; -1 with *err. */
long sg_data_count_lines(const char *path, long long from, long long to, sg_error *err);

/* ---- params.c: parameter files ---- */

/* Writes the n_params values p to path atomically (temp file, fsync,
 * rename); on failure the old file is untouched and -1 is returned. */
int sg_params_save(const char *path, const sg_model *m, const double *p,
		   sg_error *err);
/* Reads a parameter file written by sg_params_save into p (n_params
 * values); -1 and "file:line: error: ..." on any defect. */
int sg_params_load(const char *path, const sg_model *m, double *p,
		   sg_error *err);

/* ---- optim.c: optimizers with PyTorch's definitions ---- */

typedef enum sg_optim_kind {
	SG_OPTIM_SGD,      /* p -= lr*g */
	SG_OPTIM_MOMENTUM, /* buf = momentum*buf + g (first buf = g); p -= lr*buf */
	SG_OPTIM_ADAM,     /* torch.optim.Adam, no amsgrad */
	SG_OPTIM_ADAMW     /* torch.optim.AdamW: Adam with decoupled decay */
} sg_optim_kind;

typedef struct sg_optim_opts {
	sg_optim_kind kind;
	double lr;       /* 0.01 */
	double momentum; /* 0.9 */
	double beta1;    /* 0.9 */
	double beta2;    /* 0.999 */
	double eps;      /* 1e-8 */
	/* 0; sgd, momentum, adam: g + wd*p replaces g (before momentum, as
	 * torch.optim.SGD and Adam); adamw: p *= 1 - lr*wd before the step */
	double weight_decay;
} sg_optim_opts;

typedef struct sg_optim sg_optim;

/* The defaults above (plain SGD). */
sg_optim_opts sg_optim_defaults(void);
/* Parses "sgd", "momentum", "adam" or "adamw"; -1 if unknown. */
int sg_optim_parse_kind(const char *s, sg_optim_kind *kind);
/* An optimizer for n parameters stored as real_size-byte reals
 * (sizeof(double) or sizeof(float)); NULL and *err on failure. */
sg_optim *sg_optim_new(const sg_optim_opts *o, int n, int real_size,
		       sg_error *err);
/* One update of p by gradient g (two arrays that do not overlap); the _f
 * form rounds every operation to float exactly like PyTorch on float32
 * tensors. */
void sg_optim_step_d(sg_optim *o, double *p, const double *g);
void sg_optim_step_f(sg_optim *o, float *p, const float *g);
/* Sets the learning rate of the next steps (for schedules). */
void sg_optim_set_lr(sg_optim *o, double lr);
/* 1 when o is plain SGD without weight decay, *lr its learning rate: a
 * step the model's inlined sgd_epoch can take (train.c). */
int sg_optim_plain_sgd(const sg_optim *o, double *lr);
/* Counts n steps taken for o outside sg_optim_step. */
void sg_optim_count_steps(sg_optim *o, long n);
/* The state a checkpoint keeps: *n_arrays arrays of n reals (momentum's
 * buffer; Adam's first, then second moments) in the real type, which the
 * caller may overwrite, and the steps taken (set back with
 * sg_optim_set_steps). */
void *sg_optim_state(sg_optim *o, int *n_arrays, long *steps);
void sg_optim_set_steps(sg_optim *o, long steps);
/* Forgets the state (momentum buffers, Adam moments, step count). */
void sg_optim_reset(sg_optim *o);
void sg_optim_free(sg_optim *o);

/* Learning-rate schedules, stepped once per epoch, with the recursive
 * (chainable) formulas of PyTorch's get_lr():
 *   step:S:G      StepLR(step_size=S, gamma=G)
 *   exp:G         ExponentialLR(gamma=G)
 *   cosine:T[:E]  CosineAnnealingLR(T_max=T, eta_min=E (0)) */
typedef enum sg_sched_kind {
	SG_SCHED_NONE, /* constant */
	SG_SCHED_STEP,
	SG_SCHED_EXP,
	SG_SCHED_COSINE
} sg_sched_kind;

typedef struct sg_lr_sched {
	sg_sched_kind kind;
	long step_size, t_max;
	double gamma, eta_min;
} sg_lr_sched;

/* Parses a schedule written as above; -1 with *err (a plain message). */
int sg_lr_sched_parse(const char *s, sg_lr_sched *out, sg_error *err);
/* The learning rate of epoch `epoch` (>= 1, 0-based) given base_lr and
 * lr, the rate of the epoch before: PyTorch's value after `epoch` calls of
 * scheduler.step(). */
double sg_lr_sched_next(const sg_lr_sched *s, double base_lr, double lr,
			long epoch);

/* ---- metric.c: accuracy, mse and mae ---- */

typedef enum sg_metric_kind {
	SG_METRIC_ACCURACY,
	SG_METRIC_MSE,
	SG_METRIC_MAE
} sg_metric_kind;

/* A metric comparing one output of the model (out..out+n_out of the flat
 * outputs) with one input, the target (target..target+n_target of the
 * flat inputs), summed over rows. */
typedef struct sg_metric {
	sg_metric_kind kind;
	int out, n_out, target, n_target;
	double sum;
	size_t count;
} sg_metric;

/* Parses "accuracy", "mse" or "mae"; -1 if unknown. */
int sg_metric_parse_kind(const char *s, sg_metric_kind *kind);
const char *sg_metric_name(sg_metric_kind kind);
/* Sets up *mt for model m.  output and target name a model output and a
 * model input (a tensor by its bare name); NULL picks the defaults: the
 * first output, and the one cross_entropy class input or else the last
 * input.  -1 with *err (a plain message) when they do not fit the kind:
 * accuracy needs a vector output and a class input (argmax), or a
 * one-element output and target (output > 0.5 against a 0/1 target); mse
 * and mae need an output and a target of the same size. */
int sg_metric_setup(sg_metric *mt, sg_metric_kind kind, const sg_model *m,
		    const char *output, const char *target, sg_error *err);
void sg_metric_reset(sg_metric *mt);
/* Adds one row: its inputs and the model's outputs. */
void sg_metric_add(sg_metric *mt, const double *in, const double *out);
/* The mean over the rows added (accuracy in [0, 1]); NaN with no rows. */
double sg_metric_value(const sg_metric *mt);

/* ---- batch.c: a batch's gradient, on one thread or several ---- */

/* The canonical order of a batch's sums (batch.c has the whole contract):
 * the rows cut into blocks of SG_BLOCK_ROWS in row order, each block summed
 * from zero in row order by the model's backward_batch, the block sums
 * folded left in block order.  A constant of the format: the same bits for
 * any number of threads.  A batch of at most SG_BLOCK_ROWS rows is one
 * block, backward_batch's own sum. */
#define SG_BLOCK_ROWS 64
#define SG_THREADS_MAX 1024

/* A model's batch gradient with a fixed pool of threads, made once. */
typedef struct sg_batch sg_batch;

/* The cores this process may run on (its CPU affinity; at least 1, at most
 * SG_THREADS_MAX). */
int sg_threads_available(void);
/* A batch gradient for m on n_threads threads (1 to SG_THREADS_MAX; the
 * caller is one of them, 1 starts none); NULL and *err when the threads or
 * memory cannot be had.  Everything is allocated here. */
sg_batch *sg_batch_new(const sg_model *m, int n_threads, sg_error *err);
void sg_batch_free(sg_batch *b);
int sg_batch_threads(const sg_batch *b);
/* The summed loss (widened to double; exact) and into grad the summed
 * gradient of n rows, in the canonical order, in the model's real type
 * (params, inputs and grad are double or float arrays as real_size says).
 * Row i is inputs + (order ? order[i] : i) * n_inputs.  Not finite values
 * are summed like any other: the caller checks.  One sg_batch computes one
 * batch at a time. */
double sg_batch_grad(sg_batch *b, size_t n, const void *params, const void *inputs,
		     const size_t *order, void *grad);
/* The canonical order cut in two, for training across processes
 * (dist.c): the block sums of blocks [j0, j1) of the same n-row batch,
 * unfolded, block j - j0 into sums (np reals each) and losses (exact in
 * double), on the threads; then folded left in block order into the
 * entries [lo, hi) of grad (and *loss, when not NULL).  started = 0: grad
 * starts as the first block (s = b0, as sg_batch_grad does); 1: grad holds
 * the fold of the blocks before.  Folding every block of a batch this way,
 * in any cut, gives sg_batch_grad's bits. */
void sg_batch_blocks(sg_batch *b, size_t n, const void *params, const void *inputs,
		     const size_t *order, size_t j0, size_t j1, void *sums,
		     double *losses);
void sg_batch_fold(const sg_batch *b, size_t nb, const void *sums,
		   const double *losses, int started, size_t lo, size_t hi,
		   void *grad, double *loss);

/* ---- dist.c: training across processes ---- */

/* The processes of a training job as the trainer sees them: this one's
 * rank of size, and the messages it needs (each returns 0, or -1 on
 * failure).  sg_comm_mpi_new (symgrad_mpi.h, in MPI builds) makes one for
 * an MPI communicator; another transport can fill one in. */
typedef struct sg_comm {
	int rank, size;
	int (*send)(void *ctx, const void *buf, size_t n, int to);
	int (*recv)(void *ctx, void *buf, size_t n, int from);
	int (*bcast)(void *ctx, void *buf, size_t n, int root);
	/* sends sn bytes to `to` while receiving rn bytes from `from` (either
	 * may be this process's partner in both); NULL when the transport has
	 * none (then a table cannot be split: sg_data_read_share reads it
	 * whole) */
	int (*sendrecv)(void *ctx, const void *sbuf, size_t sn, int to, void *rbuf,
			size_t rn, int from);
	/* ends every process of the job with status; does not return */
	void (*abort)(void *ctx, int status);
	void *ctx;
} sg_comm;

/* A failure of one process that the others cannot see (a message that
 * cannot be sent, memory): prints "symgrad: error: rank R: what" and ends
 * the job (c->abort), since a process that returned would leave the
 * others waiting for it.  Does not return. */
void sg_comm_fatal(const sg_comm *c, const char *what);

/* A batch gradient split across the processes of c, with sg_batch_grad's
 * bits (dist.c has the design). */
typedef struct sg_dist sg_dist;
sg_dist *sg_dist_new(const sg_comm *c, const sg_model *m, sg_error *err);
void sg_dist_free(sg_dist *d);
/* sg_batch_grad of n > SG_BLOCK_ROWS rows, every rank calling it with the
 * same arguments (each computes its share of the blocks with b); a
 * failure to communicate or allocate ends the job (c->abort). */
double sg_dist_grad(sg_dist *d, sg_batch *b, size_t n, const void *params,
		    const void *inputs, const size_t *order, void *grad);
/* The rank that sums row i of an n-row batch; -1 when every rank computes
 * the batch (n <= SG_BLOCK_ROWS). */
int sg_dist_owner(const sg_dist *d, size_t n, size_t i);

/* ---- share.c: a table split across processes ---- */

/* Reads the training table path as this process's share of it, every
 * process of c calling it with the same arguments (c NULL or of size 1:
 * the whole table).  path is one CSV file, of which each process reads
 * the rows whose lines start in its 1/P of the bytes, or a pattern with
 * one %d (part-%d.csv): the files part-0.csv, part-1.csv, ... up to the
 * first missing one (the most any process sees, so a process that has
 * only its own file on a local disk counts up to it), the global rows
 * being file 0's, then file 1's, ...; with F files and P processes,
 * process r reads files F*r/P .. F*(r+1)/P - 1.  NULL on failure: *err
 * holds this process's message, or is empty when another process failed
 * (it has the message). */
sg_data *sg_data_read_share(const char *path, const sg_model *m, const sg_comm *c,
			    sg_error *err);
/* 1 when path is a pattern (one %d). */
int sg_data_is_pattern(const char *path);
/* The global rows first .. first + n - 1 of d as a new table (shared when d
 * is); NULL when out of memory. */
sg_data *sg_data_part(const sg_data *d, size_t first, size_t n);
/* Rows ids[q][0 .. counts[q]) (global row numbers of the shared table,
 * whose local rows are local, row_bytes each) for every process q: every
 * process calls it with the same ids and counts and gets its own rows,
 * in order, in out.  The rows it does not hold come from their holders
 * (c->sendrecv).  A failure to communicate or allocate ends the job. */
void sg_share_gather(const sg_comm *c, const sg_data *d, const void *local,
		     size_t row_bytes, const size_t *const *ids, const size_t *counts,
		     void *out);

/* ---- dist_sum.c: per-row vectors summed over a table, any P ---- */

/* Adds rows [r0, r1) of a table to sum (the caller's len doubles, zero on
 * entry) in row order; 0, or -1 with *bad the first row it refuses (a
 * value not finite: the sum is then not used). */
typedef int (*sg_rows_fn)(void *ctx, size_t r0, size_t r1, double *sum, size_t *bad);
/* The sum over n rows of fn's vectors in the canonical order (blocks of
 * SG_BLOCK_ROWS rows in row order, each summed from zero by fn, the block
 * sums folded left in block order), split across the ranks of c (NULL:
 * this process alone) as dist.c splits a batch, every rank calling it with
 * the same arguments and getting the same bits in sum (len doubles) for
 * any number of ranks.  0; 1 when fn refused a row, *bad the first such
 * row in row order (on every rank); -1 with *err on a bad communicator or
 * out of memory in one process.  Across processes, a failure to
 * communicate or allocate ends the job (c->abort). */
int sg_dist_sum(const sg_comm *c, size_t n, size_t len, sg_rows_fn fn, void *ctx, double *sum,
		size_t *bad, sg_error *err);

/* ---- train.c: the training loop ---- */

typedef struct sg_trainer sg_trainer;

/* Why sg_trainer_run stopped. */
typedef enum sg_stop {
	SG_STOP_EPOCHS,   /* all epochs done */
	SG_STOP_PATIENCE, /* no better validation loss for `patience` epochs */
	SG_STOP_TARGET    /* the loss reached target_loss */
} sg_stop;

/* What the trainer knows after an epoch (sg_trainer_stats). */
typedef struct sg_epoch_stats {
	long epoch;           /* 0-based, the last epoch run */
	double lr;            /* its learning rate */
	double grad_norm;     /* mean over its steps of the gradient's 2-norm,
			       * before clipping */
	double val_loss;      /* mean validation loss after it; NaN without */
	long best_epoch;      /* epoch of the lowest val_loss so far, or -1 */
	double best_val_loss;
	int last;             /* training stops after this epoch */
	sg_stop stop;         /* and why (when last) */
} sg_epoch_stats;

/* What a step hook sees: the step's rows and the loss before the update. */
typedef struct sg_step_info {
	long epoch;         /* 0-based */
	size_t first;       /* position of the step's first row in the epoch */
	size_t n;           /* rows in the step */
	const size_t *rows; /* their indices into the data */
	double loss;        /* summed loss of the step's rows */
} sg_step_info;

typedef struct sg_train_opts {
	sg_optim_opts optim;
	long epochs;   /* 10 */
	size_t batch;  /* rows per step: 1 (default), 0 = the whole data */
	int shuffle;   /* reshuffle the rows before each epoch */
	uint64_t seed; /* shuffle seed */
	/* called after each step's gradient, before the update (may be NULL) */
	void (*on_step)(void *ctx, const sg_trainer *t, const sg_step_info *s);
	/* called after each epoch with its mean per-sample loss (may be NULL);
	 * last_loss is the last step's loss before its update */
	void (*on_epoch)(void *ctx, const sg_trainer *t, long epoch,
			 double mean_loss, double last_loss);
	void *ctx;
	sg_lr_sched sched;   /* learning-rate schedule (none) */
	double clip_norm;    /* > 0: scale each step's gradient by
			      * clip_norm / (norm + 1e-6) when that is < 1,
			      * as torch.nn.utils.clip_grad_norm_ */
	const sg_data *val;  /* validation table evaluated after each epoch */
	sg_metric *val_metrics; /* reset and evaluated on val each epoch */
	int n_val_metrics;
	long patience;       /* > 0 (needs val): stop when val_loss has not
			      * improved for this many epochs; either way the
			      * parameters of the best epoch are kept */
	int use_target_loss; /* stop once the loss (val_loss when there is
			      * val) is <= target_loss */
	double target_loss;
	int per_row_calls;   /* 1: per-sample SGD calls the model's backward
			      * once per row even when the model has an
			      * inlined sgd_epoch (same bits; for comparing) */
	int threads;         /* batches of more than SG_BLOCK_ROWS rows on
			      * this many threads (a pool made with the
			      * trainer); 0 or 1: the caller alone.  The same
			      * bits for any number (sg_batch_grad's order) */
	const sg_comm *comm; /* NULL, or the processes that train together:
			      * each has the same data and options, batches
			      * of more than SG_BLOCK_ROWS rows are split
			      * between them (sg_dist_grad), the same bits
			      * for any number; the caller lets one of them
			      * print and save */
} sg_train_opts;

/* The defaults above. */
sg_train_opts sg_train_defaults(void);
/* A trainer for model m starting from m->param_init; NULL and *err on a
 * bad model or options. */
sg_trainer *sg_trainer_new(const sg_model *m, const sg_train_opts *o,
			   sg_error *err);
void sg_trainer_free(sg_trainer *t);
const sg_model *sg_trainer_model(const sg_trainer *t);
/* Sets the parameters from doubles (rounded to float for float models). */
void sg_trainer_set_params(sg_trainer *t, const double *p);
/* Copies the parameters, widened to double, into p. */
void sg_trainer_get_params(const sg_trainer *t, double *p);
/* The current gradient of parameter i (of the last step), widened. */
double sg_trainer_grad(const sg_trainer *t, int i);
/* Trains for opts.epochs epochs on d, or fewer (sg_trainer_stats says
 * why), calling on_epoch after each.  Returns 0, or -1 with *err filled
 * when a loss or gradient was not finite (the parameters are then the last
 * finite ones, or with patience the best ones) or d does not fit the
 * model. */
int sg_trainer_run(sg_trainer *t, const sg_data *d, sg_error *err);
/* Runs one epoch (number epoch, 0-based); *mean_loss gets the mean
 * per-sample loss.  Same failures as sg_trainer_run. */
int sg_trainer_epoch(sg_trainer *t, const sg_data *d, long epoch,
		     double *mean_loss, sg_error *err);
/* Mean per-sample loss of d at the current parameters, and the metrics
 * (reset first) over d's rows; -1 with *err when d does not fit. */
int sg_trainer_evaluate(sg_trainer *t, const sg_data *d, sg_metric *mt,
			int n_mt, double *mean_loss, sg_error *err);
/* The statistics of the last epoch run by sg_trainer_run. */
const sg_epoch_stats *sg_trainer_stats(const sg_trainer *t);
/* Evaluates the model's outputs at inputs (n_inputs doubles) with the
 * current parameters, widened into out (n_outputs doubles). */
void sg_trainer_predict(sg_trainer *t, const double *inputs,
			double *out);

/* Checkpoints: everything a run needs to go on with the same bits as if
 * it had never stopped: the parameters, the optimizer's state (momenta,
 * Adam's moments, its step count), the epochs done, the shuffling
 * generator, the schedule's learning rate and the best validation epoch
 * with its parameters.  A versioned text file (hexadecimal floating point,
 * exact), written atomically.  Save after an epoch (the on_epoch hook);
 * load before sg_trainer_run, which then starts at the next epoch.  -1
 * with *err (FILE:LINE: error: ... on a bad file); after a failed load the
 * trainer is half-set: free it. */
int sg_trainer_save_checkpoint(const sg_trainer *t, const char *path,
			       sg_error *err);
int sg_trainer_load_checkpoint(sg_trainer *t, const char *path,
			       sg_error *err);
/* Epochs done before this run (a loaded checkpoint's), else 0. */
long sg_trainer_first_epoch(const sg_trainer *t);

/* Evaluates m once at parameters p and inputs x: *loss, outputs out
 * (n_outputs) and grad = dloss/dparams (n_params), all widened to double;
 * float models compute in float.  -1 with *err on a bad model. */
int sg_model_eval(const sg_model *m, const double *p, const double *x,
		  double *loss, double *out, double *grad, sg_error *err);

/* ---- second.c: beyond the gradient, and training with curvature ---- */

/* The Jacobian of m's outputs at p, x (gen --jacobian): out (n_outputs),
 * jp[o * n_params + i] = d out[o] / d p[i], jx[o * n_inputs + i] =
 * d out[o] / d x[i]; -1 with *err when m has no Jacobian. */
int sg_model_jacobian(const sg_model *m, const double *p, const double *x, double *out,
		      double *jp, double *jx, sg_error *err);
/* The loss, its gradient and its Hessian (n_params^2, row-major) at p, x
 * (gen --hessian); -1 with *err when m has none. */
int sg_model_hessian(const sg_model *m, const double *p, const double *x, double *loss,
		     double *grad, double *hess, sg_error *err);
/* Forward mode (gen --jvp): the loss, outputs, and their derivatives dout,
 * *dloss along the tangent dp (n_params), dx (n_inputs). */
int sg_model_jvp(const sg_model *m, const double *p, const double *x, const double *dp,
		 const double *dx, double *loss, double *out, double *dout, double *dloss,
		 sg_error *err);
/* The loss, its gradient and H v, the Hessian times the direction v
 * (n_params), through gen --hvp's function. */
int sg_model_hvp(const sg_model *m, const double *p, const double *x, const double *v,
		 double *loss, double *grad, double *hv, sg_error *err);
/* Reverse mode from any cotangent (gen --vjp): the loss, and gp, gx the
 * gradients of dloss * loss + sum of dout[o] * outputs[o] in the params and
 * the inputs. */
int sg_model_vjp(const sg_model *m, const double *p, const double *x, double dloss,
		 const double *dout, double *loss, double *gp, double *gx, sg_error *err);

typedef struct sg_newton_opts {
	long max_iter;   /* 100 */
	double tol_grad; /* 1e-10: stop when max |mean gradient| <= tol_grad */
	double tol_step; /* 1e-12: stop when max |step| <= tol_step (1 + max |p|) */
	double lambda;   /* 0: the first damping tried */
	const sg_comm *comm; /* NULL, or the processes that fit together: every
			      * rank calls with the same data and options and
			      * sums its share of the rows (sg_dist_sum), the
			      * same bits for any number of ranks */
} sg_newton_opts;

typedef struct sg_newton_report {
	long iter;        /* steps taken */
	double loss;      /* mean loss at the current p */
	double grad_max;  /* max |mean gradient| there */
	double step_max;  /* max |last step| */
	double lambda;    /* damping of the last step */
	const char *stop; /* why it stopped (after sg_newton_fit returns 0) */
} sg_newton_report;

sg_newton_opts sg_newton_defaults(void);
/* Damped Newton on the mean loss over d's rows from p (updated in place),
 * calling on_iter (may be NULL) at the start and after each step; see
 * second.c for the method.  -1 with *err on a non-finite loss or
 * gradient, or a model without a Hessian. */
int sg_newton_fit(const sg_model *m, const sg_data *d, double *p, const sg_newton_opts *o,
		  sg_newton_report *rep, void (*on_iter)(void *ctx, const sg_newton_report *rep),
		  void *ctx, sg_error *err);

typedef struct sg_lm_opts {
	long max_iter;   /* 100 */
	double tol_grad; /* 1e-10: stop when max |J^T r| <= tol_grad */
	double tol_step; /* 1e-10: stop when max |step| <= tol_step (1 + max |p|) */
	double tol_rss;  /* 1e-15: stop when a step lowers RSS by less than this, relative */
	double lambda;   /* 1e-3: the first damping */
	const sg_comm *comm; /* NULL, or the processes that fit together (as
			      * sg_newton_opts's) */
} sg_lm_opts;

typedef struct sg_lm_report {
	long iter;        /* steps taken */
	long nfev, njev;  /* passes over the data for residuals, and for the Jacobian */
	double rss;       /* sum of squared residuals at the current p */
	double grad_max;  /* max |J^T r| there */
	double step_max;  /* max |last step| */
	double lambda;    /* the current damping */
	long dof;         /* residuals minus params */
	const char *stop; /* why it stopped */
} sg_lm_report;

sg_lm_opts sg_lm_defaults(void);
/* Levenberg-Marquardt on a least-squares model ('residual r', loss =
 * sum(r^2), generated with --jacobian): minimizes the sum over d's rows of
 * r's squares from p (updated in place).  Each iteration solves
 * (J^T J + lambda diag(J^T J)) step = -J^T r (J^T J and J^T r summed over
 * the rows in sg_dist_sum's order) by Cholesky; a step that lowers the
 * sum of squares is taken and
 * lambda divided by 10, otherwise lambda is multiplied by 10 and the
 * iteration tries again.  se (n_params, may be NULL) gets the standard
 * errors sqrt(diag(s^2 (J^T J)^-1)), s^2 = RSS / (residuals - params), NaN
 * when there are no more residuals than params.  on_iter (may be NULL) is
 * called at the start and after each step.  -1 with *err on a model that is
 * no least-squares model, or a non-finite residual. */
int sg_lm_fit(const sg_model *m, const sg_data *d, double *p, double *se, const sg_lm_opts *o,
	      sg_lm_report *rep, void (*on_iter)(void *ctx, const sg_lm_report *rep), void *ctx,
	      sg_error *err);

typedef struct sg_lbfgs_opts { /* torch.optim.LBFGS's defaults */
	double lr;       /* 1 */
	long max_iter;   /* 20: iterations per step */
	long max_eval;   /* 25: loss evaluations per step (max_iter * 5 / 4) */
	long history;    /* 100: (s, y) pairs kept */
	double tol_grad; /* 1e-7: a step ends when max |g| <= tol_grad */
	double tol_change; /* 1e-9: ... or the loss or the parameters change less */
	const sg_comm *comm; /* NULL, or the processes that fit together: the
			      * rows are split as sg_dist_grad splits a batch */
} sg_lbfgs_opts;

/* The mean loss and gradient over d's rows at p: the batch function in
 * sg_batch_grad's order, split across the ranks of c (NULL: one process)
 * by sg_dist_grad, the same bits for any number of ranks. */
int sg_model_eval_mean(const sg_model *m, const sg_data *d, const sg_comm *c, const double *p,
		       double *loss, double *grad, sg_error *err);
sg_lbfgs_opts sg_lbfgs_defaults(void);
/* `steps` calls of torch.optim.LBFGS's step(closure) without line search
 * (PyTorch 1.13's algorithm, its state kept across steps) on the mean loss
 * over d's rows, from p (updated in place); on_step (may be NULL) gets each
 * step's loss before it, which PyTorch's step returns.  Vector arithmetic in
 * double, dot products summed in index order. -1 with *err on a
 * non-finite loss or gradient. */
int sg_lbfgs_fit(const sg_model *m, const sg_data *d, double *p, const sg_lbfgs_opts *o,
		 long steps, void (*on_step)(void *ctx, long step, double loss), void *ctx,
		 sg_error *err);

/* ---- jit.c: compile generated C with the system compiler and dlopen it ---- */

/* The C compiler command: $CC (else "cc") split at blanks, without a
 * shell; quotes and backslashes are refused.  word[n] is NULL. */
#define SG_CC_MAX_WORDS 64
typedef struct sg_cc {
	char *buf; /* free() it */
	char *word[SG_CC_MAX_WORDS + 1];
	int n;
} sg_cc;
int sg_cc_from_env(sg_cc *c, sg_error *err);
typedef struct sg_jit sg_jit;

/* Compiles NAME_grad.c/NAME_grad.h (texts in memory) into a cached shared
 * object and loads it; NULL and *err filled on failure, among them a cache
 * directory that is not the user's own or that others can write.  A cached
 * object is loaded only when it is the user's, unchanged since it was built
 * (SHA-256) and its descriptor is sound; otherwise it is rebuilt.  The
 * rules and the compiler's command line are at the top of jit.c. */
sg_jit *sg_jit_open(const char *name, const char *c_text, const char *h_text,
		    sg_error *err);
/* The target: the machine it runs on (x86-64: the highest level of
 * x86-64-v2..v4 it supports; the default) or the compiler's default
 * target.  Both compute the same bits (see jit.c). */
typedef enum { SG_ISA_NATIVE, SG_ISA_BASELINE } sg_isa;
sg_jit *sg_jit_open_isa(const char *name, const char *c_text,
			const char *h_text, sg_isa isa, sg_error *err);
const char *sg_jit_march(const sg_jit *j);
const sg_model *sg_jit_model(const sg_jit *j);
/* The same for any C text (c_text, which may #include "NAME_grad.h") with
 * no descriptor; sg_jit_model is then NULL, and sg_jit_symbol finds a
 * function the object itself defines (NULL for a name it lacks, or one
 * only a library it links defines). */
sg_jit *sg_jit_open_code(const char *name, const char *c_text, const char *h_text,
			 sg_error *err);
void *sg_jit_symbol(const sg_jit *j, const char *sym);
int sg_jit_was_cached(const sg_jit *j); /* 1 when no compiler ran */
const char *sg_jit_path(const sg_jit *j);
void sg_jit_close(sg_jit *j);

#endif
