#!/usr/bin/env python3
"""Prints the reference values of test_rng.c: splitmix64 seeding and
xoshiro256** (Blackman and Vigna's published algorithms) written again in
Python, and sg_rng_shuffle's Fisher-Yates over 0..9 with seed 1."""
M = (1 << 64) - 1


def splitmix(x):
    x = (x + 0x9E3779B97F4A7C15) & M
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return x, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M


def seed(s):
    st = []
    for _ in range(4):
        s, z = splitmix(s)
        st.append(z)
    return st


def nxt(s):
    r = (rotl((s[1] * 5) & M, 7) * 9) & M
    t = (s[1] << 17) & M
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = rotl(s[3], 45)
    return r


def below(s, n):
    th = ((1 << 64) - n) % n
    while True:
        x = nxt(s)
        if x >= th:
            return x % n


for sd in (0, 42):
    s = seed(sd)
    print(sd, [hex(nxt(s)) for _ in range(4)])
s = seed(1)
idx = list(range(10))
for i in range(10, 1, -1):
    j = below(s, i)
    idx[i - 1], idx[j] = idx[j], idx[i - 1]
print(idx)
