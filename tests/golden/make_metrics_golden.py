#!/usr/bin/python3
"""Reference values for ganforge's sample-quality metrics, computed independently with PyTorch
(python3-torch 1.13) on fixed random features.

Run: /usr/bin/python3 tests/golden/make_metrics_golden.py > tests/golden/metrics.json
FID here takes tr(sqrt(S1 S2)) from the eigenvalues of the (non-symmetric) product S1 S2, a
different route from ganforge's symmetric square root; KID is over the full sets (one subset).
"""
import json

import torch

torch.manual_seed(1234)
D = 8
real = torch.randn(200, D, dtype=torch.float64)
fake = torch.randn(180, D, dtype=torch.float64) @ (torch.eye(D, dtype=torch.float64) +
                                                    0.3 * torch.randn(D, D, dtype=torch.float64))
fake = fake + 0.4
probs = torch.softmax(2.0 * torch.randn(100, 10, dtype=torch.float64), 1)


def stats(f):
    mu = f.mean(0)
    c = f - mu
    return mu, c.T @ c / (f.shape[0] - 1)


def fid(a, b):
    m1, s1 = stats(a)
    m2, s2 = stats(b)
    ev = torch.linalg.eigvals(s1 @ s2)
    tr_sqrt = ev.sqrt().real.sum()
    return ((m1 - m2) ** 2).sum().item() + (s1.trace() + s2.trace() - 2 * tr_sqrt).item()


def kid_full(a, b):
    d = a.shape[1]
    k = lambda x, y: (x @ y.T / d + 1) ** 3
    m, n = a.shape[0], b.shape[0]
    kxx, kyy, kxy = k(a, a), k(b, b), k(a, b)
    return ((kxx.sum() - kxx.diag().sum()) / (m * (m - 1)) +
            (kyy.sum() - kyy.diag().sum()) / (n * (n - 1)) - 2 * kxy.mean()).item()


def inception(p, splits):
    scores = []
    n = p.shape[0]
    for s in range(splits):
        part = p[s * n // splits:(s + 1) * n // splits]
        py = part.mean(0, keepdim=True)
        scores.append(torch.exp((part * (part.log() - py.log())).sum(1).mean()).item())
    t = torch.tensor(scores)
    return t.mean().item(), t.std(unbiased=False).item() if splits > 1 else 0.0


def prdc(r, f, k_pr=3, k_dc=5):
    # Following the reference code of Naeem et al. 2020 (clovaai/generative-evaluation-prdc).
    def radii(x, k):
        d = torch.cdist(x, x)
        return d.sort(1).values[:, k]
    d_rf = torch.cdist(r, f)
    rr, fr = radii(r, k_pr), radii(f, k_pr)
    precision = (d_rf < rr[:, None]).any(0).double().mean().item()
    recall = (d_rf < fr[None, :]).any(1).double().mean().item()
    rd = radii(r, k_dc)
    density = (1.0 / k_dc) * (d_rf < rd[:, None]).sum(0).double().mean().item()
    coverage = (d_rf.min(1).values < rd).double().mean().item()
    return {"precision": precision, "recall": recall, "density": density, "coverage": coverage}


n = 180  # PRDC on equal sizes
print(json.dumps({
    "real": real.tolist(), "fake": fake.tolist(), "probs": probs.tolist(),
    "fid": fid(real, fake), "fid_self": fid(real, real), "kid_full": kid_full(real[:n], fake),
    "is_1": inception(probs, 1)[0], "is_10": list(inception(probs, 10)),
    "prdc": prdc(real[:n], fake[:n]),
}))
