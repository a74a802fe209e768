// Losses and regularisers against golden values from python3-torch: the value and the gradients
// of D's parameters on a tiny discriminator with fixed weights (tests/golden/make_golden.py).
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include "models/layers.h"
#include "models/registry.h"
#include "test_util.h"
#include "train/losses.h"
#include "train/regularizers.h"

namespace gf {
namespace {

using test::matrix_f64;
using test::vector_f64;

struct Tiny {
  ModelSpec spec;
  Gan gan;
  torch::Tensor real, fake;
};

// The golden 2 -> 3 -> 1 LeakyReLU(0.2) discriminator, as ganforge's MLP D, in float64.
Tiny tiny(const nlohmann::json& g) {
  Tiny t;
  t.spec.d_hidden = {3};
  t.spec.g_hidden = {3};
  t.spec.slope = 0.2;
  t.spec.z_dim = 2;
  t.spec.g_out = "linear";
  t.spec.out_shape = {2};
  t.gan = build_gan(t.spec);
  t.gan.d->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  auto p = t.gan.d->named_parameters();
  p["net.0.weight"].copy_(matrix_f64(g["W1"]));
  p["net.0.bias"].copy_(vector_f64(g["B1"]));
  p["head.out.weight"].copy_(matrix_f64(g["W2"]));
  p["head.out.bias"].copy_(vector_f64(g["B2"]));
  t.real = matrix_f64(g["x_real"]);
  t.fake = matrix_f64(g["x_fake"]);
  return t;
}

void expect_value_and_grads(Discriminator& d, const torch::Tensor& value,
                            const nlohmann::json& want, const std::string& what) {
  d.zero_grad();
  value.backward();
  EXPECT_NEAR(value.item<double>(), want["value"].get<double>(), 1e-10) << what;
  for (auto& p : d.named_parameters()) {
    auto grad = p.value().grad().defined() ? p.value().grad().flatten()
                                           : torch::zeros({p.value().numel()}, torch::kFloat64);
    auto expected = vector_f64(want["grads"][p.key()]);
    EXPECT_TRUE(torch::allclose(grad, expected, 1e-9, 1e-10))
        << what << " " << p.key() << ": " << grad << " vs " << expected;
  }
}

TEST(Losses, DiscriminatorLossesAndGradientsMatchPyTorch) {
  const auto g = test::golden()["losses"];
  const std::vector<std::pair<std::string, LossOptions>> cases = {
      {"bce", {"bce", "nonsaturating", 0.0}},
      {"bce_smooth", {"bce", "nonsaturating", 0.1}},
      {"lsgan", {"lsgan", "nonsaturating", 0.0}},
      {"wgan", {"wgan", "nonsaturating", 0.0}},
      {"hinge", {"hinge", "nonsaturating", 0.0}}};
  for (const auto& [name, options] : cases) {
    Tiny t = tiny(g);
    auto loss = make_loss(options);
    auto value =
        loss->d_loss(t.gan.d->forward(t.real, {}).logits, t.gan.d->forward(t.fake, {}).logits);
    expect_value_and_grads(*t.gan.d, value, g["d"][name], name);
  }
}

TEST(Losses, GeneratorLossesMatchPyTorch) {
  const auto g = test::golden()["losses"];
  const std::vector<std::pair<std::string, LossOptions>> cases = {
      {"bce", {"bce", "nonsaturating"}},
      {"bce_minimax", {"bce", "minimax"}},
      {"lsgan", {"lsgan"}},
      {"wgan", {"wgan-gp"}},
      {"hinge", {"hinge"}}};
  for (const auto& [name, options] : cases) {
    Tiny t = tiny(g);
    auto value = make_loss(options)->g_loss(t.gan.d->forward(t.fake, {}).logits);
    EXPECT_NEAR(value.item<double>(), g["g"][name].get<double>(), 1e-10) << name;
  }
}

TEST(Losses, BceMatchesPyTorchOnExtremeLogits) {
  const auto g = test::golden()["bce"];
  auto real = vector_f64(g["real_logits"]);
  auto fake = vector_f64(g["fake_logits"]);
  auto ns = make_loss({"bce", "nonsaturating"});
  EXPECT_NEAR(ns->d_loss(real, fake).item<double>(), g["d_loss"].get<double>(), 1e-12);
  EXPECT_NEAR(ns->g_loss(fake).item<double>(), g["g_nonsaturating"].get<double>(), 1e-12);
  EXPECT_NEAR(make_loss({"bce", "minimax"})->g_loss(fake).item<double>(),
              g["g_minimax"].get<double>(), 1e-12);
  auto big = torch::tensor({1e4, -1e4}, torch::kFloat32);
  EXPECT_TRUE(std::isfinite(ns->d_loss(big, big).item<float>()));
  EXPECT_TRUE(std::isfinite(ns->g_loss(big).item<float>()));
}

TEST(Regularizers, R1MatchesPyTorch) {
  const auto g = test::golden()["losses"];
  Tiny t = tiny(g);
  auto x = t.real.clone().requires_grad_(true);
  auto value = r1_penalty(t.gan.d->forward(x, {}).logits, x);
  expect_value_and_grads(*t.gan.d, value, g["d"]["r1"], "r1");
}

TEST(Regularizers, GradientPenaltyMatchesPyTorch) {
  const auto g = test::golden()["losses"];
  Tiny t = tiny(g);
  auto value = gradient_penalty(*t.gan.d, t.real, t.fake, {}, vector_f64(g["eps"]));
  expect_value_and_grads(*t.gan.d, value, g["d"]["gp"], "gp");
}

TEST(Regularizers, SpectralNormMatchesPyTorch) {
  const auto g = test::golden()["spectral_norm"];
  auto w = matrix_f64(g["w"]).to(torch::kFloat32);
  auto u = vector_f64(g["u0"]).to(torch::kFloat32);
  auto v = torch::zeros({4});
  torch::Tensor normalized;
  for (int i = 0; i < g["iterations"].get<int>(); ++i)
    normalized = spectral_normalize(w, u, v, true);
  const double sigma = (w / normalized).mean().item<double>();
  EXPECT_NEAR(sigma, g["sigma"].get<double>(), 1e-5);
  // Without updates the estimate stays put; with many it converges to the true norm.
  auto again = spectral_normalize(w, u, v, false);
  EXPECT_TRUE(torch::allclose(again, normalized));
  for (int i = 0; i < 50; ++i) normalized = spectral_normalize(w, u, v, true);
  EXPECT_NEAR((w / normalized).mean().item<double>(), g["true_sigma"].get<double>(), 1e-4);
}

TEST(Regularizers, DiffAugmentKeepsShapesAndIsSeeded) {
  auto x = torch::randn({6, 1, 28, 28});
  auto g1 = at::detail::createCPUGenerator(1), g2 = at::detail::createCPUGenerator(1);
  auto a = diff_augment(x, "translation,cutout", g1);
  auto b = diff_augment(x, "translation,cutout", g2);
  EXPECT_EQ(a.sizes(), x.sizes());
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, x));
  // Cutout zeroes a 14x14 square (clipped at the border): at least 7x7 zeros per image.
  auto c = diff_augment(torch::ones({8, 1, 28, 28}), "cutout", g1);
  for (int64_t i = 0; i < 8; ++i) EXPECT_GE((c[i] == 0).sum().item<int64_t>(), 49);
  EXPECT_TRUE(torch::equal(diff_augment(x, "none", g1), x));
  EXPECT_NE(test::error_of([] {
              check_augment("translation,flip");
            }).find("valid: color, translation, cutout"),
            std::string::npos);
  // Gradients flow through the augmentation to the generator's output.
  auto y = x.clone().requires_grad_(true);
  diff_augment(y, "translation,cutout", g1).sum().backward();
  EXPECT_GT(y.grad().abs().sum().item<float>(), 0.0f);
}

