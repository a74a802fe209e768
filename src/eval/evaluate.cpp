#include "eval/evaluate.h"

#include <chrono>
#include <filesystem>

#include "core/error.h"
#include "core/log.h"
#include "core/names.h"
#include "data/dataset.h"
#include "data/idx.h"
#include "eval/generator_file.h"
#include "eval/metrics.h"
#include "io/checkpoint.h"
#include "models/sampler.h"

namespace gf {
namespace {

namespace fs = std::filesystem;

bool wants(const std::vector<std::string>& metrics, const std::string& name) {
  return std::find(metrics.begin(), metrics.end(), name) != metrics.end();
}

bool is_idx_path(const std::string& p) {
  auto ends = [&](const std::string& s) {
    return p.size() >= s.size() && p.compare(p.size() - s.size(), s.size(), s) == 0;
  };
  return ends(".idx") || ends(".idx.gz") || ends("-ubyte") || ends("-ubyte.gz");
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

std::string default_evaluator_path(const std::string& dataset) {
  return "data/evaluators/" + dataset + ".clf";
}

nlohmann::json compute_metrics(Classifier& /*evaluator*/, const Reference& ref,
                               const Embedding& gen, const std::vector<std::string>& metrics,
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

nlohmann::json evaluate(const EvalRequest& req) {
  for (const auto& name : req.metrics) check_name("metric", name, metric_names());
  GF_CHECK(req.n >= 20 && req.n <= 200000, "-n must be between 20 and 200000");
  const auto start = std::chrono::steady_clock::now();
  const std::string eval_path =
      req.evaluator.empty() ? default_evaluator_path(req.dataset) : req.evaluator;
  GF_CHECK(fs::exists(eval_path), "no evaluator at ", eval_path,
           "; train it with `ganforge classifier train --dataset ", req.dataset,
           "` (or `make evaluators`)");
  TrainedClassifier evaluator = load_classifier(eval_path);
  GF_CHECK(evaluator.info.dataset == req.dataset, eval_path, " was trained on ",
           evaluator.info.dataset, ", not ", req.dataset);

  DataOptions d;
  d.dataset = req.dataset;
  d.dir = req.data_dir;
  d.split = "test";
  const Dataset test = load_dataset(d, 0);
  d.split = "train";
  const Dataset train = load_dataset(d, 0);
  GF_CHECK(test.is_image() && test.x.size(1) == evaluator.info.channels &&
               test.x.size(2) == evaluator.info.size,
           "the evaluator's input shape does not match ", req.dataset);

  // Generated (or given) samples.
  torch::Tensor images, labels;
  nlohmann::json source;
  if (is_idx_path(req.source)) {
    IdxArray a = read_idx(req.source);
    GF_CHECK(a.dims.size() == 3 && a.dims[1] == test.x.size(2) && a.dims[2] == test.x.size(3),
             req.source, ": expected N x ", test.x.size(2), " x ", test.x.size(3), " images");
    const int64_t n = std::min<int64_t>(a.dims[0], req.n);
    images = pixels_to_unit(
        torch::from_blob(a.data.data(), {a.dims[0], a.dims[1], a.dims[2]}, torch::kUInt8)
            .narrow(0, 0, n));
    source = {{"samples", req.source}};
  } else {
    LoadedGenerator g = load_generator(req.source, req.device);
    GF_CHECK(g.spec.out_shape == test.sample_shape(), g.path,
             " generates samples of another shape than ", req.dataset);
    labels = default_labels(g.spec, 0, req.n);
    images = generate(*g.g, g.spec, req.seed, req.n, 500, 0, labels);
    source = {{"checkpoint", g.path},
              {"step", g.meta.at("step")},
              {"ema", g.ema},
              {"conditional", g.spec.conditional}};
  }
  const int64_t n = images.size(0);
  const int64_t n_ref = std::min(n, test.size());
  const std::string cache = req.cache_dir.empty() ? "data/evaluators/cache" : req.cache_dir;
  Reference ref = reference_for(*evaluator.model, evaluator.info, test, n_ref, cache);

  Embedding gen = embed(*evaluator.model, images);
  nlohmann::json metrics = compute_metrics(*evaluator.model, ref, gen, req.metrics, labels);
  // The real-vs-real baseline: a training subset of the same size against the same test split.
  const int64_t n_base = std::min(n, train.size());
  Embedding base = embed(*evaluator.model, train.x.narrow(0, 0, n_base));
  nlohmann::json baseline = compute_metrics(*evaluator.model, ref, base, req.metrics, {});
  if (wants(req.metrics, "cond_acc") && labels.defined())
    baseline["cond_acc"] = classifier_accuracy(*evaluator.model, test);
  if (wants(req.metrics, "cas")) {
    GF_CHECK(labels.defined(), "cas needs a conditional generator (labelled samples)");
    metrics["cas"] = cas_accuracy(images, labels, test, evaluator.info.classes);
    baseline["cas"] = cas_accuracy(train.x.narrow(0, 0, n_base), train.y.narrow(0, 0, n_base), test,
                                   evaluator.info.classes);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {{"source", source},
          {"dataset", req.dataset},
          {"evaluator", evaluator.info.to_json()},
          {"n", {{"generated", n}, {"reference", n_ref}, {"baseline", n_base}}},
          {"metrics", metrics},
          {"baseline", baseline},
          {"seconds", seconds}};
}

}  // namespace gf
