/*
 * test_params.c: parameter files round-trip exactly, are written
 * atomically and are rejected with a clear message when damaged.
 */
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "helpers.h"
#include "linear_hand.h"
#include "symgrad.h"

/* A three-parameter model: only the names matter here. */
static const char *const abc_names[] = {"a", "b", "c"};
static const double abc_init[] = {0, 0, 0};
static const sg_model abc_model = {
	SG_MODEL_ABI, "abc", "test", "test", (int)sizeof(double), 3, 0, 0,
	abc_names, NULL, NULL, abc_init,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, 0, 0,
	NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL,
};

static char *dir, *file;

static void setup(void)
{
	dir = th_tmpdir();
	file = th_path(dir, "p.params");
}

static void teardown(void)
{
	th_rm_rf(dir);
	free(dir);
	free(file);
}

TestSuite(params, .init = setup, .fini = teardown);

Test(params, format_is_documented_text)
{
	static const double w[] = {1.0};
	sg_error err;
	char *text;

	cr_assert(eq(int, sg_params_save(file, &linear_model, w, &err), 0), "%s",
		  err.msg);
	text = th_read_file(file);
	cr_assert(eq(str, text,
		     "# symgrad parameters\n"
		     "symgrad-params 1\n"
		     "model linear\n"
		     "w 1.0\n"
		     "checksum 0x95300f7596da1dc8\n"));
	free(text);
}

Test(params, round_trip_exact)
{
	static const double vals[][3] = {
		{0.1, 1.0 / 3, -0.0},
		{5e-324, DBL_MAX, -DBL_MIN},
		{1e16, 9999999999999998.0, 7.804864406585693},
		{-1e-300, 4.9406564584124654e-324, 1e-5},
	};
	double got[3];
	sg_error err;
	size_t k;
	int i;

	for (k = 0; k < sizeof vals / sizeof vals[0]; k++) {
		cr_assert(eq(int, sg_params_save(file, &abc_model, vals[k], &err), 0));
		cr_assert(eq(int, sg_params_load(file, &abc_model, got, &err), 0),
			  "%s", err.msg);
		for (i = 0; i < 3; i++)
			cr_assert(eq(int, memcmp(&got[i], &vals[k][i], sizeof got[i]), 0),
				  "set %zu value %d: %a != %a", k, i, got[i], vals[k][i]);
	}
}

/* NaN and infinities are never saved: nothing could train from them. */
Test(params, refuses_to_save_non_finite)
{
	static const double v[][3] = {{NAN, 1, 2}, {1, INFINITY, 2}, {1, 2, -INFINITY}};
	static const char *const what[] = {"'a' is NaN", "'b' is infinite", "'c' is infinite"};
	char want[512];
	sg_error err;

	for (int k = 0; k < 3; k++) {
		cr_assert(eq(int, sg_params_save(file, &abc_model, v[k], &err), -1));
		snprintf(want, sizeof want, "cannot save '%s': parameter %s", file, what[k]);
		cr_assert(eq(str, err.msg, want));
		cr_assert(eq(int, access(file, F_OK), -1));
	}
}

/* Writes text (with a correct checksum appended when sum) and expects
 * loading to fail with "FILE:" + suffix. */
static void expect_load_error(const char *text, int sum, const char *suffix)
{
	char full[2048], want[1024];
	double p[3];
	sg_error err;

	if (sum)
		snprintf(full, sizeof full, "%schecksum 0x%016llx\n", text,
			 (unsigned long long)sg_fnv1a(SG_FNV_INIT, text, strlen(text)));
	else
		snprintf(full, sizeof full, "%s", text);
	th_write_file(file, full);
	cr_assert(eq(int, sg_params_load(file, &abc_model, p, &err), -1));
	snprintf(want, sizeof want, "%s:%s", file, suffix);
	cr_assert(eq(str, err.msg, want));
}

Test(params, any_order_comments_and_blank_lines)
{
	static const char text[] = "symgrad-params 1\n# hand-made\n\nmodel abc\n"
				   "c 3\nb  2.5\na -1\n";
	char full[512];
	double p[3];
	sg_error err;

	snprintf(full, sizeof full, "%schecksum 0x%016llx\n", text,
		 (unsigned long long)sg_fnv1a(SG_FNV_INIT, text, strlen(text)));
	th_write_file(file, full);
	cr_assert(eq(int, sg_params_load(file, &abc_model, p, &err), 0), "%s",
		  err.msg);
	cr_assert(eq(dbl, p[0], -1.0));
	cr_assert(eq(dbl, p[1], 2.5));
	cr_assert(eq(dbl, p[2], 3.0));
}

