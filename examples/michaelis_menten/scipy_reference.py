#!/usr/bin/python3
"""The Michaelis-Menten data and SciPy's fit of it.

Optional: needs Debian's python3-scipy. The tests never run this; they read
what it writes (committed):

  data.csv          s,v: 24 rates from vmax = 2.5, km = 0.8 with Gaussian noise
                    (sd 0.05, random.Random(7)), every number a repr
  scipy_fit.txt     scipy.optimize.least_squares(method='lm') from vmax = km = 1
                    (mm.sg's initial values): the params, their standard errors
                    sqrt(diag(s^2 (J^T J)^-1)) with s^2 = RSS / (n - p), RSS,
                    and SciPy's nfev and njev

Run from the repository root: /usr/bin/python3 examples/michaelis_menten/scipy_reference.py
"""
import os
import random

import numpy as np
import scipy
from scipy.optimize import least_squares

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    rng = random.Random(7)
    s = [0.05 * 1.25 ** k for k in range(24)]
    v = [2.5 * x / (0.8 + x) + rng.gauss(0.0, 0.05) for x in s]
    with open(os.path.join(HERE, "data.csv"), "w") as f:
        f.write("s,v\n")
        for a, b in zip(s, v):
            f.write("%r,%r\n" % (a, b))
    s, v = np.array(s), np.array(v)

    def resid(p):
        return p[0] * s / (p[1] + s) - v

    fit = least_squares(resid, [1.0, 1.0], method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15)
    j = fit.jac
    rss = float(fit.fun @ fit.fun)
    dof = len(s) - 2
    cov = np.linalg.inv(j.T @ j) * rss / dof
    se = np.sqrt(np.diag(cov))
    with open(os.path.join(HERE, "scipy_fit.txt"), "w") as f:
        f.write("# SciPy %s least_squares(method='lm'), float64 "
                "(examples/michaelis_menten/scipy_reference.py)\n" % scipy.__version__)
        f.write("vmax %r %r\n" % (float(fit.x[0]), float(se[0])))
        f.write("km %r %r\n" % (float(fit.x[1]), float(se[1])))
        f.write("rss %r\n" % rss)
        f.write("nfev %d\nnjev %d\n" % (fit.nfev, fit.njev if fit.njev is not None else -1))


if __name__ == "__main__":
    main()
