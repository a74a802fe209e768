#include "data/classic_augment.h"

#include <torch/nn/functional/vision.h>

#include <cmath>
#include <sstream>

#include "core/error.h"
#include "core/names.h"

namespace gf {
namespace {

namespace F = torch::nn::functional;

}  // namespace

std::vector<std::string> classic_augment_names() {
  return {"shift", "rotate"};
}

ClassicAugment parse_classic_augment(const std::string& policy) {
  ClassicAugment a;
  if (policy.empty() || policy == "none") return a;
  std::stringstream in(policy);
  for (std::string part; std::getline(in, part, ',');) {
    check_name("classic augmentation", part, classic_augment_names());
    (part == "shift" ? a.shift : a.rotate) = true;
  }
  return a;
}

torch::Tensor shift_rotate(const torch::Tensor& x, const torch::Tensor& dx, const torch::Tensor& dy,
                           const torch::Tensor& degrees) {
  GF_CHECK(x.dim() == 4, "shift_rotate needs images [N, C, H, W]");
  const int64_t n = x.size(0);
  GF_CHECK(dx.numel() == n && dy.numel() == n && degrees.numel() == n,
           "shift_rotate needs one shift and one angle per image");
  const double h = static_cast<double>(x.size(2)), w = static_cast<double>(x.size(3));
  // torchvision's _get_inverse_affine_matrix about the centre, no scale or shear: the output
  // pixel p (centred pixel coordinates, y down) reads the input at M (p - t), where
  // M = [[cos a, sin a], [-sin a, cos a]] and t = (dx, dy).
  const auto rad = degrees.to(torch::kCPU, torch::kFloat64) * (M_PI / 180.0);
  const auto c = torch::cos(rad), s = torch::sin(rad);
  const auto tx = dx.to(torch::kCPU, torch::kFloat64), ty = dy.to(torch::kCPU, torch::kFloat64);
  // The same map in affine_grid's normalised coordinates (align_corners=false: x_pix = x_n w/2).
  auto row0 = torch::stack({c, s * (h / w), -(c * tx + s * ty) * (2.0 / w)}, 1);
  auto row1 = torch::stack({-s * (w / h), c, (s * tx - c * ty) * (2.0 / h)}, 1);
  const auto theta = torch::stack({row0, row1}, 1).to(x.device(), x.scalar_type());
  const auto grid = F::affine_grid(theta, x.sizes(), /*align_corners=*/false);
  return F::grid_sample(x, grid,
                        F::GridSampleFuncOptions()
                            .mode(torch::kBilinear)
                            .padding_mode(torch::kBorder)
                            .align_corners(false));
}

torch::Tensor classic_augment(const torch::Tensor& x, const ClassicAugment& a, at::Generator& gen) {
  if (!a.any()) return x;
  GF_CHECK(a.max_shift >= 0 && a.max_degrees >= 0, "augmentation limits must be non-negative");
  const int64_t n = x.size(0);
  torch::Tensor dx = torch::zeros({n}, torch::kInt64), dy = torch::zeros({n}, torch::kInt64);
  if (a.shift) {
    dx = torch::randint(-a.max_shift, a.max_shift + 1, {n}, gen, torch::kInt64);
    dy = torch::randint(-a.max_shift, a.max_shift + 1, {n}, gen, torch::kInt64);
  }
  torch::Tensor degrees = torch::zeros({n}, torch::kFloat64);
  if (a.rotate) {
    degrees = torch::rand({n}, gen, torch::kFloat64).mul_(2.0).sub_(1.0).mul_(a.max_degrees);
  }
  return shift_rotate(x, dx, dy, degrees);
}

}  // namespace gf
