#!/usr/bin/python3
"""The server under load and abuse (`make soak`; docs/reliability.md, "Server under load and
abuse"). Starts `ganforge serve` on loopback with an API key and drives REQUESTS requests at it
from many threads: valid generation (png, grid, json, walks) and reads (health, models, metrics)
beside malformed JSON, wrong types, huge bodies, slow clients that send a byte a second
(slowloris), clients that disconnect mid-response, idle keep-alive connections, unknown paths,
wrong methods and media types, and wrong API keys. It samples the server's resident memory from
/proc all along, then stops the server with SIGTERM.

Goals (exit status 1 when one fails): the server never dies and exits 0 on SIGTERM; no 5xx but
the documented 429 and 503, and every kind of request gets the answers it should; resident memory
after warm-up (the first WARMUP share of requests) stays within 10% of its value at the end of
warm-up. Reports p50/p99 latency of valid requests by kind. Writes bench/soak_results.json and
docs/img/soak_rss.svg (resident memory over time).

Usage: /usr/bin/python3 bench/soak.py [gf=build/ganforge] [requests=100000] [model=runs/demo]
         [workers=16] [idle=100] [slowloris=4] [warmup=0.2] [seed=1]
         [out=bench/soak_results.json] [svg=docs/img/soak_rss.svg]
requests=2000 is the quick mode (about a minute). Without a model under runs/demo, a small
conditional model is trained for a few steps on data/mnist (configs/cgan_mnist.json). The kinds of
request and the threads that send them are in bench/soak_traffic.py.
"""
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

from soak_traffic import KEY, VALID, Client, Stats, idle_keepalive, slowloris, worker

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARGS = dict(a.split("=", 1) for a in sys.argv[1:])
GF = os.path.abspath(os.path.join(ROOT, ARGS.get("gf", "build/ganforge")))
REQUESTS = int(ARGS.get("requests", 100000))
WORKERS = int(ARGS.get("workers", 16))
IDLE = int(ARGS.get("idle", 100))
SLOWLORIS = int(ARGS.get("slowloris", 4))
WARMUP = float(ARGS.get("warmup", 0.2))
SEED = int(ARGS.get("seed", 1))
OUT = os.path.join(ROOT, ARGS.get("out", "bench/soak_results.json"))
SVG = os.path.join(ROOT, ARGS.get("svg", "docs/img/soak_rss.svg"))
RSS_TOLERANCE = 0.10

def env():
    e = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    e.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    return e


def find_model(tmp):
    model = ARGS.get("model", "runs/demo")
    path = os.path.join(ROOT, model)
    if os.path.isdir(os.path.join(path, "checkpoints")) and os.listdir(
            os.path.join(path, "checkpoints")):
        return path
    if "model" in ARGS:
        sys.exit(f"soak: no checkpoint under {model}")
    run = os.path.join(tmp, "soak_model")
    print("soak: no runs/demo; training a small model for 50 steps", flush=True)
    subprocess.run([GF, "train", "--config", "configs/cgan_mnist.json", "--data", "data/mnist",
                    "--set", "data.limit=2000", "--out", run, "--steps", "50"], cwd=ROOT,
                   env=env(), check=True, capture_output=True)
    return run


