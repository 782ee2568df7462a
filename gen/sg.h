/*
 * sg.h: the generator's one internal header.
 *
 * The pipeline (compile.c runs it in this order, --dump=STAGE prints the IR
 * after each stage):
 *
 *   lex.c     source bytes      -> tokens
 *   parse.c   tokens            -> AST statements + symbol table
 *   tir.c     AST               -> tensor IR, lowered once (tir)
 *   diff.c    tensor IR         -> its gradient program, in the same IR (grad)
 *   loop.c    IR                -> loop nests (loop form)
 *   unroll.c  IR                -> hash-consed scalar DAG, element by element (dag)
 *   sched.c   scalar DAG        -> straight-line program, names, comments (prog)
 *   tmpl.c    program(s)        -> Lua tables -> sandboxed template -> text
 *   emit.c    text              -> files, through the runtime's out.c
 *
 * Beside them: simp.c, the smart constructors (the exact IEEE identities,
 * folded as nodes are made); ops.h/ops.c, the operator table and its
 * evaluator; dag.c, hash-consing; canon.c, canonical forms; fmt.c, numbers.
 * The commands (gen, check, explain, ...) are cli/'s, not this library's.
 *
 * Memory: one arena per compilation (arena.c), freed at exit.
 * Errors: diag_error() for bad input (file:line:col, source line, caret,
 * exit 1), unreachable()/internal_error() for broken invariants (abort).
 */
#ifndef SG_H
#define SG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define SG_NORETURN __attribute__((noreturn))
#define SG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SG_NORETURN
#define SG_PRINTF(f, a)
#endif

/* Limits on input, each reported as an error naming it (README "Limits"). */
#define SG_MAX_IDENT 63          /* C99's significant characters */
#define SG_MAX_DEPTH 1000        /* expression nesting: parentheses, calls */
#define SG_MAX_CHAIN 10000       /* operators in one expression's longest path */
#define SG_MAX_FILE (64u << 20)  /* bytes of a model file */
#define SG_MAX_NODES 4000000     /* DAG nodes, forward and backward */
#define SG_MAX_STMTS 100000      /* bindings (name = expression lines) */

typedef struct Arena Arena;
typedef struct Source Source;
typedef struct Token Token;
typedef struct Expr Expr;
typedef struct Stmt Stmt;
typedef struct Symbol Symbol;
typedef struct Model Model;
typedef struct Node Node;
typedef struct Dag Dag;
typedef struct Prog Prog;
typedef enum { DT_DOUBLE, DT_FLOAT } Dtype;

/* ---- arena.c: one allocator for the whole compilation ---- */
Arena *arena_new(void);
void arena_free(Arena *a);
void *arena_alloc(Arena *a, size_t n);     /* zeroed, aligned */
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_printf(Arena *a, const char *fmt, ...) SG_PRINTF(2, 3);
char *arena_upper(Arena *a, const char *s); /* ASCII capitals: the model's NAME */
void *xrealloc(void *p, size_t n);         /* growable arrays outside arenas */

/* A growable string for building text. */
typedef struct Buf {
	char *data;
	size_t len, cap;
} Buf;
void buf_put(Buf *b, const char *s, size_t n);
void buf_puts(Buf *b, const char *s);
void buf_printf(Buf *b, const char *fmt, ...) SG_PRINTF(2, 3);
void buf_free(Buf *b);

/* ---- diag.c: diagnostics ---- */
struct Source {
	const char *path;   /* as given on the command line */
	const char *text;   /* NUL-terminated contents */
	size_t len;
};

typedef struct Loc {
	const Source *src;
	int line, col;      /* 1-based; col counts bytes */
	int len;            /* bytes under the caret, >= 1 */
} Loc;

SG_NORETURN void diag_error(Loc loc, const char *fmt, ...) SG_PRINTF(2, 3);
void diag_warning(Loc loc, const char *fmt, ...) SG_PRINTF(2, 3);
/* A note every error and warning prints until popped ("in the call of
 * 'layer'" at the call), innermost first. */
void diag_push_note(Loc loc, const char *msg);
void diag_pop_note(void);
SG_NORETURN void diag_fatal(const char *fmt, ...) SG_PRINTF(1, 2);
/* A command-line usage error: "symgrad: error: ...", exit status 2 (errors
 * in input files and data exit 1). */
SG_NORETURN void diag_usage(const char *fmt, ...) SG_PRINTF(1, 2);
/* An error in a file read without a Loc (a template): "WHERE: error: MSG",
 * or MSG alone when it starts with "WHERE:" (Lua's "file:line: message").
 * Does not end the run: diag_exit does, after the caller's cleanup. */
