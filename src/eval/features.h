// The label-free feature space: a randomly initialised CNN with fixed weights, for data without
// labels (no classifier to train) and beside the classifier's space when both exist. Naeem et al.
// 2020 (density/coverage) found randomly initialised embeddings usable for fidelity and diversity
// metrics; nothing is trained or downloaded, so every dataset gets the same extractor.
//
// Architecture gf-random-cnn-v1 (C input channels, any size >= 8, [-1, 1] images):
//   conv3x3(C->32) ReLU avgpool2 | conv3x3(32->64) ReLU avgpool2 | conv3x3(64->128) ReLU avgpool2
//   features = [ layer 2 average-pooled to a 7x7 grid (3,136), layer 3 global mean (128) and
//                global max (128) ] x P, P a fixed 3,392 x 512 Gaussian matrix / sqrt(3,392)
// Weights: Kaiming normal (He et al. 2015, fan-in, ReLU gain), no biases, drawn in the order
// conv1, conv2, conv3, P from PyTorch's CPU generator seeded with kRandomCnnSeed.
// Why this one (tests/unit/test_feature_space.cpp validates it on MNIST): with global pooling
// alone, a set missing half the digits kept over 80 % of its coverage; the 7x7 grid keeps where
// strokes are. Pixels, strided or max-pooled random CNNs and PCA of either all kept recall and
// coverage at 0.64-0.73 of the full set's; this one stayed at 0.66-0.69 for five seeds.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace gf {

// Bump when the architecture, the seed or the weight recipe changes: cached statistics depend on
// it.
constexpr const char* kRandomCnnVersion = "gf-random-cnn-v1";
constexpr int64_t kRandomCnnDim = 512;
constexpr uint64_t kRandomCnnSeed = 1;

class RandomCnn {
 public:
  explicit RandomCnn(int64_t channels);
  // Features [N, kRandomCnnDim] (float32) of images [N, C, H, W] in [-1, 1], H and W >= 8.
  torch::Tensor features(const torch::Tensor& images) const;
  int64_t channels() const { return channels_; }

 private:
  int64_t channels_;
  std::vector<torch::Tensor> conv_;
  torch::Tensor projection_;
};

// Features [N, kRandomCnnDim] in float64, computed on the CPU in batches without autograd.
torch::Tensor random_cnn_embed(const torch::Tensor& images, int64_t batch = 500);

}  // namespace gf
