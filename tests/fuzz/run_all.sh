#!/usr/bin/env bash
# Fuzzes every parser of untrusted input with libFuzzer (docs/reliability.md, "Fuzzing").
#
#   bash tests/fuzz/run_all.sh [SECONDS]          (make fuzz; SECONDS per target, default 600)
#     builds the main build's libraries (BUILD, default build), configures and builds the fuzz
#     targets with clang into FUZZ_BUILD (default build-fuzz), replays tests/fuzz/regressions/,
#     runs each target for SECONDS over a copy of its corpus, and writes the results into the
#     table of docs/reliability.md (rows of the targets run are replaced, others kept).
#   bash tests/fuzz/run_all.sh --ci DIR SECONDS WORK   (ctest's fuzz.short)
#     the same runs with the targets already built in DIR, work files under WORK, no table;
#     exits 77 (skipped) when DIR holds no fuzz build.
#
# Environment: FUZZ_TARGETS="idx config" runs a subset; FUZZ_JOBS limits the build's jobs;
# FUZZ_FORK=0 makes the long run stop at a target's first finding, as the CI pass does;
# FUZZ_PREBUILT=1 runs the targets already in FUZZ_BUILD without building.
# The targets are the directories of tests/fuzz/corpus/. Exit status 1 when anything was found.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
FUZZ_SRC=$ROOT/tests/fuzz

MODE=full
if [ "${1:-}" = "--ci" ]; then
  MODE=ci
  BIN=${2:-}
  SECONDS_EACH=${3:-20}
  WORK=${4:-/tmp/ganforge_fuzz_ci}
  if [ -z "$BIN" ] || ! ls "$BIN"/fuzz_* > /dev/null 2>&1; then
    echo "fuzz: no fuzz build in '${BIN}' (configure with -DGF_BUILD_FUZZ=ON): skipped"
    exit 77
  fi
else
  SECONDS_EACH=${1:-600}
  BUILD=${BUILD:-build}
  FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
  BIN=$(realpath -m "$FUZZ_BUILD")
  WORK=$BIN/run
fi
case "$SECONDS_EACH" in '' | *[!0-9]*) echo "fuzz: SECONDS must be a number" >&2; exit 2 ;; esac

