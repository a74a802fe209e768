#include <gtest/gtest.h>

#include "models/sampler.h"
#include "test_util.h"

namespace gf {
namespace {

TEST(Sampler, SameSeedSameImageWhateverNAndBatch) {
  ModelSpec spec;
  spec.out_shape = {1, 28, 28};
  torch::manual_seed(3);
  Gan gan = build_gan(spec);
  auto all = generate(*gan.g, spec, 7, 10, /*batch=*/10);
  auto small = generate(*gan.g, spec, 7, 3, /*batch=*/1);
  auto chunked = generate(*gan.g, spec, 7, 10, /*batch=*/4);
  auto tail = generate(*gan.g, spec, 7, 4, /*batch=*/2, /*start=*/6);
  // Matrix products of different batch sizes may round differently in the last bit.
  EXPECT_TRUE(torch::allclose(all.narrow(0, 0, 3), small, 0, 1e-6));
  EXPECT_TRUE(torch::allclose(all, chunked, 0, 1e-6));
  EXPECT_TRUE(torch::allclose(all.narrow(0, 6, 4), tail, 0, 1e-6));
  EXPECT_TRUE(torch::equal(seeded_latents(spec, 7, 0, 10), seeded_latents(spec, 7, 0, 10)));
  // Another seed gives other images, and images within a seed differ.
  auto other = generate(*gan.g, spec, 8, 3, 3);
  EXPECT_GT((other - all.narrow(0, 0, 3)).abs().max().item<float>(), 1e-3);
  EXPECT_GT((all[0] - all[1]).abs().max().item<float>(), 1e-3);
}

TEST(Sampler, LatentDistributions) {
  ModelSpec spec;
  spec.z_dim = 64;
  auto u = seeded_latents(spec, 1, 0, 200);
  EXPECT_LE(u.max().item<float>(), 1.0f);
  EXPECT_GE(u.min().item<float>(), -1.0f);
  spec.latent = "normal";
  auto n = seeded_latents(spec, 1, 0, 200);
  EXPECT_NEAR(n.std().item<float>(), 1.0f, 0.05f);
  EXPECT_GT(n.abs().max().item<float>(), 1.0f);
}

}  // namespace
}  // namespace gf
