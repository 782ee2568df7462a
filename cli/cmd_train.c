/*
 * cmd_train.c: symgrad train on a loaded model (curv.c takes --optimizer
 * newton, lm and lbfgs): options, the hooks that log each epoch (stderr,
 * the CSV log, the progress bar), validation and metrics, the stop line,
 * --plot.  Conventions: cmd.c.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define USAGE_TRAIN                                                           \
	"usage: symgrad train MODEL.sg --data FILE|- [--lr X] [--epochs N] "     \
	"[--batch N|all]\n"                                                      \
	"         [--optimizer sgd|momentum|adam|adamw|lbfgs|newton|lm] "        \
	"[--momentum X] [--shuffle]\n"                                           \
	"         [--seed N] [--load P] [--save P] [--log FILE] [--quiet] "       \
	"[--trace lecture|none]\n"                                               \
	"         [--predict NAME=V[,...]] [--val FILE|--val-split F] "           \
	"[--metric M[,M...]]\n"                                                  \
	"         [--target NAME] [--output NAME] [--lr-schedule S] "             \
	"[--patience N] [--clip-norm X]\n"                                       \
	"         [--weight-decay X] [--log-every N] [--target-loss X] "          \
	"[--plot FILE.svg]\n"                                                    \
	"         [--per-row-calls] [--threads N] [--checkpoint FILE] "          \
	"[--resume FILE] [--whole-data]\n"                                      \
	"         [--dtype double|float] ... (--help: all)"

#define HELP_TRAIN                                                           \
	"Trains the model's parameters on a CSV file of its inputs.\n"       \
	"  --data FILE|-        training data (a header row names columns); "   \
	"part-%d.csv: the files\n"                                             \
	"                       part-0.csv, part-1.csv, ... one after the other\n" \
	"  --lr X               learning rate (0.01)\n"                       \
	"  --epochs N           passes over the data (10)\n"                  \
	"  --batch N|all        rows per step (1); gradients are averaged\n"  \
	"  --optimizer NAME     sgd, momentum, adam or adamw (sgd); lbfgs, "   \
	"newton or lm (full batch)\n"                                          \
	"  --momentum X         momentum factor (0.9)\n"                      \
	"  --shuffle            shuffle the rows every epoch\n"               \
	"  --seed N             draws the random initial values (param W ~ ...)" \
	" and the shuffling (0)\n"                                             \
	"  --load P, --save P   parameter files to start from / write\n"      \
	"  --log FILE           CSV log: epoch,loss,seconds\n"                \
	"  --quiet              no per-epoch log on stderr\n"                 \
	"  --trace lecture      print the lecture's trace on stdout\n"        \
	"  --predict N=V,...    print the outputs there before and after\n"   \
	"  --val FILE           validation data, evaluated after each epoch\n" \
	"  --val-split F        the last fraction F of the rows validates\n"  \
	"  --metric M,...       accuracy, mse, mae on training (and "           \
	"validation) data\n"                                                   \
	"  --output NAME, --target NAME  what the metrics compare (the first\n" \
	"                       output; the class input, else the last input)\n" \
	"  --lr-schedule S      step:STEP_SIZE:GAMMA, exp:GAMMA, "             \
	"cosine:T_MAX[:ETA_MIN]\n"                                             \
	"  --patience N         stop after N epochs without a better "         \
	"validation loss; keep the best\n"                                     \
	"  --clip-norm X        clip each step's gradient to 2-norm X\n"      \
	"  --weight-decay X     sgd/momentum/adam: L2 in the gradient; adamw: " \
	"decoupled (0.01)\n"                                                   \
	"  --log-every N        log every Nth epoch, the first and the last\n" \
	"  --target-loss X      stop once the (validation) loss is <= X\n"      \
	"  --plot FILE.svg      draw the log's curves at the end (symgrad plot)\n" \
	"  --per-row-calls      per-sample SGD calls the backward pass once per "\
	"row (same bits)\n"                                                    \
	"  --threads N          threads for batches over 64 rows (the cores "   \
	"available; same bits)\n"                                              \
	"  --checkpoint FILE    after each epoch, save everything a run needs "  \
	"to go on\n"                                                           \
	"  --resume FILE        go on from a checkpoint (same bits as a run "   \
	"that never stopped)\n"                                                \
	"  --whole-data         under mpirun, every rank reads all the data "   \
	"(default: its share)\n"                                              \
	"  --tol-grad X, --tol-step X  newton, lm, lbfgs: stop at max |grad| or "  \
	"max |step| below X\n"                                                 \
	CLI_HELP_JIT

/* ---- train ---- */