void diag_report(const char *where, const char *msg);
SG_NORETURN void diag_exit(void); /* status 1, after errors already reported */
SG_NORETURN void diag_internal(const char *file, int line, const char *msg);
void diag_set_exit_hook(void (*hook)(void)); /* cleanup before exit(1) */
/* With jb set, errors longjmp(*jb, 1) instead of exiting (fuzzing); every
 * allocation on the error paths is in the compilation's arena. */
#include <setjmp.h>
void diag_set_recover(jmp_buf *jb);
#define unreachable() diag_internal(__FILE__, __LINE__, "unreachable")
#define sg_check(c) ((c) ? (void)0 : diag_internal(__FILE__, __LINE__, #c))

/* ---- fmt.c: numbers as text ---- */
/* Shortest decimal that reads back to the same double (or float), as C. */
void fmt_shortest(char *buf, size_t n, double v, Dtype dt);
void fmt_c_literal(char *buf, size_t n, double v, Dtype dt); /* "(-0.5f)", "HUGE_VAL" */
const char *fmt_num(Arena *a, double v);  /* shortest, no ".0": for people */

/* ---- ops.h: the operator table; ops.c: its data, C spelling and evaluator ---- */
typedef enum { K_LEAF, K_INFIX, K_PREFIX, K_FUNC, K_AUX } OpKind;
enum { OPF_FOLD = 1, OPF_CALL = 2 };
typedef enum {
#define OP(id, sp, ar, k, fl, rule, value, tex) OP_##id,
#include "ops.h"
#undef OP
	OP_COUNT
} Op;
typedef struct OpInfo {
	const char *name;     /* "ADD" */
	const char *spelling; /* "+" or "exp" */
	int arity;
	OpKind kind;
	int flags;            /* OPF_FOLD, OPF_CALL */
	const char *value;    /* the value column as written: "M(exp)(a)" */
	const char *tex;      /* LaTeX over %0 %1, or "" */
} OpInfo;
extern const OpInfo op_info[OP_COUNT];
/* --math: which functions S(f) of the value column names (README
 * "Elementary functions"): symgrad's own, gen/sgmath.h (the default), or
 * <math.h>'s.  A setting of the process: compile_run sets it for each
 * compilation, and op_c, op_apply, op_fold and op_calls follow it. */
typedef enum { SG_MATH_OWN, SG_MATH_LIBM } SgMath;
void op_set_math(SgMath m);
/* The operation as C in dtype dt, %0 and %1 the operands: "sg_expf(%0)". */
const char *op_c(Op op, Dtype dt);

/* One operation in dtype dt's arithmetic, as the generated code computes it
 * (c: the third operand, where's; ignored by the others). */
double op_apply(Dtype dt, Op op, double a, double b, double c);
/* op on constants into *out, when folding it at generation time is exact. */
bool op_fold(Dtype dt, Op op, double a, double b, double *out);
bool op_lookup_func(const char *name, size_t len, Op *op); /* K_FUNC by name */

/* ---- lex.c ---- */
typedef enum {
	TK_IDENT, TK_NUM, TK_PUNCT, TK_NEWLINE, TK_EOF
} TokenKind;

struct Token {
	TokenKind kind;
	const char *text;   /* points into the source */
	int len;
	double num;         /* TK_NUM */
	Loc loc;
};

/* Tokenizes a whole source; the array ends with TK_EOF. */
Token *lex_tokenize(Arena *a, const Source *src, int *count);
bool lex_is(const Token *t, const char *s);

/* ---- parse.c: AST and symbol table ---- */
typedef enum {
	E_NUM, E_NAME, E_UNARY, E_BINARY, E_CALL, /* elementwise, DAG operators */
	E_MATMUL,                                 /* a @ b */
	E_INDEX,                                  /* v[i], m[i, j], m[i] */
	E_BUILTIN                                 /* sum, softmax, mse, ... */
} ExprKind;

/* Functions lowered to several operations of the IR (tir.c): over whole
 * vectors, and clamp, elementwise. */
typedef enum {
	B_SUM, B_MEAN, B_DOT, B_SOFTMAX, B_LOGSUMEXP, B_MSE, B_BCE, B_BCE_LOGITS,
	B_CROSS_ENTROPY, B_CLAMP, B_TRANSPOSE, B_OUTER, B_FLATTEN, B_RESHAPE, B_CONCAT,
	B_CONV2D, B_MAXPOOL2D, B_AVGPOOL2D, /* over [channels, height, width] */
	B_SCAN, B_MAP, B_ZEROS, /* scan, map: the steps' values (args) stacked; zeros(n) */
	B_STACK, B_DIAG,        /* stack(a, b, ...): rows; diag(v), diag(M) */
	B_COUNT
} Builtin;
extern const char *const builtin_names[B_COUNT];
extern const int builtin_arity[B_COUNT];

/* A shape: rank 0 for scalars, 1 for vectors, 2 for matrices, 3 and 4 for
 * the images and kernels of conv2d ([channels, height, width], [out, in,
 * height, width]), row-major. */
