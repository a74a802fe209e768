#!/usr/bin/env bash
# Image repair measured (docs/applications.md, "Image repair"): the first N images of MNIST's
# held-out test split, a random square hole per image (10x10 and 14x14 px, seeded), filled by GAN
# projection (`ganforge repair`) and by three classic fills: the training set's mean image, the
# nearest training image on the known pixels, and the harmonic (Laplace) fill. Scores: PSNR inside
# the hole against the original pixels, and the evaluator's accuracy on the repaired images.
# Usage: scripts/experiment_repair.sh [CHECKPOINT_OR_RUN]  (default runs/demo, trained if missing)
# Environment: N (test images, default 500), OUT (default runs/experiment_repair).
set -euo pipefail
cd "$(dirname "$0")/.."
GF=${GF:-build/ganforge}
RUN=${1:-runs/demo}
N=${N:-500}
OUT=${OUT:-runs/experiment_repair}
mkdir -p "$OUT"
if [ ! -e "$RUN" ]; then
  echo "== training $RUN (configs/cgan_mnist.json, 10 minutes)"
  "$GF" train --config configs/cgan_mnist.json --out "$RUN"
fi

# The first N test images and their labels as an idx pair.
python3 - "$N" "$OUT/test.idx" <<'EOF'
import gzip, struct, sys
n, out = int(sys.argv[1]), sys.argv[2]
def read(path):
    b = gzip.open(path).read()
    dims = struct.unpack(">" + "I" * b[3], b[4:4 + 4 * b[3]])
    return dims, b[4 + 4 * b[3]:]
(count, h, w), pixels = read("data/mnist/t10k-images-idx3-ubyte.gz")
_, labels = read("data/mnist/t10k-labels-idx1-ubyte.gz")
n = min(n, count)
with open(out, "wb") as f:
    f.write(bytes([0, 0, 8, 3]) + struct.pack(">III", n, h, w) + pixels[:n * h * w])
with open(out.replace(".idx", ".labels.idx"), "wb") as f:
    f.write(bytes([0, 0, 8, 1]) + struct.pack(">I", n) + labels[:n])
EOF

: > "$OUT/scores.jsonl"
for hole in 10 14; do
  for method in mean nearest harmonic gan; do
    start=$(date +%s.%N)
    line=$("$GF" repair "$RUN" --input "$OUT/test.idx" --hole "$hole" --seed 0 --method "$method" \
      --out "$OUT/${method}_${hole}.idx" --score --threads 1 | tail -1)
    secs=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")
    echo "{\"hole\": $hole, \"seconds\": $secs, \"result\": $line}" | tee -a "$OUT/scores.jsonl"
  done
done

# The table (markdown) and a picture: originals, then each method's repair of the 14 px holes.
PYTHONPATH=scripts/lib python3 - "$OUT" "$N" <<'EOF'
import json, sys
from pngio import read_idx, tile, write_grey_png
out, n = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(f"{out}/scores.jsonl")]
names = {"mean": "mean image", "nearest": "nearest training image", "harmonic": "harmonic (Laplace)",
         "gan": "GAN projection (`ganforge repair`)"}
lines = [f"| hole | method | PSNR in hole (dB) | evaluator accuracy | seconds ({n} images) |",
         "|---|---|---|---|---|"]
for r in rows:
    s = r["result"]["score"]
    lines.append(f"| {r['hole']}x{r['hole']} | {names[r['result']['method']]} | "
                 f"{s['psnr_hole']:.2f} | {s['accuracy']:.3f} | {r['seconds']} |")
lines.append(f"\nThe original (unrepaired) images: evaluator accuracy "
             f"{rows[0]['result']['score']['accuracy_original']:.3f}.")
open(f"{out}/results.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
k = 12
strips = []
for name in ["test"] + [f"{m}_14" for m in ("mean", "nearest", "harmonic", "gan")]:
    _, px = read_idx(f"{out}/{name}.idx")
    strips += [px[i * 784:(i + 1) * 784] for i in range(k)]
w, h, pixels = tile(strips, 28, 28, k, scale=3)
write_grey_png(f"{out}/repair_14.png", w, h, pixels)
print(f"wrote {out}/results.md and {out}/repair_14.png (rows: original, mean (shows the hole), "
      "nearest, harmonic, GAN)")
EOF
