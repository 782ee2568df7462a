/*
 * main.c: the symgrad command line, and the pipeline in one place.
 *
 *   symgrad                      train the built-in lecture-4 model
 *   symgrad gen MODEL.sg ...     write NAME_grad.c / NAME_grad.h
 *   symgrad train|predict|eval|test MODEL.sg ...   compile at run time and run
 *
 * The passes run in order: lex, parse, dag, diff, sched, template, emit;
 * --dump=STAGE prints the IR after a stage and stops.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"


static const char usage_text[] =
	"usage: symgrad [COMMAND] [MODEL.sg] [OPTIONS]\n"
	"\n"
	"commands:\n"
	"  (none)             train the built-in lecture-4 model and print its trace\n"
	"  gen MODEL.sg       generate NAME_grad.c and NAME_grad.h\n"
	"  train MODEL.sg     compile the model with the system C compiler and train it\n"
	"  predict MODEL.sg   print the outputs for each data row\n"
	"  eval MODEL.sg      print loss and gradient at one point (--at x=1,w=2)\n"
	"  test MODEL.sg      print the mean loss and metrics on data (--metric accuracy)\n"
	"  check MODEL.sg     check hand derivations: --hand FILE or --hand-c FILE.c[:FUNC]\n"
	"  explain MODEL.sg   the forward and backward pass at a point (--at x=2,y=4,w=1)\n"
	"  graph MODEL.sg     the computational graph: -o FILE.dot|svg|png [--at ...]\n"
	"  plot LOG.csv       the curves of a training log (train --log) as SVG: -o FILE\n"
	"\n"
	"gen options:\n"
	"  -o FILE            write the C source to FILE (default: standard output)\n"
	"  --header FILE      write the header to FILE (default: FILE.c -> FILE.h)\n"
	"  --dtype double|float  the C type of every value (default double)\n"
	"  --seed N           seed of random initial values (param W[4,3] ~ uniform(-1, 1))\n"
	"  --template T       c (default), latex, python, dump, or a Lua template file\n"
	"  --loops WHEN       auto (default: loops above 300 forward operations),\n"
	"                     always or never (unrolled straight-line code)\n"
	"  --math own|libm    exp, log, log1p, expm1, tanh: symgrad's own (default:\n"
	"                     vectorized, the same bits on every machine) or <math.h>'s\n"
	"  --vector-math      an alias of --math own (it used glibc's libmvec)\n"
	"  --jacobian         also NAME_jacobian: d outputs / d params and d inputs\n"
	"  --hessian          also NAME_hessian: the loss's dense Hessian in the params\n"
	"  --hessian-sparse   also NAME_hessian_sparse: its entries that are not 0 by\n"
	"                     structure, as compressed sparse columns\n"
	"  --hvp              also NAME_hvp: the Hessian times a vector v (any size)\n"
	"  --gnvp             also NAME_gnvp (residual models): the Gauss-Newton\n"
	"                     matrix 2 J'J times a vector\n"
	"  --jvp              also NAME_jvp: forward mode, outputs and loss along a tangent\n"
	"  --vjp              also NAME_vjp: reverse mode from any cotangent of the loss and\n"
	"                     the outputs, to the params and the inputs\n"
	"  --stats            print operation counts of forward and backward code\n"
	"  --dump=STAGE       print the IR after STAGE and stop:\n"
	"                     tokens, ast, tir, grad (the tensor IR before and after\n"
	"                     differentiation), dag (unrolled), prog\n"
	"  --depfile FILE     write a Makefile depfile (for build systems)\n"
	"  --help, --version\n"
	"\n"
	"train, predict, eval and test options: see README.md, or symgrad train --help\n";

/* The exit status once standard output is flushed: status, or 1 with a
 * message when anything written to it was lost (a full disk, a closed
 * pipe): a command never reports success for output that did not arrive. */
static int stdout_status(int status)
{
	sg_error err;
	if (sg_stdout_close(&err) < 0) {
		sg_error_print(&err);
		return 1;
	}
	return status;
}

