#!/usr/bin/env bash
# The CUDA checks, on a machine with an NVIDIA GPU and a pip torch (its LibTorch and CMake
# config), none of the Debian packages: pack the header-only dependencies first on a Debian
# machine (scripts/pack_deps.sh -> .deps), copy the tree with .deps and data/mnist, then run
#   bash scripts/gpu_check.sh [OUT_DIR]
# One run gives as much as it can: it configures and builds ganforge against the CUDA LibTorch
# with `-k 0` (every compile error at once, the full log in OUT/build.txt); then, with whatever
# binaries were built, runs the device tests on cuda, trains and samples on the GPU (fp32, then a
# short bf16 run), runs bench/run.py device=cuda, and last the CPU unit tests of that build in
# parallel shards. GF_CHECK_BUDGET (seconds, default 380) bounds the whole run: each step's
# timeout is cut to what is left, so the script ends inside its caller's limit (on the H200 it
# reached the unit tests after ~210 s, the configure and build taking ~85 s of it). Files in OUT: log.txt (everything printed),
# cmake.txt, build.txt, device_tests.txt, train.txt, cuda_cgan_grid.png, bench.txt +
# results_cuda.json, unit_tests.txt (at most 8 files).
#
# The test binary runs with the system libstdc++ preloaded: a pip torch (seen with 2.11; reported
# since 2.4) exports copies of libstdc++'s std::filesystem functions from libtorch.so, the dynamic
# linker binds the tests' calls to them (libtorch comes before libstdc++ in the search order),
# and the remove_all(path) there jumps to address 0 (cuda-gdb backtrace from TempDir; without the
# preload every shard of the unit tests crashed). With the preload the same tests run.
set -uo pipefail
OUT="${1:-${OUT:-/tmp/gf_gpu}}"
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
B=build-cuda
PY=python3
BUDGET="${GF_CHECK_BUDGET:-380}"
T0=$SECONDS
step() { echo; echo "=== $* ($(date +%T), ${SECONDS}s)"; }
# cap WANT [RESERVE]: WANT seconds, or what the budget has left less RESERVE if that is less.
cap() {
  local want=$1 left=$((BUDGET - (SECONDS - T0) - ${2:-5}))
  ((left < want)) && want=$left
  ((want < 1)) && want=1
  echo "$want"
}

step machine
nvidia-smi -L
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
$PY -c 'import torch, sys; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available(), sys.executable)'
TP=$($PY -c 'import torch; print(torch.utils.cmake_prefix_path)')
TV=$($PY -c 'import torch; v = torch.__version__.split("+")[0].split("."); print(int(v[0]) * 100 + int(v[1]))')
# LibTorch up to 2.11 builds with C++17 (as Debian's 1.13 here); later ones require C++20.
STD="${GF_CXX_STD:-$([ "$TV" -ge 212 ] && echo 20 || echo 17)}"
echo "torch cmake prefix: $TP; C++$STD"
echo "cores: $(nproc); $(cmake --version | head -1); $(c++ --version | head -1); $(nvcc --version | tail -1)"
echo "zlib: $(ldconfig -p | grep -E 'libz\.so' | head -3 | tr -s ' \t' ' ')"
echo "ccache: $(command -v ccache || echo none)"

step configure
if ! timeout "$(cap 90)" cmake -S . -B $B -G Ninja -DGF_DEPS_DIR="$PWD/.deps" \
  -DCMAKE_PREFIX_PATH="$TP" -DGF_WERROR=OFF -DCMAKE_CXX_STANDARD="$STD" \
  -DCMAKE_POLICY_VERSION_MINIMUM=3.5 >"$OUT/cmake.txt" 2>&1; then
  grep -E "Error|error" -A8 "$OUT/cmake.txt" | head -60
  tail -20 "$OUT/cmake.txt"
  exit 1
fi
grep -iE "warning|cuda|cudnn|torch|found" "$OUT/cmake.txt" | head -25

step "build (-k 0: every error)"
timeout "$(cap 260 100)" cmake --build $B -j "$(nproc)" -- -k 0 >"$OUT/build.txt" 2>&1
BUILD_RC=$?
echo "build exit $BUILD_RC; $(grep -c 'error:' "$OUT/build.txt") error lines, $(grep -c '^FAILED:' "$OUT/build.txt") failed commands"
if ((BUILD_RC != 0)); then
  echo "--- failed:"
  grep '^FAILED:' "$OUT/build.txt" | sed -E 's/^FAILED: ([^ ]*).*/\1/' | head -40
  echo "--- first distinct errors (of our code first):"
  grep -E '^(/[^:]*/)?(src|apps|tests|cmake)/[^:]*:[0-9]+:[0-9]+: (fatal )?error:' "$OUT/build.txt" \
    | sed -E "s|^$PWD/||" | sort -u | head -60
  echo "--- first errors with context:"
  grep -E 'error:|error [A-Z]|undefined reference' -B2 -A6 "$OUT/build.txt" | head -160
