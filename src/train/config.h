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
  int64_t steps = 0;  // total G steps; 0: epochs x batches per epoch / n_critic
  // Wall-clock budget ("10m", "1h30m"; "": none): replaces steps and epochs (train/budget.h).
  std::string time_budget;
  std::string loss = "bce";              // a name from loss_names()
  std::string g_loss = "nonsaturating";  // bce only: nonsaturating | minimax
  std::string optimizer = "adam";        // a name from optimizer_names()
  double lr_g = 2e-4;
  double lr_d = 2e-4;
  double beta1 = 0.9;  // Adam betas; the seed's Keras defaults
  double beta2 = 0.999;
  double alpha = 0.99;                // RMSprop smoothing
  double momentum = 0.0;              // SGD and RMSprop
  int64_t n_critic = 1;               // D steps per G step (WGAN: 5)
  double lr_decay_start = 1.0;        // linear decay to 0 from this fraction of training (1: none)
  double r1_gamma = 0.0;              // R1 penalty weight on reals (0: off)
  double lecam = 0.0;                 // LeCam regularisation weight (0: off; Tseng et al. 2021)
  int64_t r1_every = 1;               // lazy R1: every k D steps, scaled by k
  double gp_lambda = 10.0;            // wgan-gp penalty weight
  double clip = 0.01;                 // wgan weight clipping bound
  double label_smoothing = 0.0;       // one-sided: real target 1 - s (bce, lsgan)
  double instance_noise = 0.0;        // std of noise on D's inputs, decaying linearly to 0 ...
  double instance_noise_until = 0.5;  // ... at this fraction of training
  std::string augment =
      "none";  // DiffAugment policy: none | translation | cutout | both, comma-separated
  double aux_weight = 1.0;      // acgan: weight of the auxiliary classification loss
  double ema_kimg = 0.0;        // EMA of G: half-life in thousands of images (0: off)
  double ema_rampup = 0.05;     // EMA half-life at most this fraction of images seen (0: off)
  std::string on_nan = "stop";  // stop | rollback (to the last checkpoint, lr halved, 3 times)
  std::string init_from;        // checkpoint to start G and D from (fine-tuning)
  int64_t threads = 0;          // 0: the measured default (see BENCHMARKS.md)
  std::string device = "cpu";   // cpu | cuda | cuda:N
  // fp32 | bf16: mixed precision (autocast; bf16 products, fp32 weights, gradients and loss)
  std::string precision = "fp32";

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

// Training monitors: warnings in log.txt and flags in metrics.jsonl.
struct MonitorOptions {
  // Diversity of the fixed-latent samples: mean pairwise distance relative to real data's.
  double diversity_min = 0.35;
  // D/G imbalance: D(x) above 1 - eps and D(G(z)) below eps for this many logged lines in a row.
  double imbalance_eps = 0.02;
  int64_t imbalance_lines = 10;

  void validate() const;
  nlohmann::json to_json() const;
  static MonitorOptions from_json(const nlohmann::json& j);
};

// Evaluation during training: metrics.jsonl gets an "eval" object, checkpoints/best.ckpt keeps
// the best FID, and the predicted-class histogram feeds the mode-collapse alarm.
struct EvalOptions {
  int64_t every = 0;                 // evaluate every N steps (0: off) and at the end
  std::vector<std::string> metrics;  // empty: default_metrics() for the data (eval/evaluate.h)
  int64_t n = 2000;                  // generated samples per evaluation
  std::string evaluator;             // empty: default_evaluator_path() (eval/evaluate.h)

  void validate() const;
};

struct RunConfig {
  std::string name = "run";
  int64_t seed = 0;
  DataOptions data;
  ModelSpec model;  // out_shape and num_classes come from the data when empty
  TrainOptions train;
  LogOptions log;
  MonitorOptions monitor;
  EvalOptions eval;

  void validate() const;
  nlohmann::json to_json() const;
  static RunConfig from_json(const nlohmann::json& j);
};

// Defaults <- preset file (optional) <- overrides ("train.lr_g=1e-4"), strictly checked.
RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides);
RunConfig config_from_json_strict(const nlohmann::json& user,
                                  const std::vector<std::string>& overrides);

}  // namespace gf
