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

# A tiny discriminator, 2 -> 3 -> 1 with LeakyReLU 0.2, with fixed weights, for the gradients of
# every loss and penalty with respect to D's parameters.
W1 = [[0.5, -0.3], [0.8, 0.1], [-0.6, 0.4]]
B1 = [0.1, -0.2, 0.05]
W2 = [[0.7, -0.5, 0.9]]
B2 = [0.02]
X_REAL = [[1.0, 0.5], [-0.3, 2.0], [0.8, -1.2], [0.0, 0.3]]
X_FAKE = [[0.2, 0.1], [1.5, -0.5], [-1.0, -1.0], [0.4, 0.9]]
EPS = [0.1, 0.5, 0.9, 0.3]


def tiny_d():
    d = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.LeakyReLU(0.2),
                            torch.nn.Linear(3, 1)).double()
    with torch.no_grad():
        d[0].weight.copy_(torch.tensor(W1, dtype=torch.float64))
        d[0].bias.copy_(torch.tensor(B1, dtype=torch.float64))
        d[2].weight.copy_(torch.tensor(W2, dtype=torch.float64))
        d[2].bias.copy_(torch.tensor(B2, dtype=torch.float64))
    return d


def grads(d, value):
    d.zero_grad()
    value.backward()
    names = ["net.0.weight", "net.0.bias", "head.out.weight", "head.out.bias"]
    return {"value": value.item(),
            "grads": {n: (p.grad if p.grad is not None else torch.zeros_like(p)).flatten().tolist()
                      for n, p in zip(names, d.parameters())}}


def d_losses():
    xr = torch.tensor(X_REAL, dtype=torch.float64)
    xf = torch.tensor(X_FAKE, dtype=torch.float64)
    bce = F.binary_cross_entropy_with_logits
    out = {}
    cases = {
        "bce": lambda r, f: bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f)),
        "bce_smooth": lambda r, f: bce(r, torch.full_like(r, 0.9)) + bce(f, torch.zeros_like(f)),
        "lsgan": lambda r, f: 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f ** 2).mean(),
        "wgan": lambda r, f: f.mean() - r.mean(),
        "hinge": lambda r, f: F.relu(1 - r).mean() + F.relu(1 + f).mean(),
    }
    for name, fn in cases.items():
        d = tiny_d()
        out[name] = grads(d, fn(d(xr).view(-1), d(xf).view(-1)))
    g_cases = {
        "bce": lambda f: bce(f, torch.ones_like(f)),
        "bce_minimax": lambda f: -bce(f, torch.zeros_like(f)),
        "lsgan": lambda f: 0.5 * ((f - 1) ** 2).mean(),
        "wgan": lambda f: -f.mean(),
        "hinge": lambda f: -f.mean(),
    }
    g_out = {}
    for name, fn in g_cases.items():
        d = tiny_d()
        g_out[name] = fn(d(xf).view(-1)).item()
    # R1 (Mescheder et al. 2018): E[|grad_x D(x)|^2] on reals.
    d = tiny_d()
    x = xr.clone().requires_grad_(True)
    (gx,) = torch.autograd.grad(d(x).sum(), x, create_graph=True)
    out["r1"] = grads(d, gx.pow(2).sum(1).mean())
    # WGAN-GP (Gulrajani et al. 2017): E[(|grad D(x_hat)| - 1)^2] on interpolates.
    d = tiny_d()
    e = torch.tensor(EPS, dtype=torch.float64).view(-1, 1)
    xh = (e * xr + (1 - e) * xf).requires_grad_(True)
    (gh,) = torch.autograd.grad(d(xh).sum(), xh, create_graph=True)
    out["gp"] = grads(d, ((gh.norm(2, dim=1) - 1) ** 2).mean())
    return {"W1": W1, "B1": B1, "W2": W2, "B2": B2, "x_real": X_REAL, "x_fake": X_FAKE,
            "eps": EPS, "d": out, "g": g_out}


def spectral():
    # torch.nn.utils.spectral_norm: one power iteration per training-mode forward pass.
    w = torch.tensor([[0.5, -1.0, 0.3, 2.0], [1.5, 0.2, -0.7, 0.1], [-0.4, 0.9, 1.1, -0.6]])
    u0 = torch.tensor([0.6, 0.0, 0.8])
    m = torch.nn.Linear(4, 3, bias=False)
    with torch.no_grad():
        m.weight.copy_(w)
    m = torch.nn.utils.spectral_norm(m)
    with torch.no_grad():
        m.weight_u.copy_(u0)
    for _ in range(3):
        m(torch.zeros(1, 4))
    sigma = (w / m.weight).mean().item()
    return {"w": w.tolist(), "u0": u0.tolist(), "iterations": 3, "sigma": sigma,
            "true_sigma": torch.linalg.matrix_norm(w, 2).item()}


def dcgan(size, nc, ch, z=100):
    base = 7 if size % 7 == 0 else 4
    steps = 0
    s = base
    while s < size:
        s *= 2
        steps += 1
    c0 = ch * 2 ** (steps - 1)
    g = [torch.nn.Linear(z, c0 * base * base, bias=False), torch.nn.BatchNorm2d(c0)]
    c = c0
    for i in range(steps):
        last = i == steps - 1
        o = nc if last else c // 2
        g.append(torch.nn.ConvTranspose2d(c, o, 4, 2, 1, bias=last))
        if not last:
            g.append(torch.nn.BatchNorm2d(o))
        c = o
    d = [torch.nn.Conv2d(nc, ch, 4, 2, 1)]
    c = ch
    for i in range(1, steps):
        d += [torch.nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False), torch.nn.BatchNorm2d(2 * c)]
        c *= 2
    d.append(torch.nn.Linear(c * base * base, 1))
    return {"G": sum(count(m) for m in g), "D": sum(count(m) for m in d)}


print(json.dumps({
    "torch_version": torch.__version__,
    "parameters": params,
    "dcgan": {"28": dcgan(28, 1, 64), "32": dcgan(32, 3, 64), "64": dcgan(64, 3, 64)},
    "losses": d_losses(),
    "spectral_norm": spectral(),
    "bce": {"real_logits": real.tolist(), "fake_logits": fake.tolist(), "d_loss": d_loss.item(),
            "g_nonsaturating": g_ns.item(), "g_minimax": g_minimax.item()},
}, indent=2))
