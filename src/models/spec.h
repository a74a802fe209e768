// ModelSpec: everything needed to rebuild a generator and discriminator, stored in checkpoints
// and exports so that `sample`, `eval` and `serve` need only the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gf {

// validate() refuses a spec whose G and D would have more weights than this together (4 GiB of
// float32): an absurd spec in a config or a file fails before anything is allocated.
constexpr double kMaxModelWeights = 1 << 30;

struct ModelSpec {
  std::string arch = "mlp";        // a name from model_names()
  int64_t z_dim = 100;             // latent size
  std::string latent = "uniform";  // uniform in [-1, 1] (the seed) | normal
  // mlp: hidden widths of G and D.
  std::vector<int64_t> g_hidden = {128, 256, 512};
  std::vector<int64_t> d_hidden = {512, 256, 128};
  double slope = 0.01;         // LeakyReLU negative slope (the seed: 0.01; DCGAN's D: 0.2)
  std::string g_out = "tanh";  // tanh (data in [-1, 1]) | linear (points)
  // dcgan: channels of G's last and D's first convolution; they double per resolution step.
  int64_t g_channels = 64;
  int64_t d_channels = 64;
  std::string d_norm = "batch";  // dcgan D's normalisation: batch | none
  // dcgan G's upsampling: transposed (4x4 stride-2 transposed convolutions, as DCGAN) | resize
  // (nearest x2, then a 3x3 convolution: no checkerboard artefacts, Odena et al. 2016).
  std::string g_upsample = "transposed";
  bool spectral_norm = false;  // spectral normalisation on every D layer (Miyato et al. 2018)
  // mlp and dcgan D: minibatch standard deviation over groups of this size before the head
  // (Karras et al.; StyleGAN2 uses 4); 0: off.
  int64_t d_mbstd = 0;
  // Conditioning on labels: none | cgan (embedding concatenated to G's z and D's input) |
  // acgan (auxiliary classifier head on D) | projection (projection discriminator).
  std::string conditional = "none";
  int64_t embed_dim = 16;                // label embedding size
  std::vector<int64_t> out_shape;        // one sample, e.g. {1, 28, 28}; set from the data
  int64_t num_classes = 0;               // labels the data has (0: unlabelled)
  std::vector<std::string> class_names;  // the data's names for its classes (may be empty)

  bool is_conditional() const { return conditional != "none"; }
  // A class given by name (the data's folder name) or index; gf::Error naming `where` and the
  // valid classes otherwise.
  int64_t class_index(const std::string& name_or_index, const std::string& where) const;
  int64_t out_numel() const;
  void validate() const;
  // About how many weights G and D have together, from the layer sizes alone (the large layers
  // exactly; biases and normalisations left out), without building them. In double: an absurd
  // spec gives a huge number, not an overflow.
  double weights_estimate() const;
  nlohmann::json to_json() const;
  static ModelSpec from_json(const nlohmann::json& j);
};

}  // namespace gf
