/*
 * cmd.c: the train, predict, eval and test subcommands.
 *
 * Conventions: results go to stdout and nothing else does, so stdout can
 * be compared byte for byte; logs, progress and errors go to stderr.  A
 * failure prints "symgrad: error: ..." and returns 1; a bad command line
 * also prints a usage line and returns 2.  Options take their value as the
 * next argument or after '=' (--lr=0.1).  Numbers print in Python's repr.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define USAGE_TRAIN                                                           \
	"usage: symgrad train MODEL.sg --data FILE|- [--lr X] [--epochs N] "     \
	"[--batch N|all] [--optimizer sgd|momentum|adam|adamw] [--momentum X] " \
	"[--shuffle] [--seed N] [--load P] [--save P] [--log FILE] [--quiet] " \
	"[--trace lecture|none] [--predict NAME=V[,NAME=V...]] "               \
	"[--val FILE|--val-split F] [--metric M[,M...]] [--target NAME] "     \
	"[--output NAME] [--lr-schedule S] [--patience N] [--clip-norm X] "   \
	"[--weight-decay X] [--log-every N] [--target-loss X] [--plot FILE.svg] "     \
	"[--per-row-calls] [--threads N]"
#define USAGE_PREDICT                                                       \
	"usage: symgrad predict MODEL.sg --data FILE|- [--params P] "          \
	"[--with-inputs] [--format csv|json]"
#define USAGE_TEST                                                          \
	"usage: symgrad test MODEL.sg --data FILE|- [--params P] "             \
	"[--metric M[,M...]] [--target NAME] [--output NAME] [--format text|json]"
#define USAGE_EVAL \
	"usage: symgrad eval MODEL.sg --at NAME=V[,NAME=V...] [--params P] "   \
	"[--format text|json]"

#define HELP_TRAIN                                                           \
	"Trains the model's parameters on a CSV file of its inputs.\n"       \
	"  --data FILE|-        training data (a header row names columns)\n" \
	"  --lr X               learning rate (0.01)\n"                       \
	"  --epochs N           passes over the data (10)\n"                  \
	"  --batch N|all        rows per step (1); gradients are averaged\n"  \
	"  --optimizer NAME     sgd, momentum, adam or adamw (sgd)\n"       \
	"  --momentum X         momentum factor (0.9)\n"                      \
	"  --shuffle            shuffle the rows every epoch\n"               \
	"  --seed N             shuffle seed (0)\n"                           \
	"  --load P, --save P   parameter files to start from / write\n"      \
	"  --log FILE           CSV log: epoch,loss,seconds\n"                \
	"  --quiet              no per-epoch log on stderr\n"                 \
	"  --trace lecture      print the lecture's trace on stdout\n"        \
	"  --predict N=V,...    print the outputs there before and after\n"   \
	"  --val FILE           validation data, evaluated after each epoch\n" \
	"  --val-split F        the last fraction F of the rows validates\n"  \
	"  --metric M,...       accuracy, mse, mae on training (and "           \
	"validation) data\n"                                                   \
	"  --output NAME, --target NAME  what the metrics compare (first "      \
	"output; class input, else last input)\n"                              \
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
	"available; same bits)\n"
#define HELP_PREDICT                                                          \
	"Prints the model's outputs for each row of a CSV file.\n"           \
	"  --data FILE|-        inputs (columns the outputs do not use may be "\
	"left out)\n"                                                          \
	"  --params P           parameter file (default: the model's values)\n" \
	"  --with-inputs        print each row's inputs before its outputs\n"  \
	"  --format csv|json    output format (csv)\n"
#define HELP_TEST                                                             \
	"Prints the mean loss and metrics of the model on a CSV file.\n"      \
	"  --data FILE|-        the data\n"                                    \
	"  --params P           parameter file (default: the model's values)\n" \
	"  --metric M,...       accuracy, mse, mae (repeatable)\n"             \
	"  --output NAME, --target NAME  what the metrics compare\n"          \
	"  --format text|json   output format (text)\n"
#define HELP_EVAL                                                             \
	"Prints loss, outputs and gradient at one point.\n"                  \
	"  --at N=V,...         every input; parameters default to the "      \
	"model's values\n"                                                    \
	"                       (x[1]=2, M[0,1]=3, x=[1,2], M=[[1,2],[3,4]], " \
	"w=0.5* for every element)\n"                                        \
	"  --params P           parameters from a file (--at overrides)\n"  \
	"  --format text|json   output format (text)\n"

/* The exit status once standard output is flushed: rc, or 1 (message
 * printed) when some of what was written to it was lost. */