#define SG_MAX_RANK 4
typedef struct Shape {
	int rank;
	int dim[SG_MAX_RANK];
} Shape;
int shape_size(Shape s);
const char *shape_text(Arena *a, Shape s); /* "[6, 8]", "scalar" */
bool shape_equal(Shape a, Shape b);
#define SG_MAX_DIM 1000000       /* one dimension */
#define SG_MAX_ELEMS 10000000    /* elements of one tensor */

struct Expr {
	ExprKind kind;
	Op op;              /* E_UNARY, E_BINARY, E_CALL */
	double num;         /* E_NUM */
	Symbol *sym;        /* E_NAME, resolved by the parser */
	Expr **args;
	int nargs;
	Loc loc;            /* the operator or name token */
	Shape shape;        /* inferred by the parser */
	Builtin builtin;    /* E_BUILTIN */
	int idx[2], nidx;   /* E_INDEX: constant indices (range starts) */
	int end[2];         /*   each one's end: idx + 1, or a range's (exclusive) */
	bool range[2];      /*   written as a range lo:hi */
	int off;            /*   the flat offset of the contiguous view it is */
	bool strided;       /*   a piece of several rows, not contiguous (M[:, 1], M[1:3, 0:2]):
	                         rows idx[0]..end[0], columns idx[1]..end[1]; off unused */
	int height;         /* longest path to a leaf: bounds recursion on the tree */
};

/* SYM_DIR: a vector the generator adds to a function beyond the gradient,
 * read from one of the function's arrays (array): a direction for the
 * Hessian- and Gauss-Newton-vector products (v_w for w, from vec), a tangent
 * for forward mode (dot_w, dot_x, from dparams and dinputs), a cotangent for
 * reverse mode (bar_yhat from doutputs, bar_loss the scalar dloss). */
typedef enum { SYM_INPUT, SYM_PARAM, SYM_LET, SYM_DIR } SymKind;

/*
 * A tensor name (input x[8]) is a Symbol with shape and elems, its scalar
 * elements (x[0] ... x[7]), which are what the model's flat input, param and
 * binding lists hold: everything after the parser sees scalars only.
 */
struct Symbol {
	SymKind kind;
	const char *name;   /* "w", or an element's "W1[2,3]" */
	const char *ident;  /* as a C identifier: "w", "W1_2_3" */
	Loc loc;            /* where it is defined */
	Shape shape;
	int size;           /* elements: 1 for scalars */
	Symbol **elems;     /* a tensor's elements, row-major; NULL for scalars */
	Symbol *tensor;     /* an element's tensor, or NULL */
	int offset;         /* an element's position in its tensor */
	int index;          /* SYM_INPUT/SYM_PARAM: position in its array */
	double init;        /* SYM_PARAM: initial value */
	int classes;        /* SYM_INPUT: a class index of cross_entropy over this many
	                       classes (the fewest, if used twice); 0 if not */
	Expr *value;        /* SYM_LET */
	Stmt *stmt;         /* SYM_LET: its statement */
	Node *node;         /* set by dag_build */
	struct TVal *tval;  /* set by tir_build: a binding's (or tensor's) value */
	Symbol *dir_of;     /* SYM_DIR: the param, input or output (or tensor) it goes with */
	const char *array;  /* SYM_DIR: the C array it is read from (a scalar argument if of is "") */
	const char *of;     /*   "PARAM", "INPUT", "OUTPUT": the header constants that index it */
	bool used;
};

struct Stmt {
	Symbol *sym;        /* the binding */
	Loc loc;            /* the whole line, for comments */
	const char *text;   /* the source line, trimmed */
	bool step;          /* a scan's step: the line is listed once, by its binding */
};

struct Model {
	const Source *src;
	const char *name;   /* C prefix */
	Loc name_loc;
	Symbol **inputs, **params, **lets, **outputs; /* scalars, flat */
	int n_inputs, n_params, n_lets, n_outputs;
	const char **defs;  /* each def statement's text, for comments */
	int n_defs;
	int n_stmts;        /* binding statements */
	Symbol **tensors;   /* inputs and params as declared (scalar or tensor) */
	int n_tensors;
	uint64_t seed;      /* for random initial values */
	Symbol *loss;
	Symbol **dirs;      /* diff_hvp, diff_gnvp: the directions, one per param tensor */
	int residual_first; /* 'residual r': r's elements are outputs residual_first.. */
	int n_residuals;    /*   .. + n_residuals - 1 (0: no residual statement) */
	/* symbol table: open hashing over names */
	Symbol **table;
	int table_cap, n_syms;
};

Model *parse_model(Arena *a, const Source *src, const Token *toks, uint64_t seed);
Symbol *parse_lookup(const Model *m, const char *name, size_t len);
/* Parses a single expression from tokens (symgrad check); stops at NEWLINE. */
Expr *parse_expr_at(Arena *a, Model *m, const Token **pos);
void parse_dump(FILE *out, const Model *m);

