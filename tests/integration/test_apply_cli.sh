#!/usr/bin/env bash
# The applications from the command line: project (latents that `sample --latent` regenerates),
# walks between latents and classes, repair of PNGs, folders and idx files with every hole kind
# and method, --score, and one clear error (exit 1) for each kind of bad input.
set -euo pipefail
GF="$1"; DATA="$2"; WORK="$3"
HERE="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$WORK"; mkdir -p "$WORK"
source "$(dirname "$0")/common.sh"
MAX_ERROR_LINES=2  # the error, and at most one log line before it
export PYTHONPATH="$HERE/../../scripts/lib"

"$GF" train --config configs/cgan_mnist.json --data "$DATA" --set data.limit=1000 --threads 1 \
  --set model.g_channels=8 --set model.d_channels=8 --steps 30 --out "$WORK/cgan" > /dev/null
"$GF" train --config configs/mlp_mnist.json --data "$DATA" --set data.limit=1000 --threads 1 \
  --steps 30 --out "$WORK/mlp" > /dev/null
"$GF" classifier train --dataset mnist --data "$DATA" --epochs 1 --out "$WORK/clf.clf" > /dev/null 2>&1

# project -> LATENT.json -> sample --latent: the same images, every time; one JSON line each.
"$GF" sample "$WORK/cgan" -n 4 --seed 5 --labels 1,2,3,4 --out "$WORK/drawn.idx" > /dev/null
"$GF" project "$WORK/cgan" --input "$WORK/drawn.idx" --out "$WORK/lat.json" --steps 100 \
  --restarts 2 --threads 1 > "$WORK/project.jsonl" 2> "$WORK/project.txt"
[ "$(wc -l < "$WORK/project.jsonl")" -eq 4 ] || fail "project printed $(wc -l < "$WORK/project.jsonl") lines, not 4"
grep -q "mean PSNR" "$WORK/project.txt" || fail "project did not report its PSNR"
"$GF" sample "$WORK/cgan" --latent "$WORK/lat.json" --out "$WORK/again1.idx" > /dev/null
"$GF" sample "$WORK/cgan" --latent "$WORK/lat.json" --batch 1 --out "$WORK/again2.idx" > /dev/null
cmp -s "$WORK/again1.idx" "$WORK/again2.idx" || fail "sample --latent is not deterministic"
python3 - "$WORK" <<'PY'
import json, sys
from pngio import read_idx
w = sys.argv[1]
lat = json.load(open(w + "/lat.json"))
assert lat["format"] == "ganforge-latents" and len(lat["z"]) == 4 and len(lat["z"][0]) == 100
dims, _ = read_idx(w + "/again1.idx")
assert dims == (4, 28, 28), dims
assert read_idx(w + "/again1.labels.idx")[1] == bytes(lat["labels"])
PY

# Walks: between two latents (one row of frames), and from a class to another.
python3 -c "
import json; j = json.load(open('$WORK/lat.json'))
json.dump({'z': [j['z'][1]], 'labels': [j['labels'][1]]}, open('$WORK/b.json', 'w'))"
"$GF" sample "$WORK/cgan" --latent "$WORK/lat.json" --walk-to "$WORK/b.json" -n 5 --out "$WORK/walk.png" > /dev/null
"$GF" sample "$WORK/cgan" --seed 2 --label 3 --walk-to-class 8 -n 6 --out "$WORK/cwalk.idx" > /dev/null
[ -s "$WORK/walk.png" ] && [ -s "$WORK/cwalk.idx" ] || fail "walks wrote nothing"
[ ! -e "$WORK/cwalk.labels.idx" ] || fail "a class walk's blended frames got a labels file"
expect_error "conditional" "$GF" sample "$WORK/mlp" --walk-to-class 3 -n 4 --out "$WORK/x.png"
expect_error "100 numbers" "$GF" sample "$WORK/cgan" --latent <(echo '{"z": [[1, 2]], "labels": [0]}') --out "$WORK/x.png"
expect_error "labels" "$GF" sample "$WORK/cgan" --latent <(python3 -c "print({'z': [[0.0]*100]})" | tr "'" '"') --out "$WORK/x.png"

# repair: idx with random holes and --score, for every method; folders with a mask folder; a PNG
# with a box. Known pixels stay as they were (checked on the idx output).
"$GF" sample "$WORK/cgan" -n 12 --seed 9 --out "$WORK/truth.idx" > /dev/null
for m in gan mean nearest harmonic; do
  "$GF" repair "$WORK/cgan" --input "$WORK/truth.idx" --hole 10 --method "$m" --steps 40 \
    --restarts 1 --score --evaluator "$WORK/clf.clf" --data "$DATA" --out "$WORK/rep_$m.idx" \
    --threads 1 > "$WORK/rep_$m.jsonl" 2> /dev/null
  tail -1 "$WORK/rep_$m.jsonl" | python3 -c "
