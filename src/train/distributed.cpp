#include "train/distributed.h"

#include <c10/util/Exception.h>
#include <torch/utils.h>
// Only with the Gloo headers: a pip torch ships c10d's headers and defines USE_C10D_GLOO for
// every user, but not Gloo's own headers, which ProcessGroupGloo.hpp then includes.
#ifdef GF_WITH_C10D
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef GF_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#endif

#include <cstdlib>

#include "core/error.h"

namespace gf {
namespace {

int int_var(const char* name, int fallback, int lo, int hi) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  GF_CHECK(end && *end == '\0' && x >= lo && x <= hi, name, "=", v, " must be an integer in ", lo,
           "..", hi);
  return static_cast<int>(x);
}

std::string str_var(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

}  // namespace

#ifdef GF_WITH_C10D
class ProcessGroupHandle {
 public:
  c10::intrusive_ptr<c10d::Store> store;
#if TORCH_VERSION_MAJOR >= 2
  c10::intrusive_ptr<c10d::Backend> pg;  // LibTorch 2 splits process groups into backends
#else
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
#endif
};
#else
class ProcessGroupHandle {};
#endif

DistributedEnv DistributedEnv::from_environment() {
  DistributedEnv e;
  e.world_size = int_var("WORLD_SIZE", 1, 1, 65536);
  e.rank = int_var("RANK", 0, 0, e.world_size - 1);
  e.local_rank = int_var("LOCAL_RANK", e.rank, 0, 65535);
  e.master_addr = str_var("MASTER_ADDR", e.master_addr);
  e.master_port = int_var("MASTER_PORT", e.master_port, 1, 65535);
  e.agent_store = str_var("TORCHELASTIC_USE_AGENT_STORE", "") == "True";
  e.restart_count = str_var("TORCHELASTIC_RESTART_COUNT", "0");
  if (e.world_size > 1) {
    GF_CHECK(std::getenv("RANK") != nullptr, "WORLD_SIZE=", e.world_size,
             " but RANK is not set; launch with torchrun or set RANK, WORLD_SIZE, MASTER_ADDR, "
             "MASTER_PORT");
  }
  return e;
}

Distributed::Distributed(const DistributedEnv& env, std::chrono::milliseconds timeout,
                         const torch::Device& device)
    : env_(env), timeout_(timeout), pg_(std::make_unique<ProcessGroupHandle>()) {
#ifndef GF_WITH_C10D
  (void)device;
  throw Error(
      concat("this ganforge was built without c10d's Gloo headers (libgloo-dev); it cannot ",
             "train with ", env.world_size, " ranks"));
#else
  try {
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<std::uint16_t>(env.master_port);
    opts.isServer = !env.agent_store && env.rank == 0;
    opts.numWorkers = static_cast<std::size_t>(env.world_size);
    opts.waitWorkers = !env.agent_store;
    opts.timeout = timeout;
    opts.multiTenant = !env.agent_store;
    c10::intrusive_ptr<c10d::Store> store =
        c10::make_intrusive<c10d::TCPStore>(env.master_addr, opts);
    if (env.agent_store) {
      store = c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + env.restart_count, store);
    }
    pg_->store = store;
    if (device.is_cuda()) {
#ifdef GF_WITH_NCCL
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      pg_->pg =
          c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env.rank, env.world_size, options);
#else
      throw Error(
          "this ganforge was built without NCCL; distributed CUDA training needs a "
          "CUDA LibTorch build");
#endif
    } else {
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(
          env.master_addr == "localhost" ? "127.0.0.1" : env.master_addr));
      pg_->pg =
          c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, options);
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(concat("distributed start-up failed on rank ", env.rank, " (store ",
                       env.master_addr, ":", env.master_port, ", timeout ", timeout.count() / 1000,
                       " s): ", first_line(e.what())));
  }
#endif
}

Distributed::~Distributed() = default;

template <typename Collective>
void Distributed::bucketed(const std::vector<torch::Tensor>& tensors, Collective&& run) {
  size_t i = 0;
  while (i < tensors.size()) {
    // One bucket: consecutive tensors of one dtype, up to kBucketBytes (at least one tensor).
    std::vector<torch::Tensor> flat;
    int64_t bytes = 0;
    size_t j = i;
    for (; j < tensors.size(); ++j) {
      const auto& t = tensors[j];
      const int64_t b = t.numel() * static_cast<int64_t>(t.element_size());
      if (j > i && (t.scalar_type() != tensors[i].scalar_type() || bytes + b > kBucketBytes)) break;
      flat.push_back(t.detach().reshape({-1}));
      bytes += b;
    }
    std::vector<torch::Tensor> buffer = {torch::cat(flat)};
    try {
      run(buffer);
    } catch (const std::exception& e) {
      throw Error(concat("distributed training failed on rank ", env_.rank, " of ", env_.world_size,
                         ": ", first_line(e.what()), " (a rank stopped, or did not answer within ",
                         timeout_.count() / 1000, " s)"));
    }
    int64_t at = 0;
    torch::NoGradGuard no_grad;
    for (size_t k = i; k < j; ++k) {
      const int64_t n = tensors[k].numel();
      tensors[k].copy_(buffer[0].narrow(0, at, n).view_as(tensors[k]));
      at += n;
    }
    i = j;
  }
}

#ifdef GF_WITH_C10D
void Distributed::broadcast(const std::vector<torch::Tensor>& tensors, int root) {
  bucketed(tensors, [&](std::vector<torch::Tensor>& b) {
    c10d::BroadcastOptions o;
    o.rootRank = root;
    pg_->pg->broadcast(b, o)->wait(timeout_);
  });
}

void Distributed::average(const std::vector<torch::Tensor>& tensors) {
  const double scale = 1.0 / static_cast<double>(env_.world_size);
  bucketed(tensors, [&](std::vector<torch::Tensor>& b) {
    pg_->pg->allreduce(b)->wait(timeout_);
    b[0].mul_(scale);
  });
}

#else
// Unreachable: the constructor refuses to make a group without c10d.
void Distributed::broadcast(const std::vector<torch::Tensor>&, int) {}
void Distributed::average(const std::vector<torch::Tensor>&) {}
#endif

void Distributed::average_gradients(torch::nn::Module& module) {
  std::vector<torch::Tensor> grads;
  for (const auto& p : module.parameters()) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  average(grads);
}

void Distributed::broadcast_module(torch::nn::Module& module) {
  std::vector<torch::Tensor> all;
  for (const auto& p : module.parameters()) all.push_back(p);
  for (const auto& b : module.buffers()) all.push_back(b);
  broadcast(all);
}

}  // namespace gf
