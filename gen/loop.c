/* loop.c: TEMPORARY stub while loop.c is rewritten on the tensor IR */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sg.h"

long loop_estimate(const Model *m)
{
	long ops = 0;
	/* every expression once: a binding's tree, each node by its size */
	for (int i = 0; i < m->n_lets; i++) {
		Symbol *s = m->lets[i];
		if (s->tensor && s->tensor->elems[0] != s)
			continue;
		const Expr *stack[SG_MAX_DEPTH * 2 + 16];
		int n = 0;
		stack[n++] = s->tensor ? s->tensor->value : s->value;
		while (n) {
			const Expr *e = stack[--n];
			switch (e->kind) {
			case E_MATMUL: {
				const Expr *x = e->args[0], *y = e->args[1];
				long rows = x->shape.rank == 2 ? x->shape.dim[0] : 1;
				long k = x->shape.dim[x->shape.rank - 1];
				long cols = y->shape.rank == 2 ? y->shape.dim[1] : 1;
				ops += rows * cols * (2 * k - 1);
				break;
			}
			case E_BUILTIN: ops += 4L * shape_size(e->args[0]->shape); break;
			/* a scalar operation has nothing to loop over: a chain of
			 * them stays unrolled, however long */
			case E_UNARY:
			case E_BINARY:
			case E_CALL:
				if (shape_size(e->shape) > 1)
					ops += shape_size(e->shape);
				break;
			default: break;
			}
			for (int k = 0; k < e->nargs && n < (int)(sizeof stack / sizeof *stack); k++)
				stack[n++] = e->args[k];
		}
	}
	return ops;
}

LoopProg *loop_build(Arena *a, Tir *t, Model *m)
{
	(void)a, (void)t, (void)m;
	diag_fatal("loop form: not yet rebuilt on the tensor IR");
}

void loop_dump(FILE *out, const LoopProg *p)
{
	(void)out, (void)p;
}
