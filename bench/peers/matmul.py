#!/usr/bin/python3
"""The machine's ceiling through the same libraries: GFLOP/s of a 512^3 matrix product in fp32
and bf16 on one thread. Usage: matmul.py"""
import json
import time

import torch

torch.set_num_threads(1)
out = {}
for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
    a = torch.randn(512, 512).to(dtype)
    b = torch.randn(512, 512).to(dtype)
    for _ in range(5):
        a @ b
    best = 1e9
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(10):
            a @ b
        best = min(best, (time.perf_counter() - t) / 10)
    out[name + "_gflops"] = 2 * 512 ** 3 / best / 1e9
print(json.dumps(out))
