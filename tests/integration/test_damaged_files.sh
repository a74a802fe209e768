#!/usr/bin/env bash
# Files that ganforge wrote itself, damaged or edited by hand afterwards, are bad input like any
# other: each command that reads one stops with exit 1 and one error naming the file, never an
# "internal error" (exit 2) or a crash. The values are damaged, not the containers (those are the
# fuzz targets' part): a checkpoint's metadata (patch_checkpoint.py keeps the zip intact), a run's
# config.json and metrics.jsonl, a sweep's result file, a web bundle's model.json, and an image
# folder whose class folder name is not UTF-8. So are paths that cannot be used (at the end).
set -euo pipefail
GF="$1"; DATA="$2"; WORK="$3"
rm -rf "$WORK"; mkdir -p "$WORK"
source "$(dirname "$0")/common.sh"
MAX_ERROR_LINES=1
PATCH="/usr/bin/python3 $(dirname "$0")/patch_checkpoint.py"

"$GF" train --config configs/mlp_mnist.json --data "$DATA" --set data.limit=256 \
  --set model.g_hidden=[32] --set model.d_hidden=[32] --set log.every=10 \
  --set log.sample_every=20 --set log.checkpoint_every=10 --threads 1 --steps 20 \
  --out "$WORK/run" > "$WORK/train.txt" 2>&1 || { cat "$WORK/train.txt"; fail "training failed"; }
CKPT=$WORK/run/checkpoints/step_000020.ckpt
[ -f "$CKPT" ] || fail "no checkpoint at step 20"
"$GF" info "$CKPT" > /dev/null

# A copy of the run whose last checkpoint is CKPT with OLD -> NEW in its metadata.
damaged_run() {
  local dir=$1; shift
  rm -rf "$dir"; cp -r "$WORK/run" "$dir"
  $PATCH "$CKPT" "$dir/checkpoints/step_000020.ckpt" "$@"
}

# Checkpoint metadata.
damaged_run "$WORK/step" '"step":20' '"step":[]'
C=$WORK/step/checkpoints/step_000020.ckpt
for cmd in "info $C" "sample $C -n 1 --out $WORK/s.png" "export $C --out $WORK/e.safetensors" \
           "train --resume $WORK/step"; do
  # shellcheck disable=SC2086
  expect_error "$C: the checkpoint's step is not an integer" "$GF" $cmd
done
[ ! -e "$WORK/s.png" ] || fail "sample wrote an image from a checkpoint it refused"
damaged_run "$WORK/version" '"ganforge_version":"0.1.0"' '"ganforge_version":1234567'
expect_error "step_000020.ckpt: a value has the wrong type" "$GF" info "$WORK/version"
damaged_run "$WORK/lr" '"lr_scale":1.0' '"lr_scale":"1"'
expect_error "$WORK/lr/checkpoints/step_000020.ckpt: a value has the wrong type" \
  "$GF" train --resume "$WORK/lr"
damaged_run "$WORK/lecam" '"lecam_ema":[false' '"lecam_ema":[0.000'
expect_error "$WORK/lecam/checkpoints/step_000020.ckpt: a value has the wrong type" \
  "$GF" train --resume "$WORK/lecam"
# (the first "slope" is the run's config, the second the checkpoint's model spec)
damaged_run "$WORK/spec" '"slope":0.01' '"slope":"01"' '"slope":0.01' '"slope":"01"'
expect_error "$WORK/spec/checkpoints/step_000020.ckpt: a value has the wrong type" \
  "$GF" train --resume "$WORK/spec"
damaged_run "$WORK/data" '"dataset":"mnist"' '"dataset":1234567'
expect_error "$WORK/data/checkpoints/step_000020.ckpt: a value has the wrong type" \
  "$GF" eval "$WORK/data/checkpoints/step_000020.ckpt" -n 20

# A run's own JSON files.
rm -rf "$WORK/cfg"; cp -r "$WORK/run" "$WORK/cfg"
/usr/bin/python3 - "$WORK/cfg/config.json" << 'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["model"]["out_shape"] = [False]
json.dump(c, open(sys.argv[1], "w"))
PY
expect_error "$WORK/cfg/config.json: config key 'model.out_shape' has a value of the wrong type" \
  "$GF" train --resume "$WORK/cfg"
rm -rf "$WORK/metrics"; cp -r "$WORK/run" "$WORK/metrics"
echo '{"step":30,"eval":{"class_histogram":["x"]}}' >> "$WORK/metrics/metrics.jsonl"
expect_error "$WORK/metrics/metrics.jsonl" "$GF" report "$WORK/metrics"
"$GF" report "$WORK/run" > /dev/null  # the undamaged run still has its report

# A sweep's finished setting whose result file is not one.
mkdir -p "$WORK/sweep/01-lr_g=1e-4"
echo '{"status":5}' > "$WORK/sweep/01-lr_g=1e-4/sweep_result.json"
expect_error "$WORK/sweep/01-lr_g=1e-4/sweep_result.json: not a result of setting 01-lr_g=1e-4" \
  "$GF" sweep --grid train.lr_g=1e-4 --out "$WORK/sweep"

# A folder with a model.json that is not a bundle's is never replaced by a web export.
mkdir -p "$WORK/web"; echo '{"format": 5}' > "$WORK/web/model.json"
expect_error "is not a ganforge web bundle" "$GF" export "$CKPT" --format web --out "$WORK/web"
[ "$(cat "$WORK/web/model.json")" = '{"format": 5}' ] || fail "the folder was changed"

# A class folder whose name is not UTF-8 (names go into config.json and the checkpoints).
mkdir -p "$WORK/folder/cats" "$WORK/folder/"$'dog\xff'
cp "$WORK/run/samples/step_000020.png" "$WORK/folder/cats/a.png"
cp "$WORK/run/samples/step_000020.png" "$WORK/folder/"$'dog\xff'/b.png
expect_error "is not valid UTF-8; rename the folder" "$GF" dataset inspect "$WORK/folder" --json
# Paths that cannot be used are user errors too: a symbolic link loop and a name over 255 bytes
# (std::filesystem's errors, "internal error" before), a checkpoint name whose step does not fit
# an int64 (std::stoll threw), a device index LibTorch refuses.
ln -s loop "$WORK/loop"
expect_error "$WORK/loop: Too many levels of symbolic links" "$GF" info "$WORK/loop"
LONG=$WORK/$(printf 'x%.0s' $(seq 300))
expect_error "File name too long" "$GF" sample "$LONG" -n 1 --out "$WORK/x.png"
mkdir -p "$WORK/digits/checkpoints"
cp "$CKPT" "$WORK/digits/checkpoints/step_99999999999999999999.ckpt"
expect_error "run directory has no checkpoints" "$GF" info "$WORK/digits"
expect_error "unknown device 'cuda:007'" "$GF" sample "$CKPT" -n 1 --out "$WORK/x.png" --device cuda:007
echo "damaged files and unusable paths: all refused with an error naming them"
