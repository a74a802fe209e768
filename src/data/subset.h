// Labelled subsets with n images per class, chosen by a seed: the few-label setting of data
// augmentation studies (Antoniou et al. 2017; Ravuri & Vinyals 2019), where a GAN and a
// classifier must train on exactly the same n images per class.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

#include "data/dataset.h"

namespace gf {

// Indices (ascending) of `per_class` samples of every class 0..num_classes-1: the first ones of
// each class in a random permutation drawn from `seed`. The same labels and seed always give the
// same indices. gf::Error when per_class < 1 or a class has fewer samples than asked for.
torch::Tensor per_class_indices(const torch::Tensor& labels, int64_t num_classes, int64_t per_class,
                                uint64_t seed);

// The labelled dataset restricted to per_class_indices(); name and class names are kept.
Dataset per_class_subset(const Dataset& data, int64_t per_class, uint64_t seed);

// Writes `subset` (a labelled image set) as an idx pair (FILE.idx[.gz], idx_pair.h) or, for any
// other path, as an idx directory (idx_dir.h) whose training split is the subset and whose test
// split is `test`, so `ganforge train --data DIR` and `ganforge classifier train --data DIR`
// read it like the original. A directory that exists must be empty.
void write_subset(const std::string& out, const Dataset& subset, const Dataset& test);

}  // namespace gf