TEST(Regularizers, DiffAugmentColorMatchesDiffAugmentsCode) {
  const auto g = test::golden("augment.json")["color"];
  auto x =
      torch::arange(4 * 3 * 5 * 5, torch::kFloat32).reshape({4, 3, 5, 5}).remainder(17) / 8.0 - 1.0;
  auto gen = at::detail::createCPUGenerator(g["seed"].get<uint64_t>());
  auto y = diff_augment(x, "color", gen).flatten();
  const auto want = g["output"].get<std::vector<double>>();
  ASSERT_EQ(y.numel(), static_cast<int64_t>(want.size()));
  for (int64_t i = 0; i < y.numel(); ++i) EXPECT_NEAR(y[i].item<double>(), want[i], 1e-5) << i;
}

TEST(Regularizers, LecamPenaltyAndRunningMeans) {
  // relu([1, -1, 3] + 1)^2 = [4, 0, 16], mean 20/3; relu(0.5 - [0, -2])^2 = [0.25, 6.25],
  // mean 3.25.
  auto p =
      lecam_penalty(torch::tensor({1.0f, -1.0f, 3.0f}), torch::tensor({0.0f, -2.0f}), 0.5, -1.0);
  EXPECT_NEAR(p.item<double>(), 20.0 / 3 + 3.25, 1e-6);
  LecamEma ema;
  ema.update(2.0, -4.0);  // the first value is taken as it is
  EXPECT_DOUBLE_EQ(ema.real, 2.0);
  EXPECT_DOUBLE_EQ(ema.fake, -4.0);
  ema.update(12.0, 6.0);
  EXPECT_DOUBLE_EQ(ema.real, 0.99 * 2 + 0.01 * 12);
  EXPECT_DOUBLE_EQ(ema.fake, 0.99 * -4 + 0.01 * 6);
}

TEST(Losses, UnknownNamesAreErrors) {
  EXPECT_NE(test::error_of([] {
              make_loss({"wgan-xx", "nonsaturating"});
            }).find("valid: bce, lsgan, wgan, wgan-gp, hinge"),
            std::string::npos);
  EXPECT_NE(test::error_of([] {
              make_loss({"bce", "other"});
            }).find("nonsaturating, minimax"),
            std::string::npos);
}

}  // namespace
}  // namespace gf
