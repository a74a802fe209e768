// The body of POST /v1/generate (serve/api.h): parse_generate_request with one model served and
// with two, then the checks against a conditional model's spec. The input is the body. Errors
// must be ApiError (a 400 with a JSON error) or gf::Error (also a 400); an accepted request must be
// within the limits.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "fuzz_util.h"
#include "serve/api.h"

namespace {

using gf::serve::ApiError;
using gf::serve::GenerateRequest;

void check_accepted(const GenerateRequest& r, const gf::serve::Limits& limits) {
  FUZZ_CHECK(r.n >= 1 && r.n <= limits.max_n, "generate: n within the limits");
  FUZZ_CHECK(r.truncation >= limits.min_truncation && r.truncation <= 1.0,
             "generate: truncation within the limits");
  FUZZ_CHECK(r.format != gf::serve::Format::kPng || r.n == 1, "generate: png is one image");
  FUZZ_CHECK(!r.walk() || r.n >= 2, "generate: a walk has at least 2 steps");
  FUZZ_CHECK(
      r.labels.empty() || r.labels.size() == 1 || static_cast<int64_t>(r.labels.size()) == r.n,
      "generate: one label, or one per image");
  FUZZ_CHECK(r.latents.empty() || r.walk() || static_cast<int64_t>(r.latents.size()) == r.n,
             "generate: one latent per image");
  for (const auto& z : r.latents) {
    for (float v : z) FUZZ_CHECK(std::isfinite(v), "generate: latents are finite floats");
  }
  for (float v : r.walk_to_latent) FUZZ_CHECK(std::isfinite(v), "generate: walk_to.latent finite");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  gf::serve::Limits limits;
  limits.max_n = 64;
  gf::ModelSpec spec;
  spec.z_dim = 4;
  spec.conditional = "cgan";
  spec.num_classes = 10;
  spec.out_shape = {1, 28, 28};
  for (const auto& models :
       {std::vector<std::string>{"mnist"}, std::vector<std::string>{"mnist", "fashion"}}) {
    try {
      const GenerateRequest r = gf::serve::parse_generate_request(body, models, limits);
      check_accepted(r, limits);
      gf::serve::check_request_labels(r, spec);
      gf::serve::check_request_latents(r, spec);
    } catch (const ApiError& e) {
      gf::fuzz::refused(e);
      FUZZ_CHECK(e.status() == 400, "generate: a bad body is a 400");
    } catch (const gf::Error& e) {  // the server answers these with a 400 too
      gf::fuzz::refused(e);
    }
  }
  return 0;
}
