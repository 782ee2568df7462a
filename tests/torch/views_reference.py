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
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import four_inputs_case, sgd_losses  # noqa: E402

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


def loss_of(model, x, y):
    z, extra = model(x)
    return (torch.nn.functional.cross_entropy(z, y, reduction="none") + extra).mean()


def train(model, x, y):
    return sgd_losses(model, lambda m: loss_of(m, x, y), LR, EPOCHS)


def main():
    four_inputs_case("views", 19, ROWS, Views, "views", SHAPES, train)


if __name__ == "__main__":
    main()
