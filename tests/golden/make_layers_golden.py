#!/usr/bin/python3
"""Golden values for ganforge's minibatch standard deviation layer: StyleGAN2-ADA's
MinibatchStdLayer (training/networks.py, num_channels=1) on python3-torch 1.13.

Run: /usr/bin/python3 tests/golden/make_layers_golden.py > tests/golden/layers.json
"""
import json

import torch


def mbstd(x, group_size):
    # StyleGAN2-ADA, with the group size reduced until it divides the batch (ganforge's rule).
    N, C, H, W = x.shape
    G = min(group_size, N)
    while N % G:
        G -= 1
    F, c = 1, C
    y = x.reshape(G, -1, F, c, H, W)
    y = y - y.mean(dim=0)
    y = y.square().mean(dim=0)
    y = (y + 1e-8).sqrt()
    y = y.mean(dim=[2, 3, 4])
    y = y.reshape(-1, F, 1, 1)
    y = y.repeat(G, 1, H, W)
    return torch.cat([x, y], dim=1)


cases = []
for n, group in [(8, 4), (6, 4), (5, 4), (1, 4)]:
    x = torch.sin(torch.arange(n * 3 * 2 * 2, dtype=torch.float32) * 0.37).reshape(n, 3, 2, 2)
    cases.append({"n": n, "group": group, "input": x.flatten().tolist(),
                  "output": mbstd(x, group).flatten().tolist()})
print(json.dumps({"mbstd": cases}))
