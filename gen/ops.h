/*
 * ops.h: the operator table, one row per operation of the expression DAG.
 *
 * OP(id, spelling, arity, kind, c_double, c_float)
 *   id        OP_<id> in the DAG
 *   spelling  how the model language writes it (function name or operator)
 *   arity     number of operands (0 for leaves)
 *   kind      K_LEAF, K_INFIX (a binary operator), K_PREFIX, K_FUNC (callable
 *             by name in a model), K_AUX (not callable: produced by the
 *             differentiator, or by a builtin's lowering)
 *   c_double  C spelling for double: %0, %1 are the operands
 *   c_float   C spelling for float
 *
 * The lexer, parser, DAG, differentiator (diff.c has one rule per row), the
 * simplifier, the evaluator and the emitter all read this one table.
 */
OP(CONST,    "const",    0, K_LEAF,   "",                                  "")
OP(INPUT,    "input",    0, K_LEAF,   "",                                  "")
OP(PARAM,    "param",    0, K_LEAF,   "",                                  "")
OP(ADD,      "+",        2, K_INFIX,  "%0 + %1",                           "%0 + %1")
OP(SUB,      "-",        2, K_INFIX,  "%0 - %1",                           "%0 - %1")
OP(MUL,      "*",        2, K_INFIX,  "%0 * %1",                           "%0 * %1")
OP(DIV,      "/",        2, K_INFIX,  "%0 / %1",                           "%0 / %1")
OP(NEG,      "-",        1, K_PREFIX, "-%0",                               "-%0")
OP(POW,      "pow",      2, K_FUNC,   "pow(%0, %1)",                       "powf(%0, %1)")
OP(EXP,      "exp",      1, K_FUNC,   "exp(%0)",                           "expf(%0)")
OP(LOG,      "log",      1, K_FUNC,   "log(%0)",                           "logf(%0)")
OP(SQRT,     "sqrt",     1, K_FUNC,   "sqrt(%0)",                          "sqrtf(%0)")
OP(SIN,      "sin",      1, K_FUNC,   "sin(%0)",                           "sinf(%0)")
OP(COS,      "cos",      1, K_FUNC,   "cos(%0)",                           "cosf(%0)")
OP(TAN,      "tan",      1, K_FUNC,   "tan(%0)",                           "tanf(%0)")
OP(TANH,     "tanh",     1, K_FUNC,   "tanh(%0)",                          "tanhf(%0)")
OP(SIGMOID,  "sigmoid",  1, K_FUNC,   "1.0 / (1.0 + exp(-%0))",            "1.0f / (1.0f + expf(-%0))")
OP(SOFTPLUS, "softplus", 1, K_FUNC,   "fmax(%0, 0.0) + log1p(exp(-fabs(%0)))", "fmaxf(%0, 0.0f) + log1pf(expf(-fabsf(%0)))")
OP(RELU,     "relu",     1, K_FUNC,   "%0 < 0.0 ? 0.0 : %0",               "%0 < 0.0f ? 0.0f : %0")
OP(ABS,      "abs",      1, K_FUNC,   "fabs(%0)",                          "fabsf(%0)")
OP(MIN,      "min",      2, K_FUNC,   "%1 < %0 ? %1 : %0",                 "%1 < %0 ? %1 : %0")
OP(MAX,      "max",      2, K_FUNC,   "%1 > %0 ? %1 : %0",                 "%1 > %0 ? %1 : %0")
OP(SIGN,     "sign",     1, K_AUX,    "(double)((%0 > 0.0) - (%0 < 0.0))", "(float)((%0 > 0.0f) - (%0 < 0.0f))")
OP(GT,       "gt",       2, K_AUX,    "%0 > %1 ? 1.0 : 0.0",               "%0 > %1 ? 1.0f : 0.0f")
OP(NGT,      "ngt",      2, K_AUX,    "%0 > %1 ? 0.0 : 1.0",               "%0 > %1 ? 0.0f : 1.0f")
OP(EQ,       "eq",       2, K_AUX,    "%0 == %1 ? 1.0 : 0.0",              "%0 == %1 ? 1.0f : 0.0f")
OP(DETACH,   "detach",   1, K_AUX,    "%0",                                "%0")
/*
 * bce(p, y): PyTorch's BCELoss term (y - 1) max(log(1 - p), -100) - y max(log(p), -100),
 * one operation so that its derivative can be PyTorch's (diff.c d_bce).  max is
 * MAX's ternary, so a NaN (p outside [0, 1]) propagates as PyTorch's std::max
 * does; each log is written twice, and computed once where log is a const
 * function (--vector-math's; plain log sets errno, so it may run twice).
 */
OP(BCE,      "bce",      2, K_AUX,
   "(%1 - 1.0) * (-100.0 > log(1.0 - %0) ? -100.0 : log(1.0 - %0)) - %1 * (-100.0 > log(%0) ? -100.0 : log(%0))",
   "(%1 - 1.0f) * (-100.0f > logf(1.0f - %0) ? -100.0f : logf(1.0f - %0)) - %1 * (-100.0f > logf(%0) ? -100.0f : logf(%0))")
