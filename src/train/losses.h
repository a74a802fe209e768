// Adversarial losses by name, computed from D's logits with numerically stable forms.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace gf {

struct LossOptions {
  std::string name = "bce";                 // a name from loss_names()
  std::string g_variant = "nonsaturating";  // bce: nonsaturating | minimax
  double label_smoothing = 0.0;             // one-sided: real target 1 - s (bce, lsgan)
};

class GanLoss {
 public:
  virtual ~GanLoss() = default;
  // D's loss from its logits on real and generated samples.
  virtual torch::Tensor d_loss(const torch::Tensor& real_logits,
                               const torch::Tensor& fake_logits) const = 0;
  // G's loss from D's logits on generated samples.
  virtual torch::Tensor g_loss(const torch::Tensor& fake_logits) const = 0;
  // Whether D's output is a probability logit (bce, lsgan) rather than an unbounded critic.
  virtual bool probabilistic() const { return true; }
};

std::vector<std::string> loss_names();
void check_loss_name(const std::string& name);
std::unique_ptr<GanLoss> make_loss(const LossOptions& options);

}  // namespace gf
