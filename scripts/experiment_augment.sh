#!/usr/bin/env bash
# Does GAN data augmentation help a classifier that has few labelled images? The protocol of
# Antoniou et al. 2017 (DAGAN) and Ravuri & Vinyals 2019 (CAS), on MNIST digits:
#   for n in 10, 50, 200 real labelled images per class, each over 3 random subsets (seeds):
#     1. the subset: n images per class of data/mnist's training split (`ganforge dataset subset`)
#     2. a conditional GAN (configs/cgan_mnist.json) trained on those same n images only, for a
#        fixed number of steps (not a time budget, so the result does not depend on machine load)
#     3. GAN_PER_CLASS samples per class from it (`ganforge augment`), unfiltered: filtering with
#        the full-data evaluator would leak labels learnt from all of MNIST
#     4. the same classifier (the evaluator's CNN, same seed, same number of steps and batch size in
#        every arm, so more data never means more steps) trained on
#          real         the n real images per class
#          classic      real, with random shifts of up to 2 px and rotations of up to 10 degrees
#          gan          real + GAN samples, half of every batch from each (--extra-ratio 0.5)
#          classic+gan  both: GAN samples mixed in, then every image of the batch augmented
#        and tested on the real test split (2,000 digits).
# Writes runs/experiment_augment/results.{json,md} and prints the table (mean ± sample
# standard deviation over the subsets). Finished steps are kept: rerunning resumes. Never part of
# `make test`; `make experiment-augment` runs it (about 45 minutes on 2 CPU cores).
#
# Environment: GF (the ganforge binary, default build/ganforge), OUT, NS, SEEDS, GAN_STEPS,
# CLF_STEPS, GAN_PER_CLASS (smaller values give a quick trial run).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
GF="${GF:-$ROOT/build/ganforge}"
OUT="${OUT:-runs/experiment_augment}"
NS="${NS:-10 50 200}"
SEEDS="${SEEDS:-1 2 3}"
GAN_STEPS="${GAN_STEPS:-3000}"
CLF_STEPS="${CLF_STEPS:-500}"
CLF_BATCH=64
GAN_PER_CLASS="${GAN_PER_CLASS:-500}"
EXTRA_RATIO=0.5
ARMS="real classic gan classic+gan"
PY=/usr/bin/python3

[ -x "$GF" ] || { echo "experiment_augment: no ganforge binary at $GF (make build)" >&2; exit 1; }
[ -d data/mnist ] || { echo "experiment_augment: no data/mnist (make data)" >&2; exit 1; }
mkdir -p "$OUT"
START=$(date +%s)
log() { echo "[$(date +%H:%M:%S)] $*"; }

# run_arm W N SEED ARM: trains one classifier and records W/clf_<arm>.json, once.
run_arm() {
  local w=$1 n=$2 seed=$3 arm=$4
  local tag="${arm/+/_}" args=()
  [ -f "$w/clf_$tag.json" ] && return 0
  case $arm in
    classic) args=(--augment shift,rotate) ;;
    gan) args=(--extra "$w/gan.idx.gz" --extra-ratio "$EXTRA_RATIO") ;;
    classic+gan) args=(--augment shift,rotate --extra "$w/gan.idx.gz" --extra-ratio "$EXTRA_RATIO") ;;
  esac
  local t0
  t0=$(date +%s)
  "$GF" classifier train --dataset mnist --data "$w/data" --steps "$CLF_STEPS" --batch "$CLF_BATCH" \
    --seed "$seed" --out "$w/clf_$tag.clf" --json "${args[@]}" 2>>"$w/log.txt" >"$w/clf_$tag.out"
  "$PY" -c 'import json, sys
c = json.load(open(sys.argv[1]))
r = {"n": int(sys.argv[2]), "seed": int(sys.argv[3]), "arm": sys.argv[4],
     "test_accuracy": c["test_accuracy"], "seconds": int(sys.argv[5]), "classifier": c}
json.dump(r, open(sys.argv[6], "w"))
print("n=%d seed=%d %s: test accuracy %.4f" % (r["n"], r["seed"], r["arm"], r["test_accuracy"]))' \
    "$w/clf_$tag.out" "$n" "$seed" "$arm" "$(($(date +%s) - t0))" "$w/clf_$tag.tmp"
  mv "$w/clf_$tag.tmp" "$w/clf_$tag.json"
}

