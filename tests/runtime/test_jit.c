/*
 * test_jit.c: compiling generated C at run time through the cache.
 *
 * Each test gets its own XDG_CACHE_HOME.  The model text is the lecture
 * model written the way symgrad generates it: NAME_grad.c including
 * NAME_grad.h, which carries the sg_model definition.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "helpers.h"
#include "symgrad.h"

static const char lin_c[] =
	"#include \"lin_grad.h\"\n"
	"static const char *const pn[] = {\"w\"};\n"
	"static const char *const in_names[] = {\"x\", \"y\"};\n"
	"static const char *const on[] = {\"yhat\"};\n"
	"static const double init[] = {1.0};\n"
	"static double fwd(const double *p, const double *in, double *out)\n"
	"{ double d = in[0] * p[0] - in[1]; if (out) out[0] = in[0] * p[0];"
	" return d * d; }\n"
	"static double bwd(const double *p, const double *in, double *g)\n"
	"{ double d = in[0] * p[0] - in[1]; g[0] = 2 * d * in[0]; return d * d; }\n"
	"const sg_model lin_model = {ABI, \"lin\", \"lin.sg\", \"test\",\n"
	"  (int)sizeof(double), 1, 2, 1, pn, in_names, on, init,\n"
	"  fwd, bwd, 0, 0, 0, 0, 0, 0};\n";

static char *dir, *h_text;

/* lin_c with ABI replaced by abi (malloc'd). */
static char *lin_text(int abi)
{
	char *s = malloc(sizeof lin_c + 32);

	sprintf(s, "#define ABI %d\n%s", abi, lin_c);
	return s;
}

static void setup(void)
{
	char *model_h = th_read_file(SG_RUNTIME_DIR "/sg_model.h");

	dir = th_tmpdir();
	setenv("XDG_CACHE_HOME", dir, 1);
	setenv("CC", "cc", 1);
	h_text = malloc(strlen(model_h) + 64);
	sprintf(h_text, "%sextern const sg_model lin_model;\n", model_h);
	free(model_h);
}

static void teardown(void)
{
	th_rm_rf(dir);
	free(dir);
	free(h_text);
}

TestSuite(jit, .init = setup, .fini = teardown);

/* Opens the lin model with ABI abi; NULL allowed (err filled). */
static sg_jit *open_lin(int abi, sg_error *err)
{
	char *c = lin_text(abi);
	sg_jit *j = sg_jit_open("lin", c, h_text, err);

	free(c);
	return j;
}

/* Checks that j's model computes the lecture model. */
static void check_model(const sg_jit *j)
{
	const sg_model *m = sg_jit_model(j);
	double p[1] = {1}, in[2] = {2, 4}, g[1];

	cr_assert(eq(str, (char *)m->name, "lin"));
	cr_assert(eq(int, m->abi, SG_MODEL_ABI));
	cr_assert(eq(dbl, m->backward_d(p, in, g), 4.0));
	cr_assert(eq(dbl, g[0], -8.0));
}

Test(jit, compiles_then_uses_the_cache)
{
	sg_error err;
	sg_jit *a = open_lin(SG_MODEL_ABI, &err), *b;
	char prefix[512];

	cr_assert(ne(ptr, a, NULL), "%s", err.msg);
	cr_assert(eq(int, sg_jit_was_cached(a), 0));
	check_model(a);
	snprintf(prefix, sizeof prefix, "%s/symgrad/", dir);
	cr_assert(eq(int, strncmp(sg_jit_path(a), prefix, strlen(prefix)), 0),
		  "%s", sg_jit_path(a));
	b = open_lin(SG_MODEL_ABI, &err);
	cr_assert(ne(ptr, b, NULL), "%s", err.msg);
	cr_assert(eq(int, sg_jit_was_cached(b), 1));
	cr_assert(eq(str, (char *)sg_jit_path(a), (char *)sg_jit_path(b)));
	check_model(b);
	sg_jit_close(a);
	sg_jit_close(b);
}

/* Builds once, damages the object with truncate to size, reopens. */
static void rebuild_after_truncate(off_t size)
{
	sg_error err;
	sg_jit *j = open_lin(SG_MODEL_ABI, &err);
	char *path;

	cr_assert(ne(ptr, j, NULL), "%s", err.msg);
	path = strdup(sg_jit_path(j));
	sg_jit_close(j);
	cr_assert(eq(int, truncate(path, size), 0));
	j = open_lin(SG_MODEL_ABI, &err);
	cr_assert(ne(ptr, j, NULL), "%s", err.msg);
	cr_assert(eq(int, sg_jit_was_cached(j), 0));
	check_model(j);
	sg_jit_close(j);
	j = open_lin(SG_MODEL_ABI, &err);
	cr_assert(eq(int, sg_jit_was_cached(j), 1));
	sg_jit_close(j);
	free(path);
}

