#include "data/loader.h"

#include <ATen/CPUGeneratorImpl.h>

#include "core/error.h"
#include "core/rng.h"

namespace gf {

BatchLoader::BatchLoader(const Dataset& data, int64_t batch_size, uint64_t seed, bool drop_last)
    : data_(data), batch_size_(batch_size), seed_(seed), drop_last_(drop_last) {
  GF_CHECK(batch_size > 0, "batch size must be positive, got ", batch_size);
  const int64_t n = data.size();
  GF_CHECK(n >= batch_size || !drop_last, "the dataset has ", n,
           " samples, fewer than one batch of ", batch_size);
  batches_per_epoch_ = drop_last ? n / batch_size : (n + batch_size - 1) / batch_size;
}

Batch BatchLoader::batch(int64_t global_index, int64_t begin, int64_t count) {
  const int64_t epoch = global_index / batches_per_epoch_;
  const int64_t index = global_index % batches_per_epoch_;
  if (epoch != perm_epoch_) {
    auto gen = at::detail::createCPUGenerator(mix(derive_seed(seed_, Stream::kShuffle), epoch));
    perm_ = torch::randperm(data_.size(), gen, torch::kInt64);
    perm_epoch_ = epoch;
  }
  const int64_t start = index * batch_size_;
  const int64_t len = std::min(batch_size_, data_.size() - start);
  GF_CHECK(begin >= 0 && begin <= len && count <= len - begin, "batch slice out of range");
  auto idx = perm_.narrow(0, start + begin, count < 0 ? len - begin : count);
  Batch b;
  b.x = data_.x.index_select(0, idx);
  if (data_.y.defined()) b.y = data_.y.index_select(0, idx);
  return b;
}

}  // namespace gf
