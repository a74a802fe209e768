#include "data/idx_pair.h"

#include <filesystem>

#include "core/error.h"
#include "core/file.h"

namespace gf {

bool is_idx_pair_path(const std::string& path) {
  return ends_with(path, ".idx") || ends_with(path, ".idx.gz");
}

std::string idx_labels_path(const std::string& images_path) {
  GF_CHECK(is_idx_pair_path(images_path), images_path, ": an idx pair's images file ends in .idx",
           " or .idx.gz");
  const size_t at = images_path.rfind(".idx");
  return images_path.substr(0, at) + ".labels" + images_path.substr(at);
}

IdxArray idx_array_of(const torch::Tensor& bytes) {
  GF_CHECK(bytes.scalar_type() == torch::kUInt8, "idx files hold unsigned bytes");
  auto c = bytes.to(torch::kCPU).contiguous();
  IdxArray a;
  a.dims = c.sizes().vec();
  a.data.assign(c.data_ptr<uint8_t>(), c.data_ptr<uint8_t>() + c.numel());
  return a;
}

void write_idx_pair(const std::string& images_path, const torch::Tensor& pixels,
                    const torch::Tensor& labels) {
  GF_CHECK(pixels.dim() == 4 && pixels.scalar_type() == torch::kUInt8,
           "write_idx_pair needs uint8 [N, H, W, C] pixels");
  const std::string labels_path = idx_labels_path(images_path);
  // One channel: N x H x W (idx3, as MNIST); colour: N x H x W x C (idx4, channels last).
  write_idx(images_path, idx_array_of(pixels.size(3) == 1 ? pixels.squeeze(3) : pixels));
  if (!labels.defined()) return;
  GF_CHECK(labels.dim() == 1 && labels.size(0) == pixels.size(0),
           "write_idx_pair needs one label per image");
  GF_CHECK(labels.numel() == 0 ||
               (labels.min().item<int64_t>() >= 0 && labels.max().item<int64_t>() < 256),
           "idx labels must be 0..255");
  write_idx(labels_path, idx_array_of(labels.to(torch::kUInt8)));
}

IdxSplit read_idx_pair(const std::string& images_path, bool labels_required) {
  GF_CHECK(std::filesystem::is_regular_file(images_path), images_path, " does not exist");
  const std::string labels_path = idx_labels_path(images_path);
  IdxArray images = read_idx(images_path);
  const auto& d = images.dims;
  GF_CHECK(d.size() == 3 || (d.size() == 4 && (d[3] == 1 || d[3] == 3)), images_path,
           ": expected N x H x W or N x H x W x C (C = 1 or 3) images, found ", d.size(),
           " dimensions");
  const int64_t c = d.size() == 4 ? d[3] : 1;
  IdxSplit out;
  out.pixels = torch::from_blob(images.data.data(), {d[0], d[1], d[2], c}, torch::kUInt8).clone();
  if (!std::filesystem::exists(labels_path)) {
    GF_CHECK(!labels_required, images_path, " has no labels file beside it (", labels_path,
             "; `ganforge augment` and `ganforge sample --labels` write one)");
    return out;
  }
  IdxArray labels = read_idx(labels_path);
  GF_CHECK(labels.dims.size() == 1, labels_path, ": expected 1 dimension (N), found ",
           labels.dims.size());
  GF_CHECK(labels.dims[0] == d[0], images_path, " holds ", d[0], " images but ", labels_path,
           " holds ", labels.dims[0], " labels");
  out.labels =
      torch::from_blob(labels.data.data(), {labels.dims[0]}, torch::kUInt8).to(torch::kInt64);
  return out;
}

}  // namespace gf
