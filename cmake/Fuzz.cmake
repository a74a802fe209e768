# libFuzzer targets for every parser of untrusted input (docs/reliability.md, "Fuzzing").
#
# They need clang, so they live in a configuration of their own (-DGF_FUZZ=ON, compiler clang++)
# that compiles only the parsers under test and their harnesses, instrumented (coverage for
# libFuzzer, AddressSanitizer, UndefinedBehaviorSanitizer), into a small static library, and
# takes everything else the parsers call (validation, model building) from the main GCC build's
# libganforge_core.a / libganforge_serve.a, uninstrumented: the linker picks the instrumented
# parser objects first and the main build's archives only for what is left. LibTorch is linked
# as it is (not instrumented). So the fuzz build compiles a dozen translation units, not the
# whole library a second time.
#
# The main build (GF_FUZZ off) builds that configuration into <build>/fuzz when GF_BUILD_FUZZ is
# on, after its own libraries, and registers ctest's `fuzz.short` (label fuzz): every target for
# GF_FUZZ_SHORT_SECONDS over its checked-in corpus, after replaying its saved regressions.
# `make fuzz` (tests/fuzz/run_all.sh) builds build-fuzz the same way and runs longer.
option(GF_FUZZ "Build the libFuzzer targets (needs clang++; a configuration of its own)" OFF)
set(GF_FUZZ_TARGETS idx image checkpoint archive safetensors config generate repair latents)

if(GF_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "GF_FUZZ needs clang++ (libFuzzer): configure with "
            "-DCMAKE_CXX_COMPILER=clang++, as tests/fuzz/run_all.sh does")
  endif()
  if(NOT GF_WITH_SERVE)
    message(FATAL_ERROR "GF_FUZZ: the HTTP body targets need the server's pieces (cpp-httplib)")
  endif()
  set(GF_FUZZ_CORE_LIB "" CACHE FILEPATH "the main (GCC) build's libganforge_core.a")
  set(GF_FUZZ_SERVE_LIB "" CACHE FILEPATH "the main (GCC) build's libganforge_serve.a")
  foreach(lib GF_FUZZ_CORE_LIB GF_FUZZ_SERVE_LIB)
    if(NOT ${lib})
      message(FATAL_ERROR "GF_FUZZ: set ${lib} to the main build's library (run_all.sh does)")
    endif()
  endforeach()

  # What the main build's archives need at link time: ganforge_core's and ganforge_serve's own
  # link libraries (LibTorch, zlib, stb, cpp-httplib, OpenSSL).
  get_target_property(gf_core_deps ganforge_core LINK_LIBRARIES)
  add_library(gf_fuzz_main_core STATIC IMPORTED)
  set_target_properties(gf_fuzz_main_core PROPERTIES IMPORTED_LOCATION ${GF_FUZZ_CORE_LIB}
                        INTERFACE_LINK_LIBRARIES "${gf_core_deps}")
  add_library(gf_fuzz_main_serve STATIC IMPORTED)
  set_target_properties(gf_fuzz_main_serve PROPERTIES IMPORTED_LOCATION ${GF_FUZZ_SERVE_LIB}
    INTERFACE_LINK_LIBRARIES "gf_fuzz_main_core;PkgConfig::HTTPLIB;OpenSSL::Crypto")

  # Compiled with -fsanitize=fuzzer-no-link (coverage only); the executables link libFuzzer's
  # main. A sanitizer report or an UBSan finding stops the run (no recovery), as a crash does.
  set(GF_FUZZ_SANITIZE -fsanitize=address,undefined -fno-sanitize-recover=undefined)
  set(GF_FUZZ_COMPILE ${GF_FUZZ_SANITIZE} -fsanitize=fuzzer-no-link -fno-omit-frame-pointer
                      -gline-tables-only -O1)

  # The parsers under test, instrumented. stb_image is compiled here too (from Debian's headers,
  # the same source as libstb), so that libFuzzer sees coverage inside the decoders behind
  # ganforge's checks; it gets ASan but not UBSan, whose reports there would be stb's.
  add_library(gf_fuzz_parsers STATIC
    src/apply/project.cpp
    src/apply/repair.cpp
    src/core/file.cpp
    src/core/json_config.cpp
    src/data/idx.cpp
    src/data/image_file.cpp
    src/data/jpeg_check.cpp
    src/io/checkpoint.cpp
    src/io/safetensors.cpp
    src/io/pickle_check.cpp
    src/io/torch_archive.cpp
    src/serve/api.cpp
    src/serve/base64.cpp
    src/serve/repair.cpp
    src/train/config.cpp
    cmake/stb_impl.cpp
  )
  set_source_files_properties(cmake/stb_impl.cpp PROPERTIES SKIP_PRECOMPILE_HEADERS ON
                              COMPILE_OPTIONS "-fno-sanitize=undefined;-w")
  target_include_directories(gf_fuzz_parsers PUBLIC src tests/fuzz ${CMAKE_BINARY_DIR}/generated)
  target_include_directories(gf_fuzz_parsers SYSTEM PUBLIC ${TORCH_INCLUDE_DIRS})
  target_link_libraries(gf_fuzz_parsers PUBLIC gf_fuzz_main_serve gf_fuzz_main_core)
  target_compile_options(gf_fuzz_parsers PUBLIC ${GF_FUZZ_COMPILE} PRIVATE -Wall -Wextra)
  target_precompile_headers(gf_fuzz_parsers PRIVATE
    <torch/types.h> <torch/serialize/input-archive.h> <torch/serialize/output-archive.h>
    <nlohmann/json.hpp>)

  add_custom_target(fuzz_all)
  foreach(t IN LISTS GF_FUZZ_TARGETS)
    add_executable(fuzz_${t} tests/fuzz/fuzz_${t}.cpp)
    target_link_libraries(fuzz_${t} PRIVATE gf_fuzz_parsers)
    target_compile_options(fuzz_${t} PRIVATE -Wall -Wextra)
    target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer ${GF_FUZZ_SANITIZE})
    target_precompile_headers(fuzz_${t} REUSE_FROM gf_fuzz_parsers)
    add_dependencies(fuzz_all fuzz_${t})
  endforeach()
  # lld links these (LibTorch plus two large archives) several times faster than GNU ld.
  find_program(GF_FUZZ_LLD ld.lld)
  if(GF_FUZZ_LLD)
    foreach(t IN LISTS GF_FUZZ_TARGETS)
      target_link_options(fuzz_${t} PRIVATE -fuse-ld=lld)
    endforeach()
  endif()
  return()