/* Options of the train subcommand. */
typedef struct train_cmd {
	sg_train_opts o;
	const char *data, *load, *save, *log, *predict, *val, *plot;
	const char *checkpoint, *resume;
	int rank;             /* under mpirun: this process's rank; 0 prints
			       * and saves (the others are silenced) */
	int quiet, trace;
	int whole_data;       /* --whole-data: under mpirun, every rank reads
			       * every row (else each its share, share.c) */
	int share_eval;       /* rank 0 computes training metrics each epoch
			       * (and, once the data are read, they are
			       * shared: every rank takes part) */
	int extended;         /* a newer option was given: longer log lines,
			       * more CSV columns, the stop line */
	double val_split;     /* 0, or the fraction of rows that validates */
	int wd_given;         /* --weight-decay given (adamw's default 0.01) */
	long log_every;       /* 1 */
	cli_metric_opts mo;
	sg_metric train_mt[CLI_MAX_METRICS], val_mt[CLI_MAX_METRICS];
} train_cmd;

/* State shared with the training hooks: output streams and timing. */
typedef struct train_run {
	const train_cmd *c;
	sg_trainer *t;
	const sg_data *d;
	sg_out *log_out;     /* --log, or NULL */
	FILE *log;           /* its stream, or the memory log of --plot */
	char *mem_log;       /* --plot without --log: the log in memory */
	size_t mem_len;
	int tty;             /* stderr is a terminal: draw a progress bar */
	struct timespec t0;
	double last_bar;     /* when the bar was last drawn */
	int bar_shown;
	int ck_failed;       /* a checkpoint could not be written */
} train_run;

/* Seconds since r->t0. */
static double elapsed(const train_run *r)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - r->t0.tv_sec) +
	       (double)(t.tv_nsec - r->t0.tv_nsec) * 1e-9;
}

/* Reads a whole number >= 1 into *out; 0 or 2. */
static int count_opt(args *a, long *out)
{
	unsigned long long u;

	if (args_uint(a, &u) < 0)
		return 2;
	if (u < 1 || u > 0x7fffffffu)
		return args_error(a, "option %s%s: bad value '%s' (a whole number "
				  ">= 1)", a->dash, a->name, a->value);
	*out = (long)u;
	return 0;
}

/* Reads a number > 0 into *out; 0 or 2. */
static int positive_opt(args *a, double *out)
{
	if (args_double(a, 0, out) < 0)
		return 2;
	if (*out <= 0)
		return args_error(a, "option %s%s: bad value '%s' (a number > 0)",
				  a->dash, a->name, a->value);
	return 0;
}

/* Reads --val-split F, 0 < F < 1; 0 or 2. */
static int split_opt(train_cmd *c, args *a)
{
	if (args_double(a, 0, &c->val_split) < 0)
		return 2;
	if (!(c->val_split > 0 && c->val_split < 1))
		return args_error(a, "option --val-split: bad value '%s' (a fraction "
				  "between 0 and 1)", a->value);
	return 0;
}

/* Reads --lr-schedule S; 0 or 2. */
static int sched_opt(train_cmd *c, args *a)
{
	const char *v = args_value(a);
	sg_error err;

	if (!v)
		return 2;
	if (sg_lr_sched_parse(v, &c->o.sched, &err) < 0)
		return args_error(a, "option --lr-schedule: %s", err.msg);
	return 0;
}

/* Reads one of the evaluation and training-control options; 0, 2, or -1
 * when a is none of them. */
