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
	expect_usage(a7, "unknown optimizer 'rmsprop' (sgd, momentum, adam, adamw, "
			   "lbfgs, newton, lm)");
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

/* ---- evaluation and training control ---- */

/* A table of rows (x, y) made by hand. */
static sg_data *table(const double *xy, size_t n)
{
	sg_data *d = sg_data_new(n, 2, "hand");

	memcpy(d->x, xy, 2 * n * sizeof *xy);
	for (size_t i = 0; i < n; i++)
		d->line[i] = (long)i + 2;
	return d;
}

static const double lecture_xy[] = {1, 2, 2, 4, 3, 6};

/* Clipping by norm: the full-batch gradient of the lecture data at w = 1
 * is -28/3; clip_grad_norm_(max_norm=1) scales it by 1 / (28/3 + 1e-6). */
Test(train, clip_norm_scales_like_clip_grad_norm)
{
	sg_train_opts o = sg_train_defaults();
	double mean, w, g = -28.0 / 3.0;

	o.batch = 0;
	o.clip_norm = 1;
	w = train_api(&linear_model, &o, &mean);
	cr_assert(eq(dbl, w, 1.0 - 0.01 * (g * (1.0 / (28.0 / 3.0 + 1e-6)))));
	o.clip_norm = 10; /* above the norm: untouched */
	w = train_api(&linear_model, &o, &mean);
	cr_assert(eq(dbl, w, 1.0 - 0.01 * g));
}

/* The epoch's gradient norm and learning rate in the statistics, and a
 * step schedule applied per epoch. */
Test(train, stats_and_schedule)
{
	sg_train_opts o = sg_train_defaults();
	sg_data *d = table(lecture_xy, 3);
	sg_trainer *t;
	sg_error err;
	double w1, w2;

	o.batch = 0;
	o.epochs = 2;
	o.sched.kind = SG_SCHED_STEP;
	o.sched.step_size = 1;
	o.sched.gamma = 0.5;
	t = sg_trainer_new(&linear_model, &o, &err);
	cr_assert(eq(int, sg_trainer_run(t, d, &err), 0), "%s", err.msg);
	w1 = 1.0 - 0.01 * (-28.0 / 3.0);
	/* gradient at w1: mean of 2 (x w1 - y) x = 2 (w1 - 2) 14 / 3 */
	w2 = w1 - 0.005 * (2 * (w1 - 2) * 14.0 / 3.0);
	cr_assert(ieee_ulp_eq(dbl, (sg_trainer_get_params(t, &w1), w1), w2, 4));
	cr_assert(eq(dbl, sg_trainer_stats(t)->lr, 0.005));
	cr_assert(epsilon_eq(dbl, sg_trainer_stats(t)->grad_norm,
			     fabs(2 * (1.0 - 0.01 * (-28.0 / 3.0) - 2) * 14.0 / 3.0), 1e-12));
	cr_assert(eq(int, sg_trainer_stats(t)->stop, SG_STOP_EPOCHS));
	cr_assert(eq(int, (int)isnan(sg_trainer_stats(t)->val_loss) != 0, 1));
	sg_trainer_free(t);
	sg_data_free(d);
}

/* Records the parameter after each epoch. */
typedef struct epoch_log {
	double w[200], val[200];
	long n;
} epoch_log;

static void log_w(void *ctx, const sg_trainer *t, long e, double mean, double last)
{
	epoch_log *l = ctx;

	(void)mean;
	(void)last;
	sg_trainer_get_params(t, &l->w[e]);
	l->val[e] = sg_trainer_stats(t)->val_loss;
	l->n = e + 1;
}

/* Training pulls w from 1 to 2 (y = 2x); the validation rows have y =
 * 1.5x, so their loss falls until w passes 1.5 and then rises: patience
 * stops training and the parameters of the best epoch are kept. */
