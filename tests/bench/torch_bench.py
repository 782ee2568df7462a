#!/usr/bin/python3
"""PyTorch eager on the benchmark's models, for ratios in the same run.

usage: torch_bench.py DIABETES.csv GRADIENTS.csv TRAIN.csv OUT.csv
Reads symgrad's figures from the CSV files bench.c and run.sh wrote.
"""
import csv
import sys
import time

import torch


def median_ns(fn, ops, trials=11):
    fn()  # warm-up
    times = []
    for _ in range(trials):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e9 / ops)
    return sorted(times)[len(times) // 2]


def lecture_step(dtype, steps=3000):
    w = torch.tensor([1.0], dtype=dtype, requires_grad=True)
    data = [(1.0, 2.0), (2.0, 4.0), (3.0, 6.0)]

    def run():
        for i in range(steps):
            x, y = data[i % 3]
            loss = (x * w - y) * (x * w - y)
            loss.backward()
            w.data = w.data - 0.01 * w.grad.data
            w.grad.data.zero_()
    return median_ns(run, steps, trials=5)


def network_batch(path, dtype, epochs=20):
    with open(path) as f:
        rows = torch.tensor([[float(v) for v in r] for r in csv.reader(f)], dtype=dtype)
    x, y = rows[:, :8], rows[:, 8:]
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 6), torch.nn.Sigmoid(),
                                torch.nn.Linear(6, 4), torch.nn.Sigmoid(),
                                torch.nn.Linear(4, 1), torch.nn.Sigmoid()).to(dtype)
    loss_fn = torch.nn.BCELoss()

    def run():
        for _ in range(epochs):
            model.zero_grad()
            loss_fn(model(x), y).backward()
    return median_ns(run, epochs * len(rows))


def main():
    data, grads_csv, train_csv, out = sys.argv[1:5]
    with open(grads_csv) as f:
        ours = {r["benchmark"]: float(r["generated_ns"]) for r in csv.DictReader(f)}
    with open(train_csv) as f:
        train_ns = float(f.read().split(",")[1])
    torch.set_num_threads(1)
    rows = [
        ("lecture 4: SGD step, float32", lecture_step(torch.float32), train_ns,
         "symgrad train"),
        ("lecture 4: SGD step, float64", lecture_step(torch.float64), train_ns,
         "symgrad train"),
        ("lecture 7 network: full batch, per sample-gradient, float32",
         network_batch(data, torch.float32),
         ours["lecture 7 network: batch of 759, per sample, float"], "generated batch"),
        ("lecture 7 network: full batch, per sample-gradient, float64",
         network_batch(data, torch.float64),
         ours["lecture 7 network: batch of 759, per sample, double"], "generated batch"),
    ]
    print("| ns per operation (median; lecture 4 of 5, lecture 7 of 11) | PyTorch %s eager "
          "| symgrad | symgrad is faster by |" % torch.__version__)
    print("|---|---|---|---|")
    with open(out, "w") as f:
        f.write("benchmark,torch_ns,symgrad_ns,speedup\n")
        for name, t, s, what in rows:
            r = t / s
            speedup = "{:,.0f}×".format(r) if r >= 100 else "%.1f×" % r
            print("| %s | {:,.0f} | %.1f (%s) | %s |".format(t) % (name, s, what, speedup))
            f.write("\"%s\",%.1f,%.2f,%.1f\n" % (name, t, s, t / s))


if __name__ == "__main__":
    main()
