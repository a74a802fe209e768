// LibTorch's latents for tests/web/check_latents.mjs: what `ganforge sample` draws for images
// 0..INDICES-1 of each seed (seeded_latents), as raw little-endian float32 [seeds, INDICES, Z_DIM].
// SEEDS is a comma-separated list of seeds and ranges FROM-TO (both ends included).
// Usage: ganforge_web_latents normal|uniform Z_DIM INDICES SEEDS OUT.f32
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/runtime.h"
#include "models/sampler.h"

namespace {

std::vector<uint64_t> parse_seeds(const std::string& text) {
  std::vector<uint64_t> seeds;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto dash = item.find('-');
    const uint64_t from = std::stoull(item.substr(0, dash));
    const uint64_t to = dash == std::string::npos ? from : std::stoull(item.substr(dash + 1));
    GF_CHECK(from <= to, "bad seed range ", item);
    for (uint64_t s = from; s <= to && s >= from; ++s) seeds.push_back(s);
  }
  return seeds;
}

int run(int argc, char** argv) {
  GF_CHECK(argc == 6, "usage: ganforge_web_latents normal|uniform Z_DIM INDICES SEEDS OUT.f32");
  gf::set_threads(1);
  gf::ModelSpec spec;
  spec.latent = argv[1];
  spec.z_dim = std::stoll(argv[2]);
  const int64_t indices = std::stoll(argv[3]);
  std::ofstream out(argv[5], std::ios::binary);
  for (const uint64_t seed : parse_seeds(argv[4])) {
    const auto z = gf::seeded_latents(spec, seed, 0, indices).contiguous();
    out.write(static_cast<const char*>(z.data_ptr()), static_cast<std::streamsize>(z.nbytes()));
  }
  GF_CHECK(out.good(), "cannot write ", argv[5]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
