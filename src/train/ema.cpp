#include "train/ema.h"

#include <torch/utils.h>

#include <cmath>

namespace gf {

void copy_weights(torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  auto src = from.named_parameters();
  for (auto& p : to.named_parameters()) p.value().copy_(src[p.key()]);
  auto bsrc = from.named_buffers();
  for (auto& b : to.named_buffers()) b.value().copy_(bsrc[b.key()]);
}

Ema::Ema(const ModelSpec& spec, Generator& g, double kimg, double rampup)
    : ema_(build_generator(spec)), kimg_(kimg), rampup_(rampup) {
  for (const auto& p : g.parameters()) {
    ema_->to(p.device());
    break;
  }
  copy_weights(g, *ema_);
  ema_->eval();
  for (auto& p : ema_->parameters()) p.set_requires_grad(false);
}

void Ema::update(Generator& g, int64_t images_seen, int64_t batch) {
  double nimg = kimg_ * 1000.0;
  if (rampup_ > 0) nimg = std::min(nimg, static_cast<double>(images_seen) * rampup_);
  const double beta = nimg > 0 ? std::pow(0.5, static_cast<double>(batch) / nimg) : 0.0;
  torch::NoGradGuard no_grad;
  auto src = g.named_parameters();
  for (auto& p : ema_->named_parameters()) {
    p.value().copy_(src[p.key()].detach().lerp(p.value(), beta));
  }
  auto bsrc = g.named_buffers();
  for (auto& b : ema_->named_buffers()) b.value().copy_(bsrc[b.key()]);
}

}  // namespace gf
