#include "models/resnet.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/functional/upsampling.h>
#include <torch/nn/init.h>
#include <torch/utils.h>

#include <cmath>
#include <string>

#include "core/error.h"
#include "models/dcgan.h"

namespace gf {
namespace {

namespace F = torch::nn::functional;

// SN-GAN's initialisation (Miyato et al. 2018, as their code and mimicry): Xavier-uniform,
// gain sqrt(2) inside the residual branches (followed by ReLU), 1 elsewhere.
const double kResidualGain = std::sqrt(2.0);

void xavier(torch::nn::Module& m, double gain) {
  torch::NoGradGuard no_grad;
  torch::nn::init::xavier_uniform_(m.named_parameters(/*recurse=*/false)["weight"], gain);
}

torch::nn::Conv2d conv2d(int64_t in, int64_t out, int64_t kernel, double gain) {
  torch::nn::Conv2d c(torch::nn::Conv2dOptions(in, out, kernel).padding(kernel / 2));
  xavier(*c, gain);
  return c;
}

Conv d_conv(int64_t in, int64_t out, int64_t kernel, bool sn, double gain) {
  Conv c(in, out, kernel, 1, kernel / 2, sn);
  xavier(*c, gain);
  return c;
}

torch::Tensor upsample(const torch::Tensor& x) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .scale_factor(std::vector<double>{2, 2})
                               .mode(torch::kNearest)
                               .recompute_scale_factor(false));
}

torch::Tensor pool(const torch::Tensor& x) {
  return F::avg_pool2d(x, F::AvgPool2dFuncOptions(2));
}

}  // namespace

ResnetGeometry ResnetGeometry::of(const ModelSpec& spec) {
  GF_CHECK(spec.out_shape.size() == 3 && spec.out_shape[1] == spec.out_shape[2],
           "model.arch = resnet needs square images [C, H, W], got a sample shape of ",
           spec.out_shape.size(), " dimensions");
  const int64_t size = spec.out_shape[1];
  ResnetGeometry geo;
  try {
    const DcganGeometry dcgan = DcganGeometry::of(spec);
    geo.base = dcgan.base;
    geo.g_blocks = dcgan.steps;
  } catch (const Error&) {
    throw Error(
        concat("model.arch = resnet supports image sizes 4*2^k or 7*2^k (28, 32, 64, ...), "
               "got ",
               size));
  }
  // SN-GAN's CIFAR D: 32 -> 16 -> 8, then two blocks at 8x8; 28 -> 14 -> 7 alike.
  int64_t s = size / 2;
  geo.d_down = 1;
  while (s > 8) {
    s /= 2;
    ++geo.d_down;
  }
  return geo;
}

ResnetGBlockImpl::ResnetGBlockImpl(int64_t in, int64_t out, int64_t embed_dim) {
  if (embed_dim > 0) {
    cbn1_ = register_module("bn1", ClassBatchNorm(in, embed_dim));
    cbn2_ = register_module("bn2", ClassBatchNorm(out, embed_dim));
  } else {
    bn1_ = register_module("bn1", torch::nn::BatchNorm2d(in));
    bn2_ = register_module("bn2", torch::nn::BatchNorm2d(out));
  }
  conv1_ = register_module("conv1", conv2d(in, out, 3, kResidualGain));
  conv2_ = register_module("conv2", conv2d(out, out, 3, kResidualGain));
  shortcut_ = register_module("shortcut", conv2d(in, out, 1, 1.0));
}

torch::Tensor ResnetGBlockImpl::norm(int which, const torch::Tensor& x, const torch::Tensor& e) {
  if (cbn1_) return (which == 1 ? cbn1_ : cbn2_)->forward(x, e);
  return (which == 1 ? bn1_ : bn2_)->forward(x);
}

torch::Tensor ResnetGBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& e) {
  auto h = conv1_(upsample(torch::relu(norm(1, x, e))));
  h = conv2_(torch::relu(norm(2, h, e)));
  return h + shortcut_(upsample(x));
}

ResnetDBlockImpl::ResnetDBlockImpl(int64_t in, int64_t out, bool downsample, bool optimized,
                                   bool sn)
    : downsample_(downsample), optimized_(optimized) {
  conv1_ = register_module("conv1", d_conv(in, out, 3, sn, kResidualGain));
  conv2_ = register_module("conv2", d_conv(out, out, 3, sn, kResidualGain));
  if (in != out || downsample) shortcut_ = register_module("shortcut", d_conv(in, out, 1, sn, 1.0));
}

torch::Tensor ResnetDBlockImpl::forward(const torch::Tensor& x) {
  // The optimized block sees the image itself: no ReLU before its first convolution.
  auto h = conv2_(torch::relu(conv1_(optimized_ ? x : torch::relu(x))));
  if (downsample_) h = pool(h);
  if (!shortcut_) return h + x;
  // Average pooling and a 1x1 convolution commute: pooling first (as SN-GAN's optimized block)
  // is the same function at a quarter of the products.
  return h + shortcut_(downsample_ ? pool(x) : x);
}

