#include "models/sampler.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "models/conditioning.h"

namespace gf {
namespace {

torch::Tensor draw(const ModelSpec& spec, int64_t n, at::Generator& gen) {
  if (spec.latent == "normal") return torch::randn({n, spec.z_dim}, gen, torch::kFloat32);
  return torch::rand({n, spec.z_dim}, gen, torch::kFloat32).mul_(2.0).sub_(1.0);
}

}  // namespace

torch::Tensor seeded_latents(const ModelSpec& spec, uint64_t seed, int64_t start, int64_t n) {
  GF_CHECK(n >= 0 && start >= 0, "bad latent range");
  auto z = torch::empty({n, spec.z_dim}, torch::kFloat32);
  for (int64_t i = 0; i < n; ++i) {
    auto gen = at::detail::createCPUGenerator(mix(seed, static_cast<uint64_t>(start + i)));
    z[i].copy_(draw(spec, 1, gen)[0]);
  }
  return z;
}

torch::Tensor truncate_latents(torch::Tensor z, double psi) {
  GF_CHECK(psi > 0.0 && psi <= 1.0, "truncation must be in (0, 1], got ", psi);
  if (psi != 1.0) z.mul_(psi);
  return z;
}

torch::Tensor walk_latents(const ModelSpec& spec, uint64_t seed_a, uint64_t seed_b, int64_t steps) {
  return walk_between(spec, seeded_latents(spec, seed_a, 0, 1)[0],
                      seeded_latents(spec, seed_b, 0, 1)[0], steps);
}

torch::Tensor walk_between(const ModelSpec& spec, const torch::Tensor& za, const torch::Tensor& zb,
                           int64_t steps) {
  GF_CHECK(steps >= 2, "a latent walk needs at least 2 steps, got ", steps);
  GF_CHECK(za.numel() == spec.z_dim && zb.numel() == spec.z_dim, "a walk's ends must be ",
           spec.z_dim, " numbers");
  const auto a = za.reshape({spec.z_dim}).to(torch::kFloat64);
  const auto b = zb.reshape({spec.z_dim}).to(torch::kFloat64);
  const auto t = torch::linspace(0.0, 1.0, steps, torch::kFloat64).unsqueeze(1);
  if (spec.latent == "uniform") return (a + t * (b - a)).to(torch::kFloat32);
  const double cos_omega = std::clamp((a.dot(b) / (a.norm() * b.norm())).item<double>(), -1.0, 1.0);
  const double omega = std::acos(cos_omega);
  if (std::sin(omega) < 1e-6) return (a + t * (b - a)).to(torch::kFloat32);
  const auto wa = torch::sin((1.0 - t) * omega) / std::sin(omega);
  const auto wb = torch::sin(t * omega) / std::sin(omega);
  return (wa * a + wb * b).to(torch::kFloat32);
}

torch::Tensor class_blend(const ModelSpec& spec, int64_t from, int64_t to, int64_t steps) {
  GF_CHECK(spec.is_conditional(), "a class walk needs a conditional model");
  GF_CHECK(steps >= 2, "a class walk needs at least 2 steps, got ", steps);
  GF_CHECK(from >= 0 && from < spec.num_classes && to >= 0 && to < spec.num_classes,
           "classes must be in [0, ", spec.num_classes, ")");
  const auto t = torch::linspace(0.0, 1.0, steps, torch::kFloat32);
  auto w = torch::zeros({steps, spec.num_classes}, torch::kFloat32);
  w.select(1, from) += 1 - t;
  w.select(1, to) += t;
  return w;
}

torch::Tensor random_latents(const ModelSpec& spec, int64_t n, at::Generator& gen,
                             torch::Device device) {
  return draw(spec, n, gen).to(device);
}

torch::Tensor default_labels(const ModelSpec& spec, int64_t start, int64_t n) {
  if (!spec.is_conditional()) return {};
  return torch::arange(start, start + n, torch::kInt64).remainder(spec.num_classes);
}

torch::Tensor generate(Generator& g, const ModelSpec& spec, uint64_t seed, int64_t n, int64_t batch,
                       int64_t start, torch::Tensor labels) {
  if (spec.is_conditional() && !labels.defined()) labels = default_labels(spec, start, n);
  return generate_from_latents(g, spec, seeded_latents(spec, seed, start, n), labels, batch);
}

torch::Tensor generate_from_latents(Generator& g, const ModelSpec& spec, const torch::Tensor& z,
                                    const torch::Tensor& labels, int64_t batch) {
  GF_CHECK(batch >= 1, "batch must be positive");
  GF_CHECK(z.dim() == 2 && z.size(1) == spec.z_dim, "latents must be [n, ", spec.z_dim, "]");
  const int64_t n = z.size(0);
  check_labels(spec, labels, n);
  torch::NoGradGuard no_grad;
  const bool was_training = g.is_training();
  g.eval();
  const torch::Device device = module_device(g);
  std::vector<int64_t> shape = {n};
  shape.insert(shape.end(), spec.out_shape.begin(), spec.out_shape.end());
  auto out = torch::empty(shape, torch::kFloat32);
  for (int64_t i = 0; i < n; i += batch) {
    const int64_t m = std::min(batch, n - i);
    auto zi = z.narrow(0, i, m).to(device, torch::kFloat32);
    auto y = spec.is_conditional() ? labels.narrow(0, i, m).to(device) : torch::Tensor();
    out.narrow(0, i, m).copy_(g.forward(zi, y).to(torch::kCPU, torch::kFloat32));
  }
  g.train(was_training);
  return out;
}

}  // namespace gf
