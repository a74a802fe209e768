#include "train/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/autograd.h>
#include <torch/utils.h>

#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "core/runtime.h"
#include "io/checkpoint.h"
#include "models/sampler.h"
#include "train/optim.h"
#include "version.h"

namespace gf {
namespace {

void set_requires_grad(torch::nn::Module& m, bool on) {
  for (auto& p : m.parameters()) p.set_requires_grad(on);
}

Gan seeded_gan(const RunConfig& config) {
  // Weight initialisation is the only user of the global generator.
  torch::manual_seed(derive_seed(static_cast<uint64_t>(config.seed), Stream::kInit));
  return build_gan(config.model);
}

}  // namespace

Trainer::Trainer(const RunConfig& config, const Dataset& data)
    : config_(config),
      device_(parse_device(config.train.device)),
      gan_(seeded_gan(config)),
      loader_(data, config.train.batch, static_cast<uint64_t>(config.seed)),
      gen_(at::detail::createCPUGenerator(
          derive_seed(static_cast<uint64_t>(config.seed), Stream::kTrain))) {
  gan_.g->to(device_);
  gan_.d->to(device_);
  opt_g_ = make_optimizer(config.train, gan_.g->parameters(), config.train.lr_g);
  opt_d_ = make_optimizer(config.train, gan_.d->parameters(), config.train.lr_d);
  loss_ = make_loss(config.train.loss, config.train.g_loss);
}

int64_t Trainer::total_steps() const {
  return config_.train.steps > 0 ? config_.train.steps
                                 : config_.train.epochs * loader_.batches_per_epoch();
}

double Trainer::lr_factor(int64_t step) const {
  const double total = static_cast<double>(total_steps());
  const double start = config_.train.lr_decay_start * total;
  if (static_cast<double>(step) <= start || total <= start) return 1.0;
  return std::max(0.0, (total - static_cast<double>(step)) / (total - start));
}

StepStats Trainer::step() {
  const ModelSpec& spec = config_.model;
  const TrainOptions& o = config_.train;
  const double factor = lr_factor(step_);
  for (auto& group : opt_g_->param_groups()) group.options().set_lr(o.lr_g * factor);
  for (auto& group : opt_d_->param_groups()) group.options().set_lr(o.lr_d * factor);
  auto batch = loader_.batch(step_);
  auto real = batch.x.to(device_);
  auto z = random_latents(spec, real.size(0), gen_, device_);
  // One G(z) serves both updates: G's weights do not change during D's update.
  auto fake = gan_.g->forward(z);

  const bool r1 = o.r1_gamma > 0 && step_ % o.r1_every == 0;
  if (r1) real.requires_grad_(true);
  auto real_logits = gan_.d->forward(real);
  auto fake_logits = gan_.d->forward(fake.detach());
  auto loss_d = loss_->d_loss(real_logits, fake_logits);
  StepStats s;
  auto objective_d = loss_d;
  if (r1) {
    // R1 (Mescheder et al. 2018, eq. 9): gamma/2 * E[|grad_x D(x)|^2] on reals; lazy every k
    // steps with the penalty scaled by k (Karras et al. 2020, StyleGAN2, appendix B).
    auto grad = torch::autograd::grad({real_logits.sum()}, {real}, {}, true, true)[0];
    auto penalty = grad.pow(2).flatten(1).sum(1).mean();
    s.r1 = penalty.item<double>();
    objective_d = loss_d + penalty * (0.5 * o.r1_gamma * static_cast<double>(o.r1_every));
  }
  opt_d_->zero_grad();
  objective_d.backward();
  opt_d_->step();

  // G's step: D is frozen, so no gradient is computed for (or applied to) its parameters.
  set_requires_grad(*gan_.d, false);
  auto loss_g = loss_->g_loss(gan_.d->forward(fake));
  opt_g_->zero_grad();
  loss_g.backward();
  opt_g_->step();
  set_requires_grad(*gan_.d, true);

  s.loss_d = loss_d.item<double>();
  s.loss_g = loss_g.item<double>();
  {
    torch::NoGradGuard no_grad;
    s.d_real = torch::sigmoid(real_logits).mean().item<double>();
    s.d_fake = torch::sigmoid(fake_logits).mean().item<double>();
  }
  GF_CHECK(std::isfinite(s.loss_d) && std::isfinite(s.loss_g), "training diverged at step ",
           step_ + 1, ": loss_d = ", s.loss_d, ", loss_g = ", s.loss_g,
           " (try a lower learning rate)");
  ++step_;
  return s;
}

void Trainer::save(const std::string& path) const {
  nlohmann::json meta = {{"model", config_.model.to_json()},
                         {"config", config_.to_json()},
                         {"step", step_},
                         {"epoch", epoch()},
                         {"ganforge_version", kVersion}};
  CheckpointWriter w(std::move(meta));
  gan_.g->save(w.section("G"));
  gan_.d->save(w.section("D"));
  opt_g_->save(w.section("opt_G"));
  opt_d_->save(w.section("opt_D"));
  w.section("rng").write("train", gen_.get_state());
  w.write(path);
}

void Trainer::load(const std::string& path) {
  CheckpointReader r(path, device_);
  GF_CHECK(r.meta().at("model") == config_.model.to_json(), path,
           ": the checkpoint's model spec differs from this run's");
  try {
    gan_.g->load(r.section("G"));
    gan_.d->load(r.section("D"));
    opt_g_->load(r.section("opt_G"));
    opt_d_->load(r.section("opt_D"));
    torch::Tensor state;
    r.section("rng").read("train", state);
    gen_.set_state(state);
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    throw Error(concat(path, ": checkpoint does not match the model (",
                       what.substr(0, what.find('\n')), ")"));
  }
  step_ = r.meta().at("step").get<int64_t>();
}

}  // namespace gf