endif()

# The main build: the fuzz configuration as an external project, and the short pass in ctest.
option(GF_BUILD_FUZZ "Build the fuzz targets (clang++, libFuzzer) into <build>/fuzz" OFF)
set(GF_FUZZ_SHORT_SECONDS 20 CACHE STRING "seconds per target in ctest's fuzz.short")
set(GF_FUZZ_DIR "")
if(GF_BUILD_FUZZ)
  find_program(GF_CLANGXX NAMES clang++ clang++-14)
  set(gf_libfuzzer "")
  if(GF_CLANGXX)
    execute_process(COMMAND ${GF_CLANGXX} -print-resource-dir OUTPUT_VARIABLE gf_clang_res
                    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(EXISTS ${gf_clang_res}/lib/linux/libclang_rt.fuzzer-x86_64.a)
      set(gf_libfuzzer ${gf_clang_res}/lib/linux/libclang_rt.fuzzer-x86_64.a)
    endif()
  endif()
  if(NOT gf_libfuzzer OR NOT GF_WITH_SERVE)
    if(GF_REQUIRE_ALL)
      message(FATAL_ERROR "clang++ or libFuzzer (libfuzzer-14-dev) not found, and GF_REQUIRE_ALL "
              "is on: run scripts/install_deps.sh, or configure with -DGF_BUILD_FUZZ=OFF")
    endif()
    message(WARNING "clang++ or libFuzzer not found: building without the fuzz targets")
  else()
    include(ExternalProject)
    set(GF_FUZZ_DIR ${CMAKE_BINARY_DIR}/fuzz)
    ExternalProject_Add(gf_fuzz_build
      SOURCE_DIR ${PROJECT_SOURCE_DIR}
      BINARY_DIR ${GF_FUZZ_DIR}
      PREFIX ${CMAKE_BINARY_DIR}/fuzz-ep
      CMAKE_GENERATOR ${CMAKE_GENERATOR}
      CMAKE_ARGS -DCMAKE_CXX_COMPILER=${GF_CLANGXX} -DCMAKE_BUILD_TYPE=Release -DGF_FUZZ=ON
                 -DGF_WERROR=OFF -DGF_REQUIRE_ALL=OFF -DGF_DEPS_DIR=${GF_DEPS_DIR}
                 -DGF_FUZZ_CORE_LIB=$<TARGET_FILE:ganforge_core>
                 -DGF_FUZZ_SERVE_LIB=$<TARGET_FILE:ganforge_serve>
      BUILD_COMMAND ${CMAKE_COMMAND} --build ${GF_FUZZ_DIR} --target fuzz_all
      BUILD_ALWAYS ON
      INSTALL_COMMAND ""
      DEPENDS ganforge_core ganforge_serve)
  endif()
endif()

# Replays tests/fuzz/regressions/, then fuzzes every target briefly over a copy of its corpus;
# skipped (77) when no fuzz build exists.
add_test(NAME fuzz.short
  COMMAND bash ${PROJECT_SOURCE_DIR}/tests/fuzz/run_all.sh --ci "${GF_FUZZ_DIR}"
          ${GF_FUZZ_SHORT_SECONDS} ${CMAKE_BINARY_DIR}/fuzz_short_work)
set_tests_properties(fuzz.short PROPERTIES LABELS fuzz RESOURCE_LOCK cpu SKIP_RETURN_CODE 77
  TIMEOUT 900 WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
