#include "eval/memorisation.h"

#include <torch/utils.h>

#include <algorithm>

#include "core/error.h"

namespace gf {

Nearest nearest_neighbours(const torch::Tensor& queries, const torch::Tensor& pool, int64_t chunk) {
  torch::NoGradGuard no_grad;
  GF_CHECK(queries.size(0) > 0 && pool.size(0) > 0, "nearest neighbours need non-empty sets");
  const auto q = queries.flatten(1).to(torch::kCPU, torch::kFloat32);
  const auto p = pool.flatten(1).to(torch::kCPU, torch::kFloat32);
  GF_CHECK(q.size(1) == p.size(1), "nearest neighbours: rows of ", q.size(1), " and ", p.size(1),
           " values");
  std::vector<torch::Tensor> index;
  for (int64_t i = 0; i < q.size(0); i += chunk) {
    const auto d = torch::cdist(q.narrow(0, i, std::min(chunk, q.size(0) - i)), p);
    index.push_back(d.argmin(1));
  }
  Nearest out;
  out.index = torch::cat(index);
  // cdist's matrix-product form loses the last digits (an exact copy reads ~1e-2): recompute.
  const auto diff = q.to(torch::kFloat64) - p.index_select(0, out.index).to(torch::kFloat64);
  out.distance = diff.pow(2).sum(1).sqrt();
  return out;
}

nlohmann::json Memorisation::to_json() const {
  nlohmann::json pairs = nlohmann::json::array();
  for (const auto& c : closest) {
    pairs.push_back({{"sample_index", c.sample_index},
                     {"train_index", c.train_index},
                     {"distance", c.distance}});
  }
  return {{"share", share},       {"threshold", threshold},   {"flagged", flagged},
          {"quantile", quantile}, {"flag_share", flag_share}, {"samples", samples},
          {"held_out", held_out}, {"space", "pixels"},        {"closest", pairs}};
}

Memorisation memorisation(const Nearest& samples_to_train, const torch::Tensor& held_out_to_train,
                          const MemorisationOptions& o) {
  GF_CHECK(
      o.quantile > 0 && o.quantile < 1 && o.flag_share > 0 && o.flag_share < 1 && o.closest >= 0,
      "memorisation: quantile and flag share must lie in (0, 1)");
  GF_CHECK(held_out_to_train.numel() >= 2, "memorisation needs held-out (test) images");
  Memorisation m;
  m.quantile = o.quantile;
  m.flag_share = o.flag_share;
  m.samples = samples_to_train.distance.size(0);
  m.held_out = held_out_to_train.size(0);
  m.threshold = torch::quantile(held_out_to_train.to(torch::kFloat64), o.quantile).item<double>();
  // "At or below": when the test split itself holds exact duplicates of training images the
  // threshold is 0, and exact copies must still count.
  m.share = samples_to_train.distance.le(m.threshold).to(torch::kFloat64).mean().item<double>();
  m.flagged = m.share > o.flag_share;
  // The closest pairs, one per training image: samples that all sit near one training image
  // (a mode on it) show once, and the other pairs stay visible.
  const auto sorted = std::get<1>(samples_to_train.distance.sort()).contiguous();
  const auto nearest = samples_to_train.index.to(torch::kInt64).contiguous();
  const auto distance = samples_to_train.distance.to(torch::kFloat64).contiguous();
  const auto by_distance = sorted.accessor<int64_t, 1>();
  const auto train_of = nearest.accessor<int64_t, 1>();
  const auto distance_of = distance.accessor<double, 1>();
  std::vector<int64_t> shown;
  for (int64_t i = 0; i < m.samples && static_cast<int64_t>(m.closest.size()) < o.closest; ++i) {
    const int64_t s = by_distance[i], t = train_of[s];
    if (std::find(shown.begin(), shown.end(), t) != shown.end()) continue;
    shown.push_back(t);
    m.closest.push_back({s, t, distance_of[s]});
  }
  return m;
}

torch::Tensor closest_pairs_images(const torch::Tensor& samples, const torch::Tensor& train,
                                   const Memorisation& m) {
  GF_CHECK(!m.closest.empty(), "no closest pairs to show");
  std::vector<int64_t> s, t;
  for (const auto& c : m.closest) {
    GF_CHECK(c.sample_index < samples.size(0) && c.train_index < train.size(0),
             "closest pair indices out of range");
    s.push_back(c.sample_index);
    t.push_back(c.train_index);
  }
  const auto pick = [](const torch::Tensor& x, const std::vector<int64_t>& rows) {
    return x.index_select(0, torch::tensor(rows, torch::kInt64).to(x.device()))
        .to(torch::kCPU, torch::kFloat32);
  };
  return torch::cat({pick(samples, s), pick(train, t)});
}

}  // namespace gf
