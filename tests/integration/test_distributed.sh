#!/usr/bin/env bash
# Data-parallel training through the CLI: two ranks launched by hand and by torchrun, rank 0
# alone writes the run directory, weights equal a single process with the same global batch,
# resume across world sizes, and a killed or frozen rank makes the other exit non-zero in time.
set -euo pipefail
GF="$1"; DATA="$2"; WORK="$3"
rm -rf "$WORK"; mkdir -p "$WORK"
source "$(dirname "$0")/common.sh"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
ARGS=(--config configs/mlp_mnist.json --data "$DATA" --set data.limit=1024
      --set log.every=10 --set log.checkpoint_every=10 --set log.sample_every=10 --threads 1)

# launch2 OUT STEPS [extra...]: a new two-rank run.
launch2() {
  local out="$1" steps="$2"; shift 2
  ranks2 "${ARGS[@]}" --out "$out" --steps "$steps" "$@"
}
# max |difference| of G's and D's weights between two checkpoints (python3-torch reads them).
weight_diff() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import sys, torch
a, b = (torch.jit.load(p) for p in sys.argv[1:3])
worst = 0.0
for sec in ("section_G", "section_D"):
    pa = dict(getattr(a, sec).named_parameters()); pb = dict(getattr(b, sec).named_parameters())
    assert pa.keys() == pb.keys() and pa, sec
    worst = max(worst, max((pa[k] - pb[k]).abs().max().item() for k in pa))
print(f"{worst:.3g}")
PY
}
below() { /usr/bin/python3 -c "import sys; sys.exit(0 if float('$1') < float('$2') else 1)"; }

# 1. Two ranks by hand vs one process, global batch 128 (2 x 64), 30 steps.
"$GF" train "${ARGS[@]}" --out "$WORK/single" --steps 30 > /dev/null 2>&1
launch2 "$WORK/dp" 30
[ -s "$WORK/dp/checkpoints/step_000030.ckpt" ] || fail "rank 0 wrote no checkpoint"
[ ! -s "$WORK/rank1.out" ] && [ ! -s "$WORK/rank1.err" ] || fail "rank 1 wrote output"
grep -q "global batch 128 = 2 x 64" "$WORK/dp/log.txt" || fail "global batch not reported"
d=$(weight_diff "$WORK/single/checkpoints/step_000030.ckpt" "$WORK/dp/checkpoints/step_000030.ckpt")
echo "2 ranks vs 1 process after 30 steps: max |w2 - w1| = $d"
below "$d" 1e-5 || fail "2-rank weights differ from the single process by $d"
[ "$(wc -l < "$WORK/dp/metrics.jsonl")" -eq 3 ] || fail "metrics.jsonl should have 3 lines"

# 2. Resume with another world size: 2 ranks to 20 steps, then 1 process to 30; and back.
launch2 "$WORK/r21" 20
"$GF" train --resume "$WORK/r21" --steps 30 > /dev/null 2>&1
d=$(weight_diff "$WORK/single/checkpoints/step_000030.ckpt" "$WORK/r21/checkpoints/step_000030.ckpt")
below "$d" 1e-5 || fail "2 ranks then 1 process differs by $d"
"$GF" train "${ARGS[@]}" --out "$WORK/r12" --steps 20 > /dev/null 2>&1
ranks2 --resume "$WORK/r12" --steps 30
d=$(weight_diff "$WORK/single/checkpoints/step_000030.ckpt" "$WORK/r12/checkpoints/step_000030.ckpt")
below "$d" 1e-5 || fail "1 process then 2 ranks differs by $d"

# 3. torchrun (Debian's python3-torch). Its Python 3.11 build cannot parse --redirects/--tee 0
# (the default), so one stream is named.
torchrun --nproc_per_node 2 --master_port "$(free_port)" --redirects 2 --tee 2 \
  --log_dir "$WORK/torchrun_logs" --no_python "$GF" train "${ARGS[@]}" --out "$WORK/tr" \
  --steps 20 > "$WORK/torchrun.out" 2>&1 || fail "torchrun failed: $(tail -20 "$WORK/torchrun.out")"
[ "$(grep -c '^run directory:' "$WORK/torchrun.out")" -eq 1 ] || fail "expected one rank to report"
grep -q "data-parallel: 2 ranks" "$WORK/tr/log.txt" || fail "torchrun run was not data-parallel"
[ -s "$WORK/tr/checkpoints/step_000020.ckpt" ] || fail "torchrun run wrote no checkpoint"
! grep -q '^\[default1\]:' "$WORK/torchrun.out" || fail "rank 1 logged"

# start_pair NAME TIMEOUT: two ranks training for good; sets R0 and R1 once rank 0 is stepping.
start_pair() {
  local name="$1" timeout="$2" port; port=$(free_port)
  for r in 0 1; do
    RANK=$r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "$GF" train "${ARGS[@]}" \
      --out "$WORK/$name" --steps 1000000 --dist-timeout "$timeout" > /dev/null \
      2> "$WORK/$name$r.err" &
    eval "R$r=\$!"; PIDS+=($!)
  done
  for _ in $(seq 1 600); do grep -q "^step " "$WORK/${name}0.err" && break; sleep 0.1; done
  grep -q "^step " "$WORK/${name}0.err" || fail "$name: rank 0 was not training after 60 s: $(tail -3 "$WORK/${name}0.err")"
}

# 4. A killed rank: the other stops with an error, long before its 30 s timeout.
start_pair kill 30
kill -9 "$R1"
start=$(date +%s)
set +e; timeout 60 tail --pid="$R0" -f /dev/null; wait "$R0"; rc=$?; set -e
[ "$rc" -ne 0 ] || fail "rank 0 exited 0 after its peer was killed"
[ $(( $(date +%s) - start )) -le 30 ] || fail "rank 0 took too long to notice"
grep -q "distributed training failed on rank 0" "$WORK/kill0.err" || fail "no clear error: $(tail -2 "$WORK/kill0.err")"

# 5. A frozen rank (SIGSTOP): the other gives up after --dist-timeout (5 s).
start_pair hang 5
kill -STOP "$R1"
start=$(date +%s)
set +e; wait "$R0"; rc=$?; set -e
elapsed=$(( $(date +%s) - start ))
kill -9 "$R1" 2>/dev/null || true
[ "$rc" -ne 0 ] || fail "rank 0 exited 0 with a frozen peer"
[ "$elapsed" -le 20 ] || fail "rank 0 waited ${elapsed} s for a frozen peer (timeout 5 s)"
grep -q "distributed training failed on rank 0" "$WORK/hang0.err" || fail "no clear error: $(tail -2 "$WORK/hang0.err")"
echo "after a frozen peer rank 0 stopped in ${elapsed} s (timeout 5 s)"

# 6. Nobody hosts the store: a lone rank 1 fails within its timeout.
set +e
RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$(free_port) timeout 60 "$GF" train \
  "${ARGS[@]}" --out "$WORK/lone" --steps 10 --dist-timeout 3 > /dev/null 2> "$WORK/lone.err"
rc=$?; set -e
[ "$rc" -eq 1 ] || fail "a rank without a store exited $rc"
grep -q "distributed start-up failed on rank 1" "$WORK/lone.err" || fail "$(cat "$WORK/lone.err")"
echo "distributed CLI: all checks passed"
