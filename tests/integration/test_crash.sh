#!/usr/bin/env bash
# Crash, signal and disk-full safety of training and of the files the CLI writes
# (docs/reliability.md, "Crash, signal and disk-full safety"):
# (a) SIGKILL at KILLS seeded random moments of a training run, resuming after each: every kill
#     leaves either no run directory (killed while the run was starting: the same command starts
#     it again) or one that `info` reads and `--resume` continues, and every run, once finished,
#     has the weights, RNG state and sample grid of an uninterrupted run, bit for bit;
# (b) SIGINT and SIGTERM stop at a step boundary with a checkpoint of that step and exit 0;
#     resuming finishes with the same bits;
# (c) a checkpoint, metrics line, sample grid, export, `sample --out` grid, packed dataset or
#     eval cache file that cannot be written (`ulimit -f`, and a full tmpfs when we may mount one)
#     stops with exit 1 and one error line naming the file, leaves no partial file, keeps the
#     previous checkpoint intact, and the run resumes and finishes once space is back.
# GF_CRASH_KILLS (20) and GF_CRASH_SEED (15) choose the number of kills and their moments;
# GF_CRASH_PARTS ("a b c") which parts run.
set -euo pipefail
GF="$1"; DATA="$2"; WORK="$3"
umount "$WORK/tmpfs" 2> /dev/null || true  # left mounted by a run that was killed
rm -rf "$WORK"; mkdir -p "$WORK"
source "$(dirname "$0")/common.sh"
PY=/usr/bin/python3  # python3-torch reads the checkpoints
# ganforge re-executes itself once to pick the BLAS kernel (README); without that a launch starts
# faster and SIGKILL always hits the trainer. Every run here uses the same kernel.
export GF_NO_REEXEC=1
KILLS=${GF_CRASH_KILLS:-20}
PARTS=${GF_CRASH_PARTS:-a b c}
RANDOM=${GF_CRASH_SEED:-15}  # seeds bash's $RANDOM: the same kill delays every time
STEPS=150
ARGS=(--config configs/mlp_mnist.json --data "$DATA" --set data.limit=512
      --set model.g_hidden=[32] --set model.d_hidden=[32] --set train.ema_kimg=1
      --set log.every=5 --set log.sample_every=50 --set log.checkpoint_every=10 --set log.keep=3
      --threads 1)
PIDS=()
TMPFS=""
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [ -n "$TMPFS" ]; then umount "$TMPFS" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM  # (runs cleanup too)
now_ms() { date +%s%3N; }
ckpt() { printf '%s/checkpoints/step_%06d.ckpt' "$1" "$2"; }
# Runs to compare with the uninterrupted one: "RUN_DIR STEP" lines.
COMPARE="$WORK/compare.txt"; : > "$COMPARE"

# The uninterrupted reference (every checkpoint kept, for the shorter runs of part c).
t0=$(now_ms)
"$GF" train "${ARGS[@]}" --steps $STEPS --set log.keep=1000 --out "$WORK/ref" > /dev/null 2> "$WORK/ref.err"
T_REF=$(( $(now_ms) - t0 ))
# A launch's start-up and end without steps: resuming a finished run (a copy: it rewrites files).
cp -a "$WORK/ref" "$WORK/ref_copy"
t0=$(now_ms)
"$GF" train --resume "$WORK/ref_copy" > /dev/null 2>&1
T_START=$(( $(now_ms) - t0 ))
rm -rf "$WORK/ref_copy"
echo "reference: $STEPS steps in $T_REF ms; a launch without steps: $T_START ms"