static void usage(int status)
{
	fputs(usage_text, status ? stderr : stdout);
	exit(stdout_status(status));
}

typedef struct GenOpts {
	const char *model_path;
	const char *out, *header, *depfile;
	const char *template_arg;
	bool stats;
	Compile c;
} GenOpts;

/* ---- options ---- */

/* --isa native|baseline: the JIT's target (same bits either way). */
static sg_isa parse_isa(const char *s)
{
	if (!strcmp(s, "native"))
		return SG_ISA_NATIVE;
	if (!strcmp(s, "baseline"))
		return SG_ISA_BASELINE;
	diag_usage("--isa must be native or baseline, not '%s'", s);
}

static Dtype parse_dtype(const char *s)
{
	if (!strcmp(s, "double") || !strcmp(s, "float64"))
		return DT_DOUBLE;
	if (!strcmp(s, "float") || !strcmp(s, "float32"))
		return DT_FLOAT;
	diag_usage("--dtype must be double or float, not '%s'", s);
}

/* --loops auto|always|never */
static int parse_loops(const char *s)
{
	if (!strcmp(s, "auto"))
		return SG_LOOPS_AUTO;
	if (!strcmp(s, "always"))
		return SG_LOOPS_ALWAYS;
	if (!strcmp(s, "never"))
		return SG_LOOPS_NEVER;
	diag_usage("--loops must be auto, always or never, not '%s'", s);
}

/* --math own|libm. */
static SgMath parse_math(const char *s)
{
	if (!strcmp(s, "own"))
		return SG_MATH_OWN;
	if (!strcmp(s, "libm"))
		return SG_MATH_LIBM;
	diag_usage("--math must be own or libm, not '%s'", s);
}

/* --seed N: a decimal 64-bit number. */
static uint64_t parse_seed(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		diag_usage("--seed must be a whole number, not '%s'", s);
	return (uint64_t)v;
}

static const char *const stages[] = {"tokens", "ast", "tir", "grad", "dag", "prog", NULL};

/* --dump STAGE: one of stages. */
static const char *parse_stage(const char *s)
{
	for (int k = 0; stages[k]; k++)
		if (!strcmp(stages[k], s))
			return s;
	diag_usage("unknown stage '%s' (tokens, ast, tir, grad, dag, prog)", s);
}

/* Takes the current option's value, or exits 2 (the error printed). */
static const char *value_or_exit(args *a)
{
	const char *v = args_value(a);
	if (!v)
		exit(2);
	return v;
}

/* Reads one gen option; false when a is not one. */
/* The SG_ bit of a flag asking for a function beyond the gradient, or -1. */
static int extra_flag(args *a)
{
	static const char *const names[] = {"jacobian", "hessian", "hvp", "jvp", "vjp", "gnvp",
					    "hessian-sparse"};
	for (int k = 0; k < 7; k++)
		if (args_is(a, names[k]))
			return 1 << k;
	return -1;
}

static bool gen_opt(GenOpts *o, args *a)
{
	const char **slot = args_is(a, "o")          ? &o->out
			    : args_is(a, "header")   ? &o->header
			    : args_is(a, "depfile")  ? &o->depfile
			    : args_is(a, "template") ? &o->template_arg
						     : NULL;
	if (slot)
		*slot = value_or_exit(a);
	else if (args_is(a, "dtype"))
		o->c.dtype = parse_dtype(value_or_exit(a));
	else if (args_is(a, "loops"))
		o->c.loops = parse_loops(value_or_exit(a));
	else if (args_is(a, "math"))
		o->c.math = parse_math(value_or_exit(a));
	else if (args_is(a, "seed"))
		o->c.seed = parse_seed(value_or_exit(a));
	else if (args_is(a, "dump"))
		o->c.dump = parse_stage(value_or_exit(a));
	else if (extra_flag(a) >= 0) {
		if (args_flag(a) < 0)
			exit(2);
		o->c.extra |= extra_flag(a);
	} else if (args_is(a, "stats") || args_is(a, "vector-math") || args_is(a, "help") ||
		 args_is(a, "h")) {
		if (args_flag(a) < 0)
			exit(2);
		if (args_is(a, "stats"))
			o->stats = true;
		else if (args_is(a, "vector-math"))
			o->c.math = SG_MATH_OWN;
		else
			usage(0);
	} else
		return false;
	return true;
}

