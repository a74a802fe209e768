#include "apply/synthetic.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "core/file.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "data/idx_pair.h"
#include "eval/evaluate.h"
#include "io/image.h"
#include "models/generator_file.h"
#include "models/sampler.h"

namespace gf {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxPerClass = 100'000;
constexpr int64_t kMaxImages = 1'000'000;

// The name of class c's folder: the model's class name, else its index.
std::string folder_name(const std::vector<std::string>& names, int64_t c) {
  const std::string name = c < static_cast<int64_t>(names.size()) ? names[c] : std::to_string(c);
  GF_CHECK(!name.empty() && name[0] != '.' && name.find('/') == std::string::npos &&
               name.find('\\') == std::string::npos,
           "class name '", name, "' cannot be a folder name");
  return name;
}

void check_out_dir(const std::string& out) {
  std::error_code ec;
  GF_CHECK(!fs::exists(out) || (fs::is_directory(out) && fs::is_empty(out, ec)), out,
           " exists and is not an empty directory; choose a new --out (an image folder is ",
           "written whole, so old images never mix with new ones)");
}

// The evaluator that judges samples: the given file, or the checkpoint's dataset's (trained on
// first use, as `ganforge eval` does). `path` receives where it lives.
TrainedClassifier filter_evaluator(const AugmentRequest& r, const ModelSpec& spec,
                                   std::string& path) {
  TrainedClassifier c;
  if (!r.evaluator.empty()) {
    GF_CHECK(fs::exists(r.evaluator), "no evaluator at ", r.evaluator);
    path = r.evaluator;
    c = load_classifier(r.evaluator);
  } else {
    GF_CHECK(!ends_with(r.checkpoint, ".safetensors"), r.checkpoint,
             " does not say which data it learnt from: pass --evaluator");
    EvalRequest e;
    e.source = r.checkpoint;
    const DataOptions data = eval_data_options(e);
    path = default_evaluator_path(data);
    c = ensure_evaluator(data, "");
  }
  GF_CHECK(c.info.classes == spec.num_classes, "the evaluator knows ", c.info.classes,
           " classes but the model draws ", spec.num_classes);
  GF_CHECK(c.info.channels == spec.out_shape[0] && c.info.size == spec.out_shape[1] &&
               c.info.size == spec.out_shape[2],
           "the evaluator reads ", c.info.channels, "x", c.info.size, "x", c.info.size,
           " images but the model draws ", spec.out_shape[0], "x", spec.out_shape[1], "x",
           spec.out_shape[2]);
  return c;
}

}  // namespace

void AugmentRequest::validate() const {
  GF_CHECK(per_class >= 1 && per_class <= kMaxPerClass, "--per-class must be between 1 and ",
           kMaxPerClass, ", got ", per_class);
  GF_CHECK(truncation > 0 && truncation <= 1, "--truncation must be in (0, 1], got ", truncation);
  GF_CHECK(min_confidence >= 0 && min_confidence <= 1, "--min-confidence must be in [0, 1], got ",
           min_confidence);
  GF_CHECK(evaluator.empty() || min_confidence > 0,
           "--evaluator only judges samples for --min-confidence; give both or neither");
  GF_CHECK(batch >= 1 && batch <= 4096, "the batch must be between 1 and 4096, got ", batch);
  GF_CHECK(max_draw_factor >= 1, "max_draw_factor must be at least 1");
}

