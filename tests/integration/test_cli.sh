#!/usr/bin/env bash
# CLI integration: trains on a small MNIST subset, checks the run directory, sample and info, the
# resume invariant through the CLI, and that bad input gets one clear error and exit code 1.
set -euo pipefail
GF="$1"; DATA="$2"; WORK="$3"
rm -rf "$WORK"; mkdir -p "$WORK"
source "$(dirname "$0")/common.sh"
BASE=(--config configs/mlp_mnist.json --set data.limit=2000 --set log.every=20
      --set log.sample_every=100 --set log.checkpoint_every=100 --threads 1)
COMMON=("${BASE[@]}" --data "$DATA")

"$GF" train "${COMMON[@]}" --out "$WORK/run" --steps 300 > "$WORK/train.txt"
grep -q "checkpoint:" "$WORK/train.txt" || fail "train did not report its checkpoint"
for f in config.json log.txt metrics.jsonl samples/step_000000.png samples/step_000300.png \
         checkpoints/step_000300.ckpt; do
  [ -s "$WORK/run/$f" ] || fail "missing $f"
done
[ "$(wc -l < "$WORK/run/metrics.jsonl")" -eq 15 ] || fail "expected 15 metrics lines"
/usr/bin/python3 - "$WORK/run" <<'PY'
import json, struct, sys
run = sys.argv[1]
lines = [json.loads(l) for l in open(run + "/metrics.jsonl")]
keys = {"step", "epoch", "loss_d", "loss_g", "d_real", "d_fake", "step_ms"}
assert all(keys <= set(l) for l in lines), lines[0]
assert [l["step"] for l in lines] == list(range(20, 301, 20))
png = open(run + "/samples/step_000300.png", "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", png[16:24])
assert (w, h) == (242, 242), (w, h)  # 8x8 grid of 28x28 with 2-pixel padding
cfg = json.load(open(run + "/config.json"))
assert cfg["model"]["out_shape"] == [1, 28, 28] and cfg["data"]["limit"] == 2000
PY
# Only the last 3 checkpoints are kept (log.keep).
[ "$(ls "$WORK/run/checkpoints" | wc -l)" -eq 3 ] || fail "checkpoint ring not pruned"

"$GF" info "$WORK/run" > "$WORK/info.txt"
grep -q "step:        300" "$WORK/info.txt" || fail "info: wrong step"
grep -q "G 579728, D 566273" "$WORK/info.txt" || fail "info: wrong parameter counts"
"$GF" info --json "$WORK/run/checkpoints/step_000300.ckpt" | /usr/bin/python3 -c \
  'import json,sys; j=json.load(sys.stdin); assert j["step"]==300 and j["model"]["arch"]=="mlp"'

# sample: grid, directory, idx; same seed gives the same images whatever n.
"$GF" sample "$WORK/run" -n 16 --seed 5 --out "$WORK/grid.png" > /dev/null
"$GF" sample "$WORK/run" -n 5 --seed 5 --out "$WORK/pngs" > /dev/null
[ "$(ls "$WORK/pngs" | wc -l)" -eq 5 ] || fail "expected 5 PNGs"
"$GF" sample "$WORK/run" -n 10 --seed 5 --batch 3 --out "$WORK/s10.idx" > /dev/null
"$GF" sample "$WORK/run" -n 4 --seed 5 --batch 4 --out "$WORK/s4.idx.gz" > /dev/null
/usr/bin/python3 - "$WORK" <<'PY'
import gzip, struct, sys
w = sys.argv[1]
a = open(w + "/s10.idx", "rb").read()
b = gzip.open(w + "/s4.idx.gz").read()
assert a[:4] == b"\0\0\x08\x03" and struct.unpack(">III", a[4:16]) == (10, 28, 28)
assert struct.unpack(">III", b[4:16]) == (4, 28, 28)
diff = max(abs(x - y) for x, y in zip(a[16:16 + 4 * 784], b[16:]))
assert diff <= 1, diff  # float rounding across batch sizes may move a pixel by one level
PY

# Resume: 150 steps, then resume to 300, equals 300 in one go (one thread).
"$GF" train "${COMMON[@]}" --out "$WORK/half" --steps 150 > /dev/null
"$GF" train --resume "$WORK/half" --steps 300 > /dev/null
"$GF" sample "$WORK/half" -n 8 --seed 1 --out "$WORK/resumed.idx" > /dev/null
"$GF" sample "$WORK/run" -n 8 --seed 1 --out "$WORK/straight.idx" > /dev/null
cmp "$WORK/resumed.idx" "$WORK/straight.idx" || fail "resumed run differs from uninterrupted"
/usr/bin/python3 -c '
import json, sys
steps = [json.loads(l)["step"] for l in open(sys.argv[1])]
assert steps == sorted(set(steps)) and steps[-1] == 300 and 150 in steps, steps
' "$WORK/half/metrics.jsonl" || fail "resumed metrics.jsonl not continuous"

