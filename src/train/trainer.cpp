#include "train/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/loss.h>
#include <torch/utils.h>

#include <array>
#include <cmath>
#include <mutex>

#include "core/error.h"
#include "core/json_config.h"
#include "core/rng.h"
#include "core/runtime.h"
#include "io/checkpoint.h"
#include "models/sampler.h"
#include "train/optim.h"
#include "train/regularizers.h"
#include "version.h"

namespace gf {
namespace {

void set_requires_grad(torch::nn::Module& m, bool on) {
  for (auto& p : m.parameters()) p.set_requires_grad(on);
}

double grad_norm(torch::nn::Module& m) {
  double sq = 0;
  for (const auto& p : m.parameters()) {
    if (p.grad().defined()) sq += p.grad().pow(2).sum().item<double>();
  }
  return std::sqrt(sq);
}

Gan seeded_gan(const RunConfig& config) {
  // Weight initialisation is the only user of the global generator (locked: ranks of a
  // data-parallel group may share a process in tests).
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  torch::manual_seed(derive_seed(static_cast<uint64_t>(config.seed), Stream::kInit));
  return build_gan(config.model);
}

// Reads the tensor at a dotted module path ("net.0.weight") from a module archive.
bool read_nested(torch::serialize::InputArchive& archive, const std::string& name,
                 torch::Tensor& out, bool is_buffer) {
  const auto dot = name.find('.');
  if (dot == std::string::npos) return archive.try_read(name, out, is_buffer);
  torch::serialize::InputArchive child;
  if (!archive.try_read(name.substr(0, dot), child)) return false;
  return read_nested(child, name.substr(dot + 1), out, is_buffer);
}

void init_module_from(torch::nn::Module& m, torch::serialize::InputArchive& archive,
                      const std::string& prefix, InitReport& report) {
  torch::NoGradGuard no_grad;
  auto visit = [&](const std::string& name, torch::Tensor& t, bool is_buffer) {
    torch::Tensor src;
    if (!read_nested(archive, name, src, is_buffer)) {
      report.fresh.push_back(prefix + name);
    } else if (src.sizes() != t.sizes()) {
      report.skipped.push_back(concat(prefix, name, " (", src.sizes(), " vs ", t.sizes(), ")"));
    } else {
      t.copy_(src);
      report.loaded.push_back(prefix + name);
    }
  };
  for (auto& p : m.named_parameters()) visit(p.key(), p.value(), false);
  for (auto& b : m.named_buffers()) visit(b.key(), b.value(), true);
}

}  // namespace

Trainer::Trainer(const RunConfig& config, const Dataset& data, std::shared_ptr<Distributed> dist)
    : config_(config),
      device_(parse_device(config.train.device)),
      gan_(seeded_gan(config)),
      loader_(data, config.train.batch, static_cast<uint64_t>(config.seed)),
      gen_(at::detail::createCPUGenerator(
          derive_seed(static_cast<uint64_t>(config.seed), Stream::kTrain))),
      dist_(std::move(dist)) {
  const int64_t world = dist_ ? dist_->world_size() : 1;
  GF_CHECK(config.train.batch % world == 0, "train.batch (", config.train.batch,
           ") is the global batch and must divide evenly over ", world, " ranks");
  local_batch_ = config.train.batch / world;
  local_begin_ = (dist_ ? dist_->rank() : 0) * local_batch_;
  GF_CHECK(!config.model.is_conditional() || data.y.defined(),
           "model.conditional = ", config.model.conditional, " needs labelled data; ", data.name,
           " has no labels");
  gan_.g->to(device_);
  gan_.d->to(device_);
  // Every rank starts from rank 0's weights (they are equal anyway: same seed).
  if (dist_) {
    dist_->broadcast_module(*gan_.g);
    dist_->broadcast_module(*gan_.d);
  }
  if (config.train.ema_kimg > 0) {
    ema_ = std::make_unique<Ema>(config.model, *gan_.g, config.train.ema_kimg,
                                 config.train.ema_rampup);
  }
  opt_g_ = make_optimizer(config.train, gan_.g->parameters(), config.train.lr_g);
  opt_d_ = make_optimizer(config.train, gan_.d->parameters(), config.train.lr_d);
  loss_ = make_loss({config.train.loss, config.train.g_loss, config.train.label_smoothing});
  check_augment(config.train.augment);
  GF_CHECK(config.train.augment == "none" || data.is_image(), "train.augment needs image data; ",
           data.name, " is not");
}

int64_t Trainer::epoch() const {
  return step_ * config_.train.n_critic / loader_.batches_per_epoch();
}

int64_t Trainer::total_steps() const {
  if (planned_steps_ > 0) return planned_steps_;
  if (config_.train.steps > 0) return config_.train.steps;
  return std::max<int64_t>(
      1, config_.train.epochs * loader_.batches_per_epoch() / config_.train.n_critic);
}

double Trainer::lr_factor(int64_t step) const {
  const double total = static_cast<double>(total_steps());
  const double start = config_.train.lr_decay_start * total;
  if (static_cast<double>(step) <= start || total <= start) return 1.0;
  return std::max(0.0, (total - static_cast<double>(step)) / (total - start));
}

torch::Tensor Trainer::random_labels(int64_t n) {
  if (!config_.model.is_conditional()) return {};
  return torch::randint(config_.model.num_classes, {n}, gen_, torch::kInt64).to(device_);
}

DOutput Trainer::d_forward(const torch::Tensor& x, const torch::Tensor& labels) {
  DOutput out = gan_.d->forward(x, labels);
  // Losses and D's statistics in fp32 also when autocast made the logits bf16.
  out.logits = out.logits.to(torch::kFloat32);
  if (out.class_logits.defined()) out.class_logits = out.class_logits.to(torch::kFloat32);
  return out;
}

torch::Tensor Trainer::local(const torch::Tensor& global) const {
  if (!dist_ || !global.defined()) return global;
  return global.narrow(0, local_begin_, local_batch_);
}

// What D sees: instance noise (decaying to 0), then the DiffAugment policy, on reals and fakes.
torch::Tensor Trainer::d_input(const torch::Tensor& x) {
  const TrainOptions& o = config_.train;
  if (o.instance_noise <= 0 && o.augment == "none") return x;
  // The noise and augmentation are drawn for the whole global batch; this rank's rows sit at its
  // offset, so each sample gets the draw it gets in a single process.
  torch::Tensor out = x;
  if (dist_) {
    std::vector<int64_t> shape = x.sizes().vec();
    shape[0] = config_.train.batch;
    out = torch::zeros(shape, x.options())
              .slice_scatter(x, 0, local_begin_, local_begin_ + local_batch_);
  }
  if (o.instance_noise > 0) {
    const double until = o.instance_noise_until * static_cast<double>(total_steps());
    const double sigma = o.instance_noise * std::max(0.0, 1.0 - static_cast<double>(step_) / until);
    out = instance_noise(out, sigma, gen_);
  }
  return local(diff_augment(out, o.augment, gen_));
}

StepStats Trainer::step(bool with_grad_norms) {
  namespace F = torch::nn::functional;
  const ModelSpec& spec = config_.model;
  const TrainOptions& o = config_.train;
  const bool acgan = spec.conditional == "acgan";
  const double factor = lr_factor(step_) * lr_scale_;
  for (auto& group : opt_g_->param_groups()) group.options().set_lr(o.lr_g * factor);
  for (auto& group : opt_d_->param_groups()) group.options().set_lr(o.lr_d * factor);

  StepStats s;
  // The statistics stay on the device until the step ends: one host sync per step.
  enum { kLossD, kLossG, kDReal, kDFake, kR1, kGp, kAux, kLecam, kLogitReal, kLogitFake, kStats };
  std::array<torch::Tensor, kStats> stat;
  torch::Tensor fake, fake_labels;
  for (int64_t k = 0; k < o.n_critic; ++k) {
    auto batch = loader_.batch(step_ * o.n_critic + k, local_begin_, local_batch_);
    auto real = batch.x.to(device_);
    auto labels = batch.y.defined() ? batch.y.to(device_) : torch::Tensor();
    auto z = local(random_latents(spec, o.batch, gen_, device_));
    fake_labels = local(random_labels(o.batch));
    const bool r1 = o.r1_gamma > 0 && (step_ * o.n_critic + k) % o.r1_every == 0;
    if (r1) real.requires_grad_(true);
    DOutput real_out, fake_out;
    torch::Tensor loss_d, objective;
    {
      AutocastScope autocast(o.precision, device_);
      // The last critic step's G(z) also serves G's update: G does not change in between.
      fake = gan_.g->forward(z, fake_labels);
      real_out = d_forward(d_input(real), labels);
      fake_out = d_forward(d_input(fake.detach()), fake_labels);
      loss_d = loss_->d_loss(real_out.logits, fake_out.logits);
      objective = loss_d;
      if (r1) {
        // Lazy regularisation (Karras et al. 2020, StyleGAN2, appendix B): every k steps, x k.
        auto penalty = r1_penalty(real_out.logits, real);
        stat[kR1] = penalty.detach();
        objective = objective + penalty * (0.5 * o.r1_gamma * static_cast<double>(o.r1_every));
      }
      if (o.lecam > 0 && lecam_.started) {
        auto penalty = lecam_penalty(real_out.logits, fake_out.logits, lecam_.real, lecam_.fake);
        stat[kLecam] = penalty.detach();
        objective = objective + penalty * o.lecam;
      }
      if (o.loss == "wgan-gp") {
        auto eps = local(torch::rand({o.batch}, gen_, torch::kFloat32));
        auto gp = gradient_penalty(*gan_.d, real, fake, fake_labels, eps);
        stat[kGp] = gp.detach();
        objective = objective + gp * o.gp_lambda;
      }
      if (acgan) {
        // AC-GAN (Odena et al. 2017, eq. 2): D also classifies reals and fakes by their labels.
        auto aux = F::cross_entropy(real_out.class_logits, labels);
        stat[kAux] = aux.detach();
        objective =
            objective + (aux + F::cross_entropy(fake_out.class_logits, fake_labels)) * o.aux_weight;
      }
    }
    opt_d_->zero_grad();
    objective.backward();
    if (dist_) dist_->average_gradients(*gan_.d);
    if (with_grad_norms && k == o.n_critic - 1) s.grad_norm_d = grad_norm(*gan_.d);
    opt_d_->step();
    if (o.loss == "wgan") {
      // WGAN (Arjovsky et al. 2017, alg. 1): clip the critic's weights to [-c, c].
      torch::NoGradGuard no_grad;
      for (auto& p : gan_.d->parameters()) p.clamp_(-o.clip, o.clip);
    }
    if (k == o.n_critic - 1) {
      // Reported from the last critic step only.
      torch::NoGradGuard no_grad;
      stat[kLossD] = loss_d.detach();
      stat[kDReal] = torch::sigmoid(real_out.logits).mean();
      stat[kDFake] = torch::sigmoid(fake_out.logits).mean();
      if (o.lecam > 0) {
        stat[kLogitReal] = real_out.logits.mean();
        stat[kLogitFake] = fake_out.logits.mean();
      }
    }
  }

  // G's step: D is frozen, so no gradient is computed for (or applied to) its parameters.
  set_requires_grad(*gan_.d, false);
  torch::Tensor loss_g, objective_g;
  {
    AutocastScope autocast(o.precision, device_);
    auto out = d_forward(d_input(fake), fake_labels);
    loss_g = loss_->g_loss(out.logits);
    objective_g = loss_g;
    if (acgan)
      objective_g = objective_g + F::cross_entropy(out.class_logits, fake_labels) * o.aux_weight;
  }
  opt_g_->zero_grad();
  objective_g.backward();
  if (dist_) dist_->average_gradients(*gan_.g);
  if (with_grad_norms) s.grad_norm_g = grad_norm(*gan_.g);
  opt_g_->step();
  set_requires_grad(*gan_.d, true);
  stat[kLossG] = loss_g.detach();
  {
    torch::NoGradGuard no_grad;
    auto zero = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device_));
    std::vector<torch::Tensor> parts;
    for (const auto& t : stat)
      parts.push_back(t.defined() ? t.to(torch::kFloat64).reshape({}) : zero);
    auto v = torch::stack(parts);
    // The global batch's statistics (every rank sees the same, so a NaN stops all of them); on
    // the device, where NCCL reduces.
    if (dist_) dist_->average({v});
    v = v.cpu();
    const auto a = v.accessor<double, 1>();
    s.loss_d = a[kLossD], s.loss_g = a[kLossG], s.d_real = a[kDReal], s.d_fake = a[kDFake];
    s.r1 = a[kR1], s.gp = a[kGp], s.aux = a[kAux], s.lecam = a[kLecam];
    // The means of the global batch, so every rank keeps the same running means.
    if (o.lecam > 0) lecam_.update(a[kLogitReal], a[kLogitFake]);
  }

  if (!std::isfinite(s.loss_d) || !std::isfinite(s.loss_g)) {
    throw DivergedError(concat("training diverged at step ", step_ + 1, ": loss_d = ", s.loss_d,
                               ", loss_g = ", s.loss_g, " (try a lower learning rate)"));
  }
  ++step_;
  if (ema_) ema_->update(*gan_.g, step_ * o.batch, o.batch);
  return s;
}

