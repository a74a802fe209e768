#include "export/onnx_generators.h"

#include <torch/nn/modules/embedding.h>

#include "core/names.h"
#include "export/onnx_layers.h"
#include "models/conditioning.h"
#include "models/dcgan.h"

namespace gf {
namespace {

// GeneratorInput: z, or [z, embed(label)] for conditional models (Mirza & Osindero 2014).
std::string generator_input(OnnxGraph& g, Generator& gen, const ModelSpec& spec,
                            const std::string& z, const std::string& label) {
  auto& input = child_as<GeneratorInput>(gen, "input");
  if (!spec.is_conditional()) return z;
  auto& embed = child_as<torch::nn::EmbeddingImpl>(input, "embed");
  GF_CHECK(!embed.options.max_norm(),
           "ONNX export does not support embeddings with max_norm (they rescale at lookup)");
  g.use(embed);
  const auto e = g.node("Gather", {g.constant("label_embedding", embed.weight), label},
                        {{"axis", int64_t{0}}});
  return g.node("Concat", {z, e}, {{"axis", int64_t{1}}});
}

}  // namespace

std::string emit_reshape(OnnxGraph& g, const std::string& x, const std::vector<int64_t>& dims) {
  std::vector<int64_t> shape = {-1};
  shape.insert(shape.end(), dims.begin(), dims.end());
  return g.node("Reshape", {x, g.constant("shape", torch::tensor(shape, torch::kInt64))});
}

std::string emit_generator(OnnxGraph& g, Generator& gen, const ModelSpec& spec,
                           const std::string& z, const std::string& label) {
  if (spec.arch == "mlp") return emit_mlp(g, gen, spec, z, label);
  if (spec.arch == "dcgan") return emit_dcgan(g, gen, spec, z, label);
  if (spec.arch == "resnet") return emit_resnet(g, gen, spec, z, label);
  throw Error(concat("ONNX export does not handle model.arch '", spec.arch,
                     "'; it exports mlp, dcgan and resnet"));
}

std::string emit_mlp(OnnxGraph& g, Generator& gen, const ModelSpec& spec, const std::string& z,
                     const std::string& label) {
  const auto x = generator_input(g, gen, spec, z, label);
  const auto h = emit_sequential(g, x, child_as<torch::nn::SequentialImpl>(gen, "net"));
  return emit_reshape(g, h, spec.out_shape);
}

std::string emit_dcgan(OnnxGraph& g, Generator& gen, const ModelSpec& spec, const std::string& z,
                       const std::string& label) {
  const DcganGeometry geo = DcganGeometry::of(spec);
  const int64_t area = geo.base * geo.base;
  auto& project = child_as<torch::nn::SequentialImpl>(gen, "project");
  auto& net = child_as<torch::nn::SequentialImpl>(gen, "net");
  const auto x = generator_input(g, gen, spec, z, label);
  auto* linear =
      project.size() == 1 ? dynamic_cast<torch::nn::LinearImpl*>(project.ptr(0).get()) : nullptr;
  auto* bn = net.size() > 0 ? dynamic_cast<torch::nn::BatchNorm2dImpl*>(net.ptr(0).get()) : nullptr;
  GF_CHECK(linear != nullptr && bn != nullptr,
           "ONNX export expects dcgan's generator to start with a linear projection and a batch "
           "norm; this one does not");
  // The projection's output feature c * base^2 + i is pixel i of channel c after the reshape, so
  // the first batch norm folds into the projection with each channel's scale repeated base^2 times.
  const ScaleShift per_channel = batch_norm_scale_shift(*bn);
  const int64_t channels = per_channel.scale.numel();
  GF_CHECK(channels * area == linear->weight.size(0), "ONNX export: dcgan's projection (",
           linear->weight.size(0), " outputs) does not match its first batch norm (", channels,
           " channels)");
  const ScaleShift per_feature = {per_channel.scale.repeat_interleave(area),
                                  per_channel.shift.repeat_interleave(area)};
  const Folded f = fold_scale_shift(linear->weight, linear->bias, per_feature, 0);
  g.use(*linear);
  g.use(*bn);
  const auto h = emit_gemm(g, x, f.weight, f.bias);
  return emit_sequential(g, emit_reshape(g, h, {channels, geo.base, geo.base}), net, 1);
}

}  // namespace gf
