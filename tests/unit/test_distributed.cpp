// Data-parallel training: two ranks over Gloo on loopback (two threads of this process, each
// with its own TCPStore client and process group, as two processes would have) against one
// process with the same global batch.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "test_util.h"
#include "train/distributed.h"
#include "train/trainer.h"

namespace gf {
namespace {

RunConfig ring_config(const std::vector<std::string>& overrides) {
  RunConfig c = config_from_json_strict(
      {{"data", {{"dataset", "ring"}, {"synthetic_n", 2000}}},
       {"model",
        {{"z_dim", 4}, {"g_hidden", {32, 32}}, {"d_hidden", {32, 32}}, {"g_out", "linear"}}},
       {"train", {{"batch", 64}, {"steps", 40}}}},
      overrides);
  c.model.out_shape = {2};
  return c;
}

// G's and D's parameters, flattened, after each of `steps` steps.
using Trace = std::vector<torch::Tensor>;
torch::Tensor flat_weights(Trainer& t) {
  std::vector<torch::Tensor> all;
  for (const auto& p : t.generator().parameters()) all.push_back(p.detach().flatten());
  for (const auto& p : t.discriminator().parameters()) all.push_back(p.detach().flatten());
  return torch::cat(all).clone();
}

// G's and D's buffers (batch norm's running statistics), flattened.
torch::Tensor flat_buffers(Trainer& t) {
  std::vector<torch::Tensor> all;
  for (const auto& b : t.generator().buffers())
    all.push_back(b.detach().flatten().to(torch::kFloat));
  for (const auto& b : t.discriminator().buffers()) {
    all.push_back(b.detach().flatten().to(torch::kFloat));
  }
  return torch::cat(all).clone();
}

// The weights after each step; with `buffers`, the final buffers as one more entry.
Trace train(const RunConfig& c, const Dataset& data, std::shared_ptr<Distributed> dist, int steps,
            bool buffers = false) {
  Trainer t(c, data, std::move(dist));
  Trace trace;
  for (int i = 0; i < steps; ++i) {
    t.step();
    trace.push_back(flat_weights(t));
  }
  if (buffers) trace.push_back(flat_buffers(t));
  return trace;
}

// `world` ranks as threads on loopback. test::free_port()'s port can be taken by another process
// before rank 0's store binds it: then (and only then) the ranks start again on a new port.
std::vector<Trace> train_ranks(const RunConfig& c, const Dataset& data, int world, int steps,
                               bool buffers = false) {
  std::vector<Trace> traces(static_cast<size_t>(world));
  std::vector<std::string> errors(static_cast<size_t>(world));
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int port = test::free_port();
    std::fill(errors.begin(), errors.end(), "");
    std::vector<std::thread> ranks;
    for (int r = 0; r < world; ++r) {
      ranks.emplace_back([&, r] {
        try {
          DistributedEnv env;
          env.rank = r;
          env.world_size = world;
          env.master_port = port;
          auto dist = std::make_shared<Distributed>(env, std::chrono::seconds(60), torch::kCPU);
          traces[static_cast<size_t>(r)] = train(c, data, dist, steps, buffers);
        } catch (const std::exception& e) {
          errors[static_cast<size_t>(r)] = e.what();
        }
      });
    }
    for (auto& t : ranks) t.join();
    if (errors[0].find("already in use") == std::string::npos) break;
  }
  for (int r = 0; r < world; ++r) EXPECT_EQ(errors[static_cast<size_t>(r)], "") << "rank " << r;
  return traces;
}

#ifdef GF_WITH_C10D
#define GF_NEEDS_C10D()
#else
#define GF_NEEDS_C10D() GTEST_SKIP() << "built without c10d (no Gloo headers)"
#endif

void expect_data_parallel_equals_single(const RunConfig& c) {
  const Dataset data = load_dataset(c.data, 0);
  const int steps = 40;
  const Trace single = train(c, data, nullptr, steps);
  const auto ranks = train_ranks(c, data, 2, steps);
  ASSERT_EQ(ranks[0].size(), static_cast<size_t>(steps));
  ASSERT_EQ(ranks[1].size(), static_cast<size_t>(steps));
  double worst = 0;
  for (int i = 0; i < steps; ++i) {
    // Ranks hold the same weights after every step: same start, same averaged gradients.
    ASSERT_TRUE(torch::equal(ranks[0][i], ranks[1][i])) << "ranks differ after step " << i + 1;
    worst = std::max(worst, (ranks[0][i] - single[i]).abs().max().item<double>());
  }
  // And they equal one process with the whole batch, up to float rounding of the averages.
  EXPECT_LT(worst, 1e-5);
  // The weights did move (the comparison is not between two untrained models).
  EXPECT_GT((single.back() - single.front()).abs().max().item<double>(), 1e-3);
  std::printf("[ data-parallel ] %s: 2 ranks x %lld vs 1 x %lld, %d steps: max |w2 - w1| = %.3g\n",
              c.train.loss.c_str(), static_cast<long long>(c.train.batch / 2),
              static_cast<long long>(c.train.batch), steps, worst);
}

TEST(Distributed, TwoRanksEqualOneProcessWithTheWholeBatch) {
  GF_NEEDS_C10D();
  expect_data_parallel_equals_single(ring_config({}));
}

TEST(Distributed, RandomDrawsFollowTheGlobalBatch) {
  GF_NEEDS_C10D();
  // WGAN-GP's interpolation weights, instance noise and R1 are drawn per sample of the global
  // batch, so they too match the single process.
  expect_data_parallel_equals_single(
      ring_config({"train.loss=wgan-gp", "train.n_critic=2", "train.instance_noise=0.1"}));
  expect_data_parallel_equals_single(ring_config({"train.r1_gamma=1", "train.r1_every=2"}));
}

TEST(Distributed, DcganBatchNormStaysLocalWhileWeightsStayEqual) {
  GF_NEEDS_C10D();
  // DCGAN with batch norm in G and D on 256 MNIST digits: each rank normalises with its own half
  // of the global batch (README, "Data-parallel training"), so the ranks' running statistics
  // differ and the run is not the single process's; the weights stay identical on every rank
  // (averaged gradients), train, and stay finite.
  RunConfig c = config_from_json_strict({{"model",
                                          {{"arch", "dcgan"},
                                           {"z_dim", 16},
                                           {"g_channels", 8},
                                           {"d_channels", 8},
                                           {"d_norm", "batch"}}},
                                         {"train", {{"batch", 32}, {"steps", 12}}}},
                                        {});
  c.data.dir = std::string(GF_SOURCE_DIR) + "/data/mnist";
  c.data.limit = 256;
  const Dataset data = load_dataset(c.data, 0);
  c.model.out_shape = data.sample_shape();
  const int steps = 12;
  const Trace single = train(c, data, nullptr, steps);
  const auto ranks = train_ranks(c, data, 2, steps, true);
  ASSERT_EQ(ranks[0].size(), static_cast<size_t>(steps + 1));
  ASSERT_EQ(ranks[1].size(), static_cast<size_t>(steps + 1));
  for (int i = 0; i < steps; ++i) {
    ASSERT_TRUE(torch::equal(ranks[0][i], ranks[1][i])) << "ranks differ after step " << i + 1;
    ASSERT_TRUE(torch::isfinite(ranks[0][i]).all().item<bool>()) << "step " << i + 1;
  }
  const auto& w0 = ranks[0][steps - 1];
  EXPECT_GT((w0 - ranks[0].front()).abs().max().item<double>(), 1e-4);
  // Local statistics: not the single process's result (which normalises over all 32 images).
  EXPECT_GT((w0 - single.back()).abs().max().item<double>(), 1e-6);
  // The running statistics are each rank's own, and finite.
  EXPECT_GT((ranks[0].back() - ranks[1].back()).abs().max().item<double>(), 1e-6);
  EXPECT_TRUE(torch::isfinite(ranks[0].back()).all().item<bool>());
  EXPECT_TRUE(torch::isfinite(ranks[1].back()).all().item<bool>());
}

TEST(Distributed, EnvironmentIsValidated) {
  setenv("WORLD_SIZE", "2", 1);
  unsetenv("RANK");
  EXPECT_NE(test::error_of([] { DistributedEnv::from_environment(); }).find("RANK"),
            std::string::npos);
  setenv("RANK", "2", 1);
  EXPECT_NE(test::error_of([] { DistributedEnv::from_environment(); }).find("RANK=2"),
            std::string::npos);
  setenv("RANK", "1", 1);
  setenv("MASTER_PORT", "http", 1);
  EXPECT_NE(test::error_of([] { DistributedEnv::from_environment(); }).find("MASTER_PORT"),
            std::string::npos);
  setenv("MASTER_PORT", "29511", 1);
  const DistributedEnv e = DistributedEnv::from_environment();
  EXPECT_EQ(e.rank, 1);
  EXPECT_EQ(e.world_size, 2);
  EXPECT_EQ(e.master_port, 29511);
  EXPECT_TRUE(e.enabled());
  for (const char* v : {"WORLD_SIZE", "RANK", "MASTER_PORT"}) unsetenv(v);
  EXPECT_FALSE(DistributedEnv::from_environment().enabled());
}

TEST(Distributed, UnreachableStoreFailsWithinTheTimeout) {
  GF_NEEDS_C10D();
  DistributedEnv env;
  env.rank = 1;  // a client: nobody hosts the store
  env.world_size = 2;
  env.master_port = test::free_port();
  const auto t0 = std::chrono::steady_clock::now();
  const std::string e =
      test::error_of([&] { Distributed d(env, std::chrono::seconds(2), torch::kCPU); });
  EXPECT_NE(e.find("distributed start-up failed on rank 1"), std::string::npos) << e;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
}

TEST(Distributed, GlobalBatchMustSplitEvenly) {
  GF_NEEDS_C10D();
  RunConfig c = ring_config({"train.batch=63"});
  const Dataset data = load_dataset(c.data, 0);
  const auto ranks = [&] {
    const int port = test::free_port();
    std::vector<std::string> errors(2);
    std::vector<std::thread> threads;
    for (int r = 0; r < 2; ++r) {
      threads.emplace_back([&, r] {
        DistributedEnv env;
        env.rank = r;
        env.world_size = 2;
        env.master_port = port;
        auto dist = std::make_shared<Distributed>(env, std::chrono::seconds(30), torch::kCPU);
        errors[static_cast<size_t>(r)] = test::error_of([&] { Trainer t(c, data, dist); });
      });
    }
    for (auto& t : threads) t.join();
    return errors;
  }();
  EXPECT_NE(ranks[0].find("must divide evenly over 2 ranks"), std::string::npos) << ranks[0];
}

}  // namespace
}  // namespace gf
