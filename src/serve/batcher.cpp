#include "serve/batcher.h"

#include <torch/utils.h>

#include <algorithm>

#include "core/error.h"
#include "serve/prometheus.h"

namespace gf::serve {

Batcher::Batcher(std::string model, std::shared_ptr<Generator> g, int64_t max_batch,
                 size_t max_queue, ServerMetrics* metrics)
    : model_(std::move(model)),
      g_(std::move(g)),
      device_(module_device(*g_)),
      max_batch_(max_batch),
      max_queue_(max_queue),
      metrics_(metrics) {
  GF_CHECK(max_batch_ >= 1 && max_queue_ >= 1, "max batch and queue length must be positive");
  g_->eval();
  worker_ = std::thread([this] { loop(); });
}

Batcher::~Batcher() {
  shutdown();
}

std::shared_ptr<GenerationJob> Batcher::submit(torch::Tensor z, torch::Tensor labels) {
  auto job = std::make_shared<GenerationJob>();
  job->z = std::move(z);
  job->labels = std::move(labels);
  return enqueue(std::move(job));
}

std::shared_ptr<GenerationJob> Batcher::submit_task(std::function<torch::Tensor(Generator&)> task) {
  auto job = std::make_shared<GenerationJob>();
  job->task = std::move(task);
  return enqueue(std::move(job));
}

std::shared_ptr<GenerationJob> Batcher::enqueue(std::shared_ptr<GenerationJob> job) {
  // Taken here, before the worker can see the job: get_future() and set_value() on one promise
  // must not race.
  job->future = job->result.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || queue_.size() >= max_queue_) return nullptr;
    queue_.push_back(job);
  }
  cv_.notify_one();
  return job;
}

size_t Batcher::depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void Batcher::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void Batcher::loop() {
  for (;;) {
    std::vector<std::shared_ptr<GenerationJob>> jobs;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      // Coalesce: take waiting jobs in order while they fit; the first one always fits because
      // requests are limited to max_batch images.
      int64_t images = 0;
      while (!queue_.empty()) {
        const auto& next = queue_.front();
        if (next->task && !jobs.empty()) break;  // a task runs alone
        const int64_t n = next->task ? max_batch_ : next->z.size(0);
        if (!jobs.empty() && images + n > max_batch_) break;
        images += n;
        jobs.push_back(next);
        queue_.pop_front();
      }
    }
    run_batch(jobs);
  }
}

void Batcher::run_batch(std::vector<std::shared_ptr<GenerationJob>>& jobs) {
  if (jobs.size() == 1 && jobs[0]->task) {
    auto& job = *jobs[0];
    if (job.abandoned.load()) return;
    try {
      job.result.set_value(job.task(*g_));
    } catch (...) {
      job.result.set_exception(std::current_exception());
    }
    return;
  }
  std::vector<torch::Tensor> zs, ys;
  std::vector<std::shared_ptr<GenerationJob>> live;
  for (auto& j : jobs) {
    if (j->abandoned.load()) continue;
    live.push_back(j);
    zs.push_back(j->z);
    if (j->labels.defined()) ys.push_back(j->labels);
  }
  if (live.empty()) return;
  try {
    torch::NoGradGuard no_grad;
    auto z = torch::cat(zs).to(device_);
    // Class walks send class weights: then every job's labels go as weights (one-hot rows give
    // the class's own embedding exactly).
    const bool weights =
        std::any_of(ys.begin(), ys.end(), [](const auto& y) { return y.is_floating_point(); });
    if (weights) {
      int64_t classes = 0;
      for (const auto& y : ys) classes = y.is_floating_point() ? y.size(1) : classes;
      for (auto& y : ys) {
        if (!y.is_floating_point()) y = torch::one_hot(y, classes).to(torch::kFloat32);
      }
    }
    auto y = ys.empty() ? torch::Tensor() : torch::cat(ys).to(device_);
    auto out = g_->forward(z, y).to(torch::kCPU, torch::kFloat32);
    if (metrics_) metrics_->record_batch(model_, out.size(0));
    int64_t at = 0;
    for (auto& j : live) {
      const int64_t n = j->z.size(0);
      j->result.set_value(out.narrow(0, at, n));
      at += n;
    }
  } catch (...) {
    // The forward pass failed before any job got its images: every job gets the error.
    for (auto& j : live) j->result.set_exception(std::current_exception());
  }
}

}  // namespace gf::serve