static int stdout_status(int rc)
{
	sg_error err;

	if (sg_stdout_close(&err) < 0) {
		sg_error_print(&err);
		return 1;
	}
	return rc;
}

/* Handles --help/-h anywhere in argv: prints usage and help to stdout and
 * sets *rc to 0.  Without --help, a NULL model is a usage error (*rc 2).
 * Returns 1 when the command is finished. */
static int help_or_no_model(const sg_model *m, int argc, char **argv,
			    const char *usage, const char *help, int *rc)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("%s\n%s", usage, help);
			*rc = stdout_status(0);
			return 1;
		}
	if (m)
		return 0;
	fprintf(stderr, "symgrad: error: no model given\n%s\n", usage);
	*rc = 2;
	return 1;
}

/* Prints err and returns 1. */
int cli_fail(const sg_error *err)
{
	sg_error_print(err);
	return 1;
}


/* ---- NAME=VALUE lists (--predict, --at) ---- */

/* Parsed assignments (the grammar is at.c's): values per model input and
 * param, and each item's value as typed, for --predict's trace line. */
typedef struct assign {
	int n_in, n_par;
	double *in, *par;
	char *in_set, *par_set;
	const char **order;   /* typed values in the order given */
	int n_order;
	char *buf;            /* the copied list text */
} assign;

/* Frees the arrays of a. */
static void assign_free(assign *a)
{
	free(a->in);
	free(a->par);
	free(a->in_set);
	free(a->par_set);
	free(a->order);
	free(a->buf);
}

/* Sets up empty assignments for m: inputs NaN, params at their initial
 * values; -1 when out of memory. */
static int assign_init(assign *a, const sg_model *m)
{
	int i;

	memset(a, 0, sizeof *a);
	a->n_in = m->n_inputs;
	a->n_par = m->n_params;
	a->in = calloc((size_t)a->n_in + 1, sizeof *a->in);
	a->par = calloc((size_t)a->n_par + 1, sizeof *a->par);
	a->in_set = calloc((size_t)a->n_in + 1, 1);
	a->par_set = calloc((size_t)a->n_par + 1, 1);
	if (!a->in || !a->par || !a->in_set || !a->par_set)
		return -1;
	for (i = 0; i < a->n_in; i++)
		a->in[i] = NAN;
	for (i = 0; i < a->n_par; i++)
		a->par[i] = m->param_init[i];
	return 0;
}

/* Splits the copied list into items at commas outside brackets and keeps
 * each item's value text, trimmed, in as->order. */
static int keep_typed(assign *as)
{
	size_t n = strlen(as->buf);
	char *s = as->buf, *item = s;
	int depth = 0;

	free(as->order);
	as->n_order = 0;
	if (!(as->order = calloc(n / 2 + 2, sizeof *as->order)))
		return -1;
	for (;; s++) {
		if (*s == '[')
			depth++;
		else if (*s == ']')
			depth--;
		if (*s && (*s != ',' || depth > 0))
			continue;
		int end = *s == '\0';
		char *eq = strchr(item, '='), *e = s;
		*s = '\0';
		if (eq) {
			for (eq++; *eq == ' ' || *eq == '\t'; eq++)
				;
			while (e > eq && (e[-1] == ' ' || e[-1] == '\t'))
				*--e = '\0';
			as->order[as->n_order++] = eq;
		}
		if (end)
			return 0;
		item = s + 1;
	}
}

