// The static web bundle (issue 16): a folder that any static file host serves, where the visitor
// picks a class and a seed and the generator runs in their own browser (ONNX Runtime Web,
// WebAssembly on the CPU), giving the images `ganforge sample` gives for that seed. It holds
//   index.html     the page (src/export/web_page.html)
//   latents.mjs    ganforge's latents in JavaScript, bit for bit (src/export/web_latents.mjs)
//   model.onnx     the generator (export/onnx.h, dynamic batch)
//   model.json     the model spec, class names, step, versions
//   ort.wasm.min.mjs, ort-wasm-simd-threaded.mjs, ort-wasm-simd-threaded.wasm
//                  onnxruntime-web's WebAssembly backend, copied from an npm installation
// and makes no other requests. docs/export.md ("Web bundle") describes it for users.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/generator_file.h"

namespace gf {

// Where onnxruntime-web is looked for without --ort-web: scripts/install_deps.sh installs npm's
// package there (`npm install --prefix DIR onnxruntime-web@1.30.0`).
inline constexpr char kDefaultOrtWebDir[] = "/usr/local/share/ganforge/ort-web";

// The files of onnxruntime-web (1.19 and later; tested: 1.30.0) that its WebAssembly CPU backend
// loads: the ES module API, Emscripten's loader and the SIMD WebAssembly binary.
const std::vector<std::string>& ort_web_files();

struct WebOptions {
  std::string ort_web = kDefaultOrtWebDir;  // an npm prefix, the package folder, or its dist/
};

struct WebBundle {
  std::string ort_web_dir;      // the dist/ folder the runtime files came from
  std::string ort_web_version;  // from its package.json ("unknown" when absent)
  int64_t bytes = 0;            // the bundle's total size
  int64_t files = 0;
};

// The dist/ folder of onnxruntime-web under `dir` (`dir` itself, dir/dist or
// dir/node_modules/onnxruntime-web/dist) holding every file of ort_web_files(); gf::Error naming
// the missing file and how to install the package otherwise.
std::string find_ort_web(const std::string& dir);

// Writes the bundle for `model` into the folder `out_dir`: built in `out_dir`.tmp, then renamed,
// so that a failure leaves no half bundle. An existing `out_dir` is replaced only when it is empty
// or an earlier bundle. gf::Error for a model that does not generate images, a normal prior with
// z_dim < 16 (latents.mjs follows LibTorch's vectorised path only), a layer the ONNX exporter
// does not handle, or missing onnxruntime-web files.
WebBundle export_web(const LoadedGenerator& model, const std::string& out_dir,
                     const WebOptions& options);

}  // namespace gf
