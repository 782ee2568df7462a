/*
 * fuzz_at.c: libFuzzer harness over `--at x=1,W=[[1,2],[3,4]],w=2*`, the
 * point given to eval, train --predict, explain and graph: sg_at_parse
 * (runtime/at.c) directly, and through the commands that use it, which then
 * evaluate and print the model there: `symgrad explain`/`graph` (cmd_explain,
 * cmd_graph) and `symgrad eval` (sg_cmd_eval).  Bad input must end in a
 * message, never a crash, a hang or a leak.
 *
 * The input after the first byte is split at NUL bytes: the first piece is
 * the value of --at, the others (eval and explain only) are further
 * arguments; "--params..." among them names a parameter file written at
 * start-up, never a path from the input.  The first byte:
 *   bits 0-1  0 explain or graph, 1 eval, 2 sg_at_parse on inputs only (as
 *             train --predict), 3 sg_at_parse on inputs and params
 *   bit 2     --format json (explain, eval)
 *   bit 3     graph instead of explain; the float model for eval
 * Standard output goes to /dev/null.
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h" /* explain, graph and eval are the command line's */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the generator's model, in a file as explain reads it ---- */

static const char model_src[] = "model fa\n"
				"input x[2], y\n"
				"param W[2, 2] = 0.5, b = 0.1\n"
				"h = tanh(W @ x + b)\n"
				"yhat = sum(h) / y\n"
				"loss = (yhat - y)^2\n"
				"output yhat\n";
static const char *const gen_params[] = {"W[0,0]", "W[0,1]", "W[1,0]", "W[1,1]", "b"};

/* ---- the runtime's model, by hand: yhat = sum(W @ x) + b + w*y ---- */

static const char *const param_names[] = {"w", "b", "W[0,0]", "W[0,1]", "W[1,0]", "W[1,1]"};
static const char *const input_names[] = {"x[0]", "x[1]", "y"};
static const char *const output_names[] = {"yhat"};
static const double param_init[] = {1, 0, 0.5, 0.5, 0.5, 0.5};

#define DEFINE_MODEL(REAL, SFX)                                                               \
	static REAL predict1_##SFX(const REAL *p, const REAL *x)                              \
	{                                                                                     \
		return p[2] * x[0] + p[3] * x[1] + p[4] * x[0] + p[5] * x[1] + p[1] +         \
		       p[0] * x[2];                                                           \
	}                                                                                     \
	static void predict_##SFX(const REAL *p, const REAL *x, REAL *out)                    \
	{                                                                                     \
		out[0] = predict1_##SFX(p, x);                                                \
	}                                                                                     \
	static REAL forward_##SFX(const REAL *p, const REAL *x, REAL *out)                    \
	{                                                                                     \
		REAL d = predict1_##SFX(p, x) - x[2];                                         \
		if (out)                                                                      \
			out[0] = d + x[2];                                                    \
		return d * d;                                                                 \
	}                                                                                     \
	static REAL backward_##SFX(const REAL *p, const REAL *x, REAL *g)                     \
	{                                                                                     \
		REAL d = predict1_##SFX(p, x) - x[2], t = 2 * d;                              \
		g[0] = t * x[2], g[1] = t;                                                    \
		g[2] = t * x[0], g[3] = t * x[1], g[4] = t * x[0], g[5] = t * x[1];           \
		return d * d;                                                                 \
	}

DEFINE_MODEL(double, d)
DEFINE_MODEL(float, f)

static const sg_model model_d = {SG_MODEL_ABI, "fa", "fuzz_at.c", "0", (int)sizeof(double),
				 6, 3, 1, param_names, input_names, output_names, param_init,
				 forward_d, backward_d, predict_d, NULL,
				 NULL, NULL, NULL, NULL, NULL,
				 NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL,
				 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL};
static const sg_model model_f = {SG_MODEL_ABI, "fa", "fuzz_at.c", "0", (int)sizeof(float),
				 6, 3, 1, param_names, input_names, output_names, param_init,
				 NULL, NULL, NULL, NULL,
				 forward_f, backward_f, predict_f, NULL, NULL,
				 NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL,
				 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL};

/* ---- sg_at_parse's names: scalars, vectors, a 3x2 and a 2x12 matrix ---- */

static const char *const at_inputs[] = {"x[0]", "x[1]", "x[2]", "y"};
static char at_params_text[48][8];
static const char *at_params[48];
static int n_at_params;

/* ---- files written at start-up, removed at exit ---- */