Test(params, rejects_wrong_version)
{
	expect_load_error("symgrad-params 2\nmodel abc\na 1\nb 2\nc 3\n", 1,
			  "1: error: unsupported version '2' (expected 1)");
}

Test(params, rejects_other_files)
{
	expect_load_error("hello world\n", 1, "1: error: not a symgrad parameter file");
}

Test(params, rejects_wrong_model)
{
	expect_load_error("symgrad-params 1\nmodel linear\nw 1\n", 1,
			  "2: error: parameters are for model 'linear', not 'abc'");
}

Test(params, rejects_unknown_parameter)
{
	expect_load_error("symgrad-params 1\nmodel abc\na 1\nz 2\n", 1,
			  "4: error: unknown parameter 'z' for model 'abc'");
}

Test(params, rejects_duplicate_parameter)
{
	expect_load_error("symgrad-params 1\nmodel abc\na 1\nb 2\na 3\n", 1,
			  "5: error: duplicate parameter 'a' (first on line 3)");
}

Test(params, rejects_missing_parameter)
{
	expect_load_error("symgrad-params 1\nmodel abc\na 1\nc 2\n", 1,
			  "5: error: missing parameter 'b'");
}

Test(params, rejects_bad_number)
{
	expect_load_error("symgrad-params 1\nmodel abc\na 1\nb 2x\nc 3\n", 1,
			  "4: error: bad number '2x' for parameter 'b'");
	expect_load_error("symgrad-params 1\nmodel abc\na\n", 1,
			  "3: error: expected 'NAME VALUE'");
}

Test(params, rejects_non_finite_values)
{
	expect_load_error("symgrad-params 1\nmodel abc\na nan\nb 2\nc 3\n", 1,
			  "3: error: parameter 'a' is not a finite number: 'nan'");
	expect_load_error("symgrad-params 1\nmodel abc\na 1\nb -inf\nc 3\n", 1,
			  "4: error: parameter 'b' is not a finite number: '-inf'");
	expect_load_error("symgrad-params 1\nmodel abc\na 1\nb 2\nc 1e999\n", 1,
			  "5: error: parameter 'c' is not a finite number: '1e999'");
}

/* A file converted to CRLF line ends loads with the same values. */
Test(params, crlf_line_ends_load)
{
	static const double v[] = {0.1, -2, 3e-7};
	double p[3];
	sg_error err;
	char *text, *crlf;
	size_t n = 0;

	cr_assert(eq(int, sg_params_save(file, &abc_model, v, &err), 0));
	text = th_read_file(file);
	crlf = malloc(2 * strlen(text) + 1);
	for (const char *c = text; *c; c++) {
		if (*c == '\n')
			crlf[n++] = '\r';
		crlf[n++] = *c;
	}
	crlf[n] = '\0';
	th_write_file(file, crlf);
	cr_assert(eq(int, sg_params_load(file, &abc_model, p, &err), 0), "%s", err.msg);
	for (int i = 0; i < 3; i++)
		cr_assert(eq(dbl, p[i], v[i]));
	free(text);
	free(crlf);
}

/* 10^6 parameters save and load (in any order): loading finds names through
 * a hash table, so this takes a second, not hours. */
Test(params, a_million_parameters, .timeout = 60)
{
	enum { N = 1000000 };
	char **names = malloc(N * sizeof *names);
	double *v = malloc(N * sizeof *v), *got = malloc(N * sizeof *got);
	sg_model m = abc_model;
	sg_error err;

	for (int i = 0; i < N; i++) {
		names[i] = malloc(16);
		snprintf(names[i], 16, "W[%d]", i);
		v[i] = (double)i / 7;
	}
	m.n_params = N;
	m.param_names = (const char *const *)names;
	cr_assert(eq(int, sg_params_save(file, &m, v, &err), 0), "%s", err.msg);
	cr_assert(eq(int, sg_params_load(file, &m, got, &err), 0), "%s", err.msg);
	int differ = 0;
	for (int i = 0; i < N; i++)
		differ += got[i] != v[i];
	cr_assert(eq(int, differ, 0));
	for (int i = 0; i < N; i++)
		free(names[i]);
	free(names);
	free(v);
	free(got);
}

