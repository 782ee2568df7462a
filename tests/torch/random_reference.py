#!/usr/bin/python3
"""Random small networks and PyTorch's derivatives of them, in float64.

Optional: needs Debian's python3-torch (1.13).  Writes, for a fixed seed,
tests/torch/random/rNN.sg (a model: one or two layers, an elementwise
function from a list at each, a loss from a list) and rNN.txt: the point
(`# at:`), a tangent and a cotangent (`# jvp:`, `# vjp:`) and PyTorch's
Jacobian of the outputs, Hessian of the loss, JVP, VJP and HVP there, in the
format of tests/torch/second/*.txt, which tests/torch/second_compare.sh
compares with `symgrad eval`.  The tests read the committed files; they
never run this.

Then, from a second seed, COUNT_RNN recurrent models, tests/torch/random/rnNN.sg
and .txt alike: an Elman cell of a random activation over 2 to 4 steps
(symgrad's scan; PyTorch's autograd through the same loop), h0 zeros or a
param, a loss summed over the steps (map).

Run from the repository root: /usr/bin/python3 tests/torch/random_reference.py
"""
import os
import random

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "torch", "random")
SEED = 20261130
COUNT = 12
CONV_COUNT = 4  # then rc00..: conv2d and a pool (their own generator, seed SEED + 1)
COUNT_RNN = 6
POOL_COUNT = 4  # then rp00..: conv2d, then a pool with padding (seed SEED + 2)

