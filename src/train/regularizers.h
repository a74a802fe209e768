// Discriminator regularisers and augmentations that act on D's inputs.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <string>
#include <vector>

#include "data/augment.h"
#include "models/registry.h"

namespace gf {

// R1 (Mescheder et al. 2018, eq. 9, without gamma/2): E[|grad_x D(x)|^2] over reals. `real`
// must require grad and `real_logits` be D's output on it (possibly augmented in between).
torch::Tensor r1_penalty(const torch::Tensor& real_logits, const torch::Tensor& real);

// WGAN-GP (Gulrajani et al. 2017, eq. 3, without lambda): E[(|grad D(x_hat)| - 1)^2] on random
// interpolates x_hat = eps x + (1 - eps) x_fake, with eps [N] ~ U[0, 1] per sample drawn by the
// caller (the Trainer draws them for the whole global batch of a data-parallel run).
torch::Tensor gradient_penalty(Discriminator& d, const torch::Tensor& real,
                               const torch::Tensor& fake, const torch::Tensor& labels,
                               const torch::Tensor& eps);

// LeCam regularisation (Tseng et al. 2021, eq. 3, without lambda): keeps D's logits on reals
// near the running mean of its logits on fakes and vice versa, mean(relu(D(x) - ema_fake)^2) +
// mean(relu(ema_real - D(G(z)))^2); it bounds how far D can separate the two with little data.
torch::Tensor lecam_penalty(const torch::Tensor& real_logits, const torch::Tensor& fake_logits,
                            double ema_real, double ema_fake);

// The running means LeCam compares against (decay 0.99 per step, as the paper's code; the first
// update takes the value as it is).
struct LecamEma {
  double real = 0, fake = 0;
  bool started = false;
  void update(double real_mean, double fake_mean);
};

// Instance noise (Sønderby et al. 2017; Arjovsky & Bottou 2017): Gaussian noise of std `sigma`
// added to D's inputs.
torch::Tensor instance_noise(const torch::Tensor& x, double sigma, at::Generator& gen);

}  // namespace gf