/* The class inputs given in as are whole numbers in range; else a usage
 * error (-1). */
static int check_class_inputs(const assign *as, const sg_model *m, const args *a)
{
	for (int i = 0; i < m->n_inputs; i++) {
		int k = sg_class_input(m, i);
		if (k > 0 && as->in_set[i] && !sg_class_ok(as->in[i], k))
			return args_error(a, "option %s%s: '%s' is a class index of "
					   "cross_entropy: a whole number from 0 to %d, not "
					   "%.17g", a->dash, a->name, m->input_names[i], k - 1,
					   as->in[i]), -1;
	}
	return 0;
}

/* Parses "NAME=V[,NAME=V...]" into as (which keeps a copy of the text). */
static int assign_parse(assign *as, const sg_model *m, const char *list,
			int with_params, const args *a)
{
	sg_error err;

	if (sg_at_parse(list, m->n_inputs, m->input_names, as->in, as->in_set,
			m->n_params, m->param_names, with_params ? as->par : NULL,
			as->par_set, &err) < 0)
		return args_error(a, "option %s%s: %s", a->dash, a->name, err.msg), -1;
	if (check_class_inputs(as, m, a) < 0)
		return -1;
	free(as->buf);
	if (!(as->buf = strdup(list)) || keep_typed(as) < 0)
		return args_error(a, "out of memory"), -1;
	return 0;
}

/* ---- --metric, --output, --target (train and test) ---- */

#define MAX_METRICS 3

/* The metrics asked for, in the order first given, and what they
 * compare (NULL: the defaults of sg_metric_setup). */
typedef struct metric_opts {
	sg_metric_kind kind[MAX_METRICS];
	int n;
	const char *output, *target;
} metric_opts;

/* Adds the comma list v to mo (repeats ignored); 0 or 2. */
static int metric_list(metric_opts *mo, const char *v, const args *a)
{
	char buf[64];
	sg_metric_kind k;
	size_t n;
	int i;

	for (;; v += n + 1) {
		n = strcspn(v, ",");
		snprintf(buf, sizeof buf, "%.*s", (int)(n < 63 ? n : 63), v);
		if (sg_metric_parse_kind(buf, &k) < 0)
			return args_error(a, "unknown metric '%s' (accuracy, mse, mae)",
					  buf);
		for (i = 0; i < mo->n && mo->kind[i] != k; i++)
			;
		if (i == mo->n)
			mo->kind[mo->n++] = k;
		if (!v[n])
			return 0;
	}
}

/* Reads --metric, --output or --target: 0 or 2; -1 for another option. */
static int metric_opt(metric_opts *mo, args *a)
{
	const char *v;

	if (!args_is(a, "metric") && !args_is(a, "output") && !args_is(a, "target"))
		return -1;
	if (!(v = args_value(a)))
		return 2;
	if (args_is(a, "output"))
		mo->output = v;
	else if (args_is(a, "target"))
		mo->target = v;
	else
		return metric_list(mo, v, a);
	return 0;
}

/* Sets up the n metrics of mo for m in mt; 0, or 2 (usage error printed)
 * when the output or target cannot be determined. */
static int metric_setup(const metric_opts *mo, const sg_model *m,
			sg_metric *mt, const args *a)
{
	sg_error err;
	int i;

	if (!mo->n && (mo->output || mo->target))
		return args_error(a, "--%s needs --metric",
				  mo->output ? "output" : "target");
	for (i = 0; i < mo->n; i++)
		if (sg_metric_setup(&mt[i], mo->kind[i], m, mo->output, mo->target,
				    &err) < 0)
			return args_error(a, "--metric %s: %s",
					  sg_metric_name(mo->kind[i]), err.msg);
	return 0;
}

/* ---- train ---- */

