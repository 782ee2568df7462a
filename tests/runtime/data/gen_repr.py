#!/usr/bin/env python3
"""Regenerates repr.txt: one double per line as `HEX REPR` (float.hex() and
Python's repr).  Run: python3 gen_repr.py > repr.txt.  The C test reads the
committed file; it never runs Python."""
import math
import random
import struct
import sys

vals = [0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.3, 1 / 3, 2 / 3, 0.5, 1.5, 100.0,
        123456789.0, 1e15, 1e16, 1e17, 9999999999999998.0, 1e16 - 2,
        12345678901234567.0, 1e22, 1e23, 1e-4, 1e-5, 0.00012, 0.001,
        1e100, 1e-100, 1e300, 1e308, 5e-324, 1e-310, 2.5e-310,
        sys.float_info.max, -sys.float_info.max, sys.float_info.min,
        sys.float_info.epsilon, math.pi, math.e, 2.0 ** 53, 2.0 ** 53 + 2,
        2.0 ** 63, 2.0 ** 64, 7.804864406585693, 7.804863933862125,
        -16.228801727294922, 0.03185431286692619, 0.195076122879982,
        -3.58447265625, 7.315943039999998, 0.01, 0.09999999999999998,
        0.999, 1e-8, 4.35, 2.675, 1.1, 2.2, 3.3000000000000003,
        123.456, 0.000123456, 1.5e16, 1.5e-5, float("inf"), float("-inf"),
        float("nan")]
for k in range(-1074, 1024):
    vals.append(2.0 ** k)
for k in range(-325, 309):
    vals.append(float("1e%d" % k))
for x in (1e-4, 1e16, 1e-5, 1e15, 2.0 ** -1022, 1.0, 0.1):
    vals.append(math.nextafter(x, 0))
    vals.append(math.nextafter(x, math.inf))
for k in (-24, 89, -1074, -1073, -1022, 1023):
    vals.append(-(2.0 ** k))
rng = random.Random(20240601)
for _ in range(3000):
    bits = rng.getrandbits(64)
    v = struct.unpack("<d", struct.pack("<Q", bits))[0]
    if math.isfinite(v):
        vals.append(v)
for _ in range(2000):
    vals.append(rng.uniform(-10, 10) * 10.0 ** rng.randint(-8, 18))
for _ in range(500):
    vals.append(float(struct.unpack("<f", struct.pack("<f", rng.uniform(-100, 100)))[0]))
for v in vals:
    print(v.hex(), repr(v))