Test(params, rejects_edited_value)
{
	static const double v[] = {1, 2, 3};
	sg_error err;
	double p[3];
	char *text, *two;

	cr_assert(eq(int, sg_params_save(file, &abc_model, v, &err), 0));
	text = th_read_file(file);
	two = strstr(text, "b 2.0");
	two[4] = '5';
	th_write_file(file, text);
	free(text);
	cr_assert(eq(int, sg_params_load(file, &abc_model, p, &err), -1));
	cr_assert(ne(ptr, strstr(err.msg, ":7: error: checksum mismatch (file "
					  "edited or truncated)"), NULL), "%s", err.msg);
}

Test(params, rejects_every_truncation_and_appended_text)
{
	static const double v[] = {0.1, -2, 3e-7};
	sg_error err;
	double p[3];
	char *text;
	size_t n, len;

	cr_assert(eq(int, sg_params_save(file, &abc_model, v, &err), 0));
	text = th_read_file(file);
	len = strlen(text);
	for (n = 0; n < len; n++) {
		char c = text[n];
		text[n] = '\0';
		th_write_file(file, text);
		text[n] = c;
		cr_assert(eq(int, sg_params_load(file, &abc_model, p, &err), -1),
			  "prefix of %zu bytes was accepted", n);
	}
	text = realloc(text, len + 16);
	strcat(text, "extra\n");
	th_write_file(file, text);
	cr_assert(eq(int, sg_params_load(file, &abc_model, p, &err), -1));
	cr_assert(ne(ptr, strstr(err.msg, ":8: error: text after the checksum line"),
		     NULL), "%s", err.msg);
	text[len - 5] = '\0'; /* cut inside the checksum's hex digits */
	th_write_file(file, text);
	cr_assert(eq(int, sg_params_load(file, &abc_model, p, &err), -1));
	cr_assert(ne(ptr, strstr(err.msg, ":7: error: missing checksum line"), NULL),
		  "%s", err.msg);
	free(text);
}

Test(params, missing_file)
{
	sg_error err;
	double p[3];

	cr_assert(eq(int, sg_params_load("/nonexistent/p", &abc_model, p, &err), -1));
	cr_assert(eq(str, err.msg,
		     "/nonexistent/p: error: cannot open: No such file or directory"));
}

Test(params, save_into_missing_directory)
{
	static const double v[] = {1, 2, 3};
	sg_error err;
	char *bad = th_path(dir, "no/such/p");
	char want[512];

	cr_assert(eq(int, sg_params_save(bad, &abc_model, v, &err), -1));
	snprintf(want, sizeof want,
		 "cannot write '%s': No such file or directory", bad);
	cr_assert(eq(str, err.msg, want));
	free(bad);
}

Test(params, failed_rename_leaves_no_temp_file)
{
	static const double v[] = {1, 2, 3};
	char *target = th_path(dir, "taken"), *inside = th_path(target, "f");
	sg_error err;

	mkdir(target, 0755);
	th_write_file(inside, "x");
	cr_assert(eq(int, sg_params_save(target, &abc_model, v, &err), -1));
	cr_assert(ne(ptr, strstr(err.msg, "it is a directory"), NULL), "%s",
		  err.msg);
	cr_assert(eq(int, th_count_entries(dir), 1)); /* just "taken" */
	free(inside);
	free(target);
}

Test(params, failed_write_keeps_old_file)
{
	static const double old[] = {1, 2, 3}, big[] = {0.1, 0.2, 0.3};
	struct rlimit lim;
	sg_error err;
	char *before, *after;

	cr_assert(eq(int, sg_params_save(file, &abc_model, old, &err), 0));
	before = th_read_file(file);
	/* a file-size limit makes the new file's write fail with EFBIG */
	signal(SIGXFSZ, SIG_IGN);
	lim.rlim_cur = lim.rlim_max = 40;
	cr_assert(eq(int, setrlimit(RLIMIT_FSIZE, &lim), 0));
	cr_assert(eq(int, sg_params_save(file, &abc_model, big, &err), -1));
	cr_assert(ne(ptr, strstr(err.msg, "': File too large"), NULL), "%s",
		  err.msg);
	after = th_read_file(file);
	cr_assert(eq(str, after, before));
	cr_assert(eq(int, th_count_entries(dir), 1));
	free(before);
	free(after);
}

Test(params, replace_keeps_mode)
{
	static const double v[] = {1, 2, 3};
	struct stat st;
	sg_error err;

	cr_assert(eq(int, sg_params_save(file, &abc_model, v, &err), 0));
	cr_assert(eq(int, stat(file, &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & 0777), 0644));
	chmod(file, 0600);
	cr_assert(eq(int, sg_params_save(file, &abc_model, v, &err), 0));
	cr_assert(eq(int, stat(file, &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & 0777), 0600));
}
