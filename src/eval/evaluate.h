// Evaluation of a generator (checkpoint or run directory) or a set of samples (idx file) against
// a dataset's test split, with the real-vs-real baseline beside every score.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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
  std::string cache_dir;  // empty: data/evaluators/cache
  uint64_t seed = 0;      // sampling seed
  std::string device = "cpu";
};

std::string default_evaluator_path(const std::string& dataset);

// Computes the requested metrics; returns {"metrics": {...}, "baseline": {...}, ...}.
nlohmann::json evaluate(const EvalRequest& request);

// The metrics of `images` ([N, C, H, W] in [-1, 1]) against reference features; `labels` are the
// requested classes of a conditional generator (for cond_acc), undefined otherwise.
struct Reference {
  Embedding embedding;  // of the real test split
  torch::Tensor mu, sigma;
};
nlohmann::json compute_metrics(Classifier& evaluator, const Reference& reference,
                               const Embedding& generated, const std::vector<std::string>& metrics,
                               const torch::Tensor& labels);

}  // namespace gf
