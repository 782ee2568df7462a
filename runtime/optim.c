/*
 * optim.c: SGD, SGD with momentum, Adam and AdamW (with weight decay) and
 * the learning-rate schedules, with PyTorch's definitions and
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
	void *wd_g;  /* n reals: g + wd*p, when weight_decay is coupled */
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
	o.weight_decay = 0;
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
	else if (strcmp(s, "adamw") == 0)
		*kind = SG_OPTIM_ADAMW;
	else
		return -1;
	return 0;
}

/* Number of state arrays kind keeps. */
static int state_arrays(sg_optim_kind kind)
{
	return kind == SG_OPTIM_ADAM || kind == SG_OPTIM_ADAMW ? 2
	       : kind == SG_OPTIM_MOMENTUM		     ? 1
							     : 0;
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
	if (!(o = calloc(1, sizeof *o)) || !(o->state = calloc(1, bytes + 1)) ||
	    !(o->wd_g = calloc((size_t)n + 1, (size_t)real_size))) {
		if (o)
			free(o->state);
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
	free(o->wd_g);
	free(o);
}

/* The learning rate of the following steps. */
void sg_optim_set_lr(sg_optim *o, double lr)
{
	o->opts.lr = lr;
}

/* 1 for plain SGD without weight decay, with its rate in *lr. */
int sg_optim_plain_sgd(const sg_optim *o, double *lr)
{
	*lr = o->opts.lr;
	return o->opts.kind == SG_OPTIM_SGD && o->opts.weight_decay == 0;
}

/* Adds n to the steps taken (momentum's first step and Adam's bias
 * corrections count them). */
void sg_optim_count_steps(sg_optim *o, long n)
{
	o->t += n;
}

/* The state for a checkpoint: *n_arrays arrays of n reals (momentum's
 * buffer, or Adam's first then second moments) in the real type, and the
 * steps taken; sg_optim_set_steps puts the count back. */
void *sg_optim_state(sg_optim *o, int *n_arrays, long *steps)
{
	*n_arrays = state_arrays(o->opts.kind);
	*steps = o->t;
	return o->state;
}

void sg_optim_set_steps(sg_optim *o, long steps)
{
	o->t = steps;
}

/* ---- learning-rate schedules ---- */

/* Reads the ":NUMBER" at *s (advancing it) as a double; -1 if none. */
static int sched_num(const char **s, double *v)
{
	char *end;

	if (**s != ':')
		return -1;
	*v = strtod(*s + 1, &end);
	if (end == *s + 1 || !isfinite(*v))
		return -1;
	*s = end;
	return 0;
}

/* A whole number >= 1 that fits a long. */
static int sched_count(double v, long *out)
{
	if (!(v >= 1 && v <= 0x7fffffff) || v != floor(v))
		return -1;
	*out = (long)v;
	return 0;
}

/* step:S:G, exp:G or cosine:T[:E]; see symgrad.h. */
int sg_lr_sched_parse(const char *s, sg_lr_sched *out, sg_error *err)
{
	const char *p = strchr(s, ':');
	double a = 0, b = 0;
	size_t n = p ? (size_t)(p - s) : strlen(s);
	int bad = 0;

	memset(out, 0, sizeof *out);
	if (!p)
		p = s + n; /* no numbers: sched_num fails on the NUL */
	if (n == 4 && !strncmp(s, "step", 4)) {
		out->kind = SG_SCHED_STEP;
		bad = sched_num(&p, &a) || sched_num(&p, &b) ||
		      sched_count(a, &out->step_size) || !(b > 0);
		out->gamma = b;
	} else if (n == 3 && !strncmp(s, "exp", 3)) {
		out->kind = SG_SCHED_EXP;
		bad = sched_num(&p, &a) || !(a > 0);
		out->gamma = a;
	} else if (n == 6 && !strncmp(s, "cosine", 6)) {
		out->kind = SG_SCHED_COSINE;
		bad = sched_num(&p, &a) || sched_count(a, &out->t_max) ||
		      (*p && (sched_num(&p, &b) || !(b >= 0)));
		out->eta_min = b;
	} else
		return sg_errorf(err, "unknown schedule '%s' (step:STEP_SIZE:GAMMA, "
				 "exp:GAMMA, cosine:T_MAX[:ETA_MIN])", s);
	if (bad || *p)
		return sg_errorf(err, "bad schedule '%s' (step:STEP_SIZE:GAMMA, "
				 "exp:GAMMA, cosine:T_MAX[:ETA_MIN]; STEP_SIZE and "
				 "T_MAX whole numbers >= 1, GAMMA > 0, ETA_MIN >= 0)", s);
	return 0;
}

/* Python's a % b for b > 0 (the result has b's sign). */
static long floor_mod(long a, long b)
{
	long r = a % b;

	return r < 0 ? r + b : r;
}

/* CosineAnnealingLR.get_lr() at last_epoch e >= 1, in Python's order of
 * operations (math.cos is the C library's cos). */
static double cosine_next(const sg_lr_sched *s, double base, double lr, long e)
{
	const double pi = 3.141592653589793;
	double t = (double)s->t_max, eta = s->eta_min;

	if (floor_mod(e - 1 - s->t_max, 2 * s->t_max) == 0)
		return lr + (base - eta) * (1 - cos(pi / t)) / 2;
	return (1 + cos(pi * (double)e / t)) / (1 + cos(pi * (double)(e - 1) / t)) *
		       (lr - eta) +
	       eta;
}

/* The rate of epoch e from the one before (PyTorch's chainable form). */
double sg_lr_sched_next(const sg_lr_sched *s, double base_lr, double lr, long e)
{
	switch (s->kind) {
	case SG_SCHED_STEP:
		return e % s->step_size == 0 ? lr * s->gamma : lr;
	case SG_SCHED_EXP:
		return lr * s->gamma;
	case SG_SCHED_COSINE:
		return cosine_next(s, base_lr, lr, e);
	default:
		return lr;
	}
}
