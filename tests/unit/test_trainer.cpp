#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cmath>
#include <functional>

#include "test_util.h"
#include "train/fused_optim.h"
#include "train/monitors.h"
#include "train/trainer.h"

namespace gf {
namespace {

RunConfig tiny_ring(const std::vector<std::string>& overrides) {
  RunConfig c = config_from_json_strict(
      {{"data", {{"dataset", "ring"}, {"synthetic_n", 1000}}},
       {"model", {{"z_dim", 4}, {"g_hidden", {16}}, {"d_hidden", {16}}, {"g_out", "linear"}}},
       {"train", {{"batch", 50}, {"steps", 100}}}},
      overrides);
  c.model.out_shape = {2};
  return c;
}

TEST(Trainer, LinearLearningRateDecay) {
  RunConfig c = tiny_ring({"train.lr_decay_start=0.5"});
  Dataset data = load_dataset(c.data, 0);
  Trainer t(c, data);
  EXPECT_DOUBLE_EQ(t.lr_factor(0), 1.0);
  EXPECT_DOUBLE_EQ(t.lr_factor(50), 1.0);
  EXPECT_DOUBLE_EQ(t.lr_factor(75), 0.5);
  EXPECT_DOUBLE_EQ(t.lr_factor(100), 0.0);
  Trainer no_decay(tiny_ring({}), data);
  EXPECT_DOUBLE_EQ(no_decay.lr_factor(99), 1.0);
}

TEST(Trainer, GeneratorStepLeavesDiscriminatorAlone) {
  // Each step gives D's parameters one gradient, from D's own loss, and D moves by exactly
  // -lr_d times it (plain SGD). G's step computes no gradient for D and applies none (the seed's
  // Keras code updated D during G's step); G gets one gradient and moves by -lr_g times it.
  RunConfig c =
      tiny_ring({"train.optimizer=sgd", "train.momentum=0", "train.lr_d=0.05", "train.lr_g=0.02"});
  Dataset data = load_dataset(c.data, 0);
  Trainer t(c, data);
  struct Watched {
    torch::Tensor before, grad;
    int grads = 0;
    unsigned hook = 0;
  };
  auto watch = [](torch::nn::Module& m) {
    auto params = m.parameters();
    auto w = std::make_shared<std::vector<Watched>>(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      (*w)[i].before = params[i].detach().clone();
      (*w)[i].hook = params[i].register_hook([w, i](torch::Tensor g) {
        (*w)[i].grad = g.detach().clone();
        ++(*w)[i].grads;
      });
    }
    return w;
  };
  auto check = [](torch::nn::Module& m, const std::vector<Watched>& w, double lr, const char* who) {
    auto after = m.parameters();
    ASSERT_EQ(after.size(), w.size());
    for (size_t i = 0; i < w.size(); ++i) {
      after[i].remove_hook(w[i].hook);
      ASSERT_EQ(w[i].grads, 1) << who << " parameter " << i << " got " << w[i].grads
                               << " gradients in one step";
      EXPECT_GT(w[i].grad.abs().max().item<double>(), 0) << who << " parameter " << i;
      const auto expected = w[i].before - lr * w[i].grad;
      EXPECT_LE((after[i].detach() - expected).abs().max().item<double>(),
                1e-6 * (1 + expected.abs().max().item<double>()))
          << who << " parameter " << i << " did not move by exactly one step of its own gradient";
    }
  };
  for (int step = 0; step < 3; ++step) {
    auto d = watch(t.discriminator());
    auto g = watch(t.generator());
    t.step();
    check(t.discriminator(), *d, 0.05, "D");
    check(t.generator(), *g, 0.02, "G");
  }
}

TEST(Trainer, R1PenaltyIsComputedLazily) {
  RunConfig c = tiny_ring({"train.r1_gamma=1", "train.r1_every=2"});
  Dataset data = load_dataset(c.data, 0);
  Trainer t(c, data);
  EXPECT_GT(t.step().r1, 0.0);  // step 0
  EXPECT_EQ(t.step().r1, 0.0);  // step 1: skipped
  EXPECT_GT(t.step().r1, 0.0);  // step 2
}

}  // namespace
}  // namespace gf

