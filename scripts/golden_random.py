#!/usr/bin/env python3
"""Golden values for rwcnn's random weights, computed independently of the
Swift code (pure Python, no numpy): Philox4x32-10, FNV-1a stream ids and the
mapping from bits to normal/uniform/laplace/logistic documented in
docs/RANDOMNESS.md.

Prints, for seed 42 and stream streamID("encoder.conv1_1.weight"), mean 0 and
std 1, the first 8 values of each distribution rounded to float32 (as Swift
literals for Tests/RWCNNTests/RandomTests.swift), and checks the Philox
known-answer vectors in data/philox4x32_10_kat.txt if that file is given as
the first argument.

    python3 scripts/golden_random.py [path/to/philox4x32_10_kat.txt]
"""
import math
import struct
import sys

MASK32 = 0xFFFFFFFF
M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85


def philox4x32_10(ctr, key):
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for r in range(10):
        if r:
            k0 = (k0 + W0) & MASK32
            k1 = (k1 + W1) & MASK32
        p0 = M0 * c0
        p1 = M1 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0, p1 & MASK32, (p0 >> 32) ^ c3 ^ k1, p0 & MASK32)
    return c0, c1, c2, c3


def fnv1a64(name):
    h = 0xCBF29CE484222325
    for b in name.encode("utf-8"):
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def block(seed, stream, index):
    ctr = (index & MASK32, index >> 32, stream & MASK32, stream >> 32)
    return philox4x32_10(ctr, (seed & MASK32, seed >> 32))


def unit(w):
    return (w + 0.5) / 2.0**32


def value(dist, seed, stream, i, mean=0.0, std=1.0):
    w = block(seed, stream, i)
    u = unit(w[0])
    if dist == "normal":
        return mean + std * (math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * unit(w[1])))
    if dist == "uniform":
        return mean + std * math.sqrt(3.0) * (2.0 * u - 1.0)
    if dist == "laplace":
        b = std / math.sqrt(2.0)
        c = u - 0.5
        return mean - b * (1.0 if c > 0 else -1.0) * math.log(1.0 - 2.0 * abs(c))
    if dist == "logistic":
        s = std * math.sqrt(3.0) / math.pi
        return mean + s * math.log(u / (1.0 - u))
    raise ValueError(dist)


def float32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def check_kat(path):
    n = 0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            words = [int(t, 16) for t in line.split()]
            got = philox4x32_10(tuple(words[0:4]), tuple(words[4:6]))
            assert got == tuple(words[6:10]), (line, [hex(g) for g in got])
            n += 1
    print(f"// {n} known-answer vectors match")


def main():
    if len(sys.argv) > 1:
        check_kat(sys.argv[1])
    seed, name = 42, "encoder.conv1_1.weight"
    stream = fnv1a64(name)
    print(f"// seed {seed}, stream streamID(\"{name}\") = 0x{stream:016x}, mean 0, std 1")
    for dist in ("normal", "uniform", "laplace", "logistic"):
        vals = [float32(value(dist, seed, stream, i)) for i in range(8)]
        print(f"\"{dist}\": [" + ", ".join(f"{v:.9g}" for v in vals) + "],")


if __name__ == "__main__":
    main()
