#!/usr/bin/python3
"""PyTorch's elementwise functions and their derivatives, in float64.

Optional: needs Debian's python3-torch (1.13). The tests never run this; they
read what it writes, tests/torch/functions_torch.txt, which is committed:

  NAME X VALUE DVALUE/DX                  a function of one operand
  NAME X Y VALUE DVALUE/DX DVALUE/DY      of two

one point a line, every number Python's repr of a float64 (17 significant
digits at most, exactly the double; inf, -inf and nan as such).  Each value is
the function of a one-element tensor, so that PyTorch computes it with its
scalar loop (std:: <math.h> functions), and each derivative is
torch.autograd's.  gradcheck_test.c (functions_match_pytorch) compares the
generated C of tests/gradcheck/models/torch_functions.sg with it.

Where PyTorch has no such function or no derivative, the reference is made
of PyTorch operations:
  cbrt             sign(x) |x|^(1/3) (torch.pow; torch 1.13 has no cbrt), away from 0
  leaky_relu       F.leaky_relu(x, a) for the value and d/dx; d/da (the slope is a
                   Python number there) from relu(x) - a relu(-x), the same function
elu's points stay off (-0.5, 0): PyTorch 1.13 computes elu as exp(x) - 1 there,
not expm1(x) (F.elu(-1e-10) = -1.000000082740371e-10; the function is
-9.9999999995e-11), where symgrad's expm1 is right.

Run from the repository root: /usr/bin/python3 tests/torch/functions_reference.py
"""
import math
import os

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "torch", "functions_torch.txt")

INF, NAN = math.inf, math.nan
# the whole line: tiny and huge, both signs, infinities, NaN
LINE = [-INF, -800.0, -30.0, -5.0, -1.5, -0.5, -1e-8, -0.0, 0.0, 1e-300, 1e-8, 0.3, 1.0, 2.5,
        10.0, 30.0, 800.0, INF, NAN]
UNIT = [-1.0, -0.999999, -0.7, -0.5, -1e-8, 0.0, 1e-8, 0.3, 0.5, 0.999999, 1.0, -1.5, 1.5, NAN]

UNARY = [
    ("atan", torch.atan, LINE),
    ("asin", torch.asin, UNIT),
    ("acos", torch.acos, UNIT),
    ("sinh", torch.sinh, [v for v in LINE if abs(v) != 800.0] + [700.0, -700.0]),
    ("cosh", torch.cosh, [v for v in LINE if abs(v) != 800.0] + [700.0, -700.0]),
    ("asinh", torch.asinh, LINE),
    ("acosh", torch.acosh, [0.5, 1.0, 1.000001, 1.5, 2.0, 10.0, 1e10, INF, NAN]),
    ("atanh", torch.atanh, UNIT),
    ("log1p", torch.log1p, [-2.0, -1.0, -0.999999, -0.5, -1e-8, 0.0, 1e-300, 1e-8, 0.5, 3.0,
                            1e10, INF, NAN]),
    ("expm1", torch.expm1, LINE),
    ("log2", torch.log2, [-1.0, 0.0, 1e-300, 0.25, 0.5, 1.0, 3.0, 1e10, INF, NAN]),
    ("exp2", torch.exp2, LINE),
    ("erf", torch.erf, LINE),
    ("erfc", torch.erfc, LINE),
    ("cbrt", lambda x: torch.sign(x) * torch.abs(x).pow(1.0 / 3.0),
     [-INF, -8.0, -2.0, -1.0, -1e-9, 1e-9, 0.3, 2.0, 27.0, 1000.0, INF, NAN]),
    ("square", torch.square, LINE + [1e200]),
    ("gelu", F.gelu, LINE),
    ("silu", F.silu, LINE),
    ("elu", F.elu, [-INF, -800.0, -30.0, -5.0, -1.5, -0.5, -0.0, 0.0, 1e-300, 1e-8, 0.3,
                    1.0, 800.0, INF, NAN]),
    ("logsigmoid", F.logsigmoid, LINE),
]

PAIRS = [(0.0, 1.0), (1.0, 0.0), (1.0, 1.0), (-1.0, -1.0), (0.5, -2.0), (-0.5, -2.0),
         (0.0, -1.0), (-0.0, -1.0), (3.0, 4.0), (1e-200, 1e-200), (1e200, 1e200), (0.0, 0.0),
         (INF, 1.0), (1.0, INF), (NAN, 1.0)]
SLOPES = [(-2.0, 0.01), (-2.0, 0.2), (-0.0, 0.1), (0.0, 0.1), (3.0, 0.1), (-1e-300, 0.5),
          (0.5, -0.3), (-0.5, -0.3), (INF, 0.1), (-INF, 0.1), (NAN, 0.1)]


def leaky_relu(x, a):
    """F.leaky_relu's value and d/dx; d/da of relu(x) - a relu(-x)."""
    v = F.leaky_relu(x, a.item())
    (dx,) = torch.autograd.grad(v, x)
    (da,) = torch.autograd.grad(F.relu(x) - a * F.relu(-x), a)
    return v, dx, da


def binary(fn, x, y):
    v = fn(x, y)
    dx, dy = torch.autograd.grad(v, (x, y))
    return v, dx, dy


BINARY = [
    ("atan2", lambda x, y: binary(torch.atan2, x, y), PAIRS),
    ("hypot", lambda x, y: binary(torch.hypot, x, y), PAIRS),
    ("leaky_relu", leaky_relu, SLOPES),
]


def tensor(v):
    return torch.tensor([v], dtype=torch.float64, requires_grad=True)


def line(name, nums):
    return " ".join([name] + [repr(float(v)) for v in nums])


def main():
    torch.set_num_threads(1)
    lines = ["# PyTorch %s, float64: value and derivatives of the elementwise functions "
             "(tests/torch/functions_reference.py)" % torch.__version__,
             "# NAME X VALUE D/DX, or NAME X Y VALUE D/DX D/DY"]
    for name, fn, points in UNARY:
        for x in points:
            xt = tensor(x)
            v = fn(xt)
            (d,) = torch.autograd.grad(v, xt)
            lines.append(line(name, [x, v.item(), d.item()]))
    for name, fn, points in BINARY:
        for x, y in points:
            v, dx, dy = fn(tensor(x), tensor(y))
            lines.append(line(name, [x, y, v.item(), dx.item(), dy.item()]))
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %s (%d points)" % (OUT, len(lines) - 2))


if __name__ == "__main__":
    main()