namespace gf {
namespace {

TEST(Monitors, CollapseAndImbalanceAlarms) {
  Dataset d;
  d.x = torch::rand({100, 1, 8, 8}) * 2 - 1;
  MonitorOptions o;
  o.imbalance_lines = 3;
  Monitors m(o, d, /*probabilistic=*/true);
  // Real-like samples are as diverse as real data; copies of one image are not.
  EXPECT_NEAR(m.diversity(torch::rand({64, 1, 8, 8}) * 2 - 1), 1.0, 0.1);
  const double collapsed = m.diversity(d.x[0].unsqueeze(0).repeat({64, 1, 1, 1}));
  EXPECT_LT(collapsed, 1e-6);
  EXPECT_EQ(m.check_diversity(10, collapsed).size(), 1u);
  EXPECT_TRUE(m.check_diversity(10, 0.9).empty());
  // Three lines in a row with D(x) ~ 1 and D(G(z)) ~ 0 raise one warning; balance resets it.
  EXPECT_TRUE(m.check_balance(1, 0.999, 0.001).empty());
  EXPECT_TRUE(m.check_balance(2, 0.999, 0.001).empty());
  EXPECT_EQ(m.check_balance(3, 0.999, 0.001).size(), 1u);
  EXPECT_TRUE(m.check_balance(4, 0.999, 0.001).empty());  // reported once per stretch
  EXPECT_TRUE(m.check_balance(5, 0.6, 0.4).empty());
  // Critic losses (wgan, hinge) have no probabilities: no imbalance alarm.
  Monitors critic(o, d, /*probabilistic=*/false);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(critic.check_balance(i, 0.999, 0.001).empty());
}

}  // namespace
}  // namespace gf

namespace gf {
namespace {

// Largest |a - b| beyond a relative bound of 4 float32 ulps (4 * 2^-23 * |b|): a fused update may
// round differently from torch::optim's chain of operations (vector variants differ per CPU), by
// an ulp or two at the parameters' magnitude. A wrong update (bias correction, eps, a beta) is off
// by 1e-4 and more after 100 steps.
double excess_over_ulps(const torch::Tensor& a, const torch::Tensor& b) {
  const double ulps = 4.0 * std::ldexp(1.0, -23);
  return ((a - b).abs().to(torch::kFloat64) - ulps * b.abs().to(torch::kFloat64))
      .max()
      .item<double>();
}

std::vector<torch::Tensor> optimizer_test_params() {
  torch::manual_seed(7);
  return {torch::randn({64, 33}).requires_grad_(), torch::randn({33}).requires_grad_()};
}

// 100 steps of `ref` on `a` beside `fused` on `b` (equal copies), each on `loss` of its own
// parameters; every fused step must take the fused path.
template <typename Fused>
void step_side_by_side(
    std::vector<torch::Tensor>& a, std::vector<torch::Tensor>& b, torch::optim::Optimizer& ref,
    Fused& fused, const std::function<torch::Tensor(const std::vector<torch::Tensor>&)>& loss) {
  for (int step = 0; step < 100; ++step) {
    for (auto* side : {&a, &b}) {
      for (auto& t : *side) t.mutable_grad() = torch::Tensor();
      loss(*side).backward();
    }
    ref.step();
    fused.step();
    ASSERT_TRUE(fused.last_step_fused());
  }
}

// Runs `body` once per fused-loop variant this CPU supports (AVX-512, AVX2, baseline), so a
// variant that only some CPUs pick is tested on every machine that has it.
template <typename Fn>
void for_each_fused_variant(Fn&& body) {
  const std::string before = fused_variant();
  const auto variants = fused_variants_supported();
  ASSERT_FALSE(variants.empty());
  EXPECT_EQ(variants.back(), "baseline");
  for (const auto& v : variants) {
    SCOPED_TRACE("fused variant " + v);
    set_fused_variant(v);
    EXPECT_EQ(fused_variant(), v);
    body();
  }
  set_fused_variant(before);
}

TEST(FusedOptim, UnknownVariantIsAnErrorListingTheValidOnes) {
  EXPECT_NE(test::error_of([] { set_fused_variant("sse9"); }).find("valid:"), std::string::npos);
}

TEST(FusedAdam, MatchesTorchAdamOver100Steps) {
  for_each_fused_variant([] {
    auto a = optimizer_test_params(), b = optimizer_test_params();
    torch::optim::Adam ref(a, torch::optim::AdamOptions(2e-3).betas({0.5, 0.999}));
    FusedAdam fused(b, torch::optim::AdamOptions(2e-3).betas({0.5, 0.999}));
    auto x = torch::randn({16, 64});
    step_side_by_side(a, b, ref, fused, [&](const std::vector<torch::Tensor>& p) {
      return (x.matmul(p[0]) + p[1]).sin().pow(2).mean();
    });
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_LT(excess_over_ulps(b[i], a[i]), 1e-6) << i;
    }
  });
  // Non-float32 parameters take Adam's own path.
  std::vector<torch::Tensor> d = {torch::randn({4}, torch::kFloat64).requires_grad_()};
  FusedAdam fallback(d, torch::optim::AdamOptions(1e-3));
  d[0].sum().backward();
  fallback.step();
  EXPECT_FALSE(fallback.last_step_fused());
}

TEST(FusedRmsprop, MatchesTorchRmspropOver100Steps) {
  for_each_fused_variant([] {
    for (const double momentum : {0.0, 0.9}) {
      auto a = optimizer_test_params(), b = optimizer_test_params();
      const auto options = torch::optim::RMSpropOptions(1e-3).alpha(0.9).momentum(momentum);
      torch::optim::RMSprop ref(a, options);
      FusedRmsprop fused(b, options);
      torch::manual_seed(1);
      auto x = torch::randn({16, 64});
      // Targets far from the start: no gradient crosses zero, where RMSprop's g / sqrt(s) turns
      // last-bit differences into steps of lr (as it would between any two implementations).
      step_side_by_side(a, b, ref, fused, [&](const std::vector<torch::Tensor>& p) {
        return (p[0] - 5 - x.narrow(1, 0, 33).repeat({4, 1})).pow(2).sum() +
               (p[1] + 5).pow(2).sum();
      });
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_LT(excess_over_ulps(b[i], a[i]), 1e-6) << i << " momentum " << momentum;
        // And it moved: the comparison is not between two untouched tensors.
        EXPECT_GT((a[i] - optimizer_test_params()[i]).abs().max().item<double>(), 1e-3);
      }
    }
  });
  // Centered RMSprop takes the original path.
  std::vector<torch::Tensor> c = {torch::randn({4}).requires_grad_()};
  FusedRmsprop centered(c, torch::optim::RMSpropOptions(1e-3).centered(true));
  c[0].sum().backward();
  centered.step();
  EXPECT_FALSE(centered.last_step_fused());
}

