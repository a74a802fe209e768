#!/usr/bin/python3
"""ONNX Runtime's generation rate beside LibTorch's (`make bench` runs it from bench/run.py; alone:
/usr/bin/python3 bench/onnx_bench.py [gf=build/ganforge] [node=build/onnx_node]).

For each benchmark model: a one-step checkpoint, exported with `ganforge export --format onnx`,
timed in ONNX Runtime (npm onnxruntime-node, CPU, one thread) by bench/onnx_bench.mjs at batch 1
and 256. LibTorch's figure is `ganforge bench`'s generation rate for the same model and sizes, one
thread (it includes drawing each image's seeded latent; ONNX Runtime gets its latents ready-made).
Writes bench/onnx_results.json and the "onnx" section of BENCHMARKS.md. Skipped (exit 0) when
onnxruntime-node is not installed: `ctest -R integration.onnx` installs it into build/onnx_node.
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARGS = dict(a.split("=", 1) for a in sys.argv[1:])
GF = ARGS.get("gf", os.path.join(ROOT, "build", "ganforge"))
NODE_DIR = ARGS.get("node", os.path.join(ROOT, "build", "onnx_node"))
SMALL = ["data.limit=256", "train.batch=16"]
# (name, config, --set overrides): the models of BENCHMARKS.md's main table.
MODELS = [
    ("mlp (seed)", "configs/mlp_mnist.json", []),
    ("dcgan 28x28", "configs/dcgan_mnist.json", []),
    ("emoji 32x32x3 (cond)", "configs/emoji_32.json", []),
    ("resnet 32x32x3 (cond BN, width 64)", "configs/emoji_32.json",
     ["model.arch=resnet", "model.g_channels=64", "model.d_channels=64", "train.augment="]),
]
ENV = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
ENV.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")


def sets(overrides):
    return [a for s in overrides for a in ("--set", s)]


def run(cmd, cwd=ROOT):
    return subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True, check=True).stdout


def measure(run_dir, name, config, overrides):
    data = ["--data", "data/mnist"] if "mnist" in config else []
    run([GF, "train", "--config", config, *data, *sets(overrides + SMALL), "--set", "log.sample_every=1",
         "--set", "log.checkpoint_every=1", "--set", "eval.every=0", "--steps", "1", "--threads", "1",
         "--out", run_dir])
    onnx = os.path.join(run_dir, "G.onnx")
    run([GF, "export", run_dir, "--format", "onnx", "--out", onnx])
    spec = json.load(open(os.path.join(run_dir, "config.json")))["model"]
    classes = spec["num_classes"] if spec.get("conditional", "none") != "none" else 0
    ort = json.loads(run(["node", os.path.join(ROOT, "bench", "onnx_bench.mjs"), onnx,
                          str(spec["z_dim"]), str(classes), "1", "256"], cwd=NODE_DIR))
    torch = json.loads(run([GF, "bench", "--config", config, "--threads", "1", "--steps", "1",
                            "--warmup", "1", *sets(overrides)]).strip().splitlines()[-1])
    return {"model": name, "onnxruntime": ort["onnxruntime"],
            "ort_b1": ort["images_per_s_batch1"], "ort_b256": ort["images_per_s_batch256"],
            "libtorch_b1": torch["gen_images_per_s_batch1"],
            "libtorch_b256": torch["gen_images_per_s_batch256"]}


def write_section(rows, load):
    lines = ["<!-- onnx:begin -->", "## Generation in ONNX Runtime\n",
             f"`bench/onnx_bench.py` (run by `make bench`): each model exported with `ganforge export "
             f"--format onnx` and run in ONNX Runtime {rows[0]['onnxruntime']} (npm onnxruntime-node, "
             "CPU, one thread) beside LibTorch's generation rate in `ganforge bench` (one thread; it "
             "includes drawing each image's seeded latent). Images per second; raw numbers in "
             "`bench/onnx_results.json`. LibTorch's sampling computes fully connected layers one "
             "row at a time so that an image is bit-identical in any batch (README, Serving): that "
             "is most of the gap on the MLP at batch 256. ONNX Runtime makes no such promise; its "
             "images agree with ganforge's within 1e-4 at any batch size (docs/export.md). "
             f"Load average when measured: {load[0]:.1f} to {load[1]:.1f} on {os.cpu_count()} cores "
             "(above 1 per core, other work shared the machine and the figures are noisy).\n",
             "| model | LibTorch batch 1 | ONNX Runtime batch 1 | LibTorch batch 256 | ONNX Runtime batch 256 |",
             "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['libtorch_b1']:.0f} | {r['ort_b1']:.0f} | "
                     f"{r['libtorch_b256']:.0f} | {r['ort_b256']:.0f} |")
    lines.append("<!-- onnx:end -->")
    section = "\n".join(lines)
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path).read() if os.path.exists(path) else ""
    begin, end = "<!-- onnx:begin -->", "<!-- onnx:end -->"
    if begin in text and end in text:
        text = text[:text.index(begin)] + section + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    open(path, "w").write(text)


def main():
    if not os.path.exists(os.path.join(NODE_DIR, "node_modules", "onnxruntime-node")):
        print(f"onnx_bench: skipped, no onnxruntime-node in {NODE_DIR} (ctest -R integration.onnx "
              "installs it)", file=sys.stderr)
        return
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for i, (name, config, overrides) in enumerate(MODELS):
            rows.append(measure(os.path.join(tmp, str(i)), name, config, overrides))
            print(json.dumps(rows[-1]), file=sys.stderr)
    load = sorted(load + [os.getloadavg()[0]])
    json.dump({"rows": rows, "load_average": load},
              open(os.path.join(ROOT, "bench", "onnx_results.json"), "w"), indent=1)
    write_section(rows, load)


if __name__ == "__main__":
    main()
