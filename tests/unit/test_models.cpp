#include <gtest/gtest.h>

#include "models/layers.h"
#include "models/registry.h"
#include "test_util.h"

namespace gf {
namespace {

ModelSpec seed_spec() {
  ModelSpec s;
  s.out_shape = {1, 28, 28};
  return s;
}

ModelSpec ring_spec() {
  ModelSpec s;
  s.z_dim = 16;
  s.g_hidden = {128, 128, 128};
  s.d_hidden = {128, 128, 128};
  s.g_out = "linear";
  s.out_shape = {2};
  return s;
}

TEST(Models, ParameterCountsMatchPyTorch) {
  const auto g = test::golden()["parameters"];
  Gan seed = build_gan(seed_spec());
  EXPECT_EQ(parameter_count(*seed.g), g["seed_mnist"]["G"].get<int64_t>());
  EXPECT_EQ(parameter_count(*seed.d), g["seed_mnist"]["D"].get<int64_t>());
  Gan ring = build_gan(ring_spec());
  EXPECT_EQ(parameter_count(*ring.g), g["ring"]["G"].get<int64_t>());
  EXPECT_EQ(parameter_count(*ring.d), g["ring"]["D"].get<int64_t>());
}

TEST(Models, ShapesAndOutputRange) {
  Gan gan = build_gan(seed_spec());
  auto x = gan.g->forward(torch::randn({5, 100}) * 10, {});
  EXPECT_EQ(x.sizes(), (std::vector<int64_t>{5, 1, 28, 28}));
  EXPECT_LE(x.abs().max().item<float>(), 1.0f);  // tanh
  EXPECT_EQ(gan.d->forward(x, {}).logits.sizes(), (std::vector<int64_t>{5}));
  Gan ring = build_gan(ring_spec());
  EXPECT_EQ(ring.g->forward(torch::randn({3, 16}), {}).sizes(), (std::vector<int64_t>{3, 2}));
}

TEST(Models, UnknownArchAndBadSpecsAreErrors) {
  ModelSpec s = seed_spec();
  s.arch = "transformer";
  EXPECT_NE(test::error_of([&] { build_gan(s); }).find("valid: mlp, dcgan"), std::string::npos);
  s = seed_spec();
  s.g_hidden = {};
  EXPECT_NE(test::error_of([&] { build_gan(s); }).find("g_hidden"), std::string::npos);
  s = seed_spec();
  s.out_shape = {};
  EXPECT_NE(test::error_of([&] { build_gan(s); }).find("out_shape"), std::string::npos);
}

int64_t weights_of(const Gan& gan) {
  int64_t n = 0;
  for (const auto& p : gan.g->parameters()) n += p.numel();
  for (const auto& p : gan.d->parameters()) n += p.numel();
  return n;
}

TEST(Models, AbsurdlyLargeSpecsAreRefusedBeforeAnythingIsAllocated) {
  // The estimate follows the real count (biases and norms left out) for every architecture...
  ModelSpec dcgan = seed_spec();
  dcgan.arch = "dcgan";
  ModelSpec resize = dcgan;
  resize.g_upsample = "resize";
  ModelSpec colour = dcgan;
  colour.out_shape = {3, 32, 32};
  ModelSpec resnet = colour;
  resnet.arch = "resnet";
  resnet.g_channels = resnet.d_channels = 32;
  for (const ModelSpec& spec : {seed_spec(), dcgan, resize, colour, resnet}) {
    const double real = static_cast<double>(weights_of(build_gan(spec)));
    EXPECT_GT(spec.weights_estimate(), 0.9 * real) << spec.arch;
    EXPECT_LE(spec.weights_estimate(), real) << spec.arch;
  }
  // ... so a spec of 17 GB (as a 328-byte safetensors file asked for, found by fuzzing) is an
  // error from validate(), not an allocation.
  ModelSpec huge = seed_spec();
  huge.g_hidden = std::vector<int64_t>(16, 16384);
  EXPECT_GT(huge.weights_estimate(), 4e9);
  EXPECT_NE(test::error_of([&] { huge.validate(); }).find("the model is too large"),
            std::string::npos);
  huge = dcgan;
  huge.out_shape = {3, 1024, 1024};
  huge.g_channels = 1024;
  EXPECT_NE(test::error_of([&] { huge.validate(); }).find("the model is too large"),
            std::string::npos);
}

}  // namespace
}  // namespace gf

