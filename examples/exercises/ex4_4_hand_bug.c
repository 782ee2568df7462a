/*
 * Exercise 4-4 by hand with a planted bug: dloss/dw2 misses a factor of x.
 * `symgrad check ... --hand-c` must report the mismatch (a test expects it).
 */
#include "ex4_4_grad.h"

double ex4_4_backward(const double *params, const double *inputs, double *grad)
{
	double x = inputs[EX4_4_INPUT_x], y = inputs[EX4_4_INPUT_y];
	double w2 = params[EX4_4_PARAM_w2], w1 = params[EX4_4_PARAM_w1], b = params[EX4_4_PARAM_b];
	double yhat = x * x * w2 + x * w1 + b;
	double dyhat = 2 * (yhat - y);
	grad[EX4_4_PARAM_w2] = dyhat * x; /* the bug: should be dyhat * x * x */
	grad[EX4_4_PARAM_w1] = dyhat * x;
	grad[EX4_4_PARAM_b] = dyhat;
	return (yhat - y) * (yhat - y);
}
