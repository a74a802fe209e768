// Where checkpoints live in a run directory, and loading a generator for sampling.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/registry.h"

namespace gf {

// runs/<name>/checkpoints/step_000500.ckpt
std::string checkpoint_path(const std::string& run_dir, int64_t step);
// The checkpoints of a run, oldest first (by step).
std::vector<std::string> list_checkpoints(const std::string& run_dir);
// A checkpoint file as it is, or a run directory's newest checkpoint.
std::string resolve_checkpoint(const std::string& path_or_run_dir);
// Deletes all but the newest `keep` checkpoints.
void prune_checkpoints(const std::string& run_dir, int64_t keep);

struct LoadedGenerator {
  std::string path;
  ModelSpec spec;
  std::shared_ptr<Generator> g;
  bool ema = false;     // g is the EMA generator
  nlohmann::json meta;  // step, epoch, config, ...
};

// Builds G from a checkpoint (or a run directory's newest), on `device`, in eval mode: the EMA
// generator when the checkpoint has one and `use_ema`, else the raw G.
LoadedGenerator load_generator(const std::string& path_or_run_dir,
                               const std::string& device = "cpu", bool use_ema = true);

}  // namespace gf
