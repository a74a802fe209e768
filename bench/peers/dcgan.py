#!/usr/bin/python3
"""PyTorch peer of ganforge's dcgan at 28x28 (configs/dcgan_mnist.json): 32 channels, BN, Adam
2e-4 (0.5, 0.999). Usage: dcgan.py batch=64 steps=30"""
import torch.nn as nn

from common import args, run

batch, steps, warmup, threads, width, device = args()
c = int(32 * width)
g = nn.Sequential(
    nn.Linear(100, 2 * c * 49, bias=False), nn.Unflatten(1, (2 * c, 7, 7)),
    nn.BatchNorm2d(2 * c), nn.ReLU(),
    nn.ConvTranspose2d(2 * c, c, 4, 2, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
    nn.ConvTranspose2d(c, 1, 4, 2, 1), nn.Tanh())
d = nn.Sequential(
    nn.Conv2d(1, c, 4, 2, 1), nn.LeakyReLU(0.2),
    nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * c), nn.LeakyReLU(0.2),
    nn.Flatten(), nn.Linear(2 * c * 49, 1))
run(g, d, 100, batch, (1, 28, 28), 2e-4, (0.5, 0.999), steps, warmup, threads, device)
