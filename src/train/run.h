// A training run end to end: resolve the config, open the run directory, train with logging,
// sample grids and checkpoints, resume when asked. The CLI's `train` only fills TrainRequest.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gf {

struct TrainRequest {
  std::string config_path;             // preset; empty: defaults only
  std::vector<std::string> overrides;  // "train.lr_g=1e-4", applied after the preset
  std::string data_dir;                // --data DIR (data.dir)
  std::string out;                     // run directory; empty: runs/<name>
  std::string resume;                  // run directory to continue
  int64_t steps = -1;                  // --steps (total), -1: from config
  int64_t epochs = -1;                 // --epochs, -1: from config
  int64_t seed = -1;                   // --seed, -1: from config
  int64_t threads = -1;                // --threads, -1: from config
  std::string device;                  // --device, empty: from config
  std::string precision;               // --precision fp32|bf16, empty: from config
  std::string init_from;               // --init-from CHECKPOINT (fine-tuning)
  std::string time;                    // --time 10m (train.time_budget), empty: from config
  bool overwrite = false;              // replace an existing run directory
  // Data-parallel training over the ranks torchrun's variables describe (also when WORLD_SIZE
  // > 1 without this flag); only rank 0 writes the run directory.
  bool distributed = false;
  double dist_timeout_s = 300;  // rendezvous and every collective; a silent rank fails the rest
};

struct TrainResult {
  std::string run_dir;
  std::string checkpoint;  // the last one written
  std::string samples;     // the last sample grid
  std::string report;      // report.html
  int64_t steps = 0;       // steps done in this invocation
  int64_t total_steps = 0;
  double seconds = 0;      // wall time of the training loop
  double ms_per_step = 0;  // mean over this invocation's steps
  bool writer = true;      // this process wrote the run directory (rank 0, or no ranks)
};

TrainResult run_training(const TrainRequest& request);

}  // namespace gf
