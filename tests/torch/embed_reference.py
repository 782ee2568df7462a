#!/usr/bin/python3
"""Reference numbers from PyTorch for an embedding lookup by a token id.

Optional: needs Debian's python3-torch. The tests never run this; they read
what it writes into tests/torch/embed, which is committed:

  embed.csv           60 rows: four token ids (toks, 0..4) and a class y,
                      (toks[0] + toks[3]) mod 5
  torch_init.params   the initial parameters PyTorch drew (torch.manual_seed(0))
  torch_losses.txt    per epoch: epoch, mean loss in float64 and in float32,
                      each before that epoch's update

The model (tests/torch/embed/embed.sg): nn.Embedding(5, 3) read by each token,
h = tanh(W h + E[tok]) over the four tokens from h = 0 (W: nn.Linear(3, 3)
without bias), z = U h + c + s[toks[0]] (U, c: nn.Linear(3, 5); s: a bias per
first token, nn.Embedding(5, 1)), CrossEntropyLoss, SGD lr 0.5 on the whole
set, 40 epochs.  The lookups are torch.index_select, whose gradient is
index_add: only the rows read get one.

Run from the repository root: /usr/bin/python3 tests/torch/embed_reference.py
"""
import os
import random
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import ROOT, write_params, sgd_losses  # noqa: E402

ROWS, EPOCHS, LR = 60, 40, 0.5


class Embed(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.E = torch.nn.Embedding(5, 3)
        self.W = torch.nn.Linear(3, 3, bias=False)
        self.out = torch.nn.Linear(3, 5)
        self.s = torch.nn.Embedding(5, 1)

    def forward(self, toks):
        h = torch.zeros(toks.shape[0], 3, dtype=self.E.weight.dtype)
        for t in range(toks.shape[1]):
            e = torch.index_select(self.E.weight, 0, toks[:, t])
            h = torch.tanh(self.W(h) + e)
        s = torch.index_select(self.s.weight, 0, toks[:, 0])
        return self.out(h) + s


def train(model, toks, y):
    return sgd_losses(model, lambda m: torch.nn.functional.cross_entropy(m(toks), y), LR, EPOCHS)


def main():
    d = os.path.join(ROOT, "tests", "torch", "embed")
    rng = random.Random(5)
    rows = [[rng.randrange(5) for _ in range(4)] for _ in range(ROWS)]
    ys = [(r[0] + r[3]) % 5 for r in rows]
    with open(os.path.join(d, "embed.csv"), "w") as f:
        f.write("toks_0,toks_1,toks_2,toks_3,y\n")
        for r, y in zip(rows, ys):
            f.write(",".join("%d" % v for v in r + [y]) + "\n")
    torch.manual_seed(0)
    m32 = Embed()
    m64 = Embed().double()
    m64.load_state_dict({k: v.double() for k, v in m32.state_dict().items()})
    named = []
    for sg, w in [("E", m32.E.weight), ("W", m32.W.weight), ("U", m32.out.weight)]:
        w = w.detach().double()
        named += [("%s[%d,%d]" % (sg, i, j), w[i, j].item())
                  for i in range(w.shape[0]) for j in range(w.shape[1])]
    named += [("c[%d]" % i, v) for i, v in enumerate(m32.out.bias.detach().double().tolist())]
    named += [("s[%d]" % i, v[0]) for i, v in enumerate(m32.s.weight.detach().double().tolist())]
    write_params(os.path.join(d, "torch_init.params"), "embed", named)
    toks, y = torch.tensor(rows), torch.tensor(ys)
    l64, l32 = train(m64, toks, y), train(m32, toks, y)
    with open(os.path.join(d, "torch_losses.txt"), "w") as f:
        f.write("# epoch, loss float64, loss float32 (PyTorch %s, tests/torch/embed_reference.py)\n"
                % torch.__version__)
        for e, (a, b) in enumerate(zip(l64, l32)):
            f.write("%d %r %r\n" % (e, a, b))
    print("embed first", l64[0], "last", l64[-1], l32[-1])


if __name__ == "__main__":
    main()
