/*
 * test_jit.c: compiling generated C at run time through the cache.
 *
 * Each test gets its own XDG_CACHE_HOME.  The model text is the lecture
 * model written the way symgrad generates it: NAME_grad.c including
 * NAME_grad.h, which carries the sg_model definition.  The cache tests
 * damage, replace or re-own an entry the way a crash, a careless copy or
 * another user could, and check that nothing of it runs (tests run as root
 * in CI: chown to another uid works there; as another user the ownership
 * of a directory is tested through a symlink to "/").
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "helpers.h"
#include "symgrad.h"

static const char lin_body[] =
	"#include <stdlib.h>\n"
	"#include \"lin_grad.h\"\n"
	"static const char *const pn[] = {\"w\"};\n"
	"static const char *const in_names[] = {\"x\", \"y\"};\n"
	"static const char *const on[] = {\"yhat\"};\n"
	"static const double init[] = {1.0};\n"
	"static double fwd(const double *p, const double *in, double *out)\n"
	"{ double d = in[0] * p[0] - in[1]; if (out) out[0] = in[0] * p[0];"
	" return d * d; }\n"
	"static double bwd(const double *p, const double *in, double *g)\n"
	"{ double d = in[0] * p[0] - in[1]; g[0] = 2 * d * in[0]; return d * d; }\n";

/* The descriptor's initializer; the bad_descriptor tests change one field. */
static const char lin_desc[] =
	"ABI, \"lin\", \"lin.sg\", \"test\",\n"
	"  (int)sizeof(double), 1, 2, 1, pn, in_names, on, init,\n"
	"  fwd, bwd, 0, 0, 0, 0, 0, 0";

static char *dir, *h_text;

/* The lin model with ABI abi and descriptor initializer desc (malloc'd). */
static char *lin_with(int abi, const char *desc)
{
	char *s = malloc(sizeof lin_body + strlen(desc) + 96);

	sprintf(s, "#define ABI %d\n%sconst sg_model lin_model = {%s};\n", abi,
		lin_body, desc);
	return s;
}

