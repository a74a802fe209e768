// The seed's MLP GAN (Goodfellow et al. 2014 as the article gives it): G 100->128->256->512->784
// and D 784->512->256->128->1 with LeakyReLU; widths, depth, slope and latent size configurable.
#pragma once

#include <torch/nn/modules/container/sequential.h>

#include "models/registry.h"

namespace gf {

class MlpGenerator : public Generator {
 public:
  explicit MlpGenerator(const ModelSpec& spec);
  torch::Tensor forward(const torch::Tensor& z) override;

 private:
  std::vector<int64_t> out_shape_;
  torch::nn::Sequential net_{nullptr};
};

class MlpDiscriminator : public Discriminator {
 public:
  explicit MlpDiscriminator(const ModelSpec& spec);
  torch::Tensor forward(const torch::Tensor& x) override;

 private:
  torch::nn::Sequential net_{nullptr};
};

}  // namespace gf
