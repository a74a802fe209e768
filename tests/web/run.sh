#!/usr/bin/env bash
# The web bundle (ctest browser.web_bundle): installs npm's onnxruntime-web and playwright-core
# (once, into the build tree), trains three tiny models (a conditional DCGAN with normal latents,
# the unconditional MLP with uniform ones, a conditional RGB DCGAN with class names), exports
# each with `ganforge export --format web`, checks latents.mjs against LibTorch bit for bit
# (check_latents.mjs), serves the bundles with python3 -m http.server and compares what the page
# generates in Debian's chromium with `ganforge sample` (web_test.mjs). Also: bad input gets one
# clear error and exit code 1 and leaves nothing behind. The screenshot lands in WORK/web.png.
# Usage: run.sh GANFORGE LATENTS_TOOL REFERENCE_TOOL MNIST_DIR WORK NODE_DIR [EMOJI_DIR]
set -euo pipefail
GF="$1"; LATENTS="$2"; REF="$3"; DATA="$4"; WORK="$5"; NODE_DIR="$6"; EMOJI="${7:-data/emoji}"
HERE="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$WORK"; mkdir -p "$WORK" "$NODE_DIR"
WORK="$(cd "$WORK" && pwd)"; NODE_DIR="$(cd "$NODE_DIR" && pwd)"
GF="$(realpath "$GF")"; LATENTS="$(realpath "$LATENTS")"; REF="$(realpath "$REF")"
# fail, expect_error (one line on stderr), node_packages, emoji_folder
MAX_ERROR_LINES=1
. "$HERE/../integration/common.sh"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium missing (scripts/install_deps.sh)"
command -v python3 > /dev/null || fail "python3 missing"
node_packages "$HERE" "$NODE_DIR"
cp "$HERE/check_latents.mjs" "$HERE/web_test.mjs" "$HERE/../browser/launch.mjs" "$NODE_DIR/"

# A colour folder as users bring one: two emoji classes, whose names the page shows.
emoji_folder "$EMOJI" "$WORK/pics"
MNIST=(--data "$DATA" --set data.limit=256)
SMALL=(--set model.g_channels=16 --set model.d_channels=16)
# name | train arguments | seeds compared (the largest is sample's largest)
CASES=(
  "digits|--config configs/cgan_mnist.json ${MNIST[*]} ${SMALL[*]}|0 7 123456789 9223372036854775807"
  "plain|--config configs/mlp_mnist.json ${MNIST[*]}|0 7 4294967296"
  "emoji|--config configs/emoji_32.json --data $WORK/pics ${SMALL[*]} --set train.augment= --set eval.every=0|3 11"
)
names=()
for c in "${CASES[@]}"; do
  IFS='|' read -r name train seeds <<< "$c"; read -r -a args <<< "$train"
  D="$WORK/$name"; mkdir -p "$D"; names+=("$name")
  "$GF" train "${args[@]}" --set train.batch=16 --set log.checkpoint_every=8 --set log.sample_every=8 \
    --set train.ema_kimg=1 --set train.ema_rampup=0.0 --steps 8 --threads 1 --out "$D/run" > "$D/train.txt" 2>&1 ||
    { cat "$D/train.txt"; fail "training $name"; }
  "$GF" export "$D/run" --format web --out "$WORK/site/$name" --ort-web "$NODE_DIR" > "$D/export.txt"
  grep -q "EMA generator" "$D/export.txt" || fail "$name: not the EMA generator: $(cat "$D/export.txt")"
  echo "$seeds" > "$D/seeds.txt"
  for s in $seeds; do
    "$GF" sample "$D/run" -n 8 --seed "$s" --out "$D/sample_$s.idx" > /dev/null
    "$REF" "$D/run" "$s" 8 "$D/ref_$s" > /dev/null
  done
  if [ "$name" != plain ]; then
    "$GF" sample "$D/run" -n 8 --seed 42 --label 1 --out "$D/sample_42_class1.idx" > /dev/null
  fi
done

