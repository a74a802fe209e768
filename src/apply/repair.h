// Image repair (inpainting): the pixels under a mask are filled from the generator by latent
// projection (project.h; Yeh et al. 2017) or by a classic fill (inpaint.h), and every known
// pixel is kept. Also the image and mask I/O that `repair`, `project` and POST /v1/repair share.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apply/project.h"

namespace gf {

// Images read for repair or projection, at the model's size (no resizing: a picture of another
// size is an error that says so). `kind`: png (one file) | dir (PNGs and other images, sorted by
// name) | idx (an idx file; labels from the file beside it, as `sample` writes them, when present).
struct ImageSet {
  std::string kind;
  torch::Tensor images;            // [N, C, H, W] float32 in [-1, 1]
  torch::Tensor labels;            // [N] int64 when the input has labels, else undefined
  std::vector<std::string> names;  // file names (png, dir) or "<index>" (idx)
};
// shape: {C, H, W} of one image (the generator's). Colour images become grey for one-channel
// models (luma) and grey images colour for three-channel ones. Capped at 100,000 images.
ImageSet read_image_set(const std::string& path, const std::vector<int64_t>& shape);
// One image from encoded bytes (PNG, JPEG, BMP, GIF, TGA): [C, H, W] in [-1, 1].
torch::Tensor decode_image_for(const std::string& bytes, const std::string& name,
                               const std::vector<int64_t>& shape);
// Writes `images` in the set's format to `path`: a PNG, a directory of PNGs (the input's names),
// or an idx file (and its labels file beside it when `labels` is defined). Atomic per file.
void write_image_set(const std::string& path, const ImageSet& like, const torch::Tensor& images,
                     const torch::Tensor& labels);

// Masks as `known` tensors [N, 1, H, W] (1 known, 0 in the hole). Mask pictures are white (or any
// light value, >= 128) where pixels are missing and black where they are known, as in most
// inpainting tools; transparency counts as known.
torch::Tensor decode_mask(const std::string& bytes, const std::string& name, int64_t height,
                          int64_t width);
// From a PNG (one mask for every image), a directory (one per image, matched by file name) or an
// idx file of N masks.
torch::Tensor read_masks(const std::string& path, const ImageSet& images);
// The box x,y,w,h (pixels; clipped to nothing outside the image is an error) in every image.
torch::Tensor box_mask(int64_t n, int64_t height, int64_t width, const std::vector<int64_t>& box);
// One random side x side square per image, uniformly placed inside it; seeded, for measurements.
torch::Tensor random_square_masks(int64_t n, int64_t height, int64_t width, int64_t side,
                                  uint64_t seed);

// gan (projection) | mean | nearest | harmonic.
std::vector<std::string> repair_methods();

struct RepairOptions {
  std::string method = "gan";
  ProjectOptions project;
};

struct RepairResult {
  torch::Tensor images;                 // [N, C, H, W], known pixels kept exactly
  std::vector<Projection> projections;  // method gan: one per image
  torch::Tensor generated;              // method gan: G's whole images for those latents
};

// Repairs `images` where `known` is 0. `train`: the training images, needed by mean and nearest
// (undefined otherwise). `labels`: classes for a conditional model, -1 (or undefined) to search.
RepairResult repair_images(Generator& g, const ModelSpec& spec, const torch::Tensor& images,
                           const torch::Tensor& known, const torch::Tensor& labels,
                           const torch::Tensor& train, const RepairOptions& options);

// Peak signal-to-noise ratio inside the hole, per image, in dB for [0, 1] pixels: how close the
// filled pixels are to the original ones (`truth`). Images without a hole get +inf.
torch::Tensor hole_psnr(const torch::Tensor& repaired, const torch::Tensor& truth,
                        const torch::Tensor& known);
// The same over a whole set: from the mean squared error over every hole pixel of every image, so
// a hole that falls on plain background (error 0, PSNR infinite) does not swamp the mean.
double pooled_hole_psnr(const torch::Tensor& repaired, const torch::Tensor& truth,
                        const torch::Tensor& known);

}  // namespace gf
