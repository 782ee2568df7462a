/*
 * test_train.c: the trainer and `train` command on the hand-written
 * lecture model: the PyTorch lecture traces byte for byte (float32 and
 * float64), logs, batches, shuffling, resuming, and stopping on
 * non-finite numbers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "helpers.h"
#include "cli.h" /* sg_cmd_*: the command line's, not the library's */
#include "linear_hand.h"
#include "symgrad.h"

#define LECTURE_CSV SG_TEST_DATA "/lecture04.csv"

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

TestSuite(train, .init = setup, .fini = teardown);

/* Runs `train ARGS...` on model m; returns the exit status. */
static int train(const sg_model *m, char **out, char **err, char **argv)
{
	return th_run(sg_cmd_train, m, argv, out, err);
}

/* Compares the lecture trace of m with the committed reference. */
static void check_lecture(const sg_model *m, const char *ref)
{
	char *argv[] = {"train", "--data", LECTURE_CSV, "--trace", "lecture",
			"--predict", "x=4", "--quiet", NULL};
	char *out, *err, *want = th_read_file(ref);

	cr_assert(eq(int, train(m, &out, &err, argv), 0));
	cr_assert(eq(str, out, want));
	cr_assert(eq(str, err, ""));
	free(out);
	free(err);
	free(want);
}

Test(train, lecture_trace_float32)
{
	check_lecture(&linear_f_model, SG_TEST_DATA "/lecture04_torch.out");
}

Test(train, lecture_trace_float64)
{
	check_lecture(&linear_model, SG_TEST_DATA "/lecture04_torch_f64.out");
}

/* The runtime's copies of the lecture's traces equal the project's
 * committed reference (tests/reference), never anything outside the
 * repository. */
Test(train, reference_copies_match_committed)
{
	static const char *const names[] = {"lecture04_torch.out",
					    "lecture04_torch_f64.out"};

	for (int i = 0; i < 2; i++) {
		char *mine = th_path(SG_TEST_DATA, names[i]);
		char *ref = th_path(SG_TEST_DATA "/../../reference", names[i]);
		char *ours = th_read_file(mine), *theirs = th_read_file(ref);
		cr_assert(ne(ptr, theirs, NULL), "%s is missing", ref);
		cr_assert(eq(str, ours, theirs), "%s differs", names[i]);
		free(ours);
		free(theirs);
		free(mine);
		free(ref);
	}
}

Test(train, stderr_log_and_quiet_stdout)
{
	char *argv[] = {"train", "--data", LECTURE_CSV, NULL};
	char *out, *err, *line;
	int n = 0;

	cr_assert(eq(int, train(&linear_model, &out, &err, argv), 0));
	cr_assert(eq(str, out, ""));
	cr_assert(eq(int, strncmp(err, "epoch 1/10 loss 4.0525143466666655 time ", 40), 0),
		  "%s", err);
	for (line = err; (line = strchr(line, '\n')) != NULL; line++)
		n++;
	cr_assert(eq(int, n, 10));
	cr_assert(ne(ptr, strstr(err, "epoch 10/10 loss 0.01764510140664452 time "),
		     NULL));
	free(out);
	free(err);
}

Test(train, csv_log_file)
{
	char *log = th_path(dir, "log.csv");
	char *argv[] = {"train", "--data", LECTURE_CSV, "--quiet", "--epochs",
			"3", "--log", log, NULL};
	char *text;
	static const char head[] = "epoch,loss,seconds\n1,4.0525143466666655,";

	cr_assert(eq(int, train(&linear_model, NULL, NULL, argv), 0));
	text = th_read_file(log);
	cr_assert(eq(int, strncmp(text, head, sizeof head - 1), 0), "%s", text);
	cr_assert(ne(ptr, strstr(text, "\n3,1.2106973245614812,"), NULL), "%s", text);
	free(text);
	free(log);
}

