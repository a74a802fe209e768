#include "eval/evaluate.h"

#include <chrono>
#include <filesystem>

#include "core/error.h"
#include "core/file.h"
#include "core/log.h"
#include "core/names.h"
#include "data/dataset.h"
#include "data/idx.h"
#include "data/image_folder.h"
#include "eval/metrics.h"
#include "io/checkpoint.h"
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

// The real test split's embedding, cached on disk under (dataset hash, extractor, n).
Reference reference_for(Classifier& evaluator, const ClassifierInfo& info, const Dataset& test,
                        int64_t n, const std::string& cache_dir) {
  const std::string key =
      concat(info.version, "_", tensor_hash(test.x), "_", info.data_hash, "_", n);
  const std::string path =
      (fs::path(cache_dir) / ("ref_" + test.name + "_" + key + ".ckpt")).string();
  Reference ref;
  if (fs::exists(path)) {
    CheckpointReader r(path);
    r.section("ref").read("features", ref.embedding.features);
    r.section("ref").read("probs", ref.embedding.probs);
  } else {
    ref.embedding = embed(evaluator, test.x.narrow(0, 0, n));
    CheckpointWriter w({{"model", nullptr}, {"step", 0}, {"reference", key}});
    w.section("ref").write("features", ref.embedding.features);
    w.section("ref").write("probs", ref.embedding.probs);
    w.write(path);
  }
  feature_stats(ref.embedding.features, ref.mu, ref.sigma);
  return ref;
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
  return {"fid", "kid", "is", "prdc", "classes", "cond_acc", "cas"};
}

std::string default_evaluator_path(const DataOptions& data) {
  if (data.dataset != "folder") return "data/evaluators/" + data.dataset + ".clf";
  return (fs::path(folder_cache_root(data)) / "evaluators" / (dataset_id(data) + ".clf")).string();
}

DataOptions eval_data_options(const EvalRequest& req) {
  DataOptions d;
  if (!is_idx_path(req.source) && (req.dataset.empty() || req.data_dir.empty())) {
    const nlohmann::json meta = CheckpointReader(resolve_checkpoint(req.source)).meta();
    if (meta.contains("config") && meta["config"].contains("data")) {
      d = DataOptions::from_json(meta["config"]["data"]);
    }
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
  const std::string path = evaluator_path.empty() ? default_evaluator_path(data) : evaluator_path;
  const std::string dataset = dataset_id(data);
  evaluator_ = ensure_evaluator(data, evaluator_path);
  GF_CHECK(evaluator_.info.dataset == dataset, path, " was trained on ", evaluator_.info.dataset,
           ", not ", dataset);
  DataOptions d = data;
  d.mirror = false;
  d.limit = 0;
  d.split = "test";
  test_ = load_dataset(d, 0);
  d.split = "train";
  train_ = load_dataset(d, 0);
  GF_CHECK(test_.is_image() && test_.x.size(1) == evaluator_.info.channels &&
               test_.x.size(2) == evaluator_.info.size,
           "the evaluator's input shape does not match ", dataset);
  n_ref_ = std::min(n, test_.size());
  // Reference statistics live beside the evaluator unless told otherwise.
  ref_ = reference_for(
      *evaluator_.model, evaluator_.info, test_, n_ref_,
      cache_dir.empty() ? (fs::path(path).parent_path() / "cache").string() : cache_dir);
  // The real-vs-real baseline: a training subset of the same size against the same test split.
  n_base_ = std::min(n, train_.size());
  Embedding base = embed(*evaluator_.model, train_.x.narrow(0, 0, n_base_));
  baseline_ = compute_metrics(ref_, base, metrics_, {});
  if (wants(metrics_, "cond_acc")) baseline_["cond_acc"] = evaluator_.info.test_accuracy;
  if (wants(metrics_, "cas")) {
    baseline_["cas"] = cas_accuracy(train_.x.narrow(0, 0, n_base_), train_.y.narrow(0, 0, n_base_),
                                    test_, evaluator_.info.classes);
  }
}

std::vector<int64_t> Scorer::sample_shape() const {
  return test_.sample_shape();
}

nlohmann::json Scorer::score(const torch::Tensor& images, const torch::Tensor& labels) {
  Embedding gen = embed(*evaluator_.model, images);
  nlohmann::json m = compute_metrics(ref_, gen, metrics_, labels);
  if (wants(metrics_, "cas")) {
    GF_CHECK(labels.defined(), "cas needs a conditional generator (labelled samples)");
    m["cas"] = cas_accuracy(images, labels, test_, evaluator_.info.classes);
  }
  return m;
}

nlohmann::json evaluate(const EvalRequest& req) {
  const auto start = std::chrono::steady_clock::now();
  const DataOptions data = eval_data_options(req);
  Scorer scorer(data, req.evaluator, req.metrics, req.n, req.cache_dir);
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
    labels = default_labels(g.spec, 0, req.n);
    images = generate(*g.g, g.spec, req.seed, req.n, 500, 0, labels);
    source = {{"checkpoint", g.path},
              {"step", g.meta.at("step")},
              {"ema", g.ema},
              {"conditional", g.spec.conditional}};
  }
  nlohmann::json metrics = scorer.score(images, labels);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {{"source", source},
          {"dataset", dataset_id(data)},
          {"evaluator", scorer.info().to_json()},
          {"n",
           {{"generated", images.size(0)},
            {"reference", scorer.reference_count()},
            {"baseline", scorer.baseline_count()}}},
          {"metrics", metrics},
          {"baseline", scorer.baseline()},
          {"seconds", seconds}};
}

}  // namespace gf