static char dir[] = "/tmp/fuzz-at-XXXXXX";
static char model_path[64], gen_params_path[64], rt_params_path[64];

static void remove_files(void)
{
	unlink(model_path);
	unlink(gen_params_path);
	unlink(rt_params_path);
	rmdir(dir);
}

static void write_params(const char *path, int n, const char *const *names)
{
	static const double v[] = {0.25, -1, 2, 1e-3, 3, 0.5};
	sg_model m = {.abi = SG_MODEL_ABI, .name = "fa", .n_params = n, .param_names = names};
	sg_error err;
	if (sg_params_save(path, &m, v, &err) < 0)
		fprintf(stderr, "%s\n", err.msg), abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (!freopen("/dev/null", "w", stdout) || !mkdtemp(dir))
		abort();
	atexit(remove_files);
	snprintf(model_path, sizeof model_path, "%s/fa.sg", dir);
	snprintf(gen_params_path, sizeof gen_params_path, "%s/gen.params", dir);
	snprintf(rt_params_path, sizeof rt_params_path, "%s/rt.params", dir);
	FILE *f = fopen(model_path, "w");
	if (!f || fputs(model_src, f) < 0 || fclose(f) != 0)
		abort();
	write_params(gen_params_path, 5, gen_params);
	write_params(rt_params_path, 6, param_names);
	at_params[n_at_params++] = "w";
	at_params[n_at_params++] = "b";
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 2; c++)
			snprintf(at_params_text[n_at_params], 8, "M[%d,%d]", r, c),
				at_params[n_at_params] = at_params_text[n_at_params], n_at_params++;
	for (int r = 0; r < 2; r++)
		for (int c = 0; c < 12; c++)
			snprintf(at_params_text[n_at_params], 8, "W[%d,%d]", r, c),
				at_params[n_at_params] = at_params_text[n_at_params], n_at_params++;
	return 0;
}

/* Splits text[0..len) at NUL bytes into argv after the n fixed arguments,
 * at most max of them; "--params..." becomes "--params" params. */
static char **make_argv(const char *const *fixed, int n, char *text, size_t len, int max,
			const char *params, int *argc)
{
	char **argv = calloc((size_t)(n + max + 1), sizeof *argv);
	if (!argv)
		abort();
	memcpy(argv, fixed, (size_t)n * sizeof *argv);
	*argc = n;
	for (size_t i = 0; i <= len && *argc < n + max; i += strlen(text + i) + 1) {
		bool p = !strncmp(text + i, "--params", 8);
		argv[(*argc)++] = p ? "--params" : text + i;
		if (p && *argc < n + max)
			argv[(*argc)++] = (char *)params;
	}
	return argv;
}

static void run_gen(unsigned flags, char *text, size_t len)
{
	bool graph = flags & 8;
	const char *fixed[] = {graph ? "graph" : "explain", model_path, graph ? "-o" : "--format",
			       graph ? "-" : flags & 4 ? "json" : "text", "--at"};
	int argc;
	/* graph takes no more arguments: -o from the input could write anywhere */
	int max = graph ? 1 : 8;
	char **argv = make_argv(fixed, 5, text, len, max, gen_params_path, &argc);
	Arena *a = arena_new();
	jmp_buf jb;
	diag_set_recover(&jb);
	if (setjmp(jb) == 0)
		graph ? cmd_graph(a, argc, argv) : cmd_explain(a, argc, argv);
	diag_set_recover(NULL);
	arena_free(a);
	free(argv);
}

static void run_eval(unsigned flags, char *text, size_t len)
{
	const char *fixed[] = {"eval", "--format", flags & 4 ? "json" : "text", "--at"};
	int argc;
	char **argv = make_argv(fixed, 4, text, len, 8, rt_params_path, &argc);
	sg_cmd_eval(flags & 8 ? &model_f : &model_d, argc, argv);
	free(argv);
}

static void run_parse(unsigned flags, const char *text)
{
	double in[4], par[48];
	char in_set[4] = {0}, par_set[48] = {0};
	sg_error err;
	bool with_params = (flags & 3) == 3;
	sg_at_parse(text, 4, at_inputs, in, in_set, n_at_params, at_params,
		    with_params ? par : NULL, with_params ? par_set : NULL, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > 4096)
		return 0;
	char *text = malloc(size); /* the pieces, NUL-terminated */
	if (!text)
		abort();
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] & 3) {
	case 0: run_gen(data[0], text, size - 1); break;
	case 1: run_eval(data[0], text, size - 1); break;
	default: run_parse(data[0], text); break;
	}
	free(text);
	return 0;
}
