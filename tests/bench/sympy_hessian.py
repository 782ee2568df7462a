#!/usr/bin/python3
"""SymPy's Hessian of the 8->6->4->1 network (lecture 7), for README's
comparison with `symgrad gen --hessian --stats`: sympy.hessian of the loss
in its 87 params, then sympy.cse of the 7,569 entries; each stage's time
and the operation count of the result (count_ops of the common
subexpressions and of the entries), or the stage where the cap (300 s,
--cap S) stopped it.  Optional: needs Debian's python3-sympy.

Run: /usr/bin/python3 tests/bench/sympy_hessian.py [--cap S]
"""
import signal
import sys
import time

import sympy as sp


class Capped(Exception):
    pass


def alarm(signum, frame):
    raise Capped()


def network():
    x = sp.symbols("x0:8")
    y = sp.Symbol("y")
    params, h = [], list(x)
    for layer, (rows, cols) in enumerate([(6, 8), (4, 6), (1, 4)], 1):
        W = [[sp.Symbol("W%d_%d_%d" % (layer, i, j)) for j in range(cols)] for i in range(rows)]
        b = [sp.Symbol("b%d_%d" % (layer, i)) for i in range(rows)]
        params += [w for row in W for w in row] + b
        h = [1 / (1 + sp.exp(-(sum(W[i][j] * h[j] for j in range(cols)) + b[i])))
             for i in range(rows)]
    p = h[0]
    loss = -(y * sp.log(p) + (1 - y) * sp.log(1 - p))
    return loss, params


def main():
    cap = float(sys.argv[sys.argv.index("--cap") + 1]) if "--cap" in sys.argv else 300.0
    signal.signal(signal.SIGALRM, alarm)
    loss, params = network()
    print("SymPy %s, %d params, cap %g s" % (sp.__version__, len(params), cap))
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, cap)
    stage = "hessian"
    try:
        H = sp.hessian(loss, params)
        t_h = time.perf_counter() - start
        print("hessian: %.1f s" % t_h)
        stage = "cse"
        subs, exprs = sp.cse(list(H))
        t_c = time.perf_counter() - start - t_h
        print("cse: %.1f s" % t_c)
        stage = "count_ops"
        ops = sum(sp.count_ops(e) for _, e in subs) + sum(sp.count_ops(e) for e in exprs)
        signal.setitimer(signal.ITIMER_REAL, 0)
        print("operations after cse: %d (%d common subexpressions)" % (ops, len(subs)))
        print("total: %.1f s" % (time.perf_counter() - start))
    except Capped:
        print("stopped by the %g s cap in %s, after %.1f s" % (cap, stage,
                                                            time.perf_counter() - start))


if __name__ == "__main__":
    main()
