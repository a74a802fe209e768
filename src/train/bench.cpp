#include "train/bench.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

#include "core/error.h"
#include "core/runtime.h"
#include "data/dataset.h"
#include "io/image.h"
#include "models/sampler.h"
#include "train/trainer.h"

namespace gf {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

double peak_rss_mib() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0.0;
}

nlohmann::json bench_training(RunConfig config, const BenchOptions& o) {
  GF_CHECK(o.steps >= 1 && o.warmup >= 0, "bench needs at least one timed step");
  // Synthetic data of the configured dataset's shape: 28x28 digits, a folder's resolution and
  // channels (colour unless told 1), or 2-D points for the ring.
  Dataset data;
  data.name = "synthetic";
  const bool image = config.data.dataset != "ring";
  const int64_t n = config.train.batch * 4;
  const int64_t res = config.data.dataset == "folder" ? config.data.resolution : 28;
  const int64_t channels = config.data.dataset == "folder" && config.data.channels != 1 ? 3 : 1;
  torch::manual_seed(1);
  data.x = image ? torch::rand({n, channels, res, res}) * 2 - 1 : torch::randn({n, 2});
  data.y = torch::randint(10, {n}, torch::kInt64);
  data.num_classes = 10;
  config.model.out_shape = data.sample_shape();
  config.model.num_classes = 10;
  config.train.steps = o.warmup + o.steps;
  Trainer trainer(config, data);
  for (int64_t i = 0; i < o.warmup; ++i) trainer.step();
  std::vector<double> ms;
  for (int64_t i = 0; i < o.steps; ++i) {
    const auto t = Clock::now();
    trainer.step();
    ms.push_back(ms_since(t));
  }
  nlohmann::json r = {{"model", config.model.arch},         {"batch", config.train.batch},
                      {"threads", current_threads()},       {"steps", o.steps},
                      {"ms_per_step", percentile(ms, 0.5)}, {"ms_p10", percentile(ms, 0.1)},
                      {"ms_p90", percentile(ms, 0.9)},      {"ms_all", ms}};
  if (o.generation) {
    Generator& g = trainer.sampling_generator();
    for (int64_t batch : {int64_t{1}, int64_t{256}}) {
      const int64_t count = batch == 1 ? 200 : 1024;
      generate(g, config.model, 7, batch, batch);  // warm-up
      const auto t = Clock::now();
      generate(g, config.model, 7, count, batch);
      r["gen_images_per_s_batch" + std::to_string(batch)] = 1000.0 * count / ms_since(t);
    }
    if (image) {
      auto s = generate(g, config.model, 7, 64);
      const auto t = Clock::now();
      for (int i = 0; i < 10; ++i) encode_png(samples_picture(s));
      r["png_images_per_s"] = 1000.0 * 640 / ms_since(t);
    }
  }
  r["peak_rss_mib"] = peak_rss_mib();
  const char* core = std::getenv("OPENBLAS_CORETYPE");
  r["blas_coretype"] = core ? core : "";
  return r;
}

}  // namespace gf
