#!/usr/bin/python3
"""Golden values for DiffAugment's colour policy, with DiffAugment's own functions (Zhao et al.
2020, DiffAugment_pytorch.py) on python3-torch 1.13 and a CPU generator seeded like the test's.

Run: /usr/bin/python3 tests/golden/make_augment_golden.py > tests/golden/augment.json
"""
import json

import torch


def rand_brightness(x, g):
    return x + (torch.rand(x.size(0), 1, 1, 1, generator=g) - 0.5)


def rand_saturation(x, g):
    x_mean = x.mean(dim=1, keepdim=True)
    return (x - x_mean) * (torch.rand(x.size(0), 1, 1, 1, generator=g) * 2) + x_mean


def rand_contrast(x, g):
    x_mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - x_mean) * (torch.rand(x.size(0), 1, 1, 1, generator=g) + 0.5) + x_mean


x = (torch.arange(4 * 3 * 5 * 5, dtype=torch.float32).reshape(4, 3, 5, 5) % 17) / 8.0 - 1.0
g = torch.Generator().manual_seed(123)
y = rand_contrast(rand_saturation(rand_brightness(x, g), g), g)
print(json.dumps({"color": {"seed": 123, "shape": list(x.shape), "output": y.flatten().tolist()}}))
