// Projection: the latent (and, for conditional models, the class) whose image best matches the
// known pixels of a target image. Adam on z from several random starts, minimising the masked
// L2 distance plus a latent prior: Bora et al. 2017 (compressed sensing with generative models,
// eq. 3) and Yeh et al. 2017 (semantic inpainting: the contextual loss over known pixels). With
// every pixel known it inverts G; with a hole it is the GAN half of image repair (repair.h).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/generator_file.h"

namespace gf {

struct ProjectOptions {
  int64_t steps = 300;   // Adam steps per start
  int64_t restarts = 4;  // random starts per image (and per class when the class is searched)
  double lr = 0.05;      // Adam's step size on z
  double prior = 0.01;   // weight of mean(z^2) for a normal prior (its negative log-density)
  uint64_t seed = 0;     // start r is image r of this seed (seeded_latents), for every image
  int64_t batch = 512;   // latents optimised together (images x classes x restarts)
  void validate() const;
};

struct Projection {
  torch::Tensor z;      // [z_dim] float32
  int64_t label = -1;   // the class used (given or chosen); -1 for unconditional models
  int64_t restart = 0;  // which start won
  double loss = 0;      // masked mean squared error on the known pixels ([-1, 1] units) + prior
  double mse = 0;       // the masked mean squared error alone
};

// targets: [N, C, H, W] in [-1, 1] (G's output shape). known: [N, 1 or C, H, W], 1 where the
// pixel is known, 0 in the hole; undefined means every pixel is known. labels: [N] int64, a class
// per image or -1 to search every class (undefined: search all); ignored for unconditional
// models. Deterministic for a given seed. gf::Error for shapes that do not match G.
std::vector<Projection> project_images(Generator& g, const ModelSpec& spec,
                                       const torch::Tensor& targets, const torch::Tensor& known,
                                       const torch::Tensor& labels, const ProjectOptions& options);

// The latents as a file `sample --latent` and the HTTP API read back: {"format":
// "ganforge-latents", "version": 1, "z_dim", "latent": normal|uniform, "z": [[...], ...],
// "labels": [...] (conditional models), "losses": [...]}. Float32 values survive the JSON round
// trip exactly, so the regenerated images are bit for bit the projected ones.
nlohmann::json latents_to_json(const ModelSpec& spec, const std::vector<Projection>& projections);

struct LatentSet {
  torch::Tensor z;       // [n, z_dim] float32
  torch::Tensor labels;  // [n] int64 for conditional models, undefined otherwise
};
// Reads and checks what latents_to_json wrote against `spec` (z_dim, classes); a bare list of
// numbers, a list of lists, or an object with "z" (and "labels") are accepted.
LatentSet latents_from_json(const nlohmann::json& j, const ModelSpec& spec);
LatentSet read_latents(const std::string& path, const ModelSpec& spec);

}  // namespace gf
