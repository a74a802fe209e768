// The evaluator: a small CNN classifier trained deterministically per dataset. Its penultimate
// layer (128-d) gives the features for FID, KID and precision/recall; its softmax gives class
// probabilities for IS, class coverage and conditional accuracy. No Inception weights exist
// offline, so ganforge measures with its own, versioned extractor.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "data/dataset.h"

namespace gf {

// Bump when the architecture or the training recipe changes: cached statistics depend on it.
constexpr const char* kClassifierVersion = "gf-cnn-v1";
constexpr int64_t kFeatureDim = 128;

class Classifier : public torch::nn::Module {
 public:
  Classifier(int64_t channels, int64_t size, int64_t classes);
  torch::Tensor features(const torch::Tensor& x);  // [N, 128]
  torch::Tensor forward(const torch::Tensor& x);   // logits [N, classes]
  torch::Tensor logits_from_features(const torch::Tensor& f);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
};

struct ClassifierInfo {
  std::string version = kClassifierVersion;
  std::string dataset;
  std::string data_hash;  // of the training images and labels
  double test_accuracy = 0;
  int64_t classes = 0, channels = 1, size = 28;
  nlohmann::json to_json() const;
  static ClassifierInfo from_json(const nlohmann::json& j);
};

struct ClassifierOptions {
  int64_t epochs = 0;  // 0: about 320,000 samples seen, 5 to 20 epochs (MNIST 20, Fashion 5)
  // Optimisation steps; 0: `epochs` passes over the real training set. Extra data never changes
  // the count, so runs with and without it take the same number of steps.
  int64_t steps = 0;
  int64_t batch = 128;
  double lr = 1e-3;
  uint64_t seed = 0;
  // Classic augmentation of every training batch (classic_augment.h): "", "shift", "rotate" or
  // "shift,rotate" (random shifts of up to 2 px, rotations of up to 10 degrees).
  std::string augment;
  // With extra data: the share of every batch drawn from it, round(extra_ratio * batch) images,
  // the rest from the real set (as batches mix real and generated images in Antoniou et al.
  // 2017); 0.5 is half and half whatever the two sets' sizes.
  double extra_ratio = 0.5;

  void validate() const;
};

struct TrainedClassifier {
  std::shared_ptr<Classifier> model;
  ClassifierInfo info;
};

// FNV-1a over the tensor's bytes (contiguous CPU copy): identifies a dataset split.
std::string tensor_hash(const torch::Tensor& t);

// ClassifierInfo::data_hash of a training set: its images and labels.
std::string classifier_data_hash(const Dataset& train);

// ClassifierInfo::data_hash of a training set with extra images mixed in: both sets' hashes.
std::string classifier_data_hash(const Dataset& train, const Dataset& extra);

// Trains on `train` (labels required), measures accuracy on `test`. Deterministic on 1 thread.
// `extra`, when given, is mixed into every batch (options.extra_ratio); it must have `train`'s
// sample shape and labels among its classes (labelled_set.h reads such sets from files).
TrainedClassifier train_classifier(const Dataset& train, const Dataset& test,
                                   const ClassifierOptions& options, bool verbose = true,
                                   const Dataset* extra = nullptr);
double classifier_accuracy(Classifier& model, const Dataset& data);
void save_classifier(const std::string& path, Classifier& model, const ClassifierInfo& info);
TrainedClassifier load_classifier(const std::string& path);

// Features and probabilities of images [N, C, H, W] in [-1, 1], in batches, no autograd.
struct Embedding {
  torch::Tensor features;  // [N, 128] float64
  torch::Tensor probs;     // [N, classes] float64
};
Embedding embed(Classifier& model, const torch::Tensor& images, int64_t batch = 500);

}  // namespace gf