/* Options of the train subcommand. */
typedef struct train_cmd {
	sg_train_opts o;
	const char *data, *load, *save, *log, *predict, *val, *plot;
	int quiet, trace;
	int extended;         /* a newer option was given: longer log lines,
			       * more CSV columns, the stop line */
	double val_split;     /* 0, or the fraction of rows that validates */
	int wd_given;         /* --weight-decay given (adamw's default 0.01) */
	long log_every;       /* 1 */
	metric_opts mo;
	sg_metric train_mt[MAX_METRICS], val_mt[MAX_METRICS];
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
	int rc = metric_opt(&c->mo, a);

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
			return args_error(a, "unknown optimizer '%s' (sgd, "
					   "momentum, adam, adamw)", v);
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
	return train_check(c, a);
}

/* Prints "predict (LABEL) V... OUT..." for the --predict assignment. */
static void print_predict(sg_trainer *t, const assign *as, const char *label)
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
	const char *names[4 + 2 * MAX_METRICS];
	char nbuf[MAX_METRICS][32];
	double v[4 + 2 * MAX_METRICS];
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
	const char *names[4 + 2 * MAX_METRICS];
	char nbuf[MAX_METRICS][32], buf[SG_REPR_MAX];
	double v[4 + 2 * MAX_METRICS];
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

	(void)t;
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

/* Loads --load into the trainer; 0 or -1 (message printed). */
static int load_params(sg_trainer *t, const char *path)
{
	const sg_model *m = sg_trainer_model(t);
	double *p = calloc((size_t)m->n_params + 1, sizeof *p);
	sg_error err;
	int rc;

	if (!p)
		return sg_errorf(&err, "out of memory"), cli_fail(&err), -1;
	rc = sg_params_load(path, m, p, &err);
	if (rc < 0)
		cli_fail(&err);
	else
		sg_trainer_set_params(t, p);
	free(p);
	return rc;
}

/* Trains with everything set up; returns the exit status. */
static int train_body(sg_trainer *t, train_run *r, const assign *as)
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
	return rc;
}

/* Splits off the last c->val_split of *d's rows (Keras's validation_split:
 * the first int(n * (1 - F)) rows train) into *val; -1, message printed. */
static int split_data(const train_cmd *c, sg_data **d, sg_data **val)
{
	size_t n = (*d)->n_rows, keep = (size_t)((double)n * (1 - c->val_split));
	sg_data *train;

	if (keep == 0 || keep == n) {
		fprintf(stderr, "symgrad: error: %s: --val-split %g of %zu rows leaves "
			"no %s rows\n", (*d)->source, c->val_split, n,
			keep ? "validation" : "training");
		return -1;
	}
	train = sg_data_slice(*d, 0, keep);
	*val = sg_data_slice(*d, keep, n - keep);
	sg_data_free(*d);
	*d = train;
	if (!train || !*val)
		return fputs("symgrad: error: out of memory\n", stderr), -1;
	return 0;
}

/* Reads the training data, and the validation data of --val or
 * --val-split; -1 with the message printed. */
