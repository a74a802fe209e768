#include "data/image_file.h"

#include <stb/stb_image.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <memory>

#include <torch/nn/functional/upsampling.h>

#include "core/error.h"
#include "core/names.h"
#include "data/jpeg_check.h"

namespace gf {
namespace {

uint32_t be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

std::string format_of(const std::string& b) {
  auto starts = [&](const char* magic, size_t n) {
    return b.size() >= n && std::memcmp(b.data(), magic, n) == 0;
  };
  if (starts("\x89PNG\r\n\x1a\n", 8)) return "png";
  if (starts("\xff\xd8\xff", 3)) return "jpeg";
  if (starts("GIF87a", 6) || starts("GIF89a", 6)) return "gif";
  if (starts("BM", 2)) return "bmp";
  // TGA has no magic number. Its colour-map type (byte 1) is 0 or 1 and its image type (byte 2)
  // one of six; anything else is a format ganforge does not take, even where stb_image reads it
  // (PNM, PSD, HDR, PIC: its PNM reader overruns its buffer on 16-bit files, defect 8).
  const auto u = [&](size_t i) { return static_cast<unsigned char>(b[i]); };
  if (b.size() >= 18 && u(1) <= 1 &&
      (u(2) == 1 || u(2) == 2 || u(2) == 3 || u(2) == 9 || u(2) == 10 || u(2) == 11)) {
    return "tga";
  }
  return "";
}

// stb_image skips PNG checksums and decodes what it can of a damaged file; a corrupt file must be
// an error instead of a silently wrong sample, so every chunk's CRC-32 (PNG spec, section 5.3)
// is checked, and the file must reach its IEND chunk.
void check_png_chunks(const std::string& b, const std::string& name) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data());
  size_t pos = 8;
  while (true) {
    GF_CHECK(pos + 12 <= b.size(), name, ": truncated PNG (ends inside a chunk header)");
    const uint32_t len = be32(p + pos);
    GF_CHECK(len <= b.size() && pos + 12 + len <= b.size(), name,
             ": truncated PNG (a chunk runs past the end of the file)");
    const uLong crc = crc32(crc32(0L, Z_NULL, 0), p + pos + 4, static_cast<uInt>(len + 4));
    GF_CHECK(crc == be32(p + pos + 8 + len), name, ": corrupt PNG (bad CRC in chunk '",
             std::string(b.data() + pos + 4, 4), "')");
    if (std::memcmp(p + pos + 4, "IEND", 4) == 0) return;
    pos += 12 + len;
  }
}

using StbPixels = std::unique_ptr<stbi_uc, void (*)(void*)>;

int to_int(size_t n, const std::string& name) {
  GF_CHECK(n <= static_cast<size_t>(INT32_MAX), name, ": file too large (", n, " bytes)");
  return static_cast<int>(n);
}

// As PIL's ImageOps.pad: shrink or grow to fit the square keeping the aspect ratio (the short
// side rounded half to even, as Python's round), then centre it on the background. Resizing
// first keeps a 40000 x 1 image from becoming a 40000 x 40000 canvas.
torch::Tensor pad_to_square(const torch::Tensor& px, const ImagePrep& prep) {
  const int64_t h = px.size(0), w = px.size(1), c = px.size(2), r = prep.resolution;
  auto fill =
      torch::tensor({prep.background[0], prep.background[1], prep.background[2]}, torch::kInt32);
  if (c == 1) {
    fill = (fill.mul(torch::tensor({19595, 38470, 7471}, torch::kInt32)).sum() + 0x8000)
               .div(65536, "floor")
               .view({1});
  }
  auto canvas = fill.to(torch::kUInt8).expand({r, r, c}).contiguous();
  if (w == h) return resize_pixels(px, r, r);
  if (w > h) {
    const int64_t nh = std::max<int64_t>(1, std::nearbyint(static_cast<double>(h) / w * r));
    const int64_t y = static_cast<int64_t>(std::nearbyint((r - nh) * 0.5));
    canvas.narrow(0, y, nh).copy_(resize_pixels(px, nh, r));
  } else {
    const int64_t nw = std::max<int64_t>(1, std::nearbyint(static_cast<double>(w) / h * r));
    const int64_t x = static_cast<int64_t>(std::nearbyint((r - nw) * 0.5));
    canvas.narrow(1, x, nw).copy_(resize_pixels(px, r, nw));
  }
  return canvas;
}

}  // namespace

std::vector<std::string> resize_names() {
  return {"center-crop", "pad", "stretch"};
}