static int train_opt_new(train_cmd *c, args *a)
{
	int rc = cli_metric_opt(&c->mo, a);

	if (rc < 0 && args_is(a, "val-split"))
		rc = split_opt(c, a);
	else if (rc < 0 && args_is(a, "lr-schedule"))
		rc = sched_opt(c, a);
	else if (rc < 0 && args_is(a, "patience"))
		rc = count_opt(a, &c->o.patience);
	else if (rc < 0 && args_is(a, "log-every"))
		rc = count_opt(a, &c->log_every);
	else if (rc < 0 && args_is(a, "clip-norm"))
		rc = positive_opt(a, &c->o.clip_norm);
	else if (rc < 0 && args_is(a, "weight-decay"))
		rc = args_double(a, 0, &c->o.optim.weight_decay) < 0
			     ? 2
			     : (c->wd_given = 1, 0);
	else if (rc < 0 && args_is(a, "target-loss"))
		rc = args_double(a, -HUGE_VAL, &c->o.target_loss) < 0
			     ? 2
			     : (c->o.use_target_loss = 1, 0);
	else if (rc < 0 && args_is(a, "val"))
		rc = (c->val = args_value(a)) ? 0 : 2;
	if (rc >= 0)
		c->extended = 1;
	return rc;
}

/* Reads one train option; 0, or the exit status of a usage error. */
static int train_opt(train_cmd *c, args *a)
{
	unsigned long long u;
	const char *v;

	if (args_is(a, "lr"))
		return args_double(a, 0, &c->o.optim.lr) < 0 ? 2 : 0;
	if (args_is(a, "momentum"))
		return args_double(a, 0, &c->o.optim.momentum) < 0 ? 2 : 0;
	if (args_is(a, "epochs")) {
		if (args_uint(a, &u) < 0 || u > 0x7fffffffu)
			return 2;
		c->o.epochs = (long)u;
		return 0;
	}
	if (args_is(a, "seed")) {
		if (args_uint(a, &u) < 0)
			return 2;
		c->o.seed = (uint64_t)u;
		return 0;
	}
	if (args_is(a, "batch")) {
		if (!(v = args_value(a)))
			return 2;
		if (strcmp(v, "all") == 0) {
			c->o.batch = 0;
			return 0;
		}
		if (args_uint(a, &u) < 0)
			return 2;
		if (u == 0)
			return args_error(a, "option --batch: 0 rows per step "
					   "(give 1 or more, or all)");
		c->o.batch = (size_t)u;
		return 0;
	}
	if (args_is(a, "optimizer")) {
		if (!(v = args_value(a)))
			return 2;
		if (sg_optim_parse_kind(v, &c->o.optim.kind) < 0)
			return args_error(a, "unknown optimizer '%s' (sgd, momentum, "
					  "adam, adamw, lbfgs, newton, lm)", v);
		return 0;
	}
	if (args_is(a, "trace")) {
		if (!(v = args_value(a)))
			return 2;
		if (strcmp(v, "lecture") != 0 && strcmp(v, "none") != 0)
			return args_error(a, "unknown trace '%s' (lecture, "
					   "none)", v);
		c->trace = strcmp(v, "lecture") == 0;
		return 0;
	}
	if (args_is(a, "shuffle"))
		return args_flag(a) < 0 ? 2 : (c->o.shuffle = 1, 0);
	if (args_is(a, "quiet"))
		return args_flag(a) < 0 ? 2 : (c->quiet = 1, 0);
	if (args_is(a, "per-row-calls"))
		return args_flag(a) < 0 ? 2 : (c->o.per_row_calls = 1, 0);
	if (args_is(a, "whole-data"))
		return args_flag(a) < 0 ? 2 : (c->whole_data = 1, 0);
	if (args_is(a, "threads")) {
		if (args_uint(a, &u) < 0)
			return 2;
		if (u < 1 || u > SG_THREADS_MAX)
			return args_error(a, "option --threads: %llu threads (give 1 "
					  "to %d)", u, SG_THREADS_MAX);
		c->o.threads = (int)u;
		return 0;
	}
	return train_opt_new(c, a);
}