static int read_train_data(const sg_model *m, const train_cmd *c,
			   sg_data **d, sg_data **val)
{
	sg_error err;

	if (!(*d = sg_data_read_csv(c->data, m, &err)))
		return cli_fail(&err), -1;
	if (c->val && !(*val = sg_data_read_csv(c->val, m, &err)))
		return cli_fail(&err), -1;
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
static int train_main(const sg_model *m, train_cmd *c, const assign *as)
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
	if (read_train_data(m, c, &d, &val) < 0) {
		sg_data_free(d);
		sg_data_free(val);
		return 1;
	}
	r.d = d;
	c->o.val = val;
	c->o.val_metrics = val ? c->val_mt : NULL;
	c->o.n_val_metrics = val ? c->mo.n : 0;
	c->o.ctx = &r;
	c->o.on_step = c->trace ? trace_step : NULL;
	c->o.on_epoch = train_epoch;
	if (!(t = r.t = sg_trainer_new(m, &c->o, &err)))
		cli_fail(&err);
	else if (c->load && load_params(t, c->load) < 0)
		;
	else if (c->log && !(r.log_out = sg_out_open(c->log, &err)))
		cli_fail(&err);
	else if (!c->log && c->plot && !(r.log = open_memstream(&r.mem_log, &r.mem_len)))
		fputs("symgrad: error: out of memory\n", stderr);
	else {
		if (r.log_out)
			r.log = sg_out_stream(r.log_out);
		if (r.log)
			log_header(&r);
		rc = train_body(t, &r, as);
		ran = 1;
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
	assign as;
	int rc;

	if (help_or_no_model(m, argc, argv, USAGE_TRAIN, HELP_TRAIN, &rc))
		return rc;
	if (sg_curv_kind(argc, argv)) /* --optimizer newton or lm */
		return stdout_status(sg_cmd_curv(m, argc, argv));
	memset(&c, 0, sizeof c);
	c.o = sg_train_defaults();
	c.o.threads = sg_threads_available();
	if (assign_init(&as, m) < 0) {
		assign_free(&as);
		fputs("symgrad: error: out of memory\n", stderr);
		return 1;
	}
	c.log_every = 1;
	rc = train_args(&c, &a);
	if (rc == 0)
		rc = metric_setup(&c.mo, m, c.train_mt, &a);
	if (rc == 0)
		rc = metric_setup(&c.mo, m, c.val_mt, &a);
	if (rc == 0 && c.predict) {
		strcpy(a.name, "predict");
		a.dash = "--";
		if (assign_parse(&as, m, c.predict, 0, &a) < 0)
			rc = 2;
	}
	if (rc == 0)
		rc = train_main(m, &c, &as);
	assign_free(&as);
	return stdout_status(rc);
}

/* ---- predict ---- */

/* Prints values in repr, separated by commas. */
static void print_values(const double *v, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (i)
			putchar(',');
		sg_print_repr(stdout, v[i]);
	}
}

static void print_json_key(const char *k);

/* How predict prints: the inputs too, and csv or json. */
typedef struct predict_fmt {
	int with_inputs, json;
} predict_fmt;

/* Prints the CSV header: input names (with_inputs) then output names. */
static void predict_header(const sg_model *m, const predict_fmt *f)
{
	int i, sep = 0;

	for (i = 0; f->with_inputs && i < m->n_inputs; i++)
		printf("%s%s", sep++ ? "," : "", m->input_names[i]);
	for (i = 0; i < m->n_outputs; i++)
		printf("%s%s", sep++ ? "," : "", m->output_names[i]);
	putchar('\n');
}

/* Prints `"name": v` pairs of n values, after ", " unless *first. */
static void json_pairs(const char *const *names, const double *v, int n,
		       int *first)
{
	int i;

	for (i = 0; i < n; i++) {
		if (!*first)
			fputs(", ", stdout);
		*first = 0;
		print_json_key(names[i]);
		cli_json_number(v[i]);
	}
}

/* Prints row r (inputs x, outputs out) in f's format. */
static void predict_line(const sg_model *m, const predict_fmt *f, size_t r,
			 const double *x, const double *out)
{
	int first = 1;

	if (!f->json) {
		if (f->with_inputs) {
			print_values(x, m->n_inputs);
			putchar(',');
		}
		print_values(out, m->n_outputs);
		putchar('\n');
		return;
	}
	fputs(r ? ",\n{" : "[\n{", stdout);
	if (f->with_inputs)
		json_pairs(m->input_names, x, m->n_inputs, &first);
	json_pairs(m->output_names, out, m->n_outputs, &first);
	putchar('}');
}

