/*
 * cmd.c: the train, predict and eval subcommands.
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
	"[--batch N|all] [--optimizer sgd|momentum|adam] [--momentum X] "     \
	"[--shuffle] [--seed N] [--load P] [--save P] [--log FILE] [--quiet] " \
	"[--trace lecture|none] [--predict NAME=V[,NAME=V...]]"
#define USAGE_PREDICT \
	"usage: symgrad predict MODEL.sg --data FILE|- [--params P]"
#define USAGE_EVAL \
	"usage: symgrad eval MODEL.sg --at NAME=V[,NAME=V...] [--params P] "   \
	"[--format text|json]"

#define HELP_TRAIN                                                           \
	"Trains the model's parameters on a CSV file of its inputs.\n"       \
	"  --data FILE|-        training data (a header row names columns)\n" \
	"  --lr X               learning rate (0.01)\n"                       \
	"  --epochs N           passes over the data (10)\n"                  \
	"  --batch N|all        rows per step (1); gradients are averaged\n"  \
	"  --optimizer NAME     sgd, momentum or adam (sgd)\n"                \
	"  --momentum X         momentum factor (0.9)\n"                      \
	"  --shuffle            shuffle the rows every epoch\n"               \
	"  --seed N             shuffle seed (0)\n"                           \
	"  --load P, --save P   parameter files to start from / write\n"      \
	"  --log FILE           CSV log: epoch,loss,seconds\n"                \
	"  --quiet              no per-epoch log on stderr\n"                 \
	"  --trace lecture      print the lecture's trace on stdout\n"        \
	"  --predict N=V,...    print the outputs there before and after\n"
#define HELP_PREDICT                                                          \
	"Prints the model's outputs for each row of a CSV file.\n"           \
	"  --data FILE|-        inputs (columns the outputs do not use may be "\
	"left out)\n"                                                          \
	"  --params P           parameter file (default: the model's values)\n"
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
static int fail(const sg_error *err)
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

/* ---- train ---- */

/* Options of the train subcommand. */
typedef struct train_cmd {
	sg_train_opts o;
	const char *data, *load, *save, *log, *predict;
	int quiet, trace;
} train_cmd;

/* State shared with the training hooks: output streams and timing. */
typedef struct train_run {
	const train_cmd *c;
	const sg_data *d;
	sg_out *log_out;     /* --log, or NULL */
	FILE *log;           /* its stream */
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
					   "momentum, adam)", v);
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
	return -1; /* not a numeric/flag option: see train_args */
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
	return 0;
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

/* Epoch hook: trace line, stderr log, CSV log, progress bar. */
static void train_epoch(void *ctx, const sg_trainer *t, long epoch,
			double mean_loss, double last_loss)
{
	train_run *r = ctx;
	char buf[SG_REPR_MAX];
	double now = elapsed(r);

	(void)t;
	if (r->c->trace) {
		printf("progress: %ld ", epoch);
		sg_print_repr(stdout, last_loss);
		putchar('\n');
	}
	if (!r->log && r->c->quiet)
		return; /* formatting costs more than an epoch of a small model */
	sg_fmt_repr(buf, sizeof buf, mean_loss);
	if (r->log)
		fprintf(r->log, "%ld,%s,%.6f\n", epoch + 1, buf, now);
	if (r->c->quiet)
		return;
	if (r->bar_shown)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "epoch %ld/%ld loss %s time %.3fs\n", epoch + 1,
		r->c->o.epochs, buf, now);
	if (r->tty && now > 1.0 && epoch + 1 < r->c->o.epochs)
		draw_bar(r, epoch + 1, now);
}

/* Saves the trainer's parameters to path; 0 or -1 (message printed). */
static int save_params(sg_trainer *t, const char *path)
{
	const sg_model *m = sg_trainer_model(t);
	double *p = calloc((size_t)m->n_params + 1, sizeof *p);
	sg_error err;
	int rc;

	if (!p)
		return sg_errorf(&err, "out of memory"), fail(&err), -1;
	sg_trainer_get_params(t, p);
	rc = sg_params_save(path, m, p, &err);
	if (rc < 0)
		fail(&err);
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
		return sg_errorf(&err, "out of memory"), fail(&err), -1;
	rc = sg_params_load(path, m, p, &err);
	if (rc < 0)
		fail(&err);
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
		fail(&err);
		rc = 1;
	} else if (r->c->predict)
		print_predict(t, as, "after training");
	if (r->bar_shown && rc == 0)
		fputs("\r\033[K", stderr);
	fflush(stdout);
	if (r->c->save && save_params(t, r->c->save) < 0)
		rc = 1;
	return rc;
}

