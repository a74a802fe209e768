#include "models/mlp.h"

#include "models/layers.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>

namespace gf {

MlpGenerator::MlpGenerator(const ModelSpec& spec) : out_shape_(spec.out_shape) {
  input_ = register_module("input", std::make_shared<GeneratorInput>(spec));
  net_ = torch::nn::Sequential();
  int64_t width = input_->size();
  for (int64_t h : spec.g_hidden) {
    net_->push_back(torch::nn::Linear(width, h));
    net_->push_back(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(spec.slope)));
    width = h;
  }
  net_->push_back(torch::nn::Linear(width, spec.out_numel()));
  // The seed's code leaves G linear; its data is in [-1, 1], so tanh matches the range.
  if (spec.g_out == "tanh") net_->push_back(torch::nn::Tanh());
  register_module("net", net_);
}

torch::Tensor MlpGenerator::forward(const torch::Tensor& z, const torch::Tensor& labels) {
  std::vector<int64_t> shape = {z.size(0)};
  shape.insert(shape.end(), out_shape_.begin(), out_shape_.end());
  return forward_rows_invariant(input_->forward(z, labels),
                                [this](const torch::Tensor& h) { return net_->forward(h); })
      .view(shape);
}

MlpDiscriminator::MlpDiscriminator(const ModelSpec& spec) {
  label_input_ = register_module("label_input", std::make_shared<DiscriminatorLabelInput>(spec));
  body_ = torch::nn::Sequential();
  int64_t width = spec.out_numel() + label_input_->size();
  for (int64_t h : spec.d_hidden) {
    body_->push_back(Dense(width, h, spec.spectral_norm));
    body_->push_back(
        torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(spec.slope)));
    width = h;
  }
  register_module("net", body_);
  mbstd_ = spec.d_mbstd;
  head_ = register_module("head",
                          std::make_shared<DiscriminatorHead>(spec, width + (mbstd_ > 0 ? 1 : 0)));
}

DOutput MlpDiscriminator::forward(const torch::Tensor& x, const torch::Tensor& labels) {
  auto h = body_->forward(label_input_->forward(x.flatten(1), labels));
  if (mbstd_ > 0) h = minibatch_stddev(h, mbstd_);
  return head_->forward(h, labels);
}

}  // namespace gf
