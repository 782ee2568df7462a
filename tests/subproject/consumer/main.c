/* The program of README.md's consumer-meson.build snippet: uses the gradient
 * symgrad generated from linear.sg and the symgrad runtime. */
#include <stdio.h>

#include "linear_grad.h"
#include "symgrad.h"

int main(void)
{
	double params[LINEAR_N_PARAMS] = {1.0}, inputs[LINEAR_N_INPUTS], grad[LINEAR_N_PARAMS];
	char text[SG_REPR_MAX];
	inputs[LINEAR_INPUT_x] = 2;
	inputs[LINEAR_INPUT_y] = 4;
	linear_backward(params, inputs, grad);
	sg_fmt_repr(text, sizeof text, grad[LINEAR_PARAM_w]);
	printf("dloss/dw = %s\n", text);
	return 0;
}
