// Training monitors: a mode-collapse alarm from the diversity of the fixed-latent samples, and a
// D/G imbalance alarm from D(x) and D(G(z)). They return warnings that the run loop logs and
// records in metrics.jsonl with the step.
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

#include "data/dataset.h"
#include "train/config.h"

namespace gf {

// Mean pairwise L2 distance between the samples (flattened).
double mean_pairwise_distance(const torch::Tensor& samples);

class Monitors {
 public:
  // `probabilistic`: D's outputs are probability logits (bce, lsgan), so the imbalance alarm
  // applies. The real reference is the mean pairwise distance of `reference_n` real samples.
  Monitors(const MonitorOptions& options, const Dataset& data, bool probabilistic,
           int64_t reference_n = 64);

  // Diversity of generated samples relative to real data (1: as diverse as real data).
  double diversity(const torch::Tensor& samples) const;
  std::vector<std::string> check_diversity(int64_t step, double diversity);
  std::vector<std::string> check_balance(int64_t step, double d_real, double d_fake);

 private:
  MonitorOptions options_;
  bool probabilistic_;
  double real_distance_ = 1.0;
  int64_t imbalanced_lines_ = 0;
  bool imbalance_reported_ = false;
};

}  // namespace gf
