/*
 * ops.h: the operator table, one row per operation of the IR and the DAG.
 *
 * OP(id, spelling, arity, kind, flags, rule, value, tex)
 *   id        OP_<id>
 *   spelling  how the model language writes it (function name or operator)
 *   arity     number of operands (0 for leaves)
 *   kind      K_LEAF, K_INFIX (a binary operator), K_PREFIX, K_FUNC (callable
 *             by name in a model), K_AUX (not callable: produced by the
 *             differentiator, or by a builtin's lowering)
 *   flags     OPF_FOLD: folding constants at generation time is exact (the
 *             operation is correctly rounded, or exact); OPF_CALL: it calls an
 *             elementary function, <math.h>'s (M) or symgrad's own (S); one
 *             of symgrad's own only (and fabs) folds exactly as well
 *   rule      diff.c's derivative rule, or NULL (leaves, detach, and the
 *             piecewise-constant helpers)
 *   value     the operation as one C expression over its operands a and b
 *             (and c, where's third),
 *             in which M(f) is a <math.h> function (f, or its float version
 *             ff), S(f) one of symgrad's own (gen/sgmath.h: sg_f, sg_ff;
 *             <math.h>'s under --math libm), C(x) a constant of the dtype
 *             and REAL the dtype.  dag.c
 *             compiles it, once per dtype, as the generator's evaluator; the
 *             emitter prints it (op_c), operands in place of a and b, so the
 *             generated code computes exactly what the generator folds
 *   tex       LaTeX for templates, %0 and %1 the operands ("" for
 *             \operatorname{spelling}(operands))
 *
 * Adding an elementwise function is one row here and its rule in diff.c.
 */
OP(CONST,    "const",    0, K_LEAF,   0,        NULL,       0, "")
OP(INPUT,    "input",    0, K_LEAF,   0,        NULL,       0, "")
OP(PARAM,    "param",    0, K_LEAF,   0,        NULL,       0, "")
OP(ADD,      "+",        2, K_INFIX,  OPF_FOLD, d_add,      a + b, "%0 + %1")
OP(SUB,      "-",        2, K_INFIX,  OPF_FOLD, d_sub,      a - b, "%0 - %1")
OP(MUL,      "*",        2, K_INFIX,  OPF_FOLD, d_mul,      a * b, "%0 \\cdot %1")
OP(DIV,      "/",        2, K_INFIX,  OPF_FOLD, d_div,      a / b, "\\frac{%0}{%1}")
OP(NEG,      "-",        1, K_PREFIX, OPF_FOLD, d_neg,      -a, "-%0")
OP(POW,      "pow",      2, K_FUNC,   OPF_CALL, d_pow,      S(pow)(a, b), "{%0}^{%1}")
OP(EXP,      "exp",      1, K_FUNC,   OPF_CALL, d_exp,      S(exp)(a), "\\exp(%0)")
OP(LOG,      "log",      1, K_FUNC,   OPF_CALL, d_log,      S(log)(a), "\\log(%0)")
OP(SQRT,     "sqrt",     1, K_FUNC,   OPF_FOLD | OPF_CALL, d_sqrt, M(sqrt)(a), "\\sqrt{%0}")
OP(SIN,      "sin",      1, K_FUNC,   OPF_CALL, d_sin,      S(sin)(a), "\\sin(%0)")
OP(COS,      "cos",      1, K_FUNC,   OPF_CALL, d_cos,      S(cos)(a), "\\cos(%0)")
OP(TAN,      "tan",      1, K_FUNC,   OPF_CALL, d_tan,      S(tan)(a), "\\tan(%0)")
OP(TANH,     "tanh",     1, K_FUNC,   OPF_CALL, d_tanh,     S(tanh)(a), "\\tanh(%0)")
OP(SIGMOID,  "sigmoid",  1, K_FUNC,   OPF_CALL, d_sigmoid,  C(1.0) / (C(1.0) + S(exp)(-a)), "\\sigma(%0)")
OP(SOFTPLUS, "softplus", 1, K_FUNC,   OPF_CALL, d_softplus, (a > C(0.0) ? a : C(0.0)) + S(log1p)(S(exp)(-M(fabs)(a))),
   "\\operatorname{softplus}(%0)")
