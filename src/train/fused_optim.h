// Fused optimizer steps: one pass over each parameter's memory instead of the chain of
// element-wise tensor ops torch::optim's Adam and RMSprop run per tensor (each op reads and
// writes the whole tensor again). State, options, save and load are the originals', so
// checkpoints are interchangeable. Non-float32, non-CPU or non-contiguous parameters (and
// amsgrad, centered RMSprop) fall back to the original step.
#pragma once

#include <torch/optim/adam.h>
#include <torch/optim/rmsprop.h>

#include <string>
#include <vector>

namespace gf {

// The compiled variants of the fused loops this CPU can run, best first: some of "avx512f",
// "avx2", and always "baseline".
std::vector<std::string> fused_variants_supported();
// The variant in use: the best supported, unless GF_FUSED_VARIANT names another (an unknown or
// unsupported name is a gf::Error at the first fused step).
std::string fused_variant();
// Uses `name` from now on (tests run every supported variant this way); gf::Error when unknown
// or when this CPU cannot run it.
void set_fused_variant(const std::string& name);

// Adam: read p, g, m, v; write p, m, v (instead of five tensor ops).
class FusedAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;
  // Whether the last step took the fused path (false: it fell back to Adam::step).
  bool last_step_fused() const { return last_fused_; }

 private:
  bool last_fused_ = false;
};

// RMSprop (Tieleman & Hinton 2012, PyTorch's form): read p, g, s (and the momentum buffer);
// write them back (instead of four or five tensor ops).
class FusedRmsprop : public torch::optim::RMSprop {
 public:
  using torch::optim::RMSprop::RMSprop;
  torch::Tensor step(LossClosure closure = nullptr) override;
  bool last_step_fused() const { return last_fused_; }

 private:
  bool last_fused_ = false;
};

}  // namespace gf
