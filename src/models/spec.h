// ModelSpec: everything needed to rebuild a generator and discriminator, stored in checkpoints
// and exports so that `sample`, `eval` and `serve` need only the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gf {

struct ModelSpec {
  std::string arch = "mlp";        // a name from model_names()
  int64_t z_dim = 100;             // latent size
  std::string latent = "uniform";  // uniform in [-1, 1] (the seed) | normal
  std::vector<int64_t> g_hidden = {128, 256, 512};
  std::vector<int64_t> d_hidden = {512, 256, 128};
  double slope = 0.01;             // LeakyReLU negative slope (the seed: 0.01)
  std::string g_out = "tanh";      // tanh (data in [-1, 1]) | linear (points)
  std::vector<int64_t> out_shape;  // one sample, e.g. {1, 28, 28}; set from the data
  int64_t num_classes = 0;         // labels the data has (0: unlabelled)

  int64_t out_numel() const;
  void validate() const;
  nlohmann::json to_json() const;
  static ModelSpec from_json(const nlohmann::json& j);
};

}  // namespace gf
