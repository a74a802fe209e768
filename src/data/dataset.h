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
  std::string dir;                // idx directory; empty: data/<dataset>
  std::string split = "train";    // train | test
  int64_t limit = 0;              // use only the first `limit` samples (0: all)
  int64_t synthetic_n = 50000;    // samples drawn for synthetic sets

  void validate() const;
  nlohmann::json to_json() const;
  static DataOptions from_json(const nlohmann::json& j);
};

struct Dataset {
  std::string name;
  torch::Tensor x;  // float32, [N, C, H, W] images in [-1, 1], or [N, D] points as they are
  torch::Tensor y;  // int64 [N] labels, undefined when unlabelled
  int64_t num_classes = 0;

  int64_t size() const { return x.size(0); }
  // Shape of one sample, e.g. {1, 28, 28} or {2}.
  std::vector<int64_t> sample_shape() const;
  bool is_image() const { return x.dim() == 4; }
};

std::vector<std::string> dataset_names();

// Loads by name. `seed` drives synthetic sets only. Throws gf::Error naming the file or option.
Dataset load_dataset(const DataOptions& options, uint64_t seed);

// The file names of a split in a standard MNIST-format directory, gzip'd (".gz") or raw.
std::string idx_images_path(const std::string& dir, const std::string& split);
std::string idx_labels_path(const std::string& dir, const std::string& split);

// Converts uint8 [N, H, W] pixel data to float [N, 1, H, W] in [-1, 1], and back.
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
