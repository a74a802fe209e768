// The invariants that must hold on any device, run on the one GF_TEST_DEVICE names (cpu by
// default; `GF_TEST_DEVICE=cuda ganforge_tests --gtest_filter=Device*` on a GPU machine). On the
// CPU only ResumeEqualsUninterrupted runs; the comparisons with the CPU are skipped.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/runtime.h"
#include "models/generator_file.h"
#include "models/sampler.h"
#include "test_util.h"
#include "train/trainer.h"

namespace gf {
namespace {

std::string test_device() {
  const char* d = std::getenv("GF_TEST_DEVICE");
  return d && *d ? d : "cpu";
}

// The checks that compare the device with the CPU mean nothing when the device is the CPU: they
// are skipped there, with the reason tests/expected_skips.txt lists (any other skip fails
// `make test`).
#define GF_NEEDS_A_DEVICE()                                                                        \
  if (test_device() == "cpu")                                                                      \
  GTEST_SKIP() << "GF_TEST_DEVICE is cpu: this compares a GPU with the CPU (scripts/gpu_check.sh " \
                  "runs it with GF_TEST_DEVICE=cuda)"

RunConfig ring_on_device(int64_t steps) {
  RunConfig c = config_from_json_strict(
      {{"data", {{"dataset", "ring"}, {"synthetic_n", 1000}}},
       {"model", {{"z_dim", 4}, {"g_hidden", {32}}, {"d_hidden", {32}}, {"g_out", "linear"}}},
       {"train", {{"batch", 50}, {"steps", steps}, {"device", test_device()}, {"ema_kimg", 1}}}},
      {});
  c.model.out_shape = {2};
  return c;
}

torch::Tensor g_weights(Trainer& t) {
  std::vector<torch::Tensor> all;
  for (const auto& p : t.generator().parameters()) all.push_back(p.detach().flatten().cpu());
  return torch::cat(all);
}

TEST(Device, ResumeEqualsUninterrupted) {
  test::TempDir tmp;
  const Dataset data = load_dataset(ring_on_device(20).data, 0);
  Trainer straight(ring_on_device(20), data);
  for (int i = 0; i < 20; ++i) straight.step();
  Trainer first(ring_on_device(20), data);
  for (int i = 0; i < 10; ++i) first.step();
  first.save(tmp.file("half.ckpt"));
  Trainer resumed(ring_on_device(20), data);
  resumed.load(tmp.file("half.ckpt"));
  for (int i = 0; i < 10; ++i) resumed.step();
  // Same kernels, same order, same random draws: equal bit for bit on the CPU; GPU libraries
  // are deterministic for repeated identical calls too.
  EXPECT_TRUE(torch::equal(g_weights(straight), g_weights(resumed))) << test_device();
  EXPECT_GT((g_weights(straight) - g_weights(first)).abs().max().item<double>(), 1e-6);
}

TEST(Device, CheckpointFromTheDeviceSamplesTheSameOnTheCpu) {
  GF_NEEDS_A_DEVICE();
  test::TempDir tmp;
  const RunConfig c = ring_on_device(5);
  const Dataset data = load_dataset(c.data, 0);
  Trainer t(c, data);
  for (int i = 0; i < 5; ++i) t.step();
  t.save(tmp.file("g.ckpt"));
  LoadedGenerator on_device = load_generator(tmp.file("g.ckpt"), test_device());
  LoadedGenerator on_cpu = load_generator(tmp.file("g.ckpt"), "cpu");
  EXPECT_TRUE(on_device.ema);
  auto a = generate(*on_device.g, on_device.spec, 3, 100);
  auto b = generate(*on_cpu.g, on_cpu.spec, 3, 100);
  ASSERT_EQ(a.device().type(), torch::kCPU);  // generate() returns CPU tensors from any device
  EXPECT_TRUE(torch::allclose(a, b, 1e-4, 1e-5)) << (a - b).abs().max().item<double>();
  // Same seed, same samples on the device too.
  EXPECT_TRUE(torch::equal(a, generate(*on_device.g, on_device.spec, 3, 100)));
}

TEST(Device, ConvolutionalGeneratorMatchesTheCpu) {
  GF_NEEDS_A_DEVICE();
  ModelSpec spec;
  spec.arch = "dcgan";
  spec.g_channels = 16;
  spec.out_shape = {1, 28, 28};
  spec.conditional = "projection";
  spec.num_classes = 10;
  spec.latent = "normal";
  torch::manual_seed(4);
  auto cpu = build_generator(spec);
  torch::manual_seed(4);
  auto dev = build_generator(spec);
  dev->to(parse_device(test_device()));
  auto a = generate(*cpu, spec, 9, 32);
  auto b = generate(*dev, spec, 9, 32);
  // TF32 convolutions on Ampere+ GPUs round to ~1e-3; images are compared in pixel units.
  EXPECT_LT((a - b).abs().max().item<double>(), 4e-3) << test_device();
}

}  // namespace
}  // namespace gf
