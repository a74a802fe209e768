// One generation worker per model: requests queue up (bounded), and the worker coalesces what is
// waiting into one forward pass of up to `max_batch` images, then hands each request its slice.
// Latents are drawn per (seed, index) before queueing, so batching never changes which image a
// request gets.
#pragma once

#include <torch/types.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "models/registry.h"

namespace gf::serve {

struct GenerationJob {
  torch::Tensor z;       // [n, z_dim] on the CPU
  torch::Tensor labels;  // [n] int64, [n, classes] class weights, or undefined
  std::function<torch::Tensor(Generator&)> task;  // other work on G (a repair), run alone
  std::promise<torch::Tensor> result;             // [n, C, H, W] float32 on the CPU
  std::future<torch::Tensor> future;              // result's, taken before the job is queued
  std::atomic<bool> abandoned{false};             // the client gave up (timeout): skip it
};

class ServerMetrics;

class Batcher {
 public:
  Batcher(std::string model, std::shared_ptr<Generator> g, int64_t max_batch, size_t max_queue,
          ServerMetrics* metrics);
  ~Batcher();  // shutdown()
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues a job; nullptr when the queue is full (the caller answers 429) or shutting down.
  std::shared_ptr<GenerationJob> submit(torch::Tensor z, torch::Tensor labels);
  // Queues other work on the generator (a repair's projection): it runs on the worker, in queue
  // order, alone, so G is never used by two threads at once. nullptr as submit().
  std::shared_ptr<GenerationJob> submit_task(std::function<torch::Tensor(Generator&)> task);
  size_t depth() const;
  // Finishes everything queued, then stops the worker. Idempotent.
  void shutdown();

 private:
  void loop();
  void run_batch(std::vector<std::shared_ptr<GenerationJob>>& jobs);
  std::shared_ptr<GenerationJob> enqueue(std::shared_ptr<GenerationJob> job);

  std::string model_;
  std::shared_ptr<Generator> g_;
  torch::Device device_;
  int64_t max_batch_;
  size_t max_queue_;
  ServerMetrics* metrics_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<GenerationJob>> queue_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace gf::serve
