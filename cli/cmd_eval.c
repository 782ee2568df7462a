/*
 * cmd_eval.c: symgrad predict, eval and test on a loaded model: the outputs
 * of each data row, loss, outputs and gradient at one point, the mean loss
 * and metrics over a data set.  Conventions: cmd.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define USAGE_PREDICT                                                       \
	"usage: symgrad predict MODEL.sg --data FILE|- [--params P] "          \
	"[--with-inputs] [--format csv|json]"
#define USAGE_TEST                                                          \
	"usage: symgrad test MODEL.sg --data FILE|- [--params P] "             \
	"[--metric M[,M...]] [--target NAME]\n"                                 \
	"         [--output NAME] [--format text|json]"
#define USAGE_EVAL \
	"usage: symgrad eval MODEL.sg --at NAME=V[,NAME=V...] [--params P] "   \
	"[--format text|json]"

#define HELP_PREDICT                                                          \
	"Prints the model's outputs for each row of a CSV file.\n"           \
	"  --data FILE|-        inputs (columns the outputs do not use may be "\
	"left out)\n"                                                          \
	"  --params P           parameter file (default: the model's values)\n" \
	"  --with-inputs        print each row's inputs before its outputs\n"  \
	"  --format csv|json    output format (csv)\n" CLI_HELP_JIT
#define HELP_TEST                                                             \
	"Prints the mean loss and metrics of the model on a CSV file.\n"      \
	"  --data FILE|-        the data\n"                                    \
	"  --params P           parameter file (default: the model's values)\n" \
	"  --metric M,...       accuracy, mse, mae (repeatable)\n"             \
	"  --output NAME, --target NAME  what the metrics compare\n"          \
	"  --format text|json   output format (text)\n" CLI_HELP_JIT
#define HELP_EVAL                                                             \
	"Prints loss, outputs and gradient at one point.\n"                  \
	"  --at N=V,...         every input; parameters default to the "      \
	"model's values\n"                                                    \
	"                       (x[1]=2, M[0,1]=3, x=[1,2], M=[[1,2],[3,4]], " \
	"w=0.5* for every element)\n"                                        \
	"  --params P           parameters from a file (--at overrides)\n"  \
	"  --format text|json   output format (text)\n"                       \
	"  --jacobian, --hessian  also d outputs/d params and inputs; the "     \
	"loss's Hessian\n"                                                    \
	"  --jvp N=V,...        forward mode: loss and outputs along a tangent "\
	"of\n"                                                                \
	"                       params and inputs (the --at grammar, 0 where " \
	"not given)\n"                                                        \
	"  --vjp N=V,...        reverse mode from a cotangent of loss and "    \
	"outputs\n"                                                           \
	"  --hvp N=V,...        the Hessian times a direction of the params\n" \
	CLI_HELP_JIT

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
		cli_json_key(names[i]);
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
	return cli_stdout_status(0);
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

	if (cli_help_or_no_model(m, argc, argv, USAGE_PREDICT, HELP_PREDICT, &rc))
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
	else if (params && cli_load_params(t, params) < 0)
		rc = 1;
	else
		rc = predict_rows(t, d, &f);
	sg_trainer_free(t);
	sg_data_free(d);
	return rc;
}

/* ---- eval ---- */

