"""Shared by the PyTorch peers: the training step exactly as ganforge does it (one G(z) for both
updates, D frozen during G's step, BCE from logits, Adam), timing, and peak memory."""
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def run(g, d, z_dim, batch, image_shape, lr, betas, steps, warmup, threads, device="cpu"):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    g.to(device)
    d.to(device)
    data = (torch.rand(batch * 4, *image_shape) * 2 - 1).to(device)
    opt_g = torch.optim.Adam(g.parameters(), lr, betas=betas)
    opt_d = torch.optim.Adam(d.parameters(), lr, betas=betas)
    times = []
    # profile=1: where a step's time goes, by operator (bench/README: `make profile`).
    profiler = torch.profiler.profile() if os.environ.get("GF_PROFILE") == "1" else None
    for i in range(warmup + steps):
        if profiler is not None and i == warmup:
            profiler.__enter__()
        t = time.perf_counter()
        idx = torch.randint(0, data.shape[0], (batch,), device=device)
        real = data[idx]
        z = torch.randn(batch, z_dim, device=device)
        fake = g(z)
        lr_ = d(real).view(-1)
        lf = d(fake.detach()).view(-1)
        loss_d = F.softplus(-lr_).mean() + F.softplus(lf).mean()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        for p in d.parameters():
            p.requires_grad_(False)
        loss_g = F.softplus(-d(fake).view(-1)).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        for p in d.parameters():
            p.requires_grad_(True)
        loss_d.item(), loss_g.item()  # host sync: the step is done (on a GPU too)
        if i >= warmup:
            times.append((time.perf_counter() - t) * 1000)
    if profiler is not None:
        profiler.__exit__(None, None, None)
        print(profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=14),
              file=sys.stderr)
    times.sort()
    q = lambda f: times[min(len(times) - 1, int(f * (len(times) - 1) + 0.5))]
    print(json.dumps({"ms_per_step": statistics.median(times), "ms_p10": q(0.1), "ms_p90": q(0.9),
                      "threads": torch.get_num_threads(), "peak_rss_mib": peak_rss_mib()}))


def args():
    a = dict(arg.split("=", 1) for arg in sys.argv[1:])
    return (int(a.get("batch", 128)), int(a.get("steps", 30)), int(a.get("warmup", 5)),
            int(a.get("threads", 1)), float(a.get("width", 1.0)), a.get("device", "cpu"))
