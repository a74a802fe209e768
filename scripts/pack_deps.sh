#!/usr/bin/env bash
# Packs the build dependencies that are header-only (nlohmann/json, CLI11, stb, zlib's headers)
# and GoogleTest's sources from this Debian machine's packages into DIR (default .deps), for a
# machine without them, e.g. a GPU machine whose LibTorch comes from a pip torch:
#   cmake -S . -B build-cuda -G Ninja -DGF_DEPS_DIR=$PWD/.deps \
#     -DCMAKE_PREFIX_PATH="$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')"
set -euo pipefail
DIR="${1:-.deps}"
rm -rf "$DIR"; mkdir -p "$DIR/include/stb"
cp -r /usr/include/nlohmann /usr/include/CLI "$DIR/include/"
cp /usr/include/stb/stb_image.h /usr/include/stb/stb_image_write.h "$DIR/include/stb/"
cp /usr/include/zlib.h /usr/include/zconf.h "$DIR/include/"
cp -r /usr/src/googletest "$DIR/googletest"
du -sh "$DIR"