/* Prints `"title": {"name": v, ...}`. */
static void print_json_map(const char *title, const char *const *names,
			   const double *v, int n)
{
	int i;

	cli_json_key(title);
	putchar('{');
	for (i = 0; i < n; i++) {
		if (i)
			fputs(", ", stdout);
		cli_json_key(names[i]);
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
static int eval_args(const sg_model *m, args *a, cli_assign *as, int *json, int *extra,
		     const char **dir)
{
	const char *v, *params = NULL;
	int rc, i;

	while ((rc = args_next_opt(a)) > 0) {
		if (args_is(a, "params")) {
			if (!(params = args_value(a)))
				return 2;
		} else if (args_is(a, "at")) {
			if (!(v = args_value(a)) || cli_assign_parse(as, m, v, 1, a) < 0)
				return 2;
		} else if (args_is(a, "jacobian") || args_is(a, "hessian")) {
			if (args_flag(a) < 0)
				return 2;
			*extra |= args_is(a, "jacobian") ? 1 : 2;
		} else if (args_is(a, "jvp") || args_is(a, "vjp") || args_is(a, "hvp")) {
			if (!(dir[args_is(a, "vjp") + 2 * args_is(a, "hvp")] = args_value(a)))
				return 2;
		} else if (args_is(a, "format")) {
			if (!(v = args_value(a)))
				return 2;
			if (strcmp(v, "json") != 0 && strcmp(v, "text") != 0)
				return args_error(a, "unknown format '%s' "
						   "(text, json)", v);
			*json = strcmp(v, "json") == 0;
		} else if (args_is(a, "data")) {
			/* Keras's evaluate(), PyTorch Lightning's test: here test */
			return args_error(a, "eval computes at one point (--at); the mean "
					  "loss and metrics over a data file are 'symgrad test "
					  "MODEL.sg --data FILE [--params P] [--metric M]'");
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
	cli_assign as;
	int json = 0, rc, extra = 0;
	const char *dir[3] = {NULL, NULL, NULL}; /* --jvp, --vjp, --hvp */

	if (cli_help_or_no_model(m, argc, argv, USAGE_EVAL, HELP_EVAL, &rc))
		return rc;
	if (cli_assign_init(&as, m) < 0)
		rc = (fputs("symgrad: error: out of memory\n", stderr), 1);
	else if ((rc = eval_args(m, &a, &as, &json, &extra, dir)) == 0) {
		out = calloc((size_t)m->n_outputs + 1, sizeof *out);
		grad = calloc((size_t)m->n_params + 1, sizeof *grad);
		if (!out || !grad)
			rc = (fputs("symgrad: error: out of memory\n", stderr), 1);
		else if (sg_model_eval(m, as.par, as.in, &loss, out, grad, &err) < 0)
			rc = cli_fail(&err);
		else {
			print_eval(m, loss, out, grad, json);
			if (json && (extra || dir[0] || dir[1] || dir[2]))
				fputs(", ", stdout);
			if (extra)
				rc = sg_eval_extra(m, as.par, as.in, extra & 1, extra & 2, json);
			if (rc == 0 && (dir[0] || dir[1] || dir[2]))
				rc = sg_eval_directional(m, as.par, as.in, dir[0], dir[1], dir[2], json,
							 !extra);
			if (json)
				fputs("}\n", stdout);
		}
	}
	free(out);
	free(grad);
	cli_assign_free(&as);
	return cli_stdout_status(rc);
}

/* ---- test ---- */

/* Options of the test subcommand. */
typedef struct test_cmd {
	const char *data, *params;
	cli_metric_opts mo;
	int json;
} test_cmd;

/* Reads the test command line into c; 0 or an exit status. */
static int test_args(test_cmd *c, args *a)
{
	const char **slot;
	int rc;

	while ((rc = args_next_opt(a)) > 0) {
		if ((rc = cli_metric_opt(&c->mo, a)) >= 0) {
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
	sg_metric mt[CLI_MAX_METRICS];
	sg_trainer *t = NULL;
	sg_data *d = NULL;
	test_cmd c;
	sg_error err;
	double loss;
	int rc;

	if (cli_help_or_no_model(m, argc, argv, USAGE_TEST, HELP_TEST, &rc))
		return rc;
	memset(&c, 0, sizeof c);
	if ((rc = test_args(&c, &a)) || (rc = cli_metric_setup(&c.mo, m, mt, &a)))
		return rc;
	if (!(d = sg_data_read_csv(c.data, m, &err)) ||
	    !(t = sg_trainer_new(m, &o, &err)))
		rc = cli_fail(&err);
	else if (c.params && cli_load_params(t, c.params) < 0)
		rc = 1;
	else if (sg_trainer_evaluate(t, d, mt, c.mo.n, &loss, &err) < 0)
		rc = cli_fail(&err);
	else
		print_test(&c, loss, mt);
	sg_trainer_free(t);
	sg_data_free(d);
	return cli_stdout_status(rc);
}
