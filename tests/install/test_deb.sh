#!/usr/bin/env bash
# Installing ganforge as a user does (docs/install.md). cpack builds the Debian package from
# BUILD; dpkg installs it into a scratch root whose package database is a copy of this machine's,
# so dpkg itself checks the package's Depends against the packages installed here without
# touching the machine; the installed copy, run from an empty directory outside the source and
# build trees, answers --help, trains from presets named as installed, samples and serves (the web
# page is embedded); dpkg -r removes it. `cmake --install --prefix` is checked too. Exits 77
# (skipped) where dpkg or cpack is missing.
set -euo pipefail
BUILD="$1"; DATA="$2"; WORK="$3"
for tool in cpack dpkg dpkg-deb curl readelf; do
  command -v "$tool" > /dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
BUILD=$(cd "$BUILD" && pwd); DATA=$(cd "$DATA" && pwd)
rm -rf "$WORK"; mkdir -p "$WORK"; WORK=$(cd "$WORK" && pwd)
# The scratch root and the user's directory live outside the source and build trees.
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/ganforge-install.XXXXXX")
PID=""
cleanup() {
  [ -n "$PID" ] && kill -9 "$PID" 2> /dev/null
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$WORK/serve.log" ] && tail -20 "$WORK/serve.log" >&2; exit 1; }

# The package, and what it holds.
cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$WORK/pkg" > "$WORK/cpack.log" 2>&1 ||
  fail "cpack: $(tail -20 "$WORK/cpack.log")"
DEB=$(ls "$WORK"/pkg/ganforge_*.deb)
DEPENDS=$(dpkg-deb -f "$DEB" Depends)
echo "package: $(basename "$DEB"), $(du -h "$DEB" | cut -f1); Depends: $DEPENDS"
for dep in libtorch1.13 libc6 libstdc++6; do
  [[ "$DEPENDS" == *"$dep "* ]] || fail "Depends lacks $dep: $DEPENDS"
done
dpkg-deb -c "$DEB" > "$WORK/contents.txt"
for f in usr/bin/ganforge usr/share/ganforge/configs/cgan_mnist.json \
         usr/share/ganforge/configs/gaussian_ring.json usr/share/doc/ganforge/README.md \
         usr/share/doc/ganforge/docs/http_api.md; do
  grep -q " \./$f$" "$WORK/contents.txt" || fail "package lacks /$f"
done

# dpkg -i into the scratch root. The database copy (package states and file lists, so that a
# file another package owns would conflict) leaves out any ganforge installed here.
ROOT="$SCRATCH/root"; ADMIN="$SCRATCH/dpkg"
mkdir -p "$ROOT" "$ADMIN/info" "$ADMIN/updates" "$ADMIN/triggers"
awk 'BEGIN { RS = ""; ORS = "\n\n" } !/^Package: ganforge\n/' /var/lib/dpkg/status > "$ADMIN/status"
find /var/lib/dpkg/info -name '*.list' ! -name 'ganforge.list' -exec cp -t "$ADMIN/info" {} +
touch "$ADMIN/available"
DPKG=(dpkg --admindir="$ADMIN" --instdir="$ROOT" --force-not-root --log=/dev/null)
"${DPKG[@]}" -i "$DEB" > "$WORK/dpkg.log" 2>&1 || fail "dpkg -i: $(cat "$WORK/dpkg.log")"

# The installed copy, first on PATH, run from an empty directory with the user's data in it.
GF="$ROOT/usr/bin/ganforge"
export PATH="$ROOT/usr/bin:$PATH"
[ "$(command -v ganforge)" = "$GF" ] || fail "ganforge on PATH is $(command -v ganforge)"
[ "$(readlink -f "$GF")" != "$(readlink -f "$BUILD/ganforge")" ] || fail "not the installed copy"
if readelf -d "$GF" | grep -Eq 'R(UN)?PATH'; then fail "the installed binary has an RPATH"; fi
USER_DIR="$SCRATCH/user"
mkdir -p "$USER_DIR/data"
cp -r "$DATA" "$USER_DIR/data/mnist"
cd "$USER_DIR"

ganforge --help > "$WORK/help.txt" || fail "--help"
for cmd in train sample serve export; do grep -q "$cmd" "$WORK/help.txt" || fail "--help lacks $cmd"; done
[ "$(ganforge --version)" = "$(dpkg-deb -f "$DEB" Version)" ] || fail "--version differs from the package's"

# Presets by name, from the installed copy's share/ganforge/configs.
set +e; ganforge train --config no_such_preset > /dev/null 2> "$WORK/err.txt"; rc=$?; set -e
[ "$rc" -eq 1 ] || fail "unknown preset: exit $rc"
grep -q "no such config file or preset; presets: .*cgan_mnist" "$WORK/err.txt" ||
  fail "unknown preset: $(cat "$WORK/err.txt")"
ganforge train --config gaussian_ring --steps 20 --set log.every=10 --out ring --threads 1 \
  > /dev/null 2> "$WORK/ring.log" || fail "train gaussian_ring: $(tail -5 "$WORK/ring.log")"
[ -s ring/checkpoints/step_000020.ckpt ] || fail "no ring checkpoint"
# A tiny conditional image model (as in tests/integration/test_serve_cli.sh), data in ./data/mnist.
ganforge train --config cgan_mnist.json --set data.limit=500 --set model.g_channels=16 \
  --set model.d_channels=16 --out digits --steps 20 --threads 1 > /dev/null 2> "$WORK/train.log" ||
  fail "train cgan_mnist: $(tail -5 "$WORK/train.log")"
ganforge sample digits -n 1 --seed 3 --label 5 --out sampled > /dev/null || fail "sample"
ganforge sample digits -n 16 --seed 1 --out grid.png > /dev/null || fail "sample a grid"
[ "$(head -c 8 grid.png | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] || fail "not a PNG"

# serve: the page (embedded in the binary) and a generated image equal to sample's.
ganforge serve digits=digits --port 0 > /dev/null 2> "$WORK/serve.log" &
PID=$!
PORT=""
for _ in $(seq 1 300); do
  PORT=$(sed -n 's#.*listening on http://127.0.0.1:\([0-9]*\)/.*#\1#p' "$WORK/serve.log" | head -1)
  if [ -n "$PORT" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")" = 200 ]; then
    break
  fi
  kill -0 "$PID" 2> /dev/null || fail "serve exited during start-up"
  PORT=""; sleep 0.1
done
[ -n "$PORT" ] || fail "serve did not become healthy"
curl -s "http://127.0.0.1:$PORT/" > page.html
grep -qi "<html" page.html || fail "GET / did not serve the page"
status=$(curl -s -o served.png -w '%{http_code}' -H 'Content-Type: application/json' \
  -d '{"model":"digits","seed":3,"labels":[5]}' "http://127.0.0.1:$PORT/v1/generate")
[ "$status" = 200 ] || fail "generate: HTTP $status"
cmp served.png sampled/seed3_000000.png || fail "served image differs from sample's"
kill -TERM "$PID"
wait "$PID" || fail "serve exited non-zero after SIGTERM"
PID=""

# dpkg -r removes what it installed.
"${DPKG[@]}" -r ganforge > "$WORK/dpkg-r.log" 2>&1 || fail "dpkg -r: $(cat "$WORK/dpkg-r.log")"
[ ! -e "$GF" ] && [ ! -e "$ROOT/usr/share/ganforge/configs/cgan_mnist.json" ] ||
  fail "dpkg -r left files"

# cmake --install into another prefix: the same layout, and presets found relative to the binary.
cmake --install "$BUILD" --prefix "$SCRATCH/prefix" > "$WORK/install.log" ||
  fail "cmake --install: $(cat "$WORK/install.log")"
for f in bin/ganforge share/ganforge/configs/mlp_mnist.json share/doc/ganforge/README.md \
         share/doc/ganforge/BENCHMARKS.md share/doc/ganforge/docs/install.md; do
  [ -e "$SCRATCH/prefix/$f" ] || fail "cmake --install did not install $f"
done
set +e; "$SCRATCH/prefix/bin/ganforge" train --config no_such_preset > /dev/null 2> "$WORK/err.txt"
set -e
grep -q "presets: .*mlp_mnist" "$WORK/err.txt" || fail "prefix presets: $(cat "$WORK/err.txt")"
echo "install: all checks passed"
