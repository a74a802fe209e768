#include "data/labelled_set.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/names.h"
#include "data/idx_dir.h"
#include "data/idx_pair.h"
#include "data/image_folder.h"

namespace gf {
namespace {

namespace fs = std::filesystem;

// The index in `like` of a class the extra set calls `name`.
int64_t class_of(const std::string& name, const Dataset& like, const std::string& path) {
  if (!like.class_names.empty()) {
    const auto it = std::find(like.class_names.begin(), like.class_names.end(), name);
    GF_CHECK(it != like.class_names.end(), path, ": class '", name, "' is not a class of ",
             like.name, " (", join_names(like.class_names), ")");
    return it - like.class_names.begin();
  }
  const bool digits =
      !name.empty() && name.size() <= 3 &&
      std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
  GF_CHECK(digits && std::stoll(name) < like.num_classes, path, ": class '", name,
           "' is not a class of ", like.name, ", whose ", like.num_classes,
           " classes are numbered 0 to ", like.num_classes - 1);
  return std::stoll(name);
}

IdxSplit read_extra(const std::string& path, const Dataset& like) {
  if (is_idx_pair_path(path)) return read_idx_pair(path, /*labels_required=*/true);
  GF_CHECK(fs::is_directory(path), path, " does not exist (expected FILE.idx[.gz] with ",
           "FILE.labels.idx[.gz] beside it, an idx directory or an image folder)");
  if (dataset_kind_of(path) == "idx") {
    return read_idx_split(path, "train", 0, /*labels_required=*/true, /*num_classes=*/0);
  }
  DataOptions o;
  o.dataset = "folder";
  o.dir = path;
  o.test_dir = path;  // a folder that is its own test split: the training split is every image
  o.resolution = like.x.size(2);
  o.channels = like.x.size(1);
  o.cache_dir = "none";
  FolderSamples s = load_image_folder(o);
  GF_CHECK(s.labels.defined(), path, " has no class subfolders: extra training images need labels");
  return {s.pixels, s.labels, s.classes};
}

}  // namespace

Dataset load_labelled_like(const std::string& path, const Dataset& like) {
  GF_CHECK(like.is_image() && like.y.defined(), "extra images join a labelled image set; ",
           like.name, " is not one");
  IdxSplit s = read_extra(path, like);
  GF_CHECK(s.labels.defined(), path, " has no labels: extra training images need them");
  GF_CHECK(s.pixels.size(0) > 0, path, " holds no images");
  const auto shape = like.sample_shape();
  GF_CHECK(
      s.pixels.size(3) == shape[0] && s.pixels.size(1) == shape[1] && s.pixels.size(2) == shape[2],
      path, " holds images of ", s.pixels.size(1), "x", s.pixels.size(2), "x", s.pixels.size(3),
      " (HxWxC), but ", like.name, "'s are ", shape[1], "x", shape[2], "x", shape[0]);
  Dataset out;
  out.name = path;
  out.x = pixels_to_unit(s.pixels);
  out.num_classes = like.num_classes;
  out.class_names = like.class_names;
  if (s.classes.empty()) {
    const int64_t top = s.labels.max().item<int64_t>();
    GF_CHECK(top < like.num_classes, path, ": label ", top, " is not a class of ", like.name,
             ", whose ", like.num_classes, " classes are numbered 0 to ", like.num_classes - 1);
    out.y = s.labels;
    return out;
  }
  std::vector<int64_t> to_like;
  for (const auto& name : s.classes) to_like.push_back(class_of(name, like, path));
  out.y = torch::tensor(to_like, torch::kInt64).index_select(0, s.labels);
  return out;
}

}  // namespace gf