/* Reads data, builds the trainer and runs; returns the exit status. */
static int train_main(const sg_model *m, train_cmd *c, const assign *as)
{
	train_run r;
	sg_trainer *t = NULL;
	sg_data *d;
	sg_error err;
	int rc = 1;

	memset(&r, 0, sizeof r);
	r.c = c;
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	r.tty = isatty(STDERR_FILENO);
	if (!(d = sg_data_read_csv(c->data, m, &err)))
		return fail(&err);
	r.d = d;
	c->o.ctx = &r;
	c->o.on_step = c->trace ? trace_step : NULL;
	c->o.on_epoch = train_epoch;
	if (!(t = sg_trainer_new(m, &c->o, &err)))
		fail(&err);
	else if (c->load && load_params(t, c->load) < 0)
		;
	else if (c->log && !(r.log_out = sg_out_open(c->log, &err)))
		fail(&err);
	else {
		if (r.log_out) {
			r.log = sg_out_stream(r.log_out);
			fputs("epoch,loss,seconds\n", r.log);
		}
		rc = train_body(t, &r, as);
	}
	/* the log of the epochs done is kept even when training failed */
	if (r.log_out && sg_out_commit(&r.log_out, 1, &err) < 0)
		rc = fail(&err);
	sg_trainer_free(t);
	sg_data_free(d);
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
	memset(&c, 0, sizeof c);
	c.o = sg_train_defaults();
	if (assign_init(&as, m) < 0) {
		assign_free(&as);
		fputs("symgrad: error: out of memory\n", stderr);
		return 1;
	}
	rc = train_args(&c, &a);
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

/* Prints one CSV line of values in repr. */
static void print_row(const double *v, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (i)
			putchar(',');
		sg_print_repr(stdout, v[i]);
	}
	putchar('\n');
}

/* Prints the header and each row's outputs; returns the exit status. */
static int predict_rows(sg_trainer *t, const sg_data *d)
{
	const sg_model *m = sg_trainer_model(t);
	double *out = calloc((size_t)m->n_outputs + 1, sizeof *out);
	size_t r;
	int i;

	if (!out)
		return fputs("symgrad: error: out of memory\n", stderr), 1;
	for (i = 0; i < m->n_outputs; i++)
		printf("%s%s", i ? "," : "", m->output_names[i]);
	putchar('\n');
	for (r = 0; r < d->n_rows; r++) {
		sg_trainer_predict(t, sg_data_row(d, r), out);
		print_row(out, m->n_outputs);
	}
	free(out);
	return stdout_status(0);
}

/* symgrad predict MODEL.sg --data D [--params P]: CSV of the outputs.  Input
 * columns the outputs do not need (the target) may be left out. */
int sg_cmd_predict(const sg_model *m, int argc, char **argv)
{
	args a = {.argc = argc, .argv = argv, .usage = USAGE_PREDICT};
	const char *data = NULL, *params = NULL, **slot;
	sg_train_opts o = sg_train_defaults();
	sg_trainer *t = NULL;
	sg_data *d = NULL;
	sg_error err;
	int rc;

	if (help_or_no_model(m, argc, argv, USAGE_PREDICT, HELP_PREDICT, &rc))
		return rc;
	while ((rc = args_next_opt(&a)) > 0) {
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
		rc = fail(&err);
	else if (params && load_params(t, params) < 0)
		rc = 1;
	else
		rc = predict_rows(t, d);
	sg_trainer_free(t);
	sg_data_free(d);
	return rc;
}

/* ---- eval ---- */

/* Prints v as a JSON number (Python's json: NaN, Infinity, -Infinity). */
static void print_json_number(double v)
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
		print_json_number(v[i]);
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
		print_json_number(loss);
		fputs(", ", stdout);
		print_json_map("outputs", m->output_names, out, m->n_outputs);
		fputs(", ", stdout);
		print_json_map("grad", m->param_names, grad, m->n_params);
		fputs("}\n", stdout);
		return;
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
static int eval_args(const sg_model *m, args *a, assign *as, int *json)
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
			return fail(&err);
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
	int json = 0, rc;

	if (help_or_no_model(m, argc, argv, USAGE_EVAL, HELP_EVAL, &rc))
		return rc;
	if (assign_init(&as, m) < 0)
		rc = (fputs("symgrad: error: out of memory\n", stderr), 1);
	else if ((rc = eval_args(m, &a, &as, &json)) == 0) {
		out = calloc((size_t)m->n_outputs + 1, sizeof *out);
		grad = calloc((size_t)m->n_params + 1, sizeof *grad);
		if (!out || !grad)
			rc = (fputs("symgrad: error: out of memory\n", stderr), 1);
		else if (sg_model_eval(m, as.par, as.in, &loss, out, grad, &err) < 0)
			rc = fail(&err);
		else
			print_eval(m, loss, out, grad, json);
	}
	free(out);
	free(grad);
	assign_free(&as);
	return stdout_status(rc);
}
