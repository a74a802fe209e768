# Installing ganforge (docs/install.md): `cmake --install BUILD --prefix P` (`make install
# PREFIX=P`) lays out the binary, the presets and the docs the GNU way; CPack builds the Debian
# package (`make deb`) whose Depends come from the libraries the binary links (dpkg-shlibdeps).
include(GNUInstallDirs)

set(GF_PRESET_INSTALL_DIR ${CMAKE_INSTALL_DATADIR}/ganforge/configs)

# The installed binary finds its presets by name (`--config cgan_mnist`) relative to itself, so a
# prefix chosen at install time (`cmake --install --prefix`) works as well as the configured one.
file(RELATIVE_PATH GF_PRESET_DIR_FROM_BINDIR ${CMAKE_INSTALL_FULL_BINDIR}
     ${CMAKE_INSTALL_FULL_DATADIR}/ganforge/configs)
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/generated/install_dirs.h CONTENT [[
#pragma once

namespace gf {
// Where the installed presets are, relative to the installed binary's directory.
constexpr const char* kPresetDirFromBinDir = "@GF_PRESET_DIR_FROM_BINDIR@";
}  // namespace gf
]] @ONLY)

install(TARGETS ganforge RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY configs/ DESTINATION ${GF_PRESET_INSTALL_DIR} FILES_MATCHING PATTERN "*.json")
# docs/ keeps its name, so that the README's relative links (docs/..., BENCHMARKS.md) still work.
install(FILES README.md BENCHMARKS.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The Debian package: ganforge_<version>_<arch>.deb, files under /usr.
set(CPACK_GENERATOR DEB)
set(CPACK_VERBATIM_VARIABLES ON)
set(CPACK_PACKAGE_NAME ganforge)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "ganforge maintainers <maintainers@users.noreply.r-seed-df8cab13.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "train, evaluate and serve GAN image generators")
set(CPACK_PACKAGE_DESCRIPTION
    "ganforge trains generative adversarial networks (MLP GAN, DCGAN, conditional and Wasserstein
variants) on LibTorch, watches training, evaluates with FID, KID, IS and precision/recall, exports
generators (safetensors, ONNX, a static web bundle) and serves generation over HTTP with a web
page. Presets are in /usr/share/ganforge/configs: `ganforge train --config cgan_mnist`.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends from the shared libraries the binary needs (libtorch1.13, libonnx1, ...). That takes
# Debian's own packages of them: a LibTorch from elsewhere (GF_DEPS_DIR builds) leaves the list
# to the packager (CPACK_DEBIAN_PACKAGE_DEPENDS).
find_program(GF_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(GF_DPKG_SHLIBDEPS AND NOT GF_DEPS_DIR)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
# `make package_source` (which include(CPack) also defines) leaves out builds, data and runs.
set(CPACK_SOURCE_IGNORE_FILES "/\\.git/" "/build[^/]*/" "/data/" "/runs/" "/node_modules/")
include(CPack)

# The package built, installed with dpkg into a scratch root (Depends checked against this
# machine's packages) and run from there: --help, train by preset name, sample and serve.
if(CPACK_DEBIAN_PACKAGE_SHLIBDEPS AND GF_WITH_SERVE)
  add_test(NAME integration.install_deb
    COMMAND ${PROJECT_SOURCE_DIR}/tests/install/test_deb.sh ${CMAKE_BINARY_DIR}
            ${PROJECT_SOURCE_DIR}/data/mnist ${CMAKE_BINARY_DIR}/install_work)
  set_tests_properties(integration.install_deb PROPERTIES LABELS integration TIMEOUT 900
    RESOURCE_LOCK cpu SKIP_RETURN_CODE 77)
endif()