namespace gf {
namespace {

TEST(Models, DcganShapesAndParameterCountsMatchPyTorch) {
  const auto g = test::golden()["dcgan"];
  for (auto [size, channels] :
       std::vector<std::pair<int64_t, int64_t>>{{28, 1}, {32, 3}, {64, 3}}) {
    ModelSpec s;
    s.arch = "dcgan";
    s.out_shape = {channels, size, size};
    s.slope = 0.2;
    Gan gan = build_gan(s);
    const auto want = g[std::to_string(size)];
    EXPECT_EQ(parameter_count(*gan.g), want["G"].get<int64_t>()) << size;
    EXPECT_EQ(parameter_count(*gan.d), want["D"].get<int64_t>()) << size;
    auto x = gan.g->forward(torch::randn({2, 100}), {});
    EXPECT_EQ(x.sizes(), (std::vector<int64_t>{2, channels, size, size}));
    EXPECT_EQ(gan.d->forward(x, {}).logits.sizes(), (std::vector<int64_t>{2}));
  }
  ModelSpec bad;
  bad.arch = "dcgan";
  bad.out_shape = {1, 30, 30};
  EXPECT_NE(test::error_of([&] { build_gan(bad); }).find("4*2^k or 7*2^k"), std::string::npos);
}

TEST(Models, ConditionalVariantsUseTheLabels) {
  for (const std::string arch : {"mlp", "dcgan"}) {
    for (const std::string mode : {"cgan", "acgan", "projection"}) {
      ModelSpec s;
      s.arch = arch;
      s.out_shape = {1, 28, 28};
      s.conditional = mode;
      s.num_classes = 10;
      torch::manual_seed(0);
      Gan gan = build_gan(s);
      gan.g->eval();
      gan.d->eval();
      auto z = torch::randn({4, 100}).repeat({2, 1});
      auto y = torch::tensor({0, 1, 2, 3, 4, 5, 6, 7}, torch::kInt64);
      auto x = gan.g->forward(z, y);
      // Same latent, other label: another image.
      EXPECT_GT((x.narrow(0, 0, 4) - x.narrow(0, 4, 4)).abs().max().item<float>(), 1e-4)
          << arch << "/" << mode;
      auto out = gan.d->forward(x, y);
      EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{8}));
      EXPECT_EQ(out.class_logits.defined(), mode == "acgan");
      if (mode != "acgan") {
        auto other = gan.d->forward(x, (y + 1).remainder(10)).logits;
        EXPECT_GT((other - out.logits).abs().max().item<float>(), 1e-6) << arch << "/" << mode;
      } else {
        EXPECT_EQ(out.class_logits.sizes(), (std::vector<int64_t>{8, 10}));
      }
    }
  }
  ModelSpec s;
  s.out_shape = {2};
  s.conditional = "cgan";
  EXPECT_NE(test::error_of([&] { build_gan(s); }).find("labelled data"), std::string::npos);
}

TEST(Models, MinibatchStddevMatchesStyleGan2) {
  // Held in a variable: a range-for over golden(...)["mbstd"] would iterate a member of a
  // temporary that is gone before the first iteration (found by AddressSanitizer).
  const nlohmann::json layers = test::golden("layers.json");
  for (const auto& c : layers["mbstd"]) {
    const int64_t n = c["n"].get<int64_t>();
    auto x = torch::tensor(c["input"].get<std::vector<float>>()).reshape({n, 3, 2, 2});
    auto want = torch::tensor(c["output"].get<std::vector<float>>()).reshape({n, 4, 2, 2});
    auto got = minibatch_stddev(x, c["group"].get<int64_t>());
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_LT((got - want).abs().max().item<double>(), 1e-6) << "n " << n;
  }
  // [N, F] features get one more feature.
  EXPECT_EQ(minibatch_stddev(torch::randn({8, 5}), 4).sizes(), (std::vector<int64_t>{8, 6}));
}

TEST(Models, MinibatchStddevWidensTheHeadByOneChannel) {
  ModelSpec s;
  s.arch = "dcgan";
  s.out_shape = {1, 28, 28};
  const int64_t plain = parameter_count(*build_gan(s).d);
  s.d_mbstd = 4;
  Gan gan = build_gan(s);
  EXPECT_EQ(parameter_count(*gan.d), plain + 7 * 7) << "the head's weights for one 7x7 map";
  EXPECT_EQ(gan.d->forward(torch::randn({8, 1, 28, 28}), {}).logits.sizes(),
            (std::vector<int64_t>{8}));
  s.arch = "mlp";
  s.d_mbstd = 0;
  const int64_t mlp_plain = parameter_count(*build_gan(s).d);
  s.d_mbstd = 2;
  EXPECT_EQ(parameter_count(*build_gan(s).d), mlp_plain + 1);
  s.arch = "resnet";
  EXPECT_NE(test::error_of([&] { build_gan(s); }).find("model.d_mbstd"), std::string::npos);
}

}  // namespace
}  // namespace gf
