#include "data/augment.h"

#include <sstream>

#include "core/error.h"
#include "core/names.h"

namespace gf {

std::vector<std::string> augment_policies() {
  return {"color", "translation", "cutout"};
}

namespace {

std::vector<std::string> split_policy(const std::string& policy) {
  std::vector<std::string> parts;
  if (policy.empty() || policy == "none") return parts;
  std::stringstream in(policy);
  for (std::string p; std::getline(in, p, ',');) parts.push_back(p);
  return parts;
}

torch::Tensor rand_translation(const torch::Tensor& x, at::Generator& gen, double fill) {
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  const int64_t sh = static_cast<int64_t>(h * 0.125 + 0.5),
                sw = static_cast<int64_t>(w * 0.125 + 0.5);
  auto dy = torch::randint(-sh, sh + 1, {n}, gen, torch::kInt64);
  auto dx = torch::randint(-sw, sw + 1, {n}, gen, torch::kInt64);
  auto padded = torch::constant_pad_nd(x, {sw, sw, sh, sh}, fill);
  std::vector<torch::Tensor> out;
  out.reserve(n);
  auto dya = dy.accessor<int64_t, 1>(), dxa = dx.accessor<int64_t, 1>();
  for (int64_t i = 0; i < n; ++i) {
    out.push_back(padded[i].narrow(1, sh + dya[i], h).narrow(2, sw + dxa[i], w));
  }
  return torch::stack(out);
}

// DiffAugment's colour functions, drawing one factor per image in the same order as its Python
// code (brightness, saturation, contrast), so the same generator state gives the same images.
torch::Tensor rand_color(const torch::Tensor& x, at::Generator& gen) {
  const int64_t n = x.size(0);
  auto factor = [&]() {
    return torch::rand({n, 1, 1, 1}, gen, torch::kFloat32).to(x.device(), x.scalar_type());
  };
  auto out = x + (factor() - 0.5);
  auto mean = out.mean(1, /*keepdim=*/true);
  out = (out - mean) * (factor() * 2) + mean;
  mean = out.mean({1, 2, 3}, /*keepdim=*/true);
  return (out - mean) * (factor() + 0.5) + mean;
}

torch::Tensor rand_cutout(const torch::Tensor& x, at::Generator& gen) {
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  const int64_t ch = static_cast<int64_t>(h * 0.5 + 0.5), cw = static_cast<int64_t>(w * 0.5 + 0.5);
  // Centre anywhere in the image; the square is clipped at the border (as DiffAugment does).
  auto cy = torch::randint(0, h + (1 - ch % 2), {n}, gen, torch::kInt64);
  auto cx = torch::randint(0, w + (1 - cw % 2), {n}, gen, torch::kInt64);
  auto mask = torch::ones({n, 1, h, w}, x.options().dtype(torch::kFloat32).device(torch::kCPU));
  auto cya = cy.accessor<int64_t, 1>(), cxa = cx.accessor<int64_t, 1>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t y0 = std::max<int64_t>(0, cya[i] - ch / 2),
                  x0 = std::max<int64_t>(0, cxa[i] - cw / 2);
    const int64_t y1 = std::min(h, cya[i] - ch / 2 + ch), x1 = std::min(w, cxa[i] - cw / 2 + cw);
    if (y1 > y0 && x1 > x0) mask[i].narrow(1, y0, y1 - y0).narrow(2, x0, x1 - x0).zero_();
  }
  return x * mask.to(x.device(), x.scalar_type());
}

}  // namespace

void check_augment(const std::string& policy) {
  for (const auto& p : split_policy(policy)) check_name("train.augment", p, augment_policies());
}

torch::Tensor diff_augment(const torch::Tensor& x, const std::string& policy, at::Generator& gen,
                           double fill) {
  const auto parts = split_policy(policy);
  if (parts.empty()) return x;
  GF_CHECK(x.dim() == 4, "train.augment needs image data [N, C, H, W]");
  auto out = x;
  for (const auto& p : parts) {
    if (p == "color") {
      out = rand_color(out, gen);
    } else if (p == "translation") {
      out = rand_translation(out, gen, fill);
    } else {
      out = rand_cutout(out, gen);
    }
  }
  return out;
}

}  // namespace gf
