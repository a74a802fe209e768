#include "eval/metrics.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "core/error.h"

namespace gf {
namespace {

torch::Tensor sym_sqrt(const torch::Tensor& a) {
  auto [evals, evecs] = torch::linalg_eigh(0.5 * (a + a.t()));
  return evecs.matmul(torch::diag(evals.clamp_min(0).sqrt())).matmul(evecs.t());
}

// k-th nearest-neighbour distance of every row of x among the rows of x (itself excluded).
torch::Tensor knn_radii(const torch::Tensor& x, int64_t k) {
  auto d = torch::cdist(x, x);
  // The smallest value of each row is the point itself (0): take the (k+1)-th smallest.
  return std::get<0>(d.topk(k + 1, 1, /*largest=*/false)).select(1, k);
}

}  // namespace

void feature_stats(const torch::Tensor& f, torch::Tensor& mu, torch::Tensor& sigma) {
  GF_CHECK(f.dim() == 2 && f.size(0) >= 2, "feature statistics need at least 2 samples");
  auto x = f.to(torch::kFloat64);
  mu = x.mean(0);
  auto c = x - mu;
  sigma = c.t().matmul(c) / static_cast<double>(x.size(0) - 1);
}

double fid_from_stats(const torch::Tensor& mu1, const torch::Tensor& s1, const torch::Tensor& mu2,
                      const torch::Tensor& s2) {
  auto r1 = sym_sqrt(s1);
  auto covmean = sym_sqrt(r1.matmul(s2).matmul(r1));
  const double v = (mu1 - mu2).pow(2).sum().item<double>() +
                   (s1.trace() + s2.trace() - 2.0 * covmean.trace()).item<double>();
  return std::max(0.0, v);
}

double fid(const torch::Tensor& f1, const torch::Tensor& f2) {
  torch::Tensor m1, s1, m2, s2;
  feature_stats(f1, m1, s1);
  feature_stats(f2, m2, s2);
  return fid_from_stats(m1, s1, m2, s2);
}

Kid kid(const torch::Tensor& f1, const torch::Tensor& f2, int64_t subsets, int64_t subset_size,
        uint64_t seed) {
  auto x = f1.to(torch::kFloat64), y = f2.to(torch::kFloat64);
  const int64_t m = std::min({subset_size, x.size(0), y.size(0)});
  GF_CHECK(m >= 2, "KID needs at least 2 samples per set");
  const double d = static_cast<double>(x.size(1));
  auto gen = at::detail::createCPUGenerator(seed);
  std::vector<double> values;
  for (int64_t s = 0; s < subsets; ++s) {
    auto a = x.index_select(0, torch::randperm(x.size(0), gen, torch::kInt64).narrow(0, 0, m));
    auto b = y.index_select(0, torch::randperm(y.size(0), gen, torch::kInt64).narrow(0, 0, m));
    auto kxx = (a.matmul(a.t()) / d + 1).pow(3);
    auto kyy = (b.matmul(b.t()) / d + 1).pow(3);
    auto kxy = (a.matmul(b.t()) / d + 1).pow(3);
    const double mm = static_cast<double>(m);
    // Unbiased MMD^2 (Gretton et al. 2012, eq. 3): drop the diagonals of k(x, x) and k(y, y).
    const double v = ((kxx.sum() - kxx.diagonal().sum()) / (mm * (mm - 1)) +
                      (kyy.sum() - kyy.diagonal().sum()) / (mm * (mm - 1)) - 2.0 * kxy.mean())
                         .item<double>();
    values.push_back(v);
  }
  auto t = torch::tensor(values, torch::kFloat64);
  return {t.mean().item<double>(), values.size() > 1 ? t.std().item<double>() : 0.0};
}

InceptionScore inception_score(const torch::Tensor& probs, int64_t splits) {
  auto p = probs.to(torch::kFloat64);
  const int64_t n = p.size(0);
  GF_CHECK(n >= splits && splits >= 1, "IS needs at least one sample per split");
  std::vector<double> scores;
  for (int64_t s = 0; s < splits; ++s) {
    const int64_t a = s * n / splits, b = (s + 1) * n / splits;
    auto part = p.narrow(0, a, b - a);
    auto py = part.mean(0, true);
    auto kl = (part * ((part + 1e-12).log() - (py + 1e-12).log())).sum(1).mean();
    scores.push_back(std::exp(kl.item<double>()));
  }
  auto t = torch::tensor(scores, torch::kFloat64);
  return {t.mean().item<double>(),
          scores.size() > 1 ? t.std(/*unbiased=*/false).item<double>() : 0.0};
}

Prdc prdc(const torch::Tensor& real_in, const torch::Tensor& fake_in, int64_t k_pr, int64_t k_dc) {
  auto real = real_in.to(torch::kFloat64), fake = fake_in.to(torch::kFloat64);
  GF_CHECK(real.size(0) > std::max(k_pr, k_dc) && fake.size(0) > std::max(k_pr, k_dc),
           "precision/recall need more samples than k");
  auto d_rf = torch::cdist(real, fake);  // [R, F]
  Prdc out;
  auto real_r_pr = knn_radii(real, k_pr), fake_r_pr = knn_radii(fake, k_pr);
  // Precision: share of fakes inside some real k-NN ball; recall: reals inside some fake ball.
  out.precision = d_rf.le(real_r_pr.unsqueeze(1)).any(0).to(torch::kFloat64).mean().item<double>();
  out.recall = d_rf.le(fake_r_pr.unsqueeze(0)).any(1).to(torch::kFloat64).mean().item<double>();
  auto real_r_dc = knn_radii(real, k_dc);
  auto inside = d_rf.le(real_r_dc.unsqueeze(1));  // [R, F]: fake j in real i's ball
  out.density = inside.to(torch::kFloat64).sum().item<double>() /
                (static_cast<double>(k_dc) * static_cast<double>(fake.size(0)));
  // Coverage: share of reals whose nearest fake lies within the real's own k-NN radius.
  out.coverage = std::get<0>(d_rf.min(1)).le(real_r_dc).to(torch::kFloat64).mean().item<double>();
  return out;
}

ClassStats class_stats(const torch::Tensor& fake_probs, const torch::Tensor& real_probs,
                       double min_share) {
  const int64_t classes = fake_probs.size(1);
  auto hist = torch::bincount(fake_probs.argmax(1), {}, classes).to(torch::kFloat64);
  hist = hist / hist.sum();
  auto real_hist = torch::bincount(real_probs.argmax(1), {}, classes).to(torch::kFloat64);
  real_hist = real_hist / real_hist.sum();
  ClassStats s;
  s.histogram.assign(hist.data_ptr<double>(), hist.data_ptr<double>() + classes);
  s.covered = hist.gt(min_share).sum().item<int64_t>();
  auto terms = hist * ((hist + 1e-12).log() - (real_hist + 1e-12).log());
  s.kl = terms.sum().item<double>();
  return s;
}

}  // namespace gf
