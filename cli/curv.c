/*
 * curv.c: the commands that use derivatives beyond the gradient:
 * train --optimizer newton, lm and lbfgs (damped Newton on the Hessian,
 * Levenberg-Marquardt, L-BFGS: runtime/second.c), on one process or across
 * the ranks of mpirun with the same bits, and eval's --jacobian and --hessian (printed after eval's own lines).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define USAGE_CURV                                                                  \
	"usage: symgrad train MODEL.sg --optimizer newton|lm|lbfgs --data FILE [--epochs N] " \
	"[--tol-grad X] [--tol-step X] [--lr X (lbfgs)] [--load P] [--save P] [--quiet]\n"

/* The curvature optimizer --optimizer names: 1 newton, 2 lm, 3 lbfgs, else 0. */
int sg_curv_kind(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		if (!strncmp(argv[i], "--optimizer=", 12))
			v = argv[i] + 12;
		else if (!strcmp(argv[i], "--optimizer") && i + 1 < argc)
			v = argv[i + 1];
		if (v && !strcmp(v, "newton"))
			return 1;
		if (v && !strcmp(v, "lm"))
			return 2;
		if (v && !strcmp(v, "lbfgs"))
			return 3;
	}
	return 0;
}

/* Prints "SEP LABEL V": one field of an iteration's line. */
static void field(const char *sep, const char *label, double v)
{
	printf("%s%s ", sep, label);
	sg_print_repr(stdout, v);
}

static void print_iter(void *ctx, const sg_newton_report *r)
{
	if (*(const int *)ctx)
		return;
	printf("iteration %ld:", r->iter);
	field(" ", "loss", r->loss);
	field(", ", "max |grad|", r->grad_max);
	if (r->iter > 0) {
		field(", ", "max |step|", r->step_max);
		field(", ", "lambda", r->lambda);
	}
	putchar('\n');
}

/* Reads the command line of train --optimizer newton; 0 or an exit status. */
static int newton_args(args *a, sg_newton_opts *o, const char **data, const char **load,
		       const char **save, int *quiet, double *lr)
{
	unsigned long long u;
	const char *v;
	int rc;

	while ((rc = args_next_opt(a)) > 0) {
		if (args_is(a, "optimizer")) {
			if (!(v = args_value(a)))
				return 2;
			if (strcmp(v, "newton") != 0 && strcmp(v, "lm") != 0 && strcmp(v, "lbfgs") != 0)
				return args_error(a, "unknown optimizer '%s'", v);
		} else if (args_is(a, "lr") && sg_curv_kind(a->argc, a->argv) == 3) {
			if (args_double(a, 0, lr) < 0)
				return 2;
		} else if (args_is(a, "data") || args_is(a, "load") || args_is(a, "save")) {
			const char **slot = args_is(a, "data") ? data : args_is(a, "load") ? load : save;
			if (!(*slot = args_value(a)))
				return 2;
		} else if (args_is(a, "epochs")) {
			if (args_uint(a, &u) < 0 || u > 0x7fffffffu)
				return 2;
			o->max_iter = (long)u;
		} else if (args_is(a, "tol-grad")) {
			if (args_double(a, 0, &o->tol_grad) < 0)
				return 2;
		} else if (args_is(a, "tol-step")) {
			if (args_double(a, 0, &o->tol_step) < 0)
				return 2;
		} else if (args_is(a, "quiet")) {
			if (args_flag(a) < 0)
				return 2;
			*quiet = 1;
		} else {
			return args_error(a, "option %s%s does not apply to --optimizer newton, lm "
					  "or lbfgs (they take --data, --epochs, --tol-grad, --tol-step, "
					  "--load, --save, --quiet; lbfgs also --lr)", a->dash, a->name);
		}
	}
	if (rc < 0)
		return 2;
	if (!*data)
		return args_error(a, "--optimizer newton, lm and lbfgs need --data FILE");
	return 0;
}

static void print_lm_iter(void *ctx, const sg_lm_report *r)
{
	if (*(const int *)ctx)
		return;
	printf("iteration %ld:", r->iter);
	field(" ", "rss", r->rss);
	field(", ", "max |J'r|", r->grad_max);
	if (r->iter > 0)
		field(", ", "max |step|", r->step_max);
	field(", ", "lambda", r->lambda);
	putchar('\n');
}

