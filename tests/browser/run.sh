#!/usr/bin/env bash
# Browser test of the web page (ctest label `browser`): installs playwright-core from npm (once,
# into the build tree), trains two tiny models, serves them, and runs page_test.mjs in Debian's
# chromium. The screenshot lands in WORK/page.png.
set -euo pipefail
GF="$1"; DATA="$2"; WORK="$3"; NODE_DIR="$4"
HERE="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$WORK"; mkdir -p "$WORK" "$NODE_DIR"
# fail, node_packages
. "$HERE/../integration/common.sh"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium missing (scripts/install_deps.sh)"
node_packages "$HERE" "$NODE_DIR"
cp "$HERE/page_test.mjs" "$HERE/launch.mjs" "$NODE_DIR/"

"$GF" train --config configs/cgan_mnist.json --data "$DATA" --set data.limit=500 \
  --set model.g_channels=16 --set model.d_channels=16 --out "$WORK/digits" --steps 30 \
  --threads 1 > /dev/null 2>&1
"$GF" train --config configs/mlp_mnist.json --data "$DATA" --set data.limit=500 \
  --out "$WORK/plain" --steps 30 --threads 1 > /dev/null 2>&1

"$GF" serve "$WORK/digits" "$WORK/plain" --port 0 > /dev/null 2> "$WORK/serve.log" &
PID=$!
trap 'kill -9 $PID 2>/dev/null || true' EXIT
PORT=""
for _ in $(seq 1 300); do
  PORT=$(sed -n 's#.*listening on http://127.0.0.1:\([0-9]*\)/.*#\1#p' "$WORK/serve.log" | head -1)
  [ -n "$PORT" ] && grep -q "serve: ready" "$WORK/serve.log" && break
  sleep 0.1
done
grep -q "serve: ready" "$WORK/serve.log" || fail "serve not ready: $(cat "$WORK/serve.log")"
(cd "$NODE_DIR" && timeout 120 node page_test.mjs "http://127.0.0.1:$PORT/" "$WORK")
kill -TERM $PID; wait $PID
