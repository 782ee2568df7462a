/*
 * cmd.c: what the model commands (train, predict, eval, test; cli.h) share:
 * --help, the exit status once standard output is flushed, NAME=VALUE lists
 * (train --predict, eval --at), --metric, --output and --target (train and
 * test), and JSON numbers.  The commands are cmd_train.c and cmd_eval.c.
 *
 * Conventions: results go to stdout and nothing else does, so stdout can
 * be compared byte for byte; logs, progress and errors go to stderr.  A
 * failure prints "symgrad: error: ..." and returns 1; a bad command line
 * also prints a usage line and returns 2.  Options take their value as the
 * next argument or after '=' (--lr=0.1).  Numbers print in Python's repr.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The exit status once standard output is flushed: rc, or 1 (message
 * printed) when some of what was written to it was lost. */
int cli_stdout_status(int rc)
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
int cli_help_or_no_model(const sg_model *m, int argc, char **argv,
			 const char *usage, const char *help, int *rc)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("%s\n%s", usage, help);
			*rc = cli_stdout_status(0);
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

/* Frees the arrays of a. */
void cli_assign_free(cli_assign *a)
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
int cli_assign_init(cli_assign *a, const sg_model *m)
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
static int keep_typed(cli_assign *as)
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
static int check_class_inputs(const cli_assign *as, const sg_model *m, const args *a)
{
	for (int i = 0; i < m->n_inputs; i++) {
		int k = sg_class_input(m, i);
		if (k > 0 && as->in_set[i] && !sg_class_ok(as->in[i], k))
			return args_error(a, "option %s%s: '%s' is an index input (a "
					   "class, a row or an element): a whole number from 0 "
					   "to %d, not %.17g", a->dash, a->name, m->input_names[i], k - 1,
					   as->in[i]), -1;
	}
	return 0;
}

/* Parses "NAME=V[,NAME=V...]" into as (which keeps a copy of the text). */
int cli_assign_parse(cli_assign *as, const sg_model *m, const char *list,
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

/* Adds the comma list v to mo (repeats ignored); 0 or 2. */
static int metric_list(cli_metric_opts *mo, const char *v, const args *a)
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
int cli_metric_opt(cli_metric_opts *mo, args *a)
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
int cli_metric_setup(const cli_metric_opts *mo, const sg_model *m,
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

/* Loads a parameter file (train --load, --params) into the trainer; 0 or
 * -1 (message printed). */
int cli_load_params(sg_trainer *t, const char *path)
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

/* ---- JSON ---- */

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
void cli_json_key(const char *k)
{
	printf("\"%s\": ", k);
}
