/*
 * optim_tmpl.h: the optimizer updates for one real type, included by
 * optim.c once per type with REAL (double or float) and SFX (d or f).
 *
 * Every expression mirrors one PyTorch tensor operation on a tensor of
 * REAL, in PyTorch's order: a Python scalar enters a kernel converted to
 * REAL ((REAL)lr), and each operation rounds to REAL.  Scalars that PyTorch
 * computes in Python (bias corrections, 1 - beta) are computed in double.
 * Temporaries are separate statements so no compiler may fuse them (the
 * project also builds with -ffp-contract=off); where PyTorch's kernel is
 * fused, FMA (fma or fmaf) says so.
 */
#define SG_CAT_(a, b) a##_##b
#define SG_CAT(a, b) SG_CAT_(a, b)
#define FN(name) SG_CAT(name, SFX)

/* SGD as the lecture writes it, w.data = w.data - lr * w.grad.data: two
 * tensor operations, so lr*g is rounded before the subtraction.  (The
 * fused form of torch.optim.SGD, fma(-lr, g, p), can differ in the last
 * bit; the lecture's traces are the reference for plain SGD.) */
static void FN(sgd)(int n, REAL *restrict p, const REAL *restrict g, double lr)
{
	REAL a = (REAL)lr;
	int i = 0, c;

	/* 8 at a time: a loop of constant length, which the compiler
	 * vectorizes at -O2 (the same operations on each entry) */
	for (; i + 8 <= n; i += 8)
		for (c = 0; c < 8; c++) {
			REAL step = a * g[i + c];
			p[i + c] = p[i + c] - step;
		}
	for (; i < n; i++) {
		REAL step = a * g[i];
		p[i] = p[i] - step;
	}
}

/* Momentum (torch.optim.SGD, single-tensor path): buf = g on the first
 * step, then buf.mul_(momentum).add_(g); then param.add_(buf, alpha=-lr),
 * whose kernel computes p + alpha*buf with one fused rounding. */
static void FN(momentum)(int n, REAL *p, const REAL *g, REAL *buf,
			 int first, double lr, double momentum)
{
	REAL a = (REAL)-lr, mu = (REAL)momentum;
	int i;

	for (i = 0; i < n; i++) {
		if (first)
			buf[i] = g[i];
		else {
			REAL scaled = buf[i] * mu;
			buf[i] = scaled + g[i];
		}
		p[i] = FMA(a, buf[i], p[i]);
	}
}

/* Adam (torch.optim.Adam, single-tensor path), step t >= 1:
 *   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g
 *   step_size = lr / (1 - b1^t);  c2 = sqrt(1 - b2^t)
 *   denom = sqrt(v)/c2 + eps;  p = p + (-step_size*m)/denom
 * PyTorch's CPU kernels for add_(alpha=) and addcmul_ are built with FMA
 * (x86-64 AVX2 builds): m's update is one fma, v's is fma((1-b2)*g, g,
 * b2*v).  C99's fma/fmaf give the same single rounding on any machine.
 * addcdiv_ computes (value*m)/denom, not value*(m/denom). */
static void FN(adam)(int n, REAL *p, const REAL *g, REAL *m, REAL *v,
		     long t, const sg_optim_opts *o)
{
	double bc1 = 1.0 - pow(o->beta1, (double)t);
	double bc2 = 1.0 - pow(o->beta2, (double)t);
	REAL b1 = (REAL)o->beta1, a1 = (REAL)(1.0 - o->beta1);
	REAL b2 = (REAL)o->beta2, a2 = (REAL)(1.0 - o->beta2);
	REAL c2 = (REAL)sqrt(bc2), eps = (REAL)o->eps;
	REAL neg_step = (REAL)(-(o->lr / bc1));
	int i;

	for (i = 0; i < n; i++) {
		REAL m1 = m[i] * b1;
		REAL v1 = v[i] * b2, v2 = a2 * g[i];
		REAL root, denom, num, upd;
		m[i] = FMA(a1, g[i], m1);
		v[i] = FMA(v2, g[i], v1);
		root = SQRT(v[i]);
		denom = root / c2;
		denom = denom + eps;
		num = neg_step * m[i];
		upd = num / denom;
		p[i] = p[i] + upd;
	}
}

/* Coupled weight decay (torch.optim.SGD and Adam): the gradient becomes
 * grad.add(param, alpha=wd), one fused rounding, written to out. */
static const REAL *FN(coupled_decay)(int n, const REAL *p, const REAL *g,
				     REAL *out, double wd)
{
	REAL a = (REAL)wd;
	int i;

	for (i = 0; i < n; i++)
		out[i] = FMA(a, p[i], g[i]);
	return out;
}

/* AdamW's decoupled decay, param.mul_(1 - lr*wd): the factor is a Python
 * float (double), rounded to REAL by the kernel. */
static void FN(decoupled_decay)(int n, REAL *p, double lr, double wd)
{
	REAL f = (REAL)(1.0 - lr * wd);
	int i;

	for (i = 0; i < n; i++)
		p[i] = p[i] * f;
}

/* One step of o on p with gradient g. */
void FN(sg_optim_step)(sg_optim *o, REAL *p, const REAL *g)
{
	REAL *s = (REAL *)o->state;
	double wd = o->opts.weight_decay;

	o->t++;
	if (wd != 0 && o->opts.kind == SG_OPTIM_ADAMW)
		FN(decoupled_decay)(o->n, p, o->opts.lr, wd);
	else if (wd != 0)
		g = FN(coupled_decay)(o->n, p, g, (REAL *)o->wd_g, wd);
	switch (o->opts.kind) {
	case SG_OPTIM_SGD:
		FN(sgd)(o->n, p, g, o->opts.lr);
		break;
	case SG_OPTIM_MOMENTUM:
		FN(momentum)(o->n, p, g, s, o->t == 1, o->opts.lr,
			     o->opts.momentum);
		break;
	case SG_OPTIM_ADAM:
	case SG_OPTIM_ADAMW:
		FN(adam)(o->n, p, g, s, s + o->n, o->t, &o->opts);
		break;
	}
}

#undef FN
#undef SG_CAT
#undef SG_CAT_
