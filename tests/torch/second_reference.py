#!/usr/bin/python3
"""PyTorch's Jacobians and Hessians of symgrad models, in float64.

Optional: needs Debian's python3-torch (1.13). The tests never run this; they
read what it writes, tests/torch/second/CASE.txt (committed), each a header

  # model: PATH          the model file, from the repository root
  # at: SPEC             eval's --at
  # params: PATH         eval's --params (optional)

  # jvp: SPEC            eval's --jvp, a tangent of params and inputs (optional)
  # vjp: SPEC            eval's --vjp, a cotangent of loss and outputs (optional)
  # hvp: SPEC            eval's --hvp, a direction of the params (optional)

and lines exactly as `symgrad eval --jacobian --hessian --jvp --vjp` prints
them, "dOUT/dVAR = V" (torch.autograd.functional.jacobian),
"d2loss/dA dB = V" (torch.autograd.functional.hessian), "jvp OUT = V"
(torch.autograd.functional.jvp of the loss and the outputs) and "vjp VAR = V"
(torch.autograd.functional.vjp, to params and inputs) and "hvp VAR = V"
(torch.autograd.functional.hvp of the loss in the params), every number
Python's repr of a float64.  tests/torch/second_compare.sh compares them.

Run from the repository root: /usr/bin/python3 tests/torch/second_reference.py
"""
import math
import os

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "torch", "second")
jac = torch.autograd.functional.jacobian
hess = torch.autograd.functional.hessian


def read_params(path):
    vals = []
    with open(os.path.join(ROOT, path)) as f:
        for line in f:
            w = line.split()
            if len(w) == 2 and w[0] not in ("symgrad-params", "model", "checksum"):
                vals.append((w[0], float(w[1])))
    return vals


def write(case, model, at, params, jac_lines, hess_lines, directional=None):
    head = "# PyTorch %s, float64 (tests/torch/second_reference.py)\n" % torch.__version__
    head += "# model: %s\n# at: %s\n" % (model, at)
    if params:
        head += "# params: %s\n" % params
    more = []
    if directional:
        head += "# jvp: %s\n# vjp: %s\n# hvp: %s\n" % (directional[0], directional[1],
                                                        directional[3])
        more = directional[2]
    with open(os.path.join(OUT, case + ".txt"), "w") as f:
        f.write(head + "".join(l + "\n" for l in jac_lines + hess_lines + more))


def spec(names, vals):
    return ",".join("%s=%r" % (n, float(v)) for n, v in zip(names, vals))


def directional(f, p, x, outs, pnames, xnames):
    """Forward mode along a fixed tangent of p and x, reverse mode from a
    fixed cotangent of the loss and the outputs: f(p, x) is the loss
    followed by the outputs, as one vector."""
    dp = t([((7 * i) % 11 - 5) / 4 for i in range(len(p))])
    dx = t([((5 * i) % 9 - 4) / 8 for i in range(len(x))])
    ct = t([0.75] + [((3 * o) % 5 - 2) / 2 for o in range(len(outs))])
    _, tan = torch.autograd.functional.jvp(f, (p, x), (dp, dx))
    _, (gp, gx) = torch.autograd.functional.vjp(f, (p, x), ct)
    _, hv = torch.autograd.functional.hvp(lambda q: f(q, x)[0], p, dp)
    lines = ["jvp %s = %r" % (n, float(v)) for n, v in zip(["loss"] + outs, tan)]
    lines += ["vjp %s = %r" % (n, float(v)) for n, v in zip(pnames, gp)]
    lines += ["vjp %s = %r" % (n, float(v)) for n, v in zip(xnames, gx)]
    lines += ["hvp %s = %r" % (n, float(v)) for n, v in zip(pnames, hv)]
    return (spec(pnames + xnames, list(dp) + list(dx)), spec(["loss"] + outs, ct), lines,
            spec(pnames, dp))


def both(out, loss):
    return lambda p, x: torch.cat([loss(p, x).reshape(1), out(p, x)])


def hess_lines(f, p, names):
    h = hess(f, p)
    return ["d2loss/d%s d%s = %r" % (names[i], names[j], float(h[i, j]))
            for i in range(len(names)) for j in range(len(names))]


def jac_lines(f, p, x, outs, pnames, xnames):
    jp = jac(lambda q: f(q, x), p)
    jx = jac(lambda y: f(p, y), x)
    lines = ["d%s/d%s = %r" % (o, pnames[j], float(jp[i, j]))
             for i, o in enumerate(outs) for j in range(len(pnames))]
    lines += ["d%s/d%s = %r" % (o, xnames[j], float(jx[i, j]))
              for i, o in enumerate(outs) for j in range(len(xnames))]
    return lines


