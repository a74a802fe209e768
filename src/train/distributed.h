// Data-parallel training on PyTorch's distributed engine (c10d): rendezvous through a TCPStore
// from the variables torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT),
// a Gloo process group on the CPU (NCCL when built against a CUDA LibTorch and training on
// GPUs), and bucketed all-reduce of gradients. Every rank runs the same Trainer on its slice of
// each global batch; averaging the gradients makes the update the one a single process takes on
// the whole batch.
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace gf {

struct DistributedEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  // torchrun's agent hosts the store (TORCHELASTIC_USE_AGENT_STORE=True): every rank is a client,
  // under the prefix /worker/attempt_<TORCHELASTIC_RESTART_COUNT>, as torch.distributed does.
  bool agent_store = false;
  std::string restart_count = "0";

  bool enabled() const { return world_size > 1; }
  // Reads the variables; WORLD_SIZE unset means one process. Throws gf::Error on bad values.
  static DistributedEnv from_environment();
};

class ProcessGroupHandle;  // c10d objects, kept out of this header

class Distributed {
 public:
  // Joins the group; throws gf::Error when the store cannot be reached within `timeout`.
  // `timeout` also bounds every collective: a rank that stops answering makes the others fail.
  Distributed(const DistributedEnv& env, std::chrono::milliseconds timeout,
              const torch::Device& device);
  ~Distributed();

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }

  // In place, from `root` to every rank, in buckets of at most kBucketBytes.
  void broadcast(const std::vector<torch::Tensor>& tensors, int root = 0);
  // In place: the mean over ranks, in buckets.
  void average(const std::vector<torch::Tensor>& tensors);
  // The mean of each module parameter's gradient over ranks (parameters without one are
  // skipped; every rank has the same set).
  void average_gradients(torch::nn::Module& module);
  // Rank 0's parameters and buffers on every rank.
  void broadcast_module(torch::nn::Module& module);

  // PyTorch DDP's default bucket size.
  static constexpr int64_t kBucketBytes = 25 * 1024 * 1024;

 private:
  template <typename Collective>
  void bucketed(const std::vector<torch::Tensor>& tensors, Collective&& run);

  DistributedEnv env_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<ProcessGroupHandle> pg_;
};

}  // namespace gf