/* Trains with extra arguments and saves; returns the saved file's text. */
static char *train_saved(const sg_model *m, const char *name, char **extra)
{
	char *path = th_path(dir, name), *argv[32], *text;
	int n = 0, i;

	argv[n++] = "train";
	argv[n++] = "--data";
	argv[n++] = LECTURE_CSV;
	argv[n++] = "--quiet";
	argv[n++] = "--save";
	argv[n++] = path;
	for (i = 0; extra[i]; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	cr_assert(eq(int, train(m, NULL, NULL, argv), 0));
	text = th_read_file(path);
	free(path);
	return text;
}

Test(train, resume_equals_one_run)
{
	char *first = th_path(dir, "p4");
	char *e4[] = {"--epochs", "4", NULL};
	char *e6[] = {"--epochs", "6", "--load", first, NULL};
	char *e10[] = {"--epochs=10", NULL};
	char *a, *b, *c;

	a = train_saved(&linear_f_model, "p4", e4);
	b = train_saved(&linear_f_model, "p10a", e6);
	c = train_saved(&linear_f_model, "p10b", e10);
	cr_assert(eq(str, b, c));
	cr_assert(ne(ptr, strstr(c, "w 1.9512161016464233\n"), NULL), "%s", c);
	free(a);
	free(b);
	free(c);
	free(first);
}

/* Trains model m on the lecture data with opts; returns w. */
static double train_api(const sg_model *m, sg_train_opts *o, double *mean)
{
	sg_error err;
	sg_data *d = sg_data_read_csv(LECTURE_CSV, m, &err);
	sg_trainer *t = sg_trainer_new(m, o, &err);
	double w;

	cr_assert(ne(ptr, d, NULL));
	cr_assert(ne(ptr, t, NULL));
	cr_assert(eq(int, sg_trainer_epoch(t, d, 0, mean, &err), 0), "%s", err.msg);
	sg_trainer_get_params(t, &w);
	sg_trainer_free(t);
	sg_data_free(d);
	return w;
}

Test(train, full_batch_mean_gradient)
{
	sg_train_opts o = sg_train_defaults();
	double mean, w;
	float wf, gf;

	o.batch = 0; /* the double model has backward_batch_d */
	w = train_api(&linear_model, &o, &mean);
	cr_assert(eq(dbl, w, 1.0 - 0.01 * ((-2.0 + -8.0 + -18.0) / 3.0)));
	cr_assert(eq(dbl, mean, 14.0 / 3.0));
	/* the float model has no batch function: rows summed in float */
	gf = (-2.0f + -8.0f + -18.0f) / 3.0f;
	wf = 1.0f - 0.01f * gf;
	w = train_api(&linear_f_model, &o, &mean);
	cr_assert(eq(dbl, w, (double)wf));
}

Test(train, mini_batches_of_two)
{
	sg_train_opts o = sg_train_defaults();
	double mean, w, g1, w1, g2;

	o.batch = 2;
	w = train_api(&linear_model, &o, &mean);
	g1 = (2.0 * (1.0 - 2.0) * 1.0 + 2.0 * (2.0 - 4.0) * 2.0) / 2.0;
	w1 = 1.0 - 0.01 * g1;
	g2 = 2.0 * (3.0 * w1 - 6.0) * 3.0;
	cr_assert(eq(dbl, w, w1 - 0.01 * g2));
	cr_assert(eq(dbl, mean, (1.0 + 4.0 + (3.0 * w1 - 6.0) * (3.0 * w1 - 6.0)) / 3.0));
}

/* Records the first row of each step. */
typedef struct order_log {
	size_t rows[256];
	int n;
} order_log;

static void log_step(void *ctx, const sg_trainer *t, const sg_step_info *s)
{
	order_log *l = ctx;

	(void)t;
	if (l->n < 256)
		l->rows[l->n++] = s->rows[0];
}

/* Row order of two epochs over 40 rows shuffled with seed. */
static void shuffled_order(uint64_t seed, order_log *l)
{
	sg_train_opts o = sg_train_defaults();
	sg_data *d = sg_data_new(40, 2, "gen");
	sg_trainer *t;
	sg_error err;
	size_t i;

	for (i = 0; i < 40; i++) {
		d->x[2 * i] = (double)i / 40;
		d->x[2 * i + 1] = 2.0 * (double)i / 40;
		d->line[i] = (long)i + 1;
	}
	memset(l, 0, sizeof *l);
	o.shuffle = 1;
	o.seed = seed;
	o.epochs = 2;
	o.on_step = log_step;
	o.ctx = l;
	t = sg_trainer_new(&linear_model, &o, &err);
	cr_assert(eq(int, sg_trainer_run(t, d, &err), 0));
	sg_trainer_free(t);
	sg_data_free(d);
}

Test(train, shuffle_is_seeded_permutation)
{
	order_log a, b, c;
	int seen[40] = {0}, i, same = 0;

	shuffled_order(99, &a);
	shuffled_order(99, &b);
	shuffled_order(100, &c);
	cr_assert(eq(int, a.n, 80));
	cr_assert(eq(int, memcmp(a.rows, b.rows, sizeof a.rows), 0));
	for (i = 0; i < 40; i++) {
		seen[a.rows[i]]++;
		same += a.rows[i] == c.rows[i];
	}
	for (i = 0; i < 40; i++)
		cr_assert(eq(int, seen[i], 1));
	cr_assert(lt(int, same, 40));
	cr_assert(ne(int, memcmp(a.rows, a.rows + 40, 40 * sizeof a.rows[0]), 0));
}

/* Records the rows each step of an epoch used. */
typedef struct seen_rows {
	size_t rows[16], n, steps;
} seen_rows;

static void record_rows(void *ctx, const sg_trainer *t, const sg_step_info *s)
{
	seen_rows *r = ctx;
	(void)t;
	for (size_t i = 0; i < s->n && r->n < 16; i++)
		r->rows[r->n++] = s->rows[i];
	r->steps++;
}

/* With shuffling, an epoch visits every row exactly once, in a permuted
 * order, and the update is the one for the rows in that order. */
Test(train, shuffled_batches_gather_rows)
{
	static const double x[] = {1, 2, 3}, y[] = {2, 4, 6};
	sg_train_opts o = sg_train_defaults();
	seen_rows r = {{0}, 0, 0};
	double mean, w, g1, w1, g2, loss;
	int count[3] = {0, 0, 0};

	o.batch = 2;
	o.shuffle = 1;
	o.seed = 3;
	o.on_step = record_rows;
	o.ctx = &r;
	w = train_api(&linear_model, &o, &mean);
	cr_assert(eq(sz, r.n, 3));
	cr_assert(eq(sz, r.steps, 2));
	for (size_t i = 0; i < 3; i++) {
		cr_assert(lt(sz, r.rows[i], 3));
		count[r.rows[i]]++;
	}
	for (int i = 0; i < 3; i++)
		cr_assert(eq(int, count[i], 1), "row %d used %d times", i, count[i]);
	cr_assert(r.rows[0] != 0 || r.rows[1] != 1, "seed 3 left the rows in order");
	/* the same arithmetic as mini_batches_of_two, on the rows as shuffled */
	size_t a = r.rows[0], b = r.rows[1], c = r.rows[2];
	g1 = (2.0 * (x[a] - y[a]) * x[a] + 2.0 * (x[b] - y[b]) * x[b]) / 2.0;
	w1 = 1.0 - 0.01 * g1;
	g2 = 2.0 * (x[c] * w1 - y[c]) * x[c];
	cr_assert(eq(dbl, w, w1 - 0.01 * g2));
	loss = (x[a] - y[a]) * (x[a] - y[a]) + (x[b] - y[b]) * (x[b] - y[b]) +
	       (x[c] * w1 - y[c]) * (x[c] * w1 - y[c]);
	cr_assert(eq(dbl, mean, loss / 3.0));
}

Test(train, nonfinite_gradient_stops_and_saves_last_finite)
{
	char *csv = th_path(dir, "big.csv"), *save = th_path(dir, "p");
	char *argv[] = {"train", "--data", csv, "--save", save, "--quiet", NULL};
	char *out, *err, *text, want[512];

	th_write_file(csv, "x,y\n1,2\n1e200,0\n");
	cr_assert(eq(int, train(&linear_model, &out, &err, argv), 1));
	snprintf(want, sizeof want,
		 "symgrad: error: non-finite gradient at epoch 1, row 2 (%s:3): "
		 "dloss/dw = inf (loss = inf)\n", csv);
	cr_assert(eq(str, err, want));
	text = th_read_file(save);
	cr_assert(ne(ptr, strstr(text, "\nw 1.02\n"), NULL), "%s", text);
	free(text);
	free(out);
	free(err);
	free(csv);
	free(save);
}

Test(train, nonfinite_loss_named)
{
	char *csv = th_path(dir, "nan.csv");
	char *argv[] = {"train", "--data", csv, "--quiet", NULL};
	char *err, want[512];

	/* float model: 1e39 is finite in the file, inf as float32 */
	th_write_file(csv, "1e39,1\n");
	cr_assert(eq(int, train(&linear_f_model, NULL, &err, argv), 1));
	snprintf(want, sizeof want,
		 "symgrad: error: non-finite gradient at epoch 1, row 1 (%s:1): "
		 "dloss/dw = inf (loss = inf)\n", csv);
	cr_assert(eq(str, err, want));
	free(err);
	free(csv);
}

Test(train, diverging_update_is_undone)
{
	char *save = th_path(dir, "p");
	char *argv[] = {"train", "--data", LECTURE_CSV, "--lr", "1e308",
			"--save", save, "--quiet", NULL};
	char *err, *text, want[512];

	cr_assert(eq(int, train(&linear_model, NULL, &err, argv), 1));
	snprintf(want, sizeof want,
		 "symgrad: error: parameter w became inf at epoch 1, row 1 (%s:2) "
		 "(learning rate too large?)\n", LECTURE_CSV);
	cr_assert(eq(str, err, want));
	text = th_read_file(save);
	cr_assert(ne(ptr, strstr(text, "\nw 1.0\n"), NULL), "%s", text);
	free(text);
	free(err);
	free(save);
}

Test(train, optimizers_from_the_command_line)
{
	char *sgd[] = {"--epochs", "3", NULL};
	char *mom[] = {"--epochs", "3", "--optimizer", "momentum", "--momentum",
		       "0.5", NULL};
	char *adam[] = {"--epochs", "3", "--optimizer=adam", "--lr", "0.1", NULL};
	char *a = train_saved(&linear_model, "s", sgd);
	char *b = train_saved(&linear_model, "m", mom);
	char *c = train_saved(&linear_model, "a", adam);

	cr_assert(ne(str, a, b));
	cr_assert(ne(str, a, c));
	cr_assert(ne(str, b, c));
	free(a);
	free(b);
	free(c);
}

/* Expects a usage error whose first line is "symgrad: error: " + msg. */
static void expect_usage(char **argv, const char *msg)
{
	char *out, *err, want[512];

	cr_assert(eq(int, train(&linear_model, &out, &err, argv), 2));
	snprintf(want, sizeof want, "symgrad: error: %s\nusage: symgrad train MODEL.sg ",
		 msg);
	cr_assert(eq(int, strncmp(err, want, strlen(want)), 0), "%s", err);
	cr_assert(eq(str, out, ""));
	free(out);
	free(err);
}

Test(train, usage_errors)
{
	char *a1[] = {"train", "--bogus", NULL};
	char *a2[] = {"train", "--lr", "0.1", NULL};
	char *a3[] = {"train", "--data", "x", "--trace", "lecture", "--batch", "2", NULL};
	char *a4[] = {"train", "--data", "x", "--predict", "z=1", NULL};
	char *a5[] = {"train", "--data", "x", "--lr", "abc", NULL};
	char *a6[] = {"train", "--data", "x", "--epochs", "-1", NULL};
	char *a7[] = {"train", "--data", "x", "--optimizer", "rmsprop", NULL};
	char *a8[] = {"train", "--data", NULL};
	char *a9[] = {"train", "stray", NULL};
	char *a10[] = {"train", "--data", "x", "--predict", "x=1,x=2", NULL};
	char *a11[] = {"train", "--data", "x", "--batch", "0", NULL};
	char *a12[] = {"train", "--data", "x", "--seed", "-1", NULL};

	expect_usage(a1, "unknown option --bogus");
	expect_usage(a2, "train needs --data FILE");
	expect_usage(a3, "--trace lecture needs --batch 1");
	expect_usage(a4, "option --predict: the model has no input 'z'");
	expect_usage(a5, "option --lr: bad value 'abc'");
	expect_usage(a6, "option --epochs: bad value '-1'");
	expect_usage(a7, "unknown optimizer 'rmsprop' (sgd, momentum, adam)");
	expect_usage(a8, "option --data needs a value");
	expect_usage(a9, "unexpected argument 'stray'");
	expect_usage(a10, "option --predict: 'x' given twice");
	expect_usage(a11, "option --batch: 0 rows per step (give 1 or more, or all)");
	expect_usage(a12, "option --seed: bad value '-1'");
}

Test(train, data_errors_exit_1)
{
	char *csv = th_path(dir, "bad.csv");
	char *argv[] = {"train", "--data", csv, NULL};
	char *out, *err, want[512];

	th_write_file(csv, "x,y\n1,zz\n");
	cr_assert(eq(int, train(&linear_model, &out, &err, argv), 1));
	snprintf(want, sizeof want, "%s:2:2: error: not a number: 'zz'\n", csv);
	cr_assert(eq(str, err, want));
	cr_assert(eq(str, out, ""));
	free(out);
	free(err);
	free(csv);
}

Test(train, bad_params_file_exit_1)
{
	char *p = th_path(dir, "p");
	char *argv[] = {"train", "--data", LECTURE_CSV, "--load", p, NULL};
	char *err, want[512];

	th_write_file(p, "symgrad-params 1\nmodel linear\nw 2\n");
	cr_assert(eq(int, train(&linear_model, NULL, &err, argv), 1));
	snprintf(want, sizeof want,
		 "%s:4: error: missing checksum line (file truncated?)\n", p);
	cr_assert(eq(str, err, want));
	free(err);
	free(p);
}

Test(train, data_from_stdin)
{
	char *argv[] = {"train", "--data", "-", "--quiet", "--trace", "lecture", NULL};
	char *out, *want = th_read_file(SG_TEST_DATA "/lecture04_torch.out");
	char *last;

	cr_assert(ne(ptr, freopen(LECTURE_CSV, "r", stdin), NULL));
	cr_assert(eq(int, train(&linear_f_model, &out, NULL, argv), 0));
	/* the reference without its two predict lines */
	want[strlen(want) - 1] = '\0';
	last = strrchr(want, '\n');
	last[1] = '\0';
	cr_assert(eq(str, out, strchr(want, '\n') + 1));
	free(out);
	free(want);
}
