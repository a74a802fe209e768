// The generators of src/models as ONNX graphs, one function per architecture, each walking the
// loaded module's layers in the order its forward() applies them.
#pragma once

#include <string>

#include "export/onnx_graph.h"
#include "models/registry.h"

namespace gf {

// Appends G(z, label) to the graph and returns the image value [N, C, H, W]. `label` names the
// int64 [N] input of a conditional model (empty otherwise). gf::Error for an architecture, layer
// or option the exporter does not handle.
std::string emit_generator(OnnxGraph& g, Generator& gen, const ModelSpec& spec,
                           const std::string& z, const std::string& label);

// mlp and dcgan (onnx_generators.cpp), resnet (onnx_resnet.cpp).
std::string emit_mlp(OnnxGraph& g, Generator& gen, const ModelSpec& spec, const std::string& z,
                     const std::string& label);
std::string emit_dcgan(OnnxGraph& g, Generator& gen, const ModelSpec& spec, const std::string& z,
                       const std::string& label);
std::string emit_resnet(OnnxGraph& g, Generator& gen, const ModelSpec& spec, const std::string& z,
                        const std::string& label);

// x [N, F] -> [N, dims...].
std::string emit_reshape(OnnxGraph& g, const std::string& x, const std::vector<int64_t>& dims);

}  // namespace gf
