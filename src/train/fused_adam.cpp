#include "train/fused_adam.h"

#include <torch/utils.h>

#include <cmath>
#include <memory>

namespace gf {

torch::Tensor FusedAdam::step(LossClosure closure) {
  bool fusable = true;
  for (const auto& group : param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
    fusable = fusable && !o.amsgrad();
    for (const auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      fusable = fusable && p.device().is_cpu() && p.scalar_type() == torch::kFloat32 &&
                p.is_contiguous() && p.grad().is_contiguous() && !p.grad().is_sparse();
    }
  }
  last_fused_ = fusable;
  if (!fusable) return torch::optim::Adam::step(std::move(closure));

  torch::NoGradGuard no_grad;
  torch::Tensor loss = {};
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
    const double b1 = std::get<0>(o.betas()), b2 = std::get<1>(o.betas());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto key = c10::guts::to_string(p.unsafeGetTensorImpl());
      auto& states = state();
      if (states.find(key) == states.end()) {
        auto s = std::make_unique<torch::optim::AdamParamState>();
        s->step(0);
        s->exp_avg(torch::zeros_like(p, at::MemoryFormat::Preserve));
        s->exp_avg_sq(torch::zeros_like(p, at::MemoryFormat::Preserve));
        states[key] = std::move(s);
      }
      auto& s = static_cast<torch::optim::AdamParamState&>(*states[key]);
      s.step(s.step() + 1);
      const double bc1 = 1 - std::pow(b1, static_cast<double>(s.step()));
      const double bc2 = 1 - std::pow(b2, static_cast<double>(s.step()));
      // The same arithmetic as Adam::step (PyTorch 1.13), element by element:
      //   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
      //   p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
      const float fb1 = static_cast<float>(b1), fb2 = static_cast<float>(b2);
      const float c1 = static_cast<float>(1 - b1), c2 = static_cast<float>(1 - b2);
      const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
      const float eps = static_cast<float>(o.eps());
      const float step_size = static_cast<float>(o.lr() / bc1);
      const float wd = static_cast<float>(o.weight_decay());
      float* pp = p.data_ptr<float>();
      const float* gp = p.grad().data_ptr<float>();
      float* mp = s.exp_avg().data_ptr<float>();
      float* vp = s.exp_avg_sq().data_ptr<float>();
      const int64_t n = p.numel();
      for (int64_t i = 0; i < n; ++i) {
        const float g = wd != 0.0f ? gp[i] + wd * pp[i] : gp[i];
        const float m = fb1 * mp[i] + c1 * g;
        const float v = fb2 * vp[i] + c2 * g * g;
        mp[i] = m;
        vp[i] = v;
        pp[i] -= step_size * m / (std::sqrt(v) * inv_sqrt_bc2 + eps);
      }
    }
  }
  return loss;
}

}  // namespace gf
