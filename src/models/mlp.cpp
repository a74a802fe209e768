#include "models/mlp.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>

namespace gf {
namespace {

// Linear layers of the given widths with LeakyReLU between them (not after the last).
torch::nn::Sequential mlp(int64_t in, const std::vector<int64_t>& hidden, int64_t out,
                          double slope) {
  torch::nn::Sequential net;
  int64_t width = in;
  for (int64_t h : hidden) {
    net->push_back(torch::nn::Linear(width, h));
    net->push_back(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(slope)));
    width = h;
  }
  net->push_back(torch::nn::Linear(width, out));
  return net;
}

}  // namespace

MlpGenerator::MlpGenerator(const ModelSpec& spec) : out_shape_(spec.out_shape) {
  net_ = mlp(spec.z_dim, spec.g_hidden, spec.out_numel(), spec.slope);
  // The seed's code leaves G linear; its data is in [-1, 1], so tanh matches the range.
  if (spec.g_out == "tanh") net_->push_back(torch::nn::Tanh());
  register_module("net", net_);
}

torch::Tensor MlpGenerator::forward(const torch::Tensor& z) {
  std::vector<int64_t> shape = {z.size(0)};
  shape.insert(shape.end(), out_shape_.begin(), out_shape_.end());
  return net_->forward(z).view(shape);
}

MlpDiscriminator::MlpDiscriminator(const ModelSpec& spec) {
  net_ = mlp(spec.out_numel(), spec.d_hidden, 1, spec.slope);
  register_module("net", net_);
}

torch::Tensor MlpDiscriminator::forward(const torch::Tensor& x) {
  return net_->forward(x.flatten(1)).view({x.size(0)});
}

}  // namespace gf