/* The fitted params, "NAME = V", with " +- SE" when se is given. */
static void print_params(const sg_model *m, const double *p, const double *se)
{
	for (int i = 0; i < m->n_params; i++) {
		printf("%s = ", m->param_names[i]);
		sg_print_repr(stdout, p[i]);
		if (se)
			field(" ", "+-", se[i]);
		putchar('\n');
	}
}

/* Fits p by Newton (lm = 0) or Levenberg-Marquardt; prints the result. */
static int fit(const sg_model *m, const sg_data *d, double *p, const sg_newton_opts *no,
	       bool lm, int quiet, sg_error *err)
{
	sg_newton_report nr;
	sg_lm_report lr;
	sg_lm_opts lo = sg_lm_defaults();
	lo.comm = no->comm;
	double *se = calloc((size_t)m->n_params + 1, sizeof *se);
	if (!se)
		return sg_errorf(err, "out of memory");
	lo.max_iter = no->max_iter;
	if (no->tol_grad >= 0)
		lo.tol_grad = no->tol_grad;
	if (no->tol_step >= 0)
		lo.tol_step = no->tol_step;
	sg_newton_opts o = *no;
	o.tol_grad = no->tol_grad >= 0 ? no->tol_grad : sg_newton_defaults().tol_grad;
	o.tol_step = no->tol_step >= 0 ? no->tol_step : sg_newton_defaults().tol_step;
	int rc = lm ? sg_lm_fit(m, d, p, se, &lo, &lr, print_lm_iter, &quiet, err)
		    : sg_newton_fit(m, d, p, &o, &nr, print_iter, &quiet, err);
	if (rc == 0) {
		long it = lm ? lr.iter : nr.iter;
		printf("stop: %s after %ld iteration%s", lm ? lr.stop : nr.stop, it, it == 1 ? "" : "s");
		if (lm)
			printf(" (%ld residual and %ld Jacobian passes over the data)", lr.nfev, lr.njev);
		putchar('\n');
		if (lm && lr.dof > 0) {
			fputs("sigma^2 = rss / (n - p) = ", stdout);
			sg_print_repr(stdout, lr.rss / (double)lr.dof);
			printf(" (n - p = %ld)\n", lr.dof);
		}
		print_params(m, p, lm && lr.dof > 0 ? se : NULL);
	}
	free(se);
	return rc;
}

static void print_step(void *ctx, long step, double loss)
{
	if (*(const int *)ctx)
		return;
	printf("epoch %ld:", step);
	field(" ", "loss", loss);
	putchar('\n');
}

/* L-BFGS: --epochs steps of torch.optim.LBFGS (10 by default). */
static int fit_lbfgs(const sg_model *m, const sg_data *d, double *p, const sg_newton_opts *no,
		     long epochs, double lr, int quiet, sg_error *err)
{
	sg_lbfgs_opts o = sg_lbfgs_defaults();
	double loss;
	o.lr = lr;
	o.comm = no->comm;
	if (no->tol_grad >= 0)
		o.tol_grad = no->tol_grad;
	if (no->tol_step >= 0)
		o.tol_change = no->tol_step;
	if (sg_lbfgs_fit(m, d, p, &o, epochs, print_step, &quiet, err) < 0)
		return -1;
	double *g = calloc((size_t)m->n_params + 1, sizeof *g);
	if (!g)
		return sg_errorf(err, "out of memory");
	int rc = sg_model_eval_mean(m, d, no->comm, p, &loss, g, err);
	free(g);
	if (rc < 0)
		return -1;
	field("", "final loss", loss);
	putchar('\n');
	print_params(m, p, NULL);
	return 0;
}

/* Reads the start (--load) and the data on this rank; 0, or 1 with the
 * message printed. */
static int curv_setup(const sg_model *m, const char *load, const char *data, double *p,
		      sg_data **d)
{
	sg_error err;
	if (load && sg_params_load(load, m, p, &err) < 0)
		return cli_fail(&err);
	if (!(*d = sg_data_read_csv(data, m, &err)))
		return cli_fail(&err);
	return 0;
}

/* Under mpirun every rank reads the whole table and fits with the others
 * (each sums its share of the rows: sg_dist_sum, sg_dist_grad); rank 0
 * alone prints and saves, the others are silenced (mpi.c). */