# The bundle: exactly these files, and its size.
B="$WORK/site/digits"
want="index.html latents.mjs model.json model.onnx ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm ort.wasm.min.mjs"
[ "$(ls "$B" | sort | tr '\n' ' ')" = "$want " ] || fail "bundle files: $(ls "$B" | tr '\n' ' ')"
[ ! -e "$B.tmp" ] && [ ! -e "$B.old" ] || fail "the export left its temporary folder behind"
for name in "${names[@]}"; do
  echo "bundle $name: $(du -sb "$WORK/site/$name" | cut -f1) bytes (model.onnx $(stat -c %s "$WORK/site/$name/model.onnx"))"
done

# latents.mjs (as the bundle holds it) against LibTorch, bit for bit.
(cd "$NODE_DIR" && node check_latents.mjs "$B/latents.mjs" "$LATENTS" "$WORK/latents")

# Serve the bundles as a static host would, and open them in chromium.
python3 -u -m http.server --bind 127.0.0.1 --directory "$WORK/site" 0 > "$WORK/http.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
PORT=""
for _ in $(seq 1 100); do
  PORT=$(sed -n 's/^Serving HTTP on .* port \([0-9]*\) .*/\1/p' "$WORK/http.log" | head -1)
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { cat "$WORK/http.log"; fail "python3 -m http.server did not start"; }
(cd "$NODE_DIR" && timeout 300 node web_test.mjs "http://127.0.0.1:$PORT/" "$WORK" "${names[@]}") |
  tee "$WORK/agreement.txt"

# Exporting again replaces the bundle; other folders are never replaced.
"$GF" export "$WORK/plain/run" --format web --out "$WORK/site/digits/" --ort-web "$NODE_DIR" > /dev/null
grep -q '"arch": "mlp"' "$B/model.json" || fail "a second export did not replace the bundle"
mkdir -p "$WORK/mine"; echo keep > "$WORK/mine/notes.txt"
expect_error "is not a ganforge web bundle; not replacing it" \
  "$GF" export "$WORK/plain/run" --format web --out "$WORK/mine" --ort-web "$NODE_DIR"
[ "$(cat "$WORK/mine/notes.txt")" = keep ] || fail "an export touched a folder that is not a bundle"

# Bad input: one clear sentence and exit code 1, and no bundle (nor its temporary folder) left.
R="$WORK/plain/run"; X="$WORK/x"
expect_error "unknown --format 'webpage'" "$GF" export "$R" --format webpage --out "$X"
expect_error "--ort-web applies to --format web only" "$GF" export "$R" --format onnx --ort-web "$NODE_DIR" --out "$X"
expect_error "--batch applies to --format onnx only" "$GF" export "$R" --format web --batch 4 --out "$X"
expect_error "$WORK/nowhere does not exist: install the package" \
  "$GF" export "$R" --format web --ort-web "$WORK/nowhere" --out "$X"
mkdir -p "$WORK/partial/dist"; cp "$NODE_DIR/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs" "$WORK/partial/dist/"
expect_error "$WORK/partial/dist/ort-wasm-simd-threaded.mjs is missing" \
  "$GF" export "$R" --format web --ort-web "$WORK/partial" --out "$X"
"$GF" train --config configs/gaussian_ring.json --set data.synthetic_n=512 --set train.batch=64 \
  --set log.checkpoint_every=2 --set log.sample_every=2 --steps 2 --threads 1 \
  --out "$WORK/ring" > /dev/null 2>&1
expect_error "the web bundle shows greyscale or RGB images" \
  "$GF" export "$WORK/ring" --format web --ort-web "$NODE_DIR" --out "$X"
"$GF" train --config configs/dcgan_mnist.json "${MNIST[@]}" "${SMALL[@]}" --set model.z_dim=8 \
  --set train.batch=16 --set log.checkpoint_every=2 --set log.sample_every=2 --steps 2 --threads 1 \
  --out "$WORK/z8" > /dev/null 2>&1
expect_error "reproduces normal latents for z_dim >= 16 only" \
  "$GF" export "$WORK/z8" --format web --ort-web "$NODE_DIR" --out "$X"
[ ! -e "$X" ] && [ ! -e "$X.tmp" ] || fail "a failed export left a folder behind"
echo "browser.web_bundle: OK"
