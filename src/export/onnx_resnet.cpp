// ResNet's generator (models/resnet.h) as ONNX: the projection, the residual blocks (BN, ReLU,
// nearest x2, conv3x3, BN, ReLU, conv3x3; shortcut nearest x2, conv1x1), BN, ReLU, conv3x3, tanh.
// The second batch norm of a block follows its first convolution directly and is folded into it;
// the others follow a residual sum whose value the shortcut also reads, so they stay
// BatchNormalization nodes. Conditional batch norm (de Vries et al. 2017; BigGAN's shared
// embedding, Brock et al. 2019) is a per-class affine map: its gains and biases are linear in the
// class embedding, so each becomes a [classes, C, 1, 1] table that the label indexes (Gather).
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>

#include "export/onnx_generators.h"
#include "export/onnx_layers.h"
#include "models/resnet.h"

namespace gf {
namespace {

struct ResnetContext {
  OnnxGraph& g;
  const std::string& label;
  torch::Tensor embedding;  // [classes, embed_dim] float64; undefined when unconditional
};

// bn(x) * (1 + gain(e)) + bias(e) for e = embed(label), as x * scale[label] + shift[label].
std::string emit_class_batch_norm(ResnetContext& c, const std::string& x, ClassBatchNormImpl& cbn) {
  auto& bn = child_as<torch::nn::BatchNorm2dImpl>(cbn, "bn");
  auto& gain = child_as<torch::nn::LinearImpl>(cbn, "gain");
  auto& bias = child_as<torch::nn::LinearImpl>(cbn, "bias");
  c.g.use(cbn);
  const ScaleShift norm = batch_norm_scale_shift(bn);
  auto linear = [&](const torch::nn::LinearImpl& l) {
    return torch::addmm(l.bias.detach().to(torch::kCPU, torch::kFloat64), c.embedding,
                        l.weight.detach().to(torch::kCPU, torch::kFloat64).t());
  };
  const auto factor = 1 + linear(gain);                   // [classes, C]
  const auto scale = factor * norm.scale;                 // bn's 1/sqrt(var + eps) times it
  const auto shift = factor * norm.shift + linear(bias);  // -mean/sqrt(var + eps) times it
  const std::vector<int64_t> table = {scale.size(0), scale.size(1), 1, 1};
  const auto s = c.g.node("Gather", {c.g.constant("cbn_scale", scale.view(table)), c.label},
                          {{"axis", int64_t{0}}});
  const auto t = c.g.node("Gather", {c.g.constant("cbn_shift", shift.view(table)), c.label},
                          {{"axis", int64_t{0}}});
  return c.g.node("Add", {c.g.node("Mul", {x, s}), t});
}

std::string emit_norm(ResnetContext& c, torch::nn::Module& block, const std::string& name,
                      const std::string& x) {
  if (c.embedding.defined()) {
    return emit_class_batch_norm(c, x, child_as<ClassBatchNormImpl>(block, name));
  }
  return emit_batch_norm(c.g, x, child_as<torch::nn::BatchNorm2dImpl>(block, name));
}

std::string emit_block(ResnetContext& c, ResnetGBlockImpl& block, const std::string& x) {
  auto& conv1 = child_as<torch::nn::Conv2dImpl>(block, "conv1");
  auto& conv2 = child_as<torch::nn::Conv2dImpl>(block, "conv2");
  auto& shortcut = child_as<torch::nn::Conv2dImpl>(block, "shortcut");
  auto h = emit_upsample_nearest(c.g, c.g.node("Relu", {emit_norm(c, block, "bn1", x)}), 2, 2);
  if (c.embedding.defined()) {
    h = emit_norm(c, block, "bn2", emit_conv(c.g, h, conv1, nullptr));
  } else {
    h = emit_conv(c.g, h, conv1, &child_as<torch::nn::BatchNorm2dImpl>(block, "bn2"));
  }
  h = emit_conv(c.g, c.g.node("Relu", {h}), conv2, nullptr);
  const auto s = emit_conv(c.g, emit_upsample_nearest(c.g, x, 2, 2), shortcut, nullptr);
  return c.g.node("Add", {h, s});
}

}  // namespace

std::string emit_resnet(OnnxGraph& g, Generator& gen, const ModelSpec& spec, const std::string& z,
                        const std::string& label) {
  const ResnetGeometry geo = ResnetGeometry::of(spec);
  ResnetContext c{g, label, {}};
  if (spec.is_conditional()) {
    auto& embed = child_as<torch::nn::EmbeddingImpl>(gen, "embed");
    GF_CHECK(!embed.options.max_norm(),
             "ONNX export does not support embeddings with max_norm (they rescale at lookup)");
    g.use(embed);
    c.embedding = embed.weight.detach().to(torch::kCPU, torch::kFloat64);
  }
  auto& project = child_as<torch::nn::LinearImpl>(gen, "project");
  g.use(project);
  auto h = emit_reshape(g, emit_gemm(g, z, project.weight, project.bias),
                        {spec.g_channels, geo.base, geo.base});
  auto& blocks = child_as<torch::nn::ModuleListImpl>(gen, "blocks");
  for (size_t i = 0; i < blocks.size(); ++i) {
    auto* block = dynamic_cast<ResnetGBlockImpl*>(blocks.ptr(i).get());
    GF_CHECK(block != nullptr, "ONNX export: resnet block ", i, " is a ", blocks.ptr(i)->name(),
             ", which this exporter does not handle");
    h = emit_block(c, *block, h);
  }
  h = emit_batch_norm(g, h, child_as<torch::nn::BatchNorm2dImpl>(gen, "bn"));
  h = emit_conv(g, g.node("Relu", {h}), child_as<torch::nn::Conv2dImpl>(gen, "out"), nullptr);
  return spec.g_out == "tanh" ? g.node("Tanh", {h}) : h;
}

}  // namespace gf
