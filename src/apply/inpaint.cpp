#include "apply/inpaint.h"

#include <torch/nn/functional/padding.h>

#include <algorithm>

#include "core/error.h"

namespace gf {
namespace {

torch::Tensor known_like(const torch::Tensor& images, const torch::Tensor& known) {
  GF_CHECK(images.dim() == 4 && known.dim() == 4 && known.size(0) == images.size(0) &&
               (known.size(1) == 1 || known.size(1) == images.size(1)) &&
               known.sizes().slice(2) == images.sizes().slice(2),
           "images [N, C, H, W] and a mask [N, 1 or C, H, W] of the same size are needed, got ",
           images.sizes(), " and ", known.sizes());
  return known.to(images.dtype()).expand_as(images);
}

}  // namespace

torch::Tensor composite(const torch::Tensor& images, const torch::Tensor& known,
                        const torch::Tensor& fill) {
  const auto k = known_like(images, known);
  return k * images + (1 - k) * fill;
}

torch::Tensor fill_mean(const torch::Tensor& images, const torch::Tensor& known,
                        const torch::Tensor& mean_image) {
  GF_CHECK(mean_image.sizes() == images.sizes().slice(1), "the mean image must be ",
           images.sizes().slice(1));
  return composite(images, known, mean_image.unsqueeze(0).expand_as(images));
}

torch::Tensor fill_nearest(const torch::Tensor& images, const torch::Tensor& known,
                           const torch::Tensor& train) {
  GF_CHECK(
      train.dim() == 4 && train.size(0) > 0 && train.sizes().slice(1) == images.sizes().slice(1),
      "training images of the same shape are needed for nearest-neighbour filling");
  const auto k = known_like(images, known).flatten(1).to(torch::kFloat64);
  const auto x = images.flatten(1).to(torch::kFloat64);
  // d[i, j] = sum_p k_ip (x_ip - t_jp)^2 = sum k x^2 - 2 (k x) . t_j + k . t_j^2, over chunks of
  // the training set so memory stays bounded.
  const auto kx2 = (k * x * x).sum(1, true);
  auto best = torch::full({x.size(0)}, std::numeric_limits<double>::infinity(), torch::kFloat64);
  auto best_index = torch::zeros({x.size(0)}, torch::kInt64);
  const int64_t chunk = 4096;
  for (int64_t first = 0; first < train.size(0); first += chunk) {
    const int64_t m = std::min(chunk, train.size(0) - first);
    const auto t = train.narrow(0, first, m).flatten(1).to(torch::kFloat64);
    const auto d = kx2 - 2 * (k * x).matmul(t.t()) + k.matmul((t * t).t());
    const auto [value, index] = d.min(1);
    const auto better = value < best;
    best = torch::where(better, value, best);
    best_index = torch::where(better, index + first, best_index);
  }
  return composite(images, known, train.index_select(0, best_index).to(images.dtype()));
}

torch::Tensor fill_harmonic(const torch::Tensor& images, const torch::Tensor& known,
                            int64_t max_iterations, double tolerance) {
  namespace F = torch::nn::functional;
  const auto k = known_like(images, known).to(torch::kFloat64);
  const auto x0 = images.to(torch::kFloat64) * k;
  // Start from each image's mean known value: fewer iterations than from zero.
  const auto count = k.sum({2, 3}, true).clamp_min(1.0);
  auto x = x0 + (1 - k) * (x0.sum({2, 3}, true) / count);
  for (int64_t it = 0; it < max_iterations; ++it) {
    const auto p = F::pad(x, F::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReplicate));
    const auto h = x.size(2), w = x.size(3);
    const auto avg = (p.narrow(2, 0, h).narrow(3, 1, w) + p.narrow(2, 2, h).narrow(3, 1, w) +
                      p.narrow(2, 1, h).narrow(3, 0, w) + p.narrow(2, 1, h).narrow(3, 2, w)) /
                     4;
    const auto next = x0 + (1 - k) * avg;
    const double moved = (next - x).abs().max().item<double>();
    x = next;
    if (moved < tolerance) break;
  }
  return x.to(images.dtype());
}

}  // namespace gf