/* Checks the combinations of the newer options; 0 or 2. */
static int train_check(train_cmd *c, const args *a)
{
	if (c->val && c->val_split > 0)
		return args_error(a, "give --val FILE or --val-split F, not both");
	if (c->o.patience && !c->val && !c->val_split)
		return args_error(a, "--patience needs validation data (--val FILE "
				  "or --val-split F)");
	if (c->plot && c->log && !strcmp(c->log, "-"))
		return args_error(a, "--plot reads the log back: give --log FILE, not "
				  "standard output");
	if (c->o.optim.kind == SG_OPTIM_ADAMW && !c->wd_given)
		c->o.optim.weight_decay = 0.01; /* torch.optim.AdamW's default */
	return 0;
}

/* Reads the train command line into c; 0 or an exit status. */
static int train_args(train_cmd *c, args *a)
{
	const char **slot;
	int rc;

	while ((rc = args_next_opt(a)) > 0) {
		if ((rc = train_opt(c, a)) >= 0) {
			if (rc)
				return rc;
			continue;
		}
		slot = args_is(a, "data")      ? &c->data
		       : args_is(a, "load")    ? &c->load
		       : args_is(a, "save")    ? &c->save
		       : args_is(a, "log")     ? &c->log
		       : args_is(a, "predict") ? &c->predict
		       : args_is(a, "plot")    ? &c->plot
		       : args_is(a, "checkpoint") ? &c->checkpoint
		       : args_is(a, "resume")  ? &c->resume
					      : NULL;
		if (!slot)
			return args_error(a, "unknown option %s%s", a->dash, a->name);
		if (!(*slot = args_value(a)))
			return 2;
	}
	if (rc < 0)
		return 2;
	if (!c->data)
		return args_error(a, "train needs --data FILE");
	if (c->trace && c->o.batch != 1)
		return args_error(a, "--trace lecture needs --batch 1");
	if (c->resume && c->load)
		return args_error(a, "give --load P or --resume FILE, not both");
	return train_check(c, a);
}

/* Prints "predict (LABEL) V... OUT..." for the --predict assignment. */
static void print_predict(sg_trainer *t, const cli_assign *as, const char *label)
{
	const sg_model *m = sg_trainer_model(t);
	double out[64], *o = m->n_outputs <= 64 ? out : NULL;
	int i;

	if (!o && !(o = malloc((size_t)m->n_outputs * sizeof *o)))
		return;
	sg_trainer_predict(t, as->in, o);
	printf("predict (%s)", label);
	for (i = 0; i < as->n_order; i++)
		printf(" %s", as->order[i]);
	for (i = 0; i < m->n_outputs; i++) {
		putchar(' ');
		sg_print_repr(stdout, o[i]);
	}
	putchar('\n');
	if (o != out)
		free(o);
}

/* Step hook of --trace lecture: "\tgrad:  INPUTS... GRADS...". */
static void trace_step(void *ctx, const sg_trainer *t, const sg_step_info *s)
{
	const train_run *r = ctx;
	const sg_model *m = sg_trainer_model(t);
	const double *x = sg_data_row(r->d, s->rows[0]);
	int i;

	fputs("\tgrad: ", stdout);
	for (i = 0; i < m->n_inputs; i++) {
		putchar(' ');
		sg_print_repr(stdout, x[i]);
	}
	for (i = 0; i < m->n_params; i++) {
		putchar(' ');
		sg_print_repr(stdout, sg_trainer_grad(t, i));
	}
	putchar('\n');
}

/* Draws "[#####     ]  45% epoch 450/1000 ETA 3s" on a terminal. */
static void draw_bar(train_run *r, long done, double now)
{
	long total = r->c->o.epochs;
	int width = 30, fill = (int)(width * done / (total ? total : 1)), i;
	double eta = done ? now / (double)done * (double)(total - done) : 0;

	fputs("\r[", stderr);
	for (i = 0; i < width; i++)
		fputc(i < fill ? '#' : ' ', stderr);
	fprintf(stderr, "] %3d%% epoch %ld/%ld ETA %.0fs\033[K",
		(int)(100 * done / (total ? total : 1)), done, total, eta);
	fflush(stderr);
	r->last_bar = now;
	r->bar_shown = 1;
}

