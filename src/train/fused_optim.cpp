#include "train/fused_optim.h"

#include <torch/utils.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

#include "core/error.h"
#include "core/names.h"

namespace gf {
namespace {

// The key of a parameter's entry in an optimizer's state, as torch::optim makes it: the address
// of its TensorImpl, held as a pointer in LibTorch 2 and printed to a string (as
// c10::guts::to_string, gone in 2, prints it) in 1.13. The state map's key type says which.
using StateKey = std::remove_cv_t<std::remove_reference_t<
    decltype(std::declval<torch::optim::Optimizer&>().state().begin()->first)>>;

template <typename Key = StateKey>
Key state_key(const torch::Tensor& p) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream os;
    os << p.unsafeGetTensorImpl();
    return os.str();
  } else {
    return p.unsafeGetTensorImpl();
  }
}

// Whether every parameter with a gradient can take the fused loop: dense float32 on the CPU.
bool fusable_params(const torch::optim::Optimizer& opt) {
  for (const auto& group : opt.param_groups()) {
    for (const auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      if (!(p.device().is_cpu() && p.scalar_type() == torch::kFloat32 && p.is_contiguous() &&
            p.grad().is_contiguous() && !p.grad().is_sparse()))
        return false;
    }
  }
  return true;
}

// The element loops, compiled for AVX-512, AVX2 and baseline x86-64 so that they vectorise as
// PyTorch's own kernels do; the best variant this CPU runs is chosen at first use, or the one
// GF_FUSED_VARIANT (or set_fused_variant, for tests) names, so every variant can be tested on
// any CPU that has it. The file is built with -fno-math-errno (sqrt of a non-negative value needs
// no errno check) and -ffp-contract=off (no fused multiply-adds: the rounding stays that of
// torch::optim).
#define GF_LOOP inline __attribute__((always_inline))

struct AdamScalars {
  float b1, b2, c1, c2, inv_sqrt_bc2, eps, step_size, wd;
};

// Adam::step's arithmetic (PyTorch 1.13), element by element:
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
// with the division by sqrt(bc2) done as a multiplication by its reciprocal (a last-bit
// difference; the tests bound it).
GF_LOOP void adam_loop(float* __restrict pp, const float* __restrict gp, float* __restrict mp,
                       float* __restrict vp, int64_t n, AdamScalars k) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gp[i] + k.wd * pp[i];
    const float m = k.b1 * mp[i] + k.c1 * g;
    const float v = k.b2 * vp[i] + k.c2 * g * g;
    mp[i] = m;
    vp[i] = v;
    pp[i] -= k.step_size * m / (std::sqrt(v) * k.inv_sqrt_bc2 + k.eps);
  }
}

struct RmspropScalars {
  float alpha, c, eps, lr, momentum, wd;
};

// RMSprop::step's arithmetic (PyTorch 1.13), element by element:
//   s = alpha s + (1 - alpha) g^2;  avg = sqrt(s) + eps
//   momentum: b = mom b + g / avg;  p -= lr b      else: p -= lr (g / avg)
// (PyTorch computes (lr g) / avg without momentum: a last-bit difference the tests bound).
GF_LOOP void rmsprop_loop(float* __restrict pp, const float* __restrict gp, float* __restrict sp,
                          float* __restrict bp, int64_t n, RmspropScalars k) {
  if (bp) {
    for (int64_t i = 0; i < n; ++i) {
      const float g = gp[i] + k.wd * pp[i];
      const float sq = k.alpha * sp[i] + k.c * g * g;
      sp[i] = sq;
      bp[i] = k.momentum * bp[i] + g / (std::sqrt(sq) + k.eps);
      pp[i] -= k.lr * bp[i];
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const float g = gp[i] + k.wd * pp[i];
      const float sq = k.alpha * sp[i] + k.c * g * g;
      sp[i] = sq;
      pp[i] -= k.lr * (g / (std::sqrt(sq) + k.eps));
    }
  }
}

using AdamFn = void (*)(float*, const float*, float*, float*, int64_t, AdamScalars);
using RmspropFn = void (*)(float*, const float*, float*, float*, int64_t, RmspropScalars);

struct Variant {
  const char* name;
  bool (*supported)();
  AdamFn adam;
  RmspropFn rmsprop;
};

#define GF_VARIANT(suffix, attr)                                                      \
  attr void adam_##suffix(float* p, const float* g, float* m, float* v, int64_t n,    \
                          AdamScalars k) {                                            \
    adam_loop(p, g, m, v, n, k);                                                      \
  }                                                                                   \
  attr void rmsprop_##suffix(float* p, const float* g, float* s, float* b, int64_t n, \
                             RmspropScalars k) {                                      \
    rmsprop_loop(p, g, s, b, n, k);                                                   \
  }

GF_VARIANT(baseline, )
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
GF_VARIANT(avx512f, __attribute__((target("avx512f"))))
GF_VARIANT(avx2, __attribute__((target("avx2"))))
const Variant kVariants[] = {
    {"avx512f", [] { return __builtin_cpu_supports("avx512f") != 0; }, adam_avx512f,
     rmsprop_avx512f},
    {"avx2", [] { return __builtin_cpu_supports("avx2") != 0; }, adam_avx2, rmsprop_avx2},
    {"baseline", [] { return true; }, adam_baseline, rmsprop_baseline}};
