// Test entry point: the same BLAS set-up as the ganforge binary, so tests exercise the fast path.
#include <gtest/gtest.h>

#include "core/runtime.h"

int main(int argc, char** argv) {
  gf::ensure_fast_blas(argc, argv);
  gf::keep_freed_memory();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
