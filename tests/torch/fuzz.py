#!/usr/bin/python3
"""Differential fuzz of symgrad against PyTorch's autograd.

Optional, by hand (needs Debian's python3-torch; the test suite never runs
it): draws N random models from seed SEED over the language (elementwise
functions, broadcasting operands, where, comparisons, clamp, min/max, @ in
every form, W' and transpose, slices, columns, sub-matrices, rows, elements,
flatten, reshape, concat, stack, outer, diag, indexing by an input value,
sum, mean, dot, logsumexp, softmax, and losses sum/mean/mse/cross_entropy),
writes each to OUT/fzK.sg, evaluates its loss and gradient with
`symgrad eval --loops never` and `--loops always` (which must print the same
bytes) and with PyTorch at the same point, and prints every model whose
values differ by more than 1e-10 relative (float64) or 2e-4 (float32).

usage: /usr/bin/python3 tests/torch/fuzz.py SYMGRAD N SEED OUT [float]
Then, for the batch: sh tests/loops/compare.sh SYMGRAD OUT/fzK.sg double cc
tests/loops/compare.c -O1 all (every form, the batch too, the same bits).
"""
import json, math, os, random, subprocess, sys
import torch
import torch.nn.functional as F
torch.set_default_dtype(torch.float64)
SG = sys.argv[1]; N = int(sys.argv[2]); SEED = int(sys.argv[3]); OUT = sys.argv[4]
FLOAT = len(sys.argv) > 5 and sys.argv[5] == "float"
TOL = 2e-4 if FLOAT else 1e-10
os.makedirs(OUT, exist_ok=True)