static void parse_gen_args(GenOpts *o, int argc, char **argv)
{
	args a = {.argc = argc, .argv = argv};
	int rc;
	while ((rc = args_next(&a)) > 0) {
		if (rc == 2 && o->model_path)
			diag_usage("more than one model file given ('%s' and '%s')", o->model_path, a.arg);
		else if (rc == 2)
			o->model_path = a.arg;
		else if (!gen_opt(o, &a))
			diag_usage("unknown option '%s' (see symgrad --help)", a.arg);
	}
	if (rc < 0)
		exit(2);
	if (!o->model_path)
		diag_usage("no model file given (usage: symgrad gen MODEL.sg [-o FILE.c])");
	if (o->out && !strcmp(o->out, "-"))
		o->out = NULL; /* standard output, as without -o */
}

/* ---- templates ---- */

typedef struct Template {
	const char *name;
	const char *src;
	size_t len;
	char *owned;
	bool is_file;
} Template;

static Template load_template(Arena *a, const char *arg)
{
	Template t = {0};
	const char *name = arg ? arg : "c";
	if (!strchr(name, '/') && !strstr(name, ".lua")) {
		t.src = tmpl_builtin(arena_printf(a, "%s.lua", name), &t.len);
		if (!t.src)
			diag_usage("unknown template '%s' (built in: c, latex, python, dump; or a .lua "
				   "file)", name);
		t.name = arena_printf(a, "templates/%s.lua", name);
		return t;
	}
	Compile tmp = {.arena = a};
	sg_read_source(&tmp, name);
	t.name = name;
	t.src = tmp.src.text;
	t.len = tmp.src.len;
	t.is_file = true;
	return t;
}

/* ---- gen ---- */

/* FILE.c -> FILE.h, or FILE -> FILE.h */
static const char *sibling(Arena *a, const char *path, const char *suffix)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');
	size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
	return arena_printf(a, "%.*s%s", (int)stem, path, suffix);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static void write_depfile(const GenOpts *o, const Template *t, const char *target)
{
	Buf b = {0};
	buf_printf(&b, "%s: %s", target, o->model_path);
	if (t->is_file)
		buf_printf(&b, " %s", t->name);
	buf_puts(&b, "\n");
	emit_file(o->depfile, b.data, b.len);
	buf_free(&b);
}

static void free_files(TmplFile *files, int n)
{
	for (int i = 0; i < n; i++)
		free(files[i].suffix), free(files[i].text);
	free(files);
}

/* Writes the rendered files: the first to -o or stdout, the others beside
 * it; the files written are all replaced or none is. */
static void write_outputs(const GenOpts *o, TmplFile *files, int n)
{
	Arena *a = o->c.arena;
	const char **paths = arena_alloc(a, (size_t)(n + 1) * sizeof *paths);
	const char **texts = arena_alloc(a, (size_t)(n + 1) * sizeof *texts);
	size_t *lens = arena_alloc(a, (size_t)(n + 1) * sizeof *lens);
	int k = 0;
	for (int i = 0; i < n; i++) {
		const char *path = i == 0 ? (o->out ? o->out : "-")
				   : !strcmp(files[i].suffix, ".h") && o->header ? o->header
				   : o->out ? sibling(a, o->out, files[i].suffix)
					    : NULL;
		if (!path)
			continue;
		paths[k] = path, texts[k] = files[i].text, lens[k] = files[i].len;
		k++;
	}
	emit_files(paths, texts, lens, k);
}

