#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "core/error.h"
#include "core/log.h"
#include "core/runtime.h"
#include "data/dataset.h"
#include "data/labelled_set.h"
#include "eval/classifier.h"
#include "eval/evaluate.h"

namespace gf::cli {
namespace {

void print_row(const std::string& name, const nlohmann::json& value, const nlohmann::json& base) {
  std::printf("%-24s %14.5f", name.c_str(), value.get<double>());
  if (base.is_number()) {
    std::printf(" %14.5f\n", base.get<double>());
  } else {
    std::printf(" %14s\n", "-");
  }
}

void print_table(const nlohmann::json& r) {
  std::printf("source:     %s\n", r["source"].dump().c_str());
  if (r["evaluator"].is_null()) {
    std::printf("evaluator:  none (unlabelled data: the label-free space only)\n");
  } else {
    std::printf("evaluator:  %s (%s, test accuracy %.4f)\n",
                r["evaluator"]["version"].get<std::string>().c_str(),
                r["evaluator"]["dataset"].get<std::string>().c_str(),
                r["evaluator"]["test_accuracy"].get<double>());
  }
  const auto& free = r["feature_spaces"]["label_free"];
  std::printf("label-free: %s (%lld-d random CNN)\n", free["version"].get<std::string>().c_str(),
              static_cast<long long>(free["dim"].get<int64_t>()));
  std::printf(
      "samples:    %lld generated, %lld real test (reference), %lld real train (baseline)\n\n",
      static_cast<long long>(r["n"]["generated"].get<int64_t>()),
      static_cast<long long>(r["n"]["reference"].get<int64_t>()),
      static_cast<long long>(r["n"]["baseline"].get<int64_t>()));
  std::printf("%-24s %14s %14s\n", "metric", "generated", "real baseline");
  const auto& base = r["baseline"];
  for (const auto& item : r["metrics"].items()) {
    if (!item.value().is_number()) continue;
    print_row(item.key(), item.value(), base.value(item.key(), nlohmann::json()));
  }
  if (r["metrics"].contains("label_free")) {
    const auto& free_base = base.value("label_free", nlohmann::json::object());
    for (const auto& item : r["metrics"]["label_free"].items()) {
      if (!item.value().is_number()) continue;
      print_row(item.key() + " (label-free)", item.value(),
                free_base.value(item.key(), nlohmann::json()));
    }
  }
  if (r["metrics"].contains("class_histogram")) {
    std::printf("\nclass histogram:");
    for (const auto& v : r["metrics"]["class_histogram"]) std::printf(" %.3f", v.get<double>());
    std::printf("\n");
  }
  if (r.contains("memorisation")) {
    const auto& m = r["memorisation"];
    std::printf(
        "\nmemorisation: %.2f %% of samples nearer a training image than 99 %% of test images "
        "are (pixel L2 threshold %.3f); flagged: %s\n",
        100.0 * m["share"].get<double>(), m["threshold"].get<double>(),
        m["flagged"].get<bool>() ? "yes" : "no");
    std::printf("closest pairs (sample -> training image, distance):");
    for (const auto& p : m["closest"]) {
      std::printf(" %lld -> %lld %.3f;", static_cast<long long>(p["sample_index"].get<int64_t>()),
                  static_cast<long long>(p["train_index"].get<int64_t>()),
                  p["distance"].get<double>());
    }
    std::printf("\n");
  }
  std::printf("\nevaluation took %.1f s\n", r["seconds"].get<double>());
}

}  // namespace

Action add_eval(CLI::App& app) {
  auto req = std::make_shared<EvalRequest>();
  auto as_json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("eval", "measure sample quality against a dataset's test split");
  cmd->add_option("source", req->source, "checkpoint, run directory or samples .idx[.gz]")
      ->required();
  cmd->add_option("--dataset", req->dataset,
                  "mnist | fashion-mnist | idx | folder (default: the checkpoint's training data)");
  cmd->add_option("--data", req->data_dir,
                  "idx directory or image folder (default: the checkpoint's)");
  cmd->add_option("--metrics", req->metrics,
                  "fid,kid,is,prdc,classes,cond_acc,cas,memorisation (default: all but "
                  "cond_acc/cas; without labels fid,kid,prdc,memorisation)")
      ->delimiter(',');
  cmd->add_option("--pairs", req->pairs_png,
                  "write memorisation's closest (sample, training image) pairs to this PNG");
  cmd->add_option("-n", req->n, "generated samples")
      ->check(CLI::Range(int64_t{20}, int64_t{200000}));
  cmd->add_option("--evaluator", req->evaluator,
                  "evaluator file (default: the dataset's; trained on first use)");
  cmd->add_option("--seed", req->seed, "sampling seed")->check(CLI::Range(int64_t{0}, INT64_MAX));
  cmd->add_option("--device", req->device, "cpu | cuda | cuda:N");
  cmd->add_flag("--json", *as_json, "print one JSON object");
  return [req, as_json] {
    set_threads(0);
    const nlohmann::json r = evaluate(*req);
    if (*as_json) {
      std::printf("%s\n", r.dump().c_str());
    } else {
      print_table(r);
    }
  };
}

Action add_classifier(CLI::App& app) {
  struct Options {
    std::string dataset;
    DataOptions data;
    std::string out, extra;
    ClassifierOptions train;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("classifier", "the evaluator: a small CNN per dataset");
  cmd->require_subcommand(1);
  auto* train = cmd->add_subcommand("train", "train the evaluator deterministically and save it");
  train->add_option("--dataset", o->dataset,
                    "mnist | fashion-mnist | idx | folder (default: mnist, or folder for --data "
                    "with images)");
  train->add_option("--data", o->data.dir, "idx directory or image folder");
  train->add_option("--test-data", o->data.test_dir,
                    "folder of test images (default: 1 in 10 of --data held out)");
  train->add_option("--resolution", o->data.resolution, "folders: image size, as the GAN's")
      ->check(CLI::Range(int64_t{4}, int64_t{1024}));
  train->add_option("--channels", o->data.channels, "folders: 1, 3 or 0 (auto)")
      ->check(CLI::IsMember({0, 1, 3}));
  train->add_option("--resize", o->data.resize, "folders: center-crop | pad | stretch");
  train->add_option("--out", o->out,
                    "output file (default data/evaluators/<dataset>.clf; folders: in the cache)");
  auto* epochs =
      train->add_option("--epochs", o->train.epochs, "training epochs (default: by dataset size)")
          ->check(CLI::Range(1, 100));
  train
      ->add_option("--steps", o->train.steps,
                   "optimisation steps instead of epochs (the same with or without --extra)")
      ->check(CLI::Range(int64_t{1}, int64_t{10'000'000}))
      ->excludes(epochs);
  train->add_option("--batch", o->train.batch, "batch size")
      ->check(CLI::Range(int64_t{1}, int64_t{65536}));
  train->add_option("--seed", o->train.seed, "seed (initialisation, batches, augmentation)")
      ->check(CLI::Range(int64_t{0}, INT64_MAX));
  train->add_option("--augment", o->train.augment,
                    "classic augmentation: shift (up to 2 px), rotate (up to 10 degrees) or "
                    "shift,rotate");
  auto* extra = train->add_option(
      "--extra", o->extra,
      "extra labelled images mixed into every batch: FILE.idx[.gz] (labels in "
      "FILE.labels.idx[.gz]), an idx directory or an image folder (DIR/<class>/*.png)");
  train
      ->add_option("--extra-ratio", o->train.extra_ratio,
                   "share of every batch drawn from --extra (default 0.5: half and half)")
      ->needs(extra);
  train->add_flag("--json", o->json, "print one JSON object (the classifier's info and file)");
  return [o] {
    set_threads(0);
    DataOptions d = o->data;
    d.dataset = !o->dataset.empty()                                    ? o->dataset
                : !d.dir.empty() && dataset_kind_of(d.dir) == "folder" ? "folder"
                                                                       : "mnist";
    // The dataset's evaluator is the fixed recipe every FID is measured with; a classifier that
    // learnt from extra or augmented images is an experiment's, kept apart from it.
    GF_CHECK(
        !o->out.empty() || (o->extra.empty() && o->train.augment.empty()),
        "--extra and --augment train an experiment's classifier, not the dataset's evaluator: ",
        "give it a file with --out");
    // So is one of a named dataset from other images (a subset, say): written to the default
    // path it would replace the evaluator every FID of that dataset is measured with.
    const bool own_images = !d.dir.empty() && d.dataset != "folder" &&
                            std::filesystem::weakly_canonical(d.dir) !=
                                std::filesystem::weakly_canonical("data/" + d.dataset);
    GF_CHECK(!o->out.empty() || !own_images, "--data ", d.dir, " is not data/", d.dataset,
             ", so this classifier is not the ", d.dataset,
             " evaluator that every FID is measured with: give it a file with --out");
    o->train.validate();
    const Dataset train = load_dataset(d, 0);
    const Dataset extra = o->extra.empty() ? Dataset{} : load_labelled_like(o->extra, train);
    d.split = "test";
    const Dataset test = load_dataset(d, 0);
    TrainedClassifier c =
        train_classifier(train, test, o->train, true, o->extra.empty() ? nullptr : &extra);
    const std::string out = o->out.empty() ? default_evaluator_path(d) : o->out;
    if (const auto parent = std::filesystem::path(out).parent_path(); !parent.empty()) {
      std::filesystem::create_directories(parent);
    }
    save_classifier(out, *c.model, c.info);
    if (o->json) {
      nlohmann::json j = c.info.to_json();
      j["file"] = out;
      j["train_images"] = train.size();
      j["extra_images"] = o->extra.empty() ? 0 : extra.size();
      j["test_images"] = test.size();
      std::printf("%s\n", j.dump().c_str());
      return;
    }
    std::printf("evaluator %s for %s: test accuracy %.4f on %lld images, written to %s\n",
                c.info.version.c_str(), c.info.dataset.c_str(), c.info.test_accuracy,
                static_cast<long long>(test.size()), out.c_str());
  };
}

}  // namespace gf::cli
