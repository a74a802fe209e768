#include "models/layers.h"

#include <torch/nn/functional/conv.h>
#include <torch/nn/functional/embedding.h>
#include <torch/nn/functional/linear.h>
#include <torch/nn/functional/normalization.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/utils.h>

namespace gf {

torch::Tensor minibatch_stddev(const torch::Tensor& x, int64_t group_size) {
  const int64_t n = x.size(0);
  int64_t g = std::min(group_size, n);
  while (n % g != 0) --g;
  auto y = x.reshape({g, n / g, -1});
  y = y - y.mean(0);
  y = (y.square().mean(0) + 1e-8).sqrt().mean(1);  // [n/g]
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape[1] = 1;
  std::vector<int64_t> view(x.dim(), 1);
  view[0] = n / g;
  // Sample i = j * (n / g) + k takes group k's value, as StyleGAN2's repeat(G, ...).
  y = y.reshape(view).repeat([&] {
    std::vector<int64_t> r(shape);
    r[0] = g;
    return r;
  }());
  return torch::cat({x, y}, 1);
}
namespace {

namespace F = torch::nn::functional;

torch::Tensor normalize(const torch::Tensor& x) {
  return F::normalize(x, F::NormalizeFuncOptions().dim(0).eps(1e-12));
}

// Registers u and v for a weight of shape [out, ...] (random unit vectors, as PyTorch does).
void init_power_vectors(torch::nn::Module& m, const torch::Tensor& w, torch::Tensor& u,
                        torch::Tensor& v) {
  const int64_t rows = w.size(0), cols = w.numel() / w.size(0);
  u = m.register_buffer("u", normalize(torch::randn({rows})));
  v = m.register_buffer("v", normalize(torch::randn({cols})));
}

}  // namespace

torch::Tensor forward_rows_invariant(const torch::Tensor& x,
                                     const std::function<torch::Tensor(const torch::Tensor&)>& fn) {
  const int64_t n = x.size(0);
  if (torch::GradMode::is_enabled() || !x.device().is_cpu() || n <= 1) return fn(x);
  std::vector<torch::Tensor> rows;
  rows.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) rows.push_back(fn(x.narrow(0, i, 1)));
  return torch::cat(rows);
}

torch::Tensor spectral_normalize(const torch::Tensor& weight, torch::Tensor& u, torch::Tensor& v,
                                 bool update) {
  auto w = weight.flatten(1);
  if (update) {
    torch::NoGradGuard no_grad;
    v.copy_(normalize(torch::mv(w.t(), u)));
    u.copy_(normalize(torch::mv(w, v)));
  }
  // sigma = u^T W v, with gradients flowing through W only (u, v are constants here).
  auto sigma = torch::dot(u.clone(), torch::mv(w, v.clone()));
  return weight / sigma;
}

DenseImpl::DenseImpl(int64_t in, int64_t out, bool spectral_norm, bool bias) : sn_(spectral_norm) {
  torch::nn::Linear init(torch::nn::LinearOptions(in, out).bias(bias));
  weight_ = register_parameter("weight", init->weight.detach().clone());
  if (bias) bias_ = register_parameter("bias", init->bias.detach().clone());
  if (sn_) init_power_vectors(*this, weight_, u_, v_);
}

torch::Tensor DenseImpl::effective_weight() {
  return sn_ ? spectral_normalize(weight_, u_, v_, is_training()) : weight_;
}

torch::Tensor DenseImpl::forward(const torch::Tensor& x) {
  return F::linear(x, effective_weight(), bias_);
}

ConvImpl::ConvImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding,
                   bool spectral_norm, bool bias)
    : sn_(spectral_norm), stride_(stride), padding_(padding) {
  torch::nn::Conv2d init(torch::nn::Conv2dOptions(in, out, kernel).bias(bias));
  weight_ = register_parameter("weight", init->weight.detach().clone());
  if (bias) bias_ = register_parameter("bias", init->bias.detach().clone());
  if (sn_) init_power_vectors(*this, weight_, u_, v_);
}

torch::Tensor ConvImpl::forward(const torch::Tensor& x) {
  auto w = sn_ ? spectral_normalize(weight_, u_, v_, is_training()) : weight_;
  return F::conv2d(x, w, F::Conv2dFuncOptions().bias(bias_).stride(stride_).padding(padding_));
}

EmbedImpl::EmbedImpl(int64_t classes, int64_t dim, bool spectral_norm) : sn_(spectral_norm) {
  torch::nn::Embedding init(classes, dim);
  weight_ = register_parameter("weight", init->weight.detach().clone());
  if (sn_) init_power_vectors(*this, weight_, u_, v_);
}

torch::Tensor EmbedImpl::forward(const torch::Tensor& labels) {
  auto w = sn_ ? spectral_normalize(weight_, u_, v_, is_training()) : weight_;
  return F::embedding(labels, w);
}

ClassBatchNormImpl::ClassBatchNormImpl(int64_t channels, int64_t embed_dim) {
  bn_ = register_module(
      "bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).affine(false)));
  gain_ = register_module("gain", torch::nn::Linear(embed_dim, channels));
  bias_ = register_module("bias", torch::nn::Linear(embed_dim, channels));
}

torch::Tensor ClassBatchNormImpl::forward(const torch::Tensor& x, const torch::Tensor& e) {
  // Row by row when sampling, so an image does not depend on its batch (forward_rows_invariant).
  auto gain = forward_rows_invariant(e, [this](const torch::Tensor& r) { return gain_(r); });
  auto bias = forward_rows_invariant(e, [this](const torch::Tensor& r) { return bias_(r); });
  const auto shape = std::vector<int64_t>{x.size(0), x.size(1), 1, 1};
  return bn_(x) * (1 + gain.view(shape)) + bias.view(shape);
}

}  // namespace gf