# --- (a) SIGKILL at random moments --------------------------------------------------------------
part_a() {
  # One kill in three lands in start-up (a random moment of the first T_START ms: before the run
  # directory exists, or while a resume loads and truncates its metrics); the others a random
  # moment of the next ~75 steps' time after training started (the run directory appeared, or
  # the resume logged where it resumed from): in steps, checkpoint writes, sample grids, metrics.
  # Waiting for the start keeps the kills in training however slow start-up is on a loaded
  # machine. A launch that finishes before its kill completes that run; the next kills go to a
  # new one, so there are KILLS kills whatever the machine's speed.
  T_WINDOW=$(( (T_REF - T_START) / 2 > 50 ? (T_REF - T_START) / 2 : 50 ))
  # A checkpoint every step: most of a launch's time goes to writing them, so many kills land
  # inside a write (a writer that is not atomic fails this part within a few kills).
  local args=("${ARGS[@]}" --set log.checkpoint_every=1)
  n_run=0; run=""; kills=0; before_start=0; launches=0; INFO_PIDS=()
  new_run() { n_run=$((n_run + 1)); run="$WORK/k$n_run"; echo "$run $STEPS" >> "$COMPARE"; }
  # check_killed K: what kill K left. No run directory: it came before the run existed (a staging
  # directory may be left; the next start removes it). Otherwise a copy of the run, taken before
  # the next launch touches it, must be read by `info`, and hold only whole metrics lines.
  check_killed() {
    local k="$1"
    if [ ! -d "$run" ]; then
      before_start=$((before_start + 1)); echo "kill $k: before $run existed"; return
    fi
    local snap="$WORK/snap$k"
    cp -a "$run" "$snap"
    (
      "$GF" info --json "$snap" > "$snap.info" 2> "$snap.err" ||
        fail "kill $k left a run that info cannot read: $(cat "$snap.err")"
      $PY - "$snap" "$k" <<'PY' || exit 1
import json, sys
snap, k = sys.argv[1], sys.argv[2]
step = json.load(open(snap + ".info"))["step"]
import os
metrics = snap + "/metrics.jsonl"
lines = open(metrics).read().split("\n") if os.path.exists(metrics) else [""]
assert lines[-1] == "", f"kill {k}: metrics.jsonl ends in a torn line"
steps = [json.loads(l)["step"] for l in lines[:-1]]
assert steps == sorted(set(steps)), f"kill {k}: metrics steps {steps}"
torn = [f for d, _, fs in os.walk(snap) for f in fs if ".tmp." in f]
print(f"kill {k}: info reads step {step}; metrics up to step {steps[-1] if steps else 0}" +
      (f"; interrupted writing {', '.join(torn)}" if torn else ""))
PY
      rm -rf "$snap"
    ) > "$WORK/check$k.txt" 2>&1 &
    INFO_PIDS+=($!)
  }
  new_run
  # Two kills while the run starts. The first as soon as its staging directory RUN.partial
  # appears: there is no run directory yet (unless start-up outran this loop; never both). The
  # second as soon as the run directory appears: it must already hold a checkpoint. Then the
  # random kills.
  "$GF" train "${args[@]}" --steps $STEPS --out "$run" > /dev/null 2>&1 &
  pid=$!; PIDS+=("$pid")
  for _ in $(seq 3000); do [ -d "$run.partial" ] || [ -d "$run" ] && break; sleep 0.002; done
  kill -9 "$pid"; wait "$pid" 2> /dev/null || true
  if [ -d "$run.partial" ] && [ ! -e "$run" ]; then
    echo "kill 0a: while starting: $run.partial only (the next start removes it)"
  else
    [ -d "$run" ] && [ ! -e "$run.partial" ] || fail "a kill while starting left $(ls -d "$run"*)"
    echo "kill 0a: just after start-up: the run directory is in place"
    rm -rf "$run"
  fi
  "$GF" train "${args[@]}" --steps $STEPS --out "$run" > /dev/null 2>&1 &
  pid=$!; PIDS+=("$pid")
  for _ in $(seq 3000); do [ -d "$run" ] && break; sleep 0.002; done
  kill -9 "$pid"; wait "$pid" 2> /dev/null || true
  [ ! -e "$run.partial" ] || fail "the staging directory is left beside the run directory"
  "$GF" info --json "$run" > "$WORK/info0.json" 2> "$WORK/err.txt" ||
    fail "the run directory appeared without a checkpoint: $(cat "$WORK/err.txt")"
  echo "kill 0b: as soon as the run directory appeared: info reads step" \
    "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["step"])' "$WORK/info0.json")"
  while [ "$kills" -lt "$KILLS" ]; do
    if [ -d "$run" ]; then cmd=(train --resume "$run"); else cmd=(train "${args[@]}" --steps $STEPS --out "$run"); fi
    resumes=$(grep -c "resumed from" "$run/log.txt" 2> /dev/null || true)
    "$GF" "${cmd[@]}" > "$WORK/launch.out" 2> "$WORK/launch.err" &
    pid=$!; PIDS+=("$pid"); launches=$((launches + 1))
    if [ $((RANDOM % 3)) -eq 0 ]; then
      delay=$(( RANDOM * T_START / 32768 ))
    else
      delay=$(( RANDOM * T_WINDOW / 32768 ))
      while kill -0 "$pid" 2> /dev/null; do
        if [ "${cmd[1]}" = --resume ]; then
          [ "$(grep -c "resumed from" "$run/log.txt" 2> /dev/null || true)" -gt "$resumes" ] && break
        else
          [ -d "$run" ] && break
        fi
        sleep 0.01
      done
    fi
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -9 "$pid" 2>/dev/null || true
    rc=0; wait "$pid" 2> /dev/null || rc=$?  # (no "Killed" message from bash)
    case $rc in
      137) kills=$((kills + 1)); check_killed "$kills" ;;
      0) echo "launch $launches finished $run before its kill"; new_run ;;
      *) fail "launch $launches (${cmd[*]}) exited $rc: $(cat "$WORK/launch.err")" ;;
    esac
  done
  # Finish the last run (resumed, or started again when its start was killed).
  if [ -d "$run" ]; then
    "$GF" train --resume "$run" > /dev/null 2> "$WORK/launch.err" || fail "final resume: $(cat "$WORK/launch.err")"
  else
    "$GF" train "${args[@]}" --steps $STEPS --out "$run" > /dev/null 2> "$WORK/launch.err" || fail "final start: $(cat "$WORK/launch.err")"
  fi
  for p in "${INFO_PIDS[@]}"; do wait "$p" || { cat "$WORK"/check*.txt >&2; fail "a killed run failed its check"; }; done
  cat "$WORK"/check*.txt 2>/dev/null | sort -t' ' -k2,2n | sed 's/^/  /'
  echo "(a) $kills kills in $launches launches ($before_start before the run directory existed), $n_run run(s)"
  for r in "$WORK"/k*; do
    [ -z "$(find "$r" -name '*.tmp.*')" ] || fail "temporary files left in $r: $(find "$r" -name '*.tmp.*')"
  done
  [ -z "$(find "$WORK" -maxdepth 1 -name '*.partial')" ] || fail "staging directory left behind"
}

