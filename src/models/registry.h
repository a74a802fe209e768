// Models by name. Every architecture provides a generator G(z, y) -> sample and a discriminator
// D(x, y) -> one logit per sample (plus class logits for acgan), built from a ModelSpec. Labels
// y are int64 [N] and ignored (may be undefined) for unconditional models.
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
  virtual torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& labels) = 0;
};

struct DOutput {
  torch::Tensor logits;        // [N]
  torch::Tensor class_logits;  // [N, num_classes] for acgan, undefined otherwise
};

class Discriminator : public torch::nn::Module {
 public:
  // x: [N, out_shape...] -> logits
  virtual DOutput forward(const torch::Tensor& x, const torch::Tensor& labels) = 0;
};

struct Gan {
  std::shared_ptr<Generator> g;
  std::shared_ptr<Discriminator> d;
};

std::vector<std::string> model_names();
// Throws gf::Error listing the valid names when `name` is unknown.
void check_model_name(const std::string& name);
Gan build_gan(const ModelSpec& spec);
// A generator alone (for sampling and the EMA copy).
std::shared_ptr<Generator> build_generator(const ModelSpec& spec);

int64_t parameter_count(const torch::nn::Module& module);
// The device a module's parameters live on (the CPU for a module without parameters).
torch::Device module_device(const torch::nn::Module& module);

}  // namespace gf