import json, sys; s = json.load(sys.stdin)['score']
assert s['n'] == 12 and s['psnr_hole'] > 0 and 0 <= s['accuracy'] <= 1, s"
done
[ "$(grep -c '"restart"' "$WORK/rep_gan.jsonl")" -eq 12 ] || fail "repair printed no line per image"
# A label outside the evaluator's classes (one damaged byte) is an error, not an accuracy of 0.
cp "$WORK/truth.idx" "$WORK/bad_labels.idx"
python3 -c "
d = bytearray(open('$WORK/truth.labels.idx', 'rb').read()); d[-1] = 200
open('$WORK/bad_labels.labels.idx', 'wb').write(d)"
expect_error "are outside the evaluator's classes 0..9" "$GF" repair "$WORK/cgan" \
  --input "$WORK/bad_labels.idx" --hole 10 --method mean --score --evaluator "$WORK/clf.clf" \
  --data "$DATA" --out "$WORK/x.idx" --threads 1
python3 - "$WORK" <<'PY'
import sys
from pngio import read_idx
w = sys.argv[1]
_, truth = read_idx(w + "/truth.idx")
for m in ("gan", "mean", "nearest", "harmonic"):
    _, rep = read_idx(w + f"/rep_{m}.idx")
    changed = [sum(a != b for a, b in zip(truth[i*784:(i+1)*784], rep[i*784:(i+1)*784])) for i in range(12)]
    assert max(changed) <= 100, (m, changed)  # only the 10x10 hole may change
    assert sum(changed) > 0, m
PY
mkdir -p "$WORK/pics" "$WORK/masks"
python3 - "$WORK" <<'PY'
import sys
from pngio import read_idx, write_grey_png
w = sys.argv[1]
_, px = read_idx(w + "/truth.idx")
for i in range(3):
    write_grey_png(f"{w}/pics/d{i}.png", 28, 28, px[i*784:(i+1)*784])
    write_grey_png(f"{w}/masks/d{i}.png", 28, 28,
                   bytes(255 if 6 <= y < 18 and 10 <= x < 20 else 0 for y in range(28) for x in range(28)))
write_grey_png(w + "/small.png", 8, 8, bytes(64))
write_grey_png(w + "/smallmask.png", 14, 14, bytes(196))
PY
"$GF" repair "$WORK/cgan" --input "$WORK/pics" --mask "$WORK/masks" --steps 20 --restarts 1 \
  --out "$WORK/fixed" > /dev/null 2>&1
[ "$(ls "$WORK/fixed" | wc -l)" -eq 3 ] || fail "folder repair did not write 3 PNGs"
"$GF" repair "$WORK/cgan" --input "$WORK/pics/d0.png" --box 4,4,10,10 --label 3 --steps 20 \
  --out "$WORK/d0_fixed.png" > "$WORK/one.jsonl" 2> /dev/null
grep -q '"label":3' "$WORK/one.jsonl" || fail "--label was not used"

# Bad input: one clear error each.
P="$WORK/pics/d0.png"
expect_error "one way" "$GF" repair "$WORK/cgan" --input "$P" --out "$WORK/x.png"
expect_error "one way" "$GF" repair "$WORK/cgan" --input "$P" --box 1,1,2,2 --hole 3 --out "$WORK/x.png"
expect_error "resize it first" "$GF" repair "$WORK/cgan" --input "$WORK/small.png" --hole 3 --out "$WORK/x.png"
expect_error "must be 28x28" "$GF" repair "$WORK/cgan" --input "$P" --mask "$WORK/smallmask.png" --out "$WORK/x.png"
expect_error "inside the 28x28" "$GF" repair "$WORK/cgan" --input "$P" --box 20,20,10,10 --out "$WORK/x.png"
expect_error "gan, mean, nearest, harmonic" "$GF" repair "$WORK/cgan" --input "$P" --hole 5 --method blur --out "$WORK/x.png"
expect_error "unconditional" "$GF" repair "$WORK/mlp" --input "$P" --hole 5 --label 2 --out "$WORK/x.png"
expect_error ".png" "$GF" repair "$WORK/cgan" --input "$P" --hole 5 --out "$WORK/x.idx"
expect_error "does not exist" "$GF" repair "$WORK/cgan" --input "$WORK/nothing.png" --hole 5 --out "$WORK/x.png"
mkdir -p "$WORK/nomasks"
expect_error "no mask" "$GF" repair "$WORK/cgan" --input "$WORK/pics" --mask "$WORK/nomasks" --out "$WORK/x"
printf 'not a png at all' > "$WORK/bad.png"
expect_error "bad.png" "$GF" project "$WORK/cgan" --input "$WORK/bad.png" --out "$WORK/x.json"
echo "integration.apply_cli: all checks passed"
