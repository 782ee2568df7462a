#!/usr/bin/python3
"""torch.optim.LBFGS (its defaults: lr 1, max_iter 20, history 100, no line
search) on the full batch, float64, from the committed torch_init.params.

Optional: needs Debian's python3-torch. The tests never run this; they read
what it writes, EXAMPLE/torch_lbfgs.txt (committed): per step (one
optimizer.step(closure), an epoch of `symgrad train --optimizer lbfgs`) the
mean loss PyTorch returns (the loss before the step) and, last, the final
mean loss.

Run from the repository root: /usr/bin/python3 tests/torch/lbfgs_reference.py
"""
import os

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read_params(path):
    vals = []
    with open(os.path.join(ROOT, path)) as f:
        for line in f:
            w = line.split()
            if len(w) == 2 and w[0] not in ("symgrad-params", "model", "checksum"):
                vals.append(float(w[1]))
    return vals


def read_csv(path):
    rows = []
    with open(os.path.join(ROOT, path)) as f:
        for line in f:
            try:
                rows.append([float(v) for v in line.strip().split(",")])
            except ValueError:
                continue
    return torch.tensor(rows, dtype=torch.float64)


def run(example, params, data, forward, steps):
    p = torch.tensor(read_params("examples/%s/%s" % (example, params)), dtype=torch.float64,
                     requires_grad=True)
    rows = read_csv("examples/%s/%s" % (example, data))
    opt = torch.optim.LBFGS([p])

    def closure():
        opt.zero_grad()
        loss = forward(p, rows)
        loss.backward()
        return loss
    losses = [float(opt.step(closure)) for _ in range(steps)]
    final = float(forward(p, rows))
    with open(os.path.join(ROOT, "examples", example, "torch_lbfgs.txt"), "w") as f:
        f.write("# step, mean loss before it, float64: torch.optim.LBFGS() defaults, full batch "
                "(PyTorch %s, tests/torch/lbfgs_reference.py); last line: the final loss\n"
                % torch.__version__)
        for i, l in enumerate(losses):
            f.write("%d %r\n" % (i, l))
        f.write("final %r\n" % final)
    print(example, losses[0], final)


def logistic(p, rows):
    z = torch.sigmoid(p[0] * rows[:, 0] + p[1])
    return F.binary_cross_entropy(z, rows[:, 1])


def diabetes(p, rows):
    h, k = rows[:, :8].T, 0
    for r, c in [(6, 8), (4, 6), (1, 4)]:
        w = p[k:k + r * c].reshape(r, c)
        b = p[k + r * c:k + r * c + r]
        k += r * c + r
        h = torch.sigmoid(w @ h + b[:, None])
    return F.binary_cross_entropy(h[0], rows[:, 8])


def main():
    torch.set_num_threads(1)
    run("lecture06_logistic", "torch_init.params", "data.csv", logistic, 10)
    run("lecture07_diabetes", "torch_init.params", "diabetes.csv", diabetes, 10)


if __name__ == "__main__":
    main()
