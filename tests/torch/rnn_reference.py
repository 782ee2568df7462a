#!/usr/bin/python3
"""Reference numbers from PyTorch for lecture 12's hello RNN.

Optional: needs Debian's python3-torch. The project and its tests never run
this; they read the files it writes into examples/lecture12_rnn:

  hello.csv           the one training row: "hihell" one-hot (xs, 6 x 5) and
                      the classes of "ihello" (ys, 6)
  torch_init.params   the initial parameters PyTorch drew (torch.manual_seed(777),
                      as the course's 12_2_hello_rnn.py), for `symgrad train --load`
  torch_losses.txt    per epoch: epoch, loss in float64, loss in float32, each
                      taken before that epoch's update (the course's printed loss)
  torch_predicted.txt the predicted string after training (float64), the
                      argmax over h, i, e, l, o of each step's hidden state

The course's model: nn.RNN(input_size=5, hidden_size=5) with tanh and both
biases, h0 = 0, the hidden state is the logits, the loss is the sum over
the 6 steps of CrossEntropyLoss, Adam lr 0.1, 100 epochs.

Run from the repository root: /usr/bin/python3 tests/torch/rnn_reference.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import ROOT, write_params  # noqa: E402

CHARS = "hielo"
X = "hihell"
Y = "ihello"
EPOCHS = 100


def one_hot(s):
    return [[1.0 if CHARS[k] == c else 0.0 for k in range(5)] for c in s]


def train(rnn, dtype):
    xs = torch.tensor([one_hot(X)], dtype=dtype)          # [batch 1, 6, 5]
    ys = torch.tensor([CHARS.index(c) for c in Y])
    opt = torch.optim.Adam(rnn.parameters(), lr=0.1)
    criterion = torch.nn.CrossEntropyLoss()
    losses = []
    for _ in range(EPOCHS):
        out, _ = rnn(xs, torch.zeros(1, 1, 5, dtype=dtype))
        out = out.view(-1, 5)
        loss = 0
        for t in range(6):  # the sum over the steps, as the course's loop
            loss = loss + criterion(out[t:t + 1], ys[t:t + 1])
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    out, _ = rnn(xs, torch.zeros(1, 1, 5, dtype=dtype))
    predicted = "".join(CHARS[i] for i in out.view(-1, 5).argmax(1).tolist())
    return losses, predicted


def main():
    d = os.path.join(ROOT, "examples", "lecture12_rnn")
    torch.manual_seed(777)
    r32 = torch.nn.RNN(input_size=5, hidden_size=5, batch_first=True)
    r64 = torch.nn.RNN(input_size=5, hidden_size=5, batch_first=True).double()
    r64.load_state_dict({k: v.double() for k, v in r32.state_dict().items()})
    named = []
    for sg, pt in [("W_ih", "weight_ih_l0"), ("b_ih", "bias_ih_l0"),
                   ("W_hh", "weight_hh_l0"), ("b_hh", "bias_hh_l0")]:
        v = getattr(r32, pt).detach().double()
        if v.dim() == 2:
            named += [("%s[%d,%d]" % (sg, i, j), v[i, j].item())
                      for i in range(5) for j in range(5)]
        else:
            named += [("%s[%d]" % (sg, i), v[i].item()) for i in range(5)]
    write_params(os.path.join(d, "torch_init.params"), "hello", named)
    with open(os.path.join(d, "hello.csv"), "w") as f:
        cols = ["xs_%d_%d" % (t, k) for t in range(6) for k in range(5)]
        cols += ["ys_%d" % t for t in range(6)]
        f.write(",".join(cols) + "\n")
        vals = ["%d" % v for row in one_hot(X) for v in row]
        vals += ["%d" % CHARS.index(c) for c in Y]
        f.write(",".join(vals) + "\n")
    l64, p64 = train(r64, torch.float64)
    l32, p32 = train(r32, torch.float32)
    with open(os.path.join(d, "torch_losses.txt"), "w") as f:
        f.write("# epoch, loss float64, loss float32 (PyTorch %s, tests/torch/rnn_reference.py)\n"
                % torch.__version__)
        for e, (a, b) in enumerate(zip(l64, l32)):
            f.write("%d %r %r\n" % (e, a, b))
    with open(os.path.join(d, "torch_predicted.txt"), "w") as f:
        f.write(p64 + "\n")
    print("lecture12_rnn first", l64[0], "last", l64[-1], l32[-1], "predicted", p64, p32)


if __name__ == "__main__":
    main()
