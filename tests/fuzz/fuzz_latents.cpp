// Latent files (apply/project.h): what `ganforge project` writes and `sample --latent` reads
// back (read_latents: the file parsed, then latents_from_json). The input is the file, read
// against an unconditional model and a conditional one with class names. Accepted latents must
// be finite floats of the model's z_dim, with one valid class per latent for the conditional
// model.
#include <cmath>
#include <cstdint>
#include <string>

#include "apply/project.h"
#include "core/error.h"
#include "fuzz_util.h"

namespace {

gf::ModelSpec latent_spec(bool conditional) {
  gf::ModelSpec s;
  s.z_dim = 3;
  s.out_shape = {1, 8, 8};
  if (conditional) {
    s.conditional = "cgan";
    s.num_classes = 3;
    s.class_names = {"cat", "dog", "7"};
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const gf::ModelSpec kSpecs[] = {latent_spec(false), latent_spec(true)};
  static const gf::fuzz::ScratchFile file(".json");
  gf::fuzz::write_scratch(file.path, data, size);
  for (const auto& spec : kSpecs) {
    gf::LatentSet set;
    try {
      set = gf::read_latents(file.path, spec);
    } catch (const gf::Error& e) {
      gf::fuzz::refused(e);
      continue;
    }
    FUZZ_CHECK(set.z.dim() == 2 && set.z.size(1) == spec.z_dim && set.z.size(0) >= 1,
               "latents: [n, z_dim]");
    FUZZ_CHECK(torch::isfinite(set.z).all().item<bool>(), "latents: finite floats");
    if (spec.is_conditional()) {
      FUZZ_CHECK(set.labels.defined() && set.labels.numel() == set.z.size(0),
                 "latents: one label per latent");
      FUZZ_CHECK(set.labels.min().item<int64_t>() >= 0 &&
                     set.labels.max().item<int64_t>() < spec.num_classes,
                 "latents: labels are classes of the model");
    }
  }
  return 0;
}
