// One image file to one training sample: decoded with stb_image (PNG, JPEG, BMP, GIF's first
// frame, TGA), its header checked before any pixel is decoded, transparency composited onto a
// background colour, converted to 1 or 3 channels, and brought to a square resolution.
#pragma once

#include <torch/types.h>

#include <array>
#include <cstdint>
#include <string>

namespace gf {

// Largest image ganforge decodes: each side at most 65,535 pixels and at most 64 megapixels in
// all (a 64 MP RGBA image decodes to 256 MiB). Checked on the header, before decoding.
constexpr int64_t kMaxImageSide = 65535;
constexpr int64_t kMaxImagePixels = int64_t{1} << 26;

struct ImageHeader {
  int width = 0, height = 0;
  int channels = 0;    // as stored: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA (palettes expand to 3/4)
  std::string format;  // png | jpeg | bmp | gif | tga (a header stb_image read, without magic)
  bool grey() const { return channels <= 2; }
};

// Reads the header only; gf::Error naming `name` when the bytes are not a supported image or its
// size is beyond the caps above.
ImageHeader probe_image(const std::string& bytes, const std::string& name);

// How images become samples. `resize`: center-crop (the central square, as StyleGAN2-ADA's
// dataset_tool --transform=center-crop) | pad (fit inside the square keeping the aspect ratio,
// centred on the background, as PIL's ImageOps.pad) | stretch (to the square, ignoring aspect).
struct ImagePrep {
  int64_t resolution = 32;
  int64_t channels = 3;  // 1: luma (ITU-R 601-2, as PIL's convert("L")) | 3: RGB
  std::string resize = "center-crop";
  std::array<uint8_t, 3> background = {255, 255, 255};
};

// Parses "white", "black" or "#rrggbb"; gf::Error otherwise.
std::array<uint8_t, 3> parse_colour(const std::string& text);
std::vector<std::string> resize_names();

// Decodes and prepares one image: uint8 [resolution, resolution, channels]. Resizing is
// antialiased bicubic (Catmull-Rom, widened by the scale factor when shrinking): PIL's
// Image.BICUBIC and torchvision's Resize(antialias=True), on the stored sRGB values as PIL does.
torch::Tensor prepare_image(const std::string& bytes, const std::string& name,
                            const ImagePrep& prep);

// Resizes uint8 [H, W, C] pixels to [out_h, out_w, C] with the filter above.
torch::Tensor resize_pixels(const torch::Tensor& pixels, int64_t out_h, int64_t out_w);

}  // namespace gf
