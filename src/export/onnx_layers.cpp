#include "export/onnx_layers.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/upsampling.h>

#include <cmath>

#include "models/layers.h"

namespace gf {
namespace {

// A [C] tensor shaped to broadcast along `axis` of a tensor with `dim` dimensions.
torch::Tensor along(const torch::Tensor& v, int64_t axis, int64_t dim) {
  std::vector<int64_t> shape(static_cast<size_t>(dim), 1);
  shape[static_cast<size_t>(axis)] = -1;
  return v.view(shape);
}

std::vector<int64_t> pair(const torch::ExpandingArray<2>& a) {
  return {(*a)[0], (*a)[1]};
}

// Kernel, strides and pads of a convolution; gf::Error for options ONNX export does not carry.
std::vector<OnnxAttr> conv_attrs(const torch::nn::detail::ConvNdOptions<2>& o,
                                 const std::string& what) {
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  GF_CHECK(padding != nullptr, "ONNX export supports ", what,
           " with explicit padding, not 'same' or 'valid'");
  GF_CHECK(c10::get_if<torch::enumtype::kZeros>(&o.padding_mode()) != nullptr,
           "ONNX export supports ", what, " with zero padding only");
  GF_CHECK(o.groups() == 1, "ONNX export supports ", what, " with groups = 1, got ", o.groups());
  GF_CHECK((*o.dilation())[0] == 1 && (*o.dilation())[1] == 1, "ONNX export supports ", what,
           " without dilation");
  const auto p = pair(*padding);
  return {{"kernel_shape", pair(o.kernel_size())},
          {"strides", pair(o.stride())},
          {"pads", std::vector<int64_t>{p[0], p[1], p[0], p[1]}},
          {"dilations", std::vector<int64_t>{1, 1}},
          {"group", int64_t{1}}};
}

std::string emit_weighted(OnnxGraph& g, const std::string& op, const std::string& x,
                          const torch::Tensor& weight, const torch::Tensor& bias,
                          const torch::nn::BatchNorm2dImpl* bn, int64_t axis,
                          std::vector<OnnxAttr> attrs) {
  torch::Tensor w = weight, b = bias;
  if (bn != nullptr) {
    g.use(*bn);
    const Folded f = fold_scale_shift(weight, bias, batch_norm_scale_shift(*bn), axis);
    w = f.weight;
    b = f.bias;
  }
  std::vector<std::string> inputs = {x, g.constant(op + "_weight", w)};
  if (b.defined()) inputs.push_back(g.constant(op + "_bias", b));
  return g.node(op, inputs, std::move(attrs));
}

std::string emit_upsample(OnnxGraph& g, const std::string& x, const torch::nn::UpsampleOptions& o) {
  GF_CHECK(c10::get_if<torch::enumtype::kNearest>(&o.mode()) != nullptr,
           "ONNX export supports nearest-neighbour upsampling only");
  GF_CHECK(!o.size() && o.scale_factor() && o.scale_factor()->size() == 2,
           "ONNX export supports upsampling by a scale factor per spatial axis only");
  std::vector<int64_t> f;
  for (double s : *o.scale_factor()) {
    GF_CHECK(s >= 1 && s == std::floor(s), "ONNX export supports upsampling by integer factors, ",
             "got ", s);
    f.push_back(static_cast<int64_t>(s));
  }
  return emit_upsample_nearest(g, x, f[0], f[1]);
}

torch::Tensor parameter_or_undefined(const torch::nn::Module& m, const std::string& name) {
  const auto params = m.named_parameters(/*recurse=*/false);
  const auto* p = params.find(name);
  return p != nullptr ? *p : torch::Tensor();
}

}  // namespace

ScaleShift batch_norm_scale_shift(const torch::nn::BatchNorm2dImpl& bn) {
  GF_CHECK(bn.options.track_running_stats() && bn.running_mean.defined(),
           "ONNX export needs batch norm with running statistics (track_running_stats)");
  const auto var = bn.running_var.detach().to(torch::kCPU, torch::kFloat64);
  const auto mean = bn.running_mean.detach().to(torch::kCPU, torch::kFloat64);
  auto scale = (var + bn.options.eps()).rsqrt();
  if (bn.options.affine()) scale = scale * bn.weight.detach().to(torch::kCPU, torch::kFloat64);
  auto shift = -mean * scale;
  if (bn.options.affine()) shift = shift + bn.bias.detach().to(torch::kCPU, torch::kFloat64);
  return {scale, shift};
}

Folded fold_scale_shift(const torch::Tensor& weight, const torch::Tensor& bias,
                        const ScaleShift& bn, int64_t axis) {
  GF_CHECK(weight.size(axis) == bn.scale.numel(), "ONNX export: batch norm over ", bn.scale.numel(),
           " channels follows a layer with ", weight.size(axis), " outputs");
  const auto w = weight.detach().to(torch::kCPU, torch::kFloat64);
  auto b = bias.defined() ? bias.detach().to(torch::kCPU, torch::kFloat64)
                          : torch::zeros({weight.size(axis)}, torch::kFloat64);
  return {w * along(bn.scale, axis, w.dim()), b * bn.scale + bn.shift};
}

std::string emit_gemm(OnnxGraph& g, const std::string& x, const torch::Tensor& weight,
                      const torch::Tensor& bias) {
  std::vector<std::string> inputs = {x, g.constant("gemm_weight", weight)};
  if (bias.defined()) inputs.push_back(g.constant("gemm_bias", bias));
  return g.node("Gemm", inputs, {{"transB", int64_t{1}}});
}

std::string emit_conv(OnnxGraph& g, const std::string& x, const torch::nn::Conv2dImpl& conv,
                      const torch::nn::BatchNorm2dImpl* bn) {
  g.use(conv);
  return emit_weighted(g, "Conv", x, conv.weight, conv.bias, bn, 0,
                       conv_attrs(conv.options, "Conv2d"));
}

std::string emit_conv_transpose(OnnxGraph& g, const std::string& x,
                                const torch::nn::ConvTranspose2dImpl& conv,
                                const torch::nn::BatchNorm2dImpl* bn) {
  g.use(conv);
  auto attrs = conv_attrs(conv.options, "ConvTranspose2d");
  attrs.push_back({"output_padding", pair(conv.options.output_padding())});
  return emit_weighted(g, "ConvTranspose", x, conv.weight, conv.bias, bn, 1, std::move(attrs));
}

std::string emit_batch_norm(OnnxGraph& g, const std::string& x,
                            const torch::nn::BatchNorm2dImpl& bn) {
  g.use(bn);
  GF_CHECK(bn.options.track_running_stats() && bn.running_mean.defined(),
           "ONNX export needs batch norm with running statistics (track_running_stats)");
  const int64_t c = bn.running_mean.numel();
  const bool affine = bn.options.affine();
  return g.node("BatchNormalization",
                {x, g.constant("bn_scale", affine ? bn.weight : torch::ones({c})),
                 g.constant("bn_bias", affine ? bn.bias : torch::zeros({c})),
                 g.constant("bn_mean", bn.running_mean), g.constant("bn_var", bn.running_var)},
                {{"epsilon", static_cast<float>(bn.options.eps())}});
}

std::string emit_upsample_nearest(OnnxGraph& g, const std::string& x, int64_t fh, int64_t fw) {
  const auto scales = torch::tensor({1.0F, 1.0F, static_cast<float>(fh), static_cast<float>(fw)});
  return g.node("Resize", {x, "", g.constant("resize_scales", scales)},
                {{"mode", std::string("nearest")},
                 {"coordinate_transformation_mode", std::string("asymmetric")},
                 {"nearest_mode", std::string("floor")}});
}

std::string emit_sequential(OnnxGraph& g, const std::string& x, torch::nn::SequentialImpl& seq,
                            size_t first) {
  std::string h = x;
  for (size_t i = first; i < seq.size(); ++i) {
    torch::nn::Module& m = *seq.ptr(i);
    const auto* next_bn = i + 1 < seq.size()
                              ? dynamic_cast<torch::nn::BatchNorm2dImpl*>(seq.ptr(i + 1).get())
                              : nullptr;
    if (auto* linear = dynamic_cast<torch::nn::LinearImpl*>(&m)) {
      g.use(*linear);
      h = emit_gemm(g, h, linear->weight, linear->bias);
    } else if (auto* dense = dynamic_cast<DenseImpl*>(&m)) {
      // In eval mode Dense's forward uses W / sigma with the stored power-iteration vectors.
      g.use(*dense);
      h = emit_gemm(g, h, dense->effective_weight().detach(),
                    parameter_or_undefined(*dense, "bias"));
    } else if (auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(&m)) {
      h = emit_conv(g, h, *conv, next_bn);
      if (next_bn != nullptr) ++i;
    } else if (auto* convt = dynamic_cast<torch::nn::ConvTranspose2dImpl*>(&m)) {
      h = emit_conv_transpose(g, h, *convt, next_bn);
      if (next_bn != nullptr) ++i;
    } else if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(&m)) {
      h = emit_batch_norm(g, h, *bn);
    } else if (dynamic_cast<torch::nn::ReLUImpl*>(&m) != nullptr) {
      h = g.node("Relu", {h});
    } else if (auto* lrelu = dynamic_cast<torch::nn::LeakyReLUImpl*>(&m)) {
      h = g.node("LeakyRelu", {h},
                 {{"alpha", static_cast<float>(lrelu->options.negative_slope())}});
    } else if (dynamic_cast<torch::nn::TanhImpl*>(&m) != nullptr) {
      h = g.node("Tanh", {h});
    } else if (auto* up = dynamic_cast<torch::nn::UpsampleImpl*>(&m)) {
      h = emit_upsample(g, h, up->options);
    } else {
      throw Error(
          concat("ONNX export does not support the generator's layer ", i, " (", m.name(), ")"));
    }
  }
  return h;
}

}  // namespace gf
