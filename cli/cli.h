/*
 * cli.h: the command line, apart from both libraries (libsggen, the
 * compiler; libsymgrad, the runtime a user links): the commands that parse
 * options, print and exit live here, and call the libraries.
 *
 *   main.c     symgrad [COMMAND]: gen, and the dispatch of every command
 *   cmd_train.c  train on a loaded model
 *   cmd_eval.c   predict, eval, test on a loaded model
 *   cmd.c      what those four share: --help, NAME=V lists, metrics, JSON
 *   explain.c  explain and graph
 *   check.c    check hand derivations
 *   plot.c     plot: a training log's curves as SVG, through gnuplot
 *   args.c     the one command-line reader every command uses
 *   curv.c     train --optimizer newton|lm|lbfgs, eval --jacobian and --hessian
 *   mpi.c      train under mpirun: joining the job, rank 0 alone printing
 */
#ifndef SG_CLI_H
#define SG_CLI_H

#include "sg.h"
#include "symgrad.h"

/* ---- args.c: reading a command line ---- */

/* A command line being read: argv, position, the current argument. */
typedef struct args {
	int argc, i;        /* i: the current argument (0 before the first) */
	char **argv;
	const char *usage;  /* printed after a usage error, or NULL */
	const char *dash;   /* the current option's "--" or "-" */
	char name[64];      /* and its name ("dtype" for --dtype=float) */
	const char *value;  /* its value once taken, or given after '=' */
	const char *arg;    /* the current argument as typed */
} args;

/* Moves to the next argument: 1 an option (dash, name and an inline value
 * set), 2 a positional argument (arg), 0 at the end, -1 for "--" (error
 * printed).  args_next_opt: the same, but a positional is an error. */
int args_next(args *a);
int args_next_opt(args *a);
/* The current option's value (after '=' or the next argument); NULL, with
 * the error printed, when there is none. */
const char *args_value(args *a);
/* 1 when the current option is named name ("dtype", "o"). */
int args_is(const args *a, const char *name);
/* 0, or -1 (error printed) when a flag was given a value. */
int args_flag(const args *a);
/* The value as a finite number >= lo, or a whole number; -1 on error. */
int args_double(args *a, double lo, double *out);
int args_uint(args *a, unsigned long long *out);
/* Prints a command's --help text; the exit status (1 when the write failed). */
int args_help(const char *text);
/* Prints "symgrad: error: ..." and the usage line; returns 2. */
int args_error(const args *a, const char *fmt, ...) SG_PRINTF(2, 3);

/* ---- cmd_train.c, cmd_eval.c: the train / predict / eval / test subcommands ---- */
/* argv[0] is the subcommand name; returns the process exit status. */
int sg_cmd_train(const sg_model *m, int argc, char **argv);
int sg_cmd_predict(const sg_model *m, int argc, char **argv);
int sg_cmd_eval(const sg_model *m, int argc, char **argv);
int sg_cmd_test(const sg_model *m, int argc, char **argv);

/* ---- cmd.c: what those commands share ---- */
/* The options run_model (main.c) reads before the command: how the model
 * is generated and compiled, the same for train, predict, eval and test. */
#define CLI_HELP_JIT                                                              \
	"  --dtype double|float compute in float64 (default) or float32\n"    \
	"  --loops auto|always|never  loop or unrolled code (auto: loops "      \
	"above 300 operations)\n"                                             \
	"  --math own|libm      symgrad's elementary functions (default) or "  \
	"<math.h>'s\n"                                                        \
	"  --isa native|baseline  compile for this machine (default) or the "   \
	"compiler's default target\n"                                         \
	"  --help               this text\n"

/* The exit status once standard output is flushed: rc, or 1 (message
 * printed) when some of what was written to it was lost. */
int cli_stdout_status(int rc);
/* --help anywhere in argv: usage and help on stdout, *rc the exit status;
 * without it a NULL model is a usage error (*rc 2).  1 when done. */
int cli_help_or_no_model(const sg_model *m, int argc, char **argv, const char *usage,
			 const char *help, int *rc);
/* Prints err (sg_error_print) and returns 1, a command's exit status. */
int cli_fail(const sg_error *err);
/* Loads a parameter file into the trainer; 0 or -1 (message printed). */
int cli_load_params(sg_trainer *t, const char *path);
/* Prints v as a JSON number (Python's json: NaN, Infinity, -Infinity). */
void cli_json_number(double v);
/* Prints a JSON object's key and ": " (model names need no escapes). */
void cli_json_key(const char *k);

