// An idx directory: MNIST's file layout (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte,
// t10k-... for the test split), extended for colour and class names so that ganforge's packed
// datasets and caches are plain idx files any MNIST reader understands:
//   <split>-images-idx3-ubyte  N x H x W      one channel
//   <split>-images-idx4-ubyte  N x H x W x C  C = 1 or 3, channels last
//   <split>-labels-idx1-ubyte  N              optional: no file means unlabelled
//   classes.txt                one class name per line, in label order (optional)
// where <split> is "train" or "t10k".
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gf {

struct IdxSplit {
  torch::Tensor pixels;  // uint8 [N, H, W, C]
  torch::Tensor labels;  // int64 [N], undefined when unlabelled
  std::vector<std::string> classes;
};

// split: train | test. `limit` > 0 keeps the first `limit` samples. `labels_required`: a missing
// labels file is an error (MNIST-format sets) rather than an unlabelled set. Labels are checked:
// with `num_classes` > 0 (or a classes.txt) every label must be below it; without, the training
// split's labels must use every class from 0 to the largest (a label of 200 among digits is a
// corrupt file, not 201 classes). gf::Error naming the file and the first bad index otherwise.
IdxSplit read_idx_split(const std::string& dir, const std::string& split, int64_t limit = 0,
                        bool labels_required = true, int64_t num_classes = 0);

// Writes one split (raw, each file atomically) and classes.txt when there are class names.
void write_idx_split(const std::string& dir, const std::string& split, const IdxSplit& data);

// True when `dir` holds an idx images file for the split.
bool has_idx_split(const std::string& dir, const std::string& split);

}  // namespace gf