# --- (b) SIGINT and SIGTERM ---------------------------------------------------------------------
part_b() {
  for sig in INT TERM; do
    out="$WORK/sig$sig"
    # A background job of a script ignores SIGINT (and ganforge keeps an inherited SIG_IGN, as
    # nohup expects); env gives it the default disposition that a terminal's job has.
    env --default-signal=INT "$GF" train "${ARGS[@]}" --steps $STEPS --out "$out" \
      > "$out.out" 2> "$out.err" &
    pid=$!; PIDS+=("$pid")
    for _ in $(seq 1200); do [ -s "$out/metrics.jsonl" ] && break; sleep 0.05; done
    [ -s "$out/metrics.jsonl" ] || fail "SIG$sig run did not start training"
    kill -"$sig" "$pid"
    rc=0; wait "$pid" || rc=$?
    [ "$rc" -eq 0 ] || fail "SIG$sig: exit $rc, expected 0: $(cat "$out.err")"
    stop=$(sed -n "s/.*interrupted by SIG$sig: stopped at step \([0-9]*\) of $STEPS.*/\1/p" "$out.err")
    [ -n "$stop" ] && [ "$stop" -lt "$STEPS" ] || fail "SIG$sig: no 'interrupted' line: $(cat "$out.err")"
    grep -q "continue with: ganforge train --resume $out" "$out.err" || fail "SIG$sig: no resume hint"
    [ -s "$(ckpt "$out" "$stop")" ] || fail "SIG$sig: no checkpoint at the stop step $stop"
    "$GF" info --json "$out" | $PY -c "import json,sys; assert json.load(sys.stdin)['step'] == $stop" ||
      fail "SIG$sig: info does not read step $stop"
    "$GF" train --resume "$out" > /dev/null 2> "$out.err2" || fail "SIG$sig: resume: $(cat "$out.err2")"
    grep -q "resumed from .*step_$(printf %06d "$stop").ckpt at step $stop" "$out/log.txt" ||
      fail "SIG$sig: the resume did not start from the stop step"
    echo "$out $STEPS" >> "$COMPARE"
    echo "(b) SIG$sig: exit 0 at step $stop with its checkpoint; resumed to $STEPS"
  done
}

