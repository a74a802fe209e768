// In-memory batch loader: each epoch is a fresh permutation drawn from (seed, epoch), so the
// order is reproducible and a resumed run sees exactly the batches an uninterrupted one would.
#pragma once

#include <torch/types.h>

#include <cstdint>

#include "data/dataset.h"

namespace gf {

struct Batch {
  torch::Tensor x;
  torch::Tensor y;  // undefined for unlabelled data
};

class BatchLoader {
 public:
  // drop_last: incomplete final batches are skipped, so every step sees `batch_size` samples.
  BatchLoader(const Dataset& data, int64_t batch_size, uint64_t seed, bool drop_last = true);

  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  int64_t batch_size() const { return batch_size_; }
  // The batch at a global position (epoch = index / batches_per_epoch); `begin`/`count` take a
  // slice of it (one rank's share in data-parallel training; count -1: to the end).
  Batch batch(int64_t global_index, int64_t begin = 0, int64_t count = -1);

 private:
  const Dataset& data_;
  int64_t batch_size_;
  uint64_t seed_;
  bool drop_last_;
  int64_t batches_per_epoch_;
  int64_t perm_epoch_ = -1;
  torch::Tensor perm_;
};

}  // namespace gf