static void print_loop_stats(const Compile *c)
{
	const LoopProg *lp = c->loop;
	const Model *m = lp->model;
	fprintf(stderr, "%s: %d params, %d inputs, %d outputs, %d tensor values\n", m->name,
		m->n_params, m->n_inputs, m->n_outputs, lp->n_tensors);
	fprintf(stderr, "loops: the forward pass has about %ld scalar operations on tensors (threshold %d); "
			"%d kernels\n", c->estimate, SG_LOOPS_THRESHOLD, lp->n_kernels);
	fprintf(stderr, "forward:  %ld operations\n", lp->forward.ops);
	long f = lp->backward_fwd_ops, g = lp->backward.ops - f;
	fprintf(stderr, "backward: %ld operations (forward %ld + gradient %ld), "
			"gradient/forward = %.2f\n", f + g, f, g, f ? (double)g / (double)f : 0.0);
	const LFunc *x[] = {&lp->jacobian, &lp->hessian, &lp->hvp, &lp->gnvp, &lp->jvp, &lp->vjp};
	static const char *const xn[] = {"jacobian", "hessian", "hvp", "gnvp", "jvp", "vjp"};
	for (int k = 0; k < 6; k++)
		if (x[k]->n)
			fprintf(stderr, "%-9s %ld operations, %.2f x backward's\n",
				arena_printf(c->arena, "%s:", xn[k]), x[k]->ops,
				f + g ? (double)x[k]->ops / (double)(f + g) : 0);
}

static void print_stats(const Compile *c)
{
	if (c->loop) {
		print_loop_stats(c);
		return;
	}
	const Prog *p = c->prog;
	const Func *b = &p->backward;
	double ratio = b->n_fwd_ops ? (double)b->n_bwd_ops / b->n_fwd_ops : 0;
	fprintf(stderr, "%s: %d params, %d inputs, %d outputs, %d DAG nodes\n",
		p->model->name, p->model->n_params, p->model->n_inputs, p->model->n_outputs,
		p->dag->n);
	fprintf(stderr, "forward:  %d operations\n", p->forward.n_fwd_ops);
	fprintf(stderr, "backward: %d operations (forward %d + gradient %d), "
			"gradient/forward = %.2f\n",
		b->n_fwd_ops + b->n_bwd_ops, b->n_fwd_ops, b->n_bwd_ops, ratio);
	/* the functions beyond the gradient, against backward's operations */
	const Func *x[] = {&p->jacobian, &p->hessian, &p->hessian_sparse, &p->hvp, &p->gnvp,
			   &p->jvp, &p->vjp};
	static const char *const xn[] = {"jacobian", "hessian", "hessian_sparse", "hvp", "gnvp",
					 "jvp", "vjp"};
	int nb = b->n_fwd_ops + b->n_bwd_ops;
	for (int k = 0; k < 7; k++)
		if (x[k]->n)
			fprintf(stderr, "%-9s %d operations, %.2f x backward's\n",
				arena_printf(c->arena, "%s:", xn[k]), x[k]->n_fwd_ops + x[k]->n_bwd_ops,
				nb ? (double)(x[k]->n_fwd_ops + x[k]->n_bwd_ops) / nb : 0);
}

/* Each stage's time, "-" for the stages this form did not run. */
static void print_times(const Compile *c)
{
	static const char *const names[] = {"", "parse", "lower", "diff", "loops", "unroll",
					    "schedule", "template"};
	double last = c->time[SG_T_START];
	fputs("time:", stderr);
	for (int k = SG_T_PARSE; k < SG_T_COUNT; k++) {
		if (!c->ran[k]) {
			fprintf(stderr, " %s -,", names[k]);
			continue;
		}
		fprintf(stderr, " %s %.3f s,", names[k], c->time[k] - last);
		last = c->time[k];
	}
	fprintf(stderr, " total %.3f s\n", c->time[SG_T_RENDER] - c->time[SG_T_START]);
}

/* Renders a compiled model through a template into files; exits on error. */
static int render(Compile *c, const Template *t, const char *header, const char *model_path,
		  TmplFile **files)
{
	TmplOpts to = {t->name, t->src, t->len, header, model_path, 0, 0};
	int n = tmpl_render(c->prog, c->loop, &to, files);
	c->tmpl_steps = to.steps;
	c->tmpl_memory = to.memory;
	if (n < 0)
		diag_exit(); /* tmpl.c reported it */
	if (n == 0)
		diag_fatal("template '%s' produced no files", t->name);
	return n;
}