/* Prints the header and each row's outputs; returns the exit status. */
static int predict_rows(sg_trainer *t, const sg_data *d, const predict_fmt *f)
{
	const sg_model *m = sg_trainer_model(t);
	double *out = calloc((size_t)m->n_outputs + 1, sizeof *out);
	size_t r;

	if (!out)
		return fputs("symgrad: error: out of memory\n", stderr), 1;
	if (!f->json)
		predict_header(m, f);
	for (r = 0; r < d->n_rows; r++) {
		sg_trainer_predict(t, sg_data_row(d, r), out);
		predict_line(m, f, r, sg_data_row(d, r), out);
	}
	if (f->json)
		fputs(d->n_rows ? "\n]\n" : "[]\n", stdout);
	free(out);
	return stdout_status(0);
}

/* Reads --format's value: *json set; 0 or 2.  csv_name is "csv" or
 * "text", the other format's name. */
static int format_opt(args *a, const char *csv_name, int *json)
{
	const char *v = args_value(a);

	if (!v)
		return 2;
	if (strcmp(v, "json") != 0 && strcmp(v, csv_name) != 0)
		return args_error(a, "unknown format '%s' (%s, json)", v, csv_name);
	*json = strcmp(v, "json") == 0;
	return 0;
}

/* symgrad predict MODEL.sg --data D [--params P] [--with-inputs]
 * [--format csv|json]: the outputs of each row.  Input columns the
 * outputs do not need (the target) may be left out (and print as nan
 * with --with-inputs). */
int sg_cmd_predict(const sg_model *m, int argc, char **argv)
{
	args a = {.argc = argc, .argv = argv, .usage = USAGE_PREDICT};
	const char *data = NULL, *params = NULL, **slot;
	sg_train_opts o = sg_train_defaults();
	predict_fmt f = {0, 0};
	sg_trainer *t = NULL;
	sg_data *d = NULL;
	sg_error err;
	int rc;

	if (help_or_no_model(m, argc, argv, USAGE_PREDICT, HELP_PREDICT, &rc))
		return rc;
	if (m->n_outputs == 0) {
		fprintf(stderr, "symgrad: error: model '%s' has no outputs: nothing to predict (name "
			"them with an 'output' statement)\n", m->name);
		return 1;
	}
	while ((rc = args_next_opt(&a)) > 0) {
		if (args_is(&a, "with-inputs")) {
			if (args_flag(&a) < 0)
				return 2;
			f.with_inputs = 1;
			continue;
		}
		if (args_is(&a, "format")) {
			if (format_opt(&a, "csv", &f.json))
				return 2;
			continue;
		}
		slot = args_is(&a, "data") ? &data
		       : args_is(&a, "params") ? &params : NULL;
		if (!slot)
			return args_error(&a, "unknown option %s%s", a.dash, a.name);
		if (!(*slot = args_value(&a)))
			return 2;
	}
	if (rc < 0)
		return 2;
	if (!data)
		return args_error(&a, "predict needs --data FILE");
	if (!(d = sg_data_read_csv_ex(data, m, SG_CSV_ALLOW_MISSING, &err)) ||
	    !(t = sg_trainer_new(m, &o, &err)))
		rc = cli_fail(&err);
	else if (params && load_params(t, params) < 0)
		rc = 1;
	else
		rc = predict_rows(t, d, &f);
	sg_trainer_free(t);
	sg_data_free(d);
	return rc;
}

/* ---- eval ---- */

/* Prints v as a JSON number (Python's json: NaN, Infinity, -Infinity). */
void cli_json_number(double v)
{
	if (isnan(v))
		fputs("NaN", stdout);
	else if (isinf(v))
		fputs(v < 0 ? "-Infinity" : "Infinity", stdout);
	else
		sg_print_repr(stdout, v);
}

/* Prints a JSON string; model names are C identifiers, so no escapes. */
static void print_json_key(const char *k)
{
	printf("\"%s\": ", k);
}