/* ---- dag.c: hash-consed DAG ---- */

struct Node {
	Op op;
	int id;             /* creation order: a topological order */
	int nargs;
	Node *args[3];      /* nargs of them: 3 for where only */
	double value;       /* OP_CONST, rounded to the dtype */
	Symbol *sym;        /* OP_INPUT/OP_PARAM; a binding's first node */
	uint32_t hash;
	Node *next;         /* hash chain */
	/* filled by later stages */
	bool needs_grad;    /* diff: depends on some param */
	int uses;           /* sched */
	int slot;           /* sched: index into the program */
};

struct Dag {
	Arena *arena;
	Dtype dtype;
	Node **buckets;
	int nbuckets;
	Node **nodes;       /* by id */
	int n, cap;
	Node *one, *zero;   /* constants 1 and 0 */
	int first_backward; /* ids from here on were made by diff */
};

Dag *dag_new(Arena *a, Dtype dt);
Node *dag_const(Dag *d, double v);
Node *dag_leaf(Dag *d, Op op, Symbol *sym);
/* The raw constructor: hash-consed, no simplification. */
Node *dag_make(Dag *d, Op op, Node *a, Node *b);
Node *dag_make3(Dag *d, Op op, Node *a, Node *b, Node *c);
void dag_dump(FILE *out, const Dag *d, const Model *m);
double dag_round(const Dag *d, double v);  /* to the dtype */

/* ---- tir.c: the tensor IR, which every form is lowered from ----
 *
 * The AST is lowered once into values with shapes; reverse mode (diff.c)
 * adds the gradient program to the same IR; unroll.c expands every value
 * element by element into the scalar DAG, loop.c emits each as a loop nest.
 * Each kind fixes the order of its operations, so both forms compute the
 * same bits.  Elements are row-major.  A value's elements may be absent
 * (only gradient values: the part of an adjoint no term reached); an
 * operation skips absent operands, as documented per kind:
 *
 *   T_LEAF    a param or input as declared (sym)
 *   T_CONST   one number (value), rounded to the dtype
 *   T_IOTA    0, 1, ..., size - 1
 *   T_MAP     op elementwise over one to three operands (three: where);
 *             an operand of one element is broadcast.  An
 *             element exists where every operand's does
 *   T_MATMUL  out(i, j) = x(i, 0) y(0, j) + x(i, 1) y(1, j) + ... : a left
 *             fold over the contraction index, ascending, of the products
 *             whose operands both exist; x is [m, k] (stored [k, m] when
 *             tx), y is [k, n] (stored [n, k] when ty)
 *   T_FOLD    acc = a[0]; acc = op(acc, a[i]), i ascending, over the
 *             elements that exist (sum: ADD, max: MAX); with args[1] (one
 *             element, a gradient's sum so far), acc starts from it
 *   T_VIEW    elements off .. off + size - 1 of args[0], a root value
 *   T_SCATTER args[0] at elements off .. of a value of this size; the rest
 *             absent (the adjoint of a view)
 *   T_BCAST   args[0], one element, as every element
 *   T_ACC     args[0] + args[1] where both exist, else the one that does
 *             (adjoint sums: the first term is not added to a zero)
 *   T_GATHER  out[i] = a[idx[i]] for a constant table idx (-1: absent, as
 *             is out[i] where a[idx[i]] is): conv2d's patches (im2col),
 *             pooling's windows, a channel's bias spread over its pixels
 *   T_GATHER_ADD  its adjoint, a scatter-add of a gather's table: out[j] =
 *             a[i1] + a[i2] + ..., a left fold over the i with idx[i] = j,
 *             i ascending, of the a[i] that exist (absent where none does);
 *             out has the gather operand's size (`like`)
 *
 * The canonical order of an adjoint sum: reverse mode visits values by
 * descending id, operands in order, and each term is added to the sum
 * so far (T_ACC), so adj = ((t1 + t2) + t3) ..., each t a whole tensor.
 */
typedef enum {
	T_LEAF, T_CONST, T_IOTA, T_MAP, T_MATMUL, T_FOLD, T_VIEW, T_SCATTER, T_BCAST, T_ACC,
	T_GATHER, T_GATHER_ADD
} TKind;

