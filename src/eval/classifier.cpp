#include "eval/classifier.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/functional/pooling.h>
#include <torch/optim/adam.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "core/error.h"
#include "core/log.h"
#include "core/rng.h"
#include "data/classic_augment.h"
#include "data/loader.h"
#include "io/checkpoint.h"

namespace gf {
namespace {
namespace F = torch::nn::functional;
}

Classifier::Classifier(int64_t channels, int64_t size, int64_t classes) {
  GF_CHECK(size % 4 == 0, "the evaluator needs image sizes divisible by 4, got ", size);
  conv1_ = register_module("conv1",
                           torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, 32, 3).padding(1)));
  conv2_ =
      register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3).padding(1)));
  fc1_ = register_module("fc1", torch::nn::Linear(64 * (size / 4) * (size / 4), kFeatureDim));
  fc2_ = register_module("fc2", torch::nn::Linear(kFeatureDim, classes));
}

torch::Tensor Classifier::features(const torch::Tensor& x) {
  auto h = F::max_pool2d(torch::relu(conv1_->forward(x)), F::MaxPool2dFuncOptions(2));
  h = F::max_pool2d(torch::relu(conv2_->forward(h)), F::MaxPool2dFuncOptions(2));
  return torch::relu(fc1_->forward(h.flatten(1)));
}

torch::Tensor Classifier::logits_from_features(const torch::Tensor& f) {
  // Dropout 0.5 on the features while training (Srivastava et al. 2014): +0.5% test accuracy on
  // 8,000 digits; a no-op in eval mode.
  return fc2_->forward(torch::dropout(f, 0.5, is_training()));
}

torch::Tensor Classifier::forward(const torch::Tensor& x) {
  return logits_from_features(features(x));
}

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ClassifierInfo, version, dataset, data_hash, test_accuracy,
                                   classes, channels, size)

nlohmann::json ClassifierInfo::to_json() const {
  return *this;
}
ClassifierInfo ClassifierInfo::from_json(const nlohmann::json& j) {
  return j.get<ClassifierInfo>();
}

std::string tensor_hash(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU).contiguous();
  const auto* p = static_cast<const uint8_t*>(c.data_ptr());
  const size_t n = c.numel() * c.element_size();
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string classifier_data_hash(const Dataset& train) {
  return tensor_hash(torch::cat({train.x.flatten(1), train.y.unsqueeze(1).to(torch::kFloat32)}, 1));
}

std::string classifier_data_hash(const Dataset& train, const Dataset& extra) {
  return classifier_data_hash(train) + "+" + classifier_data_hash(extra);
}

void ClassifierOptions::validate() const {
  GF_CHECK(epochs >= 0, "classifier epochs must be >= 0, got ", epochs);
  GF_CHECK(steps >= 0 && steps <= 10'000'000,
           "classifier steps must be between 0 and 10000000, got ", steps);
  GF_CHECK(batch >= 1 && batch <= 65536, "classifier batch must be between 1 and 65536, got ",
           batch);
  GF_CHECK(lr > 0, "classifier learning rate must be positive, got ", lr);
  GF_CHECK(extra_ratio > 0 && extra_ratio < 1, "--extra-ratio must be between 0 and 1 (the share ",
           "of each batch drawn from the extra set), got ", extra_ratio);
  parse_classic_augment(augment);
}

double classifier_accuracy(Classifier& model, const Dataset& data) {
  GF_CHECK(data.y.defined(), "accuracy needs labelled data");
  Embedding e = embed(model, data.x);
  return e.probs.argmax(1).eq(data.y).to(torch::kFloat64).mean().item<double>();
}

namespace {

void check_extra(const Dataset& train, const Dataset& extra) {
  GF_CHECK(extra.is_image() && extra.y.defined() && extra.size() > 0, "the extra set ", extra.name,
           " must hold labelled images");
  GF_CHECK(extra.sample_shape() == train.sample_shape(), "the extra set ", extra.name,
           " holds images of shape ", extra.x.sizes().slice(1), ", ", train.name, " of shape ",
           train.x.sizes().slice(1));
  GF_CHECK(extra.y.min().item<int64_t>() >= 0 && extra.y.max().item<int64_t>() < train.num_classes,
           "the extra set ", extra.name, " has labels outside ", train.name, "'s ",
           train.num_classes, " classes");
}

}  // namespace

