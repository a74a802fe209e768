#!/usr/bin/python3
"""Golden values for ganforge's ResNet GAN (src/models/resnet.h), computed with PyTorch (Debian's
python3-torch 1.13) from the architecture written here in torch.nn, as SN-GAN's CIFAR-10 models
(Miyato et al. 2018; kwotsin/mimicry's cgan_pd_32) with a shared class embedding for conditional
batch norm (BigGAN, Brock et al. 2019), independently of ganforge's code.

Run: /usr/bin/python3 tests/golden/make_resnet_golden.py > tests/golden/resnet.json

Weights come from torch.manual_seed and are written out under ganforge's parameter names
(torch's spectral_norm names weight_orig / weight_u / weight_v become weight / u / v); inputs
are pattern(shape, offset) = sin(0.37 * i + offset), i = 0, 1, ... in row-major order, float64.
Everything runs in float64, in training mode (batch statistics, one power iteration), as the
first forward pass of a training step; "out_eval" (28x28 only, to keep the file small) is G in
eval mode after that pass (running statistics). Outputs are rounded to 10 decimals; at 32x32x3,
"out" holds every out_stride-th value of the flattened output.
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm


def pattern(shape, offset):
    n = 1
    for s in shape:
        n *= s
    return torch.sin(torch.arange(n, dtype=torch.float64) * 0.37 + offset).reshape(shape)


def geometry(size):
    """G: base 4 or 7 and one block per doubling; D: downsampling blocks (the optimized first
    one included) until the map is at most 8x8, then two blocks at that size."""
    for base in (7, 4):
        s, steps = base, 0
        while s < size:
            s, steps = s * 2, steps + 1
        if s == size and steps >= 1:
            break
    s, down = size // 2, 1
    while s > 8:
        s, down = s // 2, down + 1
    return base, steps, down


class ClassBatchNorm(nn.Module):
    def __init__(self, c, e):
        super().__init__()
        self.bn = nn.BatchNorm2d(c, affine=False)
        self.gain = nn.Linear(e, c)
        self.bias = nn.Linear(e, c)

    def forward(self, x, e):
        return (self.bn(x) * (1 + self.gain(e)[:, :, None, None]) +
                self.bias(e)[:, :, None, None])


class GBlock(nn.Module):
    def __init__(self, c, emb):
        super().__init__()
        self.bn1 = ClassBatchNorm(c, emb) if emb else nn.BatchNorm2d(c)
        self.bn2 = ClassBatchNorm(c, emb) if emb else nn.BatchNorm2d(c)
        self.conv1 = nn.Conv2d(c, c, 3, 1, 1)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1)
        self.shortcut = nn.Conv2d(c, c, 1)

    def forward(self, x, e):
        norm = (lambda bn, h: bn(h, e)) if e is not None else (lambda bn, h: bn(h))
        h = self.conv1(F.interpolate(F.relu(norm(self.bn1, x)), scale_factor=2, mode="nearest"))
        h = self.conv2(F.relu(norm(self.bn2, h)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2, mode="nearest"))


class Generator(nn.Module):
    def __init__(self, size, nc, c, z_dim, classes, emb, conditional):
        super().__init__()
        self.base, steps, _ = geometry(size)
        self.c = c
        self.embed = nn.Embedding(classes, emb) if conditional else None
        self.project = nn.Linear(z_dim, c * self.base * self.base)
        self.blocks = nn.ModuleList(GBlock(c, emb if conditional else 0) for _ in range(steps))
        self.bn = nn.BatchNorm2d(c)
        self.out = nn.Conv2d(c, nc, 3, 1, 1)

    def forward(self, z, y):
        e = self.embed(y) if self.embed is not None else None
        h = self.project(z).view(z.shape[0], self.c, self.base, self.base)
        for b in self.blocks:
            h = b(h, e)
        return torch.tanh(self.out(F.relu(self.bn(h))))


def maybe_sn(m, sn):
    return spectral_norm(m) if sn else m


class DBlock(nn.Module):
    def __init__(self, i, o, down, optimized, sn):
        super().__init__()
        self.down, self.optimized = down, optimized
        self.conv1 = maybe_sn(nn.Conv2d(i, o, 3, 1, 1), sn)
        self.conv2 = maybe_sn(nn.Conv2d(o, o, 3, 1, 1), sn)
        self.shortcut = maybe_sn(nn.Conv2d(i, o, 1), sn) if (i != o or down) else None

    def forward(self, x):
        h = self.conv2(F.relu(self.conv1(x if self.optimized else F.relu(x))))
        if self.down:
            h = F.avg_pool2d(h, 2)
        if self.shortcut is None:
            return h + x
        if self.optimized:  # SN-GAN: the optimized block pools first, the others convolve first
            return h + self.shortcut(F.avg_pool2d(x, 2))
        s = self.shortcut(x)
        return h + (F.avg_pool2d(s, 2) if self.down else s)


class Head(nn.Module):
    def __init__(self, c, classes, mode, sn):
        super().__init__()
        self.out = maybe_sn(nn.Linear(c, 1), sn)
        self.aux = maybe_sn(nn.Linear(c, classes), sn) if mode == "acgan" else None
        self.project = maybe_sn(nn.Embedding(classes, c), sn) if mode == "projection" else None

    def forward(self, h, y):
        h = F.relu(h).sum((2, 3))
        logit = self.out(h).view(-1)
        if self.project is not None:
            logit = logit + (self.project(y) * h).sum(1)
        return logit, (self.aux(h) if self.aux is not None else None)


class LabelInput(nn.Module):
    def __init__(self, classes, emb):
        super().__init__()
        self.embed = nn.Embedding(classes, emb)

    def forward(self, x, y):
        e = self.embed(y)[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        return torch.cat([x, e], 1)


class Discriminator(nn.Module):
    def __init__(self, size, nc, c, classes, emb, mode, sn):
        super().__init__()
        _, _, down = geometry(size)
        self.label_input = LabelInput(classes, emb) if mode == "cgan" else None
        first = nc + (emb if mode == "cgan" else 0)
        self.blocks = nn.ModuleList(
            DBlock(first if i == 0 else c, c, i < down, i == 0, sn) for i in range(down + 2))
        self.head = Head(c, classes, mode, sn)

    def forward(self, x, y):
        h = self.label_input(x, y) if self.label_input is not None else x
        for b in self.blocks:
            h = b(h)
        return self.head(h, y)


def count(m):
    return sum(p.numel() for p in m.parameters())


def tensors(m):
    """Parameters and spectral-norm vectors under ganforge's names: {name: [shape, values]}.
    The values are rounded to 6 decimals, in the module too, so that both sides compute with the
    same numbers and the file stays small."""
    out = {}
    items = list(m.named_parameters()) + [(n, b) for n, b in m.named_buffers()
                                          if n.endswith("weight_u") or n.endswith("weight_v")]
    for name, t in items:
        values = [round(v, 6) for v in t.detach().flatten().tolist()]
        with torch.no_grad():
            t.copy_(torch.tensor(values, dtype=t.dtype).view(t.shape))
        name = (name.replace("weight_orig", "weight").replace("weight_u", "u")
                .replace("weight_v", "v"))
        out[name] = [list(t.shape), values]
    return out


def rounded(t, stride=1):
    return [round(v, 10) for v in t.detach().flatten().tolist()[::stride]]


def parameter_counts():
    out = {}
    for size, nc in ((28, 1), (32, 3), (64, 3)):
        for c in (32, 64):
            for mode in ("none", "projection", "acgan", "cgan"):
                g = Generator(size, nc, c, 100, 10, 16, mode != "none")
                d = Discriminator(size, nc, c, 10, 16, mode, True)
                out[f"{size}x{nc}_{mode}_{c}"] = {"G": count(g), "D": count(d)}
    return out


def class_batch_norm():
    torch.manual_seed(1)
    m = ClassBatchNorm(2, 3).double()
    x, e = pattern((3, 2, 2, 2), 0.1), pattern((3, 3), 0.7)
    return {"channels": 2, "embed_dim": 3, "x": [[3, 2, 2, 2], 0.1], "e": [[3, 3], 0.7],
            "tensors": tensors(m), "out": rounded(m(x, e))}


def head():
    torch.manual_seed(2)
    m = Head(4, 3, "projection", True).double()
    h, y = pattern((3, 4, 2, 2), 0.3), torch.tensor([2, 0, 1])
    return {"channels": 4, "classes": 3, "h": [[3, 4, 2, 2], 0.3], "labels": y.tolist(),
            "tensors": tensors(m), "logits": rounded(m(h, y)[0])}


def generators():
    out = {}
    for size, nc, mode in ((28, 1, "projection"), (32, 3, "none")):
        torch.manual_seed(3)
        g = Generator(size, nc, 4, 8, 3, 3, mode != "none").double()
        z, y = pattern((2, 8), 0.2), torch.tensor([2, 1])
        w = tensors(g)
        r = {"size": size, "channels": nc, "conditional": mode, "width": 4, "z_dim": 8,
             "classes": 3, "embed_dim": 3, "z": [[2, 8], 0.2], "labels": y.tolist(),
             "tensors": w}
        # Every value at 28x28; every 5th (of the flattened output) at 32x32x3.
        r["out_stride"] = 1 if size == 28 else 5
        r["out"] = rounded(g(z, y), r["out_stride"])
        if size == 28:
            g.eval()
            with torch.no_grad():
                r["out_eval"] = rounded(g(z, y))
        out[f"{size}x{nc}_{mode}"] = r
    return out


def discriminators():
    out = {}
    for size, nc, mode, sn in ((28, 1, "projection", True), (32, 3, "acgan", True),
                               (32, 3, "cgan", False)):
        torch.manual_seed(4)
        d = Discriminator(size, nc, 4, 3, 3, mode, sn).double()
        x, y = pattern((2, nc, size, size), 0.5), torch.tensor([1, 2])
        w = tensors(d)
        logits, aux = d(x, y)
        r = {"size": size, "channels": nc, "conditional": mode, "spectral_norm": sn, "width": 4,
             "classes": 3, "embed_dim": 3, "x": [[2, nc, size, size], 0.5], "labels": y.tolist(),
             "tensors": w, "logits": rounded(logits)}
        if aux is not None:
            r["class_logits"] = rounded(aux)
        out[f"{size}x{nc}_{mode}"] = r
    return out


print(json.dumps({
    "torch_version": torch.__version__,
    "parameters": parameter_counts(),
    "class_batch_norm": class_batch_norm(),
    "head": head(),
    "generators": generators(),
    "discriminators": discriminators(),
}))