OP(RELU,     "relu",     1, K_FUNC,   OPF_FOLD, d_relu,     a < C(0.0) ? C(0.0) : a, "\\operatorname{relu}(%0)")
OP(ABS,      "abs",      1, K_FUNC,   OPF_FOLD, d_abs,      M(fabs)(a), "\\lvert %0 \\rvert")
OP(SOFTSIGN, "softsign", 1, K_FUNC,   OPF_FOLD, d_softsign, a / (C(1.0) + M(fabs)(a)), "\\operatorname{softsign}(%0)")
OP(ATAN,     "atan",     1, K_FUNC,   OPF_CALL, d_atan,     S(atan)(a), "\\arctan(%0)")
OP(ASIN,     "asin",     1, K_FUNC,   OPF_CALL, d_asin,     S(asin)(a), "\\arcsin(%0)")
OP(ACOS,     "acos",     1, K_FUNC,   OPF_CALL, d_acos,     S(acos)(a), "\\arccos(%0)")
OP(SINH,     "sinh",     1, K_FUNC,   OPF_CALL, d_sinh,     S(sinh)(a), "\\sinh(%0)")
OP(COSH,     "cosh",     1, K_FUNC,   OPF_CALL, d_cosh,     S(cosh)(a), "\\cosh(%0)")
OP(ASINH,    "asinh",    1, K_FUNC,   OPF_CALL, d_asinh,    S(asinh)(a), "\\operatorname{arsinh}(%0)")
OP(ACOSH,    "acosh",    1, K_FUNC,   OPF_CALL, d_acosh,    S(acosh)(a), "\\operatorname{arcosh}(%0)")
OP(ATANH,    "atanh",    1, K_FUNC,   OPF_CALL, d_atanh,    S(atanh)(a), "\\operatorname{artanh}(%0)")
OP(LOG1P,    "log1p",    1, K_FUNC,   OPF_CALL, d_log1p,    S(log1p)(a), "\\log(1 + %0)")
OP(EXPM1,    "expm1",    1, K_FUNC,   OPF_CALL, d_expm1,    S(expm1)(a), "(\\exp(%0) - 1)")
OP(LOG2,     "log2",     1, K_FUNC,   OPF_CALL, d_log2,     S(log2)(a), "\\log_2(%0)")
OP(EXP2,     "exp2",     1, K_FUNC,   OPF_CALL, d_exp2,     S(exp2)(a), "2^{%0}")
OP(ERF,      "erf",      1, K_FUNC,   OPF_CALL, d_erf,      S(erf)(a), "\\operatorname{erf}(%0)")
OP(ERFC,     "erfc",     1, K_FUNC,   OPF_CALL, d_erfc,     S(erfc)(a), "\\operatorname{erfc}(%0)")
OP(CBRT,     "cbrt",     1, K_FUNC,   OPF_CALL, d_cbrt,     S(cbrt)(a), "\\sqrt[3]{%0}")
OP(SQUARE,   "square",   1, K_FUNC,   OPF_FOLD, d_square,   a * a, "{%0}^2")
/* gelu: PyTorch's exact (erf) GELU in its order, x * 0.5 * (1 + erf(x * sqrt(1/2))) */
OP(GELU,     "gelu",     1, K_FUNC,   OPF_CALL, d_gelu,     a * C(0.5) * (C(1.0) + S(erf)(a * C(0.70710678118654752440))),
   "\\operatorname{gelu}(%0)")
OP(SILU,     "silu",     1, K_FUNC,   OPF_CALL, d_silu,     a / (C(1.0) + S(exp)(-a)), "\\operatorname{silu}(%0)")
OP(ELU,      "elu",      1, K_FUNC,   OPF_CALL, d_elu,      a > C(0.0) ? a : S(expm1)(a), "\\operatorname{elu}(%0)")
OP(LOGSIGMOID, "logsigmoid", 1, K_FUNC, OPF_CALL, d_logsigmoid, (a < C(0.0) ? a : C(0.0)) - S(log1p)(S(exp)(-M(fabs)(a))),
   "\\log\\sigma(%0)")
OP(ATAN2,    "atan2",    2, K_FUNC,   OPF_CALL, d_atan2,    S(atan2)(a, b), "\\operatorname{atan2}(%0, %1)")
OP(HYPOT,    "hypot",    2, K_FUNC,   OPF_CALL, d_hypot,    S(hypot)(a, b), "\\operatorname{hypot}(%0, %1)")
OP(LEAKY_RELU, "leaky_relu", 2, K_FUNC, OPF_FOLD, d_leaky_relu, a > C(0.0) ? a : a * b,
   "\\operatorname{leaky\\_relu}(%0, %1)")