def bce(p, y):
    """BCELoss away from its clamps, as log terms: autograd differentiates
    them twice exactly; F.binary_cross_entropy's own double backward is off
    by up to 7e-12 relative (d2/dz2 of bce(sigmoid(z)) is p (1 - p): at
    p = 0.45324026598869677, 0.24781352727519217 to 40 digits; symgrad
    0.2478135272751922, F.binary_cross_entropy 0.2478135272735343)."""
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


def t(v):
    return torch.tensor(v, dtype=torch.float64)


def linear():
    def out(p, x):
        return torch.stack([x[0] * p[0]])

    def loss(p, x):
        return (out(p, x)[0] - x[1]) ** 2
    p, x = t([1.0]), t([2.0, 4.0])
    write("linear", "examples/lecture04/linear.sg", "x=2,y=4,w=1", None,
          jac_lines(out, p, x, ["yhat"], ["w"], ["x", "y"]),
          hess_lines(lambda q: loss(q, x), p, ["w"]),
          directional(both(out, loss), p, x, ["yhat"], ["w"], ["x", "y"]))


def pendulum():
    def out(p, x):
        h, g, l = p[0], p[1], p[2]
        theta, omega, u = x[0], x[1], x[2]
        return torch.stack([theta + h * omega, omega - h * (g / l) * torch.sin(theta) + h * u])

    def loss(p, x):
        o = out(p, x)
        return o[0] ** 2 + o[1] ** 2
    p, x = t([0.05, 9.81, 1.0]), t([0.3, -0.5, 0.1])
    write("pendulum", "examples/pendulum/pendulum.sg", "theta=0.3,omega=-0.5,u=0.1", None,
          jac_lines(out, p, x, ["theta1", "omega1"], ["h", "g", "l"], ["theta", "omega", "u"]),
          hess_lines(lambda q: loss(q, x), p, ["h", "g", "l"]),
          directional(both(out, loss), p, x, ["theta1", "omega1"], ["h", "g", "l"],
                      ["theta", "omega", "u"]))


def first_row(path):
    with open(os.path.join(ROOT, path)) as f:
        for line in f:
            try:
                return [float(v) for v in line.strip().split(",")]
            except ValueError:
                continue  # a header


def logistic():
    pv = read_params("examples/lecture06_logistic/torch_init.params")
    names = [n for n, _ in pv]
    row = first_row("examples/lecture06_logistic/data.csv")

    def out(p, x):
        return torch.stack([torch.sigmoid(p[0] * x[0] + p[1])])

    def loss(p, x):
        return bce(out(p, x), x[1:2])
    p, x = t([v for _, v in pv]), t(row)
    at = "x=%r,y=%r" % tuple(row)
    write("logistic", "examples/lecture06_logistic/logistic.sg", at,
          "examples/lecture06_logistic/torch_init.params",
          jac_lines(out, p, x, ["p"], names, ["x", "y"]),
          hess_lines(lambda q: loss(q, x), p, names),
          directional(both(out, loss), p, x, ["p"], names, ["x", "y"]))


def diabetes():
    pv = read_params("examples/lecture07_diabetes/torch_init.params")
    names = [n for n, _ in pv]
    row = first_row("examples/lecture07_diabetes/diabetes.csv")
    sizes = [(6, 8), (4, 6), (1, 4)]

    def out(p, x):
        h, k = x[:8], 0
        for r, c in sizes:
            w = p[k:k + r * c].reshape(r, c)
            b = p[k + r * c:k + r * c + r]
            k += r * c + r
            h = torch.sigmoid(w @ h + b)
        return h

    def loss(p, x):
        return bce(out(p, x), x[8:9])
    p, x = t([v for _, v in pv]), t(row)
    at = "x=[%s],y=%r" % (",".join(repr(v) for v in row[:8]), row[8])
    write("diabetes", "examples/lecture07_diabetes/diabetes.sg", at,
          "examples/lecture07_diabetes/torch_init.params",
          jac_lines(out, p, x, ["p[0]"], names,
                    ["x[%d]" % i for i in range(8)] + ["y"]),
          hess_lines(lambda q: loss(q, x), p, names),
          directional(both(out, loss), p, x, ["p[0]"], names,
                      ["x[%d]" % i for i in range(8)] + ["y"]))


