#include "eval/evaluate.h"

#include <ATen/CPUGeneratorImpl.h>

#include <torch/version.h>

#include <chrono>
#include <filesystem>
#include <functional>

#include "core/error.h"
#include "core/file.h"
#include "core/json_config.h"
#include "core/log.h"
#include "core/names.h"
#include "data/dataset.h"
#include "data/idx.h"
#include "data/image_folder.h"
#include "eval/features.h"
#include "eval/memorisation.h"
#include "eval/metrics.h"
#include "io/checkpoint.h"
#include "io/image.h"
#include "models/generator_file.h"
#include "models/sampler.h"

namespace gf {
namespace {

namespace fs = std::filesystem;

bool wants(const std::vector<std::string>& metrics, const std::string& name) {
  return std::find(metrics.begin(), metrics.end(), name) != metrics.end();
}

bool is_idx_path(const std::string& p) {
  return ends_with(p, ".idx") || ends_with(p, ".idx.gz") || ends_with(p, "-ubyte") ||
         ends_with(p, "-ubyte.gz");
}

bool needs_classifier(const std::string& metric) {
  return metric == "is" || metric == "classes" || metric == "cond_acc" || metric == "cas";
}

// An embedding cached on disk under `key` (the feature space's version, the images' hash, n), as
// torch-fidelity caches its reference statistics.
Embedding cached_embedding(const std::string& cache_dir, const std::string& name,
                           const std::string& key, const std::function<Embedding()>& compute) {
  const std::string path = (fs::path(cache_dir) / ("ref_" + name + "_" + key + ".ckpt")).string();
  Embedding e;
  if (fs::exists(path)) {
    CheckpointReader r(path);
    r.section("ref").read("features", e.features);
    if (read_json_values(path, [&] { return r.meta().value("probs", true); })) {
      r.section("ref").read("probs", e.probs);
    }
    return e;
  }
  e = compute();
  CheckpointWriter w(
      {{"model", nullptr}, {"step", 0}, {"reference", key}, {"probs", e.probs.defined()}});
  w.section("ref").write("features", e.features);
  if (e.probs.defined()) w.section("ref").write("probs", e.probs);
  if (const auto parent = fs::path(path).parent_path(); !parent.empty()) {
    fs::create_directories(parent);
  }
  w.write(path);
  return e;
}

Reference make_reference(Embedding e) {
  Reference ref;
  ref.embedding = std::move(e);
  feature_stats(ref.embedding.features, ref.mu, ref.sigma);
  return ref;
}

// The real test split's embedding in the classifier's space.
Reference reference_for(Classifier& evaluator, const ClassifierInfo& info, const Dataset& test,
                        int64_t n, const std::string& cache_dir) {
  const std::string key =
      concat(info.version, "_", tensor_hash(test.x), "_", info.data_hash, "_", n);
  return make_reference(cached_embedding(cache_dir, test.name, key,
                                         [&] { return embed(evaluator, test.x.narrow(0, 0, n)); }));
}

// The same in the label-free space. Its weights come from PyTorch's generator: the key names the
// LibTorch version too.
Reference label_free_reference_for(const Dataset& test, int64_t n, const std::string& cache_dir) {
  const std::string key =
      concat(kRandomCnnVersion, "_torch", TORCH_VERSION, "_", tensor_hash(test.x), "_", n);
  return make_reference(cached_embedding(cache_dir, test.name, key, [&] {
    return Embedding{random_cnn_embed(test.x.narrow(0, 0, n)), {}};
  }));
}

double cas_accuracy(const torch::Tensor& images, const torch::Tensor& labels, const Dataset& test,
                    int64_t classes) {
  Dataset gen;
  gen.name = "generated";
  gen.x = images;
  gen.y = labels;
  gen.num_classes = classes;
  ClassifierOptions o;
  o.epochs = 2;
  return train_classifier(gen, test, o, /*verbose=*/false).info.test_accuracy;
}

}  // namespace

std::vector<std::string> metric_names() {
  return {"fid", "kid", "is", "prdc", "classes", "cond_acc", "cas", "memorisation"};
}

std::vector<std::string> default_metrics(bool labelled) {
  if (labelled) return {"fid", "kid", "is", "prdc", "classes", "memorisation"};
  return {"fid", "kid", "prdc", "memorisation"};
}

std::optional<double> headline_fid(const nlohmann::json& m) {
  if (m.contains("fid") && m["fid"].is_number()) return m["fid"].get<double>();
  if (m.contains("label_free") && m["label_free"].contains("fid") &&
      m["label_free"]["fid"].is_number()) {
    return m["label_free"]["fid"].get<double>();
  }
  return std::nullopt;
}

std::string default_evaluator_path(const DataOptions& data) {
  if (data.dataset != "folder") return "data/evaluators/" + data.dataset + ".clf";
  return (fs::path(folder_cache_root(data)) / "evaluators" / (dataset_id(data) + ".clf")).string();
}

DataOptions eval_data_options(const EvalRequest& req) {
  DataOptions d;
  if (!is_idx_path(req.source) && (req.dataset.empty() || req.data_dir.empty())) {
    const std::string path = resolve_checkpoint(req.source);
    const nlohmann::json meta = CheckpointReader(path).meta();
    if (meta.contains("config") && meta["config"].contains("data")) {
      d = read_json_values(path, [&] { return DataOptions::from_json(meta["config"]["data"]); });
    }
    // Another dataset than the run's: none of the run's data options (its directory) apply.
    if (!req.dataset.empty() && req.dataset != d.dataset) d = DataOptions{};
  }
  if (!req.data_dir.empty()) {
    if (req.dataset.empty() && dataset_kind_of(req.data_dir) == "folder") d.dataset = "folder";
    d.dir = req.data_dir;
  }
  if (!req.dataset.empty()) d.dataset = req.dataset;
  d.split = "train";
  d.limit = 0;
  d.mirror = false;
  d.validate();
  return d;
}

TrainedClassifier ensure_evaluator(const DataOptions& data, const std::string& evaluator_path) {
  const std::string path = evaluator_path.empty() ? default_evaluator_path(data) : evaluator_path;
  if (fs::exists(path) || !evaluator_path.empty()) {
    GF_CHECK(fs::exists(path), "no evaluator at ", path,
             "; leave --evaluator out to train one, or `ganforge classifier train`");
    return load_classifier(path);
  }
  log_info("no evaluator for ", dataset_id(data), " yet: training one at ", path,
           " (a small CNN on the training split; once per dataset, about a minute per 10,000 "
           "images on one CPU core)");
  const auto start = std::chrono::steady_clock::now();
  DataOptions d = data;
  d.split = "train";
  d.mirror = false;
  d.limit = 0;  // the evaluator is shared by every run on this data: all of it, always
  const Dataset train = load_dataset(d, 0);
  d.split = "test";
  const Dataset test = load_dataset(d, 0);
  TrainedClassifier c = train_classifier(train, test, ClassifierOptions{});
  if (const auto parent = fs::path(path).parent_path(); !parent.empty()) {
    fs::create_directories(parent);
  }
  save_classifier(path, *c.model, c.info);
  log_info("evaluator trained in ",
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
           " s: test accuracy ", c.info.test_accuracy, " on ", test.size(), " images");
  return c;
}

nlohmann::json compute_metrics(const Reference& ref, const Embedding& gen,
                               const std::vector<std::string>& metrics,
                               const torch::Tensor& labels) {
  nlohmann::json m;
  if (wants(metrics, "fid")) {
    torch::Tensor mu, sigma;
    feature_stats(gen.features, mu, sigma);
    m["fid"] = fid_from_stats(mu, sigma, ref.mu, ref.sigma);
  }
  if (wants(metrics, "kid")) {
    const Kid k = kid(gen.features, ref.embedding.features);
    m["kid_mean"] = k.mean;
    m["kid_std"] = k.std;
  }
  if (wants(metrics, "is")) {
    const InceptionScore s = inception_score(gen.probs);
    m["is_mean"] = s.mean;
    m["is_std"] = s.std;
  }
  if (wants(metrics, "prdc")) {
    // Equal set sizes, as the papers use: the first n of the generated set.
    const int64_t n = std::min(gen.features.size(0), ref.embedding.features.size(0));
    const Prdc p = prdc(ref.embedding.features.narrow(0, 0, n), gen.features.narrow(0, 0, n));
    m["precision"] = p.precision;
    m["recall"] = p.recall;
    m["density"] = p.density;
    m["coverage"] = p.coverage;
  }
  if (wants(metrics, "classes")) {
    const ClassStats c = class_stats(gen.probs, ref.embedding.probs);
    m["classes_covered"] = c.covered;
    m["class_kl"] = c.kl;
    m["class_histogram"] = c.histogram;
  }
  if (wants(metrics, "cond_acc") && labels.defined()) {
    m["cond_acc"] = gen.probs.argmax(1).eq(labels).to(torch::kFloat64).mean().item<double>();
  }
  return m;
}

Scorer::Scorer(const DataOptions& data, const std::string& evaluator_path,
               std::vector<std::string> metrics, int64_t n, const std::string& cache_dir)
    : metrics_(std::move(metrics)) {
  for (const auto& name : metrics_) check_name("metric", name, metric_names());
  GF_CHECK(n >= 20 && n <= 200000, "the sample count must be between 20 and 200000, got ", n);
  const std::string dataset = dataset_id(data);
  DataOptions d = data;
  d.mirror = false;
  d.limit = 0;
  d.split = "test";
  test_ = load_dataset(d, 0);
  d.split = "train";
  train_ = load_dataset(d, 0);
  GF_CHECK(test_.is_image(), "evaluation needs images; ", dataset, " holds points");
  const bool labelled = train_.y.defined() && test_.y.defined();
  if (metrics_.empty()) metrics_ = default_metrics(labelled);
  if (!labelled) {
    std::vector<std::string> refused;
    for (const auto& m : metrics_) {
      if (needs_classifier(m)) refused.push_back(m);
    }
    GF_CHECK(refused.empty(), join_names(refused), " need a classifier, and ", dataset,
             " has no labels to train one: leave them out (fid, kid, prdc and memorisation are "
             "measured in a label-free space)");
  }
  for (const char* m : {"fid", "kid", "prdc"}) {
    if (wants(metrics_, m)) free_metrics_.push_back(m);
  }
  const std::string path = evaluator_path.empty() ? default_evaluator_path(data) : evaluator_path;
  // Reference statistics live beside the evaluator unless told otherwise.
  const std::string cache =
      cache_dir.empty() ? (fs::path(path).parent_path() / "cache").string() : cache_dir;
  n_ref_ = std::min(n, test_.size());
  n_base_ = std::min(n, train_.size());
  baseline_ = nlohmann::json::object();
  if (labelled) init_classifier_space(data, evaluator_path, cache);
  if (!free_metrics_.empty()) {
    free_ref_ = label_free_reference_for(test_, n_ref_, cache);
    baseline_["label_free"] = compute_metrics(
        free_ref_, {random_cnn_embed(train_.x.narrow(0, 0, n_base_)), {}}, free_metrics_, {});
  }
  // Memorisation: how close held-out test images come to the training set (the calibration).
  if (wants(metrics_, "memorisation")) {
    held_out_to_train_ = nearest_neighbours(test_.x.narrow(0, 0, n_ref_), train_.x).distance;
  }
}

void Scorer::init_classifier_space(const DataOptions& data, const std::string& evaluator_path,
                                   const std::string& cache) {
  const std::string dataset = dataset_id(data);
  const std::string path = evaluator_path.empty() ? default_evaluator_path(data) : evaluator_path;
  evaluator_ = ensure_evaluator(data, evaluator_path);
  GF_CHECK(evaluator_.info.dataset == dataset, path, " was trained on ", evaluator_.info.dataset,
           ", not ", dataset);
  // An evaluator is only as current as its training data: a folder that gained a class or
  // changed its images needs a new one (the id names the folder, not its contents).
  if (evaluator_.info.classes != train_.num_classes ||
      evaluator_.info.data_hash != classifier_data_hash(train_)) {
    GF_CHECK(evaluator_path.empty(), path, " was trained on other data than ", dataset,
             " holds now (", evaluator_.info.classes, " classes then, ", train_.num_classes,
             " now, or other images): retrain it with `ganforge classifier train`");
    log_info(path, " was trained on other data than ", dataset, " holds now: training it again");
    fs::remove(path);
    evaluator_ = ensure_evaluator(data, evaluator_path);
  }
  GF_CHECK(test_.x.size(1) == evaluator_.info.channels && test_.x.size(2) == evaluator_.info.size,
           "the evaluator's input shape does not match ", dataset);
  ref_ = reference_for(*evaluator_.model, evaluator_.info, test_, n_ref_, cache);
  // The real-vs-real baseline: a training subset of the same size against the same test split.
  const torch::Tensor base_images = train_.x.narrow(0, 0, n_base_);
  baseline_ = compute_metrics(ref_, embed(*evaluator_.model, base_images), metrics_, {});
  if (wants(metrics_, "cond_acc")) baseline_["cond_acc"] = evaluator_.info.test_accuracy;
  if (wants(metrics_, "cas")) {
    baseline_["cas"] =
        cas_accuracy(base_images, train_.y.narrow(0, 0, n_base_), test_, evaluator_.info.classes);
  }
}

torch::Tensor Scorer::labels_for(int64_t n) const {
  if (!train_.y.defined()) return {};
  // Evenly spaced picks from the sorted training labels: each class's share rounded to 1/n.
  const auto sorted = std::get<0>(train_.y.sort());
  const auto picks = ((torch::arange(n, torch::kFloat64) + 0.5) *
                      (static_cast<double>(train_.size()) / static_cast<double>(n)))
                         .floor()
                         .to(torch::kInt64)
                         .clamp(0, train_.size() - 1);
  auto gen = at::detail::createCPUGenerator(0x1abe1);
  return sorted.index_select(0, picks).index_select(0, torch::randperm(n, gen, torch::kInt64));
}

std::vector<int64_t> Scorer::sample_shape() const {
  return test_.sample_shape();
}

nlohmann::json Scorer::feature_spaces() const {
  return {{"classifier", has_classifier() ? info().to_json() : nlohmann::json()},
          {"label_free", {{"version", kRandomCnnVersion}, {"dim", kRandomCnnDim}}}};
}

std::string Scorer::description() const {
  const std::string free = concat(kRandomCnnVersion, " (label-free)");
  if (!has_classifier()) return concat(free, "; no labels, so no classifier");
  return concat(info().version, " (test accuracy ", info().test_accuracy, ") + ", free);
}

nlohmann::json Scorer::score(const torch::Tensor& images, const torch::Tensor& labels) {
  nlohmann::json m = nlohmann::json::object();
  if (has_classifier()) {
    for (const char* name : {"cond_acc", "cas"}) {
      GF_CHECK(!wants(metrics_, name) || labels.defined(), name,
               " needs a conditional generator (labelled samples)");
    }
    m = compute_metrics(ref_, embed(*evaluator_.model, images), metrics_, labels);
    if (wants(metrics_, "cas")) {
      m["cas"] = cas_accuracy(images, labels, test_, evaluator_.info.classes);
    }
  }
  if (!free_metrics_.empty()) {
    m["label_free"] = compute_metrics(free_ref_, {random_cnn_embed(images), {}}, free_metrics_, {});
  }
  closest_pairs_ = torch::Tensor();
  if (wants(metrics_, "memorisation")) {
    const Memorisation mem = memorisation(nearest_neighbours(images, train_.x), held_out_to_train_);
    m["memorisation"] = mem.to_json();
    closest_pairs_ = closest_pairs_images(images, train_.x, mem);
  }
  return m;
}

nlohmann::json evaluate(const EvalRequest& req) {
  const auto start = std::chrono::steady_clock::now();
  const DataOptions data = eval_data_options(req);
  Scorer scorer(data, req.evaluator, req.metrics, req.n, req.cache_dir);
  GF_CHECK(req.pairs_png.empty() || wants(scorer.metrics(), "memorisation"),
           "the closest-pairs picture comes from the memorisation metric: request it too");
  const auto shape = scorer.sample_shape();
  torch::Tensor images, labels;
  nlohmann::json source;
  if (is_idx_path(req.source)) {
    IdxArray a = read_idx(req.source);
    const int64_t c = a.dims.size() == 4 ? a.dims[3] : 1;
    GF_CHECK((a.dims.size() == 3 || a.dims.size() == 4) && c == shape[0] && a.dims[1] == shape[1] &&
                 a.dims[2] == shape[2],
             req.source, ": expected N x ", shape[1], " x ", shape[2],
             shape[0] == 1 ? "" : concat(" x ", shape[0]), " images");
    const int64_t n = std::min<int64_t>(a.dims[0], req.n);
    images = pixels_to_unit(
        torch::from_blob(a.data.data(), {a.dims[0], a.dims[1], a.dims[2], c}, torch::kUInt8)
            .narrow(0, 0, n));
    source = {{"samples", req.source}};
  } else {
    LoadedGenerator g = load_generator(req.source, req.device);
    GF_CHECK(g.spec.out_shape == shape, g.path, " generates samples of another shape than ",
             dataset_id(data));
    GF_CHECK(!g.spec.is_conditional() || g.spec.class_names.empty() ||
                 scorer.class_names().empty() || g.spec.class_names == scorer.class_names(),
             g.path, " was trained on other classes than ", dataset_id(data), " has (",
             join_names(g.spec.class_names), " against ", join_names(scorer.class_names()), ")");
    if (g.spec.is_conditional()) labels = scorer.labels_for(req.n);
    GF_CHECK(!labels.defined() || labels.max().item<int64_t>() < g.spec.num_classes, g.path,
             " has ", g.spec.num_classes, " classes, fewer than ", dataset_id(data));
    images = generate(*g.g, g.spec, req.seed, req.n, 500, 0, labels);
    source = {{"checkpoint", g.path},
              {"step", g.meta.at("step")},
              {"ema", g.ema},
              {"conditional", g.spec.conditional}};
  }
  nlohmann::json metrics = scorer.score(images, labels);
  nlohmann::json out = {
      {"source", source},
      {"dataset", dataset_id(data)},
      {"evaluator", scorer.has_classifier() ? scorer.info().to_json() : nlohmann::json()},
      {"feature_spaces", scorer.feature_spaces()},
      {"n",
       {{"generated", images.size(0)},
        {"reference", scorer.reference_count()},
        {"baseline", scorer.baseline_count()}}}};
  if (metrics.contains("memorisation")) {
    out["memorisation"] = metrics["memorisation"];
    metrics.erase("memorisation");
    if (!req.pairs_png.empty() && scorer.closest_pairs().defined()) {
      write_png(req.pairs_png,
                make_grid(scorer.closest_pairs(), scorer.closest_pairs().size(0) / 2));
    }
  }
  out["metrics"] = metrics;
  out["baseline"] = scorer.baseline();
  out["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace gf