# (symgrad, PyTorch) elementwise functions, smooth everywhere they are used
ACTS = [("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("softplus", F.softplus),
        ("sin", torch.sin), ("atan", torch.atan), ("erf", torch.erf),
        ("softsign", F.softsign), ("silu", F.silu), ("gelu", F.gelu),
        ("asinh", torch.asinh), ("square", torch.square), ("exp", torch.exp)]


def t(v):
    return torch.tensor(v, dtype=torch.float64)


def r(rng, lo=-1.0, hi=1.0):
    return round(rng.uniform(lo, hi), 3)


def matrix_text(rows):
    return "[" + ",".join("[" + ",".join(repr(v) for v in row) + "]" for row in rows) + "]"


def vector_text(v):
    return "[" + ",".join(repr(x) for x in v) + "]"


def make(k, rng):
    n0, n1 = rng.randint(2, 4), rng.randint(2, 4)
    two = rng.random() < 0.6
    n2 = rng.randint(1, 3) if two else n1
    a1, a2 = rng.choice(ACTS), rng.choice(ACTS)
    loss_kind = rng.choice(["bce", "squares", "logsumexp"])
    W1 = [[r(rng) for _ in range(n0)] for _ in range(n1)]
    b1 = [r(rng) for _ in range(n1)]
    W2 = [[r(rng) for _ in range(n1)] for _ in range(n2)] if two else None
    x = [r(rng, -2, 2) for _ in range(n0)]
    y = round(rng.uniform(0.1, 0.9), 3)
    lines = ["# random model %d of tests/torch/random_reference.py (seed %d)" % (k, SEED),
             "model r%02d" % k, "input x[%d], y" % n0,
             "param W1[%d, %d] ~ uniform(-1, 1), b1[%d] ~ uniform(-1, 1)" % (n1, n0, n1)]
    if two:
        lines.append("param W2[%d, %d] ~ uniform(-1, 1)" % (n2, n1))
    lines.append("h = %s(W1 @ x + b1)" % a1[0])
    lines.append("z = %s(W2 @ h)" % a2[0] if two else "z = %s(h) * h" % a2[0])
    if loss_kind == "bce":
        lines.append("p = sigmoid(sum(z))")
        lines.append("loss = bce(p, y)")
        out = "p"
    elif loss_kind == "squares":
        lines.append("loss = sum((z - y)^2)")
        out = "z"
    else:
        lines.append("loss = logsumexp(z) - y * sum(z)")
        out = "z"
    lines.append("output %s" % out)
    names = (["W1[%d,%d]" % (i, j) for i in range(n1) for j in range(n0)] +
             ["b1[%d]" % i for i in range(n1)] +
             (["W2[%d,%d]" % (i, j) for i in range(n2) for j in range(n1)] if two else []))
    pvals = ([v for row in W1 for v in row] + b1 + ([v for row in W2 for v in row] if two else []))
    xnames = ["x[%d]" % i for i in range(n0)] + ["y"]
    outs = ["p"] if out == "p" else ["z[%d]" % i for i in range(n2)]

    def forward(p, xi):
        k1 = n1 * n0
        w1 = p[:k1].reshape(n1, n0)
        bb = p[k1:k1 + n1]
        h = a1[1](w1 @ xi[:n0] + bb)
        if two:
            w2 = p[k1 + n1:].reshape(n2, n1)
            z = a2[1](w2 @ h)
        else:
            z = a2[1](h) * h
        if loss_kind == "bce":
            pp = torch.sigmoid(z.sum())
            yy = xi[n0]
            loss = -(yy * torch.log(pp) + (1 - yy) * torch.log(1 - pp))
            return loss, pp.reshape(1)
        if loss_kind == "squares":
            return ((z - xi[n0]) ** 2).sum(), z
        return torch.logsumexp(z, 0) - xi[n0] * z.sum(), z

    at = "x=%s,y=%r,W1=%s,b1=%s" % (vector_text(x), y, matrix_text(W1), vector_text(b1))
    if two:
        at += ",W2=%s" % matrix_text(W2)
    return "\n".join(lines) + "\n", at, forward, names, pvals, xnames, x + [y], outs


def conv_names(K, b, W2, n_x):
    """The names and values of a conv model's K, b, W2; its inputs' and
    outputs' names."""
    O, nk, n_out, nf = len(K), len(K[0]), len(W2), len(W2[0])
    names = (["K[%d,%d]" % (i, j) for i in range(O) for j in range(nk)] +
             ["b[%d]" % i for i in range(O)] +
             ["W2[%d,%d]" % (i, j) for i in range(n_out) for j in range(nf)])
    pvals = [v for row in K for v in row] + b + [v for row in W2 for v in row]
    xnames = ["x[%d]" % i for i in range(n_x)] + ["y"]
    return names, pvals, xnames, ["z[%d]" % i for i in range(n_out)]


def make_conv(k, rng):
    """x [C*H*W] read as an image, conv2d with a bias, a stride and padding,
    an activation, a max or average pool when the image allows, a layer."""
    C, H, W = rng.randint(1, 2), rng.randint(4, 6), rng.randint(4, 6)
    O, kk, st, pad = rng.randint(1, 3), rng.randint(2, 3), rng.randint(1, 2), rng.randint(0, 1)
    oh, ow = (H + 2 * pad - kk) // st + 1, (W + 2 * pad - kk) // st + 1
    pool = rng.choice(["maxpool2d", "avgpool2d"]) if min(oh, ow) >= 2 else None
    ph, pw = (oh // 2, ow // 2) if pool else (oh, ow)
    n_out = rng.randint(1, 3)
    a1, a2 = rng.choice(ACTS[:9]), rng.choice(ACTS[:9])
    nk, nf = C * kk * kk, O * ph * pw
    K = [[r(rng) for _ in range(nk)] for _ in range(O)]
    b = [r(rng) for _ in range(O)]
    W2 = [[r(rng) for _ in range(nf)] for _ in range(n_out)]
    x = [r(rng, -2, 2) for _ in range(C * H * W)]
    y = round(rng.uniform(0.1, 0.9), 3)
    conv = "conv2d(reshape(x, %d, %d, %d), reshape(K, %d, %d, %d, %d), b, %d, %d)" % (
        C, H, W, O, C, kk, kk, st, pad)
    lines = ["# random conv model %d of tests/torch/random_reference.py (seed %d)" % (k, SEED + 1),
             "model rc%02d" % k, "input x[%d], y" % (C * H * W),
             "param K[%d, %d] ~ uniform(-1, 1), b[%d] ~ uniform(-1, 1)" % (O, nk, O),
             "param W2[%d, %d] ~ uniform(-1, 1)" % (n_out, nf),
             "h = %s(%s)" % (a1[0], conv)]
    lines.append("p = %s(h, 2)" % pool if pool else "p = h")
    lines += ["z = %s(W2 @ flatten(p))" % a2[0], "loss = logsumexp(z) - y * sum(z)", "output z"]
    names, pvals, xnames, outs = conv_names(K, b, W2, C * H * W)

    def forward(p, xi):
        kw = p[:O * nk].reshape(O, C, kk, kk)
        bb = p[O * nk:O * nk + O]
        w2 = p[O * nk + O:].reshape(n_out, nf)
        h = a1[1](F.conv2d(xi[:C * H * W].reshape(1, C, H, W), kw, bb, st, pad))
        if pool == "maxpool2d":
            h = F.max_pool2d(h, 2)
        elif pool == "avgpool2d":
            h = F.avg_pool2d(h, 2)
        z = a2[1](w2 @ h.reshape(-1))
        return torch.logsumexp(z, 0) - xi[C * H * W] * z.sum(), z

    at = "x=%s,y=%r,K=%s,b=%s,W2=%s" % (vector_text(x), y, matrix_text(K), vector_text(b),
                                       matrix_text(W2))
    return "\n".join(lines) + "\n", at, forward, names, pvals, xnames, x + [y], outs
def make_pool(k, rng):
    """x [C*H*W] read as an image, conv2d (2 x 2, stride 1, no padding) with a
    bias, an activation, then a max or average pool WITH padding (window 2 or
    3, stride 1 or 2, padding 1 up to half the window), a layer."""
    C, H, W = rng.randint(1, 2), rng.randint(4, 5), rng.randint(4, 5)
    O, kk = 1, 2
    oh, ow = H - 1, W - 1
    pool = ["maxpool2d", "avgpool2d"][k % 2]
    pk, ps = rng.randint(2, 3), rng.randint(1, 2)
    pp = rng.randint(1, pk // 2)
    ph, pw = (oh + 2 * pp - pk) // ps + 1, (ow + 2 * pp - pk) // ps + 1
    n_out = 1
    a1, a2 = rng.choice(ACTS[:9]), rng.choice(ACTS[:9])
    if pool == "maxpool2d":  # values of both signs: a window all below 0 must not see 0
        a1 = rng.choice([a for a in ACTS if a[0] in ("tanh", "sin", "atan", "erf", "softsign")])
    nk, nf = C * kk * kk, O * ph * pw
    K = [[r(rng) for _ in range(nk)] for _ in range(O)]
    b = [r(rng) for _ in range(O)]
    W2 = [[r(rng) for _ in range(nf)] for _ in range(n_out)]
    x = [r(rng, -2, 2) for _ in range(C * H * W)]
    y = round(rng.uniform(0.1, 0.9), 3)
    conv = "conv2d(reshape(x, %d, %d, %d), reshape(K, %d, %d, %d, %d), b)" % (
        C, H, W, O, C, kk, kk)
    lines = ["# random pooling model %d of tests/torch/random_reference.py (seed %d)" % (k, SEED + 2),
             "model rp%02d" % k, "input x[%d], y" % (C * H * W),
             "param K[%d, %d] ~ uniform(-1, 1), b[%d] ~ uniform(-1, 1)" % (O, nk, O),
             "param W2[%d, %d] ~ uniform(-1, 1)" % (n_out, nf),
             "h = %s(%s)" % (a1[0], conv),
             "p = %s(h, %d, %d, %d)" % (pool, pk, ps, pp),
             "z = %s(W2 @ flatten(p))" % a2[0], "loss = logsumexp(z) - y * sum(z)", "output z"]
    names, pvals, xnames, outs = conv_names(K, b, W2, C * H * W)

    def forward(p, xi):
        kw = p[:O * nk].reshape(O, C, kk, kk)
        bb = p[O * nk:O * nk + O]
        w2 = p[O * nk + O:].reshape(n_out, nf)
        h = a1[1](F.conv2d(xi[:C * H * W].reshape(1, C, H, W), kw, bb))
        if pool == "maxpool2d":
            h = F.max_pool2d(h, pk, ps, pp)
        else:
            h = F.avg_pool2d(h, pk, ps, pp)
        z = a2[1](w2 @ h.reshape(-1))
        return torch.logsumexp(z, 0) - xi[C * H * W] * z.sum(), z

    at = "x=%s,y=%r,K=%s,b=%s,W2=%s" % (vector_text(x), y, matrix_text(K), vector_text(b),
                                       matrix_text(W2))
    return "\n".join(lines) + "\n", at, forward, names, pvals, xnames, x + [y], outs


def make_rnn(k, rng):
    T, n_in, n_h = rng.randint(2, 4), rng.randint(2, 3), rng.randint(2, 3)
    act = rng.choice(ACTS[:9])
    learned_h0 = rng.random() < 0.5
    loss_kind = rng.choice(["squares", "logsumexp"])
    Wih = [[r(rng) for _ in range(n_in)] for _ in range(n_h)]
    Whh = [[r(rng) for _ in range(n_h)] for _ in range(n_h)]
    b = [r(rng) for _ in range(n_h)]
    h0 = [r(rng) for _ in range(n_h)] if learned_h0 else None
    xs = [[r(rng, -2, 2) for _ in range(n_in)] for _ in range(T)]
    ys = [[r(rng) for _ in range(n_h)] for _ in range(T)]
    lines = ["# random recurrent model %d of tests/torch/random_reference.py (seed %d)"
             % (k, SEED + 1), "model rn%02d" % k,
             "input xs[%d, %d], ys[%d, %d]" % (T, n_in, T, n_h),
             "param W_ih[%d, %d] ~ uniform(-1, 1), W_hh[%d, %d] ~ uniform(-1, 1), b[%d] ~ uniform(-1, 1)"
             % (n_h, n_in, n_h, n_h, n_h)]
    if learned_h0:
        lines.append("param h0[%d] ~ uniform(-1, 1)" % n_h)
    lines.append("def cell(h, x) = %s(W_ih @ x + b + W_hh @ h)" % act[0])
    if loss_kind == "squares":
        lines.append("def step(h, y) = sum((h - y)^2)")
    else:
        lines.append("def step(h, y) = logsumexp(h) - dot(y, h)")
    lines.append("hs = scan(cell, %s, xs)" % ("h0" if learned_h0 else "zeros(%d)" % n_h))
    lines.append("loss = sum(map(step, hs, ys))")
    lines.append("output hs")
    names = (["W_ih[%d,%d]" % (i, j) for i in range(n_h) for j in range(n_in)] +
             ["W_hh[%d,%d]" % (i, j) for i in range(n_h) for j in range(n_h)] +
             ["b[%d]" % i for i in range(n_h)] +
             (["h0[%d]" % i for i in range(n_h)] if learned_h0 else []))
    pvals = ([v for row in Wih for v in row] + [v for row in Whh for v in row] + b +
             (h0 if learned_h0 else []))
    xnames = (["xs[%d,%d]" % (t_, j) for t_ in range(T) for j in range(n_in)] +
              ["ys[%d,%d]" % (t_, j) for t_ in range(T) for j in range(n_h)])
    outs = ["hs[%d,%d]" % (t_, j) for t_ in range(T) for j in range(n_h)]

    def forward(p, xi):
        k1, k2 = n_h * n_in, n_h * n_in + n_h * n_h
        wih, whh = p[:k1].reshape(n_h, n_in), p[k1:k2].reshape(n_h, n_h)
        bb = p[k2:k2 + n_h]
        h = p[k2 + n_h:] if learned_h0 else torch.zeros(n_h, dtype=torch.float64)
        x_ = xi[:T * n_in].reshape(T, n_in)
        y_ = xi[T * n_in:].reshape(T, n_h)
        hs, loss = [], 0
        for t_ in range(T):
            h = act[1](wih @ x_[t_] + bb + whh @ h)
            hs.append(h)
            if loss_kind == "squares":
                loss = loss + ((h - y_[t_]) ** 2).sum()
            else:
                loss = loss + torch.logsumexp(h, 0) - (y_[t_] * h).sum()
        return loss, torch.cat(hs)

    at = "xs=%s,ys=%s,W_ih=%s,W_hh=%s,b=%s" % (matrix_text(xs), matrix_text(ys), matrix_text(Wih),
                                               matrix_text(Whh), vector_text(b))
    if learned_h0:
        at += ",h0=%s" % vector_text(h0)
    xvals = [v for row in xs for v in row] + [v for row in ys for v in row]
    return "\n".join(lines) + "\n", at, forward, names, pvals, xnames, xvals, outs


def spec(names, vals):
    return ",".join("%s=%r" % (n, float(v)) for n, v in zip(names, vals))


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    # each kind draws its models, points and directions from its own stream
    rng = random.Random(SEED)
    conv_rng, rng_rnn = random.Random(SEED + 1), random.Random(SEED + 1)
    cases = [("r%02d" % k, make, k, rng) for k in range(COUNT)]
    cases += [("rc%02d" % k, make_conv, k, conv_rng) for k in range(CONV_COUNT)]
    cases += [("rn%02d" % k, make_rnn, k, rng_rnn) for k in range(COUNT_RNN)]
    pool_rng = random.Random(SEED + 2)
    cases += [("rp%02d" % k, make_pool, k, pool_rng) for k in range(POOL_COUNT)]
    for case, make_case, k, rng in cases:
        text, at, forward, names, pvals, xnames, xvals, outs = make_case(k, rng)
        p, x = t(pvals), t(xvals)
        jac = torch.autograd.functional.jacobian
        jp = jac(lambda q: forward(q, x)[1], p)
        jx = jac(lambda xi: forward(p, xi)[1], x)
        hs = torch.autograd.functional.hessian(lambda q: forward(q, x)[0], p)
        both = lambda q, xi: torch.cat([forward(q, xi)[0].reshape(1), forward(q, xi)[1]])
        dp = t([r(rng) for _ in pvals])
        dx = t([r(rng) for _ in xvals])
        ct = t([r(rng) for _ in range(1 + len(outs))])
        _, tan = torch.autograd.functional.jvp(both, (p, x), (dp, dx))
        _, (gp, gx) = torch.autograd.functional.vjp(both, (p, x), ct)
        lines = ["d%s/d%s = %r" % (o, names[j], float(jp[i, j]))
                 for i, o in enumerate(outs) for j in range(len(names))]
        lines += ["d%s/d%s = %r" % (o, xnames[j], float(jx[i, j]))
                  for i, o in enumerate(outs) for j in range(len(xnames))]
        lines += ["d2loss/d%s d%s = %r" % (names[i], names[j], float(hs[i, j]))
                  for i in range(len(names)) for j in range(len(names))]
        lines += ["jvp %s = %r" % (n, float(v)) for n, v in zip(["loss"] + outs, tan)]
        lines += ["vjp %s = %r" % (n, float(v)) for n, v in zip(names, gp)]
        lines += ["vjp %s = %r" % (n, float(v)) for n, v in zip(xnames, gx)]
        _, hv = torch.autograd.functional.hvp(lambda q: forward(q, x)[0], p, dp)
        lines += ["hvp %s = %r" % (n, float(v)) for n, v in zip(names, hv)]
        base = os.path.join(OUT, case)
        with open(base + ".sg", "w") as f:
            f.write(text)
        head = "# PyTorch %s, float64 (tests/torch/random_reference.py)\n" % torch.__version__
        head += "# model: tests/torch/random/%s.sg\n# at: %s\n" % (case, at)
        head += "# jvp: %s\n# vjp: %s\n# hvp: %s\n" % (spec(names + xnames, list(dp) + list(dx)),
                                                        spec(["loss"] + outs, ct), spec(names, dp))
        with open(base + ".txt", "w") as f:
            f.write(head + "".join(l + "\n" for l in lines))


if __name__ == "__main__":
    main()
