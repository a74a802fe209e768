#include "eval/features.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/conv.h>
#include <torch/nn/functional/pooling.h>
#include <torch/utils.h>

#include <cmath>

#include "core/error.h"

namespace gf {
namespace {

namespace F = torch::nn::functional;

constexpr int64_t kWidths[] = {32, 64, 128};
constexpr int64_t kGrid = 7;

int64_t pooled_dim() {
  return kWidths[1] * kGrid * kGrid + 2 * kWidths[2];
}

}  // namespace

RandomCnn::RandomCnn(int64_t channels) : channels_(channels) {
  GF_CHECK(channels >= 1, "the label-free features need images with channels, got ", channels);
  auto gen = at::detail::createCPUGenerator(kRandomCnnSeed);
  int64_t in = channels;
  for (const int64_t out : kWidths) {
    // Kaiming normal, fan-in, ReLU gain sqrt(2) (He et al. 2015): activations keep their scale.
    const double scale = std::sqrt(2.0 / static_cast<double>(in * 9));
    conv_.push_back(torch::randn({out, in, 3, 3}, gen, torch::kFloat32) * scale);
    in = out;
  }
  // A Gaussian random projection keeps distances (Johnson & Lindenstrauss 1984) in a size FID's
  // covariance handles whatever the image size.
  projection_ = torch::randn({pooled_dim(), kRandomCnnDim}, gen, torch::kFloat32) /
                std::sqrt(static_cast<double>(pooled_dim()));
}

torch::Tensor RandomCnn::features(const torch::Tensor& images) const {
  GF_CHECK(images.dim() == 4 && images.size(1) == channels_, "the label-free features expect [N, ",
           channels_, ", H, W] images, got ", images.sizes());
  GF_CHECK(images.size(2) >= 8 && images.size(3) >= 8,
           "the label-free features need images of at least 8 x 8 pixels, got ", images.size(2),
           " x ", images.size(3));
  std::vector<torch::Tensor> parts;
  auto h = images.to(torch::kFloat32);
  for (size_t i = 0; i < conv_.size(); ++i) {
    h = torch::relu(F::conv2d(h, conv_[i], F::Conv2dFuncOptions().padding(1)));
    h = F::avg_pool2d(h, F::AvgPool2dFuncOptions(2).ceil_mode(true));
    if (i == 1) {
      parts.push_back(
          F::adaptive_avg_pool2d(h, F::AdaptiveAvgPool2dFuncOptions({kGrid, kGrid})).flatten(1));
    }
  }
  parts.push_back(h.mean({2, 3}));
  parts.push_back(h.amax({2, 3}));
  return torch::cat(parts, 1).matmul(projection_);
}

torch::Tensor random_cnn_embed(const torch::Tensor& images, int64_t batch) {
  torch::NoGradGuard no_grad;
  GF_CHECK(images.dim() == 4 && images.size(0) > 0,
           "the label-free features need images [N, C, H, W], N > 0");
  const RandomCnn net(images.size(1));
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < images.size(0); i += batch) {
    const auto x = images.narrow(0, i, std::min(batch, images.size(0) - i)).to(torch::kCPU);
    out.push_back(net.features(x).to(torch::kFloat64));
  }
  return torch::cat(out);
}

}  // namespace gf
