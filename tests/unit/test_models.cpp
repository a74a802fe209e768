#include <gtest/gtest.h>

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
  auto x = gan.g->forward(torch::randn({5, 100}) * 10);
  EXPECT_EQ(x.sizes(), (std::vector<int64_t>{5, 1, 28, 28}));
  EXPECT_LE(x.abs().max().item<float>(), 1.0f);  // tanh
  EXPECT_EQ(gan.d->forward(x).sizes(), (std::vector<int64_t>{5}));
  Gan ring = build_gan(ring_spec());
  EXPECT_EQ(ring.g->forward(torch::randn({3, 16})).sizes(), (std::vector<int64_t>{3, 2}));
}

TEST(Models, UnknownArchAndBadSpecsAreErrors) {
  ModelSpec s = seed_spec();
  s.arch = "transformer";
  EXPECT_NE(test::error_of([&] { build_gan(s); }).find("valid: mlp"), std::string::npos);
  s = seed_spec();
  s.g_hidden = {};
  EXPECT_NE(test::error_of([&] { build_gan(s); }).find("g_hidden"), std::string::npos);
  s = seed_spec();
  s.out_shape = {};
  EXPECT_NE(test::error_of([&] { build_gan(s); }).find("out_shape"), std::string::npos);
}

}  // namespace
}  // namespace gf