# Internal errors (a LibTorch check or any other exception) exit 2, with one line on stderr.
for hook in c10 other; do
  set +e; GF_TEST_INTERNAL_ERROR=$hook "$GF" info "$WORK/half" >/dev/null 2>"$WORK/err.txt"; rc=$?; set -e
  [ "$rc" -eq 2 ] || fail "internal error ($hook) exited $rc, expected 2"
  grep -q "^internal error: .*GF_TEST_INTERNAL_ERROR" "$WORK/err.txt" || fail "internal error message: $(cat "$WORK/err.txt")"
done

# Bad input: one clear message, exit code 1.
expect_error "unknown command 'trian'" "$GF" trian
expect_error "already exists" "$GF" train "${COMMON[@]}" --out "$WORK/run" --steps 10
expect_error "unknown config key 'train.lrr'" "$GF" train "${COMMON[@]}" --out "$WORK/x" --set train.lrr=1
expect_error "valid: adam, rmsprop, sgd" "$GF" train "${COMMON[@]}" --out "$WORK/x" --set train.optimizer=adamw
mkdir -p "$WORK/no_data"
expect_error "no images found" "$GF" train "${BASE[@]}" --out "$WORK/x" --data "$WORK/no_data"
expect_error "no such checkpoint" "$GF" sample "$WORK/nothing.ckpt" -n 1 --out "$WORK/a.png"
printf 'garbage' > "$WORK/junk.ckpt"
expect_error "not a readable ganforge checkpoint" "$GF" info "$WORK/junk.ckpt"
mkdir -p "$WORK/bad"
printf '\0\0\x08\x03\0\0\0\x64\0\0\0\x1c\0\0\0\x1c' > "$WORK/bad/train-images-idx3-ubyte"
cp "$DATA/train-labels-idx1-ubyte.gz" "$WORK/bad/"
expect_error "truncated" "$GF" train "${BASE[@]}" --out "$WORK/x" --data "$WORK/bad"
expect_error "--steps" "$GF" train "${COMMON[@]}" --out "$WORK/x" --steps -5
expect_error "The following argument was not expected" "$GF" sample "$WORK/run" extra --out "$WORK/a.png"
# Export: safetensors that `sample` reads back, and that PyTorch alone turns into the same images.
"$GF" export "$WORK/run" --format safetensors --out "$WORK/g.safetensors" > /dev/null
"$GF" sample "$WORK/g.safetensors" -n 12 --seed 9 --out "$WORK/from_st.idx" > /dev/null
"$GF" sample "$WORK/run" -n 12 --seed 9 --out "$WORK/from_ckpt.idx" > /dev/null
cmp "$WORK/from_st.idx" "$WORK/from_ckpt.idx" || fail "safetensors export samples differ"
/usr/bin/python3 tests/interop/mlp_from_safetensors.py "$WORK/g.safetensors" "$WORK/from_st.idx" 9 \
  || fail "PyTorch could not reproduce the exported generator"
head -c 100 "$WORK/g.safetensors" > "$WORK/cut.safetensors"
expect_error "cut.safetensors" "$GF" sample "$WORK/cut.safetensors" -n 1 --out "$WORK/x.png"

# Conditional models: --labels / --label pick classes; idx output gets a labels file beside it.
"$GF" train --config configs/cgan_mnist.json --data "$DATA" --set data.limit=1000 --threads 1 \
  --set model.g_channels=8 --set model.d_channels=8 --steps 30 --out "$WORK/cgan" > /dev/null
"$GF" sample "$WORK/cgan" -n 6 --labels 0,1,2,3,4,5 --out "$WORK/c.idx" > /dev/null
"$GF" sample "$WORK/cgan" -n 3 --label 7 --no-ema --out "$WORK/c7.idx.gz" > /dev/null
"$GF" sample "$WORK/cgan" -n 20 --out "$WORK/cgrid.png" > /dev/null
/usr/bin/python3 - "$WORK" <<'PY'
import gzip, sys
w = sys.argv[1]
assert open(w + "/c.labels.idx", "rb").read()[8:] == bytes(range(6))
assert gzip.open(w + "/c7.labels.idx.gz").read()[8:] == bytes([7, 7, 7])
PY
expect_error "out of range" "$GF" sample "$WORK/cgan" -n 2 --label 12 --out "$WORK/x.png"
expect_error "one label per image" "$GF" sample "$WORK/cgan" -n 3 --labels 1,2 --out "$WORK/x.png"
expect_error "unconditional" "$GF" sample "$WORK/run" -n 2 --label 1 --out "$WORK/x.png"

