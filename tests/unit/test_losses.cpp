#include <gtest/gtest.h>

#include "test_util.h"
#include "train/losses.h"

namespace gf {
namespace {

TEST(Losses, BceMatchesPyTorch) {
  const auto g = test::golden()["bce"];
  auto real = torch::tensor(g["real_logits"].get<std::vector<double>>(), torch::kFloat64);
  auto fake = torch::tensor(g["fake_logits"].get<std::vector<double>>(), torch::kFloat64);
  auto ns = make_loss("bce", "nonsaturating");
  auto mm = make_loss("bce", "minimax");
  EXPECT_NEAR(ns->d_loss(real, fake).item<double>(), g["d_loss"].get<double>(), 1e-12);
  EXPECT_NEAR(ns->g_loss(fake).item<double>(), g["g_nonsaturating"].get<double>(), 1e-12);
  EXPECT_NEAR(mm->g_loss(fake).item<double>(), g["g_minimax"].get<double>(), 1e-12);
}

TEST(Losses, StableForExtremeLogits) {
  auto ns = make_loss("bce", "nonsaturating");
  auto big = torch::tensor({1e4, -1e4}, torch::kFloat32);
  EXPECT_TRUE(std::isfinite(ns->d_loss(big, big).item<float>()));
  EXPECT_TRUE(std::isfinite(ns->g_loss(big).item<float>()));
}

TEST(Losses, UnknownNamesAreErrors) {
  EXPECT_NE(test::error_of([] { make_loss("wgan-xx", "nonsaturating"); }).find("valid: bce"),
            std::string::npos);
  EXPECT_NE(test::error_of([] { make_loss("bce", "other"); }).find("nonsaturating, minimax"),
            std::string::npos);
}

}  // namespace
}  // namespace gf
