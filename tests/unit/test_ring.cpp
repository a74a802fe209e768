// Convergence on the ring of 8 Gaussians: the check that fails when the GAN collapses.
#include <gtest/gtest.h>

#include "core/log.h"
#include "core/runtime.h"
#include "data/dataset.h"
#include "models/sampler.h"
#include "test_util.h"
#include "train/config.h"
#include "train/trainer.h"

namespace gf {
namespace {

TEST(Convergence, RingPresetCoversTheModes) {
  set_threads(1);
  RunConfig c = load_run_config(std::string(GF_SOURCE_DIR) + "/configs/gaussian_ring.json", {});
  Dataset data = load_dataset(c.data, static_cast<uint64_t>(c.seed));
  c.model.out_shape = data.sample_shape();
  Trainer t(c, data);
  while (t.step_index() < t.total_steps()) t.step();
  auto samples = generate(t.generator(), c.model, 12345, 2500);
  const RingQuality q = ring_quality(RingSpec{}, samples);
  log_info("ring after ", t.step_index(), " steps: ", q.modes_covered, "/8 modes, ",
           q.high_quality * 100, "% high-quality");
  EXPECT_GE(q.modes_covered, 7);
  EXPECT_GE(q.high_quality, 0.8);
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
