// The Trainer owns G, D, their optimizers, the loss, the data order and the training RNG. One
// step is the seed's: update D on a real and a generated batch, then update G through D with D's
// parameters frozen. Its full state round-trips through a checkpoint, so resuming gives
// bit-identical weights to an uninterrupted run on the same thread count.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/optim/optimizer.h>

#include <memory>
#include <string>

#include "data/dataset.h"
#include "data/loader.h"
#include "models/registry.h"
#include "train/config.h"
#include "train/losses.h"

namespace gf {

struct StepStats {
  double loss_d = 0;
  double loss_g = 0;
  double d_real = 0;  // mean D(x)
  double d_fake = 0;  // mean D(G(z)) before D's update
  double r1 = 0;      // R1 penalty (unweighted) when computed this step
};

class Trainer {
 public:
  // `config.model` must be resolved (out_shape set); `data` must outlive the trainer.
  Trainer(const RunConfig& config, const Dataset& data);

  StepStats step();

  int64_t step_index() const { return step_; }
  int64_t epoch() const { return step_ / loader_.batches_per_epoch(); }
  int64_t batches_per_epoch() const { return loader_.batches_per_epoch(); }
  // train.steps, or train.epochs x batches per epoch.
  int64_t total_steps() const;
  // The learning-rate factor at a step: 1, then linear decay to 0 after train.lr_decay_start.
  double lr_factor(int64_t step) const;

  void save(const std::string& path) const;
  // Restores everything save() wrote; the checkpoint's model spec must match this trainer's.
  void load(const std::string& path);

  Generator& generator() { return *gan_.g; }
  Discriminator& discriminator() { return *gan_.d; }
  const RunConfig& config() const { return config_; }

 private:
  RunConfig config_;
  torch::Device device_;
  Gan gan_;
  std::unique_ptr<torch::optim::Optimizer> opt_g_;
  std::unique_ptr<torch::optim::Optimizer> opt_d_;
  std::unique_ptr<GanLoss> loss_;
  BatchLoader loader_;
  at::Generator gen_;
  int64_t step_ = 0;
};

}  // namespace gf
