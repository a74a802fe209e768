#!/usr/bin/env bash
# The CUDA checks, on a machine with an NVIDIA GPU and a pip torch (its LibTorch and CMake
# config), none of the Debian packages: pack the header-only dependencies first on a Debian
# machine (scripts/pack_deps.sh -> .deps), copy the tree with .deps and data/mnist, then run
#   bash scripts/gpu_check.sh [OUT_DIR]
# It builds ganforge against the CUDA LibTorch, runs the device tests on cuda and the CPU unit
# tests of that build, trains and samples on the GPU, and runs bench/run.py device=cuda.
set -uo pipefail
OUT="${1:-${OUT:-/tmp/gf_gpu}}"
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
B=build-cuda
PY=python3
step() { echo; echo "=== $* ($(date +%T))"; }

step machine
nvidia-smi -L
$PY -c 'import torch, sys; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available(), sys.executable)'
TP=$($PY -c 'import torch; print(torch.utils.cmake_prefix_path)')
TI=$($PY -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "include"))')
echo "torch include: $(ls "$TI" | tr '\n' ' ')"
nproc; cmake --version | head -1; c++ --version | head -1; nvcc --version | tail -1

step configure
cmake -S . -B $B -G Ninja -DGF_DEPS_DIR="$PWD/.deps" -DCMAKE_PREFIX_PATH="$TP" \
  -DGF_WERROR=OFF -DCMAKE_CXX_STANDARD=20 -DCMAKE_POLICY_VERSION_MINIMUM=3.5 > "$OUT/cmake.txt" 2>&1 || { tail -40 "$OUT/cmake.txt"; exit 1; }
grep -iE "warning|cuda|found" "$OUT/cmake.txt" | head -20

step build
if ! timeout 330 cmake --build $B -j "$(nproc)" > "$OUT/build.txt" 2>&1; then
  grep -E "error|Error" -A4 "$OUT/build.txt" | head -120
  tail -5 "$OUT/build.txt"
  exit 1
fi
tail -2 "$OUT/build.txt"

step "device tests on cuda"
export CUBLAS_WORKSPACE_CONFIG=:4096:8
GF_TEST_DEVICE=cuda timeout 120 $B/tests/ganforge_tests --gtest_filter='Device*' 2>&1 | grep -vE "^\[ RUN"
step "unit tests of the CUDA build (on the CPU)"
timeout 200 $B/tests/ganforge_tests --gtest_filter='-Convergence*:Evaluator*:Device*' 2>&1 \
  | grep -E "FAILED|PASSED|Failure|tests ran" | head -30

step "train and sample on the GPU"
rm -rf /tmp/gf_run
timeout 150 $B/ganforge train --config configs/cgan_mnist.json --data data/mnist --device cuda \
  --out /tmp/gf_run --steps 2000 --set log.every=500 2>&1 | tail -8
$B/ganforge sample /tmp/gf_run -n 100 --seed 1 --device cuda --out "$OUT/cuda_cgan_grid.png"
$B/ganforge info /tmp/gf_run | head -12

step "bench on cuda"
PYTHONUNBUFFERED=1 timeout 240 $PY bench/run.py device=cuda gf=$B/ganforge reps=2 steps=30
cp bench/results_cuda.json "$OUT/" 2>/dev/null
step done