fi
echo "--- warnings in our code (first distinct):"
grep -E '^(/[^:]*/)?(src|apps|tests)/[^:]*:[0-9]+:[0-9]+: warning:' "$OUT/build.txt" \
  | sed -E "s|^$PWD/||" | sort -u | head -25
tail -3 "$OUT/build.txt"
GF=$B/ganforge
TESTS=$B/tests/ganforge_tests
export CUBLAS_WORKSPACE_CONFIG=:4096:8
STDCXX=$(ldconfig -p | grep -m1 'libstdc++.so.6 ' | awk '{print $NF}')
echo "tests run with LD_PRELOAD=$STDCXX (see the top of this script)"

step "device tests on cuda"
if [ -x $TESTS ]; then
  GF_TEST_DEVICE=cuda LD_PRELOAD=$STDCXX timeout "$(cap 120)" $TESTS --gtest_filter='Device*' >"$OUT/device_tests.txt" 2>&1
  echo "exit $?"
  grep -vE '^\[ RUN' "$OUT/device_tests.txt" | head -60
else
  echo "SKIPPED: $TESTS was not built"
fi

step "train and sample on the GPU"
if [ -x $GF ]; then
  rm -rf /tmp/gf_run /tmp/gf_run_bf16
  {
    echo "## fp32, 2000 steps"
    timeout "$(cap 100)" $GF train --config configs/cgan_mnist.json --data data/mnist --device cuda \
      --out /tmp/gf_run --steps 2000 --set log.every=500
    echo "exit $?"
    timeout "$(cap 30)" $GF sample /tmp/gf_run -n 100 --seed 1 --device cuda --out "$OUT/cuda_cgan_grid.png"
    echo "sample exit $?"
    timeout "$(cap 30)" $GF info /tmp/gf_run | head -14
    echo "## bf16, 300 steps"
    timeout "$(cap 60)" $GF train --config configs/cgan_mnist.json --data data/mnist --device cuda \
      --precision bf16 --out /tmp/gf_run_bf16 --steps 300 --set log.every=100
    echo "exit $?"
  } >"$OUT/train.txt" 2>&1
  grep -vE '^\s*$' "$OUT/train.txt" | tail -45
else
  echo "SKIPPED: $GF was not built"
fi

step "bench on cuda"
if [ -x $GF ] && (($(cap 300) > 60)); then
  PYTHONUNBUFFERED=1 timeout "$(cap 170 50)" $PY bench/run.py device=cuda gf=$GF reps=2 steps=30 \
    >"$OUT/bench.txt" 2>&1
  echo "exit $?"
  tail -30 "$OUT/bench.txt"
  cp bench/results_cuda.json "$OUT/" 2>/dev/null
else
  echo "SKIPPED: no ganforge, or too little time left"
fi

step "unit tests of the CUDA build on the CPU (8 shards, slow ones left out)"
if [ -x $TESTS ] && (($(cap 300) > 20)); then
  N=8
  T=$(cap 150)
  pids=()
  for i in $(seq 0 $((N - 1))); do
    LD_PRELOAD=$STDCXX GTEST_TOTAL_SHARDS=$N GTEST_SHARD_INDEX=$i OMP_NUM_THREADS=2 timeout "$T" \
      $TESTS --gtest_filter='-Convergence*:Evaluator*:Device*' >"/tmp/gf_shard$i.txt" 2>&1 &
    pids+=($!)
  done
  # Each shard by its id: a bare `wait` would also wait for the `tee` behind this script's output.
  for p in "${pids[@]}"; do wait "$p"; done
  for i in $(seq 0 $((N - 1))); do
    echo "##### shard $i"
    cat "/tmp/gf_shard$i.txt"
  done >"$OUT/unit_tests.txt"
  grep -E '^\[  (PASSED|FAILED) |tests? ran|^\[  FAILED  \].*\(' "$OUT/unit_tests.txt" | head -40
  grep -cE '^\[       OK \]' "$OUT/unit_tests.txt" | sed 's/^/tests OK: /'
  grep -E 'Failure|error:|what\(\)' -A3 "$OUT/unit_tests.txt" | head -60
  for i in $(seq 0 $((N - 1))); do
    grep -qE '^\[==========\].*ran' "/tmp/gf_shard$i.txt" ||
      echo "shard $i did not finish (timeout $T s?): $(tail -1 "/tmp/gf_shard$i.txt")"
  done
else
  echo "SKIPPED: no test binary, or too little time left"
fi
step "done in $((SECONDS - T0)) s"
