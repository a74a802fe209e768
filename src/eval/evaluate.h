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
  // Empty: the data the checkpoint was trained on (its config), or for sample files mnist, or a
  // folder when data_dir is a folder of images.
  std::string dataset;
  std::string data_dir;  // empty: the checkpoint's, or data/<dataset>
  std::vector<std::string> metrics = {"fid", "kid", "is", "prdc", "classes"};
  int64_t n = 10000;      // generated samples
  std::string evaluator;  // empty: default_evaluator_path()
  std::string cache_dir;  // empty: "cache" beside the evaluator file
  uint64_t seed = 0;      // sampling seed
  std::string device = "cpu";
};

// The data an evaluation compares against (test split), resolved as EvalRequest describes.
DataOptions eval_data_options(const EvalRequest& request);

// data/evaluators/<dataset>.clf for the named sets; for folders, evaluators/<id>.clf under the
// folder cache root (folder_cache_root), so a user's folder stays untouched.
std::string default_evaluator_path(const DataOptions& data);

// The evaluator at `path` (default_evaluator_path when empty). When there is none, it is trained
// on `data` and saved there first, as torch-fidelity fetches its extractor on first use.
TrainedClassifier ensure_evaluator(const DataOptions& data, const std::string& path);

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
  Scorer(const DataOptions& data, const std::string& evaluator_path,
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
