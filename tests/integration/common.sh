# Helpers the CLI integration scripts share (sourced; they set WORK first).
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_error "substring" cmd...: exit code 1 and the substring on stderr; with MAX_ERROR_LINES
# set, also at most that many lines on stderr (commands that log before failing need more).
expect_error() {
  local want="$1"; shift
  set +e; "$@" >"$WORK/out.txt" 2>"$WORK/err.txt"; local rc=$?; set -e
  [ "$rc" -eq 1 ] || fail "expected exit 1, got $rc: $*; stderr: $(cat "$WORK/err.txt")"
  [ -z "${MAX_ERROR_LINES:-}" ] || [ "$(wc -l < "$WORK/err.txt")" -le "$MAX_ERROR_LINES" ] ||
    fail "more than $MAX_ERROR_LINES lines on stderr: $(cat "$WORK/err.txt")"
  grep -qF -- "$want" "$WORK/err.txt" || fail "expected '$want' in stderr of: $*; got: $(cat "$WORK/err.txt")"
}

# A port nobody listens on now (the kernel's choice). Another process can take it before the
# caller binds it: ranks2 retries then.
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ranks2 ARGS...: `ganforge train ARGS` as two ranks by hand (the variables torchrun would set),
# output in $WORK/rank{0,1}.{out,err}; fails unless both ranks exit 0. When free_port's port was
# taken before rank 0 bound it (and only then) it retries on a new port. GF is the binary; the
# ranks' process ids are added to PIDS so a trap can kill them.
ranks2() {
  local attempt
  for attempt in 1 2 3; do
    local port; port=$(free_port)
    local pids=() rc0=0 rc1=0
    for r in 0 1; do
      RANK=$r WORLD_SIZE=2 LOCAL_RANK=$r MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
        timeout 300 "$GF" train "$@" > "$WORK/rank$r.out" 2> "$WORK/rank$r.err" &
      pids+=($!); PIDS+=($!)
    done
    wait "${pids[0]}" || rc0=$?
    wait "${pids[1]}" || rc1=$?
    [ "$rc0" -eq 0 ] && [ "$rc1" -eq 0 ] && return 0
    grep -qi "address already in use" "$WORK/rank0.err" "$WORK/rank1.err" && continue
    fail "rank 0 exited $rc0, rank 1 exited $rc1: $(cat "$WORK/rank0.err" "$WORK/rank1.err")"
  done
  fail "no free port for the rendezvous after 3 attempts"
}

# node_packages HERE NODE_DIR [npm ci options]: the exact versions of HERE's package-lock.json
# installed into NODE_DIR by npm ci, once, and again when the lockfile changes (the stamp is
# written only after a complete install). Needs Node.js >= 18.
node_packages() {
  local here="$1" dir="$2"; shift 2
  local major; major=$(node --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p')
  [ "${major:-0}" -ge 18 ] || fail "Node.js >= 18 is needed; scripts/install_deps.sh installs Debian's"
  cmp -s "$here/package-lock.json" "$dir/installed-package-lock.json" && return 0
  cp "$here/package.json" "$here/package-lock.json" "$dir/"
  (cd "$dir" && npm ci "$@" --no-audit --no-fund --loglevel=error > /dev/null)
  cp "$here/package-lock.json" "$dir/installed-package-lock.json"
}

# emoji_folder EMOJI DEST: a colour folder as users bring one, two emoji classes (flags,
# food-drink) of 32 pictures each.
emoji_folder() {
  [ -d "$1/flags" ] || fail "$1 missing: run make data (scripts/fetch_data.sh)"
  local c
  for c in flags food-drink; do
    mkdir -p "$2/$c"
    ls "$1/$c" | head -32 | while read -r f; do cp "$1/$c/$f" "$2/$c/"; done
  done
}
