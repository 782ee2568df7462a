/*
 * symgrad.h: the runtime's public API (prefix sg_).
 *
 * The runtime trains models that symgrad generated: it reads data, runs
 * optimizers, prints traces, reads and writes parameter files, and compiles
 * generated C at run time (sg_jit).  It has no global state; every object
 * comes from a _new/_open and goes back through the matching _free/_close.
 */
#ifndef SYMGRAD_H
#define SYMGRAD_H

#include <stddef.h>
#include <stdint.h>
#include "sg_model.h"

/* An error message filled in by a failing call. */
typedef struct sg_error {
	char msg[1024];
} sg_error;

/* ---- jit.c: compile generated C with the system compiler and dlopen it ---- */
typedef struct sg_jit sg_jit;

/* Compiles NAME_grad.c/NAME_grad.h (texts in memory) into a cached shared
 * object and loads it; NULL and *err filled on failure. */
sg_jit *sg_jit_open(const char *name, const char *c_text, const char *h_text,
		    sg_error *err);
const sg_model *sg_jit_model(const sg_jit *j);
int sg_jit_was_cached(const sg_jit *j); /* 1 when no compiler ran */
const char *sg_jit_path(const sg_jit *j);
void sg_jit_close(sg_jit *j);

/* ---- cmd.c: the train / predict / eval subcommands on a loaded model ---- */
/* argv[0] is the subcommand name; returns the process exit status. */
int sg_cmd_train(const sg_model *m, int argc, char **argv);
int sg_cmd_predict(const sg_model *m, int argc, char **argv);
int sg_cmd_eval(const sg_model *m, int argc, char **argv);

#endif
