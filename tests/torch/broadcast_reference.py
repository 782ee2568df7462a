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
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import four_inputs_case, sgd_losses  # noqa: E402

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
    return sgd_losses(model, lambda m: torch.nn.functional.cross_entropy(m(x), y), LR, EPOCHS)


def main():
    four_inputs_case("broadcast", 18, ROWS, Bcast, "bcast", SHAPES, train)


if __name__ == "__main__":
    main()