Test(train, early_stopping_keeps_best_params)
{
	static const double val_xy[] = {1, 1.5, 2, 3};
	sg_train_opts o = sg_train_defaults();
	sg_data *d = table(lecture_xy, 3), *v = table(val_xy, 2);
	const sg_epoch_stats *st;
	sg_trainer *t;
	sg_error err;
	epoch_log l = {{0}, {0}, 0};
	double w, best;
	long e;

	o.epochs = 200;
	o.val = v;
	o.patience = 3;
	o.on_epoch = log_w;
	o.ctx = &l;
	t = sg_trainer_new(&linear_model, &o, &err);
	cr_assert(eq(int, sg_trainer_run(t, d, &err), 0), "%s", err.msg);
	st = sg_trainer_stats(t);
	cr_assert(eq(int, st->stop, SG_STOP_PATIENCE));
	cr_assert(eq(int, st->last, 1));
	cr_assert(lt(long, l.n, 200));
	cr_assert(eq(long, st->epoch, l.n - 1));
	cr_assert(eq(long, st->epoch - st->best_epoch, 3));
	/* the best epoch has the lowest validation loss: (w - 1.5)^2 * 2.5 */
	best = l.val[st->best_epoch];
	for (e = 0; e < l.n; e++)
		cr_assert(le(dbl, best, l.val[e]));
	cr_assert(epsilon_eq(dbl, best, (l.w[st->best_epoch] - 1.5) *
					       (l.w[st->best_epoch] - 1.5) * 2.5, 1e-12));
	sg_trainer_get_params(t, &w);
	cr_assert(eq(dbl, w, l.w[st->best_epoch]));
	cr_assert(ne(dbl, w, l.w[l.n - 1]));
	sg_trainer_free(t);
	sg_data_free(d);
	sg_data_free(v);
}

Test(train, target_loss_stops)
{
	sg_train_opts o = sg_train_defaults();
	sg_data *d = table(lecture_xy, 3);
	sg_trainer *t;
	sg_error err;

	o.epochs = 100;
	o.use_target_loss = 1;
	o.target_loss = 0.5;
	t = sg_trainer_new(&linear_model, &o, &err);
	cr_assert(eq(int, sg_trainer_run(t, d, &err), 0), "%s", err.msg);
	cr_assert(eq(int, sg_trainer_stats(t)->stop, SG_STOP_TARGET));
	/* the loss of the lecture's epochs: 4.05, 2.22, 1.21, 0.66, 0.36 */
	cr_assert(eq(long, sg_trainer_stats(t)->epoch, 4));
	sg_trainer_free(t);
	sg_data_free(d);
}

/* Loss and metrics of a table at w = 1: yhat = x against y = 2x. */
Test(train, evaluate_loss_and_metrics)
{
	sg_train_opts o = sg_train_defaults();
	sg_data *d = table(lecture_xy, 3);
	sg_trainer *t = sg_trainer_new(&linear_f_model, &o, NULL);
	sg_metric mt[2];
	double loss;

	cr_assert(eq(int, sg_metric_setup(&mt[0], SG_METRIC_MSE, &linear_model, NULL,
					  NULL, NULL), 0));
	cr_assert(eq(int, sg_metric_setup(&mt[1], SG_METRIC_MAE, &linear_model, "yhat",
					  "y", NULL), 0));
	cr_assert(eq(int, sg_trainer_evaluate(t, d, mt, 2, &loss, NULL), 0));
	cr_assert(eq(dbl, loss, 14.0 / 3.0));
	cr_assert(eq(dbl, sg_metric_value(&mt[0]), 14.0 / 3.0));
	cr_assert(eq(dbl, sg_metric_value(&mt[1]), 2.0));
	sg_trainer_free(t);
	sg_data_free(d);
}

/* Descriptors for metrics (names only: metrics never call the model). */
static const char *const cls_in[] = {"x[0]", "x[1]", "label", "y"};
static const char *const cls_out[] = {"probs[0]", "probs[1]", "probs[2]", "p"};
static const int cls_classes[] = {0, 0, 3, 0};
static const sg_model cls_model = {
	.abi = SG_MODEL_ABI, .name = "cls", .real_size = 8, .n_inputs = 4,
	.n_outputs = 4, .input_names = cls_in, .output_names = cls_out,
	.input_classes = cls_classes};

