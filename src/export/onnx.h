// ONNX export of a generator (issue 16): the loaded (EMA) generator as an ONNX model with inputs
// z [N, z_dim] float32 (and label [N] int64 for conditional models) and output image
// [N, C, H, W] float32, batch norm folded where exact, the model spec and class names in the
// metadata. The graph is built from the module's own weights with the ONNX project's C++ library
// (libonnx-dev), checked by its checker and shape inference, then written atomically.
// docs/export.md describes the model for its users.
#pragma once

#include <cstdint>
#include <string>

#include "models/generator_file.h"

namespace gf {

// The IR version and default-domain opset the models declare: those of ONNX 1.12 (Debian 12's
// libonnx-dev), whose checker validates them. ONNX Runtime reads them from release 1.13 on.
constexpr int64_t kOnnxIrVersion = 8;
constexpr int64_t kOnnxOpset = 17;

struct OnnxOptions {
  static constexpr int64_t kMaxBatch = 65536;
  int64_t batch = 0;  // the batch dimension: 0 for a dynamic one ("N"), else fixed
  void validate() const;
};

// `--batch`: "dynamic" -> 0, or a batch size from 1 to kMaxBatch; gf::Error otherwise.
int64_t parse_onnx_batch(const std::string& text);

// The serialized onnx::ModelProto. gf::Error for a model that is not an image generator or holds
// a layer or option the exporter does not handle.
std::string onnx_model_bytes(const LoadedGenerator& model, const OnnxOptions& options);

// Writes onnx_model_bytes() to `path` (temporary file, then rename).
void export_onnx(const LoadedGenerator& model, const std::string& path, const OnnxOptions& options);

}  // namespace gf
