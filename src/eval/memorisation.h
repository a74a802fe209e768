// Memorisation check: does a generator hand back its training images? Each generated sample's
// distance to its nearest training image is compared with how close genuinely new images of the
// same distribution (the held-out test split) come to the training set, as in the data-copying
// test of Meehan et al. 2020 (AISTATS): a sample nearer to a training image than almost any test
// image is (below the 1st percentile of test-to-train nearest distances) is a likely copy.
//
// Space: pixels (L2 over every value of an image in [-1, 1]). Measured on MNIST, training images
// with Gaussian noise of sigma 0.1 added sit below the threshold in pixels (100 %) but mostly not
// in the label-free CNN space (32 %), whose pooling blurs the detail that makes a copy a copy;
// pixel distances also need no feature design and read directly in the closest-pairs picture.
// Like any L2 test it misses copies shifted by a pixel or mirrored.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace gf {

// For every row of `queries` [Q, ...], its nearest row of `pool` [P, ...] (rows flattened, L2):
// distances float64 [Q] and indices int64 [Q]. Searched in float32 in chunks of `chunk` queries;
// the distance of the pair found is then recomputed in float64, so an exact copy reads 0.
struct Nearest {
  torch::Tensor distance, index;
};
Nearest nearest_neighbours(const torch::Tensor& queries, const torch::Tensor& pool,
                           int64_t chunk = 256);

struct MemorisationOptions {
  double quantile = 0.01;    // the threshold: this quantile of test-to-train nearest distances
  double flag_share = 0.05;  // flagged when a larger share of samples sits at or below it
  int64_t closest = 8;       // closest sample-training pairs reported, one per training image
};

struct ClosePair {
  int64_t sample_index = 0, train_index = 0;
  double distance = 0;
};

struct Memorisation {
  double share = 0;      // of samples at or below the threshold (held-out images: ~quantile)
  double threshold = 0;  // distance
  double quantile = 0, flag_share = 0;
  bool flagged = false;
  int64_t samples = 0, held_out = 0;
  std::vector<ClosePair> closest;  // nearest first, each training image once
  nlohmann::json to_json() const;  // {share, threshold, flagged, quantile, ..., closest: [...]}
};

// `samples_to_train`: nearest_neighbours(samples, train); `held_out_to_train`: the distances of
// nearest_neighbours(test, train).
Memorisation memorisation(const Nearest& samples_to_train, const torch::Tensor& held_out_to_train,
                          const MemorisationOptions& options = {});

// The closest pairs as images [2k, C, H, W]: the k samples, then their training images, so that
// make_grid(pairs, k) shows samples above the training images they are nearest to.
torch::Tensor closest_pairs_images(const torch::Tensor& samples, const torch::Tensor& train,
                                   const Memorisation& m);

}  // namespace gf