Test(train, accuracy_argmax_and_threshold)
{
	sg_metric a, b;
	double in1[] = {0, 0, 2, 1}, out1[] = {0.1, 0.2, 0.7, 0.6};
	double in2[] = {0, 0, 0, 0}, out2[] = {0.5, 0.5, 0.1, 0.5};
	double in3[] = {0, 0, 1, 1}, out3[] = {0.5, 0.4, 0.1, 0.4};

	/* defaults: the first output (probs) against the class input */
	cr_assert(eq(int, sg_metric_setup(&a, SG_METRIC_ACCURACY, &cls_model, NULL,
					  NULL, NULL), 0));
	cr_assert(eq(int, a.out, 0));
	cr_assert(eq(int, a.n_out, 3));
	cr_assert(eq(int, a.target, 2));
	cr_assert(eq(int, sg_metric_setup(&b, SG_METRIC_ACCURACY, &cls_model, "p", "y",
					  NULL), 0));
	sg_metric_add(&a, in1, out1); /* argmax 2 = label 2 */
	sg_metric_add(&a, in2, out2); /* tie: the first, 0 = label 0 */
	sg_metric_add(&a, in3, out3); /* argmax 0, label 1 */
	cr_assert(ieee_ulp_eq(dbl, sg_metric_value(&a), 2.0 / 3.0, 0));
	sg_metric_add(&b, in1, out1); /* 0.6 > 0.5 and y = 1 */
	sg_metric_add(&b, in2, out2); /* 0.5 is not > 0.5, y = 0 */
	sg_metric_add(&b, in3, out3); /* 0.4, y = 1 */
	cr_assert(ieee_ulp_eq(dbl, sg_metric_value(&b), 2.0 / 3.0, 0));
	sg_metric_reset(&b);
	cr_assert(eq(int, isnan(sg_metric_value(&b)) != 0, 1));
}

Test(train, metric_setup_errors)
{
	sg_metric mt;
	sg_error err;

	cr_assert(eq(int, sg_metric_setup(&mt, SG_METRIC_MSE, &cls_model, NULL, NULL,
					  &err), -1));
	cr_assert(eq(str, err.msg, "output 'probs' has 3 elements, target 'label' has 1 "
		     "(give --output NAME and --target NAME)"));
	cr_assert(eq(int, sg_metric_setup(&mt, SG_METRIC_ACCURACY, &cls_model, NULL, "y",
					  &err), -1));
	cr_assert(eq(str, err.msg, "output 'probs' has 3 elements, so the target must be "
		     "a class index over 3 classes (cross_entropy's), and input 'y' is "
		     "not one"));
	cr_assert(eq(int, sg_metric_setup(&mt, SG_METRIC_MAE, &cls_model, "q", NULL,
					  &err), -1));
	cr_assert(eq(str, err.msg, "model 'cls' has no output 'q'"));
	cr_assert(eq(int, sg_metric_setup(&mt, SG_METRIC_MAE, &cls_model, "p", "x[0]",
					  &err), -1));
	cr_assert(eq(str, err.msg, "model 'cls' has no input 'x[0]'"));
	cr_assert(eq(int, sg_metric_setup(&mt, SG_METRIC_MAE, &cls_model, "p", "x",
					  &err), -1));
	cr_assert(eq(str, err.msg, "output 'p' has 1 element, target 'x' has 2 "
		     "(give --output NAME and --target NAME)"));
}

/* The data split of --val-split keeps the rows' lines. */
Test(train, data_slice)
{
	sg_data *d = table(lecture_xy, 3), *s = sg_data_slice(d, 1, 2);

	cr_assert(eq(sz, s->n_rows, 2));
	cr_assert(eq(dbl, s->x[0], 2));
	cr_assert(eq(dbl, s->x[3], 6));
	cr_assert(eq(long, s->line[0], 3));
	sg_data_free(d);
	sg_data_free(s);
}