int sg_cmd_curv(const sg_model *m, int argc, char **argv)
{
	args a = {.argc = argc, .argv = argv, .usage = USAGE_CURV};
	sg_newton_opts o = sg_newton_defaults();
	const char *data = NULL, *load = NULL, *save = NULL;
	int quiet = 0, rc, rank, kind = sg_curv_kind(argc, argv);
	sg_error err = {{0}};
	sg_data *d = NULL;
	double *p = NULL, lr = 1.0;

	o.tol_grad = o.tol_step = -1; /* each method's default */
	o.max_iter = kind == 3 ? 10 : o.max_iter;
	if ((rc = newton_args(&a, &o, &data, &load, &save, &quiet, &lr)) != 0)
		return rc;
	if (!(p = calloc((size_t)m->n_params + 1, sizeof *p)))
		return fputs("symgrad: error: out of memory\n", stderr), 1;
	memcpy(p, m->param_init, (size_t)m->n_params * sizeof *p);
	if ((rc = cli_mpi_start(&rank, &o.comm)) != 0) {
		free(p);
		return rc;
	}
	if (rank > 0) { /* rank 0 prints and saves */
		quiet = 1;
		save = NULL;
	}
	rc = curv_setup(m, load, data, p, &d);
	if (!cli_mpi_agree(rc == 0))
		rc = 1;
	else if (kind == 3 ? fit_lbfgs(m, d, p, &o, o.max_iter, lr, quiet, &err) < 0
			   : fit(m, d, p, &o, kind == 2, quiet, &err) < 0)
		rc = cli_fail(&err);
	else if (save && sg_params_save(save, m, p, &err) < 0)
		rc = cli_fail(&err);
	sg_data_free(d);
	free(p);
	return cli_mpi_finish(rc);
}

/* ---- eval --jacobian, --hessian ---- */

/* Prints rows x cols of v: text "d<row>/d<col> = v" lines (prefix "d2"
 * for the Hessian), or one JSON object of objects ("key": {...}). */
static void print_matrix(const char *key, const char *top, const char *const *rows, int nr,
			 const char *const *cols, int nc, const double *v, int ld, int json,
			 bool *first)
{
	if (json) {
		printf("%s\"%s\": {", *first ? "" : ", ", key);
		*first = false;
	}
	for (int i = 0; i < nr; i++) {
		if (json)
			printf("%s\"%s\": {", i ? ", " : "", rows[i]);
		for (int j = 0; j < nc; j++) {
			if (json) {
				printf("%s\"%s\": ", j ? ", " : "", cols[j]);
				cli_json_number(v[i * ld + j]);
				continue;
			}
			if (top)
				printf("d2%s/d%s d%s = ", top, rows[i], cols[j]);
			else
				printf("d%s/d%s = ", rows[i], cols[j]);
			sg_print_repr(stdout, v[i * ld + j]);
			putchar('\n');
		}
		if (json)
			putchar('}');
	}
	if (json)
		putchar('}');
}

int sg_eval_extra(const sg_model *m, const double *p, const double *x, bool jacobian,
		  bool hessian, int json)
{
	size_t np = (size_t)m->n_params, ni = (size_t)m->n_inputs, no = (size_t)m->n_outputs;
	double *buf = calloc(no + no * (np + ni) + np + np * np + 1, sizeof *buf), loss;
	double *out = buf, *jp = out + no, *jx = jp + no * np, *g = jx + no * ni, *h = g + np;
	sg_error err;
	bool first = true;
	int rc = 0;

	if (!buf)
		return fputs("symgrad: error: out of memory\n", stderr), 1;
	if (jacobian && sg_model_jacobian(m, p, x, out, jp, jx, &err) < 0)
		rc = cli_fail(&err);
	else if (hessian && sg_model_hessian(m, p, x, &loss, g, h, &err) < 0)
		rc = cli_fail(&err);
	if (rc == 0 && jacobian) {
		print_matrix("jacobian_params", NULL, m->output_names, (int)no, m->param_names,
			     (int)np, jp, (int)np, json, &first);
		print_matrix("jacobian_inputs", NULL, m->output_names, (int)no, m->input_names,
			     (int)ni, jx, (int)ni, json, &first);
	}
	if (rc == 0 && hessian)
		print_matrix("hessian", "loss", m->param_names, (int)np, m->param_names, (int)np, h,
			     (int)np, json, &first);
	free(buf);
	return rc;
}

