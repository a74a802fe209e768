#!/usr/bin/python3
"""PyTorch peer of ganforge's seed MLP GAN (configs/mlp_mnist.json): G 100-128-256-512-784 (tanh),
D 784-512-256-128-1, LeakyReLU 0.01, Adam 2e-4 (0.9, 0.999). Usage: mlp_gan.py batch=128 steps=30"""
import torch.nn as nn

from common import args, run

batch, steps, warmup, threads, width, device = args()


def mlp(sizes, tanh):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.01))
    if tanh:
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)


w = lambda n: int(n * width)
g = nn.Sequential(mlp([100, w(128), w(256), w(512), 784], True), nn.Unflatten(1, (1, 28, 28)))
d = nn.Sequential(nn.Flatten(), mlp([784, w(512), w(256), w(128), 1], False))
run(g, d, 100, batch, (1, 28, 28), 2e-4, (0.9, 0.999), steps, warmup, threads, device)
