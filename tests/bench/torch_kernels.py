#!/usr/bin/python3
"""PyTorch eager, one thread: forward and backward of a ReLU network with
cross-entropy (summed) on one batch of random rows, ns per sample, median of
TRIALS; the contender of tests/bench/run.sh's section 12.

usage: torch_kernels.py ROWS TRIALS SIZES...   (e.g. 256 11 784 100 10)
prints "f64_ns f32_ns"
"""
import sys
import time

import torch


def per_sample_ns(sizes, rows, trials, dtype):
    torch.manual_seed(0)
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1]).to(dtype)
    x = torch.rand(rows, sizes[0], dtype=dtype)
    y = torch.randint(0, sizes[-1], (rows,))
    loss_fn = torch.nn.CrossEntropyLoss(reduction="sum")
    times = []
    for t in range(trials + 1):
        a = time.process_time_ns()
        net.zero_grad()
        loss_fn(net(x), y).backward()
        b = time.process_time_ns()
        if t:  # the first is a warm-up
            times.append((b - a) / rows)
    return sorted(times)[len(times) // 2]


def main():
    rows, trials = int(sys.argv[1]), int(sys.argv[2])
    sizes = [int(s) for s in sys.argv[3:]]
    torch.set_num_threads(1)
    print("%.1f %.1f" % (per_sample_ns(sizes, rows, trials, torch.float64),
                         per_sample_ns(sizes, rows, trials, torch.float32)))


if __name__ == "__main__":
    main()
