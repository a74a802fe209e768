// LibTorch layers as ONNX nodes, with batch norm folded into the layer before it where that is
// exact. In eval mode batch norm is the per-channel affine map y = x * scale + shift with
// scale = gamma / sqrt(running_var + eps) and shift = beta - running_mean * scale (Ioffe &
// Szegedy 2015, sec. 3.1), so BN(W x + b) = (scale * W) x + (scale * b + shift), scaled along
// the layer's output axis: axis 0 of Linear [out, in] and Conv2d [out, in, kh, kw] weights, axis
// 1 of ConvTranspose2d [in, out, kh, kw] ones. The folding is computed in float64.
#pragma once

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <string>

#include "core/error.h"
#include "export/onnx_graph.h"

namespace gf {

// Batch norm in eval mode as y = x * scale + shift; float64 [C].
struct ScaleShift {
  torch::Tensor scale, shift;
};
// Throws gf::Error for a batch norm without running statistics (it normalises by the batch even
// in eval mode, which no fixed graph reproduces).
ScaleShift batch_norm_scale_shift(const torch::nn::BatchNorm2dImpl& bn);

// A layer's weight and bias (bias may be undefined) with `bn` folded in along `axis`; float64.
struct Folded {
  torch::Tensor weight, bias;
};
Folded fold_scale_shift(const torch::Tensor& weight, const torch::Tensor& bias,
                        const ScaleShift& bn, int64_t axis);

// x [N, in] -> Gemm with weight [out, in] and bias [out] (may be undefined).
std::string emit_gemm(OnnxGraph& g, const std::string& x, const torch::Tensor& weight,
                      const torch::Tensor& bias);
// Conv2d / ConvTranspose2d, with `bn` (may be null) folded in; records the layers as used.
std::string emit_conv(OnnxGraph& g, const std::string& x, const torch::nn::Conv2dImpl& conv,
                      const torch::nn::BatchNorm2dImpl* bn);
std::string emit_conv_transpose(OnnxGraph& g, const std::string& x,
                                const torch::nn::ConvTranspose2dImpl& conv,
                                const torch::nn::BatchNorm2dImpl* bn);
// A batch norm that follows no foldable layer: an ONNX BatchNormalization node (inference mode).
std::string emit_batch_norm(OnnxGraph& g, const std::string& x,
                            const torch::nn::BatchNorm2dImpl& bn);
// Nearest-neighbour upsampling by integer factors [fh, fw] (PyTorch's nearest: source index
// floor(dst / f), which is ONNX Resize's asymmetric transform with nearest_mode floor).
std::string emit_upsample_nearest(OnnxGraph& g, const std::string& x, int64_t fh, int64_t fw);

// The layers of `seq` from index `first` on, applied to x. Supported: Linear, ganforge's Dense
// (its effective weight: W / sigma with spectral norm), Conv2d, ConvTranspose2d, BatchNorm2d
// (folded after a convolution), ReLU, LeakyReLU, Tanh, nearest Upsample by integer factors.
// Throws gf::Error naming any other layer or option.
std::string emit_sequential(OnnxGraph& g, const std::string& x, torch::nn::SequentialImpl& seq,
                            size_t first = 0);

// The submodule `name` of `parent` as a T; gf::Error when it is missing or of another type.
template <typename T>
T& child_as(torch::nn::Module& parent, const std::string& name) {
  for (const auto& c : parent.named_children()) {
    if (c.key() != name) continue;
    auto* t = dynamic_cast<T*>(c.value().get());
    GF_CHECK(t != nullptr, "ONNX export: the generator's layer '", name, "' is a ",
             c.value()->name(), ", which this exporter does not handle");
    return *t;
  }
  throw Error(concat("ONNX export: the generator has no layer '", name,
                     "' where this exporter expects one"));
}

}  // namespace gf
