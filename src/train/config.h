// The run configuration: one JSON document per run (configs/*.json are presets). Option structs
// hold the defaults; load_run_config() merges a preset and --set overrides onto them strictly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "models/spec.h"

namespace gf {

struct TrainOptions {
  int64_t batch = 128;
  int64_t epochs = 20;
  int64_t steps = 0;                     // total steps; 0: epochs x batches per epoch
  std::string loss = "bce";              // a name from loss_names()
  std::string g_loss = "nonsaturating";  // bce only: nonsaturating | minimax
  std::string optimizer = "adam";        // a name from optimizer_names()
  double lr_g = 2e-4;
  double lr_d = 2e-4;
  double beta1 = 0.9;  // Adam betas; the seed's Keras defaults
  double beta2 = 0.999;
  double alpha = 0.99;          // RMSprop smoothing
  double momentum = 0.0;        // SGD and RMSprop
  double r1_gamma = 0.0;        // R1 penalty weight on reals (0: off)
  int64_t r1_every = 1;         // lazy R1: every k D steps, scaled by k
  double lr_decay_start = 1.0;  // linear decay to 0 from this fraction of training (1: none)
  int64_t threads = 0;          // 0: the measured default (see BENCHMARKS.md)
  std::string device = "cpu";   // cpu | cuda | cuda:N

  void validate() const;
  nlohmann::json to_json() const;
  static TrainOptions from_json(const nlohmann::json& j);
};

struct LogOptions {
  int64_t every = 50;              // metrics.jsonl line every N steps
  int64_t sample_every = 250;      // samples/step_NNNNNN.png every N steps
  int64_t checkpoint_every = 500;  // checkpoint every N steps (and at the end)
  int64_t keep = 3;                // checkpoints kept
  int64_t grid = 64;               // images in a sample grid (points for 2-D data: x40)

  void validate() const;
  nlohmann::json to_json() const;
  static LogOptions from_json(const nlohmann::json& j);
};

struct RunConfig {
  std::string name = "run";
  int64_t seed = 0;
  DataOptions data;
  ModelSpec model;  // out_shape and num_classes come from the data when empty
  TrainOptions train;
  LogOptions log;

  void validate() const;
  nlohmann::json to_json() const;
  static RunConfig from_json(const nlohmann::json& j);
};

// Defaults <- preset file (optional) <- overrides ("train.lr_g=1e-4"), strictly checked.
RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides);
RunConfig config_from_json_strict(const nlohmann::json& user,
                                  const std::vector<std::string>& overrides);

}  // namespace gf
