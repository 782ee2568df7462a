/*
 * linear_hand.c: the lecture-4 model by hand, in double and in float.
 *
 * Each operation is one statement in PyTorch autograd's order, so the float
 * version rounds exactly like the lecture's float32 tensors:
 *   yhat = x*w; d = yhat - y; loss = d*d;
 *   dloss/dw = (2*d)*x   (pow's backward 2*d, then mul's backward by x)
 */
#include <stddef.h>

#include "linear_hand.h"

static const char *const param_names[] = {"w"};
static const char *const input_names[] = {"x", "y"};
static const char *const output_names[] = {"yhat"};
static const double param_init[] = {1.0};

#define DEFINE_LINEAR(REAL, SFX)                                               \
	static REAL forward_##SFX(const REAL *p, const REAL *in, REAL *out)    \
	{                                                                      \
		REAL yhat = in[0] * p[0];                                      \
		REAL d = yhat - in[1];                                         \
		if (out)                                                       \
			out[0] = yhat;                                         \
		return d * d;                                                  \
	}                                                                      \
	static REAL backward_##SFX(const REAL *p, const REAL *in, REAL *g)     \
	{                                                                      \
		REAL yhat = in[0] * p[0];                                      \
		REAL d = yhat - in[1];                                         \
		REAL twod = (REAL)2 * d;                                       \
		g[0] = twod * in[0];                                           \
		return d * d;                                                  \
	}                                                                      \
	static void predict_##SFX(const REAL *p, const REAL *in, REAL *out)    \
	{                                                                      \
		out[0] = in[0] * p[0];                                         \
	}

DEFINE_LINEAR(double, d)
DEFINE_LINEAR(float, f)

/* Summed loss and gradient of n rows, in row order. */
static double backward_batch_d(int n, const double *p, const double *in,
			       double *g)
{
	double loss = 0, gi;
	int r;

	g[0] = 0;
	for (r = 0; r < n; r++) {
		loss = loss + backward_d(p, in + 2 * r, &gi);
		g[0] = g[0] + gi;
	}
	return loss;
}

const sg_model linear_model = {
	SG_MODEL_ABI, "linear", "linear_hand.c", "test", (int)sizeof(double),
	1, 2, 1, param_names, input_names, output_names, param_init,
	forward_d, backward_d, predict_d, backward_batch_d,
	NULL, NULL, NULL, NULL,
	NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, 0, 0,
	NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL,
};

const sg_model linear_f_model = {
	SG_MODEL_ABI, "linear", "linear_hand.c", "test", (int)sizeof(float),
	1, 2, 1, param_names, input_names, output_names, param_init,
	NULL, NULL, NULL, NULL,
	forward_f, backward_f, predict_f, NULL,
	NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, 0, 0,
	NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL,
};
