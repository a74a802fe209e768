#include "apply/repair.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include <ATen/CPUGeneratorImpl.h>

#include "apply/inpaint.h"
#include "core/error.h"
#include "core/file.h"
#include "core/names.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "data/idx_pair.h"
#include "data/image_file.h"
#include "io/image.h"
#include "models/sampler.h"

namespace gf {
namespace {

constexpr int64_t kMaxImages = 100000;
constexpr uintmax_t kMaxImageFileBytes = uintmax_t{256} << 20;

bool is_image_name(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  for (const char* ext : {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga"}) {
    if (ends_with(lower, ext)) return true;
  }
  return false;
}

std::vector<std::filesystem::path> image_files(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_regular_file() && is_image_name(e.path().filename().string())) {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  GF_CHECK(!files.empty(), dir, " holds no images (png, jpg, bmp, gif, tga)");
  GF_CHECK(static_cast<int64_t>(files.size()) <= kMaxImages, dir, " holds more than ", kMaxImages,
           " images");
  return files;
}

std::string read_image_bytes(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  GF_CHECK(!ec, path.string(), ": cannot read (", ec.message(), ")");
  GF_CHECK(size <= kMaxImageFileBytes, path.string(), " is larger than 256 MiB");
  return read_file(path.string());
}

// uint8 [N, H, W, C] with C in {1, 3} -> [N, channels, H, W] in [-1, 1] (luma or replicated grey).
torch::Tensor pixels_for(const torch::Tensor& pixels, int64_t channels) {
  auto x = pixels_to_unit(pixels);
  if (x.size(1) == channels) return x;
  if (channels == 3) return x.expand({-1, 3, -1, -1}).contiguous();
  // PIL's L = R * 299/1000 + G * 587/1000 + B * 114/1000, on [-1, 1] values (linear, so exact).
  return (x.select(1, 0) * 0.299 + x.select(1, 1) * 0.587 + x.select(1, 2) * 0.114).unsqueeze(1);
}

}  // namespace

torch::Tensor decode_image_for(const std::string& bytes, const std::string& name,
                               const std::vector<int64_t>& shape) {
  GF_CHECK(shape.size() == 3, "this generator does not make images");
  const ImageHeader header = probe_image(bytes, name);
  GF_CHECK(header.width == shape[2] && header.height == shape[1], name, " is ", header.width, "x",
           header.height, "; this generator works at ", shape[2], "x", shape[1],
           ": resize it first");
  ImagePrep prep;
  prep.resolution = shape[1];
  prep.channels = shape[0];
  return pixels_to_unit(prepare_image(bytes, name, prep).unsqueeze(0))[0];
}

ImageSet read_image_set(const std::string& path, const std::vector<int64_t>& shape) {
  GF_CHECK(shape.size() == 3, "this generator does not make images");
  ImageSet set;
  if (is_idx_pair_path(path)) {
    set.kind = "idx";
    IdxSplit split = read_idx_pair(path, /*labels_required=*/false);
    GF_CHECK(split.pixels.size(1) == shape[1] && split.pixels.size(2) == shape[2], path, " holds ",
             split.pixels.size(2), "x", split.pixels.size(1), " images; this generator works at ",
             shape[2], "x", shape[1]);
    GF_CHECK(split.pixels.size(0) <= kMaxImages, path, " holds more than ", kMaxImages, " images");
    set.images = pixels_for(split.pixels, shape[0]);
    set.labels = split.labels;
    for (int64_t i = 0; i < set.images.size(0); ++i) set.names.push_back(std::to_string(i));
    return set;
  }
  GF_CHECK(std::filesystem::exists(path), path, " does not exist");
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(path)) {
    set.kind = "dir";
    files = image_files(path);
  } else {
    set.kind = "png";
    files = {path};
  }
  std::vector<torch::Tensor> images;
  for (const auto& f : files) {
    images.push_back(decode_image_for(read_image_bytes(f), f.string(), shape));
    set.names.push_back(f.filename().string());
  }
  set.images = torch::stack(images);
  return set;
}

void write_image_set(const std::string& path, const ImageSet& like, const torch::Tensor& images,
                     const torch::Tensor& labels) {
  const auto pixels = unit_to_pixels(images).permute({0, 2, 3, 1}).contiguous();
  if (like.kind == "idx") {
    GF_CHECK(is_idx_pair_path(path), "the input is an idx file: write the output as .idx[.gz]");
    write_idx_pair(path, pixels, labels);
  } else if (like.kind == "dir") {
    std::filesystem::create_directories(path);
    for (int64_t i = 0; i < pixels.size(0); ++i) {
      auto name =
          std::filesystem::path(like.names[static_cast<size_t>(i)]).replace_extension(".png");
      write_png((std::filesystem::path(path) / name).string(), pixels[i]);
    }
  } else {
    GF_CHECK(pixels.size(0) == 1, "one output image expected");
    GF_CHECK(ends_with(path, ".png"), "the input is one picture: write the output as a .png");
    write_png(path, pixels[0]);
  }
}

torch::Tensor decode_mask(const std::string& bytes, const std::string& name, int64_t height,
                          int64_t width) {
  const ImageHeader header = probe_image(bytes, name);
  GF_CHECK(header.width == width && header.height == height, "the mask ", name, " is ",
           header.width, "x", header.height, "; it must be ", width, "x", height,
           " like the image");
  ImagePrep prep;
  prep.resolution = height;
  prep.channels = 1;
  prep.background = {0, 0, 0};  // transparent: known
  const auto luma = prepare_image(bytes, name, prep).squeeze(2);
  return (luma < 128).to(torch::kFloat32).unsqueeze(0);
}

torch::Tensor read_masks(const std::string& path, const ImageSet& images) {
  const int64_t n = images.images.size(0), h = images.images.size(2), w = images.images.size(3);
  if (is_idx_pair_path(path)) {
    const IdxSplit split = read_idx_pair(path, /*labels_required=*/false);
    GF_CHECK(split.pixels.size(0) == n && split.pixels.size(1) == h && split.pixels.size(2) == w &&
                 split.pixels.size(3) == 1,
             path, ": expected ", n, " one-channel ", w, "x", h, " masks, one per image");
    return (split.pixels.permute({0, 3, 1, 2}) < 128).to(torch::kFloat32);
  }
  GF_CHECK(std::filesystem::exists(path), "the mask ", path, " does not exist");
  if (!std::filesystem::is_directory(path)) {
    return decode_mask(read_image_bytes(path), path, h, w).unsqueeze(0).expand({n, 1, h, w});
  }
  std::vector<torch::Tensor> masks;
  for (const auto& name : images.names) {
    const auto f = std::filesystem::path(path) / name;
    GF_CHECK(std::filesystem::is_regular_file(f), "no mask ", f.string(), " for image ", name);
    masks.push_back(decode_mask(read_image_bytes(f), f.string(), h, w));
  }
  return torch::stack(masks);
}

torch::Tensor box_mask(int64_t n, int64_t height, int64_t width, const std::vector<int64_t>& box) {
  GF_CHECK(box.size() == 4, "a box is x,y,w,h");
  const int64_t x = box[0], y = box[1], bw = box[2], bh = box[3];
  GF_CHECK(x >= 0 && y >= 0 && bw >= 1 && bh >= 1 && bw <= width - x && bh <= height - y,
           "the box ", x, ",", y, ",", bw, ",", bh, " must lie inside the ", width, "x", height,
           " image");
  auto known = torch::ones({n, 1, height, width});
  known.narrow(2, y, bh).narrow(3, x, bw).zero_();
  return known;
}

torch::Tensor random_square_masks(int64_t n, int64_t height, int64_t width, int64_t side,
                                  uint64_t seed) {
  GF_CHECK(side >= 1 && side <= std::min(height, width), "a hole of ", side,
           " px does not fit in a ", width, "x", height, " image");
  auto gen = at::detail::createCPUGenerator(mix(seed, 0x5eed));
  const auto ys = torch::randint(height - side + 1, {n}, gen, torch::kInt64);
  const auto xs = torch::randint(width - side + 1, {n}, gen, torch::kInt64);
  auto known = torch::ones({n, 1, height, width});
  for (int64_t i = 0; i < n; ++i) {
    known[i].narrow(1, ys[i].item<int64_t>(), side).narrow(2, xs[i].item<int64_t>(), side).zero_();
  }
  return known;
}

std::vector<std::string> repair_methods() {
  return {"gan", "mean", "nearest", "harmonic"};
}

RepairResult repair_images(Generator& g, const ModelSpec& spec, const torch::Tensor& images,
                           const torch::Tensor& known, const torch::Tensor& labels,
                           const torch::Tensor& train, const RepairOptions& options) {
  check_name("repair method", options.method, repair_methods());
  RepairResult r;
  if (options.method == "gan") {
    r.projections = project_images(g, spec, images, known, labels, options.project);
    std::vector<torch::Tensor> z;
    std::vector<int64_t> chosen;
    for (const auto& p : r.projections) {
      z.push_back(p.z);
      chosen.push_back(p.label);
    }
    const auto y = spec.is_conditional() ? torch::tensor(chosen, torch::kInt64) : torch::Tensor();
    r.generated = z.empty() ? images : generate_from_latents(g, spec, torch::stack(z), y);
    r.images = composite(images, known, r.generated);
  } else if (options.method == "harmonic") {
    r.images = fill_harmonic(images, known);
  } else {
    GF_CHECK(train.defined() && train.size(0) > 0, "the ", options.method,
             " fill needs the training images");
    r.images = options.method == "mean" ? fill_mean(images, known, train.mean(0))
                                        : fill_nearest(images, known, train);
  }
  return r;
}

namespace {

// Per image: the squared errors summed over the hole ([0, 1] pixel units) and the hole's size.
std::pair<torch::Tensor, torch::Tensor> hole_errors(const torch::Tensor& repaired,
                                                    const torch::Tensor& truth,
                                                    const torch::Tensor& known) {
  const auto hole = (1 - known.to(torch::kFloat64)).expand_as(truth);
  const auto err = ((repaired.to(torch::kFloat64) - truth.to(torch::kFloat64)) / 2).pow(2) * hole;
  return {err.flatten(1).sum(1), hole.flatten(1).sum(1)};
}

}  // namespace

double pooled_hole_psnr(const torch::Tensor& repaired, const torch::Tensor& truth,
                        const torch::Tensor& known) {
  const auto [err, count] = hole_errors(repaired, truth, known);
  const double total = count.sum().item<double>();
  if (total == 0) return std::numeric_limits<double>::infinity();
  return 10 * std::log10(1.0 / std::max(err.sum().item<double>() / total, 1e-20));
}

torch::Tensor hole_psnr(const torch::Tensor& repaired, const torch::Tensor& truth,
                        const torch::Tensor& known) {
  const auto [err, count] = hole_errors(repaired, truth, known);
  const auto mse = err / count.clamp_min(1.0);
  auto psnr = 10 * torch::log10(1.0 / mse.clamp_min(1e-20));
  return torch::where(count > 0, psnr,
                      torch::full_like(psnr, std::numeric_limits<double>::infinity()));
}

}  // namespace gf