/* The values of an extended log line, in the CSV log's column order:
 * loss, val_loss, training metrics, validation metrics, lr, grad_norm.
 * Returns how many; names[i] gets each column's name.  With eval, the
 * training metrics are computed (a pass over the training data at the
 * epoch's final parameters). */
static int epoch_values(train_run *r, int eval, double mean_loss, double *v,
			const char **names, char (*nbuf)[32])
{
	const train_cmd *c = r->c;
	const sg_epoch_stats *st = sg_trainer_stats(r->t);
	sg_error err;
	double ignored;
	int n = 0, i;

	names[n] = "loss";
	v[n++] = mean_loss;
	if (c->o.val) {
		names[n] = "val_loss";
		v[n++] = st->val_loss;
	}
	if (eval && c->mo.n && sg_trainer_evaluate(r->t, r->d, (sg_metric *)c->train_mt,
					   c->mo.n, &ignored, &err) < 0)
		ignored = NAN; /* cannot fail: the table was trained on */
	for (i = 0; i < c->mo.n; i++) {
		names[n] = sg_metric_name(c->mo.kind[i]);
		v[n++] = sg_metric_value(&c->train_mt[i]);
	}
	for (i = 0; c->o.val && i < c->mo.n; i++) {
		snprintf(nbuf[i], sizeof nbuf[i], "val_%s", sg_metric_name(c->mo.kind[i]));
		names[n] = nbuf[i];
		v[n++] = sg_metric_value(&c->val_mt[i]);
	}
	names[n] = "lr";
	v[n++] = st->lr;
	names[n] = "grad_norm";
	v[n++] = st->grad_norm;
	return n;
}

/* The CSV log's header: "epoch,loss,seconds", or with the newer options
 * epoch, the columns of epoch_values, seconds. */
static void log_header(train_run *r)
{
	const char *names[4 + 2 * CLI_MAX_METRICS];
	char nbuf[CLI_MAX_METRICS][32];
	double v[4 + 2 * CLI_MAX_METRICS];
	int n, i;

	if (!r->c->extended) {
		fputs("epoch,loss,seconds\n", r->log);
		return;
	}
	n = epoch_values(r, 0, NAN, v, names, nbuf);
	fputs("epoch", r->log);
	for (i = 0; i < n; i++)
		fprintf(r->log, ",%s", names[i]);
	fputs(",seconds\n", r->log);
}

/* Writes one extended epoch line: the CSV row and, when shown, the stderr
 * line "epoch E/N loss L [val_loss V] ... lr LR grad_norm G time Ts". */
static void log_extended(train_run *r, long epoch, double mean_loss,
			 double now, int show)
{
	const char *names[4 + 2 * CLI_MAX_METRICS];
	char nbuf[CLI_MAX_METRICS][32], buf[SG_REPR_MAX];
	double v[4 + 2 * CLI_MAX_METRICS];
	int n = epoch_values(r, 1, mean_loss, v, names, nbuf), i;

	if (r->log) {
		fprintf(r->log, "%ld", epoch + 1);
		for (i = 0; i < n; i++) {
			sg_fmt_repr(buf, sizeof buf, v[i]);
			fprintf(r->log, ",%s", buf);
		}
		fprintf(r->log, ",%.6f\n", now);
	}
	if (!show)
		return;
	fprintf(stderr, "epoch %ld/%ld", epoch + 1, r->c->o.epochs);
	for (i = 0; i < n; i++) {
		sg_fmt_repr(buf, sizeof buf, v[i]);
		fprintf(stderr, " %s %s", names[i], buf);
	}
	fprintf(stderr, " time %.3fs\n", now);
}

