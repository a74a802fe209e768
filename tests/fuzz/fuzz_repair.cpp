// The body of POST /v1/repair (serve/repair.h): parse_repair_request (JSON, base64, the box),
// then repair_inputs against a grey conditional 8x8 model and a colour unconditional one (the
// image and mask decoded and checked, the box turned into a mask). The input is the body. The
// server answers ApiError with its status and gf::Error with a 400; anything else is a 500 and a
// finding.
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "fuzz_util.h"
#include "serve/repair.h"

namespace {

gf::ModelSpec image_spec(int64_t channels, bool conditional) {
  gf::ModelSpec s;
  s.z_dim = 4;
  s.out_shape = {channels, 8, 8};
  if (conditional) {
    s.conditional = "cgan";
    s.num_classes = 10;
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const gf::ModelSpec kSpecs[] = {image_spec(1, true), image_spec(3, false)};
  const std::string body(reinterpret_cast<const char*>(data), size);
  gf::serve::RepairLimits limits;
  gf::serve::RepairRequest r;
  try {
    r = gf::serve::parse_repair_request(body, {"digits"}, limits);
  } catch (const gf::serve::ApiError& e) {
    gf::fuzz::refused(e);
    FUZZ_CHECK(e.status() == 400, "repair: a bad body is a 400");
    return 0;
  }
  FUZZ_CHECK(!r.image.empty(), "repair: an accepted request has an image");
  FUZZ_CHECK(r.mask.empty() != r.box.empty(), "repair: a mask or a box, not both");
  FUZZ_CHECK(r.steps >= 1 && r.steps <= limits.max_steps, "repair: steps within the limits");
  FUZZ_CHECK(r.restarts >= 1 && r.restarts <= limits.max_restarts,
             "repair: restarts within limits");
  for (const auto& spec : kSpecs) {
    try {
      const gf::serve::RepairInputs in = gf::serve::repair_inputs(r, spec);
      const int64_t c = spec.out_shape[0], h = spec.out_shape[1], w = spec.out_shape[2];
      FUZZ_CHECK(in.image.sizes() == torch::IntArrayRef({1, c, h, w}), "repair: image shape");
      FUZZ_CHECK(in.known.size(0) == 1 && in.known.size(2) == h && in.known.size(3) == w,
                 "repair: mask shape");
      FUZZ_CHECK(in.image.min().item<float>() >= -1 && in.image.max().item<float>() <= 1,
                 "repair: pixels in [-1, 1]");
    } catch (const gf::serve::ApiError& e) {
      gf::fuzz::refused(e);
      FUZZ_CHECK(e.status() == 400, "repair: bad inputs are a 400");
    } catch (const gf::Error& e) {
      gf::fuzz::refused(e);
    }
  }
  return 0;
}