OP(MIN,      "min",      2, K_FUNC,   OPF_FOLD, d_min,      b < a ? b : a, "\\min(%0, %1)")
OP(MAX,      "max",      2, K_FUNC,   OPF_FOLD, d_max,      b > a ? b : a, "\\max(%0, %1)")
/*
 * Conditions: 1 or 0 in the dtype, as C compares (any comparison with a NaN
 * is 0, except !=, which is 1); and, or, not read an operand as true when it
 * is not 0 (a NaN is true).  They are piecewise constant: no rule, so no
 * gradient flows through them (PyTorch's sign gives 0 as well).
 */
OP(SIGN,     "sign",     1, K_FUNC,   OPF_FOLD, NULL,       (REAL)((a > C(0.0)) - (a < C(0.0))), "\\operatorname{sign}(%0)")
OP(LT,       "<",        2, K_INFIX,  OPF_FOLD, NULL,       a < b ? C(1.0) : C(0.0), "[%0 < %1]")
OP(LE,       "<=",       2, K_INFIX,  OPF_FOLD, NULL,       a <= b ? C(1.0) : C(0.0), "[%0 \\le %1]")
OP(GT,       ">",        2, K_INFIX,  OPF_FOLD, NULL,       a > b ? C(1.0) : C(0.0), "[%0 > %1]")
OP(GE,       ">=",       2, K_INFIX,  OPF_FOLD, NULL,       a >= b ? C(1.0) : C(0.0), "[%0 \\ge %1]")
OP(EQ,       "==",       2, K_INFIX,  OPF_FOLD, NULL,       a == b ? C(1.0) : C(0.0), "[%0 = %1]")
OP(NE,       "!=",       2, K_INFIX,  OPF_FOLD, NULL,       a != b ? C(1.0) : C(0.0), "[%0 \\ne %1]")
OP(AND,      "and",      2, K_INFIX,  OPF_FOLD, NULL,       a != C(0.0) && b != C(0.0) ? C(1.0) : C(0.0), "%0 \\land %1")
OP(OR,       "or",       2, K_INFIX,  OPF_FOLD, NULL,       a != C(0.0) || b != C(0.0) ? C(1.0) : C(0.0), "%0 \\lor %1")
OP(NOT,      "not",      1, K_PREFIX, OPF_FOLD, NULL,       a == C(0.0) ? C(1.0) : C(0.0), "\\lnot %0")
/*
 * where(c, a, b): a where c is true (not 0; a NaN is true), else b.  It
 * selects, never multiplies, so whatever the other branch holds (a NaN, an
 * Inf) reaches neither the value nor the gradient: each branch's adjoint
 * is where(c, adj, 0) or where(c, 0, adj).  The only operation of three
 * operands (c in the value column is the third).
 */
OP(WHERE,    "where",    3, K_FUNC,   OPF_FOLD, d_where,    a != C(0.0) ? b : c, "\\begin{cases} %1 & %0 \\\\ %2 & \\text{otherwise} \\end{cases}")
/* not greater (1 also for a NaN): the kinks of min and max (diff.c) */
OP(NGT,      "ngt",      2, K_AUX,    OPF_FOLD, NULL,       a > b ? C(0.0) : C(1.0), "[%0 \\le %1]")
OP(DETACH,   "detach",   1, K_AUX,    OPF_FOLD, NULL,       a, "")
/*
 * bce(p, y): PyTorch's BCELoss term (y - 1) max(log(1 - p), -100) - y max(log(p), -100),
 * one operation so that its derivative can be PyTorch's (diff.c d_bce).  max is
 * MAX's ternary, so a NaN (p outside [0, 1]) propagates as PyTorch's std::max
 * does; each log is written twice, and computed once where log is a const
 * function (--vector-math's; plain log sets errno, so it may run twice).
 */
OP(BCE,      "bce",      2, K_AUX,    OPF_CALL, d_bce,
   (b - C(1.0)) * (C(-100.0) > S(log)(C(1.0) - a) ? C(-100.0) : S(log)(C(1.0) - a)) - b * (C(-100.0) > S(log)(a) ? C(-100.0) : S(log)(a)),
   "(%1 - 1) \\max(\\log(1 - %0), -100) - %1 \\max(\\log %0, -100)")
