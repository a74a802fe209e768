#include <cstdio>
#include <memory>

#include "commands.h"
#include "core/error.h"
#include "data/dataset.h"
#include "data/folder_tools.h"
#include "data/idx_pair.h"
#include "data/subset.h"

namespace gf::cli {
namespace {

void print_inspection(const nlohmann::json& r) {
  std::printf("folder:   %s\n", r["root"].get<std::string>().c_str());
  std::printf("images:   %lld readable of %lld image files (%s)\n",
              static_cast<long long>(r["images"].get<int64_t>()),
              static_cast<long long>(r["files"].get<int64_t>()),
              r["labelled"].get<bool>() ? "labelled by subfolder" : "unlabelled");
  if (r["labelled"].get<bool>()) {
    std::printf("classes:  %zu\n", r["classes"].size());
    for (const auto& c : r["classes"]) {
      std::printf("  %-32s %8lld\n", c["name"].get<std::string>().c_str(),
                  static_cast<long long>(c["images"].get<int64_t>()));
    }
  }
  auto counts = [](const char* title, const nlohmann::json& m) {
    std::printf("%-9s", title);
    for (const auto& [k, v] : m.items()) std::printf(" %s: %lld;", k.c_str(), v.get<long long>());
    std::printf("\n");
  };
  counts("formats:", r["formats"]);
  counts("modes:", r["modes"]);
  std::printf("sizes:    %zu distinct;", r["distinct_sizes"].get<size_t>());
  for (const auto& s : r["sizes"]) {
    std::printf(" %s: %lld;", s[0].get<std::string>().c_str(), s[1].get<long long>());
  }
  std::printf("\n");
  if (!r["ignored"].empty()) counts("ignored:", r["ignored"]);
  std::printf("bad:      %zu\n", r["bad"].size());
  for (const auto& b : r["bad"]) std::printf("  %s\n", b["reason"].get<std::string>().c_str());
}

void run_subset(DataOptions d, int64_t per_class, uint64_t seed, const std::string& out,
                bool dataset_given) {
  if (!dataset_given) d.dataset = dataset_kind_of(d.dir) == "folder" ? "folder" : "idx";
  d.split = "train";
  const Dataset train = load_dataset(d, 0);
  const Dataset subset = per_class_subset(train, per_class, seed);
  Dataset test;
  if (!is_idx_pair_path(out)) {
    d.split = "test";
    test = load_dataset(d, 0);
  }
  write_subset(out, subset, test);
  const std::string test_part =
      test.x.defined() ? concat(" (and its ", test.size(), " test images)") : "";
  std::printf(
      "wrote %lld images (%lld per class of %lld classes, seed %llu) of the %lld in %s%s "
      "to %s\n",
      static_cast<long long>(subset.size()), static_cast<long long>(per_class),
      static_cast<long long>(subset.num_classes), static_cast<unsigned long long>(seed),
      static_cast<long long>(train.size()), d.dir.c_str(), test_part.c_str(), out.c_str());
}

}  // namespace

Action add_dataset(CLI::App& app) {
  struct Options {
    std::string dir, out;
    DataOptions data;
    bool json = false;
    int64_t per_class = 0;
    uint64_t seed = 0;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("dataset", "look at and pack a folder of your own images");
  cmd->require_subcommand(1);
  auto* inspect = cmd->add_subcommand("inspect", "images per class, formats, sizes, bad files");
  inspect->add_option("dir", o->dir, "folder of images (one subfolder per class, or none)")
      ->required();
  inspect->add_flag("--json", o->json, "print one JSON object");
  auto* pack = cmd->add_subcommand("pack", "decode and resize once into a portable idx directory");
  pack->add_option("dir", o->data.dir, "folder of images")->required();
  pack->add_option("--out,-o", o->out, "output directory (must not exist)")->required();
  pack->add_option("--test-data", o->data.test_dir,
                   "folder of test images (default: 1 in 10 held out)");
  pack->add_option("--resolution", o->data.resolution, "square image size")
      ->check(CLI::Range(int64_t{4}, int64_t{1024}));
  pack->add_option("--channels", o->data.channels, "1, 3 or 0 (auto: 1 when all grey)")
      ->check(CLI::IsMember({0, 1, 3}));
  pack->add_option("--resize", o->data.resize, "center-crop | pad | stretch");
  pack->add_option("--background", o->data.background,
                   "under transparency: white | black | #rrggbb");
  pack->add_flag("--skip-bad", o->data.skip_bad, "skip unreadable images instead of failing");
  auto* subset = cmd->add_subcommand(
      "subset", "n labelled images per class, chosen by a seed (few-label experiments)");
  subset->add_option("data", o->data.dir, "idx directory (MNIST layout) or image folder")
      ->required();
  subset->add_option("--dataset", o->data.dataset,
                     "mnist | fashion-mnist | idx | folder (default: idx, or folder for images)");
  subset->add_option("--per-class", o->per_class, "images per class")
      ->required()
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}));
  subset->add_option("--seed", o->seed, "which images: the same seed, the same subset")
      ->check(CLI::Range(int64_t{0}, INT64_MAX));
  subset
      ->add_option("--out,-o", o->out,
                   "DIR (an idx directory: the subset as its training split, the test split "
                   "copied) | FILE.idx[.gz] (labels in FILE.labels.idx[.gz])")
      ->required();
  subset->add_option("--resolution", o->data.resolution, "folders: square image size")
      ->check(CLI::Range(int64_t{4}, int64_t{1024}));
  subset->add_option("--channels", o->data.channels, "folders: 1, 3 or 0 (auto)")
      ->check(CLI::IsMember({0, 1, 3}));
  return [o, inspect, subset] {
    if (subset->parsed()) {
      run_subset(o->data, o->per_class, o->seed, o->out, subset->count("--dataset") > 0);
      return;
    }
    if (inspect->parsed()) {
      const nlohmann::json r = inspect_image_folder(o->dir);
      if (o->json) {
        std::printf("%s\n", r.dump().c_str());
      } else {
        print_inspection(r);
      }
      return;
    }
    const nlohmann::json info = pack_image_folder(o->data, o->out);
    std::printf("packed %lld train and %lld test images of shape %s (%zu classes) into %s\n",
                static_cast<long long>(info["train"]["images"].get<int64_t>()),
                static_cast<long long>(info["test"]["images"].get<int64_t>()),
                info["shape"].dump().c_str(), info["classes"].size(), o->out.c_str());
  };
}

}  // namespace gf::cli