# Fine-tuning: start an MNIST model from the first run's weights and say what was loaded.
"$GF" train "${COMMON[@]}" --out "$WORK/ft" --steps 20 --init-from "$WORK/run" \
  --set model.g_hidden=[128,256,256] 2> "$WORK/ft.txt" > /dev/null
grep -q "tensors loaded" "$WORK/ft.txt" || fail "init-from did not report"
grep -q "skipped G.net.4.weight" "$WORK/ft.txt" || fail "init-from did not name a skipped tensor"

# Evaluation: a quick evaluator (3 epochs), eval of a run and of an idx file, eval during training.
"$GF" classifier train --dataset mnist --data "$DATA" --epochs 3 --out "$WORK/ev/mnist.clf" > "$WORK/clf.txt"
grep -q "test accuracy 0.9" "$WORK/clf.txt" || fail "evaluator accuracy below 90% after 3 epochs"
"$GF" eval "$WORK/run" --dataset mnist --data "$DATA" --evaluator "$WORK/ev/mnist.clf" -n 300 \
  --json > "$WORK/eval.json"
"$GF" eval "$WORK/s10.idx" --dataset mnist --data "$DATA" --evaluator "$WORK/ev/mnist.clf" \
  --metrics fid,is,classes -n 20 > "$WORK/eval_idx.txt"
grep -q "real baseline" "$WORK/eval_idx.txt" || fail "eval table lacks the baseline column"
ls "$WORK"/ev/cache/ref_mnist_*.ckpt > /dev/null || fail "no cached reference statistics"
/usr/bin/python3 - "$WORK/eval.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for k in ["fid", "kid_mean", "is_mean", "precision", "recall", "density", "coverage", "classes_covered"]:
    assert k in r["metrics"] and k in r["baseline"], k
assert r["baseline"]["fid"] < r["metrics"]["fid"], r  # 300 steps of the seed MLP are far from real
assert r["n"]["generated"] == 300 and r["evaluator"]["version"] == "gf-cnn-v1"
PY
expect_error "no evaluator at" "$GF" eval "$WORK/run" --dataset mnist --data "$DATA" --evaluator "$WORK/none.clf"
expect_error "valid: fid, kid, is, prdc, classes, cond_acc, cas" "$GF" eval "$WORK/run" --data "$DATA" \
  --evaluator "$WORK/ev/mnist.clf" --metrics fid,bogus
expect_error "cond_acc needs a conditional generator" "$GF" eval "$WORK/run" --data "$DATA" \
  --evaluator "$WORK/ev/mnist.clf" --metrics cond_acc -n 300
# Data augmentation (docs/applications.md): subset, augment (idx pair, folder, confidence filter),
# classifier train with --extra and --augment.
"$GF" dataset subset "$DATA" --dataset mnist --per-class 5 --seed 1 --out "$WORK/sub5" > /dev/null
"$GF" augment "$WORK/cgan" --per-class 4 --out "$WORK/aug.idx.gz" > "$WORK/aug.txt"
grep -q "wrote 40 samples (4 per class of 10 classes" "$WORK/aug.txt" || fail "augment: $(cat "$WORK/aug.txt")"
# An evaluator after 2 steps is close to uniform (every probability near 0.1): 0.01 passes all.
"$GF" classifier train --dataset mnist --data "$WORK/sub5" --steps 2 --out "$WORK/weak.clf" > /dev/null 2>&1
"$GF" augment "$WORK/cgan" --per-class 2 --out "$WORK/augdir" --min-confidence 0.01 \
  --evaluator "$WORK/weak.clf" > "$WORK/aug2.txt"
grep -q "acceptance 100.0%" "$WORK/aug2.txt" || fail "augment --min-confidence: $(cat "$WORK/aug2.txt")"
[ "$(find "$WORK/augdir" -name '*.png' | wc -l)" -eq 20 ] || fail "augment folder lacks 2 PNGs per class"
expect_error "acceptance" "$GF" augment "$WORK/cgan" --per-class 2 --out "$WORK/x.idx" \
  --min-confidence 0.99 --evaluator "$WORK/weak.clf"
