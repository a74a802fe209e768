// Data augmentation with a conditional generator: a labelled synthetic dataset, exactly N images
// per class, optionally kept only where the dataset's evaluator agrees with the requested class
// (a confidence filter, as "classification accuracy score" style studies screen samples: Ravuri &
// Vinyals 2019). Written as an idx pair or an ImageFolder tree that `ganforge classifier train
// --extra` (and torchvision's ImageFolder) reads back.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/classifier.h"
#include "models/registry.h"

namespace gf {

struct AugmentRequest {
  std::string checkpoint;      // checkpoint, run directory or exported .safetensors
  int64_t per_class = 0;       // images kept per class, 1..100,000
  std::string out;             // FILE.idx[.gz] (labels in FILE.labels.idx[.gz]) | DIR/<class>/*.png
  double truncation = 1.0;     // psi in (0, 1] (sampler.h)
  double min_confidence = 0;   // in [0, 1]; above 0 only samples the evaluator scores >= it stay
  uint64_t seed = 0;           // image i of class c is latent i of seed mix(seed, c)
  std::string evaluator;       // empty: the checkpoint's dataset's (as `ganforge eval` finds it)
  std::string device = "cpu";  // where G runs
  bool use_ema = true;         // the EMA generator when the checkpoint has one
  int64_t batch = 256;         // images generated at once
  // With a filter, a class gives up after max_draw_factor * per_class draws: an error rather than
  // a search that never ends when the model rarely draws what the evaluator accepts.
  int64_t max_draw_factor = 50;

  void validate() const;  // the numbers; run_augment also needs checkpoint and out
};

struct SyntheticSet {
  torch::Tensor pixels;        // uint8 [N, H, W, C], class 0's images first, then class 1's, ...
  torch::Tensor labels;        // int64 [N]
  std::vector<int64_t> drawn;  // per class: samples generated
  std::vector<int64_t> kept;   // per class: samples kept (per_class each)
};

// Draws request.per_class samples of every class. With `filter`, a sample stays only when the
// filter's probability for its class, measured on the image as written (8-bit pixels), is at least
// request.min_confidence; drawing goes on until every class has its share, or fails with a
// gf::Error naming the class and its acceptance rate after max_draw_factor * per_class draws.
// The kept set is the first per_class accepted latents, whatever the batch size.
SyntheticSet draw_synthetic(Generator& g, const ModelSpec& spec, const AugmentRequest& request,
                            Classifier* filter);

// FILE.idx[.gz]: an idx pair (idx_pair.h). Any other path: an ImageFolder tree, one subfolder
// per class named by `class_names` (class indices when empty) with NNNNNN.png inside, written
// beside the target and renamed into place; the directory must not exist or be empty.
void write_synthetic(const SyntheticSet& set, const std::string& out,
                     const std::vector<std::string>& class_names);

// The whole command: loads the generator (and the evaluator when filtering), draws, writes.
// Returns {"checkpoint", "step", "out", "per_class", "min_confidence", "evaluator" (path or
// null), "truncation", "seed", "drawn", "kept", "acceptance", "classes": [{"name", "drawn",
// "kept"}]}.
nlohmann::json run_augment(const AugmentRequest& request);

}  // namespace gf
