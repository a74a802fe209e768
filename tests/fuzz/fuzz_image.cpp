// One image file to one sample (data/image_file.h): the header checks in front of stb_image
// (probe_image), the PNG/JPEG integrity checks, the decode, compositing, colour conversion and
// the three resize modes (prepare_image). The input is the file; its length picks the
// preparation (resolution, channels, resize), so every seed exercises one of them and mutations
// reach the others.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "data/image_file.h"
#include "fuzz_util.h"

namespace {

// Decoding is only attempted up to this size (the header check above runs for every size):
// ganforge itself accepts up to kMaxImagePixels, but a fuzzer that decodes 64-megapixel images
// from 100-byte JPEG headers measures the decoder's speed, not the checks.
constexpr int64_t kFuzzMaxPixels = int64_t{1} << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  gf::ImageHeader h;
  try {
    h = gf::probe_image(bytes, "fuzz");
  } catch (const gf::Error& e) {
    gf::fuzz::refused(e);
    return 0;
  }
  FUZZ_CHECK(h.width >= 1 && h.height >= 1 && h.width <= gf::kMaxImageSide &&
                 h.height <= gf::kMaxImageSide &&
                 int64_t{h.width} * h.height <= gf::kMaxImagePixels,
             "image: probe_image enforces its caps");
  FUZZ_CHECK(h.channels >= 1 && h.channels <= 4, "image: 1 to 4 stored channels");
  if (int64_t{h.width} * h.height > kFuzzMaxPixels) return 0;

  static const int64_t kResolutions[] = {8, 16, 28};
  gf::ImagePrep prep;
  prep.resolution = kResolutions[size % 3];
  prep.channels = (size / 3) % 2 ? 1 : 3;
  prep.resize = gf::resize_names()[(size / 6) % 3];
  prep.background =
      (size / 18) % 2 ? std::array<uint8_t, 3>{0, 0, 0} : std::array<uint8_t, 3>{255, 128, 7};
  torch::Tensor px;
  try {
    px = gf::prepare_image(bytes, "fuzz", prep);
  } catch (const gf::Error& e) {
    gf::fuzz::refused(e);
    return 0;
  }
  FUZZ_CHECK(px.dim() == 3 && px.size(0) == prep.resolution && px.size(1) == prep.resolution &&
                 px.size(2) == prep.channels && px.scalar_type() == torch::kUInt8,
             "image: a sample is uint8 [resolution, resolution, channels]");
  return 0;
}
