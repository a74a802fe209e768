// Folders of the user's own images, labelled as torchvision's ImageFolder labels them: each
// first-level subfolder is a class (names sorted; deeper folders belong to it). Unlike
// ImageFolder, images directly in the folder with no subfolders are an unlabelled set, both at
// once is an error, and names starting with '.' are skipped. Decoded samples are
// kept in a packed cache (an idx directory, see idx_dir.h) keyed by the file list and the
// preprocessing, so a second run does not decode again.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "data/image_file.h"

namespace gf {

struct DataOptions;

constexpr int64_t kMaxFolderClasses = 256;  // labels are stored as idx ubytes

struct FolderFile {
  std::string rel;  // path relative to the folder, '/'-separated
  int64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t label = -1;  // index into FolderScan::classes; -1 when unlabelled
};

struct FolderScan {
  std::string root;
  std::vector<std::string> classes;        // empty: unlabelled
  std::vector<FolderFile> files;           // images, names sorted at every folder level
  std::map<std::string, int64_t> ignored;  // other files, by extension ("(none)" without one)
};

// Walks `dir` (following symlinks, refusing loops). gf::Error for a missing or unreadable
// directory, a symlink loop, no images, an empty class folder, or images both at the top and in
// subfolders.
FolderScan scan_image_folder(const std::string& dir);

// The held-out test split of a folder without data.test_dir: about 1 file in 10, chosen by a
// hash of its relative path, so adding or removing files never moves another file between splits.
bool in_holdout(const std::string& rel);

struct FolderSamples {
  torch::Tensor pixels;  // uint8 [N, R, R, C]
  torch::Tensor labels;  // int64 [N], undefined when unlabelled
  std::vector<std::string> classes;
  std::vector<std::string> skipped;  // "path: reason" for files skipped by data.skip_bad
  bool from_cache = false;
};

// Reads the split that `options` asks for (data.dir, data.test_dir, data.split), prepared as the
// options say, through the cache unless data.cache_dir is "none".
FolderSamples load_image_folder(const DataOptions& options);

// The per-dataset directory of caches (data.cache_dir, $GANFORGE_CACHE, $XDG_CACHE_HOME/ganforge
// or ~/.cache/ganforge, in that order).
std::string folder_cache_root(const DataOptions& options);

// A stable name for a folder dataset (its directory's base name and a hash of its canonical path
// and preprocessing), e.g. "folder-emoji-3f2a9c01": evaluators and reference caches are keyed by
// it.
std::string folder_dataset_id(const DataOptions& options);

}  // namespace gf