#else
const Variant kVariants[] = {{"baseline", [] { return true; }, adam_baseline, rmsprop_baseline}};
#endif

const Variant* find_variant(const std::string& name) {
  for (const auto& v : kVariants) {
    if (name == v.name) return &v;
  }
  std::vector<std::string> names;
  for (const auto& v : kVariants) names.emplace_back(v.name);
  throw Error(concat("unknown fused optimizer variant '", name, "'; valid: ", join_names(names)));
}

// Chosen once (thread-safe static initialisation); set_fused_variant swaps it atomically, for
// tests between steps.
std::atomic<const Variant*>& current_variant() {
  static std::atomic<const Variant*> chosen{[] {
    if (const char* env = std::getenv("GF_FUSED_VARIANT"); env && *env) {
      const Variant* v = find_variant(env);
      GF_CHECK(v->supported(), "GF_FUSED_VARIANT=", env, ": this CPU cannot run it");
      return v;
    }
    for (const auto& v : kVariants) {
      if (v.supported()) return &v;
    }
    return &kVariants[std::size(kVariants) - 1];
  }()};
  return chosen;
}

torch::Tensor run_closure(const torch::optim::Optimizer::LossClosure& closure) {
  if (closure == nullptr) return {};
  at::AutoGradMode enable_grad(true);
  return closure();
}

}  // namespace

std::vector<std::string> fused_variants_supported() {
  std::vector<std::string> names;
  for (const auto& v : kVariants) {
    if (v.supported()) names.emplace_back(v.name);
  }
  return names;
}

std::string fused_variant() {
  return current_variant().load()->name;
}

void set_fused_variant(const std::string& name) {
  const Variant* v = find_variant(name);
  GF_CHECK(v->supported(), "this CPU cannot run the fused optimizer variant ", name);
  current_variant().store(v);
}

torch::Tensor FusedAdam::step(LossClosure closure) {
  bool fusable = fusable_params(*this);
  for (const auto& group : param_groups()) {
    fusable = fusable && !static_cast<const torch::optim::AdamOptions&>(group.options()).amsgrad();
  }
  last_fused_ = fusable;
  if (!fusable) return torch::optim::Adam::step(std::move(closure));

  torch::NoGradGuard no_grad;
  torch::Tensor loss = run_closure(closure);
  for (auto& group : param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
    const double b1 = std::get<0>(o.betas()), b2 = std::get<1>(o.betas());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const auto key = state_key(p);
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
      const float fb1 = static_cast<float>(b1), fb2 = static_cast<float>(b2);
      const float c1 = static_cast<float>(1 - b1), c2 = static_cast<float>(1 - b2);
      const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
      const float eps = static_cast<float>(o.eps());
      const float step_size = static_cast<float>(o.lr() / bc1);
      const float wd = static_cast<float>(o.weight_decay());
      current_variant().load()->adam(p.data_ptr<float>(), p.grad().data_ptr<float>(),
                                     s.exp_avg().data_ptr<float>(),
                                     s.exp_avg_sq().data_ptr<float>(), p.numel(),
                                     {fb1, fb2, c1, c2, inv_sqrt_bc2, eps, step_size, wd});
    }
  }
  return loss;
}

torch::Tensor FusedRmsprop::step(LossClosure closure) {
  bool fusable = fusable_params(*this);
  for (const auto& group : param_groups()) {
    fusable =
        fusable && !static_cast<const torch::optim::RMSpropOptions&>(group.options()).centered();
  }
  last_fused_ = fusable;
  if (!fusable) return torch::optim::RMSprop::step(std::move(closure));

  torch::NoGradGuard no_grad;
  torch::Tensor loss = run_closure(closure);
  for (auto& group : param_groups()) {
    const auto& o = static_cast<const torch::optim::RMSpropOptions&>(group.options());
    const float alpha = static_cast<float>(o.alpha()), c = static_cast<float>(1 - o.alpha());
    const float eps = static_cast<float>(o.eps()), lr = static_cast<float>(o.lr());
    const float mom = static_cast<float>(o.momentum()), wd = static_cast<float>(o.weight_decay());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const auto key = state_key(p);
      auto& states = state();
      if (states.find(key) == states.end()) {
        auto s = std::make_unique<torch::optim::RMSpropParamState>();
        s->step(0);
        s->square_avg(torch::zeros_like(p, at::MemoryFormat::Preserve));
        if (o.momentum() > 0) s->momentum_buffer(torch::zeros_like(p, at::MemoryFormat::Preserve));
        states[key] = std::move(s);
      }
      auto& s = static_cast<torch::optim::RMSpropParamState&>(*states[key]);
      s.step(s.step() + 1);
      current_variant().load()->rmsprop(p.data_ptr<float>(), p.grad().data_ptr<float>(),
                                        s.square_avg().data_ptr<float>(),
                                        mom > 0 ? s.momentum_buffer().data_ptr<float>() : nullptr,
                                        p.numel(), {alpha, c, eps, lr, mom, wd});
    }
  }
  return loss;
}

}  // namespace gf