TEST(Trainer, Bf16AutocastChangesTheProductsNotTheWeightsType) {
  const Dataset data = load_dataset(tiny_ring({}).data, 0);
  Trainer fp32(tiny_ring({}), data);
  Trainer bf16(tiny_ring({"train.precision=bf16"}), data);
  const StepStats a = fp32.step(), b = bf16.step();
  // Same start, same batch: the losses agree to bf16's precision (8 bits of mantissa) but not
  // exactly, which shows the products ran in bf16.
  EXPECT_NE(a.loss_d, b.loss_d);
  EXPECT_NEAR(a.loss_d, b.loss_d, 0.05);
  EXPECT_NEAR(a.loss_g, b.loss_g, 0.05);
  for (const auto& p : bf16.generator().parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat32);
  // Autocast is off again after the step: a product outside it stays fp32.
  auto x = torch::randn({4, 4});
  EXPECT_EQ(x.matmul(x).scalar_type(), torch::kFloat32);
  EXPECT_NE(test::error_of([] {
              tiny_ring({"train.precision=fp16"}).train.validate();
            }).find("valid: fp32, bf16"),
            std::string::npos);
}

TEST(Allocator, StepsReuseFreedMemoryInsteadOfFaultingItIn) {
  // The seed MLP on MNIST-sized data: with glibc's default malloc settings every step faulted
  // ~1,400 pages in again; keep_freed_memory() (called by main, as ganforge's main does) keeps
  // the freed activations for the next step. Label allocator: it runs in the release build only,
  // since AddressSanitizer brings its own malloc (which faults 6,700 pages a step here).
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "AddressSanitizer replaces glibc's malloc, whose settings this checks";
#endif
  RunConfig c = config_from_json_strict({{"train", {{"batch", 128}, {"steps", 20}}}}, {});
  Dataset data;
  data.name = "synthetic";
  data.x = torch::rand({512, 1, 28, 28}) * 2 - 1;
  c.model.out_shape = data.sample_shape();
  Trainer t(c, data);
  for (int i = 0; i < 3; ++i) t.step();
  auto faults = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
  };
  const long before = faults();
  for (int i = 0; i < 10; ++i) t.step();
  EXPECT_LT((faults() - before) / 10, 100);
}

}  // namespace
}  // namespace gf
