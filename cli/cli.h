/*
 * cli.h: the command line, apart from both libraries (libsggen, the
 * compiler; libsymgrad, the runtime a user links): the commands that parse
 * options, print and exit live here, and call the libraries.
 *
 *   main.c     symgrad [COMMAND]: gen, and the dispatch of every command
 *   cmd.c      train, predict, eval on a loaded model
 *   explain.c  explain and graph
 *   check.c    check hand derivations
 */
#ifndef SG_CLI_H
#define SG_CLI_H

#include "sg.h"
#include "symgrad.h"

/* ---- cmd.c: the train / predict / eval subcommands on a loaded model ---- */
/* argv[0] is the subcommand name; returns the process exit status. */
int sg_cmd_train(const sg_model *m, int argc, char **argv);
int sg_cmd_predict(const sg_model *m, int argc, char **argv);
int sg_cmd_eval(const sg_model *m, int argc, char **argv);

/* ---- explain.c: explain and graph ---- */
void at_parse(const Model *m, const char *spec, const char *params_file, double *params,
	      double *inputs);
int cmd_explain(Arena *a, int argc, char **argv);
int cmd_graph(Arena *a, int argc, char **argv);

/* ---- check.c: checking hand derivations ---- */
int cmd_check(Arena *a, int argc, char **argv);

#endif