TrainedClassifier train_classifier(const Dataset& train, const Dataset& test,
                                   const ClassifierOptions& o, bool verbose, const Dataset* extra) {
  GF_CHECK(train.is_image() && train.y.defined(), "the evaluator trains on labelled images; ",
           train.name, " is not");
  GF_CHECK(train.x.size(2) == train.x.size(3), "the evaluator needs square images");
  o.validate();
  if (extra) check_extra(train, *extra);
  const ClassicAugment augment = parse_classic_augment(o.augment);
  torch::manual_seed(mix(o.seed, 0xc1a55));
  TrainedClassifier out;
  out.info.dataset = train.name;
  out.info.classes = train.num_classes;
  out.info.channels = train.x.size(1);
  out.info.size = train.x.size(2);
  out.info.data_hash = extra ? classifier_data_hash(train, *extra) : classifier_data_hash(train);
  out.model = std::make_shared<Classifier>(out.info.channels, out.info.size, out.info.classes);
  torch::optim::Adam opt(out.model->parameters(), torch::optim::AdamOptions(o.lr));
  // Small folders (a few hundred images) get one batch of everything rather than an error.
  const int64_t batch = std::min(o.batch, train.size());
  // The real set's batches per epoch set the length, with or without extra data.
  const int64_t batches_per_epoch = train.size() / batch;
  const int64_t extra_batch =
      extra ? static_cast<int64_t>(std::llround(o.extra_ratio * static_cast<double>(batch))) : 0;
  GF_CHECK(!extra || (extra_batch >= 1 && extra_batch < batch), "--extra-ratio ", o.extra_ratio,
           " of a batch of ", batch, " leaves no room for real or extra images");
  GF_CHECK(!extra || extra->size() >= extra_batch, "the extra set ", (extra ? extra->name : ""),
           " has ", (extra ? extra->size() : 0), " images, fewer than the ", extra_batch,
           " each batch takes from it");
  BatchLoader loader(train, batch - extra_batch, mix(o.seed, 0xc1a55));
  std::unique_ptr<BatchLoader> extra_loader;
  if (extra) extra_loader = std::make_unique<BatchLoader>(*extra, extra_batch, mix(o.seed, 0xe47a));
  const int64_t epochs =
      o.epochs > 0 ? o.epochs
                   : std::clamp<int64_t>(320000 / std::max<int64_t>(1, train.size()), 5, 20);
  const int64_t steps = o.steps > 0 ? o.steps : epochs * batches_per_epoch;
  const int64_t log_every = o.steps > 0 ? std::max<int64_t>(1, steps / 10) : batches_per_epoch;
  auto gen = at::detail::createCPUGenerator(mix(o.seed, 0xa06));
  out.model->train();
  for (int64_t s = 0; s < steps; ++s) {
    // Linear learning-rate decay to 0 over training.
    for (auto& group : opt.param_groups()) {
      group.options().set_lr(o.lr * (1.0 - static_cast<double>(s) / static_cast<double>(steps)));
    }
    Batch b = loader.batch(s);
    if (extra_loader) {
      Batch e = extra_loader->batch(s);
      b.x = torch::cat({b.x, e.x});
      b.y = torch::cat({b.y, e.y});
    }
    if (augment.any()) b.x = classic_augment(b.x, augment, gen);
    auto loss = F::cross_entropy(out.model->forward(b.x), b.y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (verbose && (s + 1) % log_every == 0) {
      log_info("classifier step ", s + 1, "/", steps, " (epoch ", (s + 1) / batches_per_epoch,
               "): loss ", loss.item<double>());
    }
  }
  out.model->eval();
  out.info.test_accuracy = classifier_accuracy(*out.model, test);
  return out;
}

void save_classifier(const std::string& path, Classifier& model, const ClassifierInfo& info) {
  // The checkpoint container requires a model spec and a step; the evaluator has neither.
  CheckpointWriter w({{"model", nullptr}, {"step", 0}, {"classifier", info.to_json()}});
  model.save(w.section("classifier"));
  w.write(path);
}

TrainedClassifier load_classifier(const std::string& path) {
  CheckpointReader r(path);
  GF_CHECK(r.meta().contains("classifier"), path, ": not a ganforge evaluator (classifier) file");
  TrainedClassifier out;
  try {
    out.info = ClassifierInfo::from_json(r.meta().at("classifier"));
  } catch (const nlohmann::json::exception& e) {
    throw Error(concat(path, ": bad evaluator metadata (", e.what(), ")"));
  }
  GF_CHECK(out.info.version == kClassifierVersion, path, ": evaluator version ", out.info.version,
           " is not ", kClassifierVersion, "; retrain it with `ganforge classifier train`");
  out.model = std::make_shared<Classifier>(out.info.channels, out.info.size, out.info.classes);
  try {
    out.model->load(r.section("classifier"));
  } catch (const c10::Error& e) {
    throw Error(concat(path, ": evaluator weights unreadable (",
                       first_line(e.what_without_backtrace()), ")"));
  }
  out.model->eval();
  return out;
}

Embedding embed(Classifier& model, const torch::Tensor& images, int64_t batch) {
  torch::NoGradGuard no_grad;
  model.eval();
  std::vector<torch::Tensor> feats, probs;
  for (int64_t i = 0; i < images.size(0); i += batch) {
    auto x = images.narrow(0, i, std::min(batch, images.size(0) - i)).to(torch::kFloat32);
    auto f = model.features(x);
    feats.push_back(f.to(torch::kFloat64));
    probs.push_back(torch::softmax(model.logits_from_features(f), 1).to(torch::kFloat64));
  }
  return {torch::cat(feats), torch::cat(probs)};
}

}  // namespace gf
