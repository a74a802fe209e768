#include <gtest/gtest.h>

#include "models/sampler.h"
#include "test_util.h"

namespace gf {
namespace {

TEST(Sampler, SameSeedSameImageWhateverNAndBatch) {
  for (const char* arch : {"mlp", "dcgan"}) {
    ModelSpec spec;
    spec.arch = arch;
    spec.g_channels = 8;
    spec.out_shape = {1, 28, 28};
    torch::manual_seed(3);
    Gan gan = build_gan(spec);
    auto all = generate(*gan.g, spec, 7, 100, /*batch=*/100);
    auto small = generate(*gan.g, spec, 7, 3, /*batch=*/1);
    auto chunked = generate(*gan.g, spec, 7, 100, /*batch=*/7);
    auto tail = generate(*gan.g, spec, 7, 4, /*batch=*/2, /*start=*/96);
    // Bit for bit: small batches are padded past BLAS's small-matrix paths (layers.h).
    EXPECT_TRUE(torch::equal(all.narrow(0, 0, 3), small)) << arch;
    EXPECT_TRUE(torch::equal(all, chunked)) << arch;
    EXPECT_TRUE(torch::equal(all.narrow(0, 96, 4), tail)) << arch;
    EXPECT_TRUE(torch::equal(seeded_latents(spec, 7, 0, 10), seeded_latents(spec, 7, 0, 10)));
    // Another seed gives other images, and images within a seed differ.
    auto other = generate(*gan.g, spec, 8, 3, 3);
    EXPECT_GT((other - all.narrow(0, 0, 3)).abs().max().item<float>(), 1e-3);
    EXPECT_GT((all[0] - all[1]).abs().max().item<float>(), 1e-3);
  }
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

TEST(Sampler, TruncationPullsLatentsTowardTheMean) {
  ModelSpec spec;
  spec.latent = "normal";
  auto z = seeded_latents(spec, 5, 0, 4);
  EXPECT_TRUE(torch::equal(truncate_latents(z.clone(), 1.0), z));
  EXPECT_TRUE(torch::allclose(truncate_latents(z.clone(), 0.5), z * 0.5));
  EXPECT_NE(test::error_of([&] { truncate_latents(z.clone(), 0.0); }).find("truncation"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { truncate_latents(z.clone(), 1.5); }).find("truncation"),
            std::string::npos);
}

TEST(Sampler, LatentWalkRunsFromOneSeedToTheOther) {
  for (const char* latent : {"normal", "uniform"}) {
    ModelSpec spec;
    spec.latent = latent;
    auto a = seeded_latents(spec, 11, 0, 1)[0], b = seeded_latents(spec, 12, 0, 1)[0];
    auto w = walk_latents(spec, 11, 12, 9);
    ASSERT_EQ(w.sizes(), (std::vector<int64_t>{9, spec.z_dim}));
    EXPECT_TRUE(torch::allclose(w[0], a, 0, 1e-5)) << latent;
    EXPECT_TRUE(torch::allclose(w[8], b, 0, 1e-5)) << latent;
    if (spec.latent == "uniform") {
      // A straight line at constant speed.
      auto steps = (w.narrow(0, 1, 8) - w.narrow(0, 0, 8)).norm(2, 1);
      EXPECT_LT((steps.max() - steps.min()).item<float>(), 1e-4f);
    } else {
      // slerp keeps the norm between the ends' norms (a straight line would dip in the middle).
      const float lo = std::min(a.norm().item<float>(), b.norm().item<float>());
      EXPECT_GT(w.norm(2, 1).min().item<float>(), lo - 1e-3f);
    }
  }
  ModelSpec spec;
  EXPECT_NE(test::error_of([&] { walk_latents(spec, 1, 2, 1); }).find("at least 2"),
            std::string::npos);
}

}  // namespace
}  // namespace gf