typedef struct TVal TVal;
struct TVal {
	TKind kind;
	Op op;              /* MAP, FOLD */
	int id;             /* creation order: operands have smaller ids */
	int nargs;
	TVal *args[3];      /* 3 for a where map only */
	int size;           /* elements */
	Shape shape;
	Symbol *sym;        /* LEAF */
	double value;       /* CONST */
	int m, k, n;        /* MATMUL: [m, k] @ [k, n] */
	bool tx, ty;        /* MATMUL: an operand stored transposed */
	int off;            /* VIEW, SCATTER */
	const int *idx;     /* GATHER, GATHER_ADD: the gather's table (n_idx entries) */
	int n_idx;
	const bool *has;    /* NULL when every element exists; else which do */
	int n_has;          /* elements that exist */
	int line;           /* the source line that made it */
	bool grad;          /* made by reverse mode */
	bool needs_grad;    /* depends on a param, not only through a detach */
	const char *name;   /* a binding's identifier, when one names it */
	uint32_t hash;
	TVal *next;
	Node **elems;       /* unroll.c: the scalar node of each element (NULL: absent) */
};

/* One step of reverse mode: term = adj(parent) * d parent / d child, added
 * to child's adjoint, which is then sum. */
typedef struct TStep {
	TVal *parent, *child;
	int k;              /* which operand of parent the child is */
	TVal *term, *sum;
	int first, end;     /* ids of the values this step made */
} TStep;

typedef struct Tir {
	Arena *arena;
	Model *model;
	Dtype dtype;
	TVal **vals;        /* by id */
	int n, cap;
	TVal **buckets;
	int nbuckets;
	int line;           /* the line values are being made for */
	Dag *scratch;       /* patterns over placeholders, for the simplifier */
	Node *ph[4];        /* placeholders: operands 0, 1 and 2, the adjoint */
	Symbol ph_sym[4];
	/* reverse mode (diff_tensor) */
	int n_forward;      /* ids below this are the forward program */
	TVal *loss;
	TVal **adj;         /* by forward id: dloss/dvalue, or NULL */
	TStep *steps;
	int n_steps;
	/* the programs beyond the gradient (gen --jacobian, --hessian, --hvp),
	 * each indexed [...][i] by the model's tensors (m->tensors[i]); NULL
	 * where nothing reaches */
	TVal ***jac;        /* [output o]: d output o / d tensor, params and inputs */
	TVal ***hess;       /* [param j]: d (dloss/dparam j) / d param tensor */
	TVal **hvp;         /* (H v) of each param tensor */
	TVal **gnvp;        /* (G v), G = 2 J'J of the residuals, of each param tensor */
	TVal *jvp_loss;     /* forward mode: the loss's tangent */
	TVal **jvp;         /* [output o]: the tangent of output o's value */
	TVal **vjp;         /* reverse mode from any cotangent: of each tensor */
	bool hess_dense, hess_sparse; /* which forms of t->hess to emit */
} Tir;

Tir *tir_new(Arena *a, Model *m, Dtype dt);
/* Lowers every binding; each Symbol's tval is its value. */
void tir_build(Tir *t, Model *m);
TVal *tir_lower(Tir *t, Expr *e);    /* one expression */
TVal *tir_const(Tir *t, double v);
TVal *tir_leaf(Tir *t, Symbol *s);   /* a param, input or direction as declared */
/* op elementwise, through the simplifier: the same value simp.c's rules
 * give for each element. */
TVal *tir_map(Tir *t, Op op, TVal *a, TVal *b);
TVal *tir_map3(Tir *t, Op op, TVal *a, TVal *b, TVal *c);
TVal *tir_matmul(Tir *t, TVal *x, TVal *y, int m, int k, int n, bool tx, bool ty);
TVal *tir_fold(Tir *t, Op op, TVal *a);
TVal *tir_fold_onto(Tir *t, TVal *init, TVal *a); /* init + a[0] + a[1] + ... */
TVal *tir_view(Tir *t, TVal *a, int off, Shape s);
TVal *tir_scatter(Tir *t, TVal *a, int off, TVal *like);
TVal *tir_bcast(Tir *t, TVal *a, TVal *like);
TVal *tir_acc(Tir *t, TVal *a, TVal *b);
/* out[i] = a[idx[i]] (idx: shape's size entries, -1 absent; kept, not copied). */
TVal *tir_gather(Tir *t, TVal *a, const int *idx, Shape s);
/* The scatter-add of adj through a gather's table idx (adj->size entries)
 * into a value of like's size and shape: a gather's adjoint. */
TVal *tir_gather_add(Tir *t, TVal *adj, const int *idx, const TVal *like);
/* The value of scratch expression e over the placeholders' values. */
TVal *tir_from_pattern(Tir *t, Node *e, TVal *const bind[4]);
void tir_dump(FILE *out, const Tir *t);
bool tir_has(const TVal *v, int i);  /* element i exists */

/* ---- simp.c: simplifying constructors (only exact IEEE identities) ---- */
Node *simp_make(Dag *d, Op op, Node *a, Node *b);
Node *simp_where(Dag *d, Node *c, Node *a, Node *b);
Node *simp_make3(Dag *d, Op op, Node *a, Node *b, Node *c); /* any arity */
Node *simp_add(Dag *d, Node *a, Node *b);
Node *simp_sub(Dag *d, Node *a, Node *b);
Node *simp_mul(Dag *d, Node *a, Node *b);
Node *simp_div(Dag *d, Node *a, Node *b);
Node *simp_neg(Dag *d, Node *a);
Node *simp_pow(Dag *d, Node *a, Node *b);

