#include "train/monitors.h"

#include <ATen/CPUGeneratorImpl.h>

#include "core/error.h"
#include "core/rng.h"

namespace gf {

double mean_pairwise_distance(const torch::Tensor& samples) {
  GF_CHECK(samples.size(0) >= 2, "diversity needs at least two samples");
  auto x = samples.to(torch::kCPU, torch::kFloat64).flatten(1);
  return torch::pdist(x).mean().item<double>();
}

Monitors::Monitors(const MonitorOptions& options, const Dataset& data, bool probabilistic,
                   int64_t reference_n)
    : options_(options), probabilistic_(probabilistic) {
  const int64_t n = std::min(reference_n, data.size());
  if (n >= 2) {
    auto gen = at::detail::createCPUGenerator(mix(0x5eed, 0xd1));
    auto idx = torch::randperm(data.size(), gen, torch::kInt64).narrow(0, 0, n);
    real_distance_ = mean_pairwise_distance(data.x.index_select(0, idx));
  }
}

double Monitors::diversity(const torch::Tensor& samples) const {
  return mean_pairwise_distance(samples) / std::max(real_distance_, 1e-12);
}

std::vector<std::string> Monitors::check_diversity(int64_t step, double diversity) {
  if (diversity >= options_.diversity_min) return {};
  return {
      concat("mode collapse? at step ", step, " the fixed-latent samples' diversity is ", diversity,
             " of real data's (threshold monitor.diversity_min = ", options_.diversity_min, ")")};
}

std::vector<std::string> Monitors::check_balance(int64_t step, double d_real, double d_fake) {
  if (!probabilistic_) return {};
  const double eps = options_.imbalance_eps;
  if (d_real > 1.0 - eps && d_fake < eps) {
    ++imbalanced_lines_;
  } else {
    imbalanced_lines_ = 0;
    imbalance_reported_ = false;
  }
  if (imbalanced_lines_ < options_.imbalance_lines || imbalance_reported_) return {};
  imbalance_reported_ = true;
  return {concat("D/G imbalance at step ", step, ": D(x) > ", 1.0 - eps, " and D(G(z)) < ", eps,
                 " for ", imbalanced_lines_,
                 " logged lines in a row; D is winning and G's gradients vanish")};
}

}  // namespace gf
