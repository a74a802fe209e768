#!/usr/bin/python3
"""Interop check: PyTorch (python3-torch, no ganforge code) loads a generator that
`ganforge export` wrote as safetensors, rebuilds the MLP from the model spec in __metadata__,
draws the same seeded latents as `ganforge sample` and must produce the same images.

Usage: mlp_from_safetensors.py G.safetensors SAMPLES.idx SEED
(SAMPLES.idx written by `ganforge sample ... --seed SEED --out SAMPLES.idx`: idx3 for one
channel, idx4 N x H x W x C for colour.)
"""
import json
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}
MASK = (1 << 64) - 1


def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(data[b:e]), dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
    return tensors, meta


def mix(a, b):
    # ganforge's seed mixing (src/core/rng.h): SplitMix64's finaliser over (a, b).
    z = (a * 0x9E3779B97F4A7C15 + b + 0x632BE59BD9B4E019) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def main():
    path, idx_path, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    tensors, meta = read_safetensors(path)
    spec = json.loads(meta["model_spec"])
    assert spec["arch"] == "mlp" and spec["conditional"] == "none", spec
    sizes = [spec["z_dim"]] + spec["g_hidden"] + [1]
    sizes[-1] = 1
    for d in spec["out_shape"]:
        sizes[-1] *= d
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.LeakyReLU(spec["slope"]))
    if spec["g_out"] == "tanh":
        layers.append(torch.nn.Tanh())
    g = torch.nn.Sequential(*layers)
    g.load_state_dict({k[len("net."):]: v for k, v in tensors.items()}, strict=True)

    raw = open(idx_path, "rb").read()
    ndims = raw[3]
    dims = struct.unpack(">" + "I" * ndims, raw[4:4 + 4 * ndims])
    pixels = torch.frombuffer(bytearray(raw[4 + 4 * ndims:]), dtype=torch.uint8).reshape(dims)
    if ndims == 4:  # colour: idx4 is N x H x W x C, the generator's output is C x H x W
        pixels = pixels.permute(0, 3, 1, 2)
    n = dims[0]
    expected = pixels.reshape(n, -1).int()
    zs = []
    for i in range(n):
        gen = torch.Generator().manual_seed(mix(seed, i))
        if spec["latent"] == "normal":
            zs.append(torch.randn(1, spec["z_dim"], generator=gen))
        else:
            zs.append(torch.rand(1, spec["z_dim"], generator=gen) * 2 - 1)
    with torch.no_grad():
        x = g(torch.cat(zs))
    pixels = ((x + 1) * 127.5).round().clamp(0, 255).int()
    diff = (pixels - expected).abs().max().item()
    print(f"interop: {n} images, max pixel difference {diff}")
    assert diff <= 1, diff


if __name__ == "__main__":
    main()
