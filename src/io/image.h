// PNG encoding/decoding (stb_image / stb_image_write) and image grids.
#pragma once

#include <torch/types.h>

#include <string>

namespace gf {

// pixels: uint8 [H, W] (grey) or [H, W, C] with C in {1, 3, 4}. Returns the PNG bytes.
std::string encode_png(const torch::Tensor& pixels);
void write_png(const std::string& path, const torch::Tensor& pixels);  // atomic
// Decodes a PNG file to uint8 [H, W, C]; gf::Error naming the file on failure.
torch::Tensor read_png(const std::string& path);

// Tiles images [N, C, H, W] in [-1, 1] into one uint8 [rows*(H+pad)+pad, ..., C] grid, `nrow`
// images per row (0: a near-square grid), like torchvision.utils.make_grid.
torch::Tensor make_grid(const torch::Tensor& images, int64_t nrow = 0, int64_t pad = 2);

// Renders 2-D points [N, 2] as a size x size grey scatter plot of the square [-extent, extent]^2,
// with `marks` (e.g. the ring's mode centres) drawn as small crosses.
torch::Tensor scatter_plot(const torch::Tensor& points, double extent, int64_t size,
                           const torch::Tensor& marks = {});

// One picture of a batch of samples: a grid for images, a scatter plot for 2-D points.
// `nrow` images per grid row (0: near-square).
torch::Tensor samples_picture(const torch::Tensor& samples, const torch::Tensor& marks = {},
                              int64_t nrow = 0);

}  // namespace gf
