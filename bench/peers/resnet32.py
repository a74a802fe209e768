#!/usr/bin/python3
"""PyTorch peer of ganforge's `model.arch = resnet` at 32x32x3 (src/models/resnet.h), as run by
bench/run.py: configs/emoji_32.json with model.arch=resnet, g_channels = d_channels = 64 and no
augmentation. SN-GAN's CIFAR-10 ResNet (Miyato et al. 2018; mimicry's cgan_pd_32) with
conditional batch norm on a shared class embedding (BigGAN): G: z -> 4x4x64, three GBlocks to
32x32, BN, ReLU, conv3x3, tanh; D: optimized block (16x16), one downsampling block (8x8), two
blocks at 8x8, ReLU, sum pooling, spectral norm everywhere, projection head. Hinge loss, Adam 2e-4
(0.5, 0.999), 10 classes (ganforge bench's synthetic labels).
Usage: resnet32.py batch=64 steps=30 [width=1.0] [threads=1]"""
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm as sn

from common import args, peak_rss_mib

batch, steps, warmup, threads, width, device = args()
torch.set_num_threads(threads)
torch.manual_seed(0)
c, z_dim, classes, emb = int(64 * width), 100, 10, 16


class ClassBatchNorm(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.bn = nn.BatchNorm2d(ch, affine=False)
        self.gain = nn.Linear(emb, ch)
        self.bias = nn.Linear(emb, ch)

    def forward(self, x, e):
        return self.bn(x) * (1 + self.gain(e)[:, :, None, None]) + self.bias(e)[:, :, None, None]


class GBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.bn1, self.bn2 = ClassBatchNorm(c), ClassBatchNorm(c)
        self.conv1, self.conv2 = nn.Conv2d(c, c, 3, 1, 1), nn.Conv2d(c, c, 3, 1, 1)
        self.shortcut = nn.Conv2d(c, c, 1)

    def forward(self, x, e):
        h = self.conv1(F.interpolate(F.relu(self.bn1(x, e)), scale_factor=2))
        h = self.conv2(F.relu(self.bn2(h, e)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2))


class G(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(classes, emb)
        self.project = nn.Linear(z_dim, c * 16)
        self.blocks = nn.ModuleList(GBlock() for _ in range(3))
        self.bn = nn.BatchNorm2d(c)
        self.out = nn.Conv2d(c, 3, 3, 1, 1)

    def forward(self, z, y):
        e = self.embed(y)
        h = self.project(z).view(-1, c, 4, 4)
        for b in self.blocks:
            h = b(h, e)
        return torch.tanh(self.out(F.relu(self.bn(h))))


class DBlock(nn.Module):
    def __init__(self, i, down, optimized):
        super().__init__()
        self.down, self.optimized = down, optimized
        self.conv1, self.conv2 = sn(nn.Conv2d(i, c, 3, 1, 1)), sn(nn.Conv2d(c, c, 3, 1, 1))
        self.shortcut = sn(nn.Conv2d(i, c, 1)) if (i != c or down) else None

    def forward(self, x):
        h = self.conv2(F.relu(self.conv1(x if self.optimized else F.relu(x))))
        if self.down:
            h, x = F.avg_pool2d(h, 2), F.avg_pool2d(x, 2)
        return h + (self.shortcut(x) if self.shortcut is not None else x)


class D(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(DBlock(3, True, True), DBlock(c, True, False),
                                    DBlock(c, False, False), DBlock(c, False, False))
        self.out = sn(nn.Linear(c, 1))
        self.project = sn(nn.Embedding(classes, c))

    def forward(self, x, y):
        h = F.relu(self.blocks(x)).sum((2, 3))
        return self.out(h).view(-1) + (self.project(y) * h).sum(1)


g, d = G().to(device), D().to(device)
data = (torch.rand(batch * 4, 3, 32, 32) * 2 - 1).to(device)
labels = torch.randint(0, classes, (batch * 4,), device=device)
opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
times = []
for i in range(warmup + steps):
    t = time.perf_counter()
    idx = torch.randint(0, data.shape[0], (batch,), device=device)
    real, y = data[idx], labels[idx]
    z = torch.randn(batch, z_dim, device=device)
    fake = g(z, y)
    loss_d = F.relu(1 - d(real, y)).mean() + F.relu(1 + d(fake.detach(), y)).mean()
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    for p in d.parameters():
        p.requires_grad_(False)
    loss_g = -d(fake, y).mean()
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
                  "threads": torch.get_num_threads(), "peak_rss_mib": peak_rss_mib(),
                  "params_g": sum(p.numel() for p in g.parameters()),
                  "params_d": sum(p.numel() for p in d.parameters())}))