SyntheticSet draw_synthetic(Generator& g, const ModelSpec& spec, const AugmentRequest& r,
                            Classifier* filter) {
  r.validate();
  GF_CHECK(spec.is_conditional(), "augment needs a conditional model (one that draws a class on ",
           "request); this one is unconditional");
  GF_CHECK(spec.out_shape.size() == 3, "augment needs an image model; this one draws samples of ",
           "shape ", spec.out_shape.size(), "-d");
  GF_CHECK(r.per_class * spec.num_classes <= kMaxImages, r.per_class, " per class of ",
           spec.num_classes, " classes is more than ", kMaxImages, " images");
  torch::NoGradGuard no_grad;
  const bool was_training = g.is_training();
  g.eval();
  const torch::Device device = module_device(g);
  const int64_t cap = filter ? r.max_draw_factor * r.per_class : r.per_class;
  SyntheticSet out;
  std::vector<torch::Tensor> chunks, labels;
  for (int64_t c = 0; c < spec.num_classes; ++c) {
    const uint64_t class_seed = mix(r.seed, static_cast<uint64_t>(c));
    int64_t drawn = 0, kept = 0;
    while (kept < r.per_class && drawn < cap) {
      const int64_t m = std::min(r.batch, filter ? cap - drawn : r.per_class - kept);
      auto z = truncate_latents(seeded_latents(spec, class_seed, drawn, m), r.truncation);
      auto y = torch::full({m}, c, torch::kInt64);
      auto px = unit_to_pixels(g.forward(z.to(device), y.to(device))).permute({0, 2, 3, 1});
      // Judged as written: 8-bit pixels, so a reader of the file sees what passed the filter.
      auto idx = torch::arange(m, torch::kInt64);
      if (filter) {
        auto probs = embed(*filter, pixels_to_unit(px)).probs.select(1, c);
        idx = probs.ge(r.min_confidence).nonzero().flatten();
      }
      const int64_t take = std::min(idx.size(0), r.per_class - kept);
      // Draws up to the last kept sample count as drawn; the rest of a full chunk is unused.
      drawn += take == r.per_class - kept && take > 0 ? idx[take - 1].item<int64_t>() + 1 : m;
      chunks.push_back(px.index_select(0, idx.narrow(0, 0, take)).contiguous());
      kept += take;
    }
    GF_CHECK(kept == r.per_class, "class ", c, ": only ", kept, " of ", drawn,
             " samples reached --min-confidence ", r.min_confidence, " (acceptance ",
             100.0 * static_cast<double>(kept) / static_cast<double>(drawn), "%), short of ",
             r.per_class, " within the cap of ", cap,
             " draws; lower --min-confidence, use --truncation, or train the model longer");
    labels.push_back(torch::full({kept}, c, torch::kInt64));
    out.drawn.push_back(drawn);
    out.kept.push_back(kept);
  }
  g.train(was_training);
  out.pixels = torch::cat(chunks);
  out.labels = torch::cat(labels);
  return out;
}

void write_synthetic(const SyntheticSet& set, const std::string& out,
                     const std::vector<std::string>& class_names) {
  if (is_idx_pair_path(out)) {
    if (const auto parent = fs::path(out).parent_path(); !parent.empty()) {
      fs::create_directories(parent);
    }
    write_idx_pair(out, set.pixels, set.labels);
    return;
  }
  check_out_dir(out);
  fs::path target = fs::path(out).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "DIR/"
  if (!target.parent_path().empty()) fs::create_directories(target.parent_path());
  const fs::path tmp = target.string() + concat(".partial-", ::getpid());
  fs::remove_all(tmp);
  const auto labels = set.labels.contiguous();
  const auto* y = labels.data_ptr<int64_t>();
  std::vector<int64_t> index;
  for (int64_t i = 0; i < set.pixels.size(0); ++i) {
    if (y[i] >= static_cast<int64_t>(index.size())) index.resize(y[i] + 1, 0);
    const fs::path dir = tmp / folder_name(class_names, y[i]);
    if (index[y[i]] == 0) fs::create_directories(dir);
    char name[32];
    std::snprintf(name, sizeof name, "%06lld.png", static_cast<long long>(index[y[i]]++));
    write_png((dir / name).string(), set.pixels[i]);
  }
  if (fs::exists(target)) fs::remove(target);  // empty, checked above
  fs::rename(tmp, target);
}

nlohmann::json run_augment(const AugmentRequest& r) {
  GF_CHECK(!r.checkpoint.empty(), "augment needs a checkpoint or run directory");
  GF_CHECK(!r.out.empty(), "augment needs --out FILE.idx[.gz] or DIR");
  r.validate();
  if (!is_idx_pair_path(r.out)) check_out_dir(r.out);  // before the work, not after
  LoadedGenerator model = load_generator(r.checkpoint, r.device, r.use_ema);
  GF_CHECK(model.spec.is_conditional(), model.path, " holds an unconditional model; augment ",
           "needs a conditional one, whose samples come with the class they were drawn for");
  TrainedClassifier filter;
  std::string evaluator_name;
  if (r.min_confidence > 0) filter = filter_evaluator(r, model.spec, evaluator_name);
  const SyntheticSet set = draw_synthetic(*model.g, model.spec, r, filter.model.get());
  write_synthetic(set, r.out, model.spec.class_names);
  nlohmann::json classes = nlohmann::json::array();
  int64_t drawn = 0, kept = 0;
  for (int64_t c = 0; c < model.spec.num_classes; ++c) {
    classes.push_back({{"name", folder_name(model.spec.class_names, c)},
                       {"drawn", set.drawn[c]},
                       {"kept", set.kept[c]}});
    drawn += set.drawn[c];
    kept += set.kept[c];
  }
  return {{"checkpoint", model.path},
          {"step", model.meta.value("step", int64_t{0})},
          {"out", r.out},
          {"per_class", r.per_class},
          {"min_confidence", r.min_confidence},
          {"evaluator", evaluator_name.empty() ? nlohmann::json() : nlohmann::json(evaluator_name)},
          {"truncation", r.truncation},
          {"seed", r.seed},
          {"drawn", drawn},
          {"kept", kept},
          {"acceptance", static_cast<double>(kept) / static_cast<double>(drawn)},
          {"classes", classes}};
}

}  // namespace gf
