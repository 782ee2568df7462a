#!/usr/bin/python3
"""The coefficients of sg_expf's polynomial (gen/sgmath.h).

exp(r) = 1 + r + r^2 q(r) on |r| <= ln2/2, q of degree 4.  The error that
matters is exp's relative error, r^2 (q(r) - q*(r)) / e^r, so q is the
weighted minimax polynomial for that weight, found by Lawson's iteration
(iteratively reweighted least squares) on 4000 Chebyshev points, then
rounded to float.  Prints the coefficients as C hex floats and log2 of the
largest error with the rounded coefficients (about -28).

    /usr/bin/python3 tests/math/fit_expf.py
"""
from math import factorial, log

import numpy as np


def main():
    half = log(2) / 2 * 1.0005  # |r| reaches ln2/2 and a little over
    r = np.cos(np.linspace(0, np.pi, 4001)) * half
    r = r[np.abs(r) > 1e-4]  # the weight vanishes at 0
    q = sum(r ** (k - 2) / factorial(k) for k in range(2, 20))  # (e^r - 1 - r) / r^2
    w = r * r / np.exp(r)
    v = np.vander(r, 5, increasing=True)
    lw = np.ones_like(r)
    for _ in range(200):
        s = np.sqrt(lw) * w
        c = np.linalg.lstsq(v * s[:, None], q * s, rcond=None)[0]
        err = np.abs((v @ c - q) * w)
        lw = lw * err
        lw = lw / lw.sum()
    cf = c.astype(np.float32)
    worst = np.abs((v @ cf.astype(np.float64) - q) * w).max()
    for i, x in enumerate(cf):
        mant, exp = float(x).hex().split("p")
        print("c%d = %sp%sf" % (i + 2, mant.rstrip("0"), exp))
    print("log2 of the largest relative error of exp: %.2f" % np.log2(worst))


main()
