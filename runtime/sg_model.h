/*
 * sg_model.h: the descriptor every generated model exports.
 *
 * This is the whole contract between code that symgrad generates and the
 * runtime that trains it.  A generated NAME_grad.h carries a copy of this
 * definition under the same guard, so generated code depends on nothing but
 * <math.h> (and <stddef.h> for size_t); the runtime includes this file.  Any change to the layout bumps
 * SG_MODEL_ABI.
 *
 * A generated model exports exactly one object, `const sg_model NAME_model`,
 * which the runtime finds with dlsym() after dlopen().  Arrays are indexed by
 * the NAME_PARAM_x / NAME_INPUT_x / NAME_OUTPUT_x constants of the header.
 * Exactly one function set is non-NULL: the _d set when real_size is
 * sizeof(double), the _f set when it is sizeof(float).
 */
#ifndef SG_MODEL_ABI
#define SG_MODEL_ABI 4
#include <stddef.h>

typedef struct sg_model {
	int abi;                 /* SG_MODEL_ABI of the generator */
	const char *name;        /* model name: the C prefix */
	const char *source;      /* model file it was generated from */
	const char *version;     /* symgrad version that generated it */
	int real_size;           /* sizeof(double) or sizeof(float) */
	int n_params, n_inputs, n_outputs;
	const char *const *param_names;
	const char *const *input_names;
	const char *const *output_names;
	const double *param_init; /* initial values from the model file */

	/* loss; outputs (may be NULL) get the model's outputs */
	double (*forward_d)(const double *params, const double *inputs, double *outputs);
	/* loss; grad[i] = dloss/dparams[i] */
	double (*backward_d)(const double *params, const double *inputs, double *grad);
	/* outputs only; inputs the outputs do not depend on are not read */
	void (*predict_d)(const double *params, const double *inputs, double *outputs);
	/* summed loss over n rows (row-major, n_inputs each); grad = summed gradient */
	double (*backward_batch_d)(int n, const double *params, const double *inputs, double *grad);

	float (*forward_f)(const float *params, const float *inputs, float *outputs);
	float (*backward_f)(const float *params, const float *inputs, float *grad);
	void (*predict_f)(const float *params, const float *inputs, float *outputs);
	float (*backward_batch_f)(int n, const float *params, const float *inputs, float *grad);

	/* input_classes[i] > 0: input i is an index over that many values (a
	 * whole number from 0 to input_classes[i] - 1): a class of
	 * cross_entropy, or a row or element index (E[tok], v[tok]); the fewest
	 * when used for several; NULL when the model has none.  The generated
	 * functions do not check it: a class out of range, fractional or NaN
	 * matches no logit, and the loss is logsumexp(z) alone, with its
	 * gradient softmax(z) (PyTorch raises); an index that matches no row
	 * reads -0 for each element, and no gradient reaches the rows.  The
	 * runtime checks it before calling them. */
	const int *input_classes;

	/* Beyond the gradient, NULL unless generated (gen --jacobian, --hessian,
	 * --hvp).  jacobian: outputs, and jac_params[o * n_params + p] =
	 * d outputs[o] / d params[p], jac_inputs[o * n_inputs + i] = d outputs[o]
	 * / d inputs[i].  hessian: the loss; grad as backward's, hess[p * n_params
	 * + q] = d2 loss / d params[p] d params[q], symmetric to the bit.  hvp: the
	 * loss; grad, and hvp = H vec for a direction vec of n_params values. */
	void (*jacobian_d)(const double *params, const double *inputs, double *outputs,
			   double *jac_params, double *jac_inputs);
	double (*hessian_d)(const double *params, const double *inputs, double *grad, double *hess);
	double (*hvp_d)(const double *params, const double *inputs, const double *vec, double *grad,
			double *hvp);
	void (*jacobian_f)(const float *params, const float *inputs, float *outputs,
			   float *jac_params, float *jac_inputs);
	float (*hessian_f)(const float *params, const float *inputs, float *grad, float *hess);
	float (*hvp_f)(const float *params, const float *inputs, const float *vec, float *grad,
		       float *hvp);

	/* A least-squares model ('residual r', loss = sum(r^2)): r's elements
	 * are outputs residual_first .. residual_first + n_residuals - 1;
	 * n_residuals is 0 for any other model. */
	int residual_first, n_residuals;
	/* Per-sample SGD with the backward pass inlined into the loop over
	 * rows (ABI 3; NULL when the model has none, as in loop form): for
	 * i < n, the row at inputs + order[i] * n_inputs, its loss and
	 * gradient at params, then params[k] = params[k] - lr * g[k] (lr*g
	 * rounded, then subtracted, as the runtime's SGD).  It stops before
	 * row i, nothing of which is applied, when that row's loss or gradient
	 * or an updated parameter is not finite, and returns i (n when every
	 * row went through).  sums[0] += each row's loss, sums[1] += each
	 * row's gradient 2-norm (summed in double), sums[2] = the last row's
	 * loss; grad gets the last row's gradient. */
	size_t (*sgd_epoch_d)(size_t n, const size_t *order, const double *inputs,
			      double *params, double lr, double *grad, double *sums);
	size_t (*sgd_epoch_f)(size_t n, const size_t *order, const float *inputs,
			      float *params, float lr, float *grad, double *sums);

	/* ABI 4, NULL unless generated (gen --jvp, --vjp, --gnvp,
	 * --hessian-sparse).  jvp: forward mode; returns the loss, outputs
	 * (n_outputs), doutputs[o] and *dloss the derivatives of outputs[o] and
	 * of the loss along the tangent (dparams: n_params, dinputs: n_inputs).
	 * vjp: reverse mode from any cotangent; returns the loss, and gparams,
	 * ginputs the gradients of dloss * loss + sum over o of doutputs[o] *
	 * outputs[o] (dloss = 1, doutputs all 0: the loss's gradient with
	 * respect to params and inputs).  gnvp (residual models): the loss;
	 * grad, and gnv = 2 J'J vec, J = d r / d params (the Gauss-Newton
	 * matrix of loss = sum(r^2) times vec).  hessian_sparse: the loss; grad,
	 * and hess_values[k] the Hessian's entry (hess_rowidx[k], j) for k in
	 * hess_colptr[j] .. hess_colptr[j + 1] - 1: compressed sparse columns,
	 * both triangles, of the hess_nnz entries that are not 0 by structure,
	 * each the same bits as the dense Hessian's. */
	double (*jvp_d)(const double *params, const double *inputs, const double *dparams,
			const double *dinputs, double *outputs, double *doutputs, double *dloss);
	double (*vjp_d)(const double *params, const double *inputs, double dloss,
			const double *doutputs, double *gparams, double *ginputs);
	double (*gnvp_d)(const double *params, const double *inputs, const double *vec, double *grad,
			 double *gnv);
	double (*hessian_sparse_d)(const double *params, const double *inputs, double *grad,
				   double *hess_values);
	float (*jvp_f)(const float *params, const float *inputs, const float *dparams,
		       const float *dinputs, float *outputs, float *doutputs, float *dloss);
	float (*vjp_f)(const float *params, const float *inputs, float dloss,
		       const float *doutputs, float *gparams, float *ginputs);
	float (*gnvp_f)(const float *params, const float *inputs, const float *vec, float *grad,
			float *gnv);
	float (*hessian_sparse_f)(const float *params, const float *inputs, float *grad,
				  float *hess_values);
	int hess_nnz;
	const int *hess_colptr, *hess_rowidx;
} sg_model;

#endif