void Trainer::save(const std::string& path) const {
  nlohmann::json meta = {{"model", config_.model.to_json()},
                         {"config", config_.to_json()},
                         {"step", step_},
                         {"epoch", epoch()},
                         {"lr_scale", lr_scale_},
                         {"planned_steps", planned_steps_},
                         {"time_used_s", time_used_},
                         {"lecam_ema", {lecam_.started, lecam_.real, lecam_.fake}},
                         {"ema", ema_ != nullptr},
                         {"ganforge_version", kVersion}};
  CheckpointWriter w(std::move(meta));
  gan_.g->save(w.section("G"));
  gan_.d->save(w.section("D"));
  if (ema_) ema_->model().save(w.section("G_ema"));
  opt_g_->save(w.section("opt_G"));
  opt_d_->save(w.section("opt_D"));
  w.section("rng").write("train", gen_.get_state());
  w.write(path);
}

void Trainer::load(const std::string& path) {
  CheckpointReader r(path, device_);
  // Compared as parsed specs: a checkpoint from before a key existed has that key's default.
  const ModelSpec spec =
      read_json_values(path, [&] { return ModelSpec::from_json(r.meta()["model"]); });
  GF_CHECK(spec.to_json() == config_.model.to_json(), path,
           ": the checkpoint's model spec differs from this run's");
  try {
    gan_.g->load(r.section("G"));
    gan_.d->load(r.section("D"));
    if (ema_) ema_->model().load(r.section("G_ema"));
    opt_g_->load(r.section("opt_G"));
    opt_d_->load(r.section("opt_D"));
    torch::Tensor state;
    r.section("rng").read("train", state);
    // The reader puts every tensor on the run's device; a CPU generator takes its state on the CPU.
    gen_.set_state(state.cpu());
  } catch (const c10::Error& e) {
    throw Error(concat(path, ": checkpoint does not match the model (",
                       first_line(e.what_without_backtrace()), ")"));
  }
  read_json_values(path, [&] {
    const auto& m = r.meta();
    step_ = m["step"].get<int64_t>();
    lr_scale_ = m.value("lr_scale", 1.0);
    planned_steps_ = m.value("planned_steps", int64_t{0});
    time_used_ = m.value("time_used_s", 0.0);
    if (m.contains("lecam_ema")) {
      lecam_.started = m["lecam_ema"].at(0).get<bool>();
      lecam_.real = m["lecam_ema"].at(1).get<double>();
      lecam_.fake = m["lecam_ema"].at(2).get<double>();
    }
  });
  broadcast_state();
}

void Trainer::broadcast_state() {
  // Every rank read the same checkpoint; rank 0's copy settles any doubt.
  if (!dist_) return;
  dist_->broadcast_module(*gan_.g);
  dist_->broadcast_module(*gan_.d);
  if (ema_) dist_->broadcast_module(ema_->model());
}

InitReport Trainer::init_from(const std::string& path) {
  CheckpointReader r(path, device_);
  InitReport report;
  try {
    init_module_from(*gan_.g, r.section("G"), "G.", report);
    init_module_from(*gan_.d, r.section("D"), "D.", report);
  } catch (const c10::Error& e) {
    throw Error(
        concat(path, ": cannot read weights (", first_line(e.what_without_backtrace()), ")"));
  }
  if (ema_) copy_weights(*gan_.g, ema_->model());
  broadcast_state();
  return report;
}

}  // namespace gf
