# AddressSanitizer + UndefinedBehaviorSanitizer for ganforge's own code (`make test-sanitize`,
# docs/reliability.md "Sanitizers"). Everything compiled by this project is instrumented;
# LibTorch, OpenBLAS and the other shared libraries are not (they are Debian's binaries): ASan
# still checks every heap block they allocate or free through malloc, since it replaces malloc for
# the whole process, but not their reads and writes. A sanitizer report stops the test (no
# recovery), so ctest sees it as a failure. The suppressions for the uninstrumented libraries'
# known leaks are tests/sanitize/lsan.supp (scripts/test_sanitize.sh sets the options).
option(GF_SANITIZE "Build ganforge's own code with ASan + UBSan (a configuration of its own)" OFF)
if(GF_SANITIZE)
  set(GF_SANITIZE_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined
                        -fno-omit-frame-pointer)
  add_compile_options(${GF_SANITIZE_FLAGS})
  add_link_options(${GF_SANITIZE_FLAGS})
  # GCC's flow analysis sees the instrumentation and warns about libstdc++'s own regex and
  # std::function members being maybe-uninitialized (a known GCC 12 false positive).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
  # -O1 keeps the build fast and the stack traces readable; line tables only, for the reports.
  set(CMAKE_CXX_FLAGS_RELEASE "-O1 -g1")
endif()