ResnetHeadImpl::ResnetHeadImpl(const ModelSpec& spec, int64_t channels) {
  out_ = register_module("out", Dense(channels, 1, spec.spectral_norm));
  xavier(*out_, 1.0);
  if (spec.conditional == "acgan") {
    aux_ = register_module("aux", Dense(channels, spec.num_classes, spec.spectral_norm));
    xavier(*aux_, 1.0);
  } else if (spec.conditional == "projection") {
    project_ = register_module("project", Embed(spec.num_classes, channels, spec.spectral_norm));
    xavier(*project_, 1.0);
  }
}

DOutput ResnetHeadImpl::forward(const torch::Tensor& h, const torch::Tensor& labels) {
  // Sum, not mean, over positions: SN-GAN's D (the logit's scale grows with the map's area).
  const auto pooled = torch::relu(h).sum({2, 3});
  DOutput r;
  r.logits = out_(pooled).view({h.size(0)});
  if (aux_) r.class_logits = aux_(pooled);
  if (project_) r.logits = r.logits + (project_(labels) * pooled).sum(1);
  return r;
}

ResnetGenerator::ResnetGenerator(const ModelSpec& spec) {
  const ResnetGeometry geo = ResnetGeometry::of(spec);
  base_ = geo.base;
  channels_ = spec.g_channels;
  tanh_ = spec.g_out == "tanh";
  // One embedding shared by every block's conditional batch norm (BigGAN), where SN-GAN gives
  // each batch norm its own class-indexed gains and biases: fewer parameters per class.
  int64_t embed_dim = 0;
  if (spec.is_conditional()) {
    embed_dim = spec.embed_dim;
    embed_ = register_module("embed", torch::nn::Embedding(spec.num_classes, embed_dim));
  }
  project_ = register_module("project", torch::nn::Linear(spec.z_dim, channels_ * base_ * base_));
  xavier(*project_, 1.0);
  torch::nn::ModuleList blocks;
  for (int64_t i = 0; i < geo.g_blocks; ++i) {
    blocks_.emplace_back(channels_, channels_, embed_dim);
    blocks->push_back(blocks_.back());
  }
  register_module("blocks", blocks);
  // The output's batch norm is unconditional, as SN-GAN's and BigGAN's.
  bn_ = register_module("bn", torch::nn::BatchNorm2d(channels_));
  out_ = register_module("out", conv2d(channels_, spec.out_shape[0], 3, 1.0));
}

torch::Tensor ResnetGenerator::forward(const torch::Tensor& z, const torch::Tensor& labels) {
  // Same seed, same image, whatever the batch (layers.h): LibTorch's CPU convolutions round a
  // sample differently in a batch of one than in larger batches (measured here for 3x3, and for
  // 1x1 at any batch size), so sampling (eval mode, no autograd) runs one image at a time. Batch
  // norm uses its running statistics then, so the images are the same function of z and y.
  const int64_t n = z.size(0);
  if (is_training() || torch::GradMode::is_enabled() || !z.device().is_cpu() || n <= 1) {
    return forward_batch(z, labels);
  }
  std::vector<torch::Tensor> images;
  images.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    images.push_back(
        forward_batch(z.narrow(0, i, 1), labels.defined() ? labels.narrow(0, i, 1) : labels));
  }
  return torch::cat(images);
}

torch::Tensor ResnetGenerator::forward_batch(const torch::Tensor& z, const torch::Tensor& labels) {
  const auto e = embed_ ? embed_classes(embed_, labels) : torch::Tensor();
  auto h = project_(z).view({z.size(0), channels_, base_, base_});
  for (auto& block : blocks_) h = block(h, e);
  h = out_(torch::relu(bn_(h)));
  return tanh_ ? torch::tanh(h) : h;
}

ResnetDiscriminator::ResnetDiscriminator(const ModelSpec& spec) {
  const ResnetGeometry geo = ResnetGeometry::of(spec);
  label_input_ = register_module("label_input", std::make_shared<DiscriminatorLabelInput>(spec));
  const int64_t c = spec.d_channels;
  torch::nn::ModuleList blocks;
  const int64_t n = geo.d_down + ResnetGeometry::kDFlatBlocks;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t in = i == 0 ? spec.out_shape[0] + label_input_->size() : c;
    blocks_.emplace_back(in, c, /*downsample=*/i < geo.d_down, /*optimized=*/i == 0,
                         spec.spectral_norm);
    blocks->push_back(blocks_.back());
  }
  register_module("blocks", blocks);
  head_ = register_module("head", ResnetHead(spec, c));
}

DOutput ResnetDiscriminator::forward(const torch::Tensor& x, const torch::Tensor& labels) {
  auto h = label_input_->forward(x, labels);
  for (auto& block : blocks_) h = block(h);
  return head_(h, labels);
}

}  // namespace gf
