// Training-step and generation benchmarks measured inside ganforge (`ganforge bench`), on
// synthetic data of the model's shape so that data loading does not enter the timings.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/config.h"

namespace gf {

struct BenchOptions {
  int64_t steps = 30;      // timed training steps
  int64_t warmup = 5;      // untimed steps first
  bool generation = true;  // also time generation at batch 1 and 256 and PNG encoding
};

// Peak resident memory of this process so far (VmHWM), in MiB.
double peak_rss_mib();

// Runs the config's model with synthetic data; returns ms/step (median, p10, p90, all), generation
// images/s and PNG images/s, and peak RSS.
nlohmann::json bench_training(RunConfig config, const BenchOptions& options);

}  // namespace gf