def digits():
    """Lecture 9's 64->32->10 network: 2,410 params, too many for the dense
    Hessian's check; its JVP, VJP and HVP."""
    pv = read_params("examples/lecture09_softmax/torch_init.params")
    names = [n for n, _ in pv]
    row = first_row("examples/lecture09_softmax/digits.csv")

    def logits(p, x):
        w1, b1 = p[:2048].reshape(32, 64), p[2048:2080]
        w2, b2 = p[2080:2400].reshape(10, 32), p[2400:2410]
        return w2 @ torch.relu(w1 @ (x[:64] / 16) + b1) + b2

    def out(p, x):
        return torch.softmax(logits(p, x), 0)

    def loss(p, x):
        return F.cross_entropy(logits(p, x).reshape(1, 10), x[64:65].long())
    p, x = t([v for _, v in pv]), t(row)
    at = "x=[%s],label=%r" % (",".join(repr(v) for v in row[:64]), row[64])
    write("digits", "examples/lecture09_softmax/softmax.sg", at,
          "examples/lecture09_softmax/torch_init.params", [], [],
          directional(both(out, loss), p, x, ["probs[%d]" % i for i in range(10)], names,
                      ["x[%d]" % i for i in range(64)] + ["label"]))


def michaelis_menten():
    def out(p, x):
        vhat = p[0] * x[0] / (p[1] + x[0])
        return torch.stack([vhat, vhat - x[1]])

    def loss(p, x):
        return out(p, x)[1] ** 2
    p, x = t([1.3, 0.7]), t([2.0, 1.1])
    write("michaelis_menten", "examples/michaelis_menten/mm.sg", "s=2,v=1.1,vmax=1.3,km=0.7",
          None, jac_lines(out, p, x, ["vhat", "r"], ["vmax", "km"], ["s", "v"]),
          hess_lines(lambda q: loss(q, x), p, ["vmax", "km"]),
          directional(both(out, loss), p, x, ["vhat", "r"], ["vmax", "km"], ["s", "v"]))


FUNCS = [
    ("atan", torch.atan), ("asin", torch.asin), ("acos", torch.acos), ("sinh", torch.sinh),
    ("cosh", torch.cosh), ("asinh", torch.asinh), ("acosh", torch.acosh),
    ("atanh", torch.atanh), ("log1p", torch.log1p), ("expm1", torch.expm1),
    ("log2", torch.log2), ("exp2", torch.exp2), ("erf", torch.erf), ("erfc", torch.erfc),
    ("cbrt", lambda x: torch.sign(x) * torch.abs(x).pow(1.0 / 3.0)),
    ("square", torch.square), ("gelu", F.gelu), ("silu", F.silu), ("elu", F.elu),
    ("logsigmoid", F.logsigmoid),
]
BINARY = [("atan2", torch.atan2), ("hypot", torch.hypot),
          ("leaky_relu", lambda x, a: F.relu(x) - a * F.relu(-x))]
# each function's own point: inside its domain, away from kinks
POINTS = {
    "a": {"acosh": 2.0, "default": 0.5, "atan2": (0.5, 0.5), "hypot": (0.5, 0.5),
          "leaky_relu": (0.5, 0.5)},
    "b": {"acosh": 1.5, "log2": 3.0, "log1p": 2.0, "default": -0.3, "cbrt": -2.0,
          "atan2": (-0.7, 1.3), "hypot": (3.0, -4.0), "leaky_relu": (-1.5, 0.2)},
    "c": {"acosh": 10.0, "asin": 0.9, "acos": -0.9, "atanh": 0.95, "log1p": 30.0,
          "log2": 1e-3, "default": 2.5, "cbrt": 27.0, "elu": -4.0,
          "atan2": (2.0, -0.5), "hypot": (1e-3, 2.0), "leaky_relu": (3.0, 0.1)},
}


def functions():
    for label, pts in POINTS.items():
        names, vals = [], []
        for name, _ in FUNCS:
            names.append(name + "_x")
            vals.append(pts.get(name, pts["default"]))
        for name, _ in BINARY:
            names += [name + "_x", name + "_y"]
            vals += list(pts[name])

        def loss(p):
            s = 0
            for i, (_, fn) in enumerate(FUNCS):
                s = s + fn(p[i])
            k = len(FUNCS)
            for i, (_, fn) in enumerate(BINARY):
                s = s + fn(p[k + 2 * i], p[k + 2 * i + 1])
            return s
        at = ",".join("%s=%r" % (n, v) for n, v in zip(names, vals))
        write("functions_" + label, "tests/gradcheck/models/torch_functions.sg", at, None, [],
              hess_lines(loss, t(vals), names))


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    linear()
    pendulum()
    logistic()
    diabetes()
    michaelis_menten()
    digits()
    functions()


if __name__ == "__main__":
    main()
