#include "io/image.h"

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include <cmath>
#include <memory>

#include "core/error.h"
#include "core/file.h"

namespace gf {

std::string encode_png(const torch::Tensor& pixels) {
  GF_CHECK(pixels.scalar_type() == torch::kUInt8, "encode_png needs uint8 pixels");
  auto p = pixels.dim() == 2 ? pixels.unsqueeze(2) : pixels;
  GF_CHECK(p.dim() == 3 && (p.size(2) == 1 || p.size(2) == 3 || p.size(2) == 4),
           "encode_png needs [H, W] or [H, W, C] with C in 1, 3, 4");
  p = p.to(torch::kCPU).contiguous();
  const int h = static_cast<int>(p.size(0)), w = static_cast<int>(p.size(1));
  const int c = static_cast<int>(p.size(2));
  std::string out;
  auto sink = [](void* ctx, void* data, int size) {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), size);
  };
  GF_CHECK(stbi_write_png_to_func(sink, &out, w, h, c, p.data_ptr<uint8_t>(), w * c) != 0,
           "PNG encoding failed");
  return out;
}

void write_png(const std::string& path, const torch::Tensor& pixels) {
  write_file_atomic(path, encode_png(pixels));
}

torch::Tensor read_png(const std::string& path) {
  int w = 0, h = 0, c = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> data(stbi_load(path.c_str(), &w, &h, &c, 0),
                                                 &stbi_image_free);
  GF_CHECK(data, path, ": cannot decode image (", stbi_failure_reason(), ")");
  return torch::from_blob(data.get(), {h, w, c}, torch::kUInt8).clone();
}

torch::Tensor make_grid(const torch::Tensor& images, int64_t nrow, int64_t pad) {
  GF_CHECK(images.dim() == 4, "make_grid needs [N, C, H, W] images");
  const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  GF_CHECK(n >= 1 && (c == 1 || c == 3), "make_grid needs at least one image of 1 or 3 channels");
  if (nrow <= 0) nrow = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  const int64_t rows = (n + nrow - 1) / nrow;
  auto pixels = images.detach()
                    .to(torch::kCPU, torch::kFloat32)
                    .add(1.0)
                    .mul(127.5)
                    .round()
                    .clamp(0, 255)
                    .to(torch::kUInt8)
                    .permute({0, 2, 3, 1});
  auto grid = torch::zeros({rows * (h + pad) + pad, nrow * (w + pad) + pad, c}, torch::kUInt8);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t y = pad + (i / nrow) * (h + pad), x = pad + (i % nrow) * (w + pad);
    grid.narrow(0, y, h).narrow(1, x, w).copy_(pixels[i]);
  }
  return grid;
}

torch::Tensor scatter_plot(const torch::Tensor& points, double extent, int64_t size,
                           const torch::Tensor& marks) {
  GF_CHECK(points.dim() == 2 && points.size(1) == 2, "scatter_plot needs [N, 2] points");
  auto img = torch::full({size, size}, 255, torch::kUInt8);
  auto acc = img.accessor<uint8_t, 2>();
  auto to_px = [&](double v) {
    return static_cast<int64_t>(std::floor((v + extent) / (2 * extent) * (size - 1) + 0.5));
  };
  auto plot = [&](int64_t px, int64_t py, uint8_t value) {
    if (px >= 0 && px < size && py >= 0 && py < size) acc[py][px] = value;
  };
  auto p = points.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  auto pa = p.accessor<double, 2>();
  for (int64_t i = 0; i < p.size(0); ++i) {
    // y grows upwards in the data and downwards in the image.
    plot(to_px(pa[i][0]), size - 1 - to_px(pa[i][1]), 0);
  }
  if (marks.defined()) {
    auto m = marks.to(torch::kCPU, torch::kFloat64).contiguous();
    auto ma = m.accessor<double, 2>();
    for (int64_t i = 0; i < m.size(0); ++i) {
      const int64_t cx = to_px(ma[i][0]), cy = size - 1 - to_px(ma[i][1]);
      for (int64_t d = -4; d <= 4; ++d) {
        plot(cx + d, cy, 160);
        plot(cx, cy + d, 160);
      }
    }
  }
  return img;
}

torch::Tensor samples_picture(const torch::Tensor& samples, const torch::Tensor& marks,
                              int64_t nrow) {
  if (samples.dim() == 4) return make_grid(samples, nrow);
  if (samples.dim() == 3) return make_grid(samples.unsqueeze(1), nrow);
  GF_CHECK(samples.dim() == 2 && samples.size(1) == 2, "cannot draw samples of shape ",
           samples.sizes());
  return scatter_plot(samples, 3.0, 384, marks);
}

}  // namespace gf
