#include "models/dcgan.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/upsampling.h>

#include "core/error.h"
#include "models/layers.h"

namespace gf {

DcganGeometry DcganGeometry::of(const ModelSpec& spec) {
  GF_CHECK(spec.out_shape.size() == 3 && spec.out_shape[1] == spec.out_shape[2],
           "dcgan needs square images [C, H, W], got a sample shape of ", spec.out_shape.size(),
           " dimensions");
  const int64_t size = spec.out_shape[1];
  for (int64_t base : {7, 4}) {
    int64_t s = base, steps = 0;
    while (s < size) {
      s *= 2;
      ++steps;
    }
    if (s == size && steps >= 1) return {base, steps};
  }
  throw Error(concat("dcgan supports image sizes 4*2^k or 7*2^k (28, 32, 64, ...), got ", size));
}

DcganGenerator::DcganGenerator(const ModelSpec& spec) {
  const DcganGeometry geo = DcganGeometry::of(spec);
  base_ = geo.base;
  base_channels_ = spec.g_channels << (geo.steps - 1);
  input_ = register_module("input", std::make_shared<GeneratorInput>(spec));
  project_ = torch::nn::Sequential(torch::nn::Linear(
      torch::nn::LinearOptions(input_->size(), base_channels_ * base_ * base_).bias(false)));
  register_module("project", project_);
  net_ = torch::nn::Sequential(torch::nn::BatchNorm2d(base_channels_), torch::nn::ReLU());
  int64_t ch = base_channels_;
  for (int64_t i = 0; i < geo.steps; ++i) {
    const bool last = i == geo.steps - 1;
    const int64_t out = last ? spec.out_shape[0] : ch / 2;
    if (spec.g_upsample == "resize") {
      // Resize-convolution (Odena et al. 2016): every output pixel sees the same number of
      // inputs, so no checkerboard. A 3x3 kernel at the output resolution is 2.25x the products
      // of a 4x4 stride-2 transposed one; measured, the emoji preset's step is ~1.35x slower.
      net_->push_back(torch::nn::Upsample(torch::nn::UpsampleOptions()
                                              .scale_factor(std::vector<double>{2, 2})
                                              .mode(torch::kNearest)));
      net_->push_back(
          torch::nn::Conv2d(torch::nn::Conv2dOptions(ch, out, 3).stride(1).padding(1).bias(last)));
    } else {
      net_->push_back(torch::nn::ConvTranspose2d(
          torch::nn::ConvTranspose2dOptions(ch, out, 4).stride(2).padding(1).bias(last)));
    }
    if (!last) {
      net_->push_back(torch::nn::BatchNorm2d(out));
      net_->push_back(torch::nn::ReLU());
    }
    ch = out;
  }
  net_->push_back(torch::nn::Tanh());
  register_module("net", net_);
}

torch::Tensor DcganGenerator::forward(const torch::Tensor& z, const torch::Tensor& labels) {
  auto h = forward_rows_invariant(input_->forward(z, labels),
                                  [this](const torch::Tensor& x) { return project_->forward(x); });
  return net_->forward(h.view({z.size(0), base_channels_, base_, base_}));
}

DcganDiscriminator::DcganDiscriminator(const ModelSpec& spec) {
  const DcganGeometry geo = DcganGeometry::of(spec);
  label_input_ = register_module("label_input", std::make_shared<DiscriminatorLabelInput>(spec));
  const auto lrelu = torch::nn::LeakyReLUOptions().negative_slope(spec.slope);
  // BatchNorm in D follows the DCGAN paper; WGAN-GP and spectral norm presets turn it off.
  const bool bn = spec.d_norm == "batch";
  body_ = torch::nn::Sequential();
  int64_t ch = spec.d_channels;
  body_->push_back(Conv(spec.out_shape[0] + label_input_->size(), ch, 4, 2, 1, spec.spectral_norm));
  body_->push_back(torch::nn::LeakyReLU(lrelu));
  for (int64_t i = 1; i < geo.steps; ++i) {
    body_->push_back(Conv(ch, ch * 2, 4, 2, 1, spec.spectral_norm, /*bias=*/!bn));
    if (bn) body_->push_back(torch::nn::BatchNorm2d(ch * 2));
    body_->push_back(torch::nn::LeakyReLU(lrelu));
    ch *= 2;
  }
  register_module("net", body_);
  mbstd_ = spec.d_mbstd;
  if (mbstd_ > 0) ++ch;
  head_ =
      register_module("head", std::make_shared<DiscriminatorHead>(spec, ch * geo.base * geo.base));
}

DOutput DcganDiscriminator::forward(const torch::Tensor& x, const torch::Tensor& labels) {
  auto h = body_->forward(label_input_->forward(x, labels));
  if (mbstd_ > 0) h = minibatch_stddev(h, mbstd_);
  return head_->forward(h.flatten(1), labels);
}

}  // namespace gf
