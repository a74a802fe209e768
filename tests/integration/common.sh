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