/* 1 when --log-every shows epoch (0-based) on stderr: every Nth, the
 * first and the last. */
static int shown(const train_run *r, long epoch)
{
	const sg_epoch_stats *st = sg_trainer_stats(r->t);

	return epoch == 0 || (epoch + 1) % r->c->log_every == 0 || st->last;
}

/* Epoch hook: trace line, stderr log, CSV log, progress bar. */
static void train_epoch(void *ctx, const sg_trainer *t, long epoch,
			double mean_loss, double last_loss)
{
	train_run *r = ctx;
	char buf[SG_REPR_MAX];
	double now = elapsed(r);
	int show = !r->c->quiet && shown(r, epoch);
	sg_error err;

	if (r->c->checkpoint && r->c->rank == 0 && !r->ck_failed &&
	    sg_trainer_save_checkpoint(t, r->c->checkpoint, &err) < 0) {
		cli_fail(&err);
		r->ck_failed = 1; /* the run goes on; its status will be 1 */
	}
	if (r->c->rank > 0 && r->c->share_eval) { /* rank 0 computes them */
		double ignored;
		sg_trainer_evaluate(r->t, r->d, (sg_metric *)r->c->train_mt, r->c->mo.n,
				    &ignored, &err);
	}
	if (r->c->trace) {
		printf("progress: %ld ", epoch);
		sg_print_repr(stdout, last_loss);
		putchar('\n');
	}
	if (!r->log && r->c->quiet)
		return; /* formatting costs more than an epoch of a small model */
	if (show && r->bar_shown)
		fputs("\r\033[K", stderr);
	if (r->c->extended)
		log_extended(r, epoch, mean_loss, now, show);
	else {
		sg_fmt_repr(buf, sizeof buf, mean_loss);
		if (r->log)
			fprintf(r->log, "%ld,%s,%.6f\n", epoch + 1, buf, now);
		if (show)
			fprintf(stderr, "epoch %ld/%ld loss %s time %.3fs\n", epoch + 1,
				r->c->o.epochs, buf, now);
	}
	/* after a second, so short runs never show it; ten times a second at
	 * most, so a fast model does not spend its time drawing */
	if (!r->c->quiet && r->tty && now > 1.0 && now - r->last_bar >= 0.1 &&
	    epoch + 1 < r->c->o.epochs)
		draw_bar(r, epoch + 1, now);
}

/* Prints why training stopped ("stopped: ..."), with the newer options. */
static void print_stop(const train_run *r, int failed)
{
	const sg_epoch_stats *st = sg_trainer_stats(r->t);
	const train_cmd *c = r->c;
	char buf[SG_REPR_MAX];
	int kept = c->o.patience > 0 && st->best_epoch >= 0;

	if (failed)
		fprintf(stderr, "stopped: non-finite number at epoch %ld (see the error "
			"above); %s\n", st->epoch + 1,
			kept ? "the parameters of the best epoch are kept"
			     : "the last finite parameters are kept");
	else if (st->stop == SG_STOP_PATIENCE)
		fprintf(stderr, "stopped: no improvement in validation loss for %ld "
			"epochs (best at epoch %ld, its parameters kept)\n",
			c->o.patience, st->best_epoch + 1);
	else if (st->stop == SG_STOP_TARGET) {
		sg_fmt_repr(buf, sizeof buf, c->o.target_loss);
		fprintf(stderr, "stopped: %s reached --target-loss %s at epoch %ld\n",
			c->o.val ? "validation loss" : "loss", buf, st->epoch + 1);
	} else if (kept)
		fprintf(stderr, "stopped: %ld epochs done (best validation loss at "
			"epoch %ld, its parameters kept)\n", st->epoch + 1,
			st->best_epoch + 1);
	else
		fprintf(stderr, "stopped: %ld epochs done\n", c->o.epochs);
}