/* The lin model with ABI abi (malloc'd). */
static char *lin_text(int abi)
{
	return lin_with(abi, lin_desc);
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

	char want[64];

	cr_assert(eq(ptr, open_lin(99, &err), NULL));
	snprintf(want, sizeof want, "lin_model has ABI 99, runtime has %d", SG_MODEL_ABI);
	cr_assert(ne(ptr, strstr(err.msg, want), NULL), "%s", err.msg);
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

/* ---- the cache: what is in it runs only when it is ours and intact ---- */

/* Builds the lin entry, returns its lin.so path (malloc'd), closed. */
static char *built_entry_isa(sg_isa isa, char *march, size_t cap)
{
	sg_error err;
	char *c = lin_text(SG_MODEL_ABI);
	sg_jit *j = sg_jit_open_isa("lin", c, h_text, isa, &err);
	char *so;

	free(c);
	cr_assert(ne(ptr, j, NULL), "%s", err.msg);
	so = strdup(sg_jit_path(j));
	if (march)
		snprintf(march, cap, "%s", sg_jit_march(j));
	sg_jit_close(j);
	return so;
}

static char *built_entry(void)
{
	return built_entry_isa(SG_ISA_NATIVE, NULL, 0);
}

/* Runs a shell command; the test fails unless it exits 0. */
static void sh(const char *cmd)
{
	cr_assert(eq(int, system(cmd), 0), "%s", cmd);
}

/* Compiles C text into the shared object out with plain cc. */
static void cc_shared(const char *text, const char *out)
{
	char *src = th_path(dir, "planted.c"), *hdr = th_path(dir, "lin_grad.h");
	char cmd[2048];

	th_write_file(src, text);
	th_write_file(hdr, h_text);
	snprintf(cmd, sizeof cmd, "cc -shared -fPIC -o '%s' '%s'", out, src);
	sh(cmd);
	free(src);
	free(hdr);
}

/* Replaces the entry's object so with text compiled; with checksum, also
 * writes a matching lin.so.sha256 (sha256sum's format), as a build would. */
static void plant(const char *so, const char *text, int checksum)
{
	char *tmp = th_path(dir, "planted.so"), cmd[2048];

	cc_shared(text, tmp);
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", tmp, so);
	sh(cmd);
	if (checksum) {
		snprintf(cmd, sizeof cmd,
			 "cd \"$(dirname '%s')\" && sha256sum lin.so >lin.so.sha256", so);
		sh(cmd);
	}
	free(tmp);
}

/* Opens lin again and checks that the entry was rebuilt and works. */
static void check_rebuilt(const char *so)
{
	sg_error err;
	sg_jit *j = open_lin(SG_MODEL_ABI, &err);
	struct stat st;

	cr_assert(ne(ptr, j, NULL), "%s", err.msg);
	cr_assert(eq(int, sg_jit_was_cached(j), 0));
	cr_assert(eq(str, (char *)sg_jit_path(j), (char *)so));
	check_model(j);
	cr_assert(eq(int, lstat(so, &st), 0));
	cr_assert(eq(int, S_ISREG(st.st_mode) != 0, 1));
	cr_assert(eq(uint, st.st_uid, geteuid()));
	cr_assert(eq(uint, st.st_mode & 022, 0));
	sg_jit_close(j);
}

Test(jit, planted_object_with_constructor_does_not_run)
{
	char *so = built_entry(), *marker = th_path(dir, "marker"), *text;
	static const char fmt[] =
		"#include <stdio.h>\n"
		"__attribute__((constructor)) static void planted(void)\n"
		"{ FILE *f = fopen(\"%s\", \"w\"); if (f) fclose(f); }\n";

	text = malloc(sizeof fmt + strlen(marker));
	sprintf(text, fmt, marker);
	plant(so, text, 0);
	check_rebuilt(so);
	cr_assert(eq(int, access(marker, F_OK), -1), "the planted object ran");
	free(text);
	free(marker);
	free(so);
}

Test(jit, group_writable_object_is_rebuilt)
{
	char *so = built_entry();

	cr_assert(eq(int, chmod(so, 0775), 0));
	check_rebuilt(so);
	free(so);
}

Test(jit, object_of_another_user_is_rebuilt)
{
	char *so = built_entry();

	if (geteuid() != 0) {
		free(so);
		cr_skip_test("only root can give a file to another user");
	}
	cr_assert(eq(int, chown(so, 65534, 65534), 0));
	check_rebuilt(so);
	free(so);
}

Test(jit, symlinked_object_is_rebuilt)
{
	char *so = built_entry(), *elsewhere = th_path(dir, "elsewhere.so");
	char cmd[2048];

	snprintf(cmd, sizeof cmd, "mv '%s' '%s' && ln -s '%s' '%s'", so, elsewhere,
		 elsewhere, so);
	sh(cmd);
	check_rebuilt(so);
	free(elsewhere);
	free(so);
}

/* The object still loads, and only its bytes tell: "lin.sg" -> "lin.sX". */
Test(jit, changed_object_is_rebuilt)
{
	char *so = built_entry();
	FILE *f = fopen(so, "r+b");
	static char buf[1 << 16];
	size_t n, at;

	cr_assert(ne(ptr, f, NULL));
	n = fread(buf, 1, sizeof buf, f);
	for (at = 0; at + 7 <= n && memcmp(buf + at, "lin.sg", 7); at++)
		;
	cr_assert(at + 7 <= n, "no \"lin.sg\" in %s", so);
	cr_assert(eq(int, fseek(f, (long)at + 5, SEEK_SET), 0));
	cr_assert(eq(int, fputc('X', f), 'X'));
	cr_assert(eq(int, fclose(f), 0));
	check_rebuilt(so);
	free(so);
}

Test(jit, missing_checksum_is_rebuilt)
{
	char *so = built_entry(), *sum = malloc(strlen(so) + 8);

	sprintf(sum, "%s.sha256", so);
	cr_assert(eq(int, unlink(sum), 0));
	check_rebuilt(so);
	cr_assert(eq(int, access(sum, F_OK), 0));
	free(sum);
	free(so);
}

/* The checksum is written so that `sha256sum -c` in the entry checks it. */
Test(jit, checksum_is_sha256sum_of_the_object)
{
	char *so = built_entry(), *sum = malloc(strlen(so) + 8), *got;
	char cmd[2048], *want_path = th_path(dir, "want"), *want;

	sprintf(sum, "%s.sha256", so);
	got = th_read_file(sum);
	snprintf(cmd, sizeof cmd, "cd \"$(dirname '%s')\" && sha256sum lin.so >'%s'",
		 so, want_path);
	sh(cmd);
	want = th_read_file(want_path);
	cr_assert(eq(str, got, want));
	free(got);
	free(want);
	free(want_path);
	free(sum);
	free(so);
}

/* A forged descriptor with the right ABI and a matching checksum (what a
 * generator bug or a same-user copy could leave) is rebuilt, not used. */
Test(jit, forged_descriptor_in_the_cache_is_rebuilt)
{
	char *so = built_entry();
	char *text = lin_with(SG_MODEL_ABI,
			      "ABI, \"lin\", \"lin.sg\", \"test\", (int)sizeof(double),"
			      " -7, 2, 1, pn, in_names, on, init, fwd, bwd, 0, 0, 0, 0, 0, 0");

	plant(so, text, 1);
	check_rebuilt(so);
	free(text);
	free(so);
}

/* sg_jit_open of the lin model with descriptor desc fails with want in
 * its message. */
static void bad_descriptor(const char *desc, const char *want)
{
	sg_error err;
	char *text = lin_with(SG_MODEL_ABI, desc);
	sg_jit *j = sg_jit_open("lin", text, h_text, &err);

	cr_assert(eq(ptr, j, NULL), "loaded a bad descriptor");
	cr_assert(ne(ptr, strstr(err.msg, want), NULL), "%s", err.msg);
	free(text);
}

#define D_HEAD "ABI, \"lin\", \"lin.sg\", \"test\", "
#define D_SIZES "(int)sizeof(double), 1, 2, 1, "
#define D_NAMES "pn, in_names, on, init, "
#define D_FNS "fwd, bwd, 0, 0, 0, 0, 0, 0"

Test(jit, bad_descriptor_negative_count)
{
	bad_descriptor(D_HEAD "(int)sizeof(double), 1, -2, 1, " D_NAMES D_FNS,
		       "lin_model: n_inputs is -2 (expected 0 to ");
}

Test(jit, bad_descriptor_huge_count)
{
	bad_descriptor(D_HEAD "(int)sizeof(double), 1000000000, 2, 1, " D_NAMES D_FNS,
		       "lin_model: n_params is 1000000000 (expected 0 to ");
}

Test(jit, bad_descriptor_real_size)
{
	bad_descriptor(D_HEAD "3, 1, 2, 1, " D_NAMES D_FNS,
		       "lin_model: real_size is 3 (expected 8 or 4)");
}

Test(jit, bad_descriptor_null_name)
{
	bad_descriptor("ABI, 0, \"lin.sg\", \"test\", " D_SIZES D_NAMES D_FNS,
		       "lin_model: name is NULL");
}

Test(jit, bad_descriptor_wrong_name)
{
	bad_descriptor("ABI, \"other\", \"lin.sg\", \"test\", " D_SIZES D_NAMES D_FNS,
		       "lin_model: name is not \"lin\"");
}

Test(jit, bad_descriptor_null_names)
{
	bad_descriptor(D_HEAD D_SIZES "pn, 0, on, init, " D_FNS,
		       "lin_model: input_names is NULL");
}

Test(jit, bad_descriptor_null_name_entry)
{
	bad_descriptor(D_HEAD D_SIZES "pn, (const char *const[]){\"x\", 0}, on, init, " D_FNS,
		       "lin_model: input_names[1] is NULL");
}

Test(jit, bad_descriptor_null_backward)
{
	bad_descriptor(D_HEAD D_SIZES D_NAMES "fwd, 0, 0, 0, 0, 0, 0, 0",
		       "lin_model: backward_d is NULL");
}

Test(jit, bad_descriptor_function_outside_the_object)
{
	bad_descriptor("ABI, \"lin\", \"lin.sg\", \"test\", " D_SIZES D_NAMES
		       "fwd, bwd, (void (*)(const double *, const double *, double *))abort,"
		       " 0, 0, 0, 0, 0",
		       "lin_model: predict_d is outside the loaded object");
}

Test(jit, bad_descriptor_float_function_in_a_double_model)
{
	bad_descriptor(D_HEAD D_SIZES D_NAMES
		       "fwd, bwd, 0, 0, (float (*)(const float *, const float *, float *))fwd,"
		       " 0, 0, 0",
		       "lin_model: forward_f is set in a double model");
}

/* The directories from the cache root down are the user's own and
 * writable by nobody else; symgrad makes them 0700. */
Test(jit, cache_directories_are_private)
{
	char *so, *sub;
	struct stat st;
	static const char *const dirs[] = {"/.cache", "/.cache/symgrad"};
	int i;

	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", dir, 1);
	so = built_entry();
	for (i = 0; i < 2; i++) {
		sub = th_path(dir, dirs[i] + 1);
		cr_assert(eq(int, stat(sub, &st), 0));
		cr_assert(eq(uint, st.st_mode & 0777, 0700), "%s: %o", sub, st.st_mode);
		free(sub);
	}
	*strrchr(so, '/') = '\0';
	cr_assert(eq(int, stat(so, &st), 0));
	cr_assert(eq(uint, st.st_mode & 0777, 0700), "%s: %o", so, st.st_mode);
	free(so);
}

Test(jit, world_writable_cache_directory_is_refused)
{
	char *root = th_path(dir, "symgrad"), want[1024];
	sg_error err;

	cr_assert(eq(int, mkdir(root, 0700), 0));
	cr_assert(eq(int, chmod(root, 0777), 0));
	cr_assert(eq(ptr, open_lin(SG_MODEL_ABI, &err), NULL));
	snprintf(want, sizeof want,
		 "cache directory %s is writable by group or others (mode 0777): "
		 "chmod go-w it, or set XDG_CACHE_HOME to a private directory", root);
	cr_assert(eq(str, err.msg, want));
	free(root);
}

Test(jit, group_writable_cache_entry_is_refused)
{
	char *so = built_entry(), want[1024];
	sg_error err;

	*strrchr(so, '/') = '\0';
	cr_assert(eq(int, chmod(so, 0770), 0));
	cr_assert(eq(ptr, open_lin(SG_MODEL_ABI, &err), NULL));
	snprintf(want, sizeof want,
		 "cache directory %s is writable by group or others (mode 0770): "
		 "chmod go-w it, or set XDG_CACHE_HOME to a private directory", so);
	cr_assert(eq(str, err.msg, want));
	free(so);
}

/* As root the cache root is given to uid 65534; as anyone else it is a
 * symlink to "/", which root owns. */
Test(jit, cache_directory_of_another_user_is_refused)
{
	char *root = th_path(dir, "symgrad"), want[1024];
	struct stat st;
	sg_error err;

	if (geteuid() == 0) {
		cr_assert(eq(int, mkdir(root, 0700), 0));
		cr_assert(eq(int, chown(root, 65534, 65534), 0));
	} else {
		cr_assert(eq(int, symlink("/", root), 0));
	}
	cr_assert(eq(int, stat(root, &st), 0));
	cr_assert(eq(ptr, open_lin(SG_MODEL_ABI, &err), NULL));
	snprintf(want, sizeof want,
		 "cache directory %s belongs to uid %ld, not to you (uid %ld): "
		 "set XDG_CACHE_HOME to a directory of your own",
		 root, (long)st.st_uid, (long)geteuid());
	cr_assert(eq(str, err.msg, want));
	free(root);
}

/* Loading objects through /proc/self/fd/N must not confuse two objects
 * loaded through the same descriptor number at different times. */
Test(jit, models_loaded_one_after_another_stay_apart)
{
	static const char *const inits[] = {"1.0", "2.0", "3.0"};
	sg_jit *j[3];
	sg_error err;
	int i;

	for (i = 0; i < 3; i++) {
		char *body = strdup(lin_body), *at = strstr(body, "{1.0}"), *text;
		size_t n = strlen(body) + 128;

		memcpy(at + 1, inits[i], 3);
		text = malloc(n + sizeof lin_desc);
		sprintf(text, "#define ABI %d\n%sconst sg_model lin_model = {%s};\n",
			SG_MODEL_ABI, body, lin_desc);
		j[i] = sg_jit_open("lin", text, h_text, &err);
		cr_assert(ne(ptr, j[i], NULL), "%s", err.msg);
		if (i == 1)
			sg_jit_close(j[0]);
		free(text);
		free(body);
	}
	cr_assert(eq(dbl, sg_jit_model(j[1])->param_init[0], 2.0));
	cr_assert(eq(dbl, sg_jit_model(j[2])->param_init[0], 3.0));
	sg_jit_close(j[1]);
	sg_jit_close(j[2]);
}

/* ---- the compiler's command line ---- */

/* Sets CC to a script that logs its argv, one word a line, to dir/cc.log,
 * then runs cc; extra is appended to CC.  Returns the log's path. */
static char *logging_cc(const char *extra)
{
	char *script = th_path(dir, "logcc"), *log = th_path(dir, "cc.log");
	char text[2048], cc[2048];

	snprintf(text, sizeof text,
		 "#!/bin/sh\nprintf '%%s\\n' \"$0\" \"$@\" >'%s'\nexec cc \"$@\"\n", log);
	th_write_file(script, text);
	cr_assert(eq(int, chmod(script, 0755), 0));
	snprintf(cc, sizeof cc, "%s%s", script, extra);
	setenv("CC", cc, 1);
	free(script);
	return log;
}

/* The logged command line with the temporary object's random suffix
 * replaced by XXXXXX. */
static char *logged_command(const char *log, const char *entry)
{
	char *text = th_read_file(log), *tmp = malloc(strlen(entry) + 32), *at;

	sprintf(tmp, "\n%s/.lin.so.", entry);
	at = strstr(text, tmp);
	cr_assert(ne(ptr, at, NULL), "%s", text);
	at += strlen(tmp);
	cr_assert(eq(int, at[6], '\n'), "%s", text);
	memcpy(at, "XXXXXX", 6);
	free(tmp);
	return text;
}

/* The exact command of jit.c's top comment and the README, with CC set to
 * the logging script and extra_cc; extra_lines are extra_cc's words.  The
 * target's -march flag (none for the baseline) comes after the flags. */
static void check_command_isa(const char *extra_cc, const char *extra_lines, sg_isa isa)
{
	char march[64], march_line[80] = "";
	char *log = logging_cc(extra_cc), *so = built_entry_isa(isa, march, sizeof march);
	char *script = th_path(dir, "logcc"), *got, want[4096];

	if (isa == SG_ISA_BASELINE)
		cr_assert(eq(str, march, ""));
	else if (march[0])
		cr_assert(eq(int, strncmp(march, "-march=x86-64-v", 15), 0), "%s", march);
	if (march[0])
		snprintf(march_line, sizeof march_line, "%s\n", march);
	*strrchr(so, '/') = '\0';
	got = logged_command(log, so);
	snprintf(want, sizeof want,
		 "%s\n%s-std=c99\n-O2\n-shared\n-fPIC\n-ffp-contract=off\n"
		 "-fno-trapping-math\n%s-o\n%s/.lin.so.XXXXXX\n%s/lin_grad.c\n-lm\n",
		 script, extra_lines, march_line, so, so);
	cr_assert(eq(str, got, want));
	free(got);
	free(script);
	free(log);
	free(so);
}

static void check_command(const char *extra_cc, const char *extra_lines)
{
	check_command_isa(extra_cc, extra_lines, SG_ISA_NATIVE);
}

Test(jit, compiler_command_line_is_exact) { check_command("", ""); }
Test(jit, baseline_command_has_no_march)
{
	check_command_isa("", "", SG_ISA_BASELINE);
}

/* The target is part of the key: a native build and a baseline build of
 * the same texts are two entries (one, where native is the baseline). */
Test(jit, target_is_in_the_key)
{
	char march[64];
	char *native = built_entry_isa(SG_ISA_NATIVE, march, sizeof march);
	char *base = built_entry_isa(SG_ISA_BASELINE, NULL, 0);

	if (march[0])
		cr_assert(ne(str, native, base));
	else
		cr_assert(eq(str, native, base));
	free(native);
	free(base);
}
Test(jit, cc_words_come_before_the_flags) { check_command("  -w\t-g0 ", "-w\n-g0\n"); }

Test(jit, cc_with_quotes_is_refused)
{
	sg_error err;

	setenv("CC", "'cc' -O0", 1);
	cr_assert(eq(ptr, open_lin(SG_MODEL_ABI, &err), NULL));
	cr_assert(eq(str, err.msg,
		     "CC=''cc' -O0': quotes and backslashes are not interpreted (CC is "
		     "split at spaces and run without a shell)"));
}
