/*
 * test_cmd.c: the predict and eval subcommands.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "helpers.h"
#include "cli.h" /* sg_cmd_*: the command line's, not the library's */
#include "linear_hand.h"
#include "symgrad.h"

static char *dir;

static void setup(void)
{
	dir = th_tmpdir();
}

static void teardown(void)
{
	th_rm_rf(dir);
	free(dir);
}

TestSuite(cmd, .init = setup, .fini = teardown);

/* Runs cmd on m, expecting status rc, stdout out and stderr err (NULL:
 * not checked). */
static void expect(int (*cmd)(const sg_model *, int, char **), const sg_model *m,
		   char **argv, int rc, const char *out, const char *err)
{
	char *o, *e;

	cr_assert(eq(int, th_run(cmd, m, argv, &o, &e), rc), "stderr: %s", e);
	if (out)
		cr_assert(eq(str, o, (char *)out));
	if (err)
		cr_assert(eq(str, e, (char *)err));
	free(o);
	free(e);
}

Test(cmd, eval_text)
{
	char *argv[] = {"eval", "--at", "x=2,y=4,w=1", NULL};

	expect(sg_cmd_eval, &linear_model, argv, 0,
	       "loss = 4.0\nyhat = 2.0\ndloss/dw = -8.0\n", "");
}

Test(cmd, eval_json_default_params)
{
	char *argv[] = {"eval", "--at", "x=3,y=6", "--format", "json", NULL};

	expect(sg_cmd_eval, &linear_model, argv, 0,
	       "{\"loss\": 9.0, \"outputs\": {\"yhat\": 3.0}, \"grad\": {\"w\": -18.0}}\n",
	       "");
}

Test(cmd, eval_float_model_prints_widened_floats)
{
	char *argv[] = {"eval", "--at=x=0.1,y=0.2", "--at", "w=3", NULL};

	/* numpy.float32 gives the same: 0.1f*3 = 0.30000001192092896 ... */
	expect(sg_cmd_eval, &linear_f_model, argv, 0,
	       "loss = 0.010000001639127731\nyhat = 0.30000001192092896\n"
	       "dloss/dw = 0.020000001415610313\n",
	       "");
}

Test(cmd, eval_json_non_finite)
{
	char *argv[] = {"eval", "--at", "x=1e200,y=0", "--format=json", NULL};

	expect(sg_cmd_eval, &linear_model, argv, 0,
	       "{\"loss\": Infinity, \"outputs\": {\"yhat\": 1e+200}, \"grad\": "
	       "{\"w\": Infinity}}\n",
	       "");
}

Test(cmd, eval_errors)
{
	char *a1[] = {"eval", "--at", "x=1", NULL};
	char *a2[] = {"eval", "--at", "x=1,y=2,q=3", NULL};
	char *a3[] = {"eval", "--at", "x=1,y=two", NULL};
	char *a4[] = {"eval", "--at", "x=1,y=2", "--format", "xml", NULL};
	char *a5[] = {"eval", "--at", "x", NULL};
	static const char usage[] =
		"usage: symgrad eval MODEL.sg --at NAME=V[,NAME=V...] [--params P] "
		"[--format text|json]\n";
	char want[512];

	snprintf(want, sizeof want, "symgrad: error: --at: no value for input 'y'\n%s",
		 usage);
	expect(sg_cmd_eval, &linear_model, a1, 2, "", want);
	snprintf(want, sizeof want,
		 "symgrad: error: option --at: the model has no input or "
		 "parameter 'q'\n%s", usage);
	expect(sg_cmd_eval, &linear_model, a2, 2, "", want);
	snprintf(want, sizeof want,
		 "symgrad: error: option --at: 'two' is not a number\n%s", usage);
	expect(sg_cmd_eval, &linear_model, a3, 2, "", want);
	snprintf(want, sizeof want,
		 "symgrad: error: unknown format 'xml' (text, json)\n%s", usage);
	expect(sg_cmd_eval, &linear_model, a4, 2, "", want);
	snprintf(want, sizeof want,
		 "symgrad: error: option --at: expected '=' at 'the end'\n%s", usage);
	expect(sg_cmd_eval, &linear_model, a5, 2, "", want);
}

Test(cmd, predict_with_initial_params_and_no_target_column)
{
	char *csv = th_path(dir, "x.csv");
	char *argv[] = {"predict", "--data", csv, NULL};

	th_write_file(csv, "x\n1\n2.5\n-4\n");
	expect(sg_cmd_predict, &linear_model, argv, 0, "yhat\n1.0\n2.5\n-4.0\n", "");
	free(csv);
}

