// Sample-quality metrics: invariants, closed forms, and agreement with an independent
// python3-torch reference on the same features (tests/golden/make_metrics_golden.py).
#include <gtest/gtest.h>

#include "eval/metrics.h"
#include "test_util.h"

namespace gf {
namespace {

using test::matrix_f64;

TEST(Metrics, AgreeWithPyTorchReference) {
  const auto g = test::golden("metrics.json");
  auto real = matrix_f64(g["real"]), fake = matrix_f64(g["fake"]), probs = matrix_f64(g["probs"]);
  EXPECT_NEAR(fid(real, fake), g["fid"].get<double>(), 1e-6);
  // One subset covering both sets: no sampling, the unbiased MMD^2 of the full sets.
  EXPECT_NEAR(kid(real.narrow(0, 0, 180), fake, 1, 1000).mean, g["kid_full"].get<double>(), 1e-9);
  EXPECT_NEAR(inception_score(probs, 1).mean, g["is_1"].get<double>(), 1e-5);
  const InceptionScore is10 = inception_score(probs, 10);
  EXPECT_NEAR(is10.mean, g["is_10"][0].get<double>(), 1e-5);
  EXPECT_NEAR(is10.std, g["is_10"][1].get<double>(), 1e-5);
  // PRDC are step functions of neighbour distances against k-NN radii: they agree exactly
  // between two correct implementations unless a distance sits within rounding of a radius, so
  // first check that none of these features is within 1e-9 of a tie (a property of the data:
  // any CPU's float64 distances are within ~1e-15 of each other).
  const auto r = real.narrow(0, 0, 180), f = fake.narrow(0, 0, 180);
  auto kth = [](const torch::Tensor& x, int64_t k) {
    return std::get<0>(torch::cdist(x, x).sort(1)).select(1, k);
  };
  const auto d = torch::cdist(r, f);
  const double margin = torch::stack({(d - kth(r, 3).unsqueeze(1)).abs().min(),
                                      (d - kth(f, 3).unsqueeze(0)).abs().min(),
                                      (d - kth(r, 5).unsqueeze(1)).abs().min(),
                                      (std::get<0>(d.min(1)) - kth(r, 5)).abs().min()})
                            .min()
                            .item<double>();
  ASSERT_GT(margin, 1e-9) << "the golden features have a near-tie: PRDC would depend on rounding";
  const Prdc p = prdc(r, f);
  EXPECT_NEAR(p.precision, g["prdc"]["precision"].get<double>(), 1e-12);
  EXPECT_NEAR(p.recall, g["prdc"]["recall"].get<double>(), 1e-12);
  EXPECT_NEAR(p.density, g["prdc"]["density"].get<double>(), 1e-12);
  EXPECT_NEAR(p.coverage, g["prdc"]["coverage"].get<double>(), 1e-12);
}

TEST(Metrics, FidInvariantsAndClosedForm) {
  torch::manual_seed(0);
  auto x = torch::randn({300, 16}, torch::kFloat64);
  EXPECT_NEAR(fid(x, x), 0.0, 1e-6);
  // Two Gaussians with diagonal covariances: |mu1 - mu2|^2 + sum (s1 + s2 - 2 sqrt(s1 s2)).
  auto mu1 = torch::zeros({4}, torch::kFloat64), mu2 = torch::full({4}, 0.5, torch::kFloat64);
  auto v1 = torch::tensor({1.0, 2.0, 0.5, 4.0}, torch::kFloat64);
  auto v2 = torch::tensor({2.0, 2.0, 1.5, 1.0}, torch::kFloat64);
  const double expected = 4 * 0.25 + (v1 + v2 - 2 * (v1 * v2).sqrt()).sum().item<double>();
  EXPECT_NEAR(fid_from_stats(mu1, torch::diag(v1), mu2, torch::diag(v2)), expected, 1e-9);
  // A rotation of both covariances leaves FID unchanged.
  auto q = std::get<0>(torch::linalg_qr(torch::randn({4, 4}, torch::kFloat64)));
  EXPECT_NEAR(fid_from_stats(mu1, q.matmul(torch::diag(v1)).matmul(q.t()), mu2,
                             q.matmul(torch::diag(v2)).matmul(q.t())),
              expected, 1e-9);
}

TEST(Metrics, KidNearZeroForOneDistributionAndPositiveForShifted) {
  torch::manual_seed(1);
  auto a = torch::randn({1500, 8}, torch::kFloat64), b = torch::randn({1500, 8}, torch::kFloat64);
  const Kid same = kid(a, b, 20, 500);
  EXPECT_LT(std::abs(same.mean), 3 * same.std + 1e-3);
  const Kid shifted = kid(a, b + 0.5, 20, 500);
  EXPECT_GT(shifted.mean, 10 * std::abs(same.mean) + 5 * shifted.std);
}

TEST(Metrics, InceptionScoreExtremes) {
  auto uniform = torch::eye(10, torch::kFloat64).repeat({100, 1});  // confident, all classes
  EXPECT_NEAR(inception_score(uniform).mean, 10.0, 1e-6);
  auto single = torch::zeros({1000, 10}, torch::kFloat64);
  single.select(1, 3).fill_(1.0);
  EXPECT_NEAR(inception_score(single).mean, 1.0, 1e-6);
}

TEST(Metrics, PrecisionRecallDensityCoverage) {
  torch::manual_seed(2);
  const int64_t n = 500, k = 5;
  auto real = torch::randn({n, 6}, torch::kFloat64), fake = torch::randn({n, 6}, torch::kFloat64);
  const Prdc same = prdc(real, fake);
  // Naeem et al. 2020, eq. 6: E[coverage] = 1 - prod_{i=1..k} (N - i) / (N + M - i).
  double prod = 1;
  for (int64_t i = 1; i <= k; ++i) prod *= double(n - i) / double(2 * n - i);
  EXPECT_NEAR(same.coverage, 1 - prod, 0.03);
  EXPECT_NEAR(same.density, 1.0, 0.15);
  EXPECT_GT(same.precision, 0.6);
  EXPECT_GT(same.recall, 0.6);
  const Prdc apart = prdc(real, fake + 20.0);
  EXPECT_EQ(apart.precision, 0.0);
  EXPECT_EQ(apart.recall, 0.0);
  EXPECT_EQ(apart.density, 0.0);
  EXPECT_EQ(apart.coverage, 0.0);
}

TEST(Metrics, ClassStatsCountCollapse) {
  auto real = torch::eye(10, torch::kFloat64).repeat({10, 1});
  auto collapsed = torch::zeros({100, 10}, torch::kFloat64);
  collapsed.select(1, 4).fill_(1);
  const ClassStats c = class_stats(collapsed, real);
  EXPECT_EQ(c.covered, 1);
  EXPECT_NEAR(c.kl, std::log(10.0), 1e-6);
  EXPECT_EQ(class_stats(real, real).covered, 10);
  EXPECT_NEAR(class_stats(real, real).kl, 0.0, 1e-9);
}

}  // namespace
}  // namespace gf
