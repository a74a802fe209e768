// Evaluation of a generator (checkpoint or run directory) or a set of samples (idx file) against
// a dataset's test split, with the real-vs-real baseline beside every score.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "eval/classifier.h"

namespace gf {

std::vector<std::string> metric_names();  // fid, kid, is, prdc, classes, cond_acc, cas

struct EvalRequest {
  std::string source;  // checkpoint, run directory, or samples .idx[.gz]
  std::string dataset = "mnist";
  std::string data_dir;  // empty: data/<dataset>
  std::vector<std::string> metrics = {"fid", "kid", "is", "prdc", "classes"};
  int64_t n = 10000;      // generated samples
  std::string evaluator;  // empty: data/evaluators/<dataset>.clf
  std::string cache_dir;  // empty: "cache" beside the evaluator file
  uint64_t seed = 0;      // sampling seed
  std::string device = "cpu";
};

std::string default_evaluator_path(const std::string& dataset);

// Computes the requested metrics; returns {"metrics": {...}, "baseline": {...}, ...}.
nlohmann::json evaluate(const EvalRequest& request);

// The real test split's embedding and feature statistics.
struct Reference {
  Embedding embedding;
  torch::Tensor mu, sigma;
};
// The metrics of a generated set's embedding against the reference; `labels` are the requested
// classes of a conditional generator (for cond_acc), undefined otherwise.
nlohmann::json compute_metrics(const Reference& reference, const Embedding& generated,
                               const std::vector<std::string>& metrics,
                               const torch::Tensor& labels);

// Scores sets of images against a dataset's test split with its evaluator; the reference
// embedding and the real-vs-real baseline are computed once (used by `eval` and by training).
class Scorer {
 public:
  // n: the generated set size the scores are for (the reference uses min(n, test size)).
  Scorer(const std::string& dataset, const std::string& data_dir, const std::string& evaluator_path,
         std::vector<std::string> metrics, int64_t n, const std::string& cache_dir = "");
  nlohmann::json score(const torch::Tensor& images, const torch::Tensor& labels);
  const nlohmann::json& baseline() const { return baseline_; }
  const ClassifierInfo& info() const { return evaluator_.info; }
  int64_t reference_count() const { return n_ref_; }
  int64_t baseline_count() const { return n_base_; }
  std::vector<int64_t> sample_shape() const;

 private:
  std::vector<std::string> metrics_;
  TrainedClassifier evaluator_;
  Dataset test_, train_;
  Reference ref_;
  nlohmann::json baseline_;
  int64_t n_ref_ = 0, n_base_ = 0;
};

}  // namespace gf
