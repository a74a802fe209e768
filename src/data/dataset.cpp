#include "data/dataset.h"

#include <cmath>
#include <filesystem>

#include <ATen/CPUGeneratorImpl.h>

#include "core/error.h"
#include "core/names.h"
#include "core/rng.h"
#include "data/idx.h"

namespace gf {
namespace {

const std::vector<std::string>& idx_datasets() {
  static const std::vector<std::string> names = {"mnist", "fashion-mnist", "idx"};
  return names;
}

std::string find_idx_file(const std::string& dir, const std::string& stem) {
  namespace fs = std::filesystem;
  for (const std::string& name : {stem + ".gz", stem}) {
    const fs::path p = fs::path(dir) / name;
    if (fs::exists(p)) return p.string();
  }
  throw Error(concat("no ", stem, "[.gz] in ", dir,
                     " (expected the standard MNIST file names; see README, 'Your own data')"));
}

Dataset load_idx_dir(const DataOptions& o) {
  const std::string dir = o.dir.empty() ? "data/" + o.dataset : o.dir;
  GF_CHECK(std::filesystem::is_directory(dir), "data directory ", dir, " does not exist",
           o.dir.empty() ? " (run `make data`, or pass --data DIR)" : "");
  const std::string images_path = idx_images_path(dir, o.split);
  const std::string labels_path = idx_labels_path(dir, o.split);
  IdxArray images = read_idx(images_path);
  IdxArray labels = read_idx(labels_path);
  GF_CHECK(images.dims.size() == 3, images_path, ": expected 3 dimensions (N, H, W), found ",
           images.dims.size());
  GF_CHECK(images.dims[1] <= 1024 && images.dims[2] <= 1024, images_path, ": images of ",
           images.dims[1], "x", images.dims[2], " are larger than the supported 1024x1024");
  GF_CHECK(labels.dims.size() == 1, labels_path, ": expected 1 dimension (N), found ",
           labels.dims.size());
  GF_CHECK(images.dims[0] == labels.dims[0], images_path, " holds ", images.dims[0], " images but ",
           labels_path, " holds ", labels.dims[0], " labels");
  int64_t n = images.dims[0];
  if (o.limit > 0) n = std::min(n, o.limit);
  const int64_t h = images.dims[1], w = images.dims[2];
  auto pixels =
      torch::from_blob(images.data.data(), {images.dims[0], h, w}, torch::kUInt8).narrow(0, 0, n);
  Dataset d;
  d.name = o.dataset;
  d.x = pixels_to_unit(pixels);
  d.y = torch::from_blob(labels.data.data(), {labels.dims[0]}, torch::kUInt8)
            .narrow(0, 0, n)
            .to(torch::kInt64);
  d.num_classes = d.y.max().item<int64_t>() + 1;
  GF_CHECK(d.num_classes <= 1000, labels_path, ": label ", d.num_classes - 1,
           " is out of range (at most 1000 classes)");
  return d;
}

}  // namespace

void DataOptions::validate() const {
  check_name("dataset", dataset, dataset_names());
  GF_CHECK(dataset != "idx" || !dir.empty(),
           "dataset 'idx' needs a directory (data.dir or --data)");
  GF_CHECK(split == "train" || split == "test", "data.split must be train or test, got '", split,
           "'");
  GF_CHECK(limit >= 0, "data.limit must be >= 0, got ", limit);
  GF_CHECK(synthetic_n >= 1 && synthetic_n <= 10'000'000,
           "data.synthetic_n must be between 1 and 10000000, got ", synthetic_n);
}

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DataOptions, dataset, dir, split, limit, synthetic_n)

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
  names.push_back("ring");
  return names;
}

std::string idx_images_path(const std::string& dir, const std::string& split) {
  return find_idx_file(dir,
                       (split == "test" ? "t10k" : "train") + std::string("-images-idx3-ubyte"));
}

std::string idx_labels_path(const std::string& dir, const std::string& split) {
  return find_idx_file(dir,
                       (split == "test" ? "t10k" : "train") + std::string("-labels-idx1-ubyte"));
}

torch::Tensor pixels_to_unit(const torch::Tensor& pixels) {
  return pixels.to(torch::kFloat32).div(127.5).sub(1.0).unsqueeze(1).contiguous();
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
  return load_idx_dir(options);
}

}  // namespace gf