if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a TARGETS <<< "$FUZZ_TARGETS"
else
  TARGETS=()
  for d in "$FUZZ_SRC"/corpus/*/; do TARGETS+=("$(basename "$d")"); done
fi

if [ "$MODE" = full ] && [ "${FUZZ_PREBUILT:-0}" != 1 ]; then
  JOBS=${FUZZ_JOBS:-$(nproc)}
  # The fuzz targets take everything but the parsers from the main build's libraries.
  if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
  fi
  cmake --build "$BUILD" -j "$JOBS" --target ganforge_core ganforge_serve
  start=$(date +%s)
  cmake -S . -B "$FUZZ_BUILD" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release \
    -DGF_FUZZ=ON -DGF_WERROR=OFF -DGF_FUZZ_CORE_LIB="$(realpath "$BUILD")/libganforge_core.a" \
    -DGF_FUZZ_SERVE_LIB="$(realpath "$BUILD")/libganforge_serve.a" > /dev/null
  cmake --build "$FUZZ_BUILD" -j "$JOBS" --target fuzz_all
  echo "fuzz: configured and built in $(($(date +%s) - start)) s"
fi

# The long run keeps going after a finding (libFuzzer's fork mode: one worker process, findings
# saved and counted); the CI pass stops at the first, which fails it.
FORK=()
if [ "$MODE" = full ] && [ "${FUZZ_FORK:-1}" = 1 ]; then
  FORK=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/sanitize/lsan.supp:print_suppressions=0}
mkdir -p "$WORK"
RESULTS=$WORK/results.tsv
: > "$RESULTS"
status=0

for t in "${TARGETS[@]}"; do
  exe=$BIN/fuzz_$t
  if [ ! -x "$exe" ]; then
    echo "fuzz: $exe is missing" >&2
    status=1
    continue
  fi
  # Every input that once broke a target must still pass (each file is run once).
  regressions=$FUZZ_SRC/regressions/$t
  if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
    if ! "$exe" -rss_limit_mb=4096 -timeout=10 "$regressions"/* > "$WORK/$t.regressions.log" 2>&1
    then
      echo "fuzz: $t fails a saved regression (tests/fuzz/regressions/$t): $WORK/$t.regressions.log"
      tail -n 30 "$WORK/$t.regressions.log"
      status=1
    fi
  fi
  corpus=$WORK/corpus/$t
  artifacts=$WORK/artifacts/$t
  rm -rf "$corpus" "$artifacts"
  mkdir -p "$corpus" "$artifacts"
  cp -r "$FUZZ_SRC/corpus/$t/." "$corpus/"
  seeds=$(ls "$corpus" | wc -l)
  dict=()
  [ -f "$FUZZ_SRC/dicts/$t.dict" ] && dict=(-dict="$FUZZ_SRC/dicts/$t.dict")
  log=$WORK/$t.log
  echo "fuzz: $t for ${SECONDS_EACH} s ($seeds seeds) -> $log"
  rc=0
  t0=$(date +%s)
  nice -n 10 "$exe" -max_total_time="$SECONDS_EACH" -rss_limit_mb=4096 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "${FORK[@]}" "${dict[@]}" "$corpus" \
    > "$log" 2>&1 || rc=$?
  wall=$(($(date +%s) - t0))
  # Executions and coverage: libFuzzer's last status line, "#N: cov: C ft: F ..." from the
  # fork-mode parent (its log also holds the crashed workers' own lines), else "#N ... cov: C
  # ft: F", with the final count where libFuzzer printed one.
  if [ ${#FORK[@]} -gt 0 ]; then
    status_line=$(grep -E '^#[0-9]+: cov:' "$log" | tail -n 1 || true)
    execs=$(echo "$status_line" | sed -nE 's/^#([0-9]+).*/\1/p')
  else
    status_line=$(grep -E '^#[0-9]+[[:space:]]+[A-Z]+[[:space:]]+cov:' "$log" | tail -n 1 || true)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    [ -n "$execs" ] || execs=$(echo "$status_line" | sed -nE 's/^#([0-9]+).*/\1/p')
  fi
  execs=${execs:-0}
  rate=$((execs / (wall > 0 ? wall : 1)))
  cov=$(echo "$status_line" | grep -oE 'cov: [0-9]+ ft: [0-9]+' | awk '{print $2 "/" $4}' || true)
  corp=$(ls "$corpus" | wc -l)
  crashes=$(find "$artifacts" -name 'crash-*' | wc -l)
  leaks=$(find "$artifacts" -name 'leak-*' | wc -l)
  timeouts=$(find "$artifacts" -name 'timeout-*' | wc -l)
  ooms=$(find "$artifacts" -name 'oom-*' | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$wall" "$execs" "$rate" \
    "${cov:-?}" "$seeds" "$corp" "$crashes" "$leaks" "$timeouts" "$ooms" >> "$RESULTS"
  echo "fuzz: $t: $execs executions in $wall s ($rate/s), cov/ft ${cov:-?}, corpus $seeds ->" \
    "$corp, crashes $crashes, leaks $leaks, timeouts $timeouts, out-of-memory $ooms"
  if [ "$rc" -ne 0 ] || [ $((crashes + leaks + timeouts + ooms)) -ne 0 ]; then
    echo "fuzz: $t FOUND SOMETHING (exit $rc); reproducers in $artifacts; the end of $log:"
    tail -n 40 "$log"
    status=1
  fi
done

if [ "$MODE" = full ]; then
  /usr/bin/python3 "$FUZZ_SRC/write_table.py" "$RESULTS" "$ROOT/docs/reliability.md" \
    "bash tests/fuzz/run_all.sh $SECONDS_EACH"
fi
exit $status
