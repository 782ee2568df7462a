#!/usr/bin/python3
"""Reference numbers from PyTorch for column slices, stack and diag.

Optional: needs Debian's python3-torch. The tests never run this; they read
what it writes into tests/torch/views, which is committed:

  views.csv           48 rows: x (four numbers in [-1, 1]) and a class y
  torch_init.params   the initial parameters PyTorch drew (torch.manual_seed(0),
                      normal with standard deviation 0.5)
  torch_losses.txt    per epoch: epoch, mean loss in float64 and in float32,
                      each before that epoch's update

The model (tests/torch/views/views.sg), over a batch of rows: h = tanh(W x),
C = W[:, 1] (a column), S = torch.stack([h, C x[0], d]) (rows), z = S @ v +
torch.diagonal(U) * h + torch.diag(d) @ U[:, 0] + U[0:2, 1:3].sum() * C,
loss = CrossEntropyLoss(z, y) + mean of (U[1:3, 1] . h[0:2])^2, SGD lr 0.5 on
the whole set, 40 epochs.  Every view is PyTorch's own indexing, so its
gradient is PyTorch's.

Run from the repository root: /usr/bin/python3 tests/torch/views_reference.py
"""
import os
import random
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import ROOT, write_params  # noqa: E402

ROWS, EPOCHS, LR = 48, 40, 0.5
SHAPES = [("W", (3, 4)), ("U", (3, 3)), ("d", (3,)), ("v", (3,))]


class Views(torch.nn.Module):
    def __init__(self):
        super().__init__()
        for name, shape in SHAPES:
            setattr(self, name, torch.nn.Parameter(0.5 * torch.randn(shape)))

    def forward(self, x):
        n = x.shape[0]
        h = torch.tanh(x @ self.W.T)                          # [n, 3]
        C = self.W[:, 1]
        S = torch.stack([h, C * x[:, 0:1], self.d.expand(n, 3)], dim=1)  # [n, 3, 3]
        z = (S @ self.v + torch.diagonal(self.U) * h + torch.diag(self.d) @ self.U[:, 0]
             + self.U[0:2, 1:3].sum() * C)
        return z, (h[:, 0:2] @ self.U[1:3, 1]) ** 2


def train(model, x, y):
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    losses = []
    for _ in range(EPOCHS):
        z, extra = model(x)
        loss = (torch.nn.functional.cross_entropy(z, y, reduction="none") + extra).mean()
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return losses


def element_names(name, shape):
    """symgrad's names of a tensor's elements, row-major: "T[1,2,3]"."""
    idx = [()]
    for d in shape:
        idx = [i + (j,) for i in idx for j in range(d)]
    return ["%s[%s]" % (name, ",".join("%d" % j for j in i)) for i in idx]


def main():
    d = os.path.join(ROOT, "tests", "torch", "views")
    rng = random.Random(19)
    rows = [[round(rng.uniform(-1, 1), 3) for _ in range(4)] for _ in range(ROWS)]
    ys = [(r[0] + r[1] > 0) + (r[2] > r[3]) for r in rows]
    with open(os.path.join(d, "views.csv"), "w") as f:
        f.write("x_0,x_1,x_2,x_3,y\n")
        for r, y in zip(rows, ys):
            f.write(",".join("%r" % v for v in r) + ",%d\n" % y)
    torch.manual_seed(0)
    m32 = Views()
    m64 = Views().double()
    m64.load_state_dict({k: v.double() for k, v in m32.state_dict().items()})
    named = []
    for name, shape in SHAPES:
        w = getattr(m32, name).detach().double().flatten().tolist()
        named += list(zip(element_names(name, shape), w))
    write_params(os.path.join(d, "torch_init.params"), "views", named)
    x, y = torch.tensor(rows), torch.tensor(ys)
    l64 = train(m64, torch.tensor(rows, dtype=torch.float64), y)
    l32 = train(m32, x, y)
    with open(os.path.join(d, "torch_losses.txt"), "w") as f:
        f.write("# epoch, loss float64, loss float32 (PyTorch %s, tests/torch/views_reference.py)\n"
                % torch.__version__)
        for e, (a, b) in enumerate(zip(l64, l32)):
            f.write("%d %r %r\n" % (e, a, b))
    print("views first", l64[0], "last", l64[-1], l32[-1])


if __name__ == "__main__":
    main()
