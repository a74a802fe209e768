// Adversarial losses by name, computed from D's logits with numerically stable softplus forms.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace gf {

class GanLoss {
 public:
  virtual ~GanLoss() = default;
  // D's loss from its logits on real and generated samples.
  virtual torch::Tensor d_loss(const torch::Tensor& real_logits,
                               const torch::Tensor& fake_logits) const = 0;
  // G's loss from D's logits on generated samples.
  virtual torch::Tensor g_loss(const torch::Tensor& fake_logits) const = 0;
};

std::vector<std::string> loss_names();
void check_loss_name(const std::string& name);
// g_variant: "nonsaturating" or "minimax" (used by bce).
std::unique_ptr<GanLoss> make_loss(const std::string& name, const std::string& g_variant);

}  // namespace gf