/* Saves the trainer's parameters to path; 0 or -1 (message printed). */
static int save_params(sg_trainer *t, const char *path)
{
	const sg_model *m = sg_trainer_model(t);
	double *p = calloc((size_t)m->n_params + 1, sizeof *p);
	sg_error err;
	int rc;

	if (!p)
		return sg_errorf(&err, "out of memory"), cli_fail(&err), -1;
	sg_trainer_get_params(t, p);
	rc = sg_params_save(path, m, p, &err);
	if (rc < 0)
		cli_fail(&err);
	free(p);
	return rc;
}

/* Trains with everything set up; returns the exit status. */
static int train_body(sg_trainer *t, train_run *r, const cli_assign *as)
{
	sg_error err;
	int rc = 0;

	if (r->c->predict)
		print_predict(t, as, "before training");
	if (sg_trainer_run(t, r->d, &err) < 0) {
		fflush(stdout);
		if (r->bar_shown)
			fputs("\r\033[K", stderr);
		cli_fail(&err);
		rc = 1;
	} else if (r->c->predict)
		print_predict(t, as, "after training");
	if (r->bar_shown && rc == 0)
		fputs("\r\033[K", stderr);
	if (r->c->extended)
		print_stop(r, rc);
	fflush(stdout);
	if (r->c->save && save_params(t, r->c->save) < 0)
		rc = 1;
	return r->ck_failed ? 1 : rc;
}

/* Splits off the last c->val_split of *d's rows (Keras's validation_split:
 * the first int(n * (1 - F)) rows train) into *val; -1, message printed. */
static int split_data(const train_cmd *c, sg_data **d, sg_data **val)
{
	size_t n = sg_data_total(*d), keep = (size_t)((double)n * (1 - c->val_split));
	sg_data *train;

	if (keep == 0 || keep == n) {
		fprintf(stderr, "symgrad: error: %s: --val-split %g of %zu rows leaves "
			"no %s rows\n", (*d)->source, c->val_split, n,
			keep ? "validation" : "training");
		return -1;
	}
	train = sg_data_part(*d, 0, keep);
	*val = sg_data_part(*d, keep, n - keep);
	sg_data_free(*d);
	*d = train;
	if (!train || !*val)
		return fputs("symgrad: error: out of memory\n", stderr), -1;
	return 0;
}

/* Reads the training data, and the validation data of --val or
 * --val-split: under mpirun each rank its share (share.c), unless
 * --whole-data.  -1 with the message printed; -2 when another rank failed
 * (it prints why). */
static int read_train_data(const sg_model *m, const train_cmd *c,
			   sg_data **d, sg_data **val)
{
	const sg_comm *share = c->whole_data ? NULL : c->o.comm;
	sg_error err;

	if (!(*d = sg_data_read_share(c->data, m, share, &err)))
		return err.msg[0] ? (cli_fail(&err), -1) : -2;
	if (c->val && !(*val = sg_data_read_share(c->val, m, share, &err)))
		return err.msg[0] ? (cli_fail(&err), -1) : -2;
	if ((*d)->shared && c->trace) {
		fputs("symgrad: error: --trace prints rows that rank 0 does not hold: "
		      "with mpirun, add --whole-data\n", stderr);
		return -1;
	}
	if (c->val_split > 0)
		return split_data(c, d, val);
	return 0;
}

/* --plot: draws the log (the --log file, or the one kept in memory) with
 * the model's name as title; 0 or -1 (message printed). */
static int plot_run(train_run *r, const sg_model *m)
{
	plot_opts po = {.title = m->name};

	if (r->c->log)
		return plot_log_file(r->c->log, r->c->plot, &po);
	if (!r->log || fclose(r->log) != 0) {
		r->log = NULL;
		return fputs("symgrad: error: out of memory\n", stderr), -1;
	}
	r->log = NULL;
	return plot_log_text("the training log", r->mem_log, r->mem_len, r->c->plot, &po);
}

