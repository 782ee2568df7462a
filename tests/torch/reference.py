#!/usr/bin/python3
"""Reference numbers from PyTorch for the course's models (lectures 5, 6, 7, 9).

Optional: needs Debian's python3-torch (and python3-sklearn for the digits
data). The project and its tests never run this; they read the files it
writes, which are committed beside each example:

  torch_init.params   the initial parameters PyTorch drew (torch.manual_seed(0)),
                      in symgrad's parameter-file format, for `symgrad train --load`
  torch_losses.txt    per epoch: epoch, mean loss in float64, mean loss in float32,
                      each the loss over the epoch's samples computed before the
                      update that uses them (PyTorch's printed loss)
  torch_accuracy.txt  the final accuracy of the float64 run (classifiers only)

Run from the repository root: /usr/bin/python3 tests/torch/reference.py
"""
import csv
import os
import random
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def write_params(path, model_name, named_values):
    """symgrad's parameter file: NAME VALUE lines, then an FNV-1a checksum."""
    text = "# symgrad parameters\nsymgrad-params 1\nmodel %s\n" % model_name
    for name, value in named_values:
        text += "%s %r\n" % (name, float(value))
    text += "checksum 0x%016x\n" % fnv1a64(text.encode())
    with open(path, "w") as f:
        f.write(text)


def linear_params(layers, names):
    """(W, b) of each nn.Linear as symgrad's element names, row-major; a
    scalar model's nn.Linear(1, 1) is the two scalars named in names[0][1]."""
    out = []
    for layer, (wname, bname) in zip(layers, names):
        w = layer.weight.detach().double().numpy()
        b = layer.bias.detach().double().numpy()
        if wname is None:
            out += [(bname[0], w[0, 0]), (bname[1], b[0])]
            continue
        for i in range(w.shape[0]):
            for j in range(w.shape[1]):
                out.append(("%s[%d,%d]" % (wname, i, j), w[i, j]))
        for i in range(b.shape[0]):
            out.append(("%s[%d]" % (bname, i), b[i]))
    return out


def train(model, loss_fn, x, y, lr, epochs, batch, momentum=0.0):
    """Per-epoch mean loss, each sample's loss taken before its update."""
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    n = x.shape[0]
    losses = []
    for _ in range(epochs):
        total = 0.0
        for start in range(0, n, batch):
            xb, yb = x[start:start + batch], y[start:start + batch]
            loss = loss_fn(model(xb), yb)
            total += loss.item() * xb.shape[0]
            opt.zero_grad()
            loss.backward()
            opt.step()
        losses.append(total / n)
    return losses


def run(example, model_name, make_model, param_names, loss_fn, x, y, lr, epochs, batch,
        momentum=0.0, accuracy=None):
    torch.manual_seed(0)
    m32 = make_model()
    m64 = make_model().double()
    m64.load_state_dict({k: v.double() for k, v in m32.state_dict().items()})
    d = os.path.join(ROOT, "examples", example)
    write_params(os.path.join(d, "torch_init.params"), model_name,
                 linear_params(m32.layers, param_names))
    l64 = train(m64, loss_fn, torch.tensor(x, dtype=torch.float64),
                torch.tensor(y, dtype=torch.float64 if y.dtype != np.int64 else torch.int64),
                lr, epochs, batch, momentum)
    l32 = train(m32, loss_fn, torch.tensor(x, dtype=torch.float32),
                torch.tensor(y, dtype=torch.float32 if y.dtype != np.int64 else torch.int64),
                lr, epochs, batch, momentum)
    with open(os.path.join(d, "torch_losses.txt"), "w") as f:
        f.write("# epoch, loss float64, loss float32 (PyTorch %s, tests/torch/reference.py)\n"
                % torch.__version__)
        for e, (a, b) in enumerate(zip(l64, l32)):
            f.write("%d %r %r\n" % (e, a, b))
    if accuracy:
        acc = accuracy(m64, torch.tensor(x, dtype=torch.float64), y)
        with open(os.path.join(d, "torch_accuracy.txt"), "w") as f:
            f.write("%r\n" % acc)
        print(example, "accuracy", acc)
    print(example, "first", l64[0], "last", l64[-1], l32[-1])


class Seq(torch.nn.Module):
    def __init__(self, sizes, act, last_act):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            [torch.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])])
        self.act, self.last_act = act, last_act

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            x = self.last_act(x) if i == len(self.layers) - 1 else self.act(x)
        return x


def ident(x):
    return x


def binary_accuracy(model, x, y):
    with torch.no_grad():
        p = model(x).numpy()[:, 0]
    return float(np.mean((p > 0.5) == (y[:, 0] > 0.5)))


def class_accuracy(model, x, y):
    with torch.no_grad():
        z = model(x).numpy()
    return float(np.mean(np.argmax(z, axis=1) == y))


