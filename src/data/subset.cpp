#include "data/subset.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/rng.h"
#include "data/idx_dir.h"
#include "data/idx_pair.h"

namespace gf {
namespace {

namespace fs = std::filesystem;

// uint8 [N, H, W, C], the layout idx files store.
torch::Tensor to_pixels(const Dataset& d) {
  return unit_to_pixels(d.x).permute({0, 2, 3, 1}).contiguous();
}

}  // namespace

torch::Tensor per_class_indices(const torch::Tensor& labels, int64_t num_classes, int64_t per_class,
                                uint64_t seed) {
  GF_CHECK(per_class >= 1, "images per class must be at least 1, got ", per_class);
  GF_CHECK(labels.defined() && labels.dim() == 1, "a per-class subset needs labelled data");
  GF_CHECK(num_classes >= 1, "a per-class subset needs at least one class");
  auto gen = at::detail::createCPUGenerator(mix(seed, 0x5b5e7));
  const auto perm = torch::randperm(labels.size(0), gen, torch::kInt64);
  const auto shuffled = labels.index_select(0, perm).contiguous();
  const auto* y = shuffled.data_ptr<int64_t>();
  const auto* p = perm.data_ptr<int64_t>();
  std::vector<int64_t> taken(num_classes, 0), picks;
  picks.reserve(per_class * num_classes);
  for (int64_t i = 0; i < shuffled.size(0); ++i) {
    GF_CHECK(y[i] >= 0 && y[i] < num_classes, "label ", y[i], " is outside the ", num_classes,
             " classes");
    if (taken[y[i]] < per_class) {
      ++taken[y[i]];
      picks.push_back(p[i]);
    }
  }
  for (int64_t c = 0; c < num_classes; ++c) {
    GF_CHECK(taken[c] == per_class, "class ", c, " has only ", taken[c], " images, fewer than the ",
             per_class, " per class asked for");
  }
  std::sort(picks.begin(), picks.end());
  return torch::tensor(picks, torch::kInt64);
}

Dataset per_class_subset(const Dataset& data, int64_t per_class, uint64_t seed) {
  GF_CHECK(data.y.defined(), data.name, " has no labels: a per-class subset needs labelled data");
  const auto idx = per_class_indices(data.y, data.num_classes, per_class, seed);
  Dataset out = data;
  out.x = data.x.index_select(0, idx);
  out.y = data.y.index_select(0, idx);
  return out;
}

void write_subset(const std::string& out, const Dataset& subset, const Dataset& test) {
  GF_CHECK(subset.is_image() && subset.y.defined(), "a subset to write must be labelled images");
  if (is_idx_pair_path(out)) {
    write_idx_pair(out, to_pixels(subset), subset.y);
    return;
  }
  std::error_code ec;
  GF_CHECK(!fs::exists(out) || (fs::is_directory(out) && fs::is_empty(out, ec)), out,
           " exists and is not an empty directory; choose a new --out");
  write_idx_split(out, "train", {to_pixels(subset), subset.y, subset.class_names});
  if (test.size() > 0) write_idx_split(out, "test", {to_pixels(test), test.y, {}});
}

}  // namespace gf
