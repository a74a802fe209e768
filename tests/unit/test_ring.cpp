// Convergence on the ring of 8 Gaussians: the checks that fail when a GAN collapses.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/log.h"
#include "core/runtime.h"
#include "data/dataset.h"
#include "models/sampler.h"
#include "test_util.h"
#include "train/config.h"
#include "train/trainer.h"

namespace gf {
namespace {

struct RingRun {
  RingQuality quality;
  std::shared_ptr<Trainer> trainer;
  std::shared_ptr<Dataset> data;
};

// Trains the ring preset with `overrides` and measures 2,500 samples. GF_TEST_SEED=K replaces the
// preset's seed: the bounds below were set from the spread over seeds 0-5 (docs/testing.md).
RingRun train_ring(std::vector<std::string> overrides) {
  set_threads(1);
  if (const char* seed = std::getenv("GF_TEST_SEED")) overrides.push_back(concat("seed=", seed));
  RunConfig c =
      load_run_config(std::string(GF_SOURCE_DIR) + "/configs/gaussian_ring.json", overrides);
  RingRun run;
  run.data = std::make_shared<Dataset>(load_dataset(c.data, static_cast<uint64_t>(c.seed)));
  c.model.out_shape = run.data->sample_shape();
  c.model.num_classes = run.data->num_classes;
  run.trainer = std::make_shared<Trainer>(c, *run.data);
  while (run.trainer->step_index() < run.trainer->total_steps()) run.trainer->step();
  auto samples = generate(run.trainer->sampling_generator(), c.model, 12345, 2500);
  run.quality = ring_quality(RingSpec{}, samples);
  std::string what;
  for (const auto& o : overrides) what += " " + o;
  log_info("ring", what.empty() ? " preset" : what, ": ", run.quality.modes_covered, "/8 modes, ",
           run.quality.high_quality * 100, "% high-quality after ", run.trainer->step_index(),
           " steps");
  ::testing::Test::RecordProperty("modes_covered", run.quality.modes_covered);
  ::testing::Test::RecordProperty("high_quality_percent",
                                  static_cast<int>(run.quality.high_quality * 100));
  return run;
}

// The bounds, from seeds 0-5 (docs/testing.md): every run covered 8/8 modes with 81-87% of its
// samples within 4 sigma of a mode (preset 81.0-85.8%, bf16 81.0-86.8%, minimax 83.5-87.4%). A
// collapsed run covers 1-4 modes; 75% fails a generator whose modes are 2.4x wider than the
// data's (a Gaussian s times sigma wide puts 1 - exp(-8 / s^2) of its samples within 4 sigma).
constexpr int kMinModes = 7;
constexpr double kMinSharp = 0.75;

TEST(Convergence, RingPresetCoversTheModes) {
  const RingQuality q = train_ring({}).quality;
  EXPECT_GE(q.modes_covered, kMinModes);
  EXPECT_GE(q.high_quality, kMinSharp);
}

TEST(Convergence, RingBf16) {
  // Mixed precision (bf16 products, fp32 weights and loss) converges as fp32 does.
  const RingQuality q = train_ring({"train.precision=bf16"}).quality;
  EXPECT_GE(q.modes_covered, kMinModes);
  EXPECT_GE(q.high_quality, kMinSharp);
}

TEST(Convergence, RingLsgan) {
  EXPECT_GE(train_ring({"train.loss=lsgan", "train.r1_gamma=1"}).quality.modes_covered, 7);
}

TEST(Convergence, RingHinge) {
  EXPECT_GE(train_ring({"train.loss=hinge"}).quality.modes_covered, 7);
}

TEST(Convergence, RingWganGp) {
  // Gulrajani et al. 2017: 5 critic steps, Adam beta2 0.9, no other penalty. With lambda = 10 the
  // critic is too smooth for modes of sigma 0.02 in 4,000 steps (41% sharp samples, 6-8 modes
  // depending on the kernel's rounding); lambda = 1 gives 69% with every mode at 7-10%.
  EXPECT_GE(train_ring({"train.loss=wgan-gp", "train.n_critic=5", "train.r1_gamma=0",
                        "train.beta2=0.9", "train.gp_lambda=1", "train.steps=4000"})
                .quality.modes_covered,
            7);
}

TEST(Convergence, RingMinimaxIsRecorded) {
  // The saturating loss: recorded in docs/recipes.md at 8/8 modes, 84% of samples within 4 sigma;
  // seeds 0-5 gave 8/8 and 83.5-87.4%. Another CPU's rounding changes the trajectory as another
  // seed does, so the seeds' spread is the margin the bounds need.
  const RingQuality q = train_ring({"train.g_loss=minimax"}).quality;
  EXPECT_GE(q.modes_covered, kMinModes);
  EXPECT_GE(q.high_quality, kMinSharp);
}

TEST(Convergence, ConditionalRingFollowsTheLabel) {
  RingRun run = train_ring({"model.conditional=cgan", "model.embed_dim=8"});
  const ModelSpec& spec = run.trainer->config().model;
  const auto centers = RingSpec{}.centers();
  for (int64_t k = 0; k < 8; ++k) {
    auto labels = torch::full({500}, k, torch::kInt64);
    auto s = generate(run.trainer->sampling_generator(), spec, 99, 500, 256, 0, labels);
    auto [dist, nearest] = torch::cdist(s, centers).min(1);
    const double in_mode =
        (nearest.eq(k) & dist.lt(4 * RingSpec{}.sigma)).to(torch::kFloat64).mean().item<double>();
    log_info("label ", k, ": ", in_mode * 100, "% of samples within 4 sigma of mode ", k);
    EXPECT_GE(in_mode, 0.9) << "label " << k;
  }
}

TEST(Convergence, RingQualityDetectsCollapse) {
  RingSpec ring;
  auto real = sample_ring(ring, 4000, 1);
  RingQuality q = ring_quality(ring, real);
  EXPECT_EQ(q.modes_covered, 8);
  EXPECT_GT(q.high_quality, 0.99);
  // Everything on two modes: high quality, but collapsed.
  auto two = real.index({real.select(1, 0).gt(1.0)});
  q = ring_quality(ring, two);
  EXPECT_LE(q.modes_covered, 3);
  // Blurry: noise 10x too wide.
  q = ring_quality(ring, ring.centers().repeat({500, 1}) + torch::randn({4000, 2}) * 0.2);
  EXPECT_LT(q.high_quality, 0.2);
}

}  // namespace
}  // namespace gf