# --- (c) write errors and a full disk -----------------------------------------------------------
part_c() {
  # limited KB CMD...: CMD with a file size limit of KB kilobytes; a write past it fails with EFBIG
  # ("File too large") instead of killing the process with SIGXFSZ.
  limited() { local kb="$1"; shift; ( trap '' XFSZ; ulimit -f "$kb"; exec "$@" ); }
  # expect_write_error FILE CMD...: exit 1; exactly one "error:" line on stderr, naming FILE and
  # why; no crash, no internal error; no temporary file beside FILE.
  expect_write_error() {
    local file="$1"; shift
    set +e; "$@" > "$WORK/out.txt" 2> "$WORK/err.txt"; local rc=$?; set -e
    [ "$rc" -eq 1 ] || fail "expected exit 1, got $rc: $*; stderr: $(cat "$WORK/err.txt")"
    [ "$(grep -c '^error: ' "$WORK/err.txt")" -eq 1 ] || fail "expected one error line: $(cat "$WORK/err.txt")"
    grep '^error: ' "$WORK/err.txt" | grep -F -- "$file" | grep -Eq "File too large|No space left" ||
      fail "the error does not name $file and why: $(grep '^error: ' "$WORK/err.txt")"
    ! grep -qiE "internal error|terminate called|core dumped" "$WORK/err.txt" || fail "crash: $(cat "$WORK/err.txt")"
    [ -z "$(ls -d "$file".tmp* 2> /dev/null)" ] || fail "a temporary file of $file is left"
    echo "(c) $(grep '^error: ' "$WORK/err.txt")"
  }
  gone() { [ ! -e "$1" ] || fail "$1 was written although its write failed"; }
  # A run of 20 steps (checkpoints 10 and 20); each case below resumes a copy of it to 40 steps.
  "$GF" train "${ARGS[@]}" --steps 20 --out "$WORK/df" > /dev/null 2>&1
  # disk_case NAME KB FILE [--set ...]: the resume stops on FILE with checkpoint 20 intact; a resume
  # without the limit finishes (compared with the reference at step 40).
  disk_case() {
    local name="$1" kb="$2" file="$3"; shift 3
    local run="$WORK/df_$name"
    cp -a "$WORK/df" "$run"
    expect_write_error "$run/$file" limited "$kb" "$GF" train --resume "$run" --steps 40 "$@"
    [ "$name" = metrics ] || gone "$run/$file"
    cmp -s "$(ckpt "$WORK/df" 20)" "$(ckpt "$run" 20)" || fail "$name: checkpoint 20 changed"
    [ "$(ls "$run/checkpoints")" = "$(printf 'step_%06d.ckpt\n' 0 10 20)" ] ||
      fail "$name: checkpoints are $(ls "$run/checkpoints")"
    $PY -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$run/metrics.jsonl" ||
      fail "$name: metrics.jsonl has a torn line"
    "$GF" train --resume "$run" --steps 40 > /dev/null 2> "$WORK/err.txt" || fail "$name: resume: $(cat "$WORK/err.txt")"
    echo "$run 40" >> "$COMPARE"
  }
  # Checkpoints are ~700 KB, sample grids ~56 KB, config.json 2 KB, metrics lines ~0.4 KB (1.6 KB
  # at step 20).
  disk_case checkpoint 300 checkpoints/step_000030.ckpt --set log.sample_every=1000
  disk_case samples 40 samples/step_000025.png --set log.sample_every=25 --set log.checkpoint_every=1000
  disk_case metrics 5 metrics.jsonl --set log.every=1 --set log.sample_every=1000 --set log.checkpoint_every=1000
  # export, sample --out, dataset pack, eval's reference cache.
  expect_write_error "$WORK/g.safetensors" limited 50 "$GF" export "$WORK/ref" --format safetensors --out "$WORK/g.safetensors"
  gone "$WORK/g.safetensors"
  expect_write_error "$WORK/grid.png" limited 20 "$GF" sample "$WORK/ref" -n 64 --out "$WORK/grid.png"
  gone "$WORK/grid.png"
  for c in a b; do "$GF" sample "$WORK/ref" -n 6 --seed 3 --out "$WORK/folder/$c" > /dev/null; done
  expect_write_error "$WORK/packed" limited 2 "$GF" dataset pack "$WORK/folder" --out "$WORK/packed"
  gone "$WORK/packed"
  [ -z "$(ls -d "$WORK"/packed.tmp* 2> /dev/null)" ] || fail "dataset pack left $(ls -d "$WORK"/packed.tmp*)"
  "$GF" classifier train --dataset mnist --data "$DATA" --steps 2 --out "$WORK/clf/mnist.clf" > /dev/null 2>&1
  expect_write_error "$WORK/clf/cache/ref_mnist_" limited 16 "$GF" eval "$WORK/ref" --dataset mnist --data "$DATA" \
    --evaluator "$WORK/clf/mnist.clf" --metrics fid -n 200
  "$GF" eval "$WORK/ref" --dataset mnist --data "$DATA" --evaluator "$WORK/clf/mnist.clf" --metrics fid -n 200 \
    > /dev/null 2>&1 || fail "eval after the failed cache write"
  # A full disk: a 2.5 MB tmpfs holds three checkpoints but not the fourth (when we may mount).
  mkdir -p "$WORK/tmpfs"
  if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=2560k tmpfs "$WORK/tmpfs" 2> /dev/null; then
    TMPFS="$WORK/tmpfs"
    set +e; "$GF" train "${ARGS[@]}" --steps 40 --out "$TMPFS/run" > /dev/null 2> "$WORK/err.txt"; rc=$?; set -e
    [ "$rc" -eq 1 ] && grep -q "^error: cannot write $TMPFS/run/.*No space left on device" "$WORK/err.txt" ||
      fail "full disk: exit $rc: $(cat "$WORK/err.txt")"
    echo "(c) full disk: $(grep '^error: ' "$WORK/err.txt")"
    last=$(ls "$TMPFS/run/checkpoints" | tail -1)
    "$GF" info "$TMPFS/run/checkpoints/$last" > /dev/null || fail "full disk: $last unreadable"
    mount -o remount,size=16m "$TMPFS"
    "$GF" train --resume "$TMPFS/run" > /dev/null 2> "$WORK/err.txt" || fail "full disk: resume: $(cat "$WORK/err.txt")"
    echo "$TMPFS/run 40" >> "$COMPARE"
  else
    echo "(c) full disk: skipped (cannot mount a tmpfs here; ulimit -f covered the write errors)"
  fi
}

