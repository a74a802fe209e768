// Classic hole filling: the simple alternatives GAN repair is measured against (docs/
// applications.md). Every function takes images [N, C, H, W] in [-1, 1] and known [N, 1 or C,
// H, W] (1 known, 0 in the hole), and returns images that keep every known pixel.
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace gf {

// known * images + (1 - known) * fill.
torch::Tensor composite(const torch::Tensor& images, const torch::Tensor& known,
                        const torch::Tensor& fill);

// The hole takes the training set's mean image ([C, H, W]).
torch::Tensor fill_mean(const torch::Tensor& images, const torch::Tensor& known,
                        const torch::Tensor& mean_image);

// The hole takes the pixels of the training image ([M, C, H, W]) closest on the known pixels
// (squared L2 over the image's known pixels): a nearest-neighbour patch, as a user with the
// training set at hand would do it (Hays & Efros 2007 use a whole collection the same way).
torch::Tensor fill_nearest(const torch::Tensor& images, const torch::Tensor& known,
                           const torch::Tensor& train);

// The hole takes the harmonic function with the known pixels as boundary values: the solution of
// Laplace's equation (each hole pixel the mean of its 4 neighbours; image borders reflect), by
// Jacobi iteration until no pixel moves by more than `tolerance` or `max_iterations` is reached.
torch::Tensor fill_harmonic(const torch::Tensor& images, const torch::Tensor& known,
                            int64_t max_iterations = 20000, double tolerance = 1e-5);

}  // namespace gf
