// Sample-quality metrics on evaluator features (float64). Each cites its definition.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gf {

// FID (Heusel et al. 2017): |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2), in float64,
// with the symmetric matrix square root from an eigendecomposition.
double fid_from_stats(const torch::Tensor& mu1, const torch::Tensor& s1, const torch::Tensor& mu2,
                      const torch::Tensor& s2);
double fid(const torch::Tensor& f1, const torch::Tensor& f2);
// Mean and (unbiased) covariance of features [N, D].
void feature_stats(const torch::Tensor& f, torch::Tensor& mu, torch::Tensor& sigma);

// KID (Bińkowski et al. 2018): unbiased MMD^2 with the cubic kernel k(x, y) = (x.y / d + 1)^3,
// averaged over `subsets` random subsets of `subset_size` (clamped to the sample sizes).
struct Kid {
  double mean = 0, std = 0;
};
Kid kid(const torch::Tensor& f1, const torch::Tensor& f2, int64_t subsets = 100,
        int64_t subset_size = 1000, uint64_t seed = 0);

// Inception Score (Salimans et al. 2016) with the evaluator's softmax: exp(E_x KL(p(y|x) || p(y)))
// over `splits` consecutive splits; mean and std.
struct InceptionScore {
  double mean = 0, std = 0;
};
InceptionScore inception_score(const torch::Tensor& probs, int64_t splits = 10);

// Precision and recall (Kynkäänniemi et al. 2019, k = 3); density and coverage (Naeem et al.
// 2020, k = 5). Real k-NN radii exclude the point itself.
struct Prdc {
  double precision = 0, recall = 0, density = 0, coverage = 0;
};
Prdc prdc(const torch::Tensor& real, const torch::Tensor& fake, int64_t k_pr = 3, int64_t k_dc = 5);

// Predicted-class histogram of generated samples, classes covered (share above `min_share`) and
// KL(generated || real) of the class distributions.
struct ClassStats {
  std::vector<double> histogram;
  int64_t covered = 0;
  double kl = 0;
};
ClassStats class_stats(const torch::Tensor& fake_probs, const torch::Tensor& real_probs,
                       double min_share = 0.02);

}  // namespace gf