def start_server(model, log_path):
    log = open(log_path, "w")
    proc = subprocess.Popen([GF, "serve", model, "--port", "0", "--api-key", KEY], cwd=ROOT,
                            env=env(), stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(1200):
        text = open(log_path).read()
        m = re.search(r"listening on http://127.0.0.1:(\d+)/", text)
        if m and "serve: ready" in text:
            return proc, int(m.group(1))
        if proc.poll() is not None:
            sys.exit("soak: serve exited during start-up:\n" + text)
        time.sleep(0.1)
    proc.kill()
    sys.exit("soak: serve did not become ready")


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def percentile(values, q):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def sampler(pid, stats, samples, stop):
    t0 = time.monotonic()
    while not stop.wait(0.5):
        kib = rss_kib(pid)
        if kib is None:
            return
        with stats.lock:
            samples.append((time.monotonic() - t0, stats.sent, kib))


def metric_counts(port):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("GET", "/metrics", headers={"Authorization": f"Bearer {KEY}"})
        text = c.getresponse().read().decode()
        c.close()
    except (OSError, http.client.HTTPException) as e:
        return {"unreachable": str(e)}
    counts = {}
    for m in re.finditer(r'^ganforge_requests_total\{route="([^"]*)",status="(\d+)"\} (\d+)$',
                         text, re.M):
        counts.setdefault(m.group(1), {})[m.group(2)] = int(m.group(3))
    return counts


def slope_kib_per_10k(samples):
    """Least-squares growth of RSS (KiB) per 10,000 requests over `samples`."""
    if len(samples) < 2:
        return None
    xs, ys = [s[1] for s in samples], [s[2] for s in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return round(sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var * 10000, 1) if var else None


def svg_plot(samples, warm_t, r0, path, title):
    """RSS (MiB) over time as a hand-written SVG line plot, with the warm-up and the +-10% band."""
    w, h, left, right, top, bottom = 760, 360, 70, 20, 40, 50
    ts = [s[0] for s in samples]
    ms = [s[2] / 1024 for s in samples]
    tmax = max(ts) if ts else 1
    lo = min(ms + [r0 / 1024 * (1 - RSS_TOLERANCE)]) * 0.95
    hi = max(ms + [r0 / 1024 * (1 + RSS_TOLERANCE)]) * 1.05
    x = lambda t: left + (w - left - right) * t / tmax
    y = lambda v: top + (h - top - bottom) * (1 - (v - lo) / (hi - lo))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>']
    band_lo, band_hi = r0 / 1024 * (1 - RSS_TOLERANCE), r0 / 1024 * (1 + RSS_TOLERANCE)
    out.append(f'<rect x="{x(warm_t):.1f}" y="{y(band_hi):.1f}" width="{x(tmax) - x(warm_t):.1f}" '
               f'height="{y(band_lo) - y(band_hi):.1f}" fill="#2a7" fill-opacity="0.12"/>')
    out.append(f'<rect x="{left}" y="{top}" width="{x(warm_t) - left:.1f}" '
               f'height="{h - top - bottom}" fill="#999" fill-opacity="0.15"/>')
    out.append(f'<text x="{left + 4}" y="{top + 14}" fill="#555">warm-up</text>')
    out.append(f'<text x="{w - right - 4}" y="{y(band_hi) - 4:.1f}" text-anchor="end" '
               f'fill="#2a7">±10% of RSS after warm-up</text>')
    for i in range(6):  # y ticks
        v = lo + (hi - lo) * i / 5
        out.append(f'<line x1="{left - 4}" x2="{w - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                   f'stroke="#ddd"/><text x="{left - 8}" y="{y(v) + 4:.1f}" '
                   f'text-anchor="end">{v:.0f}</text>')
    step = max(1, int(tmax / 8 / 10 + 1) * 10) if tmax > 80 else max(1, int(tmax / 8) + 1)
    t = 0
    while t <= tmax:  # x ticks
        out.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{h - bottom}" y2="{h - bottom + 4}" '
                   f'stroke="#333"/><text x="{x(t):.1f}" y="{h - bottom + 18}" '
                   f'text-anchor="middle">{t}</text>')
        t += step
    out.append(f'<line x1="{left}" x2="{w - right}" y1="{h - bottom}" y2="{h - bottom}" '
               f'stroke="#333"/><line x1="{left}" x2="{left}" y1="{top}" y2="{h - bottom}" '
               f'stroke="#333"/>')
    out.append(f'<text x="{(left + w - right) / 2}" y="{h - 10}" text-anchor="middle">'
               f'seconds since the load started</text>')
    out.append(f'<text x="16" y="{(top + h - bottom) / 2}" text-anchor="middle" '
               f'transform="rotate(-90 16 {(top + h - bottom) / 2})">resident memory (MiB)</text>')
    pts = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in zip(ts, ms))
    out.append(f'<polyline points="{pts}" fill="none" stroke="#c33" stroke-width="1.5"/>')
    out.append("</svg>")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(out) + "\n")
    os.replace(tmp, path)


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def main():
    if not os.access(GF, os.X_OK):
        sys.exit(f"soak: no ganforge binary at {GF} (make build, or gf=PATH)")
    tmp = tempfile.mkdtemp(prefix="gf_soak_")
    model = find_model(tmp)
    log_path = os.path.join(tmp, "serve.log")
    proc, port = start_server(model, log_path)
    info = json.loads(Client(port).request(Stats(), "GET", "/v1/models",
                                           headers={"Authorization": f"Bearer {KEY}"})[1])
    conditional = info["models"][0]["conditional"]
    print(f"soak: {REQUESTS} requests against {os.path.relpath(model, ROOT)} on port {port} "
          f"({WORKERS} workers, {IDLE} idle keep-alive connections, {SLOWLORIS} slowloris)",
          flush=True)

    stats, samples, stop = Stats(REQUESTS), [], threading.Event()
    rss_start = rss_kib(proc.pid)
    threads = [threading.Thread(target=sampler, args=(proc.pid, stats, samples, stop))]
    rng = random.Random(SEED)
    for _ in range(SLOWLORIS):
        threads.append(threading.Thread(target=slowloris, args=(port, stats, stop)))
    for _ in range(IDLE):
        threads.append(threading.Thread(target=idle_keepalive,
                                        args=(port, stats, random.Random(rng.random()), stop)))
    workers = [threading.Thread(target=worker,
                                args=(port, stats, random.Random(rng.random()), conditional, stop))
               for _ in range(WORKERS)]
    t0 = time.monotonic()
    for t in threads + workers:
        t.start()
    last = 0
    while any(t.is_alive() for t in workers):
        time.sleep(1)
        if proc.poll() is not None:
            break
        if time.monotonic() - last > 30:
            last = time.monotonic()
            print(f"soak: {stats.sent}/{REQUESTS} requests, {time.monotonic() - t0:.0f} s, "
                  f"RSS {rss_kib(proc.pid) or 0} KiB", flush=True)
    elapsed = time.monotonic() - t0
    alive = proc.poll() is None
    server_counts = metric_counts(port) if alive else {}
    stop.set()
    for t in threads + workers:
        t.join(timeout=90)

    exit_code, stopped = None, False
    if alive:
        proc.send_signal(signal.SIGTERM)
        try:
            exit_code = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            exit_code = "hung after SIGTERM"
        stopped = "serve: stopped" in open(log_path).read()
    log = open(log_path).read()
    internal = [l for l in log.splitlines() if "internal error" in l][:10]

    # Resident memory after warm-up.
    warm = [s for s in samples if s[1] >= WARMUP * REQUESTS]
    after = warm or samples
    r0 = after[0][2] if after else 0
    r_max = max(s[2] for s in after) if after else 0
    r_min = min(s[2] for s in after) if after else 0
    r_end = samples[-1][2] if samples else 0
    rss_flat = bool(after) and r_max <= r0 * (1 + RSS_TOLERANCE) and \
        r_min >= r0 * (1 - RSS_TOLERANCE)
    half = len(after) // 2
    server_5xx = {route: {s: n for s, n in by.items() if s.startswith("5") and s != "503"}
                  for route, by in server_counts.items() if isinstance(by, dict)}
    server_5xx = {r: v for r, v in server_5xx.items() if v}
    client_5xx = {k: {s: n for s, n in by.items() if s.startswith("5") and s != "503"}
                  for k, by in stats.status.items()}
    client_5xx = {k: v for k, v in client_5xx.items() if v}
    latency = {k: {"n": len(v), "p50_ms": round(percentile(v, 50) * 1000, 2),
                   "p99_ms": round(percentile(v, 99) * 1000, 2)}
               for k, v in sorted(stats.latency.items()) if k in VALID}
    all_valid = [x for k in VALID for x in stats.latency.get(k, [])]
    goals = {
        "no_crash": alive and exit_code == 0 and stopped and "unreachable" not in server_counts,
        "no_5xx_but_503": not client_5xx and not server_5xx and not internal,
        "expected_answers": stats.unexpected_n == 0,
        "rss_flat_within_10pct": rss_flat,
        "all_requests_sent": stats.sent >= REQUESTS,
    }
    results = {
        "requests": stats.sent,
        "seconds": round(elapsed, 1),
        "requests_per_second": round(stats.sent / elapsed, 1),
        "model": os.path.relpath(model, ROOT),
        "config": {"workers": WORKERS, "idle_keepalive": IDLE, "slowloris": SLOWLORIS,
                   "warmup_share": WARMUP, "seed": SEED, "cpus": os.cpu_count()},
        "by_kind": {k: sum(v.values()) for k, v in sorted(stats.status.items())},
        "status_by_kind": dict(sorted(stats.status.items())),
        "server_counts": server_counts,
        "latency_valid": latency,
        "latency_all_valid": {"n": len(all_valid),
                              "p50_ms": round((percentile(all_valid, 50) or 0) * 1000, 2),
                              "p99_ms": round((percentile(all_valid, 99) or 0) * 1000, 2)},
        "retried_on_closed_idle_connection": stats.retries,
        "unexpected": stats.unexpected_n,
        "unexpected_examples": stats.unexpected,
        "rss_kib": {"start": rss_start, "after_warmup": r0, "min_after_warmup": r_min,
                    "max_after_warmup": r_max, "end": r_end,
                    "max": max((s[2] for s in samples), default=0),
                    # growth after warm-up, over all of it and over its first and second halves
                    "growth_kib_per_10k_requests": slope_kib_per_10k(after),
                    "growth_kib_per_10k_first_half": slope_kib_per_10k(after[:half]),
                    "growth_kib_per_10k_second_half": slope_kib_per_10k(after[half:]),
                    "samples_every_5s": [[round(t, 1), n, k] for t, n, k in samples[::10]]},
        "exit_code_after_sigterm": exit_code,
        "internal_errors_logged": internal,
        "goals": goals,
        "passed": all(goals.values()),
    }
    write_json(OUT, results)
    warm_t = after[0][0] if after else 0
    svg_plot(samples, warm_t, r0, SVG,
             f"ganforge serve: resident memory over {stats.sent:,} requests (soak)")
    summary = {k: results[k] for k in ("requests", "seconds", "by_kind", "latency_valid",
                                       "latency_all_valid", "goals")}
    summary["rss_kib"] = {k: v for k, v in results["rss_kib"].items() if k != "samples_every_5s"}
    print(json.dumps(summary, indent=1))
    print(f"soak: wrote {os.path.relpath(OUT, ROOT)} and {os.path.relpath(SVG, ROOT)}; "
          f"server log {log_path}")
    if not results["passed"]:
        print("soak: FAILED: " + ", ".join(k for k, v in goals.items() if not v), file=sys.stderr)
        for e in stats.unexpected[:10]:
            print("  unexpected:", e, file=sys.stderr)
        sys.exit(1)
    print("soak: all goals met")


if __name__ == "__main__":
    main()
