#!/usr/bin/env bash
# A user's own folder of colour images, end to end through the CLI: inspect, train a conditional
# model on it, info/sample (grid, PNGs, idx4, class names), pack, eval (evaluator trained on first
# use), serve (class names, colour PNGs equal to sample's), and bad files.
set -euo pipefail
GF="$1"; EMOJI="$2"; WORK="$3"; C10D="${4:-no-c10d}"
rm -rf "$WORK"; mkdir -p "$WORK"
export GANFORGE_CACHE="$WORK/cache"
source "$(dirname "$0")/common.sh"
fail() { echo "FAIL: $*" >&2; [ -f "$WORK/serve.log" ] && tail -20 "$WORK/serve.log" >&2; exit 1; }
PID=""; PIDS=()
trap 'for p in "$PID" "${PIDS[@]}"; do if [ -n "$p" ]; then kill -9 "$p" 2>/dev/null || true; fi; done' EXIT
[ -d "$EMOJI/flags" ] || fail "$EMOJI missing: run make data (scripts/fetch_data.sh)"

# A folder as a user has one: three classes of 64x64 RGBA PNGs, one of them nested deeper, and a
# stray text file.
D="$WORK/pics"
for c in flags food-drink smileys-emotion; do
  mkdir -p "$D/$c"
  ls "$EMOJI/$c" | head -40 | while read -r f; do cp "$EMOJI/$c/$f" "$D/$c/"; done
done
mkdir -p "$D/flags/more" && mv "$D/flags/$(ls "$D/flags" | grep png | head -1)" "$D/flags/more/"
echo "notes" > "$D/README.txt"

"$GF" dataset inspect "$D" > "$WORK/inspect.txt"
grep -q "images:   120 readable of 120" "$WORK/inspect.txt" || fail "inspect count: $(cat "$WORK/inspect.txt")"
grep -qE "flags +40" "$WORK/inspect.txt" || fail "inspect per class"
grep -q "ignored:  .txt: 1" "$WORK/inspect.txt" || fail "inspect ignored files"

# --data DIR with a folder of images reads it as one, whatever the preset's dataset, and the
# preset's own test folder (data/emoji-test) does not follow it.
TRAIN=(--config configs/emoji_32.json --set model.g_channels=16
       --set model.d_channels=16 --set log.sample_every=20 --set log.checkpoint_every=20
       --set eval.every=0 --threads 1)
"$GF" train "${TRAIN[@]}" --data "$D" --out "$WORK/run" --steps 20 > "$WORK/train.txt" 2>&1 ||
  fail "train: $(tail -5 "$WORK/train.txt")"
/usr/bin/python3 - "$WORK/run" <<'PY'
import json, struct, sys
run = sys.argv[1]
cfg = json.load(open(run + "/config.json"))
assert cfg["data"]["dataset"] == "folder", cfg["data"]
assert cfg["data"]["test_dir"] == "", cfg["data"]
assert cfg["model"]["out_shape"] == [3, 32, 32], cfg["model"]["out_shape"]
assert cfg["model"]["class_names"] == ["flags", "food-drink", "smileys-emotion"], cfg["model"]
png = open(run + "/samples/step_000020.png", "rb").read()
w, h, depth, colour = struct.unpack(">IIBB", png[16:26])
assert colour == 2 and depth == 8, (colour, depth)  # 8-bit RGB
PY
"$GF" info "$WORK/run" > "$WORK/info.txt"
grep -q "classes:     3 (0=flags, 1=food-drink, 2=smileys-emotion)" "$WORK/info.txt" || fail "info classes"
grep -q "images:      32x32, 3 channels" "$WORK/info.txt" || fail "info image shape"

# Classes by name or index are the same images; idx output of colour is N x H x W x 3.
"$GF" sample "$WORK/run" -n 3 --seed 4 --label food-drink --out "$WORK/byname" > /dev/null
"$GF" sample "$WORK/run" -n 3 --seed 4 --label 1 --out "$WORK/byindex" > /dev/null
diff -r "$WORK/byname" "$WORK/byindex" > /dev/null || fail "--label NAME differs from its index"
expect_error "unknown class 'pizza'" "$GF" sample "$WORK/run" -n 1 --label pizza --out "$WORK/x.png"
"$GF" sample "$WORK/run" -n 6 --seed 4 --out "$WORK/s.idx" > /dev/null
/usr/bin/python3 - "$WORK/s.idx" <<'PY'
import struct, sys
a = open(sys.argv[1], "rb").read()
assert a[:4] == b"\0\0\x08\x04" and struct.unpack(">IIII", a[4:20]) == (6, 32, 32, 3), a[:20]
assert len(a) == 20 + 6 * 32 * 32 * 3
PY
"$GF" sample "$WORK/run" -n 9 --seed 4 --out "$WORK/grid.png" > /dev/null

# Colour through export: plain PyTorch rebuilds an MLP trained on the folder from its safetensors
# export and reproduces `ganforge sample`'s colour idx4 images.
"$GF" train --config configs/mlp_mnist.json --data "$D" --set model.g_hidden=[32] \
  --set model.d_hidden=[32] --set train.batch=16 --out "$WORK/mlp" --steps 5 --threads 1 > /dev/null 2>&1 || fail "mlp on a folder"
