// Loading a generator from a checkpoint for sampling and evaluation.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "models/registry.h"

namespace gf {

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
