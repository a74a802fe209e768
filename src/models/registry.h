// Models by name. Every architecture provides a generator G(z) -> sample and a discriminator
// D(x) -> one logit per sample, built from a ModelSpec.
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "models/spec.h"

namespace gf {

class Generator : public torch::nn::Module {
 public:
  // z: [N, z_dim] -> samples [N, out_shape...]
  virtual torch::Tensor forward(const torch::Tensor& z) = 0;
};

class Discriminator : public torch::nn::Module {
 public:
  // x: [N, out_shape...] -> logits [N]
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
};

struct Gan {
  std::shared_ptr<Generator> g;
  std::shared_ptr<Discriminator> d;
};

std::vector<std::string> model_names();
// Throws gf::Error listing the valid names when `name` is unknown.
void check_model_name(const std::string& name);
Gan build_gan(const ModelSpec& spec);

int64_t parameter_count(const torch::nn::Module& module);

}  // namespace gf
