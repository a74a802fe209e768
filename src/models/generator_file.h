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

// Builds G from a checkpoint (or a run directory's newest) or an exported .safetensors file, on
// `device`, in eval mode: the EMA generator when the checkpoint has one and `use_ema`, else G.
LoadedGenerator load_generator(const std::string& path_or_run_dir,
                               const std::string& device = "cpu", bool use_ema = true);

// Writes the (EMA) generator as safetensors: parameters and buffers by name, the model spec,
// step and ganforge version in __metadata__.
void export_safetensors(const LoadedGenerator& g, const std::string& path);

}  // namespace gf
