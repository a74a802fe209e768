#include <cstdio>
#include <filesystem>
#include <memory>

#include "apply/project.h"
#include "commands.h"
#include "core/error.h"
#include "core/file.h"
#include "core/runtime.h"
#include "data/dataset.h"
#include "data/idx_pair.h"
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
  std::string latent;               // images from these latents (project's LATENT.json)
  std::string walk_to;              // a walk to this LATENT.json's first latent (and class)
  std::string walk_to_class;        // a walk to this class (blending the class embeddings)
};

// Labels from --label/--labels for n images (undefined when none were given).
torch::Tensor requested_labels(const SampleOptions& o, const LoadedGenerator& model, int64_t n) {
  if (o.labels.empty()) return {};
  GF_CHECK(model.spec.is_conditional(), model.path,
           " holds an unconditional model; --label/--labels need a conditional one");
  GF_CHECK(o.labels.size() == 1 || static_cast<int64_t>(o.labels.size()) == n,
           "--labels needs one label per image (", n, ") or a single label, got ", o.labels.size());
  std::vector<int64_t> indices;
  for (const auto& l : o.labels) indices.push_back(model.spec.class_index(l, model.path));
  auto labels = torch::tensor(indices, torch::kInt64);
  return o.labels.size() == 1 ? labels.expand({n}).contiguous() : labels;
}

// A walk of o.n frames from the first --latent (or image 0 of --seed) to --walk-to's latent
// and/or --walk-to-class: the latents by slerp, the classes by blending their embeddings.
// Returns the images; `labels` gets the class weights (undefined for unconditional models).
torch::Tensor walk(const SampleOptions& o, LoadedGenerator& model, torch::Tensor& labels) {
  const ModelSpec& spec = model.spec;
  LatentSet from = o.latent.empty() ? LatentSet{seeded_latents(spec, o.seed, 0, 1), {}}
                                    : read_latents(o.latent, spec);
  if (spec.is_conditional() && !from.labels.defined()) {
    from.labels =
        o.labels.empty() ? torch::zeros({1}, torch::kInt64) : requested_labels(o, model, 1);
  }
  auto z_to = from.z[0];
  int64_t class_to = spec.is_conditional() ? from.labels[0].item<int64_t>() : -1;
  if (!o.walk_to.empty()) {
    const LatentSet to = read_latents(o.walk_to, spec);
    z_to = to.z[0];
    if (to.labels.defined()) class_to = to.labels[0].item<int64_t>();
  }
  if (!o.walk_to_class.empty()) {
    GF_CHECK(spec.is_conditional(), "--walk-to-class needs a conditional model");
    class_to = spec.class_index(o.walk_to_class, model.path);
  }
  const auto z = walk_between(spec, from.z[0], z_to, o.n);
  if (spec.is_conditional()) {
    labels = class_blend(spec, from.labels[0].item<int64_t>(), class_to, o.n);
  }
  return generate_from_latents(*model.g, spec, z, labels, o.batch);
}

void run_sample(const SampleOptions& o) {
  set_threads(static_cast<int>(o.threads));
  LoadedGenerator model = load_generator(o.checkpoint, o.device, !o.no_ema);
  torch::Tensor labels, images;
  int64_t nrow = 0;  // grid columns: one class per column, or one row for a walk
  if (!o.walk_to.empty() || !o.walk_to_class.empty()) {
    images = walk(o, model, labels);
    nrow = o.n;
  } else if (!o.latent.empty()) {
    // The images a projection found, bit for bit: its latents and classes (or --label).
    LatentSet set = read_latents(o.latent, model.spec);
    labels = o.labels.empty() ? set.labels : requested_labels(o, model, set.z.size(0));
    images = generate_from_latents(*model.g, model.spec, set.z, labels, o.batch);
  } else {
    labels = requested_labels(o, model, o.n);
    if (!labels.defined() && model.spec.is_conditional()) {
      labels = default_labels(model.spec, 0, o.n);
      nrow = model.spec.num_classes;
    }
    images = generate(*model.g, model.spec, static_cast<uint64_t>(o.seed), o.n, o.batch, 0, labels);
  }
  const int64_t n = images.size(0);
  const bool is_image = images.dim() == 4;
  if (ends_with(o.out, ".png")) {
    write_png(o.out, samples_picture(images, {}, nrow));
  } else if (is_idx_pair_path(o.out)) {
    GF_CHECK(is_image, "idx output needs an image model; ", model.path,
             " generates samples of shape ", images.sizes().slice(1));
    // Labels beside the images, as MNIST pairs them: x.idx -> x.labels.idx.
    // A class walk's blends have no single label: no labels file then.
    write_idx_pair(o.out, unit_to_pixels(images).permute({0, 2, 3, 1}),
                   labels.defined() && !labels.is_floating_point() ? labels : torch::Tensor());
  } else {
    GF_CHECK(is_image, "a directory of PNGs needs an image model; use a .png path for a plot");
    std::filesystem::create_directories(o.out);
    auto pixels = unit_to_pixels(images).permute({0, 2, 3, 1}).contiguous();
    for (int64_t i = 0; i < n; ++i) {
      char name[64];
      std::snprintf(name, sizeof name, "seed%lld_%06lld.png", static_cast<long long>(o.seed),
                    static_cast<long long>(i));
      write_png((std::filesystem::path(o.out) / name).string(), pixels[i]);
    }
  }
  std::printf("wrote %lld samples (seed %lld, step %lld of %s) to %s\n", static_cast<long long>(n),
              static_cast<long long>(o.seed),
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
  cmd->add_option("--latent", o->latent,
                  "LATENT.json (from `project`): its images exactly, or a walk's start");
  cmd->add_option("--walk-to", o->walk_to,
                  "LATENT.json: a walk of n frames from --latent (or image 0 of --seed) to it");
  cmd->add_option("--walk-to-class", o->walk_to_class,
                  "a walk of n frames that blends the start's class into this one");
  return [o] { run_sample(*o); };
}

}  // namespace gf::cli
