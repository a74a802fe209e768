# Dependencies. On Debian 12 every one is a package (scripts/install_deps.sh). A machine without
# them (the CUDA build on a GPU machine, whose LibTorch comes from a pip torch) passes
# -DGF_DEPS_DIR=DIR holding the header-only ones and GoogleTest's sources, as packed from this
# machine's packages by scripts/pack_deps.sh; the server and c10d then build only if their
# pieces are found.
set(GF_DEPS_DIR "" CACHE PATH "headers and GoogleTest sources for machines without the packages")
# `make build` (and so CI) sets this: a missing optional part is an error, not silently fewer tests.
option(GF_REQUIRE_ALL "Fail the configure step when an optional part (serve, c10d) cannot be built" OFF)

find_package(Torch REQUIRED)

if(GF_DEPS_DIR)
  add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
  target_include_directories(nlohmann_json::nlohmann_json SYSTEM INTERFACE ${GF_DEPS_DIR}/include)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 SYSTEM INTERFACE ${GF_DEPS_DIR}/include)
  set(ZLIB_INCLUDE_DIR ${GF_DEPS_DIR}/include)
  find_library(ZLIB_LIBRARY NAMES z libz.so.1 PATHS /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu)
  find_package(ZLIB REQUIRED)
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  set(BUILD_GMOCK OFF CACHE BOOL "" FORCE)
  add_subdirectory(${GF_DEPS_DIR}/googletest ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL)
  if(NOT TARGET GTest::gtest)
    add_library(GTest::gtest ALIAS gtest)
  endif()
  # stb's implementation, compiled here from its headers (Debian ships it as libstb).
  add_library(gf_stb STATIC cmake/stb_impl.cpp)
  target_include_directories(gf_stb SYSTEM PUBLIC ${GF_DEPS_DIR}/include)
  set(STB_LIBRARY gf_stb)
else()
  find_package(nlohmann_json 3 REQUIRED)
  find_package(CLI11 REQUIRED)
  find_package(ZLIB REQUIRED)
  find_package(GTest REQUIRED)
  find_library(STB_LIBRARY stb REQUIRED)
endif()

# The server: Debian builds cpp-httplib as a library with OpenSSL, zlib and brotli; its flags
# come from pkg-config.
find_package(PkgConfig)
find_package(OpenSSL)
if(PkgConfig_FOUND)
  pkg_check_modules(HTTPLIB IMPORTED_TARGET cpp-httplib)
endif()
if(HTTPLIB_FOUND AND OpenSSL_FOUND)
  set(GF_WITH_SERVE ON)
else()
  set(GF_WITH_SERVE OFF)
  if(GF_REQUIRE_ALL)
    message(FATAL_ERROR "cpp-httplib or OpenSSL not found, and GF_REQUIRE_ALL is on (make build "
            "sets it, so that CI never passes with the serve, browser and folder tests missing): "
            "run scripts/install_deps.sh, or configure with -DGF_REQUIRE_ALL=OFF")
  endif()
  message(WARNING "cpp-httplib or OpenSSL not found: building without `ganforge serve`")
endif()

# c10d with Gloo: Debian's LibTorch needs libgloo-dev's headers; a pip torch may ship them.
find_path(GF_GLOO_INCLUDE gloo/config.h HINTS ${TORCH_INCLUDE_DIRS})
if(GF_GLOO_INCLUDE)
  set(GF_WITH_C10D ON)
else()
  set(GF_WITH_C10D OFF)
  if(GF_REQUIRE_ALL)
    message(FATAL_ERROR "gloo headers not found, and GF_REQUIRE_ALL is on (make build sets it, so "
            "that CI never passes with the distributed tests missing): run "
            "scripts/install_deps.sh (libgloo-dev), or configure with -DGF_REQUIRE_ALL=OFF")
  endif()
  message(WARNING "gloo headers not found: building without data-parallel training")
endif()
option(GF_WITH_NCCL "c10d's ProcessGroupNCCL for data-parallel CUDA training (CUDA LibTorch)" OFF)
