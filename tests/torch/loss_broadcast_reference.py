#!/usr/bin/python3
"""PyTorch's numbers for tests/gradcheck/models/loss_broadcast.sg.

Optional: needs Debian's python3-torch. The tests never run this; it prints
the loss and its gradient, in float64 as hex floats, at the parameters and
inputs below, which are committed in
tests/gradcheck/gradcheck_test.c (loss_broadcast_torch).

mse_loss broadcasts its operands itself (with a warning); binary_cross_entropy
and binary_cross_entropy_with_logits refuse operands of different sizes, so
they get torch.broadcast_tensors' views, which is what symgrad does: the
mean over the broadcast shape.

Run from the repository root: /usr/bin/python3 tests/torch/loss_broadcast_reference.py
"""
import warnings

import torch
import torch.nn.functional as F

M0 = [[0.3, -0.2, 0.5], [0.1, 0.4, -0.6]]
C0 = [[0.5], [-0.25]]
B0 = [0.2, -0.1, 0.3]
X = [0.5, -1.0, 2.0]
Y = [[0.3], [-0.7]]


def main():
    warnings.simplefilter("ignore")
    d = torch.float64
    M = torch.tensor(M0, dtype=d, requires_grad=True)
    c = torch.tensor(C0, dtype=d, requires_grad=True)
    b = torch.tensor(B0, dtype=d, requires_grad=True)
    x = torch.tensor(X, dtype=d)
    y = torch.tensor(Y, dtype=d)
    p, t = torch.broadcast_tensors(torch.sigmoid(M + b), torch.sigmoid(y))
    z, u = torch.broadcast_tensors(c * x[0], torch.sigmoid(M))
    loss = (F.mse_loss(M * x, c) + F.mse_loss(b, M) + F.binary_cross_entropy(p, t)
            + F.binary_cross_entropy_with_logits(z, u))
    loss.backward()
    print("loss", loss.item().hex())
    for name, g in (("M", M.grad), ("c", c.grad), ("b", b.grad)):
        print(name, " ".join(v.hex() for v in g.flatten().tolist()))


if __name__ == "__main__":
    main()
