/*
 * optim.c: SGD, SGD with momentum and Adam with PyTorch's definitions and
 * defaults, bit-exact for double and float parameters.  The arithmetic is
 * written once in optim_tmpl.h and instantiated for both types.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "symgrad.h"

/* An optimizer: options, step count and per-parameter state (momentum
 * buffer, or Adam's first then second moments) in the model's real type. */
struct sg_optim {
	sg_optim_opts opts;
	int n, real_size;
	long t;      /* steps taken */
	void *state; /* 0, 1 or 2 arrays of n reals */
};

#define REAL double
#define SFX d
#define SQRT sqrt
#define FMA fma
#include "optim_tmpl.h"
#undef REAL
#undef SFX
#undef SQRT
#undef FMA

#define REAL float
#define SFX f
#define SQRT sqrtf
#define FMA fmaf
#include "optim_tmpl.h"
#undef REAL
#undef SFX
#undef SQRT
#undef FMA

/* PyTorch's defaults, plain SGD. */
sg_optim_opts sg_optim_defaults(void)
{
	sg_optim_opts o;

	o.kind = SG_OPTIM_SGD;
	o.lr = 0.01;
	o.momentum = 0.9;
	o.beta1 = 0.9;
	o.beta2 = 0.999;
	o.eps = 1e-8;
	return o;
}

/* Maps an optimizer name to its kind. */
int sg_optim_parse_kind(const char *s, sg_optim_kind *kind)
{
	if (strcmp(s, "sgd") == 0)
		*kind = SG_OPTIM_SGD;
	else if (strcmp(s, "momentum") == 0)
		*kind = SG_OPTIM_MOMENTUM;
	else if (strcmp(s, "adam") == 0)
		*kind = SG_OPTIM_ADAM;
	else
		return -1;
	return 0;
}

/* Number of state arrays kind keeps. */
static int state_arrays(sg_optim_kind kind)
{
	return kind == SG_OPTIM_ADAM ? 2 : kind == SG_OPTIM_MOMENTUM ? 1 : 0;
}

/* An optimizer for n reals of real_size bytes. */
sg_optim *sg_optim_new(const sg_optim_opts *opts, int n, int real_size,
		       sg_error *err)
{
	sg_optim *o;
	size_t bytes = (size_t)state_arrays(opts->kind) * (size_t)n *
		       (size_t)real_size;

	if (real_size != (int)sizeof(double) && real_size != (int)sizeof(float)) {
		sg_errorf(err, "unsupported real size %d", real_size);
		return NULL;
	}
	if (!(o = calloc(1, sizeof *o)) || !(o->state = calloc(1, bytes + 1))) {
		free(o);
		sg_errorf(err, "out of memory");
		return NULL;
	}
	o->opts = *opts;
	o->n = n;
	o->real_size = real_size;
	return o;
}

/* Clears the state: the next step is step 1 again. */
void sg_optim_reset(sg_optim *o)
{
	size_t bytes = (size_t)state_arrays(o->opts.kind) * (size_t)o->n *
		       (size_t)o->real_size;

	memset(o->state, 0, bytes);
	o->t = 0;
}

/* Frees o; NULL is ignored. */
void sg_optim_free(sg_optim *o)
{
	if (!o)
		return;
	free(o->state);
	free(o);
}