/* ---- diff.c: symbolic reverse mode ---- */
/* Role of an adjoint contribution, kept for comments. */
typedef struct Contrib {
	Node *parent;       /* forward node whose adjoint flows down */
	Node *child;        /* forward node receiving it */
	Node *term;         /* adj(parent) * d parent / d child */
	Node *sum;          /* the child's adjoint after adding term */
	struct Contrib *next;
	int first, end;     /* ids of the nodes this step made */
} Contrib;

typedef struct Grad {
	Node **param_grad;  /* per param: dloss/dparam node */
	Node **adj;         /* per forward node id: dloss/dnode, or NULL */
	Contrib **contribs; /* per forward node id: incoming terms, newest first */
	Contrib **steps;    /* every term in the order made */
	int n_steps;
	int n_forward;      /* ids below this are forward nodes */
	/* beyond the gradient (NULL unless asked for), row-major: */
	Node **jac_params;  /* [n_outputs][n_params]: d output / d param */
	Node **jac_inputs;  /* [n_outputs][n_inputs]: d output / d input */
	Node **hess;        /* [n_params][n_params]: symmetric by construction */
	Node **hvp;         /* [n_params]: (H v) */
	Node **gnvp;        /* [n_params]: (G v) */
	Node *jvp_loss;     /* the loss's tangent */
	Node **jvp;         /* [n_outputs]: each output's tangent */
	Node **vjp_params;  /* [n_params]: cotangents pulled back to the params */
	Node **vjp_inputs;  /* [n_inputs]: and to the inputs */
	Node **hess_sparse; /* [hess_nnz]: the Hessian's entries that are not 0 by */
	int *hess_colptr;   /*   structure, column by column (both triangles), as */
	int *hess_rowidx;   /*   compressed sparse columns */
	int hess_nnz;
} Grad;

/* Reverse mode on the tensor IR: appends the gradient program to t
 * (t->adj, t->steps); warns of params the loss does not read. */
void diff_tensor(Tir *t, Model *m);
/* After diff_tensor, the programs beyond the gradient, each by more reverse
 * sweeps over the same IR (the gradient is IR: differentiating it again is
 * the same machinery).  The Jacobian of the outputs with respect to params
 * and inputs: one sweep per output element.  The Hessian: one sweep per
 * param, from its gradient element.  The Hessian-vector product: one sweep
 * from the gradient dotted with directions v (reverse over reverse), a
 * constant times the gradient's cost. */
void diff_jacobian(Tir *t, Model *m);
void diff_hessian(Tir *t, Model *m);
void diff_hvp(Tir *t, Model *m);
/* Forward mode: the tangents of the loss and the outputs along tangents of
 * the params and inputs (dot_NAME), one sweep by ascending id with the
 * same rules, the tangent in the adjoint's place. */
void diff_jvp(Tir *t, Model *m);
/* Reverse mode from cotangents of the loss (bar_loss) and of the outputs
 * (bar_NAME): one sweep to the params and the inputs. */
void diff_vjp(Tir *t, Model *m);
/* The Gauss-Newton product of a residual model: (2 J'J) v, J = dr/dparams,
 * forward (J v) then reverse (J' (2 J v)). */
void diff_gnvp(Tir *t, Model *m);
void diff_dump(FILE *out, const Dag *d, const Model *m, const Grad *g);
/* Evaluates every node: vals[id], in the dtype's arithmetic, as the emitted C does. */
void dag_eval(const Dag *d, const double *params, const double *inputs,
	       double *vals);

/* The local derivative d n / d n->args[k] as a node (the rule with adj 1). */
Node *diff_local(Dag *d, Node *n, int k);
/* The term adj * d n / d n->args[k], as diff_reverse makes it; NULL for an
 * operator without a rule (leaves, detach, the piecewise-constant ones). */
Node *diff_term(Dag *d, Node *n, int k, Node *adj);
/* One warning for tensor (or scalar) param t, naming the elements whose
 * unused[offset] is set: "z[0..20]" runs, not one warning per element. */
void diff_warn_unused(const Symbol *t, const bool *unused);

/* ---- unroll.c: the IR element by element, into the scalar DAG ---- */
/* Expands the forward and gradient programs of t; sets every Symbol's node
 * and returns the gradient's nodes and contributions, for sched.c. */
Grad *unroll(Dag *d, Tir *t, Model *m);
/* One more expression (symgrad check's hand derivations), lowered and expanded. */
Node *unroll_expr(Dag *d, Tir *t, Expr *e);

