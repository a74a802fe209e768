#!/usr/bin/env bash
# ONNX export checked by ONNX Runtime (ctest integration.onnx): installs npm's onnxruntime-node
# (once, into the build tree), trains tiny models of every architecture and conditioning, exports
# each with `ganforge export --format onnx` (dynamic batch and a fixed batch of 5), and runs
# check_onnx.mjs: ONNX Runtime on the latents `ganforge sample` uses must match LibTorch's images
# within 1e-4 per pixel. Also: bad export input gets one clear error and exit code 1.
# Usage: run.sh GANFORGE REFERENCE_TOOL MNIST_DIR WORK NODE_DIR [EMOJI_DIR]
set -euo pipefail
GF="$1"; REF="$2"; DATA="$3"; WORK="$4"; NODE_DIR="$5"; EMOJI="${6:-data/emoji}"
HERE="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$WORK"; mkdir -p "$WORK" "$NODE_DIR"
WORK="$(cd "$WORK" && pwd)"; NODE_DIR="$(cd "$NODE_DIR" && pwd)"
# fail, expect_error (one line on stderr), node_packages, emoji_folder
MAX_ERROR_LINES=1
. "$HERE/../integration/common.sh"
# --ignore-scripts: the package's install script only fetches optional CUDA files from a host
# this machine cannot reach; the CPU binaries ship in it.
node_packages "$HERE" "$NODE_DIR" --ignore-scripts
cp "$HERE/check_onnx.mjs" "$NODE_DIR/check_onnx.mjs"

# A colour folder as users bring one: two emoji classes.
emoji_folder "$EMOJI" "$WORK/pics"
MNIST=(--data "$DATA" --set data.limit=256)
SMALL=(--set model.g_channels=16 --set model.d_channels=16)
COLOUR=(--config configs/emoji_32.json --data "$WORK/pics" "${SMALL[@]}"
        --set train.augment= --set eval.every=0)
# name | train arguments (steps: enough for batch norm statistics and the EMA copy to move away
# from their initial values, so folding and --no-ema are exercised).
CASES=(
  "mlp|--config configs/mlp_mnist.json ${MNIST[*]}"
  "mlp_cgan|--config configs/mlp_mnist.json ${MNIST[*]} --set model.conditional=cgan"
  "dcgan|--config configs/dcgan_mnist.json ${MNIST[*]} ${SMALL[*]}"
  "dcgan_resize_projection|--config configs/cgan_mnist.json ${MNIST[*]} ${SMALL[*]} --set model.g_upsample=resize"
  "dcgan_rgb_projection|${COLOUR[*]}"
  "resnet|--config configs/dcgan_mnist.json ${MNIST[*]} ${SMALL[*]} --set model.arch=resnet"
  "resnet_rgb_cbn|${COLOUR[*]} --set model.arch=resnet"
)
names=()
for c in "${CASES[@]}"; do
  name="${c%%|*}"; read -r -a args <<< "${c#*|}"
  D="$WORK/$name"; mkdir -p "$D"; names+=("$name")
  "$GF" train "${args[@]}" --set train.batch=16 --set log.checkpoint_every=8 --set log.sample_every=8 \
    --set train.ema_kimg=1 --set train.ema_rampup=0.0 --steps 8 --threads 1 --out "$D/run" > "$D/train.txt" 2>&1 ||
    { cat "$D/train.txt"; fail "training $name"; }
  "$GF" export "$D/run" --format onnx --out "$D/dynamic.onnx" > "$D/export.txt"
  grep -q "EMA generator" "$D/export.txt" || fail "$name: not the EMA generator: $(cat "$D/export.txt")"
  "$GF" export "$D/run" --format onnx --batch 5 --out "$D/fixed5.onnx" > /dev/null
  "$REF" "$D/run" 7 5 "$D/ref"
  "$GF" sample "$D/run" -n 5 --seed 7 --out "$D/sample.idx" > /dev/null
done
# --no-ema: the raw generator, against the raw generator's reference.
D="$WORK/dcgan"
"$GF" export "$D/run" --format onnx --no-ema --out "$D/raw.onnx" | grep -q "raw generator" ||
  fail "--no-ema did not export the raw generator"
"$REF" "$D/run" 7 5 "$D/ref_raw" --no-ema

(cd "$NODE_DIR" && node check_onnx.mjs "$WORK" "${names[@]}") | tee "$WORK/agreement.txt"

# Bad input: one clear sentence and exit code 1.
R="$WORK/mlp/run"
expect_error "unknown --format 'tflite'" "$GF" export "$R" --format tflite --out "$WORK/x"
expect_error "--batch must be 'dynamic' or a batch size from 1 to 65536, got '0'" \
  "$GF" export "$R" --format onnx --batch 0 --out "$WORK/x.onnx"
expect_error "got '1000000'" "$GF" export "$R" --format onnx --batch 1000000 --out "$WORK/x.onnx"
expect_error "got 'many'" "$GF" export "$R" --format onnx --batch many --out "$WORK/x.onnx"
expect_error "--batch applies to --format onnx only" "$GF" export "$R" --batch 4 --out "$WORK/x.st"
expect_error "$WORK/missing" "$GF" export "$WORK/missing" --format onnx --out "$WORK/x.onnx"
"$GF" train --config configs/gaussian_ring.json --set data.synthetic_n=512 --set train.batch=64 \
  --set log.checkpoint_every=2 --set log.sample_every=2 --steps 2 --threads 1 \
  --out "$WORK/ring" > /dev/null 2>&1
expect_error "ONNX export writes image generators" \
  "$GF" export "$WORK/ring" --format onnx --out "$WORK/x.onnx"
[ ! -e "$WORK/x.onnx" ] && [ ! -e "$WORK/x" ] && [ ! -e "$WORK/x.st" ] ||
  fail "a failed export left a file behind"
echo "integration.onnx: OK"