/* Prints `"title": {"name": v, ...}`. */
static void print_json_map(const char *title, const char *const *names,
			   const double *v, int n)
{
	int i;

	print_json_key(title);
	putchar('{');
	for (i = 0; i < n; i++) {
		if (i)
			fputs(", ", stdout);
		print_json_key(names[i]);
		cli_json_number(v[i]);
	}
	putchar('}');
}

/* Prints the result of eval in the chosen format. */
static void print_eval(const sg_model *m, double loss, const double *out,
		       const double *grad, int json)
{
	int i;

	if (json) {
		fputs("{\"loss\": ", stdout);
		cli_json_number(loss);
		fputs(", ", stdout);
		print_json_map("outputs", m->output_names, out, m->n_outputs);
		fputs(", ", stdout);
		print_json_map("grad", m->param_names, grad, m->n_params);
		return; /* the caller closes the object */
	}
	fputs("loss = ", stdout);
	sg_print_repr(stdout, loss);
	putchar('\n');
	for (i = 0; i < m->n_outputs; i++) {
		printf("%s = ", m->output_names[i]);
		sg_print_repr(stdout, out[i]);
		putchar('\n');
	}
	for (i = 0; i < m->n_params; i++) {
		printf("dloss/d%s = ", m->param_names[i]);
		sg_print_repr(stdout, grad[i]);
		putchar('\n');
	}
}

/* Reads the eval command line; 0 or an exit status. */
static int eval_args(const sg_model *m, args *a, assign *as, int *json, int *extra)
{
	const char *v, *params = NULL;
	int rc, i;

	while ((rc = args_next_opt(a)) > 0) {
		if (args_is(a, "params")) {
			if (!(params = args_value(a)))
				return 2;
		} else if (args_is(a, "at")) {
			if (!(v = args_value(a)) || assign_parse(as, m, v, 1, a) < 0)
				return 2;
		} else if (args_is(a, "jacobian") || args_is(a, "hessian")) {
			if (args_flag(a) < 0)
				return 2;
			*extra |= args_is(a, "jacobian") ? 1 : 2;
		} else if (args_is(a, "format")) {
			if (!(v = args_value(a)))
				return 2;
			if (strcmp(v, "json") != 0 && strcmp(v, "text") != 0)
				return args_error(a, "unknown format '%s' "
						   "(text, json)", v);
			*json = strcmp(v, "json") == 0;
		} else
			return args_error(a, "unknown option %s%s", a->dash, a->name);
	}
	if (rc < 0)
		return 2;
	for (i = 0; i < m->n_inputs; i++)
		if (!as->in_set[i])
			return args_error(a, "--at: no value for input '%s'",
					   m->input_names[i]);
	if (params) {
		double *p = calloc((size_t)m->n_params + 1, sizeof *p);
		sg_error err;
		if (!p)
			return fputs("symgrad: error: out of memory\n", stderr), 1;
		if (sg_params_load(params, m, p, &err) < 0) {
			free(p);
			return cli_fail(&err);
		}
		for (i = 0; i < m->n_params; i++)
			if (!as->par_set[i])
				as->par[i] = p[i];
		free(p);
	}
	return 0;
}

/* symgrad eval MODEL.sg --at NAME=V,... [--format text|json]: loss, outputs
 * and gradient at one point; parameters not given take their initial
 * values, every input must be given. */
int sg_cmd_eval(const sg_model *m, int argc, char **argv)
{
	args a = {.argc = argc, .argv = argv, .usage = USAGE_EVAL};
	double *out = NULL, *grad = NULL, loss;
	sg_error err;
	assign as;
	int json = 0, rc, extra = 0;

	if (help_or_no_model(m, argc, argv, USAGE_EVAL, HELP_EVAL, &rc))
		return rc;
	if (assign_init(&as, m) < 0)
		rc = (fputs("symgrad: error: out of memory\n", stderr), 1);
	else if ((rc = eval_args(m, &a, &as, &json, &extra)) == 0) {
		out = calloc((size_t)m->n_outputs + 1, sizeof *out);
		grad = calloc((size_t)m->n_params + 1, sizeof *grad);
		if (!out || !grad)
			rc = (fputs("symgrad: error: out of memory\n", stderr), 1);
		else if (sg_model_eval(m, as.par, as.in, &loss, out, grad, &err) < 0)
			rc = cli_fail(&err);
		else {
			print_eval(m, loss, out, grad, json);
			if (json && extra)
				fputs(", ", stdout);
			if (extra)
				rc = sg_eval_extra(m, as.par, as.in, extra & 1, extra & 2, json);
			if (json)
				fputs("}\n", stdout);
		}
	}
	free(out);
	free(grad);
	assign_free(&as);
	return stdout_status(rc);
}