Test(jit, truncated_object_is_rebuilt) { rebuild_after_truncate(100); }
Test(jit, empty_object_is_rebuilt) { rebuild_after_truncate(0); }

Test(jit, no_compiler)
{
	sg_error err;

	setenv("CC", "/nonexistent/cc", 1);
	cr_assert(eq(ptr, open_lin(SG_MODEL_ABI, &err), NULL));
	cr_assert(eq(str, err.msg, "no C compiler found (set CC or install gcc)"));
}

Test(jit, no_compiler_message_on_stderr)
{
	th_capture c;
	sg_error err;
	char *text;

	setenv("CC", "/nonexistent/cc", 1);
	cr_assert(eq(ptr, open_lin(SG_MODEL_ABI, &err), NULL));
	th_capture_begin(&c, 2);
	sg_error_print(&err);
	text = th_capture_end(&c);
	cr_assert(eq(str, text,
		     "symgrad: error: no C compiler found (set CC or install gcc)\n"));
	free(text);
}

Test(jit, cc_with_arguments_is_split_and_keyed)
{
	sg_error err;
	sg_jit *a = open_lin(SG_MODEL_ABI, &err), *b;

	cr_assert(ne(ptr, a, NULL), "%s", err.msg);
	setenv("CC", "  cc   -O0 -g ", 1);
	b = open_lin(SG_MODEL_ABI, &err);
	cr_assert(ne(ptr, b, NULL), "%s", err.msg);
	cr_assert(eq(int, sg_jit_was_cached(b), 0));
	cr_assert(ne(str, (char *)sg_jit_path(a), (char *)sg_jit_path(b)));
	check_model(b);
	sg_jit_close(a);
	sg_jit_close(b);
}

Test(jit, compiler_errors_are_shown)
{
	sg_error err;
	static const char prefix[] = "C compiler 'cc' failed (exit 1):\n";

	cr_assert(eq(ptr, sg_jit_open("lin", "this is not C;\n", h_text, &err), NULL));
	cr_assert(eq(int, strncmp(err.msg, prefix, sizeof prefix - 1), 0), "%s",
		  err.msg);
	cr_assert(ne(ptr, strstr(err.msg, "lin_grad.c:1"), NULL), "%s", err.msg);
}

Test(jit, wrong_abi_is_refused)
{
	sg_error err;

	cr_assert(eq(ptr, open_lin(99, &err), NULL));
	cr_assert(ne(ptr, strstr(err.msg, "lin_model has ABI 99, runtime has 1"), NULL),
		  "%s", err.msg);
}

Test(jit, missing_symbol_is_refused)
{
	sg_error err;

	cr_assert(eq(ptr, sg_jit_open("lin", "int lin_other = 1;\n", h_text, &err),
		     NULL));
	cr_assert(ne(ptr, strstr(err.msg, ": no symbol lin_model"), NULL), "%s",
		  err.msg);
}

Test(jit, bad_name_is_refused)
{
	sg_error err;

	cr_assert(eq(ptr, sg_jit_open("../evil", "", "", &err), NULL));
	cr_assert(eq(str, err.msg, "bad model name '../evil' (expected a C identifier)"));
}

Test(jit, home_cache_when_no_xdg)
{
	sg_error err;
	sg_jit *j;
	char prefix[512];

	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", dir, 1);
	j = open_lin(SG_MODEL_ABI, &err);
	cr_assert(ne(ptr, j, NULL), "%s", err.msg);
	snprintf(prefix, sizeof prefix, "%s/.cache/symgrad/", dir);
	cr_assert(eq(int, strncmp(sg_jit_path(j), prefix, strlen(prefix)), 0),
		  "%s", sg_jit_path(j));
	sg_jit_close(j);
}

Test(jit, cache_entry_holds_the_sources)
{
	sg_error err;
	sg_jit *j = open_lin(SG_MODEL_ABI, &err);
	char *path, *slash, *text, *want = lin_text(SG_MODEL_ABI);

	cr_assert(ne(ptr, j, NULL), "%s", err.msg);
	path = malloc(strlen(sg_jit_path(j)) + 16);
	strcpy(path, sg_jit_path(j));
	slash = strrchr(path, '/');
	strcpy(slash, "/lin_grad.c");
	text = th_read_file(path);
	cr_assert(eq(str, text, want));
	cr_assert(eq(int, th_count_entries(dir), 1));
	free(text);
	free(want);
	free(path);
	sg_jit_close(j);
}
