// DCGAN (Radford et al. 2016): G projects z to 4x4 (or 7x7 for 28x28) features, then transposed
// convolutions (kernel 4, stride 2) with batch norm and ReLU double the resolution up to the
// image size, tanh out; D mirrors it with strided convolutions and LeakyReLU, no batch norm on
// its input layer. Sizes 4*2^k and 7*2^k (28, 32, 64, ...) are supported.
#pragma once

#include <torch/nn/modules/container/sequential.h>

#include <memory>

#include "models/conditioning.h"
#include "models/registry.h"

namespace gf {

struct DcganGeometry {
  int64_t base = 4;   // resolution after G's projection and at D's last convolution
  int64_t steps = 0;  // resolution doublings
  static DcganGeometry of(const ModelSpec& spec);
};

class DcganGenerator : public Generator {
 public:
  explicit DcganGenerator(const ModelSpec& spec);
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& labels) override;

 private:
  int64_t base_, base_channels_;
  std::shared_ptr<GeneratorInput> input_;
  torch::nn::Sequential project_{nullptr}, net_{nullptr};
};

class DcganDiscriminator : public Discriminator {
 public:
  explicit DcganDiscriminator(const ModelSpec& spec);
  DOutput forward(const torch::Tensor& x, const torch::Tensor& labels) override;

 private:
  std::shared_ptr<DiscriminatorLabelInput> label_input_;
  torch::nn::Sequential body_{nullptr};
  std::shared_ptr<DiscriminatorHead> head_;
  int64_t mbstd_ = 0;
};

}  // namespace gf
