// Evaluation of a generator (checkpoint or run directory) or a set of samples (idx file) against
// a dataset's test split, with the real-vs-real baseline beside every score.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "eval/classifier.h"

namespace gf {

// fid, kid, is, prdc, classes, cond_acc, cas, memorisation.
std::vector<std::string> metric_names();
// What an empty metric list means: fid, kid, is, prdc, classes, memorisation for labelled data;
// fid, kid, prdc, memorisation without labels (is, classes, cond_acc and cas need a classifier).
std::vector<std::string> default_metrics(bool labelled);

struct EvalRequest {
  std::string source;  // checkpoint, run directory, or samples .idx[.gz]
  // Empty: the data the checkpoint was trained on (its config), or for sample files mnist, or a
  // folder when data_dir is a folder of images.
  std::string dataset;
  std::string data_dir;              // empty: the checkpoint's, or data/<dataset>
  std::vector<std::string> metrics;  // empty: default_metrics() for the data
  int64_t n = 10000;                 // generated samples
  std::string evaluator;             // empty: default_evaluator_path()
  std::string cache_dir;             // empty: "cache" beside the evaluator file
  uint64_t seed = 0;                 // sampling seed
  std::string device = "cpu";
  std::string pairs_png;  // when set: memorisation's closest pairs as a PNG (samples above)
};

// The data an evaluation compares against (test split), resolved as EvalRequest describes.
DataOptions eval_data_options(const EvalRequest& request);

// data/evaluators/<dataset>.clf for the named sets; for folders, evaluators/<id>.clf under the
// folder cache root (folder_cache_root), so a user's folder stays untouched.
std::string default_evaluator_path(const DataOptions& data);

// The evaluator at `path` (default_evaluator_path when empty). When there is none, it is trained
// on `data` and saved there first, as torch-fidelity fetches its extractor on first use.
TrainedClassifier ensure_evaluator(const DataOptions& data, const std::string& path);

// Computes the requested metrics; returns {"source", "dataset", "evaluator" (the classifier's info,
// null for unlabelled data), "feature_spaces", "n", "metrics", "baseline", "memorisation" (when
// requested), "seconds"}. "metrics" and "baseline" hold the classifier-space metrics (labelled
// data) and, in "label_free", fid, kid and prdc in the random CNN's space (features.h).
nlohmann::json evaluate(const EvalRequest& request);

// The FID to rank checkpoints by: the classifier space's, else the label-free one's.
std::optional<double> headline_fid(const nlohmann::json& metrics);

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

// Scores sets of images against a dataset's test split in two feature spaces: the dataset's
// classifier (labelled data only; trained on first use) and the label-free random CNN. The
// reference embeddings and the real-vs-real baselines are computed once (used by `eval` and by
// training); unlabelled data never needs an evaluator file.
class Scorer {
 public:
  // n: the generated set size the scores are for (the reference uses min(n, test size)).
  // metrics: names from metric_names(); empty: default_metrics() for the data. Metrics that need
  // a classifier are an error for unlabelled data.
  Scorer(const DataOptions& data, const std::string& evaluator_path,
         std::vector<std::string> metrics, int64_t n, const std::string& cache_dir = "");
  // {classifier metrics..., "label_free": {...}, "memorisation": {...}} as requested.
  nlohmann::json score(const torch::Tensor& images, const torch::Tensor& labels);
  const nlohmann::json& baseline() const { return baseline_; }
  bool has_classifier() const { return evaluator_.model != nullptr; }
  const ClassifierInfo& info() const { return evaluator_.info; }  // version "" without one
  // {"classifier": info or null, "label_free": {"version", "dim"}}.
  nlohmann::json feature_spaces() const;
  // One line for logs: the spaces in use, e.g. "gf-cnn-v1 (test accuracy 0.98) + gf-random-cnn-v1".
  std::string description() const;
  const std::vector<std::string>& metrics() const { return metrics_; }
  int64_t reference_count() const { return n_ref_; }
  int64_t baseline_count() const { return n_base_; }
  std::vector<int64_t> sample_shape() const;
  // Labels to ask a conditional generator for: n of them in the training split's class
  // proportions, in a fixed shuffled order (undefined for unlabelled data). With uniform labels
  // an unbalanced dataset's FID would measure the class mix more than the images.
  torch::Tensor labels_for(int64_t n) const;
  const std::vector<std::string>& class_names() const { return train_.class_names; }
  // The last score()'s memorisation pairs (closest_pairs_images), undefined when not requested.
  const torch::Tensor& closest_pairs() const { return closest_pairs_; }

 private:
  // Loads (or trains) the evaluator, its reference and the baseline in its space.
  void init_classifier_space(const DataOptions& data, const std::string& evaluator_path,
                             const std::string& cache);

  std::vector<std::string> metrics_, free_metrics_;
  TrainedClassifier evaluator_;
  Dataset test_, train_;
  Reference ref_, free_ref_;
  torch::Tensor held_out_to_train_;  // memorisation's calibration distances
  torch::Tensor closest_pairs_;
  nlohmann::json baseline_;
  int64_t n_ref_ = 0, n_base_ = 0;
};

}  // namespace gf