std::array<uint8_t, 3> parse_colour(const std::string& text) {
  if (text == "white") return {255, 255, 255};
  if (text == "black") return {0, 0, 0};
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  bool ok = text.size() == 7 && text[0] == '#';
  std::array<uint8_t, 3> rgb{};
  for (int i = 0; ok && i < 3; ++i) {
    const int hi = hex(text[1 + 2 * i]), lo = hex(text[2 + 2 * i]);
    ok = hi >= 0 && lo >= 0;
    rgb[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  GF_CHECK(ok, "data.background must be white, black or #rrggbb, got '", text, "'");
  return rgb;
}

ImageHeader probe_image(const std::string& bytes, const std::string& name) {
  GF_CHECK(!bytes.empty(), name, ": empty file");
  ImageHeader h;
  h.format = format_of(bytes);
  GF_CHECK(!h.format.empty(), name,
           ": not an image ganforge can read (PNG, JPEG, BMP, GIF and TGA are supported)");
  const auto* p = reinterpret_cast<const stbi_uc*>(bytes.data());
  GF_CHECK(stbi_info_from_memory(p, to_int(bytes.size(), name), &h.width, &h.height, &h.channels),
           name, ": not an image ganforge can read (", stbi_failure_reason(),
           "; PNG, JPEG, BMP, GIF and TGA are supported)");
  GF_CHECK(h.width >= 1 && h.height >= 1 && h.width <= kMaxImageSide && h.height <= kMaxImageSide &&
               int64_t{h.width} * h.height <= kMaxImagePixels,
           name, ": ", h.width, "x", h.height, " pixels is beyond the limit (each side at most ",
           kMaxImageSide, ", at most ", kMaxImagePixels, " pixels)");
  return h;
}

torch::Tensor resize_pixels(const torch::Tensor& pixels, int64_t out_h, int64_t out_w) {
  GF_CHECK(pixels.dim() == 3 && pixels.scalar_type() == torch::kUInt8, "resize needs uint8 HWC");
  if (pixels.size(0) == out_h && pixels.size(1) == out_w) return pixels.contiguous();
  namespace F = torch::nn::functional;
  // PyTorch's antialiased bicubic is PIL's BICUBIC (Keys' cubic, a = -0.5, widened by the scale
  // when shrinking). PIL resizes in two passes, rows then columns, rounding to uint8 between them;
  // so does this, which keeps the results within a level of PIL's fixed-point arithmetic.
  auto pass = [](const torch::Tensor& x, int64_t h, int64_t w) {
    return F::interpolate(x, F::InterpolateFuncOptions()
                                 .size(std::vector<int64_t>{h, w})
                                 .mode(torch::kBicubic)
                                 .align_corners(false)
                                 .antialias(true))
        .round()
        .clamp(0, 255);
  };
  auto x = pixels.permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat32);
  if (x.size(3) != out_w) x = pass(x, x.size(2), out_w);
  if (x.size(2) != out_h) x = pass(x, out_h, out_w);
  return x.squeeze(0).permute({1, 2, 0}).to(torch::kUInt8).contiguous();
}

torch::Tensor prepare_image(const std::string& bytes, const std::string& name,
                            const ImagePrep& prep) {
  const ImageHeader header = probe_image(bytes, name);
  if (header.format == "png") check_png_chunks(bytes, name);
  if (header.format == "jpeg") check_jpeg(bytes, name);
  int w = 0, h = 0, stored = 0;
  StbPixels data(stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                                       to_int(bytes.size(), name), &w, &h, &stored, 4),
                 &stbi_image_free);
  GF_CHECK(data, name, ": cannot decode ", header.format, " (", stbi_failure_reason(), ")");
  auto stored_px = torch::from_blob(data.get(), {h, w, 4}, torch::kUInt8);
  if (prep.resize == "center-crop") {
    // The central square first: a 12-megapixel photo is not composited and converted whole.
    const int64_t side = std::min(h, w);
    stored_px = stored_px.narrow(0, (h - side) / 2, side).narrow(1, (w - side) / 2, side);
  }
  auto rgba = stored_px.to(torch::kInt32);
  // Transparency over the background, rounded: c * a / 255 + bg * (255 - a) / 255.
  auto alpha = rgba.narrow(2, 3, 1);
  auto bg =
      torch::tensor({prep.background[0], prep.background[1], prep.background[2]}, torch::kInt32);
  auto rgb = (rgba.narrow(2, 0, 3) * alpha + bg * (255 - alpha) + 127).div(255, "floor");
  if (prep.channels == 1) {
    // PIL's RGB -> L: (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16.
    auto luma = rgb.select(2, 0) * 19595 + rgb.select(2, 1) * 38470 + rgb.select(2, 2) * 7471;
    rgb = (luma + 0x8000).div(65536, "floor").unsqueeze(2);
  }
  auto px = rgb.to(torch::kUInt8);
  if (prep.resize == "pad") {
    return pad_to_square(px, prep);
  } else if (prep.resize != "center-crop") {
    check_name("data.resize", prep.resize, resize_names());
  }
  return resize_pixels(px, prep.resolution, prep.resolution);
}

}  // namespace gf