Test(cmd, predict_with_trained_params)
{
	char *csv = th_path(dir, "x.csv"), *p = th_path(dir, "p");
	char *argv[] = {"predict", "--params", p, "--data", csv, NULL};
	static const double w = 7.804864406585693 / 4;
	sg_error err;

	th_write_file(csv, "x,y\n4,0\n");
	cr_assert(eq(int, sg_params_save(p, &linear_f_model, &w, &err), 0));
	expect(sg_cmd_predict, &linear_f_model, argv, 0, "yhat\n7.804864406585693\n", "");
	free(csv);
	free(p);
}

Test(cmd, predict_errors)
{
	char *csv = th_path(dir, "x.csv");
	char *a1[] = {"predict", NULL};
	char *a2[] = {"predict", "--data", csv, "--params", "/nonexistent", NULL};
	char *a3[] = {"predict", "--data", csv, "--lr", "1", NULL};
	char want[512];

	th_write_file(csv, "x\n1\n");
	expect(sg_cmd_predict, &linear_model, a1, 2, "",
	       "symgrad: error: predict needs --data FILE\n"
	       "usage: symgrad predict MODEL.sg --data FILE|- [--params P] "
		 "[--with-inputs] [--format csv|json]\n");
	expect(sg_cmd_predict, &linear_model, a2, 1, "",
	       "/nonexistent: error: cannot open: No such file or directory\n");
	snprintf(want, sizeof want, "symgrad: error: unknown option --lr\n"
		 "usage: symgrad predict MODEL.sg --data FILE|- [--params P] "
		 "[--with-inputs] [--format csv|json]\n");
	expect(sg_cmd_predict, &linear_model, a3, 2, "", want);
	free(csv);
}

Test(cmd, help_without_a_model)
{
	char *a1[] = {"train", "--help", NULL};
	char *a2[] = {"predict", "-h", NULL};
	char *a3[] = {"eval", "--at", "x=1", "--help", NULL};
	char *o, *e;

	cr_assert(eq(int, th_run(sg_cmd_train, NULL, a1, &o, &e), 0));
	cr_assert(eq(int, strncmp(o, "usage: symgrad train MODEL.sg --data", 36), 0), "%s", o);
	cr_assert(ne(ptr, strstr(o, "  --lr X               learning rate (0.01)\n"), NULL));
	cr_assert(eq(str, e, ""));
	free(o);
	free(e);
	cr_assert(eq(int, th_run(sg_cmd_predict, NULL, a2, &o, &e), 0));
	cr_assert(eq(int, strncmp(o, "usage: symgrad predict MODEL.sg", 31), 0), "%s", o);
	free(o);
	free(e);
	cr_assert(eq(int, th_run(sg_cmd_eval, NULL, a3, &o, &e), 0));
	cr_assert(eq(int, strncmp(o, "usage: symgrad eval MODEL.sg", 28), 0), "%s", o);
	free(o);
	free(e);
}

Test(cmd, no_model_is_a_usage_error)
{
	char *argv[] = {"eval", "--at", "x=1", NULL};

	expect(sg_cmd_eval, NULL, argv, 2, "",
	       "symgrad: error: no model given\n"
	       "usage: symgrad eval MODEL.sg --at NAME=V[,NAME=V...] [--params P] "
	       "[--format text|json]\n");
}

/* loss = a*x + 2*b*x + 3*c*x, by hand: each gradient differs, so eval
 * printing them in another order (or under another name) fails. */
static double abc_forward(const double *p, const double *in, double *out)
{
	double loss = p[0] * in[0] + 2 * p[1] * in[0] + 3 * p[2] * in[0];
	if (out)
		out[0] = loss;
	return loss;
}

static double abc_backward(const double *p, const double *in, double *g)
{
	g[0] = in[0];
	g[1] = 2 * in[0];
	g[2] = 3 * in[0];
	return abc_forward(p, in, NULL);
}

static void abc_predict(const double *p, const double *in, double *out)
{
	abc_forward(p, in, out);
}

static const char *const abc_params[] = {"a", "b", "c"};
static const char *const abc_inputs[] = {"x"};
static const char *const abc_outputs[] = {"l"};
static const double abc_init[] = {1, 10, 100};
static const sg_model abc_model = {
	SG_MODEL_ABI, "abc", "test_cmd.c", "test", (int)sizeof(double),
	3, 1, 1, abc_params, abc_inputs, abc_outputs, abc_init,
	abc_forward, abc_backward, abc_predict, NULL,
	NULL, NULL, NULL, NULL,
	NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, 0, 0,
	NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL,
};

