#!/usr/bin/env bash
# `make test-sanitize` (and the second half of `make test`): ganforge's own code built with
# AddressSanitizer + UndefinedBehaviorSanitizer (cmake/Sanitize.cmake) into BUILD (default
# build-sanitize), running the unit and serve tests. A report fails the test that caused it; a
# skip not listed in tests/expected_skips.txt fails the run. docs/reliability.md, "Sanitizers",
# says what is covered.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build-sanitize}"
JOBS="${JOBS:-$(nproc)}"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGF_SANITIZE=ON -DGF_WERROR=ON \
  -DGF_REQUIRE_ALL=ON > /dev/null
cmake --build "$BUILD" -j "$JOBS" --target ganforge_tests ganforge_server_tests ganforge_onnx_tests
# LibTorch is not instrumented: its allocations are still checked (ASan owns malloc), and what it
# keeps for the process's lifetime is listed in lsan.supp. Stack-use-after-return detection is off:
# it needs a fake stack that LibTorch's uninstrumented frames cannot see.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=0"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitize/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$PWD/tests/sanitize/ubsan.supp"
(cd "$BUILD" && ctest --output-on-failure -j 2 --timeout 1200 -L '^(unit|serve)$' \
  --output-junit junit.xml)
/usr/bin/python3 scripts/check_skips.py "$BUILD/junit.xml" tests/expected_skips.txt