for n in $NS; do
  for seed in $SEEDS; do
    w="$OUT/n${n}_seed${seed}"
    mkdir -p "$w"
    if [ ! -d "$w/data" ]; then
      rm -rf "$w/data.partial"
      "$GF" dataset subset data/mnist --dataset mnist --per-class "$n" --seed "$seed" \
        --out "$w/data.partial"
      mv "$w/data.partial" "$w/data"
    fi
    last=$(printf '%s/gan/checkpoints/step_%06d.ckpt' "$w" "$GAN_STEPS")
    if [ ! -f "$last" ]; then
      log "n=$n seed=$seed: training the conditional GAN on the $((n * 10)) images ($GAN_STEPS steps)"
      t0=$(date +%s)
      "$GF" train --config configs/cgan_mnist.json --data "$w/data" --steps "$GAN_STEPS" \
        --seed "$seed" --threads 1 --out "$w/gan" --overwrite >>"$w/log.txt" 2>&1
      echo "{\"n\": $n, \"seed\": $seed, \"gan_seconds\": $(($(date +%s) - t0))}" >"$w/gan_time.json"
    fi
    if [ ! -f "$w/gan.labels.idx.gz" ]; then
      "$GF" augment "$w/gan" --per-class "$GAN_PER_CLASS" --seed "$seed" --out "$w/gan.idx.gz" \
        >>"$w/log.txt"
    fi
    # How good the samples are, for the report only: the full-data evaluator's accuracy on them.
    if [ ! -f "$w/gan_eval.json" ]; then
      "$GF" eval "$w/gan" --data data/mnist --metrics cond_acc -n 2000 --seed "$seed" --json \
        2>>"$w/log.txt" >"$w/gan_eval.tmp" && mv "$w/gan_eval.tmp" "$w/gan_eval.json"
    fi
    for arm in $ARMS; do run_arm "$w" "$n" "$seed" "$arm"; done
  done
done

log "all runs done in $(($(date +%s) - START)) s; summarising"
"$PY" - "$OUT" "$NS" "$SEEDS" "$GAN_STEPS" "$CLF_STEPS" "$CLF_BATCH" "$GAN_PER_CLASS" "$EXTRA_RATIO" <<'EOF'
import glob, json, os, statistics, sys

out, ns, seeds, gan_steps, clf_steps, clf_batch, per_class, ratio = sys.argv[1:]
ns = [int(n) for n in ns.split()]
seeds = [int(s) for s in seeds.split()]
arms = ["real", "classic", "gan", "classic+gan"]
rows, gan = {}, {}
for n in ns:
    for s in seeds:
        w = os.path.join(out, f"n{n}_seed{s}")
        for arm in arms:
            r = json.load(open(os.path.join(w, "clf_" + arm.replace("+", "_") + ".json")))
            rows[(n, s, arm)] = r
        ev = json.load(open(os.path.join(w, "gan_eval.json")))
        t = json.load(open(os.path.join(w, "gan_time.json"))) if os.path.exists(os.path.join(w, "gan_time.json")) else {}
        gan[(n, s)] = {"cond_acc": ev["metrics"]["cond_acc"], "seconds": t.get("gan_seconds")}


def stats(values):
    values = [100.0 * v for v in values]
    mean = statistics.mean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return mean, std


summary = {"protocol": {"dataset": "mnist (8,000 train / 2,000 test digits)", "n_per_class": ns,
                        "subset_seeds": seeds, "gan_config": "configs/cgan_mnist.json",
                        "gan_steps": int(gan_steps), "gan_samples_per_class": int(per_class),
                        "classifier_steps": int(clf_steps), "classifier_batch": int(clf_batch),
                        "extra_ratio": float(ratio)},
           "runs": list(rows.values()), "gan": [], "table": []}
lines = ["| n per class | " + " | ".join(arms) + " | GAN samples' accuracy |",
         "|---|" + "---|" * (len(arms) + 1)]
for n in ns:
    entry = {"n": n}
    cells = []
    for arm in arms:
        m, s = stats([rows[(n, seed, arm)]["test_accuracy"] for seed in seeds])
        entry[arm] = {"mean": m, "std": s,
                      "per_seed": [rows[(n, seed, arm)]["test_accuracy"] for seed in seeds]}
        cells.append(f"{m:.2f} ± {s:.2f}")
    gm, gs = stats([gan[(n, seed)]["cond_acc"] for seed in seeds])
    entry["gan_samples_accuracy"] = {"mean": gm, "std": gs}
    cells.append(f"{gm:.1f} ± {gs:.1f}")
    summary["table"].append(entry)
    for seed in seeds:
        summary["gan"].append({"n": n, "seed": seed, **gan[(n, seed)]})
    lines.append(f"| {n} | " + " | ".join(cells) + " |")
table = "\n".join(lines)
note = ("Test accuracy (%) on the 2,000 real test digits, mean ± sample standard deviation over "
        f"{len(seeds)} subsets; GAN samples' accuracy: the full-data evaluator's accuracy on "
        "2,000 samples of each GAN (reported only, never used to pick samples).")
json.dump(summary, open(os.path.join(out, "results.json"), "w"), indent=1)
open(os.path.join(out, "results.md"), "w").write(table + "\n\n" + note + "\n")
print(table)
print()
print(note)
EOF
log "results: $OUT/results.md, $OUT/results.json (total $(($(date +%s) - START)) s)"
