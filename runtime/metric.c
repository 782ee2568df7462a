/*
 * metric.c: accuracy, mean squared error and mean absolute error of a
 * model's output against a target input, row by row.
 *
 * A metric names one output and one input of the model, each a whole
 * tensor: the flat elements whose names share the base name before '['.
 * Defaults: the model's first output, compared with its one cross_entropy
 * class input or, when it has none, with its last input (the usual
 * "input x, y" layout).  Accuracy is the argmax of a vector output against
 * a class index (ties: the first), or, for a one-element output, whether
 * output > 0.5 (Keras's binary accuracy) equals a 0/1 target; mse and mae
 * average over the rows and the elements, as PyTorch's MSELoss and L1Loss
 * with reduction 'mean'.
 */
#include <math.h>
#include <string.h>

#include "symgrad.h"

/* Length of the base name of a flat element name ("W" of "W[1,2]"). */
static size_t base_len(const char *s)
{
	const char *b = strchr(s, '[');

	return b ? (size_t)(b - s) : strlen(s);
}

/* 1 when flat name s belongs to the tensor named name. */
static int same_base(const char *s, const char *name, size_t n)
{
	return base_len(s) == n && !strncmp(s, name, n);
}

/* Finds tensor `name` among the n flat names: *first and *len; -1 if
 * absent. */
static int find_tensor(const char *const *names, int n, const char *name,
		       int *first, int *len)
{
	size_t bl = base_len(name);
	int i, k;

	if (name[bl] != '\0')
		return -1;
	for (i = 0; i < n && !same_base(names[i], name, bl); i++)
		;
	if (i == n)
		return -1;
	for (k = i; k < n && same_base(names[k], name, bl); k++)
		;
	*first = i;
	*len = k - i;
	return 0;
}

/* The tensor that flat element i of names belongs to: *first, *len. */
static void tensor_at(const char *const *names, int n, int i, int *first,
		      int *len)
{
	size_t bl = base_len(names[i]);
	int k;

	while (i > 0 && same_base(names[i - 1], names[i], bl))
		i--;
	for (k = i; k < n && same_base(names[k], names[i], bl); k++)
		;
	*first = i;
	*len = k - i;
}

/* The default target: the one class input, else the last input. */
static int default_target(const sg_model *m, sg_error *err)
{
	int i, found = -1;

	for (i = 0; i < m->n_inputs; i++) {
		if (sg_class_input(m, i) <= 0)
			continue;
		if (found >= 0)
			return sg_errorf(err, "the model has two class inputs, "
					 "'%s' and '%s': give --target NAME",
					 m->input_names[found], m->input_names[i]);
		found = i;
	}
	return found >= 0 ? found : m->n_inputs - 1;
}

int sg_metric_parse_kind(const char *s, sg_metric_kind *kind)
{
	if (!strcmp(s, "accuracy"))
		*kind = SG_METRIC_ACCURACY;
	else if (!strcmp(s, "mse"))
		*kind = SG_METRIC_MSE;
	else if (!strcmp(s, "mae"))
		*kind = SG_METRIC_MAE;
	else
		return -1;
	return 0;
}

const char *sg_metric_name(sg_metric_kind kind)
{
	return kind == SG_METRIC_ACCURACY ? "accuracy"
	       : kind == SG_METRIC_MSE	  ? "mse"
					  : "mae";
}

/* Checks that the output and target of mt fit its kind; -1 with *err. */
static int check_shapes(const sg_metric *mt, const sg_model *m, sg_error *err)
{
	const char *on = m->output_names[mt->out], *tn = m->input_names[mt->target];
	int ob = (int)base_len(on), tb = (int)base_len(tn);
	int classes = sg_class_input(m, mt->target);

	if (mt->kind == SG_METRIC_ACCURACY && mt->n_out > 1) {
		if (mt->n_target != 1 || classes != mt->n_out)
			return sg_errorf(err, "output '%.*s' has %d elements, so the "
					 "target must be a class index over %d classes "
					 "(cross_entropy's), and input '%.*s' is not one",
					 ob, on, mt->n_out, mt->n_out, tb, tn);
		return 0;
	}
	if (mt->n_out != mt->n_target)
		return sg_errorf(err, "output '%.*s' has %d element%s, target "
				 "'%.*s' has %d (give --output NAME and --target NAME)", ob, on,
				 mt->n_out, mt->n_out == 1 ? "" : "s", tb, tn,
				 mt->n_target);
	return 0;
}

/* See symgrad.h. */
int sg_metric_setup(sg_metric *mt, sg_metric_kind kind, const sg_model *m,
		    const char *output, const char *target, sg_error *err)
{
	int t;

	memset(mt, 0, sizeof *mt);
	mt->kind = kind;
	if (m->n_outputs < 1 || m->n_inputs < 1)
		return sg_errorf(err, "model '%s' has no output or no input", m->name);
	if (!output)
		tensor_at(m->output_names, m->n_outputs, 0, &mt->out, &mt->n_out);
	else if (find_tensor(m->output_names, m->n_outputs, output, &mt->out,
			     &mt->n_out) < 0)
		return sg_errorf(err, "model '%s' has no output '%s'", m->name, output);
	if (!target) {
		if ((t = default_target(m, err)) < 0)
			return -1;
		tensor_at(m->input_names, m->n_inputs, t, &mt->target, &mt->n_target);
	} else if (find_tensor(m->input_names, m->n_inputs, target, &mt->target,
			       &mt->n_target) < 0)
		return sg_errorf(err, "model '%s' has no input '%s'", m->name, target);
	return check_shapes(mt, m, err);
}

void sg_metric_reset(sg_metric *mt)
{
	mt->sum = 0;
	mt->count = 0;
}

/* 1 when the argmax of v[0..n) (the first of ties) is class c. */
static double argmax_hit(const double *v, int n, double c)
{
	int i, best = 0;

	for (i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return (double)best == c;
}

void sg_metric_add(sg_metric *mt, const double *in, const double *out)
{
	const double *y = out + mt->out, *t = in + mt->target;
	int i;

	if (mt->kind == SG_METRIC_ACCURACY) {
		mt->sum += mt->n_out > 1 ? argmax_hit(y, mt->n_out, t[0])
					 : (double)((y[0] > 0.5) == (t[0] > 0.5));
		mt->count++;
		return;
	}
	for (i = 0; i < mt->n_out; i++) {
		double d = y[i] - t[i];
		mt->sum += mt->kind == SG_METRIC_MSE ? d * d : fabs(d);
	}
	mt->count += (size_t)mt->n_out;
}

double sg_metric_value(const sg_metric *mt)
{
	return mt->count ? mt->sum / (double)mt->count : NAN;
}
