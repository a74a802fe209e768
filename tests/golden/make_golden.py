#!/usr/bin/python3
"""Golden values for ganforge's unit tests, computed with PyTorch (Debian's python3-torch 1.13).

Run: /usr/bin/python3 tests/golden/make_golden.py > tests/golden/golden.json
The tests compare ganforge's C++ results against these numbers, never against its own output.
"""
import json

import torch
import torch.nn.functional as F


def mlp(sizes, slope, tanh):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.LeakyReLU(slope))
    if tanh:
        layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


def count(m):
    return sum(p.numel() for p in m.parameters())


specs = {
    # The seed's MNIST GAN: G 100-128-256-512-784, D 784-512-256-128-1.
    "seed_mnist": {"g": [100, 128, 256, 512, 784], "d": [784, 512, 256, 128, 1]},
    # The 2-D ring preset: G 16-128-128-128-2, D 2-128-128-128-1.
    "ring": {"g": [16, 128, 128, 128, 2], "d": [2, 128, 128, 128, 1]},
}
params = {k: {"G": count(mlp(v["g"], 0.01, True)), "D": count(mlp(v["d"], 0.01, False))}
          for k, v in specs.items()}

real = torch.tensor([2.5, -1.0, 0.3, 7.0, -30.0, 0.0], dtype=torch.float64)
fake = torch.tensor([-2.0, 1.5, -0.7, -9.0, 40.0, 0.1], dtype=torch.float64)
# The seed's losses through PyTorch's own BCE-with-logits (D(x) = sigmoid(logit)).
d_loss = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) +
          F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
g_ns = F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
g_minimax = -F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))

print(json.dumps({
    "torch_version": torch.__version__,
    "parameters": params,
    "bce": {"real_logits": real.tolist(), "fake_logits": fake.tolist(), "d_loss": d_loss.item(),
            "g_nonsaturating": g_ns.item(), "g_minimax": g_minimax.item()},
}, indent=2))
