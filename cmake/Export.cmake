# Exporters for other runtimes (issue 16). `ganforge export` always writes safetensors; ONNX export
# uses the ONNX project's C++ library and checker (Debian: libonnx-dev, whose CMake targets need
# libprotobuf-dev), in the library ganforge_export, which also writes the static web bundle. Their
# unit tests, the check in ONNX Runtime (npm onnxruntime-node, installed by the test into the build
# tree) and the web bundle's browser test are registered here.
target_sources(ganforge PRIVATE apps/ganforge/cmd_export.cpp)

find_package(Protobuf QUIET)  # defines protobuf::libprotobuf, which ONNX's targets link
find_package(ONNX CONFIG QUIET)
if(ONNX_FOUND AND TARGET protobuf::libprotobuf)
  set(GF_WITH_ONNX ON)
else()
  set(GF_WITH_ONNX OFF)
  if(GF_REQUIRE_ALL)
    message(FATAL_ERROR "libonnx-dev or libprotobuf-dev not found, and GF_REQUIRE_ALL is on (make "
            "build sets it, so that CI never passes with the ONNX tests missing): run "
            "scripts/install_deps.sh, or configure with -DGF_REQUIRE_ALL=OFF")
  endif()
  message(WARNING "libonnx-dev or libprotobuf-dev not found: building without ONNX export")
endif()

if(GF_WITH_ONNX)
  # The web bundle's page and latent code, embedded as serve's page is (src/serve/serve_page.h.in).
  file(READ src/export/web_page.html GF_WEB_PAGE_HTML)
  file(READ src/export/web_latents.mjs GF_WEB_LATENTS_MJS)
  configure_file(src/export/web_assets.h.in ${CMAKE_BINARY_DIR}/generated/web_assets.h @ONLY)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS src/export/web_page.html
               src/export/web_latents.mjs)
  add_library(ganforge_export STATIC
    src/export/onnx.cpp
    src/export/onnx_generators.cpp
    src/export/onnx_graph.cpp
    src/export/onnx_layers.cpp
    src/export/onnx_resnet.cpp
    src/export/web.cpp
  )
  # ONNX's headers and definitions (ONNX_NAMESPACE, ONNX_ML) stay private: export/onnx.h does not
  # include them, so the app's other sources compile as before.
  target_link_libraries(ganforge_export PUBLIC ganforge_core PRIVATE onnx)
  target_compile_options(ganforge_export PRIVATE ${GF_WARNINGS})
  target_precompile_headers(ganforge_export REUSE_FROM ganforge_core)
  target_link_libraries(ganforge PRIVATE ganforge_export)
  set_source_files_properties(apps/ganforge/cmd_export.cpp PROPERTIES
    COMPILE_DEFINITIONS GF_WITH_ONNX)

  include(GoogleTest)
  # Unit tests (label unit): batch norm folding, unsupported layers, metadata, the checker.
  add_executable(ganforge_onnx_tests tests/onnx/test_onnx_export.cpp tests/unit/main.cpp)
  target_link_libraries(ganforge_onnx_tests PRIVATE ganforge_export onnx GTest::gtest)
  target_include_directories(ganforge_onnx_tests PRIVATE tests)
  target_compile_definitions(ganforge_onnx_tests PRIVATE
    GF_SOURCE_DIR="${PROJECT_SOURCE_DIR}" GF_GOLDEN_DIR="${PROJECT_SOURCE_DIR}/tests/golden")
  target_compile_options(ganforge_onnx_tests PRIVATE ${GF_WARNINGS})
  target_precompile_headers(ganforge_onnx_tests REUSE_FROM ganforge_core)
  gtest_discover_tests(ganforge_onnx_tests
    DISCOVERY_TIMEOUT 120 DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS unit)

  # The agreement check (label integration): tiny trained models of every architecture, exported
  # and run in ONNX Runtime beside what `ganforge sample` computes (tests/onnx/run.sh).
  add_executable(ganforge_onnx_reference tests/onnx/reference.cpp)
  target_link_libraries(ganforge_onnx_reference PRIVATE ganforge_core)
  target_compile_options(ganforge_onnx_reference PRIVATE ${GF_WARNINGS})
  target_precompile_headers(ganforge_onnx_reference REUSE_FROM ganforge_core)
  add_test(NAME integration.onnx
    COMMAND ${PROJECT_SOURCE_DIR}/tests/onnx/run.sh $<TARGET_FILE:ganforge>
            $<TARGET_FILE:ganforge_onnx_reference> ${PROJECT_SOURCE_DIR}/data/mnist
            ${CMAKE_BINARY_DIR}/onnx_work ${CMAKE_BINARY_DIR}/onnx_node
            ${PROJECT_SOURCE_DIR}/data/emoji)
  # One thread throughout (training, LibTorch, ONNX Runtime); the timeout leaves room for the
  # first npm install (about 70 MB of Linux binaries in a package of ~290 MB).
  set_tests_properties(integration.onnx PROPERTIES LABELS integration TIMEOUT 900
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endif()

if(GF_WITH_ONNX)
  # The web bundle in Debian's chromium (label browser; tests/web/run.sh): exports tiny trained
  # models, serves the bundles with python3 -m http.server, generates in the page through npm's
  # playwright-core and compares with `ganforge sample`; also checks latents.mjs against LibTorch
  # bit for bit (ganforge_web_latents) and the export's errors.
  add_executable(ganforge_web_latents tests/web/latents.cpp)
  target_link_libraries(ganforge_web_latents PRIVATE ganforge_core)
  target_compile_options(ganforge_web_latents PRIVATE ${GF_WARNINGS})
  target_precompile_headers(ganforge_web_latents REUSE_FROM ganforge_core)
  add_test(NAME browser.web_bundle
    COMMAND ${PROJECT_SOURCE_DIR}/tests/web/run.sh $<TARGET_FILE:ganforge>
            $<TARGET_FILE:ganforge_web_latents> $<TARGET_FILE:ganforge_onnx_reference>
            ${PROJECT_SOURCE_DIR}/data/mnist ${CMAKE_BINARY_DIR}/web_work
            ${CMAKE_BINARY_DIR}/web_node ${PROJECT_SOURCE_DIR}/data/emoji)
  # One thread for training and LibTorch; the timeout leaves room for the first npm install
  # (onnxruntime-web is about 140 MB unpacked, of which the bundle takes 14 MB).
  set_tests_properties(browser.web_bundle PROPERTIES LABELS browser TIMEOUT 900 RESOURCE_LOCK cpu
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endif()
