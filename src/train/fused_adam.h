// Adam with a fused update: one pass over each parameter's memory (read p, g, m, v; write p, m,
// v) instead of the five element-wise tensor ops of torch::optim::Adam::step. State, options,
// save and load are Adam's own, so checkpoints are interchangeable. Non-float32, non-CPU or
// non-contiguous parameters (and amsgrad) fall back to Adam::step.
#pragma once

#include <torch/optim/adam.h>

namespace gf {

class FusedAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;
  // Whether the last step took the fused path (false: it fell back to Adam::step).
  bool last_step_fused() const { return last_fused_; }

 private:
  bool last_fused_ = false;
};

}  // namespace gf
