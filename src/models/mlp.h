// The seed's MLP GAN (Goodfellow et al. 2014 as the article gives it): G 100->128->256->512->784
// and D 784->512->256->128->1 with LeakyReLU; widths, depth, slope and latent size configurable,
// with optional label conditioning and spectral normalisation on D.
#pragma once

#include <torch/nn/modules/container/sequential.h>

#include <memory>

#include "models/conditioning.h"
#include "models/registry.h"

namespace gf {

class MlpGenerator : public Generator {
 public:
  explicit MlpGenerator(const ModelSpec& spec);
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& labels) override;

 private:
  std::vector<int64_t> out_shape_;
  std::shared_ptr<GeneratorInput> input_;
  torch::nn::Sequential net_{nullptr};
};

class MlpDiscriminator : public Discriminator {
 public:
  explicit MlpDiscriminator(const ModelSpec& spec);
  DOutput forward(const torch::Tensor& x, const torch::Tensor& labels) override;

 private:
  std::shared_ptr<DiscriminatorLabelInput> label_input_;
  torch::nn::Sequential body_{nullptr};
  std::shared_ptr<DiscriminatorHead> head_;
  int64_t mbstd_ = 0;
};

}  // namespace gf
