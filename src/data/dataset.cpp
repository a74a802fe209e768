#include "data/dataset.h"

#include <cmath>
#include <filesystem>

#include <ATen/CPUGeneratorImpl.h>

#include "core/error.h"
#include "core/names.h"
#include "core/rng.h"
#include "data/idx_dir.h"
#include "data/image_folder.h"

namespace gf {
namespace {

const std::vector<std::string>& idx_datasets() {
  static const std::vector<std::string> names = {"mnist", "fashion-mnist", "idx"};
  return names;
}

Dataset from_pixels(const std::string& name, const torch::Tensor& pixels,
                    const torch::Tensor& labels, std::vector<std::string> classes,
                    int64_t num_classes) {
  Dataset d;
  d.name = name;
  d.x = pixels_to_unit(pixels);
  if (labels.defined() && labels.numel() > 0) {
    GF_CHECK(
        num_classes == 0 || classes.empty() || static_cast<int64_t>(classes.size()) == num_classes,
        "data.num_classes = ", num_classes, " but ", name, " has ", classes.size(),
        " named classes");
    d.y = labels;
    d.num_classes = num_classes > 0    ? num_classes
                    : !classes.empty() ? static_cast<int64_t>(classes.size())
                                       : d.y.max().item<int64_t>() + 1;
    d.class_names = std::move(classes);
  }
  return d;
}

// The classes an idx set must have: the named sets' 10, else what the config says (0: any).
int64_t expected_classes(const DataOptions& o) {
  if (o.num_classes > 0) return o.num_classes;
  return o.dataset == "mnist" || o.dataset == "fashion-mnist" ? 10 : 0;
}

Dataset load_idx_dir(const DataOptions& o) {
  const std::string dir = o.dir.empty() ? "data/" + o.dataset : o.dir;
  GF_CHECK(std::filesystem::is_directory(dir), "data directory ", dir, " does not exist",
           o.dir.empty() ? " (run `make data`, or pass --data DIR)" : "");
  // The named sets are labelled; a generic idx directory (e.g. a packed folder) may not be.
  IdxSplit s = read_idx_split(dir, o.split, o.limit, /*labels_required=*/o.dataset != "idx",
                              expected_classes(o));
  return from_pixels(o.dataset, s.pixels, s.labels, s.classes, expected_classes(o));
}

Dataset load_folder(const DataOptions& o) {
  // A packed folder (`ganforge dataset pack`) is an idx directory.
  if (dataset_kind_of(o.dir) == "idx") {
    IdxSplit s = read_idx_split(o.dir, o.split, o.limit, /*labels_required=*/false, o.num_classes);
    return from_pixels(folder_dataset_id(o), s.pixels, s.labels, s.classes, o.num_classes);
  }
  FolderSamples s = load_image_folder(o);
  const int64_t n = s.pixels.size(0);
  if (o.limit > 0 && o.limit < n) {
    // Files come sorted by class folder: evenly spaced picks keep every class, a prefix would
    // keep the first few.
    const auto picks = (torch::arange(o.limit, torch::kInt64) * n).div(o.limit, "floor");
    s.pixels = s.pixels.index_select(0, picks);
    if (s.labels.defined()) s.labels = s.labels.index_select(0, picks);
  }
  return from_pixels(folder_dataset_id(o), s.pixels, s.labels, s.classes, o.num_classes);
}

}  // namespace

void DataOptions::validate() const {
  check_name("dataset", dataset, dataset_names());
  GF_CHECK(dataset != "idx" || !dir.empty(),
           "dataset 'idx' needs a directory (data.dir or --data)");
  GF_CHECK(split == "train" || split == "test", "data.split must be train or test, got '", split,
           "'");
  GF_CHECK(dataset != "folder" || !dir.empty(),
           "dataset 'folder' needs an image folder (data.dir or --data)");
  GF_CHECK(limit >= 0, "data.limit must be >= 0, got ", limit);
  GF_CHECK(num_classes >= 0 && num_classes <= 256, "data.num_classes must be between 0 and 256");
  GF_CHECK(resolution >= 4 && resolution <= 1024,
           "data.resolution must be between 4 and 1024, got ", resolution);
  GF_CHECK(channels == 0 || channels == 1 || channels == 3,
           "data.channels must be 1, 3 or 0 (auto), got ", channels);
  check_name("data.resize", resize, resize_names());
  parse_colour(background);
  GF_CHECK(synthetic_n >= 1 && synthetic_n <= 10'000'000,
           "data.synthetic_n must be between 1 and 10000000, got ", synthetic_n);
}

// With defaults: run configs and checkpoints written before a key existed still load.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DataOptions, dataset, dir, split, limit,
                                                synthetic_n, mirror, test_dir, resolution, channels,
                                                resize, background, skip_bad, cache_dir,
                                                num_classes)