/* ---- canon.c: canonical forms (sums of monomials) ---- */
typedef struct Canon Canon;
/* NULL when the form would be too large to expand. */
Canon *canon_of(Arena *a, Dag *d, const Node *n);
/* The same, sharing memo[d->n] (zeroed at first) across calls. */
Canon *canon_of_memo(Arena *a, Dag *d, const Node *n, Canon **memo);
Canon *canon_sub(Arena *a, const Canon *x, const Canon *y);
bool canon_equal(Arena *a, const Canon *x, const Canon *y);
const char *canon_text(Arena *a, const Canon *p, bool latex);

/* ---- sched.c: straight-line program ---- */
typedef struct PStmt {
	Node *node;
	const char *name;    /* C identifier */
	const char *expr;    /* C expression over operand names and literals */
	const char *comment; /* source line or chain-rule step; no comment markers */
	int line;            /* source line, 0 when none */
	bool backward;       /* made by the differentiator */
} PStmt;

typedef struct Func {
	PStmt *stmts;
	int n;
	Node **loads;       /* params and inputs read, in source order */
	int n_loads;
	int n_fwd_ops, n_bwd_ops;
} Func;

struct Prog {
	Model *model;
	Dag *dag;
	Grad *grad;
	const char **names;    /* by node id: C name, or NULL */
	const char **comments; /* by node id */
	int *lines;            /* by node id: source line */
	Func forward;          /* loss and outputs */
	Func backward;         /* loss and gradient */
	Func predict;          /* outputs only */
	Func jacobian, hessian, hvp; /* when asked for (n_loads + n == 0 otherwise) */
	Func jvp, vjp, gnvp, hessian_sparse;
};

Prog *sched_build(Arena *a, Dag *d, Model *m, Grad *g);
/* The C text of an operand: a name or a literal. */
const char *sched_operand(const Prog *p, const Node *n);
const char *sched_value_text(const Prog *p, const Node *n); /* never aborts */
/* The same over a block of rows (the batched gradient): "x[r] * w". */
const char *sched_row_operand(const Prog *p, const Node *n); /* "x[r]", "w" */
const char *sched_row_expr(const Prog *p, const Node *n);
void sched_dump(FILE *out, const Prog *p);
bool sched_is_reserved(const char *name);
/* A node as the model language writes it, over its operands' names (for
 * explain and templates); an operand is its name, a number, or at depth > 3 "...". */
const char *sched_expr_text(const Prog *p, const Node *n, int depth);
const char *sched_operand_text(const Prog *p, const Node *n, int depth);
/* C names for another program over the same model (loop.c): reserved words,
 * <math.h> and the generated header's names are taken from the start. */
typedef struct Names Names;
Names *names_new(Arena *a, const Model *m);
const char *names_take(Names *n, const char *want); /* want, or want_, want_2, ... */
bool names_free(const Names *n, const char *name);  /* not taken (nor reserved) */

/* ---- loop.c: tensor programs with loops, for models too large to unroll ---- */
/* One line of a loop program's function body; the template lays them out. */
typedef enum { LI_STMT, LI_COMMENT, LI_BLANK, LI_FOR, LI_IF, LI_END, LI_OPEN, LI_PP } LItemKind;
typedef struct LItem {
	LItemKind kind;
	const char *text;    /* STMT: a C statement; COMMENT: its text; IF: the condition;
	                        OPEN: a block's head ("for (...)"), closed by an END;
	                        PP: a preprocessor line ("#if NAME_VECTORS") */
	const char *comment; /* STMT: an optional note */
	const char *var;     /* FOR: the index, counting from..to inclusive (down when from > to) */
	int from, to;
} LItem;

typedef struct LFunc {
	LItem *items;
	int n, cap;
	long ops;            /* scalar operations one call performs */
} LFunc;

typedef struct LoopProg {
	Arena *arena;
	Model *model;
	const char *loss;    /* the loss as C */
	Dtype dtype;
	LFunc forward, backward, predict;
	LFunc hvp, gnvp, jvp, vjp, jacobian, hessian; /* when asked for (n == 0 otherwise) */
	LFunc batch;         /* backward_batch in blocks of rows (n == 0: too large a block) */
	int lanes;           /* batch: rows per block, one lane each */
	bool vectors;        /* batch: tiles also in vector form (#if NAME_VECTORS) */
	long backward_fwd_ops; /* of backward.ops, the forward pass's */
	int n_tensors;       /* values of the tensor program */
	int n_kernels;       /* loops and statements emitted for them */
} LoopProg;

/* When to emit loops: SG_LOOPS_AUTO above the threshold, or always, or never. */
enum { SG_LOOPS_AUTO, SG_LOOPS_ALWAYS, SG_LOOPS_NEVER };
#define SG_LOOPS_THRESHOLD 300   /* scalar operations of the forward pass */
/* Scalar operations the unrolled forward pass would spend on tensors (an
 * estimate): matrix products, reductions and elementwise operations on
 * tensors; operations on scalars count 0, since loops cannot shorten them. */
