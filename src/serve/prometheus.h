// The server's counters in the Prometheus text exposition format (version 0.0.4): requests by
// route and status, images generated, batch sizes and request latency as histograms, and gauges
// read at scrape time (queue depth). Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace gf::serve {

// A cumulative histogram with fixed upper bounds, like prometheus_client's Histogram.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  // `name`_bucket{le=...}, _sum and _count lines; `labels` like `model="demo"` or empty.
  void write(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; the last is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

class ServerMetrics {
 public:
  // `routes` are the paths counted by name; any other path is counted as "other", so clients
  // cannot grow the label set (and the server's memory) without bound.
  explicit ServerMetrics(std::vector<std::string> routes);

  void record_request(const std::string& path, int status, double seconds);
  void record_batch(const std::string& model, int64_t images);
  // A gauge evaluated at each scrape, e.g. a model's queue depth.
  void add_gauge(std::string name, std::string help, std::string labels,
                 std::function<double()> read);

  std::string render() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> routes_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  Histogram latency_;
  std::map<std::string, Histogram> batch_sizes_;  // by model
  std::map<std::string, uint64_t> images_;        // by model
  struct Gauge {
    std::string name, help, labels;
    std::function<double()> read;
  };
  std::vector<Gauge> gauges_;
};

}  // namespace gf::serve
