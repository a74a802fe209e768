// Datasets by name: real image sets read from standard MNIST-format idx files, and synthetic
// sets for fast convergence checks. Everything lives in memory as a float tensor in [-1, 1].
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gf {

struct DataOptions {
  std::string dataset = "mnist";  // a name from dataset_names()
  std::string dir;                // idx directory or image folder; empty: data/<dataset>
  std::string split = "train";    // train | test
  int64_t limit = 0;  // use only `limit` samples (0: all): the first ones; folders: evenly spaced
  int64_t synthetic_n = 50000;  // samples drawn for synthetic sets
  bool mirror = false;  // add x-flipped copies of the training images (StyleGAN2-ADA's --mirror)
  // Folders of images (dataset "folder"; docs/data.md):
  std::string test_dir;                // the test split's folder; empty: 1 in 10 of dir held out
  int64_t resolution = 32;             // square size the images are brought to
  int64_t channels = 0;                // 1 | 3 | 0: 1 when every image is grey, else 3
  std::string resize = "center-crop";  // center-crop | pad | stretch
  std::string background = "white";    // under transparent pixels: white | black | #rrggbb
  bool skip_bad = false;               // skip unreadable images (counted) instead of failing
  std::string cache_dir;               // packed-cache root; empty: ~/.cache/ganforge; "none": off
  // Classes of labelled data; 0: from the data (mnist and fashion-mnist have 10, folders one
  // per subfolder, idx files 0 to the largest label, which must all occur).
  int64_t num_classes = 0;

  void validate() const;
  nlohmann::json to_json() const;
  static DataOptions from_json(const nlohmann::json& j);
};

struct Dataset {
  std::string name;
  torch::Tensor x;  // float32, [N, C, H, W] images in [-1, 1], or [N, D] points as they are
  torch::Tensor y;  // int64 [N] labels, undefined when unlabelled
  int64_t num_classes = 0;
  std::vector<std::string> class_names;  // one per class when the data names them

  int64_t size() const { return x.size(0); }
  // Shape of one sample, e.g. {1, 28, 28} or {2}.
  std::vector<int64_t> sample_shape() const;
  bool is_image() const { return x.dim() == 4; }
};

std::vector<std::string> dataset_names();

// Loads by name. `seed` drives synthetic sets only. Throws gf::Error naming the file or option.
Dataset load_dataset(const DataOptions& options, uint64_t seed);

// The dataset a --data path holds: "folder" for a folder of images, "idx" for an idx directory
// (MNIST layout or a `ganforge dataset pack` output), "" when it is neither.
std::string dataset_kind_of(const std::string& path);

// The name evaluators and caches are keyed by: the dataset's name, or folder_dataset_id().
std::string dataset_id(const DataOptions& options);

// Converts uint8 [N, H, W] (one channel) or [N, H, W, C] (channels last) pixel data to float
// [N, C, H, W] in [-1, 1]; unit_to_pixels is the inverse up to the layout (uint8 [N, C, H, W]).
torch::Tensor pixels_to_unit(const torch::Tensor& pixels);
torch::Tensor unit_to_pixels(const torch::Tensor& images);

// The ring of 8 Gaussians (radius 2, sigma 0.02) of Metz et al. 2017 (Unrolled GANs).
struct RingSpec {
  int modes = 8;
  double radius = 2.0;
  double sigma = 0.02;
  torch::Tensor centers() const;  // [modes, 2]
};
// Points [n, 2]; `modes_out`, when given, receives each point's mode index [n] (its label).
torch::Tensor sample_ring(const RingSpec& spec, int64_t n, uint64_t seed,
                          torch::Tensor* modes_out = nullptr);

// Quality of 2-D samples against the ring, as in Srivastava et al. 2017 (VEEGAN): a sample is
// high-quality within 4 sigma of a mode's centre (they use 3); a mode is covered when at least
// `min_share` of all samples are high-quality samples of it.
struct RingQuality {
  int modes_covered = 0;
  double high_quality = 0;  // share of samples within 4 sigma of some mode
};
RingQuality ring_quality(const RingSpec& spec, const torch::Tensor& points,
                         double min_share = 0.02);

}  // namespace gf
