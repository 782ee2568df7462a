#!/usr/bin/python3
"""Reference numbers from PyTorch for lecture 10's CNN (examples/lecture10_cnn).

The course's 10_1_cnn_mnist.py trains two Conv2d(k=5) layers with
MaxPool2d(2) and ReLU, then Linear(320, 10), on 28x28 MNIST, which cannot be
downloaded here; this is its counterpart on the 8x8 digits of lecture 9:
Conv2d(1, 8, 3) -> ReLU -> MaxPool2d(2) -> flatten -> Linear(72, 10),
cross-entropy, SGD lr 0.01 momentum 0.5, batches of 64 in file order, 10
epochs.  Writes torch_init.params, torch_losses.txt and torch_accuracy.txt
beside the example, as tests/torch/reference.py does for the others.

Optional: needs Debian's python3-torch.  Run from the repository root:
/usr/bin/python3 tests/torch/cnn_reference.py
"""
import csv
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import ROOT, class_accuracy, train, write_params  # noqa: E402


class CNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 8, 3)
        self.fc = torch.nn.Linear(72, 10)

    def forward(self, x):
        h = torch.relu(self.conv(x.view(-1, 1, 8, 8)))
        p = torch.nn.functional.max_pool2d(h, 2)
        return self.fc(p.flatten(1))


def cnn_params(m):
    """symgrad's element names, row-major: K[o,0,i,j], b[o], W[i,j], c[i]."""
    out = []
    k = m.conv.weight.detach().double().numpy()
    for idx in np.ndindex(k.shape):
        out.append(("K[%s]" % ",".join(str(i) for i in idx), k[idx]))
    out += [("b[%d]" % i, v) for i, v in enumerate(m.conv.bias.detach().double().numpy())]
    w = m.fc.weight.detach().double().numpy()
    for idx in np.ndindex(w.shape):
        out.append(("W[%d,%d]" % idx, w[idx]))
    out += [("c[%d]" % i, v) for i, v in enumerate(m.fc.bias.detach().double().numpy())]
    return out


def main():
    with open(os.path.join(ROOT, "examples/lecture09_softmax/digits.csv")) as f:
        rows = np.array([[float(v) for v in r] for r in list(csv.reader(f))[1:]])
    x = rows[:, :64] / 16.0
    y = rows[:, 64].astype(np.int64)
    torch.manual_seed(0)
    m32 = CNN()
    m64 = CNN().double()
    m64.load_state_dict({k: v.double() for k, v in m32.state_dict().items()})
    d = os.path.join(ROOT, "examples", "lecture10_cnn")
    write_params(os.path.join(d, "torch_init.params"), "cnn", cnn_params(m32))
    loss_fn = torch.nn.CrossEntropyLoss()
    l64 = train(m64, loss_fn, torch.tensor(x, dtype=torch.float64), torch.tensor(y), 0.01, 10,
                64, 0.5)
    l32 = train(m32, loss_fn, torch.tensor(x, dtype=torch.float32), torch.tensor(y), 0.01, 10,
                64, 0.5)
    with open(os.path.join(d, "torch_losses.txt"), "w") as f:
        f.write("# epoch, loss float64, loss float32 (PyTorch %s, tests/torch/cnn_reference.py)\n"
                % torch.__version__)
        for e, (a, b) in enumerate(zip(l64, l32)):
            f.write("%d %r %r\n" % (e, a, b))
    acc = class_accuracy(m64, torch.tensor(x, dtype=torch.float64), y)
    with open(os.path.join(d, "torch_accuracy.txt"), "w") as f:
        f.write("%r\n" % acc)
    print("lecture10_cnn accuracy", acc, "first", l64[0], "last", l64[-1], l32[-1])


if __name__ == "__main__":
    sys.exit(main())
