// Exponential moving average of G's weights (Karras et al. 2018/2020; StyleGAN2-ADA's ema_kimg
// and ema_rampup): after each step, p_ema <- p + beta (p_ema - p) with
// beta = 0.5^(batch / ema_nimg), ema_nimg = min(ema_kimg * 1000, images_seen * rampup).
// Buffers (batch-norm statistics) are copied, not averaged.
#pragma once

#include <memory>

#include "models/registry.h"

namespace gf {

class Ema {
 public:
  // The average starts equal to `g`.
  Ema(const ModelSpec& spec, Generator& g, double kimg, double rampup);
  void update(Generator& g, int64_t images_seen, int64_t batch);
  Generator& model() { return *ema_; }
  std::shared_ptr<Generator> shared() { return ema_; }

 private:
  std::shared_ptr<Generator> ema_;
  double kimg_, rampup_;
};

// Copies parameters and buffers of `from` into `to` (same architecture).
void copy_weights(torch::nn::Module& from, torch::nn::Module& to);

}  // namespace gf
