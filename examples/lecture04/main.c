/*
 * The lecture-4 training loop in C, on the gradient symgrad generated at
 * build time from linear.sg.  It prints exactly what the lecture's Python
 * program prints (its "numeric gradient" version): the prediction at x = 4,
 * then per sample the gradient after updating w, and per epoch the loss of
 * the last sample computed after its update.
 */
#include <stdio.h>

#include "linear_grad.h"
#include "symgrad.h"

/* Prints a double as Python's print() would. */
static void put(double v)
{
	char buf[32];
	sg_fmt_repr(buf, sizeof buf, v);
	fputs(buf, stdout);
}

static double predict(const double *params, double x)
{
	double inputs[LINEAR_N_INPUTS] = {0}, outputs[LINEAR_N_OUTPUTS];
	inputs[LINEAR_INPUT_x] = x;
	linear_predict(params, inputs, outputs);
	return outputs[LINEAR_OUTPUT_yhat];
}

int main(void)
{
	static const double data[3][LINEAR_N_INPUTS] = {{1.0, 2.0}, {2.0, 4.0}, {3.0, 6.0}};
	double params[LINEAR_N_PARAMS] = {linear_model.param_init[LINEAR_PARAM_w]};
	double grad[LINEAR_N_PARAMS];
	double loss = 0;

	printf("predict (before training) 4 ");
	put(predict(params, 4));
	putchar('\n');
	for (int epoch = 0; epoch < 10; epoch++) {
		for (int i = 0; i < 3; i++) {
			linear_backward(params, data[i], grad);
			params[LINEAR_PARAM_w] -= 0.01 * grad[LINEAR_PARAM_w];
			printf("\tgrad:  ");
			put(data[i][LINEAR_INPUT_x]);
			putchar(' ');
			put(data[i][LINEAR_INPUT_y]);
			putchar(' ');
			put(grad[LINEAR_PARAM_w]);
			putchar('\n');
			loss = linear_forward(params, data[i], NULL);
		}
		printf("progress: %d ", epoch);
		put(loss);
		putchar('\n');
	}
	printf("predict (after training) 4 ");
	put(predict(params, 4));
	putchar('\n');
	return 0;
}