long loop_estimate(const Model *m);
/* The loop program of t's forward and gradient programs: each value a loop nest. */
LoopProg *loop_build(Arena *a, Tir *t, Model *m);
void loop_dump(FILE *out, const LoopProg *p);  /* --dump=prog in loop form */
/* reroll.c: a scan's steps, unrolled by the parser, as one loop over the
 * steps in f (var its index), where the steps' code is the same step after step. */
bool loop_has_scan(const Model *m);
void loop_reroll(Arena *a, Names *names, LFunc *f, const char *var);

/* ---- tmpl.c: sandboxed Lua templates ---- */
typedef struct TmplFile {
	char *suffix;       /* ".c", ".h", ".md" */
	char *text;
	size_t len;
} TmplFile;

typedef struct TmplOpts {
	const char *template_name; /* for messages: a path or "builtin:c" */
	const char *template_src;
	size_t template_len;
	const char *header_name;   /* what the .c includes */
	const char *model_path;
	long steps;                /* out: instructions used (to 10^3), library work included */
	size_t memory;             /* out: peak bytes of the Lua state */
} TmplOpts;

/* The sandbox's limits (README "Limits"); a zero field means the default. */
typedef struct TmplLimits {
	long steps;                /* Lua instructions, library work counted alike */
	size_t memory;             /* bytes of the Lua state; also of the returned text */
	double cpu_seconds;        /* CPU time: a backstop that steps should beat */
} TmplLimits;

/* Renders p, or the loop program lp when p is NULL; returns the number of
 * files or -1 after printing an error. */
int tmpl_render(const Prog *p, const LoopProg *lp, TmplOpts *o, TmplFile **files);
/* tmpl_render within other limits (lim may be NULL): for tests. */
int tmpl_render_limited(const Prog *p, const LoopProg *lp, TmplOpts *o, const TmplLimits *lim,
			TmplFile **files);
/* Built-in files (templates, the default model), embedded at build time. */
const char *tmpl_builtin(const char *name, size_t *len);

/* ---- emit.c: output files ---- */
/* Writes n texts to n paths ("-" is standard output) through the runtime's
 * out.c: every file flushed to disk before any replaces its target; exits
 * with an error naming the file on any failure. */
void emit_files(const char *const *paths, const char *const *texts, const size_t *lens, int n);
void emit_file(const char *path, const char *text, size_t len);

/* ---- compile.c: the pipeline ---- */
extern const char sg_version[];

/* The stages --stats times: time[k] is when stage k ended. */
enum { SG_T_START, SG_T_PARSE, SG_T_LOWER, SG_T_DIFF, SG_T_LOOPS, SG_T_UNROLL, SG_T_SCHED,
       SG_T_RENDER, SG_T_COUNT };

/* The functions beyond the gradient (gen --jacobian, --hessian, --hvp). */
enum { SG_JACOBIAN = 1, SG_HESSIAN = 2, SG_HVP = 4, SG_JVP = 8, SG_VJP = 16, SG_GNVP = 32,
       SG_HESSIAN_SPARSE = 64 };
#define SG_MAX_HESSIAN 1000      /* params of a dense Hessian: 10^6 entries */
#define SG_MAX_HESSIAN_SPARSE 20000 /* params of a sparse one: one sweep each */

/* What one compilation needs and makes. */
typedef struct Compile {
	Arena *arena;
	Source src;
	Dtype dtype;
	uint64_t seed;      /* --seed: random initial values */
	const char *dump;   /* --dump=STAGE, or NULL */
	int loops;          /* --loops: SG_LOOPS_AUTO, _ALWAYS or _NEVER */
	SgMath math;        /* --math: symgrad's own functions or <math.h>'s */
	int extra;          /* SG_JACOBIAN | SG_HESSIAN | ...: functions beyond the gradient */
	Model *model;
	LoopProg *loop;     /* the loop program, when loops were chosen */
	bool unrolled_too;  /* the unrolled program as well, in loop form */
	long estimate;      /* loop_estimate of the model */
	Tir *tir;           /* the tensor IR, forward and gradient */
	Dag *dag;
	Grad *grad;
	Prog *prog;
	double time[SG_T_COUNT]; /* when each stage ended, for --stats */
	bool ran[SG_T_COUNT];    /* which stages ran */
	long tmpl_steps;    /* the template's Lua instructions, for --stats */
	size_t tmpl_memory; /* and its peak memory */
} Compile;

double sg_seconds(void); /* a monotonic clock */

/* Runs lex..sched on c->src; false when --dump stopped it early. */
bool sg_compile(Compile *c);
/* Reads a whole file ("-" is stdin) into c->src, or exits with an error. */
void sg_read_source(Compile *c, const char *path);

#endif
