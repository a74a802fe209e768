#!/usr/bin/python3
"""PyTorch peer of ganforge's colour preset configs/emoji_32.json: a conditional DCGAN at 32x32x3
(G: [z, embed(y)] -> 4x4x128 -> 8 -> 16 -> 32, BN + ReLU; D: three strided convolutions with
spectral norm, no BN, projection head), hinge loss, DiffAugment translation + cutout on both of
D's inputs, Adam 2e-4 (0.5, 0.999), 9 classes. Usage: cdcgan32.py batch=64 steps=30"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm as sn

from common import args, peak_rss_mib

batch, steps, warmup, threads, width, device = args()
torch.set_num_threads(threads)
torch.manual_seed(0)
c, z_dim, classes, emb = int(32 * width), 100, 9, 16


class G(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(classes, emb)
        self.project = nn.Linear(z_dim + emb, 4 * c * 16, bias=False)
        self.net = nn.Sequential(
            nn.BatchNorm2d(4 * c), nn.ReLU(),
            nn.ConvTranspose2d(4 * c, 2 * c, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * c), nn.ReLU(),
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
            nn.ConvTranspose2d(c, 3, 4, 2, 1), nn.Tanh())

    def forward(self, z, y):
        h = self.project(torch.cat([z, self.embed(y)], 1))
        return self.net(h.view(-1, 4 * c, 4, 4))


class D(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            sn(nn.Conv2d(3, c, 4, 2, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(c, 2 * c, 4, 2, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(2 * c, 4 * c, 4, 2, 1)), nn.LeakyReLU(0.2), nn.Flatten())
        self.out = sn(nn.Linear(4 * c * 16, 1))
        self.project = sn(nn.Embedding(classes, 4 * c * 16))

    def forward(self, x, y):
        h = self.body(x)
        return self.out(h).view(-1) + (self.project(y) * h).sum(1)


def translation(x):
    n, _, h, w = x.shape
    sh, sw = int(h * 0.125 + 0.5), int(w * 0.125 + 0.5)
    dy = torch.randint(-sh, sh + 1, (n,))
    dx = torch.randint(-sw, sw + 1, (n,))
    p = F.pad(x, (sw, sw, sh, sh))
    return torch.stack([p[i, :, sh + dy[i]:sh + dy[i] + h, sw + dx[i]:sw + dx[i] + w]
                        for i in range(n)])


def cutout(x):
    n, _, h, w = x.shape
    ch, cw = int(h * 0.5 + 0.5), int(w * 0.5 + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (n,))
    cx = torch.randint(0, w + (1 - cw % 2), (n,))
    mask = torch.ones(n, 1, h, w)
    for i in range(n):
        y0, x0 = max(0, cy[i] - ch // 2), max(0, cx[i] - cw // 2)
        mask[i, :, y0:min(h, cy[i] - ch // 2 + ch), x0:min(w, cx[i] - cw // 2 + cw)] = 0
    return x * mask


def aug(x):
    return cutout(translation(x))


g, d = G().to(device), D().to(device)
data = torch.rand(batch * 4, 3, 32, 32) * 2 - 1
labels = torch.randint(0, classes, (batch * 4,))
opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
times = []
for i in range(warmup + steps):
    t = time.perf_counter()
    idx = torch.randint(0, data.shape[0], (batch,))
    real, y = data[idx], labels[idx]
    z = torch.randn(batch, z_dim)
    fake = g(z, y)
    loss_d = F.relu(1 - d(aug(real), y)).mean() + F.relu(1 + d(aug(fake.detach()), y)).mean()
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    for p in d.parameters():
        p.requires_grad_(False)
    loss_g = -d(aug(fake), y).mean()
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    for p in d.parameters():
        p.requires_grad_(True)
    loss_d.item(), loss_g.item()
    if i >= warmup:
        times.append((time.perf_counter() - t) * 1000)
times.sort()
q = lambda f: times[min(len(times) - 1, int(f * (len(times) - 1) + 0.5))]
print(json.dumps({"ms_per_step": statistics.median(times), "ms_p10": q(0.1), "ms_p90": q(0.9),
                  "threads": torch.get_num_threads(), "peak_rss_mib": peak_rss_mib()}))
