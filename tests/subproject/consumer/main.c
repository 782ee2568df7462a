/* Uses the generated gradient and the symgrad runtime from a subproject. */
#include <stdio.h>

#include "ex_grad.h"
#include "symgrad.h"

int main(void)
{
	double params[EX_N_PARAMS] = {1.0}, inputs[EX_N_INPUTS], grad[EX_N_PARAMS];
	char text[SG_REPR_MAX];
	inputs[EX_INPUT_x] = 2;
	inputs[EX_INPUT_y] = 4;
	ex_backward(params, inputs, grad);
	sg_fmt_repr(text, sizeof text, grad[EX_PARAM_w]);
	printf("dloss/dw = %s\n", text);
	return 0;
}
