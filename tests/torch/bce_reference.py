#!/usr/bin/python3
"""PyTorch's BCELoss, loss and gradient, at and near p = 0 and p = 1.

Optional: needs Debian's python3-torch (1.13). The tests never run this; they
read what it writes, tests/gradcheck/bce_torch.txt, which is committed:

  DTYPE N P[0..N) Y[0..N) LOSS GRAD[0..N)

one case a line, every number a hex float (exactly the dtype's value): the
loss of torch.nn.functional.binary_cross_entropy(p, y) (mean over the N
elements) and its gradient in p.  gradcheck_test.c (double) and
gradcheck_float_test.c (float) compare gc_bce_p (N = 1) and gc_bce_mean
(N = 4) with it, bit for bit.

Run from the repository root: /usr/bin/python3 tests/torch/bce_reference.py
"""
import os

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "gradcheck", "bce_torch.txt")

# p at and near the ends, where PyTorch clamps: 0, subnormals, around
# (1 - p) p = 1e-12, the last values below 1 in float and double, 1
P = [0.0, 2.0 ** -1074, 1e-300, 1e-44, 1e-38, 1e-20, 1e-13, 9e-13, 1e-12, 1.1e-12,
     1e-6, 0.25, 0.5, 0.7, 1 - 1e-6, 1 - 1e-12, 1 - 2.0 ** -24, 1 - 2.0 ** -53, 1.0]
Y = [0.0, 0.25, 0.3, 1.0]
# vectors of 4: mixed ends and middles, each gradient divided by 4
P4 = [[0.0, 1.0, 0.5, 1 - 2.0 ** -53], [1.0, 1.0, 0.0, 0.0], [1e-13, 0.3, 1 - 1e-12, 0.9],
      [1e-300, 1 - 2.0 ** -24, 0.25, 0.125]]
Y4 = [[1.0, 0.0, 0.3, 0.0], [1.0, 0.0, 0.0, 1.0], [0.0, 0.5, 1.0, 0.25],
      [0.0, 1.0, 0.75, 0.3]]


def case(dtype, p, y):
    pt = torch.tensor(p, dtype=dtype, requires_grad=True)
    yt = torch.tensor(y, dtype=dtype)
    loss = torch.nn.functional.binary_cross_entropy(pt, yt)
    loss.backward()
    nums = pt.tolist() + yt.tolist() + [loss.item()] + pt.grad.tolist()
    name = "double" if dtype == torch.float64 else "float"
    return "%s %d %s" % (name, len(p), " ".join(float(v).hex() for v in nums))


def main():
    torch.set_num_threads(1)
    lines = ["# PyTorch %s: binary_cross_entropy, loss and gradient in p "
             "(tests/torch/bce_reference.py)" % torch.__version__,
             "# DTYPE N P[0..N) Y[0..N) LOSS GRAD[0..N), hex floats"]
    for dtype in (torch.float64, torch.float32):
        for p in P:
            for y in Y:
                lines.append(case(dtype, [p], [y]))
        for p, y in zip(P4, Y4):
            lines.append(case(dtype, p, y))
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %s (%d cases)" % (OUT, len(lines) - 2))


if __name__ == "__main__":
    main()