/* Parsed assignments (the grammar is at.c's): values per model input and
 * param, and each item's value as typed, for --predict's trace line. */
typedef struct cli_assign {
	int n_in, n_par;
	double *in, *par;
	char *in_set, *par_set;
	const char **order;   /* typed values in the order given */
	int n_order;
	char *buf;            /* the copied list text */
} cli_assign;

/* Inputs NaN, params at their initial values; -1 when out of memory. */
int cli_assign_init(cli_assign *a, const sg_model *m);
void cli_assign_free(cli_assign *a);
/* Parses "NAME=V[,NAME=V...]" into as (params too when with_params); 0, or
 * -1 with a usage error printed. */
int cli_assign_parse(cli_assign *as, const sg_model *m, const char *list, int with_params,
		     const args *a);

/* --metric, --output, --target (train and test) */
#define CLI_MAX_METRICS 3

/* The metrics asked for, in the order first given, and what they
 * compare (NULL: the defaults of sg_metric_setup). */
typedef struct cli_metric_opts {
	sg_metric_kind kind[CLI_MAX_METRICS];
	int n;
	const char *output, *target;
} cli_metric_opts;

/* Reads --metric, --output or --target: 0 or 2; -1 for another option. */
int cli_metric_opt(cli_metric_opts *mo, args *a);
/* Sets up mo's metrics for m in mt; 0, or 2 with a usage error printed. */
int cli_metric_setup(const cli_metric_opts *mo, const sg_model *m, sg_metric *mt,
		     const args *a);

/* ---- mpi.c: train under mpirun ---- */

/* Joins the job when this process was started by mpirun: *rank its rank
 * and *comm the communicator (0 and NULL otherwise, or without MPI).
 * Ranks after 0 print nothing (their stdout is dropped, their stderr kept
 * aside, shown only when they alone fail to set up); the caller has them
 * save nothing.  0, or 1 with the message printed. */
int cli_mpi_start(int *rank, const sg_comm **comm);
/* Every rank set up (ok) or none trains: a rank that alone failed (a file
 * only it cannot read, memory) would leave the others waiting for it.
 * Every rank calls it once; rank 0's message says which rank failed, that
 * rank shows its own message.  1 when all are ok. */
int cli_mpi_agree(int ok);
/* Leaves the job; returns rc, this rank's status. */
int cli_mpi_finish(int rc);

/* ---- curv.c: beyond the gradient ---- */
/* The curvature optimizer --optimizer names in argv: 1 newton, 2 lm,
 * 3 lbfgs, or 0 */
int sg_curv_kind(int argc, char **argv);
/* train --optimizer newton|lm|lbfgs (sg_cmd_train hands it over; under
 * mpirun the ranks share the rows, rank 0 prints and saves) */
int sg_cmd_curv(const sg_model *m, int argc, char **argv);
/* eval's --jacobian and --hessian, after its own lines (inside its JSON
 * object, after a ", "); the exit status */
int sg_eval_extra(const sg_model *m, const double *p, const double *x, bool jacobian,
		  bool hessian, int json);
/* eval --jvp SPEC, --vjp SPEC, --hvp SPEC: forward mode along the tangent
 * SPEC (params and inputs, the --at grammar, 0 where not given), reverse
 * mode from the cotangent SPEC (loss and outputs), the Hessian times the
 * direction SPEC (params); first: no JSON member printed yet. */
int sg_eval_directional(const sg_model *m, const double *p, const double *x, const char *jvp,
			const char *vjp, const char *hvp, int json, bool first);

/* ---- explain.c: explain and graph ---- */
void at_parse(const Model *m, const char *spec, const char *params_file, double *params,
	      double *inputs);
int cmd_explain(Arena *a, int argc, char **argv);
int cmd_graph(Arena *a, int argc, char **argv);

/* ---- check.c: checking hand derivations ---- */
int cmd_check(Arena *a, int argc, char **argv);

/* ---- plot.c: the curves of a training log ---- */
typedef struct plot_opts {
	const char *title;   /* escaped for gnuplot: any text is safe */
	const char *columns; /* "loss,val_loss", or NULL for the default */
	int log_y;           /* a logarithmic loss axis */
} plot_opts;
/* Draws the log text (name for messages) to out_path (written atomically;
 * "-" is standard output); 0, or -1 with the message printed and the
 * target untouched. */
int plot_log_text(const char *name, const char *text, size_t len, const char *out_path,
		  const plot_opts *o);
/* The same for a log file (or "-"). */
int plot_log_file(const char *path, const char *out_path, const plot_opts *o);
int cmd_plot(int argc, char **argv);

#endif