"$GF" classifier train --dataset mnist --data "$WORK/sub5" --steps 3 --batch 20 --augment shift,rotate \
  --extra "$WORK/augdir" --out "$WORK/xclf.clf" --json 2> /dev/null > "$WORK/xclf.json"
/usr/bin/python3 - "$WORK/xclf.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["train_images"] == 50 and r["extra_images"] == 20 and "+" in r["data_hash"], r
PY
expect_error "unconditional" "$GF" augment "$WORK/run" --per-class 2 --out "$WORK/x.idx"
expect_error "--min-confidence must be in [0, 1]" "$GF" augment "$WORK/cgan" --per-class 2 \
  --min-confidence 2 --out "$WORK/x.idx"
expect_error "--per-class must be" "$GF" augment "$WORK/cgan" --per-class 0 --out "$WORK/x.idx"
expect_error "not an empty directory" "$GF" augment "$WORK/cgan" --per-class 1 --out "$WORK/augdir"
expect_error "give it a file with --out" "$GF" classifier train --data "$WORK/sub5" --augment shift
# A subset would otherwise replace data/evaluators/mnist.clf, the evaluator of every MNIST FID.
expect_error "is not data/mnist" "$GF" classifier train --data "$WORK/sub5" --steps 1
expect_error "no labels file" "$GF" classifier train --data "$WORK/sub5" --extra "$WORK/s10.idx" \
  --out "$WORK/x.clf"
expect_error "fewer than the 5000 per class" "$GF" dataset subset "$DATA" --per-class 5000 --out "$WORK/x"
"$GF" train "${COMMON[@]}" --out "$WORK/evrun" --steps 100 --set eval.every=50 --set eval.n=100 \
  --set eval.evaluator="$WORK/ev/mnist.clf" > /dev/null 2>&1
[ "$(grep -c '"eval"' "$WORK/evrun/metrics.jsonl")" -eq 2 ] || fail "expected 2 evaluations in metrics.jsonl"
[ -s "$WORK/evrun/checkpoints/best.ckpt" ] || fail "no best checkpoint"
# Resuming keeps the best FID seen so far: best.ckpt moves only for a better score.
best_before=$(/usr/bin/python3 -c 'import json,sys; print(min(json.loads(l)["eval"]["fid"] for l in open(sys.argv[1]) if "eval" in l))' "$WORK/evrun/metrics.jsonl")
"$GF" train --resume "$WORK/evrun" --steps 150 > /dev/null 2>&1
/usr/bin/python3 - "$WORK/evrun/metrics.jsonl" "$best_before" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if '"eval"' in l]
best = float(sys.argv[2])
for l in lines:
    if l["step"] > 100:
        assert l["eval"].get("best", False) == (l["eval"]["fid"] < best), (l["eval"], best)
        best = min(best, l["eval"]["fid"])
PY
grep -q "<svg" "$WORK/evrun/report.html" && grep -q "real baseline" "$WORK/evrun/report.html" &&
  grep -q "data:image/png;base64" "$WORK/evrun/report.html" || fail "report.html incomplete"

# Flags users rely on: --overwrite, --epochs, --seed, --precision; report and bench.
"$GF" train "${COMMON[@]}" --out "$WORK/run" --overwrite --steps 20 > /dev/null 2>&1
"$GF" info "$WORK/run" | grep -q "step:        20 " || fail "--overwrite did not start a new run"
mkdir -p "$WORK/pictures"; echo keep > "$WORK/pictures/holiday.png"
expect_error "is not a ganforge run directory" \
  "$GF" train "${COMMON[@]}" --out "$WORK/pictures" --overwrite --steps 20
[ "$(cat "$WORK/pictures/holiday.png")" = keep ] || fail "--overwrite touched a folder that is not a run"
"$GF" train "${COMMON[@]}" --out "$WORK/ep" --epochs 1 > /dev/null 2>&1
"$GF" info "$WORK/ep" | grep -q "step:        15 (epoch 1)" || fail "--epochs 1 of 2000 / 128 is 15 steps"
for s in 3a:3 3b:3 4:4; do
  "$GF" train "${COMMON[@]}" --out "$WORK/seed_${s%%:*}" --steps 10 --seed "${s##*:}" > /dev/null 2>&1
done
cmp -s "$WORK/seed_3a/samples/step_000010.png" "$WORK/seed_3b/samples/step_000010.png" ||
  fail "--seed 3 twice gives different images"
if cmp -s "$WORK/seed_3a/samples/step_000010.png" "$WORK/seed_4/samples/step_000010.png"; then
  fail "--seed 4 gives --seed 3's images"