nlohmann::json DataOptions::to_json() const {
  return *this;
}
DataOptions DataOptions::from_json(const nlohmann::json& j) {
  return j.get<DataOptions>();
}

std::vector<int64_t> Dataset::sample_shape() const {
  auto s = x.sizes().vec();
  s.erase(s.begin());
  return s;
}

std::vector<std::string> dataset_names() {
  auto names = idx_datasets();
  names.push_back("folder");
  names.push_back("ring");
  return names;
}

std::string dataset_kind_of(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return "";
  if (has_idx_split(path, "train") || has_idx_split(path, "test")) return "idx";
  return "folder";
}

std::string dataset_id(const DataOptions& o) {
  return o.dataset == "folder" ? folder_dataset_id(o) : o.dataset;
}

torch::Tensor pixels_to_unit(const torch::Tensor& pixels) {
  GF_CHECK(pixels.dim() == 3 || pixels.dim() == 4, "pixels must be [N, H, W] or [N, H, W, C]");
  auto p = pixels.dim() == 3 ? pixels.unsqueeze(3) : pixels;
  return p.permute({0, 3, 1, 2}).to(torch::kFloat32).div(127.5).sub(1.0).contiguous();
}

torch::Tensor unit_to_pixels(const torch::Tensor& images) {
  return images.detach()
      .to(torch::kCPU, torch::kFloat32)
      .add(1.0)
      .mul(127.5)
      .round()
      .clamp(0, 255)
      .to(torch::kUInt8);
}

torch::Tensor RingSpec::centers() const {
  auto angle = torch::arange(modes, torch::kFloat64) * (2.0 * M_PI / modes);
  return torch::stack({radius * torch::cos(angle), radius * torch::sin(angle)}, 1)
      .to(torch::kFloat32);
}

torch::Tensor sample_ring(const RingSpec& spec, int64_t n, uint64_t seed,
                          torch::Tensor* modes_out) {
  auto gen = at::detail::createCPUGenerator(seed);
  auto mode = torch::randint(spec.modes, {n}, gen, torch::kInt64);
  if (modes_out) *modes_out = mode;
  auto noise = torch::randn({n, 2}, gen, torch::kFloat32) * spec.sigma;
  return spec.centers().index_select(0, mode) + noise;
}

RingQuality ring_quality(const RingSpec& spec, const torch::Tensor& points, double min_share) {
  GF_CHECK(points.dim() == 2 && points.size(1) == 2 && points.size(0) > 0,
           "ring_quality needs [N, 2] points");
  auto p = points.to(torch::kCPU, torch::kFloat32);
  auto [dist, nearest] = torch::cdist(p, spec.centers()).min(1);
  auto good = dist.lt(4.0 * spec.sigma);
  RingQuality q;
  q.high_quality = good.to(torch::kFloat64).mean().item<double>();
  auto per_mode = torch::bincount(nearest.masked_select(good), {}, spec.modes);
  q.modes_covered = per_mode.ge(min_share * static_cast<double>(p.size(0))).sum().item<int64_t>();
  return q;
}

Dataset load_dataset(const DataOptions& options, uint64_t seed) {
  options.validate();
  if (options.dataset == "ring") {
    Dataset d;
    d.name = "ring";
    // Points are used as they are: the ring lies within [-2.1, 2.1]; G ends without tanh here.
    const int64_t n = options.limit > 0 ? options.limit : options.synthetic_n;
    // Labelled by mode, so conditional models can be checked on it too (8 modes = 8 labels).
    d.x = sample_ring(RingSpec{}, n, derive_seed(seed, Stream::kSynthetic), &d.y);
    d.num_classes = RingSpec{}.modes;
    return d;
  }
  Dataset d = options.dataset == "folder" ? load_folder(options) : load_idx_dir(options);
  if (options.mirror && options.split == "train") {
    // StyleGAN2-ADA's --mirror=1: the dataset doubles with each image's left-right mirror.
    d.x = torch::cat({d.x, d.x.flip({3})});
    if (d.y.defined()) d.y = torch::cat({d.y, d.y});
  }
  return d;
}

}  // namespace gf