for part in $PARTS; do
  t0=$(now_ms); "part_$part"; echo "($part) took $(( ($(now_ms) - t0) / 1000 )) s"
done

# --- every finished run equals the reference, bit for bit ---------------------------------------
$PY - "$WORK/ref" "$COMPARE" "$STEPS" <<'PY'
import filecmp, json, sys, torch
ref, listing, full = sys.argv[1], sys.argv[2], int(sys.argv[3])
def ckpt(run, step):
    return f"{run}/checkpoints/step_{step:06d}.ckpt"
def state(path):
    # G, D, EMA G and the training RNG state; the optimizers' moments shape every later step.
    return torch.jit.load(path).state_dict()
cache = {}
for line in open(listing):
    run, step = line.split()
    step = int(step)
    if step not in cache:
        cache[step] = state(ckpt(ref, step))
    want, got = cache[step], state(ckpt(run, step))
    assert want.keys() == got.keys() and len(want) > 4, (run, sorted(want))
    for k in want:
        assert torch.equal(want[k], got[k]), f"{run}: {k} differs from the uninterrupted run at step {step}"
    if step == full:  # the shorter runs of part c log at other steps
        steps = [json.loads(l)["step"] for l in open(run + "/metrics.jsonl")]
        ref_steps = [json.loads(l)["step"] for l in open(ref + "/metrics.jsonl")]
        assert steps == ref_steps, f"{run}: metrics steps {steps}"
        grid = f"/samples/step_{step:06d}.png"
        assert filecmp.cmp(ref + grid, run + grid, shallow=False), f"{run}: sample grid differs"
    print(f"  {run}: step {step}: {len(want)} tensors equal the uninterrupted run's")
PY
echo "test_crash: OK"
