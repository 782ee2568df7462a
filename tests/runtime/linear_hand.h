/*
 * linear_hand.h: the lecture-4 model written by hand, as symgrad would
 * generate it: yhat = x*w, loss = (yhat - y)^2, dloss/dw = 2*(yhat - y)*x.
 */
#ifndef LINEAR_HAND_H
#define LINEAR_HAND_H

#include "sg_model.h"

extern const sg_model linear_model;   /* double, with backward_batch_d */
extern const sg_model linear_f_model; /* float, no batch function */

#endif