UN = [("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("sin", torch.sin), ("cos", torch.cos),
      ("atan", torch.atan), ("erf", torch.erf), ("softsign", F.softsign), ("silu", F.silu),
      ("gelu", F.gelu), ("asinh", torch.asinh), ("square", torch.square), ("softplus", F.softplus),
      ("logsigmoid", F.logsigmoid), ("elu", F.elu), ("erfc", torch.erfc), ("abs", torch.abs),
      ("relu", torch.relu), ("sinh", torch.sinh), ("cosh", torch.cosh), ("expm1", torch.expm1),
      ("exp2", torch.exp2), ("-", torch.neg), ("sign", torch.sign), ("cbrt1", None),
      ("log1psq", None), ("sqrt1", None), ("log2sq", None), ("exp", torch.exp),
      ("leaky", None), ("clamp", None), ("atanh", None), ("acos", None), ("asin", None), ("tan", None)]

def un_apply(name, s, t):
    if name == "cbrt1": return "cbrt(%s + 3)" % s, lambda e: torch.pow(t(e) + 3, 1/3) if True else None
    if name == "log1psq": return "log1p(square(%s))" % s, lambda e: torch.log1p(torch.square(t(e)))
    if name == "sqrt1": return "sqrt(1 + square(%s))" % s, lambda e: torch.sqrt(1 + torch.square(t(e)))
    if name == "log2sq": return "log2(2 + square(%s))" % s, lambda e: torch.log2(2 + torch.square(t(e)))
    if name == "leaky": return "leaky_relu(%s, 0.1)" % s, lambda e: F.leaky_relu(t(e), 0.1)
    if name == "clamp": return "clamp(%s, -0.5, 0.7)" % s, lambda e: torch.clamp(t(e), -0.5, 0.7)
    if name == "atanh": return "atanh(0.5 * tanh(%s))" % s, lambda e: torch.atanh(0.5 * torch.tanh(t(e)))
    if name == "acos": return "acos(0.9 * sin(%s))" % s, lambda e: torch.acos(0.9 * torch.sin(t(e)))
    if name == "asin": return "asin(0.9 * sin(%s))" % s, lambda e: torch.asin(0.9 * torch.sin(t(e)))
    if name == "tan": return "tan(0.5 * tanh(%s))" % s, lambda e: torch.tan(0.5 * torch.tanh(t(e)))
    if name == "-": return "-(%s)" % s, lambda e: -t(e)
    if name == "exp": return "exp(tanh(%s))" % s, lambda e: torch.exp(torch.tanh(t(e)))
    fn = dict(UN)[name]
    return "%s(%s)" % (name, s), lambda e: fn(t(e))

def bshape(a, b):
    n = max(len(a), len(b)); a2 = (1,) * (n - len(a)) + a; b2 = (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a2, b2):
        if x != y and x != 1 and y != 1: return None
        out.append(max(x, y))
    return tuple(out)

class Gen:
    def __init__(s, rng):
        s.rng = rng; s.params = []; s.inputs = []; s.lines = []; s.nb = 0; s.vals = {}
    def leaf(s, shape=None):
        r = s.rng
        if shape is None:
            shape = r.choice([(), (r.randint(2, 4),), (r.randint(2, 4), r.randint(2, 4)), (r.randint(1, 3), 1)])
        ispar = r.random() < 0.6
        name = ("p%d" if ispar else "x%d") % (len(s.params) if ispar else len(s.inputs))
        vals = torch.tensor([round(r.uniform(-1.5, 1.5), 3) for _ in range(max(1, math.prod(shape)))]).reshape(shape)
        (s.params if ispar else s.inputs).append((name, shape))
        s.vals[name] = vals
        return (name, lambda e, n=name: e[n], shape)
    def pick(s, depth, shape=None):
        for _ in range(8):
            node = s.pick_any(depth, shape)
            if shape is None or tuple(node[2]) == tuple(shape):
                return node
        return s.leaf(shape)
    def pick_any(s, depth, shape=None):
        r = s.rng
        if depth <= 0 or r.random() < 0.2:
            if shape is None and s.params and r.random() < 0.3:
                name, sh = r.choice(s.params + s.inputs)
                return (name, lambda e, n=name: e[n], sh)
            return s.leaf(shape)
        k = r.random()
        if k < 0.25:
            a = s.pick(depth - 1, shape)
            txt, fn = un_apply(r.choice(UN)[0], a[0], a[1])
            return (txt, fn, a[2])
        if k < 0.5:
            a = s.pick(depth - 1, shape)
            for _ in range(5):
                b = s.pick(depth - 1, r.choice([None, (), a[2], a[2][-1:] if a[2] else ()]))
                sh = bshape(a[2], b[2])
                if sh is not None and (shape is None or sh == shape): break
            else:
                return a
            op = r.choice(["+", "-", "*", "/", "max", "min", "hypot", "atan2", "where", "gate", "^"])
            A, B = a[1], b[1]
            if op == "/":
                return ("(%s) / (2 + tanh(%s))" % (a[0], b[0]), lambda e: A(e) / (2 + torch.tanh(B(e))), sh)
            if op in "+-*":
                f = {"+": torch.add, "-": torch.sub, "*": torch.mul}[op]
                return ("(%s) %s (%s)" % (a[0], op, b[0]), lambda e: f(A(e), B(e)), sh)
            if op in ("max", "min"):
                f = torch.maximum if op == "max" else torch.minimum
                return ("%s(%s, %s)" % (op, a[0], b[0]), lambda e: f(*torch.broadcast_tensors(A(e), B(e))), sh)
            if op == "hypot":
                return ("hypot(%s, %s)" % (a[0], b[0]), lambda e: torch.hypot(*torch.broadcast_tensors(A(e), B(e))), sh)
            if op == "atan2":
                return ("atan2(%s, 2 + sigmoid(%s))" % (a[0], b[0]), lambda e: torch.atan2(*torch.broadcast_tensors(A(e), 2 + torch.sigmoid(B(e)))), sh)
            if op == "where":
                c = s.pick(depth - 1, None)
                sh2 = bshape(sh, c[2])
                if sh2 != sh: c = s.leaf(())
                C = c[1]
                return ("where(%s > 0.1, %s, %s)" % (c[0], a[0], b[0]), lambda e: torch.where(C(e) > 0.1, A(e), B(e)), sh)
            if op == "gate":
                return ("(%s > %s) * (%s)" % (a[0], b[0], a[0]), lambda e: (A(e) > B(e)).double() * A(e), sh)
            if op == "^":
                p = r.choice([2, 3])
                return ("(%s) ^ %d" % (a[0], p), lambda e: A(e) ** p, a[2])
        if k < 0.62:  # matmul
            m, n = r.randint(1, 4), r.randint(2, 4)
            form = r.choice(["Mv", "vM", "MM", "vv", "Mtv", "MT"])
            if form == "Mv":
                M = s.pick(depth - 1, (m, n)); v = s.pick(depth - 1, (n,))
                return ("(%s) @ (%s)" % (M[0], v[0]), lambda e: M[1](e) @ v[1](e), (m,))
            if form == "vM":
                v = s.pick(depth - 1, (m,)); M = s.pick(depth - 1, (m, n))
                return ("(%s) @ (%s)" % (v[0], M[0]), lambda e: v[1](e) @ M[1](e), (n,))
            if form == "MM":
                p = r.randint(1, 3)
                A = s.pick(depth - 1, (m, n)); B = s.pick(depth - 1, (n, p))
                return ("(%s) @ (%s)" % (A[0], B[0]), lambda e: A[1](e) @ B[1](e), (m, p))
            if form == "vv":
                a = s.pick(depth - 1, (n,)); b = s.pick(depth - 1, (n,))
                return ("(%s) @ (%s)" % (a[0], b[0]), lambda e: a[1](e) @ b[1](e), ())
            if form == "Mtv":
                M = s.leaf((n, m)); v = s.pick(depth - 1, (n,))
                return ("%s' @ (%s)" % (M[0], v[0]), lambda e: M[1](e).T @ v[1](e), (m,))
            M = s.leaf((m, n))
            return ("transpose(%s)" % M[0], lambda e: M[1](e).T, (n, m))
        if k < 0.72:  # reductions
            a = s.pick(depth - 1, None)
            op = r.choice(["sum", "mean", "logsumexp", "softmax", "dot"])
            if op in ("logsumexp", "softmax"):
                if len(a[2]) != 1: a = s.pick(depth - 1, (3,))
                if op == "logsumexp": return ("logsumexp(%s)" % a[0], lambda e: torch.logsumexp(a[1](e), 0), ())
                return ("softmax(%s)" % a[0], lambda e: F.softmax(a[1](e), 0), a[2])
            if op == "dot":
                if len(a[2]) != 1: a = s.pick(depth - 1, (3,))
                b = s.pick(depth - 1, a[2])
                return ("dot(%s, %s)" % (a[0], b[0]), lambda e: torch.dot(a[1](e), b[1](e)), ())
            f = torch.sum if op == "sum" else torch.mean
            return ("%s(%s)" % (op, a[0]), lambda e: f(a[1](e)), ())
        if k < 0.9:  # views
            op = r.choice(["slice", "col", "sub", "row", "elem", "flatten", "reshape", "concat", "stack", "outer", "diagv", "diagm", "index", "vindex", "index2"])
            if op in ("index", "vindex", "index2"):
                m, n = r.randint(2, 4), r.randint(2, 4)
                E = s.leaf((m, n) if op != "vindex" else (m,)) if r.random() < 0.7 else s.pick(depth - 1, (m, n) if op != "vindex" else (m,))
                tok = "k%d" % len(s.inputs); s.inputs.append((tok, ())); s.vals[tok] = torch.tensor(float(r.randint(0, m - 1)))
                base = E[0] if E[0].isidentifier() else None
                if base is None:
                    name = "t%d" % s.nb; s.nb += 1; s.lines.append("%s = %s" % (name, E[0])); base = name
                Ef = E[1]
                if op == "vindex":
                    return ("%s[%s]" % (base, tok), lambda e, tok=tok: Ef(e)[int(e[tok].item())], ())
                if op == "index":
                    return ("%s[%s]" % (base, tok), lambda e, tok=tok: Ef(e)[int(e[tok].item())], (n,))
                j = r.randint(0, n - 1)
                return ("%s[%s, %d]" % (base, tok, j), lambda e, tok=tok: Ef(e)[int(e[tok].item()), j], ())
            if op == "slice":
                n = r.randint(3, 5); a = s.pick(depth - 1, (n,)); lo = r.randint(0, n - 2); hi = r.randint(lo + 1, n)
                return ("(%s)[%d:%d]" % (a[0], lo, hi), lambda e: a[1](e)[lo:hi], (hi - lo,))
            if op in ("col", "sub", "row", "elem"):
                m, n = r.randint(2, 4), r.randint(2, 4); M = s.leaf((m, n)) if r.random() < 0.5 else s.pick(depth - 1, (m, n))
                if op == "col":
                    j = r.randint(0, n - 1)
                    return ("%s[:, %d]" % (M[0], j) if M[0].isidentifier() else "(%s)[:, %d]" % (M[0], j), lambda e: M[1](e)[:, j], (m,))
                if op == "row":
                    i = r.randint(0, m - 1)
                    return ("(%s)[%d]" % (M[0], i), lambda e: M[1](e)[i], (n,))
                if op == "elem":
                    i, j = r.randint(0, m - 1), r.randint(0, n - 1)
                    return ("(%s)[%d, %d]" % (M[0], i, j), lambda e: M[1](e)[i, j], ())
                a0 = r.randint(0, m - 1); a1 = r.randint(a0 + 1, m); b0 = r.randint(0, n - 1); b1 = r.randint(b0 + 1, n)
                return ("(%s)[%d:%d, %d:%d]" % (M[0], a0, a1, b0, b1), lambda e: M[1](e)[a0:a1, b0:b1], (a1 - a0, b1 - b0))
            if op == "flatten":
                M = s.pick(depth - 1, (r.randint(2, 3), r.randint(2, 3)))
                return ("flatten(%s)" % M[0], lambda e: M[1](e).flatten(), (math.prod(M[2]),))
            if op == "reshape":
                a, b = r.randint(2, 3), r.randint(2, 3); v = s.pick(depth - 1, (a * b,))
                return ("reshape(%s, %d, %d)" % (v[0], a, b), lambda e: v[1](e).reshape(a, b), (a, b))
            if op == "concat":
                u = s.pick(depth - 1, (r.randint(1, 3),)); v = s.pick(depth - 1, (r.randint(1, 3),))
                return ("concat(%s, %s)" % (u[0], v[0]), lambda e: torch.cat([u[1](e), v[1](e)]), (u[2][0] + v[2][0],))
            if op == "stack":
                n = r.randint(2, 3); u = s.pick(depth - 1, (n,)); v = s.pick(depth - 1, (n,))
                return ("stack(%s, %s)" % (u[0], v[0]), lambda e: torch.stack([u[1](e), v[1](e)]), (2, n))
            if op == "outer":
                u = s.pick(depth - 1, (r.randint(2, 3),)); v = s.pick(depth - 1, (r.randint(2, 3),))
                return ("outer(%s, %s)" % (u[0], v[0]), lambda e: torch.outer(u[1](e), v[1](e)), (u[2][0], v[2][0]))
            if op == "diagv":
                u = s.pick(depth - 1, (r.randint(2, 3),))
                return ("diag(%s)" % u[0], lambda e: torch.diag(u[1](e)), (u[2][0], u[2][0]))
            n = r.randint(2, 3); M = s.pick(depth - 1, (n, n))
            return ("diag(%s)" % M[0], lambda e: torch.diagonal(M[1](e)), (n,))
        # bind a subexpression to a name
        a = s.pick(depth - 1, shape)
        name = "t%d" % s.nb; s.nb += 1
        s.lines.append("%s = %s" % (name, a[0]))
        return (name, a[1], a[2])

def fmt(v):
    if v.dim() == 0: return repr(v.item())
    if v.dim() == 1: return "[" + ",".join(repr(x) for x in v.tolist()) + "]"
    return "[" + ",".join("[" + ",".join(repr(x) for x in row) + "]" for row in v.tolist()) + "]"

def decl(name, shape):
    return name + ("" if shape == () else "[%s]" % ", ".join(str(d) for d in shape))

def one(k):
    rng = random.Random(SEED * 100003 + k)
    g = Gen(rng)
    body = g.pick(rng.randint(2, 5), None)
    lk = rng.random()
    if lk < 0.6 or not body[2]:
        loss_txt = "sum(%s)" % body[0] if body[2] else body[0]
        lossf = (lambda e: torch.sum(body[1](e))) if body[2] else body[1]
    elif lk < 0.75:
        y = g.leaf(body[2]); lossf = lambda e: F.mse_loss(body[1](e), y[1](e)); loss_txt = "mse(%s, %s)" % (body[0], y[0])
    elif lk < 0.88 or len(body[2]) != 1:
        loss_txt = "mean(sigmoid(%s))" % body[0]; lossf = lambda e: torch.mean(torch.sigmoid(body[1](e)))
    else:
        n = body[2][0]; cls = rng.randint(0, n - 1)
        g.inputs.append(("cls", ())); g.vals["cls"] = torch.tensor(float(cls))
        loss_txt = "cross_entropy(%s, cls)" % body[0]
        lossf = lambda e: F.cross_entropy(body[1](e).unsqueeze(0), torch.tensor([cls]))
    if not g.params:
        name = "p0"; g.params.append((name, ())); g.vals[name] = torch.tensor(0.25)
        loss_txt = "(%s) + square(%s)" % (loss_txt, g.params[-1][0]); lf0 = lossf; pn = g.params[-1][0]
        lossf = lambda e: lf0(e) + torch.square(e[pn])
    src = ["model fz%d" % k]
    if g.inputs: src.append("input " + ", ".join(decl(n, sh) for n, sh in g.inputs))
    src.append("param " + ", ".join(decl(n, sh) + " = 0.5" for n, sh in g.params))
    src += g.lines
    src.append("loss = %s" % loss_txt)
    path = os.path.join(OUT, "fz%d.sg" % k)
    open(path, "w").write("\n".join(src) + "\n")
    env = {n: g.vals[n].clone().to(torch.float32 if FLOAT else torch.float64).requires_grad_(any(n == p for p, _ in g.params)) for n in g.vals}
    try:
        L = lossf(env)
        L.backward()
    except Exception as ex:
        return None if "does not require grad" in str(ex) else "torch-error %s" % ex
    declared = [n for n, _ in g.inputs + g.params]
    at = ",".join("%s=%s" % (n, fmt(g.vals[n])) for n in declared)
    res = []
    for loops in ("never", "always"):
        p = subprocess.run([SG, "eval", path, "--at", at, "--format", "json", "--loops", loops] + (["--dtype", "float"] if FLOAT else []), capture_output=True, text=True)
        if p.returncode != 0:
            return "sg-error(%s): %s" % (loops, p.stderr.strip()[:300])
        res.append(json.loads(p.stdout))
    if res[0] != res[1]:
        return "forms differ"
    j = res[0]
    lt = L.item()
    def bad(a, b):
        if math.isnan(a) and math.isnan(b): return False
        return not (abs(a - b) <= TOL * max(1.0, abs(b)))
    msgs = []
    if bad(j["loss"], lt): msgs.append("loss %r vs torch %r" % (j["loss"], lt))
    for n, sh in g.params:
        gr = env[n].grad
        if gr is None: gr = torch.zeros(sh)
        flat = gr.reshape(-1).tolist()
        idx = [()] if sh == () else [tuple(i) for i in torch.cartesian_prod(*[torch.arange(d) for d in sh]).reshape(-1, len(sh)).tolist()] if len(sh) > 1 else [(i,) for i in range(sh[0])]
        for q, ix in enumerate(idx):
            key = n if sh == () else "%s[%s]" % (n, ",".join(str(i) for i in ix))
            if key not in j["grad"]:
                msgs.append("missing %s" % key); continue
            if bad(j["grad"][key], flat[q]): msgs.append("d%s %r vs torch %r" % (key, j["grad"][key], flat[q]))
    return "; ".join(msgs[:4]) if msgs else None

bad = 0
for k in range(N):
    try:
        m = one(k)
    except Exception as ex:
        m = "harness %r" % ex
    if m:
        bad += 1
        print("fz%d: %s" % (k, m), flush=True)
print("done %d, %d flagged" % (N, bad))