def main():
    # Lecture 5: linear regression (the course's 500 epochs, lr 0.01, full batch).
    x = np.array([[1.0], [2.0], [3.0]])
    y = np.array([[2.0], [4.0], [6.0]])
    run("lecture05_linear", "linreg", lambda: Seq([1, 1], ident, ident),
        [(None, ("w", "b"))], torch.nn.MSELoss(), x, y, 0.01, 500, 3)

    # Lecture 6: logistic regression (1000 epochs, lr 0.01, full batch).
    x = np.array([[1.0], [2.0], [3.0], [4.0]])
    y = np.array([[0.0], [0.0], [1.0], [1.0]])
    run("lecture06_logistic", "logistic", lambda: Seq([1, 1], ident, torch.sigmoid),
        [(None, ("w", "b"))], torch.nn.BCELoss(), x, y, 0.01, 1000, 4,
        accuracy=binary_accuracy)

    # Lecture 7: the diabetes network (100 epochs, lr 0.1, full batch).
    with open(os.path.join(ROOT, "examples/lecture07_diabetes/diabetes.csv")) as f:
        rows = np.array([[float(v) for v in r] for r in csv.reader(f)])
    run("lecture07_diabetes", "diabetes", lambda: Seq([8, 6, 4, 1], torch.sigmoid, torch.sigmoid),
        [("W1", "b1"), ("W2", "b2"), ("W3", "b3")], torch.nn.BCELoss(),
        rows[:, :8], rows[:, 8:], 0.1, 100, len(rows), accuracy=binary_accuracy)

    # Lecture 9: softmax classifier on 8x8 digits (10 epochs, batches of 64 in
    # file order, lr 0.01, momentum 0.5 as in the course's MNIST example).
    with open(os.path.join(ROOT, "examples/lecture09_softmax/digits.csv")) as f:
        rows = np.array([[float(v) for v in r] for r in list(csv.reader(f))[1:]])
    x = rows[:, :64] / 16.0
    y = rows[:, 64].astype(np.int64)
    run("lecture09_softmax", "digits", lambda: Seq([64, 32, 10], torch.relu, ident),
        [("W1", "b1"), ("W2", "b2")], torch.nn.CrossEntropyLoss(), x, y, 0.01, 10, 64,
        momentum=0.5, accuracy=class_accuracy)


if __name__ == "__main__":
    sys.exit(main())


def element_names(name, shape):
    """symgrad's names of a tensor's elements, row-major: "T[1,2,3]"."""
    idx = [()]
    for d in shape:
        idx = [i + (j,) for i in idx for j in range(d)]
    return ["%s[%s]" % (name, ",".join("%d" % j for j in i)) for i in idx]


def four_inputs_case(case, seed, rows, model_class, model_name, shapes, train):
    """A case of tests/torch/CASE: `rows` rows of four inputs in [-1, 1]
    (random.Random(seed)) and a class y of three, CASE.csv; the model's
    initial parameters (torch.manual_seed(0), float32, widened) as
    torch_init.params; PyTorch's losses of train(model, x, y) in float64
    and float32, from the same start, as torch_losses.txt."""
    d = os.path.join(ROOT, "tests", "torch", case)
    rng = random.Random(seed)
    xs = [[round(rng.uniform(-1, 1), 3) for _ in range(4)] for _ in range(rows)]
    ys = [(r[0] + r[1] > 0) + (r[2] > r[3]) for r in xs]
    with open(os.path.join(d, case + ".csv"), "w") as f:
        f.write("x_0,x_1,x_2,x_3,y\n")
        for r, y in zip(xs, ys):
            f.write(",".join("%r" % v for v in r) + ",%d\n" % y)
    torch.manual_seed(0)
    m32 = model_class()
    m64 = model_class().double()
    m64.load_state_dict({k: v.double() for k, v in m32.state_dict().items()})
    named = []
    for name, shape in shapes:
        w = getattr(m32, name).detach().double().flatten().tolist()
        named += list(zip(element_names(name, shape), w))
    write_params(os.path.join(d, "torch_init.params"), model_name, named)
    x, y = torch.tensor(xs), torch.tensor(ys)
    l64 = train(m64, torch.tensor(xs, dtype=torch.float64), y)
    l32 = train(m32, x, y)
    with open(os.path.join(d, "torch_losses.txt"), "w") as f:
        f.write("# epoch, loss float64, loss float32 (PyTorch %s, tests/torch/%s_reference.py)\n"
                % (torch.__version__, case))
        for e, (a, b) in enumerate(zip(l64, l32)):
            f.write("%d %r %r\n" % (e, a, b))
    print(case, "first", l64[0], "last", l64[-1], l32[-1])


def sgd_losses(model, loss_of, lr, epochs):
    """PyTorch's plain SGD (lr) for `epochs` steps on the loss loss_of(model)
    gives: the loss before each step."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        loss = loss_of(model)
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return losses