fi
"$GF" train "${COMMON[@]}" --out "$WORK/bf16" --steps 5 --precision bf16 > /dev/null 2>&1
grep -q '"precision": "bf16"' "$WORK/bf16/config.json" || fail "--precision not recorded"
rm -f "$WORK/evrun/report.html"
"$GF" report "$WORK/evrun" | grep -q "report.html" || fail "report did not say where it wrote"
grep -q "<svg" "$WORK/evrun/report.html" || fail "report rewritten without plots"
"$GF" bench --config configs/mlp_mnist.json --steps 2 --warmup 0 --no-generation |
  /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["ms_per_step"] > 0 and j["steps"] == 2, j'

# The OpenBLAS kernel choice (README, Performance defaults): ganforge re-executes itself with
# OPENBLAS_CORETYPE set from the CPU's flags, keeps a user's own value, and GF_NO_REEXEC stops it.
coretype() {
  env "$@" "$GF" bench --config configs/mlp_mnist.json --steps 1 --warmup 0 --no-generation |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["blas_coretype"])'
}
flags=$(grep -m1 '^flags' /proc/cpuinfo)
want=""
if grep -qw avx512_bf16 <<< "$flags"; then want=Cooperlake
elif grep -qw avx512f <<< "$flags" && grep -qw avx512vl <<< "$flags"; then want=SkylakeX
elif grep -qw avx2 <<< "$flags"; then want=Haswell; fi
[ "$(coretype -u OPENBLAS_CORETYPE -u GF_NO_REEXEC)" = "$want" ] || fail "kernel choice is not $want"
[ "$(coretype OPENBLAS_CORETYPE=Prescott)" = Prescott ] || fail "a user's OPENBLAS_CORETYPE was replaced"
[ "$(coretype -u OPENBLAS_CORETYPE GF_NO_REEXEC=1)" = "" ] || fail "GF_NO_REEXEC did not stop the re-exec"

# A NaN loss stops training with a clear message; the last good checkpoint stays intact.
expect_error "training diverged" "$GF" train --config configs/gaussian_ring.json --out "$WORK/nan" \
  --set train.optimizer=sgd --set train.lr_d=9.9 --set train.lr_g=9.9 --set train.r1_gamma=0 \
  --set log.checkpoint_every=2 --steps 1000
grep -q "the last good checkpoint is .*step_0000" "$WORK/err.txt" || fail "no last good checkpoint named"
"$GF" info "$(ls "$WORK"/nan/checkpoints/*.ckpt | tail -1)" > /dev/null || fail "last checkpoint unreadable"
# train.on_nan=rollback: back to the last checkpoint with halved learning rates, at most 3 times.
expect_error "training diverged" "$GF" train --config configs/gaussian_ring.json --out "$WORK/rb" \
  --set train.optimizer=sgd --set train.lr_d=9.9 --set train.lr_g=9.9 --set train.r1_gamma=0 \
  --set log.checkpoint_every=2 --set train.on_nan=rollback --steps 1000
[ "$(grep -c "rolled back to" "$WORK/rb/log.txt")" -eq 3 ] || fail "expected 3 rollbacks in log.txt"
# --time: a wall-clock budget replaces the preset's length; it is recorded and reported.
"$GF" train --config configs/gaussian_ring.json --time 2s --threads 1 --out "$WORK/budget" > "$WORK/budget.txt" 2>&1
grep -q '"time_budget": "2s"' "$WORK/budget/config.json" || fail "--time not recorded in config.json"
grep -q "time budget 2s: [0-9]* steps" "$WORK/budget/log.txt" || fail "the budget's steps are not logged"
expect_error "excludes" "$GF" train --config configs/gaussian_ring.json --time 2s --steps 5 --out "$WORK/b2"
expect_error "is not a duration" "$GF" train --config configs/gaussian_ring.json --time 2minutes --out "$WORK/b3"

# Every preset trains a couple of steps (on a slice of its data; --steps replaces time budgets).
for cfg in configs/*.json; do
  name=$(basename "$cfg" .json)
  "$GF" train --config "$cfg" --set data.limit=256 --set eval.every=0 --set log.every=1 \
    --steps 2 --threads 1 --out "$WORK/preset_$name" > "$WORK/preset.txt" 2>&1 ||
    fail "preset $name does not train: $(tail -3 "$WORK/preset.txt")"
  [ "$(wc -l < "$WORK/preset_$name/metrics.jsonl")" -eq 2 ] || fail "preset $name: expected 2 metrics lines"
done
echo "integration.cli: all checks passed"