"$GF" export "$WORK/mlp" --format safetensors --out "$WORK/mlp.safetensors" > /dev/null
"$GF" sample "$WORK/mlp.safetensors" -n 7 --seed 3 --out "$WORK/mlp.idx" > /dev/null
/usr/bin/python3 tests/interop/mlp_from_safetensors.py "$WORK/mlp.safetensors" "$WORK/mlp.idx" 3 \
  > /dev/null || fail "colour interop"

# A packed copy loads as the same data: a run on it matches the folder run step for step.
"$GF" dataset pack "$D" --resolution 32 --channels 3 --out "$WORK/packed" > /dev/null
"$GF" train "${TRAIN[@]}" --data "$WORK/packed" --set data.dataset=folder --out "$WORK/run2" \
  --steps 20 > /dev/null 2>&1 || fail "train on the pack"
cmp "$WORK/run/samples/step_000020.png" "$WORK/run2/samples/step_000020.png" ||
  fail "training on the pack differs from training on the folder"

# Data-parallel training on the colour folder: two ranks on loopback (c10d Gloo) write one run
# with the class names, and both decode into one cache entry.
if [ "$C10D" = c10d ]; then
  ranks2 "${TRAIN[@]}" --data "$D" --out "$WORK/dp" --steps 10 --distributed
  grep -q "data-parallel: 2 ranks" "$WORK/rank0.err" || fail "not data-parallel"
  "$GF" info "$WORK/dp" | grep -q "classes:     3 (0=flags" || fail "data-parallel run lost the class names"
fi

# eval trains the folder's evaluator on first use (1 in 10 images held out as its test split).
"$GF" eval "$WORK/run" -n 100 --json > "$WORK/eval.json" 2> "$WORK/eval.err" || fail "eval: $(cat "$WORK/eval.err")"
grep -q "no evaluator for folder-pics-" "$WORK/eval.err" || fail "eval did not say it trains an evaluator"
ls "$WORK/cache/evaluators/"folder-pics-*.clf > /dev/null || fail "evaluator not kept in the cache"
/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["dataset"].startswith("folder-pics-") and r["metrics"]["fid"] > 0, r
assert r["baseline"]["fid"] < r["metrics"]["fid"], r' "$WORK/eval.json"
"$GF" eval "$WORK/run" -n 100 --json > /dev/null 2> "$WORK/eval2.err"
if grep -q "no evaluator" "$WORK/eval2.err"; then fail "the evaluator was trained twice"; fi

# serve: class names in /v1/models, colour PNGs equal to sample's.
"$GF" serve "emoji=$WORK/run" --port 0 > /dev/null 2> "$WORK/serve.log" &
PID=$!
for _ in $(seq 1 300); do
  PORT=$(sed -n 's#.*listening on http://127.0.0.1:\([0-9]*\)/.*#\1#p' "$WORK/serve.log" | head -1)
  [ -n "$PORT" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")" = 200 ] && break
  kill -0 "$PID" 2>/dev/null || fail "serve exited"
  sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/v1/models" | /usr/bin/python3 -c '
import json, sys
m = json.load(sys.stdin)["models"][0]
assert m["class_names"] == ["flags", "food-drink", "smileys-emotion"] and m["output_shape"] == [3, 32, 32], m'
curl -sf -o "$WORK/served.png" -H 'Content-Type: application/json' \
  -d '{"model":"emoji","seed":4,"labels":[1]}' "http://127.0.0.1:$PORT/v1/generate" || fail "generate"
cmp "$WORK/served.png" "$WORK/byindex/seed4_000000.png" || fail "served colour image differs from sample's"
kill -TERM "$PID"; wait "$PID" || fail "serve did not exit cleanly"; PID=""

# Bad files: an error naming the file, or skipped and counted with data.skip_bad. (broken.png is
# in the training split: its path's hash is not 0 mod 10, see docs/data.md.)
head -c 300 "$D/flags/$(ls "$D/flags" | grep png | head -1)" > "$D/flags/broken.png"
expect_error "broken.png: truncated PNG" "$GF" train "${TRAIN[@]}" --data "$D" --out "$WORK/bad" --steps 2
"$GF" train "${TRAIN[@]}" --data "$D" --set data.skip_bad=true --out "$WORK/skip" --steps 2 \
  > "$WORK/skip.txt" 2>&1 || fail "skip_bad: $(tail -3 "$WORK/skip.txt")"
grep -q "skipped 1 bad files" "$WORK/skip.txt" || fail "skipped files not reported"
mkdir -p "$WORK/empty"
expect_error "no images found" "$GF" train "${TRAIN[@]}" --data "$WORK/empty" --out "$WORK/x" --steps 2
echo "text" > "$D/x.png"
expect_error "both directly inside it and in subfolders" "$GF" dataset inspect "$D"
echo "folder CLI: all checks passed"