/* Reads data, builds the trainer and runs; returns the exit status. */
static int train_main(const sg_model *m, train_cmd *c, const cli_assign *as)
{
	train_run r;
	sg_trainer *t = NULL;
	sg_data *d = NULL, *val = NULL;
	sg_error err;
	int rc = 1, ran = 0;

	memset(&r, 0, sizeof r);
	r.c = c;
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	r.tty = isatty(STDERR_FILENO);
	if ((rc = read_train_data(m, c, &d, &val)) < 0) {
		sg_data_free(d);
		sg_data_free(val);
		/* the other ranks must not wait for this one; a rank that failed
		 * only because another did lets that one's message be named */
		cli_mpi_agree(rc == -2);
		return 1;
	}
	rc = 1;
	r.d = d;
	c->share_eval = d->shared && c->share_eval;
	c->o.val = val;
	c->o.val_metrics = val ? c->val_mt : NULL;
	c->o.n_val_metrics = val ? c->mo.n : 0;
	c->o.ctx = &r;
	c->o.on_step = c->trace ? trace_step : NULL;
	c->o.on_epoch = train_epoch;
	if (!(t = r.t = sg_trainer_new(m, &c->o, &err)))
		cli_fail(&err);
	else if (c->load && cli_load_params(t, c->load) < 0)
		;
	else if (c->resume && sg_trainer_load_checkpoint(t, c->resume, &err) < 0)
		cli_fail(&err);
	else if (c->log && !(r.log_out = sg_out_open(c->log, &err)))
		cli_fail(&err);
	else if (!c->log && c->plot && !(r.log = open_memstream(&r.mem_log, &r.mem_len)))
		fputs("symgrad: error: out of memory\n", stderr);
	else
		ran = 1;
	if (!cli_mpi_agree(ran))
		ran = 0;
	else {
		if (r.log_out)
			r.log = sg_out_stream(r.log_out);
		if (r.log)
			log_header(&r);
		rc = train_body(t, &r, as);
	}
	/* the log of the epochs done is kept even when training failed */
	if (r.log_out && sg_out_commit(&r.log_out, 1, &err) < 0)
		rc = cli_fail(&err);
	else if (c->plot && ran && plot_run(&r, m) < 0)
		rc = 1;
	free(r.mem_log);
	sg_trainer_free(t);
	sg_data_free(d);
	sg_data_free(val);
	return rc;
}

/* symgrad train MODEL.sg [options]: see USAGE_TRAIN. */
int sg_cmd_train(const sg_model *m, int argc, char **argv)
{
	args a = {.argc = argc, .argv = argv, .usage = USAGE_TRAIN};
	train_cmd c;
	cli_assign as;
	int rc;

	if (cli_help_or_no_model(m, argc, argv, USAGE_TRAIN, HELP_TRAIN, &rc))
		return rc;
	if (sg_curv_kind(argc, argv)) /* --optimizer newton, lm or lbfgs */
		return cli_stdout_status(sg_cmd_curv(m, argc, argv));
	memset(&c, 0, sizeof c);
	c.o = sg_train_defaults();
	c.o.threads = sg_threads_available();
	if (cli_assign_init(&as, m) < 0) {
		cli_assign_free(&as);
		fputs("symgrad: error: out of memory\n", stderr);
		return 1;
	}
	c.log_every = 1;
	rc = train_args(&c, &a);
	if (rc == 0)
		rc = cli_metric_setup(&c.mo, m, c.train_mt, &a);
	if (rc == 0)
		rc = cli_metric_setup(&c.mo, m, c.val_mt, &a);
	if (rc == 0 && c.predict) {
		strcpy(a.name, "predict");
		a.dash = "--";
		if (cli_assign_parse(&as, m, c.predict, 0, &a) < 0)
			rc = 2;
	}
	if (rc == 0 && (rc = cli_mpi_start(&c.rank, &c.o.comm)) == 0) {
		/* as log_extended does on rank 0, before the others go quiet */
		c.share_eval = c.extended && c.mo.n && (c.log || c.plot || !c.quiet);
		if (c.rank > 0) { /* rank 0 prints and saves */
			c.quiet = 1;
			c.save = c.log = c.plot = NULL;
		}
		rc = cli_mpi_finish(train_main(m, &c, &as));
	}
	cli_assign_free(&as);
	return cli_stdout_status(rc);
}
