#!/usr/bin/python3
"""Golden values for classic augmentation (src/data/classic_augment.h): torchvision 0.14's
F.affine(img, angle, translate, scale=1, shear=0) geometry, reproduced from its source
(_get_inverse_affine_matrix, _gen_affine_grid; python3-torch here has no torchvision), sampled
bilinearly with border padding as ganforge does.

Run: /usr/bin/python3 tests/golden/make_classic_augment_golden.py > tests/golden/classic_augment.json
"""
import json
import math

import torch
import torch.nn.functional as F


def inverse_affine_matrix(angle, translate):
    # torchvision.transforms.functional._get_inverse_affine_matrix, centre (0, 0) (the image
    # centre for tensors), scale 1, shear 0.
    rot = math.radians(angle)
    cx, cy = 0.0, 0.0
    tx, ty = translate
    a, b, c, d = math.cos(rot), -math.sin(rot), math.sin(rot), math.cos(rot)
    matrix = [d, -b, 0.0, -c, a, 0.0]
    matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty)
    matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty)
    matrix[2] += cx
    matrix[5] += cy
    return matrix


def gen_affine_grid(theta, w, h):
    # torchvision.transforms.functional_tensor._gen_affine_grid
    d = 0.5
    base_grid = torch.empty(1, h, w, 3, dtype=theta.dtype)
    base_grid[..., 0].copy_(torch.linspace(-w * 0.5 + d, w * 0.5 + d - 1, steps=w))
    base_grid[..., 1].copy_(torch.linspace(-h * 0.5 + d, h * 0.5 + d - 1, steps=h).unsqueeze_(-1))
    base_grid[..., 2].fill_(1)
    rescaled_theta = theta.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h], dtype=theta.dtype)
    return base_grid.view(1, h * w, 3).bmm(rescaled_theta).view(1, h, w, 2)


def affine(img, angle, translate):
    theta = torch.tensor(inverse_affine_matrix(angle, translate), dtype=torch.float64).reshape(1, 2, 3)
    grid = gen_affine_grid(theta, img.shape[-1], img.shape[-2])
    return F.grid_sample(img.double(), grid, mode="bilinear", padding_mode="border",
                         align_corners=False).float()


x = ((torch.arange(2 * 6 * 8, dtype=torch.float32).reshape(1, 2, 6, 8) * 7) % 23) / 11.0 - 1.0
cases = [(10.0, 2, -1), (-7.5, 0, 2), (0.0, -2, 1), (90.0, 0, 0)]
out = []
for angle, tx, ty in cases:
    out.append({"degrees": angle, "dx": tx, "dy": ty, "output": affine(x, angle, [tx, ty]).flatten().tolist()})
print(json.dumps({"shape": list(x.shape), "input": x.flatten().tolist(), "cases": out}))
