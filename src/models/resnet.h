// ResNet GAN at small scale, as SN-GAN's CIFAR-10 models (Miyato et al. 2018, appendix B.4; the
// conditional one of Miyato & Koyama 2018, as kwotsin/mimicry's cgan_pd_32) with BigGAN's shared
// class embedding (Brock et al. 2019):
// - G: z -> Linear -> [C, base, base] (base 4 for 4*2^k images, 7 for 7*2^k), one GBlock per
//   resolution doubling (BN, ReLU, nearest x2, conv3x3, BN, ReLU, conv3x3; shortcut nearest x2,
//   conv1x1), then BN, ReLU, conv3x3 to the image's channels, tanh. Width C = g_channels in every
//   block. Conditional models use conditional batch norm in the blocks (layers.h).
// - D: an optimized first block (conv3x3, ReLU, conv3x3, avgpool2; shortcut avgpool2, conv1x1),
//   downsampling blocks (ReLU, conv3x3, ReLU, conv3x3, avgpool2; shortcut conv1x1, avgpool2) until
//   the map is at most 8x8 (32 -> 16 -> 8, 28 -> 14 -> 7), two blocks more without downsampling
//   (identity shortcut), then ReLU, global sum pooling and Linear(C, 1); projection (an embedding
//   dotted with the pooled features), acgan (class logits) or cgan (label maps on D's input).
//   Width C = d_channels; spectral norm on every layer of D with model.spectral_norm.
// Weights: Xavier-uniform as SN-GAN's code (gain sqrt(2) for the residual convolutions, 1 for the
// shortcuts, G's input projection and output convolution, and D's head); biases as PyTorch.
#pragma once

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <memory>
#include <vector>

#include "models/conditioning.h"
#include "models/layers.h"
#include "models/registry.h"

namespace gf {

struct ResnetGeometry {
  int64_t base = 4;      // G's first feature map
  int64_t g_blocks = 0;  // G's blocks: one per resolution doubling
  int64_t d_down = 0;    // D's downsampling blocks, the optimized first one included
  static constexpr int64_t kDFlatBlocks = 2;  // D's blocks after those, at the last resolution
  // Throws gf::Error unless out_shape is a square image of side 4*2^k or 7*2^k (k >= 1).
  static ResnetGeometry of(const ModelSpec& spec);
};

// G's residual block; embed_dim > 0: conditional batch norm on a class embedding.
class ResnetGBlockImpl : public torch::nn::Module {
 public:
  ResnetGBlockImpl(int64_t in, int64_t out, int64_t embed_dim);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& e);

 private:
  torch::Tensor norm(int which, const torch::Tensor& x, const torch::Tensor& e);
  ClassBatchNorm cbn1_{nullptr}, cbn2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, shortcut_{nullptr};
};
TORCH_MODULE(ResnetGBlock);

// D's residual block: `optimized` is the first block (no ReLU on the image; pool before the
// shortcut's convolution); the shortcut is the identity when nothing changes shape.
class ResnetDBlockImpl : public torch::nn::Module {
 public:
  ResnetDBlockImpl(int64_t in, int64_t out, bool downsample, bool optimized, bool spectral_norm);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  bool downsample_, optimized_;
  Conv conv1_{nullptr}, conv2_{nullptr}, shortcut_{nullptr};
};
TORCH_MODULE(ResnetDBlock);

// D's head over the last feature maps h [N, C, H, W]: ReLU, sum over positions, the logit, and
// <embed(y), h> for projection or class logits for acgan (spectral norm on all with SN).
class ResnetHeadImpl : public torch::nn::Module {
 public:
  ResnetHeadImpl(const ModelSpec& spec, int64_t channels);
  DOutput forward(const torch::Tensor& h, const torch::Tensor& labels);

 private:
  Dense out_{nullptr}, aux_{nullptr};
  Embed project_{nullptr};
};
TORCH_MODULE(ResnetHead);

class ResnetGenerator : public Generator {
 public:
  explicit ResnetGenerator(const ModelSpec& spec);
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& labels) override;

 private:
  torch::Tensor forward_batch(const torch::Tensor& z, const torch::Tensor& labels);
  int64_t base_, channels_;
  bool tanh_;
  torch::nn::Embedding embed_{nullptr};
  torch::nn::Linear project_{nullptr};
  std::vector<ResnetGBlock> blocks_;
  torch::nn::BatchNorm2d bn_{nullptr};
  torch::nn::Conv2d out_{nullptr};
};

class ResnetDiscriminator : public Discriminator {
 public:
  explicit ResnetDiscriminator(const ModelSpec& spec);
  DOutput forward(const torch::Tensor& x, const torch::Tensor& labels) override;

 private:
  std::shared_ptr<DiscriminatorLabelInput> label_input_;
  std::vector<ResnetDBlock> blocks_;
  ResnetHead head_{nullptr};
};

}  // namespace gf
