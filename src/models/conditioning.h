// Label conditioning shared by the architectures: G's input is [z, embed(y)] (Mirza & Osindero
// 2014); D is conditioned by concatenation (cgan), an auxiliary classifier (acgan, Odena et al.
// 2017) or projection (Miyato & Koyama 2018): logit = psi(h) + <embed(y), h>.
#pragma once

#include <torch/nn/modules/embedding.h>

#include "models/layers.h"
#include "models/registry.h"
#include "models/spec.h"

namespace gf {

// G's latent with the label embedding appended (z unchanged for unconditional models).
class GeneratorInput : public torch::nn::Module {
 public:
  explicit GeneratorInput(const ModelSpec& spec);
  int64_t size() const { return size_; }
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& labels);

 private:
  int64_t size_;
  torch::nn::Embedding embed_{nullptr};
};

// D's head over features h [N, F]: the real/fake logit and, for acgan, class logits.
class DiscriminatorHead : public torch::nn::Module {
 public:
  DiscriminatorHead(const ModelSpec& spec, int64_t features);
  DOutput forward(const torch::Tensor& h, const torch::Tensor& labels);

 private:
  std::string mode_;
  Dense out_{nullptr}, aux_{nullptr};
  torch::nn::Embedding project_{nullptr};
};

// cgan's extra D input: the label embedding appended to D's input along dim 1, as features for
// [N, F] inputs and as constant feature maps for [N, C, H, W] images; x unchanged for other modes.
class DiscriminatorLabelInput : public torch::nn::Module {
 public:
  explicit DiscriminatorLabelInput(const ModelSpec& spec);
  int64_t size() const { return size_; }  // features or channels added
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& labels);

 private:
  int64_t size_ = 0;
  torch::nn::Embedding embed_{nullptr};
};

// Labels are int64 class indices [N], or float class weights [N, num_classes]: a blend of classes
// whose embedding is the weighted sum of theirs (a 3 that turns into an 8 along a walk).
// Throws gf::Error when a conditional model gets no labels, labels out of range, or weights that
// are negative or do not sum to 1.
void check_labels(const ModelSpec& spec, const torch::Tensor& labels, int64_t n);

// The class embedding of labels in either form above.
torch::Tensor embed_classes(torch::nn::Embedding& embed, const torch::Tensor& labels);

}  // namespace gf