static int cmd_gen(Arena *a, int argc, char **argv)
{
	GenOpts o = {0};
	o.c.arena = a;
	parse_gen_args(&o, argc, argv);
	Template t = load_template(a, o.template_arg);
	/* one template contract: any other template gets the unrolled program in
	 * loop form too (model.forward, ...), and model.loop */
	o.c.unrolled_too = o.template_arg && strcmp(o.template_arg, "c");
	sg_read_source(&o.c, o.model_path);
	if (!sg_compile(&o.c))
		return 0;
	if (o.stats)
		print_stats(&o.c);
	const char *header = o.header ? base_name(o.header)
			     : o.out ? base_name(sibling(a, o.out, ".h"))
				     : arena_printf(a, "%s_grad.h", o.c.model->name);
	TmplFile *files;
	int n = render(&o.c, &t, header, o.model_path, &files);
	o.c.time[SG_T_RENDER] = sg_seconds();
	o.c.ran[SG_T_RENDER] = true;
	if (o.stats)
		print_times(&o.c);
	if (o.stats) {
		fprintf(stderr, "template: about %ld Lua instructions, %.1f MiB peak\n",
			o.c.tmpl_steps, (double)o.c.tmpl_memory / (1 << 20));
	}
	write_outputs(&o, files, n);
	if (o.depfile)
		write_depfile(&o, &t, o.out ? o.out : "-");
	free_files(files, n);
	return 0;
}

/* ---- train, predict, eval ---- */

/* Compiles the model to C in memory, loads it through the JIT, runs cmd. */
static int run_model(Arena *a, const char *path, const char *text, int argc, char **argv,
		     int (*cmd)(const sg_model *, int, char **))
{
	Compile c = {.arena = a};
	sg_isa isa = SG_ISA_NATIVE;
	/* --dtype belongs to the generator, --isa to the JIT; everything else
	 * to the runtime */
	char **rest = arena_alloc(a, (size_t)(argc + 1) * sizeof *rest);
	int nrest = 0, first = 1;
	if (!path && argc > 1 && argv[1][0] != '-')
		path = argv[first++];
	rest[nrest++] = argv[0];
	args o = {.argc = argc, .argv = argv, .i = first - 1};
	int rc;
	while ((rc = args_next(&o)) > 0) {
		int at = o.i;
		if (rc == 1 && args_is(&o, "dtype"))
			c.dtype = parse_dtype(value_or_exit(&o));
		else if (rc == 1 && args_is(&o, "loops"))
			c.loops = parse_loops(value_or_exit(&o));
		else if (rc == 1 && args_is(&o, "isa"))
			isa = parse_isa(value_or_exit(&o));
		else if (rc == 1 && args_is(&o, "math"))
			c.math = parse_math(value_or_exit(&o));
		else if (rc == 1 && args_is(&o, "vector-math")) {
			if (args_flag(&o) < 0)
				exit(2);
			c.math = SG_MATH_OWN;
		} else {
			/* the functions the command needs beyond the gradient:
			 * eval --jacobian, --hessian; train --optimizer newton */
			if (rc == 1 && (args_is(&o, "jacobian") || args_is(&o, "hessian") ||
					args_is(&o, "jvp") || args_is(&o, "vjp") || args_is(&o, "hvp")))
				c.extra |= args_is(&o, "jacobian") ? SG_JACOBIAN
					   : args_is(&o, "hessian") ? SG_HESSIAN
					   : args_is(&o, "jvp") ? SG_JVP
					   : args_is(&o, "vjp") ? SG_VJP : SG_HVP;
			if (rc == 1 && args_is(&o, "optimizer")) {
				const char *v = o.value ? o.value : o.i + 1 < argc ? argv[o.i + 1] : "";
				c.extra |= !strcmp(v, "newton") ? SG_HESSIAN
					   : !strcmp(v, "lm") ? SG_JACOBIAN : 0;
			}
			/* --seed is shared: random initial values here, shuffling
			 * in the runtime, which reads the option again */
			if (rc == 1 && args_is(&o, "seed") && (o.value || o.i + 1 < argc))
				c.seed = parse_seed(args_value(&o));
			for (int k = at; k <= o.i; k++)
				rest[nrest++] = argv[k];
		}
	}
	if (rc < 0)
		exit(2);
	if (!path) {
		if (nrest > 1 && (!strcmp(rest[1], "--help") || !strcmp(rest[1], "-h")))
			return cmd(NULL, nrest, rest);
		diag_usage("no model file given (usage: symgrad %s MODEL.sg ...)", argv[0]);
	}
	if (text) {
		c.src = (Source){path, text, strlen(text)};
	} else {
		sg_read_source(&c, path);
	}
	sg_compile(&c);
	Template t = load_template(a, "c");
	const char *header = arena_printf(a, "%s_grad.h", c.model->name);
	TmplFile *files;
	int n = render(&c, &t, header, path, &files);
	sg_check(n == 2);
	sg_error err = {{0}};
	sg_jit *jit = sg_jit_open_isa(c.model->name, files[0].text, files[1].text, isa, &err);
	free_files(files, n);
	if (!jit) {
		fprintf(stderr, "symgrad: error: %s\n", err.msg);
		return 1;
	}
	int status = cmd(sg_jit_model(jit), nrest, rest);
	sg_jit_close(jit);
	return status;
}