/* One vector of named values: "KEY NAME = V" lines, or "KEY": {...}. */
static void print_vector(const char *key, const char *const *names, const char *first_name,
			 int n, const double *v, int json, bool *first)
{
	if (json) {
		printf("%s\"%s\": {", *first ? "" : ", ", key);
		*first = false;
	}
	for (int i = 0; i < n; i++) {
		const char *name = first_name ? (i ? names[i - 1] : first_name) : names[i];
		if (json) {
			printf("%s\"%s\": ", i ? ", " : "", name);
			cli_json_number(v[i]);
		} else {
			printf("%s %s = ", key, name);
			sg_print_repr(stdout, v[i]);
			putchar('\n');
		}
	}
	if (json)
		putchar('}');
}

int sg_eval_directional(const sg_model *m, const double *p, const double *x, const char *jvp,
			const char *vjp, const char *hvp, int json, bool first)
{
	size_t np = (size_t)m->n_params, ni = (size_t)m->n_inputs, no = (size_t)m->n_outputs;
	/* tangent (params, inputs), cotangent (loss, outputs), and results */
	double *buf = calloc(2 * (np + ni) + 3 * (no + 1) + 2, sizeof *buf), loss;
	double *dp = buf, *dx = dp + np, *ct = dx + ni, *out = ct + no + 1, *res = out + no + 1;
	double *gp = res + no + 1, *gx = gp + np;
	const char **names = calloc(no + 2, sizeof *names);
	char *set = calloc(np + ni + no + 2, 1);
	sg_error err;
	int rc = 0;

	if (!buf || !names || !set) {
		rc = (fputs("symgrad: error: out of memory\n", stderr), 1);
		goto done;
	}
	if (jvp) {
		if (sg_at_parse(jvp, m->n_inputs, m->input_names, dx, set, m->n_params,
				m->param_names, dp, set + ni, &err) < 0) {
			fprintf(stderr, "symgrad: error: --jvp: %s\n", err.msg);
			rc = 2;
			goto done;
		}
		if (sg_model_jvp(m, p, x, dp, dx, &loss, out, res + 1, res, &err) < 0) {
			rc = cli_fail(&err);
			goto done;
		}
		print_vector("jvp", m->output_names, "loss", (int)no + 1, res, json, &first);
	}
	if (vjp) {
		names[0] = "loss";
		for (size_t o = 0; o < no; o++)
			names[o + 1] = m->output_names[o];
		memset(set, 0, np + ni + no + 2);
		if (sg_at_parse(vjp, (int)no + 1, names, ct, set, 0, NULL, NULL, NULL, &err) < 0) {
			fprintf(stderr, "symgrad: error: --vjp: %s\n", err.msg);
			rc = 2;
			goto done;
		}
		if (sg_model_vjp(m, p, x, ct[0], ct + 1, &loss, gp, gx, &err) < 0) {
			rc = cli_fail(&err);
			goto done;
		}
		print_vector(json ? "vjp_params" : "vjp", m->param_names, NULL, (int)np, gp, json,
			     &first);
		print_vector(json ? "vjp_inputs" : "vjp", m->input_names, NULL, (int)ni, gx, json,
			     &first);
	}
	if (hvp) {
		/* the direction into dp, H dp into gp (both free again by now) */
		double *g = calloc(np + 1, sizeof *g);
		memset(dp, 0, np * sizeof *dp);
		memset(set, 0, np + ni + no + 2);
		if (!g) {
			rc = (fputs("symgrad: error: out of memory\n", stderr), 1);
			goto done;
		}
		if (sg_at_parse(hvp, m->n_params, m->param_names, dp, set, 0, NULL, NULL, NULL,
				&err) < 0) {
			fprintf(stderr, "symgrad: error: --hvp: %s\n", err.msg);
			rc = 2;
		} else if (sg_model_hvp(m, p, x, dp, &loss, g, gp, &err) < 0)
			rc = cli_fail(&err);
		else
			print_vector("hvp", m->param_names, NULL, (int)np, gp, json, &first);
		free(g);
	}
done:
	free(buf);
	free(names);
	free(set);
	return rc;
}
