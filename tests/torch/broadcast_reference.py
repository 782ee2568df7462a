#!/usr/bin/python3
"""Reference numbers from PyTorch for broadcasting between shapes.

Optional: needs Debian's python3-torch. The tests never run this; they read
what it writes into tests/torch/broadcast, which is committed:

  broadcast.csv       48 rows: x (four numbers in [-1, 1]) and a class y
  torch_init.params   the initial parameters PyTorch drew (torch.manual_seed(0),
                      normal with standard deviation 0.5)
  torch_losses.txt    per epoch: epoch, mean loss in float64 and in float32,
                      each before that epoch's update

The model (tests/torch/broadcast/broadcast.sg), PyTorch's broadcasting over a
batch of rows: H = tanh(M * x + b) (M [3, 4], x and b [4]: along each row),
G = H * c (c [3, 1]: along the columns), P = sigmoid(T * G + k) (T [2, 3, 4],
k [2, 1, 1]), S = P as [6, 4] @ v, z = G @ v + r + S[0:3] - S[3:6],
CrossEntropyLoss, SGD lr 0.5 on the whole set, 40 epochs.  The gradients of
b, c, k and of M, x's broadcast partner, are PyTorch's sums over the
broadcast dimensions.

Run from the repository root: /usr/bin/python3 tests/torch/broadcast_reference.py
"""
import os
import random
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import ROOT, write_params  # noqa: E402

ROWS, EPOCHS, LR = 48, 40, 0.5
SHAPES = [("M", (3, 4)), ("b", (4,)), ("c", (3, 1)), ("T", (2, 3, 4)), ("k", (2, 1, 1)),
          ("v", (4,)), ("r", (3,))]


class Bcast(torch.nn.Module):
    def __init__(self):
        super().__init__()
        for name, shape in SHAPES:
            setattr(self, name, torch.nn.Parameter(0.5 * torch.randn(shape)))

    def forward(self, x):
        n = x.shape[0]
        H = torch.tanh(self.M * x[:, None, :] + self.b)       # [n, 3, 4]
        G = H * self.c
        P = torch.sigmoid(self.T * G[:, None] + self.k)       # [n, 2, 3, 4]
        S = P.reshape(n, 6, 4) @ self.v
        return G @ self.v + self.r + S[:, 0:3] - S[:, 3:6]


def train(model, x, y):
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    losses = []
    for _ in range(EPOCHS):
        loss = torch.nn.functional.cross_entropy(model(x), y)
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
    d = os.path.join(ROOT, "tests", "torch", "broadcast")
    rng = random.Random(18)
    rows = [[round(rng.uniform(-1, 1), 3) for _ in range(4)] for _ in range(ROWS)]
    ys = [(r[0] + r[1] > 0) + (r[2] > r[3]) for r in rows]
    with open(os.path.join(d, "broadcast.csv"), "w") as f:
        f.write("x_0,x_1,x_2,x_3,y\n")
        for r, y in zip(rows, ys):
            f.write(",".join("%r" % v for v in r) + ",%d\n" % y)
    torch.manual_seed(0)
    m32 = Bcast()
    m64 = Bcast().double()
    m64.load_state_dict({k: v.double() for k, v in m32.state_dict().items()})
    named = []
    for name, shape in SHAPES:
        w = getattr(m32, name).detach().double().flatten().tolist()
        named += list(zip(element_names(name, shape), w))
    write_params(os.path.join(d, "torch_init.params"), "bcast", named)
    x, y = torch.tensor(rows), torch.tensor(ys)
    l64 = train(m64, torch.tensor(rows, dtype=torch.float64), y)
    l32 = train(m32, x, y)
    with open(os.path.join(d, "torch_losses.txt"), "w") as f:
        f.write("# epoch, loss float64, loss float32 (PyTorch %s, tests/torch/broadcast_reference.py)\n"
                % torch.__version__)
        for e, (a, b) in enumerate(zip(l64, l32)):
            f.write("%d %r %r\n" % (e, a, b))
    print("broadcast first", l64[0], "last", l64[-1], l32[-1])


if __name__ == "__main__":
    main()
