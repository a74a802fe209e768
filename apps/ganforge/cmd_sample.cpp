#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "core/error.h"
#include "core/file.h"
#include "core/runtime.h"
#include "data/dataset.h"
#include "data/idx.h"
#include "io/image.h"
#include "models/generator_file.h"
#include "models/sampler.h"

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
  bool no_ema = false;
  std::vector<std::string> labels;  // one per image, or one for all: indices or class names
};

void run_sample(const SampleOptions& o) {
  set_threads(static_cast<int>(o.threads));
  LoadedGenerator model = load_generator(o.checkpoint, o.device, !o.no_ema);
  torch::Tensor labels;
  if (!o.labels.empty()) {
    GF_CHECK(model.spec.is_conditional(), model.path,
             " holds an unconditional model; --label/--labels need a conditional one");
    GF_CHECK(o.labels.size() == 1 || static_cast<int64_t>(o.labels.size()) == o.n,
             "--labels needs one label per image (", o.n, ") or a single label, got ",
             o.labels.size());
    std::vector<int64_t> indices;
    for (const auto& l : o.labels) indices.push_back(model.spec.class_index(l, model.path));
    labels = torch::tensor(indices, torch::kInt64);
    if (o.labels.size() == 1) labels = labels.expand({o.n}).contiguous();
  } else if (model.spec.is_conditional()) {
    labels = default_labels(model.spec, 0, o.n);
  }
  auto images =
      generate(*model.g, model.spec, static_cast<uint64_t>(o.seed), o.n, o.batch, 0, labels);
  const bool is_image = images.dim() == 4;
  if (ends_with(o.out, ".png")) {
    const bool by_class = model.spec.is_conditional() && o.labels.empty();
    write_png(o.out, samples_picture(images, {}, by_class ? model.spec.num_classes : 0));
  } else if (ends_with(o.out, ".idx") || ends_with(o.out, ".idx.gz")) {
    // One channel: N x H x W (idx3, as MNIST); colour: N x H x W x C (idx4, channels last).
    GF_CHECK(is_image, "idx output needs an image model; ", model.path,
             " generates samples of shape ", images.sizes().slice(1));
    auto pixels = images.size(1) == 1 ? unit_to_pixels(images).squeeze(1).contiguous()
                                      : unit_to_pixels(images).permute({0, 2, 3, 1}).contiguous();
    IdxArray arr;
    arr.dims = pixels.sizes().vec();
    arr.data.assign(pixels.data_ptr<uint8_t>(), pixels.data_ptr<uint8_t>() + pixels.numel());
    write_idx(o.out, arr);
    if (labels.defined()) {
      // Labels beside the images, as MNIST pairs them: x.idx -> x.labels.idx.
      const std::string base = o.out.substr(0, o.out.rfind(".idx"));
      IdxArray lab;
      lab.dims = {o.n};
      auto l8 = labels.to(torch::kUInt8).contiguous();
      lab.data.assign(l8.data_ptr<uint8_t>(), l8.data_ptr<uint8_t>() + o.n);
      write_idx(base + ".labels" + o.out.substr(base.size()), lab);
    }
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
  cmd->add_flag("--no-ema", o->no_ema, "sample the raw G even when the checkpoint has an EMA G");
  auto* labels = cmd->add_option("--labels", o->labels, "classes, one per image: 0,1,2 or names")
                     ->delimiter(',');
  cmd->add_option("--label", o->labels, "one class for every image (index or name)")
      ->excludes(labels);
  return [o] { run_sample(*o); };
}

}  // namespace gf::cli
