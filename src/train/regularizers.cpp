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

torch::Tensor lecam_penalty(const torch::Tensor& real_logits, const torch::Tensor& fake_logits,
                            double ema_real, double ema_fake) {
  return torch::relu(real_logits - ema_fake).pow(2).mean() +
         torch::relu(ema_real - fake_logits).pow(2).mean();
}

void LecamEma::update(double real_mean, double fake_mean) {
  const double decay = started ? 0.99 : 0.0;
  real = decay * real + (1 - decay) * real_mean;
  fake = decay * fake + (1 - decay) * fake_mean;
  started = true;
}

torch::Tensor instance_noise(const torch::Tensor& x, double sigma, at::Generator& gen) {
  if (sigma <= 0) return x;
  return x + torch::randn(x.sizes(), gen, torch::kFloat32).to(x.device(), x.scalar_type()) * sigma;
}

}  // namespace gf
