// The Trainer owns G, D, their optimizers, the loss, the data order, the EMA of G and the
// training RNG. One step is the seed's, generalised: n_critic D updates on real and generated
// batches, then one G update through D with D's parameters frozen. Its full state round-trips
// through a checkpoint, so resuming gives bit-identical weights to an uninterrupted run on the
// same thread count.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/optim/optimizer.h>

#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "models/registry.h"
#include "train/config.h"
#include "train/distributed.h"
#include "train/ema.h"
#include "train/losses.h"
#include "train/regularizers.h"

namespace gf {

struct StepStats {
  double loss_d = 0;  // the adversarial loss of D (without penalties), last critic step
  double loss_g = 0;
  double d_real = 0;       // mean sigmoid(D(x)): D's belief that reals are real
  double d_fake = 0;       // mean sigmoid(D(G(z))) before D's update
  double r1 = 0;           // R1 penalty (unweighted) when computed this step
  double lecam = 0;        // LeCam penalty (unweighted)
  double gp = 0;           // WGAN-GP penalty (unweighted)
  double aux = 0;          // acgan: D's classification loss on reals
  double grad_norm_g = 0;  // L2 norm of G's and D's gradients (when asked for)
  double grad_norm_d = 0;
};

// Thrown when a loss becomes NaN or Inf.
class DivergedError : public Error {
 public:
  using Error::Error;
};

// What --init-from did, tensor by tensor.
struct InitReport {
  std::vector<std::string> loaded, skipped, fresh;
};

class Trainer {
 public:
  // `config.model` must be resolved (out_shape set); `data` must outlive the trainer. With
  // `dist`, this trainer is one rank of a data-parallel group: it trains on its slice of every
  // global batch of train.batch samples, gradients and statistics are averaged over the ranks,
  // and all random draws are made for the whole global batch (each rank keeps its slice), so the
  // run equals a single process's with the same global batch, whatever the world size.
  Trainer(const RunConfig& config, const Dataset& data,
          std::shared_ptr<Distributed> dist = nullptr);

  // One training step; `with_grad_norms` also measures the gradient norms.
  StepStats step(bool with_grad_norms = false);

  int64_t step_index() const { return step_; }
  int64_t epoch() const;
  int64_t batches_per_epoch() const { return loader_.batches_per_epoch(); }
  int64_t total_steps() const;
  // A time-budgeted run's plan (train/budget.h) replaces the configured length; both it and the
  // budget seconds used so far are saved in checkpoints.
  void set_planned_steps(int64_t steps) { planned_steps_ = steps; }
  double time_used() const { return time_used_; }
  void set_time_used(double seconds) { time_used_ = seconds; }
  // The learning-rate factor at a step: 1, then linear decay to 0 after train.lr_decay_start.
  double lr_factor(int64_t step) const;
  // Scales both learning rates (rollback after a NaN halves them); saved in checkpoints.
  double lr_scale() const { return lr_scale_; }
  void set_lr_scale(double scale) { lr_scale_ = scale; }

  void save(const std::string& path) const;
  // Restores everything save() wrote; the checkpoint's model spec must match this trainer's.
  void load(const std::string& path);
  // Fine-tuning: copies every tensor of G and D whose name and shape match from another run's
  // checkpoint; the rest keeps its fresh initialisation.
  InitReport init_from(const std::string& path);

  Generator& generator() { return *gan_.g; }
  Discriminator& discriminator() { return *gan_.d; }
  // The generator to sample from: the EMA copy when train.ema_kimg > 0, else G.
  Generator& sampling_generator() { return ema_ ? ema_->model() : *gan_.g; }
  const RunConfig& config() const { return config_; }

 private:
  torch::Tensor random_labels(int64_t n);
  torch::Tensor d_input(const torch::Tensor& x);
  DOutput d_forward(const torch::Tensor& x, const torch::Tensor& labels);
  // This rank's rows of a tensor drawn for the whole global batch.
  torch::Tensor local(const torch::Tensor& global) const;
  void broadcast_state();

  RunConfig config_;
  torch::Device device_;
  Gan gan_;
  std::unique_ptr<Ema> ema_;
  std::unique_ptr<torch::optim::Optimizer> opt_g_;
  std::unique_ptr<torch::optim::Optimizer> opt_d_;
  std::unique_ptr<GanLoss> loss_;
  BatchLoader loader_;
  at::Generator gen_;
  int64_t step_ = 0;
  double lr_scale_ = 1.0;
  int64_t planned_steps_ = 0;  // 0: the configured length
  double time_used_ = 0;
  LecamEma lecam_;  // running means of D's logits for LeCam (train.lecam)
  std::shared_ptr<Distributed> dist_;
  int64_t local_begin_ = 0;  // this rank's rows of a global batch
  int64_t local_batch_ = 0;
};

}  // namespace gf