/* The main job: the lecture's model and data, trained as the lecture does. */
static int run_default(Arena *a)
{
	size_t len;
	const char *model = tmpl_builtin("lecture04.sg", &len);
	const char *data = tmpl_builtin("lecture04.csv", &len);
	char path[] = "/tmp/symgrad-lecture04-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) != 0)
		diag_fatal("cannot write a temporary data file: %s", strerror(errno));
	char *argv[] = {"train", "--data", path, "--lr", "0.01", "--epochs", "10",
			"--batch", "1", "--dtype", "float", "--trace", "lecture",
			"--predict", "x=4", "--quiet", NULL};
	int status = run_model(a, "examples/lecture04/linear.sg", model, 16, argv, sg_cmd_train);
	unlink(path);
	return status;
}

static Arena *the_arena;

static void cleanup(void)
{
	arena_free(the_arena);
	the_arena = NULL;
}

int main(int argc, char **argv)
{
	the_arena = arena_new();
	diag_set_exit_hook(cleanup);
	int status;
	if (argc < 2) {
		status = run_default(the_arena);
	} else if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
		   !strcmp(argv[1], "help")) {
		usage(0);
	} else if (!strcmp(argv[1], "--version")) {
		printf("symgrad %s\n", sg_version);
		status = 0;
	} else if (!strcmp(argv[1], "gen")) {
		status = cmd_gen(the_arena, argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "explain")) {
		status = cmd_explain(the_arena, argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "graph")) {
		status = cmd_graph(the_arena, argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "plot")) {
		status = cmd_plot(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "check")) {
		status = cmd_check(the_arena, argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "train")) {
		status = run_model(the_arena, NULL, NULL, argc - 1, argv + 1, sg_cmd_train);
	} else if (!strcmp(argv[1], "predict")) {
		status = run_model(the_arena, NULL, NULL, argc - 1, argv + 1, sg_cmd_predict);
	} else if (!strcmp(argv[1], "eval")) {
		status = run_model(the_arena, NULL, NULL, argc - 1, argv + 1, sg_cmd_eval);
	} else if (!strcmp(argv[1], "test")) {
		status = run_model(the_arena, NULL, NULL, argc - 1, argv + 1, sg_cmd_test);
	} else {
		fprintf(stderr, "symgrad: error: unknown command '%s'\n", argv[1]);
		usage(2);
	}
	cleanup();
	return stdout_status(status);
}
