#include "train/regularizers.h"

#include <torch/autograd.h>

#include "core/error.h"
#include "core/names.h"

namespace gf {

torch::Tensor r1_penalty(const torch::Tensor& real_logits, const torch::Tensor& real) {
  auto grad = torch::autograd::grad({real_logits.sum()}, {real}, {}, true, true)[0];
  return grad.pow(2).flatten(1).sum(1).mean();
}

torch::Tensor gradient_penalty(Discriminator& d, const torch::Tensor& real,
                               const torch::Tensor& fake, const torch::Tensor& labels,
                               const torch::Tensor& eps) {
  std::vector<int64_t> shape(real.dim(), 1);
  shape[0] = real.size(0);
  auto e = eps.to(real.device()).view(shape);
  auto mixed = (e * real.detach() + (1.0 - e) * fake.detach()).requires_grad_(true);
  auto out = d.forward(mixed, labels).logits;
  auto grad = torch::autograd::grad({out.sum()}, {mixed}, {}, true, true)[0];
  return (grad.flatten(1).norm(2, 1) - 1.0).pow(2).mean();
}

torch::Tensor instance_noise(const torch::Tensor& x, double sigma, at::Generator& gen) {
  if (sigma <= 0) return x;
  return x + torch::randn(x.sizes(), gen, torch::kFloat32).to(x.device(), x.scalar_type()) * sigma;
}

}  // namespace gf