Test(cmd, eval_prints_every_gradient_in_param_order)
{
	char *text[] = {"eval", "--at", "x=2", NULL};
	char *json[] = {"eval", "--at", "x=2,c=0", "--format", "json", NULL};

	expect(sg_cmd_eval, &abc_model, text, 0,
	       "loss = 642.0\nl = 642.0\ndloss/da = 2.0\ndloss/db = 4.0\ndloss/dc = 6.0\n", "");
	expect(sg_cmd_eval, &abc_model, json, 0,
	       "{\"loss\": 42.0, \"outputs\": {\"l\": 42.0}, \"grad\": {\"a\": 2.0, \"b\": 4.0, "
	       "\"c\": 6.0}}\n", "");
}

/* ---- predict --with-inputs, --format; test ---- */

Test(cmd, predict_with_inputs_and_json)
{
	char *csv = th_path(dir, "x.csv");
	char *a1[] = {"predict", "--data", csv, "--with-inputs", NULL};
	char *a2[] = {"predict", "--data", csv, "--format", "json", NULL};
	char *a3[] = {"predict", "--data", csv, "--with-inputs", "--format=json", NULL};
	char *a4[] = {"predict", "--data", csv, "--format", "xml", NULL};
	char *a5[] = {"predict", "--data", csv, "--with-inputs=1", NULL};

	th_write_file(csv, "x,y\n1,2\n2.5,5\n");
	expect(sg_cmd_predict, &linear_model, a1, 0, "x,y,yhat\n1.0,2.0,1.0\n2.5,5.0,2.5\n",
	       "");
	expect(sg_cmd_predict, &linear_model, a2, 0, "[\n{\"yhat\": 1.0},\n{\"yhat\": 2.5}\n]\n",
	       "");
	expect(sg_cmd_predict, &linear_model, a3, 0,
	       "[\n{\"x\": 1.0, \"y\": 2.0, \"yhat\": 1.0},\n"
	       "{\"x\": 2.5, \"y\": 5.0, \"yhat\": 2.5}\n]\n", "");
	expect(sg_cmd_predict, &linear_model, a4, 2, "", NULL);
	expect(sg_cmd_predict, &linear_model, a5, 2, "", NULL);
	free(csv);
}

Test(cmd, test_loss_and_metrics)
{
	char *csv = th_path(dir, "d.csv");
	char *a1[] = {"test", "--data", csv, "--metric", "mse,mae", NULL};
	char *a2[] = {"test", "--data", csv, "--metric", "mae", "--format", "json", NULL};
	char *a3[] = {"test", "--data", csv, NULL};

	th_write_file(csv, "x,y\n1,2\n2,4\n3,6\n");
	expect(sg_cmd_test, &linear_model, a1, 0,
	       "loss = 4.666666666666667\nmse = 4.666666666666667\nmae = 2.0\n", "");
	expect(sg_cmd_test, &linear_model, a2, 0,
	       "{\"loss\": 4.666666666666667, \"mae\": 2.0}\n", "");
	expect(sg_cmd_test, &linear_model, a3, 0, "loss = 4.666666666666667\n", "");
	free(csv);
}

Test(cmd, test_errors)
{
	char *csv = th_path(dir, "d.csv");
	char *a1[] = {"test", "--metric", "mse", NULL};
	char *a2[] = {"test", "--data", csv, "--metric", "f1", NULL};
	char *a3[] = {"test", "--data", csv, "--metric", "mse", "--target", "z", NULL};
	char *a4[] = {"test", "--data", csv, "--output", "yhat", NULL};
	char *a5[] = {"test", "--data", "/nonexistent", NULL};
	static const char usage[] = "usage: symgrad test MODEL.sg --data FILE|- [--params P] "
				    "[--metric M[,M...]] [--target NAME]\n"
				    "         [--output NAME] [--format text|json]\n";
	char want[512];

	th_write_file(csv, "x,y\n1,2\n");
	snprintf(want, sizeof want, "symgrad: error: test needs --data FILE\n%s", usage);
	expect(sg_cmd_test, &linear_model, a1, 2, "", want);
	snprintf(want, sizeof want, "symgrad: error: unknown metric 'f1' (accuracy, mse, "
		 "mae)\n%s", usage);
	expect(sg_cmd_test, &linear_model, a2, 2, "", want);
	snprintf(want, sizeof want, "symgrad: error: --metric mse: model 'linear' has no "
		 "input 'z'\n%s", usage);
	expect(sg_cmd_test, &linear_model, a3, 2, "", want);
	snprintf(want, sizeof want, "symgrad: error: --output needs --metric\n%s", usage);
	expect(sg_cmd_test, &linear_model, a4, 2, "", want);
	expect(sg_cmd_test, &linear_model, a5, 1, "", NULL);
	free(csv);
}
