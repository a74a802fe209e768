#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "core/error.h"
#include "core/runtime.h"
#include "data/dataset.h"
#include "data/idx.h"
#include "io/image.h"
#include "models/sampler.h"
#include "train/checkpoint_files.h"

namespace gf::cli {
namespace {

struct SampleOptions {
  std::string checkpoint;
  int64_t n = 64;
  int64_t seed = 0;
  std::string out;
  int64_t batch = 256;
  int64_t threads = 0;
  std::string device = "cpu";
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void run_sample(const SampleOptions& o) {
  set_threads(static_cast<int>(o.threads));
  LoadedGenerator model = load_generator(o.checkpoint, o.device);
  auto images = generate(*model.g, model.spec, static_cast<uint64_t>(o.seed), o.n, o.batch);
  const bool is_image = images.dim() == 4;
  if (ends_with(o.out, ".png")) {
    write_png(o.out, samples_picture(images));
  } else if (ends_with(o.out, ".idx") || ends_with(o.out, ".idx.gz")) {
    GF_CHECK(is_image && images.size(1) == 1, "idx output needs a one-channel image model; ",
             model.path, " generates samples of shape ", images.sizes().slice(1));
    auto pixels = unit_to_pixels(images).squeeze(1).contiguous();
    IdxArray arr;
    arr.dims = pixels.sizes().vec();
    arr.data.assign(pixels.data_ptr<uint8_t>(), pixels.data_ptr<uint8_t>() + pixels.numel());
    write_idx(o.out, arr);
  } else {
    GF_CHECK(is_image, "a directory of PNGs needs an image model; use a .png path for a plot");
    std::filesystem::create_directories(o.out);
    auto pixels = unit_to_pixels(images).permute({0, 2, 3, 1}).contiguous();
    for (int64_t i = 0; i < o.n; ++i) {
      char name[64];
      std::snprintf(name, sizeof name, "seed%lld_%06lld.png", static_cast<long long>(o.seed),
                    static_cast<long long>(i));
      write_png((std::filesystem::path(o.out) / name).string(), pixels[i]);
    }
  }
  std::printf("wrote %lld samples (seed %lld, step %lld of %s) to %s\n",
              static_cast<long long>(o.n), static_cast<long long>(o.seed),
              static_cast<long long>(model.meta.at("step").get<int64_t>()), model.path.c_str(),
              o.out.c_str());
}

}  // namespace

Action add_sample(CLI::App& app) {
  auto o = std::make_shared<SampleOptions>();
  auto* cmd = app.add_subcommand("sample", "generate images from a checkpoint or run directory");
  cmd->add_option("checkpoint", o->checkpoint, "checkpoint file or run directory")->required();
  cmd->add_option("-n", o->n, "number of images")->check(CLI::Range(int64_t{1}, int64_t{100000}));
  cmd->add_option("--seed", o->seed, "seed; image i of seed s is the same whatever n and batch")
      ->check(CLI::Range(int64_t{0}, INT64_MAX));
  cmd->add_option("--out,-o", o->out, "grid.png | DIR (one PNG each) | FILE.idx[.gz]")->required();
  cmd->add_option("--batch", o->batch, "generation batch size")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}));
  cmd->add_option("--threads", o->threads, "intra-op threads (0: default)")
      ->check(CLI::Range(int64_t{0}, int64_t{1024}));
  cmd->add_option("--device", o->device, "cpu | cuda | cuda:N");
  return [o] { run_sample(*o); };
}

}  // namespace gf::cli