/* ---- test ---- */

/* Options of the test subcommand. */
typedef struct test_cmd {
	const char *data, *params;
	metric_opts mo;
	int json;
} test_cmd;

/* Reads the test command line into c; 0 or an exit status. */
static int test_args(test_cmd *c, args *a)
{
	const char **slot;
	int rc;

	while ((rc = args_next_opt(a)) > 0) {
		if ((rc = metric_opt(&c->mo, a)) >= 0) {
			if (rc)
				return rc;
			continue;
		}
		if (args_is(a, "format")) {
			if (format_opt(a, "text", &c->json))
				return 2;
			continue;
		}
		slot = args_is(a, "data")     ? &c->data
		       : args_is(a, "params") ? &c->params
					      : NULL;
		if (!slot)
			return args_error(a, "unknown option %s%s", a->dash, a->name);
		if (!(*slot = args_value(a)))
			return 2;
	}
	if (rc < 0)
		return 2;
	if (!c->data)
		return args_error(a, "test needs --data FILE");
	return 0;
}

/* Prints v in repr to stdout. */
static void print_repr_out(double v)
{
	sg_print_repr(stdout, v);
}

/* Prints "loss = L" and "METRIC = V" lines, or one JSON object. */
static void print_test(const test_cmd *c, double loss, const sg_metric *mt)
{
	int i;

	fputs(c->json ? "{\"loss\": " : "loss = ", stdout);
	(c->json ? cli_json_number : print_repr_out)(loss);
	for (i = 0; i < c->mo.n; i++) {
		const char *name = sg_metric_name(mt[i].kind);
		if (c->json) {
			printf(", \"%s\": ", name);
			cli_json_number(sg_metric_value(&mt[i]));
		} else {
			printf("\n%s = ", name);
			print_repr_out(sg_metric_value(&mt[i]));
		}
	}
	fputs(c->json ? "}\n" : "\n", stdout);
}

/* symgrad test MODEL.sg --data D [--params P] [--metric M,...]: the mean
 * loss and the metrics over D's rows. */
int sg_cmd_test(const sg_model *m, int argc, char **argv)
{
	args a = {.argc = argc, .argv = argv, .usage = USAGE_TEST};
	sg_train_opts o = sg_train_defaults();
	sg_metric mt[MAX_METRICS];
	sg_trainer *t = NULL;
	sg_data *d = NULL;
	test_cmd c;
	sg_error err;
	double loss;
	int rc;

	if (help_or_no_model(m, argc, argv, USAGE_TEST, HELP_TEST, &rc))
		return rc;
	memset(&c, 0, sizeof c);
	if ((rc = test_args(&c, &a)) || (rc = metric_setup(&c.mo, m, mt, &a)))
		return rc;
	if (!(d = sg_data_read_csv(c.data, m, &err)) ||
	    !(t = sg_trainer_new(m, &o, &err)))
		rc = cli_fail(&err);
	else if (c.params && load_params(t, c.params) < 0)
		rc = 1;
	else if (sg_trainer_evaluate(t, d, mt, c.mo.n, &loss, &err) < 0)
		rc = cli_fail(&err);
	else
		print_test(&c, loss, mt);
	sg_trainer_free(t);
	sg_data_free(d);
	return stdout_status(rc);
}
