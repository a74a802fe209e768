#include "data/idx_dir.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/file.h"
#include "data/idx.h"
#include "data/idx_pair.h"

namespace gf {
namespace {

namespace fs = std::filesystem;

std::string prefix(const std::string& split) {
  GF_CHECK(split == "train" || split == "test", "split must be train or test, got '", split, "'");
  return split == "test" ? "t10k" : "train";
}

// The existing file among stem[.gz] and stem, or "".
std::string find_file(const std::string& dir, const std::string& stem) {
  for (const std::string& name : {stem + ".gz", stem}) {
    const fs::path p = fs::path(dir) / name;
    if (fs::exists(p)) return p.string();
  }
  return "";
}

std::string images_file(const std::string& dir, const std::string& split) {
  for (const char* kind : {"-images-idx3-ubyte", "-images-idx4-ubyte"}) {
    std::string p = find_file(dir, prefix(split) + kind);
    if (!p.empty()) return p;
  }
  return "";
}

std::vector<std::string> read_classes(const std::string& dir) {
  const fs::path p = fs::path(dir) / "classes.txt";
  if (!fs::exists(p)) return {};
  std::istringstream in(read_file(p.string()));
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) names.push_back(line);
  }
  return names;
}

}  // namespace

bool has_idx_split(const std::string& dir, const std::string& split) {
  return !images_file(dir, split).empty();
}

void check_labels(const torch::Tensor& labels, const std::string& path, int64_t num_classes,
                  bool require_every_class) {
  const int64_t top = labels.max().item<int64_t>();
  if (num_classes > 0) {
    if (top < num_classes) return;
    const int64_t at = labels.ge(num_classes).nonzero()[0][0].item<int64_t>();
    throw Error(concat(path, ": label ", labels[at].item<int64_t>(), " at index ", at,
                       " is outside the ", num_classes, " classes (0-", num_classes - 1,
                       "); the file is corrupt or belongs to another dataset"));
  }
  if (!require_every_class) return;
  const torch::Tensor counts = torch::bincount(labels);
  const int64_t empty = counts.eq(0).sum().item<int64_t>();
  if (empty == 0) return;
  const int64_t at = labels.eq(top).nonzero()[0][0].item<int64_t>();
  throw Error(
      concat(path, ": labels run from 0 to ", top, " but ", empty, " of those ", top + 1,
             " classes have no image (label ", top, " first at index ", at,
             "); a corrupt label? if the gaps are intended, set data.num_classes=", top + 1));
}

IdxSplit read_idx_split(const std::string& dir, const std::string& split, int64_t limit,
                        bool labels_required, int64_t num_classes) {
  const std::string images_path = images_file(dir, split);
  GF_CHECK(!images_path.empty(), "no ", prefix(split), "-images-idx3-ubyte[.gz] (or idx4) in ", dir,
           " (expected the standard MNIST file names; see docs/data.md)");
  const std::string labels_path = find_file(dir, prefix(split) + "-labels-idx1-ubyte");
  GF_CHECK(!labels_path.empty() || !labels_required, "no ", prefix(split),
           "-labels-idx1-ubyte[.gz] in ", dir);
  IdxArray images = read_idx(images_path);
  const auto& d = images.dims;
  GF_CHECK(d.size() == 3 || (d.size() == 4 && (d[3] == 1 || d[3] == 3)), images_path,
           ": expected N x H x W or N x H x W x C (C = 1 or 3) images, found ", d.size(),
           " dimensions");
  GF_CHECK(d[1] <= 1024 && d[2] <= 1024, images_path, ": images of ", d[1], "x", d[2],
           " are larger than the supported 1024x1024");
  const int64_t c = d.size() == 4 ? d[3] : 1;
  int64_t n = d[0];
  if (limit > 0) n = std::min(n, limit);
  IdxSplit out;
  out.pixels = torch::from_blob(images.data.data(), {d[0], d[1], d[2], c}, torch::kUInt8)
                   .narrow(0, 0, n)
                   .clone();
  if (!labels_path.empty()) {
    IdxArray labels = read_idx(labels_path);
    GF_CHECK(labels.dims.size() == 1, labels_path, ": expected 1 dimension (N), found ",
             labels.dims.size());
    GF_CHECK(labels.dims[0] == d[0], images_path, " holds ", d[0], " images but ", labels_path,
             " holds ", labels.dims[0], " labels");
    out.labels = torch::from_blob(labels.data.data(), {labels.dims[0]}, torch::kUInt8)
                     .narrow(0, 0, n)
                     .to(torch::kInt64);
  }
  out.classes = read_classes(dir);
  if (out.labels.defined() && n > 0) {
    GF_CHECK(num_classes == 0 || out.classes.empty() ||
                 num_classes == static_cast<int64_t>(out.classes.size()),
             dir, ": classes.txt names ", out.classes.size(), " classes but ", num_classes,
             " are configured");
    check_labels(out.labels, labels_path,
                 num_classes > 0 ? num_classes : static_cast<int64_t>(out.classes.size()),
                 split == "train");
  }
  return out;
}

void write_idx_split(const std::string& dir, const std::string& split, const IdxSplit& data) {
  GF_CHECK(data.pixels.dim() == 4 && data.pixels.scalar_type() == torch::kUInt8,
           "write_idx_split needs uint8 [N, H, W, C] pixels");
  fs::create_directories(dir);
  write_idx((fs::path(dir) / (prefix(split) + "-images-idx4-ubyte")).string(),
            idx_array_of(data.pixels));
  if (data.labels.defined()) {
    GF_CHECK(data.labels.numel() == 0 || (data.labels.min().item<int64_t>() >= 0 &&
                                          data.labels.max().item<int64_t>() < 256),
             "idx labels must be 0..255");
    write_idx((fs::path(dir) / (prefix(split) + "-labels-idx1-ubyte")).string(),
              idx_array_of(data.labels.to(torch::kUInt8)));
  }
  if (!data.classes.empty()) {
    std::string text;
    for (const auto& c : data.classes) text += c + "\n";
    write_file_atomic((fs::path(dir) / "classes.txt").string(), text);
  }
}

}  // namespace gf
